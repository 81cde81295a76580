"""CrowdTangle importers: dashboard (FB/IG, file-level locale), minet CSV, post history."""

from __future__ import annotations

from datetime import datetime
from pathlib import Path

import pandas as pd
import pytest

from analysis import derived_refresh, store
from analysis.ingest import default_context, import_paths
from analysis.ingest.base import ImportFailure
from analysis.ingest.crowdtangle import detect_decimal, post_native_id

CT = Path(__file__).resolve().parent / "fixtures" / "crowdtangle"


def _import(db, name, **kw):
    with derived_refresh.writer(db) as con:
        return import_paths(con, [CT / name], default_context(**kw))[0]


def _q(db, sql):
    with derived_refresh.writer(db) as con:
        cur = con.execute(sql)
        cols = [d[0] for d in cur.description]
        return [dict(zip(cols, r, strict=True)) for r in cur.fetchall()]


def test_dashboard_comma_locale_golden(db):
    r = _import(db, "dashboard_fb_locale_comma.csv")
    assert (r.status, r.format, r.rows_read, r.inserted) == ("ok", "crowdtangle_dashboard", 2, 2), r.error
    assert "séparateur décimal du fichier : « , »" in r.notes
    p = _q(db, "SELECT * FROM posts WHERE native_id = '345428873810280'")[0]
    assert p["post_id"] == "facebook:345428873810280"
    assert p["account_id"] == "facebook:104857600000001" and p["territory_id"] == "saint-aubin"
    assert p["created_at"] == datetime(2021, 7, 5, 21, 2, 45)  # 18:02:45 BRT (UTC-3)
    assert p["engagements_reported"] == 407137  # '407.137' is dot thousands in this file
    assert (p["likes"], p["love"], p["care"], p["comments"], p["shares"]) == (270729, 100226, 2848, 24506, 4259)
    assert p["reactions"] == 378372  # likes + love + wow + haha + sad + angry + care
    assert p["followers_at_posting"] == 1200 and p["video_views"] == 0
    assert p["text"] == "Fête de la musique 🎶 ce soir" and p["post_type"] == "photo"
    v = _q(db, "SELECT * FROM posts WHERE native_id = '1648564762021488'")[0]
    assert (v["engagements_reported"], v["video_views"], v["post_type"]) == (1002, 12345, "video")
    # The look-alike page becomes a non-official account (impersonation watch).
    acc = _q(db, "SELECT account_id, handle, name, official, territory_id FROM accounts WHERE official = FALSE")
    assert acc == [{"account_id": "facebook:100099900000042", "handle": "saintaubin.officiel",
                    "name": "Saint-Aubin-sur-Loire Officiel", "official": False, "territory_id": None}]


def test_dashboard_dot_locale_and_missing_reactions(db):
    r = _import(db, "dashboard_fb_locale_dot.csv")
    assert r.status == "ok" and "séparateur décimal du fichier : « . »" in r.notes, r.error
    p = _q(db, "SELECT * FROM posts")[0]
    assert (p["engagements_reported"], p["likes"], p["comments"]) == (1234, 1000, 200)
    assert p["love"] is None and p["reactions"] is None  # empty cells are missing, and so is their sum
    assert p["created_at"] == datetime(2024, 3, 1, 8, 0) and p["territory_id"] == "port-marel"


def test_dashboard_instagram(db):
    r = _import(db, "dashboard_instagram.csv")
    assert r.status == "ok", r.error
    p = _q(db, "SELECT * FROM posts")[0]
    assert p["post_id"] == "instagram:CtAbC123xyz" and p["platform"] == "instagram"
    assert p["account_id"] == "instagram:178414000000001" and p["territory_id"] == "saint-aubin"
    assert p["created_at"] == datetime(2023, 6, 21, 19, 0)  # CEST
    assert (p["likes"], p["reactions"], p["comments"], p["engagements_reported"]) == (500, 500, 30, 530)
    assert p["followers_at_posting"] == 15000 and p["text"] == "Fête de la musique #saintaubin"
    assert p["post_type"] == "photo" and p["shares"] is None


def test_minet_posts(db):
    r = _import(db, "minet_ct_posts.csv")
    assert (r.status, r.format) == ("ok", "crowdtangle_minet"), r.error
    p = _q(db, "SELECT * FROM posts")[0]
    assert p["post_id"] == "facebook:7770000000000001" and p["account_id"] == "facebook:104857600000005"
    assert p["created_at"] == datetime(2022, 5, 1, 10, 0) and p["source_tz"] == "UTC"
    assert (p["likes"], p["shares"], p["comments"], p["love"], p["haha"], p["care"]) == (120, 4, 9, 3, 1, 2)
    assert p["reactions"] == 126 and p["followers_at_posting"] == 8000


def test_history_latest_snapshot(db):
    r = _import(db, "history_post_3758007754304128.csv")
    assert (r.status, r.format, r.rows_read, r.inserted) == ("ok", "crowdtangle_history", 2, 1), r.error
    p = _q(db, "SELECT * FROM posts")[0]
    assert p["post_id"] == "facebook:3758007754304128" and p["account_id"] == "facebook:104857600000002"
    assert p["created_at"] == datetime(2021, 7, 4, 22, 38, 3)
    assert (p["likes"], p["comments"], p["shares"], p["love"], p["reactions"]) == (57669, 2719, 560, 7319, 65809)
    assert p["permalink"] == "https://www.facebook.com/portmarel/posts/3758007754304128"


def test_detect_decimal_is_file_level():
    df = pd.DataFrame({"a": ["407.137", "12"], "b": ["3", "4"], "_line": [2, 3]})
    assert detect_decimal(df, ["a", "b"], []) == ","
    assert detect_decimal(pd.DataFrame({"a": ["12", "7"], "_line": [2, 3]}), ["a"], []) is None
    with pytest.raises(ImportFailure, match="contradictoires"):
        detect_decimal(pd.DataFrame({"a": ["1,4", "2.35"], "_line": [2, 3]}), [], ["a"])


def test_post_native_id():
    assert post_native_id("facebook", "https://www.facebook.com/x/videos/1648564762021488/") == "1648564762021488"
    assert post_native_id("facebook", None, "104857600000005_7770000000000001") == "7770000000000001"
    assert post_native_id("facebook", "https://www.facebook.com/photo.php?fbid=345428847143616&set=a") == "345428847143616"
    assert post_native_id("instagram", "https://www.instagram.com/p/CtAbC123xyz/") == "CtAbC123xyz"


def test_reimport_idempotent_and_corrupt_all_or_nothing(db):
    assert _import(db, "dashboard_fb_locale_comma.csv").inserted == 2
    with derived_refresh.writer(db) as con:
        again = import_paths(con, [CT / "dashboard_fb_locale_comma.csv"], default_context(), force=True)[0]
        before = store.snapshot_hash(con)
        bad = import_paths(con, [CT / "dashboard_corrupt.csv"], default_context())[0]
        after = store.snapshot_hash(con)
    assert (again.inserted, again.updated) == (0, 0)
    assert bad.status == "error" and "ligne 4" in bad.error and "« Likes »" in bad.error
    assert before == after


def test_real_samples(db, shared_formats):
    folder = shared_formats / "crowdtangle_fb_search_ptbr"
    with derived_refresh.writer(db) as con:
        res = import_paths(con, [folder / "2021-07-05-22-49-20-BRT-search-csv-export.csv",
                                 folder / "history_post_3758007754304128.csv",
                                 folder / "links-api-response-example.json"], default_context())
        assert [(r.format, r.rows_read, r.inserted) for r in res] == [
            ("crowdtangle_dashboard", 10, 10), ("crowdtangle_history", 7, 1), ("crowdtangle_api", 1, 1)], \
            [r.error for r in res]
        # Every row: reactions + comments + shares = Total Interactions (locale parsed right)
        bad = con.execute("SELECT count(*) FROM posts WHERE reactions + comments + shares <> engagements_reported "
                          "AND native_id <> '3758007754304128'").fetchone()
        assert bad == (0,)
        assert con.execute("SELECT count(*) FROM accounts WHERE official = FALSE").fetchone() == (12,)


@pytest.mark.parametrize("name", ["api_posts.json", "api_posts.jsonl"])
def test_api_json_and_jsonl(db, name):
    r = _import(db, name)
    assert (r.status, r.format, r.rows_read, r.inserted) == ("ok", "crowdtangle_api", 2, 2), r.error
    p = _q(db, "SELECT * FROM posts ORDER BY post_id")
    assert p[0]["post_id"] == "facebook:8880000000000001" and p[0]["account_id"] == "facebook:104857600000004"
    assert p[0]["territory_id"] == "bourg-lavande" and p[0]["lang"] == "fr"
    assert p[0]["created_at"] == datetime(2022, 6, 3, 19, 30)
    assert (p[0]["likes"], p[0]["love"], p[0]["care"], p[0]["reactions"], p[0]["comments"], p[0]["shares"]) == (
        40, 5, 1, 46, 3, 2)
    assert p[0]["followers_at_posting"] == 8100
    acc = _q(db, "SELECT account_id, handle, official FROM accounts WHERE official = FALSE")
    assert acc == [{"account_id": "facebook:100099900000077", "handle": "bourglavande.infos", "official": False}]
