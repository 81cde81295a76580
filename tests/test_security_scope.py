"""Issue 20, part B — one server, many territories: a user limited to some territories (scope) reads
nothing of another territory on any page, table, download or report, whatever the URL or the sidebar
asks; their peers' aggregates stay. Through AppTest on the demo store (``VIGIE_TEST_DB``).

What « nothing of another territory » is checked against: every message text, post text, message id
and author pseudonym of the demo store that belongs to another territory only (texts the scoped
territory also has, the demo's templated « Merci ! », are not evidence). Every string a page sends to
the browser is read (markdown, captions, labels, options, tables) and every file its download
buttons make (CSV), and the report's HTML; a control run as the host's administrator, on the other
territory, finds such strings with the same detector.
"""

from __future__ import annotations

import csv
import html
import io
import re
from collections.abc import Iterator
from pathlib import Path

import duckdb
import pytest
from streamlit.testing.v1 import AppTest

from tests.page_helpers import linked_page

pytestmark = pytest.mark.xdist_group("scope")  # the module's stores and caches are built once

PAGES = ["synthese.py", "e_reputation.py", "thematiques.py", "audience.py", "campagnes.py", "benchmark.py",
         "moderation.py", "rapports.py", "donnees.py"]
PSEUDONYM = re.compile(r"a_[0-9a-f]{16}")
MESSAGE_ID = re.compile(r"\b(?:facebook|instagram|x|linkedin|youtube|tiktok|bluesky|mastodon|threads|rss):[\w.\-:]+")
PREFIX = 32  # texts are cut when shown ([:60], [:90], [:400]): compared on their first characters


# ------------------------------------------------------------------------------ what belongs to others
class Secrets:
    """What another territory's team wrote or received, that the scoped territory does not have."""

    def __init__(self, db: Path, scope: tuple[str, ...]) -> None:
        marks = ", ".join("?" for _ in scope)
        with duckdb.connect(str(db.with_name(db.name + ".read")), read_only=True) as con:
            def col(sql: str) -> set[str]:
                return {r[0] for r in con.execute(sql, list(scope) * sql.count("IN (" + marks)).fetchall()
                        if r[0]}

            mine_text = f"(SELECT text FROM messages WHERE territory_id IN ({marks}) AND text IS NOT NULL " \
                        f"UNION SELECT text FROM posts WHERE territory_id IN ({marks}) AND text IS NOT NULL)"
            self.texts = col(f"SELECT DISTINCT text FROM messages WHERE coalesce(territory_id, '') NOT IN ({marks}) "
                             f"AND length(text) >= 20 AND text NOT IN {mine_text}")
            self.texts |= col(f"SELECT DISTINCT text FROM posts WHERE coalesce(territory_id, '') NOT IN ({marks}) "
                              f"AND length(text) >= 20 AND text NOT IN {mine_text}")
            self.ids = col(f"SELECT message_id FROM messages WHERE coalesce(territory_id, '') NOT IN ({marks})")
            self.mine_authors = col(f"SELECT DISTINCT author_hash FROM messages WHERE territory_id IN ({marks})")
            mine = col(f"SELECT DISTINCT text FROM {mine_text}")
        self.prefixes = _by_prefix(self.texts)
        self.mine = _by_prefix(mine)  # a text of ours may begin like a longer one of theirs
        assert len(self.texts) > 1000 and len(self.ids) > 10000  # the detector has something to find

    def found(self, strings: Iterator[str]) -> list[str]:
        """The strings that are (the beginning of) another territory's text, id or pseudonym."""
        bad = []
        for s in strings:
            for p in PSEUDONYM.findall(s):
                if p not in self.mine_authors:
                    bad.append(f"pseudonyme {p}")
            for m in MESSAGE_ID.findall(s):
                if m.rstrip(".") in self.ids:
                    bad.append(f"identifiant {m}")
            for piece in _pieces(s):
                if len(piece) < 20 or any(m.startswith(piece) for m in self.mine.get(piece[:PREFIX], [])):
                    continue
                if any(t.startswith(piece) or piece.startswith(t) for t in self.prefixes.get(piece[:PREFIX], [])):
                    bad.append(f"texte {piece[:80]!r}")
        return bad


def _by_prefix(texts: set[str]) -> dict[str, list[str]]:
    out: dict[str, list[str]] = {}
    for t in texts:
        out.setdefault(_norm(t)[:PREFIX], []).append(_norm(t))
    return out


def _norm(s: str) -> str:
    return " ".join(s.replace("\u200b", "").split())


def _pieces(s: str) -> Iterator[str]:
    """A shown string, and its parts that may be a text on their own: markdown unescaped, a quote's
    body without its « <small> » line, the text after « id — » in a selector."""
    un = html.unescape(re.sub(r"\\(.)", r"\1", s))
    for part in re.split(r"\n\n|\n| — |<small>|</small>", un):
        part = _norm(re.sub(r"^\s*>\s?", "", part))
        if part:
            yield part


# ------------------------------------------------------------------------------ what a page sends
def _strings(at: AppTest) -> list[str]:
    """Every string of every element the page sent (protobuf string fields: bodies, labels, help,
    options, captions, chart specifications) and every table cell."""
    out: list[str] = []

    def visit(msg) -> None:
        for field, value in msg.ListFields():
            values = value if field.is_repeated else [value]
            if field.type == field.TYPE_MESSAGE:
                for v in values:
                    visit(v)
            elif field.type == field.TYPE_STRING:
                out.extend(values)

    def walk(node) -> None:
        proto = getattr(node, "proto", None)
        if proto is not None:
            visit(proto)
        for child in getattr(node, "children", {}).values():
            walk(child)

    walk(at._tree)
    for d in at.dataframe:
        frame = d.value.data if hasattr(d.value, "data") else d.value
        out.extend(str(v) for v in frame.astype(str).to_numpy().ravel())
        out.extend(str(c) for c in frame.columns)
    return out


def _csv_cells(payload: bytes) -> list[str]:
    text = payload.decode("utf-8-sig")
    return [cell for row in csv.reader(io.StringIO(text), delimiter=";") for cell in row]


def _html_texts(payload: bytes) -> list[str]:
    doc = payload.decode("utf-8")
    doc = re.sub(r"<(script|style)\b.*?</\1>", " ", doc, flags=re.S)
    doc = re.sub(r'src="data:[^"]*"', "", doc)  # embedded images
    return [t for t in re.split(r"<[^>]+>", doc) if t.strip()]


# ------------------------------------------------------------------------------ running pages as a user
@pytest.fixture()
def as_user(demo_db, tmp_path, monkeypatch):
    """Open a page as a logged-in user (login required, like production); the files its download
    buttons would make are kept in ``at.downloads`` (name → bytes), made as on a click."""
    import streamlit as st

    monkeypatch.setenv("VIGIE_DB", str(demo_db))
    monkeypatch.delenv("VIGIE_AUTH", raising=False)
    monkeypatch.setenv("VIGIE_AUTH_DB", str(tmp_path / "auth.sqlite"))
    monkeypatch.setenv("VIGIE_USERS", str(tmp_path / "users.toml"))
    made: list[tuple[str, object]] = []
    real = st.download_button

    def keep(label, data, *a, file_name=None, **k):
        made.append((file_name, data))
        return real(label, data, *a, file_name=file_name, **k)

    monkeypatch.setattr(st, "download_button", keep)

    def open_page(page: str, user: dict, query: dict[str, str] | None = None,
                  state: dict | None = None) -> AppTest:
        at = linked_page(page, query, timeout=300)
        at.session_state["vigie_user"] = user
        for k, v in (state or {}).items():
            at.session_state[k] = v
        made.clear()
        at.run()
        assert not at.exception, [e.value for e in at.exception]
        generate = [b for b in at.button if b.label == "Générer le rapport"]
        if page == "rapports.py" and generate:
            generate[0].click().run(timeout=300)
            assert not at.exception, [e.value for e in at.exception]
        at.downloads = {}
        for name, data in made:
            payload = data() if callable(data) else data
            at.downloads[name] = payload if isinstance(payload, bytes) else str(payload).encode()
        return at

    return open_page


def _everything(at: AppTest) -> list[str]:
    out = _strings(at)
    for name, payload in at.downloads.items():
        if name.endswith(".csv"):
            out += _csv_cells(payload)
        elif name.endswith(".html"):
            out += _html_texts(payload)
    return out


@pytest.fixture(scope="session")
def port_marel(demo_db) -> Secrets:
    return Secrets(demo_db, ("port-marel",))


@pytest.fixture(scope="session")
def saint_aubin(demo_db) -> Secrets:
    return Secrets(demo_db, ("saint-aubin",))


def _user(role: str, scope: tuple[str, ...] | None) -> dict:
    return {"name": "camille", "role": role, "scope": scope, "via": "password"}


# ------------------------------------------------------------------------------ the walks
@pytest.mark.parametrize("role", ["elu", "analyste"])
@pytest.mark.parametrize("page", PAGES)
def test_scoped_user_sees_nothing_of_another_territory_on_any_page_or_download(as_user, port_marel, page, role):
    """Port-Marel's team, with a link asking for Saint-Aubin and Villeneuve too: every page, every table,
    every download (the report's HTML included) holds nothing of another territory."""
    at = as_user(page, _user(role, ("port-marel",)),
                 query={"territoires": "saint-aubin,port-marel,villeneuve-les-sources"})
    shown = _everything(at)
    assert not port_marel.found(iter(shown)), (page, role, port_marel.found(iter(shown))[:5])
    text = "\n".join(shown)
    for other in ("Saint-Aubin-sur-Loire", "Villeneuve-les-Sources", "Bourg-la-Lavande", "Montclar Agglomération"):
        # Port-Marel declares no peer in the demo registry: no other territory is even named (message
        # texts naming a place excepted: none of the demo's Port-Marel messages does)
        assert other not in text, (page, role, other)
    if page == "rapports.py":
        assert {n.rsplit(".", 1)[-1] for n in at.downloads} == {"pdf", "html"}
    sidebar = at.sidebar.multiselect(key="_vf_territoires")
    # the link could not widen it: of its three territories, only Port-Marel is kept
    assert sidebar.options == ["Port-Marel (nous)"] and sidebar.value == ["port-marel"]


@pytest.mark.parametrize("page", PAGES)
def test_scoped_user_sees_peers_aggregates_never_their_messages(as_user, saint_aubin, page):
    """Saint-Aubin's team (the registry gives it four peers): the peers' aggregates are there for
    comparison, their messages, authors, ids and post texts are not, nor in any download or report."""
    at = as_user(page, _user("analyste", ("saint-aubin",)))
    shown = _everything(at)
    assert not saint_aubin.found(iter(shown)), (page, saint_aubin.found(iter(shown))[:5])
    if page in ("synthese.py", "benchmark.py", "audience.py"):
        assert "Port-Marel" in "\n".join(shown)  # a peer's aggregates, for comparison
    if page == "rapports.py":
        report = "\n".join(_html_texts(next(v for k, v in at.downloads.items() if k.endswith(".html"))))
        assert "Port-Marel" in report  # the report's peer values


def test_the_detector_finds_another_territorys_messages_when_they_are_shown(as_user, port_marel):
    """Control: the host's administrator (no scope) on Saint-Aubin's pages is shown what the checks above
    look for — texts, ids and pseudonyms that are not Port-Marel's."""
    host = _user("analyste", None)
    found = []
    for page in ("e_reputation.py", "moderation.py"):
        at = as_user(page, host, query={"territoires": "saint-aubin"})
        found += port_marel.found(iter(_everything(at)))
    kinds = {f.split(" ")[0] for f in found}
    assert {"texte", "identifiant", "pseudonyme"} <= kinds, kinds


def test_sidebar_and_session_cannot_widen_the_scope(as_user, port_marel):
    """A value forced into the territory filter's state (as a tampered websocket message would) and a
    peer id in the link: the page still reads Port-Marel only; no « + pairs » button."""
    at = as_user("moderation.py", _user("analyste", ("port-marel",)),
                 query={"territoires": "saint-aubin"},
                 state={"_vf_territoires": ["saint-aubin"], "_vf_shadow": {"_vf_territoires": ["saint-aubin"]}})
    assert not port_marel.found(iter(_everything(at)))
    assert any("Port\\-Marel" in m.value for m in at.markdown)  # « Territoire suivi : Port-Marel »
    assert not [b for b in at.sidebar.button if b.key == "vigie_add_peers"]
    assert at.session_state["_vf_result"].territories == ("port-marel",)


def test_scoped_user_cannot_ask_for_another_territorys_report(as_user, demo_db):
    at = as_user("rapports.py", _user("elu", ("port-marel",)))
    assert at.selectbox[0].options == ["Port-Marel"]
    from analysis import access, store

    with store.reader(demo_db) as con, pytest.raises(access.OutOfScope):
        access.read(con, access.Scope(("port-marel",)), "analysis.reports.render:generate_files", None, None,
                    territory="saint-aubin", period="2026-03")


def test_a_territory_without_data_yet_shows_empty_pages_not_everyone_elses(as_user, demo_db):
    """A commune added to the registry before its first import: its team gets empty pages (no
    exception), never « every territory » for lack of its own."""
    with duckdb.connect(str(demo_db.with_name(demo_db.name + ".read")), read_only=True) as con:
        pseudonyms = {r[0] for r in con.execute("SELECT DISTINCT author_hash FROM messages").fetchall() if r[0]}
        ids = {r[0] for r in con.execute("SELECT message_id FROM messages").fetchall()}
    for page in PAGES:
        at = as_user(page, _user("analyste", ("nouvelle-commune",)))
        shown = _everything(at)
        assert not [s for s in shown if set(PSEUDONYM.findall(s)) & pseudonyms], page
        assert not [s for s in shown if {m.rstrip(".") for m in MESSAGE_ID.findall(s)} & ids], page
        assert "Port-Marel" not in "\n".join(shown) and "Saint-Aubin-sur-Loire" not in "\n".join(shown), page
