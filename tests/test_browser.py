"""One real load of the app in headless Chromium: `streamlit run` on a free port, a small store,
the « Données » page rendered without any exception on screen, a screenshot in build/screenshots/."""

from __future__ import annotations

import pytest

from tests import app_store
from tests.app_server import CHROMIUM, CHROMIUM_ARGS, SCREENSHOTS, serve

pytestmark = [pytest.mark.browser, pytest.mark.xdist_group("browser")]

@pytest.fixture()
def server(tmp_path):
    """`streamlit run streamlit_app/app.py` against a small store; yields the base URL."""
    if not CHROMIUM.exists():
        pytest.skip("/usr/bin/chromium absent (CI installs it through .ci/run)")
    pytest.importorskip("playwright.sync_api")
    db = app_store.build(tmp_path / "vigie.duckdb")
    with serve(db, tmp_path / "streamlit.log") as url:
        yield url


def _wait_idle(page, timeout_ms: int = 45_000) -> None:
    """Wait until Streamlit has finished running the script (its status widget is gone)."""
    page.wait_for_timeout(500)
    page.locator("[data-testid='stStatusWidget']").wait_for(state="detached", timeout=timeout_ms)


def test_donnees_page_loads_in_headless_chromium(server):
    from playwright.sync_api import sync_playwright

    SCREENSHOTS.mkdir(parents=True, exist_ok=True)
    with sync_playwright() as pw:
        browser = pw.chromium.launch(executable_path=str(CHROMIUM), args=CHROMIUM_ARGS, headless=True)
        try:
            page = browser.new_page(viewport={"width": 1400, "height": 3200}, locale="fr-FR")
            # Open the home page with filters in the link, then go to « Données » through the menu
            # (when other pages exist): the filters must survive the page switch.
            page.goto(server + "/?territoires=saint-aubin,port-marel", wait_until="domcontentloaded")
            # Deliberately no wait for the home page to finish: a menu click during a run must
            # not lose the filters either.
            page.locator("[data-testid='stSidebarNav']").wait_for(timeout=45_000)
            nav = page.locator("[data-testid='stSidebarNav']").get_by_text("Données", exact=True)
            if nav.count():
                nav.click()
            page.get_by_text("Journal des imports", exact=True).wait_for(timeout=45_000)
            page.get_by_text("Carte de couverture de 3 couples").wait_for(timeout=30_000)
            # Vega renders the heatmap asynchronously: wait for its SVG/canvas.
            page.locator("[data-testid='stVegaLiteChart'] canvas, [data-testid='stVegaLiteChart'] svg") \
                .first.wait_for(timeout=30_000)
            # Tables are drawn on a canvas once visible: wait for every one of them.
            page.locator("[data-testid='stDataFrame']").first.wait_for(state="attached", timeout=30_000)
            _wait_idle(page)
            page.wait_for_timeout(1000)
            page.screenshot(path=str(SCREENSHOTS / "donnees.png"), full_page=True)
            assert page.locator("[data-testid='stException']").count() == 0
            body = page.locator("body").inner_text()
            assert "Traceback" not in body
            assert "Mode démonstration sans authentification" in body
            assert "Saint-Aubin-sur-Loire" in body
            # The filters of the link are kept in the URL.
            assert "territoires=saint-aubin" in page.url, page.url
        finally:
            if "page" in locals():  # also on failure: the screenshot shows what went wrong
                page.screenshot(path=str(SCREENSHOTS / "donnees.png"), full_page=True)
            browser.close()
