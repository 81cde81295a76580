"""YouTube connector against a local replay of the Data API v3 (fixtures in the real response shapes)."""

from __future__ import annotations

import json
import logging
import os
import subprocess
import sys
from datetime import datetime
from pathlib import Path

import pytest

from analysis import derived_refresh
from analysis.collect.base import Source
from analysis.collect.credentials import Credentials
from analysis.collect.http import redact
from analysis.privacy import pseudonymise
from tests.api_replay import Sleeps, rows, run_collect
from tests.cli_inproc import run_cli

FIX = Path(__file__).resolve().parent / "fixtures" / "youtube_api"
COMMENTS_FIX = Path(__file__).resolve().parent / "fixtures" / "comments"
CH = "UCsaintaubin00000000001"
UU = "UUsaintaubin00000000001"
ACC = f"youtube:{CH}"
SINCE = datetime(2026, 11, 1)
KEY = "AIzaSyTEST-not-a-real-key-0000000000000"
CREDS = Credentials(values={("youtube", "api_key"): KEY})
T1, T2, T3 = "UgzT1marcheNoel0000004AaABAg", "UgzT2bouchons000000004AaABAg", "UgzT3bravo00000000004AaABAg"
P1, P2 = "EAAaBlBUOkNBTQ", "EAAaBlBUOkNBVQ"


def load(name: str) -> dict:
    return json.loads((FIX / name).read_text(encoding="utf-8"))


def serve(replay, **override: dict) -> None:
    """The Saint-Aubin channel: 3 pages of uploads, the videos, their threads and replies."""
    def f(name: str) -> dict:
        return override.get(name.removesuffix(".json")) or load(name)

    replay.json("/channels", f("channel.json"), when={"id": CH})
    replay.json("/playlistItems", f("playlist_p1.json"), when={"playlistId": UU, "pageToken": None})
    replay.json("/playlistItems", f("playlist_p2.json"), when={"playlistId": UU, "pageToken": P1})
    replay.json("/playlistItems", f("playlist_p3.json"), when={"playlistId": UU, "pageToken": P2})
    replay.json("/videos", f("videos_p1.json"), when={"id": "vidSaintA05,vidSaintA04,vidSaintA03"})
    replay.json("/videos", f("videos_p2.json"), when={"id": "vidSaintA02,vidSaintA01"})
    replay.json("/videos", f("videos_p3.json"), when={"id": "vidSaintA00"})
    replay.json("/commentThreads", f("threads_v5_p1.json"), when={"videoId": "vidSaintA05", "pageToken": None})
    replay.json("/commentThreads", f("threads_v5_p2.json"),
                when={"videoId": "vidSaintA05", "pageToken": "QURTSl9pM2x0aHJlYWRzMg=="})
    replay.json("/commentThreads", load("error_comments_disabled.json"), status=403, when={"videoId": "vidSaintA03"})
    replay.json("/commentThreads", f("threads_v2.json"), when={"videoId": "vidSaintA02"})
    replay.json("/commentThreads", f("threads_v1.json"), when={"videoId": "vidSaintA01"})
    replay.json("/comments", f("replies_t2_p1.json"), when={"parentId": T2, "pageToken": None})
    replay.json("/comments", f("replies_t2_p2.json"), when={"parentId": T2, "pageToken": "R0FJeVZnbzBJTl9zNXRx"})


def source() -> Source:
    return Source("youtube", "account", CH, "saint-aubin", "own")


def collect(replay, **kw):
    kw.setdefault("since", SINCE)
    kw.setdefault("credentials", CREDS)
    return run_collect([kw.pop("src", None) or source()], replay.url, **kw)


def paths(replay) -> list[str]:
    return [c["path"] for c in replay.log]


def test_channel_videos_comments_then_second_run_adds_nothing(collect_env, replay):
    serve(replay)
    [r] = collect(replay)
    assert r.status == "ok", r.error
    # the key goes with every request, as the `key` parameter
    assert {c["args"]["key"] for c in replay.log} == {KEY}
    # uploads paged to the `since` (page 2 holds a video older than it): page 3 never asked
    pl = replay.calls("/playlistItems")
    assert [c.get("pageToken") for c in pl] == [None, P1]
    assert (pl[0]["playlistId"], pl[0]["maxResults"], pl[0]["part"]) == (UU, "50", "snippet,contentDetails")
    vids = replay.calls("/videos")
    assert vids[0]["part"] == "snippet,statistics,contentDetails,status"
    assert replay.calls("/channels")[0]["part"] == "snippet,statistics,contentDetails"
    posts = {p[0]: p[1:] for p in rows(
        "SELECT native_id, account_id, territory_id, text, post_type, video_views, likes, reactions, comments, "
        "shares, created_at, permalink FROM posts ORDER BY 1")}
    assert sorted(posts) == ["vidSaintA01", "vidSaintA02", "vidSaintA03", "vidSaintA04", "vidSaintA05"]
    assert posts["vidSaintA05"][:9] == (ACC, "saint-aubin", "Marché de Noël 2026 : le programme", "video",
                                        1520, 88, 88, 11, None)
    assert posts["vidSaintA05"][9] == datetime(2026, 11, 28, 17, 0)
    assert posts["vidSaintA05"][10] == "https://www.youtube.com/watch?v=vidSaintA05"
    assert posts["vidSaintA04"][4:7] == (410, None, None)  # likes hidden: NULL, never 0
    assert posts["vidSaintA02"][3] == "video"  # 45 s and vertical, but nothing in the API says « Short »
    assert r.followers == 2140
    assert rows("SELECT account_id, followers FROM audience_followers") == [(ACC, 2140)]
    msgs = {m[0].split(":", 1)[1]: m[1:] for m in rows(
        "SELECT message_id, kind, post_id, parent_id, is_official, account_id, territory_id, author_hash, "
        "author_name, text, likes, replies, edited_at FROM messages")}
    assert len(msgs) == 14  # 11 on the Christmas video (3 threads, 8 replies), 1 on the Short, 2 on vidSaintA01
    t1 = msgs[T1]
    assert t1[:6] == ("comment", "youtube:vidSaintA05", None, False, ACC, "saint-aubin")
    assert t1[6] == pseudonymise("youtube", "UCc1tizenClaireB0000000a") and t1[7] is None  # no name by default
    assert (t1[9], t1[10]) == (3, 2)
    official = {k: v for k, v in msgs.items() if v[3]}
    assert len(official) == 4  # the town's three replies and its own comment under the Short
    assert all(v[0] == "reply" and v[2] == f"youtube:{T1 if k.startswith(T1) else T2}"
               for k, v in official.items() if v[0] == "reply")
    assert sum(v[0] == "reply" for v in msgs.values()) == 8
    # the thread included 5 of its 6 replies: comments.list gave them all, page token followed
    assert [c.get("pageToken") for c in replay.calls("/comments")] == [None, "R0FJeVZnbzBJTl9zNXRx"]
    assert sum(k.startswith(T2 + ".") for k in msgs) == 6
    assert msgs[T2][11] == datetime(2026, 11, 29, 8, 5)  # edited: updatedAt kept
    assert msgs[T2][8] == "Encore des bouchons en perspective...\nIl faudrait des navettes."  # NFKC, like every text
    assert msgs["UgxBBB222"][6] == pseudonymise("youtube", "Marc D.")  # channel gone: the name stands in
    # comments disabled on a video: said, not an error, and not read as deletions
    assert any("vidSaintA03" in n and "désactivés" in n for n in r.notes)
    # threads read only for videos with comments (not vidSaintA04, 0 comments)
    assert [c["videoId"] for c in replay.calls("/commentThreads")] == [
        "vidSaintA05", "vidSaintA05", "vidSaintA03", "vidSaintA02", "vidSaintA01"]
    assert replay.calls("/commentThreads")[0] | {"key": ""} == {
        "part": "snippet,replies", "videoId": "vidSaintA05", "maxResults": "100", "order": "time",
        "textFormat": "plainText", "key": ""}
    # a look-alike of the town's name is kept for the impersonation watch; plain commenters are not
    assert rows("SELECT name FROM accounts WHERE platform = 'youtube' AND NOT official") == [
        ("Mairie St-Aubin-sur-Loire",)]
    # quota: 1 unit per request, 12 requests
    assert (r.requests, r.quota_units) == (12, 12)
    assert rows("SELECT quota_units, requests FROM collect_runs") == [(12, 12)]

    replay.log.clear()
    [again] = collect(replay)
    assert (again.status, again.inserted, again.updated, again.deleted, again.edited) == ("ok", 0, 0, 0, 0)
    assert replay.calls("/commentThreads") == [] and replay.calls("/comments") == []  # counts unchanged
    assert again.quota_units == 5  # channels + 2 pages of uploads + 2 videos.list
    assert rows("SELECT count(*) FROM posts") == [(5,)]
    assert rows("SELECT count(*) FROM messages") == [(14,)]


def test_changed_counts_update_and_deleted_items_are_said(collect_env, replay):
    serve(replay)
    collect(replay)
    v1 = load("videos_p1.json")
    v1["items"][0]["statistics"].update(likeCount="95", viewCount="1730", commentCount="10")
    t5 = load("threads_v5_p2.json")
    t5["items"] = []  # the look-alike's comment was removed
    p2 = load("playlist_p2.json")
    p2["items"] = p2["items"][1:]  # the Short was deleted: gone from the uploads…
    v2 = load("videos_p2.json")
    v2["items"] = v2["items"][1:]  # …and from videos.list
    replay.reset()
    serve(replay, videos_p1=v1, threads_v5_p2=t5, playlist_p2=p2, videos_p2=v2)
    replay.json("/videos", v2, when={"id": "vidSaintA01"})
    replay.json("/videos", {"kind": "youtube#videoListResponse", "items": [], "pageInfo": {"totalResults": 0}},
                when={"id": "vidSaintA02"})
    [r] = collect(replay)
    assert r.status == "ok", r.error
    assert (r.inserted, r.deleted) == (0, 2)
    assert r.updated >= 1
    assert rows("SELECT likes, video_views, comments FROM posts WHERE native_id = 'vidSaintA05'") == [(95, 1730, 10)]
    assert rows("SELECT count(*) FROM posts") == [(5,)]  # updated, never duplicated
    assert rows("SELECT deleted_at IS NOT NULL, text FROM posts WHERE native_id = 'vidSaintA02'") == [
        (True, "Le marché en 45 secondes #Shorts")]  # a published video keeps its title and counts
    assert rows("SELECT deleted_at IS NOT NULL, text FROM messages WHERE message_id = ?", [f"youtube:{T3}"]) == [
        (True, None)]
    # the deleted video was asked again by itself before being declared deleted
    assert replay.calls("/videos")[-1]["id"] == "vidSaintA02"
    # comments disabled on vidSaintA03 never count as deletions
    assert rows("SELECT count(*) FROM messages WHERE deleted_at IS NOT NULL") == [(1,)]


def test_edited_comment_and_title_are_stamped(collect_env, replay):
    serve(replay)
    collect(replay)
    v1 = load("videos_p1.json")
    v1["items"][0]["snippet"]["title"] = "Marché de Noël 2026 : le programme complet"
    v1["items"][0]["statistics"]["commentCount"] = "12"
    t1 = load("threads_v5_p1.json")
    top = t1["items"][0]["snippet"]["topLevelComment"]["snippet"]
    top.update(textOriginal="Super programme ! La patinoire sera-t-elle ouverte le soir ?",
               textDisplay="Super programme ! La patinoire sera-t-elle ouverte le soir ?",
               updatedAt="2026-12-01T07:30:00Z")
    t1["items"][0]["snippet"]["totalReplyCount"] = 3
    new = json.loads(json.dumps(t1["items"][0]["replies"]["comments"][1]))
    new["id"] = T1 + ".9zR03newreply0000000"
    new["snippet"].update(textOriginal="Jusqu'à 21 h !", textDisplay="Jusqu'à 21 h !",
                          publishedAt="2026-12-01T08:00:00Z", updatedAt="2026-12-01T08:00:00Z")
    t1["items"][0]["replies"]["comments"].append(new)
    replay.reset()
    serve(replay, videos_p1=v1, threads_v5_p1=t1)
    [r] = collect(replay)
    assert r.status == "ok", r.error
    assert (r.inserted, r.edited) == (1, 2)  # the new reply; the comment and the title edited
    assert rows("SELECT edited_at FROM messages WHERE message_id = ?", [f"youtube:{T1}"]) == [
        (datetime(2026, 12, 1, 7, 30),)]  # the platform's own edit time
    assert rows("SELECT edited_at IS NOT NULL, text FROM posts WHERE native_id = 'vidSaintA05'") == [
        (True, "Marché de Noël 2026 : le programme complet")]
    assert rows("SELECT count(*) FROM messages") == [(15,)]


def test_429_waits_retry_after_and_5xx_is_retried(collect_env, replay):
    serve(replay)
    replay.fail("/playlistItems", 429, headers={"Retry-After": "3"},
                body={"error": {"code": 429, "message": "Too Many Requests", "errors": []}})
    replay.fail("/commentThreads", 503, body={"error": {"code": 503, "message": "The service is currently unavailable.",
                                                         "errors": [{"reason": "backendError"}]}})
    sleeps = Sleeps()
    [r] = collect(replay, sleep=sleeps)
    assert r.status == "ok", r.error
    assert sleeps[0] == 3.0  # what Retry-After asked, not a guess
    assert len(sleeps) == 2 and 0 < sleeps[1] <= 30  # the 503: exponential backoff
    assert rows("SELECT count(*) FROM messages") == [(14,)]
    assert r.quota_units == 14  # Google counts failed requests too: 12 + the 2 retried


def test_rate_limit_reason_is_retried_after_a_wait(collect_env, replay):
    serve(replay)
    replay.fail("/videos", 403, body=load("error_rate_limit.json"))
    sleeps = Sleeps()
    [r] = collect(replay, sleep=sleeps)
    assert r.status == "ok", r.error
    assert sleeps == [10.0]
    assert rows("SELECT count(*) FROM posts") == [(5,)]


def test_quota_exceeded_is_a_french_error_and_its_units_are_counted(collect_env, replay):
    serve(replay)
    replay.fail("/videos", 403, body=load("error_quota.json"), times=99)
    [r] = collect(replay)
    assert r.status == "partial"  # stopped by a limit, not broken: the next run resumes
    assert "quota quotidien" in r.error and "10 000" in r.error and "minuit, heure du Pacifique" in r.error
    assert len(replay.calls("/videos")) == 1  # not retried: waiting would not help before midnight PT
    # channels + playlistItems + the refused videos.list: spent, recorded, shown by `collect status`
    assert r.quota_units == 3
    assert rows("SELECT status, quota_units FROM collect_runs") == [("partial", 3)]
    assert rows("SELECT count(*) FROM posts") == [(0,)]  # nothing half-written
    assert rows("SELECT followers FROM audience_followers") == [(2140,)]


@pytest.mark.parametrize("body", ["error_key_invalid.json", "error_key_invalid_old.json"])
def test_invalid_key_is_a_clear_french_error_and_never_shown(collect_env, replay, caplog, body):
    replay.json("/channels", load(body), status=400)
    caplog.set_level(logging.DEBUG)
    [r] = collect(replay)
    assert r.status == "error"
    assert "clé d'API refusée" in r.error and "api_key" in r.error and "VIGIE_YOUTUBE_API_KEY" in r.error
    stored = json.dumps(rows("SELECT * FROM collect_runs"), default=str) + json.dumps(
        rows("SELECT * FROM collect_state"), default=str)
    # every log line of the client side (the replay server's own access log is the platform's side)
    logs = "\n".join(rec.getMessage() for rec in caplog.records if rec.name != "werkzeug")
    assert "key=***" in logs  # httpx's own request line is logged, its key masked
    for out in (json.dumps(r.as_json()), stored, logs):
        assert KEY not in out


def test_missing_key_and_redacted_urls(collect_env, replay):
    [r] = run_collect([source()], replay.url, since=SINCE, credentials=Credentials())
    assert r.status == "error" and "[youtube]" in r.error and "VIGIE_YOUTUBE_API_KEY" in r.error
    assert replay.log == []  # nothing asked without a key
    # a plain 404 (no YouTube reason): the URL in the message has its key masked
    replay.json("/channels", load("channel.json"), when={"id": CH})
    replay.json("/playlistItems", {"error": {"code": 404, "message": "Not Found"}}, status=404)
    [r] = collect(replay)
    assert r.status == "error" and "key=***" in r.error and KEY not in r.error
    assert redact(f"https://www.googleapis.com/youtube/v3/videos?key={KEY}&id=x") == \
        "https://www.googleapis.com/youtube/v3/videos?key=***&id=x"


def test_unknown_channel_is_a_french_not_found(collect_env, replay):
    replay.json("/channels", load("channel_empty.json"))
    [r] = collect(replay, src=Source("youtube", "account", "@villeinconnue"))
    assert r.status == "error" and "introuvable" in r.error and "@villeinconnue" in r.error
    assert replay.calls("/channels")[0]["forHandle"] == "@villeinconnue"


def test_peer_by_handle_with_hidden_subscribers(collect_env, replay, tmp_path, monkeypatch):
    reg = tmp_path / "registry.toml"
    reg.write_text((Path(os.environ["VIGIE_REGISTRY"]).read_text(encoding="utf-8") +
                    '\n  [[territory.account]]\n  platform = "youtube"\n  handle = "portmarel"\n  name = "Port-Marel"\n'),
                   encoding="utf-8")
    monkeypatch.setenv("VIGIE_REGISTRY", str(reg))
    replay.json("/channels", load("channel_portmarel.json"), when={"forHandle": "@portmarel"})
    replay.json("/playlistItems", load("playlist_portmarel.json"), when={"playlistId": "UUportmarel000000000002"})
    replay.json("/videos", load("videos_portmarel.json"), when={"id": "vidPortMa01"})
    [r] = collect(replay, src=Source("youtube", "account", "portmarel", "port-marel", "peer"))
    assert r.status == "ok", r.error
    assert r.followers is None  # hidden by the channel: NULL, not 0
    assert rows("SELECT count(*) FROM audience_followers") == [(0,)]
    assert any("abonnés masqué" in n for n in r.notes)
    assert rows("SELECT account_id, territory_id, video_views, comments FROM posts") == [
        ("youtube:portmarel", "port-marel", 890, 0)]
    assert replay.calls("/commentThreads") == []


def test_crash_mid_run_keeps_batches_and_next_run_resumes(collect_env, replay):
    serve(replay)
    # page 2 of the uploads keeps failing: page 1 is stored (with its comments) and a resume point
    replay.fail("/playlistItems", 503, times=10, when={"pageToken": P1})
    [r] = collect(replay)
    assert r.status == "error" and "reprendra" in r.error
    assert rows("SELECT native_id FROM posts ORDER BY 1") == [("vidSaintA03",), ("vidSaintA04",), ("vidSaintA05",)]
    assert rows("SELECT count(*) FROM messages") == [(11,)]
    assert json.loads(rows("SELECT cursor FROM collect_state")[0][0])["resume"]["page"] == P1
    replay.reset()
    serve(replay)
    [r2] = collect(replay)
    assert r2.status == "ok", r2.error
    assert replay.calls("/playlistItems")[0].get("pageToken") == P1  # resumed where the crash stopped
    assert rows("SELECT count(*) FROM posts") == [(5,)]
    assert rows("SELECT count(*) FROM messages") == [(14,)]
    assert json.loads(rows("SELECT cursor FROM collect_state")[0][0]) == {"resume": None}


def test_crash_while_reading_comments_writes_no_half_read_video(collect_env, replay):
    serve(replay)
    replay.fail("/comments", 500, times=10)
    [r] = collect(replay)
    assert r.status == "error"
    # the first page's videos are written only after their comments: none of them yet
    assert rows("SELECT count(*) FROM posts") == [(0,)]
    replay.reset()
    serve(replay)
    [r2] = collect(replay)
    assert r2.status == "ok" and rows("SELECT count(*) FROM messages") == [(14,)]


def test_cli_json_against_local_replay(collect_env, replay):
    serve(replay)
    env = {**os.environ, "VIGIE_YOUTUBE_API_KEY": KEY}
    cmd = [sys.executable, "-m", "analysis", "--db", str(collect_env), "collect", "youtube", CH,
           "--api", replay.url, "--since", "2026-11-01", "--json", "--no-enrich"]
    out = subprocess.run(cmd, capture_output=True, text=True, env=env, timeout=120)
    assert out.returncode == 0, out.stderr
    [src] = json.loads(out.stdout)["sources"]
    assert {k: src[k] for k in ("platform", "account", "posts", "messages", "followers", "status", "error",
                                "quota_units", "requests")} == {
        "platform": "youtube", "account": CH, "posts": 5, "messages": 14, "followers": 2140,
        "status": "ok", "error": None, "quota_units": 12, "requests": 12}
    assert src["inserted"] == 20 and src["updated"] == 0  # 5 videos + 14 comments + 1 followers row
    assert KEY not in out.stdout + out.stderr
    again = run_cli(cmd, capture_output=True, text=True, env=env, timeout=120)
    assert json.loads(again.stdout)["sources"][0]["inserted"] == 0
    st = run_cli([sys.executable, "-m", "analysis", "--db", str(collect_env), "collect", "status", "--json"],
                        capture_output=True, text=True, env=env, timeout=120)
    [s] = json.loads(st.stdout)
    assert (s["platform"], s["key"], s["status"], s["last_error"], s["quota_units"]) == ("youtube", CH, "ok", None, 5)
    table = subprocess.run([sys.executable, "-m", "analysis", "--db", str(collect_env), "collect", "status"],
                           capture_output=True, text=True, env={**env, "COLUMNS": "200"}, timeout=120)
    assert "5 (5 u. de quota)" in table.stdout  # the last run's requests and the quota units they spent


def test_saved_responses_import_gives_the_same_rows_as_collection(collect_env, replay, tmp_path, monkeypatch):
    serve(replay)
    collect(replay)
    q_posts = "SELECT post_id, account_id, territory_id, created_at, text, video_views, likes, comments FROM posts ORDER BY 1"
    q_msgs = ("SELECT message_id, kind, post_id, parent_id, account_id, is_official, author_hash, created_at, text, "
              "likes, replies, edited_at FROM messages ORDER BY 1")
    collected, collected_msgs = rows(q_posts), rows(q_msgs)
    other = tmp_path / "other.duckdb"
    out = run_cli([sys.executable, "-m", "analysis", "--db", str(other), "import",
                          str(FIX / "dump_saintaubin.jsonl"), "--json"],
                         capture_output=True, text=True, env=os.environ.copy(), timeout=120)
    assert out.returncode == 0, out.stderr
    [f] = json.loads(out.stdout)["files"]
    assert (f["format"], f["status"]) == ("youtube_api", "ok")
    monkeypatch.setenv("VIGIE_DB", str(other))
    assert rows(q_posts) == collected
    assert rows(q_msgs) == collected_msgs
    assert rows("SELECT account_id, followers FROM audience_followers") == [(ACC, 2140)]


def test_export_then_collection_never_duplicates(collect_env, replay):
    """Comments imported from an ExportComments CSV and a video from the flattened API CSV, then
    the same channel collected: the same ids, so 0 inserted for them."""
    from analysis.ingest import default_context, import_paths

    with derived_refresh.writer() as con:
        res = import_paths(con, [COMMENTS_FIX / "exportcomments_youtube.csv", COMMENTS_FIX / "youtube_api_comments.csv"],
                           default_context(account_hint=ACC))
    assert [x.status for x in res] == ["ok", "ok"]
    before_msgs = {m[0] for m in rows("SELECT message_id FROM messages")}
    assert {"youtube:UgxAAA111", "youtube:UgxBBB222"} <= before_msgs
    assert rows("SELECT post_id FROM posts") == [("youtube:vidSaintA01",)]
    serve(replay)
    [r] = collect(replay)
    assert r.status == "ok", r.error
    # 5 videos (vidSaintA01 known) + 14 comments (UgxAAA111, UgxBBB222 known) + 1 followers row
    assert r.inserted == (5 - 1) + (14 - 2) + 1
    assert rows("SELECT count(*) FROM messages WHERE message_id IN ('youtube:UgxAAA111', 'youtube:UgxBBB222')") == [(2,)]
    assert rows("SELECT count(*) FROM posts WHERE post_id = 'youtube:vidSaintA01'") == [(1,)]
    # the collected values win: the exact time from the API, the comment filed as a thread
    assert rows("SELECT created_at, kind, post_id FROM messages WHERE message_id = 'youtube:UgxAAA111'") == [
        (datetime(2025, 12, 3, 5, 24, 13), "comment", "youtube:vidSaintA01")]


@pytest.mark.parametrize("name", ["channel.json", "videos_p1.json", "threads_v1.json", "replies_t2_p2.json",
                                  "dump_saintaubin.jsonl"])
def test_dump_sniff_recognises_list_responses(name):
    from analysis.ingest import detect
    from analysis.ingest.sniff import probe

    assert detect(probe(FIX / name)).name == "youtube_api"


@pytest.mark.parametrize(("name", "fmt"), [("exportcomments_youtube.csv", "exportcomments"),
                                           ("youtube_api_comments.csv", "youtube_comment_threads")])
def test_dump_sniff_leaves_the_csv_exports_to_their_adapters(name, fmt):
    from analysis.ingest import detect
    from analysis.ingest.sniff import probe

    assert detect(probe(COMMENTS_FIX / name)).name == fmt


def test_bare_items_and_html_text_are_read(tmp_path, collect_env):
    """A list of resources (no envelope) whose comments were asked with textFormat=html."""
    from analysis.ingest import default_context, import_paths

    t = load("threads_v1.json")["items"]
    sn = t[0]["snippet"]["topLevelComment"]["snippet"]
    del sn["textOriginal"]
    sn["textDisplay"] = "Super <b>vidéo</b> de la ville&nbsp;!<br>Bravo"
    p = tmp_path / "threads.json"
    p.write_text(json.dumps(t, indent=1), encoding="utf-8")
    with derived_refresh.writer() as con:
        [res] = import_paths(con, [p], default_context())
    assert (res.status, res.format, res.inserted) == ("ok", "youtube_api", 2), res.error
    got = rows("SELECT text, account_id, territory_id FROM messages WHERE message_id = 'youtube:UgxAAA111'")
    assert got == [("Super vidéo de la ville !\nBravo", ACC, "saint-aubin")]


def test_unsupported_responses_say_what_to_save_instead(tmp_path, collect_env):
    from analysis.ingest import default_context, import_paths

    p = tmp_path / "search.json"
    p.write_text(json.dumps({"kind": "youtube#searchListResponse", "items": [
        {"kind": "youtube#searchResult", "id": {"kind": "youtube#video", "videoId": "vidSaintA05"}}]}), encoding="utf-8")
    with derived_refresh.writer() as con:
        [res] = import_paths(con, [p], default_context())
    assert (res.format, res.status) == ("youtube_api", "error")
    assert "search.list" in res.error and "videos.list" in res.error
