"""Daily aggregates (analysis.derived): rebuilt by every write session, read only while current,
and giving the same headlines as the message tables."""

from __future__ import annotations

from datetime import date, timedelta

import pandas as pd

from analysis import derived, derived_refresh, store
from analysis.ereputation import _counts
from analysis.queries import Filters
from analysis.reports.findings import findings
from analysis.reports.period import parse_period


def _end(con) -> date:
    return con.execute("SELECT max(created_at)::DATE FROM messages").fetchone()[0] + timedelta(days=1)


def _findings(con, territory: str, period: str, compare: str, platforms: tuple = ()) -> list[dict]:
    return [x.as_dict() for x in findings(con, territory, parse_period(period), compare, platforms)]


def test_writer_rebuilds_and_findings_are_unchanged(demo_db_copy, monkeypatch):
    with derived_refresh.writer(demo_db_copy) as con:
        con.execute("DELETE FROM derived_state")  # what a store from before the rebuild looks like
    with store.reader(demo_db_copy) as con:
        assert derived.current(con)  # the writer rebuilt them on exit
        end = _end(con)
        months = [f"{(end - timedelta(days=d)).strftime('%Y-%m')}" for d in (1, 200)]
        ids = [r[0] for r in con.execute("SELECT territory_id FROM territories ORDER BY 1").fetchall()][:2]
        cases = [(t, m, c, p) for t in ids for m in months for c in ("previous", "peers")
                 for p in ((), ("facebook",), ("instagram", "x"))]
        fast = [_findings(con, *case) for case in cases]
        assert any(f["value"] for rows in fast for f in rows)  # figures, not only empty periods
        monkeypatch.setattr(derived, "usable", lambda con, f: False)  # the message tables' path
        slow = [_findings(con, *case) for case in cases]
    assert fast == slow


def test_daily_sentiment_sums_to_the_query_it_replaces(demo_db_copy):
    with derived_refresh.writer(demo_db_copy):
        pass
    with store.reader(demo_db_copy) as con:
        end = _end(con)
        f = Filters((), end - timedelta(days=90), end, ())
        got = derived.sentiment_counts(con, f).set_index("territory_id").sort_index()
        want = _counts(con, f, {"territory_id": "territory_id"}).set_index("territory_id").sort_index()
        pd.testing.assert_frame_equal(got, want.loc[got.index], check_dtype=False)
        assert got["messages"].sum() > 0


def test_a_write_outside_the_writer_makes_them_stale(demo_db_copy):
    with derived_refresh.writer(demo_db_copy):
        pass
    con = store.connect(demo_db_copy)  # a write session that does not rebuild
    try:
        con.execute("DELETE FROM messages WHERE message_id IN (SELECT message_id FROM messages LIMIT 10)")
        assert not derived.current(con)
        assert not derived.usable(con, Filters((), date(2026, 1, 1), date(2026, 2, 1)))
    finally:
        con.close()


def test_a_read_only_connection_asks_once_a_writer_each_time(demo_db_copy, monkeypatch):
    """A reader sees one published copy: whether the derived tables are current is counted once per
    connection; a write connection, whose tables change, counts at every question."""
    with derived_refresh.writer(demo_db_copy):
        pass
    calls = []
    counts = derived.source_counts
    monkeypatch.setattr(derived, "source_counts", lambda con: calls.append(1) or counts(con))
    with store.reader(demo_db_copy) as con:
        assert all(derived.current(con) for _ in range(5)) and len(calls) == 1
        cur = con.cursor()  # a cursor is a connection of its own: asked once too
        assert derived.current(cur) and derived.current(cur) and len(calls) == 2
    with store.reader(demo_db_copy) as con:  # another connection: asked again
        assert derived.current(con) and len(calls) == 3
    con = store.connect(demo_db_copy)
    try:
        assert derived.current(con) and len(calls) == 4
        con.execute("DELETE FROM messages WHERE message_id IN (SELECT message_id FROM messages LIMIT 10)")
        assert not derived.current(con) and len(calls) == 5
    finally:
        con.close()


def test_instants_are_not_answered_from_days(demo_db_copy):
    with derived_refresh.writer(demo_db_copy):
        pass
    with store.reader(demo_db_copy) as con:
        assert derived.usable(con, Filters((), date(2026, 1, 1), date(2026, 2, 1)))
        assert not derived.usable(con, Filters((), pd.Timestamp("2026-01-01 12:00").to_pydatetime(),
                                               date(2026, 2, 1)))
        assert not derived.usable(con, Filters((), None, date(2026, 2, 1)))


def test_a_failed_rebuild_leaves_the_data_and_no_current_state(demo_db_copy, monkeypatch):
    def boom(con):
        raise __import__("duckdb").Error("panne simulée")

    with derived_refresh.writer(demo_db_copy) as con:
        n = con.execute("SELECT count(*) FROM messages").fetchone()[0]
        monkeypatch.setattr(derived_refresh, "refresh", boom)
        con.execute("DELETE FROM messages WHERE message_id IN (SELECT message_id FROM messages LIMIT 5)")
    with store.reader(demo_db_copy) as con:
        assert con.execute("SELECT count(*) FROM messages").fetchone()[0] == n - 5  # the write landed
        assert not derived.current(con)


def test_incoming_messages_give_the_same_responsiveness(demo_db_copy):
    """Every scope and grouping of summary_sql, and the rows of response_times, from the derived
    table and from the message tables, on day and instant bounds."""
    from analysis.moderation import responsiveness as R

    with derived_refresh.writer(demo_db_copy):
        pass
    with store.reader(demo_db_copy) as con:
        assert derived.current(con)
        end = _end(con)
        ids = [r[0] for r in con.execute("SELECT territory_id FROM territories ORDER BY 1").fetchall()]
        cases = [Filters((), None, None, ()), Filters((ids[0],), end - timedelta(days=365), end, ()),
                 Filters(tuple(ids[1:3]), end - timedelta(days=90), end, ("facebook", "instagram")),
                 Filters((), pd.Timestamp(end - timedelta(days=30)).to_pydatetime().replace(hour=13, minute=30),
                         end, ("x",))]
        checked = 0
        for f in cases:
            for scope in R.SCOPES:
                for by, kw in ((("territory_id", "platform", "slot"), {"all_slot": True}),
                               (("territory_id",), {"drop_invisible_platforms": True})):
                    fast = R.summary_sql(con, f, scope, by, **kw)
                    slow = R.summary_sql(con, f, scope, by, derived=False, **kw)
                    pd.testing.assert_frame_equal(fast, slow)
                    checked += int(fast["incoming"].sum())
            rows = R.response_times(con, f, "needs_answer").sort_values("message_id", ignore_index=True)
            sql, params = R._rows_sql(f, "needs_answer", con, derived=False)
            want = con.execute(sql, params).df().sort_values("message_id", ignore_index=True)
            pd.testing.assert_frame_equal(rows[list(want.columns)], want, check_dtype=False)
        assert checked > 0


def test_erasure_leaves_no_trace_in_the_derived_tables(demo_db_copy):
    """The right to erasure reaches the derived tables: the write session that erases rebuilds them."""
    from analysis import retention

    with store.reader(demo_db_copy) as con:
        author, ids = con.execute(
            "SELECT m.author_hash, list(m.message_id) FROM messages m JOIN incoming_messages i USING (message_id) "
            "WHERE m.author_hash IS NOT NULL GROUP BY 1 ORDER BY count(*) DESC LIMIT 1").fetchone()
        before = con.execute("SELECT sum(messages) FROM daily_sentiment").fetchone()[0]
    with derived_refresh.writer(demo_db_copy) as con:
        retention.erase_author(con, author_hash=author, actor="dpo")
    with store.reader(demo_db_copy) as con:
        assert derived.current(con)
        left = con.execute("SELECT count(*) FROM incoming_messages WHERE list_contains(?, message_id)",
                           [ids]).fetchone()[0]
        after = con.execute("SELECT sum(messages) FROM daily_sentiment").fetchone()[0]
    assert left == 0
    assert after < before


def test_a_session_without_the_rebuild_marks_the_derived_tables_stale(demo_db_copy):
    """The store imports no domain module: a write session opened without the rebuild
    (``store.writer()``) cannot leave aggregates of the tables as they were marked current."""
    with derived_refresh.writer(demo_db_copy):
        pass
    with store.writer(demo_db_copy) as con:
        con.execute("UPDATE messages SET text = text WHERE message_id IN (SELECT message_id FROM messages LIMIT 1)")
    with store.reader(demo_db_copy) as con:
        assert not derived.current(con)


def test_a_correction_reaches_the_response_rate(demo_db_copy):
    """An analyst who relabels a message negative puts it in « needs an answer » (issue 18: the
    response rate kept the model's labels), from the derived table and from the message tables."""
    from analysis.moderation.responsiveness import summary_sql
    from analysis.sentiment.corrections import correct

    with store.reader(demo_db_copy) as con:
        mid, terr = con.execute("SELECT message_id, territory_id FROM incoming_messages "
                                "WHERE NOT is_negative AND NOT is_question ORDER BY message_id LIMIT 1").fetchone()
        f = Filters((terr,))

        def needing_answer(c):
            return int(summary_sql(c, f, "needs_answer", by=("territory_id",))["incoming"].sum())

        before = needing_answer(con)
    with derived_refresh.writer(demo_db_copy) as con:
        correct(con, mid, "message", "negative", author="test")
    with store.reader(demo_db_copy) as con:
        assert derived.current(con)
        assert needing_answer(con) == before + 1
    with store.writer(demo_db_copy):  # no rebuild: the readers compute from the message tables
        pass
    with store.reader(demo_db_copy) as con:
        assert not derived.current(con)
        assert needing_answer(con) == before + 1
