"""Issue 20, part A — the attacks on the app, each replayed through AppTest: markdown injection on
every page (1), élus seeing pseudonyms and kept names (2) and lists of citizens' messages (3),
Streamlit's own table download (4), the login race (5, threads), report links served without a
session (11c), no idle timeout and no sign-out everywhere (11d)."""

from __future__ import annotations

import re
import stat
import threading
import time
import tomllib
from concurrent.futures import ThreadPoolExecutor
from datetime import datetime
from pathlib import Path

import pandas as pd
import pytest
from markdown_it import MarkdownIt
from streamlit.testing.v1 import AppTest

from analysis import derived_refresh, store, users
from streamlit_app.ui import APP_SCRIPT
from tests.app_store import HOST, LOOKALIKE, build_payload
from tests.page_helpers import APP, frame_with, frames, linked_page, open_page

ROOT = Path(__file__).resolve().parents[1]
PAGES = sorted(p.name for p in (APP.parent / "app_pages").glob("*.py") if not p.name.startswith("_"))
MD = MarkdownIt("commonmark").enable("table").enable("strikethrough")


# ------------------------------------------------------------------------------ helpers
def _markdown_strings(at: AppTest) -> list[tuple[str, str]]:
    """(kind, text) of every string the browser renders as markdown: bodies, labels, help texts,
    captions, metric values and deltas, radio options, expander and tab labels. Not the plain-text
    ones (selectbox options, table cells, chart specifications)."""
    out: list[tuple[str, str]] = []

    def visit(msg, kind: str) -> None:
        for field, value in msg.ListFields():
            if field.type == field.TYPE_MESSAGE:
                for v in (value if field.is_repeated else [value]):
                    visit(v, f"{kind}.{field.name}")
            elif field.type == field.TYPE_STRING:
                markdown = field.name in ("body", "label", "help", "caption", "delta") or (
                    field.name == "options" and kind.endswith("radio"))
                if markdown and kind.split(".")[-1] not in ("arrow_data_frame", "vega_lite_chart", "selectbox",
                                                           "multiselect"):
                    for v in (value if field.is_repeated else [value]):
                        out.append((f"{kind}.{field.name}", v))

    def walk(node) -> None:
        proto = getattr(node, "proto", None)
        if proto is not None:
            visit(proto, type(proto).__name__.lower())
        for child in getattr(node, "children", {}).values():
            walk(child)

    walk(at._tree)
    return out


def _active_markup(text: str) -> list[str]:
    """Links, images and raw HTML aimed at the attacker's host that markdown would render from ``text``
    (CommonMark through markdown-it), bare addresses GFM would turn into links in the parsed text
    (``www.``, ``https://``, e-mail), and the host left unescaped."""
    found = []
    for tok in MD.parse(text):
        for t in [tok, *(tok.children or [])]:
            if t.type in ("link_open", "image") and HOST in str(t.attrs.get("href", "") or t.attrs.get("src", "")):
                found.append(f"{t.type} {t.attrs}")
            if t.type in ("html_inline", "html_block") and (HOST in t.content or re.search(r"<(img|script)", t.content)):
                found.append(f"{t.type} {t.content[:80]}")
            # GFM links bare addresses in the parsed text itself (remark-gfm), whatever the escapes
            if t.type == "text" and re.search(rf"(https?://|www\.|@){re.escape(HOST)}", t.content):
                found.append(f"lien automatique {t.content[:80]}")
    if HOST in text:  # escaped, it reads evil\.example
        found.append("adresse non échappée")
    return found


@pytest.fixture(scope="session")
def payload_db(demo_db, tmp_path_factory) -> Path:
    return build_payload(demo_db, tmp_path_factory.mktemp("payload") / "vigie.duckdb")


@pytest.fixture()
def on_payload(payload_db, monkeypatch) -> Path:
    monkeypatch.setenv("VIGIE_DB", str(payload_db))
    monkeypatch.setenv("VIGIE_AUTH", "demo")
    return payload_db


@pytest.fixture()
def on_demo(demo_db, monkeypatch) -> Path:
    monkeypatch.setenv("VIGIE_DB", str(demo_db))
    monkeypatch.setenv("VIGIE_AUTH", "demo")
    return demo_db


def _button(at: AppTest, label: str):
    return next(b for b in at.button if b.label == label)


# ------------------------------------------------------------------------------ 1. markdown injection
@pytest.mark.parametrize("role", ["elu", "analyste"])
@pytest.mark.parametrize("page", PAGES)
def test_payloads_never_render_as_markup_on_any_page(on_payload, page, role):
    at = open_page(page, period="12m", role=role)
    if page == "rapports.py":  # the findings of a generated report are drawn as markdown too
        _button(at, "Générer le rapport").click().run(timeout=300)
        assert not at.exception, [e.value for e in at.exception]
    # the app's own constant script (streamlit_app.ui.APP_SCRIPT: French help-icon labels) is no payload
    strings = [(k, t) for k, t in _markdown_strings(at) if t != APP_SCRIPT]
    bad = {f"{k}: {t[:120]!r}": _active_markup(t) for k, t in strings if _active_markup(t)}
    assert not bad, bad
    text = " ".join(t for _, t in strings)
    if page == "synthese.py":  # the reported attack reaches the page, escaped
        assert "\\[cliquez ici\\]" in text
    if page == "e_reputation.py":
        assert "cliquez ici" in text


# ------------------------------------------------------------------------------ 2. identities
SECRET_NAME = LOOKALIKE.strip()  # a commenter whose display name (kept by --keep-author-names) imitates us
SECRET_HASH = "a_5ec12e7a11ce0042"


@pytest.fixture()
def lookalike_author_db(db: Path, monkeypatch) -> Path:
    monkeypatch.setenv("VIGIE_AUTH", "demo")
    t0 = datetime(2026, 3, 10, 12)
    with derived_refresh.writer(db) as con:
        store.upsert(con, "territories", pd.DataFrame([
            {"territory_id": "saint-aubin", "name": "Saint-Aubin-sur-Loire", "population": 48250, "kind": "own",
             "peers": ["port-marel"]},
            {"territory_id": "port-marel", "name": "Port-Marel", "population": 31400, "kind": "peer", "peers": []}]))
        store.upsert(con, "posts", pd.DataFrame([
            {"post_id": "facebook:p1", "platform": "facebook", "territory_id": "saint-aubin",
             "account_id": "facebook:saint-aubin", "created_at": t0, "text": "Travaux rue des Lilas"}]))
        store.upsert(con, "messages", pd.DataFrame([
            {"message_id": f"facebook:m{i}", "platform": "facebook", "territory_id": "saint-aubin",
             "post_id": "facebook:p1", "kind": "comment", "created_at": t0, "text": f"Message {i}",
             "author_hash": SECRET_HASH, "author_name": SECRET_NAME, "is_official": False} for i in range(3)]))
    return db


@pytest.mark.parametrize("page", PAGES)
def test_elu_sees_no_pseudonym_nor_kept_name_of_a_lookalike_author(lookalike_author_db, page):
    at = open_page(page, period="12m", role="elu")
    text = "\n".join([t for _, t in _markdown_strings(at)] + [d.value.to_csv() for d in at.dataframe]
                     + [str(getattr(n, "proto", "")) for n in at._tree.children.values()])
    for secret in (SECRET_NAME, SECRET_HASH, "author:"):
        assert secret not in text, (page, secret)


def test_analyst_still_sees_the_lookalike_author(lookalike_author_db):
    at = open_page("moderation.py", period="12m", role="analyste")
    table = frame_with(at, "Ressemble à")
    assert f"author:{SECRET_HASH}" in set(table["Compte"]) and SECRET_NAME in set(table["Nom"])


def test_elu_is_told_authors_are_hidden(lookalike_author_db):
    at = open_page("moderation.py", period="12m", role="elu")
    assert any("auteur de messages dont le nom imite nos comptes" in c.value for c in at.caption)
    alerts = frame_with(at, "Alerte")
    title = alerts.loc[alerts["Règle"].str.contains("usurp"), "Alerte"].iloc[0]
    assert "un auteur de messages" in title and SECRET_NAME not in title


# ------------------------------------------------------------------------------ 3. lists of messages
def _message_tables(at: AppTest) -> list[pd.DataFrame]:
    return [f for f in frames(at) if "Message" in f.columns]


def test_elu_reads_a_few_messages_per_block_never_a_list(on_demo):
    elu = open_page("thematiques.py", period="12m", role="elu")
    analyst = open_page("thematiques.py", period="12m", role="analyste")
    assert max(len(f) for f in _message_tables(analyst)) > 5  # the detector sees the lists analysts read
    tables = _message_tables(elu)
    assert tables and max(len(f) for f in tables) <= 5
    assert all(set(f.columns) <= {"Date", "Plateforme", "Message"} for f in tables)
    assert any("Exemples de messages (au plus 5)" in e.label for e in elu.expander)


@pytest.mark.parametrize("page", PAGES)
def test_no_page_shows_an_elu_more_than_five_messages_in_a_block(on_demo, page):
    at = open_page(page, period="12m", role="elu")
    for f in _message_tables(at):
        assert len(f) <= 5 and "Id" not in f.columns, (page, len(f), list(f.columns))


# ------------------------------------------------------------------------------ 4. table download
def test_streamlit_table_download_is_off_and_vigies_own_is_offered(on_demo):
    import streamlit as st

    cfg = tomllib.loads((ROOT / ".streamlit" / "config.toml").read_text(encoding="utf-8"))
    assert cfg["client"]["disableDataExport"] is True  # read before the first run of any session
    st.set_option("client.disableDataExport", False)
    at = open_page("moderation.py", period="12m", role="analyste")
    assert st.get_option("client.disableDataExport") is True  # the app turns it off itself as well
    buttons = at.get("download_button")
    assert [b.proto.label for b in buttons] == ["Télécharger (CSV)", "Télécharger (Excel)"]


# ------------------------------------------------------------------------------ 5. login race
@pytest.fixture()
def users_file(tmp_path, monkeypatch) -> Path:
    p = tmp_path / "conf" / "users.toml"
    monkeypatch.setenv("VIGIE_USERS", str(p))
    monkeypatch.setenv("VIGIE_AUTH_DB", str(tmp_path / "conf" / "auth.sqlite"))
    monkeypatch.setattr(users, "BCRYPT_ROUNDS", 4)
    yield p


def test_thirty_simultaneous_wrong_passwords_get_at_most_five_checks(users_file, monkeypatch):
    from streamlit_app import auth

    users.add_user("admin1", "admin", "correct horse battery")
    checks = []
    real = users.verify

    def slow_verify(name, password, path=None):
        checks.append(password)
        time.sleep(0.05)  # a bcrypt check takes time: every submission arrives during the first ones
        return real(name, password, path)

    monkeypatch.setattr(users, "verify", slow_verify)
    gate = threading.Barrier(30)

    def submit(i: int):
        gate.wait()
        return auth.attempt("admin1", f"mauvais mot de passe {i}")

    with ThreadPoolExecutor(30) as pool:
        results = list(pool.map(submit, range(30)))
    assert len(checks) <= 5, len(checks)
    assert sum(r[1] == "Identifiant ou mot de passe incorrect." for r in results) == len(checks)
    assert sum((r[1] or "").startswith("Trop de tentatives") for r in results) == 30 - len(checks)
    # locked: the right password is refused too, and still after a restart of the app
    assert auth.attempt("admin1", "correct horse battery")[0] is None
    restarted = users.Throttle()
    assert restarted.locked_for("user:admin1") > 800
    assert restarted.begin(["user:admin1"])[1] is None
    assert stat.S_IMODE(users.auth_db_path().stat().st_mode) == 0o600


# ------------------------------------------------------------------------------ 11c. report links
def _logged_in(page: str, user: dict) -> AppTest:
    at = linked_page(page, timeout=300)
    at.session_state["vigie_user"] = user
    at.run()
    assert not at.exception, [e.value for e in at.exception]
    return at


def test_report_is_not_a_media_link_and_only_a_logged_in_session_gets_it(on_demo, users_file, monkeypatch):
    from types import SimpleNamespace

    from streamlit.runtime import Runtime
    from streamlit.runtime.media_file_manager import MediaFileManager
    from streamlit.runtime.media_file_storage import MediaFileStorageError

    from streamlit_app import ui

    managers: list[MediaFileManager] = []
    real_init = MediaFileManager.__init__

    def keep(self, *a, **k):  # AppTest makes one per run; the server keeps one for its lifetime
        real_init(self, *a, **k)
        managers.append(self)

    monkeypatch.setattr(MediaFileManager, "__init__", keep)
    monkeypatch.delenv("VIGIE_AUTH")
    monkeypatch.setattr(ui, "DOWNLOAD_LINK_SECONDS", 0.5, raising=False)
    at = _logged_in("rapports.py", {"name": "camille", "role": "elu"})
    _button(at, "Générer le rapport").click().run()
    assert not at.exception, [e.value for e in at.exception]
    buttons = at.get("download_button")
    assert [b.proto.label for b in buttons] == ["Télécharger le PDF", "Télécharger la page HTML"]
    # no /media/ link exists before a click: nothing another browser could open
    assert all(b.proto.url == "" and b.proto.deferred_file_id for b in buttons)
    mgr = managers[-1]
    monkeypatch.setattr(Runtime, "_instance", SimpleNamespace(media_file_mgr=mgr))  # the server's, between runs
    url = mgr.execute_deferred(buttons[0].proto.deferred_file_id)  # the owner clicks
    file_id = url.rsplit("/", 1)[-1].split(".")[0]
    assert mgr._storage.get_file(file_id).content.startswith(b"%PDF")
    time.sleep(1.5)
    with pytest.raises(MediaFileStorageError):  # the link dies right after the download
        mgr._storage.get_file(file_id)
    at.session_state["vigie_session"].closed = True  # the owner logs out: the button no longer serves it
    with pytest.raises(MediaFileStorageError):
        mgr.execute_deferred(buttons[1].proto.deferred_file_id)


# ------------------------------------------------------------------------------ 11d. idle, sign-out everywhere
def test_idle_session_is_logged_out(small_store, users_file, monkeypatch):
    monkeypatch.delenv("VIGIE_AUTH", raising=False)
    monkeypatch.setenv("VIGIE_IDLE_MINUTES", "1")
    at = _logged_in("donnees.py", {"name": "camille", "role": "analyste"})
    assert at.title[0].value == "Données"
    at.session_state["vigie_session"].last_seen -= 30  # half a minute later: still in
    at.run()
    assert at.title[0].value == "Données"
    at.session_state["vigie_session"].last_seen -= 61  # a minute without a page run
    at.run()
    assert at.title[0].value == "Vigie — connexion"
    assert "vigie_user" not in at.session_state
    assert "1 minute sans activité" in at.info[0].value
    assert not at.dataframe


def test_sign_out_everywhere_ends_every_session_of_the_user(small_store, users_file, monkeypatch):
    monkeypatch.delenv("VIGIE_AUTH", raising=False)
    users.add_user("camille", "analyste", "correct horse battery")
    laptop = _logged_in("donnees.py", {"name": "camille", "role": "analyste"})
    phone = _logged_in("donnees.py", {"name": "camille", "role": "analyste"})
    other = _logged_in("donnees.py", {"name": "paul", "role": "elu"})
    time.sleep(0.01)
    laptop.sidebar.button(key="vigie_logout_all").click().run()
    assert laptop.title[0].value == "Vigie — connexion"
    phone.run()
    assert phone.title[0].value == "Vigie — connexion" and "vigie_user" not in phone.session_state
    other.run()
    assert other.title[0].value == "Données"  # another user's session stays open
    # the same from the server: `vigie users logout`, and a password change
    from typer.testing import CliRunner

    from analysis.cli import app as vigie

    again = _logged_in("donnees.py", {"name": "camille", "role": "analyste"})
    time.sleep(0.01)
    assert CliRunner().invoke(vigie, ["users", "logout", "camille"]).exit_code == 0
    again.run()
    assert again.title[0].value == "Vigie — connexion"
    third = _logged_in("donnees.py", {"name": "camille", "role": "analyste"})
    time.sleep(0.01)
    users.set_password("camille", "un autre secret bien long")
    third.run()
    assert third.title[0].value == "Vigie — connexion"


@pytest.fixture()
def small_store(tmp_path, monkeypatch) -> Path:
    from tests import app_store

    db = app_store.build(tmp_path / "small.duckdb")
    monkeypatch.setenv("VIGIE_DB", str(db))
    return db
