"""Theme classifier speed per distinct text, against an older checkout (issue 17: « same or better speed »).

    .venv/bin/python -m benchmarks.themes_speed --db build/demo-test.duckdb
    git worktree add /tmp/vigie-397f44d 397f44d      # the classifier when the issue was filed
    .venv/bin/python -m benchmarks.themes_speed --db build/demo-test.duckdb --against /tmp/vigie-397f44d

Reads the store's distinct message texts once, then, for this checkout and each ``--against`` one (each
in its own process: two versions of the package cannot share one), fits the shipped classifier, adapts
it to the first 20 000 texts when that version can (:meth:`ThemeClassifier.adapt`, as the enrichment
does), and times ``predict_top`` over every text: best of ``--repeat`` runs, in texts per CPU second
(CPU time of the process, all its threads: BLAS threads spinning count). Prints a Markdown table.
"""

from __future__ import annotations

import argparse
import json
import pickle
import subprocess
import sys
import tempfile
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]

_CHILD = r"""
import json, os, pickle, sys, time
root, texts_path, repeat = sys.argv[1], sys.argv[2], int(sys.argv[3])
sys.path.insert(0, root)
os.chdir(root)
import analysis.topics as T
texts = pickle.load(open(texts_path, "rb"))
clf = T.ThemeClassifier(T.load_taxonomy()).fit()
adapted = hasattr(clf, "adapt")
if adapted:
    clf = clf.adapt(texts[:20000])
clf.predict_top(texts[:1000])
best = 0.0
for _ in range(repeat):
    c0 = time.process_time()
    clf.predict_top(texts)
    best = max(best, len(texts) / max(time.process_time() - c0, 1e-9))
print(json.dumps({"rate": best, "adapted": adapted}))
"""


def rate(root: Path, texts_path: str, repeat: int) -> dict:
    out = subprocess.run([sys.executable, "-c", _CHILD, str(root), texts_path, str(repeat)], check=True,
                         capture_output=True, text=True).stdout
    return json.loads(out.strip().splitlines()[-1])


def _n(x: float) -> str:
    return f"{x:,.0f}".replace(",", " ")


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--db", required=True, help="Store whose distinct message texts are classified.")
    ap.add_argument("--against", action="append", default=[], help="Another checkout of Vigie (repeatable).")
    ap.add_argument("--repeat", type=int, default=3)
    a = ap.parse_args()
    sys.path.insert(0, str(ROOT))
    from analysis import store

    with store.reader(a.db) as con:
        texts = [r[0] for r in con.execute("SELECT DISTINCT text FROM messages WHERE text IS NOT NULL "
                                           "ORDER BY hash(text), text").fetchall()]
    if not texts:
        raise SystemExit(f"Aucun texte dans {a.db}")
    with tempfile.NamedTemporaryFile(suffix=".pkl") as f:
        pickle.dump(texts, f)
        f.flush()
        rows = [("cette version", rate(ROOT, f.name, a.repeat))]
        rows += [(str(p), rate(Path(p).resolve(), f.name, a.repeat)) for p in a.against]
    base = rows[0][1]["rate"]
    print(f"{_n(len(texts))} textes distincts de {a.db}, meilleur de {a.repeat}")
    print("| classifieur | adapté | textes / s CPU | rapport à cette version |")
    print("|---|---|---|---|")
    for name, r in rows:
        print(f"| {name} | {'oui' if r['adapted'] else 'non'} | {_n(r['rate'])} | {r['rate'] / base:.2f} |")


if __name__ == "__main__":
    main()
