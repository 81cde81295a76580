"""Jetstream follow service and its spool import, against a local WebSocket server (127.0.0.1).

The server replays events in the shapes of production Jetstream v1 (fixtures written by
tests/fixtures/make_jetstream.py): it honours ``cursor`` (events with ``time_us`` ≥ cursor), and
each connection follows a script (drop the socket after N events, inject a malformed message,
close normally). Every follow run stops on a condition (a number of events received, a signal
sent from the event hook), never after a sleep.
"""

from __future__ import annotations

import json
import os
import shutil
import signal
import subprocess
import sys
import threading
from dataclasses import dataclass, field
from datetime import UTC, datetime
from pathlib import Path
from urllib.parse import parse_qsl, urlsplit

import pytest
from websockets.sync.server import serve

from analysis.collect import jetstream as js
from analysis.collect.http import CollectError
from analysis.ingest.jetstream import DID_CACHE, spool_dir
from tests.api_replay import Sleeps, rows, run_collect
from tests.cli_inproc import run_cli
from tests.fixtures.make_jetstream import CLAIRE, DROPPED, IGNORED, KEPT, MARC, OTHER, PEER, T0, TOWN

FIX = Path(__file__).resolve().parent / "fixtures" / "jetstream"
HOUR = datetime(2026, 12, 1, 9, 30, tzinfo=UTC)
TOWN_ACC = "bluesky:saintaubinsurloire.bsky.social"
PEER_ACC = "bluesky:portmarel.bsky.social"


def stream() -> list[dict]:
    return [json.loads(line) for line in (FIX / "stream.jsonl").read_text(encoding="utf-8").splitlines()]


@dataclass
class Plan:
    """What one connection does: drop the socket before event ``drop_after``, send raw messages
    before given events, close normally after the last event (else stay open)."""

    drop_after: int | None = None
    inject: dict[int, list[str]] = field(default_factory=dict)
    close: bool = False


class JetstreamServer:
    """A Jetstream stand-in: ``/subscribe`` replays ``events`` from the ``cursor`` asked."""

    def __init__(self, events: list[dict], plans: list[Plan] | None = None) -> None:
        self.events = events
        self.plans = plans or []
        self.queries: list[dict[str, str]] = []
        self.paths: list[str] = []
        self.connected = threading.Condition()
        self.server = serve(self.handler, "127.0.0.1", 0)
        self.thread = threading.Thread(target=self.server.serve_forever, daemon=True)
        self.thread.start()
        self.url = f"ws://127.0.0.1:{self.server.socket.getsockname()[1]}"

    def handler(self, ws) -> None:
        parts = urlsplit(ws.request.path)
        q = dict(parse_qsl(parts.query))
        with self.connected:
            n = len(self.queries)
            self.queries.append(q)
            self.paths.append(parts.path)
            self.connected.notify_all()
        plan = self.plans[n] if n < len(self.plans) else Plan()
        cursor = int(q["cursor"]) if "cursor" in q else None
        todo = [e for e in self.events if cursor is None or e["time_us"] >= cursor]
        for i, ev in enumerate(todo):
            if plan.drop_after is not None and i >= plan.drop_after:
                ws.close_socket()  # the network drops: no close frame
                return
            for raw in plan.inject.get(i, []):
                ws.send(raw)
            ws.send(json.dumps(ev))
        if plan.drop_after is not None and plan.drop_after >= len(todo):
            ws.close_socket()
            return
        if plan.close:
            ws.close()  # a server restart: a normal close
            return
        for _ in ws:  # stay open until the client leaves
            pass

    def wait_connections(self, n: int, timeout: float = 60) -> None:
        with self.connected:
            assert self.connected.wait_for(lambda: len(self.queries) >= n, timeout), self.queries

    def close(self) -> None:
        self.server.shutdown()
        self.thread.join(5)


@pytest.fixture()
def server_factory():
    made: list[JetstreamServer] = []

    def make(events: list[dict], plans: list[Plan] | None = None) -> JetstreamServer:
        s = JetstreamServer(events, plans)
        made.append(s)
        return s

    yield make
    for s in made:
        s.close()


def seed_dids(root: Path, when: datetime | None = None) -> None:
    """The DID cache the service keeps, written as if both handles had just been resolved."""
    root.mkdir(parents=True, exist_ok=True)
    at = (when or datetime.now(UTC)).isoformat(timespec="seconds")
    (root / DID_CACHE).write_text(json.dumps({
        "saintaubinsurloire.bsky.social": {"did": TOWN, "resolved_at": at},
        "portmarel.bsky.social": {"did": PEER, "resolved_at": at}}), encoding="utf-8")


@pytest.fixture()
def spool(collect_env) -> Path:
    root = spool_dir()
    seed_dids(root)
    return root


def spooled(root: Path) -> list[dict]:
    return [json.loads(line) for f in js.closed_files(root) for line in f.read_text(encoding="utf-8").splitlines()]


def ident(ev: dict) -> tuple:
    return ev["did"], ev["time_us"], ev["commit"]["rkey"], ev["commit"]["operation"]


def run_follow(server: JetstreamServer, **kw) -> tuple[js.FollowStats, list[str]]:
    lines: list[str] = []
    kw.setdefault("sleep", Sleeps())
    kw.setdefault("now", lambda: HOUR)
    stats = js.follow(server.url, log=lines.append, **kw)
    return stats, lines


# ------------------------------------------------------------------------------------ filtering
def test_filter_keeps_exactly_the_events_about_a_territory_or_an_official_account(spool, server_factory):
    evs = stream()
    server = server_factory(evs)
    stats, log = run_follow(server, max_events=len(evs))
    assert server.paths == ["/subscribe"]
    assert server.queries == [{"wantedCollections": "app.bsky.feed.post"}]  # first start: live, no cursor
    assert [ident(e) for e in spooled(spool)] == [ident(evs[i]) for i in KEPT]
    assert stats.kept == {"official": 2, "reply": 1, "quote": 1, "mention": 1, "named": 5, "delete": 1}
    assert stats.dropped == len(DROPPED) == 3
    assert stats.ignored == {"identity": 1, "account": 1, "other collections": 3} and len(IGNORED) == 5
    assert (stats.duplicates, stats.malformed, stats.stopped_by) == (0, 0, "max_events")
    # one file of a 5-minute slot, closed at the stop; the cursor is the last event read (kept or not)
    assert [p.name for p in js.closed_files(spool)] == ["202612010930.jsonl"]
    assert not list(spool.glob("*.part"))
    assert json.loads((spool / js.CURSOR_FILE).read_text())["time_us"] == evs[-1]["time_us"]
    assert "2 comptes officiels" in log[0] and "arrêt (max_events)" in log[-1]


# ------------------------------------------------------------------------------------ reconnection
def test_dropped_connection_resumes_at_cursor_and_loses_or_duplicates_nothing(spool, server_factory):
    evs = stream()
    # 1st connection: a malformed message, then the socket drops after 10 events; the 2nd is
    # dropped before any event (server restarting); the 3rd replays from the cursor
    server = server_factory(evs, [Plan(drop_after=10, inject={5: ['{"did": "did:plc:x", "time_us": 17']}),
                                  Plan(drop_after=0), Plan()])
    cursor = evs[9]["time_us"] - js.REWIND_US  # last event read before the drop, minus the rewind
    replayed = [e for e in evs if e["time_us"] >= cursor]
    sleeps = Sleeps()
    stats, log = run_follow(server, max_events=10 + 1 + len(replayed), sleep=sleeps)
    assert [q.get("cursor") for q in server.queries] == [None, str(cursor), str(cursor)]
    assert all(q["wantedCollections"] == "app.bsky.feed.post" for q in server.queries)
    assert sleeps == [1.0, 2.0]  # exponential backoff; reset once a connection delivered events
    assert [ident(e) for e in spooled(spool)] == [ident(evs[i]) for i in KEPT]  # nothing lost, nothing twice
    kept_again = [i for i in KEPT if evs[i]["time_us"] >= cursor and i <= 9]
    assert stats.duplicates == len(kept_again) == 3  # 4, 7 and 9 came twice, were spooled once
    assert stats.malformed == 1 and any("message illisible ignoré (1 " in m for m in log)
    assert stats.connections == 3
    assert any("nouvel essai dans 2 s" in m for m in log)


def test_sigterm_stops_cleanly_writes_cursor_and_a_restart_skips_what_was_spooled(spool, server_factory):
    evs = stream()
    server = server_factory(evs)
    before = signal.getsignal(signal.SIGTERM)

    def on_event(stats: js.FollowStats) -> None:
        if stats.received == len(evs):
            os.kill(os.getpid(), signal.SIGTERM)  # what systemctl stop sends

    stats, log = run_follow(server, on_event=on_event)
    assert stats.stopped_by == "SIGTERM" and "arrêt (SIGTERM)" in log[-1]
    assert signal.getsignal(signal.SIGTERM) is before  # the previous handler is back
    assert json.loads((spool / js.CURSOR_FILE).read_text())["time_us"] == evs[-1]["time_us"]
    assert len(spooled(spool)) == len(KEPT) and not list(spool.glob("*.part"))

    # restarted (systemd Restart=always): resumes from the saved cursor; the replayed events
    # that were spooled are recognised from the cursor file and not written again
    stats2, _ = run_follow(server, max_events=len([e for e in evs if e["time_us"] >= evs[-1]["time_us"] - js.REWIND_US]))
    assert server.queries[1]["cursor"] == str(evs[-1]["time_us"] - js.REWIND_US)
    assert stats2.duplicates == 4 and sum(stats2.kept.values()) == 0  # 14, 16, 17, 18
    assert len(spooled(spool)) == len(KEPT)


# ------------------------------------------------------------------------------------ spool import
def test_spool_imports_into_the_store_then_the_files_are_gone_and_a_second_run_adds_nothing(spool):
    for f in ("2026120109.jsonl", "2026120110.jsonl"):
        shutil.copy(FIX / f, spool / f)
    [r] = run_collect([js.SPOOL_SOURCE], None)
    assert r.status == "ok", r.error
    assert (r.platform, r.account, r.posts, r.messages) == ("bluesky", "jetstream", 1, 8)
    assert (r.inserted, r.deleted, r.edited, r.rejected, r.requests) == (9, 1, 1, 1, 0)
    assert js.closed_files(spool) == []  # imported files are deleted (they hold DIDs)
    assert rows("SELECT post_id, account_id, territory_id, likes, comments, shares, quotes, reactions FROM posts") == [
        (f"bluesky:at://{TOWN}/app.bsky.feed.post/3mconseilaaa2", TOWN_ACC, "saint-aubin", None, None, None, None, None)]
    got = {m[0].rsplit("/", 1)[-1]: m[1:] for m in rows(
        "SELECT message_id, kind, account_id, territory_id, is_official, likes, replies, deleted_at IS NOT NULL, "
        "edited_at IS NOT NULL, text IS NULL FROM messages")}
    assert got == {
        "3mclairerep2": ("reply", TOWN_ACC, "saint-aubin", False, None, None, True, False, True),  # deleted later
        "3mmarceauaa2": ("mention", None, "saint-aubin", False, None, None, False, True, False),  # named, edited
        "3mninamarch2": ("mention", None, "saint-aubin", False, None, None, False, False, False),  # #SaintAubin
        "3mleomercia2": ("mention", PEER_ACC, "port-marel", False, None, None, False, False, False),  # @-mention
        "3mninaquote2": ("mention", TOWN_ACC, "saint-aubin", False, None, None, False, False, False),  # quote
        "3mreponsemar2": ("reply", TOWN_ACC, "saint-aubin", True, None, None, False, False, False),  # town answers
        "3mninajazza2": ("mention", None, "port-marel", False, None, None, False, False, False),  # peer named
        "3mleotagsaa2": ("mention", None, "saint-aubin", False, None, None, False, False, False),  # record.tags
    }
    assert rows("SELECT text FROM messages WHERE message_id LIKE '%3mmarceauaa2'")[0][0].endswith("(rétablie à 14 h, merci)")
    from analysis.privacy import pseudonymise

    assert rows("SELECT author_hash FROM messages WHERE message_id LIKE '%3mclairerep2'") == [
        (pseudonymise("bluesky", CLAIRE),)]  # the connector's pseudonym of the same DID
    assert rows("SELECT count(*) FROM accounts WHERE native_id LIKE 'did:plc:habitant%'") == [(0,)]  # no citizen kept
    assert rows("SELECT reason FROM rejects") == [("ligne JSON illisible (événement Jetstream tronqué ?)",)]
    state = json.loads(rows("SELECT cursor FROM collect_state WHERE source_id = 'bluesky:firehose:jetstream'")[0][0])
    assert state == {"file": "2026120110.jsonl", "time_us": T0 + 18_500_000}

    [again] = run_collect([js.SPOOL_SOURCE], None)
    assert (again.status, again.inserted, again.updated, again.deleted) == ("ok", 0, 0, 0)
    # the last events spooled again (replayed after a crash of the service) change nothing either
    shutil.copy(FIX / "2026120110.jsonl", spool / "2026120110.jsonl")
    [third] = run_collect([js.SPOOL_SOURCE], None)
    assert (third.inserted, third.updated, third.deleted, third.edited) == (0, 0, 0, 0)
    assert rows("SELECT count(*) FROM messages") == [(8,)]


def test_crash_between_two_files_keeps_the_first_and_resumes_with_the_second(spool, monkeypatch):
    for f in ("2026120109.jsonl", "2026120110.jsonl"):
        shutil.copy(FIX / f, spool / f)
    real = js.read_file
    calls = []

    def failing(path, ctx, officials=None):
        calls.append(path.name)
        if path.name == "2026120110.jsonl":
            raise OSError("disque plein")
        return real(path, ctx, officials)

    monkeypatch.setattr(js, "read_file", failing)
    [r] = run_collect([js.SPOOL_SOURCE], None)
    assert r.status == "error" and "reprendra" in r.error
    assert [p.name for p in js.closed_files(spool)] == ["2026120110.jsonl"]  # the first is stored and gone
    assert rows("SELECT count(*) FROM messages") == [(6,)]
    monkeypatch.setattr(js, "read_file", real)
    [r2] = run_collect([js.SPOOL_SOURCE], None)
    assert (r2.status, r2.deleted, r2.edited) == ("ok", 1, 1)
    assert rows("SELECT count(*) FROM messages") == [(8,)] and js.closed_files(spool) == []


def test_delete_events_mark_stored_posts_and_messages_deleted(spool, server_factory):
    shutil.copy(FIX / "2026120109.jsonl", spool / "2026120109.jsonl")
    run_collect([js.SPOOL_SOURCE], None)  # the town's post and Marc's message are stored (and published)
    p1 = f"bluesky:at://{TOWN}/app.bsky.feed.post/3mconseilaaa2"
    deletes = [{"did": did, "time_us": T0 + 3_600_000_000 + i, "kind": "commit",
                "commit": {"rev": f"3mdel{i}aaaaaa2", "operation": "delete", "collection": "app.bsky.feed.post",
                           "rkey": rkey}}
               for i, (did, rkey) in enumerate([(TOWN, "3mconseilaaa2"), (MARC, "3mmarceauaa2"), (OTHER, "3mlyonaaaaa2")])]
    server = server_factory(deletes)
    stats, _ = run_follow(server, max_events=3, now=lambda: datetime(2026, 12, 1, 10, 5, tzinfo=UTC))
    # the town's (official) and Marc's (author of a stored message, read from the store's copy)
    assert stats.kept == {"delete": 2} and stats.dropped == 1
    [r] = run_collect([js.SPOOL_SOURCE], None)
    assert (r.status, r.deleted) == ("ok", 2)
    assert rows("SELECT deleted_at IS NOT NULL, text FROM posts WHERE post_id = ?", [p1])[0][0] is True
    assert rows("SELECT text IS NOT NULL FROM posts WHERE post_id = ?", [p1]) == [(True,)]  # a published post keeps its text
    assert rows("SELECT deleted_at IS NOT NULL, text FROM messages WHERE message_id LIKE '%3mmarceauaa2'") == [(True, None)]


# ------------------------------------------------------------------------------------ CLI
def test_cli_follow_sigterm_then_jetstream_spool_import(collect_env, server_factory):
    root = spool_dir()
    seed_dids(root)
    evs = stream()
    server = server_factory(evs, [Plan(close=True)])  # sends the stream then restarts (normal close)
    env = os.environ.copy()
    proc = subprocess.Popen([sys.executable, "-m", "analysis", "--db", str(collect_env), "collect", "--follow",
                             "--api", server.url], stderr=subprocess.PIPE, text=True, env=env)
    try:
        server.wait_connections(2)  # reconnected with its cursor: every event of the 1st was read
    finally:
        proc.send_signal(signal.SIGTERM)
        _, stderr = proc.communicate(timeout=60)
    assert proc.returncode == 0, stderr
    assert server.queries[1]["cursor"] == str(evs[-1]["time_us"] - js.REWIND_US)
    assert "arrêt (SIGTERM)" in stderr and "11 gardés" in stderr
    assert len(js.closed_files(root)) == 1

    cmd = [sys.executable, "-m", "analysis", "--db", str(collect_env), "collect", "jetstream-spool", "--json",
           "--no-enrich"]
    out = subprocess.run(cmd, capture_output=True, text=True, env=env, timeout=120)
    assert out.returncode == 0, out.stderr
    [src] = json.loads(out.stdout)["sources"]
    assert {k: src[k] for k in ("platform", "account", "posts", "messages", "inserted", "updated", "deleted",
                                "status", "error")} == {
        "platform": "bluesky", "account": "jetstream", "posts": 1, "messages": 8, "inserted": 9, "updated": 0,
        "deleted": 1, "status": "ok", "error": None}
    [again] = run_collect([js.SPOOL_SOURCE], None)  # what the next `vigie collect` finds: nothing
    assert (again.inserted, again.posts, again.messages) == (0, 0, 0)
    from analysis import store
    from analysis.collect.runner import status

    with store.reader() as con:
        st = status(con)
    assert st[["platform", "key", "status", "inserted"]].values.tolist() == [["bluesky", "jetstream", "ok", 0]]


def test_vigie_collect_plan_includes_the_spool_only_when_a_service_has_one(collect_env):
    assert js.spool_sources() == []
    spool_dir().mkdir(parents=True)
    assert js.spool_sources() == [js.SPOOL_SOURCE]
    assert js.spool_sources({"bluesky", "mastodon"}) == [js.SPOOL_SOURCE]
    assert js.spool_sources({"mastodon"}) == []


# ------------------------------------------------------------------------------------ saved events
def test_saved_events_import_gives_the_same_rows_as_the_spool(spool, tmp_path, monkeypatch):
    for f in ("2026120109.jsonl", "2026120110.jsonl"):
        shutil.copy(FIX / f, spool / f)
    run_collect([js.SPOOL_SOURCE], None)
    cols_p = "SELECT post_id, account_id, territory_id, created_at, text, likes, comments FROM posts ORDER BY 1"
    cols_m = ("SELECT message_id, kind, post_id, parent_id, account_id, territory_id, author_hash, is_official, "
              "created_at, text, lang, likes FROM messages WHERE message_id NOT LIKE '%3mclairerep2' ORDER BY 1")
    collected, collected_m = rows(cols_p), rows(cols_m)
    other = tmp_path / "other.duckdb"
    seed_dids(spool_dir(other))  # the DID cache a service beside that store would have
    out = run_cli([sys.executable, "-m", "analysis", "--db", str(other), "import", str(FIX / "stream.jsonl"),
                          "--json"], capture_output=True, text=True, env=os.environ.copy(), timeout=120)
    assert out.returncode == 0, out.stderr
    [f] = json.loads(out.stdout)["files"]
    assert (f["format"], f["status"], f["rows_read"], f["rejected"]) == ("bluesky_jetstream", "ok", 19, 0)
    # the same rule as the service: strangers' posts are not kept; deletions need the runner
    assert "2 publications sans rapport avec un territoire ignorées" in f["notes"]
    assert any(n.startswith("2 suppressions non appliquées") for n in f["notes"])
    monkeypatch.setenv("VIGIE_DB", str(other))
    assert rows(cols_p) == collected
    assert rows(cols_m) == collected_m and len(collected_m) == 7


def test_sniff_tells_jetstream_events_from_appview_dumps():
    from analysis.ingest import detect
    from analysis.ingest.sniff import probe

    assert detect(probe(FIX / "stream.jsonl")).name == "bluesky_jetstream"
    assert detect(probe(FIX / "2026120109.jsonl")).name == "bluesky_jetstream"
    assert detect(probe(FIX.parent / "bluesky" / "dump_saintaubin.jsonl")).name == "bluesky_api"


# ------------------------------------------------------------------------------------ pieces
def test_handles_are_resolved_once_and_cached(collect_env, replay, server_factory):
    root = spool_dir()
    replay.json("/xrpc/com.atproto.identity.resolveHandle", {"did": TOWN},
                when={"handle": "saintaubinsurloire.bsky.social"})
    replay.json("/xrpc/com.atproto.identity.resolveHandle", {"error": "InvalidRequest",
                                                             "message": "Unable to resolve handle"},
                status=400, when={"handle": "portmarel.bsky.social"})
    evs = stream()
    server = server_factory(evs)
    stats, log = run_follow(server, appview=replay.url, max_events=len(evs))
    assert [c["handle"] for c in replay.calls("/xrpc/com.atproto.identity.resolveHandle")] == [
        "saintaubinsurloire.bsky.social", "portmarel.bsky.social"]
    assert json.loads((root / DID_CACHE).read_text())["saintaubinsurloire.bsky.social"]["did"] == TOWN
    assert any("« portmarel.bsky.social » n'a pas pu être résolu" in m and "native_id" in m for m in log)
    assert stats.kept["mention"] == 0  # the @-mention of Port-Marel is not recognised without its DID
    replay.log.clear()
    run_follow(server, appview=replay.url, max_events=1)
    # the town's DID comes from the cache; only the unresolved handle is asked again
    assert [c["handle"] for c in replay.calls("/xrpc/com.atproto.identity.resolveHandle")] == ["portmarel.bsky.social"]


def test_spool_rotates_every_five_minutes_and_a_crash_leftover_is_closed_in_order(tmp_path):
    clock = [datetime(2026, 12, 1, 9, 59, 59, tzinfo=UTC)]
    sp = js.Spool(tmp_path, lambda: clock[0])
    sp.write('{"a": 1}')
    assert sp.tick() is False and [p.name for p in tmp_path.iterdir()] == ["202612010955.jsonl.part"]
    clock[0] = datetime(2026, 12, 1, 10, 0, 1, tzinfo=UTC)
    assert sp.tick() is True  # the slot ended: closed, ready for import
    sp.write('{"a": 2}')
    sp.flush()
    sp.fh.close()  # then the process dies: a .part stays
    clock[0] = datetime(2026, 12, 1, 9, 57, tzinfo=UTC)  # (a clock set back: same slot as a closed file)
    js.Spool(tmp_path, lambda: clock[0])  # restart closes the leftover
    sp2 = js.Spool(tmp_path, lambda: clock[0])
    sp2.write('{"a": 3}')
    sp2.close()
    assert [p.name for p in js.closed_files(tmp_path)] == ["202612010955.jsonl", "202612010955.1.jsonl",
                                                           "202612011000.jsonl"]
    assert [p.read_text() for p in js.closed_files(tmp_path)] == ['{"a": 1}\n', '{"a": 3}\n', '{"a": 2}\n']


def test_second_service_on_the_same_spool_and_a_bad_address_are_french_errors(spool):
    held = js._lock(spool)
    try:
        with pytest.raises(CollectError, match="un autre service de suivi"):
            js.follow("ws://127.0.0.1:9", log=lambda m: None)
    finally:
        held.close()
    with pytest.raises(CollectError, match="adresse « ftp://x » invalide"):
        js.follow("ftp://x", log=lambda m: None)
    assert js.subscribe_url("ws://127.0.0.1:9", 123) == (
        "ws://127.0.0.1:9/subscribe?wantedCollections=app.bsky.feed.post&cursor=123")
    assert js.subscribe_url(None, None) == (
        "wss://jetstream2.us-east.bsky.network/subscribe?wantedCollections=app.bsky.feed.post")


def test_vigie_collect_of_all_sources_imports_the_spool_too(spool, replay):
    from typer.testing import CliRunner

    from analysis.cli import app

    shutil.copy(FIX / "2026120109.jsonl", spool / "2026120109.jsonl")
    # the Bluesky accounts of the registry are unknown to this replay: they fail, the spool does not
    replay.json("/xrpc/app.bsky.actor.getProfile", {"error": "InvalidRequest", "message": "Profile not found"},
                status=400)
    r = CliRunner().invoke(app, ["collect", "--platform", "bluesky", "--api", replay.url, "--json", "--no-enrich"])
    out = json.loads(r.stdout[r.stdout.index("{"):])
    by_key = {s["account"]: s for s in out["sources"]}
    assert set(by_key) == {"saintaubinsurloire.bsky.social", "portmarel.bsky.social", "jetstream"}
    assert (by_key["jetstream"]["status"], by_key["jetstream"]["inserted"]) == ("ok", 7)
    assert js.closed_files(spool) == []


def test_a_record_off_the_lexicon_is_counted_and_skipped_by_the_service_and_the_import(spool, server_factory):
    evs = stream()
    odd = {"did": OTHER, "time_us": T0 + 500_000, "kind": "commit", "commit": {
        "rev": "3modd", "operation": "create", "collection": "app.bsky.feed.post", "rkey": "3moddaaaaaa2",
        "record": {"$type": "app.bsky.feed.post", "text": "Saint-Aubin-sur-Loire", "createdAt": "2026-12-01T09:00:00Z",
                   "facets": ["pas un objet"]}}}
    server = server_factory([odd, evs[1]])
    stats, log = run_follow(server, max_events=2)
    assert (stats.malformed, stats.kept) == (1, {"official": 1})
    assert any("forme inattendue" in m for m in log)
    # the same record reaching the spool (an older service, a hand-made file) does not block the import
    (spool / "2026120108.jsonl").write_text(json.dumps(odd) + "\n", encoding="utf-8")
    [r] = run_collect([js.SPOOL_SOURCE], None)
    assert (r.status, r.rejected, r.inserted) == ("ok", 1, 1) and js.closed_files(spool) == []
