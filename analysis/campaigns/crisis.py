"""Days a campaign evaluation must not trust: other campaigns, critical alerts, message spikes (crises)."""

from __future__ import annotations

from datetime import date, timedelta

import duckdb
import pandas as pd

from analysis.campaigns.model import Campaign, list_campaigns
from analysis.moderation.alerts import PARAMS, episodes, seasonal_anomalies


def excluded_periods(con: duckdb.DuckDBPyConnection, c: Campaign,
                     extra: list[tuple[date, date]] | None = None) -> list[tuple[date, date, str]]:
    """Days that must not serve as a baseline: the territory's other campaigns (their boost would
    inflate the reference), its critical alerts and message-volume spikes before the campaign (a
    crisis distorts engagement: its posts draw extra shares and comments) and ``extra``."""
    out = [(pd.Timestamp(a).date(), pd.Timestamp(b).date(), "période exclue à la demande") for a, b in (extra or [])]
    for o in list_campaigns(con):
        if o.campaign_id != c.campaign_id and o.territory_id == c.territory_id:
            out.append((o.start_date, o.end_date, f"campagne « {o.name} »"))
    try:
        # only alerts about the conversation itself: an impersonation alert spans the fake page's
        # whole life (months), which says nothing about the engagement of the official posts
        rows = con.execute("SELECT period_start, period_end, title FROM alerts WHERE territory_id = ? "
                           "AND severity = 'critical' AND period_start IS NOT NULL "
                           "AND rule IN ('negative_spike', 'volume_spike', 'negative_theme', 'hostile_burst')",
                           [c.territory_id]).fetchall()
    except duckdb.Error:
        rows = []
    for a, b, title in rows:
        # alert windows are half-open timestamps: the end instant belongs to the next day
        end = (pd.Timestamp(b) - pd.Timedelta(microseconds=1)).date() if b is not None else pd.Timestamp(a).date()
        out.append((pd.Timestamp(a).date(), end, f"alerte « {title} »"))
    out += message_spikes(con, c.territory_id, c.start_date - timedelta(days=365 + 56), c.start_date)
    return sorted(out)


def message_spikes(con: duckdb.DuckDBPyConnection, territory_id: str, start: date, end: date,
                   min_days: int = 3) -> list[tuple[date, date, str]]:
    """Episodes of unusual message volume for a territory in [start, end) — a crisis, most likely.

    Uses the moderation volume-spike rule (same weekday of the 8 previous weeks, robust z-score)
    even when alerts were never fired into the store; only episodes of at least ``min_days``
    anomalous days count (a single busy day is a popular post, not a crisis). Episodes are merged
    across up to 3 quiet days, which a crisis often has, and extended by a week for its tail.
    """
    df = con.execute(
        "SELECT created_at::DATE AS d, count(*) AS n FROM messages WHERE territory_id = ? "
        "AND NOT coalesce(is_official, FALSE) AND created_at >= ? AND created_at < ? GROUP BY 1",
        [territory_id, pd.Timestamp(start).to_pydatetime(), pd.Timestamp(end).to_pydatetime()]).df()
    if df.empty:
        return []
    idx = pd.date_range(pd.Timestamp(start), pd.Timestamp(end) - pd.Timedelta(days=1), freq="D")
    daily = df.set_index(pd.to_datetime(df["d"]))["n"].reindex(idx, fill_value=0)
    scored = seasonal_anomalies(daily, PARAMS["volume_spike"])
    out = []
    for ep in episodes(scored, max_gap=3):
        if len(ep) >= min_days:
            # the tail of a crisis is calmer than its peak but not normal yet: a week of margin
            out.append((ep.index.min().date(), min(ep.index.max().date() + timedelta(days=7), end - timedelta(days=1)),
                        f"pic inhabituel de messages ({len(ep)} jours anormaux : crise probable)"))
    return out
