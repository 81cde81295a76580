"""Read models and report made faster without changing what they return (issue 19 items 3 and 5).

Each test pins the shape of the work (a table read once, a figure computed once) or the equality of
a vectorised computation with the one-by-one definition it replaces; the outputs themselves stay
pinned by the golden pages and reports (tests/test_golden.py).
"""

from __future__ import annotations

import altair as alt
import numpy as np
import pandas as pd
import pytest
from scipy import stats

import analysis.topics as T
import analysis.topics.views as TV
from analysis import charts, store
from analysis import text as TX
from analysis.events import audiences as AU
from analysis.events import engagement as E
from analysis.events import evaluation as EV
from analysis.reports import render
from analysis.reports.period import parse_period


def _counting(monkeypatch, module, name):
    calls = []
    fn = getattr(module, name)

    def wrapper(*a, **k):
        calls.append(a)
        return fn(*a, **k)

    monkeypatch.setattr(module, name, wrapper)
    return calls


# ------------------------------------------------------------------------------ events
def test_event_evaluations_read_the_posts_once_and_match_one_by_one(demo_db, monkeypatch):
    """The Campagnes events table: one read of the official posts for every event of the
    territory (was one per event), and each row what evaluating its event alone gives."""
    with store.reader(demo_db) as con:
        calls = _counting(monkeypatch, EV, "load_posts")
        table = EV.territory_summary(con, "saint-aubin", n_boot=200, seed=0)
        assert len(table) >= 3
        assert len(calls) == 1
        for row in table.head(3).itertuples():
            one = EV.evaluate_event(con, row.event_id, n_boot=200, seed=0, with_conversation=False)
            assert (one.lift.estimate, one.lift.low, one.lift.high) == (row.effect, row.low, row.high) or (
                one.lift.estimate is None and pd.isna(row.effect))
            assert one.verdict == row.verdict
        many = EV.evaluate_events(con, "saint-aubin", list(table["event_id"][:2]), n_boot=200)
        for ev, eid in zip(many, table["event_id"][:2], strict=True):
            alone = EV.evaluate_event(con, eid, n_boot=200)
            assert ev.verdict == alone.verdict and ev.conversation["messages"] == alone.conversation["messages"]
            pd.testing.assert_frame_equal(ev.promo_posts, alone.promo_posts)


def test_names_any_with_precomputed_keys_is_names_any():
    texts = ["Fête de la musique #FeteDeLaMusique à Saint-Aubin", "#SaintAubinDuCormier en fête", "",
             "Rendez-vous au marché de Noël", "MARCHÉ de noël ce soir !", "https://ex.org/noel"]
    term_lists = [["#FeteDeLaMusique"], ["fête de la musique"], ["#SaintAubin"], ["marché de noël", "#Noel"], []]
    for t in texts:
        for terms in term_lists:
            assert TX.names_any(t, terms, TX.name_keys(t)) == TX.names_any(t, terms), (t, terms)


# ------------------------------------------------------------------------------ what works per audience
def test_weighted_median_draws_follow_the_resamples_law():
    """_wmedian_draws (cells of equal weight, one block placed on ranks) draws the weighted median of a
    resample of the posts with the law of resampling every post: same distribution as _wmedian of
    explicit resamples, for few and many distinct weights, ties in the values, one or two posts."""
    rng = np.random.default_rng(3)
    for n, w in ((300, rng.choice([0.2, 0.5, 1.3], size=300)), (300, rng.uniform(0.01, 2.0, size=300)),
                 (40, np.full(40, 0.1)), (2000, rng.choice([0.3, 3.0], size=2000)), (1, np.array([0.4]))):
        x = np.round(rng.lognormal(size=n), 2)  # ties on purpose
        boot = 4000
        want = np.array([AU._wmedian(x[r], w[r]) for r in rng.integers(0, n, (boot, n))])
        got = AU._wmedian_draws(x, w, boot, np.random.default_rng(n))
        assert len(got) == boot and set(got.tolist()) <= set(x.tolist())
        assert stats.ks_2samp(want, got).pvalue > 0.001, n
        for q in (5, 50, 95):  # the interval's bounds agree to the resampling noise (or one step of x's 0.01 grid)
            assert abs(np.percentile(got, q) - np.percentile(want, q)) <= max(0.15 * np.std(want), 0.01) + 1e-9, (n, q)
    # two posts of equal weight: {a, a} → a, {b, b} → b, {a, b} → a (the lower median): P(a) = 3/4
    two = AU._wmedian_draws(np.array([1.0, 2.0]), np.array([0.5, 0.5]), 20000, np.random.default_rng(0))
    assert abs((two == 1.0).mean() - 0.75) < 0.015
    # 0.3 is half of 0.3 + 0.1 + 0.2: the lower median, 1.0, although the float sums put 0.3 just below half
    assert AU._wmedian(np.array([1.0, 2.0, 3.0]), np.array([0.3, 0.1, 0.2])) == 1.0


def test_post_features_levels_and_slots_match_their_definitions():
    rng = np.random.default_rng(1)
    y = np.round(rng.normal(size=400), 2)
    ends = np.sort(rng.integers(0, 401, 300))
    want = [float(np.median(y[max(0, k - E.LEVEL_WINDOW):k])) if k >= E.MIN_HISTORY else np.nan for k in ends]
    np.testing.assert_array_equal(E._levels(y, ends), np.array(want))
    local = pd.Series(pd.date_range("2026-03-23", periods=24 * 7, freq="h", tz="Europe/Paris"))
    assert E.slots_of(local) == [E.slot_of(t) for t in local]


# ------------------------------------------------------------------------------ report
@pytest.fixture(scope="module")
def report_args(demo_db):
    with store.reader(demo_db) as con:
        own = con.execute("SELECT territory_id FROM territories WHERE kind = 'own' LIMIT 1").fetchone()[0]
        return own, parse_period(render.available_periods(con, own)["month"][1])


def test_report_reads_sentiment_by_theme_once_and_counts_no_theme(demo_db, report_args, monkeypatch):
    calls = _counting(monkeypatch, TV, "sentiment_by_theme")
    monkeypatch.setattr(T, "sentiment_by_theme", TV.sentiment_by_theme)
    monkeypatch.setattr(T, "themes_status", lambda con: pytest.fail("the report counted every classified item"))
    with store.reader(demo_db) as con:
        rep = render.build_report(con, *report_args)
    assert len(calls) == 1
    themes = next(s for s in rep.model["sections"] if s["id"] == "themes")["data"]
    assert any(t["caption"] == "Sentiment par thème" for t in themes["tables"])


def test_report_sections_built_side_by_side_give_the_same_model(demo_db, report_args, monkeypatch):
    with store.reader(demo_db) as con:
        parallel = render.build_report(con, *report_args).model
        monkeypatch.setattr(render, "SECTION_THREADS", 1)
        serial = render.build_report(con, *report_args).model
    assert parallel == serial


def test_report_charts_skip_the_schema_walk(monkeypatch):
    """A report chart's static spec is the chart's own dict: no JSON-schema validation (≈0,1 s a chart)."""
    chart = alt.Chart(pd.DataFrame({"x": [1, 2], "y": [3, 4]})).mark_line().encode(x="x:Q", y="y:Q")
    want = chart.to_dict()
    monkeypatch.setattr(alt.Chart, "validate", classmethod(lambda *a, **k: pytest.fail("validated")))
    spec = charts._spec(chart)
    assert {k: v for k, v in spec.items() if k != "config"} == {k: v for k, v in want.items() if k != "config"}


def test_the_report_pauses_the_cyclic_gc_and_gives_it_back():
    """Building and laying out a report pause Python's cyclic collector (render._GcPaused); nested,
    concurrent or failing reports give it back as they found it."""
    import gc
    import threading

    paused = render._GcPaused
    assert gc.isenabled()

    @paused()
    def fails():
        assert not gc.isenabled()
        raise ValueError("x")

    with paused():
        assert not gc.isenabled()
        with paused():
            assert not gc.isenabled()
        assert not gc.isenabled()  # the outer report is still running
        with pytest.raises(ValueError):
            fails()
        assert not gc.isenabled()
    assert gc.isenabled()
    inside, go = threading.Event(), threading.Event()

    def other():
        with paused():
            inside.set()
            go.wait(5)

    t = threading.Thread(target=other)
    t.start()
    inside.wait(5)
    with paused():
        pass
    assert not gc.isenabled()  # the other thread's report still runs
    go.set()
    t.join()
    assert gc.isenabled()
    gc.disable()  # a caller that had paused it itself keeps it paused
    try:
        with paused():
            pass
        assert not gc.isenabled()
    finally:
        gc.enable()
