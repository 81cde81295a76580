"""Every page of the app (Streamlit AppTest) on the demo store, opened from a link.

Filters of the demo data: territory sets (all, our own, our own + its peers, a peer alone),
period presets (30 days, 3 months, 12 months, previous month, a custom range over the crisis),
platforms (all, each of the five), roles (élu, analyste): 240 combinations per page. Here each
page is opened from a link (URL parameters) six times, every filter value at least once;
``tests/test_pages_grid.py`` runs all 240 combinations of every page through the sidebar.

A run fails on an exception, an error box, or a page that shows nothing but its title.
The demo store comes from ``make test`` (``VIGIE_TEST_DB``); without it these tests skip.
"""

from __future__ import annotations

import ast
from pathlib import Path

import pytest
from streamlit.testing.v1 import AppTest

# module fixtures are expensive: keep this file on one xdist worker so they are built once
pytestmark = pytest.mark.xdist_group("pages_all")

APP = Path(__file__).resolve().parents[1] / "streamlit_app" / "app.py"

TERRITORY_SETS: dict[str, str | None] = {
    "tous": None,
    "nous": "saint-aubin",
    "nous+pairs": "saint-aubin,port-marel,villeneuve-les-sources,bourg-lavande,montclar-agglo",
    "un-pair": "port-marel",
}
PERIODS: dict[str, dict[str, str]] = {
    "30j": {"periode": "30j"},
    "3m": {"periode": "3m"},
    "12m": {},  # the default preset: no parameter in the URL
    "mois-precedent": {"periode": "mois-precedent"},
    "perso": {"periode": "perso", "du": "2026-03-01", "au": "2026-03-31"},
}
PLATFORMS = [None, "facebook", "instagram", "x", "linkedin", "youtube"]
ROLES = ["elu", "analyste"]


def _pages() -> list[str]:
    tree = ast.parse(APP.read_text(encoding="utf-8"))
    for node in ast.walk(tree):
        if isinstance(node, ast.AnnAssign) and getattr(node.target, "id", None) == "PAGES":
            files = [p[0] for p in ast.literal_eval(node.value)]
            return [f for f in files if (APP.parent / "app_pages" / f).exists()]
    raise AssertionError("PAGES not found in app.py")


# Opened from a link (URL parameters), six runs per page: every territory set, period preset,
# platform and role appears at least once, the default view (all, 12 months, every platform)
# first. Every combination is run through the sidebar by tests/test_pages_grid.py.
COMBOS: list[tuple[str, str, str | None, str]] = [
    ("tous", "12m", None, "elu"),
    ("nous", "30j", "facebook", "analyste"),
    ("nous+pairs", "3m", "instagram", "elu"),
    ("un-pair", "mois-precedent", "x", "analyste"),
    ("tous", "perso", "linkedin", "elu"),
    ("nous", "12m", "youtube", "analyste"),
]
PAGES = _pages()


def test_the_link_runs_cover_every_filter_value():
    assert {c[0] for c in COMBOS} == set(TERRITORY_SETS)
    assert {c[1] for c in COMBOS} == set(PERIODS)
    assert {c[2] for c in COMBOS} == set(PLATFORMS)
    assert {c[3] for c in COMBOS} == set(ROLES)
    assert "synthese.py" in PAGES and len(PAGES) >= 9


def run_page(page: str, terr: str, period: str, platform: str | None, role: str) -> AppTest:
    at = AppTest.from_file(str(APP), default_timeout=120)
    query = dict(PERIODS[period])
    if TERRITORY_SETS[terr]:
        query["territoires"] = TERRITORY_SETS[terr]
    if platform:
        query["plateformes"] = platform
    for k, v in query.items():
        at.query_params[k] = v
    at.session_state["vigie_role"] = role
    at.switch_page(f"app_pages/{page}")
    at.run()
    return at


CONTENT = ("metric", "dataframe", "table", "markdown", "info", "success", "warning", "caption", "header",
           "selectbox", "button", "radio", "expander")


def main_content(at: AppTest) -> int:
    """Number of elements the page itself drew in the main area (the sidebar excluded)."""
    return sum(len(getattr(at.main, kind)) for kind in CONTENT) + len(at.main.get("arrow_vega_lite_chart"))


def check_page(at: AppTest, page: str, combo: tuple) -> None:
    """The failures a user would see: an exception, an error box, a page with only its title."""
    assert not at.exception, (page, combo, [e.value for e in at.exception])
    # Errors a user could meet say so in an error box: none is expected on the demo store.
    assert not at.main.error, (page, combo, [e.value for e in at.main.error])
    assert at.main.title, f"{page} {combo}: no title"
    assert main_content(at) >= 2, f"{page} {combo}: the page shows nothing but its title"


@pytest.mark.parametrize("page", PAGES)
@pytest.mark.parametrize("combo", COMBOS, ids=lambda c: "-".join(str(v) for v in c))
def test_page_renders(demo_env, page, combo):
    at = run_page(page, *combo)
    check_page(at, page, combo)
    # The sidebar filters are drawn on every page and keep the link's territories.
    if TERRITORY_SETS[combo[0]]:
        assert at.query_params.get("territoires") in (TERRITORY_SETS[combo[0]], [TERRITORY_SETS[combo[0]]])


def test_chart_titles_wrap_for_a_phone_without_splitting_dates():
    import pandas as pd

    from analysis import charts
    from streamlit_app.ui import wrap_title

    title = "Saint-Aubin-sur-Loire : 4e sentiment net sur 5 territoires comparés (+14 points)"
    sub = "Sentiment net des messages reçus, du 1 nov. 2025 au 31 oct. 2026 (de −100 à +100)"
    c = charts.bar(pd.DataFrame({"v": [1.0], "t": ["a"]}), "v", "t", title=title, subtitle=sub)
    phone = wrap_title(c, phone=True).to_dict()["title"]
    assert phone["text"] == ["Saint-Aubin-sur-Loire : 4e", "sentiment net sur 5", "territoires comparés",
                             "(+14\u00a0points)"]
    assert "31\u00a0oct.\u00a02026 (de −100 à +100)" in phone["subtitle"][-1]
    assert all(len(line) <= 44 for line in phone["subtitle"])
    desktop = wrap_title(c, phone=False).to_dict()["title"]
    assert desktop["text"] == title and desktop["subtitle"] == sub  # fits one line of a desktop
