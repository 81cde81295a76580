"""Issue 20, part B, in a real browser: sign-in with the organisation's identity provider.

A local OpenID Connect provider (``oidc-provider-mock``, started by the test on 127.0.0.1, nothing
else reachable), the app served with ``[auth]`` in a secrets file and ``[oidc]`` in Vigie's settings,
headless Chromium: the login button goes through the provider's authorisation page and lands on the
app with the role and territories mapped from the claims; « Se déconnecter » removes the provider's
cookie (a reload shows the login form); a provider login left idle in every session is refused to a
new tab, which is sent through the provider's sign-out.
"""

from __future__ import annotations

import sqlite3
import threading
from urllib.parse import urlparse

import pytest

from tests import app_store
from tests.app_server import CHROMIUM, CHROMIUM_ARGS, SCREENSHOTS, free_port, serve

pytestmark = [pytest.mark.browser, pytest.mark.xdist_group("browser_oidc")]

CLAIMS = {"preferred_username": "lea", "email": "lea@port-marel.example", "groups": ["vigie-elus"],
          "territoires": ["/communes/port-marel"]}
OIDC = """
[oidc]
provider = "collectivite"
label = "Compte de la collectivité"
user_claim = "preferred_username"
role_claim = "groups"
scope_claim = "territoires"

[oidc.roles]
"vigie-elus" = "élu·e"
"vigie-analystes" = "analyste"

[oidc.territories]
"/communes/port-marel" = ["port-marel"]
"""


@pytest.fixture(scope="module")
def provider():
    """oidc-provider-mock on a free loopback port; yields its base URL."""
    mock = pytest.importorskip("oidc_provider_mock")
    import werkzeug.serving

    app = mock.app(user_claims=[mock.User(sub="lea", claims=CLAIMS)])
    server = werkzeug.serving.make_server("127.0.0.1", 0, app, threaded=True)
    thread = threading.Thread(target=server.serve_forever, kwargs={"poll_interval": 0.1}, daemon=True)
    thread.start()
    try:
        yield f"http://127.0.0.1:{server.server_port}"
    finally:
        server.shutdown()
        thread.join(5)


@pytest.fixture(scope="module")
def app(provider, tmp_path_factory):
    if not CHROMIUM.exists():
        pytest.skip("/usr/bin/chromium absent (CI installs it through .ci/run)")
    pytest.importorskip("playwright.sync_api")
    tmp = tmp_path_factory.mktemp("oidc")
    db = app_store.build(tmp / "vigie.duckdb")
    port = free_port()
    secrets = tmp / "secrets.toml"
    secrets.write_text(
        "[auth]\n"
        f'redirect_uri = "http://127.0.0.1:{port}/oauth2callback"\n'
        'cookie_secret = "un-secret-de-test-assez-long-pour-signer"\n'
        "[auth.collectivite]\n"
        'client_id = "vigie"\nclient_secret = "secret-du-client-vigie"\n'
        f'server_metadata_url = "{provider}/.well-known/openid-configuration"\n', encoding="utf-8")
    (tmp / "config.toml").write_text(OIDC, encoding="utf-8")
    env = {"VIGIE_AUTH": "", "VIGIE_CONFIG": str(tmp / "config.toml"), "VIGIE_USERS": str(tmp / "users.toml"),
           "VIGIE_AUTH_DB": str(tmp / "auth.sqlite"), "NO_PROXY": "127.0.0.1,localhost"}
    with serve(db, tmp / "streamlit.log", timeout=120, env=env, port=port,
               args=["--secrets.files", str(secrets)]) as url:
        yield url, tmp / "auth.sqlite"


def _wait_idle(page, timeout_ms: int = 60_000) -> None:
    page.wait_for_timeout(600)
    page.locator("[data-testid='stStatusWidget']").wait_for(state="detached", timeout=timeout_ms)


def _sign_in(page, url: str) -> None:
    page.goto(url + "/", wait_until="domcontentloaded")
    page.get_by_role("button", name="Se connecter : Compte de la collectivité").click(timeout=60_000)
    # the provider's authorisation page (predefined user « lea »), then back to the app
    page.get_by_role("button", name="lea", exact=True).click(timeout=30_000)
    page.locator("[data-testid='stSidebar']").get_by_text("Connecté·e").wait_for(timeout=60_000)
    _wait_idle(page)


def test_sign_in_through_the_provider_lands_with_mapped_role_and_territories(app, provider):
    from playwright.sync_api import sync_playwright

    url, auth_db = app
    SCREENSHOTS.mkdir(parents=True, exist_ok=True)
    outside: list[str] = []
    with sync_playwright() as pw:
        browser = pw.chromium.launch(executable_path=str(CHROMIUM), args=CHROMIUM_ARGS, headless=True)
        try:
            ctx = browser.new_context(viewport={"width": 1400, "height": 1000}, locale="fr-FR")

            def only_loopback(route):  # the provider's pages link a CSS on a CDN: nothing leaves the machine
                if urlparse(route.request.url).hostname in ("127.0.0.1", "localhost"):
                    route.continue_()
                else:
                    outside.append(route.request.url)
                    route.abort()

            ctx.route("**/*", only_loopback)
            page = ctx.new_page()
            page.goto(url + "/", wait_until="domcontentloaded")
            page.get_by_text("Vigie — connexion").wait_for(timeout=60_000)
            _sign_in(page, url)
            sidebar = page.locator("[data-testid='stSidebar']").inner_text()
            assert "lea" in sidebar and "élu·e" in sidebar and "territoires : port-marel" in sidebar, sidebar
            page.locator("[data-testid='stMain']").get_by_text("Port-Marel").first.wait_for(timeout=60_000)
            _wait_idle(page)
            body = page.locator("[data-testid='stMain']").inner_text()
            assert "Port-Marel" in body and "Saint-Aubin" not in body  # the scope from the claims
            page.screenshot(path=str(SCREENSHOTS / "oidc-connecte.png"))
            with sqlite3.connect(auth_db) as con:
                rows = con.execute("SELECT user, role, scope, via FROM audit WHERE action = 'login'").fetchall()
            assert rows == [("lea", "elu", "port-marel", "oidc")]

            # « Se déconnecter »: the provider's cookie goes too (its sign-out page, then the login form)
            page.locator("[data-testid='stSidebar']").get_by_role("button", name="Se déconnecter", exact=True).click()
            page.wait_for_url(provider + "/oauth2/end_session**", timeout=60_000)
            page.get_by_role("button", name="End session").click(timeout=30_000)
            page.get_by_text("Vigie — connexion").wait_for(timeout=60_000)
            page.goto(url + "/", wait_until="domcontentloaded")
            page.get_by_text("Vigie — connexion").wait_for(timeout=60_000)
            _wait_idle(page)
            assert "Connecté·e" not in page.locator("body").inner_text()

            # signed in again, then idle past the timeout in every session: a new tab is refused
            _sign_in(page, url)
            with sqlite3.connect(auth_db) as con:
                con.execute("UPDATE sso_logins SET last_seen = last_seen - 7200")
            tab = ctx.new_page()
            tab.goto(url + "/", wait_until="domcontentloaded")
            tab.wait_for_url(provider + "/oauth2/end_session**", timeout=60_000)  # sent to the sign-out
            tab.get_by_role("button", name="End session").click(timeout=30_000)
            tab.get_by_text("Vigie — connexion").wait_for(timeout=60_000)
            _wait_idle(tab)
            assert "Connecté·e" not in tab.locator("body").inner_text()
            with sqlite3.connect(auth_db) as con:
                details = [r[0] for r in con.execute("SELECT detail FROM audit WHERE action = 'logout'")]
            assert "cookie du fournisseur refusé : idle" in details, details
        finally:
            browser.close()
    assert all("cdn.jsdelivr.net" in u for u in outside), outside  # only the provider's own CSS was refused
