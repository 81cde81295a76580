"""Coverage of the events evaluation and of the draft check's interval on whole demo builds, several seeds.

Run: python benchmarks/events_coverage.py --seeds 1 2 3 4 [--out build/events_coverage.json]

For each seed the demo is generated and imported (``vigie demo --no-enrich``, ~1 min 30 each) into a
temporary store; then (1) every event of the own territory is evaluated and its 95 % interval compared
with the injected promotion effect of ``ground_truth_events.json``; (2) the engagement model is
evaluated on the time split of the own territory's posts (coverage of its 80 % interval, error vs the
account's median). Complements :func:`analysis.demo.events.coverage` (fast simulated accounts).
"""

from __future__ import annotations

import argparse
import json
import tempfile
import time
from pathlib import Path

from analysis import store
from analysis.demo import build as demo_build
from analysis.demo.events import ground_truth
from analysis.events import engagement as E
from analysis.events.evaluation import evaluate_event


def run(seed: int, own: str = "saint-aubin") -> dict:
    with tempfile.TemporaryDirectory() as tmp:
        db = Path(tmp) / "demo.duckdb"
        t0 = time.perf_counter()
        demo_build.build(exports_dir=Path(tmp) / "demo_exports", db=db, seed=seed, enrich=False)
        truth = json.loads((Path(tmp) / "demo_exports" / "ground_truth_events.json").read_text(encoding="utf-8")) \
            if (Path(tmp) / "demo_exports" / "ground_truth_events.json").exists() else ground_truth(db)
        rows = []
        with store.reader(db) as con:
            for e in truth["events"]:
                if e["territory_id"] != own:
                    continue
                ev = evaluate_event(con, e["event_id"], n_boot=1000, seed=0, with_conversation=False)
                lf = ev.lift
                rows.append({"key": e["key"], "truth": e["injected_effect"], "estimate": lf.estimate, "low": lf.low,
                             "high": lf.high, "covered": lf.low is not None and lf.low <= e["injected_effect"] <= lf.high,
                             "matched": set(ev.promo_posts["post_id"]) == set(e["promo_posts"])})
            m = E.evaluate(E.history(con, [own]), own).as_row()
    return {"seed": seed, "events": rows, "covered": sum(r["covered"] for r in rows), "n": len(rows),
            "all_matched": all(r["matched"] for r in rows), "draft_model": m, "seconds": time.perf_counter() - t0}


def main() -> None:
    ap = argparse.ArgumentParser()
    ap.add_argument("--seeds", type=int, nargs="+", default=[1, 2, 3, 4])
    ap.add_argument("--out", type=Path, default=Path("build/events_coverage.json"))
    a = ap.parse_args()
    res = []
    for s in a.seeds:
        r = run(s)
        res.append(r)
        m = r["draft_model"]
        print(f"seed {s}: events {r['covered']}/{r['n']} covered, posts matched: {r['all_matched']}; draft model "
              f"coverage {m['coverage']:.3f} on {m['n_test']}, MAE {m['mae_model']:.1f} vs median {m['mae_median']:.1f} "
              f"({r['seconds']:.0f} s)", flush=True)
        a.out.parent.mkdir(parents=True, exist_ok=True)
        a.out.write_text(json.dumps(res, ensure_ascii=False, indent=1, default=str), encoding="utf-8")
    cov = sum(r["covered"] for r in res) / max(1, sum(r["n"] for r in res))
    print(f"overall: {sum(r['covered'] for r in res)}/{sum(r['n'] for r in res)} intervals cover the truth ({cov:.3f})")


if __name__ == "__main__":
    main()
