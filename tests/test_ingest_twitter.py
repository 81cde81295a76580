"""X/Twitter importers: analytics CSV, archive (folder and zip), API v2 JSONL."""

from __future__ import annotations

import datetime as dt
from pathlib import Path

import pandas as pd
import pytest

from analysis import store
from analysis.ingest import default_context, import_paths
from analysis.privacy import pseudonymise

FIXTURES = Path(__file__).resolve().parent / "fixtures"

TW = FIXTURES / "twitter"
OWNER = "900000000000000001"


@pytest.fixture()
def con(db):
    c = store.connect(db)
    yield c
    c.close()


def run(con, *paths, **kw):
    force = kw.pop("force", False)
    return import_paths(con, [TW / p if not str(p).startswith("/") else p for p in paths],
                        default_context(**kw), force=force)


def rows(con, sql):
    return con.execute(sql).fetchdf()


def test_activity_csv_2017_golden(con):
    (r,) = run(con, "tweet_activity_2017.csv")
    assert (r.status, r.format, r.rows_read, r.inserted) == ("ok", "x_tweet_activity", 2, 2)
    p = rows(con, "SELECT * FROM posts ORDER BY post_id").iloc[0]
    assert p.post_id == "x:1800000000000000001" and p.native_id == "1800000000000000001"
    assert p.account_id == f"x:{OWNER}" and p.territory_id == "saint-aubin"  # handle from the permalink
    assert p.created_at == pd.Timestamp("2017-04-04 00:00:00") and p.source_tz == "UTC"
    assert (p.impressions, p.engagements_reported, p.shares, p.comments, p.likes, p.reactions) == (424, 12, 2, 1, 5, 5)
    assert (p.profile_clicks, p.link_clicks, p.video_views, p.follows) == (3, 1, 0, 1)
    assert p.is_paid is False or p.is_paid == False  # noqa: E712  '-' promoted: known not promoted
    assert pd.isna(p.reach) and pd.isna(p.saves)  # not in the export: NULL, not 0
    assert p.text == "Inscriptions ouvertes pour le centre de loisirs ✅"


def test_activity_csv_2015_favorites_and_promoted(con):
    (r,) = run(con, "tweet_activity_2015.csv")
    assert r.status == "ok", r.error
    p = rows(con, "SELECT * FROM posts").iloc[0]
    assert (p.likes, p.reactions, p.impressions) == (2, 2, 373)  # 'favorites' before Nov 2015
    assert bool(p.is_paid) is True
    assert p.account_id == "x:900000000000000002" and p.territory_id == "port-marel"
    assert p.created_at == pd.Timestamp("2015-09-30 18:42:00")


def test_ads_report_xlsx(con):
    (r,) = run(con, "ads_tweets.xlsx", account_hint="x:SaintAubinLoire")
    assert (r.status, r.format, r.rows_read) == ("ok", "x_ads_tweets", 2), r.error
    ads = con.execute("SELECT * FROM ad_results ORDER BY ad_name").fetchdf()
    a = ads.iloc[0]
    assert (a.account_id, a.campaign_name, a.ad_set_name, a.ad_name) == (f"x:{OWNER}", "i100", "i200",
                                                                         "1950000000000000001")
    assert (a.impressions, a.link_clicks, a.spend) == (6681, 4, 16.66) and pd.isna(a.currency)
    assert (a.reporting_start, a.reporting_end) == (pd.Timestamp("2026-04-01"), pd.Timestamp("2026-04-30"))
    assert pd.isna(ads.iloc[1].link_clicks)  # '-' → NULL
    p = con.execute("SELECT post_id, is_paid, created_at, impressions FROM posts ORDER BY post_id").fetchall()
    # Promoted metrics stay in ad_results: the post row carries no organic impressions.
    assert p[0] == ("x:1950000000000000001", True, dt.datetime(2026, 4, 2, 15, 0, 5), None)


def test_corrupt_file_all_or_nothing(con):
    run(con, "tweet_activity_2015.csv")
    before = store.snapshot_hash(con)
    (r,) = run(con, "tweet_activity_corrupt.csv")
    assert r.status == "error" and "ligne 3" in r.error and "impressions" in r.error
    assert store.snapshot_hash(con) == before  # the good row of the same file is not written either
    assert con.execute("SELECT count(*) FROM posts").fetchone()[0] == 1


def test_reimport_is_idempotent(con):
    run(con, "tweet_activity_2017.csv", "archive/data/tweets.js", "api_pages.jsonl")
    again = run(con, "tweet_activity_2017.csv", "archive/data/tweets.js", "api_pages.jsonl", force=True)
    assert [(r.status, r.inserted, r.updated) for r in again] == [("ok", 0, 0)] * 3


def test_archive_folder_parts_and_companions(con):
    res = {r.path.split("/")[-1]: r for r in run(con, "archive/data")}
    for companion in ("manifest.js", "README.txt", "deleted-tweets.js"):
        assert res[companion].status == "skipped" and res[companion].notes
    assert res["tweets.js"].status == "ok" and res["tweets.js"].rows_read == 3
    assert res["tweets-part1.js"].rows_read == 1
    posts = rows(con, "SELECT * FROM posts ORDER BY post_id")
    assert list(posts.post_id) == ["x:1890000000000000001", "x:1890000000000000003", "x:1890000000000000004"]
    first = posts.iloc[0]
    assert first.text == "Fête de la Loire samedi & dimanche : programme > https://t.co/abc"  # entities unescaped
    assert (first.likes, first.shares, first.lang) == (12, 3, "fr")
    assert first.created_at == pd.Timestamp("2026-02-20 09:10:58")
    assert first.account_id == f"x:{OWNER}" and first.territory_id == "saint-aubin"
    assert first.permalink == "https://x.com/SaintAubinLoire/status/1890000000000000001"
    assert pd.isna(posts.iloc[1].lang)  # 'und' → NULL ; self-reply (thread) stays a post
    assert posts.iloc[2].post_type == "retweet" and pd.isna(posts.iloc[2].shares)  # the original's count
    m = rows(con, "SELECT * FROM messages").iloc[0]  # reply to someone else → official message
    assert (m.message_id, m.kind, m.parent_id) == ("x:1890000000000000002", "reply", "x:1880000000000000009")
    assert bool(m.is_official) and pd.isna(m.lang)  # 'qme' → NULL
    assert m.author_hash == pseudonymise("x", OWNER) and m.author_name is None


def test_archive_zip_in_memory_and_traversal_refused(con, tmp_path):
    (r,) = run(con, "archive.zip")
    assert (r.status, r.format, r.rows_read, r.inserted) == ("ok", "x_archive", 4, 4)
    (bad,) = run(con, "archive_traversal.zip")
    assert bad.status == "error" and "chemin dangereux" in bad.error and "../../outside/tweets.js" in bad.error
    assert not (TW.parent / "outside").exists()


def test_archive_without_manifest_needs_account(con):
    (r,) = run(con, "archive_2020/tweet.js")
    assert r.status == "error" and "--account" in r.error
    (r,) = run(con, "archive_2020/tweet.js", account_hint="x:900000000000000002")
    assert r.status == "ok"
    assert con.execute("SELECT account_id, territory_id FROM posts").fetchone() == ("x:900000000000000002", "port-marel")


def test_api_pages_posts_messages_accounts(con):
    (r,) = run(con, "api_pages.jsonl")
    assert r.status == "ok" and r.rows_read == 5 and any("retweet" in n for n in r.notes)
    p = rows(con, "SELECT * FROM posts").iloc[0]
    assert p.post_id == "x:1900000000000000001" and p.account_id == f"x:{OWNER}"
    assert (p.likes, p.shares, p.comments, p.quotes, p.impressions) == (14, 4, 2, 1, 2400)
    assert p.created_at == pd.Timestamp("2026-03-01 08:00:00")
    m = rows(con, "SELECT * FROM messages ORDER BY message_id").set_index("message_id")
    assert set(m.index) == {"x:1900000000000000002", "x:1900000000000000003", "x:1900000000000000004"}
    rep = m.loc["x:1900000000000000002"]
    assert (rep.kind, rep.post_id, rep.parent_id, rep.account_id, rep.territory_id) == (
        "reply", "x:1900000000000000001", "x:1900000000000000001", f"x:{OWNER}", "saint-aubin")
    assert rep.author_hash == pseudonymise("x", "555000001") and rep.author_name is None and not rep.is_official
    off = m.loc["x:1900000000000000003"]
    assert bool(off.is_official) and off.kind == "reply" and off.parent_id == "x:1900000000000000002"
    men = m.loc["x:1900000000000000004"]
    assert (men.kind, men.account_id, men.territory_id) == ("mention", "x:900000000000000002", "port-marel")
    assert pd.isna(men.lang)  # 'qht' pseudo-language
    acc = rows(con, "SELECT * FROM accounts WHERE NOT official ORDER BY account_id")
    # Citizens are not stored by name (privacy): only the look-alike of an official account is
    # kept, as input of the impersonation watch, and it is never taken for the official account.
    assert list(acc.account_id) == ["x:555000003"]
    assert acc.iloc[0]["handle"] == "SaintAubinLoire_" and acc.iloc[0]["territory_id"] is None


def test_api_flat_and_stream_error_line(con):
    flat, stream, counts = run(con, "api_flat.jsonl", "api_stream_with_error.jsonl", "api_counts.jsonl")
    assert (flat.status, flat.rows_read, flat.inserted) == ("ok", 2, 2)
    assert stream.status == "ok" and stream.rows_read == 2 and "ligne 3" in " ".join(stream.notes)
    assert counts.status == "skipped" and "comptages" in counts.notes[0]
    kinds = dict(con.execute("SELECT message_id, kind FROM messages").fetchall())
    assert kinds == {"x:1900000000000000002": "reply", "x:1900000000000000004": "mention"}


def test_keep_author_names_opt_in(con):
    run(con, "api_pages.jsonl", keep_author_names=True)
    assert con.execute("SELECT author_name FROM messages WHERE message_id='x:1900000000000000002'").fetchone() == (
        "Camille L.",)


def test_real_samples(con, shared_formats):
    res = run(con, shared_formats / "x_twitter_analytics_trialpromoter/tweet_activity_metrics_TCORSStgOrg_20170401_20170408_en.csv",
              shared_formats / "x_twitter_analytics_trialpromoter/twitter_activity_metrics_20150901_20151001.csv",
              shared_formats / "x_twitter_archive_2026_tweetsjs", shared_formats / "x_twitter_api_v2_twarc")
    got = {r.path.split("/")[-1]: (r.status, r.rows_read, r.inserted) for r in res}
    assert got["tweet_activity_metrics_TCORSStgOrg_20170401_20170408_en.csv"] == ("ok", 10, 10)
    assert got["twitter_activity_metrics_20150901_20151001.csv"] == ("ok", 47, 47)
    (ads,) = run(con, shared_formats / "x_twitter_analytics_trialpromoter/2017-04-01-to-2017-04-30-6hm1atwrnaio.xlsx")
    assert (ads.status, ads.rows_read, ads.tables["ad_results"]) == ("ok", 5, [5, 0])
    assert got["tweets.first300.js"] == ("ok", 300, 300)
    for f in ("manifest.js", "README.txt", "deleted-tweets.js", "counts.jsonl"):
        assert got[f][0] == "skipped"
    assert got["brexit.jsonl"] == ("ok", 100, 33)
    assert got["flat.jsonl"] == ("ok", 100, 53)
    assert got["streaming_output_with_error.jsonl"] == ("ok", 7, 7)
    assert got["users.jsonl"][:2] == ("ok", 96)
    assert con.execute("SELECT count(*) FROM messages WHERE author_name IS NOT NULL").fetchone()[0] == 0
    latest = con.execute("SELECT max(created_at) FROM posts").fetchone()[0]
    assert latest <= dt.datetime(2026, 3, 7)


def test_api_unreadable_date_rejected_with_line(con, tmp_path):
    import json

    lines = (TW / "api_flat.jsonl").read_text(encoding="utf-8").splitlines()
    t = json.loads(lines[1])
    t["created_at"] = "hier soir"
    lines[1] = json.dumps(t)
    bad = tmp_path / "bad.jsonl"
    bad.write_text("\n".join(lines) + "\n", encoding="utf-8")
    (r,) = run(con, bad)
    assert r.status == "error" and "ligne 2" in r.error and "created_at" in r.error
    assert con.execute("SELECT count(*) FROM messages").fetchone()[0] == 0
    (r,) = import_paths(con, [bad], default_context(), keep_going=True)
    assert (r.status, r.inserted, r.rejected) == ("ok", 1, 1)
