"""Issue 20, part A, in a real browser: every page of the app, on a store full of hostile strings,
loads nothing from any host but the app's own (10: the page icon came from fonts.gstatic.com; 1: a
markdown image in an account name was a tracking pixel), renders no link or image of the attacker
(1), and offers no « Download as CSV » in the tables' toolbar (4)."""

from __future__ import annotations

from pathlib import Path
from urllib.parse import urlparse

import pytest

from tests.app_server import CHROMIUM, CHROMIUM_ARGS, SCREENSHOTS, serve
from tests.app_store import HOST, build_payload
from tests.test_browser_pages import PAGES

pytestmark = [pytest.mark.browser, pytest.mark.xdist_group("browser_offline")]

LOCAL = {"127.0.0.1", "localhost"}


@pytest.fixture(scope="module")
def server(demo_db, tmp_path_factory):
    if not CHROMIUM.exists():
        pytest.skip("/usr/bin/chromium absent (CI installs it through .ci/run)")
    pytest.importorskip("playwright.sync_api")
    tmp = tmp_path_factory.mktemp("offline")
    db = build_payload(demo_db, tmp / "vigie.duckdb")
    with serve(db, tmp / "streamlit.log", timeout=120) as url:
        yield url


def _wait_idle(page, timeout_ms: int = 90_000) -> None:
    page.wait_for_timeout(800)
    page.locator("[data-testid='stStatusWidget']").wait_for(state="detached", timeout=timeout_ms)
    page.wait_for_timeout(500)


def _outside(url: str) -> bool:
    u = urlparse(url)
    return u.scheme not in ("data", "blob", "about") and u.hostname not in LOCAL


def test_every_page_stays_on_the_server_and_renders_no_payload(server):
    from playwright.sync_api import TimeoutError as PlaywrightTimeout
    from playwright.sync_api import sync_playwright

    SCREENSHOTS.mkdir(parents=True, exist_ok=True)
    requests: list[str] = []
    with sync_playwright() as pw:
        browser = pw.chromium.launch(executable_path=str(CHROMIUM), args=CHROMIUM_ARGS, headless=True)
        try:
            ctx = browser.new_context(viewport={"width": 1440, "height": 1000}, locale="fr-FR")
            ctx.on("request", lambda r: requests.append(r.url))
            page = ctx.new_page()
            page.goto(server + "/", wait_until="domcontentloaded")
            page.locator("[data-testid='stSidebarNav']").wait_for(timeout=90_000)
            _wait_idle(page)
            seen_tables = 0
            # The analyst's pages show every string an élu's show, and more (authors' names, texts in
            # full): one pass as the analyst. Both roles' pages are checked for payloads rendered as
            # markup by tests/test_security_app_attacks.py (AppTest, every page × both roles).
            for role in ("Analyste",):
                page.locator("[data-testid='stSidebar'] [data-testid='stSelectbox']").first.click()
                page.get_by_role("option", name=role).click()
                _wait_idle(page)
                for _file, title, _path in PAGES:
                    page.locator("[data-testid='stSidebarNav']").get_by_text(title, exact=True).click()
                    _wait_idle(page)
                    # whatever escaping failed would show here: an active link or image to the attacker
                    hostile = page.locator(f"a[href*='{HOST}'], img[src*='{HOST}'], iframe[src*='{HOST}'], "
                                           f"script[src*='{HOST}'], source[src*='{HOST}']")
                    assert hostile.count() == 0, (title, role, hostile.first.evaluate("e => e.outerHTML"))
                    tables = page.locator("[data-testid='stDataFrame']:visible")
                    if not tables.count():  # the script ended; the grid may be drawn a moment later
                        try:
                            tables.first.wait_for(state="visible", timeout=3_000)
                        except PlaywrightTimeout:
                            pass  # a page without a table
                    if tables.count():
                        seen_tables += 1
                        tables.first.scroll_into_view_if_needed()
                        tables.first.hover()
                        page.wait_for_timeout(300)
                        assert page.get_by_role("button", name="Download as CSV").count() == 0, title
                        assert page.locator("[data-testid='stElementToolbar']").count() > 0  # the toolbar is there
                    assert page.locator("[data-testid='stException']").count() == 0, title
                    # what the page points the browser at (a favicon is not always a reported request)
                    requests.extend(page.evaluate(
                        "() => [...document.querySelectorAll('link[href], img[src], script[src], iframe[src], "
                        "source[src], video[src], audio[src]')].map(e => e.href || e.src)"))
            # 8 pages hold a table; on a loaded machine a late one is sometimes not drawn yet when
            # the page is read (7 seen once in CI): the toolbar check needs a handful, not all
            assert seen_tables >= 5
            page.screenshot(path=str(SCREENSHOTS / "offline-last-page.png"), full_page=False)
        finally:
            browser.close()
    outside = sorted({u for u in requests if _outside(u)})
    assert requests and not outside, outside


def test_page_icon_is_a_file_of_the_app():
    app = (Path(__file__).resolve().parents[1] / "streamlit_app" / "app.py").read_text(encoding="utf-8")
    assert 'page_icon=str(ICON)' in app and ":material/visibility:" not in app
    icon = Path(__file__).resolve().parents[1] / "streamlit_app" / "assets" / "vigie.png"
    assert icon.read_bytes().startswith(b"\x89PNG")


def test_idle_page_returns_to_the_login_form_by_itself(tmp_path):
    """11d: a screen left open must not keep showing data; the timer brings the page back to the form."""
    if not CHROMIUM.exists():
        pytest.skip("/usr/bin/chromium absent (CI installs it through .ci/run)")
    pytest.importorskip("playwright.sync_api")
    import time

    import bcrypt
    from playwright.sync_api import sync_playwright

    from analysis import users
    from tests import app_store

    db = app_store.build(tmp_path / "vigie.duckdb")
    users.save_users({"camille": users.User("camille", "analyste", bcrypt.hashpw(b"correct horse battery",
                                                                              bcrypt.gensalt(4)).decode())},
                     tmp_path / "users.toml")
    env = {"VIGIE_AUTH": "", "VIGIE_USERS": str(tmp_path / "users.toml"),
           "VIGIE_AUTH_DB": str(tmp_path / "auth.sqlite"), "VIGIE_IDLE_MINUTES": "0.25"}
    with serve(db, tmp_path / "streamlit.log", env=env) as url, sync_playwright() as pw:
        browser = pw.chromium.launch(executable_path=str(CHROMIUM), args=CHROMIUM_ARGS, headless=True)
        try:
            page = browser.new_page(viewport={"width": 1300, "height": 900}, locale="fr-FR")
            page.goto(url)
            page.get_by_label("Identifiant").fill("camille")
            page.get_by_label("Mot de passe").fill("correct horse battery")
            page.get_by_role("button", name="Se connecter").click()
            page.get_by_text("Connecté·e").wait_for(timeout=60_000)
            # the sidebar shows the user before the page has drawn its title: wait for the page
            page.get_by_role("heading", name="Synthèse").wait_for(timeout=60_000)
            t0 = time.monotonic()
            page.get_by_text("Vigie — connexion").wait_for(timeout=60_000)  # nobody touched the page
            assert time.monotonic() - t0 >= 5
            assert "15 secondes sans activité" in page.locator("[data-testid='stAlert']").first.inner_text()
            assert page.get_by_role("heading", name="Synthèse").count() == 0
        finally:
            browser.close()
