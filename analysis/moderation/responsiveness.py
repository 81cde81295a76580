"""Responsiveness: response rate and median first-response time, business hours vs the rest."""

from __future__ import annotations

import duckdb
import pandas as pd

from analysis.fmt import fr_num, fr_pct
from analysis.moderation.queue import MESSAGES, first_replies_sql
from analysis.queries import Filters

PARIS = "Europe/Paris"
SLOTS = {"business": "heures ouvrées (lun.–ven. 9 h–18 h)", "off": "soirs et week-ends"}


def slot_of(ts_utc: pd.Series) -> pd.Series:
    """'business' when the UTC time falls Mon–Fri 9:00–17:59 in Europe/Paris, else 'off'."""
    local = pd.to_datetime(ts_utc).dt.tz_localize("UTC").dt.tz_convert(PARIS)
    business = (local.dt.day_of_week < 5) & (local.dt.hour >= 9) & (local.dt.hour < 18)
    return business.map({True: "business", False: "off"})


SCOPES = {"all": "tous les messages reçus", "needs_answer": "questions et messages négatifs",
          "questions": "questions"}


def response_times(con: duckdb.DuckDBPyConnection, f: Filters | None = None,
                   scope: str = "all") -> pd.DataFrame:
    """One row per incoming message under an official account: slot, first reply, delay (hours).

    Incoming = written by someone else than the account (``is_official`` not true) on an
    official account of a territory. ``scope``: ``all`` incoming messages, ``questions``
    (toxicity table's ``is_question``), or ``needs_answer`` (questions or negative sentiment).
    ``visible`` says whether the territory's replies on that
    platform appear in the data at all (some exports carry no replies: unknown, not zero).
    """
    f = f or Filters()
    w, params = f.where("m")
    base = (f"{w} AND NOT coalesce(m.is_official, FALSE) AND m.account_id IN "
            "(SELECT account_id FROM accounts WHERE official)")
    if scope not in SCOPES:
        raise ValueError(f"Périmètre inconnu « {scope} » (attendu : {', '.join(SCOPES)})")
    q_join = {
        "all": "",
        "questions": "JOIN toxicity t ON t.message_id = m.message_id AND t.is_question",
        "needs_answer": "LEFT JOIN toxicity t ON t.message_id = m.message_id "
                        "LEFT JOIN sentiment s ON s.item_id = m.message_id AND s.item_type = 'message'",
    }[scope]
    scope_where = " AND (coalesce(t.is_question, FALSE) OR s.label = 'negative')" if scope == "needs_answer" else ""
    df = con.execute(
        f"""
        WITH fr AS ({first_replies_sql(base)}),
        vis AS (SELECT DISTINCT territory_id, platform FROM {MESSAGES} WHERE is_official)
        SELECT m.message_id, m.territory_id, m.platform, m.created_at, fr.first_reply_at,
               vis.platform IS NOT NULL AS visible
        FROM {MESSAGES} m {q_join}
        LEFT JOIN fr ON fr.message_id = m.message_id
        LEFT JOIN vis ON vis.territory_id = m.territory_id AND vis.platform = m.platform
        WHERE {base}{scope_where}
        """,
        params + params + params,
    ).df()
    df["slot"] = slot_of(df["created_at"]) if len(df) else pd.Series(dtype=str)
    df["delay_hours"] = (pd.to_datetime(df["first_reply_at"]) - pd.to_datetime(df["created_at"])).dt.total_seconds() / 3600
    return df


def summarise(rt: pd.DataFrame, by: tuple[str, ...] = ("territory_id", "platform", "slot")) -> pd.DataFrame:
    """Per group: incoming, answered, response_rate = answered / incoming, median_hours = median
    first-response delay of the answered ones. Both NULL where replies are not visible."""
    cols = list(by) + ["incoming", "answered", "response_rate", "median_hours", "visible"]
    if rt.empty:
        return pd.DataFrame(columns=cols)
    g = rt.groupby(list(by), dropna=False)
    out = g.agg(incoming=("message_id", "size"), answered=("first_reply_at", "count"),
                median_hours=("delay_hours", "median"), visible=("visible", "max")).reset_index()
    out["response_rate"] = out["answered"] / out["incoming"]
    out.loc[~out["visible"].astype(bool), ["response_rate", "median_hours"]] = None
    return out[cols]


def responsiveness(con: duckdb.DuckDBPyConnection, f: Filters | None = None,
                   scope: str = "all") -> pd.DataFrame:
    """Territory × platform × slot (plus an 'all' slot) response rate and median delay."""
    rt = response_times(con, f, scope)
    per_slot = summarise(rt)
    all_slots = summarise(rt.assign(slot="all"))
    return pd.concat([per_slot, all_slots], ignore_index=True).sort_values(
        ["territory_id", "platform", "slot"]).reset_index(drop=True)


def french_table(r: pd.DataFrame, names: dict[str, str] | None = None) -> pd.DataFrame:
    """User-facing French table of :func:`responsiveness`."""
    names = names or {}
    slot_names = {**SLOTS, "all": "toutes heures"}
    return pd.DataFrame({
        "Territoire": r["territory_id"].map(lambda t: names.get(t, t)),
        "Plateforme": r["platform"],
        "Créneau": r["slot"].map(slot_names),
        "Messages reçus": r["incoming"].astype(int),
        "Réponses": r["answered"].astype(int),
        "Taux de réponse": r["response_rate"].map(lambda v: fr_pct(v, 0, missing="non visible")),
        "Délai médian (h)": r["median_hours"].map(lambda v: fr_num(v, 1, missing="—")),
    })
