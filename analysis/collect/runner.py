"""Run connectors over sources and write what they bring through the importers' write path.

Every :class:`~analysis.collect.base.Batch` is written in one transaction together with the
source's new cursor: a crash (or a kill) between two batches leaves the store consistent and the
cursor pointing after the last batch stored, so the next run resumes there. Rows go through
:func:`analysis.ingest.write_parsed` (validation, pseudonymised authors, registry accounts,
upsert that never duplicates and counts only real changes), exactly as an imported file's rows.
"""

from __future__ import annotations

import importlib
import time
import uuid
from collections.abc import Callable, Iterable
from datetime import date, datetime
from types import ModuleType
from typing import Any

import duckdb
import pandas as pd

from analysis import store
from analysis.collect.base import (
    FIRST_RUN_HORIZON,
    REFRESH_WINDOW,
    Batch,
    Source,
    SourceResult,
    StoreView,
    dump_cursor,
    load_cursor,
)
from analysis.collect.http import (
    AuthError,
    CollectError,
    NotFound,
    QuotaExceeded,
    RateLimited,
    now_utc,
    redact,
)
from analysis.ingest import FileResult, ImportFailure, write_parsed
from analysis.ingest.base import Context

# platform -> connector module (each exposes PLATFORM, DEFAULT_API, client(), batches())
CONNECTOR_MODULES: dict[str, str] = {
    "bluesky": "analysis.collect.bluesky",
    "mastodon": "analysis.collect.mastodon",
    "youtube": "analysis.collect.youtube",
    "facebook": "analysis.collect.meta",
    "instagram": "analysis.collect.meta",
    "threads": "analysis.collect.meta",
    "press": "analysis.collect.rss",
    "jetstream": "analysis.collect.jetstream",  # the --follow spool (a Source with option connector=jetstream)
}


def connector(platform: str) -> ModuleType:
    """The connector module of ``platform``; a French error when there is none."""
    mod = CONNECTOR_MODULES.get(platform)
    if mod is None:
        raise CollectError(f"Aucun connecteur pour la plateforme « {platform} » "
                           f"(connecteurs : {', '.join(sorted(set(CONNECTOR_MODULES)))}).")
    return importlib.import_module(mod)


def effective_since(state_newest: datetime | None, since: datetime | None, now: datetime) -> datetime:
    """Oldest creation time a run asks for: ``--since`` when given, else the newest item stored
    minus :data:`REFRESH_WINDOW` (recent counts still move), else :data:`FIRST_RUN_HORIZON` ago."""
    if since is not None:
        return since
    if state_newest is not None:
        return min(state_newest, now) - REFRESH_WINDOW
    return now - FIRST_RUN_HORIZON


def read_state(con: duckdb.DuckDBPyConnection, source: Source) -> tuple[dict | None, datetime | None]:
    """Stored ``(cursor, newest_at)`` of a source (Nones before its first run)."""
    row = con.execute("SELECT cursor, newest_at FROM collect_state WHERE source_id = ?",
                      [source.source_id]).fetchone()
    return (None, None) if row is None else (load_cursor(row[0]), row[1])


def _save_state(con: duckdb.DuckDBPyConnection, source: Source, **values: Any) -> None:
    row = {"source_id": source.source_id, "platform": source.platform, "kind": source.kind,
           "key": source.key, "territory_id": source.territory_id, **values}
    store.upsert(con, "collect_state", pd.DataFrame([row]))


def _texts_changed(con: duckdb.DuckDBPyConnection, parsed_tables: dict[str, pd.DataFrame], now: datetime) -> int:
    """Mark rows whose text differs from the stored one as edited (``edited_at``); return how many.

    Platforms that say when a post was edited (Mastodon's ``edited_at``) set it themselves; the
    others (Bluesky records are replaced in place, YouTube comments change text) are compared."""
    n = 0
    for table, key in (("posts", "post_id"), ("messages", "message_id")):
        df = parsed_tables.get(table)
        if df is None or df.empty or "text" not in df.columns:
            continue
        ids = df[key].dropna().astype(str).tolist()
        stored = dict(con.execute(f"SELECT {key}, text FROM {table} WHERE {key} IN (SELECT unnest(?)) "
                                  "AND text IS NOT NULL", [ids]).fetchall())
        if not stored:
            continue
        old = df[key].map(stored)
        changed = old.notna() & df["text"].notna() & (old != df["text"])
        if changed.any():
            if "edited_at" not in df.columns:
                df["edited_at"] = pd.NaT
            df.loc[changed & df["edited_at"].isna(), "edited_at"] = now
            n += int(changed.sum())
    return n


def _mark_deleted(con: duckdb.DuckDBPyConnection, batch: Batch, now: datetime) -> int:
    """Items found deleted at the source. A post keeps its last metrics (it was published); a
    message deleted by its author loses its text and name — its scores stay in the aggregates."""
    n = 0
    if batch.deleted_posts:
        n += con.execute("UPDATE posts SET deleted_at = ? WHERE post_id IN (SELECT unnest(?)) "
                         "AND deleted_at IS NULL", [now, batch.deleted_posts]).fetchone()[0]
    if batch.deleted_messages:
        con.execute("CREATE OR REPLACE TEMP TABLE _vigie_deleted AS SELECT text FROM messages "
                    "WHERE message_id IN (SELECT unnest(?)) AND deleted_at IS NULL AND text IS NOT NULL",
                    [batch.deleted_messages])
        n += con.execute("UPDATE messages SET deleted_at = ?, text = NULL, author_name = NULL "
                         "WHERE message_id IN (SELECT unnest(?)) AND deleted_at IS NULL",
                         [now, batch.deleted_messages]).fetchone()[0]
        store.drop_orphan_text_keys(con, "SELECT text FROM _vigie_deleted")  # its copy of the text too
        con.execute("DROP TABLE _vigie_deleted")
    return int(n)


def write_batch(con: duckdb.DuckDBPyConnection, source: Source, batch: Batch, ctx: Context,
                res: SourceResult, run_id: str, now: datetime, as_of: date | None = None) -> None:
    """Write one batch and the source's cursor in one transaction; add its counts to ``res``.

    ``as_of`` dates the followers counts of the batch (connectors date them today)."""
    tables = batch.parsed.tables
    if as_of is not None and "audience_followers" in tables:
        tables["audience_followers"] = tables["audience_followers"].assign(date=as_of).drop_duplicates(
            ["account_id", "date"], keep="last")
    fr = FileResult(path=f"api:{source.source_id}")
    with store.transaction(con):
        edited = _texts_changed(con, tables, now)
        write_parsed(con, batch.parsed, ctx, fr, path=f"api:{source.source_id}", keep_going=True,
                     import_id=run_id, log_import=False)
        deleted = _mark_deleted(con, batch, now)
        if batch.cursor is not None or batch.newest_at is not None:
            _, newest = read_state(con, source)
            newest = max([d for d in (newest, batch.newest_at) if d is not None], default=None)
            values: dict[str, Any] = {"newest_at": newest}
            if batch.cursor is not None:
                values["cursor"] = dump_cursor(batch.cursor)
            _save_state(con, source, **values)
    # distinct items received: a pinned post or a reply met twice in one run counts once
    for table, key in (("posts", "post_id"), ("messages", "message_id")):
        if table in tables:
            res.seen.setdefault(table, set()).update(tables[table][key].dropna())
    res.posts = len(res.seen.get("posts", ()))
    res.messages = len(res.seen.get("messages", ()))
    res.inserted += fr.inserted
    res.updated += fr.updated
    res.rejected += fr.rejected
    res.deleted += deleted
    res.edited += edited
    if batch.followers is not None:
        res.followers = batch.followers
    if batch.quota_units:
        res.quota_units = (res.quota_units or 0) + batch.quota_units
    res.notes.extend(n for n in batch.parsed.notes if n not in res.notes)


def collect(con: duckdb.DuckDBPyConnection, sources: Iterable[Source], ctx: Context, *,
            api: str | None = None, since: datetime | None = None, credentials: Any = None,
            sleep: Callable[[float], None] = time.sleep,
            on_source: Callable[[Source, SourceResult], None] | None = None,
            as_of: date | None = None) -> list[SourceResult]:
    """Collect every source in turn; one failing source never stops the others.

    ``api`` replaces the API root of every connector (a proxy, a self-hosted instance, a replay
    server). ``as_of`` is the day the followers counts read are dated (default: the day the
    connector reads them; the demo's replay dates them the day after its period). Returns one
    :class:`SourceResult` per source, also recorded in ``collect_runs``.
    """
    run_id = uuid.uuid4().hex
    results = []
    for source in sources:
        res = SourceResult(platform=source.platform, account=source.key, source_id=source.source_id)
        started = now_utc()
        t0 = time.perf_counter()
        client = None
        try:
            mod = connector(source.option("connector") or source.platform)
            cursor, newest = read_state(con, source)
            client = mod.client(api, credentials, sleep)
            for batch in mod.batches(source, client, cursor, effective_since(newest, since, started), ctx,
                                     StoreView(con)):
                write_batch(con, source, batch, ctx, res, run_id, started, as_of)
        except (RateLimited, QuotaExceeded) as e:  # stopped by a limit: the next run resumes
            res.status, res.error = "partial", str(e)
        except (AuthError, NotFound, CollectError, ImportFailure) as e:
            res.status, res.error = "error", redact(str(e))
        except Exception as e:  # a bug or an unforeseen shape: still located, never a traceback
            res.status = "error"
            res.error = redact(f"{source.platform} « {source.key} » : erreur inattendue ({type(e).__name__}: {e}). "
                               "Les lots déjà écrits sont conservés ; la prochaine collecte reprendra.")
        finally:
            if client is not None:
                res.requests = client.requests
                client.close()
        res.seconds = time.perf_counter() - t0
        _record_run(con, source, res, run_id, started)
        results.append(res)
        if on_source:
            on_source(source, res)
    return results


def _record_run(con: duckdb.DuckDBPyConnection, source: Source, res: SourceResult, run_id: str,
                started: datetime) -> None:
    finished = now_utc()
    with store.transaction(con):
        store.upsert(con, "collect_runs", pd.DataFrame([{
            "run_id": run_id, "source_id": source.source_id, "platform": source.platform,
            "account": source.key, "started_at": started, "finished_at": finished,
            "requests": res.requests, "quota_units": res.quota_units, "posts": res.posts,
            "messages": res.messages, "followers": res.followers, "inserted": res.inserted,
            "updated": res.updated, "deleted": res.deleted, "edited": res.edited, "status": res.status,
            "error": res.error}]))
        values: dict[str, Any] = {"last_run_at": started, "last_error": res.error}
        if res.status == "ok":
            values["last_ok_at"] = finished
        _save_state(con, source, **values)


STATUS_COLUMNS = ["source_id", "platform", "kind", "key", "territory_id", "last_run_at", "last_ok_at", "newest_at",
                  "last_error", "status", "requests", "quota_units", "posts", "messages", "followers", "inserted",
                  "updated", "deleted", "edited", "cursor_age_hours"]


def status(con: duckdb.DuckDBPyConnection) -> pd.DataFrame:
    """Last run of every source: when, what it stored, its error, and the age of its cursor.

    Empty (with the same columns) on a store published before collection existed."""
    has = con.execute("SELECT count(*) FROM duckdb_tables() WHERE table_name = 'collect_state'").fetchone()[0]
    if not has:
        return pd.DataFrame(columns=STATUS_COLUMNS)
    df = con.execute("""
        WITH last AS (
            SELECT * FROM collect_runs QUALIFY row_number() OVER (PARTITION BY source_id ORDER BY started_at DESC) = 1)
        SELECT s.source_id, s.platform, s.kind, s.key, s.territory_id, s.last_run_at, s.last_ok_at,
               s.newest_at, s.last_error, l.status, l.requests, l.quota_units, l.posts, l.messages,
               l.followers, l.inserted, l.updated, l.deleted, l.edited
        FROM collect_state s LEFT JOIN last l USING (source_id)
        ORDER BY s.platform, s.kind, s.key""").df()
    # age of the newest item stored: how stale the source is (computed in UTC, like the store)
    df["cursor_age_hours"] = (pd.Timestamp(now_utc()) - pd.to_datetime(df["newest_at"])).dt.total_seconds() / 3600
    return df
