"""Legacy Facebook Insights importer: page & post level, cp1252, two header rows, xlsx, SpreadsheetML."""

from __future__ import annotations

from datetime import date, datetime
from pathlib import Path

from analysis import derived_refresh, store
from analysis.ingest import default_context, import_paths

FB = Path(__file__).resolve().parent / "fixtures" / "fb_legacy"
PAGE = "facebook:104857600000001"
NAMED = "Facebook Insights Data Export - Villeneuve-les-Sources - 2014-01-01 - 2014-01-03.csv"


def _import(db, path, **kw):
    ctx = default_context(**kw)
    with derived_refresh.writer(db) as con:
        return import_paths(con, [path], ctx)[0]


def _q(db, sql):
    with derived_refresh.writer(db) as con:
        cur = con.execute(sql)
        cols = [d[0] for d in cur.description]
        return [dict(zip(cols, r, strict=True)) for r in cur.fetchall()]


def test_page_level_cp1252_two_header_rows(db):
    r = _import(db, FB / "page_cp1252.csv", account_hint=PAGE)
    assert (r.status, r.format, r.encoding, r.rows_read) == ("ok", "fb_insights_legacy", "cp1252", 3), r.error
    fol = _q(db, "SELECT date, followers, new_followers, lost_followers FROM audience_followers ORDER BY date")
    assert fol == [
        {"date": date(2014, 1, 1), "followers": 120, "new_followers": 2, "lost_followers": 0},
        {"date": date(2014, 1, 2), "followers": 121, "new_followers": 1, "lost_followers": 0},
        {"date": date(2014, 1, 3), "followers": 123, "new_followers": 3, "lost_followers": 1},
    ]
    daily = _q(db, "SELECT metric, value FROM page_daily WHERE date = '2014-01-03' ORDER BY metric")
    assert daily == [{"metric": "engaged_users", "value": 9.0}, {"metric": "follows", "value": 3.0},
                     {"metric": "impressions", "value": 130.0},
                     {"metric": "page_views", "value": 4.0},  # first of the duplicated columns
                     {"metric": "reach", "value": 55.0}, {"metric": "unfollows", "value": 1.0}]
    # an empty cell is missing, not zero: no page_views row on 2 January
    assert _q(db, "SELECT count(*) n FROM page_daily WHERE metric = 'page_views' AND date = '2014-01-02'")[0]["n"] == 0
    demo = _q(db, "SELECT date, dimension, key, gender, age_band, value, unit FROM audience_demographics "
                  "ORDER BY dimension, key")
    assert {d["date"] for d in demo} == {date(2014, 1, 3)} and {d["unit"] for d in demo} == {"count"}
    assert [(d["dimension"], d["key"], d["gender"], d["age_band"], d["value"]) for d in demo] == [
        ("age_gender", "F.18-24", "F", "18-24", 31.0), ("age_gender", "M.65+", "M", "65+", 2.0),
        ("city", "Sevilla, Andalucía, Spain", None, None, 3.0),
        ("country", "ES", None, None, 4.0), ("country", "FR", None, None, 101.0),
        ("language", "fr_FR", None, None, 97.0),
    ]


def test_page_named_in_file_name_matches_registry(db):
    r = _import(db, FB / NAMED)
    assert r.status == "ok", r.error
    acc = _q(db, "SELECT DISTINCT account_id FROM audience_followers")
    assert acc == [{"account_id": "facebook:104857600000003"}]


def test_page_without_account_is_a_clear_error(db):
    r = _import(db, FB / "page_cp1252.csv")
    assert r.status == "error" and "--account facebook:" in r.error


def test_xlsx_and_spreadsheetml_give_the_csv_rows(db, tmp_path):
    for name in ("page.xlsx", "page_spreadsheetml.xls"):
        r = _import(db, FB / name, account_hint=PAGE)
        assert r.status == "ok" and r.rows_read == 3, (name, r.error)
        assert "2 feuilles lues sur 3" in r.notes
    fol = _q(db, "SELECT date, followers, lost_followers FROM audience_followers ORDER BY date")
    assert [f["followers"] for f in fol] == [120, 121, 123] and fol[2]["lost_followers"] == 1
    # Breakdown sheet with a truncated name and bare 'F.18-24' keys
    demo = _q(db, "SELECT date, key, gender, age_band, value FROM audience_demographics ORDER BY key")
    assert demo == [{"date": date(2014, 1, 3), "key": "F.18-24", "gender": "F", "age_band": "18-24", "value": 31.0},
                    {"date": date(2014, 1, 3), "key": "M.65+", "gender": "M", "age_band": "65+", "value": 2.0}]
    # The CSV of the same data changes nothing in followers / age-gender rows
    r = _import(db, FB / "page_cp1252.csv", account_hint=PAGE)
    assert r.tables["audience_followers"] == [0, 0]
    assert r.tables["audience_demographics"] == [4, 0]  # only the breakdowns the workbook lacked


def test_post_level_golden(db):
    r = _import(db, FB / "posts_utf8bom.csv")
    assert (r.status, r.rows_read, r.inserted) == ("ok", 2, 2), r.error
    p1, p2 = _q(db, "SELECT * FROM posts ORDER BY post_id")
    assert p1["post_id"] == "facebook:2000000000000001" and p1["native_id"] == "2000000000000001"
    assert p1["account_id"] == "facebook:104857600000003" and p1["territory_id"] == "villeneuve-les-sources"
    assert p1["created_at"] == datetime(2015, 2, 19, 22, 45, 22)  # 11:45:22 PM Paris (UTC+1)
    assert p1["text"] == "Inauguration de la médiathèque 📚" and p1["post_type"] == "photo"
    assert (p1["reach"], p1["impressions"], p1["engagements_reported"]) == (371, 1116, 56)
    assert (p1["comments"], p1["likes"], p1["reactions"], p1["shares"]) == (3, 31, 31, None)
    assert (p1["clicks"], p1["link_clicks"], p1["video_views"], p1["is_paid"]) == (38, 28, None, True)
    assert p2["created_at"] == datetime(2015, 7, 1, 7, 30) and p2["post_type"] == "video"
    assert (p2["video_views"], p2["is_paid"], p2["link_clicks"]) == (250, False, None)  # 200 + 50


def test_reimport_idempotent_and_corrupt_all_or_nothing(db):
    assert _import(db, FB / "page_cp1252.csv", account_hint=PAGE).inserted > 0
    ctx = default_context(account_hint=PAGE)
    with derived_refresh.writer(db) as con:
        again = import_paths(con, [FB / "page_cp1252.csv"], ctx, force=True)[0]
        before = store.snapshot_hash(con)
        bad = import_paths(con, [FB / "page_corrupt.csv"], ctx)[0]
        after = store.snapshot_hash(con)
    assert (again.inserted, again.updated) == (0, 0)
    assert bad.status == "error" and "ligne 4" in bad.error and "Lifetime Total Likes" in bad.error
    assert before == after


REAL = {
    "Facebook Insights Data Export (Post Level) - Visualization Studio VIC - 2014-08-24 - 2015-02-19.csv": (98, 98),
    "Facebook Insights Data Export (Post Level) - Visualization Studio VIC - 2015-08-19 - 2016-02-15.csv": (170, 170),
    "Facebook Insights Data Export (Video Posts) - Visualization Studio VIC - 2014-01-01 - 2014-02-27.csv": (0, 0),
    "Facebook Insights Data Export - Visualization Studio VIC - 2014-01-01 - 2014-02-27.csv": (58, 1068),
    "Facebook Insights Data Export - Visualization Studio VIC - 2015-08-19 - 2016-02-15.csv": (180, 3199),
}


def test_real_samples(db, shared_formats):
    folder = shared_formats / "facebook_insights_legacy_vicvisual"
    ctx = default_context(account_hint="facebook:518995791497187")
    with derived_refresh.writer(db) as con:
        res = import_paths(con, [folder / n for n in REAL], ctx)
        assert all(r.status in ("ok", "skipped") for r in res), [r.error for r in res]
        assert {Path(r.path).name: (r.rows_read, r.inserted) for r in res} == REAL
        city = con.execute("SELECT value FROM audience_demographics WHERE key = 'Sant Joan Despí, Cataluña, Spain' "
                           "AND date = '2014-02-27'").fetchone()
        assert city is not None  # cp1252 'ñ' decoded
        assert con.execute("SELECT count(DISTINCT account_id) FROM posts").fetchone() == (1,)


def test_post_level_spreadsheetml_breakdown_sheet(db):
    r = _import(db, FB / "posts_spreadsheetml.xls")
    assert (r.status, r.encoding, r.rows_read, r.inserted) == ("ok", "utf-8", 2, 2), r.error
    p1 = _q(db, "SELECT * FROM posts WHERE native_id = '2000000000000001'")[0]
    assert (p1["comments"], p1["likes"], p1["shares"], p1["reach"], p1["engagements_reported"]) == (3, 31, None, 371, 56)
    assert p1["created_at"] == datetime(2015, 2, 19, 22, 45, 22) and p1["clicks"] is None


def test_spreadsheetml_datetime_cells_import_as_dates(db):
    # 2017 SpreadsheetML: ss:Type="DateTime" cells hold ISO 8601 text ('2015-02-19T23:45:22.000').
    r = _import(db, FB / "posts_spreadsheetml_datetime.xls")
    assert (r.status, r.rows_read, r.inserted) == ("ok", 2, 2), r.error
    rows = _q(db, "SELECT native_id, created_at, likes FROM posts ORDER BY native_id")
    assert rows == [
        {"native_id": "2000000000000001", "created_at": datetime(2015, 2, 19, 22, 45, 22), "likes": 31},  # Paris UTC+1
        {"native_id": "2000000000000002", "created_at": datetime(2015, 7, 1, 7, 30), "likes": 12},  # UTC+2
    ]
    # Page level: the day of a DateTime '2014-01-03T05:30:00.000', in every sheet (breakdowns merged on it).
    r = _import(db, FB / "page_spreadsheetml_datetime.xls", account_hint=PAGE)
    assert (r.status, r.rows_read) == ("ok", 3), r.error
    fol = _q(db, "SELECT date, followers FROM audience_followers ORDER BY date")
    assert fol == [{"date": date(2014, 1, 1), "followers": 120}, {"date": date(2014, 1, 2), "followers": 121},
                   {"date": date(2014, 1, 3), "followers": 123}]
    demo = _q(db, "SELECT date, key, value FROM audience_demographics ORDER BY key")
    assert demo == [{"date": date(2014, 1, 3), "key": "F.18-24", "value": 31.0},
                    {"date": date(2014, 1, 3), "key": "M.65+", "value": 2.0}]


def test_spreadsheetml_invalid_utf8_bytes_are_replaced_and_counted(db):
    # Declared UTF-8, but 'médiathèque' holds two Windows-1252 bytes: the file imports, each bad
    # byte becomes U+FFFD and the notes say how many were replaced.
    r = _import(db, FB / "posts_spreadsheetml_bad_utf8.xls")
    assert (r.status, r.encoding, r.rows_read, r.inserted) == ("ok", "utf-8", 2, 2), r.error
    assert any(n.startswith("2 caractères illisibles") for n in r.notes), r.notes
    texts = [x["text"] for x in _q(db, "SELECT text FROM posts ORDER BY native_id")]
    assert texts == ["Inauguration de la m\ufffddiath\ufffdque 📚", "Travaux rue de la Gare"]
    # A clean file says nothing about replacements.
    clean = _import(db, FB / "posts_spreadsheetml_datetime.xls")
    assert clean.status == "ok" and not any("illisible" in n for n in clean.notes)
