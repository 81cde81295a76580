"""E-reputation query shapes kept fast at 1 M messages: local-day bounds read on the UTC column,
periods bucketed per hour, pooled figures summed from one grouped scan, the representative
messages found among the best-scored candidates, distinct texts tokenised once."""

from __future__ import annotations

from datetime import date, datetime, timedelta
from pathlib import Path

import pandas as pd
import pytest

from analysis import derived_refresh, store
from analysis import ereputation as er
from analysis.queries import Filters

TERRITORIES = pd.DataFrame([
    {"territory_id": "saint-aubin", "name": "Saint-Aubin-sur-Loire", "kind": "own", "peers": ["port-marel"]},
    {"territory_id": "port-marel", "name": "Port-Marel", "kind": "peer", "peers": []}])
PROBS = {"positive": (0.05, 0.05, 0.9), "negative": (0.85, 0.1, 0.05), "neutral": (0.1, 0.8, 0.1)}


def _write(db: Path, rows: list[dict]) -> None:
    """rows: message_id (native), territory, created_at (naive UTC), label, optional text / likes."""
    msgs, sents = [], []
    for r in rows:
        mid = f"facebook:{r['id']}"
        msgs.append({"message_id": mid, "platform": "facebook", "kind": "comment", "post_id": "facebook:p1",
                     "account_id": f"facebook:{r['terr']}", "territory_id": r["terr"], "author_hash": "h",
                     "is_official": False, "created_at": r["at"], "text": r.get("text", f"message {r['id']}"),
                     "likes": r.get("likes", 0), "replies": 0})
        p = PROBS[r["label"]]
        sents.append({"item_id": mid, "item_type": "message", "model_version": "test", "lang": "fr",
                      "label": r["label"], "p_negative": p[0], "p_neutral": p[1], "p_positive": p[2]})
    with derived_refresh.writer(db) as con:
        store.upsert(con, "territories", TERRITORIES)
        store.upsert(con, "messages", pd.DataFrame(msgs))
        store.upsert(con, "sentiment", pd.DataFrame(sents))


def test_periods_are_french_local_days_across_month_ends_and_daylight_saving(db):
    # UTC timestamps; Paris is UTC+1 until 29 March 2026 01:00 UTC, then UTC+2.
    at = {"feb_last": datetime(2026, 2, 28, 22, 59),   # 23:59 on 28 Feb in Paris → February
          "mar_first": datetime(2026, 2, 28, 23, 0),   # 00:00 on 1 March → March
          "monday": datetime(2026, 3, 22, 23, 30),     # 00:30 on Monday 23 March → week of the 23rd
          "dst_night": datetime(2026, 3, 29, 0, 30),   # 01:30 on 29 March (winter time still)
          "mar_last": datetime(2026, 3, 31, 21, 59),   # 23:59 on 31 March (summer time) → March
          "apr_first": datetime(2026, 3, 31, 22, 0)}   # 00:00 on 1 April → April
    _write(db, [{"id": k, "terr": "saint-aubin", "at": v, "label": "negative"} for k, v in at.items()])
    march = Filters(territories=("saint-aubin",), start=date(2026, 3, 1), end=date(2026, 4, 1))
    with store.reader(db) as con:
        assert er.kpis(con, march)["messages"] == 4
        days = er.sentiment_table(con, march, by=(), freq="day")
        weeks = er.sentiment_table(con, Filters(territories=("saint-aubin",)), by=(), freq="week")
        months = er.sentiment_table(con, Filters(territories=("saint-aubin",)), by=(), freq="month")
        shown = er.representative_messages(con, march, "negative", n=10)
    assert days["period"].dt.strftime("%d/%m").tolist() == ["01/03", "23/03", "29/03", "31/03"]
    assert weeks["period"].dt.strftime("%d/%m").tolist() == ["23/02", "23/03", "30/03"]
    assert weeks["messages"].tolist() == [2, 2, 2]
    assert months["messages"].tolist() == [1, 4, 1]
    # times shown in local time
    assert shown.set_index("message_id").loc["facebook:mar_last", "local_at"] == pd.Timestamp(2026, 3, 31, 23, 59)


def test_pooled_comparisons_equal_separate_selections(db):
    day = datetime(2026, 3, 10, 12)
    rows = [{"id": f"s{i}", "terr": "saint-aubin", "at": day, "label": lab}
            for i, lab in enumerate(["positive"] * 5 + ["negative"] * 3 + ["neutral"] * 2)]
    rows += [{"id": f"b{i}", "terr": "saint-aubin", "at": day - timedelta(days=31), "label": lab}
             for i, lab in enumerate(["positive"] * 2 + ["negative"] * 6)]
    rows += [{"id": f"p{i}", "terr": "port-marel", "at": day, "label": lab}
             for i, lab in enumerate(["positive"] * 7 + ["negative"] * 1)]
    _write(db, rows)
    f = Filters(start=date(2026, 3, 1), end=date(2026, 4, 1))
    with store.reader(db) as con:
        ours = er.kpis(con, f.with_territories(("saint-aubin",)))
        theirs = er.kpis(con, f.with_territories(("port-marel",)))
        before = er.kpis(con, Filters(territories=("saint-aubin",), start=date(2026, 1, 29), end=date(2026, 3, 1)))
        vs = er.vs_peers(con, f)
        change = er.focus_change(con, f)
        pc = er.peer_comparison(con, f).set_index("territory_id")
        tr = er.trend(con, f, freq="month")
    pd.testing.assert_frame_equal(vs, er.compare(ours, theirs))
    pd.testing.assert_frame_equal(change, er.compare(ours, before))
    assert (ours["positive"], ours["negative"], before["negative"], theirs["positive"]) == (5, 3, 6, 7)
    assert pc.loc["(pairs)", "messages"] == 8 and pc.loc["(pairs)", "net_sentiment"] == pytest.approx(0.75)
    assert pc.loc["port-marel", "diff_net_sentiment"] == pytest.approx(0.25 - 0.75)
    assert tr[["series", "messages", "negative"]].values.tolist() == [["focus", 10, 3], ["peers", 8, 1]]


def test_representative_messages_look_past_a_top_made_of_copies(db):
    # 260 copies of one text outscore everything: the 250 best candidates (50 × n) hold one
    # distinct text, so the search goes on over all candidates to find the n = 5 asked for.
    day = datetime(2026, 3, 10, 12)
    rows = [{"id": f"c{i:03d}", "terr": "saint-aubin", "at": day, "label": "positive", "text": "Bravo la mairie !",
             "likes": 100} for i in range(260)]
    rows += [{"id": f"o{i}", "terr": "saint-aubin", "at": day, "label": "positive", "text": f"Merci pour {w}",
              "likes": 10 - i} for i, w in enumerate(["le marché", "la fête", "les travaux", "le parc", "la piscine"])]
    _write(db, rows)
    f = Filters(territories=("saint-aubin",), start=date(2026, 3, 1), end=date(2026, 4, 1))
    with store.reader(db) as con:
        five = er.representative_messages(con, f, "positive", n=5)
        two = er.representative_messages(con, f, "positive", n=2)
    assert five["text"].tolist() == ["Bravo la mairie !", "Merci pour le marché", "Merci pour la fête",
                                     "Merci pour les travaux", "Merci pour le parc"]
    assert five["message_id"].iloc[0] == "facebook:c000"  # equal scores: the smallest id
    assert two["text"].tolist() == ["Bravo la mairie !", "Merci pour le marché"]


def test_distinctive_terms_count_copies_of_a_text_as_documents():
    target = ["Coupure d'eau rue Haute"] * 6 + ["Eau marron ce matin"] * 2 + [None, ""]
    reference = ["Le marché du samedi"] * 20 + ["Eau chaude à la piscine"]
    t = er.distinctive_terms(target, reference, n=10, min_count=1)
    # documents containing each term: 6 copies + 2 copies for "eau", one text for none
    assert t[["term", "count"]].values.tolist() == [["eau", 8], ["coupure", 6], ["haute", 6], ["rue", 6],
                                                    ["marron", 2], ["matin", 2]]
    assert t["z"].iloc[1] == pytest.approx(t["z"].iloc[2])  # same documents, same score
    assert er.distinctive_terms(target, reference, n=10, min_count=3)["term"].tolist() == [
        "eau", "coupure", "haute", "rue"]
    assert er.distinctive_terms([], reference).empty


def test_weekly_spike_series_sums_the_daily_one(db):
    start = datetime(2026, 1, 5, 10)
    rows = [{"id": f"d{d}-{i}", "terr": "saint-aubin", "at": start + timedelta(days=d, minutes=i),
             "label": "negative" if i < 2 + (d % 3) else "positive"} for d in range(70) for i in range(8)]
    _write(db, rows)
    f = Filters(territories=("saint-aubin",), start=date(2026, 2, 16), end=date(2026, 3, 16))
    with store.reader(db) as con:
        day = er.negative_series(con, f, "day")
        week = er.negative_series(con, f, "week")
    assert week["period"].dt.day_of_week.eq(0).all()
    monday = day["period"] - pd.to_timedelta(day["period"].dt.day_of_week, unit="D")
    sums = day.groupby(monday)["negative"].sum()
    assert week.set_index("period")["negative"].to_dict() == {k: v for k, v in sums.items() if k in set(week["period"])}
    # days 42 … 69 after Monday 5 January: 2 + (day mod 3) negatives a day, four ISO weeks
    assert week["negative"].tolist() == [20, 21, 22, 20]
