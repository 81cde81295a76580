"""Headline generator: the figures of a period turned into plain-French findings.

Independent of any rendering: the report's first page and the app's Synthèse page both call
:func:`findings`. Every figure comes from the library functions the app and notebooks use
(:mod:`analysis.ereputation`, :func:`analysis.metrics.territory_kpis`, :mod:`analysis.audience`,
:mod:`analysis.moderation`); this module only compares and words them.

A change is *claimed* ("s'améliore", "augmente") only when its 95 % interval excludes zero;
otherwise the finding says « stable » and gives the estimate as within the margin. Follower
totals are exports of the platforms' own counters, not samples: their change is stated as is
(certainty ``exact``).
"""

from __future__ import annotations

import math
from collections.abc import Sequence
from dataclasses import asdict, dataclass, field
from typing import Any

import duckdb
import numpy as np
import pandas as pd

from analysis import derived, ereputation, metrics
from analysis.audience import growth
from analysis.fmt import fr_count, fr_int, fr_num, fr_pct, fr_signed
from analysis.metrics import points
from analysis.moderation.responsiveness import summary_sql
from analysis.queries import Filters
from analysis.reports.period import Period, parse_period
from analysis.territories import peers_of  # noqa: F401 - re-exported

Z95 = 1.959963984540054

# certainty codes → what a reader sees next to the change
CERTAINTY_FR = {
    "significant": "évolution nette (intervalle à 95 % hors de zéro)",
    "stable": "stable (écart dans la marge d'incertitude)",
    "exact": "compté, sans marge d'échantillonnage",
    "unknown": "non mesurable (données manquantes)",
}

# Formulas of the comparisons made here (printed in the methods appendix with metrics.FORMULAS).
FORMULAS_FR: dict[str, str] = {
    "volume_change": "Évolution du volume = M₁ ÷ M₀ − 1 ; IC 95 % du rapport de deux comptages de Poisson : "
                     "exp(ln(M₁ ÷ M₀) ± 1,96 × √(1 ÷ M₁ + 1 ÷ M₀)) − 1",
    "mean_difference": "Écart d'engagement par publication = moyenne₁ − moyenne₀ ; IC 95 % de Welch (normal) : "
                       "± 1,96 × √(s₁² ÷ n₁ + s₀² ÷ n₀)",
    "proportion_difference": "Écart de deux proportions ou sentiments nets : méthode de Newcombe à partir des "
                             "intervalles de Wilson de chaque période",
    "response_rate": "Taux de réponse = messages appelant une réponse (questions et messages négatifs) suivis d'une "
                     "réponse officielle ÷ ces messages, plateformes où les réponses sont visibles ; IC de Wilson",
    "claim_rule": "Une évolution n'est annoncée que si son intervalle à 95 % exclut zéro ; sinon « stable »",
}


@dataclass
class Finding:
    """One headline: a KPI, its value, its change vs the reference, a French sentence, a certainty."""

    kpi: str
    value: float | None
    change: float | None
    reading: str
    certainty: str  # significant | stable | exact | unknown
    label: str = ""
    value_fr: str = "—"
    change_fr: str = "—"
    change_lo: float | None = None
    change_hi: float | None = None
    reference: str = ""  # « septembre », « les territoires comparés »
    direction: str = "flat"  # up | down | flat (of the claimed change)
    tone: str = "neutral"  # good | bad | neutral: how the claimed change reads for the territory
    peers_value_fr: str = "—"
    peers_position: str = ""  # above | below | level | ""
    details: dict[str, Any] = field(default_factory=dict)
    interval_fr: str = "—"  # « de −2 à +5 points »: the 95 % interval of the change

    def as_dict(self) -> dict[str, Any]:
        return asdict(self)


# ------------------------------------------------------------------------------ intervals
def rate_ratio_change(current: float | None, reference: float | None) -> tuple[float | None, tuple[float, float] | None]:
    """Relative change M₁ ÷ M₀ − 1 of two counts and its 95 % interval (log rate ratio of Poisson counts)."""
    if current is None or reference is None or reference <= 0:
        return None, None
    if current <= 0:
        return -1.0, None
    r = current / reference
    half = Z95 * math.sqrt(1 / current + 1 / reference)
    return r - 1, (math.exp(math.log(r) - half) - 1, math.exp(math.log(r) + half) - 1)


def mean_difference(a: Sequence[float], b: Sequence[float]) -> tuple[float | None, tuple[float, float] | None]:
    """Difference of means a − b with a 95 % Welch (normal) interval; None when either side has < 2 values."""
    x, y = np.asarray(a, dtype="float64"), np.asarray(b, dtype="float64")
    if len(x) < 2 or len(y) < 2:
        return None, None
    d = float(x.mean() - y.mean())
    se = math.sqrt(x.var(ddof=1) / len(x) + y.var(ddof=1) / len(y))
    return d, (d - Z95 * se, d + Z95 * se)


def signed(v: float | None, decimals: int = 0, unit: str = "") -> str:
    """``+8 points`` / ``−1,5 point`` / ``0 point``: rounded first (no « −0 »), French singular below 2."""
    if v is None:
        return "—"
    r = round(float(v), decimals) + 0.0  # + 0.0 turns −0.0 into 0.0
    if unit in ("points", "abonnés") and abs(r) < 2:
        unit = unit[:-1]
    return fr_signed(r, decimals, unit) if r else fr_num(0, decimals) + ("\u00a0" + unit if unit else "")


def _pct_change(v: float | None) -> str:
    """A relative change as ``+12 %`` / ``−3 %`` (no « −0 % »)."""
    if v is None:
        return "—"
    r = round(100 * float(v)) + 0.0
    return (fr_signed(r, 0) if r else "0") + "\u00a0%"


def _certainty(ci: tuple[float, float] | None) -> str:
    if ci is None:
        return "unknown"
    return "significant" if ci[0] > 0 or ci[1] < 0 else "stable"


_none = metrics.number_or_none


# ------------------------------------------------------------------------------ figures
def _sentiment_table(con: duckdb.DuckDBPyConnection, f: Filters) -> pd.DataFrame:
    """Sentiment counts per territory of the selection (:func:`analysis.ereputation.sentiment_table`).

    One scan serves the territory and its peers: the pooled figures are rebuilt from the summed
    counts by :func:`_pooled_sentiment`, which is what ``ereputation.kpis`` computes over them."""

    if derived.usable(con, f):  # the same counts, summed from the daily table
        return derived.sentiment_counts(con, f)
    return ereputation.sentiment_table(con, f, by=("territory_id",))


def _pooled_sentiment(table: pd.DataFrame, territories: Sequence[str]) -> dict[str, Any]:
    """``ereputation.kpis`` of ``territories`` from their rows of :func:`_sentiment_table`: counts
    summed (each message has one territory), then the same metrics and intervals."""

    rows = table[table["territory_id"].isin(list(territories))]
    counts = pd.DataFrame({c: [int(rows[c].sum())] for c in ereputation.COUNT_COLUMNS}, dtype="int64")
    row = ereputation.add_metrics(counts)[list(ereputation.COUNT_COLUMNS) + list(ereputation.METRIC_COLUMNS)].iloc[0]
    return {k: (None if isinstance(v, float) and math.isnan(v) else (int(v) if k in ereputation.COUNT_COLUMNS
                                                                     else float(v)))
            for k, v in row.items()}


def _post_engagement(con: duckdb.DuckDBPyConnection, f: Filters) -> np.ndarray:
    """Engagement of every official post of the selection where it is known (same rule as territory_kpis)."""
    w, params = f.where("p")
    e = con.execute(  # each post's engagement computed once, fetched as an array (no Python row per post)
        f"SELECT e FROM (SELECT {metrics.engagement_sql('p')} AS e FROM posts p "
        f"JOIN accounts a ON a.account_id = p.account_id AND a.official "
        f"WHERE {w} AND p.territory_id IS NOT NULL) WHERE e IS NOT NULL", params).fetchnumpy()["e"]
    return np.asarray(e, dtype="float64")


def _engagement_per_post(con: duckdb.DuckDBPyConnection, f: Filters) -> dict[str, Any]:
    k = metrics.territory_kpis(con, f.start, f.end, f.territories, f.platforms)
    posts = int(k["posts"].sum()) if len(k) else 0
    n = k["posts_with_engagement"].sum() if len(k) else 0
    value = float(k["engagement"].sum() / n) if n else None  # pooled over territories = Σ engagement ÷ Σ posts
    return {"posts": posts, "engagement_per_post": value}


def _response_table(con: duckdb.DuckDBPyConnection, f: Filters) -> pd.DataFrame:
    """Messages needing an answer and answered, per territory × platform where replies are visible
    (:func:`analysis.moderation.responsiveness.summary_sql`: the 'all' slot of ``responsiveness``,
    without the per-slot split the findings do not use). One call serves the territory and its
    peers: every figure of a territory depends on its own messages only."""

    r = summary_sql(con, f, "needs_answer", by=("territory_id", "platform"))
    return r[r["visible"].astype(bool)] if len(r) else r


def _response(table: pd.DataFrame, territories: Sequence[str]) -> dict[str, Any]:
    """Response rate of ``territories`` pooled, with its Wilson interval, from :func:`_response_table`."""
    r = table[table["territory_id"].isin(list(territories))] if len(table) else table
    incoming, answered = (int(r["incoming"].sum()), int(r["answered"].sum())) if len(r) else (0, 0)
    rate = metrics.response_rate(answered, incoming)
    ci = metrics.wilson_interval(answered, incoming) if incoming else None
    return {"incoming": incoming, "answered": answered, "response_rate": rate, "ci": ci}


def _followers(con: duckdb.DuckDBPyConnection, f: Filters) -> dict[str, Any]:
    """Followers at the start and end of the period summed over the accounts of ``f`` whose exports give
    the total: the « all » rows of :func:`analysis.audience.growth_by_territory` summed, from the
    accounts' growth directly (the table per territory and platform was two thirds of the cost)."""

    g = growth(con, f)
    g = g[g["followers_end"].notna() & g["territory_id"].notna()]
    if not len(g):
        return {"followers_end": None, "net_new": None, "growth_rate": None}
    fs, fe = g["followers_start"].sum(), g["followers_end"].sum()
    return {"followers_end": _none(fe), "net_new": _none(fe - fs),
            "growth_rate": metrics.ratio(fe - fs, fs)}


# ------------------------------------------------------------------------------ wording
SUBJECTS = {
    "messages": ("Le volume de messages", "Messages reçus", 0),
    "net_sentiment": ("La tonalité", "Sentiment net", +1),
    "negative_share": ("La part de messages négatifs", "Part de messages négatifs", -1),
    "engagement_per_post": ("L'engagement par publication", "Engagement par publication", +1),
    "response_rate": ("Le taux de réponse aux messages qui appellent une réponse", "Taux de réponse", +1),
    "followers": ("L'audience", "Abonnés (fin de période)", +1),
}


def _verb(kpi: str, direction: str) -> tuple[str, str]:
    """(verb, tone) of a claimed change, by the KPI's polarity."""
    polarity = SUBJECTS[kpi][2]
    if kpi == "followers":
        return ("progresse", "good") if direction == "up" else ("recule", "bad")
    if polarity == 0:
        return ("augmente" if direction == "up" else "diminue"), "neutral"
    good = (direction == "up") == (polarity > 0)
    if kpi in ("net_sentiment", "engagement_per_post", "response_rate"):
        return ("s'améliore" if good else "se dégrade"), ("good" if good else "bad")
    return ("augmente" if direction == "up" else "diminue"), ("good" if good else "bad")


PEERS_PHRASE = "par rapport aux territoires comparés"


def _peer_clause(position: str) -> str:
    return {"above": ", au-dessus de la moyenne des territoires comparés",
            "below": ", en dessous de la moyenne des territoires comparés",
            "level": ", au niveau des territoires comparés"}.get(position, "")


def _reading(kpi: str, change_fr: str, what: str, certainty: str, change: float | None, ref_phrase: str,
             peers_position: str, extra: str = "") -> tuple[str, str, str]:
    """(sentence, direction, tone)."""
    subject = SUBJECTS[kpi][0]
    extra = f" {extra}" if extra else ""
    if certainty == "unknown" or change is None:
        ref = ref_phrase.replace("par rapport aux ", "avec les ").replace("par rapport à ", "avec ")
        return (f"{subject} n'a pas de point de comparaison {ref} : données manquantes.{extra}",
                "flat", "neutral")
    if ref_phrase == PEERS_PHRASE:  # a gap with the peers is a position, not a change over time
        if certainty == "stable":
            return (f"{subject} est au niveau des territoires comparés (écart de {change_fr}{what}, dans la marge "
                    f"d'incertitude).{extra}", "flat", "neutral")
        direction = "up" if change > 0 else "down"
        good = (direction == "up") == (SUBJECTS[kpi][2] > 0)
        where = "au-dessus" if direction == "up" else "en dessous"
        return (f"{subject} est {where} de la moyenne des territoires comparés : {change_fr}{what}.{extra}",
                direction, "neutral" if SUBJECTS[kpi][2] == 0 else ("good" if good else "bad"))
    if certainty == "stable":
        return (f"{subject} est stable {ref_phrase} ({change_fr}{what}, dans la marge d'incertitude)"
                f"{_peer_clause(peers_position)}.{extra}", "flat", "neutral")
    direction = "up" if change > 0 else "down"
    verb, tone = _verb(kpi, direction)
    return (f"{subject} {verb} : {change_fr}{what} {ref_phrase}{_peer_clause(peers_position)}.{extra}",
            direction, tone)


def _position(diff_ci: tuple[float, float] | None) -> str:
    c = _certainty(diff_ci)
    if c == "unknown":
        return ""
    if c == "stable":
        return "level"
    return "above" if diff_ci[0] > 0 else "below"


# ------------------------------------------------------------------------------ generator
def findings(con: duckdb.DuckDBPyConnection, territory: str, period: Period, compare: str = "previous",
             platforms: Sequence[str] = ()) -> list[Finding]:
    """Headlines of ``territory`` over ``period``, each compared with the previous period
    (``compare='previous'``) or with the peers pooled (``'peers'``); the peers' position is added
    to the sentence whenever peers exist. Order: tone, volume, negative share, engagement,
    responsiveness, audience."""
    if compare not in ("previous", "peers"):
        raise ValueError(f"Comparaison inconnue : {compare!r} (attendu : previous ou peers)")
    f = Filters((territory,), period.start, period.end, tuple(platforms))
    prev = Filters((territory,), period.previous().start, period.previous().end, tuple(platforms))
    peers = peers_of(con, territory)
    fp = f.with_territories(peers) if peers else None
    vs_prev = compare == "previous"
    ref_phrase = f"par rapport à {period.previous().short_label}" if vs_prev else PEERS_PHRASE
    reference = period.previous().short_label if vs_prev else "les territoires comparés"
    out: list[Finding] = []

    # The territory and its peers share one query over the period (per-territory counts, pooled
    # here); the territory alone is queried over the previous period, only when it is compared with it.
    both = f.with_territories((territory, *peers))

    # --- sentiment and volume (analysis.ereputation)
    sent = _sentiment_table(con, both)
    cur = _pooled_sentiment(sent, (territory,))
    ref_prev = _pooled_sentiment(_sentiment_table(con, prev), (territory,)) if vs_prev else None
    ref_peers = _pooled_sentiment(sent, peers) if fp else None
    ref = ref_prev if vs_prev else ref_peers

    def prop_diff(k: str, a: dict, b: dict | None) -> tuple[float | None, tuple[float, float] | None]:
        if b is None or a.get(k) is None or b.get(k) is None:
            return None, None
        ci = metrics.difference_interval(a[k], (a[f"{k}_lo"], a[f"{k}_hi"]), b[k], (b[f"{k}_lo"], b[f"{k}_hi"]))
        return (None, None) if ci is None else (a[k] - b[k], ci)

    # net sentiment, in points (×100)
    d, ci = prop_diff("net_sentiment", cur, ref)
    pos = _position(prop_diff("net_sentiment", cur, ref_peers)[1]) if vs_prev else ""
    cert = _certainty(ci)
    ch_fr = signed(points(d), 0, "points")
    text, direction, tone = _reading("net_sentiment", ch_fr, " de sentiment net", cert, d, ref_phrase, pos)
    v = cur.get("net_sentiment")
    out.append(Finding("net_sentiment", v, d, text, cert, SUBJECTS["net_sentiment"][1],
                       signed(points(v), 0), ch_fr,
                       *(ci or (None, None)), reference, direction, tone,
                       signed(None if not ref_peers else points(ref_peers.get("net_sentiment")), 0), pos,
                       {"scored": cur.get("scored"), "unit": "points (−100 à +100)"}))

    # message volume (relative, Poisson)
    m_cur = cur.get("messages")
    if vs_prev:
        d, ci = rate_ratio_change(m_cur, ref_prev.get("messages"))
        ch_fr = _pct_change(d)
        cert = _certainty(ci)
        text, direction, tone = _reading("messages", ch_fr, "", cert, d, ref_phrase, "",
                                         f"{fr_count(m_cur, 'message reçu', 'messages reçus')}.")
    else:
        # peers differ in size: compare volumes per 1,000 inhabitants would be a benchmark, not a change
        d, ci, cert, ch_fr, direction, tone = None, None, "exact", "—", "flat", "neutral"
        text = f"{fr_count(m_cur, 'message reçu', 'messages reçus')} sur la période."
    out.append(Finding("messages", m_cur, d, text, cert, SUBJECTS["messages"][1], fr_int(m_cur), ch_fr,
                       *(ci or (None, None)), reference, direction, tone))

    # negative share, change in points
    d, ci = prop_diff("negative_share", cur, ref)
    pos = _position(prop_diff("negative_share", cur, ref_peers)[1]) if vs_prev else ""
    cert = _certainty(ci)
    ch_fr = signed(points(d), 1, "points")
    text, direction, tone = _reading("negative_share", ch_fr, "", cert, d, ref_phrase, pos)
    v = cur.get("negative_share")
    out.append(Finding("negative_share", v, d, text, cert, SUBJECTS["negative_share"][1], fr_pct(v, 1), ch_fr,
                       *(ci or (None, None)), reference, direction, tone,
                       fr_pct(ref_peers.get("negative_share") if ref_peers else None, 1), pos))

    # engagement per official post (metrics.territory_kpis), Welch interval on per-post values
    e_cur = _engagement_per_post(con, f)
    vals_cur = _post_engagement(con, f)
    vals_prev = _post_engagement(con, prev) if vs_prev else np.array([])
    vals_peers = _post_engagement(con, fp) if fp else np.array([])
    vals_ref = vals_prev if vs_prev else vals_peers
    d, ci = mean_difference(vals_cur, vals_ref)
    base = float(vals_ref.mean()) if len(vals_ref) else None
    rel = d / base if d is not None and base else None
    pos = _position(mean_difference(vals_cur, vals_peers)[1]) if vs_prev and fp else ""
    cert = _certainty(ci)
    ch_fr = _pct_change(rel)
    text, direction, tone = _reading("engagement_per_post", ch_fr, "", cert, d, ref_phrase, pos,
                                     f"En moyenne {fr_num(e_cur['engagement_per_post'], 1)} interactions sur "
                                     f"{fr_count(e_cur['posts'], 'publication officielle', 'publications officielles')}.")
    v = e_cur["engagement_per_post"]
    out.append(Finding("engagement_per_post", v, rel, text, cert, SUBJECTS["engagement_per_post"][1],
                       fr_num(v, 1), ch_fr, None if ci is None or not base else ci[0] / base,
                       None if ci is None or not base else ci[1] / base, reference, direction, tone,
                       fr_num(float(vals_peers.mean()) if len(vals_peers) else None, 1), pos,
                       {"posts": e_cur["posts"]}))

    # response rate to messages needing an answer (moderation.responsiveness)
    resp = _response_table(con, both)
    r_cur = _response(resp, (territory,))
    r_prev = _response(_response_table(con, prev), (territory,)) if vs_prev else None
    r_peers = _response(resp, peers) if fp else None
    r_ref = r_prev if vs_prev else r_peers

    def rate_diff(a: dict, b: dict | None) -> tuple[float | None, tuple[float, float] | None]:
        if b is None or a["response_rate"] is None or b["response_rate"] is None:
            return None, None
        ci_ = metrics.difference_interval(a["response_rate"], a["ci"], b["response_rate"], b["ci"])
        return (None, None) if ci_ is None else (a["response_rate"] - b["response_rate"], ci_)

    d, ci = rate_diff(r_cur, r_ref)
    pos = _position(rate_diff(r_cur, r_peers)[1]) if vs_prev else ""
    cert = _certainty(ci)
    ch_fr = signed(points(d), 0, "points")
    extra = (f"{fr_count(r_cur['answered'], 'réponse')} sur {fr_int(r_cur['incoming'])} questions et messages "
             f"négatifs.") if r_cur["incoming"] else ""
    text, direction, tone = _reading("response_rate", ch_fr, "", cert, d, ref_phrase, pos, extra)
    v = r_cur["response_rate"]
    out.append(Finding("response_rate", v, d, text, cert, SUBJECTS["response_rate"][1], fr_pct(v, 0), ch_fr,
                       *(ci or (None, None)), reference, direction, tone,
                       fr_pct(r_peers["response_rate"] if r_peers else None, 0), pos,
                       {"incoming": r_cur["incoming"], "answered": r_cur["answered"]}))

    # followers (audience.growth, as growth_by_territory sums it): platform counters, no sampling error
    a_cur = _followers(con, f)
    net = a_cur["net_new"]
    if a_cur["followers_end"] is None:
        text, cert, direction, tone = ("Aucun export d'abonnés ne couvre la période : l'audience n'est pas "
                                       "mesurée."), "unknown", "flat", "neutral"
    elif net is None or net == 0:
        text, cert, direction, tone = (f"L'audience est stable : {fr_count(a_cur['followers_end'], 'abonné')} en fin "
                                       "de période."), "exact", "flat", "neutral"
    else:
        direction = "up" if net > 0 else "down"
        verb, tone = _verb("followers", direction)
        text = (f"L'audience {verb} : {signed(net, 0, 'abonnés')} nets sur la période "
                f"({fr_count(a_cur['followers_end'], 'abonné')} en fin de période, "
                f"{fr_pct(a_cur['growth_rate'], 1, signed=True).replace('-', '−')}).")
        cert = "exact"
    out.append(Finding("followers", a_cur["followers_end"], net, text, cert, SUBJECTS["followers"][1],
                       fr_int(a_cur["followers_end"]), signed(net, 0, "abonnés"), None, None,
                       "début de période", direction, tone, "—", "",
                       {"growth_rate": a_cur["growth_rate"]}))
    for x in out:
        x.interval_fr = _interval_fr(x)
    return out


def _interval_fr(x: Finding) -> str:
    """The change's 95 % interval in the unit of ``change_fr``."""
    if x.change_lo is None or x.change_hi is None:
        return "—"
    if x.kpi in ("messages", "engagement_per_post"):
        def fmt(v: float) -> str:
            return _pct_change(v)
        unit = ""
    else:
        def fmt(v: float) -> str:
            return signed(points(v), 1 if x.kpi == "negative_share" else 0)
        unit = "\u00a0points"
    return f"de {fmt(x.change_lo)} à {fmt(x.change_hi)}{unit}"


def fr_points(v: float | None, decimals: int = 0) -> str:
    """A net sentiment in [−1, 1] as signed points: ``+23`` (used by views that show the KPI)."""
    return fr_signed(points(v), decimals)




def findings_records(con: duckdb.DuckDBPyConnection, territory: str, period: str, compare: str = "previous",
                     platforms: Sequence[str] = ()) -> list[dict[str, Any]]:
    """:func:`findings` for a period code (``2026-10``) as plain dicts (cacheable by the app)."""

    return [x.as_dict() for x in findings(con, territory, parse_period(period), compare, platforms)]
