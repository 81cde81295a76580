"""Issue 22 item 9: a link opened logged out lands, after login, on the page it asked for with its
filters; the role spellings people see are accepted by `vigie users` and listed in its help."""

from __future__ import annotations

from pathlib import Path

import pytest
from typer.testing import CliRunner

from analysis import users
from analysis.cli import app as vigie
from tests.page_helpers import linked_page

APP = Path(__file__).resolve().parents[1] / "streamlit_app" / "app.py"


@pytest.fixture()
def users_file(tmp_path, monkeypatch) -> Path:
    p = tmp_path / "conf" / "users.toml"
    monkeypatch.setenv("VIGIE_USERS", str(p))
    monkeypatch.setenv("VIGIE_AUTH_DB", str(tmp_path / "conf" / "auth.sqlite"))
    monkeypatch.setattr(users, "BCRYPT_ROUNDS", 4)
    return p


def test_link_opened_logged_out_lands_on_its_page_after_login(demo_db, users_file, monkeypatch):
    from streamlit_app import auth

    monkeypatch.setenv("VIGIE_DB", str(demo_db))
    monkeypatch.delenv("VIGIE_AUTH", raising=False)
    auth.throttle().reset()
    users.add_user("camille", "analyste", "correct horse battery")
    at = linked_page("e_reputation", {"periode": "3m"}, timeout=120).run()  # the link « /e-reputation?periode=3m »
    assert [t.value for t in at.title] == ["Vigie — connexion"]
    at.text_input(key="login_name").input("camille")
    at.text_input(key="login_password").input("correct horse battery")
    at.button[0].click().run()
    assert not at.exception, [e.value for e in at.exception]
    assert at.title[0].value == "E-réputation"  # not the home page (Synthèse)
    assert at.session_state["_vf_periode"] == "3m"  # the link's filter kept


@pytest.mark.parametrize("typed", ["élu", "élu·e", "Élu·e", "elu", "ELUE", "élue", "élu(e)"])
def test_users_add_accepts_the_role_spellings_users_see(users_file, typed):
    res = CliRunner().invoke(vigie, ["users", "add", "maire", "--role", typed, "--password-stdin"],
                             input="x" * 12 + "\n")
    assert res.exit_code == 0, res.output
    assert users.load_users()["maire"].role == "elu"


def test_users_add_help_lists_the_spellings():
    out = CliRunner().invoke(vigie, ["users", "add", "--help"], terminal_width=200).output
    for spelling in ("élu", "élue", "elu", "élu·e", "analyst", "administrateur·rice"):
        assert spelling in out, spelling


# The same in headless Chromium: tests/test_browser_parcours.py (the analyst's day opens with it).
