"""Peak memory of `vigie import` on a large comment CSV (default 200 MB; `--mb 1024` for 1 GB).

Generates a YouTube Data API comments CSV of the requested size (benchmarks/gen_big_csv.py),
imports it into a fresh store in a subprocess and samples the RSS of that process every
0.2 s. Prints size, rows, time, peak RSS and RSS per row; the bound of the current importer
is linear in the file (the file is parsed whole before one transaction), which this measures.

    .venv/bin/python -m benchmarks.bench_import_memory --mb 200 --dir /tmp/vigie-bench
"""

from __future__ import annotations

import argparse
import shutil
import subprocess
import sys
import tempfile
import time
from pathlib import Path

import psutil

from benchmarks import gen_big_csv

ACCOUNT = "youtube:UCsaintaubin00000000001"


def measure(csv_path: Path, db: Path, limit_s: float) -> tuple[float, int, int]:
    """(seconds, peak RSS bytes, exit code) of one import, stopped after ``limit_s`` seconds."""
    t0 = time.perf_counter()
    proc = subprocess.Popen([sys.executable, "-m", "analysis", "--db", str(db), "import", str(csv_path),
                             "--account", ACCOUNT, "--json"], stdout=subprocess.DEVNULL, stderr=subprocess.PIPE)
    ps = psutil.Process(proc.pid)
    peak = 0
    while proc.poll() is None:
        try:
            peak = max(peak, ps.memory_info().rss)
        except psutil.NoSuchProcess:
            break
        if time.perf_counter() - t0 > limit_s:
            proc.kill()
            break
        time.sleep(0.2)
    proc.wait()
    return time.perf_counter() - t0, peak, proc.returncode


def main() -> int:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--mb", type=float, default=200.0, help="Taille du CSV généré (Mo).")
    ap.add_argument("--dir", type=Path, default=None, help="Dossier de travail (défaut : temporaire).")
    ap.add_argument("--limit", type=float, default=3600.0, help="Durée maximale de l'import (s).")
    args = ap.parse_args()
    work = args.dir or Path(tempfile.mkdtemp(prefix="vigie-mem-"))
    work.mkdir(parents=True, exist_ok=True)
    csv_path, db = work / f"commentaires_{int(args.mb)}mo.csv", work / "bench.duckdb"
    for p in (db, db.with_name(db.name + ".read"), db.with_name(db.name + ".wal")):
        p.unlink(missing_ok=True)
    rows = gen_big_csv.write(csv_path, target_bytes=int(args.mb * 1024**2))
    size = csv_path.stat().st_size
    secs, peak, code = measure(csv_path, db, args.limit)
    print(f"{'Fichier':<12}{'Lignes':>10}{'Durée (s)':>11}{'RSS max (Mo)':>14}{'Ko/ligne':>10}{'RSS/fichier':>13}  Statut")
    print(f"{size / 1024**2:>8.0f} Mo{rows:>10}{secs:>11.1f}{peak / 1024**2:>14.0f}{peak / 1024 / rows:>10.1f}"
          f"{peak / size:>12.1f}×  {'ok' if code == 0 else f'code {code}'}")
    if args.dir is None:
        shutil.rmtree(work, ignore_errors=True)
    return 0 if code == 0 else 1


if __name__ == "__main__":
    sys.exit(main())
