"""E-reputation benchmark: every read the page and the CLI make, timed on a store of ≥ N messages.

    .venv/bin/python benchmarks/ereputation_bench.py --db build/demo-test.duckdb --n 1000000

The demo store is copied to a temporary folder and its user messages (with their sentiment
rows) are replicated with new ids until the store holds at least ``--n`` messages: same days,
same territories, k times the volume — the shape of a large département's year. Each read is
run on a fresh read-only connection (as the app's cache misses do); wall-clock seconds, best of
``--repeat``. Prints a Markdown table and writes ``benchmarks/results/ereputation_bench.json``.
"""

from __future__ import annotations

import argparse
import json
import math
import os
import platform
import shutil
import sys
import tempfile
import time
from datetime import timedelta
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))

from analysis import (
    derived_refresh,
    store,  # noqa: E402
)
from analysis import ereputation as er  # noqa: E402
from analysis.queries import Filters, data_range  # noqa: E402

RESULTS = Path(__file__).resolve().parent / "results" / "ereputation_bench.json"


def scaled_copy(src: Path, n: int, work: Path) -> tuple[Path, int]:
    """Copy ``src`` into ``work`` and replicate messages + sentiment until ≥ n messages."""
    dst = work / "bench.duckdb"
    shutil.copyfile(src, dst)
    with derived_refresh.writer(dst) as con:
        base = con.execute("SELECT count(*) FROM messages").fetchone()[0]
        copies = max(0, math.ceil(n / max(base, 1)) - 1)
        for k in range(1, copies + 1):
            con.execute(f"INSERT INTO messages SELECT * REPLACE (message_id || '~{k}' AS message_id) FROM messages "
                        f"WHERE NOT contains(message_id, '~')")
            con.execute(f"INSERT INTO sentiment SELECT * REPLACE (item_id || '~{k}' AS item_id) FROM sentiment "
                        f"WHERE item_type = 'message' AND NOT contains(item_id, '~')")
            con.execute(f"INSERT INTO themes SELECT * REPLACE (item_id || '~{k}' AS item_id) FROM themes "
                        f"WHERE item_type = 'message' AND NOT contains(item_id, '~')")
        total = con.execute("SELECT count(*) FROM messages").fetchone()[0]
    return dst, total


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--db", default=os.environ.get("VIGIE_DB") or "build/demo-test.duckdb")
    ap.add_argument("--n", type=int, default=1_000_000)
    ap.add_argument("--repeat", type=int, default=2)
    args = ap.parse_args()
    src = Path(args.db)
    if not src.exists():
        raise SystemExit(f"Base absente : {src} (lancez `vigie --db {src} demo`).")
    with tempfile.TemporaryDirectory() as tmp:
        t0 = time.perf_counter()
        db, total = scaled_copy(src, args.n, Path(tmp))
        build_s = time.perf_counter() - t0
        with store.reader(db) as con:
            first, last = data_range(con)
        end = last + timedelta(days=1)
        year = Filters(start=end - timedelta(days=365), end=end)
        own = Filters(territories=("saint-aubin",), start=year.start, end=year.end)
        everything = Filters(start=first + timedelta(weeks=9), end=end)
        cases = {
            "kpis (own, 12 months)": lambda c: er.kpis(c, own),
            "change vs previous period": lambda c: er.change_vs_previous(c, own),
            "peer comparison (5 territories)": lambda c: er.peer_comparison(c, year),
            "trend by week, own + peers": lambda c: er.trend(c, year, "week"),
            "table by territory × day (2 years)": lambda c: er.sentiment_table(c, Filters(), ("territory_id",), "day"),
            "table by post (12 months)": lambda c: er.sentiment_table(c, year, ("post_id",)),
            "spikes, all territories, 2 years": lambda c: er.detect_spikes(c, everything),
            "spikes explained (own, 12 months)": lambda c: er.explained_spikes(c, own),
            "representative negative messages": lambda c: er.representative_messages(c, own, "negative"),
        }
        rows = []
        for name, fn in cases.items():
            best = float("inf")
            for _ in range(args.repeat):
                with store.reader(db) as con:
                    t = time.perf_counter()
                    out = fn(con)
                    best = min(best, time.perf_counter() - t)
            size = len(out) if hasattr(out, "__len__") else 1
            rows.append({"read": name, "seconds": round(best, 3), "rows": size})
    result = {"messages": int(total), "source": str(src), "scaled_build_seconds": round(build_s, 1),
              "cpu": platform.processor() or platform.machine(), "cores": os.cpu_count(),
              "load_average": os.getloadavg()[0], "reads": rows}
    RESULTS.parent.mkdir(parents=True, exist_ok=True)
    RESULTS.write_text(json.dumps(result, ensure_ascii=False, indent=2), encoding="utf-8")
    n_fr = f"{total:,}".replace(",", "\u202f")
    load = f"{os.getloadavg()[0]:.1f}".replace(".", ",")
    print(f"E-réputation sur {n_fr} messages (charge moyenne {load}, {os.cpu_count()} cœurs)\n")
    print("| lecture | secondes | lignes |\n|---|---:|---:|")
    for r in rows:
        print(f"| {r['read']} | {r['seconds']:.2f}".replace(".", ",") + f" | {r['rows']} |")


if __name__ == "__main__":
    main()
