"""The rebuild of the derived tables (:mod:`analysis.derived`) and the write session that ends with it.

The store imports no domain module: :func:`analysis.store.writer` takes the rebuild as an argument.
:func:`writer` is that session with the rebuild passed in — what the CLI, the app and the demo open
for every write. A session opened without it (``store.writer()``) marks the derived tables stale,
so readers compute from the message tables instead (same figures, slower).
"""

from __future__ import annotations

import logging
import os
from collections.abc import Iterator
from contextlib import contextmanager

import duckdb
import pandas as pd

from analysis import ereputation, store
from analysis.derived import COUNT_COLUMNS, source_counts
from analysis.moderation.responsiveness import incoming_sql
from analysis.queries import Filters

log = logging.getLogger(__name__)


def refresh(con: duckdb.DuckDBPyConnection) -> None:
    """Rebuild the derived tables from the message tables, in one transaction."""
    con.execute("SELECT 1").fetchall()  # ends a result the session left unread (register() fails after one)
    sent = ereputation._counts(con, Filters(), {"territory_id": "territory_id", "platform": "platform"}, "day")
    sent = sent.rename(columns={"period": "day"})
    sent["day"] = pd.to_datetime(sent["day"]).dt.date
    counts = source_counts(con)
    with store.transaction(con):
        con.execute("DELETE FROM derived_state")
        con.execute("DELETE FROM daily_sentiment")
        con.execute("DELETE FROM incoming_messages")
        con.execute(f"INSERT INTO incoming_messages {incoming_sql()}")
        con.register("_daily_sent", sent)
        try:
            con.execute(f"INSERT INTO daily_sentiment SELECT territory_id, platform, day, "
                        f"{', '.join(COUNT_COLUMNS)} FROM _daily_sent")
        finally:
            con.unregister("_daily_sent")
        con.execute(f"INSERT INTO derived_state VALUES ('daily', now()::TIMESTAMP, {', '.join('?' for _ in counts)})",
                    counts)


def refresh_or_clear(con: duckdb.DuckDBPyConnection) -> None:
    """:func:`refresh`; on failure the state row is removed (readers then compute from the
    message tables) and the error logged: the write session's own data stays committed."""
    try:
        refresh(con)
    except Exception as e:  # noqa: BLE001 - whatever the cause, the session's data must be published
        log.warning("Agrégats quotidiens non reconstruits : %s", e)
        try:
            con.execute("DELETE FROM derived_state")
        except duckdb.Error:
            pass


@contextmanager
def writer(path: str | os.PathLike | None = None, *, compact: bool = False) -> Iterator[duckdb.DuckDBPyConnection]:
    """:func:`analysis.store.writer` with the derived tables rebuilt before publishing, so readers
    always see them current."""
    with store.writer(path, compact=compact, refresh=refresh_or_clear) as con:
        yield con
