"""The enrichment's single pass over distinct texts (analysis.enrich.one_pass, issue 19 item 1):
each distinct text scored once per model, worker processes and batch sizes change nothing in the
rows written, an interrupted pass keeps its committed batches, and the toxicity fast paths equal
scikit-learn's."""

from __future__ import annotations

import shutil
from datetime import datetime

import duckdb
import numpy as np
import pandas as pd
import pytest

from analysis import enrich, store
from analysis.moderation import scoring
from analysis.moderation.toxicity import (
    _tfidf,
    _tfidf_dot,
    default_lexicon,
    load_model,
    normalise,
    word_counts,
)
from analysis.sentiment import enrich as sentiment_enrich
from analysis.topics import enricher as topics_enricher
from analysis.topics import keys as topic_keys

TEXTS = ["Merci pour votre aide !", "Quelle honte ce service, bande de nuls", "Quand ouvre la piscine ?",
         "Bravo pour le marché de Noël 👍", "I really love this city and the people are great", "",
         "   ", None, "c0nnard de maire", "Les travaux de la rue Pasteur, encore et toujours…",
         "Super initiative #SaintAubin", "Pas terrible ce nouveau parking"]


def _seed(path) -> int:
    """A store whose 180 messages and 6 posts repeat 12 texts; returns the number of distinct texts."""
    con = store.connect(path)
    t0 = datetime(2026, 11, 1, 12)
    store.upsert(con, "messages", pd.DataFrame({
        "message_id": [f"facebook:m{i:03d}" for i in range(180)], "platform": "facebook", "kind": "comment",
        "created_at": [t0] * 180, "text": [TEXTS[(i * 7) % len(TEXTS)] for i in range(180)]}))
    store.upsert(con, "posts", pd.DataFrame({
        "post_id": [f"facebook:p{i}" for i in range(6)], "platform": "facebook", "created_at": [t0] * 6,
        "text": ["La réunion publique aura lieu lundi", "Merci pour votre aide !", None, "", "Travaux rue Pasteur",
                 "La réunion publique aura lieu lundi"]}))
    con.close()
    return len({"" if t is None else t for t in TEXTS} | {"La réunion publique aura lieu lundi", "Travaux rue Pasteur"})


def _tables(path) -> dict[str, pd.DataFrame]:
    with store.reader(path) as con:
        out = {}
        for name, drop in (("sentiment", ["scored_at"]), ("themes", []), ("toxicity", [])):
            df = con.execute(f"SELECT * FROM {name}").df().drop(columns=drop)
            df["lexicon_hits" if name == "toxicity" else df.columns[0]] = (
                df["lexicon_hits"].map(list) if name == "toxicity" else df[df.columns[0]])
            out[name] = df.sort_values(list(df.columns[:3])).reset_index(drop=True)
        return out


def test_each_distinct_text_is_scored_once_per_model(db, monkeypatch):
    n_distinct = _seed(db)
    seen: dict[str, list[str]] = {}
    for cls in (sentiment_enrich.SentimentTask, topics_enricher.ThemesTask, scoring.ToxicityTask, topic_keys.KeysTask):
        orig = cls.score

        def spy(self, texts, _orig=orig):
            seen.setdefault(self.name, []).extend(texts)
            return _orig(self, texts)

        monkeypatch.setattr(cls, "score", spy)
    con = store.connect(db)
    tm: dict = {}
    res = enrich.run(con, timings=tm)
    assert res["sentiment"]["messages"] == 180 and res["sentiment"]["posts"] == 6
    assert res["topics"]["messages_classified"] == 180 and res["moderation"]["messages"] == 180
    # messages and posts share one pass: a text of both is scored once by each model that needs it
    assert sorted(seen["sentiment"]) == sorted(set(seen["sentiment"])) and len(seen["sentiment"]) == n_distinct
    assert len(seen["topics"]) == n_distinct
    assert len(seen["moderation"]) == len({"" if t is None else t for t in TEXTS})  # messages only
    assert None not in seen["sentiment"]  # a NULL text is scored as ''
    # lemma keys: one row per distinct message text (NULL texts have none)
    assert sorted(seen["keys"]) == sorted({t for t in TEXTS if t is not None})
    assert tm["distinct_texts"] == n_distinct and tm["rows"] == {"sentiment": 186, "topics": 186, "moderation": 180,
                                                                 "keys": 11}
    # every row got its text's scores: a NULL text and '' alike
    got = {r[0]: r[1:] for r in con.execute("SELECT item_id, lang, label, p_neutral FROM sentiment").fetchall()}
    assert got["facebook:m001"] == got["facebook:m011"] == ("und", None, None)  # NULL text, and ''
    assert got["facebook:m000"][:2] == ("fr", "positive") and got["facebook:m012"] == got["facebook:m000"]
    assert con.execute("SELECT count(*) FROM sentiment").fetchone()[0] == 186
    assert con.execute("SELECT count(DISTINCT item_id) FROM themes").fetchone()[0] == 186
    assert con.execute("SELECT count(*) FROM toxicity").fetchone()[0] == 180
    # nothing left to do on a second run
    assert enrich.run(con)["moderation"]["messages"] == 0
    con.close()


def test_worker_processes_and_batch_sizes_write_the_same_rows(db, tmp_path, monkeypatch):
    _seed(db)
    other = tmp_path / "other.duckdb"
    shutil.copyfile(db, other)
    with store.connect(db) as con:
        enrich.run(con)  # small store: scored in this process, one batch
    # two forked workers, chunks of 3 texts, a transaction every 20 rows
    monkeypatch.setattr(enrich, "MIN_PARALLEL", 0)
    monkeypatch.setattr(enrich, "CHUNK", 3)
    monkeypatch.setattr(enrich, "WRITE_ROWS", 20)
    monkeypatch.setenv(enrich.WORKERS_ENV, "2")
    with store.connect(other) as con:
        tm: dict = {}
        enrich.run(con, timings=tm)
        assert tm["workers"] == 2
    a, b = _tables(db), _tables(other)
    for name in a:
        assert len(a[name]) >= 180
        pd.testing.assert_frame_equal(a[name], b[name], check_exact=True)
    assert a["sentiment"]["label"].nunique() >= 2 and a["toxicity"]["is_question"].any()


def test_an_interrupted_pass_keeps_its_written_batches(db, monkeypatch):
    _seed(db)
    calls = {"n": 0}
    orig = scoring.ToxicityTask.score

    def failing(self, texts):
        calls["n"] += 1
        if calls["n"] == 3:
            raise RuntimeError("coupure")
        return orig(self, texts)

    monkeypatch.setattr(scoring.ToxicityTask, "score", failing)
    monkeypatch.setattr(enrich, "CHUNK", 2)
    monkeypatch.setattr(enrich, "WRITE_ROWS", 10)
    con = store.connect(db)
    with pytest.raises(RuntimeError, match="coupure"):
        enrich.run(con, only="moderation")
    kept = con.execute("SELECT count(*) FROM toxicity").fetchone()[0]
    assert 0 < kept < 180  # the batches committed before the failure stay
    monkeypatch.setattr(scoring.ToxicityTask, "score", orig)
    assert enrich.run(con, only="moderation")["moderation"]["messages"] == 180 - kept
    assert con.execute("SELECT count(*) FROM toxicity").fetchone()[0] == 180
    con.close()


def test_a_pass_out_of_its_memory_cap_runs_again_without_it(db, monkeypatch):
    """DuckDB's memory is capped during a pass (store.PASS_MEMORY_LIMIT); a pass that runs out of it keeps
    its written batches and the rest is scored without the cap; the session's setting comes back."""
    _seed(db)
    calls, limits = {"n": 0}, []
    orig = scoring.ToxicityTask.score
    con = store.connect(db)

    def short_of_memory(self, texts):
        calls["n"] += 1
        limits.append(con.execute("SELECT current_setting('memory_limit')").fetchone()[0])
        if calls["n"] == 3:
            raise duckdb.OutOfMemoryException("Out of Memory Error: could not allocate block")
        return orig(self, texts)

    monkeypatch.setattr(scoring.ToxicityTask, "score", short_of_memory)
    monkeypatch.setattr(enrich, "CHUNK", 2)
    monkeypatch.setattr(enrich, "WRITE_ROWS", 10)
    monkeypatch.setattr(store, "PASS_MEMORY_LIMIT", "123MB")
    before = con.execute("SELECT current_setting('memory_limit')").fetchone()[0]
    enrich.run(con, only="moderation")
    assert con.execute("SELECT count(*), count(DISTINCT message_id) FROM toxicity").fetchone() == (180, 180)
    assert limits[0].startswith("117") and limits[-1] == before  # 123 MB shown in MiB; then no cap
    assert con.execute("SELECT current_setting('memory_limit')").fetchone()[0] == before
    con.close()


def test_toxicity_fast_paths_equal_scikit_learn():
    m = load_model()
    texts = TEXTS + ["ok ok ok !", "aujourd'hui l'eau !! ??", "'", "a b", "éèê ?", "Merci !"] * 2
    norm = [normalise(t) for t in texts]
    fast, ref = word_counts(m.word_, norm), m.word_.transform(norm)
    assert fast.shape == ref.shape and (fast != ref).nnz == 0 and ref.nnz > 50
    nw = len(m.word_idf_)
    dot = _tfidf_dot(ref, m.word_idf_, m.coef_[:nw])
    np.testing.assert_allclose(dot, np.asarray(_tfidf(ref, m.word_idf_) @ m.coef_[:nw]).ravel(), rtol=0, atol=1e-12)
    # and the whole score equals the fitted features' logit
    p = scoring.score_texts(texts, m)["p_toxic"].to_numpy()
    np.testing.assert_allclose(p, m.predict_proba([t or "" for t in texts])[:, 1], rtol=0, atol=1e-12)


def test_lexicon_hits_over_joined_texts_equal_text_by_text():
    lex = default_lexicon()
    texts = ["bande de connards", "", "connard connard abruti", "il s attarde", "fils de pute !", "députés",
             "rien", "abruti", "connard"]
    norm = [normalise(t) for t in texts]
    assert lex.hits_many(norm) == [lex.hits(t, normalised=True) for t in norm]
    assert sum(map(len, lex.hits_many(norm))) >= 5 and lex.hits_many([]) == []


def test_no_worker_processes_forked_from_a_threaded_process(monkeypatch):
    """The app's server runs threads: a fork there copies one thread and maybe a lock another held."""
    import threading

    from analysis import enrich

    monkeypatch.delenv(enrich.WORKERS_ENV, raising=False)
    stop = threading.Event()
    t = threading.Thread(target=stop.wait, daemon=True)
    t.start()
    try:
        assert enrich.workers() == 1
    finally:
        stop.set()
        t.join()
    monkeypatch.setenv(enrich.WORKERS_ENV, "2")
    assert enrich.workers() == 2


def test_a_fresh_model_scores_texts_without_a_word_first():
    """A pass whose first chunk holds only texts without a word (empty, emoji) met a freshly loaded
    vectorizer whose vocabulary transform had not yet validated: AttributeError (seen in make test)."""
    from analysis.moderation import toxicity
    from analysis.moderation.scoring import score_texts

    fresh = toxicity.ToxicityClassifier.load(toxicity.MODEL_PATH)
    out = score_texts(["", "😀"], model=fresh)
    assert len(out) == 2 and out["p_toxic"].between(0, 1).all() and not out["is_question"].any()
