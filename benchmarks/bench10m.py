"""`make bench-10m`: ten million messages on one machine (issue 19 item 4; not in CI).

The demo at scale 41 (≈ 10,7 M messages), generated in slices of scale ≤ 4,1 (≈ 1 M messages each,
seeds 42, 43…, one child process each: the generator holds every message of its world in memory),
then the stages of :mod:`benchmarks.run`: import, enrichment, alerts, every page and its read
models (p95), the monthly report. Prints the table of ``make bench`` and the four figures of the
issue against their goals. ``--scale 8.2`` (2 M) rehearses it in a quarter of the time.

Usage: ``python -m benchmarks.bench10m [--scale 41] [--work build/bench10m] [--repeats 3]``; a slice
already generated in ``<work>/exports/slice<k>`` is kept (an interrupted run resumes there).
"""

from __future__ import annotations

import argparse
import json
import math
import sys
from pathlib import Path

from benchmarks import run

GOALS = {"end_to_end_s": 300.0, "peak_rss_mb": 6144.0, "query_p95_ms": 300.0, "report_s": 5.0}
SLICE_SCALE = 4.1  # what one child process generates (≈ 1 M messages, ≈ 3 GB of RSS at most)


def summary(res: dict) -> list[tuple[str, str, bool | None]]:
    """The four figures of the issue: (what, value in French, goal met)."""
    from analysis.fmt import fr_int, fr_num

    rows: list[tuple[str, str, bool | None]] = []
    if "end_to_end_s" in res:
        e = res["end_to_end_s"]
        rows.append(("Import + enrichissement + alertes (objectif ≤ 5 min)",
                     f"{fr_num(e / 60, 1)} min ({fr_num(e, 0)} s, CPU {fr_num(res['end_to_end_cpu_s'], 0)} s)",
                     e <= GOALS["end_to_end_s"]))
    rss = res.get("peak_rss_mb", 0.0)
    rows.append(("Pic de mémoire (objectif ≤ 6 Go)", f"{fr_int(rss)} Mo", rss <= GOALS["peak_rss_mb"]))
    q = res.get("queries") or []
    if q:
        worst = max(q, key=lambda r: r["p95_ms"])
        over = sum(1 for r in q if r["p95_ms"] > GOALS["query_p95_ms"])
        rows.append(("Modèles de lecture des pages, p95 (objectif ≤ 300 ms)",
                     f"pire {fr_int(worst['p95_ms'])} ms ({worst['query']}), {over} sur {len(q)} au-dessus",
                     over == 0))
    r = res.get("report", {})
    if "wall_s" in r:
        rows.append(("Rapport mensuel PDF (objectif ≤ 5 s)", f"{fr_num(r['wall_s'], 1)} s", r["wall_s"] <= GOALS["report_s"]))
    return rows


def main(argv: list[str] | None = None) -> int:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--scale", type=float, default=41.0, help="échelle (41 ≈ 10,7 M messages ; 8,2 ≈ 2 M)")
    ap.add_argument("--work", type=Path, default=run.ROOT / "build" / "bench10m")
    ap.add_argument("--repeats", type=int, default=3)
    every = "generate,import,enrich,metrics,pages,queries,report"
    ap.add_argument("--only", default=every)
    a = ap.parse_args(argv)
    slices = max(1, math.ceil(a.scale / SLICE_SCALE - 1e-9))
    out = run.results_path("bench10m", a.scale, "" if set(a.only.split(",")) == set(every.split(",")) else a.only)
    run.main(["--scale", str(a.scale), "--slices", str(slices), "--work", str(a.work), "--repeats", str(a.repeats),
              "--only", a.only, "--json", str(out)])
    res = json.loads(out.read_text(encoding="utf-8"))
    print()
    g = res.get("generate", {})
    print(f"Dix millions de messages sur une machine : {g.get('messages', 0):,} messages".replace(",", " ")
          + f" ({slices} tranches), charge max. {res.get('load_max', 0):.1f} sur {res.get('cpus')} cœurs")
    for what, value, ok in summary(res):
        print(f"  {what:<58} {value:<50} {'oui' if ok else 'NON'}")
    return 0


if __name__ == "__main__":
    sys.exit(main())
