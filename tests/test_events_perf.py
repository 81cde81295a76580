"""Event evaluations made faster without changing what they return (issue 19 item 3).

The vectorised pieces are checked against the definitions they replace (one text at a time, two
products per stratum); the figures themselves stay pinned by the golden pages (tests/test_golden.py).
"""

from __future__ import annotations

import numpy as np
import pandas as pd
import pytest

from analysis import store
from analysis.events import evaluation as EV
from analysis.events.model import event_terms, events_frame
from analysis.text import NameIndex, names_any

TRICKY = [
    None, "", "αβγ", "Fête de la musique #FeteDeLaMusique à Saint-Aubin", "#SaintAubinDuCormier en fête",
    "#Saint_Aubin l'été ŒUVRE ﬁn İstanbul ΟΔΟΣ", "saint   aubin\nsur\tloire", "SAINT-AUBIN!", "#αβ #x #Fête_Musique",
    "a\u0301\u0327b cafe\u0301", "Ⅻ ① x² #① ", "#", "##fete", "fête#fete", "mot-clé: « Marché de Noël »",
]
TERMS = [["#SaintAubin"], ["saint aubin"], ["Saint-Aubin-sur-Loire"], ["", "#"], ["#FeteMusique", "fete"],
         ["x"], ["marché de noël"], ["#FeteDeLaMusique", "fête de la musique"], ["ab"], ["cafe"], ["xii"]]


def _check(texts: list, terms_lists: list) -> None:
    ix = NameIndex(texts)
    n = len(texts)
    for terms in terms_lists:
        one_by_one = np.array([names_any(t, terms) for t in texts], dtype=bool)
        assert (ix.naming(terms) == one_by_one).all(), terms
        for lo, hi in ((0, n), (1, max(n - 2, 1)), (n // 2, n), (3, 3)):
            part = one_by_one.copy()
            part[:lo] = False
            part[hi:] = False
            assert (ix.naming(terms, lo, hi) == part).all(), (terms, lo, hi)


def test_name_index_is_names_any_text_by_text():
    """Accents, ligatures, hashtags glued or with underscores, texts with nothing ASCII, several
    spaces and line breaks: the index answers as names_any on each text."""
    assert NameIndex(TRICKY).naming(["#SaintAubin"]).tolist() == [names_any(t, ["#SaintAubin"]) for t in TRICKY]
    _check(TRICKY, TERMS)
    _check(["αβγ"], TERMS)  # nothing ASCII at all: fold gives back its input
    _check([], TERMS)
    _check(["saint aubin\x00 x", "#SaintAubin"], TERMS)  # the separator inside a text: one by one


def test_name_index_on_the_demo_posts(demo_db):
    with store.reader(demo_db) as con:
        texts = [r[0] for r in con.execute("SELECT text FROM posts ORDER BY post_id").fetchall()]
        evs = events_frame(con, [r[0] for r in con.execute("SELECT territory_id FROM territories").fetchall()])
    terms = [event_terms(r) for _, r in evs.iterrows()]
    assert len(texts) > 1000 and len(terms) > 10
    _check(texts, terms)


def _two_products(g, B, rng):
    """The per-stratum reference means as _draws computed them before (two products per stratum)."""
    out = []
    for s in g:
        k = len(s.e_ref)
        idx = rng.integers(0, k, size=(B, k))
        counts = np.bincount((np.arange(B)[:, None] * k + idx).ravel(), minlength=B * k).reshape(B, k).astype(float)
        with np.errstate(divide="ignore", invalid="ignore"):
            out.append(((counts * s.e_ref[None, :]) @ s.W.T) / (counts @ s.W.T))
    return np.concatenate(out, axis=1)


def _stratum(rng, k, p):
    t_ref = np.sort(rng.uniform(0, 60, k))
    t_promo = np.sort(rng.uniform(10, 50, p))
    W = np.abs(t_promo[:, None] - t_ref[None, :]) <= 14
    W[0, -1] = True  # a window that is not one run
    return EV.Stratum(t_promo, rng.integers(0, 500, p).astype(float), t_ref,
                      rng.integers(0, 300, k).astype(float), W)


@pytest.mark.parametrize("B", [1, 7, 500])
def test_resampled_reference_means_are_the_two_products(B):
    """Same draws from the same generator (and the generator left in the same state), same means
    to the last bit: engagements are whole numbers, so the sums are exact."""
    make = np.random.default_rng(3)
    g = [_stratum(make, k, p) for k, p in ((5, 1), (40, 3), (1, 2), (120, 2))]
    a, b = np.random.default_rng(11), np.random.default_rng(11)
    fast, slow = EV._resampled_reference_means(g, B, a), _two_products(g, B, b)
    assert fast.shape == (B, 8)
    assert np.array_equal(fast, slow, equal_nan=True)
    assert a.integers(0, 10**9) == b.integers(0, 10**9)


def test_promotion_masks_match_one_by_one(demo_db):
    """The masks of a territory's scope (texts keyed at once) are promotes() on posts keyed one by one."""
    with store.reader(demo_db) as con:
        evs = events_frame(con, ["saint-aubin"])
        sc = EV._scope(con, "saint-aubin", evs["event_id"].tolist(), ())
    found = 0
    plain = EV.PostArrays(sc.posts)  # no index: names_any text by text
    for _, x in sc.events[sc.events["territory_id"].isin(["saint-aubin", *sc.peers])].iterrows():
        one = EV.promotes(plain, x)
        assert (sc.masks[x["event_id"]] == one).all()
        found += int(one.sum())
    assert found > 50


def _evaluations(con):
    table = EV.territory_summary(con, "saint-aubin", n_boot=300)
    details = EV.evaluate_events(con, "saint-aubin", list(table["event_id"]), n_boot=300)
    return table, details


def test_reading_only_the_posts_needed_changes_nothing(demo_db, monkeypatch):
    """The scope reads only the official posts near the evaluated and compared events (was: every
    post of the territories over years): every figure, verdict and post list stays the same."""
    with store.reader(demo_db) as con:
        table, details = _evaluations(con)
        loaded = []
        load = EV.load_posts

        def every_post(con, territories, start, end, spans=None):
            every = load(con, territories, start, end)
            loaded.append((len(load(con, territories, start, end, spans)), len(every)))
            return every

        monkeypatch.setattr(EV, "load_posts", every_post)
        old_table, old_details = _evaluations(con)
    assert len(loaded) == 2 and all(0 < needed < every for needed, every in loaded)
    pd.testing.assert_frame_equal(table, old_table)
    for a, b in zip(details, old_details, strict=True):
        assert a.verdict == b.verdict
        assert (a.lift.estimate, a.lift.low, a.lift.high, a.vs_past, a.vs_peers) == (
            b.lift.estimate, b.lift.low, b.lift.high, b.vs_past, b.vs_peers)
        assert (a.past_events, a.peer_events, a.dropped_posts) == (b.past_events, b.peer_events, b.dropped_posts)
        pd.testing.assert_frame_equal(a.promo_posts.reset_index(drop=True), b.promo_posts.reset_index(drop=True))
        pd.testing.assert_frame_equal(a.conversation["phases"], b.conversation["phases"])
