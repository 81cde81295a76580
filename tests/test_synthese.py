"""Synthèse read models on the demo store: the batched figures of the findings (territory and peers
in one query, pooled afterwards) equal the library called on each selection, and the home page's
peer table equals the Benchmark page's columns."""

from __future__ import annotations

from datetime import timedelta

import pandas as pd
import pytest

from analysis import ereputation, store, synthese
from analysis.campaigns import benchmark
from analysis.moderation.responsiveness import response_by_slot
from analysis.queries import Filters
from analysis.reports import findings as fnd
from analysis.reports.period import parse_period

OWN = "saint-aubin"


@pytest.fixture(scope="module")
def con(demo_db):
    with store.reader(demo_db) as c:
        yield c


@pytest.fixture(scope="module")
def window(con) -> tuple:
    """The last 90 days of the demo store (half-open)."""
    end = con.execute("SELECT max(created_at)::DATE FROM messages").fetchone()[0] + timedelta(days=1)
    return end - timedelta(days=90), end


def _response_alone(con, f: Filters) -> tuple[int, int]:
    """(incoming, answered) of a selection by its own responsiveness call (the former per-selection path)."""
    r = response_by_slot(con, f, "needs_answer")
    r = r[(r["slot"] == "all") & r["visible"].astype(bool)]
    return int(r["incoming"].sum()), int(r["answered"].sum())


@pytest.mark.parametrize("platforms", [(), ("facebook",)])
def test_pooled_figures_equal_one_query_per_selection(con, window, platforms):
    peers = fnd.peers_of(con, OWN)
    assert len(peers) >= 2  # pooling is exercised
    f = Filters((OWN,), *window, platforms)
    both = f.with_territories((OWN, *peers))
    sent = fnd._sentiment_table(con, both)
    assert fnd._pooled_sentiment(sent, (OWN,)) == ereputation.kpis(con, f)
    pooled = fnd._pooled_sentiment(sent, peers)
    assert pooled == ereputation.kpis(con, f.with_territories(peers))
    assert pooled["messages"] > 0 and pooled["net_sentiment"] is not None
    resp = fnd._response_table(con, both)
    for sel in ((OWN,), tuple(peers)):
        r = fnd._response(resp, sel)
        incoming, answered = _response_alone(con, f.with_territories(sel))
        assert (r["incoming"], r["answered"]) == (incoming, answered)
        assert r["response_rate"] == pytest.approx(answered / incoming, abs=0)


def test_findings_peer_values_are_the_peers_own_figures(con):
    p = parse_period("2026-09") if con.execute(
        "SELECT count(*) FROM messages WHERE created_at >= '2026-09-01' AND created_at < '2026-10-01'"
    ).fetchone()[0] else None
    assert p is not None, "the demo store covers September 2026"
    peers = fnd.peers_of(con, OWN)
    fp = Filters(tuple(peers), p.start, p.end)
    k = ereputation.kpis(con, fp)
    incoming, answered = _response_alone(con, fp)
    found = {x.kpi: x for x in fnd.findings(con, OWN, p, "previous")}
    assert found["net_sentiment"].peers_value_fr == fnd.signed(100 * k["net_sentiment"], 0)
    assert found["response_rate"].peers_value_fr == fnd.fr_pct(answered / incoming, 0)
    prev = ereputation.kpis(con, Filters((OWN,), p.previous().start, p.previous().end))
    cur = ereputation.kpis(con, Filters((OWN,), p.start, p.end))
    assert found["messages"].change == pytest.approx(cur["messages"] / prev["messages"] - 1, abs=1e-12)
    # compared with the peers, the previous period is not needed and the figures stay the territory's
    vs_peers = {x.kpi: x for x in fnd.findings(con, OWN, p, "peers")}
    assert vs_peers["net_sentiment"].value == found["net_sentiment"].value
    assert vs_peers["net_sentiment"].change == pytest.approx(cur["net_sentiment"] - k["net_sentiment"], abs=1e-12)


@pytest.mark.parametrize("days,platforms", [(365, ()), (30, ("facebook",))])
def test_peer_table_equals_benchmark_columns(con, window, days, platforms):
    end = window[1]
    f = Filters((), end - timedelta(days=days), end, platforms)
    pt = synthese.peer_table(con, f)
    ids = [OWN, *fnd.peers_of(con, OWN)]
    b = benchmark(con, f.start, f.end, ids, platforms)
    b = b.assign(is_focus=b["territory_id"] == OWN).sort_values("is_focus", ascending=False, kind="stable")
    cols = [*synthese.PEER_COLUMNS, "is_focus"]
    pd.testing.assert_frame_equal(pt, b[cols].reset_index(drop=True), check_dtype=False)
    assert pt["territory_id"].iloc[0] == OWN and set(pt["territory_id"]) == set(ids)
    assert pt["messages"].gt(0).all() and pt["net_sentiment"].notna().all()


def test_page_shows_the_peer_table_and_headlines(demo_db, monkeypatch, con, window):
    """The home page on the demo store (default period, 12 months): its peer table is
    :func:`synthese.peer_table` and its six headlines are :func:`synthese.headlines`."""
    from tests.page_helpers import frame_with, open_page, rendered

    monkeypatch.setenv("VIGIE_DB", str(demo_db))
    at = open_page("synthese.py", period="12m")
    end = window[1]
    f = Filters((), (pd.Timestamp(end) - pd.DateOffset(months=12)).date(), end)
    pt, h = synthese.peer_table(con, f), synthese.headlines(con, f)
    shown = frame_with(at, "Sentiment net (points)")
    assert shown["Territoire"].iloc[0].endswith(" (nous)") and len(shown) == len(pt)
    assert shown["Messages reçus"].tolist() == pt["messages"].tolist()
    assert shown["Sentiment net (points)"].tolist() == pytest.approx((100 * pt["net_sentiment"]).tolist())
    assert [m.label for m in at.metric] == [x["label"] for x in h["findings"]]
    assert [x["reading"] for x in h["findings"]] == [rendered(m.value) for m in at.markdown
                                                      if rendered(m.value) in {x["reading"] for x in h["findings"]}]
