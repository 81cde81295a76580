"""The rebuild of the derived tables (:mod:`analysis.derived`) and the write session that ends with it.

The store imports no domain module: :func:`analysis.store.writer` takes the rebuild as an argument.
:func:`writer` is that session with the rebuild passed in — what the CLI, the app and the demo open
for every write. A session opened without it (``store.writer()``) marks the derived tables stale,
so readers compute from the message tables instead (same figures, slower).
"""

from __future__ import annotations

import contextlib
import functools
import hashlib
import inspect
import logging
import os
import sys
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass
from datetime import date, timedelta

import duckdb
import pandas as pd

from analysis import ereputation, store
from analysis.campaigns.model import daily_messages_sql
from analysis.derived import COUNT_COLUMNS, READ_COLUMNS, SOURCES, touched
from analysis.derived import FINGERPRINT_MOD as FP
from analysis.moderation.queue import moderation_rows_sql, moderation_themes_sql
from analysis.moderation.responsiveness import VISIBLE_PAIRS_SQL, incoming_sql
from analysis.queries import Filters
from analysis.topics.reads import daily_themes_sql

log = logging.getLogger(__name__)


# Beyond this share of the messages touched, one rebuild is cheaper than the key-by-key refresh.
INCREMENTAL_MAX_SHARE = 0.2
# Days touched further apart than this are refreshed as separate ranges (a correction a year back
# and today's import: two short ranges, not the whole year); beyond MAX_RANGES, one range.
_DAY_GAP, _MAX_RANGES = 7, 16


@dataclass
class _Marks:
    """Per source table: highest rowid, and the row count and fingerprint of the rows up to a given
    rowid (the previous refresh's) and of all rows."""

    top: list[int]
    rows_below: list[int]
    fp_below: list[int]
    rows: list[int]
    fp: list[int]


@functools.lru_cache(maxsize=1)
def definitions() -> int:
    """Fingerprint (63 bits) of what the derived tables hold: the SQL that computes their rows (as the
    rebuild runs it), the columns they count and read, and this module's source (the Python that
    writes them). Recorded by every refresh (state row ``definitions``): when a new Vigie computes a
    table otherwise (a first reply found another way, a count added), the next write session rebuilds
    every table instead of refreshing only the new days, which would leave the older days counted the
    old way beside the new ones. Editing only this module's comments also rebuilds once: a few
    seconds at 1 M messages, against figures that silently disagree. Computed once per process."""
    try:
        source = inspect.getsource(sys.modules[__name__])
    except (OSError, TypeError):  # installed without its sources: the SQL alone
        source = ""
    parts = [incoming_sql(), incoming_sql(only="_t", source="_s"), moderation_rows_sql(),
             moderation_rows_sql(only="_t", source="_s"),
             moderation_themes_sql(), moderation_themes_sql(only="_t", target="_m"), VISIBLE_PAIRS_SQL, daily_messages_sql(),
             daily_themes_sql(), ereputation._base(Filters())[0], ereputation._COUNTS_SQL, ereputation._local("h"),
             repr(READ_COLUMNS), repr(COUNT_COLUMNS), repr(SOURCES), source]
    return int(hashlib.sha256("\x00".join(parts).encode()).hexdigest()[:15], 16)


def _marks(con: duckdb.DuckDBPyConnection, below: list[int] | None) -> _Marks:
    """One scan of the read columns of each source table (≈ 0,1 s of CPU at 1 M messages)."""
    got = []
    for i, (table, cols) in enumerate(READ_COLUMNS.items()):
        w = below[i] if below else -1
        got.append(con.execute(
            f"SELECT coalesce(max(r), -1), count(*) FILTER (WHERE r <= {w}), "
            f"(coalesce(sum(h) FILTER (WHERE r <= {w}), 0) % {FP})::BIGINT, count(*), "
            f"(coalesce(sum(h), 0) % {FP})::BIGINT FROM (SELECT rowid AS r, hash({cols}) AS h FROM {table})"
        ).fetchone())
    return _Marks(*(list(map(int, col)) for col in zip(*got, strict=True)))


def _state(con: duckdb.DuckDBPyConnection) -> dict[str, list[int]]:
    rows = con.execute(f"SELECT name, {', '.join(SOURCES)} FROM derived_state").fetchall()
    return {r[0]: list(r[1:]) for r in rows}


def _write_state(con: duckdb.DuckDBPyConnection, m: _Marks) -> None:
    """The state rows: ``daily`` (row counts, what :func:`analysis.derived.current` compares),
    ``rowid`` (highest rowid of each source), ``fingerprint`` (of their read columns) and
    ``definitions`` (:func:`definitions`, in its first column)."""
    con.execute("DELETE FROM derived_state")
    con.execute("DELETE FROM derived_touched")  # recounted by the refresh that writes this state
    holes = ", ".join("?" for _ in SOURCES)
    defs = [definitions(), *([0] * (len(SOURCES) - 1))]
    for name, values in (("daily", m.rows), ("rowid", m.top), ("fingerprint", m.fp), ("definitions", defs)):
        con.execute(f"INSERT INTO derived_state VALUES (?, now()::TIMESTAMP, {holes})", [name, *values])


def _daily_counts(con: duckdb.DuckDBPyConnection, f: Filters) -> pd.DataFrame:
    """Rows of ``daily_sentiment`` for the messages of ``f``: :func:`analysis.ereputation._counts`
    per territory × platform × local day."""
    sent = ereputation._counts(con, f, {"territory_id": "territory_id", "platform": "platform"}, "day",
                               derived=False)
    sent = sent.rename(columns={"period": "day"})
    sent["day"] = pd.to_datetime(sent["day"]).dt.date
    return sent


def _insert_daily(con: duckdb.DuckDBPyConnection, sent: pd.DataFrame) -> None:
    con.register("_daily_sent", sent)
    try:
        con.execute(f"INSERT INTO daily_sentiment SELECT territory_id, platform, day, "
                    f"{', '.join(COUNT_COLUMNS)} FROM _daily_sent")
    finally:
        con.unregister("_daily_sent")


def _insert_daily_utc(con: duckdb.DuckDBPyConnection, where: str = "TRUE", params: list | None = None) -> None:
    """The rows of both UTC-day tables (``daily_messages_utc``, ``daily_themes_utc``) for the messages
    of ``where``."""
    con.execute("INSERT INTO daily_messages_utc SELECT territory_id, platform, day, messages, positive, negative "
                f"FROM ({daily_messages_sql(where)})", params or [])
    con.execute("INSERT INTO daily_themes_utc SELECT territory_id, platform, day, theme, messages, positive, neutral, "
                f"negative, first_theme FROM ({daily_themes_sql(where)})", params or [])


# Above this many rows in a source table a rebuild runs under the cap of the passes over the whole store
# (analysis.store.PASS_MEMORY_LIMIT) from the start: at 10 M messages it did not fit under the import's
# 512 MB and failed after 115 s before its retry (make bench-10m); at 1 M it fits (7 s). Between the two,
# not measured.
LARGE_REBUILD_ROWS = 3_000_000


def _rebuild(con: duckdb.DuckDBPyConnection, m: _Marks) -> None:
    large = max(m.rows, default=0) > LARGE_REBUILD_ROWS
    with store.bounded_memory(con, store.PASS_MEMORY_LIMIT) if large else contextlib.nullcontext():
        _rebuild_tables(con, m)


def _rebuild_tables(con: duckdb.DuckDBPyConnection, m: _Marks) -> None:
    sent = _daily_counts(con, Filters())
    with store.transaction(con):
        con.execute("DELETE FROM daily_messages_utc")
        con.execute("DELETE FROM daily_themes_utc")
        _insert_daily_utc(con)
        con.execute("DELETE FROM daily_sentiment")
        con.execute("DELETE FROM incoming_messages")
        con.execute(f"INSERT INTO incoming_messages {incoming_sql()}")
        con.execute("DELETE FROM moderation_messages")
        # sorted by territory and time: a territory's rows sit in few row groups, which DuckDB's zone maps
        # let the queue, the alerts and the contacts skip to (one territory of five: a fifth of the scan)
        con.execute(f"INSERT INTO moderation_messages SELECT * FROM ({moderation_rows_sql()}) "
                    "ORDER BY territory_id, created_at")
        con.execute(moderation_themes_sql())
        _insert_daily(con, sent)
        _write_state(con, m)


def _day_ranges(days: list[date]) -> list[tuple[date, date]]:
    """Sorted days → [first, last] ranges, days at most ``_DAY_GAP`` apart in one range."""
    ranges: list[tuple[date, date]] = []
    for d in sorted(days):
        if ranges and (d - ranges[-1][1]).days <= _DAY_GAP:
            ranges[-1] = (ranges[-1][0], d)
        else:
            ranges.append((d, d))
    return ranges if len(ranges) <= _MAX_RANGES else [(ranges[0][0], ranges[-1][1])]


def _update(con: duckdb.DuckDBPyConnection, top: list[int], m: _Marks) -> bool:
    """Refresh the rows the changes touch; False (nothing written) when a rebuild is cheaper.

    Every row of a source table up to ``top`` is as it was at the last refresh (the caller checked
    their count and fingerprint), so the tables hold what they held then plus the rows above it: new
    messages, scores, corrections, posts, accounts. Nothing was removed or changed (but the scores
    :func:`analysis.derived.forget_rows` deleted, whose messages it listed), so visibility
    can only be gained and only the rows those added ones touch can differ. The messages they touch
    are refreshed (with those of ``derived_touched``, whose counted rows were deleted: the scores of an
    edited text) in ``daily_sentiment`` by whole local days (every row of each touched day
    recounted) and in ``incoming_messages`` and ``moderation_messages`` with every message that may
    share a first reply with them (same post, or the message they answer)."""
    w = dict(zip(SOURCES, top, strict=True))
    con.execute(f"""CREATE OR REPLACE TEMP TABLE _vigie_touched AS
        SELECT message_id FROM messages WHERE rowid > {w['messages']}
        UNION SELECT item_id FROM sentiment WHERE rowid > {w['sentiment']} AND item_type = 'message'
        UNION SELECT item_id FROM labels WHERE rowid > {w['labels']} AND item_type = 'message'
        UNION SELECT message_id FROM toxicity WHERE rowid > {w['toxicity']}
        UNION SELECT item_id FROM themes WHERE rowid > {w['themes']} AND item_type = 'message'
        UNION SELECT message_id FROM derived_touched  -- rows deleted since (analysis.derived.forget_rows)
        UNION SELECT message_id FROM messages  -- a message without territory or account takes its post's
              WHERE post_id IN (SELECT post_id FROM posts WHERE rowid > {w['posts']} OR account_id IN
                                (SELECT account_id FROM accounts WHERE rowid > {w['accounts']}))
                 OR account_id IN (SELECT account_id FROM accounts WHERE rowid > {w['accounts']})""")
    try:
        n = con.execute("SELECT count(*) FROM _vigie_touched").fetchone()[0]
        if n > INCREMENTAL_MAX_SHARE * max(m.rows[0], 1):
            return False
        # the touched messages' own rows, read once (each lookup by id reads the million ids: 30–40 ms)
        con.execute("""CREATE OR REPLACE TEMP TABLE _vigie_trows AS
            SELECT message_id, post_id, parent_id, created_at, is_official FROM messages
            WHERE message_id IN (SELECT message_id FROM _vigie_touched)""")
        local_hour = ereputation._local("date_trunc('hour', created_at)")  # the day of _counts
        day = f"date_trunc('day', {local_hour})::DATE"
        days = [r[0] for r in con.execute(
            f"SELECT DISTINCT {day} FROM _vigie_trows WHERE NOT coalesce(is_official, FALSE)").fetchall()]
        ranges = _day_ranges(days)
        counts = [_daily_counts(con, Filters(start=a, end=b + timedelta(days=1))) for a, b in ranges]
        utc_ranges = _day_ranges([r[0] for r in con.execute(  # daily_messages_utc: whole UTC days
            "SELECT DISTINCT created_at::DATE FROM _vigie_trows WHERE NOT coalesce(is_official, FALSE) "
            "AND created_at IS NOT NULL").fetchall()])
        # The messages whose rows the refresh recomputes (the touched ones and those that may share a first
        # reply with them: their parents and their posts' messages), then every row those rows read:
        # their own, their replies and their posts' others (:func:`analysis.moderation.queue.first_replies_from`),
        # copied once so that the two statements below read a thousand rows instead of the million
        # (each read the message table four times: 0,13–0,19 s apiece at 1 M messages).
        cols = READ_COLUMNS["messages"]  # what the derived tables read of a message
        con.execute(f"""CREATE OR REPLACE TEMP TABLE _vigie_near AS SELECT {cols} FROM messages
            WHERE post_id IN (SELECT post_id FROM _vigie_trows) OR message_id IN (SELECT parent_id FROM _vigie_trows)""")
        con.execute("""CREATE OR REPLACE TEMP TABLE _vigie_incoming AS
            SELECT message_id FROM _vigie_touched
            UNION SELECT parent_id FROM _vigie_trows WHERE parent_id IS NOT NULL
            UNION SELECT message_id FROM _vigie_near WHERE post_id IN (SELECT post_id FROM _vigie_trows)""")
        con.execute(f"""CREATE OR REPLACE TEMP TABLE _vigie_scope AS SELECT {cols} FROM messages
            WHERE post_id IN (SELECT post_id FROM _vigie_near)
               OR message_id IN (SELECT message_id FROM _vigie_incoming)
               OR parent_id IN (SELECT message_id FROM _vigie_incoming)""")
        with store.transaction(con):
            for (a, b), sent in zip(ranges, counts, strict=True):
                con.execute("DELETE FROM daily_sentiment WHERE day BETWEEN ? AND ?", [a, b])
                _insert_daily(con, sent)
            for a, b in utc_ranges:
                con.execute("DELETE FROM daily_messages_utc WHERE day BETWEEN ? AND ?", [a, b])
                con.execute("DELETE FROM daily_themes_utc WHERE day BETWEEN ? AND ?", [a, b])
                _insert_daily_utc(con, "m.created_at >= ? AND m.created_at < ?",
                                  [pd.Timestamp(a).to_pydatetime(), pd.Timestamp(b + timedelta(days=1)).to_pydatetime()])
            con.execute("DELETE FROM incoming_messages WHERE message_id IN (SELECT message_id FROM _vigie_incoming)")
            con.execute(f"INSERT INTO incoming_messages {incoming_sql(only='_vigie_incoming', source='_vigie_scope')}")
            # the same messages (the touched ones and those that may share a first reply with them)
            con.execute("DELETE FROM moderation_messages WHERE message_id IN (SELECT message_id FROM _vigie_incoming)")
            # their themes given before they join the table (an UPDATE of the table read its million rows)
            con.execute("CREATE OR REPLACE TEMP TABLE _vigie_moderation AS "
                        f"{moderation_rows_sql(only='_vigie_incoming', source='_vigie_scope')}")
            con.execute(moderation_themes_sql(only="_vigie_incoming", target="_vigie_moderation"))
            con.execute("INSERT INTO moderation_messages SELECT * FROM _vigie_moderation")
            # a territory's first official message on a platform makes all its incoming ones visible
            con.execute(f"""UPDATE incoming_messages AS i SET visible = TRUE FROM ({VISIBLE_PAIRS_SQL}) AS v
                            WHERE NOT i.visible AND i.territory_id = v.territory_id AND i.platform = v.platform""")
            _write_state(con, m)
        return True
    finally:
        for temp in ("_vigie_touched", "_vigie_trows", "_vigie_near", "_vigie_incoming", "_vigie_scope",
                     "_vigie_moderation"):
            con.execute(f"DROP TABLE IF EXISTS {temp}")


def refresh(con: duckdb.DuckDBPyConnection, incremental: bool = True) -> None:
    """Bring the derived tables up to date with the message tables, in one transaction.

    Incremental when it can be: the last refresh recorded, per source table, its highest rowid and a
    fingerprint of the columns the derived tables read. If the rows up to that rowid still have the
    same count and fingerprint (nothing deleted, nothing they read updated in place), only the rows
    above it are new and :func:`_update` refreshes what they touch (one new day at 1 M messages:
    a few hundred thousand rows read instead of every message twice). Otherwise (an erasure, a
    correction edited, an attachment, a re-scoring, a first refresh, tables written by another
    version of their definitions: :func:`definitions`) everything is rebuilt, as is ``incremental=False``. Both give the same rows (``tests/test_derived_incremental.py``)."""
    con.execute("SELECT 1").fetchall()  # ends a result the session left unread (register() fails after one)
    state = _state(con) if incremental else {}
    same = state.get("definitions", [None])[0] == definitions()  # written by this Vigie's definitions
    top = state.get("rowid") if same and {"daily", "rowid", "fingerprint"} <= set(state) else None
    m = _marks(con, top)
    if top is not None and m.rows_below == state["daily"] and m.fp_below == state["fingerprint"]:
        if m.top == top and not touched(con):
            return  # nothing new either: nothing written, so the session may not need publishing
        if _update(con, top, m):
            return
    _rebuild(con, m)


def refresh_or_clear(con: duckdb.DuckDBPyConnection) -> None:
    """:func:`refresh`; on failure the state row is removed (readers then compute from the
    message tables) and the error logged: the write session's own data stays committed.

    A refresh that runs out of the memory it was given (the write session caps DuckDB's memory,
    :func:`analysis.store.bounded_memory`) is tried again under the cap of the passes over the whole
    store (:data:`analysis.store.PASS_MEMORY_LIMIT`), then without any cap (for the rest of that
    block): tables left stale would make every page compute from the message tables until the next
    write. (A full rebuild at 10 M messages does not fit under the import's 512 MB; without any cap it
    took 9,5 GB, under 2 GB it takes 2,4 GB.)"""
    try:
        store.retry_out_of_memory(con, lambda: refresh(con), (store.PASS_MEMORY_LIMIT, None), "Agrégats quotidiens",
                                  log)
    except Exception as e:  # noqa: BLE001 - whatever the cause, the session's data must be published
        log.warning("Agrégats quotidiens non reconstruits : %s", e)
        try:
            con.execute("DELETE FROM derived_state")
        except duckdb.Error:
            pass


@contextmanager
def writer(path: str | os.PathLike | None = None, *, compact: bool = False,
           timings: dict[str, float] | None = None) -> Iterator[duckdb.DuckDBPyConnection]:
    """:func:`analysis.store.writer` with the derived tables rebuilt before publishing, so readers
    always see them current."""
    with store.writer(path, compact=compact, refresh=refresh_or_clear, timings=timings) as con:
        yield con
