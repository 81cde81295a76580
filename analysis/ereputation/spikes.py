"""Negative spikes: THE detector (:func:`detect_spikes`, thresholds :data:`NEGATIVE_SPIKE`) behind
the E-réputation page, the « Pic de messages négatifs » alert, the report and the campaigns' crisis
warning, and what explains a spike (messages, distinctive terms, themes)."""

from __future__ import annotations

import re
from collections.abc import Sequence
from dataclasses import dataclass, field, replace
from datetime import date, timedelta
from typing import Any

import duckdb
import numpy as np
import pandas as pd
import pyarrow as pa
import pyarrow.compute as pc

from analysis import metrics
from analysis.ereputation.core import _base, _counts, _dedup_key, _local, _utc_midnight, focus
from analysis.fmt import fr_int, fr_num
from analysis.queries import Filters
from analysis.territories import own_territory, peers_of  # noqa: F401 - re-exported (notebooks)
from analysis.topics import STOP_WORDS_FR, TOKEN_PATTERN, surface, territory_words, theme_labels


# ------------------------------------------------------------------------------ spikes
@dataclass(frozen=True)
class SpikeParams:
    """Thresholds of :func:`detect_spikes` (defaults tuned so a quiet year of the demo fires nothing)."""

    baseline_weeks: int = 8     # trailing weeks forming the baseline (same weekday for daily series)
    min_support: int = 4        # baseline points with scored messages needed to judge a period
    min_count: int = 8          # fewer negative messages than this is never a spike
    ratio: float = 2.0          # and at least this many times the baseline count
    alpha: float = 1e-4         # tail probability threshold (many periods are tested: strict)
    share_ratio: float = 1.4    # and a negative share at least this many times the usual one
    max_gap: int = 1            # quiet periods tolerated inside one episode


EXTEND_ALPHA = 0.01  # daily tail probability for extending a weekly spike over neighbouring days
# The thresholds of THE negative-spike detector (:func:`detect_spikes`): the E-réputation page, the
# « Pic de messages négatifs » alert, the report and the campaigns' crisis warning all use these.
NEGATIVE_SPIKE = SpikeParams()


def spike_rule_text(params: SpikeParams = NEGATIVE_SPIKE) -> str:
    """The rule of :func:`detect_spikes` in French, built from ``params`` (the page's caption): a
    threshold changed here changes the text, never a copy of the numbers."""
    odds = round(1 / params.alpha)
    return (f"Chaque semaine est comparée aux {params.baseline_weeks} semaines précédentes (médiane, hors "
            f"semaines déjà anormales). Un pic exige au moins {fr_int(params.min_count)} messages négatifs, "
            f"{fr_num(params.ratio, 1).removesuffix(',0')} fois le niveau habituel, une probabilité sous 1 sur "
            f"{fr_int(odds)} de l'observer par hasard (loi de Poisson surdispersée) et une part de négatifs "
            f"d'au moins {fr_num(params.share_ratio, 1).removesuffix(',0')} fois l'habituelle : une publication "
            f"très commentée ne suffit pas. Les dates du pic sont ensuite précisées au jour (jours à au moins "
            f"{fr_num(params.ratio, 1).removesuffix(',0')} fois le niveau habituel du même jour de la semaine).")


def _tail_probability(k: float, lam: float, var: float) -> float:
    """P(X ≥ k) under the baseline: Poisson(λ) when var ≤ λ, else the negative binomial with that
    mean and variance (r = λ² ÷ (var − λ), p = λ ÷ var) — real daily counts are over-dispersed."""
    return float(_tail_probabilities(np.array([k], dtype="float64"), np.array([lam], dtype="float64"),
                                     np.array([var], dtype="float64"))[0])


def _median(values: list[float]) -> float:
    """Median of a short list, as ``np.median`` computes it (middle value, or the mean of the two
    middle ones), without numpy's per-call overhead (it ran twice per period of a daily series)."""
    v = sorted(values)
    h = len(v) // 2
    return float(v[h]) if len(v) % 2 else (v[h - 1] + v[h]) / 2


def _tail_probabilities(k: np.ndarray, lam: np.ndarray, var: np.ndarray) -> np.ndarray:
    """:func:`_tail_probability` of arrays (one scipy call per distribution); 1 where k ≤ 0."""
    from scipy.stats import nbinom, poisson

    out = np.ones(len(k))
    pois = (k > 0) & (var <= lam * (1 + 1e-9))
    nb = (k > 0) & ~pois
    out[pois] = poisson.sf(k[pois] - 1, lam[pois])
    out[nb] = nbinom.sf(k[nb] - 1, lam[nb] * lam[nb] / (var[nb] - lam[nb]), lam[nb] / var[nb])
    return out


def _baseline_shares(base_k: np.ndarray, base_n: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
    """Wilson bounds of baseline negative shares (``base_k`` negatives out of ``base_n`` scored)."""
    b = metrics.sentiment_intervals(np.zeros(len(base_k)), base_k, base_n - base_k)
    return b["negative_share_lo"], b["negative_share_hi"]


def _share_gap(ints: dict[str, np.ndarray], i: int, p0: float, p0_lo: float,
               p0_hi: float) -> tuple[float, float] | None:
    """Newcombe interval of the negative share of period ``i`` minus the baseline share ``p0``."""
    return metrics.difference_interval(
        ints["negative_share"][i], (ints["negative_share_lo"][i], ints["negative_share_hi"][i]),
        p0, (p0_lo, p0_hi))


def score_series(series: pd.DataFrame, freq: str = "day", params: SpikeParams = NEGATIVE_SPIKE) -> pd.DataFrame:
    """Score every period of a complete, regular series with columns ``negative`` and ``scored``.

    Baseline of period *i*: the same weekday of the ``baseline_weeks`` previous weeks (``freq='day'``,
    the weekly season) or the ``baseline_weeks`` previous weeks (``freq='week'``); periods already
    flagged are left out, so a crisis does not become its own baseline. With at least
    ``min_support`` baseline points: expected count λ = median, robust variance
    max(λ, (1,4826·MAD)²), p-value = P(X ≥ k) (Poisson, or negative binomial when over-dispersed),
    baseline share p₀ = Σ negatives ÷ Σ scored. A period is anomalous when k ≥ ``min_count``,
    k ≥ ``ratio`` × max(λ, 1), p ≤ ``alpha`` *and* the share k ÷ scored is above p₀, both
    significantly (the lower bound of the Newcombe interval of share − p₀, Wilson on both, is > 0)
    and substantially (share ≥ ``share_ratio`` × p₀) — more negative messages than usual and not
    only because more people wrote (a popular post, an event week). The effect-size bar matters
    on large stores: with thousands of messages a week, a 28 % → 32 % share is "significant".
    Adds: expected, variance, p_value, share, baseline_share, share_lo (lower bound of share − p₀),
    anomalous.
    """
    if freq not in ("day", "week"):
        raise ValueError("Détection des pics : période 'day' ou 'week'.")
    step = 7 if freq == "day" else 1
    k = series["negative"].to_numpy(dtype="float64")
    n = series["scored"].to_numpy(dtype="float64")
    m = len(k)
    expected, variance, pval = np.full(m, np.nan), np.full(m, np.nan), np.full(m, np.nan)
    p0s, share_lo = np.full(m, np.nan), np.full(m, np.nan)
    flagged = np.zeros(m, dtype=bool)
    ints = metrics.sentiment_intervals(np.zeros(m), k, n - k)  # negative share and its Wilson bounds
    share = ints["negative_share"]
    lam_fs, base_k, base_n = np.full(m, np.nan), np.full(m, np.nan), np.full(m, np.nan)
    # The loop only decides the flags (a flagged period leaves later baselines); p-values and the
    # share intervals of every period are computed after it, vectorised: a scipy or numpy call per
    # period cost most of the time on a daily series. Flags need them only where the cheap tests pass.
    for i in range(m):
        lags = [i - step * j for j in range(1, params.baseline_weeks + 1)
                if i - step * j >= 0 and not flagged[i - step * j]]
        lags = [j for j in lags if n[j] > 0]
        if len(lags) < params.min_support:
            continue
        lk, ln = k[lags], n[lags]
        kl = lk.tolist()
        lam = _median(kl)
        mad = _median([abs(x - lam) for x in kl])
        lam_f = max(lam, 0.5)  # never seen in 8 weeks is not impossible: half a message
        var = max(lam_f, (1.4826 * mad) ** 2)
        expected[i], variance[i], lam_fs[i] = lam, var, lam_f
        base_k[i], base_n[i] = max(lk.sum(), 0.5), ln.sum()
        p0s[i] = base_k[i] / base_n[i]
        if (k[i] >= params.min_count and k[i] >= params.ratio * max(lam, 1.0) and n[i] > 0
                and share[i] >= params.share_ratio * p0s[i]):
            lo, hi = _baseline_shares(base_k[i:i + 1], base_n[i:i + 1])
            d = _share_gap(ints, i, p0s[i], lo[0], hi[0])
            flagged[i] = bool(d is not None and d[0] > 0 and _tail_probability(k[i], lam_f, var) <= params.alpha)
    judged = np.flatnonzero(~np.isnan(expected))
    pval[judged] = _tail_probabilities(k[judged], lam_fs[judged], variance[judged])
    with_scored = judged[n[judged] > 0]
    los, his = _baseline_shares(base_k[with_scored], base_n[with_scored])
    for j, i in enumerate(with_scored):
        d = _share_gap(ints, i, p0s[i], los[j], his[j])
        share_lo[i] = np.nan if d is None else d[0]
    out = series.copy()
    out["expected"], out["variance"], out["p_value"] = expected, variance, pval
    out["share"], out["baseline_share"], out["share_lo"] = share, p0s, share_lo
    out["anomalous"] = flagged
    return out


def negative_series(con: duckdb.DuckDBPyConnection, f: Filters, freq: str = "day",
                    params: SpikeParams = NEGATIVE_SPIKE) -> pd.DataFrame:
    """Scored negative-count series per territory of ``f`` (all territories when none selected),
    starting ``baseline_weeks`` + 1 weeks before ``f.start`` so the first periods have a baseline.

    One row per territory and period (zeros filled), columns of :func:`score_series`.
    """
    if freq not in ("day", "week"):
        raise ValueError("Détection des pics : période 'day' ou 'week'.")
    return _score_counts(_daily_counts(con, f, params), f, freq, params)


def _daily_counts(con: duckdb.DuckDBPyConnection, f: Filters, params: SpikeParams) -> pd.DataFrame:
    """Counts per territory and local day from ``baseline_weeks`` + 1 weeks before ``f.start`` (the
    baseline of the first periods): the one scan behind both daily and weekly series."""
    lead = timedelta(weeks=params.baseline_weeks + 1)
    wide = replace(f, start=(pd.Timestamp(f.start) - lead).date() if f.start else None)
    t = _counts(con, wide, {"territory_id": "territory_id"}, "day")
    return t[t["territory_id"].notna()]


def _score_counts(t: pd.DataFrame, f: Filters, freq: str, params: SpikeParams) -> pd.DataFrame:
    """:func:`negative_series` from the daily counts of :func:`_daily_counts` (summed into ISO weeks,
    labelled by their Monday, for ``freq='week'``)."""
    if freq == "week" and not t.empty:
        monday = t["period"] - pd.to_timedelta(t["period"].dt.day_of_week, unit="D")
        t = (t.assign(period=monday).groupby(["territory_id", "period"], as_index=False, sort=True)
             [["messages", "negative", "scored"]].sum())
    if t.empty:
        return pd.DataFrame(columns=["territory_id", "period", "messages", "negative", "scored", "expected",
                                     "variance", "p_value", "share", "baseline_share", "share_lo", "anomalous"])
    last = pd.Timestamp(f.end) - pd.Timedelta(days=1) if f.end else t["period"].max()
    if freq == "week":  # periods are ISO weeks labelled by their Monday
        last = pd.Timestamp(last) - pd.Timedelta(days=pd.Timestamp(last).weekday())
    out = []
    for terr, g in t.groupby("territory_id", sort=True):
        idx = pd.date_range(g["period"].min(), max(pd.Timestamp(last), g["period"].max()),
                            freq="D" if freq == "day" else "7D")
        s = g.set_index("period")[["messages", "negative", "scored"]].reindex(idx, fill_value=0)
        s.index.name = "period"
        scored = score_series(s.reset_index(), freq, params)
        scored.insert(0, "territory_id", terr)
        if f.start:  # keep the week that contains the first day
            scored = scored[scored["period"] > pd.Timestamp(f.start) - pd.Timedelta(days=7 if freq == "week" else 1)]
        out.append(scored)
    return pd.concat(out, ignore_index=True)


@dataclass
class Spike:
    """One episode of anomalous periods for one territory."""

    territory_id: str
    start: date
    end: date  # inclusive (last anomalous day, or last day of the last anomalous week)
    peak: date
    negative: int
    expected: float
    scored: int
    messages: int
    share: float
    baseline_share: float
    min_p_value: float
    periods: int
    freq: str = "day"
    details: dict = field(default_factory=dict)
    # each day of the spike: day, negative, expected (same-weekday median), scored, share, p_value
    days: list = field(default_factory=list)

    def as_dict(self) -> dict:
        d = {k: getattr(self, k) for k in ("territory_id", "start", "end", "peak", "negative", "expected",
                                           "scored", "messages", "share", "baseline_share", "min_p_value",
                                           "periods", "freq")}
        for k in ("start", "end", "peak"):
            d[k] = d[k].isoformat()
        return d


def _episodes(scored: pd.DataFrame, freq: str, max_gap: int) -> list[pd.DataFrame]:
    step = 1 if freq == "day" else 7
    rows = scored[scored["anomalous"]]
    out, cur = [], []
    for i, r in rows.iterrows():
        if cur and (r["period"] - scored.loc[cur[-1], "period"]).days > step * (max_gap + 1):
            out.append(scored.loc[cur])
            cur = []
        cur.append(i)
    if cur:
        out.append(scored.loc[cur])
    return out


def detect_spikes(con: duckdb.DuckDBPyConnection, f: Filters, freq: str = "week",
                  params: SpikeParams = NEGATIVE_SPIKE) -> list[Spike]:
    """THE negative-spike detector (one definition: the E-réputation page, the alerts, the report and
    the campaigns' crisis warning call it). Negative spikes of each territory of ``f`` inside its period, against a robust baseline.

    Each period is scored by :func:`score_series`; consecutive anomalous periods (up to
    ``max_gap`` quiet ones inside) form one spike. ``freq='week'`` (default) judges ISO weeks
    against the 8 previous weeks: daily counts of a territory swing with every popular post, and
    on the demo store the daily test fires on ordinary busy days while the weekly one finds only
    the crisis. The spike's dates are then narrowed to days: from the first to the last day of
    the flagged weeks with at least ``ratio`` × the usual count of that weekday (same-weekday
    median over 8 weeks), extended over adjacent days that pass that bar with a daily p ≤ 0,01
    (a crisis straddling two weeks). ``freq='day'`` judges days against the same weekday directly (more
    sensitive, noisier). ``negative``/``expected``/``scored`` are summed over the spike's days.
    Sorted by start date.
    """
    if freq not in ("day", "week"):
        raise ValueError("Détection des pics : période 'day' ou 'week'.")
    counts = _daily_counts(con, f, params)
    series = _score_counts(counts, f, freq, params)
    daily = series if freq == "day" else _score_counts(counts, f, "day", params)
    spikes: list[Spike] = []
    for terr, g in series.groupby("territory_id", sort=True):
        g = g.reset_index(drop=True)
        d_terr = daily[daily["territory_id"] == terr]
        for ep in _episodes(g, freq, params.max_gap):
            first = ep["period"].min()
            last = ep["period"].max() + pd.Timedelta(days=0 if freq == "day" else 6)
            days = d_terr[(d_terr["period"] >= first) & (d_terr["period"] <= last)]
            hot = days[days["negative"] >= params.ratio * days["expected"].clip(lower=1.0)]
            if freq == "week" and len(hot):
                first, last = hot["period"].min(), hot["period"].max()
                # A crisis straddling a week boundary: extend over neighbouring days that are clearly
                # anomalous on their own (same-weekday test, p ≤ EXTEND_ALPHA) even if their week is not.
                strong = d_terr.set_index("period")
                strong = strong[(strong["negative"] >= params.ratio * strong["expected"].clip(lower=1.0))
                                & (strong["p_value"] <= EXTEND_ALPHA)].index
                while first - pd.Timedelta(days=1) in strong:
                    first -= pd.Timedelta(days=1)
                while last + pd.Timedelta(days=1) in strong:
                    last += pd.Timedelta(days=1)
                days = d_terr[(d_terr["period"] >= first) & (d_terr["period"] <= last)]
            excess = days["negative"] - days["expected"].fillna(0)
            peak = days.loc[excess.idxmax(), "period"] if len(days) else first
            k, n = int(days["negative"].sum()), int(days["scored"].sum())
            spikes.append(Spike(
                territory_id=str(terr), start=first.date(), end=last.date(), peak=peak.date(),
                negative=k, expected=float(days["expected"].fillna(0).sum()), scored=n,
                messages=int(days["messages"].sum()), share=k / n if n else float("nan"),
                baseline_share=float(np.nanmean(ep["baseline_share"])), min_p_value=float(ep["p_value"].min()),
                periods=len(ep), freq=freq,
                days=[{"day": r.period.date(), "negative": int(r.negative),
                       "expected": None if pd.isna(r.expected) else float(r.expected), "scored": int(r.scored),
                       "share": float(r.share) if r.scored else None,
                       "p_value": None if pd.isna(r.p_value) else float(r.p_value)}
                      for r in days.itertuples()]))
    spikes.sort(key=lambda s: (s.start, s.territory_id))
    return spikes


def spikes_table(spikes: Sequence[Spike]) -> pd.DataFrame:
    """One row per spike (raw values; views format them)."""
    cols = ["territory_id", "start", "end", "peak", "negative", "expected", "scored", "messages", "share",
            "baseline_share", "min_p_value", "periods", "freq"]
    return pd.DataFrame([s.as_dict() for s in spikes], columns=cols)


def _window(territory: str, start: date, end: date, platforms: Sequence[str] = ()) -> Filters:
    """Filters of one spike (``end`` inclusive → exclusive)."""
    return Filters(territories=(territory,), start=start, end=end + timedelta(days=1), platforms=tuple(platforms))


_MSG_COLUMNS = (f"message_id, {_local('created_at')} AS local_at, platform, post_id, text, likes, replies, "
                "engagement, sentiment, corrected, p_negative, p_positive")
_NEG_COLUMNS = ("message_id, created_at, platform, post_id, text, likes, replies, engagement, sentiment, corrected, "
                "p_negative, p_positive")
_THEMES_EMPTY = ["theme", "label", "spike_count", "spike_share", "baseline_share", "lift"]


def _negatives(con: duckdb.DuckDBPyConnection, territory: str, start: date, end: date,
               platforms: Sequence[str] = ()) -> pa.Table:
    """Negative messages of one territory over local days ``start`` … ``end`` (inclusive), as an
    Arrow table: SQL types and NULLs kept, so DuckDB can query it again (:func:`_query_table`)."""
    base, params = _base(_window(territory, start, end, platforms))
    # A cursor of its own: DuckDB 2 refuses con.sql() while an earlier execute() result on the same
    # connection is unfinished (a fetchone()), and Arrow output from execute() copies the rows.
    cur = con.cursor()
    try:
        return cur.sql(f"WITH m AS ({base}) SELECT {_NEG_COLUMNS} FROM m WHERE sentiment = 'negative'",
                       params=params).to_arrow_table()
    finally:
        cur.close()


def _query_table(con: duckdb.DuckDBPyConnection, tables: dict[str, pa.Table], sql: str,
                 params: Sequence[Any] = (), split: tuple[str, Sequence[str]] | None = None) -> Any:
    """Run ``sql`` over Arrow tables visible under the given names (and the store's tables), on a
    cursor of its own so that the names never leak into the caller's connection.

    ``split``: (column, values): one DataFrame per value (a dict, without that column), each converted
    by DuckDB on its own so that its dtypes are those of a query returning only those rows (an
    integer column is ``int64`` unless *that* part holds a NULL)."""
    cur = con.cursor()
    try:
        for name, table in tables.items():
            cur.register(name, table)
        if split is None:
            return cur.execute(sql, list(params)).df()
        col, values = split
        res = cur.sql(sql, params=list(params)).to_arrow_table()
        return {v: cur.from_arrow(res.filter(pc.equal(res[col], v)).drop_columns([col])).df() for v in values}
    finally:
        cur.close()


def _split_at(negatives: pa.Table, day: date) -> tuple[pa.Table, pa.Table]:
    """Rows of ``negatives`` before local day ``day`` and from it on."""
    cut = pa.scalar(_utc_midnight(day), type=negatives.schema.field("created_at").type)
    after = pc.greater_equal(negatives["created_at"], cut)
    return negatives.filter(pc.invert(after)), negatives.filter(after)


def spike_messages(con: duckdb.DuckDBPyConnection, territory: str, start: date, end: date, n: int = 5,
                   platforms: Sequence[str] = (), terms: Sequence[str] = ()) -> dict[str, pd.DataFrame]:
    """The negative messages that drive a spike: ``most_negative`` (corrections first, then model
    probability) and ``most_engaged`` (likes + replies). With ``terms`` (the spike's distinctive
    terms), messages using one of them come first (``on_topic``): during a crisis the usual
    grumbles go on, and they do not explain it. No author column: views for elected officials
    show no identities. Near-duplicate texts (same words) are shown once."""
    return _top_negatives(con, _negatives(con, territory, start, end, platforms), n, terms)


def _top_negatives(con: duckdb.DuckDBPyConnection, negatives: pa.Table, n: int,
                   terms: Sequence[str]) -> dict[str, pd.DataFrame]:
    """:func:`spike_messages` of the rows of :func:`_negatives`."""
    words = [t for t in terms if t]
    if words:
        # Terms are lower-case surface forms (hashtags whole): a whole-word match in the lower-cased text.
        pattern = "|".join(re.escape(t) for t in words)
        on_topic = "regexp_matches(lower(text), ?)"
        topic_params = [rf"(^|[^\w#])({pattern})($|\W)"]
    else:
        on_topic, topic_params = "FALSE", []
    orders = {"most_negative": "on_topic DESC, corrected DESC, coalesce(p_negative, 1) DESC, engagement DESC",
              "most_engaged": "on_topic DESC, engagement DESC, coalesce(p_negative, 1) DESC"}
    # Both lists in one query, so the (costly) duplicate key is computed once per message: per list,
    # the first message of each duplicate group, ranked (message_id breaks ties: a total order).
    ranked = " UNION ALL ".join(f"""
        SELECT * FROM (
            SELECT '{key}' AS list, row_number() OVER (ORDER BY {order}, message_id) AS rank, {_MSG_COLUMNS}, on_topic
            FROM (SELECT * FROM d QUALIFY row_number() OVER (PARTITION BY dkey ORDER BY {order}, message_id) = 1))
        WHERE rank <= ?""" for key, order in orders.items())
    lists = _query_table(con, {"spike_negatives": negatives}, f"""
        WITH d AS (SELECT *, {_dedup_key('text')} AS dkey, coalesce({on_topic}, FALSE) AS on_topic
                   FROM spike_negatives)
        SELECT * EXCLUDE (rank) FROM ({ranked}) ORDER BY list, rank
    """, topic_params + [n] * len(orders), split=("list", list(orders)))
    return lists


def distinctive_terms(target: Sequence[str] | pd.Series, reference: Sequence[str] | pd.Series, n: int = 10,
                      exclude: set[str] | None = None, min_count: int = 3) -> pd.DataFrame:
    """Words and bigrams over-represented in ``target`` texts vs ``reference`` texts.

    Weighted log-odds ratio with an informative Dirichlet prior (Monroe, Colaresi & Quinn 2008):
    δ = log((yᵗ + α) ÷ (nᵗ + α₀ − yᵗ − α)) − log((yʳ + α) ÷ (nʳ + α₀ − yʳ − α)), α = α₀ × prior
    share (pooled counts), α₀ = 500; z = δ ÷ √(1 ÷ (yᵗ + α) + 1 ÷ (yʳ + α)). Counts are documents
    containing the term (binary), French stop words out. Returns term, count (in target), z.
    """
    from sklearn.feature_extraction.text import CountVectorizer


    target, reference = list(target), list(reference)
    if not target:
        return pd.DataFrame(columns=["term", "count", "z"])
    # Copies of one text (shares, copy-paste campaigns) are tokenised once; the document counts
    # weight each distinct text by its number of copies in the target and in the reference.
    codes, distinct = pd.factorize(pd.Series(target + reference, dtype=object), use_na_sentinel=False)
    cv = CountVectorizer(lowercase=False, token_pattern=TOKEN_PATTERN, stop_words=list(STOP_WORDS_FR),
                         ngram_range=(1, 2), binary=True, dtype=np.float32)
    try:
        X = cv.fit_transform(surface(pd.Series(distinct, dtype=object)))
    except ValueError:  # only stop words
        return pd.DataFrame(columns=["term", "count", "z"])
    copies_t = np.bincount(codes[: len(target)], minlength=len(distinct)).astype(float)
    copies_r = np.bincount(codes[len(target):], minlength=len(distinct)).astype(float)
    yt = np.asarray(X.T @ copies_t).ravel()
    yr = np.asarray(X.T @ copies_r).ravel()
    a0 = 500.0
    alpha = a0 * (yt + yr) / max((yt + yr).sum(), 1.0)
    nt, nr = yt.sum(), yr.sum()
    delta = (np.log((yt + alpha) / (nt + a0 - yt - alpha)) - np.log((yr + alpha) / (nr + a0 - yr - alpha)))
    z = delta / np.sqrt(1 / (yt + alpha) + 1 / (yr + alpha))
    terms = cv.get_feature_names_out()
    df = pd.DataFrame({"term": terms, "count": yt.astype(int), "z": z})
    excl = {e.lower() for e in (exclude or set())}
    keep = (df["count"] >= min_count) & df["term"].map(
        lambda s: not (set(s.split()) & excl) and not any(w.isdigit() for w in s.split()))
    df = df[keep].sort_values(["z", "term"], ascending=[False, True])
    # Overlapping terms ('mairie savait', 'savait veut') repeat one phrase: a term sharing a word
    # with a better-ranked one is left out.
    shown: list[str] = []
    used: set[str] = set()
    for term in df["term"]:
        words = set(term.split())
        if words & used:
            continue
        shown.append(term)
        used |= words
        if len(shown) == n:
            break
    return df[df["term"].isin(shown)].reset_index(drop=True)


def _spike_and_baseline(con: duckdb.DuckDBPyConnection, spike: Spike, baseline_weeks: int,
                        platforms: Sequence[str]) -> tuple[pa.Table, pa.Table]:
    """Negative messages of the spike and of the ``baseline_weeks`` before it (one scan)."""
    first = spike.start - timedelta(weeks=baseline_weeks)
    before, during = _split_at(_negatives(con, spike.territory_id, first, spike.end, platforms), spike.start)
    return during, before


def spike_terms(con: duckdb.DuckDBPyConnection, spike: Spike, n: int = 10, baseline_weeks: int = 8,
                platforms: Sequence[str] = ()) -> pd.DataFrame:
    """Terms of the spike's negative messages vs the negative messages of the ``baseline_weeks`` before it."""
    during, before = _spike_and_baseline(con, spike, baseline_weeks, platforms)
    return _terms_of(con, spike, during, before, n)


def _terms_of(con: duckdb.DuckDBPyConnection, spike: Spike, during: pa.Table, before: pa.Table,
              n: int) -> pd.DataFrame:

    return distinctive_terms(during["text"].to_pylist(), before["text"].to_pylist(), n=n,
                             exclude=territory_words(con, [spike.territory_id]))


def spike_themes(con: duckdb.DuckDBPyConnection, spike: Spike, baseline_weeks: int = 8,
                 platforms: Sequence[str] = ()) -> pd.DataFrame:
    """Themes of the spike's negative messages: share during the spike vs the weeks before
    (themes table; empty when themes were not computed). Columns theme, label (French), spike_count,
    spike_share, baseline_share, lift."""
    if not con.execute("SELECT 1 FROM themes WHERE item_type = 'message' LIMIT 1").fetchall():
        return pd.DataFrame(columns=_THEMES_EMPTY)
    return _themes_of(con, *_spike_and_baseline(con, spike, baseline_weeks, platforms))


def _themes_of(con: duckdb.DuckDBPyConnection, during: pa.Table, before: pa.Table) -> pd.DataFrame:
    """:func:`spike_themes` of the negative messages during the spike and before it."""
    ids = pa.table({"message_id": pa.concat_arrays([during["message_id"].combine_chunks(),
                                                    before["message_id"].combine_chunks()]),
                    "which": ["spike"] * during.num_rows + ["baseline"] * before.num_rows})
    counts = _query_table(con, {"spike_ids": ids}, """
        SELECT t.theme, neg.which, count(DISTINCT t.item_id) AS n
        FROM themes t JOIN spike_ids AS neg ON t.item_id = neg.message_id AND t.item_type = 'message'
        WHERE t.theme <> 'none' GROUP BY 1, 2
    """)
    res = []
    for name, total in (("spike", during.num_rows), ("baseline", before.num_rows)):
        df = counts[counts["which"] == name][["theme", "n"]].copy()
        df["total"] = total
        df["which"] = name
        res.append(df)
    df = pd.concat(res)
    if df.empty:
        return pd.DataFrame(columns=_THEMES_EMPTY)
    wide = df.pivot_table(index="theme", columns="which", values=["n", "total"], aggfunc="first").fillna(0)
    out = pd.DataFrame({"theme": wide.index})
    sp_n = wide[("n", "spike")].to_numpy() if ("n", "spike") in wide else np.zeros(len(wide))
    sp_t = wide[("total", "spike")].max() if ("total", "spike") in wide else 0
    bl_n = wide[("n", "baseline")].to_numpy() if ("n", "baseline") in wide else np.zeros(len(wide))
    bl_t = wide[("total", "baseline")].max() if ("total", "baseline") in wide else 0
    out["spike_count"] = sp_n.astype(int)
    out["spike_share"] = sp_n / sp_t if sp_t else np.nan
    out["baseline_share"] = bl_n / bl_t if bl_t else np.nan
    # Lift with half a message of smoothing so a theme absent before is large, not infinite.
    out["lift"] = (sp_n + 0.5) / max(sp_t, 1) / ((bl_n + 0.5) / max(bl_t, 1))

    out.insert(1, "label", out["theme"].map(lambda t: theme_labels().get(t, t)))
    return out[out["spike_count"] > 0].sort_values(["spike_count", "lift"], ascending=False).reset_index(drop=True)


def explain_spike(con: duckdb.DuckDBPyConnection, spike: Spike, n_messages: int = 5, n_terms: int = 8,
                  platforms: Sequence[str] = ()) -> Spike:
    """Fill ``spike.details`` with its messages, terms and themes (returns the spike).

    One scan fetches the negative messages of the spike and of the 8 weeks before it; terms,
    messages and themes are computed from them."""
    during, before = _spike_and_baseline(con, spike, 8, platforms)
    terms = _terms_of(con, spike, during, before, n_terms)
    has_themes = con.execute("SELECT 1 FROM themes WHERE item_type = 'message' LIMIT 1").fetchall()
    spike.details = {
        **_top_negatives(con, during, n_messages, terms["term"].head(3).tolist()),
        "terms": terms,
        "themes": _themes_of(con, during, before) if has_themes else pd.DataFrame(columns=_THEMES_EMPTY),
    }
    return spike


def explained_spikes(con: duckdb.DuckDBPyConnection, f: Filters, freq: str = "week", n_messages: int = 5,
                     n_terms: int = 8) -> list[Spike]:
    """:func:`detect_spikes` on the focus territories, each with its messages, terms and themes."""
    ff = f.with_territories(focus(con, f))
    return [explain_spike(con, s, n_messages, n_terms, platforms=f.platforms)
            for s in detect_spikes(con, ff, freq=freq)]


def focus_negative_series(con: duckdb.DuckDBPyConnection, f: Filters, freq: str = "week") -> pd.DataFrame:
    """:func:`negative_series` of the focus territories (the detection behind the spikes, for charts)."""
    return negative_series(con, f.with_territories(focus(con, f)), freq)


