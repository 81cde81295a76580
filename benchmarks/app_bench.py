"""First-render and cached-render time of every app page (Streamlit AppTest), printed as a table.

    VIGIE_DB=build/demo-test.duckdb .venv/bin/python -m benchmarks.app_bench [--repeat 3] [--json out.json]

Targets (issue 11): first render under 2 s on the demo store, under 0.5 s when cached.

- *first*: the page's data cache is emptied (``st.cache_data.clear()``) just before the run, so
  every read model is computed; Python modules are already imported (one warm-up run of the
  router first), as in a running server where another page was opened before.
- *cached*: the same page and filters again in a new session: what a second visit, another
  user or a reload costs.

Each figure is the median of ``--repeat`` runs (wall clock, ``time.perf_counter``) around
``AppTest.run()``, for each filter set of :data:`SCENARIOS`.
"""

from __future__ import annotations

import argparse
import ast
import json
import os
import statistics
import sys
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
APP = ROOT / "streamlit_app" / "app.py"
FIRST_TARGET, CACHED_TARGET = 2.0, 0.5
SCENARIOS: dict[str, dict[str, str]] = {
    "défaut (12 mois, tous)": {},
    "nous, 30 jours": {"territoires": "saint-aubin", "periode": "30j"},
}


def pages() -> list[tuple[str, str]]:
    """(file, French title) of the router's pages."""
    tree = ast.parse(APP.read_text(encoding="utf-8"))
    for node in ast.walk(tree):
        if isinstance(node, ast.AnnAssign) and getattr(node.target, "id", None) == "PAGES":
            return [(p[0], p[1]) for p in ast.literal_eval(node.value) if (APP.parent / "app_pages" / p[0]).exists()]
    raise SystemExit("PAGES not found in streamlit_app/app.py")


def run_once(page: str, query: dict[str, str]) -> tuple[float, float, list[str]]:
    """Wall and CPU seconds of one ``AppTest.run()`` of ``page`` and the exceptions it showed.

    CPU time (all threads of the process, DuckDB's included) is reported beside the wall clock
    because the machine may be shared: it says what the page costs whatever the load."""
    from streamlit.testing.v1 import AppTest

    at = AppTest.from_file(str(APP), default_timeout=300)
    for k, v in query.items():
        at.query_params[k] = v
    at.session_state["vigie_role"] = "elu"
    at.switch_page(f"app_pages/{page}")
    t0, c0 = time.perf_counter(), time.process_time()
    at.run()
    return time.perf_counter() - t0, time.process_time() - c0, [str(e.value)[:200] for e in at.exception]


def main(argv: list[str] | None = None) -> int:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--repeat", type=int, default=3)
    ap.add_argument("--json", type=Path, default=None)
    args = ap.parse_args(argv)
    if not os.environ.get("VIGIE_DB"):
        raise SystemExit("VIGIE_DB must point to the demo store (e.g. build/demo-test.duckdb).")
    os.environ.setdefault("VIGIE_AUTH", "demo")
    os.environ.setdefault("VIGIE_PSEUDONYM_KEY", "bench-key-not-secret")
    sys.path.insert(0, str(ROOT))
    import streamlit as st

    run_once("donnees.py", {})  # warm-up: imports, theme, registry
    rows = []
    for file, title in pages():
        for scen, query in SCENARIOS.items():
            first, cached, first_cpu, cached_cpu, errors = [], [], [], [], []
            for _ in range(args.repeat):
                st.cache_data.clear()
                t, c, e = run_once(file, query)
                first.append(t)
                first_cpu.append(c)
                errors += e
                t, c, e = run_once(file, query)
                cached.append(t)
                cached_cpu.append(c)
                errors += e
            rows.append({"page": title, "scenario": scen, "first_s": statistics.median(first),
                         "cached_s": statistics.median(cached), "first_cpu_s": statistics.median(first_cpu),
                         "cached_cpu_s": statistics.median(cached_cpu), "errors": sorted(set(errors))})
    w = max(len(r["page"]) for r in rows)
    ws = max(len(r["scenario"]) for r in rows)
    print(f"{'page':<{w}}  {'filtres':<{ws}}  {'1er rendu (s)':>13}  {'CPU':>5}  {'en cache (s)':>12}  {'CPU':>5}  verdict")
    ok_all = True
    for r in rows:
        ok = r["first_s"] < FIRST_TARGET and r["cached_s"] < CACHED_TARGET and not r["errors"]
        ok_all &= ok
        verdict = "ok" if ok else ("ERREUR " + r["errors"][0] if r["errors"] else "LENT")
        print(f"{r['page']:<{w}}  {r['scenario']:<{ws}}  {r['first_s']:>13.2f}  {r['first_cpu_s']:>5.2f}  "
              f"{r['cached_s']:>12.2f}  {r['cached_cpu_s']:>5.2f}  {verdict}")
    print(f"cibles : 1er rendu < {FIRST_TARGET} s, en cache < {CACHED_TARGET} s ; médiane de {args.repeat} essais ; "
          f"base {os.environ['VIGIE_DB']} ; charge de la machine (1, 5, 15 min) : "
          + ", ".join(f"{x:.1f}" for x in os.getloadavg()) + f" sur {os.cpu_count()} cœurs")
    if args.json:
        args.json.parent.mkdir(parents=True, exist_ok=True)
        args.json.write_text(json.dumps(rows, ensure_ascii=False, indent=1), encoding="utf-8")
    return 0 if ok_all else 1


if __name__ == "__main__":
    raise SystemExit(main())
