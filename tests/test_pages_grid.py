"""Every page × every filter combination of the demo data (Streamlit AppTest, issue #11).

4 territory sets × 5 period presets × 6 platforms × 2 roles = 240 combinations for each page
(2 160 runs), changed through the sidebar widgets as a person would: one session per page and
territory set, whose period, platform and role are changed between runs. A run fails on an
exception, an error box, or a page that shows nothing but its title. No xdist group: the 36
tests spread over both workers (about 4½ minutes on two idle cores).
"""

from __future__ import annotations

import itertools
from datetime import date

import pytest
from streamlit.testing.v1 import AppTest

from tests.test_pages_all import (
    APP,
    PAGE_TITLES,
    PAGES,
    PERIODS,
    PLATFORMS,
    ROLES,
    TERRITORY_SETS,
    check_page,
)


@pytest.mark.parametrize("page", PAGES)
@pytest.mark.parametrize("terr", list(TERRITORY_SETS))
def test_page_renders_every_combination(demo_env, page, terr):
    """The 60 combinations of one territory set on one page (× 4 sets × every page = the product),
    changed through the sidebar widgets of one session, as a person would."""
    at = AppTest.from_file(str(APP), default_timeout=120)
    at.session_state["vigie_role"] = "elu"
    at.run()  # the router registers the pages first: switch_page before it rendered Synthèse every time
    at.switch_page(f"app_pages/{page}")
    at.run()
    assert at.main.title[0].value == PAGE_TITLES[page], f"{page}: opened {at.main.title[0].value}"
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
        assert at.main.title[0].value == PAGE_TITLES[page], (page, terr, period, platform, role)
        assert at.query_params.get("periode") in ((None, [], [period]) if period == "12m" else (period, [period]))
        runs += 1
    assert runs == len(PERIODS) * len(PLATFORMS) * len(ROLES) == 60
