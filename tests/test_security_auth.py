"""Access control: users file (bcrypt, 0600, outside git), `vigie users`, login form, throttling,
and the élu role never seeing an author identity on any page."""

from __future__ import annotations

import stat
import tomllib
from datetime import datetime
from pathlib import Path

import pandas as pd
import pytest
from streamlit.testing.v1 import AppTest
from typer.testing import CliRunner

from analysis import derived_refresh, store, users
from analysis.cli import app as vigie
from tests.page_helpers import linked_page

APP = Path(__file__).resolve().parents[1] / "streamlit_app" / "app.py"
PAGES = sorted(p.name for p in (APP.parent / "app_pages").glob("*.py") if not p.name.startswith("_"))
SECRET_NAME = "Jeanne Secretnom"
SECRET_HASH = "a_5ec12e7a11ce0042"
SECRET_TEXT = "Quel scandale ce chantier rue des Lilas"


@pytest.fixture()
def users_file(tmp_path, monkeypatch) -> Path:
    p = tmp_path / "conf" / "users.toml"
    monkeypatch.setenv("VIGIE_USERS", str(p))
    monkeypatch.setattr(users, "BCRYPT_ROUNDS", 4)  # fast tests; production keeps 12
    return p


def test_users_cli_add_list_passwd_remove(users_file):
    r = CliRunner()
    res = r.invoke(vigie, ["users", "add", "camille", "--role", "analyste", "--password-stdin"],
                   input="correct horse battery\n")
    assert res.exit_code == 0, res.output
    assert stat.S_IMODE(users_file.stat().st_mode) == 0o600
    text = users_file.read_text()
    assert "correct horse" not in text
    raw = tomllib.loads(text)["users"]["camille"]
    assert raw["role"] == "analyste" and raw["password"].startswith("$2b$04$")
    assert users.verify("camille", "correct horse battery").role == "analyste"
    assert users.verify("camille", "wrong password!!") is None
    assert users.verify("nobody", "correct horse battery") is None
    # refused: duplicate, weak password, unknown role, bad name
    assert r.invoke(vigie, ["users", "add", "camille", "-r", "elu", "--password-stdin"], input="x" * 12 + "\n").exit_code == 1
    res = r.invoke(vigie, ["users", "add", "paul", "-r", "elu", "--password-stdin"], input="court\n")
    assert res.exit_code == 1 and "trop court" in res.output
    assert r.invoke(vigie, ["users", "add", "paul", "-r", "maire", "--password-stdin"], input="x" * 12 + "\n").exit_code == 1
    assert r.invoke(vigie, ["users", "add", "../etc", "-r", "elu", "--password-stdin"], input="x" * 12 + "\n").exit_code == 1
    res = r.invoke(vigie, ["users", "list"])
    assert "camille" in res.output and "analyste" in res.output and "$2b$" not in res.output
    assert r.invoke(vigie, ["users", "passwd", "camille", "--password-stdin"], input="un autre secret\n").exit_code == 0
    assert users.verify("camille", "correct horse battery") is None
    assert users.verify("camille", "un autre secret").name == "camille"
    assert r.invoke(vigie, ["users", "remove", "camille"]).exit_code == 0
    assert users.load_users() == {}


def test_malformed_entries_never_grant_access(users_file):
    users_file.parent.mkdir(parents=True)
    users_file.write_text('[users.eve]\nrole = "admin"\npassword = "plaintext"\n'
                          '[users.bob]\nrole = "dieu"\npassword = "$2b$04$abcdefghijklmnopqrstuu"\n')
    assert users.load_users() == {}
    assert users.verify("eve", "plaintext") is None


def test_throttle_locks_after_five_failures_then_frees(tmp_path):
    now = [0.0]
    t = users.Throttle(max_failures=5, window=900, lockout=900, clock=lambda: now[0], path=tmp_path / "auth.sqlite")
    for _ in range(4):
        t.failure("user:camille")
    assert t.locked_for("user:camille") == 0
    t.failure("user:camille")
    assert t.locked_for("user:camille") == 900
    now[0] = 600
    assert t.locked_for("user:camille") == 300
    now[0] = 901
    assert t.locked_for("user:camille") == 0
    # failures spread beyond the window do not add up
    for i in range(10):
        now[0] = 1000 + i * 1000
        t.failure("user:paul")
    assert t.locked_for("user:paul") == 0


# ------------------------------------------------------------------------------ the app

@pytest.fixture()
def secret_db(db: Path, monkeypatch) -> Path:
    """A store whose one commenter has a known name, pseudonym and text (names opted in)."""
    monkeypatch.delenv("VIGIE_AUTH", raising=False)
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
             "post_id": "facebook:p1", "kind": "comment", "created_at": t0, "text": SECRET_TEXT + " !" * i,
             "author_hash": SECRET_HASH, "author_name": SECRET_NAME, "is_official": False} for i in range(3)]))
    return db


def _all_text(at: AppTest) -> str:
    """Everything the page sent to the browser (element protos and table contents)."""
    parts: list[str] = []

    def walk(node) -> None:
        proto = getattr(node, "proto", None)
        if proto is not None:
            parts.append(str(proto))
        for child in getattr(node, "children", {}).values():
            walk(child)

    walk(at._tree)
    parts += [d.value.to_csv() for d in at.dataframe]
    parts += [str(m.value) for m in at.markdown]
    return "\n".join(parts)


def _login_app(user: dict | None, page: str | None = None, check: bool = True) -> AppTest:
    # the home page when no page is asked for; any page by its URL path (the file name's fallback of
    # switch_page() before a first run opened the home page for e_reputation.py or avant_de_publier.py)
    at = linked_page(page, timeout=120) if page else AppTest.from_file(str(APP), default_timeout=120)
    if user is not None:
        at.session_state["vigie_user"] = user
    at.run()
    assert not check or not at.exception, [e.value for e in at.exception]
    return at


def test_without_login_no_data_only_the_form(secret_db, users_file):
    users.add_user("camille", "analyste", "correct horse battery")
    at = _login_app(None, "donnees.py")
    assert at.title[0].value == "Vigie — connexion"
    assert [t.label for t in at.text_input] == ["Identifiant", "Mot de passe"]
    assert not at.dataframe and not at.metric
    assert SECRET_TEXT not in _all_text(at)


def test_no_users_configured_says_how_to_create_one(secret_db, users_file):
    at = _login_app(None)
    assert "vigie users add" in at.warning[0].value
    assert not at.text_input and not at.dataframe


def test_login_then_wrong_password_and_lockout(secret_db, users_file):
    from streamlit_app import auth

    auth.throttle().reset()  # a fresh limiter (cache_resource lives across tests)
    users.add_user("camille", "analyste", "correct horse battery")
    at = _login_app(None)
    at.text_input(key="login_name").input("camille")
    at.text_input(key="login_password").input("mauvais mot de passe")
    at.button[0].click().run()
    assert at.error[0].value == "Identifiant ou mot de passe incorrect."
    assert "vigie_user" not in at.session_state
    for _ in range(4):
        at.text_input(key="login_password").input("encore faux!!")
        at.button[0].click().run()
    # locked now, even with the right password
    at.text_input(key="login_password").input("correct horse battery")
    at.button[0].click().run()
    assert "Trop de tentatives" in at.error[0].value
    assert "vigie_user" not in at.session_state
    auth.throttle().reset()  # the administrator lifts the lock
    at.text_input(key="login_password").input("correct horse battery")
    at.button[0].click().run()
    assert at.session_state["vigie_user"] == {"name": "camille", "role": "analyste", "scope": None, "via": "password"}


@pytest.mark.parametrize("page", PAGES)
def test_elu_never_sees_author_identities(secret_db, page):
    # Pages under construction by others may fail on this tiny store: what matters here is
    # that nothing rendered, error or not, names the author.
    at = _login_app({"name": "maire", "role": "elu"}, page, check=False)
    text = _all_text(at)
    assert SECRET_NAME not in text and SECRET_HASH not in text
    assert "Mode démonstration" not in text


def test_analyst_sees_messages_on_moderation(secret_db):
    at = _login_app({"name": "camille", "role": "analyste"}, "moderation.py")
    assert "Connecté·e" in at.sidebar.caption[0].value
    # the detector of the élu test works: the analyst's contact table names the author
    assert SECRET_NAME in _all_text(at)


def test_the_limiter_is_the_one_of_the_current_file_and_survives_its_removal(tmp_path, monkeypatch):
    """One limiter per state file (a process whose $VIGIE_AUTH_DB changes gets that file's), and a file
    removed while the app runs is created again with its tables instead of failing every login."""
    from streamlit_app import auth

    a, b = tmp_path / "a" / "auth.sqlite", tmp_path / "b" / "auth.sqlite"
    monkeypatch.setenv("VIGIE_AUTH_DB", str(a))
    ta = auth.throttle()
    ta.revoke("camille")
    assert ta.path == a and ta.revoked_after("camille", 0)
    monkeypatch.setenv("VIGIE_AUTH_DB", str(b))
    tb = auth.throttle()
    assert tb.path == b and not tb.revoked_after("camille", 0)
    a.unlink()
    monkeypatch.setenv("VIGIE_AUTH_DB", str(a))
    assert auth.throttle() is ta
    assert not ta.revoked_after("camille", 0)  # a fresh file, not « no such table »
    assert stat.S_IMODE(a.stat().st_mode) == 0o600
