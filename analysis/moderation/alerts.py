"""Alert rules evaluated over the store, each firing once (stable id per rule and key).

Every rule compares a day with a *seasonal* baseline: the same weekday over the previous 8
weeks, so a busy Saturday is not an alert.

- Volume spike (counts): anomalous when ``x ≥ min_count``, ``x ≥ ratio × median`` and the
  robust z-score ``(x − median) / max(1.4826 × MAD, √median, 1) ≥ z``.
- Negative spike: THE negative-spike detector of the E-réputation page,
  :func:`analysis.ereputation.detect_spikes` (its thresholds ``analysis.ereputation.NEGATIVE_SPIKE``),
  so the page, the alert, the report and the campaigns' crisis warning never disagree about a week.
- Emerging negative theme, hostile burst (shares): the share of negative on the theme (hostile)
  messages among all the day's messages to the territory against the pooled share ``p₀`` of the same 8
  weekdays; anomalous when ``k ≥ min_count``, ``k / n ≥ ratio × p₀`` and the binomial z-score
  ``(k − n p₀) / √(n p₀ (1 − p₀)) ≥ z``. Using the share, not the count, keeps a popular post
  (more of every kind of message) from passing for a crisis.

Anomalous days at most two quiet days apart form one episode; an episode fires one
alert keyed on rule, territory (and theme) and its first day, so a daily cron during a crisis
does not repeat it.
"""

from __future__ import annotations

import hashlib
import html
import json
from collections.abc import Callable
from dataclasses import asdict, dataclass, field
from datetime import UTC, date, datetime, timedelta

import duckdb
import numpy as np
import pandas as pd

from analysis import derived as derived_tables
from analysis import store
from analysis.ereputation import NEGATIVE_SPIKE, Spike, detect_spikes
from analysis.fmt import fr_count, fr_date, fr_int, fr_num, fr_pct, fr_period_end_included
from analysis.moderation.impersonation import is_author, watch
from analysis.moderation.queue import MESSAGES, hostile_sql
from analysis.queries import NEGATIVE_MESSAGE_IDS_SQL, Filters
from analysis.registry import Registry
from analysis.topics import load_taxonomy

RULES = {
    "negative_spike": "Pic de messages négatifs",
    "volume_spike": "Pic de volume de messages",
    "negative_theme": "Thème négatif émergent",
    "hostile_burst": "Vague de messages hostiles",
    "impersonation": "Nouvelle page usurpant l'identité du territoire",
}
SEVERITY_FR = {"info": "information", "warning": "attention", "critical": "critique"}
BASELINE_WEEKS = 8


@dataclass(frozen=True)
class SpikeParams:
    z: float = 4.0
    ratio: float = 2.0
    min_count: int = 10


PARAMS = {
    # Volume alone moves with every popular post: a higher bar than for negative messages.
    "volume_spike": SpikeParams(z=5.0, ratio=3.0, min_count=30),
    "negative_theme": SpikeParams(z=5.0, ratio=2.0, min_count=10),
    "hostile_burst": SpikeParams(z=5.0, ratio=3.0, min_count=5),
}


@dataclass
class Alert:
    rule: str
    key: str
    territory_id: str | None
    period_start: datetime
    period_end: datetime
    severity: str
    title: str
    evidence: dict = field(default_factory=dict)
    fired_at: datetime | None = None

    @property
    def alert_id(self) -> str:
        """Stable id: hash of rule and key (the same episode never fires twice)."""
        return hashlib.sha256(f"{self.rule}|{self.key}".encode()).hexdigest()[:16]

    def as_json(self) -> dict:
        d = asdict(self)
        d["alert_id"] = self.alert_id
        for k in ("period_start", "period_end", "fired_at"):
            d[k] = d[k].isoformat() if d[k] is not None else None
        return d


# ------------------------------------------------------------------------------ detection
def _lag_matrix(x: np.ndarray, flagged: np.ndarray, i: int) -> np.ndarray:
    """Values of the same weekday over the 8 weeks before day ``i``, anomalous days left out
    (a crisis must not become its own baseline a week later)."""
    idx = [i - 7 * k for k in range(1, BASELINE_WEEKS + 1) if i - 7 * k >= 0 and not flagged[i - 7 * k]]
    return x[idx]


def _lags(n: int) -> tuple[np.ndarray, np.ndarray]:
    """Row ``i``: positions of the same weekday over the 8 weeks before day ``i`` (clipped at 0)
    and whether each exists. The vectorised form of :func:`_lag_matrix` for every day at once."""
    pos = np.arange(n)[:, None] - 7 * np.arange(1, BASELINE_WEEKS + 1)[None, :]
    return np.maximum(pos, 0), pos >= 0


def _masked_median(v: np.ndarray, ok: np.ndarray) -> np.ndarray:
    """Per row, the median of the values where ``ok`` (NaN when none), as :func:`numpy.median`
    computes it (middle value, or the mean of the two middle ones)."""
    c = ok.sum(1)
    srt = np.sort(np.where(ok, v, np.inf), axis=1)
    rows = np.arange(len(v))
    lo = srt[rows, np.maximum((c - 1) // 2, 0)]
    hi = srt[rows, np.maximum(c // 2, 0).clip(max=v.shape[1] - 1)]
    med = np.where(c % 2 == 1, lo, (lo + hi) / 2)
    return np.where(c > 0, med, np.nan)


def _sequential_flags(n: int, score: Callable[[np.ndarray], tuple[np.ndarray, dict]]) -> tuple[np.ndarray, dict]:
    """Flags computed day after day, where a flagged day leaves later baselines (``score(flagged)``
    scores every day given the flags of the earlier days and returns (anomalous, columns)).

    Scores all days at once, takes the first newly anomalous day, flags it and scores again:
    the days before it are final (their baselines only look back). One pass per anomalous day
    instead of one per day."""
    flagged = np.zeros(n, dtype=bool)
    start = 0
    while True:
        anomalous, cols = score(flagged)
        new = np.flatnonzero(anomalous[start:])
        if not len(new):
            return flagged, cols
        flagged[start + new[0]] = True
        start += new[0] + 1


def seasonal_anomalies(daily: pd.Series, p: SpikeParams, exclude_flagged: bool = False) -> pd.DataFrame:
    """Score each day of a complete daily count series against the same weekday of the 8
    previous weeks (median, MAD). Returns count, baseline, spread, z, anomalous.

    ``exclude_flagged`` leaves anomalous days out of later baselines. Off for volume: a
    seasonal rise (summer, December) would otherwise keep firing for weeks."""
    x = daily.astype(float).to_numpy()
    n = len(x)
    pos, exists = _lags(n)

    def score(flagged: np.ndarray) -> tuple[np.ndarray, dict]:
        ok = exists & ~flagged[pos] if exclude_flagged else exists
        lags = x[pos]
        has = ok.sum(1) >= 4
        med = np.where(has, _masked_median(lags, ok), np.nan)
        mad = _masked_median(np.abs(lags - med[:, None]), ok)
        spread = np.where(has, np.maximum(np.maximum(1.4826 * mad, np.sqrt(np.where(has, med, 0))), 1.0), 1.0)
        z = np.where(has, (x - med) / spread, np.nan)
        with np.errstate(invalid="ignore"):
            anomalous = has & (x >= p.min_count) & (x >= p.ratio * med) & (z >= p.z)
        return anomalous, {"baseline": med, "spread": spread, "z": z}

    if exclude_flagged:
        flagged, cols = _sequential_flags(n, score)
    else:
        flagged, cols = score(np.zeros(n, dtype=bool))
    return pd.DataFrame({"count": x, **cols, "anomalous": flagged}, index=daily.index)


def share_anomalies(k: pd.Series, n: pd.Series, p: SpikeParams) -> pd.DataFrame:
    """Score the daily share ``k / n`` against the pooled share of the same weekday over the 8
    previous weeks (binomial z-score). Returns count, total, share, baseline (expected count
    ``n p₀``), baseline_share, z, anomalous."""
    kk, nn = k.astype(float).to_numpy(), n.astype(float).to_numpy()
    m = len(kk)
    share = np.where(nn > 0, kk / np.maximum(nn, 1), np.nan)
    pos, exists = _lags(m)

    def score(flagged: np.ndarray) -> tuple[np.ndarray, dict]:
        ok = exists & ~flagged[pos]
        ln, lk = np.where(ok, nn[pos], 0.0), np.where(ok, kk[pos], 0.0)
        has = (ln > 0).sum(1) >= 4
        # A share never seen in 8 weeks is not zero-probability: floor at half a message.
        with np.errstate(divide="ignore", invalid="ignore"):
            p0 = np.where(has, np.minimum(np.maximum(lk.sum(1), 0.5) / ln.sum(1), 1 - 1e-6), np.nan)
            expected = nn * p0
            z = (kk - expected) / np.sqrt(np.maximum(nn * p0 * (1 - p0), 1e-9))
            anomalous = has & (kk >= p.min_count) & (share >= p.ratio * p0) & (z >= p.z)
        return anomalous, {"baseline": expected, "baseline_share": p0, "z": np.where(has, z, np.nan)}

    flagged, cols = _sequential_flags(m, score)
    return pd.DataFrame({"count": kk, "total": nn, "share": share, "baseline": cols["baseline"],
                         "baseline_share": cols["baseline_share"], "z": cols["z"], "anomalous": flagged},
                        index=k.index)


def _runs(scored: pd.DataFrame, max_gap: int = 2) -> list[np.ndarray]:
    """Positions of the anomalous days of ``scored``, cut where more than ``max_gap`` quiet
    calendar days separate two of them (see :func:`episodes`)."""
    pos = np.flatnonzero(scored["anomalous"].to_numpy(dtype=bool))
    if not len(pos):
        return []
    days = pd.DatetimeIndex(pd.to_datetime(scored.index[pos]))
    gaps = (days[1:] - days[:-1]).days.to_numpy()
    return np.split(pos, np.flatnonzero(gaps > max_gap + 1) + 1)


def episodes(scored: pd.DataFrame, max_gap: int = 2) -> list[pd.DataFrame]:
    """Group anomalous days into episodes (runs, tolerating ``max_gap`` quiet days inside).

    Two: a crisis has calmer days (a weekend, a day without an update) and must stay one alert,
    also for a daily cron that sees it grow day by day."""
    runs = _runs(scored, max_gap)
    if scored.index.is_unique:
        return [scored.iloc[r] for r in runs]
    return [scored.loc[list(scored.index[r])] for r in runs]


def _grid(df: pd.DataFrame, first: dict, start: date, end: date) -> list[tuple[str, str, pd.Series, pd.Series | None]]:
    """Complete daily series (zeros filled) of the daily counts ``df`` (columns: territory_id, grp,
    day, n[, k]), per territory and group, from each territory's first day of data (``first``,
    at most 9 weeks before ``start``) to ``end``: (territory, group, n, k or None) in group order."""
    if df.empty:
        return []
    df = df.assign(day=pd.to_datetime(df["day"]))
    floor = pd.Timestamp(start) - pd.Timedelta(days=7 * BASELINE_WEEKS + 7)
    last = pd.Timestamp(end) - pd.Timedelta(days=1)
    out = []
    for (terr, grp), g in df.groupby(["territory_id", "grp"], dropna=False):
        lo = max(first.get(terr, g["day"].min()), floor)
        idx = pd.date_range(lo, last, freq="D", name="day")
        pos = ((g["day"] - lo) // pd.Timedelta(days=1)).to_numpy()
        keep = (pos >= 0) & (pos < len(idx))
        series = []
        for c in ("n", "k"):
            if c not in g.columns:
                series.append(None)
                continue
            v = np.zeros(len(idx), dtype=g[c].dtype)
            v[pos[keep]] = g[c].to_numpy()[keep]
            series.append(pd.Series(v, index=idx, name=c))
        out.append((terr, grp, series[0], series[1]))
    return out


def _first_days(con: duckdb.DuckDBPyConnection, terrs: list[str], totals: pd.DataFrame, floor: pd.Timestamp) -> dict:
    """First day of data (any message, official or not) of each territory, as :func:`_grid` reads it (the
    later of it and ``floor``): ``floor`` itself for a territory with incoming messages on that day in
    ``totals`` (:func:`_daily_counts`: it had data by then), the others looked up (a scan of every message)."""
    started = set(totals.loc[pd.to_datetime(totals["day"]) == floor, "territory_id"])
    rest = [t for t in terrs if t not in started]
    rows = con.execute(f"SELECT territory_id, min(created_at)::DATE FROM {MESSAGES} "
                       f"WHERE territory_id IN ({', '.join('?' for _ in rest)}) GROUP BY 1", rest).fetchall() \
        if rest else []
    return {**{t: pd.Timestamp(d) for t, d in rows}, **dict.fromkeys(started, floor)}


def _daily_counts(con: duckdb.DuckDBPyConnection, terrs: list[str], lo: datetime, end: datetime,
                  themes: bool, derived: bool = True) -> tuple[pd.DataFrame, pd.DataFrame]:
    """Daily counts of the incoming messages of ``terrs`` on [lo, end), in one scan for every rule
    (of ``moderation_messages`` when it is current, unless ``derived=False``).

    Returns (per territory and day: ``n`` messages, ``neg`` negative, ``hostile`` hostile;
    per territory, theme (``grp``) and day: ``k`` negative messages on the theme, when ``themes``)."""
    holes = ", ".join("?" for _ in terrs)
    by_theme = ("UNION ALL SELECT m.territory_id, th.theme, m.day, NULL, count(*), NULL, TRUE FROM m "
                "JOIN themes th ON th.item_id = m.message_id AND th.item_type = 'message' WHERE m.neg GROUP BY ALL")
    if derived and derived_tables.current_table(con, "moderation_messages"):
        # the same messages, with their effective sentiment, toxicity and themes already joined
        m = (f"SELECT d.message_id, d.territory_id, d.created_at::DATE AS day, "
             f"coalesce(d.sentiment = 'negative', FALSE) AS neg, {hostile_sql('d')} AS hostile, d.themes "
             f"FROM moderation_messages d WHERE d.territory_id IN ({holes}) AND d.created_at >= ? AND d.created_at < ?")
        by_theme = ("UNION ALL SELECT territory_id, theme, day, NULL, count(*), NULL, TRUE FROM "
                    "(SELECT territory_id, day, unnest(themes) AS theme FROM m WHERE neg) GROUP BY ALL")
    else:
        # Semi-joins on the (few) negative and hostile ids rather than joining the whole enrichment
        # tables: sentiment and toxicity have one row per message, so the counts are the same.
        m = (f"SELECT m.message_id, m.territory_id, m.created_at::DATE AS day, "
             f"m.message_id IN ({NEGATIVE_MESSAGE_IDS_SQL}) AS neg, "
             f"m.message_id IN (SELECT message_id FROM toxicity t WHERE {hostile_sql('t')}) AS hostile "
             f"FROM {MESSAGES} m WHERE m.territory_id IN ({holes}) "
             f"AND NOT coalesce(m.is_official, FALSE) AND m.created_at >= ? AND m.created_at < ?")
    by_theme = by_theme if themes else ""
    df = con.execute(
        f"WITH m AS MATERIALIZED ({m}) "
        f"SELECT territory_id, NULL AS grp, day, count(*) AS n, count(*) FILTER (WHERE neg) AS neg, "
        f"count(*) FILTER (WHERE hostile) AS hostile, FALSE AS is_theme FROM m GROUP BY ALL {by_theme}",
        [*terrs, lo, end]).df()
    totals = df.loc[~df["is_theme"], ["territory_id", "day", "n", "neg", "hostile"]].reset_index(drop=True)
    th = df.loc[df["is_theme"], ["territory_id", "grp", "day", "neg"]].rename(columns={"neg": "k"})
    return (totals.astype({"n": "int64", "neg": "int64", "hostile": "int64"}),
            th.astype({"k": "int64"}).reset_index(drop=True))


def _severity(count: np.ndarray, z: np.ndarray, baseline: np.ndarray, rule: str) -> str:
    """Severity of an episode from its days' counts, z-scores and baselines."""
    i = int(np.nanargmax(z))  # the peak: first day of highest z
    if rule == "volume_spike" and len(count) == 1:
        return "info"  # one busy day (a popular post) is worth knowing, not worth waking anyone
    if len(count) == 1 and count.sum() < 3 * PARAMS[rule].min_count:
        # a single day with a handful of messages (10 on one theme) is a signal, not a crisis:
        # a huge z-score on a near-zero baseline must not read « critique » to an official
        return "warning"
    if z[i] >= 8 or count[i] >= 4 * max(baseline[i], 1):
        return "critical"
    return "warning"


def _theme_label(theme_id: str) -> str:
    """French label of a theme id (« Vie citoyenne », not « vie_citoyenne »): the title is read by officials."""

    try:
        return load_taxonomy().label(theme_id)
    except (OSError, ValueError):  # no or broken taxonomy file: the id still says which theme
        return theme_id


def _evidence_days(days: pd.Index, cols: dict[str, np.ndarray], run: np.ndarray) -> list[dict]:
    """Each day of an episode: count, baseline, z (and total, share, baseline share for share rules)."""
    out = []
    for i in run:
        day = {"day": days[i].date().isoformat(), "count": int(cols["count"][i]),
               "baseline": None if np.isnan(cols["baseline"][i]) else round(float(cols["baseline"][i]), 1),
               "z": round(float(cols["z"][i]), 1)}
        if "share" in cols:
            day.update(total=int(cols["total"][i]), share=round(float(cols["share"][i]), 3),
                       baseline_share=round(float(cols["baseline_share"][i]), 3))
        out.append(day)
    return out


def _spike_alerts(rule: str, grid: list[tuple[str, str, pd.Series, pd.Series | None]], start: date,
                  names: dict[str, str], what: str) -> list[Alert]:
    alerts: list[Alert] = []
    p = PARAMS[rule]
    for terr, grp, n, k in grid:
        scored = share_anomalies(k, n, p) if k is not None else seasonal_anomalies(n, p)
        # plain arrays per group: a DataFrame per episode cost more than the SQL
        cols = {c: scored[c].to_numpy() for c in scored.columns if c != "anomalous"}
        days = scored.index
        grp_txt = f" — thème «\u00a0{_theme_label(grp)}\u00a0»" if grp and grp != "_" else ""
        for run in _runs(scored):
            first, last = days[run[0]], days[run[-1]]  # the grid is in day order
            if last < pd.Timestamp(start):
                continue  # episode entirely before the evaluated window
            i = run[int(np.nanargmax(cols["z"][run]))]  # peak: first day of highest z
            peak_day = days[i]
            detail = (f"{fr_int(cols['count'][i])} {what} pour {fr_num(cols['baseline'][i], 1)} attendus")
            if "share" in cols:
                detail += (f", soit {fr_pct(cols['share'][i], 0)} des messages contre "
                           f"{fr_pct(cols['baseline_share'][i], 0)} d'habitude")
            title = f"{RULES[rule]}{grp_txt} : {names.get(terr, terr)}, {fr_period_end_included(first, last)} (pic le {fr_date(peak_day)} : {detail})"
            key = f"{terr}|{grp}|{first.date().isoformat()}"
            alerts.append(Alert(
                rule=rule, key=key, territory_id=terr, period_start=first.to_pydatetime(),
                period_end=(last + pd.Timedelta(days=1)).to_pydatetime(),
                severity=_severity(cols["count"][run], cols["z"][run], cols["baseline"][run], rule), title=title,
                evidence={"days": _evidence_days(days, cols, run),
                          "peak_day": peak_day.date().isoformat(), "theme": None if grp == "_" else grp,
                          "rule_params": asdict(p), "baseline": "médiane du même jour de la semaine sur 8 semaines"},
            ))
    return alerts


def _negative_spike_alert(s: Spike, names: dict[str, str]) -> Alert:
    """The « Pic de messages négatifs » alert of one spike of :func:`analysis.ereputation.detect_spikes`.

    Critical when the spike holds at least 4 times the negative messages expected, else a warning."""
    first, last = pd.Timestamp(s.start), pd.Timestamp(s.end)
    detail = (f"{fr_int(s.negative)} messages négatifs pour {fr_num(s.expected, 1)} attendus sur la période, soit "
              f"{fr_pct(s.share, 0)} des messages évalués contre {fr_pct(s.baseline_share, 0)} d'habitude")
    title = (f"{RULES['negative_spike']} : {names.get(s.territory_id, s.territory_id)}, "
             f"{fr_period_end_included(first, last)} (pic le {fr_date(s.peak)} : {detail})")
    days = [{"day": d["day"].isoformat(), "count": d["negative"],
             "baseline": None if d["expected"] is None else round(d["expected"], 1), "total": d["scored"],
             "share": None if d["share"] is None else round(d["share"], 3)} for d in s.days]
    return Alert(
        rule="negative_spike", key=f"{s.territory_id}|_|{s.start.isoformat()}", territory_id=s.territory_id,
        period_start=first.to_pydatetime(), period_end=(last + pd.Timedelta(days=1)).to_pydatetime(),
        severity="critical" if s.negative >= 4 * max(s.expected, 1.0) else "warning", title=title,
        evidence={"days": days, "peak_day": s.peak.isoformat(), "theme": None, "rule_params": asdict(NEGATIVE_SPIKE),
                  "baseline": "médiane des 8 semaines précédentes (détecteur de la page E-réputation)",
                  "negative": s.negative, "expected": round(s.expected, 1), "share": round(s.share, 3),
                  "baseline_share": round(s.baseline_share, 3)})


def negative_spike_alerts(con: duckdb.DuckDBPyConnection, territories: list[str], start: date, end: date,
                          names: dict[str, str]) -> list[Alert]:
    """The negative spikes of ``territories`` on [start, end) found by THE detector
    (:func:`analysis.ereputation.detect_spikes`, the E-réputation page's), as alerts; a spike entirely
    before ``start`` (in the week that holds it) is left out."""
    spikes = detect_spikes(con, Filters(territories=tuple(territories), start=start, end=end))
    return [_negative_spike_alert(s, names) for s in spikes if s.end >= start]


def _has_rows(con, table: str) -> bool:
    return con.execute(f"SELECT count(*) > 0 FROM (SELECT 1 FROM {table} LIMIT 1)").fetchone()[0]


def evaluate(con: duckdb.DuckDBPyConnection, registry: Registry, territories: list[str] | None = None,
             since: date | None = None, until: date | None = None) -> tuple[list[Alert], list[str]]:
    """Evaluate every rule on [since, until) (default: the last 14 days of data).

    Returns (alerts detected, notes on rules that could not run and why).
    """
    last = con.execute("SELECT max(created_at)::DATE FROM messages").fetchone()[0]
    end = until or ((last + timedelta(days=1)) if last else date.today())
    start = since or (end - timedelta(days=14))
    terrs = territories or [t.territory_id for t in registry.territories]
    names = {t.territory_id: t.name for t in registry.territories}
    notes: list[str] = []
    lo = pd.Timestamp(start) - pd.Timedelta(days=7 * BASELINE_WEEKS + 7)
    has_sent, has_themes, has_tox = _has_rows(con, "sentiment"), _has_rows(con, "themes"), _has_rows(con, "toxicity")
    # One scan of the period (and its baseline weeks) counts what every rule needs.
    totals, by_theme = _daily_counts(con, terrs, lo.to_pydatetime(), pd.Timestamp(end).to_pydatetime(),
                                     has_sent and has_themes)
    first = _first_days(con, terrs, totals, lo) if len(totals) else {}
    totals["grp"] = "_"

    def grid(df: pd.DataFrame) -> pd.DataFrame:
        return _grid(df, first, start, end)

    alerts: list[Alert] = []
    alerts += _spike_alerts("volume_spike", grid(totals[["territory_id", "grp", "day", "n"]]), start, names,
                            "messages")
    if has_sent:
        alerts += negative_spike_alerts(con, terrs, start, end, names)
        if has_themes:
            # Share of the territory's whole conversation that is negative about the theme: every
            # day with messages to the territory counts (k = 0 when none is negative about the
            # theme), so a theme absent until now still has a baseline (≈ 0) and can *emerge*.
            th = by_theme.dropna(subset=["grp"])
            th_days = totals[["territory_id", "day", "n"]].merge(
                th[["territory_id", "grp"]].drop_duplicates(), on="territory_id")
            th_days = th_days.merge(th, on=["territory_id", "grp", "day"], how="left")
            th_days["k"] = th_days["k"].fillna(0).astype("int64")
            alerts += _spike_alerts("negative_theme", grid(th_days[["territory_id", "grp", "day", "n", "k"]]), start,
                                    names, "messages négatifs sur ce thème")
        else:
            notes.append("Thème négatif émergent : non évalué (table des thèmes vide, lancez l'enrichissement).")
    else:
        notes.append("Pic de messages négatifs, thème négatif émergent : non évalués (pas de sentiment, "
                     "lancez l'enrichissement).")
    if has_tox:
        alerts += _spike_alerts("hostile_burst", grid(totals[["territory_id", "grp", "day", "n", "hostile"]]
                                                      .rename(columns={"hostile": "k"})), start, names,
                                "messages hostiles")
    else:
        notes.append("Vague de messages hostiles : non évaluée (toxicité non calculée, lancez l'enrichissement).")
    for terr in terrs:
        imp = watch(con, registry, terr)
        for r in imp.itertuples(index=False):
            seen = pd.Timestamp(r.first_seen) if pd.notna(r.first_seen) else pd.Timestamp(end)
            last_seen = pd.Timestamp(r.last_seen) if pd.notna(r.last_seen) else seen
            if is_author(r.account_id):
                # A person writing messages under a look-alike name: the alert is read by elected
                # officials and mailed by cron, so it names neither the person nor their pseudonym
                # (analysts see them in the impersonation table, page « Modération & veille »).
                title = (f"{RULES['impersonation']} : un auteur de messages ({r.platform}) utilise un nom qui "
                         f"imite « {r.resembles} » — score {fr_int(r.score)}/100 (identité réservée aux analystes)")
                evidence = {"account_id": r.account_id, "platform": r.platform, "resembles": r.resembles,
                            "similarity": r.similarity, "score": r.score}
            else:
                title = (f"{RULES['impersonation']} : « {r.name or r.handle} » ({r.platform}) imite "
                         f"« {r.resembles} » — score {fr_int(r.score)}/100")
                evidence = {"account_id": r.account_id, "name": r.name, "handle": r.handle, "platform": r.platform,
                            "resembles": r.resembles, "similarity": r.similarity, "score": r.score,
                            "posts": r.posts, "detail": r.evidence}
            alerts.append(Alert(
                rule="impersonation", key=f"{terr}|{r.account_id}", territory_id=terr,
                period_start=seen.to_pydatetime(), period_end=last_seen.to_pydatetime(),
                severity="critical" if r.score >= 95 else "warning", title=title, evidence=evidence))
    return alerts, notes


def fire(con: duckdb.DuckDBPyConnection, alerts: list[Alert], now: datetime | None = None) -> list[Alert]:
    """Store alerts not fired before (by ``alert_id``); return only the new ones."""
    if not alerts:
        return []
    now = now or datetime.now(UTC).replace(tzinfo=None)
    ids = [a.alert_id for a in alerts]
    known = {r[0] for r in con.execute(
        f"SELECT alert_id FROM alerts WHERE alert_id IN ({', '.join('?' for _ in ids)})", ids).fetchall()}
    new, seen = [], set()
    for a in alerts:
        if a.alert_id in known or a.alert_id in seen:
            continue
        seen.add(a.alert_id)
        a.fired_at = now
        new.append(a)
    if new:
        with store.transaction(con):
            store.upsert(con, "alerts", pd.DataFrame([{
                "alert_id": a.alert_id, "rule": a.rule, "territory_id": a.territory_id, "fired_at": a.fired_at,
                "period_start": a.period_start, "period_end": a.period_end, "severity": a.severity,
                "title": a.title, "evidence": json.dumps(a.evidence, ensure_ascii=False, default=str)}
                for a in new]))
    return new


# ------------------------------------------------------------------------------ digest
def digest_text(alerts: list[Alert], notes: list[str] | None = None) -> str:
    """Plain-text digest (for cron mail)."""
    if not alerts:
        lines = ["Vigie — aucune nouvelle alerte."]
    else:
        lines = [f"Vigie — {fr_count(len(alerts), 'nouvelle alerte', 'nouvelles alertes')}", ""]
        for a in sorted(alerts, key=lambda a: (a.severity != "critical", a.period_start)):
            lines.append(f"[{SEVERITY_FR[a.severity]}] {a.title}")
    for n in notes or []:
        lines.append(f"Note : {n}")
    return "\n".join(lines) + "\n"


def digest_json(alerts: list[Alert], notes: list[str] | None = None) -> str:
    return json.dumps({"alerts": [a.as_json() for a in alerts], "notes": notes or []},
                      ensure_ascii=False, indent=2, default=str)


def digest_html(alerts: list[Alert], notes: list[str] | None = None) -> str:
    """Self-contained HTML digest; every user-provided string is escaped."""
    e = html.escape
    rows = []
    for a in sorted(alerts, key=lambda a: (a.severity != "critical", a.period_start)):
        ev = a.evidence.get("detail") or ", ".join(
            f"{fr_date(d['day'])} : {fr_int(d['count'])}" for d in a.evidence.get("days", [])[:10])
        rows.append(f"<tr class='{e(a.severity)}'><td>{e(SEVERITY_FR[a.severity])}</td><td>{e(RULES[a.rule])}</td>"
                    f"<td>{e(a.title)}</td><td>{e(str(ev))}</td></tr>")
    body = ("<table><thead><tr><th>Gravité</th><th>Règle</th><th>Alerte</th><th>Éléments</th></tr></thead><tbody>"
            + "".join(rows) + "</tbody></table>") if rows else "<p>Aucune nouvelle alerte.</p>"
    note_html = "".join(f"<p class='note'>{e(n)}</p>" for n in notes or [])
    return ("<!doctype html><html lang='fr'><head><meta charset='utf-8'><title>Vigie — alertes</title><style>"
            "body{font-family:sans-serif;margin:2em}table{border-collapse:collapse}td,th{border:1px solid #ccc;"
            "padding:4px 8px;vertical-align:top}.critical td:first-child{color:#b00;font-weight:bold}"
            ".note{color:#555}</style></head><body><h1>Vigie — alertes</h1>"
            f"{body}{note_html}</body></html>\n")
