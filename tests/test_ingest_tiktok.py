"""TikTok Studio / Business importer: year-less dates across the new year, locales, SheetJS xlsx,
Business exports, ids from video links, account rules, Meta-shaped files, audience analyses."""

from __future__ import annotations

import json
import os
import shutil
from datetime import UTC, date, datetime
from pathlib import Path

import pytest
from typer.testing import CliRunner

from analysis import audience, derived_refresh, store
from analysis.ingest import default_context, detect, import_paths
from analysis.ingest.base import content_id
from analysis.ingest.sniff import probe
from analysis.ingest.tiktok import complete_years, split_date, video_time
from analysis.registry import load_registry

TT = Path(__file__).resolve().parent / "fixtures" / "tiktok"
STUDIO = TT / "studio_en"
FOLLOWERS = STUDIO / "Followers_villesaintaubin"
REGISTRY = load_registry(TT / "registry_tiktok.toml")
SAINT_AUBIN = "tiktok:villesaintaubin"  # official in the test registry (handle, no numeric id)
NEW_YEAR = [date(2025, 12, 30), date(2025, 12, 31), date(2026, 1, 1), date(2026, 1, 2)]


def _import(db, *paths, force=False, **kw):
    kw.setdefault("registry", REGISTRY)
    ctx = default_context(**kw)
    with derived_refresh.writer(db) as con:
        return {Path(r.path).name: r for r in import_paths(con, list(paths), ctx, force=force)}


def _q(db, sql, params=None):
    with derived_refresh.writer(db) as con:
        cur = con.execute(sql, params or [])
        cols = [d[0] for d in cur.description]
        return [dict(zip(cols, r, strict=True)) for r in cur.fetchall()]


def _series(db, metric):
    return [(r["date"], r["value"]) for r in _q(db, "SELECT date, value FROM page_daily WHERE metric = ? ORDER BY date",
                                                [metric])]


# ------------------------------------------------------------------------------ a full Studio export

def test_studio_export_years_from_the_video_ids_of_the_same_export(db):
    # No --date-export: the content file's video ids date its export day (6 January 2026), which
    # dates the year-less files beside it and in the Followers_… sub-folder.
    res = _import(db, STUDIO, account_hint=SAINT_AUBIN)
    got = {n: (r.status, r.format, r.rows_read, r.inserted) for n, r in res.items()}
    assert got == {
        "Content.csv": ("ok", "tiktok_content", 4, 4),
        "FollowerActivity.csv": ("skipped", "tiktok_follower_activity", 0, 0),
        "FollowerGender.csv": ("ok", "tiktok_demographics", 3, 3),
        "FollowerHistory.csv": ("ok", "tiktok_follower_history", 9, 16),  # 7 totals + 9 net differences
        "FollowerTopTerritories.csv": ("ok", "tiktok_demographics", 4, 4),
        "Overview.csv": ("ok", "tiktok_overview", 9, 43),  # 9 days × 5 metrics − 2 negative comments
        "Viewers.csv": ("ok", "tiktok_follower_history", 9, 25),  # 2 'undefined' totals make no row
    }, {n: r.error for n, r in res.items()}
    assert res["Overview.csv"].notes[0] == (
        "années déduites d'après le jour d'export 2026-01-06 (celui de « Content.csv », exporté avec lui et daté "
        "par les identifiants de ses vidéos) : du 2025-12-28 au 2026-01-05")
    assert "2026-01-06" in res["FollowerHistory.csv"].notes[0]  # found in the folder above
    assert _series(db, "views") == [
        (date(2025, 12, 28), 812.0), (date(2025, 12, 29), 1540.0), (date(2025, 12, 30), 15230.0),
        (date(2025, 12, 31), 9320.0), (date(2026, 1, 1), 22104.0), (date(2026, 1, 2), 4388.0),
        (date(2026, 1, 3), 2210.0), (date(2026, 1, 4), 7301.0), (date(2026, 1, 5), 3120.0)]
    assert _series(db, "visits")[4] == (date(2026, 1, 1), 190.0)  # Profile Views
    # Negative daily comments are not counts: no row, and a note says where.
    comments = dict(_series(db, "comments"))
    assert date(2025, 12, 29) not in comments and date(2026, 1, 2) not in comments and comments[date(2026, 1, 1)] == 71
    assert res["Overview.csv"].notes[1].startswith("2 valeurs négatives laissées vides")
    assert "« Comments » lignes 3, 7" in res["Overview.csv"].notes[1]
    # Viewers: 'undefined' is missing, a real 0 stays 0.
    assert _series(db, "viewers")[0] == (date(2025, 12, 30), 900.0)
    assert _series(db, "new_viewers")[0] == (date(2025, 12, 28), 0.0)
    fol = _q(db, "SELECT date, followers FROM audience_followers ORDER BY date")
    assert [(f["date"], f["followers"]) for f in fol] == [
        (date(2025, 12, 30), 1203), (date(2025, 12, 31), 1201), (date(2026, 1, 1), 1215), (date(2026, 1, 2), 1221),
        (date(2026, 1, 3), 1221), (date(2026, 1, 4), 1226), (date(2026, 1, 5), 1228)]
    assert dict(_series(db, "followers_net"))[date(2025, 12, 31)] == -2.0  # a difference may be negative
    demo = _q(db, "SELECT date, dimension, key, gender, value, unit FROM audience_demographics ORDER BY dimension, key")
    assert {(d["date"], d["unit"]) for d in demo} == {(date(2026, 1, 6), "share")}
    assert [(d["dimension"], d["key"], d["gender"], d["value"]) for d in demo] == [
        ("country", "BE", None, 0.031), ("country", "CH", None, 0.018), ("country", "FR", None, 0.912),
        ("country", "Others", None, 0.039),
        ("gender", "F", "F", 0.56), ("gender", "M", "M", 0.41), ("gender", "U", "U", 0.03)]
    assert "non importée" in res["FollowerActivity.csv"].notes[0]
    assert _q(db, "SELECT DISTINCT account_id FROM page_daily") == [{"account_id": SAINT_AUBIN}]


def test_content_posts_ids_and_publication_time_from_the_video_link(db):
    res = _import(db, STUDIO / "Content.csv")  # no --account: the links name @villesaintaubin
    assert res["Content.csv"].status == "ok", res["Content.csv"].error
    posts = {p["native_id"]: p for p in _q(db, "SELECT * FROM posts")}
    assert set(posts) == {"7591451761940889611", "7589698126793932812", "7590168425712844813",
                          "7588830972896870414"}
    p = posts["7590168425712844813"]
    # « January 1 » in the export (Paris day), 23:30 UTC on 31 December: the id gives the instant.
    assert p["created_at"] == datetime(2025, 12, 31, 23, 30) and p["source_tz"] == "UTC"
    assert (p["post_id"], p["platform"], p["post_type"], p["account_id"], p["territory_id"]) == (
        "tiktok:7590168425712844813", "tiktok", "video", SAINT_AUBIN, "saint-aubin")
    assert p["permalink"] == "https://www.tiktok.com/@villesaintaubin/video/7590168425712844813"
    assert (p["video_views"], p["likes"], p["reactions"], p["comments"], p["shares"]) == (21044, 950, 950, 61, 88)
    assert (p["saves"], p["reach"], p["impressions"]) == (None, None, None)  # not in a Studio export: NULL
    assert posts["7589698126793932812"]["text"] == (
        "Marché de Noël place du Château 🎄 les chalets ferment le 31 ! #SaintAubin #Noel")
    empty = posts["7588830972896870414"]
    assert empty["text"] is None and empty["video_views"] is None and empty["likes"] == 12  # 'undefined' views
    assert video_time("7590168425712844813") == datetime(2025, 12, 31, 23, 30)
    assert video_time("12345") is None and video_time("104857600000001") is None


# ------------------------------------------------------------------------------ year-less dates

@pytest.mark.parametrize("name", ["overview_es.csv", "overview_pt.csv", "overview_fr.csv", "overview_sheetjs.xlsx"])
def test_month_names_of_every_locale_across_the_new_year(db, name):
    res = _import(db, TT / "locales" / name, account_hint=SAINT_AUBIN, snapshot_date=date(2026, 1, 3))
    r = res[name]
    assert (r.status, r.format, r.inserted) == ("ok", "tiktok_overview", 19), r.error
    assert _series(db, "views") == list(zip(NEW_YEAR, [15230.0, 9320.0, 22104.0, 4388.0], strict=True))
    assert _series(db, "likes")[-1] == (date(2026, 1, 2), 160.0)
    assert r.notes[0].startswith("années déduites d'après le jour d'export 2026-01-03 (donné par --date-export)")
    if name.endswith(".xlsx"):  # SheetJS text cells; one day listed twice with the same values
        assert (r.encoding, r.rows_read) == (None, 5)
        assert "1 ligne en double (même jour, mêmes valeurs) importée une seule fois" in r.notes


def test_year_from_file_modification_day_never_from_today(db, tmp_path):
    # No --date-export and no dated neighbour: the file's modification day (its download day)
    # is the reference. Two different mtimes give two different years, whatever today is.
    for folder, mtime, first in (("a", datetime(2024, 1, 10, tzinfo=UTC), date(2023, 12, 30)),
                                 ("b", datetime(2025, 6, 1, tzinfo=UTC), date(2024, 12, 30))):
        (tmp_path / folder).mkdir()
        f = tmp_path / folder / "overview_es.csv"
        shutil.copyfile(TT / "locales" / "overview_es.csv", f)
        os.utime(f, (mtime.timestamp(), mtime.timestamp()))
        r = _import(db, f, account_hint=SAINT_AUBIN, force=True)["overview_es.csv"]  # same bytes twice
        assert r.status == "ok", r.error
        assert "date de modification du fichier" in r.notes[0] and f"du {first.isoformat()}" in r.notes[0]
    days = [d for d, _ in _series(db, "views")]
    assert days[:4] == [date(2023, 12, 30), date(2023, 12, 31), date(2024, 1, 1), date(2024, 1, 2)]
    assert days[4:] == [date(2024, 12, 30), date(2024, 12, 31), date(2025, 1, 1), date(2025, 1, 2)]


def test_complete_years_wraps_and_respects_29_february():
    assert complete_years([(12, 30), (12, 31), (1, 1)], date(2026, 1, 6)) == [
        date(2025, 12, 30), date(2025, 12, 31), date(2026, 1, 1)]
    # 28 Feb → 1 Mar in consecutive rows: not a leap year (TikTok would list the 29th).
    assert complete_years([(2, 28), (3, 1)], date(2024, 3, 10)) == [date(2023, 2, 28), date(2023, 3, 1)]
    assert complete_years([(2, 28), (2, 29), (3, 1)], date(2025, 6, 1)) == [
        date(2024, 2, 28), date(2024, 2, 29), date(2024, 3, 1)]
    assert complete_years([(8, 19), (10, 16)], date(2025, 10, 1)) == [date(2024, 8, 19), date(2024, 10, 16)]


@pytest.mark.parametrize(("text", "expected"), [
    ("February 28", (None, 2, 28, None)), ("Feb 28, 2025", (2025, 2, 28, None)), ("8 de marzo", (None, 3, 8, None)),
    ("30 de abril", (None, 4, 30, None)), ("1 de maio", (None, 5, 1, None)), ("28 févr.", (None, 2, 28, None)),
    ("1er mars", (None, 3, 1, None)), ("28. Februar", (None, 2, 28, None)), ("3 de enero de 2026", (2026, 1, 3, None)),
    ("2026/01/04", (2026, 1, 4, None)), ("2026/01/04 11:30", (2026, 1, 4, (11, 30, 0))),
    (datetime(2026, 1, 4, 9, 5), (2026, 1, 4, (9, 5, 0))),
])
def test_split_date_locales_and_business_formats(text, expected):
    assert split_date(text) == expected


@pytest.mark.parametrize("text", ["Smarch 3", "31 de abril", "février", "", "2026/13/01"])
def test_split_date_refuses_garbage(text):
    with pytest.raises(ValueError):
        split_date(text)


# ------------------------------------------------------------------------------ Business exports

def test_business_exports_renamed_dated_with_placeholders(db):
    res = _import(db, TT / "business", account_hint=SAINT_AUBIN)
    ov, vid = res["export mairie janvier (1).csv"], res["videos-janvier.csv"]
    assert (ov.status, ov.format, ov.rows_read, ov.inserted) == ("ok", "tiktok_overview", 3, 34), ov.error
    assert (vid.status, vid.format, vid.rows_read, vid.inserted) == ("ok", "tiktok_content", 2, 2), vid.error
    assert ov.notes == ["colonnes non importées : « Engagement rate »", ov.notes[-1]]  # + timing, no year note
    rows = {(r["date"], r["metric"]): r["value"] for r in _q(db, "SELECT date, metric, value FROM page_daily")}
    d3, d4, d5 = date(2026, 1, 3), date(2026, 1, 4), date(2026, 1, 5)
    assert (rows[(d3, "reach")], rows[(d3, "link_clicks")], rows[(d3, "phone_clicks")]) == (1804.0, 4.0, 0.0)
    assert (d4, "reach") not in rows and (d5, "comments") not in rows  # NAN and -- are missing, not 0
    assert (rows[(d4, "followers_net")], rows[(d4, "follows")], rows[(d4, "unfollows")]) == (-3.0, 4.0, 7.0)
    fol = _q(db, "SELECT date, followers, new_followers, lost_followers FROM audience_followers ORDER BY date")
    assert fol == [{"date": d3, "followers": None, "new_followers": 5, "lost_followers": 3},
                   {"date": d4, "followers": None, "new_followers": 4, "lost_followers": 7},
                   {"date": d5, "followers": None, "new_followers": 6, "lost_followers": 1}]
    posts = {p["native_id"]: p for p in _q(db, "SELECT * FROM posts")}
    p = posts["7591451761940889621"]
    assert p["created_at"] == datetime(2026, 1, 4, 10, 30)  # the id; the file says 11:30 Paris, the same instant
    assert (p["video_views"], p["reach"], p["likes"], p["comments"], p["shares"], p["saves"]) == (
        5230, 4100, 140, 31, 77, 52)
    q = posts["7590794631944601622"]
    assert (q["reach"], q["shares"], q["saves"]) == (None, None, 12)
    assert vid.notes[0] == "colonnes non importées : « Average watch time »"


def test_formats_detected_from_headers_not_names():
    expected = {
        STUDIO / "Overview.csv": "tiktok_overview", STUDIO / "Content.csv": "tiktok_content",
        STUDIO / "Viewers.csv": "tiktok_follower_history", FOLLOWERS / "FollowerHistory.csv": "tiktok_follower_history",
        FOLLOWERS / "FollowerGender.csv": "tiktok_demographics", FOLLOWERS / "FollowerActivity.csv":
            "tiktok_follower_activity", TT / "other" / "age.csv": "tiktok_demographics",
        TT / "locales" / "overview_sheetjs.xlsx": "tiktok_overview",
        TT / "business" / "export mairie janvier (1).csv": "tiktok_overview",
        TT / "business" / "videos-janvier.csv": "tiktok_content",
    }
    assert {p: detect(probe(p)).name for p in expected} == expected


# ------------------------------------------------------------------------------ ids without links

def test_content_without_links_gets_stable_ids_from_title_and_day(db):
    r = _import(db, TT / "nolinks", account_hint=SAINT_AUBIN, snapshot_date=date(2026, 1, 6))["Content.csv"]
    assert (r.status, r.inserted) == ("ok", 3), r.error
    assert r.notes[0] == ("années des dates de publication déduites d'après le jour d'export 2026-01-06 "
                          "(donné par --date-export)")
    posts = _q(db, "SELECT post_id, native_id, created_at, source_tz, text, video_views FROM posts ORDER BY video_views")
    assert [p["post_id"] for p in posts] == [
        "tiktok:h" + content_id(SAINT_AUBIN, "2025-12-30", ""),
        "tiktok:h" + content_id(SAINT_AUBIN, "2025-12-30", "Concert du Nouvel An à la halle"),
        "tiktok:h" + content_id(SAINT_AUBIN, "2026-01-02", "Collecte des sapins jusqu'au 15 janvier 🌲")]
    assert {p["native_id"] for p in posts} == {None}
    # A day without time: midnight in Paris (UTC+1), so the local day stays the exported one.
    assert [p["created_at"] for p in posts] == [datetime(2025, 12, 29, 23), datetime(2025, 12, 29, 23),
                                                datetime(2026, 1, 1, 23)]
    assert {p["source_tz"] for p in posts} == {"Europe/Paris"}
    again = _import(db, TT / "nolinks", account_hint=SAINT_AUBIN, snapshot_date=date(2026, 1, 6), force=True)
    assert (again["Content.csv"].inserted, again["Content.csv"].updated) == (0, 0)


# ------------------------------------------------------------------------------ accounts

def test_account_rules_and_french_errors(db):
    r = _import(db, STUDIO / "Overview.csv")["Overview.csv"]
    assert r.status == "error" and "ne dit pas à quel compte TikTok" in r.error
    assert "Relancez l'import avec --account tiktok:<nom du compte>" in r.error
    r = _import(db, FOLLOWERS / "FollowerHistory.csv")["FollowerHistory.csv"]
    assert r.status == "error" and "--account tiktok:" in r.error and "facebook:" in r.error  # Meta writes it too
    r = _import(db, STUDIO / "Overview.csv", account_hint="linkedin:ville")["Overview.csv"]
    assert r.status == "error" and "attend tiktok:<nom du compte>" in r.error
    r = _import(db, STUDIO / "Content.csv", account_hint="tiktok:portmarel")["Content.csv"]
    assert r.status == "error" and "@villesaintaubin" in r.error and "tiktok:portmarel" in r.error
    r = _import(db, TT / "nolinks", snapshot_date=date(2026, 1, 6))["Content.csv"]
    assert r.status == "error" and "--account tiktok:" in r.error
    assert _q(db, "SELECT count(*) n FROM posts")[0]["n"] == 0
    # An account outside the registry: '@' dropped, stored as a non-official account.
    r = _import(db, STUDIO / "Overview.csv", account_hint="tiktok:@mairie_exemple", registry=None)["Overview.csv"]
    assert r.status == "ok", r.error
    assert _q(db, "SELECT DISTINCT account_id FROM page_daily") == [{"account_id": "tiktok:mairie_exemple"}]


def test_meta_shaped_files_follow_the_account_platform(db):
    # FollowerHistory / FollowerGender / FollowerTopTerritories have Meta Business Suite's headers.
    res = _import(db, FOLLOWERS, account_hint="facebook:104857600000001", snapshot_date=date(2026, 1, 6))
    assert {n: (r.status, r.format) for n, r in res.items() if n != "FollowerActivity.csv"} == {
        "FollowerGender.csv": ("ok", "meta_demographics"), "FollowerHistory.csv": ("ok", "meta_follower_history"),
        "FollowerTopTerritories.csv": ("ok", "meta_demographics")}
    assert _q(db, "SELECT DISTINCT account_id FROM audience_demographics") == [
        {"account_id": "facebook:104857600000001"}]


# ------------------------------------------------------------------------------ all or nothing

def test_corrupt_file_changes_nothing_and_reimport_is_idempotent(db):
    _import(db, STUDIO, account_hint=SAINT_AUBIN)
    ctx = default_context(registry=REGISTRY, account_hint=SAINT_AUBIN, snapshot_date=date(2026, 1, 6))
    with derived_refresh.writer(db) as con:
        again = import_paths(con, [STUDIO], ctx, force=True)
        before = store.snapshot_hash(con)
        bad = import_paths(con, [TT / "other" / "overview_corrupt.csv"], ctx)[0]
        after = store.snapshot_hash(con)
        kept = import_paths(con, [TT / "other" / "overview_corrupt.csv"], ctx, keep_going=True)[0]
    assert all((r.inserted, r.updated) == (0, 0) for r in again), [(r.path, r.inserted, r.updated) for r in again]
    assert bad.status == "error" and "ligne 3" in bad.error and "« Likes »" in bad.error and "douze" in bad.error
    assert before == after
    assert (kept.status, kept.rejected) == ("ok", 1)


def test_age_breakdown(db):
    r = _import(db, TT / "other" / "age.csv", account_hint="tiktok:portmarel", snapshot_date=date(2026, 1, 6))
    assert r["age.csv"].status == "ok", r["age.csv"].error
    rows = _q(db, "SELECT account_id, date, dimension, key, age_band, value, unit FROM audience_demographics "
                  "ORDER BY key")
    assert [(x["key"], x["age_band"], x["value"]) for x in rows] == [
        ("18-24", "18-24", 0.22), ("25-34", "25-34", 0.31), ("35-44", "35-44", 0.24), ("45-54", "45-54", 0.15),
        ("55+", "55+", 0.08)]
    assert {(x["account_id"], x["date"], x["dimension"], x["unit"]) for x in rows} == {
        ("tiktok:portmarel", date(2026, 1, 6), "age", "share")}


def test_audience_analyses_take_tiktok(db):
    _import(db, STUDIO, account_hint=SAINT_AUBIN)
    with derived_refresh.writer(db) as con:
        g = audience.growth(con)
        split = audience.gender_split(con)
        cov = audience.breakdown_coverage(con)
    row = g[g["account_id"] == SAINT_AUBIN].iloc[0]
    assert (row["platform"], row["followers_start"], row["followers_end"], row["net_new"]) == (
        "tiktok", 1203.0, 1228.0, 25.0)
    tk = split[(split["platform"] == "tiktok")].set_index("gender")["share"].round(3).to_dict()
    assert tk == {"F": 0.56, "M": 0.41, "U": 0.03}
    c = cov[cov["account_id"] == SAINT_AUBIN].iloc[0]
    assert bool(c["gender"]) and bool(c["country"]) and not bool(c["age_gender"])


def test_cli_date_export_option(db):
    from analysis.cli import app

    res = CliRunner().invoke(app, ["--db", str(db), "import", "--json", "--account", SAINT_AUBIN,
                                   "--date-export", "2026-01-03", str(TT / "locales" / "overview_fr.csv")])
    assert res.exit_code == 0, res.output
    f = json.loads(res.stdout)["files"][0]
    assert (f["status"], f["format"], f["inserted"]) == ("ok", "tiktok_overview", 19)
    assert "2025-12-30 au 2026-01-02" in f["notes"][0]
    bad = CliRunner().invoke(app, ["--db", str(db), "import", "--date-export", "03/01/2026", str(TT / "locales")])
    assert bad.exit_code == 2 and "AAAA-MM-JJ" in bad.output


# ------------------------------------------------------------------------------ real exports (acceptance)

def test_real_studio_export(db, shared_formats):
    folder = shared_formats / "tiktok_studio_export_en"
    res = _import(db, folder, account_hint="tiktok:haileytupy2.0", registry=None)
    got = {n: (r.status, r.format, r.rows_read, r.inserted) for n, r in res.items()}
    assert got == {
        "Content.csv": ("ok", "tiktok_content", 13, 4), "Content 2.csv": ("ok", "tiktok_content", 12, 12),
        "Content 3.csv": ("ok", "tiktok_content", 6, 3), "Content 4.csv": ("ok", "tiktok_content", 12, 10),
        "FollowerActivity.csv": ("skipped", "tiktok_follower_activity", 0, 0),
        "FollowerGender.csv": ("ok", "tiktok_demographics", 3, 3),
        "FollowerHistory.csv": ("ok", "tiktok_follower_history", 365, 705),
        "FollowerTopTerritories.csv": ("ok", "tiktok_demographics", 11, 11),
        "Overview.csv": ("ok", "tiktok_overview", 365, 1790),
        "Viewers.csv": ("ok", "tiktok_follower_history", 365, 1070),
    }, {n: r.error for n, r in res.items()}
    # Years: 28 Feb 2025 → 27 Feb 2026, from the content files' video ids (export day 28 Feb 2026).
    assert "du 2025-02-28 au 2026-02-27" in res["Overview.csv"].notes[0]
    assert res["Overview.csv"].notes[1].startswith("35 valeurs négatives")  # e.g. "-1" comments on 12 August
    v = {(r["date"], r["metric"]): r["value"] for r in _q(db, "SELECT date, metric, value FROM page_daily")}
    assert v[(date(2026, 2, 27), "views")] == 18237 and v[(date(2026, 2, 27), "visits")] == 15
    assert v[(date(2025, 8, 12), "views")] == 10280 and (date(2025, 8, 12), "comments") not in v
    assert v[(date(2026, 1, 1), "views")] == 28710  # across the new year
    assert v[(date(2026, 2, 27), "viewers")] == 15752 and (date(2025, 2, 28), "viewers") not in v  # undefined
    fol = {r["date"]: r["followers"] for r in _q(db, "SELECT date, followers FROM audience_followers")}
    assert fol[date(2026, 2, 27)] == 5013 and fol[date(2025, 3, 25)] == 37 and date(2025, 3, 24) not in fol
    p = _q(db, "SELECT * FROM posts WHERE native_id = '7527623000473079054'")[0]
    assert (p["created_at"], p["video_views"], p["likes"], p["comments"], p["shares"]) == (
        datetime(2025, 7, 16, 10, 21, 48), 191265, 533, 32, 16)
    assert _q(db, "SELECT count(*) n, min(created_at) lo FROM posts")[0] == {
        "n": 29, "lo": datetime(2025, 4, 8, 19, 56, 32)}
    demo = {(r["dimension"], r["key"]): (r["value"], r["date"]) for r in
            _q(db, "SELECT dimension, key, value, date FROM audience_demographics")}
    assert demo[("gender", "F")] == (0.59, date(2026, 2, 28)) and demo[("country", "US")] == (0.462, date(2026, 2, 28))
    assert demo[("country", "Others")][0] == 0.211


REAL_VARIANTS = {  # file: (export day given, rows read, first day, its views, last day)
    "Overview_es.csv": (date(2025, 3, 15), 7, date(2025, 3, 8), 0.0, date(2025, 3, 14)),
    "Overview_pt.csv": (date(2025, 5, 28), 28, date(2025, 4, 30), 545.0, date(2025, 5, 27)),
    "Overview_bosszy27.csv": (date(2025, 4, 19), 7, date(2025, 4, 12), 1591.0, date(2025, 4, 18)),
    "Overview_bosszy27.xlsx": (date(2025, 4, 19), 7, date(2025, 4, 12), 1591.0, date(2025, 4, 18)),
    "Overview_2024_sheetjs.xlsx": (date(2024, 8, 23), 60, date(2024, 6, 24), 0.0, date(2024, 8, 22)),
}


@pytest.mark.parametrize("name", sorted(REAL_VARIANTS))
def test_real_overview_variants(db, shared_formats, name, tmp_path):
    day, n, first, views, last = REAL_VARIANTS[name]
    path = shared_formats / "tiktok_studio_overview_variants" / name
    r = _import(db, path, account_hint="tiktok:compte_reel", registry=None, snapshot_date=day)[name]
    assert (r.status, r.format, r.rows_read) == ("ok", "tiktok_overview", n), r.error
    series = _series(db, "views")
    assert (series[0], series[-1][0], len(series)) == ((first, views), last, n)
    if name == "Overview_es.csv":
        assert series[2] == (date(2025, 3, 10), 1.0)  # « 10 de marzo »
    if name == "Overview_2024_sheetjs.xlsx":
        assert (date(2024, 8, 20), 450.0) in series
    # Without --date-export the file still imports (years from its modification day, said so).
    other = _import(tmp_path / "autre.duckdb", path, account_hint="tiktok:compte_reel", registry=None)[name]
    assert other.status == "ok" and "date de modification du fichier" in other.notes[0]
