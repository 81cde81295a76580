"""LinkedIn page exports: content (xlsx with a note line), followers (SpreadsheetML .xls), visitors."""

from __future__ import annotations

import datetime as dt
from pathlib import Path

import pandas as pd
import pytest

from analysis import store
from analysis.ingest import default_context, import_paths

LI = Path(__file__).resolve().parent / "fixtures" / "linkedin"
PAGE = "linkedin:ville-de-saint-aubin-sur-loire"
CONTENT = "ville-de-saint-aubin-sur-loire_content_1771372800000.xlsx"
FOLLOWERS = "ville-de-saint-aubin-sur-loire_followers_1771372800000.xls"


@pytest.fixture()
def con(db):
    c = store.connect(db)
    yield c
    c.close()


def run(con, *paths, force=False, **kw):
    return import_paths(con, [p if isinstance(p, Path) else LI / p for p in paths], default_context(**kw), force=force)


def test_content_export_page_from_file_name(con):
    (r,) = run(con, CONTENT)
    assert (r.status, r.format, r.rows_read) == ("ok", "linkedin_page", 4), r.error
    daily = dict(((str(d), m), v) for d, m, v in con.execute(
        "SELECT date, metric, value FROM page_daily WHERE account_id = ?", [PAGE]).fetchall())
    assert daily[("2026-02-14", "impressions")] == 120 and daily[("2026-02-15", "impressions_paid")] == 10
    assert daily[("2026-02-14", "reach_organic")] == 80 and daily[("2026-02-15", "shares")] == 1
    assert not any(m.startswith("engagement") for _, m in daily)  # rates are recomputed, not stored
    p = con.execute("SELECT * FROM posts ORDER BY post_id").fetchdf().set_index("post_id")
    a = p.loc["linkedin:urn:li:activity:7400000000000000001"]
    assert a.text == "Forum de l emploi : 40 entreprises vous attendent"  # U+2002 → plain space (NFKC)
    assert (a.impressions, a.clicks, a.reactions, a.comments, a.shares) == (98, 2, 3, 1, 0)
    assert pd.isna(a.video_views) and pd.isna(a.follows)  # empty cells: NULL
    assert (a.account_id, a.territory_id, bool(a.is_paid), a.post_type) == (PAGE, "saint-aubin", False, "image")
    assert a.created_at == pd.Timestamp("2026-02-14")
    s = p.loc["linkedin:urn:li:share:7400000000000000002"]
    assert bool(s.is_paid) and (s.video_views, s.follows) == (12, 2)


def test_followers_spreadsheetml(con):
    (r,) = run(con, FOLLOWERS)
    assert r.status == "ok", r.error
    f = con.execute("SELECT date, followers, new_followers FROM audience_followers ORDER BY date").fetchall()
    assert f == [(dt.date(2026, 2, 14), None, 3), (dt.date(2026, 2, 15), None, 3)]  # total unknown: NULL
    d = con.execute("SELECT dimension, key, value, unit, date FROM audience_demographics ORDER BY dimension, key").fetchall()
    assert ("location", "Nantes Metropolitan Area", 120.0, "count", dt.date(2026, 2, 15)) in d  # dated by last day
    assert {x[0] for x in d} == {"location", "job_function", "seniority", "industry", "company_size"}


def test_visitors_need_account_when_renamed(con):
    (r,) = run(con, "visiteurs_linkedin.xls")
    assert r.status == "error" and "--account linkedin:" in r.error
    (r,) = run(con, "visiteurs_linkedin.xls", account_hint=PAGE)
    assert r.status == "ok"
    vals = dict(con.execute("SELECT metric, value FROM page_daily").fetchall())
    assert vals["page_views"] == 18 and vals["unique_visitors"] == 11 and vals["page_views_overview_mobile"] == 5
    assert con.execute("SELECT dimension FROM audience_demographics").fetchone() == ("visitor_location",)


def test_reimport_idempotent(con):
    run(con, CONTENT, FOLLOWERS)
    again = run(con, CONTENT, FOLLOWERS, force=True)
    assert [(r.status, r.inserted, r.updated) for r in again] == [("ok", 0, 0), ("ok", 0, 0)]


def test_corrupt_spreadsheetml_changes_nothing(con, tmp_path):
    run(con, CONTENT)
    before = store.snapshot_hash(con)
    bad = tmp_path / "ville-de-saint-aubin-sur-loire_followers_1771372800001.xls"
    bad.write_text((LI / FOLLOWERS).read_text(encoding="utf-8")[:-200], encoding="utf-8")  # truncated XML
    (r,) = run(con, bad)
    assert r.status == "error" and "SpreadsheetML" in r.error
    assert store.snapshot_hash(con) == before


def test_real_samples_biff_and_xlsx_agree(con, shared_formats):
    d = shared_formats / "linkedin_page_content_export"
    xls, xlsx = run(con, d / "pro-efficient-data-entry_content_1742193384396.xls",
                    d / "pro-efficient-data-entry_content_1742193384396.xlsx", account_hint=PAGE)
    assert (xls.status, xls.rows_read, xls.inserted) == ("ok", 38, 488)  # 30 days x 16 metrics + 8 posts
    assert (xlsx.status, xlsx.inserted, xlsx.updated) == ("ok", 0, 0)  # BIFF and xlsx give the same rows
    heads = run(con, d / "headers_only_templates_2020", account_hint=PAGE)
    assert [r.status for r in heads] == ["skipped"] * 3
