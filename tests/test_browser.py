"""One real load of the app in headless Chromium: `streamlit run` on a free port, a small store,
the « Données » page rendered without any exception on screen, a screenshot in build/screenshots/."""

from __future__ import annotations

import os
import socket
import subprocess
import sys
import time
import urllib.request
from pathlib import Path

import pytest

from tests import app_store

pytestmark = [pytest.mark.browser, pytest.mark.xdist_group("browser")]

ROOT = Path(__file__).resolve().parents[1]
CHROMIUM = Path("/usr/bin/chromium")
SCREENSHOTS = ROOT / "build" / "screenshots"
CHROMIUM_ARGS = ["--headless", "--no-sandbox", "--disable-gpu", "--disable-background-networking",
                 "--disable-component-update", "--disable-sync"]


def _free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


@pytest.fixture()
def server(tmp_path):
    """`streamlit run streamlit_app/app.py` against a small store; yields the base URL."""
    if not CHROMIUM.exists():
        pytest.skip("/usr/bin/chromium absent (CI installs it through .ci/run)")
    pytest.importorskip("playwright.sync_api")
    db = app_store.build(tmp_path / "vigie.duckdb")
    port = _free_port()
    env = {**os.environ, "VIGIE_DB": str(db), "VIGIE_AUTH": "demo", "PYTHONUNBUFFERED": "1"}
    log = (tmp_path / "streamlit.log").open("w")
    proc = subprocess.Popen(
        [sys.executable, "-m", "streamlit", "run", str(ROOT / "streamlit_app" / "app.py"),
         "--server.port", str(port), "--server.address", "127.0.0.1", "--server.headless", "true",
         "--browser.gatherUsageStats", "false", "--server.fileWatcherType", "none"],
        cwd=ROOT, env=env, stdout=log, stderr=subprocess.STDOUT,
    )
    url = f"http://127.0.0.1:{port}"
    try:
        deadline = time.monotonic() + 60
        while True:
            try:
                with urllib.request.urlopen(url + "/_stcore/health", timeout=2) as r:
                    if r.status == 200:
                        break
            except OSError:
                pass
            if proc.poll() is not None or time.monotonic() > deadline:
                log.flush()
                pytest.fail("streamlit did not start:\n" + (tmp_path / "streamlit.log").read_text())
            time.sleep(0.3)
        yield url
    finally:
        proc.terminate()
        try:
            proc.wait(timeout=10)
        except subprocess.TimeoutExpired:
            proc.kill()
        log.close()


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
