"""Issue 22 in headless Chromium: the two workflows, end to end, as their users work.

- **The analyst** (camille, password login) opens a link to E-réputation, corrects a label, defines a
  campaign with the form's defaults, works the moderation queue (one decision, the counter follows,
  the queue exported), imports a page outside the registry, declares it and attaches it.
- **The communication director** (dominique) produces the month's report on the Rapports page,
  downloads the PDF and reads it: the file is the one the displayed `vigie report` command makes,
  byte for byte, and it is compact.

One `streamlit run` on a writable copy of the demo store (``make test``'s), with its own users,
registry and audit files. Screenshots of every step in ``build/screenshots/parcours-*.png`` (and the
report's first page as an image): look at them.
"""

from __future__ import annotations

import re
import shlex
import shutil
import subprocess
from pathlib import Path

import pytest

from analysis import store, users
from tests.app_server import CHROMIUM, SCREENSHOTS, chromium, serve
from tests.cli_inproc import run_cli
from tests.test_browser_french import check_no_english

pytestmark = [pytest.mark.browser, pytest.mark.xdist_group("browser_parcours")]

ROOT = Path(__file__).resolve().parents[1]
FIX = Path(__file__).parent / "fixtures" / "attach"
PASSWORD = "correct horse battery"
LORVAN = """
# Ajouté par l'analyste après l'import : le territoire de la page jusque-là hors registre.
[[territory]]
id = "lorvan"
name = "Lorvan"
population = 12400
kind = "peer"

  [[territory.account]]
  platform = "facebook"
  native_id = "104857600000099"
  name = "Ville de Lorvan"
"""


@pytest.fixture(scope="module")
def app(demo_db, tmp_path_factory):
    """The app on a writable copy of the demo store; yields (url, store path, registry path)."""
    if not CHROMIUM.exists():
        pytest.skip("/usr/bin/chromium absent (CI installs it through .ci/run)")
    pytest.importorskip("playwright.sync_api")
    import bcrypt

    tmp = tmp_path_factory.mktemp("parcours")
    db = tmp / "vigie.duckdb"
    shutil.copyfile(demo_db, db)
    shutil.copyfile(demo_db.with_name(demo_db.name + ".read"), db.with_name(db.name + ".read"))
    registry = tmp / "territories.toml"
    shutil.copyfile(ROOT / "data" / "territories.toml", registry)
    hashed = bcrypt.hashpw(PASSWORD.encode(), bcrypt.gensalt(4)).decode()
    users.save_users({name: users.User(name, "analyste", hashed) for name in ("camille", "dominique")},
                     tmp / "users.toml")
    env = {"VIGIE_AUTH": "", "VIGIE_USERS": str(tmp / "users.toml"), "VIGIE_AUTH_DB": str(tmp / "auth.sqlite"),
           "VIGIE_REGISTRY": str(registry)}
    with serve(db, tmp / "streamlit.log", env=env) as url:
        yield url, db, registry, env


@pytest.fixture(scope="module")
def browser(app):
    with chromium() as b:
        yield b


def _idle(page, timeout: int = 120_000) -> None:
    """The script run is over (Streamlit's run-state attribute)."""
    page.wait_for_function(
        "() => { const a = document.querySelector('[data-testid=stApp]');"
        " return a && a.dataset.testScriptState === 'notRunning'"
        " && a.dataset.testConnectionState === 'CONNECTED'; }", timeout=timeout)
    page.wait_for_timeout(300)


def _goto(page, heading: str) -> None:
    """To another page through the sidebar menu, as a user does (same session, filters kept)."""
    page.locator("[data-testid='stSidebarNav']").get_by_role("link", name=heading, exact=True).click()
    page.get_by_role("heading", name=heading, exact=True).first.wait_for(timeout=120_000)
    _idle(page)


def _login(page, url: str, path: str, name: str, heading: str) -> None:
    """A link opened logged out: the login form, then the page the link asked for."""
    page.goto(url + path, wait_until="domcontentloaded")
    page.get_by_label("Identifiant").fill(name)
    page.get_by_label("Mot de passe").fill(PASSWORD)
    page.get_by_role("button", name="Se connecter").click()
    page.get_by_role("heading", name=heading, exact=True).first.wait_for(timeout=120_000)
    _idle(page)


def _pick(page, label: str, nth: int = 0) -> str:
    """Open the choice list labelled ``label`` and take its option number ``nth``; returns its text."""
    box = page.locator("[data-testid='stSelectbox'], [data-testid='stMultiSelect']").filter(has_text=label).first
    box.scroll_into_view_if_needed()
    box.locator("[role='combobox']").first.click()
    listbox = page.get_by_role("listbox").last
    listbox.wait_for(timeout=30_000)
    option = listbox.locator("[role='option']").nth(nth)
    text = option.inner_text()
    option.click()
    if box.get_attribute("data-testid") == "stMultiSelect":
        page.keyboard.press("Escape")  # a multiselect's list stays open
    _idle(page)
    return text


def _shot(page, name: str) -> None:
    SCREENSHOTS.mkdir(parents=True, exist_ok=True)
    page.screenshot(path=str(SCREENSHOTS / f"parcours-{name}.png"), full_page=True)


def _no_error(page) -> None:
    assert page.locator("[data-testid='stException']").count() == 0
    errors = page.locator("[data-testid='stAlertContentError']")
    assert errors.count() == 0, errors.first.inner_text()


def _q(db: Path, sql: str, params: list | None = None) -> list[tuple]:
    with store.connect(db, read_only=True) as con:
        return con.execute(sql, params or []).fetchall()


def test_analyst_day(app, browser):
    url, db, registry, _ = app
    page = browser.new_page(viewport={"width": 1440, "height": 1000}, locale="fr-FR")
    try:
        # 1. A link to E-réputation, logged out: the page asked for after login; a correction signed by her.
        _login(page, url, "/e-reputation?territoires=saint-aubin&periode=3m", "camille", "E-réputation")
        assert "periode=3m" in page.url and "territoires=saint-aubin" in page.url, page.url  # filters kept
        page.get_by_role("heading", name="Corriger une étiquette").scroll_into_view_if_needed()
        assert page.get_by_label("Votre nom").count() == 0  # no free name field any more
        _pick(page, "Message (le modèle hésite)")
        page.locator("[data-testid='stRadio']").filter(has_text="Ton correct").get_by_text("Positif").click()
        page.get_by_role("button", name="Enregistrer la correction").click()
        page.get_by_text("Correction enregistrée").wait_for(timeout=60_000)
        _no_error(page)
        _shot(page, "1-correction")
        assert _q(db, "SELECT author FROM labels WHERE task = 'sentiment' ORDER BY created_at DESC LIMIT 1") == [
            ("camille",)]

        # 2. A campaign with the form's default dates: inside the data, saved without a warning.
        _goto(page, "Campagnes")
        form = page.locator("[data-testid='stForm']").filter(has_text="Identifiant court")
        form.get_by_role("textbox", name="Nom", exact=True).fill("Marché de Noël")
        form.get_by_role("textbox", name="Identifiant court", exact=True).fill("noel-parcours")
        form.get_by_role("textbox", name="Hashtags (séparés par des virgules)", exact=True).fill("#NoelSaintAubin")
        form.get_by_role("textbox", name="Budget (€)", exact=True).fill("1 500")
        form.get_by_role("button", name="Enregistrer la campagne").click()
        page.get_by_text("Campagne « Marché de Noël » enregistrée").wait_for(timeout=60_000)
        _no_error(page)
        _shot(page, "2-campagne")
        [(start, end, budget)] = _q(db, "SELECT start_date, end_date, budget FROM campaigns WHERE campaign_id = "
                                        "'noel-parcours'")
        [(last,)] = _q(db, "SELECT max(created_at)::DATE FROM messages")
        assert start < end <= last and budget == 1500  # the defaults lie inside the data
        saved = page.locator("[data-testid='stAlertContentSuccess']").first.inner_text()
        assert "⚠" not in saved, saved  # no warning for a window inside the data

        # 3. The moderation queue: one decision, the counter follows at once, signed by her; the export.
        _goto(page, "Modération & veille")

        def waiting() -> int:
            card = page.locator("[data-testid='stMetric']").first
            return int(re.sub(r"\D", "", card.locator("[data-testid='stMetricValue']").inner_text()))

        before = waiting()
        _pick(page, "Messages choisis")
        page.get_by_role("button", name="Ignoré").click()
        page.get_by_text("par camille").first.wait_for(timeout=60_000)
        _idle(page)
        assert waiting() == before - 1
        _no_error(page)
        _shot(page, "3-moderation")
        assert _q(db, 'SELECT by_user, status FROM moderation_status ORDER BY "at" DESC LIMIT 1') == [
            ("camille", "ignore")]
        with page.expect_download() as dl:
            page.get_by_role("button", name="Télécharger (Excel)").click()
        assert dl.value.suggested_filename == "file-de-moderation.xlsx"

        # 4. A page outside the registry: the import says so; declared, then attached from the page.
        _goto(page, "Données")
        # the analyst's Données page holds the file uploader and its own English strings (« Upload »,
        # « 200MB per file »): none left on screen or for a screen reader (issue 22 item 7)
        uploader = page.locator("[data-testid='stFileUploaderDropzone']")
        assert "par fichier" in uploader.inner_text() and "Choisir un fichier" in uploader.inner_text()
        check_no_english(page, "Données (analyste)")
        page.locator("[data-testid='stFileUploaderDropzoneInput']").set_input_files(
            str(FIX / "mbs_posts_unknown_page.csv"))
        page.wait_for_timeout(1000)
        _idle(page)  # the upload reaches the server (a run) before « Importer » is pressed
        page.get_by_role("button", name="Importer").click()
        page.locator("[data-testid='stCode']", has_text="104857600000099").first.wait_for(timeout=180_000)
        _shot(page, "4-import")
        registry.write_text(registry.read_text(encoding="utf-8") + LORVAN, encoding="utf-8")
        _goto(page, "Synthèse")  # away and back: the page reads the registry she has just edited
        _goto(page, "Données")
        page.get_by_role("button", name="Aperçu du rattachement").click()
        page.get_by_text("seraient rattachés").wait_for(timeout=60_000)
        assert _q(db, "SELECT count(*) FROM posts WHERE account_id LIKE '%104857600000099%' "
                      "AND territory_id IS NULL") == [(2,)]  # the preview wrote nothing
        page.get_by_role("button", name="Rattacher").click()
        page.locator("[data-testid='stAlertContentSuccess']", has_text="rattachés").first.wait_for(timeout=60_000)
        _idle(page)
        _no_error(page)
        _shot(page, "5-rattachement")
        assert _q(db, "SELECT count(*) FROM posts WHERE territory_id = 'lorvan'") == [(2,)]
    except Exception:
        _shot(page, "analyste-echec")
        raise
    finally:
        page.close()


def test_director_produces_and_reads_the_report(app, browser, tmp_path):
    url, db, _, env = app
    page = browser.new_page(viewport={"width": 1440, "height": 1000}, locale="fr-FR", accept_downloads=True)
    try:
        _login(page, url, "/rapports?territoires=saint-aubin", "dominique", "Rapports")
        page.get_by_role("button", name="Générer le rapport").click()
        page.get_by_text("Rapport prêt").wait_for(timeout=120_000)
        _idle(page)
        _no_error(page)
        _shot(page, "6-rapport")
        command = page.locator("code", has_text="vigie report").first.inner_text()
        with page.expect_download() as dl:
            page.get_by_role("button", name="Télécharger le PDF").click()
        pdf = tmp_path / dl.value.suggested_filename
        dl.value.save_as(pdf)
    except Exception:
        _shot(page, "direction-echec")
        raise
    finally:
        page.close()

    # The file the displayed command makes on the same store is the downloaded one, byte for byte.
    args = shlex.split(command)
    assert args[0] == "vigie", command
    out = tmp_path / "cli.pdf"
    args = args[1:]
    if "--out" in args:
        i = args.index("--out")
        del args[i:i + 2]
    r = run_cli(["--db", str(db), *args, "--out", str(out)], env=env)
    assert r.returncode == 0, r.stdout + r.stderr
    assert out.read_bytes() == pdf.read_bytes(), command
    assert "saint-aubin" in pdf.name, pdf.name

    # She reads it: a compact report (every page but the last well filled: 12 pages for a month).
    info = subprocess.run(["pdfinfo", str(pdf)], capture_output=True, text=True, check=True).stdout
    pages = int(re.search(r"Pages:\s+(\d+)", info).group(1))
    assert 4 <= pages <= 12, pages
    text = subprocess.run(["pdftotext", "-l", "1", str(pdf), "-"], capture_output=True, text=True, check=True).stdout
    assert "Saint-Aubin" in text and "None" not in text and "nan" not in text.split()
    subprocess.run(["pdftoppm", "-png", "-r", "60", "-f", "1", "-l", "2", str(pdf),
                    str(SCREENSHOTS / "parcours-7-rapport-page")], check=True)
