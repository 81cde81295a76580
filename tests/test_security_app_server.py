"""Issue 20, part A, replayed against a real `streamlit run` through its websocket protocol (what a
browser, or an attacker's script, speaks): 30 simultaneous login sessions (5), and a report link
opened without a session while its owner is logged in (11c)."""

from __future__ import annotations

import asyncio
import time
import urllib.error
import urllib.request
import uuid
from pathlib import Path

import bcrypt
import pytest
from streamlit.proto.BackMsg_pb2 import BackMsg
from streamlit.proto.ForwardMsg_pb2 import ForwardMsg
from tornado.websocket import websocket_connect

from analysis import users
from tests import app_store
from tests.app_server import free_port, serve

pytestmark = [pytest.mark.browser, pytest.mark.xdist_group("security_app_server")]

WRONG = "Identifiant ou mot de passe incorrect."
LOCKED = "Trop de tentatives"


class Session:
    """One browser session over the websocket: runs the script, fills in and submits widgets."""

    def __init__(self, base: str) -> None:
        self.url = base.replace("http://", "ws://") + "/_stcore/stream"
        self.ws = None
        self.session_id = ""
        self.elements: list[tuple[str, object]] = []

    async def open(self) -> Session:
        self.ws = await websocket_connect(self.url, subprotocols=["streamlit"])
        return self

    async def run(self, page: str = "", widgets: list | None = None, timeout: float = 120) -> list[tuple[str, object]]:
        msg = BackMsg()
        msg.rerun_script.page_name = page
        for w in widgets or []:
            msg.rerun_script.widget_states.widgets.append(w)
        await self.ws.write_message(msg.SerializeToString(), binary=True)
        self.elements = []
        t0 = time.monotonic()
        while True:
            raw = await asyncio.wait_for(self.ws.read_message(), timeout - (time.monotonic() - t0))
            assert raw is not None, "connexion fermée"
            fm = ForwardMsg()
            fm.ParseFromString(raw)
            kind = fm.WhichOneof("type")
            if kind == "new_session":
                self.session_id = fm.new_session.initialize.session_id
                self.elements = []  # a new run (st.rerun): what counts is the last one
            elif kind == "delta" and fm.delta.WhichOneof("type") == "new_element":
                el = fm.delta.new_element
                self.elements.append((el.WhichOneof("type"), getattr(el, el.WhichOneof("type"))))
            elif kind == "script_finished":
                status = ForwardMsg.ScriptFinishedStatus.Name(fm.script_finished)
                if status != "FINISHED_EARLY_FOR_RERUN":
                    return self.elements

    def find(self, kind: str, label: str | None = None):
        for k, el in self.elements:
            if k == kind and (label is None or getattr(el, "label", None) == label):
                return el
        raise AssertionError(f"{kind} {label!r} absent: {[(k, getattr(e, 'label', '')) for k, e in self.elements]}")

    def alerts(self) -> list[str]:
        return [el.body for k, el in self.elements if k == "alert"]

    def titles(self) -> list[str]:
        return [el.body for k, el in self.elements if k == "heading"]

    def login_widgets(self, name: str, password: str) -> list:
        from streamlit.proto.WidgetStates_pb2 import WidgetState

        out = []
        for label, value in (("Identifiant", name), ("Mot de passe", password)):
            w = WidgetState(id=self.find("text_input", label).id)
            w.string_value = value
            out.append(w)
        w = WidgetState(id=self.find("button", "Se connecter").id)
        w.trigger_value = True
        return [*out, w]

    async def click(self, label: str, page: str = "") -> list:
        from streamlit.proto.WidgetStates_pb2 import WidgetState

        w = WidgetState(id=self.find("button", label).id)
        w.trigger_value = True
        return await self.run(page, [w])

    async def deferred(self, file_id: str, timeout: float = 60) -> tuple[str, str]:
        """Ask the server for a deferred download, as the browser does on a click: (url, error)."""
        msg = BackMsg()
        req = msg.backend_operation_request
        req.request_id = uuid.uuid4().hex
        req.session_id = self.session_id
        req.deferred_file.file_id = file_id
        await self.ws.write_message(msg.SerializeToString(), binary=True)
        t0 = time.monotonic()
        while True:
            fm = ForwardMsg()
            fm.ParseFromString(await asyncio.wait_for(self.ws.read_message(), timeout - (time.monotonic() - t0)))
            if fm.WhichOneof("type") == "backend_operation_response" and fm.backend_operation_response.request_id == req.request_id:
                r = fm.backend_operation_response
                return r.deferred_file.url, r.error_msg

    def close(self) -> None:
        if self.ws is not None:
            self.ws.close()


def _users_file(path: Path, **accounts: tuple[str, str]) -> None:
    path.parent.mkdir(parents=True, exist_ok=True)
    # cost 10 (about 50 ms): a check takes long enough for the others to arrive meanwhile, as in production (12)
    users.save_users({n: users.User(n, role, bcrypt.hashpw(pw.encode(), bcrypt.gensalt(10)).decode(), "")
                      for n, (role, pw) in accounts.items()}, path)


@pytest.fixture()
def login_env(tmp_path) -> dict[str, str]:
    _users_file(tmp_path / "conf" / "users.toml", admin1=("admin", "correct horse battery"),
                camille=("elu", "un mot de passe d'élue"))
    return {"VIGIE_AUTH": "", "VIGIE_USERS": str(tmp_path / "conf" / "users.toml"),
            "VIGIE_AUTH_DB": str(tmp_path / "conf" / "auth.sqlite"), "VIGIE_DOWNLOAD_LINK_SECONDS": "2"}


async def _attempt(base: str, name: str, password: str, gate: asyncio.Event | None = None) -> Session:
    s = await Session(base).open()
    await s.run()  # the login form
    widgets = s.login_widgets(name, password)
    if gate is not None:
        await gate.wait()
    await s.run("", widgets)
    return s


def test_thirty_websocket_sessions_at_once_get_at_most_five_password_checks(tmp_path, login_env):
    db = app_store.build(tmp_path / "vigie.duckdb")
    port = free_port()

    async def storm(base: str) -> list[Session]:
        gate = asyncio.Event()
        tasks = [asyncio.ensure_future(_attempt(base, "admin1", f"mauvais {i}", gate)) for i in range(30)]
        await asyncio.sleep(3)  # every session has its login form
        gate.set()
        return await asyncio.gather(*tasks)

    async def one(base: str, password: str) -> Session:
        return await _attempt(base, "admin1", password)

    with serve(db, tmp_path / "streamlit.log", env=login_env, port=port) as base:
        sessions = asyncio.run(storm(base))
        outcomes = [next((a for a in s.alerts() if a in (WRONG,) or a.startswith(LOCKED)), "connecté")
                    for s in sessions]
        checked = outcomes.count(WRONG)
        assert "connecté" not in outcomes, outcomes
        assert checked <= 5, outcomes
        assert sum(o.startswith(LOCKED) for o in outcomes) == 30 - checked
        right = asyncio.run(one(base, "correct horse battery"))
        assert any(a.startswith(LOCKED) for a in right.alerts()), right.alerts()
    # the app restarts: the lock is still there
    with serve(db, tmp_path / "streamlit2.log", env=login_env, port=port) as base:
        right = asyncio.run(one(base, "correct horse battery"))
        assert any(a.startswith(LOCKED) for a in right.alerts()), right.alerts()
        assert "Vigie — connexion" in right.titles()


def test_report_link_does_not_open_without_the_owners_session(tmp_path, login_env, demo_db):
    def fetch(url: str) -> tuple[int, bytes]:
        try:
            with urllib.request.urlopen(url, timeout=30) as r:  # no cookie: another browser, a proxy log…
                return r.status, r.read()
        except urllib.error.HTTPError as e:
            return e.code, b""

    async def scenario(base: str) -> None:
        owner = await _attempt(base, "camille", "un mot de passe d'élue")
        assert owner.alerts() == [], owner.alerts()
        await owner.run("rapports")
        await owner.click("Générer le rapport", "rapports")
        buttons = [el for k, el in owner.elements if k == "download_button"]
        assert [b.label for b in buttons] == ["Télécharger le PDF", "Télécharger la page HTML"]
        # before: a /media/ URL in the page, open to anyone while the session lives
        assert all(b.url == "" for b in buttons), [b.url for b in buttons]
        url, error = await owner.deferred(buttons[0].deferred_file_id)  # the owner clicks
        assert not error and url.startswith("/media/")
        status, body = fetch(base + url)
        assert status == 200 and body.startswith(b"%PDF")  # the owner's browser gets it at once
        await asyncio.sleep(4)  # VIGIE_DOWNLOAD_LINK_SECONDS=2
        assert fetch(base + url)[0] == 404  # …and nobody afterwards
        # once the owner has logged out, the page they left open serves nothing
        await owner.click("Se déconnecter", "rapports")
        assert "Vigie — connexion" in owner.titles()
        url, error = await owner.deferred(buttons[1].deferred_file_id)
        assert error and not url

    with serve(demo_db, tmp_path / "streamlit.log", env=login_env, timeout=120) as base:
        asyncio.run(scenario(base))
