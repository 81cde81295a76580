"""Comment exports: ExportComments (xlsx / YouTube CSV), YouTube API comment threads, minet fb comments."""

from __future__ import annotations

from pathlib import Path

import pandas as pd
import pytest

from analysis import store
from analysis.ingest import default_context, import_paths
from analysis.privacy import pseudonymise

CM = Path(__file__).resolve().parent / "fixtures" / "comments"


@pytest.fixture()
def con(db):
    c = store.connect(db)
    yield c
    c.close()


def run(con, *paths, force=False, **kw):
    return import_paths(con, [p if isinstance(p, Path) else CM / p for p in paths], default_context(**kw), force=force)


def msgs(con) -> pd.DataFrame:
    return con.execute("SELECT * FROM messages ORDER BY message_id").fetchdf().set_index("message_id")


def test_exportcomments_xlsx_golden(con):
    (r,) = run(con, "exportcomments_facebook.xlsx")
    assert (r.status, r.format, r.rows_read, r.inserted) == ("ok", "exportcomments", 3, 3)
    m = msgs(con)
    first = m.loc["facebook:2000000000000001_3000000000000001"]  # id from the 'view comment' hyperlink
    assert first.post_id == "facebook:2000000000000001"  # from the Source URL banner
    assert (first.account_id, first.territory_id) == ("facebook:104857600000001", "saint-aubin")
    assert first.author_hash == pseudonymise("facebook", "700000001")  # 'ID: 700000001'
    assert first.author_name is None and not first.is_official
    assert first.created_at == pd.Timestamp("2026-02-01 17:55:05") and first.source_tz == "Europe/Paris"
    assert (first.text, first.likes, first.kind) == ("Bravo pour la fête 🎉 !", 2, "comment")
    assert pd.isna(first.replies)  # not in the export
    assert bool(m.loc["facebook:2000000000000001_3000000000000002"].is_official)  # the page itself
    no_link = [i for i in m.index if i.startswith("facebook:h")]
    assert len(no_link) == 1 and m.loc[no_link[0]].text == "Et le parking ?"


def test_exportcomments_youtube_csv(con):
    (r,) = run(con, "exportcomments_youtube.csv", account_hint="youtube:UCsaintaubin00000000001")
    assert r.status == "ok", r.error
    m = msgs(con)
    assert list(m.index) == ["youtube:UgxAAA111", "youtube:UgxBBB222"]
    b = m.loc["youtube:UgxBBB222"]
    assert b.created_at == pd.Timestamp("2025-12-13 20:00:00")  # DD/MM/YY, Paris time
    assert b.post_id == "youtube:vidSaintA01" and b.territory_id == "saint-aubin"
    assert b.author_hash == pseudonymise("youtube", "Marc D.")


def test_youtube_api_threads_and_video_stats(con):
    (r,) = run(con, "youtube_api_comments.csv")
    assert (r.status, r.format, r.rows_read) == ("ok", "youtube_comment_threads", 2)
    m = msgs(con)
    assert len(m) == 2 and set(m.post_id) == {"youtube:vidSaintA01"}
    off = m[m.is_official]
    assert len(off) == 1 and off.iloc[0].text == "Merci Léa !\nÀ bientôt"  # textDisplay fallback, HTML stripped
    fan = m[~m.is_official].iloc[0]
    assert fan.text == "Très beau reportage & belles images" and fan.likes == 5
    assert fan.author_hash == pseudonymise("youtube", "UCfan0000000000000000001")
    assert fan.created_at == pd.Timestamp("2026-01-10 12:00:00")
    p = con.execute("SELECT * FROM posts").fetchdf().iloc[0]
    assert (p.post_id, p.account_id, p.territory_id) == ("youtube:vidSaintA01", "youtube:UCsaintaubin00000000001",
                                                          "saint-aubin")
    assert (p.video_views, p.likes, p.comments, p.text) == (1520, 88, 2, "Saint-Aubin en hiver")
    assert p.created_at == pd.Timestamp("2026-01-09 17:00:00") and pd.isna(p.shares)


def test_minet_current_and_old_columns(con):
    new, old = run(con, "minet_fb_comments.csv", "minet_fb_comments_old.csv",
                   account_hint="facebook:104857600000001")
    assert new.status == old.status == "ok"
    m = msgs(con)
    reply = m.loc["facebook:c2"]
    assert (reply.kind, reply.parent_id, bool(reply.is_official)) == ("reply", "facebook:c1", True)
    c1 = m.loc["facebook:c1"]
    assert c1.created_at == pd.Timestamp("2026-01-01 10:00:00")  # epoch seconds
    assert (c1.likes, c1.replies, c1.account_id) == (3, 1, "facebook:104857600000001")
    # Same person, same pseudonym across tools (profile id from the URL).
    assert c1.author_hash == pseudonymise("facebook", "700000001")
    o = m.loc["facebook:5000000000000002"]
    assert (o.kind, o.parent_id, o.post_id) == ("reply", "facebook:5000000000000001", "facebook:2000000000000001")
    assert pd.isna(o.likes)  # empty cell: NULL, not 0
    assert m.author_name.isna().all()


def test_keep_author_names(con):
    run(con, "minet_fb_comments_old.csv", keep_author_names=True)
    assert set(msgs(con).author_name) == {"Alex P.", "Alex Q."}


def test_corrupt_all_or_nothing_and_idempotent(con):
    run(con, "minet_fb_comments.csv")
    before = store.snapshot_hash(con)
    (bad,) = run(con, "minet_fb_comments_corrupt.csv")
    assert bad.status == "error" and "ligne 3" in bad.error and "created_time" in bad.error
    assert store.snapshot_hash(con) == before
    again = run(con, "minet_fb_comments.csv", "exportcomments_facebook.xlsx", force=True)
    assert [(r.inserted, r.updated) for r in again] == [(0, 0), (3, 0)]
    again = run(con, "exportcomments_facebook.xlsx", "youtube_api_comments.csv", force=True)
    assert [(r.inserted, r.updated) for r in again][0] == (0, 0)


def test_real_exportcomments_sample(con, shared_formats):
    (r,) = run(con, shared_formats / "exportcomments_fb_comments_fr" / "exportcomments.xlsx")
    assert (r.status, r.rows_read, r.inserted) == ("ok", 73, 73)
    m = msgs(con)
    assert m.author_name.isna().all() and m.post_id.eq("facebook:10157929543417522").all()
    assert m.index.str.startswith("facebook:10157929543417522_").all()  # every row had a comment link


def test_minet_page_inferred_from_official_reply(con):
    (r,) = run(con, "minet_fb_comments.csv")  # no --account: the page answers in the file
    assert r.status == "ok" and any("page déduite" in n for n in r.notes)
    got = con.execute("SELECT DISTINCT account_id, territory_id FROM messages").fetchall()
    assert got == [("facebook:104857600000001", "saint-aubin")]
