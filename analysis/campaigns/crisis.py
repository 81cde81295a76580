"""Days a campaign evaluation must not trust: other campaigns, critical alerts, message spikes (crises)."""

from __future__ import annotations

from datetime import date, timedelta

import duckdb
import pandas as pd

from analysis.campaigns.model import Campaign, list_campaigns
from analysis.fmt import fr_date
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


def window_warnings(start: date, end: date, first_day: date | None, last_day: date | None,
                    baseline_start: date | None = None) -> list[str]:
    """French warnings when a campaign's window [start, end] (days included) or its reference
    (from ``baseline_start``) reaches beyond the stored data [first_day, last_day]: a campaign
    ending in the future is measured on its first days only, one starting after the data on none."""
    if last_day is None:
        return ["Aucune donnée n'est importée pour ce territoire : la campagne ne peut pas être évaluée."]
    out = []
    if start > last_day:
        out.append(f"La campagne commence le {fr_date(start)}, après le dernier jour de données "
                   f"({fr_date(last_day)}) : aucun de ses jours n'est encore couvert, elle ne peut pas être évaluée.")
    elif end > last_day:
        n = (end - last_day).days
        out.append(f"La campagne se termine le {fr_date(end)}, après le dernier jour de données ({fr_date(last_day)}) : "
                   f"ses {n} dernier{'s' if n > 1 else ''} jour{'s' if n > 1 else ''} ne sont pas couverts, l'effet "
                   f"porte sur la partie déjà importée (évaluation partielle).")
    if first_day is not None and start < first_day:
        out.append(f"La campagne commence le {fr_date(start)}, avant le premier jour de données "
                   f"({fr_date(first_day)}) : une partie de la campagne n'est pas couverte.")
    elif first_day is not None and baseline_start is not None and baseline_start < first_day <= start:
        out.append(f"La période de référence commence avant le premier jour de données ({fr_date(first_day)}) : "
                   f"elle est plus courte que demandé, l'intervalle est plus large.")
    return out


def crisis_warnings(con: duckdb.DuckDBPyConnection, c: Campaign) -> list[str]:
    """French warnings for the crises inside a campaign's window — the episodes that
    :func:`message_spikes` (the same detector that marks « crise probable ») finds in it: the
    engagement a crisis draws would be credited to the campaign."""
    out = []
    # 8 weeks before the campaign: the detector compares a day with the same weekday of the 8 weeks before
    for a, b, why in message_spikes(con, c.territory_id, c.start_date - timedelta(days=56), c.end_date + timedelta(days=1)):
        if b < c.start_date:
            continue
        a = max(a, c.start_date)
        out.append(f"Du {fr_date(a)} au {fr_date(b)}, pendant la campagne : {why}. Une crise attire commentaires et "
                   "partages : une hausse mesurée sur ces jours peut venir de la crise, pas de la campagne ; "
                   "écartez ces jours (réglages de l'évaluation, `--exclude`) pour vérifier.")
    return out
