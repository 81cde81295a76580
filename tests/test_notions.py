"""One notion, one function (issue 18, DESIGN.md rule 11): each notion below has one definition, in
the module a newcomer opens first, and no copy of its rule elsewhere; the app, the report and the
CLI (and the notebooks where they show it) reach that one definition."""

from __future__ import annotations

import re
from pathlib import Path

import grimp
import pytest

ROOT = Path(__file__).resolve().parents[1]
# Files reworked in parallel by another engineer (issue 18 item 4): not checked here.
NOT_OURS = ("analysis/topics.py", "analysis/sentiment/", "analysis/moderation/toxicity.py")

# notion → (the one definition "module:function", copies that must not exist: (regex, allowed files))
NOTIONS: dict[str, tuple[str, list[tuple[str, tuple[str, ...]]]]] = {
    "own territory": ("analysis.territories:own_territory",
                      [(r"WHERE kind\s*=\s*'own'", ("analysis/territories.py",))]),
    "peers": ("analysis.territories:peers_of",
              [(r"SELECT (territory_id, )?peers FROM territories", ("analysis/territories.py",)),
               (r"def peers_of\(", ("analysis/territories.py",))]),
    "focus territory": ("analysis.territories:focus_territory",
                        [(r"return f\.territories\[0\]", ())]),
    "local timezone": ("analysis.config:LOCAL_TZ", [(r"[\"']Europe/Paris[\"']", ("analysis/config.py", "analysis/demo.py", "analysis/ingest/generic.py"))]),
    "accent removal": ("analysis.text:strip_accents",
                       [(r"unicodedata\.combining", ("analysis/text.py",))]),
    "missing tokens": ("analysis.ingest.base:MISSING_TOKENS", [(r"\"n/a\"", ("analysis/ingest/base.py",))]),
    "per 1 000 inhabitants": ("analysis.metrics:per_1000_inhabitants",
                              [(r"def per_1000_inhabitants", ("analysis/metrics.py",)),
                               (r"/ ?pops?\[[^\]]+\] ?\* ?1000", ())]),
    "points": ("analysis.metrics:points",
               [(r"def (pts|points)\(", ("analysis/metrics.py",)),
                # fmt.fr_pct and findings' relative changes are percentages, not points
                (r"100 \* (float\()?(v|d|delta|lo|hi)\b", ("analysis/metrics.py", "analysis/fmt.py",
                                                          "analysis/reports/findings.py")), (r"\[\"net_sentiment[a-z_]*\"\] \* 100", ())]),
    "period text": ("analysis.fmt:fr_period_end_excluded",
                    [(r"au \{fr_date\([^}]*timedelta\(days=1\)", ()), (r"def (describe_period|fr_period)\(", ())]),
    "responsiveness": ("analysis.moderation.responsiveness:response_by_territory",
                       [(r"def responsiveness\(", ())]),
}


def _files() -> list[Path]:
    out = []
    for base in ("analysis", "streamlit_app"):
        for f in sorted((ROOT / base).rglob("*.py")):
            rel = f.relative_to(ROOT).as_posix()
            if not rel.startswith(NOT_OURS):
                out.append(f)
    return out


@pytest.mark.parametrize("notion", NOTIONS)
def test_one_definition_and_no_copy(notion):
    target, copies = NOTIONS[notion]
    mod, name = target.split(":")
    assert hasattr(__import__(mod, fromlist=[name]), name)
    found = []
    for f in _files():
        rel = f.relative_to(ROOT).as_posix()
        text = f.read_text(encoding="utf-8")
        for pattern, allowed in copies:
            if rel in allowed:
                continue
            for m in re.finditer(pattern, text):
                found.append(f"{rel}:{text.count(chr(10), 0, m.start()) + 1}: {m.group(0)}")
    assert found == [], f"« {notion} » est écrit ailleurs que dans {target}"


# notion → the one definition, and who must reach it: the app (a page or the data layer), the report,
# the CLI — directly or through the analyses they call (import graph).
REACHED_BY = {
    "analysis.territories": ("streamlit_app", "analysis.reports", "analysis.cli"),
    "analysis.config": ("streamlit_app", "analysis.reports", "analysis.cli"),
    "analysis.metrics": ("streamlit_app", "analysis.reports", "analysis.cli"),
    "analysis.fmt": ("streamlit_app", "analysis.reports", "analysis.cli"),
    "analysis.text": ("streamlit_app", "analysis.reports", "analysis.cli"),
    "analysis.moderation.responsiveness": ("streamlit_app", "analysis.reports", "analysis.cli"),
}


@pytest.fixture(scope="module")
def graph():
    return grimp.build_graph("analysis", "streamlit_app", cache_dir=None)


@pytest.mark.parametrize("module", REACHED_BY)
def test_app_report_and_cli_reach_the_definition(graph, module):
    for front in REACHED_BY[module]:
        importers = graph.find_downstream_modules(module)
        assert any(m == front or m.startswith(front + ".") for m in importers), f"{front} n'atteint pas {module}"


def test_notebooks_use_the_library_definitions():
    """Notebooks call the library (no own copy of a rule): no points ×100, no period text by hand."""
    for nb in sorted((ROOT / "notebooks").glob("*.ipynb")):
        text = nb.read_text(encoding="utf-8")
        assert "Europe/Paris" not in text, nb.name
        assert not re.search(r"timedelta\(days=1\)\)\}", text), nb.name
