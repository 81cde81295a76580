"""Responsiveness — the one module: response rate and median first-response time of the messages
received on official accounts (:func:`summary_sql`), per territory × platform × slot
(:func:`response_by_slot`, Modération) or per territory (:func:`response_by_territory`, Benchmark,
Synthèse, report); rate = :func:`analysis.metrics.response_rate`."""

from __future__ import annotations

from datetime import date

import duckdb
import pandas as pd

from analysis import derived as derived_tables
from analysis import metrics
from analysis.config import LOCAL_TZ
from analysis.fmt import fr_num, fr_pct
from analysis.moderation.queue import MESSAGES, first_replies_from, messages_sql
from analysis.queries import NEGATIVE_MESSAGE_IDS_SQL, Filters

SLOTS = {"business": "heures ouvrées (lun.–ven. 9 h–18 h)", "off": "soirs et week-ends"}


def slot_of(ts_utc: pd.Series) -> pd.Series:
    """'business' when the UTC time falls Mon–Fri 9:00–17:59 in Europe/Paris, else 'off'."""
    local = pd.to_datetime(ts_utc).dt.tz_localize("UTC").dt.tz_convert(LOCAL_TZ)
    business = (local.dt.day_of_week < 5) & (local.dt.hour >= 9) & (local.dt.hour < 18)
    return business.map({True: "business", False: "off"})


SCOPES = {"all": "tous les messages reçus", "needs_answer": "questions et messages négatifs",
          "questions": "questions"}


# (territory, platform) pairs whose official replies appear in the data: ``visible`` of an incoming message
VISIBLE_PAIRS_SQL = f"SELECT DISTINCT territory_id, platform FROM {MESSAGES} WHERE is_official"


def incoming_sql(only: str | None = None, source: str = "messages") -> str:
    """SQL of every incoming message with its first reply and scope flags: the rows of the
    derived table ``incoming_messages`` (:mod:`analysis.derived`); ``only`` (a table with a
    ``message_id`` column) restricts them to those messages, read from ``source`` (the incremental
    refresh)."""
    sql, _ = _rows_sql(None, "all", derived=False, only=only, source=source)
    return f"""
        SELECT r.*, r.message_id IN (SELECT message_id FROM toxicity WHERE is_question) AS is_question,
               r.message_id IN ({NEGATIVE_MESSAGE_IDS_SQL}) AS is_negative
        FROM ({sql}) r"""


def _rows_sql(f: Filters | None, scope: str, con: duckdb.DuckDBPyConnection | None = None,
              derived: bool = True, only: str | None = None, source: str = "messages") -> tuple[str, list]:
    """SQL (and parameters) of the incoming messages of ``scope``: message_id, territory_id,
    platform, created_at, first_reply_at, visible. Shared by the row and the aggregate paths.

    Read from the derived table ``incoming_messages`` when ``con`` says it is current (the same
    rows: each first reply depends only on the message and the replies, not on the selection);
    otherwise computed from the message tables."""
    f = f or Filters()
    if scope not in SCOPES:
        raise ValueError(f"Périmètre inconnu « {scope} » (attendu : {', '.join(SCOPES)})")
    if derived and con is not None:

        if derived_tables.current(con):
            w, params = f.where()
            flags = {"all": "", "questions": " AND is_question",
                     "needs_answer": " AND (is_question OR is_negative)"}[scope]
            return (f"SELECT message_id, territory_id, platform, created_at, first_reply_at, visible "
                    f"FROM incoming_messages WHERE {w}{flags}"), params
    w, params = f.where("m")
    base = (f"{w} AND NOT coalesce(m.is_official, FALSE) AND m.account_id IN "
            "(SELECT account_id FROM accounts WHERE official)")
    # Semi-joins on the ids of questions / negative messages: the enrichment tables are read for
    # their ids only, and each message is kept at most once (both tables have one row per message).
    questions = "SELECT message_id FROM toxicity WHERE is_question"
    negative = NEGATIVE_MESSAGE_IDS_SQL
    scope_where = {
        "all": "",
        "questions": f" AND m.message_id IN ({questions})",
        "needs_answer": f" AND (m.message_id IN ({questions}) OR m.message_id IN ({negative}))",
    }[scope] + (f" AND m.message_id IN (SELECT message_id FROM {only})" if only else "")
    # The messages of the scope first (few columns), then their first replies: looked up for
    # them only, not for every incoming message.
    sql = f"""
        WITH i AS MATERIALIZED (
            SELECT m.message_id, m.territory_id, m.platform, m.created_at, m.post_id
            FROM {messages_sql(source)} m
            WHERE {base}{scope_where}),
        fr AS ({first_replies_from("i", source)}),
        vis AS ({VISIBLE_PAIRS_SQL})
        SELECT i.message_id, i.territory_id, i.platform, i.created_at, fr.first_reply_at,
               vis.platform IS NOT NULL AS visible
        FROM i
        LEFT JOIN fr ON fr.message_id = i.message_id
        LEFT JOIN vis ON vis.territory_id = i.territory_id AND vis.platform = i.platform
        """
    return sql, params


def response_times(con: duckdb.DuckDBPyConnection, f: Filters | None = None,
                   scope: str = "all") -> pd.DataFrame:
    """One row per incoming message under an official account: slot, first reply, delay (hours).

    Incoming = written by someone else than the account (``is_official`` not true) on an
    official account of a territory. ``scope``: ``all`` incoming messages, ``questions``
    (toxicity table's ``is_question``), or ``needs_answer`` (questions or negative sentiment).
    ``visible`` says whether the territory's replies on that
    platform appear in the data at all (some exports carry no replies: unknown, not zero).
    For aggregates only, :func:`summary_sql` computes the same figures inside DuckDB.
    """
    sql, params = _rows_sql(f, scope, con)
    df = con.execute(sql, params).df()
    df["slot"] = slot_of(df["created_at"]) if len(df) else pd.Series(dtype=str)
    df["delay_hours"] = (pd.to_datetime(df["first_reply_at"]) - pd.to_datetime(df["created_at"])).dt.total_seconds() / 3600
    return df


# Mon–Fri 9:00–17:59 Europe/Paris, as slot_of; a NULL time is 'off' there too
SLOT_SQL = (f"CASE WHEN isodow(timezone('{LOCAL_TZ}', created_at AT TIME ZONE 'UTC')) <= 5 "
            f"AND hour(timezone('{LOCAL_TZ}', created_at AT TIME ZONE 'UTC')) BETWEEN 9 AND 17 "
            "THEN 'business' ELSE 'off' END")
# microseconds → hours in the same order of operations as pandas' total_seconds() / 3600
DELAY_SQL = "(epoch_us(first_reply_at) - epoch_us(created_at)) / 1e6 / 3600"


def summary_sql(con: duckdb.DuckDBPyConnection, f: Filters | None = None, scope: str = "all",
                by: tuple[str, ...] = ("territory_id", "platform", "slot"),
                drop_invisible_platforms: bool = False, all_slot: bool = False,
                derived: bool = True) -> pd.DataFrame:
    """``summarise(response_times(con, f, scope), by)`` computed in DuckDB (no row per message).

    ``by`` may use ``territory_id``, ``platform`` and ``slot``. ``drop_invisible_platforms``
    leaves out the platforms whose replies are not visible when another platform of the same
    territory shows replies (they would count as unanswered). ``all_slot`` (with ``slot`` in
    ``by``) adds the groups over every slot, labelled ``'all'``, from the same scan.
    ``derived=False`` computes from the message tables even when ``incoming_messages`` is current.
    """
    allowed = ("territory_id", "platform", "slot")
    if not by or any(b not in allowed for b in by):
        raise ValueError(f"Regroupement inconnu {by} (attendu parmi : {', '.join(allowed)})")
    sql, params = _rows_sql(f, scope, con, derived)
    keep = ("QUALIFY visible OR NOT max(visible) OVER (PARTITION BY territory_id)"
            if drop_invisible_platforms else "")
    keys = ", ".join(by)
    group = "GROUP BY ALL"
    if all_slot and "slot" in by:
        rest = ", ".join(b for b in by if b != "slot")
        group = f"GROUP BY GROUPING SETS (({keys}), ({rest}))"
        keys = ", ".join("CASE WHEN grouping(slot) = 1 THEN 'all' ELSE slot END AS slot"
                         if b == "slot" else b for b in by)
    cols = list(by) + ["incoming", "answered", "response_rate", "median_hours", "visible"]
    out = con.execute(f"""
        WITH rows AS ({sql}),
        r0 AS (SELECT *, date_trunc('hour', created_at) AS utc_hour, {DELAY_SQL} AS delay_hours FROM rows {keep}),
        -- the time-zone conversion once per hour, not per message (Paris is a whole number of
        -- hours from UTC, and changes offset on the hour, so the hour decides the slot)
        hs AS (SELECT utc_hour, {SLOT_SQL.replace("created_at", "utc_hour")} AS slot
               FROM (SELECT DISTINCT utc_hour FROM r0)),
        r AS ({"SELECT r0.*, coalesce(hs.slot, 'off') AS slot FROM r0 LEFT JOIN hs USING (utc_hour)"
               if "slot" in by else "SELECT * FROM r0"}),
        g AS (SELECT {keys}, count(*) AS incoming, count(first_reply_at) AS answered,
                     median(delay_hours) AS median_hours, bool_or(visible) AS visible
              FROM r {group})
        SELECT {", ".join(by)}, incoming, answered,
               CASE WHEN visible THEN answered / incoming END AS response_rate,
               CASE WHEN visible THEN median_hours END AS median_hours, visible
        FROM g ORDER BY {", ".join(f"{b} NULLS LAST" for b in by)}
        """, params).df()
    return out[cols] if len(out) else pd.DataFrame(columns=cols)


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


def response_by_slot(con: duckdb.DuckDBPyConnection, f: Filters | None = None,
                     scope: str = "all") -> pd.DataFrame:
    """Territory × platform × slot (plus an 'all' slot) response rate and median delay (Modération)."""
    return summary_sql(con, f, scope, all_slot=True).sort_values(
        ["territory_id", "platform", "slot"]).reset_index(drop=True)


def response_by_territory(con: duckdb.DuckDBPyConnection, start: date, end: date,
                          territories: list[str] | None = None, platforms: tuple[str, ...] = ()) -> pd.DataFrame:
    """Per territory: messages needing an answer, share answered by an official reply, median delay.

    Benchmark's responsiveness. One definition for the whole product (Modération page, Synthèse, report, Benchmark): the
    messages that need an answer are questions and negative messages received on an official
    account (:func:`summary_sql`, scope ``needs_answer``);
    response rate = :func:`analysis.metrics.response_rate` (answered ÷ needing an answer). Territories whose
    exports carry no official replies get NULL, not 0 %. ``territories``: only these (default all).
    """

    cols = ["territory_id", "questions", "answered", "response_rate", "median_response_hours"]
    # a territory's replies are visible when any of its platforms shows official replies; its
    # platforms without visible replies are left out (they would count as unanswered)
    out = summary_sql(con, Filters(territories=tuple(territories or ()), start=start, end=end,
                                   platforms=tuple(platforms)), "needs_answer",
                      by=("territory_id",), drop_invisible_platforms=True)
    if out.empty:
        return pd.DataFrame(columns=cols)
    out["response_rate"] = [metrics.response_rate(a, n) if v else None
                            for a, n, v in zip(out["answered"], out["incoming"], out["visible"], strict=True)]
    return out.rename(columns={"incoming": "questions", "median_hours": "median_response_hours"})[cols]


def french_table(r: pd.DataFrame, names: dict[str, str] | None = None) -> pd.DataFrame:
    """User-facing French table of :func:`response_by_slot`."""
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
