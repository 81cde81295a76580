"""The layers of docs/DEVELOPING.md hold: `lint-imports` keeps the contracts of pyproject.toml,
no import cycle anywhere in `analysis/`, and the package's own imports sit at the top of files."""

from __future__ import annotations

import ast
from pathlib import Path

import grimp
import networkx as nx
from importlinter.cli import lint_imports

ROOT = Path(__file__).resolve().parents[1]
# Files another engineer reworks in parallel (issue 18 item 4): their in-function imports are theirs.
NOT_OURS = ("analysis/sentiment/", "analysis/moderation/toxicity.py")


def test_import_contracts_are_kept(monkeypatch):
    monkeypatch.chdir(ROOT)
    assert lint_imports(config_filename=str(ROOT / "pyproject.toml")) == 0


def test_no_import_cycle_in_analysis():
    g = grimp.build_graph("analysis", cache_dir=None)
    dg = nx.DiGraph((m, i) for m in g.modules for i in g.find_modules_directly_imported_by(m)
                    if i.startswith("analysis"))
    cycles = [sorted(c) for c in nx.strongly_connected_components(dg) if len(c) > 1]
    assert cycles == []


def test_the_package_imports_itself_at_the_top_of_files():
    """Imports of `analysis` inside functions hid a 10-module cycle; only ``if TYPE_CHECKING`` ones remain."""
    late = []
    for f in sorted((ROOT / "analysis").rglob("*.py")):
        rel = f.relative_to(ROOT).as_posix()
        if rel.startswith(NOT_OURS):
            continue
        tree = ast.parse(f.read_text(encoding="utf-8"))
        for fn in ast.walk(tree):
            if isinstance(fn, ast.FunctionDef | ast.AsyncFunctionDef):
                for n in ast.walk(fn):
                    if isinstance(n, ast.ImportFrom) and (n.level or (n.module or "").startswith("analysis")) or \
                            isinstance(n, ast.Import) and any(a.name.startswith("analysis") for a in n.names):
                        late.append(f"{rel}:{n.lineno}")
    assert late == []
