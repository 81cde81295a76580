"""Every page of the app (Streamlit AppTest) on the demo store, opened from a link.

Filters of the demo data: territory sets (all, our own, our own + its peers, a peer alone),
period presets (30 days, 3 months, 12 months, previous month, a custom range over the crisis),
platforms (all, each of the five), roles (élu, analyste): 240 combinations per page. Here each
page is opened from a link (URL parameters) six times, every filter value at least once;
``tests/test_pages_grid.py`` runs all 240 combinations of every page through the sidebar.
Bluesky, Mastodon, TikTok and the local press (issue 16) are opened once on every page, and
each run checks that the page shows that platform's data (they are not in the grid: its product
would double).

A run fails on an exception, an error box, or a page that shows nothing but its title.
The demo store comes from ``make test`` (``VIGIE_TEST_DB``); without it these tests skip.
"""

from __future__ import annotations

from pathlib import Path

import pytest
from streamlit.testing.v1 import AppTest

from tests.page_helpers import linked_page, router_pages

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
    return [p[0] for p in router_pages() if (APP.parent / "app_pages" / p[0]).exists()]


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


PAGE_TITLES = {p[0]: p[1] for p in router_pages()}


def test_the_link_runs_cover_every_filter_value():
    assert {c[0] for c in COMBOS} == set(TERRITORY_SETS)
    assert {c[1] for c in COMBOS} == set(PERIODS)
    assert {c[2] for c in COMBOS} == set(PLATFORMS)
    assert {c[3] for c in COMBOS} == set(ROLES)
    assert "synthese.py" in PAGES and len(PAGES) >= 9


def run_page(page: str, terr: str, period: str, platform: str | None, role: str) -> AppTest:
    query = dict(PERIODS[period])
    if TERRITORY_SETS[terr]:
        query["territoires"] = TERRITORY_SETS[terr]
    if platform:
        query["plateformes"] = platform
    return linked_page(page, query, role, timeout=120).run()


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


# Runs that tests/test_golden.py makes identically (same link, same role) and compares element by
# element with tests/golden/: not run twice. Pages without a golden (added later) run every combo.
GOLDEN_RUNS = {("tous", "12m", None, "elu"): "tous-12m__elu", ("nous", "30j", "facebook", "analyste"):
               "nous-30j-facebook__analyste"}
GOLDEN_DIR = Path(__file__).resolve().parent / "golden" / "pages"


def _link_runs() -> list:
    out = []
    for page in PAGES:
        for combo in COMBOS:
            golden = GOLDEN_RUNS.get(combo)
            if golden and (GOLDEN_DIR / page.removesuffix(".py") / f"{golden}.json").exists():
                continue
            out.append(pytest.param(page, combo, id=f"{page}-" + "-".join(str(v) for v in combo)))
    return out


def test_runs_left_to_the_golden_are_made_there():
    """The golden test opens the two skipped links exactly as run_page would (same URL, same role)."""
    from tests import golden

    assert golden.FILTER_SETS["tous-12m"] == {}
    assert golden.FILTER_SETS["nous-30j-facebook"] == {"territoires": "saint-aubin", "periode": "30j",
                                                       "plateformes": "facebook"}
    assert len(_link_runs()) < len(PAGES) * len(COMBOS)


def _headline(page: str, con, f) -> str | None:
    """The page's first headline figure as its read models give it (what the page must show), for
    the pages that open on figures; None for the others."""
    import analysis.ereputation as ER
    import analysis.views.e_reputation as VE
    import analysis.views.moderation as VM
    import analysis.views.synthese as VS

    if page == "synthese.py":
        found = VS.headlines(con, f)["findings"]
        return VS.headline_card(found[0])["metric"]["value"] if found else None
    if page == "e_reputation.py":
        k = ER.focus_kpis(con, f)
        if not ER.focus(con, f) or not k["messages"]:
            return None
        peers = ER.vs_peers(con, f)
        return VE.kpi_cards(k, ER.focus_change(con, f).set_index("metric"),
                            peers.set_index("metric") if len(peers) else None)[0]["value"]
    if page == "moderation.py":
        focus = VM.focus_territory(con, f)
        return None if focus is None else VM.kpis(VM.queue_counts(con, f), VM.responsiveness_view(con, f), focus)[0][1]
    return None


HEADLINE_PAGES = {"synthese.py", "e_reputation.py", "moderation.py"}


@pytest.mark.parametrize(("page", "combo"), _link_runs())
def test_page_renders(demo_env, page, combo):
    at = run_page(page, *combo)
    check_page(at, page, combo)
    if page in HEADLINE_PAGES:  # content, not only « something is drawn »: the headline is its read model's
        from analysis import store

        with store.reader(demo_env) as con:
            expected = _headline(page, con, at.session_state["_vf_result"])
        if expected is not None:
            assert at.main.metric[0].value == expected, (page, combo)
    assert at.main.title[0].value == PAGE_TITLES[page], (page, combo)  # the page asked for, not the home page
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


# ------------------------------------------------------------------------------ Bluesky, Mastodon, TikTok, press
NEW_PLATFORMS = ["bluesky", "mastodon", "tiktok", "press"]
LABELS = {"bluesky": "Bluesky", "mastodon": "Mastodon", "tiktok": "TikTok", "press": "Presse locale"}
SOCIAL = ("bluesky", "mastodon", "tiktok")  # official accounts: posts and followers


def _territories_on(platform: str) -> set[str]:
    """Names of the demo territories with data on ``platform`` (registry accounts, or feeds for the press)."""
    from analysis.registry import load_registry

    reg = load_registry()
    if platform == "press":
        return {t.name for t in reg.territories if t.watch.feeds}
    return {t.name for t in reg.territories if any(a.platform == platform for a in t.accounts)}


def _tables(at: AppTest, *first_columns: str) -> list:
    """The page's tables whose columns start with ``first_columns``."""
    n = len(first_columns)
    return [d.value for d in at.main.dataframe if tuple(str(c) for c in d.value.columns[:n]) == first_columns]


def _number(text: str) -> float:
    digits = "".join(ch for ch in str(text).replace(",", ".") if ch.isdigit() or ch in ".-−")
    return float(digits.replace("−", "-")) if digits.strip(".-−") else float("nan")


def _metrics(at: AppTest) -> dict[str, str]:
    return {m.label: str(m.value) for m in at.main.metric}


def _boxes(at: AppTest) -> str:
    return " ".join(str(b.value) for b in (*at.main.info, *at.main.warning, *at.main.success))


def expect_synthese(at: AppTest, platform: str) -> None:
    m = _metrics(at)
    assert _number(m["Messages reçus"]) > 0
    assert (m["Abonnés (fin de période)"] == "—") == (platform == "press")
    assert (m["Engagement par publication"] == "—") == (platform == "press")


def expect_e_reputation(at: AppTest, platform: str) -> None:
    assert _number(_metrics(at)["Messages reçus"]) > 0
    [by_platform] = _tables(at, "Plateforme", "Messages")
    assert by_platform["Plateforme"].tolist() == [LABELS[platform]] and by_platform["Messages"].iloc[0] > 0
    [peers] = _tables(at, "Territoire", "Messages", "Évalués")
    assert set(peers["Territoire"]) - {"Ensemble des pairs"} == _territories_on(platform)


def expect_thematiques(at: AppTest, platform: str) -> None:
    assert _number(_metrics(at)["Messages publics"]) > 0
    [by_territory] = [d for d in _tables(at, "Thème") if "Nos publications" not in d.columns
                      and "Messages" not in d.columns]
    assert set(by_territory.columns[1:]) == _territories_on(platform)


def expect_audience(at: AppTest, platform: str) -> None:
    if platform == "press":  # articles, no followers: said, not drawn as zero
        assert "Aucun total d'abonnés exporté" in _boxes(at)
        return
    assert _number(_metrics(at)["Abonnés (fin de période)"]) > 0
    [growth] = _tables(at, "Territoire", "Réseau")
    assert set(growth["Réseau"]) == {LABELS[platform], "tous réseaux confondus"}
    assert set(growth["Territoire"]) == _territories_on(platform)
    if platform == "tiktok":  # TikTok Studio's gender and territories breakdowns
        texts = " ".join(m.value for m in at.main.markdown)
        assert "des abonnés TikTok" in texts
        [countries] = _tables(at, "Lieu", "Part")
        assert "France" in set(countries["Lieu"])


def expect_campagnes(at: AppTest, platform: str) -> None:
    best = _tables(at, "Date", "Plateforme", "Engagement")
    if platform == "press":
        assert not best and "Aucune publication avec des interactions" in _boxes(at)
        return
    assert best and all(set(d["Plateforme"]) == {LABELS[platform]} for d in best)


def expect_benchmark(at: AppTest, platform: str) -> None:
    [side] = _tables(at, "Territoire", "Groupe de taille")
    assert _number(_metrics(at)["Part de voix (mentions)"]) > 0
    if platform == "press":
        assert "la presse locale n'en a pas" in _boxes(at)
        named = side.loc[side["Part de voix (mentions)"].fillna(0) > 0, "Territoire"]
        assert set(named) == _territories_on("press")
        return
    with_posts = set(side.loc[side["Publications"].fillna(0) > 0, "Territoire"])
    assert with_posts == _territories_on(platform)


def expect_moderation(at: AppTest, platform: str) -> None:
    queue = _tables(at, "Priorité", "Date", "Plateforme")
    if platform == "press":  # articles need no answer: never in the queue
        assert not queue and _metrics(at)["Messages à traiter"] == "0"
        return
    [queue] = queue
    assert len(queue) > 0 and set(queue["Plateforme"]) == {LABELS[platform]}
    [reply] = _tables(at, "Territoire", "Plateforme", "Créneau")
    assert set(reply["Plateforme"]) == {LABELS[platform]}
    if platform != "tiktok":  # official replies threaded under the messages: response times
        assert reply["Réponses"].sum() > 0 and _metrics(at)["Taux de réponse"].endswith("%")


def expect_donnees(at: AppTest, platform: str) -> None:
    [cov] = _tables(at, "Territoire", "Plateforme", "Premier mois")
    assert set(cov["Plateforme"]) == {LABELS[platform]} and set(cov["Territoire"]) == _territories_on(platform)
    [runs] = _tables(at, "Source", "Territoire", "Dernière collecte")
    assert cov["Messages"].sum() > 0 and (cov["Publications"].sum() > 0) == (platform != "press")
    if platform == "tiktok":  # exports (Studio, 4CAT), not collected
        assert not runs["Source"].str.startswith("TikTok").any()
        return
    mine = runs[runs["Source"].str.startswith(LABELS[platform] + " · ")]
    assert len(mine) >= len(_territories_on(platform)) and set(mine["Statut"]) == {"réussie"}
    assert mine["Ajoutées"].sum() > 0


EXPECT = {"synthese.py": expect_synthese, "e_reputation.py": expect_e_reputation,
          "thematiques.py": expect_thematiques, "audience.py": expect_audience, "campagnes.py": expect_campagnes,
          "benchmark.py": expect_benchmark, "moderation.py": expect_moderation, "donnees.py": expect_donnees}


@pytest.mark.parametrize("page", PAGES)
@pytest.mark.parametrize("platform", NEW_PLATFORMS)
def test_page_shows_new_platform(demo_env, page, platform):
    """Every territory over 12 months (the pages compare ours with its peers), one new platform."""
    combo = ("tous", "12m", platform, "analyste")
    at = run_page(page, *combo)
    check_page(at, page, combo)
    assert at.main.title[0].value == PAGE_TITLES[page]
    assert at.query_params.get("plateformes") in (platform, [platform])
    if page in EXPECT:  # Rapports draws its form whatever the filters
        EXPECT[page](at, platform)
