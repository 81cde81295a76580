"""The golden outputs of the demo store (``tests/golden.py``): every page for both roles and a few filter
sets, the report's text and every ``--json`` output of the CLI are what they were, figure for figure.

A difference prints the golden file and a unified diff of its lines. A deliberate change regenerates
the files (``python -m tests.golden [prefix…]``) in a commit that names each changed figure and why.
"""

from __future__ import annotations

import difflib

import pytest

from tests import golden as g


@pytest.fixture(scope="module")
def norm(demo_env):
    return g.normaliser(demo_env)


def _same(path, text: str) -> None:
    assert path.exists(), f"{path} absent : python -m tests.golden {path.relative_to(g.GOLDEN)}"
    want = path.read_text(encoding="utf-8")
    if want != text:
        diff = "".join(difflib.unified_diff(want.splitlines(True), text.splitlines(True), "golden", "now", n=2))
        pytest.fail(f"{path.relative_to(g.ROOT)} differs:\n{diff[:12000]}", pytrace=False)


@pytest.mark.parametrize("page,filter_set,role", g.page_cases(), ids=lambda v: str(v))
def test_page_shows_its_golden(demo_env, norm, page, filter_set, role):
    _same(g.page_file(page, filter_set, role), g.dump(g.capture_page(page, filter_set, role, norm)))


@pytest.mark.parametrize("name", g.cli_cases())
def test_cli_json_is_its_golden(demo_env, norm, name):
    _same(g.cli_file(name), g.dump(g.capture_cli(name, demo_env, norm)))


def test_report_text_is_its_golden(demo_env, norm):
    _same(g.REPORT_FILE, g.capture_report(demo_env, norm))
