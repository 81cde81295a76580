"""`make bench-10m` generates its ten million messages as slices of one million (one child process
each: the generator holds every message in memory). The slices must be different worlds: a native id
met in two slices would make the importer update the first slice's row instead of adding one, and
the store would hold fewer messages than the bench says."""

from __future__ import annotations

import json
import pickle
import subprocess
import sys
from pathlib import Path

import pandas as pd

ROOT = Path(__file__).resolve().parents[1]


def _slice(tmp: Path, seed: int) -> tuple[set[str], set[str]]:
    out = tmp / f"slice{seed}"
    subprocess.run([sys.executable, "-m", "benchmarks.run", "--generate-only", str(out), "--scale", "0.03",
                    "--seed", str(seed)], check=True, cwd=ROOT)
    files = [f["path"] for f in pickle.loads(out.with_suffix(".files.pkl").read_bytes())["files"]]
    fb = set()
    for p in files:
        if "facebook/comments" in str(p) and str(p).endswith(".csv"):
            fb |= set(pd.read_csv(p, dtype=str)["id"])
    x = set()
    for p in files:
        if "x/mentions" in str(p):
            for line in Path(p).read_text(encoding="utf-8").splitlines():  # twarc: one page of tweets a line
                x |= {t["id"] for t in json.loads(line).get("data", [])} if line.strip() else set()
    return fb, x


def test_slices_have_their_own_native_ids(tmp_path):
    fb0, x0 = _slice(tmp_path, 42)
    fb1, x1 = _slice(tmp_path, 43)
    assert fb0 and fb1 and x0 and x1
    assert not fb0 & fb1
    assert not x0 & x1
