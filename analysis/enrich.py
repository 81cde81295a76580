"""Enrichment orchestrator: run every registered enricher (sentiment, topics, moderation…).

Each enricher is a module exposing ``enrich(con, progress=None) -> dict`` and is listed in
:data:`ENRICHER_MODULES` as ``(name, module path)``, like ``ADAPTER_MODULES`` for importers.
A module not present yet is reported as skipped, so parts can land independently.

The text models run in **one pass over the distinct texts** (:func:`one_pass`): an enricher
also exposing ``task(con) -> TextTask`` hands over the rows it must (re)score; every distinct
text of those rows is scored once by each model that needs it — comment streams repeat short
replies, and a third of a million distinct texts stand behind a million messages — in worker
processes over chunks of texts, and each chunk's scores are joined back to their rows in SQL
(one ``INSERT … SELECT`` per chunk and table, one transaction each, so an interrupted run
keeps what it finished).
"""

from __future__ import annotations

import importlib
import logging
import multiprocessing
import time
from collections.abc import Callable, Iterator
from typing import Any, Protocol

import duckdb
import numpy as np
import pandas as pd
from threadpoolctl import threadpool_limits

from analysis import store
from analysis.config import worker_processes

ENRICHER_MODULES: list[tuple[str, str]] = [
    ("sentiment", "analysis.sentiment.enrich"),
    ("topics", "analysis.topics.enricher"),
    ("moderation", "analysis.moderation"),
    ("keys", "analysis.topics.keys"),
]
ENGINES = ("local", "dask")
DASK_MODULE = "analysis.distributed"  # exposes run(con, only, scheduler, progress)
# Distinct texts per chunk: one task for a worker process.
CHUNK = 20_000
# Rows (of one table) per write: one transaction each, so an interrupted pass keeps what it wrote.
WRITE_ROWS = 1_000_000
# Worker processes of a pass (default: the cores this process may use); 1 = score in this process.
WORKERS_ENV = "VIGIE_ENRICH_WORKERS"
# Below this many distinct texts a pass scores in this process: starting workers costs more.
MIN_PARALLEL = 30_000
log = logging.getLogger(__name__)


class EngineUnavailable(RuntimeError):
    """The requested engine is not installed in this code base yet."""


class TextTask(Protocol):
    """One enricher's share of a pass over distinct texts (:func:`one_pass`).

    ``items()``: SQL (and its parameters) selecting ``item_type, item_id, text, stale`` — the
    rows to (re)score, ``text`` never NULL (a NULL text is scored as ``''``), ``stale`` true when
    the row's table holds an older result to replace. Optional ``sources`` (source tables, keys of
    :data:`analysis.store.ENRICH_SOURCES`) and ``results`` (the table it writes, one row or more per
    item): with both, a pass marks where it stopped (:class:`_Marks`), and the next one reads only the
    rows above — all of them new, unless the task says otherwise with ``items_above(above)`` (the
    ``items`` of the rows above ``{source table: rowid}``).
    ``score(texts)``: a frame of scores for distinct texts, with a column ``i`` (position in
    ``texts``; several rows may share one). It runs in a worker process: no store access.
    ``write(con, rows, stale)``: insert the scored rows — ``rows`` is an SQL relation of
    ``item_type, item_id, stale`` and the score columns — and delete the stale ones first
    (``stale``: whether the pass has any); called inside a transaction. ``result(con, counts)``: after the last chunk, the enricher's
    result dict, given the number of rows scored per ``item_type``. Optional ``on_progress(done,
    total)``: called after each chunk, beside the French message given to ``progress``.
    """

    name: str
    label: str

    def items(self) -> tuple[str, list]: ...

    def score(self, texts: list[str]) -> pd.DataFrame: ...

    def write(self, con: duckdb.DuckDBPyConnection, rows: str, stale: bool) -> None: ...

    def result(self, con: duckdb.DuckDBPyConnection, counts: dict[str, int]) -> dict: ...


def names() -> list[str]:
    """Names of the registered enrichers."""
    return [n for n, _ in ENRICHER_MODULES]


def run(con: duckdb.DuckDBPyConnection, only: list[str] | str | None = None, engine: str = "local",
        progress: Callable[[str], None] | object | None = None, scheduler: str | None = None,
        timings: dict | None = None) -> dict:
    """Run the selected enrichers (all by default) on a writable connection.

    Returns ``{name: result dict}``; an enricher whose module is absent gets
    ``{'skipped': reason}``. The enrichers exposing ``task`` share one pass over the distinct
    texts (:func:`one_pass`); ``timings`` (optional dict) receives its figures.
    """
    if isinstance(only, str):
        only = [only]
    unknown = sorted(set(only or []) - set(names()))
    if unknown:
        raise ValueError(f"Enrichissement inconnu : {', '.join(unknown)} (connus : {', '.join(names())})")
    if engine not in ENGINES:
        raise ValueError(f"Moteur inconnu : {engine!r} (attendu : {' ou '.join(ENGINES)})")
    if engine == "dask":
        try:
            dask_mod = importlib.import_module(DASK_MODULE)
        except ModuleNotFoundError as e:
            if e.name and DASK_MODULE.startswith(e.name):
                raise EngineUnavailable(
                    "Le moteur dask n'est pas encore disponible dans cette version : utilisez --engine local."
                ) from e
            raise
        return dask_mod.run(con, only=only, scheduler=scheduler, progress=progress)
    results: dict = {}
    tasks: list[TextTask] = []
    for name, path in ENRICHER_MODULES:
        if only and name not in only:
            continue
        try:
            mod = importlib.import_module(path)
        except ModuleNotFoundError as e:
            if e.name and path.startswith(e.name):
                results[name] = {"skipped": f"module {path} absent"}
                continue
            raise
        if hasattr(mod, "task"):
            tasks.append(mod.task(con))
            results[name] = None  # keeps the registry's order
        elif hasattr(mod, "enrich"):
            results[name] = mod.enrich(con, progress=progress)
        else:
            results[name] = {"skipped": f"{path} n'expose pas enrich()"}
    # DuckDB's memory during the pass (its temporary tables of rows and distinct texts, the writes) is
    # the cap of the passes over the whole store; a pass that needs more is run again without any (the
    # batches written stay: an interrupted pass keeps them, the next one scores the rest)
    with store.bounded_memory(con, store.PASS_MEMORY_LIMIT):
        results.update(store.retry_out_of_memory(
            con, lambda: one_pass(con, tasks, progress=progress, timings=timings), (None,), "Enrichissement", log))
    return results


# ------------------------------------------------------------------------------ the pass
def workers() -> int:
    """Worker processes of a pass (:func:`analysis.config.worker_processes`, ``$VIGIE_ENRICH_WORKERS``)."""
    return worker_processes(WORKERS_ENV)


# What the worker processes score: set before they are forked, so they inherit the models and
# the texts instead of receiving them through a pipe (a task is just a range of text codes).
_JOB: dict[str, Any] = {}


def _score_chunk(bounds: tuple[int, int]) -> tuple[int, int, list[pd.DataFrame | None], list[float]]:
    lo, hi = bounds
    texts, masks, tasks = _JOB["texts"], _JOB["masks"], _JOB["tasks"]
    frames: list[pd.DataFrame | None] = []
    cpu: list[float] = []
    for k, t in enumerate(tasks):
        c0 = time.process_time()
        idx = lo + np.flatnonzero(masks[k][lo:hi])
        if len(idx):
            f = t.score([texts[j] for j in idx])
            f["code"] = idx[f.pop("i").to_numpy()].astype(np.int32)
            frames.append(f)
        else:
            frames.append(None)
        cpu.append(time.process_time() - c0)
    return lo, hi, frames, cpu


def _single_thread_blas() -> None:
    # Each worker is one core's worth of work: BLAS threads in each would oversubscribe the machine.
    threadpool_limits(1)


def _scored_chunks(ranges: list[tuple[int, int]], n_workers: int) -> Iterator[tuple]:
    if n_workers <= 1 or len(ranges) <= 1 or "fork" not in multiprocessing.get_all_start_methods():
        yield from map(_score_chunk, ranges)
        return
    pool = multiprocessing.get_context("fork").Pool(min(n_workers, len(ranges)), initializer=_single_thread_blas)
    try:
        yield from pool.imap(_score_chunk, ranges)
        pool.close()
    except BaseException:
        pool.terminate()
        raise
    finally:
        pool.join()


def one_pass(con: duckdb.DuckDBPyConnection, tasks: list[TextTask], progress: Any = None,
             chunk: int | None = None, n_workers: int | None = None, timings: dict | None = None,
             write_rows: int | None = None) -> dict:
    """Score the rows of every task in one pass over their distinct texts; ``{name: result}``.

    Each distinct text is scored once by each task whose rows hold it; chunks of distinct texts
    are scored by ``n_workers`` forked processes (:func:`workers` by default; in this process
    when the pass is small). Scored chunks are written as soon as they cover ``write_rows`` rows
    (:data:`WRITE_ROWS`): one transaction, one ``INSERT … SELECT`` per task joining the scores to
    their rows in SQL (few big transactions: each commit of a keyed table costs more than its rows).
    """
    chunk, write_rows = chunk or CHUNK, write_rows or WRITE_ROWS
    if not tasks:
        return {}
    w0, c0 = time.perf_counter(), time.process_time()
    k_tables = [f"_enrich_rows_{k}" for k in range(len(tasks))]
    con.execute("SELECT 1").fetchall()  # release any unfetched result of the caller
    marks = _Marks(con, tasks)
    for k, t in enumerate(tasks):
        sql, params = marks.items(t)
        con.execute(f"CREATE OR REPLACE TEMP TABLE _enrich_items_{k} AS {sql}", params)
    union = " UNION ALL ".join(f"SELECT DISTINCT text, {k} AS k FROM _enrich_items_{k}" for k in range(len(tasks)))
    flags = ", ".join(f"bool_or(k = {k}) AS m{k}" for k in range(len(tasks)))
    con.execute(f"""CREATE OR REPLACE TEMP TABLE _enrich_texts AS
        SELECT (row_number() OVER (ORDER BY text) - 1)::INTEGER AS code, * FROM (
            SELECT text, {flags} FROM ({union}) GROUP BY text)""")
    for k, table in enumerate(k_tables):
        con.execute(f"""CREATE OR REPLACE TEMP TABLE {table} AS SELECT i.item_type, i.item_id, i.stale, t.code
            FROM _enrich_items_{k} i JOIN _enrich_texts t USING (text)""")
        con.execute(f"DROP TABLE _enrich_items_{k}")
    cols = con.execute(f"SELECT text, {', '.join(f'm{k}' for k in range(len(tasks)))} FROM _enrich_texts "
                       "ORDER BY code").fetchnumpy()
    texts = cols.pop("text").tolist()
    masks = [np.asarray(cols[f"m{k}"], dtype=bool) for k in range(len(tasks))]
    con.execute("DROP TABLE _enrich_texts")
    counts, per_code = [], []
    for table in k_tables:
        counts.append(dict(con.execute(f"SELECT item_type, count(*) FROM {table} GROUP BY 1").fetchall()))
        codes = con.execute(f"SELECT code FROM {table}").fetchnumpy()["code"]
        per_code.append(np.bincount(np.asarray(codes, dtype=np.int64), minlength=len(texts)))
    totals = [sum(c.values()) for c in counts]
    stale = [con.execute(f"SELECT bool_or(stale) FROM {table}").fetchall()[0][0] is True for table in k_tables]
    n = n_workers if n_workers is not None else (workers() if len(texts) >= MIN_PARALLEL else 1)
    ranges = [(lo, min(lo + chunk, len(texts))) for lo in range(0, len(texts), chunk)]
    stats = {t.name: {"score_cpu_s": 0.0, "write_s": 0.0} for t in tasks}
    done = [0] * len(tasks)
    pending: list[list[pd.DataFrame]] = [[] for _ in tasks]
    span = [0, 0]  # codes scored and not written yet
    written = [0.0]  # seconds in write transactions (commits included)

    def flush() -> None:
        w = time.perf_counter()
        lo, hi = span
        with store.transaction(con):
            for k, t in enumerate(tasks):
                if not pending[k]:
                    continue
                wt = time.perf_counter()
                frame = pd.concat(pending[k], ignore_index=True) if len(pending[k]) > 1 else pending[k][0]
                con.register("_enrich_scores", frame)
                try:
                    t.write(con, f"(SELECT r.item_type, r.item_id, r.stale, s.* EXCLUDE (code) FROM {k_tables[k]} r "
                                 f"JOIN _enrich_scores s ON s.code = r.code WHERE r.code >= {lo} AND r.code < {hi})",
                            stale[k])
                finally:
                    con.unregister("_enrich_scores")
                stats[t.name]["write_s"] += time.perf_counter() - wt
        for k, t in enumerate(tasks):
            if pending[k]:
                pending[k].clear()
                done[k] = int(per_code[k][:hi].sum())
                _say(progress, f"{t.label} : {done[k]}/{totals[k]} éléments évalués")
                if getattr(t, "on_progress", None):
                    t.on_progress(done[k], totals[k])
        span[0] = hi
        written[0] += time.perf_counter() - w

    setup_s = time.perf_counter() - w0  # the rows to score and their distinct texts
    _JOB.update(texts=texts, masks=masks, tasks=tasks)
    try:
        for _lo, hi, frames, cpu in _scored_chunks(ranges, n):
            for k, (t, f) in enumerate(zip(tasks, frames, strict=True)):
                stats[t.name]["score_cpu_s"] += cpu[k]
                if f is not None:
                    pending[k].append(f)
            span[1] = hi
            if max(int(per_code[k][span[0]:hi].sum()) for k in range(len(tasks))) >= write_rows:
                flush()
        if span[1] > span[0]:
            flush()
        marks.write(con, tasks)
    finally:
        _JOB.clear()
        for table in k_tables:
            con.execute(f"DROP TABLE IF EXISTS {table}")
    if timings is not None:
        timings.update(wall_s=time.perf_counter() - w0, cpu_s=time.process_time() - c0, setup_s=setup_s,
                       write_s=written[0], workers=n, incremental=sorted(marks.valid),
                       distinct_texts=len(texts), rows=dict(zip([t.name for t in tasks], totals, strict=True)),
                       tasks=stats)
    return {t.name: t.result(con, c) for t, c in zip(tasks, counts, strict=True)}


class _Marks:
    """Where each task's last pass stopped (``enrich_marks``), checked against the store.

    A task's pass scored every row of its source tables up to their highest rowid then. If those rows
    are still the same (count and fingerprint of their key and text: nothing deleted, no text changed in
    place), its result table has the rows the pass left (nothing added, nothing deleted) and the model
    is the same, then every row up to the mark is scored and none above it: rows are appended at a
    table's end, an edited message moves there and its scores go (:func:`analysis.derived.forget_moved`),
    and the paths that delete rows or scores on purpose (:func:`analysis.derived.forget_rows`) keep the
    marks true (:func:`analysis.store.forget_marked`). So the pass reads only the rows above the mark,
    with no anti-join against the scores. Anything else — an erasure, a text updated in place, a pass
    interrupted, another model — fails the check, and the pass looks at every row as before. One new
    day at 1 M messages: the four anti-joins over every row cost 0,6–0,75 s; the checks, one scan of
    each source table (50 ms)."""

    def __init__(self, con: duckdb.DuckDBPyConnection, tasks: list[TextTask]):
        self.valid: set[str] = set()
        self.tops: dict[str, int] = {}
        self.prints: dict[str, tuple[int, int]] = {}  # per source: rows and fingerprint of all its rows now
        marked = [t for t in tasks if _marked(t)]
        if not marked or not store.has_table(con, "enrich_marks"):
            return
        self.enabled = True
        stored: dict[str, dict[str, tuple]] = {}
        for task, source, version, top, rows, fp, results, result_rows in con.execute(
                "SELECT task, source, version, top, source_rows, fingerprint, results, result_rows FROM enrich_marks"
        ).fetchall():
            if None in (top, rows, fp, result_rows):  # a row damaged by hand: no mark for the task
                stored.setdefault(task, {})[None] = None
                continue
            stored.setdefault(task, {})[source] = (version, int(top), int(rows), int(fp), results, int(result_rows))
        fpm = store.FINGERPRINT_MOD
        below: dict[tuple[str, int], tuple[int, int]] = {}
        for source in sorted({s for t in marked for s in t.sources}):
            tops = sorted({m[1] for t in marked for src, m in stored.get(t.name, {}).items() if src == source and m})
            cols = [f"count(*) FILTER (WHERE r <= {w}), (coalesce(sum(h) FILTER (WHERE r <= {w}), 0) % {fpm})::BIGINT"
                    for w in tops]
            got = con.execute(f"SELECT coalesce(max(r), -1), count(*), (coalesce(sum(h), 0) % {fpm})::BIGINT"
                              f"{''.join(', ' + c for c in cols)} FROM (SELECT rowid AS r, "
                              f"{store.marked_hash(source)} AS h FROM {source})").fetchone()
            self.tops[source], self.prints[source] = int(got[0]), (int(got[1]), int(got[2]))
            for i, w in enumerate(tops):
                below[(source, w)] = (int(got[3 + 2 * i]), int(got[4 + 2 * i]))
        counts: dict[str, int] = {}
        for t in marked:
            m = stored.get(t.name, {})
            if set(m) != set(t.sources) or getattr(t, "force", False):  # forced: every row
                continue
            if t.results not in counts:
                counts[t.results] = con.execute(f"SELECT count(*) FROM {t.results}").fetchone()[0]
            if all(v == t.version and res == t.results and rr == counts[t.results] and below[(s, top)] == (rows, fp)
                   for s, (v, top, rows, fp, res, rr) in m.items()):
                self.valid.add(t.name)
        self.stored = stored

    enabled = False

    def items(self, task: TextTask) -> tuple[str, list]:
        """The task's items: only the rows above its mark when the mark holds."""
        if task.name not in self.valid:
            return task.items()
        above = {s: m[1] for s, m in self.stored[task.name].items()}
        if hasattr(task, "items_above"):
            return task.items_above(above)
        parts = []
        for s in task.sources:
            item_type, key = store.ENRICH_SOURCES[s]
            parts.append(f"SELECT '{item_type}' AS item_type, {key} AS item_id, coalesce(text, '') AS text, "
                         f"FALSE AS stale FROM {s} WHERE rowid > {int(above[s])}")
        return " UNION ALL ".join(parts), []

    def write(self, con: duckdb.DuckDBPyConnection, tasks: list[TextTask]) -> None:
        """After a pass that wrote every chunk: each marked task scored every row up to the tops seen at
        its start (the pass writes no source row)."""
        if not self.enabled:
            return
        with store.transaction(con):
            for t in tasks:
                if not _marked(t):
                    continue
                result_rows = con.execute(f"SELECT count(*) FROM {t.results}").fetchone()[0]
                con.execute("DELETE FROM enrich_marks WHERE task = ?", [t.name])
                for s in t.sources:
                    con.execute("INSERT INTO enrich_marks VALUES (?, ?, ?, ?, ?, ?, ?, ?, now()::TIMESTAMP)",
                                [t.name, s, t.version, self.tops[s], *self.prints[s], t.results, result_rows])


def _marked(task: TextTask) -> bool:
    return bool(getattr(task, "sources", None) and getattr(task, "results", None))


def _say(progress: Any, msg: str) -> None:
    if progress is None:
        return
    if hasattr(progress, "print"):
        progress.print(msg)
    elif callable(progress):
        progress(msg)
