"""One new day of messages into a store that already holds 1 M (issue 19 item 2: « ≤ 3 s end to end »).

``make bench`` (stage ``newday`` of :mod:`benchmarks.run`) copies the enriched bench store, writes one
day of exports after its last day with the demo generator's own writers (Meta Business Suite posts,
Facebook and Instagram comments, X mentions and analytics, YouTube comment threads: ≈ 800 messages
at scale 4.1), then times one write session as ``vigie import`` + ``vigie enrich`` run it: import of
the day's files, :data:`EDITED` messages of the week before edited by their authors (as a collection
finds them: their scores are deleted, their messages recounted), enrichment of the new and edited
rows, refresh of the derived tables, CHECKPOINT, publish of the read copy. Alone:
``python -m benchmarks.newday --db build/bench/bench.duckdb``.
"""

from __future__ import annotations

import argparse
import importlib
import os
import pickle
import pkgutil
import shutil
import subprocess
import sys
import time
import tomllib
from datetime import date, timedelta
from pathlib import Path
from typing import Any

ROOT = Path(__file__).resolve().parents[1]
# The writers of the files that carry messages and posts (the yearly follower/demographic files need
# the whole history and say nothing new about one day).
DAY_WRITERS = ("mbs_posts", "x_twarc", "fb_comments", "ig_comments", "youtube", "x_analytics")
ID_OFFSET = 900_000_000  # native ids of the new day far above the demo's, so every row is new
EDITED = 20  # messages of the 7 days before edited in the session (what a collection of the day finds)


def offset_ids(offset: int) -> None:
    """Move every native id the demo draws ``offset`` higher, in this process (a child process)."""
    from analysis.demo import model

    next_id = model.Ids.next
    model.Ids.next = lambda self, kind, base: next_id(self, kind, base) + offset


def write_day(out: Path, day: date, scale: float, seed: int = 4242) -> list[dict]:
    """Simulate ``day`` alone and write its export files under ``out``; return the listing.

    The demo simulates its fixed 24 months: its window constants are moved onto ``day`` in this
    process only (run it in a child process, as :func:`stage_newday` does)."""
    import numpy as np

    import analysis.demo as demo_pkg

    modules = [importlib.import_module(f"analysis.demo.{m.name}") for m in pkgutil.iter_modules(demo_pkg.__path__)]
    for mod in [demo_pkg, *modules]:
        for name, value in (("START", day), ("END", day), ("N_DAYS", 1)):
            if hasattr(mod, name):
                setattr(mod, name, value)
    offset_ids(ID_OFFSET)
    from analysis.demo.simulation import simulate
    from analysis.demo.writers import Writer
    from analysis.registry import load_registry

    sim = simulate(load_registry(), seed, scale)
    if out.exists():
        shutil.rmtree(out)
    out.mkdir(parents=True)
    w = Writer(sim, out, np.random.default_rng(seed + 1))
    w._index_threads()
    for name in DAY_WRITERS:
        getattr(w, name)()
    info = {"files": w.files, "messages": len(sim.messages), "posts": len(sim.posts)}
    out.with_suffix(".files.pkl").write_bytes(pickle.dumps(info))
    return w.files


def edit_messages(con: Any, day: date, n: int) -> int:
    """``n`` messages of the 7 days before ``day`` get another text, written as a collection writes an
    edit (:func:`analysis.ingest.write_parsed`); returns how many."""
    import pandas as pd

    from analysis import store
    from analysis.ingest import FileResult, Parsed, default_context, write_parsed

    df = con.execute("SELECT message_id, platform, text FROM messages WHERE text IS NOT NULL AND created_at >= ? "
                     "AND created_at < ? ORDER BY hash(message_id) LIMIT ?",
                     [day - timedelta(days=7), day, n]).df()
    df["text"] = df["text"] + " (modifié : finalement, c'est décevant)"
    parsed = Parsed(format="edits", rows_read=len(df))
    parsed.tables["messages"] = pd.DataFrame(df)
    with store.transaction(con):
        write_parsed(con, parsed, default_context(), FileResult(path="edits"), path="edits", log_import=False)
    return len(df)


def _last_day(db: Path) -> date:
    from analysis import store

    with store.reader(db) as con:
        return con.execute("SELECT max(created_at)::DATE FROM messages").fetchone()[0]


def stage_newday(src: Path, work: Path, scale: float, out: dict, say: Any = print) -> dict:
    """Copy ``src`` (enriched), add one day after its last one; time each part of the session."""
    from analysis import derived_refresh, enrich
    from analysis.ingest import default_context, expand_paths, import_jobs
    from analysis.registry import load_registry

    db = work / "newday.duckdb"
    for p in (db, *(db.with_name(db.name + x) for x in (".read", ".read.prev", ".wal"))):
        p.unlink(missing_ok=True)
    shutil.copyfile(src, db)
    shutil.copyfile(src.with_name(src.name + ".read"), db.with_name(db.name + ".read"))
    # The copy before last (`.read.prev`) that a store's previous publication leaves beside it, and that
    # the timed session patches: here the same bytes as `.read`, so the patch writes this day's changed
    # blocks only (in use it also rewrites the previous session's, a few tens of MB more). Without it
    # the session made a full copy: the untimed session below writes nothing, so it does not publish.
    shutil.copyfile(src.with_name(src.name + ".read"), db.with_name(db.name + ".read.prev"))
    # A store at rest is on disk: the copies' pages, still dirty in the page cache, were flushed by the
    # session's first CHECKPOINT (its fsync), 0,34–0,48 s counted as the session's own.
    for p in (db, db.with_name(db.name + ".read"), db.with_name(db.name + ".read.prev")):
        fd = os.open(p, os.O_RDONLY)
        try:
            os.fsync(fd)
        finally:
            os.close(fd)
    with derived_refresh.writer(db):  # untimed: the state a store's previous write session leaves
        pass  # (a store written by an older Vigie has no marks for the incremental refresh yet)
    day = _last_day(db) + timedelta(days=1)
    exports = work / "newday_exports"
    subprocess.run([sys.executable, "-m", "benchmarks.newday", "--write", str(exports), "--day", day.isoformat(),
                    "--scale", str(scale)], check=True, cwd=ROOT)
    info = pickle.loads(exports.with_suffix(".files.pkl").read_bytes())
    registry = load_registry()
    groups: dict[tuple, list[Path]] = {}
    for f in info["files"]:
        groups.setdefault((f["hint"], f["snapshot"], str(f["mapping"] or ""), f["fmt"]), []).append(f["path"])
    steps: dict[str, float] = {}
    cpu: dict[str, float] = {}
    w0, c0 = time.perf_counter(), time.process_time()
    with derived_refresh.writer(db, timings=steps) as con:
        n0 = con.execute("SELECT count(*) FROM messages").fetchone()[0]
        t0, p0 = time.perf_counter(), time.process_time()
        jobs = []
        for (hint, snap, mapping_path, fmt), paths in groups.items():  # as analysis.demo.import_files:
            mapping = tomllib.loads(Path(mapping_path).read_text(encoding="utf-8")) if mapping_path else None
            ctx = default_context(registry=registry, account_hint=hint, mapping=mapping, snapshot_date=snap)
            jobs += [(p, ctx, fmt) for p in expand_paths(paths)]
        # one call for every file (as `vigie import` of a folder): the registry written once, the files
        # parsed on both cores while this process writes (one call per group synced it 8 times)
        results = import_jobs(con, jobs)
        steps["import"], cpu["import"] = time.perf_counter() - t0, time.process_time() - p0
        t0 = time.perf_counter()
        edited = edit_messages(con, day, EDITED)
        steps["edits"] = time.perf_counter() - t0
        t0, p0 = time.perf_counter(), time.process_time()
        enrich.run(con)
        steps["enrich"], cpu["enrich"] = time.perf_counter() - t0, time.process_time() - p0
        added = con.execute("SELECT count(*) FROM messages").fetchone()[0] - n0
        c1 = time.process_time()
    cpu["session_end"] = time.process_time() - c1
    total, total_cpu = time.perf_counter() - w0, time.process_time() - c0
    errors = [r.error for r in results if r.status == "error"]
    res = {"day": day.isoformat(), "messages": added, "edited": edited, "files": len(results), "errors": errors[:3],
           "wall_s": total, "cpu_s": total_cpu, "steps_s": steps, "cpu_s_by_step": cpu,
           "store_mb": db.stat().st_size / 2**20, "load": os.getloadavg()[0]}
    out["newday"] = res
    say(f"nouveau jour {day} : {added} messages en {total:.2f} s (" +
        ", ".join(f"{k} {v:.2f} s" for k, v in steps.items()) + ")")
    return res


def main(argv: list[str] | None = None) -> int:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--db", type=Path, default=ROOT / "build" / "bench" / "bench.duckdb",
                    help="magasin enrichi (copié, jamais modifié)")
    ap.add_argument("--scale", type=float, default=4.1)
    ap.add_argument("--full-refresh", action="store_true",
                    help="reconstruire les tables dérivées en entier (le comportement d'avant, pour comparer)")
    ap.add_argument("--write", type=Path, default=None, help=argparse.SUPPRESS)
    ap.add_argument("--day", type=date.fromisoformat, default=None, help=argparse.SUPPRESS)
    a = ap.parse_args(argv)
    if a.write:
        write_day(a.write, a.day, a.scale)
        return 0
    import json

    out: dict = {}
    if a.full_refresh:
        from functools import partial

        from analysis import derived_refresh

        derived_refresh.refresh = partial(derived_refresh.refresh, incremental=False)
    stage_newday(a.db, a.db.parent, a.scale, out)
    print(json.dumps(out, indent=1, default=str))
    return 0


if __name__ == "__main__":
    sys.exit(main())
