"""Meta connector (Facebook Page, Instagram, business_discovery, Threads) against a local replay of
the Graph and Threads APIs (fixtures in the real response shapes, tests/fixtures/make_meta_graph.py)."""

from __future__ import annotations

import calendar
import json
import os
import subprocess
import sys
from datetime import datetime
from pathlib import Path

import httpx
import pytest

from analysis import derived_refresh
from analysis.collect import meta
from analysis.collect.base import Source
from analysis.collect.credentials import Credentials
from tests.api_replay import Sleeps, rows, run_collect
from tests.cli_inproc import run_cli

FIX = Path(__file__).resolve().parent / "fixtures" / "meta_graph"
MBS = Path(__file__).resolve().parent / "fixtures" / "meta"
REGISTRY = Path(__file__).resolve().parent / "fixtures" / "registry_collect.toml"
V = f"/{meta.GRAPH_VERSION}"
TV = f"/{meta.THREADS_VERSION}"
PAGE, IG, PEER_IG, TH = "104857600000001", "178414000000001", "178414000000002", "25000000000000001"
TOKEN = "EAAB-jeton-secret-de-test-0123456789"
TH_TOKEN = "THAA-jeton-threads-secret-9876"
SINCE = datetime(2026, 11, 1)
F1, F2, F3 = (f"{PAGE}_14000000000000{n}" for n in ("11", "12", "13"))
M1, M2, M3 = "17900000000000101", "17900000000000102", "17900000000000103"
T1, T2, T4 = "18000000000000201", "18000000000000202", "18000000000000204"


def load(name: str) -> dict:
    return json.loads((FIX / name).read_text(encoding="utf-8"))


def creds(**extra: str) -> Credentials:
    return Credentials(values={("meta", "page_token"): TOKEN, ("meta", "instagram_user_id"): IG,
                               ("meta", "threads_token"): TH_TOKEN, **{("meta", k): v for k, v in extra.items()}})


@pytest.fixture()
def meta_env(collect_env, tmp_path, monkeypatch):
    """The collection registry plus the territory's Threads account."""
    text = REGISTRY.read_text(encoding="utf-8")
    block = ('  [[territory.account]]\n  platform = "threads"\n  handle = "saintaubinsurloire"\n'
             '  name = "Ville de Saint-Aubin-sur-Loire"\n\n[[territory]]\nid = "port-marel"')
    reg = tmp_path / "registry.toml"
    reg.write_text(text.replace('[[territory]]\nid = "port-marel"', block, 1), encoding="utf-8")
    monkeypatch.setenv("VIGIE_REGISTRY", str(reg))
    return collect_env


def graph_error(code: int, message: str, subcode: int | None = None) -> dict:
    err = {"message": message, "type": "OAuthException", "code": code, "fbtrace_id": "AbCdEfGhIjK"}
    if subcode is not None:
        err["error_subcode"] = subcode
    return {"error": err}


def serve_facebook(replay, p1: dict | None = None, p2: dict | None = None, c2: dict | None = None) -> None:
    replay.json(f"{V}/{PAGE}", load("fb_page.json"))
    replay.json(f"{V}/{PAGE}/posts", p1 or load("fb_posts_p1.json"), when={"after": None})
    replay.json(f"{V}/{PAGE}/posts", p2 or load("fb_posts_p2.json"), when={"after": "QVFIUnBvc3RzUDI"})
    for post, name in ((F1, "F1"), (F2, "F2"), (F3, "F3")):
        replay.json(f"{V}/{post}/insights", load(f"fb_insights_{name}.json"))
    replay.json(f"{V}/{F1}/comments", load("fb_comments_F1_p1.json"), when={"after": None})
    replay.json(f"{V}/{F1}/comments", c2 or load("fb_comments_F1_p2.json"), when={"after": "Y29tbWVudHMy"})
    replay.json(f"{V}/{F3}/comments", load("fb_comments_F3.json"))


def serve_instagram(replay) -> None:
    replay.json(f"{V}/{IG}", load("ig_user.json"))
    replay.json(f"{V}/{IG}/media", load("ig_media_p1.json"), when={"after": None})
    replay.json(f"{V}/{IG}/media", load("ig_media_p2.json"), when={"after": "QVFIUm1lZGlhMg"})
    replay.json(f"{V}/{M1}/insights", load("ig_insights_M1.json"))
    replay.json(f"{V}/{M2}/insights", load("ig_insights_M2.json"))
    replay.json(f"{V}/{M3}/insights", load("ig_insights_M3_error.json"), status=400)
    replay.json(f"{V}/{M1}/comments", load("ig_comments_M1.json"))
    replay.json(f"{V}/{M3}/comments", load("ig_comments_M3.json"))


def serve_threads(replay) -> None:
    replay.json(f"{TV}/me", load("th_me.json"))
    replay.json(f"{TV}/{TH}/threads_insights", load("th_followers.json"))
    replay.json(f"{TV}/{TH}/threads", load("th_threads_p1.json"), when={"after": None})
    replay.json(f"{TV}/{TH}/threads", load("th_threads_p2.json"), when={"after": "QVFIUnRocmVhZHMy"})
    for post, name in ((T1, "T1"), (T2, "T2"), (T4, "T4")):
        replay.json(f"{TV}/{post}/insights", load(f"th_insights_{name}.json"))
    replay.json(f"{TV}/{T1}/conversation", load("th_conversation_T1.json"))
    replay.json(f"{TV}/{T4}/conversation", load("th_conversation_T4.json"))


def bd_fields(media: str | None) -> str:
    inner = "id,username,name,followers_count,media_count" + (f",{media}{{{meta.DISCOVERY_MEDIA_FIELDS}}}" if media else "")
    return f"business_discovery.username(portmarel_officiel){{{inner}}}"


def serve_discovery(replay) -> None:
    replay.json(f"{V}/{IG}", load("discovery_profile.json"), when={"fields": bd_fields(None)})
    replay.json(f"{V}/{IG}", load("discovery_p1.json"), when={"fields": bd_fields("media.limit(50)")})
    replay.json(f"{V}/{IG}", load("discovery_p2.json"),
                when={"fields": bd_fields("media.after(QVFIUmRpc2Mx).limit(50)")})


FB_SRC = Source("facebook", "account", PAGE, "saint-aubin", "own")
IG_SRC = Source("instagram", "account", IG, "saint-aubin", "own")
PEER_SRC = Source("instagram", "discovery", "portmarel_officiel", "port-marel", "peer")
TH_SRC = Source("threads", "account", "saintaubinsurloire", "saint-aubin", "own")


# ------------------------------------------------------------------------------------ Facebook
def test_facebook_page_posts_insights_comments_then_second_run_adds_nothing(meta_env, replay):
    serve_facebook(replay)
    [r] = run_collect([FB_SRC], replay.url, since=SINCE, credentials=creds())
    assert r.status == "ok", r.error
    # paging.next followed on our own root (not graph.facebook.com), token sent as a parameter, never
    # the one the saved link carried; the older page after --since is not asked for
    posts_calls = replay.calls(f"{V}/{PAGE}/posts")
    assert [c.get("after") for c in posts_calls] == [None, "QVFIUnBvc3RzUDI"]
    assert all(c["access_token"] == TOKEN for c in replay.calls())
    assert "reactions.type(LOVE).limit(0).summary(total_count).as(love)" in posts_calls[0]["fields"]
    assert replay.calls(f"{V}/{F1}/insights")[0]["metric"] == "post_media_view,post_total_media_view_unique"
    assert [c.get("after") for c in replay.calls(f"{V}/{F1}/comments")] == [None, "Y29tbWVudHMy"]
    assert replay.calls(f"{V}/{F1}/comments")[0]["filter"] == "stream"
    assert replay.calls(f"{V}/{F2}/comments") == []  # no comment: not read
    assert r.followers == 12480 and (r.posts, r.messages) == (3, 5)
    got = {p[0]: p[1:] for p in rows(
        "SELECT native_id, account_id, territory_id, created_at, post_type, reactions, likes, love, wow, comments, "
        "shares, impressions, reach FROM posts ORDER BY 1")}
    assert got["1400000000000011"] == ("facebook:104857600000001", "saint-aubin", datetime(2026, 11, 28, 9, 0), "photo",
                                       120, 100, 15, 5, 4, 12, 5400, 3100)
    # insights not computed yet stay NULL; shares absent from the answer are 0 (nobody shared)
    assert got["1400000000000012"][3:] == ("link", 8, 8, 0, 0, 0, 0, None, None)
    assert got["1400000000000013"][3:] == ("video", 30, 28, 2, 0, 1, 2, 2100, 1500)
    assert "1400000000000009" not in got  # before --since
    msgs = {m[0].rsplit("_", 1)[-1]: m[1:] for m in rows(
        "SELECT message_id, kind, parent_id, is_official, author_hash IS NOT NULL, author_name, likes, post_id "
        "FROM messages ORDER BY 1")}
    assert msgs["2000000000000001"][:5] == ("comment", None, False, True, None)
    assert msgs["2000000000000002"][:4] == ("reply", "facebook:1400000000000011_2000000000000001", True, False)
    assert msgs["2000000000000003"][2:4] == (False, False)  # no `from`: author unknown, NULL hash
    assert msgs["2000000000000005"][6] == "facebook:1400000000000013"
    assert rows("SELECT account_id, followers FROM audience_followers") == [("facebook:104857600000001", 12480)]
    assert rows("SELECT count(*) FROM accounts WHERE official = FALSE") == [(0,)]  # commenters stay hashes

    replay.log.clear()
    [again] = run_collect([FB_SRC], replay.url, since=SINCE, credentials=creds())
    assert (again.status, again.inserted, again.updated, again.deleted) == ("ok", 0, 0, 0)
    assert [c["path"] for c in replay.log if c["path"].endswith("/comments")] == []  # counts unchanged
    assert rows("SELECT count(*) FROM posts") == [(3,)]


def test_deleted_post_and_comment_edited_text_and_changed_counts(meta_env, replay):
    from analysis import derived_refresh, enrich

    serve_facebook(replay)
    run_collect([FB_SRC], replay.url, since=SINCE, credentials=creds())
    with derived_refresh.writer() as con:
        enrich.run(con)
    c4_text = rows("SELECT text FROM messages WHERE message_id LIKE '%_2000000000000004'")[0][0]
    f3_scored = rows("SELECT scored_at FROM sentiment WHERE item_id LIKE '%_1400000000000013'")
    assert rows("SELECT count(*) FROM text_keys WHERE text = ?", [c4_text]) == [(1,)] and f3_scored
    p1, p2 = load("fb_posts_p1.json"), load("fb_posts_p2.json")
    f1 = p1["data"][0]
    f1["reactions"]["summary"]["total_count"] = 150  # more reactions
    f1["comments"]["summary"]["total_count"] = 3  # and a comment fewer: C4 deleted by its author
    p1["data"] = [f1]  # F2 deleted by the town
    p2["data"][0]["message"] = "Conseil municipal lundi 19 h 30, en direct sur la Page."  # F3 edited
    c2 = load("fb_comments_F1_p2.json")
    c2["data"] = c2["data"][:1]
    replay.reset()
    serve_facebook(replay, p1=p1, p2=p2, c2=c2)
    replay.json(f"{V}/{F2}", graph_error(100, f"Unsupported get request. Object with ID '{F2}' does not exist, cannot "
                                              "be loaded due to missing permissions, or does not support this operation",
                                         33), status=400)
    [r] = run_collect([FB_SRC], replay.url, since=SINCE, credentials=creds())
    assert r.status == "ok", r.error
    assert (r.inserted, r.deleted, r.edited) == (0, 2, 1)
    assert r.updated >= 2
    assert rows("SELECT reactions, comments FROM posts WHERE native_id = '1400000000000011'") == [(150, 3)]
    assert rows("SELECT count(*) FROM posts") == [(3,)]  # updated, never duplicated
    assert rows("SELECT deleted_at IS NOT NULL, text FROM posts WHERE native_id = '1400000000000012'") == [
        (True, "Travaux rue Nationale : circulation alternée jusqu'au 12 décembre.")]  # published: text kept
    assert rows("SELECT deleted_at IS NOT NULL, text FROM messages WHERE message_id LIKE '%_2000000000000004'") == [
        (True, None)]
    assert rows("SELECT edited_at IS NOT NULL, text FROM posts WHERE native_id = '1400000000000013'") == [
        (True, "Conseil municipal lundi 19 h 30, en direct sur la Page.")]
    # the deleted comment's text leaves no copy (its lemma keys), the edited post's old scores are gone
    assert rows("SELECT count(*) FROM text_keys WHERE text = ?", [c4_text]) == [(0,)]
    assert rows("SELECT count(*) FROM sentiment WHERE item_id LIKE '%_1400000000000013'") == [(0,)]
    assert rows("SELECT count(*) FROM sentiment WHERE item_id LIKE '%_2000000000000004'") == [(1,)]  # kept


def test_post_missing_from_listing_but_still_readable_is_not_deleted(meta_env, replay):
    serve_facebook(replay)
    run_collect([FB_SRC], replay.url, since=SINCE, credentials=creds())
    p1 = load("fb_posts_p1.json")
    p1["data"] = p1["data"][:1]
    replay.reset()
    serve_facebook(replay, p1=p1)
    replay.json(f"{V}/{F2}", {"id": F2})  # still there (hidden from the Page's timeline)
    [r] = run_collect([FB_SRC], replay.url, since=SINCE, credentials=creds())
    assert (r.status, r.deleted) == ("ok", 0)
    assert replay.calls(f"{V}/{F2}") == [{"fields": "id", "access_token": TOKEN}]


def test_429_waits_retry_after_and_5xx_is_retried(meta_env, replay):
    serve_facebook(replay)
    replay.fail(f"{V}/{PAGE}/posts", 429, headers={"Retry-After": "7"}, body=graph_error(4, "(#4) Application request limit reached"))
    replay.fail(f"{V}/{F1}/insights", 502, body={"error": {"message": "Bad gateway", "code": 1}})
    replay.fail(f"{V}/{F3}/comments", 503, body=graph_error(2, "Service temporarily unavailable"))
    sleeps = Sleeps()
    [r] = run_collect([FB_SRC], replay.url, since=SINCE, sleep=sleeps, credentials=creds())
    assert r.status == "ok", r.error
    assert sleeps[0] == 7.0  # what Retry-After asked
    assert len(sleeps) == 3 and all(0 < s <= 30 for s in sleeps[1:])  # the 5xx: backoff
    assert rows("SELECT count(*) FROM posts") == [(3,)]


def test_throttled_waits_meta_estimate_or_stops_and_resumes(meta_env, replay):
    buc = lambda minutes: {"X-Business-Use-Case-Usage": json.dumps({PAGE: [{  # noqa: E731
        "type": "pages", "call_count": 100, "total_cputime": 12, "total_time": 30,
        "estimated_time_to_regain_access": minutes}]})}
    serve_facebook(replay)
    replay.fail(f"{V}/{F1}/insights", 400, headers=buc(1), body=graph_error(80001, "(#80001) There have been too many "
                                                                                     "calls to this Page account."))
    sleeps = Sleeps()
    [r] = run_collect([FB_SRC], replay.url, since=SINCE, sleep=sleeps, credentials=creds())
    assert r.status == "ok", r.error
    assert sleeps == [60.0]  # Meta's estimate: one minute

    replay.reset()
    serve_facebook(replay)
    replay.fail(f"{V}/{PAGE}/posts", 400, headers=buc(45), body=graph_error(32, "(#32) Page request limit reached"),
                when={"after": "QVFIUnBvc3RzUDI"})
    [r2] = run_collect([FB_SRC], replay.url, since=datetime(2026, 11, 2), credentials=creds())
    assert r2.status == "partial" and "2700 s" in r2.error  # 45 min: longer than a run waits
    assert json.loads(rows("SELECT cursor FROM collect_state")[0][0])["resume"]["params"]["after"] == "QVFIUnBvc3RzUDI"
    replay.reset()
    serve_facebook(replay)
    [r3] = run_collect([FB_SRC], replay.url, credentials=creds())
    assert r3.status == "ok", r3.error
    assert replay.calls(f"{V}/{PAGE}/posts")[0].get("after") == "QVFIUnBvc3RzUDI"  # resumed there


def test_usage_headers_stop_before_the_app_is_blocked(meta_env, replay):
    serve_facebook(replay)
    replay.fail(f"{V}/{PAGE}/posts", 200, body=load("fb_posts_p1.json"), when={"after": None},
                headers={"X-App-Usage": json.dumps({"call_count": 97, "total_cputime": 20, "total_time": 25})})
    [r] = run_collect([FB_SRC], replay.url, since=SINCE, credentials=creds())
    assert r.status == "partial" and "97 %" in r.error
    assert len(replay.calls(f"{V}/{PAGE}/posts")) == 1


def test_crash_mid_run_keeps_batches_and_next_run_resumes(meta_env, replay):
    serve_facebook(replay)
    replay.fail(f"{V}/{PAGE}/posts", 503, times=10, when={"after": "QVFIUnBvc3RzUDI"})
    [r] = run_collect([FB_SRC], replay.url, since=SINCE, credentials=creds())
    assert r.status == "error" and "reprendra" in r.error
    assert rows("SELECT native_id FROM posts ORDER BY 1") == [("1400000000000011",), ("1400000000000012",)]
    assert rows("SELECT count(*) FROM messages") == [(4,)]  # F1's comments were written with their page
    replay.reset()
    serve_facebook(replay)
    [r2] = run_collect([FB_SRC], replay.url, since=SINCE, credentials=creds())
    assert r2.status == "ok", r2.error
    assert replay.calls(f"{V}/{PAGE}/posts")[0].get("after") == "QVFIUnBvc3RzUDI"
    assert rows("SELECT count(*) FROM posts") == [(3,)]
    assert json.loads(rows("SELECT cursor FROM collect_state")[0][0]) == {"resume": None}


def test_expired_token_is_a_french_error_without_the_secret(meta_env, replay, tmp_path):
    replay.json(f"{V}/{PAGE}", graph_error(190, "Error validating access token: Session has expired on Friday, "
                                                "27-Nov-26 09:00:00 PST. The current time is ….", 463), status=400)
    [r] = run_collect([FB_SRC], replay.url, since=SINCE, credentials=creds())
    assert r.status == "error"
    assert "jeton refusé — il a expiré" in r.error and "[meta] page_token" in r.error and "jeton de Page" in r.error
    stored = rows("SELECT error FROM collect_runs")[0][0]
    assert TOKEN not in json.dumps(r.as_json()) and TOKEN not in stored
    # the CLI, with the token in the environment
    env = {**os.environ, "VIGIE_META_PAGE_TOKEN": TOKEN}
    out = subprocess.run([sys.executable, "-m", "analysis", "--db", str(meta_env), "collect", "meta", "--page", PAGE,
                          "--api", replay.url, "--json", "--no-enrich"], capture_output=True, text=True, env=env,
                         timeout=120)
    assert out.returncode == 1
    assert TOKEN not in out.stdout + out.stderr
    assert "il a expiré" in json.loads(out.stdout)["sources"][0]["error"]


def test_missing_permissions_are_named_and_unknown_page_is_said(meta_env, replay):
    serve_facebook(replay)
    replay.fail(f"{V}/{F1}/comments", 403, times=5, body=graph_error(
        10, "(#10) This endpoint requires the 'pages_read_user_content' permission or the 'Page Public Content "
            "Access' feature."))
    [r] = run_collect([FB_SRC], replay.url, since=SINCE, credentials=creds())
    assert r.status == "ok", r.error  # posts collected; what could not be read is said
    note = next(n for n in r.notes if n.startswith("commentaires non collectés"))
    assert "« pages_read_user_content »" in note and "App Review" in note

    replay.reset()
    replay.json(f"{V}/{PAGE}", load("fb_page.json"))
    replay.json(f"{V}/{PAGE}/posts", graph_error(200, "(#200) Permissions error"), status=403)
    replay.json(f"{V}/999", graph_error(100, "Unsupported get request. Object with ID '999' does not exist, cannot be "
                                             "loaded due to missing permissions, or does not support this operation", 33),
                status=400)
    res = run_collect([FB_SRC, Source("facebook", "account", "999")], replay.url, since=SINCE, credentials=creds())
    assert [x.status for x in res] == ["error", "error"]
    assert "« pages_read_engagement »" in res[0].error and "permission manquante" in res[0].error
    assert "Page « 999 » introuvable" in res[1].error


def test_missing_token_says_where_to_put_it(meta_env, replay):
    [r] = run_collect([FB_SRC], replay.url, since=SINCE, credentials=Credentials())
    assert r.status == "error" and "page_token" in r.error and "VIGIE_META_PAGE_TOKEN" in r.error
    assert replay.log == []


# ------------------------------------------------------------------------------------ Instagram
def test_instagram_media_insights_and_comments(meta_env, replay):
    serve_instagram(replay)
    [r] = run_collect([IG_SRC], replay.url, since=SINCE, credentials=creds())
    assert r.status == "ok", r.error
    assert [c.get("after") for c in replay.calls(f"{V}/{IG}/media")] == [None, "QVFIUm1lZGlhMg"]
    assert replay.calls(f"{V}/{M1}/insights")[0]["metric"] == "views,reach,saved,shares,total_interactions"
    assert r.followers == 5230
    got = {p[0]: p[1:] for p in rows("SELECT native_id, post_type, likes, reactions, comments, impressions, reach, "
                                     "saves, shares, engagements_reported FROM posts ORDER BY 1")}
    assert got == {M1: ("carousel", 340, 340, 3, 9800, 4100, 57, 23, 420),
                   M2: ("reel", 812, 812, 0, 25400, 15800, 120, 310, 1250),
                   M3: ("photo", 95, 95, 1, None, None, None, None, None)}  # « not enough viewers »: NULL
    assert any("Not enough viewers" in n for n in r.notes)
    msgs = rows("SELECT message_id, kind, parent_id, is_official, author_hash IS NOT NULL FROM messages ORDER BY 1")
    assert msgs == [("instagram:17850000000000001", "comment", None, False, True),
                    ("instagram:17850000000000002", "reply", "instagram:17850000000000001", True, False),
                    ("instagram:17850000000000003", "comment", None, False, True),
                    ("instagram:17850000000000004", "comment", None, False, True)]
    assert replay.calls(f"{V}/{M2}/comments") == []
    # the handle is pseudonymised like a comment export's author name
    from analysis.privacy import pseudonymise
    assert rows("SELECT author_hash FROM messages WHERE message_id = 'instagram:17850000000000001'") == [
        (pseudonymise("instagram", "lea.voyage"),)]


def test_instagram_peer_through_business_discovery(meta_env, replay):
    serve_discovery(replay)
    [r] = run_collect([PEER_SRC], replay.url, since=SINCE, credentials=creds())
    assert r.status == "ok", r.error
    calls = replay.calls(f"{V}/{IG}")  # asked from OUR account id, naming the peer
    assert [c["fields"] for c in calls] == [bd_fields(None), bd_fields("media.limit(50)"),
                                           bd_fields("media.after(QVFIUmRpc2Mx).limit(50)")]
    got = rows("SELECT native_id, account_id, territory_id, likes, comments, reach, impressions FROM posts ORDER BY 1")
    assert got == [("17900000000000201", "instagram:178414000000002", "port-marel", 410, 12, None, None),
                   ("17900000000000202", "instagram:178414000000002", "port-marel", None, 4, None, None),  # likes hidden
                   ("17900000000000203", "instagram:178414000000002", "port-marel", 150, 2, None, None)]
    assert rows("SELECT account_id, followers FROM audience_followers") == [("instagram:178414000000002", 8120)]
    assert rows("SELECT count(*) FROM messages") == [(0,)]  # business_discovery gives no comment text
    assert any("business_discovery" in n for n in r.notes)


def test_unknown_or_personal_peer_and_missing_own_id(meta_env, replay):
    replay.json(f"{V}/{IG}", {"error": {"message": "Invalid user id", "type": "OAuthException", "code": 110,
                                        "error_subcode": 2207013, "error_user_title": "Cannot find User",
                                        "error_user_msg": "The user with username: inconnu cannot be found."}},
                status=400)
    replay.json(f"{V}/999", load("ig_user.json"))  # an id that is not an IG user: no business_discovery
    no_id = Credentials(values={("meta", "page_token"): TOKEN})
    res = run_collect([Source("instagram", "discovery", "inconnu")], replay.url, credentials=creds())
    res += run_collect([PEER_SRC], replay.url, credentials=no_id)
    res += run_collect([PEER_SRC], replay.url, credentials=creds(instagram_user_id="999"))
    assert [x.status for x in res] == ["error", "error", "error"]
    assert "introuvable" in res[0].error and "compte personnel" in res[0].error
    assert "instagram_user_id" in res[1].error and "VIGIE_INSTAGRAM_USER_ID" in res[1].error
    assert "pas de business_discovery" in res[2].error and "NOTRE compte" in res[2].error
    assert rows("SELECT count(*) FROM posts") == [(0,)]


# ------------------------------------------------------------------------------------ Threads
def test_threads_posts_insights_replies(meta_env, replay):
    serve_threads(replay)
    [r] = run_collect([TH_SRC], replay.url, since=SINCE, credentials=creds())
    assert r.status == "ok", r.error
    assert all(c["access_token"] == TH_TOKEN for c in replay.calls())  # the Threads token, not the Page's
    first = replay.calls(f"{TV}/{TH}/threads")[0]
    assert first["since"] == str(calendar.timegm(SINCE.timetuple())) and "is_quote_post" in first["fields"]
    assert r.followers == 960
    got = rows("SELECT native_id, account_id, territory_id, post_type, impressions, likes, comments, shares, quotes "
               "FROM posts ORDER BY 1")
    assert got == [(T1, "threads:saintaubinsurloire", "saint-aubin", "status", 1450, 106, 2, 4, 1),
                   (T2, "threads:saintaubinsurloire", "saint-aubin", "quote", 800, 40, 0, 1, 0),
                   (T4, "threads:saintaubinsurloire", "saint-aubin", "status", 300, 12, 1, 0, 0)]
    assert any("republication" in n for n in r.notes)  # the REPOST_FACADE is someone else's post
    msgs = rows("SELECT message_id, kind, post_id, parent_id, is_official FROM messages ORDER BY 1")
    assert msgs == [("threads:18000000000000301", "reply", f"threads:{T1}", f"threads:{T1}", False),
                    ("threads:18000000000000302", "reply", f"threads:{T1}", "threads:18000000000000301", True),
                    ("threads:18000000000000303", "reply", f"threads:{T4}", f"threads:{T4}", False)]
    assert replay.calls(f"{TV}/{T2}/conversation") == []  # no reply

    replay.log.clear()
    [again] = run_collect([TH_SRC], replay.url, since=SINCE, credentials=creds())
    assert (again.inserted, again.updated) == (0, 0)


def test_threads_token_of_another_account_is_refused(meta_env, replay):
    replay.json(f"{TV}/me", {**load("th_me.json"), "username": "comite.des.fetes"})
    [r] = run_collect([TH_SRC], replay.url, credentials=creds())
    assert r.status == "error" and "@comite.des.fetes" in r.error and "ne lit que le compte" in r.error


# ------------------------------------------------------------------------------------ CLI and imports
def test_cli_json_against_local_replay(meta_env, replay):
    serve_facebook(replay)
    serve_instagram(replay)
    env = {**os.environ, "VIGIE_META_PAGE_TOKEN": TOKEN}
    cmd = [sys.executable, "-m", "analysis", "--db", str(meta_env), "collect", "meta", "--page", PAGE, "--instagram",
           IG, "--api", replay.url, "--since", "2026-11-01", "--json", "--no-enrich"]
    out = subprocess.run(cmd, capture_output=True, text=True, env=env, timeout=120)
    assert out.returncode == 0, out.stderr
    fb, ig = json.loads(out.stdout)["sources"]
    assert {k: fb[k] for k in ("platform", "account", "posts", "messages", "followers", "inserted", "updated",
                               "status", "error")} == {
        "platform": "facebook", "account": PAGE, "posts": 3, "messages": 5, "followers": 12480, "inserted": 9,
        "updated": 0, "status": "ok", "error": None}  # 3 posts + 5 messages + 1 followers row
    assert (ig["platform"], ig["posts"], ig["messages"], ig["inserted"]) == ("instagram", 3, 4, 8)
    assert fb["requests"] == 9  # the Page, 2 pages of posts, 3 insights, 2 + 1 pages of comments
    assert TOKEN not in out.stdout + out.stderr
    again = run_cli(cmd, capture_output=True, text=True, env=env, timeout=120)
    assert [s["inserted"] for s in json.loads(again.stdout)["sources"]] == [0, 0]
    st = run_cli([sys.executable, "-m", "analysis", "--db", str(meta_env), "collect", "status", "--json"],
                        capture_output=True, text=True, env=env, timeout=120)
    assert {(s["platform"], s["key"], s["status"]) for s in json.loads(st.stdout)} == {
        ("facebook", PAGE, "ok"), ("instagram", IG, "ok")}


@pytest.mark.parametrize("platform,dump,serve,source", [
    ("facebook", "dump_facebook.jsonl", serve_facebook, FB_SRC),
    ("instagram", "dump_instagram.jsonl", serve_instagram, IG_SRC),
    ("threads", "dump_threads.jsonl", serve_threads, TH_SRC),
])
def test_saved_responses_import_gives_the_same_rows_as_collection(meta_env, replay, tmp_path, monkeypatch,
                                                                 platform, dump, serve, source):
    serve(replay)
    run_collect([source], replay.url, since=SINCE, credentials=creds())
    # the dump also holds the older post of the last page, which collection leaves out (before --since)
    q_posts = ("SELECT post_id, account_id, created_at, text, post_type, reactions, likes, comments, shares, "
               "impressions, reach, saves FROM posts WHERE created_at >= '2026-11-01' ORDER BY 1")
    q_msgs = "SELECT message_id, kind, post_id, parent_id, is_official, author_hash, text, likes FROM messages ORDER BY 1"
    collected, collected_msgs = rows(q_posts), rows(q_msgs)
    assert collected and collected_msgs
    # `vigie import` of the dump (in-process: the CLI path is the one test_cli_json takes)
    from analysis.ingest import default_context, import_paths

    other = tmp_path / "other.duckdb"
    monkeypatch.setenv("VIGIE_DB", str(other))
    with derived_refresh.writer() as con:
        [f] = import_paths(con, [FIX / dump], default_context())
    assert (f.format, f.status) == ("meta_graph", "ok"), f.error
    assert rows(q_posts) == collected
    assert rows(q_msgs) == collected_msgs


def test_export_then_collection_of_the_same_posts_makes_no_duplicate(meta_env, replay):
    """A post exported from Meta Business Suite and then collected is one row (ids agree)."""
    from analysis.ingest import default_context, import_paths

    with derived_refresh.writer() as con:
        res = import_paths(con, [MBS / "posts_en_42cols.csv", MBS / "posts_instagram.csv"], default_context())
    assert [x.status for x in res] == ["ok", "ok"], [x.error for x in res]
    before = rows("SELECT post_id, reach, impressions FROM posts ORDER BY 1")
    assert [p[0] for p in before] == ["facebook:1300000000000001", "facebook:1300000000000002",
                                      "instagram:17900000000000001"]
    replay.json(f"{V}/{PAGE}", load("fb_page.json"))
    replay.json(f"{V}/{PAGE}/posts", load("fb_posts_mbs.json"))
    replay.json(f"{V}/{IG}", load("ig_user.json"))
    replay.json(f"{V}/{IG}/media", load("ig_media_mbs.json"))
    for gid in (f"{PAGE}_1300000000000001", f"{PAGE}_1300000000000002", "17900000000000001"):
        replay.json(f"{V}/{gid}/insights", {"data": []})
        replay.json(f"{V}/{gid}/comments", {"data": []})
    res = run_collect([FB_SRC, IG_SRC], replay.url, since=datetime(2025, 3, 1), credentials=creds())
    assert [x.status for x in res] == ["ok", "ok"], [x.error for x in res]
    assert sum(x.inserted for x in res) == 2  # the two followers rows; no post
    after = rows("SELECT post_id, reach, impressions, reactions, edited_at FROM posts ORDER BY 1")
    assert [p[0] for p in after] == [p[0] for p in before]
    assert after[0][1:] == (8000, 12000, 330, None)  # exported reach/views kept, reactions from the API, not « edited »
    assert after[2][3] == 318


# ------------------------------------------------------------------------------------ detection
@pytest.mark.parametrize("name", ["dump_facebook.jsonl", "dump_instagram.jsonl", "dump_threads.jsonl",
                                  "dump_discovery.json", "fb_posts_p1.json", "ig_comments_M1.json",
                                  "th_threads_p1.json", "fb_insights_F1.json", "fb_page.json"])
def test_saved_bodies_are_recognised(name):
    from analysis.ingest import detect
    from analysis.ingest.sniff import probe

    assert detect(probe(FIX / name)).name == "meta_graph"


def test_other_json_formats_keep_their_importer():
    from analysis.ingest import detect
    from analysis.ingest.sniff import probe

    fixtures = Path(__file__).resolve().parent / "fixtures"
    for path, fmt in [("twitter/api_pages.jsonl", "x_api_v2"), ("twitter/api_flat.jsonl", "x_api_v2"),
                      ("crowdtangle/api_posts.json", "crowdtangle_api"), ("crowdtangle/api_posts.jsonl", "crowdtangle_api"),
                      ("bluesky/dump_saintaubin.jsonl", "bluesky_api"), ("bluesky/feed_p1.json", "bluesky_api")]:
        assert detect(probe(fixtures / path)).name == fmt, path


def test_error_hook_reads_graph_codes_and_usage_headers():
    def resp(status: int, body: dict, headers: dict | None = None, url: str = "https://graph.facebook.com/v26.0/1/posts"):
        return httpx.Response(status, json=body, headers=headers, request=httpx.Request("GET", url))

    hook = meta.error_hook("facebook", "Facebook")
    assert hook(resp(400, graph_error(17, "(#17) User request limit reached"))) == meta.DEFAULT_THROTTLE_WAIT
    assert hook(resp(400, graph_error(613, "Calls to this api have exceeded the rate limit."), {
        "X-Business-Use-Case-Usage": json.dumps({"1": [{"call_count": 100, "estimated_time_to_regain_access": 0}]})})) == 60.0
    e = hook(resp(400, graph_error(190, "Error validating access token: The user has changed the password.", 460)))
    assert isinstance(e, meta.AuthError) and "mot de passe" in str(e)
    assert isinstance(hook(resp(400, graph_error(190, "Invalid OAuth access token.", 467))), meta.AuthError)
    assert isinstance(hook(resp(400, graph_error(803, "(#803) Some of the aliases you requested do not exist: x"))),
                      meta.NotFound)
    assert hook(resp(400, graph_error(1, "An unknown error has occurred."))) == 5.0
    assert hook(resp(400, {"unexpected": True})) is None
    ig = meta.error_hook("instagram", "Instagram")
    e = ig(resp(400, graph_error(100, "(#100) The value must be a valid insights metric"),
                url="https://graph.facebook.com/v26.0/1790/insights?metric=impressions"))
    assert isinstance(e, meta.NoInsights)
    th = meta.error_hook("threads", "Threads")
    e = th(resp(403, graph_error(10, "Application does not have permission for this action"),
                url="https://graph.threads.net/v1.0/1800/conversation"))
    assert isinstance(e, meta.PermissionMissing) and "« threads_read_replies »" in str(e)
    e = th(resp(400, graph_error(190, "Session has expired", 463)))
    assert "threads_token" in str(e) and "60 jours" in str(e)
    assert meta.usage_percent(httpx.Headers({"X-App-Usage": '{"call_count": 12, "total_time": 40}'})) == (40.0, None)
