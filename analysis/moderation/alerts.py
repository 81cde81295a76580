"""Alert rules evaluated over the store, each firing once (stable id per rule and key).

Every rule compares a day with a *seasonal* baseline: the same weekday over the previous 8
weeks, so a busy Saturday is not an alert.

- Volume spike (counts): anomalous when ``x ≥ min_count``, ``x ≥ ratio × median`` and the
  robust z-score ``(x − median) / max(1.4826 × MAD, √median, 1) ≥ z``.
- Negative spike, emerging negative theme, hostile burst (shares): the share of negative
  (negative on the theme, hostile) messages among all the day's messages to the territory against the pooled share ``p₀`` of the same 8
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
from dataclasses import asdict, dataclass, field
from datetime import UTC, date, datetime, timedelta

import duckdb
import numpy as np
import pandas as pd

from analysis import store
from analysis.fmt import fr_date, fr_int, fr_num, fr_pct, fr_period
from analysis.moderation.impersonation import watch
from analysis.moderation.queue import MESSAGES, hostile_sql
from analysis.registry import Registry

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
    "negative_spike": SpikeParams(z=5.0, ratio=1.8, min_count=15),
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


def seasonal_anomalies(daily: pd.Series, p: SpikeParams, exclude_flagged: bool = False) -> pd.DataFrame:
    """Score each day of a complete daily count series against the same weekday of the 8
    previous weeks (median, MAD). Returns count, baseline, spread, z, anomalous.

    ``exclude_flagged`` leaves anomalous days out of later baselines. Off for volume: a
    seasonal rise (summer, December) would otherwise keep firing for weeks."""
    x = daily.astype(float).to_numpy()
    n = len(x)
    med, spread, z = np.full(n, np.nan), np.ones(n), np.full(n, np.nan)
    flagged = np.zeros(n, dtype=bool)
    for i in range(n):
        lags = _lag_matrix(x, flagged if exclude_flagged else np.zeros(n, dtype=bool), i)
        if len(lags) < 4:
            continue
        med[i] = np.median(lags)
        mad = np.median(np.abs(lags - med[i]))
        spread[i] = max(1.4826 * mad, np.sqrt(med[i]), 1.0)
        z[i] = (x[i] - med[i]) / spread[i]
        flagged[i] = x[i] >= p.min_count and x[i] >= p.ratio * med[i] and z[i] >= p.z
    return pd.DataFrame({"count": x, "baseline": med, "spread": spread, "z": z, "anomalous": flagged},
                        index=daily.index)


def share_anomalies(k: pd.Series, n: pd.Series, p: SpikeParams) -> pd.DataFrame:
    """Score the daily share ``k / n`` against the pooled share of the same weekday over the 8
    previous weeks (binomial z-score). Returns count, total, share, baseline (expected count
    ``n p₀``), baseline_share, z, anomalous."""
    kk, nn = k.astype(float).to_numpy(), n.astype(float).to_numpy()
    m = len(kk)
    p0s, expected, z = np.full(m, np.nan), np.full(m, np.nan), np.full(m, np.nan)
    flagged = np.zeros(m, dtype=bool)
    share = np.where(nn > 0, kk / np.maximum(nn, 1), np.nan)
    for i in range(m):
        ln = _lag_matrix(nn, flagged, i)
        if (ln > 0).sum() < 4:
            continue
        lk = _lag_matrix(kk, flagged, i)
        # A share never seen in 8 weeks is not zero-probability: floor at half a message.
        p0 = min(max(lk.sum(), 0.5) / ln.sum(), 1 - 1e-6)
        p0s[i], expected[i] = p0, nn[i] * p0
        z[i] = (kk[i] - expected[i]) / np.sqrt(max(nn[i] * p0 * (1 - p0), 1e-9))
        flagged[i] = kk[i] >= p.min_count and share[i] >= p.ratio * p0 and z[i] >= p.z
    return pd.DataFrame({"count": kk, "total": nn, "share": share, "baseline": expected,
                         "baseline_share": p0s, "z": z, "anomalous": flagged}, index=k.index)


def episodes(scored: pd.DataFrame, max_gap: int = 2) -> list[pd.DataFrame]:
    """Group anomalous days into episodes (runs, tolerating ``max_gap`` quiet days inside).

    Two: a crisis has calmer days (a weekend, a day without an update) and must stay one alert,
    also for a daily cron that sees it grow day by day."""
    days = list(scored.index[scored["anomalous"]])
    out, cur = [], []
    for d in days:
        if cur and (pd.Timestamp(d) - pd.Timestamp(cur[-1])).days > max_gap + 1:
            out.append(scored.loc[cur])
            cur = []
        cur.append(d)
    if cur:
        out.append(scored.loc[cur])
    return out


def _daily(con: duckdb.DuckDBPyConnection, sql: str, params: list, start: date, end: date) -> pd.DataFrame:
    """Run ``sql`` (columns: territory_id, grp, day, n[, k]) and return a complete day grid
    (zeros filled) per territory and group, from each territory's first day of data to ``end``."""
    df = con.execute(sql, params).df()
    if df.empty:
        return df
    df["day"] = pd.to_datetime(df["day"])
    first = con.execute(f"SELECT territory_id, min(created_at)::DATE FROM {MESSAGES} GROUP BY 1").fetchall()
    first = {t: pd.Timestamp(d) for t, d in first}
    grids = []
    for (terr, grp), g in df.groupby(["territory_id", "grp"], dropna=False):
        lo = max(first.get(terr, g["day"].min()), pd.Timestamp(start) - pd.Timedelta(days=7 * BASELINE_WEEKS + 7))
        idx = pd.date_range(lo, pd.Timestamp(end) - pd.Timedelta(days=1), freq="D")
        cols = [c for c in ("n", "k") if c in g.columns]
        s = g.set_index("day")[cols].reindex(idx, fill_value=0)
        grids.append(pd.DataFrame({"territory_id": terr, "grp": grp, "day": idx,
                                   **{c: s[c].to_numpy() for c in cols}}))
    return pd.concat(grids, ignore_index=True)


def _severity(ep: pd.DataFrame, rule: str) -> str:
    peak = ep.loc[ep["z"].idxmax()]
    if rule == "volume_spike" and len(ep) == 1:
        return "info"  # one busy day (a popular post) is worth knowing, not worth waking anyone
    if len(ep) == 1 and ep["count"].sum() < 3 * PARAMS[rule].min_count:
        # a single day with a handful of messages (10 on one theme) is a signal, not a crisis:
        # a huge z-score on a near-zero baseline must not read « critique » to an official
        return "warning"
    if peak["z"] >= 8 or peak["count"] >= 4 * max(peak["baseline"], 1):
        return "critical"
    return "warning"


def _theme_label(theme_id: str) -> str:
    """French label of a theme id (« Vie citoyenne », not « vie_citoyenne »): the title is read by officials."""
    from analysis.topics import load_taxonomy

    try:
        return load_taxonomy().label(theme_id)
    except (OSError, ValueError):  # no or broken taxonomy file: the id still says which theme
        return theme_id


def _spike_alerts(con, rule: str, sql: str, params: list, start: date, end: date, names: dict[str, str],
                  what: str) -> list[Alert]:
    grid = _daily(con, sql, params, start, end)
    alerts: list[Alert] = []
    if grid.empty:
        return alerts
    p = PARAMS[rule]
    for (terr, grp), g in grid.groupby(["territory_id", "grp"], dropna=False):
        g = g.set_index("day")
        scored = share_anomalies(g["k"], g["n"], p) if "k" in g.columns else seasonal_anomalies(g["n"], p)
        for ep in episodes(scored):
            first, last = ep.index.min(), ep.index.max()
            if last < pd.Timestamp(start):
                continue  # episode entirely before the evaluated window
            peak_day = ep["z"].idxmax()
            peak = ep.loc[peak_day]
            grp_txt = f" — thème «\u00a0{_theme_label(grp)}\u00a0»" if grp and grp != "_" else ""
            detail = (f"{fr_int(peak['count'])} {what} pour {fr_num(peak['baseline'], 1)} attendus")
            if "share" in ep.columns:
                detail += (f", soit {fr_pct(peak['share'], 0)} des messages contre {fr_pct(peak['baseline_share'], 0)} "
                           "d'habitude")
            title = f"{RULES[rule]}{grp_txt} : {names.get(terr, terr)}, {fr_period(first, last)} (pic le {fr_date(peak_day)} : {detail})"
            key = f"{terr}|{grp}|{first.date().isoformat()}"
            alerts.append(Alert(
                rule=rule, key=key, territory_id=terr, period_start=first.to_pydatetime(),
                period_end=(last + pd.Timedelta(days=1)).to_pydatetime(), severity=_severity(ep, rule), title=title,
                evidence={"days": [{"day": d.date().isoformat(), "count": int(r["count"]),
                                    "baseline": None if np.isnan(r["baseline"]) else round(float(r["baseline"]), 1),
                                    "z": round(float(r["z"]), 1),
                                    **({"total": int(r["total"]), "share": round(float(r["share"]), 3),
                                        "baseline_share": round(float(r["baseline_share"]), 3)}
                                       if "share" in ep.columns else {})} for d, r in ep.iterrows()],
                          "peak_day": peak_day.date().isoformat(), "theme": None if grp == "_" else grp,
                          "rule_params": asdict(p), "baseline": "médiane du même jour de la semaine sur 8 semaines"},
            ))
    return alerts


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
    tw = f"territory_id IN ({', '.join('?' for _ in terrs)})"
    lo = pd.Timestamp(start) - pd.Timedelta(days=7 * BASELINE_WEEKS + 7)
    period = [*terrs, lo.to_pydatetime(), pd.Timestamp(end).to_pydatetime()]
    incoming = f"{tw} AND NOT coalesce(is_official, FALSE) AND created_at >= ? AND created_at < ?"
    alerts: list[Alert] = []
    alerts += _spike_alerts(
        con, "volume_spike",
        f"SELECT territory_id, '_' AS grp, created_at::DATE AS day, count(*) AS n FROM {MESSAGES} "
        f"WHERE {incoming} GROUP BY ALL", period, start, end, names, "messages")
    if _has_rows(con, "sentiment"):
        alerts += _spike_alerts(
            con, "negative_spike",
            f"SELECT m.territory_id, '_' AS grp, m.created_at::DATE AS day, count(*) AS n, "
            f"count(*) FILTER (WHERE s.label = 'negative') AS k FROM {MESSAGES} m "
            f"LEFT JOIN sentiment s ON s.item_id = m.message_id AND s.item_type = 'message' "
            f"WHERE {incoming.replace('territory_id', 'm.territory_id')} GROUP BY ALL",
            period, start, end, names, "messages négatifs")
        if _has_rows(con, "themes"):
            alerts += _spike_alerts(
                con, "negative_theme",
                # Share of the territory's whole conversation that is negative about the theme:
                # a theme absent until now still has a baseline (≈ 0), so it can *emerge*.
                f"WITH tot AS (SELECT territory_id, created_at::DATE AS day, count(*) AS n FROM {MESSAGES} m "
                f"WHERE {incoming} GROUP BY ALL), "
                f"neg AS (SELECT m.territory_id, th.theme AS grp, m.created_at::DATE AS day, count(*) AS k "
                f"FROM {MESSAGES} m JOIN themes th ON th.item_id = m.message_id AND th.item_type = 'message' "
                f"JOIN sentiment s ON s.item_id = m.message_id AND s.item_type = 'message' "
                f"WHERE {incoming.replace('territory_id', 'm.territory_id')} AND s.label = 'negative' GROUP BY ALL) "
                f"SELECT tot.territory_id, g.grp, tot.day, tot.n, coalesce(neg.k, 0) AS k FROM tot "
                f"JOIN (SELECT DISTINCT territory_id, grp FROM neg) g USING (territory_id) "
                f"LEFT JOIN neg ON neg.territory_id = tot.territory_id AND neg.grp = g.grp AND neg.day = tot.day",
                period + period,                start, end, names, "messages négatifs sur ce thème")
        else:
            notes.append("Thème négatif émergent : non évalué (table des thèmes vide, lancez l'enrichissement).")
    else:
        notes.append("Pic de messages négatifs, thème négatif émergent : non évalués (pas de sentiment, "
                     "lancez l'enrichissement).")
    if _has_rows(con, "toxicity"):
        alerts += _spike_alerts(
            con, "hostile_burst",
            f"SELECT m.territory_id, '_' AS grp, m.created_at::DATE AS day, count(*) AS n, "
            f"count(*) FILTER (WHERE {hostile_sql('t')}) AS k FROM {MESSAGES} m "
            f"LEFT JOIN toxicity t USING (message_id) "
            f"WHERE {incoming.replace('territory_id', 'm.territory_id')} GROUP BY ALL",
            period, start, end, names, "messages hostiles")
    else:
        notes.append("Vague de messages hostiles : non évaluée (toxicité non calculée, lancez l'enrichissement).")
    for terr in terrs:
        imp = watch(con, registry, terr)
        for r in imp.itertuples(index=False):
            seen = pd.Timestamp(r.first_seen) if pd.notna(r.first_seen) else pd.Timestamp(end)
            last_seen = pd.Timestamp(r.last_seen) if pd.notna(r.last_seen) else seen
            alerts.append(Alert(
                rule="impersonation", key=f"{terr}|{r.account_id}", territory_id=terr,
                period_start=seen.to_pydatetime(), period_end=last_seen.to_pydatetime(),
                severity="critical" if r.score >= 95 else "warning",
                title=f"{RULES['impersonation']} : « {r.name or r.handle} » ({r.platform}) imite "
                      f"« {r.resembles} » — score {fr_int(r.score)}/100",
                evidence={"account_id": r.account_id, "name": r.name, "handle": r.handle, "platform": r.platform,
                          "resembles": r.resembles, "similarity": r.similarity, "score": r.score,
                          "posts": r.posts, "detail": r.evidence},
            ))
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
        lines = [f"Vigie — {fr_int(len(alerts))} nouvelle(s) alerte(s)", ""]
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
