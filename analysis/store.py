"""The only module that talks to DuckDB: connect, migrate, upsert, publish, snapshot.

One writer at a time (the CLI). DuckDB locks a database file for a writing process, so
readers (the app, notebooks, reports) never open the writer's file: every writer session
ends by *publishing* a consistent copy (``<db>.read``) with an atomic rename, and readers
open that copy read-only. A running app therefore keeps serving during an import and sees
the new data as soon as the import has committed and published.
"""

from __future__ import annotations

import fcntl
import hashlib
import logging
import os
import shutil
import struct
import time
import uuid
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from pathlib import Path
from typing import Any, TypeVar

import duckdb
import pandas as pd
import pyarrow as pa

from analysis import schema

REPO_ROOT = Path(__file__).resolve().parents[1]
DEFAULT_DB = REPO_ROOT / "data" / "vigie.duckdb"


def db_path(path: str | os.PathLike | None = None) -> Path:
    """Resolve the store path: explicit argument, else ``$VIGIE_DB``, else ``data/vigie.duckdb``."""
    if path is None:
        path = os.environ.get("VIGIE_DB") or DEFAULT_DB
    return Path(path).expanduser().resolve()


def read_path(path: str | os.PathLike | None = None) -> Path:
    """Path of the published read copy of the store."""
    p = db_path(path)
    return p.with_name(p.name + ".read")


class StoreMissing(FileNotFoundError):
    """Raised when a reader asks for a store that has not been built."""


class StoreBusy(duckdb.IOException):
    """Another writer (an import, an enrichment, a correction from the app) holds the store.

    A subclass of ``duckdb.IOException`` so that callers catching DuckDB's own lock error keep
    working; the message is French and says what to do."""


def _busy(p: Path, detail: str = "") -> StoreBusy:
    return StoreBusy(f"Base occupée : une autre commande `vigie` (import, enrichissement, effacement…) ou une "
                     f"correction depuis l'application écrit en ce moment dans {p}. Rien n'a été modifié ; "
                     f"réessayez quand elle sera terminée.{(' (' + detail + ')') if detail else ''}")


def connect(path: str | os.PathLike | None = None, read_only: bool = False) -> duckdb.DuckDBPyConnection:
    """Open the store.

    ``read_only=True`` opens the published copy (falls back to the main file when no copy
    exists yet). A writable connection creates the file and applies pending migrations.
    """
    p = db_path(path)
    if read_only:
        rp = read_path(p)
        target = rp if rp.exists() else p
        if not target.exists():
            raise StoreMissing(
                f"Aucune base Vigie à {p}. Lancez `vigie demo` ou `vigie import FICHIER…` d'abord."
            )
        return duckdb.connect(str(target), read_only=True)
    p.parent.mkdir(parents=True, exist_ok=True)
    try:
        con = duckdb.connect(str(p))
    except duckdb.IOException as e:
        if "lock" in str(e).lower():  # another process holds DuckDB's write lock
            raise _busy(p, str(e).splitlines()[0][:300]) from e
        raise
    migrate(con)
    return con


# Copies of the store Vigie writes beside it, by name: the publish's temporary copy (a full store,
# renamed onto ``<db>.read`` at the end) and the app's hard links to the read copy (``data._Pooled``,
# unlinked a few milliseconds after they are made). A kill -9 at the wrong instant leaves them.
TMP_COPY_GLOB = ".read.*.tmp"
COMPACT_GLOB = ".compact.*.tmp*"  # a rewrite (erasure, purge) interrupted: the new file and its WAL
LINK_GLOB = ".read.*.lnk"
LINK_GRACE_SECONDS = 60.0  # a link younger than this may belong to an app opening it right now


def stale_copies(path: str | os.PathLike | None = None) -> list[Path]:
    """Temporary copies of the store left behind by an interrupted publish (``<db>.read.<id>.tmp``)
    or rewrite (``<db>.compact.<id>.tmp``), DuckDB's spill files (``<db>.tmp/duckdb_temp_*``) and
    app hard links older than a minute (``<db>.read.<pid>.<id>.lnk``): copies of the store's
    content that nothing reads. Only safe to delete while holding the writer lock (:func:`writer`):
    then no publish is in progress."""
    p = db_path(path)
    if not p.parent.exists():
        return []
    now = time.time()
    found = sorted(p.parent.glob(p.name + TMP_COPY_GLOB)) + sorted(p.parent.glob(p.name + COMPACT_GLOB))
    # DuckDB's spill files of an import killed under its memory cap (it deletes them on a clean close)
    found += sorted(p.with_name(p.name + ".tmp").glob("duckdb_temp_*"))
    for link in sorted(p.parent.glob(p.name + LINK_GLOB)):
        try:
            # ctime: set when the link is made (an mtime is the read copy's, shared by every link)
            if now - link.lstat().st_ctime > LINK_GRACE_SECONDS:
                found.append(link)
        except FileNotFoundError:  # unlinked by its app meanwhile
            pass
    return [f for f in found if f.is_file()]


def remove_stale_copies(path: str | os.PathLike | None = None) -> list[Path]:
    """Delete :func:`stale_copies`; return what was deleted. Called by every :func:`writer` at start."""
    gone = []
    for f in stale_copies(path):
        try:
            f.unlink()
            gone.append(f)
        except FileNotFoundError:
            pass
    return gone


@contextmanager
def _writer_lock(p: Path) -> Iterator[None]:
    """Exclusive lock of the writer session on ``<db>.lock`` (``flock``), from opening the store to
    the end of its publish: DuckDB's own lock is released at ``close()``, before the copy is
    published, and a second writer must neither write into the file being copied nor delete the
    copy in progress. Not blocking: a second writer fails at once with :class:`StoreBusy`. The lock
    dies with its process (kill -9 included); the empty ``.lock`` file stays."""
    p.parent.mkdir(parents=True, exist_ok=True)
    fd = os.open(p.with_name(p.name + ".lock"), os.O_RDWR | os.O_CREAT, 0o600)
    try:
        try:
            fcntl.flock(fd, fcntl.LOCK_EX | fcntl.LOCK_NB)
        except BlockingIOError as e:
            raise _busy(p) from e
        yield
    finally:
        os.close(fd)  # releases the lock


def file_stamp(p: Path) -> tuple[int, int] | None:
    """(size, mtime in ns) of a file, None when absent: whether a file changed (a session wrote into
    the store, the pseudonymisation key file was replaced)."""
    try:
        st = p.stat()
    except FileNotFoundError:
        return None
    return st.st_size, st.st_mtime_ns


def published(path: str | os.PathLike | None = None) -> bool:
    """Whether ``<db>.read`` is a copy of the store as it is: made after the store's last write
    (a copy's time is when it was made), same size. False when a publish was interrupted."""
    p = db_path(path)
    main, read = file_stamp(p), file_stamp(read_path(p))
    return main is not None and read is not None and read[0] == main[0] and read[1] >= main[1]


def prev_path(path: str | os.PathLike | None = None) -> Path:
    """Path of the read copy before the last publish (``<db>.read.prev``), kept to be patched into the next one."""
    rp = read_path(path)
    return rp.with_name(rp.name + ".prev")


PATCH_CHUNK = 1 << 18  # DuckDB's block (256 KB): bytes compared at once; one new day touches few blocks


def _lock_unused(p: Path) -> int | None:
    """A read-write descriptor of ``p`` holding an exclusive lock, or None when someone may read it.

    DuckDB holds a lock on every file it has open, read-only included; an open-file-description lock
    (``F_OFD_SETLK``) conflicts with it even inside this process. A second name (an app's or a
    notebook's hard link, made just before it opens the file) also says the file may be read."""
    try:
        fd = os.open(p, os.O_RDWR)
    except OSError:
        return None
    try:
        if os.fstat(fd).st_nlink != 1:
            raise BlockingIOError
        fcntl.fcntl(fd, fcntl.F_OFD_SETLK, struct.pack("hhqqi", fcntl.F_WRLCK, os.SEEK_SET, 0, 0, 0))
    except OSError:
        os.close(fd)
        return None
    return fd


def _patch(src: Path, fd: int) -> int:
    """Make the file open on ``fd`` byte-for-byte equal to ``src``, writing only the chunks that differ;
    return the bytes written."""
    size = src.stat().st_size
    a, b = bytearray(PATCH_CHUNK), bytearray(PATCH_CHUNK)
    written = off = 0
    with open(src, "rb", buffering=0) as f:
        while off < size:
            n = f.readinto(a)
            if n <= 0:
                break
            m = os.preadv(fd, [b], off)
            same = (a == b) if n == m == PATCH_CHUNK else (n == m and a[:n] == b[:n])
            if not same:
                os.pwrite(fd, memoryview(a)[:n], off)
                written += n
            off += n
    os.ftruncate(fd, size)
    os.utime(fd)  # a copy's time is when it was made (:func:`published`)
    return written


def publish(path: str | os.PathLike | None = None, *, keep_previous: bool = True) -> Path:
    """Make ``<db>.read`` a copy of the (closed) writer file, atomically, so readers see the new state.

    A reader must never see a file being written, so the new copy is always a file nobody reads,
    renamed onto ``<db>.read``. That file is the copy before last (``<db>.read.prev``) patched with
    only the bytes that changed when nobody has it open (:func:`_lock_unused`): after one new day in a
    1 M-message store, a few megabytes instead of the whole 480 MB (ext4 has no reflink). Otherwise a
    full copy. The copy replaced becomes ``<db>.read.prev``.

    ``keep_previous=False`` (erasure, purge: :func:`writer` with ``compact``) deletes ``<db>.read.prev``
    and keeps no old copy, so that no byte of a deleted row stays beside the store. :func:`writer`
    skips the publish when the session wrote nothing."""
    p = db_path(path)
    rp, prev = read_path(p), prev_path(p)
    tmp = rp.with_name(rp.name + f".{uuid.uuid4().hex[:8]}.tmp")
    old = rp.with_name(rp.name + f".{uuid.uuid4().hex[:8]}.tmp")
    fd = _lock_unused(prev) if keep_previous and rp.exists() else None
    try:
        if fd is not None:
            try:
                _patch(p, fd)
            finally:
                os.close(fd)
            os.replace(prev, tmp)  # nobody can open it by a name meanwhile
        else:
            shutil.copyfile(p, tmp)
        try:
            if not (keep_previous and rp.exists()):
                raise FileNotFoundError
            os.link(rp, old)  # the copy readers have now: the next publish patches it
        except OSError:  # nothing to keep, or no hard links on this file system: no old copy kept
            prev.unlink(missing_ok=True)
        os.replace(tmp, rp)
        if keep_previous and old.exists():
            os.replace(old, prev)
    finally:  # an exception (disk full…) leaves no partial copy; a kill -9 is cleaned by the next writer
        tmp.unlink(missing_ok=True)
        old.unlink(missing_ok=True)
    return rp


def rewrite(path: str | os.PathLike | None = None) -> Path:
    """Rewrite the (closed) store into a fresh file and put it in place of the old one.

    DuckDB marks deleted rows but leaves their bytes in the file (a table's block keeps the text
    of an erased message; freed blocks are not zeroed): only a new file has none of them. Used by
    erasure and purge (``writer(compact=True)``): 2 s for the 120 MB demo store."""
    p = db_path(path)
    tmp = p.with_name(p.name + f".compact.{uuid.uuid4().hex[:8]}.tmp")
    try:
        con = duckdb.connect(str(p))
        try:
            name = con.execute("SELECT current_database()").fetchone()[0]
            con.execute(f"ATTACH '{tmp}' AS vigie_compact")
            con.execute(f"COPY FROM DATABASE {_q(name)} TO vigie_compact")
            con.execute("DETACH vigie_compact")
        finally:
            con.close()
        os.replace(tmp, p)
    finally:
        tmp.unlink(missing_ok=True)
        tmp.with_name(tmp.name + ".wal").unlink(missing_ok=True)
    return p


@contextmanager
def writer(path: str | os.PathLike | None = None, *, compact: bool = False,
           refresh: Callable[[duckdb.DuckDBPyConnection], None] | None = None,
           timings: dict[str, float] | None = None) -> Iterator[duckdb.DuckDBPyConnection]:
    """A writable connection that is checkpointed, closed and published on exit.

    ``refresh(con)`` runs first, under the import's memory cap: the caller passes the rebuild of the
    derived tables (:func:`analysis.derived_refresh.writer` does), since the store imports no domain
    module. Without it the derived tables are marked stale (their state row removed), so readers
    compute from the message tables rather than read aggregates of the tables as they were.

    A session that wrote nothing is not published again (:func:`published`: the copy is current).

    The whole session holds the writer lock (:func:`_writer_lock`): a second writer gets
    :class:`StoreBusy` at once, and the copies an interrupted publish left are deleted first.
    ``compact=True`` (erasure, purge) rewrites the file before publishing it (:func:`rewrite`), so
    that no byte of a deleted row remains in the store or its read copy.

    ``timings``, when given, receives the wall seconds of the session's closing steps (``refresh``,
    ``checkpoint``, ``rewrite``, ``publish``): what ``make bench`` reports for one new day."""
    p = db_path(path)
    t = timings if timings is not None else {}
    with _writer_lock(p):
        before = file_stamp(p)
        con = connect(p)
        try:
            remove_stale_copies(p)
            yield con
            # under the import's memory cap: a rebuild after a 1 GB import otherwise took the peak
            # from 0,82 to 1,2 GB (benchmarks/bench_import_memory.py --mb 1024), for no time saved
            t0 = time.perf_counter()
            if refresh is not None:
                with bounded_memory(con):
                    refresh(con)
            else:
                _mark_derived_stale(con)
            t["refresh"], t0 = time.perf_counter() - t0, time.perf_counter()
            con.execute("CHECKPOINT")
            t["checkpoint"] = time.perf_counter() - t0
        finally:
            con.close()
        t0 = time.perf_counter()
        if compact:
            rewrite(p)
            t["rewrite"], t0 = time.perf_counter() - t0, time.perf_counter()
        # a session that wrote nothing (a collection run that found nothing new) leaves the file
        # untouched: its published copy is still the store, no 480 MB copy at 1 M messages
        if compact or before is None or file_stamp(p) != before or not published(p):
            publish(p, keep_previous=not compact)
        t["publish"] = time.perf_counter() - t0


def _mark_derived_stale(con: duckdb.DuckDBPyConnection) -> None:
    try:
        con.execute("DELETE FROM derived_state")
    except duckdb.CatalogException:  # a store older than the derived tables
        pass


@contextmanager
def reader(path: str | os.PathLike | None = None) -> Iterator[duckdb.DuckDBPyConnection]:
    """A short-lived read-only connection on the published copy."""
    con = connect(path, read_only=True)
    try:
        yield con
    finally:
        con.close()


def migrate(con: duckdb.DuckDBPyConnection) -> int:
    """Apply pending migrations; return the schema version now in force."""
    con.execute(
        "CREATE TABLE IF NOT EXISTS schema_migrations (version INTEGER PRIMARY KEY, applied_at TIMESTAMP)"
    )
    done = {r[0] for r in con.execute("SELECT version FROM schema_migrations").fetchall()}
    for version, statements in schema.MIGRATIONS:
        if version in done:
            continue
        with transaction(con):
            for stmt in statements:
                con.execute(stmt)
            con.execute(
                "INSERT INTO schema_migrations VALUES (?, now()::TIMESTAMP)", [version]
            )
    return max([v for v, _ in schema.MIGRATIONS] + [0])


@contextmanager
def transaction(con: duckdb.DuckDBPyConnection) -> Iterator[duckdb.DuckDBPyConnection]:
    """BEGIN … COMMIT, or ROLLBACK on any exception: all or nothing."""
    con.execute("BEGIN TRANSACTION")
    try:
        yield con
    except BaseException:
        con.execute("ROLLBACK")
        raise
    con.execute("COMMIT")


# DuckDB's own memory during a big import. Without a cap the rows of the open transaction stay
# in memory (about 0,5 KiB per row); under it DuckDB writes them out to the store file (or
# ``<db>.tmp``). Measured with benchmarks/bench_import_memory.py: 512 MB keeps a 1 GB import
# under 1 GB of RSS; 128 MB made a 1 GB import fail.
IMPORT_MEMORY_LIMIT = os.environ.get("VIGIE_IMPORT_MEMORY_LIMIT", "512MB")
# DuckDB's memory for the passes over the whole store: an enrichment (analysis.enrich), a rebuild of
# the derived tables that did not fit under the import's cap. Above it DuckDB spills to ``<db>.tmp``.
# 10 M messages (make bench-10m): an enrichment peaked at 5,9 GB of RSS, 3,3 GB under it; a full
# rebuild failed under 512 MB after 115 s and, run again without any cap, peaked at 9,5 GB — under
# this one 2,4 GB, 72 s.
PASS_MEMORY_LIMIT = os.environ.get("VIGIE_PASS_MEMORY_LIMIT", "2GB")


@contextmanager
def bounded_memory(con: duckdb.DuckDBPyConnection, limit: str | None = None) -> Iterator[duckdb.DuckDBPyConnection]:
    """Cap DuckDB's memory (``memory_limit``) for the block, then restore the previous setting.

    Enter it outside :func:`transaction`: settings cannot change in an aborted transaction."""
    before = con.execute("SELECT current_setting('memory_limit')").fetchone()[0]
    con.execute(f"SET memory_limit = '{limit or IMPORT_MEMORY_LIMIT}'")
    try:
        yield con
    finally:
        con.execute("RESET memory_limit")  # the default (80 % of RAM), unless a caller had set one
        if con.execute("SELECT current_setting('memory_limit')").fetchone()[0] != before:
            con.execute(f"SET memory_limit = '{before}'")


_T = TypeVar("_T")


def retry_out_of_memory(con: duckdb.DuckDBPyConnection, work: Callable[[], _T], larger: tuple[str | None, ...],
                        what: str, log: logging.Logger) -> _T:
    """``work()`` under the connection's memory cap; when DuckDB runs out of it, ``work()`` again under
    each cap of ``larger`` in turn (None: no cap) until one fits, each step logged in French (« {what} :
    mémoire plafonnée à … insuffisante, nouvel essai … »). Call it inside a :func:`bounded_memory` block,
    which puts the session's setting back."""
    for cap in larger:
        try:
            return work()
        except duckdb.OutOfMemoryException as e:
            now = con.execute("SELECT current_setting('memory_limit')").fetchone()[0]
            log.info("%s : mémoire plafonnée à %s insuffisante (%s), nouvel essai %s", what, now,
                     str(e).splitlines()[0], f"sous {cap}" if cap else "sans plafond")
            con.execute(f"SET memory_limit = '{cap}'" if cap else "RESET memory_limit")
    return work()


def drop_orphan_text_keys(con: duckdb.DuckDBPyConnection, texts: str) -> None:
    """Delete the stored lemma keys (``text_keys``, which keep a copy of each text) of the texts of
    ``texts`` (a query with a ``text`` column) that no message holds any more: a message erased,
    deleted by its author or edited must not leave its old text behind."""
    # the texts still held are looked up among the few given (a hash of a million texts cost 0,1 s)
    gone = con.execute(f"DELETE FROM text_keys WHERE text IN (SELECT text FROM ({texts})) AND text NOT IN "
                       f"(SELECT text FROM messages WHERE text IN (SELECT text FROM ({texts}))) RETURNING 0, 0").fetchall()
    forget_marked(con, "text_keys", gone)


def _arrow_column(col: Any) -> pd.Series | None:
    """One column of :func:`frame` as ``.df()`` would give it, straight from Arrow; None for a type whose
    conversion differs (dates, decimals, lists, time zones, text of NULLs only: left to ``.df()``)."""
    t = col.type
    if (pa.types.is_string(t) or pa.types.is_large_string(t)) and col.null_count == len(col):
        return None  # text of NULLs only: .df() gives an object column of None, not pandas' string type
    if pa.types.is_string(t) or pa.types.is_large_string(t) or pa.types.is_floating(t) or (
            pa.types.is_timestamp(t) and t.tz is None):
        return col.to_pandas()
    if pa.types.is_integer(t):  # a NULL makes .df() return a nullable integer (Int64, Int32…), not floats
        return col.to_pandas() if not col.null_count else col.to_pandas(
            types_mapper=lambda _: pd.api.types.pandas_dtype(str(t).replace("uint", "UInt").replace("int", "Int")))
    if pa.types.is_boolean(t):
        return col.to_pandas() if not col.null_count else col.to_pandas(types_mapper=lambda _: pd.BooleanDtype())
    return None


def frame(con: duckdb.DuckDBPyConnection, sql: str, params: list | tuple = ()) -> pd.DataFrame:
    """``con.execute(sql, params).df()``, read through Arrow: a text column goes from Arrow's buffers into
    pandas' string type at once, where ``.df()`` first builds a Python string per value and pandas then
    copies them back into Arrow (the official posts of five territories at 1 M messages: 105 → 50 ms).
    Same columns, dtypes and values as ``.df()``, which converts an empty result and any column of another
    type (dates, decimals, lists, time zones)."""
    # con.sql() is refused while an earlier execute() is not read to its end (a fetchone()): run that one
    # out first (nothing to do, 0,00 ms, when there is none; execute() too let it go before .df())
    con.complete()
    t = con.sql(sql, params=list(params)).to_arrow_table()
    t = t.combine_chunks()  # one chunk per column, as .df() gives: pandas reads a chunked column slower
    cols = {name: _arrow_column(col) for name, col in zip(t.column_names, t.columns, strict=True)}
    if not t.num_rows or any(c is None for c in cols.values()) or len(set(t.column_names)) < len(t.column_names):
        return con.from_arrow(t).df()  # .df() types an empty text column as object, not str
    return pd.DataFrame(cols, index=pd.RangeIndex(t.num_rows))


def has_table(con: duckdb.DuckDBPyConnection, name: str) -> bool:
    """Whether the store holds table ``name`` (one a migration not yet run may lack)."""
    return bool(con.execute("SELECT 1 FROM duckdb_tables() WHERE table_name = ? AND database_name = current_database()",
                            [name]).fetchall())


# A sum of row hashes kept in a BIGINT column (derived_state, enrich_marks): modulo a prime below 2^63.
FINGERPRINT_MOD = 9_223_372_036_854_775_783
# The source tables of an enrichment pass (analysis.enrich): their item type and key (the tasks' sources). The fingerprint of
# the key and text of the rows a pass scored (enrich_marks) says whether one of them changed since.
ENRICH_SOURCES = {"messages": ("message", "message_id"), "posts": ("post", "post_id")}


def marked_hash(table: str) -> str:
    """SQL of the hash of a source row's key and text: the rows' fingerprint in ``enrich_marks``."""
    return f"hash({ENRICH_SOURCES[table][1]}, text)"


def forget_marked(con: duckdb.DuckDBPyConnection, table: str, rows: list[tuple[int, int]]) -> None:
    """Keep the enrichment marks (``enrich_marks``) true after a path that knows what it deleted took
    ``rows`` out of ``table``: ``(rowid, its marked_hash)`` of each row of a source
    table (those at or below a mark leave its count and fingerprint), one entry per row of a result table
    (they leave its row count). A deletion made otherwise makes the next pass look at every row again."""
    if not rows or not has_table(con, "enrich_marks"):
        return
    fp = FINGERPRINT_MOD
    if table in ENRICH_SOURCES:
        for task, top in con.execute("SELECT task, top FROM enrich_marks WHERE source = ?", [table]).fetchall():
            below = [h for r, h in rows if r <= top]
            if below:
                con.execute(f"UPDATE enrich_marks SET source_rows = source_rows - ?, fingerprint = "
                            f"(((fingerprint::HUGEINT - ?::HUGEINT) % {fp} + {fp}) % {fp})::BIGINT "
                            "WHERE task = ? AND source = ?", [len(below), sum(below) % fp, task, table])
    con.execute("UPDATE enrich_marks SET result_rows = result_rows - ? WHERE results = ?", [len(rows), table])


def insert_row(con: duckdb.DuckDBPyConnection, table_name: str, row: dict[str, Any]) -> None:
    """Insert one row whose key is new (a lineage row under a fresh id): one parameterised INSERT,
    about 0,9 ms where :func:`upsert` of a one-row frame costs 5,4 ms (27 files of a day: 0,12 s).
    A key already stored raises, as the table's primary key says."""
    t = schema.table(table_name)
    unknown = [c for c in row if c not in t.column_names]
    if unknown:
        raise ValueError(f"Colonnes inconnues pour {table_name}: {unknown}")
    cols = ", ".join(_q(c) for c in row)
    con.execute(f"INSERT INTO {t.name} ({cols}) VALUES ({', '.join('?' for _ in row)})", list(row.values()))


def _q(name: str) -> str:
    return '"' + name.replace('"', '""') + '"'


# Frames of at most this many distinct string keys look them up in the table's primary key before
# inserting (DuckDB answers an IN list from the key's index up to ``index_scan_max_count`` rows).
PROBE_MAX_KEYS = 512


def upsert(con: duckdb.DuckDBPyConnection, table_name: str, df: pd.DataFrame, *,
           stage: bool = True, text_changed: list | None = None,
           relocate: Callable[[duckdb.DuckDBPyConnection, str], Any] | None = None,
           in_place: tuple[str, ...] = ()) -> tuple[int, int]:
    """Insert new rows and update existing ones of ``table_name`` from ``df``.

    Columns of the table absent from ``df`` are left untouched (NULL for new rows). A value
    that is NULL in ``df`` never erases a stored value (missing is not zero, and not a
    deletion either). Rows are matched on the table key; duplicates in ``df`` keep the last.
    Returns ``(inserted, updated)`` where *updated* counts rows whose stored values changed,
    so re-importing the same data returns ``(0, 0)``.

    ``stage=False`` (a big file imported chunk by chunk in one transaction) reads ``df`` in each
    statement instead of staging its cast, de-duplicated rows once in a temporary table: slower
    (the rows are prepared twice), but nothing stays in memory until COMMIT.

    ``text_changed`` (a list): receives ``(key, old text)`` for every stored row whose ``text`` this
    call replaces with another (an edited message): what was computed from the old text is stale.
    Checked only when some keys were stored already (a file of new rows pays nothing).

    ``relocate(con, moved)``: the stored rows whose changed columns are none of ``in_place`` are
    moved to the table's end instead of updated in place: their new rows (every column, the stored
    values where ``df`` has none) are staged in the temporary table named ``moved``, ``relocate``
    deletes the stored ones (keyed as in ``moved``), and they are inserted again. DuckDB's CHECKPOINT
    rewrites a whole column of every row group an UPDATE touched (20 edited texts of a 1 M-message
    store, scattered in 8 row groups of 122 880 rows: 0,58–0,78 s), a delete costs it nothing. The
    delete and the insert are two statements: call it inside a transaction (every caller of
    :func:`analysis.ingest.write_parsed` does), so that a failure between them loses no row.
    """
    t = schema.table(table_name)
    if df is None or len(df) == 0:
        return 0, 0
    unknown = [c for c in df.columns if c not in t.column_names]
    if unknown:
        raise ValueError(f"Colonnes inconnues pour {table_name}: {unknown}")
    cols = [c for c in t.column_names if c in df.columns]
    missing_key = [k for k in t.key if k not in cols]
    if missing_key:
        raise ValueError(f"{table_name}: colonnes clés absentes {missing_key}")
    casts = ", ".join(f"CAST({_q(c)} AS {t.column(c).type}) AS {_q(c)}" for c in cols)
    # The DataFrame is read through DuckDB's replacement scan of this local variable, in each
    # statement: no registered view and no staging table. Inside a transaction DuckDB keeps a
    # dropped view (hence the DataFrame) and a dropped temp table until COMMIT, so a file
    # imported in many chunks grew by all its chunks (measured: benchmarks/bench_import_memory).
    _vigie_upsert_src = df[cols].reset_index(drop=True)  # noqa: F841 - read by name in the SQL below
    # DuckDB refuses a Python scan while a previous execute() has unfetched rows (e.g. a
    # caller's fetchone()); running and exhausting a trivial statement releases it.
    con.execute("SELECT 1").fetchall()
    collist = ", ".join(_q(c) for c in cols)
    plain_insert = f"INSERT INTO {t.name} ({collist}) SELECT {casts} FROM _vigie_upsert_src"
    if not t.key:
        return int(con.execute(plain_insert).fetchone()[0]), 0
    keys = ", ".join(_q(k) for k in t.key)
    match = " AND ".join(f"t.{_q(k)} = s.{_q(k)}" for k in t.key)
    watch = text_changed is not None and "text" in cols
    skip_update = False
    if _distinct_string_key(t, _vigie_upsert_src):
        # One statement for what is new (the table's primary key skips what is stored), then the
        # UPDATE only if some keys were stored already: rows just inserted hold the values the
        # UPDATE would set, so it counts none of them. (The checks of _all_new cost more than the
        # INSERT for the small frames of most files: 8 ms of 14 per upsert.)
        key_list = _vigie_upsert_src[t.key[0]].tolist()
        if len(key_list) <= PROBE_MAX_KEYS and not con.execute(
                f"SELECT 1 FROM {t.name} WHERE {_q(t.key[0])} IN ({', '.join('?' for _ in key_list)}) LIMIT 1",
                key_list).fetchall():
            # none stored (the primary key's index answers the list: 2–4 ms): a plain INSERT, where
            # ON CONFLICT costs 5–7 ms more per statement (a day's 28 small frames: 0,1 s)
            return int(con.execute(plain_insert).fetchone()[0]), 0
        inserted = int(con.execute(f"{plain_insert} ON CONFLICT DO NOTHING").fetchone()[0])
        if inserted == len(_vigie_upsert_src):
            return inserted, 0
        skip_update = True
        if watch:
            text_changed += _text_changed(con, t, _vigie_upsert_src, f"(SELECT {casts} FROM _vigie_upsert_src)", match)
    elif _all_new(con, t, _vigie_upsert_src, match):
        # Every key is new and none repeats: the UPDATE would touch nothing and the INSERT take
        # every row, so insert them at once (a third of the time of the staged path, which joins
        # the whole table twice; issue 19).
        return int(con.execute(plain_insert).fetchone()[0]), 0
    # Duplicates in df keep the last row.
    src = (f"(SELECT * EXCLUDE (_rn) FROM (SELECT {casts}, row_number() OVER () AS _rn FROM _vigie_upsert_src) "
           f"QUALIFY row_number() OVER (PARTITION BY {keys} ORDER BY _rn DESC) = 1)")
    stg = f"_stg_{table_name}"
    if stage:  # prepared once for the UPDATE and the INSERT (kept by DuckDB until COMMIT)
        con.execute(f"CREATE OR REPLACE TEMP TABLE {stg} AS SELECT * FROM {src}")
        src = stg
    if watch and not skip_update:
        text_changed += _text_changed(con, t, _vigie_upsert_src, src, match)
    value_cols = [c for c in cols if c not in t.key and c != "import_id"]
    updated = 0
    if value_cols:
        def differs(c: str) -> str:
            return f"(s.{_q(c)} IS NOT NULL AND s.{_q(c)} IS DISTINCT FROM t.{_q(c)})"

        changed = " OR ".join(differs(c) for c in value_cols)
        if relocate is not None:
            updated = _relocate(con, t, _vigie_upsert_src, src, match, changed, value_cols, "import_id" in cols, relocate,
                                " OR ".join(differs(c) for c in value_cols if c in in_place) or "FALSE")
        sets = [f"{_q(c)} = COALESCE(s.{_q(c)}, t.{_q(c)})" for c in value_cols]
        if "import_id" in cols:
            sets.append('"import_id" = s."import_id"')
        updated += con.execute(  # the moved rows hold their new values already: not counted twice
            f"UPDATE {t.name} AS t SET {', '.join(sets)} FROM {src} AS s WHERE {match} AND ({changed})"
        ).fetchone()[0]
    if not skip_update:
        inserted = con.execute(
            f"INSERT INTO {t.name} ({collist}) SELECT {collist} FROM {src} AS s "
            f"WHERE NOT EXISTS (SELECT 1 FROM {t.name} AS t WHERE {match})"
        ).fetchone()[0]
    if stage:
        con.execute(f"DROP TABLE {stg}")
    return int(inserted), int(updated)


def _relocate(con: duckdb.DuckDBPyConnection, t: schema.Table, df: pd.DataFrame, src: str, match: str, changed: str,
              value_cols: list[str], with_import: bool, relocate: Callable[[duckdb.DuckDBPyConnection, str], Any],
              fixed: str) -> int:
    """Move the changed rows of ``t`` none of whose ``fixed`` columns change (:func:`upsert`'s
    ``relocate``; ``src``: a query of ``df``, read under the name ``_vigie_upsert_src``, or a staged
    table); returns how many."""
    _vigie_upsert_src = df  # noqa: F841 - read by name in the SQL below
    moved = f"_vigie_moved_{t.name}"
    merged = [f"COALESCE(s.{_q(c)}, t.{_q(c)}) AS {_q(c)}" for c in value_cols]
    if with_import:
        merged.append('s."import_id" AS "import_id"')
    con.execute(f"CREATE OR REPLACE TEMP TABLE {moved} AS SELECT t.* REPLACE ({', '.join(merged)}) "
                f"FROM {t.name} AS t JOIN {src} AS s ON {match} WHERE ({changed}) AND NOT ({fixed})")
    try:
        n = con.execute(f"SELECT count(*) FROM {moved}").fetchone()[0]
        if n:
            relocate(con, moved)
            con.execute(f"INSERT INTO {t.name} BY NAME SELECT * FROM {moved}")
        return int(n)
    finally:
        con.execute(f"DROP TABLE {moved}")


def _text_changed(con: duckdb.DuckDBPyConnection, t: schema.Table, df: pd.DataFrame, src: str, match: str) -> list:
    """``(key, old text)`` of the stored rows of ``t`` whose text the rows of ``src`` (a query of
    ``df``, read by DuckDB under the name ``_vigie_upsert_src``, or a staged table) replace."""
    _vigie_upsert_src = df  # noqa: F841 - read by name in the SQL below
    keys = ", ".join(f"t.{_q(k)}" for k in t.key)
    rows = con.execute(f"SELECT t.text, {keys} FROM {src} AS s JOIN {t.name} AS t ON {match} "
                       "WHERE s.text IS NOT NULL AND s.text IS DISTINCT FROM t.text").fetchall()
    return [(r[1] if len(t.key) == 1 else r[1:], r[0]) for r in rows]


def _distinct_string_key(t: schema.Table, src: pd.DataFrame) -> bool:
    """Whether ``src``'s one key column is a VARCHAR primary key (:attr:`analysis.schema.Table.indexed`)
    of strings, none missing, none repeated: its cast changes nothing, so what pandas sees is what the
    table's primary key will see."""
    if len(t.key) != 1 or not t.indexed or t.column(t.key[0]).type != "VARCHAR":
        return False
    col = src[t.key[0]]
    return (pd.api.types.infer_dtype(col, skipna=False) == "string" and not col.isna().any()
            and not col.duplicated().any())


def _all_new(con: duckdb.DuckDBPyConnection, t: schema.Table, src: pd.DataFrame, match: str) -> bool:
    """Whether the keys of ``src`` (cast to the table's types) are all present, distinct from each
    other and absent from the table: one pass over the frame's keys, then an anti-join on the key
    columns only."""
    _vigie_upsert_src = src  # noqa: F841 - read by name in the SQL below
    keys = ", ".join(f"CAST({_q(k)} AS {t.column(k).type}) AS {_q(k)}" for k in t.key)
    plain = ", ".join(_q(k) for k in t.key)
    null = " OR ".join(f"{_q(k)} IS NULL" for k in t.key)
    distinct = f"count(DISTINCT ({plain}))" if len(t.key) > 1 else f"count(DISTINCT {plain})"
    if not con.execute(f"SELECT count(*) FILTER ({null}) = 0 AND count(*) = {distinct} "
                       f"FROM (SELECT {keys} FROM _vigie_upsert_src)").fetchone()[0]:
        return False
    return not con.execute(
        f"SELECT 1 FROM (SELECT {keys} FROM _vigie_upsert_src) AS s "
        f"WHERE EXISTS (SELECT 1 FROM {t.name} AS t WHERE {match}) LIMIT 1").fetchall()


def snapshot_hash(con: duckdb.DuckDBPyConnection, tables: list[str] | None = None) -> str:
    """Content hash of the store (order-independent), recorded in reports for reproducibility.

    Each table contributes its row count and the sum of its row hashes; the lineage tables
    (:data:`analysis.schema.LINEAGE_TABLES`) are excluded because they do not change figures, and so are the
    derived ones, rebuilt from the others by every write session.
    """
    names = tables or [t.name for t in schema.TABLES
                       if t.name not in (*schema.LINEAGE_TABLES, *schema.DERIVED_TABLES)]
    # one statement for every table: a query per table cost ≈ 0,8 ms of overhead each, most of the time
    # on small stores (the importers' error checks compare this hash before and after a file)
    rows = con.execute(" UNION ALL ".join(
        f"SELECT {i} AS i, count(*) AS n, coalesce(sum(hash(t))::HUGEINT, 0) AS s FROM {name} AS t"
        for i, name in enumerate(names)) + " ORDER BY i").fetchall()
    h = hashlib.sha256()
    for name, (_i, n, s) in zip(names, rows, strict=True):
        h.update(f"{name}:{n}:{s};".encode())
    return h.hexdigest()[:16]


def pending_tables(con: duckdb.DuckDBPyConnection) -> set[str]:
    """Tables of the schema that a store not yet migrated (a newer Vigie, no write since) lacks because
    the migration creating them has not run: readers count them as empty rather than fail. A table
    missing for another reason (a store from an unreleased schema) still raises."""
    present = {r[0] for r in con.execute("SELECT table_name FROM information_schema.tables "
                                         "WHERE table_schema = 'main'").fetchall()}
    applied = con.execute("SELECT max(version) FROM schema_migrations").fetchone()[0] \
        if "schema_migrations" in present else 0
    return {t.name for t in schema.TABLES if t.name not in present and schema.created_in(t.name) > (applied or 0)}


def table_counts(con: duckdb.DuckDBPyConnection) -> dict[str, int]:
    """Row count of every canonical table (0 for one a migration still to run will create)."""
    pending = pending_tables(con)
    present = [t.name for t in schema.TABLES if t.name not in pending]
    counts = dict(con.execute(" UNION ALL ".join(f"SELECT '{name}', count(*) FROM {name}" for name in present))
                  .fetchall()) if present else {}
    return {t.name: counts.get(t.name, 0) for t in schema.TABLES}
