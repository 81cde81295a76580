"""SECURITY.md stays true: every test it names as the replay of an attack exists."""

from __future__ import annotations

import re
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]


def test_every_test_named_in_security_md_exists():
    text = (ROOT / "SECURITY.md").read_text(encoding="utf-8")
    named = set(re.findall(r"`(?:tests/[\w/]+\.py::)?(test_\w+)`", text))
    files = {m for m in re.findall(r"`(tests/[\w/]+\.py)", text)}
    defined = {n for f in (ROOT / "tests").glob("test_*.py")
               for n in re.findall(r"^def (test_\w+)", f.read_text(encoding="utf-8"), re.MULTILINE)}
    assert len(named) > 30
    assert named <= defined, sorted(named - defined)
    assert all((ROOT / f).exists() for f in files), sorted(f for f in files if not (ROOT / f).exists())
