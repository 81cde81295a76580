"""The enrichment on Dask, measured (issue 19 item 6): the local engine, a ``LocalCluster`` of 2 workers,
and a cluster started as processes (``dask scheduler`` + ``dask worker`` ×2, as on several machines),
on copies of the same imported store; identical outputs checked (content digest of the enrichment
tables), wall and CPU time. Parallel efficiency = time of the local engine with **one** process
(``VIGIE_ENRICH_WORKERS=1``) ÷ (2 × the time with two): the local engine itself forks one process per
core, so it is measured both ways (1 and 2 processes) beside the two clusters.

Workers compute, the single writer writes (:mod:`analysis.distributed`): the Dask engine cannot go
below the time the writer spends reading the pending texts and writing the scores, and on a machine
whose cores are all busy a cluster only adds the cost of shipping texts (note the load it prints).

Usage: ``python -m benchmarks.dask_bench [--db build/bench/bench.duckdb] [--messages 200000]``
(``--messages 0``: every message of the store).
"""

from __future__ import annotations

import argparse
import json
import os
import shutil
import subprocess
import sys
import time
from pathlib import Path
from typing import Any
from unittest import mock

ROOT = Path(__file__).resolve().parents[1]
ENRICHMENT_TABLES = ("sentiment", "themes", "toxicity")
N_WORKERS = 2


def _prepare(src: Path, dst: Path, messages: int) -> int:
    """Copy of the imported store, cut to ``messages`` messages (the first by id) when > 0."""
    from analysis import store

    for p in (dst, dst.with_name(dst.name + ".read"), dst.with_name(dst.name + ".wal")):
        p.unlink(missing_ok=True)
    shutil.copyfile(src, dst)
    with store.writer(dst) as con:
        for t in ENRICHMENT_TABLES:
            con.execute(f"DELETE FROM {t}")
        if messages:
            con.execute("DELETE FROM messages WHERE message_id NOT IN "
                        "(SELECT message_id FROM messages ORDER BY message_id LIMIT ?)", [messages])
        return con.execute("SELECT count(*) FROM messages").fetchone()[0]


def _enrich(db: Path, engine: str, scheduler: str | None = None) -> dict[str, Any]:
    from analysis import enrich, store

    with store.writer(db) as con:
        w0, c0 = time.perf_counter(), time.process_time()
        enrich.run(con, engine=engine, scheduler=scheduler)
        wall, cpu = time.perf_counter() - w0, time.process_time() - c0
    return {"wall_s": wall, "cpu_s_writer_process": cpu, "load": os.getloadavg()[0]}


def _digest(db: Path) -> dict:
    import duckdb

    from tests.pipeline_digest import digest

    with duckdb.connect(str(db), read_only=True) as con:
        return {t: v for t, v in digest(con).items() if t in ENRICHMENT_TABLES}


def _process_cluster(work: Path) -> tuple[str, list[subprocess.Popen]]:
    """``dask scheduler`` and two single-threaded ``dask worker`` processes on this machine."""
    from dask.distributed import Client

    dask = str(Path(sys.executable).with_name("dask"))
    sched_file = work / "scheduler.json"
    sched_file.unlink(missing_ok=True)
    env = {**os.environ, "PYTHONPATH": str(ROOT)}
    procs = [subprocess.Popen([dask, "scheduler", "--scheduler-file", str(sched_file), "--port", "0",
                               "--no-dashboard"], env=env, cwd=ROOT, stdout=subprocess.DEVNULL,
                              stderr=subprocess.DEVNULL)]
    for _ in range(200):
        if sched_file.exists():
            break
        time.sleep(0.1)
    for _ in range(N_WORKERS):
        procs.append(subprocess.Popen([dask, "worker", "--scheduler-file", str(sched_file), "--nthreads", "1",
                                       "--no-dashboard"], env=env, cwd=ROOT, stdout=subprocess.DEVNULL,
                                      stderr=subprocess.DEVNULL))
    with Client(scheduler_file=str(sched_file)) as c:
        c.wait_for_workers(N_WORKERS, timeout=120)
        address = c.scheduler.address
    return address, procs


def main(argv: list[str] | None = None) -> int:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--db", type=Path, default=ROOT / "build" / "bench" / "bench.duckdb",
                    help="magasin importé (make bench ; ses tables d'enrichissement sont vidées dans les copies)")
    ap.add_argument("--work", type=Path, default=ROOT / "build" / "dask")
    ap.add_argument("--messages", type=int, default=200_000, help="messages gardés (0 : tous)")
    a = ap.parse_args(argv)
    a.work.mkdir(parents=True, exist_ok=True)
    runs: dict[str, dict] = {}
    digests: dict[str, dict] = {}
    for name in ("local", "local_1", "localcluster", "processes"):
        db = a.work / f"{name}.duckdb"
        n = _prepare(a.db, db, a.messages)
        procs: list[subprocess.Popen] = []
        try:
            if name == "local":
                runs[name] = _enrich(db, "local")
            elif name == "local_1":  # the one-process reference of the efficiencies (the setting put back after)
                with mock.patch.dict(os.environ, {"VIGIE_ENRICH_WORKERS": "1"}):
                    runs[name] = _enrich(db, "local")
            elif name == "localcluster":
                runs[name] = _enrich(db, "dask")  # analysis.distributed.client: LocalCluster of 2 workers
            else:
                address, procs = _process_cluster(a.work)
                runs[name] = _enrich(db, "dask", address)
        finally:
            for p in procs:
                p.terminate()
            for p in procs:
                p.wait(timeout=30)
        digests[name] = _digest(db)
        runs[name]["messages"] = n
        runs[name]["identical_to_local"] = digests[name] == digests["local"]
        print(f"{name}: {runs[name]['wall_s']:.1f} s, {n} messages, identique au moteur local : "
              f"{'oui' if runs[name]['identical_to_local'] else 'NON'}", file=sys.stderr, flush=True)
    one = runs["local_1"]["wall_s"]
    for name in ("local", "localcluster", "processes"):
        runs[name]["speedup"] = one / runs[name]["wall_s"]
        runs[name]["efficiency"] = one / (N_WORKERS * runs[name]["wall_s"])
    out = {"cpus": os.cpu_count(), "workers": N_WORKERS, "load": os.getloadavg()[0], "runs": runs}
    (ROOT / "benchmarks" / "results").mkdir(parents=True, exist_ok=True)
    (ROOT / "benchmarks" / "results" / "dask_enrich.json").write_text(json.dumps(out, indent=1), encoding="utf-8")
    print(f"charge moyenne (1 min) : {out['load']:.1f} sur {out['cpus']} cœurs")
    print(f"{'Moteur':<14} {'messages':>9} {'temps':>8} {'accél.':>7} {'efficacité':>10}  sorties identiques "
          "(accélération et efficacité par rapport à local_1, un processus)")
    for name, r in runs.items():
        print(f"{name:<14} {r['messages']:>9} {r['wall_s']:>7.1f}s {r.get('speedup', 1.0):>7.2f} "
              f"{r.get('efficiency', 1.0):>10.0%}  {'oui' if r['identical_to_local'] else 'NON'}")
    return 0


if __name__ == "__main__":
    sys.exit(main())
