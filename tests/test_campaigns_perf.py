"""The campaign panel and the benchmark's message counts read from ``daily_messages_utc`` (issue 19
item 3) give exactly what the message tables give; a store from before the table gets it filled
by its next write session and is read from the message tables until then."""

from __future__ import annotations

import importlib
from datetime import date, datetime

import pandas as pd

from analysis import derived_refresh, store
from analysis.campaigns import model as M

E = importlib.import_module("analysis.campaigns.effects")
BM = importlib.import_module("analysis.campaigns.benchmark")
START, END = date(2025, 6, 1), date(2026, 10, 31)


def _figures(con, terr):
    return (E.daily_panel(con, terr, START, END), E.daily_panel(con, terr[:1], date(2026, 3, 1), date(2026, 3, 31)),
            BM.message_totals(con, terr, START, END), BM.message_totals(con, terr, START, END, ("facebook", "x")),
            BM.message_totals(con, terr[1:], date(2026, 10, 1), date(2026, 11, 1), ("instagram",)))


def _same(got, want):
    for a, b in zip(got, want, strict=True):
        pd.testing.assert_frame_equal(a, b)


def test_daily_messages_utc_gives_the_figures_of_the_message_tables(demo_db_copy, monkeypatch):
    with derived_refresh.writer(demo_db_copy):
        pass
    with store.reader(demo_db_copy) as con:
        assert M.daily_messages_current(con, START, END)
        assert not M.daily_messages_current(con, START, datetime(2026, 10, 31, 12))  # an instant: not whole days
        terr = [r[0] for r in con.execute("SELECT territory_id FROM territories ORDER BY 1").fetchall()]
        fast = _figures(con, terr)
        monkeypatch.setattr(E, "daily_messages_current", lambda *a: False)
        monkeypatch.setattr(BM, "daily_messages_current", lambda *a: False)
        slow = _figures(con, terr)
    assert fast[2]["messages"].sum() > 1000 and fast[2]["pos"].sum() > 0
    _same(fast, slow)


def test_a_store_from_before_the_table_is_filled_by_its_next_session(demo_db_copy):
    """The migration creates the table empty and drops the state row, so readers use the message
    tables; the next write session (even one that writes nothing) rebuilds it."""
    with derived_refresh.writer(demo_db_copy):
        pass
    with store.reader(demo_db_copy) as con:
        want = con.execute("SELECT * FROM daily_messages_utc ORDER BY ALL").fetchall()
    # as the migration leaves a store from before: the table empty, no state row
    with store.writer(demo_db_copy, refresh=lambda con: None) as con:
        con.execute("DELETE FROM daily_messages_utc")
        con.execute("DELETE FROM derived_state")
    with store.reader(demo_db_copy) as con:
        assert not M.daily_messages_current(con, START, END)
        assert con.execute("SELECT count(*) FROM derived_state").fetchone()[0] == 0
    with derived_refresh.writer(demo_db_copy):
        pass
    with store.reader(demo_db_copy) as con:
        assert M.daily_messages_current(con, START, END)
        assert con.execute("SELECT * FROM daily_messages_utc ORDER BY ALL").fetchall() == want
    assert len(want) > 1000


def _weekly_series_as_before(con, campaign, kpi):
    """weekly_series as it was: the whole evaluation, then the panel read again."""
    import numpy as np

    ev = E.evaluate(con, campaign, [kpi], n_boot=0)
    c, k = ev.campaign, E.KPIS[kpi]
    panel = E.daily_panel(con, [c.territory_id, *ev.peers], ev.baseline[0], c.end_date)
    panel = panel[[not any(a <= d <= b for a, b, _ in ev.excluded) for d in panel["date"]]].copy()
    panel["group"] = np.where(panel["territory_id"] == c.territory_id, "own", "peers")
    panel["week"] = [(d - c.start_date).days // 7 for d in panel["date"]]
    g = panel.groupby(["group", "week"]).agg(num=(k.num, "sum"), den=(k.den, "sum"), start=("date", "min"),
                                             days=("date", "nunique")).reset_index()
    g = g[g["days"] >= 4]
    g["value"] = g["num"] / g["den"].where(g["den"] > 0)
    base = g[g["week"] < 0].groupby("group").agg(num=("num", "sum"), den=("den", "sum"))
    ref = g["group"].map((base["num"] / base["den"].where(base["den"] > 0)).to_dict()).astype(float)
    g["index"] = 100 * g["value"] / ref if k.scale == "log" else 100 * (g["value"] - ref)
    g["period"] = np.where(g["week"] < 0, "référence", "campagne")
    return g[["group", "week", "start", "value", "index", "period"]]


def test_weekly_series_reads_the_panel_once_and_is_unchanged(demo_db, monkeypatch):
    calls = []
    panel = E.daily_panel

    def counted(*a, **k):
        calls.append(a)
        return panel(*a, **k)

    with store.reader(demo_db) as con:
        camps = M.list_campaigns(con)
        assert camps
        for c in camps[:3]:
            for kpi in ("engagement_per_post", "net_sentiment", "messages"):
                want = _weekly_series_as_before(con, c.campaign_id, kpi)
                calls.clear()
                monkeypatch.setattr(E, "daily_panel", counted)
                got = E.weekly_series(con, c.campaign_id, kpi)
                monkeypatch.setattr(E, "daily_panel", panel)
                assert len(calls) == 1
                pd.testing.assert_frame_equal(got, want)
