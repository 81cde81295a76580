"""Every page of the app (Streamlit AppTest) on the demo store, for every value of every filter.

Filters of the demo data: territory sets (all, our own, our own + its peers, a peer alone),
period presets (30 days, 3 months, 12 months, previous month, a custom range over the crisis),
platforms (all, each of the five), roles (élu, analyste): 240 combinations per page.

- ``make test`` opens each page from a link (URL parameters) for 30 combinations that hold every
  *pair* of filter values at least once (a pairwise covering array: each territory set meets
  each period, each platform and each role; each period meets each platform…), 270 runs.
- ``make test-grid`` (``VIGIE_FULL_GRID=1``) runs the full product, 240 combinations × every
  page, the way a person uses the sidebar: one session per page and territory set, whose
  period, platform and role widgets are changed between runs (2 160 runs, about 10 minutes on
  two cores, which is why ``make test`` runs the covering array).

A run fails on an exception, an error box, or a page that shows nothing but its title.
The demo store comes from ``make test`` (``VIGIE_TEST_DB``); without it these tests skip.
"""

from __future__ import annotations

import ast
import itertools
import os
from datetime import date
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


def pairwise(dims: list[list]) -> list[tuple]:
    """A small set of combinations holding every pair of values of any two dimensions (greedy,
    deterministic: the first combination that covers the most pairs still missing)."""
    def pairs(c: tuple) -> set:
        return {(i, c[i], j, c[j]) for i, j in itertools.combinations(range(len(c)), 2)}

    every = list(itertools.product(*dims))
    missing = set().union(*(pairs(c) for c in every))
    chosen = []
    while missing:
        best = max(every, key=lambda c: len(pairs(c) & missing))  # max keeps the first of ties
        chosen.append(best)
        missing -= pairs(best)
    return chosen


DIMS = [list(TERRITORY_SETS), list(PERIODS), PLATFORMS, ROLES]
COMBOS: list[tuple[str, str, str | None, str]] = pairwise(DIMS)
PAGES = _pages()


def test_the_runs_cover_every_pair_of_filter_values():
    assert len(COMBOS) == 30  # 5 periods × 6 platforms: the least any pairwise set can be
    for i, j in itertools.combinations(range(len(DIMS)), 2):
        assert {(c[i], c[j]) for c in COMBOS} == set(itertools.product(DIMS[i], DIMS[j])), (i, j)
    assert COMBOS[0] == ("tous", "30j", None, "elu")
    assert "synthese.py" in PAGES and len(PAGES) >= 9


@pytest.fixture(scope="module")
def demo_env(demo_db):
    """VIGIE_DB on the read-only demo store for the whole module (the app only reads)."""
    mp = pytest.MonkeyPatch()
    mp.setenv("VIGIE_DB", str(demo_db))
    mp.setenv("VIGIE_AUTH", "demo")
    yield demo_db
    mp.undo()


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


FULL_GRID = os.environ.get("VIGIE_FULL_GRID") == "1"


@pytest.mark.skipif(not FULL_GRID, reason="full filter grid: make test-grid (VIGIE_FULL_GRID=1)")
@pytest.mark.parametrize("page", PAGES)
@pytest.mark.parametrize("terr", list(TERRITORY_SETS))
def test_page_renders_every_combination(demo_env, page, terr):
    """The 60 combinations of one territory set on one page (× 4 sets × every page = the product),
    changed through the sidebar widgets of one session, as a person would."""
    at = AppTest.from_file(str(APP), default_timeout=120)
    at.session_state["vigie_role"] = "elu"
    at.switch_page(f"app_pages/{page}")
    at.run()
    sb = at.sidebar
    sb.multiselect(key="_vf_territoires").set_value(
        TERRITORY_SETS[terr].split(",") if TERRITORY_SETS[terr] else [])
    runs = 0
    for period, platform, role in itertools.product(PERIODS, PLATFORMS, ROLES):
        sb.selectbox(key="_vf_periode").set_value(period)
        sb.multiselect(key="_vf_plateformes").set_value([platform] if platform else [])
        sb.selectbox(key="vigie_role").set_value(role)
        at.run()
        if period == "perso":  # the date picker appears once the custom period is chosen
            at.sidebar.date_input(key="_vf_dates_widget").set_value(
                (date.fromisoformat(PERIODS["perso"]["du"]), date.fromisoformat(PERIODS["perso"]["au"])))
            at.run()
        sb = at.sidebar
        check_page(at, page, (terr, period, platform, role))
        assert at.query_params.get("periode") in ((None, [], [period]) if period == "12m" else (period, [period]))
        runs += 1
    assert runs == len(PERIODS) * len(PLATFORMS) * len(ROLES) == 60


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
