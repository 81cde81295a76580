"""Bluesky connector against a local replay of the AppView (fixtures in the real response shapes)."""

from __future__ import annotations

import json
import os
import subprocess
import sys
from datetime import datetime
from pathlib import Path

import pytest

from analysis.collect.base import Source
from analysis.collect.credentials import Credentials
from tests.api_replay import Sleeps, rows, run_collect
from tests.cli_inproc import run_cli

FIX = Path(__file__).resolve().parent / "fixtures" / "bluesky"
HANDLE = "saintaubinsurloire.bsky.social"
ACC = f"bluesky:{HANDLE}"
SINCE = datetime(2026, 11, 1)
XRPC = "/xrpc/app.bsky"


def load(name: str) -> dict:
    return json.loads((FIX / name).read_text(encoding="utf-8"))


def serve_account(replay, p1: dict | None = None, p2: dict | None = None, thread_a: dict | None = None) -> None:
    replay.json(f"{XRPC}.actor.getProfile", load("profile.json"), when={"actor": HANDLE})
    replay.json(f"{XRPC}.feed.getAuthorFeed", p1 or load("feed_p1.json"), when={"actor": HANDLE, "cursor": None})
    replay.json(f"{XRPC}.feed.getAuthorFeed", p2 or load("feed_p2.json"),
                when={"actor": HANDLE, "cursor": "2026-11-25T14:30:00.000Z"})
    a, c = load("feed_p1.json")["feed"][3]["post"]["uri"], load("feed_p2.json")["feed"][0]["post"]["uri"]
    replay.json(f"{XRPC}.feed.getPostThread", thread_a or load("thread_a.json"), when={"uri": a})
    replay.json(f"{XRPC}.feed.getPostThread", load("thread_c.json"), when={"uri": c})


def source() -> Source:
    return Source("bluesky", "account", HANDLE, "saint-aubin", "own")


def test_account_feed_threads_followers_then_second_run_adds_nothing(collect_env, replay):
    serve_account(replay)
    [r] = run_collect([source()], replay.url, since=SINCE)
    assert r.status == "ok", r.error
    # the cursor was followed to the end
    feed_calls = replay.calls(f"{XRPC}.feed.getAuthorFeed")
    assert [c.get("cursor") for c in feed_calls] == [None, "2026-11-25T14:30:00.000Z"]
    assert feed_calls[0]["filter"] == "posts_with_replies" and feed_calls[0]["limit"] == "100"
    posts = dict(rows("SELECT native_id, text FROM posts WHERE platform = 'bluesky'"))
    # A, its thread continuation A2, B, C and the pinned D; the repost of another account is not ours
    assert len(posts) == 5
    assert not any("ouestloire" in u for u in posts)
    assert r.followers == 1834
    assert rows("SELECT account_id, followers FROM audience_followers") == [(ACC, 1834)]
    msgs = {m[0].rsplit("/", 1)[-1]: m[1:] for m in rows(
        "SELECT message_id, kind, is_official, territory_id, author_hash IS NOT NULL, author_name, post_id "
        "FROM messages ORDER BY message_id")}
    # citizens' replies of both threads and the town's own answer (an official reply)
    assert set(msgs) == {"3lzcccccccc2a", "3lzdddddddd2a", "3lzeeeeeeee2a", "3lzaaaaaaaf2a"}
    assert msgs["3lzaaaaaaaf2a"][:3] == ("reply", True, "saint-aubin")
    assert msgs["3lzcccccccc2a"][:4] == ("reply", False, "saint-aubin", True)
    assert all(m[4] is None for m in msgs.values())  # no display name without --keep-author-names
    # the two threads with replies were read, not the posts without any
    assert len(replay.calls(f"{XRPC}.feed.getPostThread")) == 2
    # plain commenters are not stored as accounts (their DID only lives on as a keyed hash), even
    # « Vélo Saint-Aubin », whose name shares words with the town's without imitating its account
    assert rows("SELECT count(*) FROM accounts WHERE platform = 'bluesky' AND native_id LIKE 'did:plc:c1tizen%'") == [
        (0,)]

    replay.log.clear()
    [again] = run_collect([source()], replay.url, since=SINCE)
    assert (again.status, again.inserted, again.updated, again.deleted) == ("ok", 0, 0, 0)
    assert replay.calls(f"{XRPC}.feed.getPostThread") == []  # reply counts unchanged: no thread re-read
    assert rows("SELECT count(*) FROM posts") == [(5,)]
    assert rows("SELECT count(*) FROM collect_runs") == [(2,)]


def test_changed_counts_update_and_deleted_items_are_said(collect_env, replay):
    serve_account(replay)
    run_collect([source()], replay.url, since=SINCE)
    p1 = load("feed_p1.json")
    p1["feed"][3]["post"]["likeCount"] = 57  # A gained likes
    p1["feed"][3]["post"]["replyCount"] = 2  # and lost a reply: M2 deleted by its author
    p1["feed"] = [i for i in p1["feed"] if not i["post"]["uri"].endswith("3lzaaaaaaac2a")]  # B deleted
    ta = load("thread_a.json")
    ta["thread"]["replies"] = [n for n in ta["thread"]["replies"] if not n["post"]["uri"].endswith("3lzdddddddd2a")]
    replay.reset()
    serve_account(replay, p1=p1, thread_a=ta)
    [r] = run_collect([source()], replay.url, since=SINCE)
    assert r.status == "ok", r.error
    assert (r.inserted, r.deleted) == (0, 2)
    assert r.updated >= 1
    assert rows("SELECT likes, comments FROM posts WHERE native_id LIKE '%3lzaaaaaaaa2a'") == [(57, 2)]
    assert rows("SELECT count(*) FROM posts") == [(5,)]  # updated, never duplicated
    deleted_post = rows("SELECT deleted_at IS NOT NULL, text FROM posts WHERE native_id LIKE '%3lzaaaaaaac2a'")
    assert deleted_post[0][0] and deleted_post[0][1].startswith("Travaux")  # a published post keeps its text
    gone = rows("SELECT deleted_at IS NOT NULL, text FROM messages WHERE message_id LIKE '%3lzdddddddd2a'")
    assert gone == [(True, None)]  # a citizen's deleted reply loses its text


def test_edited_text_is_counted_and_stamped(collect_env, replay):
    serve_account(replay)
    run_collect([source()], replay.url, since=SINCE)
    p1 = load("feed_p1.json")
    p1["feed"][5]["post"]["record"]["text"] = "Travaux rue Nationale : circulation alternée jusqu'au 19 décembre."
    replay.reset()
    serve_account(replay, p1=p1)
    [r] = run_collect([source()], replay.url, since=SINCE)
    assert (r.edited, r.updated) == (1, 1)
    assert rows("SELECT edited_at IS NOT NULL FROM posts WHERE native_id LIKE '%3lzaaaaaaac2a'") == [(True,)]


def test_429_waits_retry_after_and_500_is_retried(collect_env, replay):
    serve_account(replay)
    replay.fail(f"{XRPC}.feed.getAuthorFeed", 429, headers={"Retry-After": "3"},
                body={"error": "RateLimitExceeded", "message": "Rate Limit Exceeded"})
    replay.fail(f"{XRPC}.feed.getPostThread", 502, body={"error": "UpstreamFailure"})
    sleeps = Sleeps()
    [r] = run_collect([source()], replay.url, since=SINCE, sleep=sleeps)
    assert r.status == "ok", r.error
    assert sleeps[0] == 3.0  # what Retry-After asked, not a guess
    assert len(sleeps) == 2 and 0 < sleeps[1] <= 30  # the 502: exponential backoff
    assert rows("SELECT count(*) FROM posts") == [(5,)]


def test_crash_mid_run_keeps_batches_and_next_run_resumes(collect_env, replay):
    serve_account(replay)
    # page 2 keeps failing: the run gives up after its retries, page 1 is stored with a resume point
    replay.fail(f"{XRPC}.feed.getAuthorFeed", 503, times=10, when={"cursor": "2026-11-25T14:30:00.000Z"})
    [r] = run_collect([source()], replay.url, since=SINCE)
    assert r.status == "error" and "reprendra" in r.error
    assert rows("SELECT count(*) FROM posts") == [(4,)]  # page 1: A, A2, B and the pinned D; not C yet
    assert rows("SELECT count(*) FROM posts WHERE native_id LIKE '%3lzaaaaaaad2a'") == [(0,)]
    cursor = json.loads(rows("SELECT cursor FROM collect_state")[0][0])
    assert cursor["resume"]["cursor"] == "2026-11-25T14:30:00.000Z"
    replay.reset()
    serve_account(replay)
    [r2] = run_collect([source()], replay.url, since=SINCE)
    assert r2.status == "ok", r2.error
    first = replay.calls(f"{XRPC}.feed.getAuthorFeed")[0]
    assert first.get("cursor") == "2026-11-25T14:30:00.000Z"  # resumed where the crash stopped
    assert rows("SELECT count(*) FROM posts WHERE native_id LIKE '%3lzaaaaaaad2a'") == [(1,)]
    assert rows("SELECT count(*) FROM messages WHERE message_id LIKE '%3lzeeeeeeee2a'") == [(1,)]
    assert json.loads(rows("SELECT cursor FROM collect_state")[0][0]) == {"resume": None}


def test_unknown_account_and_refused_login_are_clear_french_errors(collect_env, replay, monkeypatch):
    from analysis.collect import bluesky

    monkeypatch.setattr(bluesky, "_SESSIONS", {})
    replay.json(f"{XRPC}.actor.getProfile", {"error": "InvalidRequest", "message": "Profile not found"}, status=400)
    replay.json("/xrpc/com.atproto.server.createSession",
                {"error": "AuthenticationRequired", "message": "Invalid identifier or password"}, status=401,
                method="POST")
    creds = Credentials(values={("bluesky", "handle"): "veille.bsky.social",
                                ("bluesky", "app_password"): "abcd-efgh-ijkl-mnop"})
    res = run_collect([Source("bluesky", "account", "inconnu.bsky.social"),
                       Source("bluesky", "search", "#SaintAubin", "saint-aubin", "own")], replay.url,
                      credentials=creds)
    assert [r.status for r in res] == ["error", "error"]
    assert "introuvable" in res[0].error and "inconnu.bsky.social" in res[0].error
    assert "accès refusé" in res[1].error and "app_password" in res[1].error
    assert "abcd-efgh" not in json.dumps([r.as_json() for r in res])  # never the secret
    assert rows("SELECT status FROM collect_runs ORDER BY source_id") == [("error",), ("error",)]


def test_search_logs_in_once_and_files_mentions_under_the_territory(collect_env, replay, monkeypatch):
    from analysis.collect import bluesky

    monkeypatch.setattr(bluesky, "_SESSIONS", {})
    replay.json("/xrpc/com.atproto.server.createSession", {"accessJwt": "jwt-access", "refreshJwt": "jwt-r",
                                                           "did": "did:plc:veille", "handle": "veille.bsky.social"},
                method="POST")
    replay.json(f"{XRPC}.feed.searchPosts", load("search_p1.json"))
    creds = Credentials(values={("bluesky", "handle"): "veille.bsky.social", ("bluesky", "app_password"): "x-y"})
    r, r2 = run_collect([Source("bluesky", "search", "#SaintAubin", "saint-aubin", "own"),
                         Source("bluesky", "search", "Saint-Aubin-sur-Loire", "saint-aubin", "own")], replay.url,
                        credentials=creds, since=SINCE)
    assert r.status == "ok" and r2.status == "ok", (r.error, r2.error)
    # createSession is limited to 300 a day: one login for all the searches of a run
    assert len(replay.calls("/xrpc/com.atproto.server.createSession")) == 1
    search = [c for c in replay.log if c["path"].endswith("searchPosts")][0]
    assert search["headers"]["Authorization"] == "Bearer jwt-access"
    assert search["args"]["q"] == "#SaintAubin" and search["args"]["sort"] == "latest"
    got = rows("SELECT kind, territory_id, account_id FROM messages ORDER BY created_at")
    assert got == [("mention", "saint-aubin", None), ("mention", "saint-aubin", None)]


def test_cli_json_against_local_replay(collect_env, replay, tmp_path):
    serve_account(replay)
    cmd = [sys.executable, "-m", "analysis", "--db", str(collect_env), "collect", "bluesky", HANDLE,
           "--api", replay.url, "--since", "2026-11-01", "--json", "--no-enrich"]
    out = subprocess.run(cmd, capture_output=True, text=True, env=os.environ.copy(), timeout=120)
    assert out.returncode == 0, out.stderr
    [src] = json.loads(out.stdout)["sources"]
    assert {k: src[k] for k in ("platform", "account", "posts", "messages", "followers", "status", "error")} == {
        "platform": "bluesky", "account": HANDLE, "posts": 5, "messages": 4, "followers": 1834,
        "status": "ok", "error": None}
    assert src["inserted"] == 10 and src["updated"] == 0  # 5 posts + 4 messages + 1 followers row
    again = run_cli(cmd, capture_output=True, text=True, env=os.environ.copy(), timeout=120)
    assert json.loads(again.stdout)["sources"][0]["inserted"] == 0
    st = run_cli([sys.executable, "-m", "analysis", "--db", str(collect_env), "collect", "status", "--json"],
                        capture_output=True, text=True, env=os.environ.copy(), timeout=120)
    [s] = json.loads(st.stdout)
    assert (s["platform"], s["key"], s["status"], s["last_error"]) == ("bluesky", HANDLE, "ok", None)


def test_saved_responses_import_gives_the_same_rows_as_collection(collect_env, replay, tmp_path, monkeypatch):
    serve_account(replay)
    run_collect([source()], replay.url, since=SINCE)
    collected = rows("SELECT post_id, text, likes, comments, shares FROM posts ORDER BY 1")
    collected_msgs = rows("SELECT message_id, kind, is_official, author_hash, text FROM messages ORDER BY 1")
    other = tmp_path / "other.duckdb"
    out = run_cli([sys.executable, "-m", "analysis", "--db", str(other), "import",
                          str(FIX / "dump_saintaubin.jsonl"), "--json"],
                         capture_output=True, text=True, env=os.environ.copy(), timeout=120)
    assert out.returncode == 0, out.stderr
    [f] = json.loads(out.stdout)["files"]
    assert (f["format"], f["status"]) == ("bluesky_api", "ok")
    monkeypatch.setenv("VIGIE_DB", str(other))
    assert rows("SELECT post_id, text, likes, comments, shares FROM posts ORDER BY 1") == collected
    assert rows("SELECT message_id, kind, is_official, author_hash, text FROM messages ORDER BY 1") == collected_msgs


@pytest.mark.parametrize("body", [{"feed": []}, {"posts": [{"uri": "at://did:plc:x/app.bsky.feed.post/1"}]}])
def test_dump_sniff_accepts_endpoint_shapes(tmp_path, body):
    from analysis.ingest import detect
    from analysis.ingest.sniff import probe

    p = tmp_path / "dump.json"
    p.write_text(json.dumps(body), encoding="utf-8")
    assert detect(probe(p)).name == "bluesky_api"
