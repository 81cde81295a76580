"""Issue 22 item 2 in headless Chromium: an analyst uploads an export of a page outside the registry
(the result names it, with the registry lines), declares its territory, previews the re-attachment
and applies it; the page then shows every row attached. Screenshots in build/screenshots/."""

from __future__ import annotations

import shutil
from pathlib import Path

import pytest

from tests import app_store
from tests.app_server import CHROMIUM, CHROMIUM_ARGS, SCREENSHOTS, serve

pytestmark = [pytest.mark.browser, pytest.mark.xdist_group("browser")]
FIX = Path(__file__).parent / "fixtures" / "attach"


def test_import_an_unknown_account_then_attach_it(tmp_path):
    if not CHROMIUM.exists():
        pytest.skip("/usr/bin/chromium absent (CI installs it through .ci/run)")
    pytest.importorskip("playwright.sync_api")
    import bcrypt
    from playwright.sync_api import sync_playwright

    from analysis import store, users

    db = app_store.build(tmp_path / "vigie.duckdb")
    registry = tmp_path / "territories.toml"
    shutil.copyfile(FIX / "registry_before.toml", registry)
    users.save_users({"camille": users.User("camille", "analyste", bcrypt.hashpw(b"correct horse battery",
                                                                              bcrypt.gensalt(4)).decode())},
                     tmp_path / "users.toml")
    env = {"VIGIE_AUTH": "", "VIGIE_USERS": str(tmp_path / "users.toml"), "VIGIE_AUTH_DB": str(tmp_path / "auth.sqlite"),
           "VIGIE_REGISTRY": str(registry)}
    SCREENSHOTS.mkdir(parents=True, exist_ok=True)
    with serve(db, tmp_path / "streamlit.log", env=env) as url, sync_playwright() as pw:
        browser = pw.chromium.launch(executable_path=str(CHROMIUM), args=CHROMIUM_ARGS, headless=True)
        page = browser.new_page(viewport={"width": 1400, "height": 2400}, locale="fr-FR")

        def open_donnees() -> None:  # a new browser session: the login form, then the page asked for
            page.goto(url + "/donnees")
            page.get_by_label("Identifiant").fill("camille")
            page.get_by_label("Mot de passe").fill("correct horse battery")
            page.get_by_role("button", name="Se connecter").click()
            page.get_by_role("heading", name="Importer des exports").wait_for(timeout=60_000)

        try:
            open_donnees()
            page.locator("[data-testid='stFileUploaderDropzoneInput']").set_input_files(
                str(FIX / "mbs_posts_unknown_page.csv"))
            page.get_by_role("button", name="Importer").click()
            page.get_by_text("1 compte hors registre").wait_for(timeout=60_000)
            page.locator("[data-testid='stCode']", has_text="104857600000099").first.wait_for(timeout=30_000)
            page.screenshot(path=str(SCREENSHOTS / "attach-1-import.png"), full_page=True)
            # the analyst declares the territory in the registry, then reloads the page
            shutil.copyfile(FIX / "registry_after.toml", registry)
            open_donnees()
            page.get_by_role("button", name="Aperçu du rattachement").click()
            page.get_by_text("seraient rattachés").wait_for(timeout=60_000)
            page.screenshot(path=str(SCREENSHOTS / "attach-2-apercu.png"), full_page=True)
            with store.connect(db, read_only=True) as con:  # the preview wrote nothing
                assert con.execute("SELECT count(*) FROM posts WHERE territory_id IS NULL").fetchone() == (2,)
            page.get_by_role("button", name="Rattacher").click()
            page.get_by_text("2 publications et 0 message rattachés").wait_for(timeout=60_000)
            page.get_by_text("Toutes les publications et tous les messages enregistrés sont rattachés").wait_for(
                timeout=30_000)
            page.screenshot(path=str(SCREENSHOTS / "attach-3-rattache.png"), full_page=True)
            assert page.locator("[data-testid='stException']").count() == 0
            with store.connect(db, read_only=True) as con:
                assert con.execute("SELECT count(*) FROM posts WHERE territory_id = 'lorvan'").fetchone() == (2,)
        finally:
            page.screenshot(path=str(SCREENSHOTS / "attach-last.png"), full_page=True)
            browser.close()
