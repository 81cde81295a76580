"""Peak memory of `vigie import` on a large CSV (default 200 MB; `--mb 1024` for 1 GB).

Generates an export of the requested size and format (benchmarks/gen_big_csv.py: youtube,
exportcomments, minet_fb, crowdtangle), imports it into a fresh store in a subprocess and samples
the RSS of that process every 0.2 s. Prints size, rows, time, peak RSS and RSS per row. A bounded
importer has the same peak for 200 MB and 1 GB; the generated file and the store are deleted.

    .venv/bin/python -m benchmarks.bench_import_memory --mb 200 --format exportcomments --dir /tmp/vigie-bench
"""

from __future__ import annotations

import argparse
import json
import shutil
import subprocess
import sys
import tempfile
import time
from pathlib import Path

import psutil

from benchmarks import gen_big_csv


def measure(csv_path: Path, db: Path, limit_s: float, account: str | None = None) -> tuple[float, int, int, dict]:
    """(seconds, peak RSS bytes, exit code, the import's JSON result) of one import, stopped
    after ``limit_s`` seconds."""
    t0 = time.perf_counter()
    cmd = [sys.executable, "-m", "analysis", "--db", str(db), "import", str(csv_path), "--json"]
    if account:
        cmd += ["--account", account]
    out = tempfile.TemporaryFile(mode="w+")
    proc = subprocess.Popen(cmd, stdout=out, stderr=subprocess.DEVNULL)
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
    secs = time.perf_counter() - t0
    out.seek(0)
    try:
        result = json.loads(out.read())["files"][0]
    except (ValueError, LookupError):
        result = {}
    return secs, peak, proc.returncode, result


def main() -> int:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--mb", type=float, default=200.0, help="Taille du CSV généré (Mo).")
    ap.add_argument("--dir", type=Path, default=None, help="Dossier de travail (défaut : temporaire).")
    ap.add_argument("--limit", type=float, default=3600.0, help="Durée maximale de l'import (s).")
    ap.add_argument("--format", default="youtube", choices=sorted(gen_big_csv.FORMATS), help="Format généré.")
    ap.add_argument("--preload", type=float, default=0.0,
                    help="Mo d'un autre fichier du même format importés d'abord (non mesuré) : import dans une base déjà remplie.")
    args = ap.parse_args()
    work = args.dir or Path(tempfile.mkdtemp(prefix="vigie-mem-"))
    work.mkdir(parents=True, exist_ok=True)
    csv_path, db = work / f"{args.format}_{int(args.mb)}mo.csv", work / "bench.duckdb"
    store_files = [db, db.with_name(db.name + ".read"), db.with_name(db.name + ".wal")]
    for p in store_files:
        p.unlink(missing_ok=True)
    try:
        account = gen_big_csv.FORMATS[args.format][2]
        if args.preload:
            pre = work / f"{args.format}_preload.csv"
            n = gen_big_csv.write(pre, target_bytes=int(args.preload * 1024**2), fmt=args.format, seed=1, start=5_000_000)
            _, pre_peak, pre_code, _ = measure(pre, db, args.limit, account)
            pre.unlink()
            print(f"base préchargée : {n} lignes ({args.preload:.0f} Mo, RSS max {pre_peak / 1024**2:.0f} Mo, code {pre_code})")
        rows = gen_big_csv.write(csv_path, target_bytes=int(args.mb * 1024**2), fmt=args.format)
        size = csv_path.stat().st_size
        secs, peak, code, res = measure(csv_path, db, args.limit, account)
    finally:  # the disk is shared: a 1 GB file and its store must not stay behind
        csv_path.unlink(missing_ok=True)
        (work / f"{args.format}_preload.csv").unlink(missing_ok=True)
        for p in store_files:
            p.unlink(missing_ok=True)
        shutil.rmtree(db.with_name(db.name + ".tmp"), ignore_errors=True)
        if args.dir is None:
            shutil.rmtree(work, ignore_errors=True)
    print(f"{'Format':<16}{'Fichier':>10}{'Lignes':>10}{'Durée (s)':>11}{'RSS max (Mo)':>14}{'Ko/ligne':>10}"
          f"{'RSS/fichier':>13}  Statut")
    print(f"{args.format:<16}{size / 1024**2:>7.0f} Mo{rows:>10}{secs:>11.1f}{peak / 1024**2:>14.0f}"
          f"{peak / 1024 / rows:>10.1f}{peak / size:>12.2f}×  {res.get('status', f'code {code}')}")
    print(f"ajoutées : {res.get('inserted')} ; notes : {res.get('notes')} ; erreur : {res.get('error')}")
    return 0 if code == 0 else 1


if __name__ == "__main__":
    sys.exit(main())
