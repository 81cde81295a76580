"""Lemma keys stored per distinct text at enrichment (analysis.topics.keys, issue 19 item 3).

Emerging subjects read the keys instead of tokenising a year of texts: the matrix and the subjects
must be exactly what tokenising gives (the old definition, still the fallback), the enrichment
keys new texts only, the incremental result equals a rebuild, and erasing the last message of a
text deletes its stored copy. detect_bursts' baselines in one rolling pass equal the per-column
rolling they replace, float for float.
"""

from __future__ import annotations

from datetime import date, datetime

import numpy as np
import pandas as pd
import pytest

from analysis import enrich, retention, store
from analysis.queries import Filters
from analysis.topics import emerging as E
from analysis.topics import keys as K
from analysis.topics.lemmas import LemmaVectorizer, _binarize
from analysis.topics.views import emerging_view

FILTERS = [
    Filters(territories=("saint-aubin",), start=date(2025, 11, 1), end=date(2026, 11, 1)),
    Filters(territories=("saint-aubin",), start=date(2026, 9, 1), end=date(2026, 10, 1)),
    Filters(territories=("port-marel",), start=date(2026, 1, 1), end=date(2026, 11, 1), platforms=("facebook",)),
    Filters(territories=(), start=date(2026, 6, 1), end=date(2026, 11, 1)),
]


def _selected(con, f: Filters):
    w, params = f.where("m")
    join, jp = K.keys_join(con, "m")
    return con.sql(f"SELECT m.text, k.keys FROM messages m {join} WHERE {w} AND m.is_official IS NOT TRUE "
                   f"AND m.text IS NOT NULL ORDER BY m.created_at, m.message_id", params=[*jp, *params]).to_arrow_table()


@pytest.mark.parametrize("f", FILTERS[:3])
def test_stored_keys_give_the_tokenised_matrix(demo_db, f):
    """The matrix from the stored keys is the binarised LemmaVectorizer fit on the same texts, those in
    another language than French emptied (:func:`analysis.topics.keys.french_only`)."""
    with store.reader(demo_db) as con:
        res = _selected(con, f)
        exclude = sorted(E.territory_words(con, f.territories))
        got = K.stored_key_matrix(con, res.column("keys"), min_df=5, max_df=0.5, subject_terms=True, exclude=exclude)
    assert got is not None, "the test store is enriched: every text has its keys"
    X, names = got
    vec = LemmaVectorizer(min_df=5, max_df=0.5, subject_terms=True, exclude=exclude, chunk_size=200_000)
    texts = res.column("text").to_pylist()
    assert K.french_only(texts) != texts  # the demo's English messages are left out
    Y = _binarize(vec.fit_transform(K.french_only(texts))).tocsr()
    assert list(names) == list(vec.get_feature_names_out()) and len(names) > 100
    assert X.shape == Y.shape and (X != Y).nnz == 0


@pytest.mark.parametrize("f", FILTERS)
def test_emerging_subjects_are_the_same_with_and_without_stored_keys(demo_db, monkeypatch, f):
    with store.reader(demo_db) as con:
        fast = emerging_view(con, f)
        monkeypatch.setattr(E, "stored_key_matrix", lambda *a, **k: None)  # the old path: tokenise
        slow = emerging_view(con, f)
    assert fast == slow
    if f.territories == ("saint-aubin",) and f.start.month == 11:
        assert len(fast) >= 5


TEXTS = ["Les pistes cyclables de la rue Pasteur !", "Piste cyclable rue Pasteur", "", "   ", "Merci",
         "Concert au #ParcDesSources ce soir", "concert au #parcdessources CE SOIR", "l'eau non potable à Saint-Aubin"]


def _seed(path, texts, start: int = 0) -> None:
    with store.connect(path) as con:
        store.upsert(con, "messages", pd.DataFrame({
            "message_id": [f"facebook:m{start + i:03d}" for i in range(len(texts))], "platform": "facebook",
            "kind": "comment", "created_at": [datetime(2026, 11, 1, 12)] * len(texts), "text": texts,
            "author_hash": [f"a{i % 3}" for i in range(len(texts))]}))


def _stored(path) -> dict[str, list[str]]:
    with store.reader(path) as con:
        rows = con.execute("SELECT t.text, list(l.key ORDER BY l.key) FILTER (WHERE l.key IS NOT NULL) FROM text_keys t "
                           "LEFT JOIN (SELECT text, unnest(keys) AS id FROM text_keys) u USING (text) "
                           "LEFT JOIN lemma_keys l ON l.key_id = u.id GROUP BY t.text").fetchall()
    return {t: sorted(k or []) for t, k in rows}


def test_keys_enrichment_keys_new_texts_only_and_equals_a_rebuild(tmp_path, monkeypatch):
    inc, full = tmp_path / "inc.duckdb", tmp_path / "full.duckdb"
    seen: list[str] = []
    orig = K.KeysTask.score
    monkeypatch.setattr(K.KeysTask, "score", lambda self, texts: (seen.extend(texts), orig(self, texts))[1])
    _seed(inc, TEXTS[:5] + [None])
    with store.connect(inc) as con:
        assert enrich.run(con, only="keys")["keys"]["texts"] == 5  # distinct non-NULL texts, '' included
    assert sorted(seen) == sorted(set(TEXTS[:5]))
    seen.clear()
    _seed(inc, TEXTS, start=100)  # three old texts again, three new
    with store.connect(inc) as con:
        assert enrich.run(con, only="keys")["keys"]["texts"] == 3
        assert enrich.run(con, only="keys")["keys"]["texts"] == 0
    assert sorted(seen) == sorted(TEXTS[5:])
    _seed(full, TEXTS[:5] + [None])
    _seed(full, TEXTS, start=100)
    with store.connect(full) as con:
        enrich.run(con, only="keys")
    a, b = _stored(inc), _stored(full)
    assert a == b and set(a) == set(TEXTS)
    assert a[""] == [] and a["Merci"] == []  # stop words only: no key, still stored (not read again)
    assert "piste cyclable" in a["Les pistes cyclables de la rue Pasteur !"]
    assert "#parcdessources" in a[TEXTS[5]] and "#parcdessources" in a[TEXTS[6]]
    # the stored keys are those the vectorizer builds for the text alone
    K_, keys = K.lemma_counts([TEXTS[0]], (1, 2))
    assert a[TEXTS[0]] == sorted(keys)


def test_a_new_version_rekeys_and_a_missing_text_falls_back(tmp_path, monkeypatch):
    db = tmp_path / "v.duckdb"
    _seed(db, TEXTS)
    with store.connect(db) as con:
        enrich.run(con, only="keys")
    f = Filters(start=date(2026, 11, 1), end=date(2026, 11, 2))
    with store.reader(db) as con:
        assert K.stored_key_matrix(con, _selected(con, f).column("keys")) is not None
    _seed(db, ["Une toute nouvelle phrase sans clés stockées"], start=200)  # written, not enriched
    with store.reader(db) as con:
        assert K.stored_key_matrix(con, _selected(con, f).column("keys")) is None  # the reader tokenises
    K.keys_version.cache_clear()
    monkeypatch.setattr(K, "KEYS_SCHEME", "lemma-keys-test")
    try:
        with store.connect(db) as con:
            assert enrich.run(con, only="keys")["keys"]["texts"] == len(set(TEXTS)) + 1  # every text again
            assert con.execute("SELECT count(*), count(DISTINCT version) FROM text_keys").fetchone() == (
                len(set(TEXTS)) + 1, 1)
    finally:
        K.keys_version.cache_clear()


def test_erasing_the_last_message_of_a_text_deletes_its_keys(tmp_path):
    db = tmp_path / "e.duckdb"
    _seed(db, ["Texte unique de a0", "Texte partagé", "Texte partagé"])  # authors a0, a1, a2
    with store.connect(db) as con:
        enrich.run(con, only="keys")
        retention.erase_author(con, author_hash="a0", actor="dpo")
        retention.erase_author(con, author_hash="a1", actor="dpo")
        assert sorted(r[0] for r in con.execute("SELECT text FROM text_keys").fetchall()) == ["Texte partagé"]


def _old_baselines(C: np.ndarray, baseline_days: int, min_history: int):
    prev = pd.DataFrame(C).shift(1).rolling(baseline_days, min_periods=min_history)
    return prev.mean().to_numpy(), prev.var(ddof=0).to_numpy()


def test_baselines_in_one_pass_equal_the_per_column_rolling_float_for_float():
    rng = np.random.default_rng(0)
    for n, m in [(394, 300), (40, 7), (6, 3), (1, 2), (60, 1)]:
        C = rng.poisson(rng.uniform(0, 6, size=m), size=(n, m)).astype(float)
        C[rng.random((n, m)) < 0.1] *= 5
        for days, hist in [(28, 7), (7, 2)]:
            mu0, v0 = _old_baselines(C, days, hist)
            mu1, v1 = E._baselines(C, days, hist)
            assert np.array_equal(mu0, mu1, equal_nan=True) and np.array_equal(v0, v1, equal_nan=True)


def _old_detect_bursts(counts, baseline_days=28, min_history=7, z_threshold=4.0, min_support=5, max_gap=2):
    """detect_bursts as it was (per-column rolling, day-by-day walk): the reference."""
    cols = ["term", "start", "end", "peak", "peak_count", "count", "baseline", "max_z"]
    c = counts.astype("float64")
    prev = c.shift(1).rolling(baseline_days, min_periods=min_history)
    mu, var = prev.mean(), prev.var(ddof=0)
    den = np.sqrt(np.maximum(var, mu) + 0.25)
    z = (c - mu) / den
    hot = ((z >= z_threshold) & (c >= min_support)).to_numpy()
    rows, days = [], [d.date() for d in c.index]
    C, MU, DEN = c.to_numpy(), mu.to_numpy(), den.to_numpy()
    n = len(days)
    for j in np.flatnonzero(hot.any(axis=0)):
        i = 0
        while i < n:
            if not hot[i, j]:
                i += 1
                continue
            mu0, den0 = MU[i, j], DEN[i, j]
            zj = (C[:, j] - mu0) / den0
            last, k = i, i
            while k + 1 < n and k + 1 - last <= max_gap + 1:
                k += 1
                if hot[k, j] or (C[k, j] >= min_support and zj[k] >= z_threshold / 2):
                    last = k
            seg = slice(i, last + 1)
            pk = i + int(np.argmax(C[seg, j]))
            rows.append({"term": c.columns[j], "start": days[i], "end": days[last], "peak": days[pk],
                         "peak_count": int(C[pk, j]), "count": int(C[seg, j].sum()), "baseline": float(mu0),
                         "max_z": float(zj[seg].max())})
            i = last + 1
    return pd.DataFrame(rows, columns=cols).sort_values(["max_z"], ascending=False, kind="stable", ignore_index=True)


def test_detect_bursts_equals_its_day_by_day_definition():
    rng = np.random.default_rng(1)
    found = 0
    for _ in range(25):
        n, m = int(rng.integers(1, 200)), int(rng.integers(1, 40))
        C = rng.poisson(rng.uniform(0, 4, size=m), size=(n, m)).astype(float)
        C[rng.random((n, m)) < 0.08] *= rng.integers(2, 8)
        df = pd.DataFrame(C, index=pd.date_range("2026-01-01", periods=n), columns=[f"t{i}" for i in range(m)])
        for kw in [{}, {"max_gap": 0}, {"z_threshold": 2.0, "min_support": 2}]:
            a, b = _old_detect_bursts(df, **kw), E.detect_bursts(df, **kw)
            pd.testing.assert_frame_equal(a, b, check_exact=True)
            found += len(a)
    assert found > 50


def test_column_rows_are_the_columns_of_tocsc():
    import scipy.sparse as sp

    rng = np.random.default_rng(2)
    X = sp.random(300, 40, density=0.1, format="csr", random_state=3, dtype=np.float32)
    X.data[:] = 1
    cols = sorted(rng.choice(40, size=12, replace=False).tolist())
    got = E._column_rows(X, cols)
    A = X.tocsc()
    for j in cols:
        assert got[j].tolist() == A.indices[A.indptr[j]:A.indptr[j + 1]].tolist()
    assert E._column_rows(X, []) == {}


def test_emerging_subjects_read_the_stored_keys_without_tokenising(demo_db, monkeypatch):
    """On an enriched store no text is tokenised at read time (it was: half a second at 1 M messages)."""
    from analysis.topics import lemmas

    def no_tokenising(*a, **k):
        raise AssertionError("texts tokenised at read time")

    monkeypatch.setattr(lemmas, "_ngrams", no_tokenising)
    with store.reader(demo_db) as con:
        subjects = emerging_view(con, FILTERS[0])
    assert len(subjects) >= 5 and subjects[0]["messages"]


@pytest.mark.parametrize("theme,tone", [(None, None), ("cadre_de_vie_environnement", "negative")])
def test_word_cloud_sample_is_the_sample_it_was(demo_db, theme, tone):
    """The spread sample, picked by row id before its texts are read, holds the same messages."""
    from analysis.topics.reads import themed_messages

    f = Filters(territories=("saint-aubin",), start=date(2026, 1, 1), end=date(2026, 11, 1))
    with store.reader(demo_db) as con:
        got = themed_messages(con, f, theme=theme, tone=tone, limit=2_000, spread=True)
        w, params = f.where("i")
        extra = ""
        if theme:
            extra += " AND EXISTS (SELECT 1 FROM themes t WHERE t.item_id = i.message_id AND t.item_type = 'message' " \
                     "AND t.theme = ?)"
            params.append(theme)
        if tone:
            extra += " AND EXISTS (SELECT 1 FROM sentiment s WHERE s.item_id = i.message_id AND s.item_type = 'message' " \
                     "AND s.label = ?)"
            params.append(tone)
        old = con.execute(f"SELECT * FROM (SELECT i.message_id AS item_id, i.created_at, i.territory_id, i.platform, "
                          f"i.text FROM messages i WHERE {w} AND i.is_official IS NOT TRUE{extra} "
                          f"ORDER BY hash(i.message_id) LIMIT 2000) ORDER BY created_at", params).df()
    assert len(got) == len(old) > 100
    key = ["created_at", "item_id"]
    pd.testing.assert_frame_equal(got.sort_values(key, ignore_index=True), old.sort_values(key, ignore_index=True))
    assert got["created_at"].is_monotonic_increasing
