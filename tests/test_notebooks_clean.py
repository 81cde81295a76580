"""Notebooks are committed without outputs or execution counts (they are executed in CI instead)."""

from __future__ import annotations

import json
import subprocess
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parents[1]


def committed_notebooks() -> list[Path]:
    """Notebooks tracked by git (plus any in notebooks/ when git is unavailable)."""
    try:
        out = subprocess.run(["git", "ls-files", "*.ipynb"], cwd=ROOT, capture_output=True, text=True,
                             check=True).stdout.split()
        return [ROOT / p for p in out if (ROOT / p).exists()]
    except (OSError, subprocess.CalledProcessError):
        return sorted((ROOT / "notebooks").glob("*.ipynb"))


def dirty_cells(path: Path) -> list[str]:
    """Descriptions of the cells of ``path`` that carry outputs or an execution count."""
    nb = json.loads(path.read_text(encoding="utf-8"))
    problems = []
    for i, cell in enumerate(nb.get("cells", [])):
        if cell.get("cell_type") != "code":
            continue
        if cell.get("outputs"):
            problems.append(f"cellule {i} : {len(cell['outputs'])} sortie(s)")
        if cell.get("execution_count") is not None:
            problems.append(f"cellule {i} : execution_count={cell['execution_count']}")
    return problems


def test_dirty_cells_detects_outputs(tmp_path):
    nb = {"cells": [{"cell_type": "code", "source": "1", "outputs": [{"output_type": "execute_result"}],
                     "execution_count": 3, "metadata": {}},
                    {"cell_type": "code", "source": "2", "outputs": [], "execution_count": None, "metadata": {}},
                    {"cell_type": "markdown", "source": "x", "metadata": {}}]}
    p = tmp_path / "n.ipynb"
    p.write_text(json.dumps(nb), encoding="utf-8")
    assert dirty_cells(p) == ["cellule 0 : 1 sortie(s)", "cellule 0 : execution_count=3"]


@pytest.mark.parametrize("path", committed_notebooks(), ids=lambda p: p.name)
def test_committed_notebooks_have_no_outputs(path):
    problems = dirty_cells(path)
    assert not problems, (f"{path.name} a des sorties ({'; '.join(problems)}) : videz-les avant de commiter "
                          "(Jupyter : Edit › Clear All Outputs, ou `jupyter nbconvert --clear-output --inplace`)")
