"""Meta Business Suite importers: golden rows for every quirk, idempotence, all-or-nothing, real samples."""

from __future__ import annotations

from datetime import date, datetime
from pathlib import Path

from analysis import derived_refresh, store
from analysis.ingest import default_context, import_paths
from analysis.ingest.meta import export_range_end, infer_years

FIXTURES = Path(__file__).resolve().parent / "fixtures"

META = FIXTURES / "meta"
SAINT_AUBIN = "facebook:104857600000001"


def _import(db, name, **ctx_kw):
    ctx = default_context(**ctx_kw)
    with derived_refresh.writer(db) as con:
        res = import_paths(con, [META / name], ctx)
    assert len(res) == 1
    return res[0]


def _rows(db, sql, params=()):
    with derived_refresh.writer(db) as con:
        cur = con.execute(sql, list(params))
        cols = [d[0] for d in cur.description]
        return [dict(zip(cols, r, strict=True)) for r in cur.fetchall()]


def test_pcm_posts_golden(db):
    r = _import(db, "posts_en_pcm.csv")
    assert (r.status, r.format, r.rows_read, r.inserted) == ("ok", "meta_posts", 2, 2), r.error
    rows = _rows(db, "SELECT * FROM posts ORDER BY post_id")
    p = rows[0]
    assert p["post_id"] == "facebook:1200000000000001" and p["native_id"] == "1200000000000001"
    assert p["account_id"] == "facebook:100099900000001" and p["territory_id"] is None
    # 09/01/2025 21:13 Europe/Paris (CEST, UTC+2)
    assert p["created_at"] == datetime(2025, 9, 1, 19, 13)
    assert p["source_tz"] == "Europe/Paris"
    assert p["text"] == "Nouveau pain !\nPROMO du jour\nVenez nombreux"  # NFKC: math bold → plain
    assert p["post_type"] == "photo"
    assert (p["impressions"], p["reach"], p["reactions"], p["comments"], p["shares"]) == (1628, 923, 6, 1, 0)
    assert p["engagements_reported"] == 7 and p["video_views"] == 0
    assert p["clicks"] is None and p["link_clicks"] is None and p["saves"] is None  # absent → NULL
    q = rows[1]
    assert q["text"] == "Une description plus longue que le titre"  # longer of Title / Description
    assert q["created_at"] == datetime(2025, 12, 31, 22, 30)  # CET, UTC+1
    assert q["post_type"] == "reel" and q["video_views"] == 250
    acc = _rows(db, "SELECT * FROM accounts WHERE account_id = 'facebook:100099900000001'")[0]
    assert acc["official"] is False and acc["name"] == "Boulangerie du Pont" and acc["native_id"] == "100099900000001"


def test_42_column_variant_duplicated_views_and_registry_page(db):
    r = _import(db, "posts_en_42cols.csv")
    assert r.status == "ok", r.error
    p = _rows(db, "SELECT * FROM posts WHERE native_id = '1300000000000001'")[0]
    assert p["account_id"] == SAINT_AUBIN and p["territory_id"] == "saint-aubin"
    assert p["impressions"] == 12000  # the first of the two 'Views' columns
    assert (p["reach"], p["reactions"], p["comments"], p["shares"]) == (8000, 300, 15, 6)
    assert (p["clicks"], p["link_clicks"], p["engagements_reported"], p["video_views"]) == (410, 120, 321, 4500)
    assert p["is_paid"] is True and p["lang"] == "fr" and p["post_type"] == "video"
    q = _rows(db, "SELECT * FROM posts WHERE native_id = '1300000000000002'")[0]
    # 30 March 2025 02:30 does not exist in Paris (DST jump): shifted forward to 03:00 CEST.
    assert q["created_at"] == datetime(2025, 3, 30, 1, 0)
    assert q["clicks"] is None and q["link_clicks"] is None and q["is_paid"] is None
    # The registry account is not duplicated as a non-official row.
    assert _rows(db, "SELECT count(*) n FROM accounts WHERE official = FALSE")[0]["n"] == 0


def test_french_headers_semicolon_comma_decimals(db):
    r = _import(db, "posts_fr_semicolon.csv")
    assert r.status == "ok", r.error
    p = _rows(db, "SELECT * FROM posts")[0]
    assert p["post_id"] == "facebook:0012300000000001"  # leading zeros kept: ids are strings
    assert p["account_id"] == "facebook:104857600000002" and p["territory_id"] == "port-marel"
    assert (p["impressions"], p["reach"], p["engagements_reported"], p["clicks"]) == (1234, 1000, 56, 12)
    assert p["link_clicks"] is None
    assert p["created_at"] == datetime(2025, 12, 5, 17, 45)


def test_instagram_posts(db):
    r = _import(db, "posts_instagram.csv")
    assert r.status == "ok", r.error
    p = _rows(db, "SELECT * FROM posts")[0]
    assert p["post_id"] == "instagram:17900000000000001" and p["platform"] == "instagram"
    assert p["account_id"] == "instagram:178414000000001" and p["territory_id"] == "saint-aubin"
    assert (p["likes"], p["reactions"], p["saves"], p["follows"], p["comments"]) == (310, 310, 27, 4, 9)
    assert p["impressions"] == 3400 and p["created_at"] == datetime(2025, 8, 2, 18, 5)


def test_source_tz_from_context(db):
    _import(db, "posts_en_pcm.csv", source_tz="Asia/Manila")
    p = _rows(db, "SELECT created_at, source_tz FROM posts ORDER BY post_id")[0]
    assert p == {"created_at": datetime(2025, 9, 1, 13, 13), "source_tz": "Asia/Manila"}


def test_daily_series_utf16_title_routing(db):
    r = _import(db, "follows_utf16.csv", account_hint=SAINT_AUBIN)
    assert (r.status, r.format, r.encoding) == ("ok", "meta_page_daily", "utf-16"), r.error
    rows = _rows(db, "SELECT date, metric, value FROM page_daily ORDER BY date")
    assert rows == [{"date": date(2025, 9, 20), "metric": "follows", "value": 20.0},
                    {"date": date(2025, 9, 21), "metric": "follows", "value": 28.0},
                    {"date": date(2025, 9, 22), "metric": "follows", "value": 0.0}]
    fol = _rows(db, "SELECT date, followers, new_followers FROM audience_followers ORDER BY date")
    assert fol[0] == {"date": date(2025, 9, 20), "followers": None, "new_followers": 20}
    assert fol[2]["new_followers"] == 0  # a real zero stays zero


def test_daily_series_french_and_instagram_titles(db):
    assert _import(db, "visites_fr_utf16.csv", account_hint=SAINT_AUBIN).status == "ok"
    assert _import(db, "instagram_reach_utf16.csv", account_hint="instagram:178414000000001").status == "ok"
    rows = _rows(db, "SELECT account_id, metric, value FROM page_daily ORDER BY account_id, date")
    assert rows == [{"account_id": SAINT_AUBIN, "metric": "visits", "value": 1148.0},
                    {"account_id": SAINT_AUBIN, "metric": "visits", "value": 1015.0},
                    {"account_id": "instagram:178414000000001", "metric": "reach", "value": 5400.0}]


def test_daily_series_without_account_says_what_to_do(db):
    r = _import(db, "follows_utf16.csv")
    assert r.status == "error" and "--account facebook:" in r.error


def test_follower_history_year_wrap(db):
    r = _import(db, "follower_history.csv", account_hint=SAINT_AUBIN, snapshot_date=date(2026, 1, 5))
    assert r.status == "ok", r.error
    fol = _rows(db, "SELECT date, followers FROM audience_followers ORDER BY date")
    assert fol == [{"date": date(2025, 12, 30), "followers": 22551}, {"date": date(2025, 12, 31), "followers": 22565},
                   {"date": date(2026, 1, 1), "followers": 22588}]
    net = _rows(db, "SELECT value FROM page_daily WHERE metric = 'followers_net' ORDER BY date")
    assert [x["value"] for x in net] == [14.0, 14.0, 23.0]


def test_infer_years_most_recent_not_in_future():
    assert infer_years([(8, 19), (10, 16)], date(2025, 10, 20)) == [date(2025, 8, 19), date(2025, 10, 16)]
    assert infer_years([(8, 19), (10, 16)], date(2025, 10, 1)) == [date(2024, 8, 19), date(2024, 10, 16)]
    assert infer_years([(2, 29)], date(2025, 6, 1)) == [date(2024, 2, 29)]


def test_year_from_sibling_series_when_no_snapshot_date(db):
    assert export_range_end(META / "follower_history.csv") == date(2025, 10, 2)
    r = _import(db, "follower_history.csv", account_hint=SAINT_AUBIN)
    assert r.status == "ok" and "2025-10-02" in r.notes[0]
    fol = _rows(db, "SELECT min(date) lo, max(date) hi FROM audience_followers")[0]
    assert fol == {"lo": date(2024, 12, 30), "hi": date(2025, 1, 1)}


def test_viewers_undefined_is_missing(db):
    r = _import(db, "viewers.csv", account_hint=SAINT_AUBIN, snapshot_date=date(2025, 10, 20))
    assert r.status == "ok", r.error
    rows = _rows(db, "SELECT date, metric, value FROM page_daily ORDER BY date, metric")
    assert rows == [
        {"date": date(2025, 8, 19), "metric": "new_viewers", "value": 5617.0},
        {"date": date(2025, 8, 19), "metric": "returning_viewers", "value": 163.0},
        {"date": date(2025, 8, 19), "metric": "viewers", "value": 5780.0},
        {"date": date(2025, 8, 20), "metric": "new_viewers", "value": 0.0},
        {"date": date(2025, 8, 20), "metric": "returning_viewers", "value": 0.0},
    ]


def test_demographics(db):
    snap = date(2025, 11, 1)
    for name in ("follower_gender_percent.csv", "follower_top_territories.csv", "age_gender_fr.csv",
                 "top_cities.csv"):
        r = _import(db, name, account_hint=SAINT_AUBIN, snapshot_date=snap)
        assert (r.status, r.format) == ("ok", "meta_demographics"), (name, r.error)
    rows = _rows(db, "SELECT dimension, key, gender, age_band, round(value, 4) v, unit, date "
                     "FROM audience_demographics ORDER BY dimension, key")
    assert all(x["date"] == snap and x["unit"] == "share" for x in rows)
    got = [(x["dimension"], x["key"], x["gender"], x["age_band"], x["v"]) for x in rows]
    assert got == [
        ("age_gender", "F.18-24", "F", "18-24", 0.12), ("age_gender", "F.65+", "F", "65+", 0.08),
        ("age_gender", "M.18-24", "M", "18-24", 0.10), ("age_gender", "M.65+", "M", "65+", 0.05),
        ("city", "Nantes, Pays de la Loire", None, None, 0.12),
        ("city", "Saint-Aubin-sur-Loire, Pays de la Loire", None, None, 0.41),
        ("country", "BE", None, None, 0.04), ("country", "FR", None, None, 0.9),
        ("country", "Others", None, None, 0.06),
        ("gender", "F", "F", None, 0.585), ("gender", "M", "M", None, 0.405), ("gender", "U", "U", None, 0.01),
    ]


def test_ads_three_variants(db):
    for name in ("ads_2025.csv", "ads_2017.csv", "ads_fr.csv"):
        r = _import(db, name, account_hint=SAINT_AUBIN)
        assert (r.status, r.format) == ("ok", "meta_ads"), (name, r.error)
    rows = {x["ad_name"] or x["campaign_name"]: x for x in _rows(db, "SELECT * FROM ad_results")}
    a = rows["Fête des lumières"]
    assert (a["ad_set_name"], a["campaign_name"], a["reporting_start"], a["reporting_end"]) == (
        "Événements", None, date(2025, 12, 1), date(2025, 12, 31))
    assert (a["reach"], a["impressions"], a["link_clicks"], a["results"], a["spend"], a["currency"]) == (
        1196, 2206, 49, 11.0, 323.11, "EUR")
    assert a["account_id"] == SAINT_AUBIN and a["result_indicator"] == "actions:link_click"
    m = rows["Marché"]
    assert m["results"] is None and m["link_clicks"] is None and m["reach"] == 0 and m["spend"] == 0.0
    s = rows["Spring campaign"]
    assert (s["impressions"], s["link_clicks"], s["post_engagement"], s["spend"], s["currency"]) == (
        15000, 320, 410, 150.5, "USD")
    assert s["reporting_start"] == date(2017, 4, 1)
    f = rows["Affiche 1"]
    assert (f["campaign_name"], f["ad_set_name"], f["reach"], f["impressions"], f["post_engagement"]) == (
        "Été culturel", "Jeunes", 12500, 30000, 1200)
    assert (f["results"], f["result_indicator"], f["spend"], f["currency"]) == (12500.0, "Couverture", 250.75, "EUR")


def test_reimport_is_idempotent(db):
    assert _import(db, "posts_en_42cols.csv").inserted == 2
    ctx = default_context()
    with derived_refresh.writer(db) as con:
        again = import_paths(con, [META / "posts_en_42cols.csv"], ctx, force=True)[0]
    assert (again.status, again.inserted, again.updated) == ("ok", 0, 0)


def test_corrupt_file_changes_nothing(db):
    _import(db, "posts_en_pcm.csv")
    with derived_refresh.writer(db) as con:
        before = store.snapshot_hash(con)
        r = import_paths(con, [META / "posts_corrupt.csv"], default_context())[0]
        after = store.snapshot_hash(con)
    assert r.status == "error" and "ligne 3" in r.error and "Views" in r.error and "douze" in r.error
    assert before == after


def test_keep_going_drops_only_the_bad_row(db):
    with derived_refresh.writer(db) as con:
        r = import_paths(con, [META / "posts_corrupt.csv"], default_context(), keep_going=True)[0]
    assert (r.status, r.inserted, r.rejected) == ("ok", 1, 1)


REAL = {
    # path relative to shared/formats: (format, rows read, rows inserted)
    "meta_business_suite_en_pcm/Organic Posts/Sep-01-2025_Sep-30-2025_2855862537940540.csv": ("meta_posts", 81, 81),
    "meta_business_suite_en_pcm/Page-Level Metrics/Follows.csv": ("meta_page_daily", 28, 56),
    "meta_business_suite_en_pcm/Page-Level Metrics/Interactions.csv": ("meta_page_daily", 28, 28),
    "meta_business_suite_en_pcm/Page-Level Metrics/Link clicks.csv": ("meta_page_daily", 28, 28),
    "meta_business_suite_en_pcm/Page-Level Metrics/Views.csv": ("meta_page_daily", 28, 28),
    "meta_business_suite_en_pcm/Page-Level Metrics/Visits.csv": ("meta_page_daily", 28, 28),
    # 27 of its 60 days are already in audience_followers (new_followers from Follows.csv): updated.
    "meta_business_suite_en_pcm/Page-Level Metrics/FollowerHistory.csv": ("meta_follower_history", 60, 93),
    "meta_business_suite_en_pcm/Page-Level Metrics/Viewers.csv": ("meta_follower_history", 60, 179),
    "meta_business_suite_en_pcm/Demographics/FollowerGender.csv": ("meta_demographics", 3, 3),
    "meta_business_suite_en_pcm/Demographics/FollowerTopTerritories.csv": ("meta_demographics", 11, 11),
    "meta_business_suite_en_pcm/Ads/John-Bernard-Olermo-Ads-Sep-1-2025-Sep-30-2025.csv": ("meta_ads", 65, 65),
    "meta_business_suite_en_pcm/Ads/John-Bernard-Olermo-Ads-Dec-1-2025-Dec-31-2025.csv": ("meta_ads", 93, 93),
    "meta_business_suite_en_pcm/Ads/John-Bernard-Olermo-Ads-Jan-1-2026-Jan-27-2026.csv": ("meta_ads", 72, 72),
}


def test_real_samples(db, shared_formats):
    # No snapshot date: the year-less files take their year from the dated series beside them.
    ctx = default_context(account_hint="facebook:100064197037125")
    with derived_refresh.writer(db) as con:
        res = {r.path: r for r in import_paths(con, [shared_formats / p for p in REAL], ctx)}
        got = {p: (res[str(shared_formats / p)].format, res[str(shared_formats / p)].rows_read,
                   res[str(shared_formats / p)].inserted) for p in REAL}
        assert all(r.status == "ok" for r in res.values()), [r.error for r in res.values()]
        assert got == REAL
        gender = con.execute("SELECT key, value FROM audience_demographics WHERE dimension = 'gender' "
                             "ORDER BY key").fetchall()
        assert gender == [("F", 0.24), ("M", 0.75), ("U", 0.01)]
        years = con.execute("SELECT min(date), max(date) FROM audience_followers WHERE followers IS NOT NULL").fetchone()
        assert years == (date(2025, 8, 18), date(2025, 10, 16))
        spend = con.execute("SELECT DISTINCT currency FROM ad_results").fetchall()
        assert spend == [("PHP",)]
