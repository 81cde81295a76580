"""Derived tables brought up to date at the end of every write session (:func:`analysis.derived_refresh.writer`):
the reading side (whether they are current, their sums); the rebuild is :mod:`analysis.derived_refresh`,
above the analyses whose SQL it reuses, and the store is handed it by the writer's caller.

Why: the home page's headlines compare a territory and its peers over a year with the year
before. Computed from the message tables, that is a sentiment join and a first-reply search over
every message of two years: 0,45–0,5 s at 1 M messages, on the page every visitor opens first.
From these tables it is a sum over a few thousand rows.

- ``daily_sentiment``: per territory × platform × French local day, the counts of
  :func:`analysis.ereputation.sentiment_table` (same SQL, grouped by day).
- ``incoming_messages``: every message received on an official account with its first official
  reply (the search over replies that every responsiveness figure needs) and its scope flags;
  :func:`analysis.moderation.responsiveness.summary_sql` reads it instead of searching replies.
- ``daily_messages_utc`` and ``daily_themes_utc``: user messages per territory × platform × UTC day
  (:func:`analysis.campaigns.model.daily_messages_sql`: campaigns and benchmark) and per theme
  (:func:`analysis.topics.reads.daily_themes_sql`: the Thématiques page's shares, tone per theme
  and posts against the conversation, 0,17–0,26 s → 12–36 ms at 1 M messages).
- ``moderation_messages``: every user message moderation looks at, with its toxicity, effective
  sentiment, question flag and first official reply
  (:func:`analysis.moderation.queue.moderation_rows_sql`): the queue, its counts and the alerts' daily
  counts read it instead of joining the enrichment tables (1 M rows each) on VARCHAR ids.

Readers use them only when :func:`current` says they describe the tables as they are (the row
counts of the source tables recorded at the rebuild match); otherwise they compute from the
message tables as before.

``derived_state`` holds four rows: ``daily`` (those row counts), ``rowid`` and ``fingerprint`` (per
source table, its highest rowid and a hash sum of the columns the derived tables read, at the last
refresh) and ``definitions`` (:func:`analysis.derived_refresh.definitions`: how the tables were
computed): with them :func:`analysis.derived_refresh.refresh` refreshes only what the rows added
since touch (one new day: the days and conversations it touches), and rebuilds everything when a
row already counted changed or disappeared, or when the tables were computed by other definitions
(a Vigie upgrade that counts otherwise: its first write session rebuilds them).
"""

from __future__ import annotations

import weakref
from datetime import date, datetime

import duckdb
import pandas as pd

from analysis import schema, store
from analysis.queries import Filters
from analysis.store import FINGERPRINT_MOD

SOURCES = ("messages", "sentiment", "labels", "toxicity", "posts", "accounts", "themes")
COUNT_COLUMNS = ("messages", "positive", "neutral", "negative", "scored", "non_french", "unscored")
# The columns of each source table (in the order of analysis.derived.SOURCES) that the derived
# tables read: their fingerprint says whether a row already counted changed since the last refresh.
READ_COLUMNS = {
    "messages": ("message_id, platform, kind, post_id, parent_id, account_id, territory_id, is_official, created_at, "
                 "likes, replies, author_hash"),
    "sentiment": "item_id, item_type, lang, label",
    "labels": "item_id, item_type, task, value",
    "toxicity": "message_id, is_question, p_toxic, lexicon_hits",
    "posts": "post_id, account_id, territory_id",
    "accounts": "account_id, official",
    "themes": "item_id, item_type, theme",
}


def forget_rows(con: duckdb.DuckDBPyConnection, table: str, where: str, message_ids: str) -> int:
    """Delete the rows of ``where`` from the source table ``table`` and keep the next refresh
    incremental; returns the rows deleted.

    A deleted row the last refresh counted made it rebuild every derived table (8,5 s at 1 M
    messages instead of about 1 s). Here the refresh's state forgets those rows (their count and
    fingerprint), and the messages ``message_ids`` (a query with a ``message_id`` column) go into
    ``derived_touched``: the next refresh recounts them like new ones. Until then :func:`current`
    is false, so a reader in the same session computes from the message tables."""
    state = dict(con.execute(f"SELECT name, {table} FROM derived_state WHERE name IN ('daily', 'rowid', 'fingerprint')"
                             ).fetchall())
    marked = store.marked_hash(table) if table in store.ENRICH_SOURCES else "0"
    gone = con.execute(f"DELETE FROM {table} WHERE {where} RETURNING rowid, hash({READ_COLUMNS[table]}), {marked}"
                       ).fetchall()
    store.forget_marked(con, table, [(r, m) for r, _, m in gone])
    if {"daily", "rowid", "fingerprint"} <= set(state) and state["rowid"] is not None:
        counted = [h for r, h, _ in gone if r <= state["rowid"]]  # rows above it: not counted yet
        if counted:
            con.execute(f"UPDATE derived_state SET {table} = {table} - ? WHERE name = 'daily'", [len(counted)])
            fp = FINGERPRINT_MOD
            con.execute(f"UPDATE derived_state SET {table} = ((({table}::HUGEINT - ?::HUGEINT) % {fp} + {fp}) % {fp})"
                        "::BIGINT WHERE name = 'fingerprint'", [sum(counted) % fp])
    con.execute(f"INSERT INTO derived_touched SELECT DISTINCT message_id FROM ({message_ids}) "
                "WHERE message_id IS NOT NULL EXCEPT SELECT message_id FROM derived_touched")
    return len(gone)


def read_columns(table: str) -> tuple[str, ...]:
    """The columns of the source table ``table`` that the derived tables read (:data:`READ_COLUMNS`)."""
    return tuple(c.strip() for c in READ_COLUMNS[table].split(","))


def forget_moved(con: duckdb.DuckDBPyConnection, moved: str, *, table: str) -> None:
    """Delete the stored rows of ``table`` that a write moves to the table's end (:func:`analysis.store.upsert`
    with ``relocate``; ``moved``: the temporary table of their new rows), as :func:`forget_rows` does: the
    next refresh counts them again as new rows, incrementally. Only rows none of whose
    :func:`read_columns` change are moved (an edited text): what the derived tables read of them stays.

    Their scores go too (:data:`analysis.schema.TEXT_SCORES`; those of an edited text were stale anyway):
    the enrichment scores every row its marks find above them as a new one (:mod:`analysis.enrich`)."""
    key = schema.table(table).key[0]
    ids = f"SELECT {'message_id' if table == 'messages' else 'NULL AS message_id'} FROM {moved}"
    forget_rows(con, table, f"{key} IN (SELECT {key} FROM {moved})", ids)
    forget_scores(con, store.ENRICH_SOURCES[table][0], f"SELECT {key} FROM {moved}", ids)


def forget_scores(con: duckdb.DuckDBPyConnection, item_type: str, ids: str, message_ids: str) -> None:
    """Delete the scores (:data:`analysis.schema.TEXT_SCORES`) of the items of ``item_type`` whose ids the
    query ``ids`` lists, with :func:`forget_rows` (``message_ids``: the messages to recount)."""
    for score_table, type_col, id_col in schema.TEXT_SCORES:
        if type_col is None and item_type != "message":
            continue
        of_type = f"{type_col} = '{item_type}' AND " if type_col else ""
        forget_rows(con, score_table, f"{of_type}{id_col} IN ({ids})", message_ids)


def source_counts(con: duckdb.DuckDBPyConnection) -> list[int]:
    return list(con.execute("SELECT " + ", ".join(f"(SELECT count(*) FROM {t})" for t in SOURCES)).fetchone())


# A read-only connection sees one published copy for its whole life, so whether its derived tables are
# current cannot change under it: asked once per connection. Seven row counts each time (5–8 ms at 1 M
# messages), asked by most read models, 18 times by one monthly report.
_CURRENT: weakref.WeakKeyDictionary[duckdb.DuckDBPyConnection, bool] = weakref.WeakKeyDictionary()


def current(con: duckdb.DuckDBPyConnection) -> bool:
    """Whether the derived tables describe the message tables as they are now: the refresh's state row
    matches the tables' row counts (a migration that adds a derived table deletes it: its session rebuilds)."""
    known = _CURRENT.get(con)
    if known is not None:
        return known
    try:
        row = con.execute(f"SELECT {', '.join(SOURCES)} FROM derived_state WHERE name = 'daily'").fetchone()
        ok = row is not None and list(row) == source_counts(con) and not touched(con)
    except (duckdb.CatalogException, duckdb.BinderException):  # no state table, or one from before a source
        ok = False
    if con.execute("SELECT current_setting('access_mode')").fetchone()[0] == "read_only":
        _CURRENT[con] = ok
    return ok


def touched(con: duckdb.DuckDBPyConnection) -> bool:
    """Whether messages wait to be recounted (:func:`forget_rows`); a store from before the table: no."""
    try:
        return con.execute("SELECT count(*) > 0 FROM derived_touched").fetchone()[0]
    except duckdb.CatalogException:
        return False


def current_table(con: duckdb.DuckDBPyConnection, table: str, column: str | None = None) -> bool:
    """:func:`current`, and the store has ``table`` (and its ``column``): a store written before the
    migration that creates it lacks it until its next write session."""
    return current(con) and con.execute(
        "SELECT count(*) FROM duckdb_columns() WHERE table_name = ? AND schema_name = 'main' "
        "AND (?::VARCHAR IS NULL OR column_name = ?)", [table, column, column]).fetchone()[0] > 0


def whole_days(*bounds: object) -> bool:
    """Every bound set and a whole day (a date, not an instant): the grain of the daily tables."""
    return all(isinstance(b, date) and not isinstance(b, datetime) for b in bounds)


def _whole_days(f: Filters) -> bool:
    return whole_days(f.start, f.end)


def usable(con: duckdb.DuckDBPyConnection, f: Filters, table: str | None = None, column: str | None = None) -> bool:
    """Whether ``f`` can be answered from the daily tables (whole days, tables current), and from
    ``table`` (its ``column``) when given (:func:`current_table`: a store may predate the migration
    that creates it)."""
    return _whole_days(f) and (current_table(con, table, column) if table else current(con))


def sentiment_counts(con: duckdb.DuckDBPyConnection, f: Filters) -> pd.DataFrame:
    """Per territory of ``f``: the counts of :func:`analysis.ereputation._counts` grouped by
    territory, summed from ``daily_sentiment``."""
    w, params = f.where("", ts="day")
    sums = ", ".join(f"sum({c})::BIGINT AS {c}" for c in COUNT_COLUMNS)
    df = con.execute(f"SELECT territory_id, {sums} FROM daily_sentiment WHERE {w} GROUP BY ALL ORDER BY ALL",
                     params).df()
    for c in COUNT_COLUMNS:
        df[c] = df[c].astype("int64")
    return df

