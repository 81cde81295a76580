"""E-reputation metrics on a tiny hand-built store (hand-computed values), spike detection on
synthetic series, and the injected crisis of the demo store found on the right dates."""

from __future__ import annotations

from datetime import date, datetime, timedelta
from pathlib import Path

import numpy as np
import pandas as pd
import pytest

from analysis import derived_refresh, metrics, store
from analysis import ereputation as er
from analysis.queries import Filters
from analysis.sentiment.corrections import correct

MARCH = Filters(territories=("saint-aubin",), start=date(2026, 3, 1), end=date(2026, 4, 1))
PROBS = {"positive": (0.05, 0.05, 0.9), "negative": (0.85, 0.1, 0.05), "neutral": (0.1, 0.8, 0.1)}


def _msg(mid: str, terr: str, at: datetime, text: str, **kw) -> dict:
    row = {"message_id": f"facebook:{mid}", "platform": "facebook", "kind": "comment", "post_id": "facebook:p1",
           "account_id": f"facebook:{terr}", "territory_id": terr, "author_hash": f"h{mid}",
           "author_name": f"Auteur {mid}", "is_official": False, "created_at": at, "text": text, "likes": 0,
           "replies": 0}
    row.update(kw)
    return row


def _sent(mid: str, label: str | None, lang: str = "fr") -> dict:
    p = PROBS.get(label, (None, None, None))
    return {"item_id": f"facebook:{mid}", "item_type": "message", "model_version": "test", "lang": lang,
            "label": label, "p_negative": p[0], "p_neutral": p[1], "p_positive": p[2]}


def _fill(con, rows: list[tuple]) -> None:
    """rows: (mid, territory, datetime, model label or None, lang or None (no sentiment row), extra)."""
    msgs, sents = [], []
    for mid, terr, at, label, lang, extra in rows:
        msgs.append(_msg(mid, terr, at, extra.pop("text", f"message {mid}"), **extra))
        if lang is not None:
            sents.append(_sent(mid, label, lang))
    store.upsert(con, "messages", pd.DataFrame(msgs))
    store.upsert(con, "sentiment", pd.DataFrame(sents))


@pytest.fixture()
def tiny(db: Path) -> Path:
    """saint-aubin in March: model 6 pos / 2 neg / 2 neu, one English, one unscored, one official reply;
    m6 corrected positive → negative. February: 2 pos / 6 neg / 2 neu. Peer port-marel in March: 8 / 1 / 1."""
    d = datetime(2026, 3, 10, 12)
    rows = [(f"m{i}", "saint-aubin", d, "positive", "fr", {}) for i in range(1, 7)]
    rows += [("m7", "saint-aubin", d, "negative", "fr", {"likes": 12, "text": "Scandale, l'eau est imbuvable"}),
             ("m8", "saint-aubin", d, "negative", "fr", {"likes": 1, "text": "Scandale, l'eau est imbuvable !!"}),
             ("m9", "saint-aubin", d, "neutral", "fr", {}), ("m10", "saint-aubin", d, "neutral", "fr", {}),
             ("m11", "saint-aubin", d, None, "en", {"text": "The water is awful"}),
             ("m12", "saint-aubin", d, None, None, {}),
             ("m13", "saint-aubin", d, "positive", "fr", {"is_official": True})]
    feb = datetime(2026, 2, 10, 12)
    rows += [(f"f{i}", "saint-aubin", feb, lab, "fr", {})
             for i, lab in enumerate(["positive"] * 2 + ["negative"] * 6 + ["neutral"] * 2)]
    rows += [(f"p{i}", "port-marel", d, lab, "fr", {})
             for i, lab in enumerate(["positive"] * 8 + ["negative"] + ["neutral"])]
    with derived_refresh.writer(db) as con:
        store.upsert(con, "territories", pd.DataFrame([
            {"territory_id": "saint-aubin", "name": "Saint-Aubin-sur-Loire", "kind": "own", "peers": ["port-marel"]},
            {"territory_id": "port-marel", "name": "Port-Marel", "kind": "peer", "peers": []}]))
        _fill(con, rows)
        correct(con, "facebook:m6", "message", "negative", author="analyste-test")
    return db


def test_counts_metrics_and_wilson_by_hand(tiny):
    with store.reader(tiny) as con:
        k = er.kpis(con, MARCH)
    # official reply excluded; English and unscored counted apart, never in shares
    assert (k["messages"], k["positive"], k["negative"], k["neutral"]) == (12, 5, 3, 2)
    assert (k["scored"], k["non_french"], k["unscored"]) == (10, 1, 1)
    assert k["net_sentiment"] == pytest.approx(0.25)          # (5 − 3) ÷ 8
    assert k["net_sentiment_all"] == pytest.approx(0.2)       # (5 − 3) ÷ 10
    assert k["negative_share"] == pytest.approx(0.3)          # 3 ÷ 10
    # Wilson 3/10, z = 1.96: (0.3 + 0.1921 ± 1.96·√(0.021 + 0.0096)) ÷ 1.3841
    assert (k["negative_share_lo"], k["negative_share_hi"]) == pytest.approx((0.10779, 0.60322), abs=1e-5)
    # Wilson of 5/8 = (0.30574, 0.86316) mapped by 2x − 1
    assert (k["net_sentiment_lo"], k["net_sentiment_hi"]) == pytest.approx((-0.38852, 0.72631), abs=1e-5)
    # multinomial: se = √((0.5 + 0.3 − 0.2²) ÷ 10) = 0.27568; 0.2 ± 1.96 × se
    assert (k["net_sentiment_all_lo"], k["net_sentiment_all_hi"]) == pytest.approx((-0.34032, 0.74032), abs=1e-5)


def test_vectorised_intervals_equal_the_scalar_formulas():
    p, n, u = np.array([5, 0, 40, 0]), np.array([3, 0, 7, 2]), np.array([2, 0, 13, 0])
    v = metrics.sentiment_intervals(p, n, u)
    for i in (0, 2, 3):
        assert (v["negative_share_lo"][i], v["negative_share_hi"][i]) == pytest.approx(
            metrics.wilson_interval(n[i], p[i] + n[i] + u[i]))
        assert (v["net_sentiment_lo"][i], v["net_sentiment_hi"][i]) == pytest.approx(
            metrics.net_sentiment_interval(p[i], n[i]))
        assert (v["net_sentiment_all_lo"][i], v["net_sentiment_all_hi"][i]) == pytest.approx(
            metrics.net_sentiment_all_interval(p[i], n[i], u[i]))
    assert np.isnan(v["net_sentiment"][1]) and np.isnan(v["negative_share_lo"][1])  # nothing scored: undefined


def test_correction_overrides_model_label(tiny):
    with derived_refresh.writer(tiny) as con:
        correct(con, "facebook:m7", "message", "positive", author="analyste-test")
        k = er.kpis(con, MARCH)
        assert (k["positive"], k["negative"]) == (6, 2)
        info = er.message_sentiment(con, "facebook:m7")
        assert info["sentiment"] == "positive" and info["model_label"] == "negative" and info["corrected"]
        # a correction of a message the model left unscored (English) counts: the analyst read it
        correct(con, "facebook:m11", "message", "negative", author="analyste-test")
        k = er.kpis(con, MARCH)
        assert (k["negative"], k["non_french"], k["scored"]) == (3, 0, 11)


def test_breakdowns_by_period_platform_and_post(tiny):
    with store.reader(tiny) as con:
        t = er.sentiment_table(con, Filters(territories=("saint-aubin",)), by=("territory_id",), freq="month")
        by_post = er.sentiment_table(con, MARCH, by=("post_id", "platform"))
    assert [d.strftime("%Y-%m") for d in t["period"]] == ["2026-02", "2026-03"]
    assert t["negative"].tolist() == [6, 3] and t["net_sentiment"].tolist() == pytest.approx([-0.5, 0.25])
    assert by_post[["post_id", "platform", "scored"]].values.tolist() == [["facebook:p1", "facebook", 10]]
    with pytest.raises(ValueError, match="Dimension inconnue"):
        er.sentiment_table(con, MARCH, by=("author_hash",))


def test_change_vs_previous_period_with_newcombe_interval(tiny):
    with store.reader(tiny) as con:
        ch = er.change_vs_previous(con, Filters(territories=("saint-aubin",), start=date(2026, 3, 1),
                                                end=date(2026, 3, 29))).set_index("metric")
    # previous 28 days = 1–28 Feb: 2 pos, 6 neg, 2 neu
    assert ch.loc["messages", "current"] == 12 and ch.loc["messages", "reference"] == 10
    assert ch.loc["messages", "change"] == pytest.approx(0.2)
    assert ch.loc["negative_share", "change"] == pytest.approx(0.3 - 0.6)
    # Newcombe: lower = −0.3 − √((0.3 − 0.10779)² + (0.83182 − 0.6)²)
    lo = -0.3 - ((0.3 - 0.107791) ** 2 + (0.831820 - 0.6) ** 2) ** 0.5
    hi = -0.3 + ((0.603222 - 0.3) ** 2 + (0.6 - 0.312674) ** 2) ** 0.5
    assert (ch.loc["negative_share", "change_lo"], ch.loc["negative_share", "change_hi"]) == pytest.approx(
        (lo, hi), abs=1e-5)
    assert ch.loc["net_sentiment", "change"] == pytest.approx(0.25 - (-0.5))
    assert not ch.loc["negative_share", "significant"]  # 10 messages each: the interval crosses 0


def test_peer_comparison_same_period(tiny):
    with store.reader(tiny) as con:
        pc = er.peer_comparison(con, MARCH).set_index("territory_id")
        vp = er.vs_peers(con, MARCH).set_index("metric")
    assert pc.loc["saint-aubin", "role"] == "focus" and pc.loc["port-marel", "role"] == "peer"
    assert pc.loc["port-marel", "net_sentiment"] == pytest.approx(7 / 9)
    assert pc.loc["port-marel", "diff_net_sentiment"] == pytest.approx(0.25 - 7 / 9)
    assert pd.isna(pc.loc["saint-aubin", "diff_net_sentiment"])
    assert pc.loc["(pairs)", "scored"] == 10
    assert vp.loc["negative_share", "change"] == pytest.approx(0.3 - 0.1)


def test_representative_messages_dedupe_and_hide_authors(tiny):
    with store.reader(tiny) as con:
        neg = er.representative_messages(con, MARCH, "negative", n=5)
        pos = er.representative_messages(con, MARCH, "positive", n=10)
    # m7 and m8 say the same words: shown once, the engaged one; m6 is a correction (confidence 1)
    assert neg["message_id"].tolist()[:2] == ["facebook:m7", "facebook:m6"]
    assert "facebook:m8" not in set(neg["message_id"])
    assert not {"author_hash", "author_name"} & set(neg.columns)
    # 5 positive messages, but m1..m5 have the same words once digits are dropped: one shown
    assert len(pos) == 1 and pos["confidence"].iloc[0] == pytest.approx(0.9)


def test_messages_for_review_skip_a_message_deleted_since_it_was_scored(tiny):
    """A message its author deleted keeps its score (aggregates) but has no text left: nothing to
    read, so it is not offered for correction."""
    with store.reader(tiny) as con:
        before = er.messages_for_review(con, MARCH)["message_id"].tolist()
    assert "facebook:m9" in before
    with derived_refresh.writer(tiny) as con:
        con.execute("UPDATE messages SET deleted_at = TIMESTAMP '2026-03-11 08:00', text = NULL "
                    "WHERE message_id = 'facebook:m9'")
    with store.reader(tiny) as con:
        after = er.messages_for_review(con, MARCH)["message_id"].tolist()
    assert after == [m for m in before if m != "facebook:m9"]


# ------------------------------------------------------------------------------ spikes
def _series(neg: list[int], scored: list[int], start: str = "2026-01-05") -> pd.DataFrame:
    return pd.DataFrame({"period": pd.date_range(start, periods=len(neg), freq="D"),
                         "messages": scored, "negative": neg, "scored": scored})


def test_spike_detection_on_a_synthetic_series():
    rng = np.random.default_rng(0)
    days = 84
    scored = np.where(np.arange(days) % 7 >= 5, 60, 30)          # busy weekends: the weekly season
    neg = rng.binomial(scored, 0.1)
    neg[70:73] = [30, 35, 28]                                      # a crisis: 3 days
    scored[70:73] += 40
    neg[60], scored[60] = 60, 600                                  # a popular post: 10× volume, usual share
    s = er.score_series(_series(neg.tolist(), scored.tolist()), "day")
    flagged = s.index[s["anomalous"]].tolist()
    assert flagged == [70, 71, 72]
    assert s.loc[60, "p_value"] < 1e-4 and not s.loc[60, "anomalous"]   # count up, share not
    assert s["expected"].iloc[:28].isna().all()                     # < 4 weeks of same weekday: no judgement
    assert s.loc[70, "baseline_share"] == pytest.approx(0.1, abs=0.03)


def test_weekly_season_keeps_busy_weekdays_quiet():
    # Saturdays always carry 25 negative messages of 100, weekdays 3 of 30: no spike on Saturdays.
    days = 70
    neg = [25 if d % 7 == 5 else 3 for d in range(days)]
    scored = [100 if d % 7 == 5 else 30 for d in range(days)]
    s = er.score_series(_series(neg, scored), "day")
    assert not s["anomalous"].any()


def test_detect_spikes_end_to_end_with_messages_and_terms(db):
    start = datetime(2026, 1, 5, 10)
    rows = []
    for d in range(70):
        day = start + timedelta(days=d)
        crisis = 56 <= d <= 58
        for i in range(12):
            label = "negative" if i < 2 else ("positive" if i < 8 else "neutral")
            rows.append((f"d{d}-{i}", "saint-aubin", day + timedelta(minutes=i), label, "fr",
                         {"text": f"Le marché du samedi {'super' if label == 'positive' else 'bof'} {i}"}))
        if crisis:
            for i in range(20):
                rows.append((f"c{d}-{i}", "saint-aubin", day + timedelta(minutes=30 + i), "negative", "fr",
                             {"text": f"Coupure d'eau encore, eau marron au robinet rue {'abcdefghijklmnopqrst'[i] * 3}",
                              "likes": i}))
    with derived_refresh.writer(db) as con:
        store.upsert(con, "territories", pd.DataFrame([{"territory_id": "saint-aubin", "kind": "own",
                                                        "name": "Saint-Aubin", "peers": []}]))
        _fill(con, rows)
    f = Filters(territories=("saint-aubin",), start=date(2026, 2, 16), end=date(2026, 3, 16))
    with store.reader(db) as con:
        spikes = er.detect_spikes(con, f)
        assert [(s.start, s.end) for s in spikes] == [(date(2026, 3, 2), date(2026, 3, 4))]
        sp = er.explain_spike(con, spikes[0], n_messages=3)
    assert sp.negative == 66 and sp.expected == pytest.approx(6.0)
    assert sp.details["most_engaged"]["likes"].tolist() == [19, 18, 17]
    assert sp.details["most_negative"]["text"].str.contains("eau").all()
    assert {"author_hash", "author_name"}.isdisjoint(sp.details["most_negative"].columns)
    top = sp.details["terms"]["term"].tolist()[:3]
    assert any("eau" in t or "coupure" in t or "robinet" in t for t in top), top
    assert er.spikes_table(spikes)["negative"].tolist() == [66]


# ------------------------------------------------------------------------------ demo store
def test_demo_crisis_is_a_negative_spike_on_the_right_dates(demo_db):
    from analysis.demo import ground_truth

    truth = ground_truth(demo_db)["crisis"]
    terr = truth["territory_id"]
    c_start, c_end = date.fromisoformat(truth["start"]), date.fromisoformat(truth["end"])
    with store.reader(demo_db) as con:
        lo, hi = con.execute("SELECT min(created_at)::DATE, max(created_at)::DATE FROM messages").fetchone()
        # the whole demo period after the first baseline weeks, every territory
        f = Filters(start=lo + timedelta(weeks=9), end=hi + timedelta(days=1))
        spikes = er.detect_spikes(con, f)
    own = [s for s in spikes if s.territory_id == terr]
    hits = [s for s in own if s.start <= c_end and s.end >= c_start]
    assert len(hits) == 1, er.spikes_table(spikes)
    s = hits[0]
    assert abs((s.start - c_start).days) <= 1 and abs((s.end - c_end).days) <= 2, s.as_dict()
    assert c_start <= s.peak <= c_end
    # nothing else fires anywhere in two years of five territories
    assert len(spikes) == 1, er.spikes_table(spikes)


def test_cli_summary_and_spikes_json(tiny):
    import json

    from typer.testing import CliRunner

    from analysis.cli import app

    r = CliRunner().invoke(app, ["--db", str(tiny), "ereputation", "summary", "--territory", "saint-aubin",
                                 "--since", "2026-03-01", "--until", "2026-04-01", "--json"])
    assert r.exit_code == 0, r.output
    out = json.loads(r.output)
    assert out["kpis"]["messages"] == 12 and out["kpis"]["negative_share"] == pytest.approx(0.3)
    vp = {row["metric"]: row for row in out["vs_peers"]}
    assert vp["net_sentiment"]["change"] == pytest.approx(0.25 - 7 / 9)
    r = CliRunner().invoke(app, ["--db", str(tiny), "ereputation", "spikes", "--json"])
    assert r.exit_code == 0, r.output
    assert json.loads(r.output)["spikes"] == []  # two months of data: no baseline, no spike
    r = CliRunner().invoke(app, ["--db", str(tiny), "ereputation", "spikes", "--territory", "nulle-part"])
    assert r.exit_code != 0 and "territoire inconnu" in r.output
