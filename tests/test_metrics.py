"""Every metric on a hand-computed example, including missing inputs (NULL is not 0)."""

from __future__ import annotations

import math

import numpy as np
import pandas as pd
import pytest

from analysis import metrics as m
from analysis import store


def test_version_and_formulas_registry():
    assert m.METRICS_VERSION == "1.0"
    for key in ("engagement", "er_reach", "er_impressions", "er_followers", "daily_er", "amplification",
                "conversation", "applause", "virality", "sov_mentions", "sov_engagement", "posting_frequency",
                "response_rate", "net_sentiment", "net_sentiment_all", "negative_share"):
        f = m.FORMULAS[key]
        assert f.version == "1.0" and f.name and f.formula
    assert m.formula_text("er_reach") == "Taux d'engagement (portée) = engagement ÷ portée (spécification v1.0)"
    # engagement formula states the columns of each platform
    assert "Instagram = j'aime + commentaires" in m.FORMULAS["engagement"].formula


def test_engagement_per_platform():
    assert m.engagement({"platform": "facebook", "reactions": 10, "comments": 3, "shares": 2, "clicks": 99}) == 15
    # Instagram: likes fall back for reactions, saves counted when exported
    assert m.engagement({"platform": "instagram", "likes": 40, "comments": 5, "saves": 7}) == 52
    assert m.engagement({"platform": "instagram", "likes": 40, "comments": 5}) == 45
    assert m.engagement({"platform": "x", "reactions": 4, "comments": 1, "shares": 2, "quotes": 1}) == 8
    assert m.engagement({"platform": "linkedin", "reactions": 9, "comments": 0, "shares": 1}) == 10
    assert m.engagement({"platform": "youtube", "likes": 12, "comments": 3}) == 15


def test_engagement_missing_is_not_zero():
    # Facebook export without shares: engagement unknown, not 13
    assert m.engagement({"platform": "facebook", "reactions": 10, "comments": 3, "shares": None}) is None
    assert m.engagement({"platform": "x", "reactions": float("nan"), "comments": 1, "shares": 1}) is None
    # but a real zero stays zero
    assert m.engagement({"platform": "facebook", "reactions": 0, "comments": 0, "shares": 0}) == 0


def test_rates_hand_computed():
    assert m.engagement_rate_reach(50, 1000) == pytest.approx(0.05)
    assert m.engagement_rate_impressions(50, 2500) == pytest.approx(0.02)
    assert m.engagement_rate_followers(30, 12000) == pytest.approx(0.0025)
    assert m.amplification_rate(6, 1200) == pytest.approx(0.005)
    assert m.conversation_rate(12, 1200) == pytest.approx(0.01)
    assert m.applause_rate(120, 1200) == pytest.approx(0.1)
    assert m.virality(8, 400) == pytest.approx(0.02)
    assert m.posting_frequency(30, 30) == pytest.approx(7.0)
    assert m.response_rate(3, 4) == pytest.approx(0.75)
    assert m.per_1000(2413, 48250) == pytest.approx(50.0124, rel=1e-4)
    # daily ER: mean of (40/1000, 60/1000); the day with missing followers is skipped, not zero
    assert m.daily_engagement_rate([40, 60, 80], [1000, 1000, None]) == pytest.approx(0.05)


def test_platform_lacking_reach_has_no_reach_rate():
    x_post = {"platform": "x", "reactions": 4, "comments": 1, "shares": 2, "impressions": 700, "reach": None}
    e = m.engagement(x_post)
    assert m.engagement_rate_reach(e, x_post["reach"]) is None
    assert m.virality(x_post["shares"], x_post["reach"]) is None
    assert m.engagement_rate_impressions(e, x_post["impressions"]) == pytest.approx(0.01)
    # zero denominators are undefined, never 0 %
    assert m.engagement_rate_reach(5, 0) is None
    assert m.response_rate(0, 0) is None
    assert m.posting_frequency(None, 7) is None


def test_share_of_voice_both_bases():
    assert m.share_of_voice(25, 100) == pytest.approx(0.25)
    sov = m.share_of_voice_table({"a": 30, "b": 10, "c": None})
    assert sov == {"a": pytest.approx(0.75), "b": pytest.approx(0.25), "c": None}


def test_net_sentiment_variants_and_intervals():
    assert m.net_sentiment(60, 20) == pytest.approx(0.5)
    assert m.net_sentiment_all(60, 20, 20) == pytest.approx(0.4)
    assert m.net_sentiment(0, 0) is None
    assert m.net_sentiment(None, 3) is None
    # Wilson interval of 20/100 hand-computed: centre (0.2 + 1.96²/200)/(1 + 1.96²/100)
    lo, hi = m.wilson_interval(20, 100)
    assert lo == pytest.approx(0.1333, abs=1e-4) and hi == pytest.approx(0.2888, abs=1e-4)
    share, ci = m.negative_share(20, 100)
    assert share == pytest.approx(0.2) and ci == (lo, hi)
    assert m.wilson_interval(0, 0) is None
    assert m.wilson_interval(0, 10)[0] == 0.0  # stays within [0, 1]
    # (P − N)/(P + N) interval = 2·Wilson(P, P+N) − 1
    wlo, whi = m.wilson_interval(60, 80)
    assert m.net_sentiment_interval(60, 20) == pytest.approx((2 * wlo - 1, 2 * whi - 1))
    # (P − N)/T: est 0.4, var = (0.6 + 0.2 − 0.16)/100 → se 0.08
    lo2, hi2 = m.net_sentiment_all_interval(60, 20, 20)
    assert lo2 == pytest.approx(0.4 - 1.959964 * 0.08, abs=1e-5) and hi2 == pytest.approx(0.4 + 1.959964 * 0.08, abs=1e-5)


def _posts_frame() -> pd.DataFrame:
    return pd.DataFrame([
        {"post_id": "facebook:1", "platform": "facebook", "reactions": 10, "comments": 3, "shares": 2,
         "reach": 1000, "impressions": 1500, "followers_at_posting": 5000},
        {"post_id": "instagram:2", "platform": "instagram", "reactions": None, "likes": 40, "comments": 5,
         "shares": None, "saves": 7, "reach": None, "impressions": 800, "followers_at_posting": 2000},
        {"post_id": "x:3", "platform": "x", "reactions": 4, "comments": 1, "shares": None, "reach": None,
         "impressions": 700, "followers_at_posting": None},
    ])


def test_vectorised_matches_scalar_and_keeps_nan():
    df = m.add_post_metrics(_posts_frame())
    assert df["engagement"].iloc[0] == 15 and df["engagement"].iloc[1] == 52
    assert math.isnan(df["engagement"].iloc[2])  # X export without reposts
    assert df["er_reach"].iloc[0] == pytest.approx(0.015)
    assert math.isnan(df["er_reach"].iloc[1])  # Instagram without reach: no reach rate
    assert df["er_impressions"].iloc[1] == pytest.approx(52 / 800)
    assert math.isnan(df["er_followers"].iloc[2])
    for i, row in _posts_frame().iterrows():
        s = m.engagement(row.to_dict())
        v = df["engagement"].iloc[i]
        assert (s is None and np.isnan(v)) or s == v


def test_sql_matches_python(tmp_path):
    con = store.connect(tmp_path / "t.duckdb")
    con.execute("INSERT INTO accounts (account_id, platform, territory_id, official) VALUES "
                "('facebook:p', 'facebook', 'a', TRUE), ('instagram:p', 'instagram', 'a', TRUE), ('x:p', 'x', 'b', TRUE)")
    df = _posts_frame().assign(account_id=["facebook:p", "instagram:p", "x:p"], territory_id=["a", "a", "b"],
                               created_at=pd.Timestamp("2026-05-02 10:00"))
    store.upsert(con, "posts", df)
    got = con.execute(f"SELECT post_id, {m.engagement_sql()} AS e FROM posts ORDER BY post_id").fetchall()
    assert got == [("facebook:1", 15), ("instagram:2", 52), ("x:3", None)]
    k = m.territory_kpis(con, pd.Timestamp("2026-05-01").date(), pd.Timestamp("2026-05-08").date())
    a = k.set_index("territory_id").loc["a"]
    assert a["posts"] == 2 and a["engagement"] == 67 and a["engagement_per_post"] == pytest.approx(33.5)
    assert a["er_reach"] == pytest.approx(15 / 1000)  # only the post that has reach counts
    assert a["er_impressions"] == pytest.approx(67 / 2300)
    assert a["posting_frequency"] == pytest.approx(2.0)
    b = k.set_index("territory_id").loc["b"]
    assert b["posts"] == 1 and pd.isna(b["engagement"]) and pd.isna(b["engagement_per_post"])
    con.close()

