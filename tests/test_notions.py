"""One notion, one function (issue 18, DESIGN.md rule 11): each notion below has one definition, in
the module a newcomer opens first, and no copy of its rule elsewhere; the app, the report and the
CLI (and the notebooks where they show it) reach that one definition."""

from __future__ import annotations

import re
from pathlib import Path

import duckdb
import grimp
import pandas as pd
import pytest

from analysis import ereputation as er
from analysis.moderation import alerts as al
from analysis.queries import Filters
from analysis.registry import load_registry

ROOT = Path(__file__).resolve().parents[1]
# Files reworked in parallel by another engineer (issue 18 item 4): not checked here.
NOT_OURS = ("analysis/sentiment/", "analysis/moderation/toxicity.py")

# notion → (the one definition "module:function", copies that must not exist: (regex, allowed files))
NOTIONS: dict[str, tuple[str, list[tuple[str, tuple[str, ...]]]]] = {
    "own territory": ("analysis.territories:own_territory",
                      [(r"WHERE kind\s*=\s*'own'", ("analysis/territories.py",))]),
    "peers": ("analysis.territories:peers_of",
              [(r"SELECT (territory_id, )?peers FROM territories", ("analysis/territories.py",)),
               (r"def peers_of\(", ("analysis/territories.py",))]),
    "focus territory": ("analysis.territories:focus_territory",
                        [(r"return f\.territories\[0\]", ())]),
    "local timezone": ("analysis.config:LOCAL_TZ", [(r"[\"']Europe/Paris[\"']", ("analysis/config.py", "analysis/demo/writers_meta.py", "analysis/ingest/generic.py"))]),
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
    # one detector for the E-réputation page, the alerts, the report and the campaigns' crisis warning;
    # its thresholds once (NEGATIVE_SPIKE), the page's caption written from them (spike_rule_text)
    "negative spikes": ("analysis.ereputation:detect_spikes",
                        [(r"def detect_spikes\(", ("analysis/ereputation/spikes.py",)),
                         (r"[\"']negative_spike[\"']: SpikeParams\(", ()),
                         (r"NEGATIVE_SPIKE = ", ("analysis/ereputation/spikes.py",)),
                         (r"(sur 10 000|au moins 8 messages négatifs|aux 8 semaines précédentes)", ())]),
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
    "analysis.ereputation": ("streamlit_app", "analysis.reports", "analysis.cli", "analysis.moderation.alerts"),
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


@pytest.mark.parametrize("start,end", [("2026-03-01", "2026-04-01"), ("2026-10-01", "2026-11-01"),
                                       ("2026-03-09", "2026-03-16")])
def test_page_and_alerts_list_the_same_negative_spikes(demo_db, start, end):
    """For the same store and period (a month, a week), the E-réputation page's spikes (its read model
    ``explained_spikes``) and the « Pic de messages négatifs » alerts are the same episodes."""
    s, e = pd.Timestamp(start).date(), pd.Timestamp(end).date()
    with duckdb.connect(str(demo_db), read_only=True) as con:
        f = Filters(start=s, end=e)
        focus = er.focus(con, f)
        page = [(x.territory_id, x.start, x.end, x.negative) for x in er.explained_spikes(con, f)]
        found, _ = al.evaluate(con, load_registry(), list(focus), since=s, until=e)
    alerts = [(a.territory_id, a.period_start.date(), (a.period_end - pd.Timedelta(days=1)).date(),
               a.evidence["negative"]) for a in found if a.rule == "negative_spike"]
    assert sorted(page) == sorted(alerts)
    if start == "2026-03-01":
        assert page, "the demo's March crisis is a negative spike"


def test_spike_caption_is_written_from_the_thresholds():
    """The page's caption comes from NEGATIVE_SPIKE: another threshold, another text (no copied numbers)."""
    text = er.spike_rule_text()
    assert "au moins 8 messages négatifs" in text and "1 sur 10\u00a0000" in text.replace("\u202f", "\u00a0")
    other = er.spike_rule_text(er.SpikeParams(min_count=12, alpha=1e-3, baseline_weeks=6))
    assert "au moins 12 messages négatifs" in other and "aux 6 semaines" in other and "1 sur 1" in other
    page = (ROOT / "streamlit_app/app_pages/e_reputation.py").read_text(encoding="utf-8")
    assert "V.SPIKE_CAPTION" in page and "SPIKE_CAPTION = spike_rule_text(NEGATIVE_SPIKE)" in (
        ROOT / "analysis/views/e_reputation.py").read_text(encoding="utf-8")


PAGE_FILES = sorted(p.stem for p in (ROOT / "streamlit_app" / "app_pages").glob("*.py"))


@pytest.mark.parametrize("page", PAGE_FILES)
def test_page_is_thin(page):
    """Issue 18 item 3: a page is layout only (read models in analysis/views, charts in analysis/charts),
    at most 150 lines, and builds no Altair chart itself."""
    text = (ROOT / "streamlit_app" / "app_pages" / f"{page}.py").read_text(encoding="utf-8")
    assert len(text.splitlines()) <= 150, page
    assert "import altair" not in text and "alt.Chart(" not in text, page


@pytest.mark.parametrize("page", PAGE_FILES)
def test_page_writes_through_the_one_write_policy(page):
    """Issue 18 item 3: one error policy for writes from pages — data.write (or data.attempt in a button
    callback), never a writer session opened by the page with its own messages."""
    text = (ROOT / "streamlit_app" / "app_pages" / f"{page}.py").read_text(encoding="utf-8")
    assert "data.writer(" not in text and "store.writer(" not in text, page
