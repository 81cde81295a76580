"""Benchmark against peer territories, rank intervals and the campaigns part of the periodic report."""

from __future__ import annotations

from datetime import date, timedelta
from typing import Any

import duckdb
import numpy as np
import pandas as pd

from analysis import metrics
from analysis.campaigns.effects import _block_indices, _ratio, daily_panel, evaluate
from analysis.campaigns.model import _has_rows, daily_messages_current, list_campaigns
from analysis.moderation.responsiveness import response_by_territory
from analysis.territories import peers_of


# ================================================================================ benchmark
def _followers_at(con: duckdb.DuckDBPyConnection, end: date, platforms: tuple[str, ...] = ()) -> pd.DataFrame:
    """Followers per territory on the last known day before ``end`` (sum of official accounts, of
    ``platforms`` only when given).

    Falls back to the ``followers_at_posting`` of the account's latest post before ``end`` (of two
    posts at the same instant, the greater id) when its follower series is absent; an account with
    neither contributes nothing (not zero)."""
    e = pd.Timestamp(end).to_pydatetime()
    plat = f"AND platform IN ({', '.join('?' for _ in platforms)})" if platforms else ""
    return con.execute(
        f"""
        WITH acc AS (SELECT account_id, territory_id FROM accounts
                     WHERE official AND territory_id IS NOT NULL {plat}),
        f AS (SELECT account_id, arg_max(followers, date) AS followers FROM audience_followers
              WHERE date < ?::DATE AND followers IS NOT NULL GROUP BY account_id),
        p AS (SELECT account_id, arg_max(followers_at_posting, {{t: created_at, id: post_id}}) AS followers FROM posts
              WHERE created_at < ? AND followers_at_posting IS NOT NULL GROUP BY account_id)
        SELECT acc.territory_id, sum(coalesce(f.followers, p.followers)) AS followers
        FROM acc LEFT JOIN f USING (account_id) LEFT JOIN p USING (account_id)
        GROUP BY acc.territory_id
        """, [*platforms, e, e]).df()


def message_totals(con: duckdb.DuckDBPyConnection, territories: list[str], start: date, end: date,
                    platforms: tuple[str, ...] = ()) -> pd.DataFrame:
    """Per territory over [start, end) (on ``platforms`` only when given): incoming messages,
    positive and negative ones (analyst labels first), as floats; 0 for a territory without
    messages. Without a platform filter, the sums of :func:`daily_panel`'s ``messages``, ``pos``,
    ``neg`` without building the daily panel."""
    cols = ["territory_id", "messages", "pos", "neg"]
    if not territories or start >= end:  # the daily panel has no day then: nothing, not 0
        return pd.DataFrame(columns=cols)
    has_sent = _has_rows(con, "sentiment")
    label = "coalesce(l.value, s.label)" if has_sent else "NULL"
    sent_join = ("LEFT JOIN (SELECT item_id, label FROM sentiment WHERE item_type = 'message' "
                 "AND label IN ('positive', 'negative')) s ON s.item_id = m.message_id "
                 "LEFT JOIN labels l ON l.item_id = m.message_id AND l.item_type = 'message' AND l.task = 'sentiment'"
                 if has_sent else "")
    t_list = ", ".join("?" for _ in territories)
    plat = f"AND m.platform IN ({', '.join('?' for _ in platforms)})" if platforms else ""
    if daily_messages_current(con, start, end):  # the same counts summed from the derived table (whole UTC days)
        pos, neg = ("sum(positive)", "sum(negative)") if has_sent else ("0", "0")
        got = con.execute(f"""
            SELECT m.territory_id, sum(m.messages) AS messages, {pos} AS pos, {neg} AS neg
            FROM daily_messages_utc m WHERE m.territory_id IN ({t_list}) AND m.day >= ? AND m.day < ? {plat}
            GROUP BY 1""", [*territories, start, end, *platforms]).df()
    else:
        got = con.execute(f"""
        SELECT m.territory_id, count(*) AS messages,
               count(*) FILTER (WHERE {label} = 'positive') AS pos,
               count(*) FILTER (WHERE {label} = 'negative') AS neg
        FROM messages m {sent_join}
        WHERE m.territory_id IN ({t_list}) AND NOT coalesce(m.is_official, FALSE)
          AND m.created_at >= ? AND m.created_at < ? {plat}
        GROUP BY 1""", [*territories, pd.Timestamp(start).to_pydatetime(), pd.Timestamp(end).to_pydatetime(),
                            *platforms]).df()
    out = pd.DataFrame({"territory_id": list(dict.fromkeys(territories))}).merge(got, on="territory_id", how="left")
    for c in ("messages", "pos", "neg"):
        out[c] = pd.to_numeric(out[c]).astype("float64").fillna(0.0)
    return out[cols]


def benchmark(con: duckdb.DuckDBPyConnection, start: date, end: date, territories: list[str] | None = None,
              platforms: tuple[str, ...] = ()) -> pd.DataFrame:
    """Territories side by side over [start, end): volumes, engagement normalised per post, per 1,000
    followers and per 1,000 inhabitants, share of voice, net sentiment and responsiveness; every
    column on ``platforms`` only when given (posts, followers, messages and replies alike)."""
    ter = con.execute("SELECT territory_id, name, kind, population, peer_group FROM territories").df()
    if territories:
        ter = ter[ter["territory_id"].isin(territories)]
    ids = ter["territory_id"].tolist()
    k = metrics.territory_kpis(con, start, end, ids, platforms)
    days = (pd.Timestamp(end) - pd.Timestamp(start)).days
    agg = message_totals(con, ids, start, end, platforms)
    df = (ter.merge(k, on="territory_id", how="left")
          .merge(_followers_at(con, end, platforms), on="territory_id", how="left")
          .merge(agg, on="territory_id", how="left")
          .merge(response_by_territory(con, start, end, territories=ids, platforms=platforms), on="territory_id", how="left"))
    df["engagement_per_1000_followers"] = [metrics.per_1000(e, f) for e, f in zip(df["engagement"], df["followers"], strict=True)]
    df["engagement_per_1000_inhabitants"] = [metrics.per_1000_inhabitants(e, p) for e, p in zip(df["engagement"], df["population"], strict=True)]
    df["posts_per_week"] = [metrics.posting_frequency(n, days) for n in df["posts"]]
    sov_m = metrics.share_of_voice_table(dict(zip(df["territory_id"], df["messages"], strict=True)))
    sov_e = metrics.share_of_voice_table(dict(zip(df["territory_id"], df["engagement"], strict=True)))
    df["sov_mentions"] = df["territory_id"].map(sov_m)
    df["sov_engagement"] = df["territory_id"].map(sov_e)
    df["net_sentiment"] = [metrics.net_sentiment(p, n) if (p or 0) + (n or 0) > 0 else None
                           for p, n in zip(df["pos"], df["neg"], strict=True)]
    order = {"own": 0}
    return df.sort_values(["kind", "name"], key=lambda s: s.map(order).fillna(1) if s.name == "kind" else s) \
             .reset_index(drop=True)


RANK_METRICS = {
    "engagement_per_post": ("eng", "eng_posts"),
    "engagement_per_1000_inhabitants": ("eng", None),
    "engagement_per_1000_followers": ("eng", None),
    "posts_per_week": ("posts", None),
}


def rank_intervals(con: duckdb.DuckDBPyConnection, start: date, end: date, metric: str = "engagement_per_post",
                   territories: list[str] | None = None, n_boot: int = 1000, seed: int = 0,
                   block_days: int = 7) -> pd.DataFrame:
    """Rank of each territory (1 = best) with a 95 % bootstrap interval (days resampled in blocks,
    jointly for all territories). A territory whose interval overlaps another's cannot be said
    to be ahead of it."""
    if metric not in RANK_METRICS:
        raise KeyError(f"Indicateur de classement inconnu : {metric} (choix : {', '.join(RANK_METRICS)}).")
    ter = con.execute("SELECT territory_id, name, population FROM territories ORDER BY territory_id").df()
    if territories:
        ter = ter[ter["territory_id"].isin(territories)].reset_index(drop=True)
    ids = ter["territory_id"].tolist()
    panel = daily_panel(con, ids, start, end - timedelta(days=1))
    num_col, den_col = RANK_METRICS[metric]
    num = panel.pivot(index="date", columns="territory_id", values=num_col)[ids].to_numpy(float)
    n_days = num.shape[0]
    if den_col:
        den = panel.pivot(index="date", columns="territory_id", values=den_col)[ids].to_numpy(float)
        scale = np.ones(len(ids))
    else:
        den = np.ones_like(num)
        if metric == "engagement_per_1000_inhabitants":
            pop = ter["population"].to_numpy(float)
            scale = 1000 * n_days / pop
        elif metric == "engagement_per_1000_followers":
            f = _followers_at(con, end).set_index("territory_id")["followers"].reindex(ids).to_numpy(float)
            scale = 1000 * n_days / f
        else:
            scale = np.full(len(ids), 7.0)  # posts per week
    point = _ratio(num.sum(0), den.sum(0)) * scale
    rng = np.random.default_rng(seed)
    idx = _block_indices(rng, n_days, block_days, n_boot)
    b = _ratio(num[idx].sum(1), den[idx].sum(1)) * scale[None, :]
    b = np.where(np.isfinite(b), b, -np.inf)  # an undefined value ranks last
    ranks = (-b).argsort(1).argsort(1) + 1
    pr = pd.Series(np.where(np.isfinite(point), point, -np.inf)).rank(ascending=False, method="min").astype(int)
    out = pd.DataFrame({
        "territory_id": ids, "name": ter["name"], "value": np.where(np.isfinite(point), point, np.nan),
        "low": np.nanpercentile(np.where(np.isfinite(b), b, np.nan), 2.5, axis=0),
        "high": np.nanpercentile(np.where(np.isfinite(b), b, np.nan), 97.5, axis=0),
        "rank": pr.to_numpy(), "rank_low": np.percentile(ranks, 2.5, axis=0).round().astype(int),
        "rank_high": np.percentile(ranks, 97.5, axis=0).round().astype(int),
        "p_first": (ranks == 1).mean(0),
    })
    return out.sort_values("rank").reset_index(drop=True)


def peer_groups(con: duckdb.DuckDBPyConnection) -> pd.DataFrame:
    """Territories by peer group (size class) with population, own territory flagged."""
    return con.execute(
        "SELECT peer_group, territory_id, name, population, kind FROM territories "
        "ORDER BY peer_group, population DESC").df()


# ================================================================================ report
def ranking_sentence(r: pd.DataFrame, territory_id: str, names: dict[str, str], what: str) -> str:
    """« Saint-Aubin est 2e sur 5 pour l'engagement par publication (entre la 2e et la 3e place, IC 95 %). »"""
    if territory_id not in set(r["territory_id"]):
        return ""
    x = r.set_index("territory_id").loc[territory_id]

    def nth(k: int) -> str:
        return "1re" if k == 1 else f"{k}e"

    s = f"{names.get(territory_id, territory_id)} est {nth(int(x['rank']))} sur {len(r)} pour {what}"
    if x["rank_low"] == x["rank_high"]:
        return s + " (place sûre à 95 %)."
    return s + f" (entre la {nth(int(x['rank_low']))} et la {nth(int(x['rank_high']))} place, IC 95\u00a0%)."


def report_section(con: duckdb.DuckDBPyConnection, f: Any, visible: tuple[str, ...] = ()) -> dict[str, Any]:
    """Campaign and benchmark figures for the periodic report (aggregates only, French texts ready).

    ``visible``: the territories the report's reader may see (``analysis.access``; empty: all); the
    benchmark and the ranking then compare with those of :func:`peers_of` only.

    Keys: ``territory_id``, ``metrics_version``, ``formulas`` (French formula lines),
    ``campaigns`` (each campaign of the territory overlapping the period: dates, verdict, effect
    and 95 % interval against the peers), ``benchmark`` (territory and peers side by side),
    ``ranking`` (engagement per 1,000 inhabitants with rank intervals) and ``ranking_sentence``.
    """
    ter = con.execute("SELECT territory_id, name, kind FROM territories").df()
    names = dict(zip(ter["territory_id"], ter["name"], strict=True))
    own = list(f.territories[:1]) or ter.loc[ter["kind"] == "own", "territory_id"].tolist()[:1]
    t = own[0] if own else None
    out: dict[str, Any] = {"territory_id": t, "metrics_version": metrics.METRICS_VERSION,
                           "formulas": [metrics.formula_text(k) for k in (
                               "engagement", "engagement_per_post", "per_1000_inhabitants", "sov_mentions",
                               "response_rate")],
                           "campaigns": [], "benchmark": [], "ranking": [], "ranking_sentence": ""}
    if t is None or f.start is None or f.end is None:
        return out
    for c in list_campaigns(con):
        if c.territory_id != t or c.end_date < f.start or c.start_date >= f.end:
            continue
        ev = evaluate(con, c, ["engagement_per_post"], n_boot=1000, seed=0)
        r = ev.results[0]
        main = r.did if r.did is not None and r.did.estimate is not None else r.before_after
        out["campaigns"].append({
            "campaign_id": c.campaign_id, "name": c.name, "start": c.start_date, "end": c.end_date,
            "verdict": r.verdict, "basis": r.basis, "warnings": ev.warnings, "effect": main.estimate, "low": main.low, "high": main.high,
            "significant": main.significant, "vs_peers": main is r.did, "effect_fr": main.fr(),
            "ongoing": c.end_date >= f.end,
        })
    ids = [t, *(p for p in peers_of(con, t) if not visible or p in visible)]
    b = benchmark(con, f.start, f.end, ids)
    cols = ["territory_id", "name", "peer_group", "posts", "posts_per_week", "engagement_per_post",
            "engagement_per_1000_followers", "engagement_per_1000_inhabitants", "sov_mentions", "sov_engagement",
            "net_sentiment", "response_rate", "median_response_hours"]
    out["benchmark"] = b[cols].astype(object).where(b[cols].notna(), None).to_dict(orient="records")
    r = rank_intervals(con, f.start, f.end, "engagement_per_1000_inhabitants", ids, n_boot=1000, seed=0)
    out["ranking"] = r.astype(object).where(r.notna(), None).to_dict(orient="records")
    out["ranking_sentence"] = ranking_sentence(r, t, names, "l'engagement pour 1 000 habitants")
    return out
