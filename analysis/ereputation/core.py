"""E-reputation counts and metrics: volumes, net sentiment, negative share, peers, change,
representative messages (the counting rules are in the package docstring, :mod:`analysis.ereputation`)."""

from __future__ import annotations

import math
import re
from collections.abc import Sequence
from dataclasses import replace
from datetime import date, datetime
from typing import Any

import duckdb
import pandas as pd

from analysis import derived as derived_tables
from analysis import metrics
from analysis.config import LOCAL_TZ
from analysis.queries import Filters
from analysis.territories import own_territory, peers_of

FREQS = ("day", "week", "month")
DIMENSIONS = ("territory_id", "platform", "account_id", "post_id")
SENTIMENTS = ("positive", "neutral", "negative")
COUNT_COLUMNS = ("messages", "positive", "neutral", "negative", "scored", "non_french", "unscored")
METRIC_COLUMNS = ("net_sentiment", "net_sentiment_lo", "net_sentiment_hi", "net_sentiment_all",
                  "net_sentiment_all_lo", "net_sentiment_all_hi", "negative_share", "negative_share_lo",
                  "negative_share_hi")
# What a user reads for each headline metric (French; units used with analysis.fmt).
METRIC_LABELS = {
    "messages": "Messages reçus",
    "net_sentiment": "Sentiment net",
    "net_sentiment_all": "Sentiment net (avec neutres)",
    "negative_share": "Part de messages négatifs",
}

# The effective label of a message (the logic of the ``effective_sentiment`` view of
# analysis.sentiment.corrections, restricted to messages): the analyst's correction when there is
# one, else the model's. Written as two LEFT JOINs from the messages rather than a join on the view:
# the view's second branch (corrections the model never scored) is an anti-join that scans the whole
# sentiment table on every query, 0,7 s of thread time at 1 M messages even with no correction.
# The labels are filtered in a subquery, not in the ON clause: with DuckDB 2.0.1, a LEFT JOIN on an
# *empty* table with a constant condition in ON (``l.task = 'sentiment'``) drops the query's LIMIT
# (every row came back from spike_messages on a store without corrections).
_SENTIMENT_JOIN = """
        LEFT JOIN sentiment AS s ON s.item_id = m.message_id AND s.item_type = 'message'
        LEFT JOIN (SELECT item_id, value FROM labels WHERE item_type = 'message' AND task = 'sentiment') AS l
          ON l.item_id = m.message_id
"""
_SENTIMENT_CLASS = """CASE WHEN l.value IS NOT NULL THEN l.value
                    WHEN s.item_id IS NULL OR (s.label IS NULL AND s.lang IS NULL) THEN 'unscored'
                    WHEN s.lang IS DISTINCT FROM 'fr' THEN 'non_french'
                    WHEN s.label IS NULL THEN 'unscored'
                    ELSE s.label END"""


def _local(col: str = "m.created_at") -> str:
    """SQL of a stored (naive UTC) timestamp as French local time: days and weeks are French ones."""
    return f"timezone('{LOCAL_TZ}', timezone('UTC', {col}))"


def _utc_midnight(d: date) -> datetime | None:
    """Local midnight of day ``d`` as a naive UTC timestamp (None when ``d`` carries a time of day).

    A local-day bound read on the stored column: exact, French clocks change at 2 or 3 a.m., so
    local midnight is never skipped nor repeated and ``local(t) >= d`` ⇔ ``t >= utc(d)``.
    """
    ts = pd.Timestamp(d)
    if ts != ts.normalize():
        return None
    return ts.tz_localize(LOCAL_TZ).tz_convert("UTC").tz_localize(None).to_pydatetime()


def _base(f: Filters) -> tuple[str, list]:
    """Filtered user messages with their effective sentiment class (CTE body ``m``).

    The period of ``f`` is read in French local time (``[start, end)`` local days, like the
    ``period`` buckets), so "du 1er au 31 mars" means March as lived in the town hall. Its bounds
    are turned into UTC instants, so DuckDB filters (and skips row groups) on ``created_at`` with
    no time-zone conversion per row. No ``local_at`` column: callers convert what they show
    (:func:`_local`), after filtering.
    """
    w, params = replace(f, start=None, end=None).where("m")
    for op, bound in ((">=", f.start), ("<", f.end)):
        if not bound:
            continue
        utc = _utc_midnight(bound)
        if utc is not None:
            w += f" AND m.created_at {op} ?"
            params.append(utc)
        else:  # a bound with a time of day: compared in local time, row by row
            w += f" AND {_local()} {op} ?"
            params.append(pd.Timestamp(bound).to_pydatetime())
    sql = f"""
        SELECT m.message_id, m.territory_id, m.platform, m.account_id, m.post_id, m.created_at, m.text,
               coalesce(m.likes, 0) + coalesce(m.replies, 0) AS engagement, m.likes, m.replies,
               {_SENTIMENT_CLASS} AS sentiment,
               l.value IS NOT NULL AS corrected, s.label AS model_label,
               s.p_negative, s.p_neutral, s.p_positive
        FROM messages AS m {_SENTIMENT_JOIN}
        WHERE {w} AND NOT coalesce(m.is_official, FALSE)
    """
    return sql, params


def _check_freq(freq: str | None) -> None:
    if freq is not None and freq not in FREQS:
        raise ValueError(f"Période inconnue : {freq!r} (attendu : {', '.join(FREQS)})")


def add_metrics(counts: pd.DataFrame, confidence: float = 0.95) -> pd.DataFrame:
    """Copy of a frame with ``positive``/``negative``/``neutral`` columns plus every metric and interval."""
    out = counts.copy()
    for k, v in metrics.sentiment_intervals(out["positive"], out["negative"], out["neutral"],
                                            confidence).items():
        out[k] = v
    return out


_COUNTS_SQL = """count(*) AS messages,
               count(*) FILTER (WHERE sentiment = 'positive') AS positive,
               count(*) FILTER (WHERE sentiment = 'neutral') AS neutral,
               count(*) FILTER (WHERE sentiment = 'negative') AS negative,
               count(*) FILTER (WHERE sentiment IN ('positive', 'neutral', 'negative')) AS scored,
               count(*) FILTER (WHERE sentiment = 'non_french') AS non_french,
               count(*) FILTER (WHERE sentiment = 'unscored') AS unscored"""


# Words a group key may use to be computed from ``daily_sentiment`` (its columns and SQL keywords).
_DAILY_WORDS = {"territory_id", "platform", "case", "when", "then", "else", "end", "in", "not", "and", "or", "is",
                "null"}


def _daily_keys(keys: dict[str, str]) -> bool:
    """Whether every group key reads only the columns ``daily_sentiment`` keeps (territory, platform)."""
    words = set(re.findall(r"[a-z_][a-z_0-9]*", " ".join(re.sub(r"'[^']*'", "", e).lower() for e in keys.values())))
    return words <= _DAILY_WORDS


def _daily_sql(f: Filters, keys: dict[str, str], freq: str | None) -> tuple[str, list]:
    """:func:`_counts`'s SQL over ``daily_sentiment`` (the same counts per territory × platform × French
    local day, :mod:`analysis.derived`): a sum over a few thousand rows instead of a join of the
    messages with their sentiment."""
    w, params = f.where("", ts="day")
    sums = ", ".join(f"coalesce(sum({c}), 0)::BIGINT AS {c}" for c in COUNT_COLUMNS)
    cols = [f"{expr} AS {name}" for name, expr in keys.items()]
    if freq:
        cols.append(f"date_trunc('{freq}', day)::DATE AS period")
    if not cols:
        return f"SELECT {sums} FROM daily_sentiment WHERE {w}", params
    positions = ", ".join(str(i + 1) for i in range(len(cols)))
    return (f"SELECT {', '.join(cols)}, {sums} FROM daily_sentiment WHERE {w} "
            f"GROUP BY {positions} ORDER BY {positions}"), params


def _counts(con: duckdb.DuckDBPyConnection, f: Filters, keys: dict[str, str] | None = None,
            freq: str | None = None, key_params: Sequence[Any] = (), derived: bool = True) -> pd.DataFrame:
    """:data:`COUNT_COLUMNS` per group of the selection, sorted by group (one scan, one join).

    ``keys``: output name → SQL expression over the rows of :func:`_base` (none = one pooled row,
    even when nothing matches), its ``?`` bound to ``key_params``; ``freq`` adds ``period``
    (French local day, ISO week or month). With a period, messages are first counted per UTC hour and each hour is then put in its local
    period: one time-zone conversion per hour instead of one per message, and the same result since
    France's UTC offsets are whole hours (a message and its hour fall on the same local day).

    Summed from ``daily_sentiment`` when it can answer (whole local days, tables current, keys on
    territory and platform only), unless ``derived=False`` (what the rebuild of that table uses).
    """
    keys = dict(keys or {})
    names = list(keys) + (["period"] if freq else [])
    if derived and _daily_keys(keys) and derived_tables.usable(con, f):
        sql, params = _daily_sql(f, keys, freq)
        df = con.execute(sql, list(key_params) + params).df()
        for c in COUNT_COLUMNS:
            df[c] = df[c].astype("int64")
        if freq:
            df["period"] = pd.to_datetime(df["period"])
        return df[names + list(COUNT_COLUMNS)]
    base, params = _base(f)
    if freq:
        inner = [f"{expr} AS {name}" for name, expr in keys.items()] + ["date_trunc('hour', created_at) AS hour"]
        sums = ", ".join(f"sum({c})::BIGINT AS {c}" for c in COUNT_COLUMNS)
        outer = list(keys) + [f"date_trunc('{freq}', {_local('hour')})::DATE AS period"]
        positions = ", ".join(str(i + 1) for i in range(len(outer)))
        sql = f"""
            WITH m AS ({base}),
            h AS (SELECT {", ".join(inner)}, {_COUNTS_SQL} FROM m
                  GROUP BY {", ".join(str(i + 1) for i in range(len(inner)))})
            SELECT {", ".join(outer)}, {sums} FROM h GROUP BY {positions} ORDER BY {positions}
        """
    elif keys:
        positions = ", ".join(str(i + 1) for i in range(len(keys)))
        sql = f"""
            WITH m AS ({base})
            SELECT {", ".join(f"{expr} AS {name}" for name, expr in keys.items())}, {_COUNTS_SQL}
            FROM m GROUP BY {positions} ORDER BY {positions}
        """
    else:
        sql = f"WITH m AS ({base}) SELECT {_COUNTS_SQL} FROM m"
    df = con.execute(sql, params + list(key_params)).df()
    for c in COUNT_COLUMNS:
        df[c] = df[c].astype("int64")
    if freq:
        df["period"] = pd.to_datetime(df["period"])
    return df[names + list(COUNT_COLUMNS)]


def _pooled_row(counts: pd.DataFrame, confidence: float = 0.95) -> pd.Series:
    """Counts summed over the rows of a :func:`_counts` frame, with metrics: the row
    :func:`sentiment_table` gives for those rows pooled (counts are additive: a message belongs
    to one territory, one period)."""
    total = pd.DataFrame([{c: int(counts[c].sum()) for c in COUNT_COLUMNS}]).astype("int64")
    return add_metrics(total, confidence)[list(COUNT_COLUMNS) + list(METRIC_COLUMNS)].iloc[0]


def _pooled(counts: pd.DataFrame, confidence: float = 0.95) -> dict[str, Any]:
    """:func:`_pooled_row` as :func:`kpis` gives it."""
    return _as_kpis(_pooled_row(counts, confidence))


def _as_kpis(row: pd.Series) -> dict[str, Any]:
    return {k: (None if isinstance(v, float) and math.isnan(v) else (int(v) if k in COUNT_COLUMNS else float(v)))
            for k, v in row.items()}


def sentiment_table(con: duckdb.DuckDBPyConnection, f: Filters, by: Sequence[str] = ("territory_id",),
                    freq: str | None = None, confidence: float = 0.95) -> pd.DataFrame:
    """Volumes and sentiment metrics with intervals per group.

    ``by``: any of :data:`DIMENSIONS` (empty = everything selected pooled); ``freq``: ``day``,
    ``week`` (ISO, Monday) or ``month`` adds a ``period`` column (French local days). Columns: the group
    columns, ``messages`` (all user messages), ``positive``/``neutral``/``negative``, ``scored``
    (P + N + Neu), ``non_french``, ``unscored`` and :data:`METRIC_COLUMNS`.
    """
    _check_freq(freq)
    bad = [b for b in by if b not in DIMENSIONS]
    if bad:
        raise ValueError(f"Dimension inconnue : {bad} (attendu : {', '.join(DIMENSIONS)})")
    df = add_metrics(_counts(con, f, {b: b for b in by}, freq), confidence)
    return df[list(by) + (["period"] if freq else []) + list(COUNT_COLUMNS) + list(METRIC_COLUMNS)]


def kpis(con: duckdb.DuckDBPyConnection, f: Filters, confidence: float = 0.95) -> dict[str, Any]:
    """Headline figures of the selection pooled (one row of :func:`sentiment_table` as a dict)."""
    return _as_kpis(sentiment_table(con, f, by=(), confidence=confidence).iloc[0])


def compare(current: dict[str, Any], reference: dict[str, Any]) -> pd.DataFrame:
    """Differences current − reference of the headline metrics with their 95 % Newcombe intervals.

    Rows: messages (relative change, no interval: a count of what was said is not a sample),
    net_sentiment, net_sentiment_all, negative_share. ``significant`` is True when the
    interval of the difference excludes 0.
    """
    rows = []
    cur_m, ref_m = current.get("messages"), reference.get("messages")
    rel = (cur_m - ref_m) / ref_m if ref_m else None
    rows.append({"metric": "messages", "current": cur_m, "reference": ref_m, "change": rel,
                 "change_lo": None, "change_hi": None, "significant": None})
    for k in ("net_sentiment", "net_sentiment_all", "negative_share"):
        a, b = current.get(k), reference.get(k)
        ci_a = (current[f"{k}_lo"], current[f"{k}_hi"]) if a is not None else None
        ci_b = (reference[f"{k}_lo"], reference[f"{k}_hi"]) if b is not None else None
        ci = metrics.difference_interval(a, ci_a, b, ci_b)
        rows.append({"metric": k, "current": a, "reference": b,
                     "change": None if ci is None else a - b,
                     "change_lo": None if ci is None else ci[0], "change_hi": None if ci is None else ci[1],
                     "significant": None if ci is None else bool(ci[0] > 0 or ci[1] < 0)})
    return pd.DataFrame(rows)


def change_vs_previous(con: duckdb.DuckDBPyConnection, f: Filters, confidence: float = 0.95) -> pd.DataFrame:
    """:func:`compare` of the period with the period of equal length just before it."""
    if not (f.start and f.end):
        raise ValueError("Une période (début et fin) est nécessaire pour comparer à la période précédente.")
    prev = f.previous()
    if derived_tables.usable(con, replace(f, start=prev.start)):
        # whole days: each period summed from daily_sentiment (a few thousand rows; the scan below
        # read a year of messages, 0,44 s at 10 million)
        return compare(_pooled(_counts(con, f), confidence), _pooled(_counts(con, prev), confidence))
    # Both periods in one scan: [previous start, end), each message tagged with its period.
    since, since_params = _since(f.start)
    t = _counts(con, replace(f, start=prev.start), {"current": since}, key_params=since_params)
    now = t["current"].astype(bool)
    return compare(_pooled(t[now], confidence), _pooled(t[~now], confidence))


def _since(bound: date) -> tuple[str, list]:
    """SQL test (over :func:`_base` rows) "at or after local day ``bound``", and its parameter."""
    utc = _utc_midnight(bound)
    if utc is not None:
        return "created_at >= ?", [utc]
    return f"{_local('created_at')} >= ?", [pd.Timestamp(bound).to_pydatetime()]


def _in(col: str, values: Sequence[str]) -> tuple[str, list]:
    """SQL test ``col IN (values)`` and its parameters (FALSE for no value)."""
    if not values:
        return "FALSE", []
    return f"{col} IN ({', '.join('?' for _ in values)})", list(values)


def focus(con: duckdb.DuckDBPyConnection, f: Filters) -> tuple[str, ...]:
    """Territories a view is about: the selected ones, else the own territory (else all)."""
    if f.territories:
        return tuple(f.territories)
    own = own_territory(con)
    return (own,) if own else ()


def peer_comparison(con: duckdb.DuckDBPyConnection, f: Filters, confidence: float = 0.95) -> pd.DataFrame:
    """Focus territories and their peers over the same period and platforms, one row each, plus a
    pooled ``(pairs)`` row; ``diff_*`` = focus (pooled) − row, with its Newcombe interval.

    Columns: territory_id, name, role ('focus', 'peer', 'peers'), counts, metrics, and for each
    of net_sentiment, net_sentiment_all, negative_share: ``diff_<m>``, ``diff_<m>_lo``/``_hi``.
    """
    mine = focus(con, f)
    peers = peers_of(con, mine)
    if not mine:
        return pd.DataFrame()
    # One scan grouped by territory; the focus and the peers pooled are sums of its rows.
    per = sentiment_table(con, f.with_territories(mine + tuple(peers)), by=("territory_id",),
                          confidence=confidence)
    pooled_peers = _pooled_row(per[per["territory_id"].isin(peers)], confidence) if peers else None
    ref = _pooled(per[per["territory_id"].isin(mine)], confidence)
    names = dict(con.execute("SELECT territory_id, name FROM territories").fetchall())
    rows = []
    for _, r in per.iterrows():
        rows.append({"territory_id": r["territory_id"], "name": names.get(r["territory_id"], r["territory_id"]),
                     "role": "focus" if r["territory_id"] in mine else "peer", **r.drop("territory_id").to_dict()})
    if pooled_peers is not None:
        rows.append({"territory_id": "(pairs)", "name": "Ensemble des pairs", "role": "peers",
                     **pooled_peers.to_dict()})
    out = pd.DataFrame(rows)
    for k in ("net_sentiment", "net_sentiment_all", "negative_share"):
        diffs = []
        for _, r in out.iterrows():
            b = None if pd.isna(r[k]) else float(r[k])
            c = metrics.difference_interval(ref[k], (ref[f"{k}_lo"], ref[f"{k}_hi"]) if ref[k] is not None else None,
                                            b, (r[f"{k}_lo"], r[f"{k}_hi"]) if b is not None else None)
            diffs.append((None, None, None) if c is None or r["role"] == "focus" else (ref[k] - b, c[0], c[1]))
        out[f"diff_{k}"] = [d[0] for d in diffs]
        out[f"diff_{k}_lo"] = [d[1] for d in diffs]
        out[f"diff_{k}_hi"] = [d[2] for d in diffs]
    order = {"focus": 0, "peers": 1, "peer": 2}
    return out.sort_values(by=["role", "territory_id"], key=lambda s: s.map(order) if s.name == "role" else s,
                           kind="stable").reset_index(drop=True)


def vs_peers(con: duckdb.DuckDBPyConnection, f: Filters, confidence: float = 0.95) -> pd.DataFrame:
    """:func:`compare` of the focus territories with their peers pooled (same period); empty without peers."""
    mine = focus(con, f)
    peers = peers_of(con, mine)
    if not peers:
        return pd.DataFrame()
    t = _counts(con, f.with_territories(mine + tuple(peers)), {"territory_id": "territory_id"})
    return compare(_pooled(t[t["territory_id"].isin(mine)], confidence),
                   _pooled(t[t["territory_id"].isin(peers)], confidence))


def _has_text(col: str) -> str:
    """SQL: ``col`` holds more than blanks (a deleted message's empty text has nothing to read). ``ltrim``
    says the same as ``trim`` three times faster (one end to scan)."""
    return f"ltrim({col}) <> ''"


def _dedup_key(col: str) -> str:
    """SQL key under which near-identical texts collapse: lower case, no URL/@mention, letters only."""
    return (f"trim(regexp_replace(regexp_replace(lower(coalesce({col}, '')), '(https?://|www\\.)\\S+|@\\w+', '', 'g'), "
            f"'[^\\p{{L}}]+', ' ', 'g'))")


# ------------------------------------------------------------------------------ representative
def representative_messages(con: duckdb.DuckDBPyConnection, f: Filters, label: str = "negative", n: int = 5,
                            min_confidence: float = 0.6) -> pd.DataFrame:
    """Most representative messages of a class over the selection: confident and engaged.

    Kept: the effective label is ``label`` and either an analyst set it or the model's probability
    of it is ≥ ``min_confidence``. Ranked by confidence × ln(e + likes + replies) (1 for a
    correction), near-duplicates (same words once URLs/mentions are removed) shown once.
    No author column.
    """
    if label not in SENTIMENTS:
        raise ValueError(f"Classe inconnue : {label!r} (attendu : {', '.join(SENTIMENTS)})")
    base, params = _base(f)
    prob = f"p_{label}"
    # The n best distinct texts are the first n texts not seen before in score order, so they can be
    # found among the best-scored candidates alone: the duplicate key (a costly regex) is computed on
    # the top 50 × n first, on all candidates only when those hold fewer than n distinct texts.
    def best(top: int | None) -> pd.DataFrame:
        return con.execute(f"""
            WITH m AS ({base}),
            c AS (SELECT *, CASE WHEN corrected THEN 1.0 ELSE {prob} END AS confidence FROM m
                  WHERE sentiment = ? AND (corrected OR {prob} >= ?) AND {_has_text('text')}),
            s AS (SELECT *, confidence * ln(exp(1) + engagement) AS score FROM c
                  {f"ORDER BY score DESC, message_id LIMIT {int(top)}" if top else ""}),
            r AS (SELECT *, {_dedup_key('text')} AS dkey, count(*) OVER () AS candidates FROM s)
            SELECT message_id, {_local('created_at')} AS local_at, territory_id, platform, post_id, text, likes,
                   replies, engagement, sentiment, corrected, confidence, score, candidates
            FROM r
            QUALIFY row_number() OVER (PARTITION BY dkey ORDER BY score DESC, message_id) = 1
            ORDER BY score DESC, message_id LIMIT ?
        """, params + [label, min_confidence, n]).df()

    top = 50 * n
    df = best(top)
    if len(df) < n and len(df) and df["candidates"].iloc[0] >= top:  # the top was all copies of < n texts
        df = best(None)
    return df.drop(columns="candidates")


def messages_for_review(con: duckdb.DuckDBPyConnection, f: Filters, n: int = 50) -> pd.DataFrame:
    """Messages an analyst may want to correct first: the least confident model labels (highest
    probability below 0.5), most engaged first among equals. For the analyst role only. A message
    without text (deleted by its author since it was scored) has nothing left to read: not listed."""
    base, params = _base(f)
    return con.execute(f"""
        WITH m AS ({base})
        SELECT message_id, {_local('created_at')} AS local_at, territory_id, platform, text, engagement,
               sentiment, corrected,
               greatest(p_negative, p_neutral, p_positive) AS confidence
        FROM m WHERE sentiment IN ('positive', 'neutral', 'negative') AND NOT corrected
              AND {_has_text('text')}
        ORDER BY confidence ASC, engagement DESC, message_id LIMIT ?
    """, params + [n]).df()


def message_sentiment(con: duckdb.DuckDBPyConnection, message_id: str) -> dict[str, Any] | None:
    """Effective and model labels of one message (None when the message does not exist)."""
    base, params = _base(Filters())
    r = con.execute(f"WITH m AS ({base}) SELECT message_id, text, sentiment, model_label, corrected "
                    f"FROM m WHERE message_id = ?", params + [message_id]).df()
    return None if r.empty else r.iloc[0].to_dict()



# ------------------------------------------------------------------------------ view models
def auto_freq(f: Filters) -> str:
    """Trend granularity readable for the period: day up to 6 weeks, week up to 14 months, else month."""
    if not (f.start and f.end):
        return "month"
    days = (pd.Timestamp(f.end) - pd.Timestamp(f.start)).days
    return "day" if days <= 42 else ("week" if days <= 430 else "month")


def trend(con: duckdb.DuckDBPyConnection, f: Filters, freq: str | None = None,
          confidence: float = 0.95) -> pd.DataFrame:
    """Metrics per period of the focus territories pooled (``series`` = 'focus') and of their peers
    pooled (``series`` = 'peers', absent without peers), same platforms and period."""
    freq = freq or auto_freq(f)
    _check_freq(freq)
    mine = focus(con, f)
    peers = peers_of(con, mine)
    # Focus and peers in one scan, each message tagged with its series.
    is_focus, focus_params = _in("territory_id", mine)
    t = _counts(con, f.with_territories(mine + tuple(peers)),
                {"series": f"CASE WHEN {is_focus} THEN 'focus' ELSE 'peers' END"} if peers else {"series": "'focus'"},
                freq, key_params=focus_params if peers else ())
    parts = [add_metrics(t[t["series"] == s].drop(columns="series"), confidence).assign(series=s)
             for s in (("focus", "peers") if peers else ("focus",))]
    out = pd.concat(parts, ignore_index=True)
    return out[["series", "period", *COUNT_COLUMNS, *METRIC_COLUMNS]]


def focus_kpis(con: duckdb.DuckDBPyConnection, f: Filters) -> dict[str, Any]:
    """:func:`kpis` of the focus territories (selected ones, else our own)."""
    return kpis(con, f.with_territories(focus(con, f)))


def focus_change(con: duckdb.DuckDBPyConnection, f: Filters) -> pd.DataFrame:
    """:func:`change_vs_previous` of the focus territories."""
    return change_vs_previous(con, f.with_territories(focus(con, f)))


def by_platform(con: duckdb.DuckDBPyConnection, f: Filters) -> pd.DataFrame:
    """:func:`sentiment_table` of the focus territories per platform."""
    return sentiment_table(con, f.with_territories(focus(con, f)), by=("platform",))
