"""Campaign effects: the daily panel, the KPIs, the block bootstrap, before/after and difference-in-differences."""

from __future__ import annotations

import math
from dataclasses import asdict, dataclass, field
from datetime import date, timedelta
from typing import Any

import duckdb
import numpy as np
import pandas as pd

from analysis import metrics
from analysis.campaigns.crisis import crisis_warnings, excluded_periods, window_warnings
from analysis.campaigns.model import Campaign, _has_rows, daily_messages_current, get_campaign, match_posts
from analysis.fmt import fr_num, fr_pct, fr_signed
from analysis.queries import Filters, data_range
from analysis.territories import peers_of


# ================================================================================ daily panel
@dataclass(frozen=True)
class KPI:
    """A campaign KPI as a ratio of daily sums: Σ num ÷ Σ den over the days of a period."""

    id: str
    name: str
    num: str
    den: str
    scale: str  # "log": multiplicative effect (%), "diff": additive effect (points)
    formula: str
    effect_num: str | None = None  # numerator used for the effect when it differs from the level's


KPIS: dict[str, KPI] = {k.id: k for k in (
    # The effect is measured on each post's engagement relative to its account's mean over the
    # evaluation window: a week with more Facebook posts (more engagement each) than usual then
    # does not move the figure, which narrows the interval without changing a multiplicative effect.
    KPI("engagement_per_post", "L'engagement par publication", "eng", "eng_posts", "log",
        metrics.FORMULAS["engagement_per_post"].formula
        + " (effet mesuré sur l'engagement de chaque publication rapporté à la moyenne de son compte)",
        effect_num="eng_rel"),
    KPI("engagement_rate", "Le taux d'engagement (abonnés)", "er_num", "er_den", "log",
        metrics.FORMULAS["er_followers"].formula),
    KPI("posts", "Le nombre de publications par jour", "posts", "one", "log", "publications ÷ jours"),
    KPI("messages", "Le volume de messages par jour", "messages", "one", "log", "messages reçus ÷ jours"),
    KPI("net_sentiment", "Le sentiment net", "net", "polar", "diff", metrics.FORMULAS["net_sentiment"].formula),
    KPI("new_followers", "Le nombre de nouveaux abonnés par jour", "new_followers", "nf_days", "log",
        "nouveaux abonnés ÷ jours renseignés"),
)}


def daily_panel(con: duckdb.DuckDBPyConnection, territories: list[str], start: date, end: date) -> pd.DataFrame:
    """One row per territory and day in [start, end] with the sums every KPI is built from.

    Days without posts have ``posts = 0`` and ``eng_posts = 0`` (they weigh nothing in a per-post
    ratio); ``new_followers`` stays NULL on days the exports do not cover (``nf_days`` = 0).
    """
    e = metrics.engagement_sql("p")
    t_list = ", ".join("?" for _ in territories)
    s, en = pd.Timestamp(start).to_pydatetime(), pd.Timestamp(end + timedelta(days=1)).to_pydatetime()
    has_sent = _has_rows(con, "sentiment")
    sent_join = ("LEFT JOIN sentiment s ON s.item_id = m.message_id AND s.item_type = 'message' "
                 "LEFT JOIN labels l ON l.item_id = m.message_id AND l.item_type = 'message' AND l.task = 'sentiment'")
    label = "coalesce(l.value, s.label)" if has_sent else "NULL"
    if daily_messages_current(con, start, end):  # the same sums from the derived table (UTC days: whole days here)
        pos, neg = ("sum(positive)::BIGINT", "sum(negative)::BIGINT") if has_sent else ("0::BIGINT", "0::BIGINT")
        messages_sql = f"""
        SELECT territory_id, day AS date, sum(messages)::BIGINT AS messages, {pos} AS pos, {neg} AS neg
        FROM daily_messages_utc WHERE territory_id IN ({t_list}) AND day >= ?::DATE AND day < ?::DATE
        GROUP BY ALL"""
    else:
        messages_sql = f"""
        SELECT m.territory_id, m.created_at::DATE AS date, count(*) AS messages,
               count(*) FILTER (WHERE {label} = 'positive') AS pos,
               count(*) FILTER (WHERE {label} = 'negative') AS neg
        FROM messages m {sent_join if has_sent else ''}
        WHERE m.territory_id IN ({t_list}) AND NOT coalesce(m.is_official, FALSE)
          AND m.created_at >= ? AND m.created_at < ?
        GROUP BY ALL"""
    sql = f"""
    WITH grid AS (
        SELECT t.territory_id, d::DATE AS date
        FROM (SELECT unnest([{t_list}]) AS territory_id) t,
             range(?::TIMESTAMP, ?::TIMESTAMP, INTERVAL 1 DAY) r(d)),
    pe AS (
        SELECT p.*, {e} AS e, avg({e}) OVER (PARTITION BY p.account_id) AS acc_mean
        FROM posts p JOIN accounts a ON a.account_id = p.account_id AND a.official
        WHERE p.territory_id IN ({t_list}) AND p.created_at >= ? AND p.created_at < ?),
    p AS (
        SELECT p.territory_id, p.created_at::DATE AS date, count(*) AS posts,
               coalesce(sum(p.e), 0) AS eng, count(p.e) AS eng_posts,
               coalesce(sum(p.e / nullif(p.acc_mean, 0)), 0) AS eng_rel,
               coalesce(sum(CASE WHEN p.followers_at_posting > 0 THEN p.e END), 0) AS er_num,
               coalesce(sum(CASE WHEN p.e IS NOT NULL AND p.followers_at_posting > 0 THEN p.followers_at_posting END), 0) AS er_den
        FROM pe p
        GROUP BY ALL),
    m AS ({messages_sql}),
    f AS (
        SELECT a.territory_id, f.date, sum(f.new_followers) AS new_followers
        FROM audience_followers f JOIN accounts a ON a.account_id = f.account_id AND a.official
        WHERE a.territory_id IN ({t_list}) AND f.date >= ?::DATE AND f.date < ?::DATE AND f.new_followers IS NOT NULL
        GROUP BY ALL)
    SELECT g.territory_id, g.date,
           coalesce(p.posts, 0) AS posts, coalesce(p.eng, 0) AS eng, coalesce(p.eng_posts, 0) AS eng_posts,
           coalesce(p.eng_rel, 0) AS eng_rel,
           coalesce(p.er_num, 0) AS er_num, coalesce(p.er_den, 0) AS er_den,
           coalesce(m.messages, 0) AS messages, coalesce(m.pos, 0) AS pos, coalesce(m.neg, 0) AS neg,
           f.new_followers
    FROM grid g LEFT JOIN p USING (territory_id, date) LEFT JOIN m USING (territory_id, date)
         LEFT JOIN f USING (territory_id, date)
    ORDER BY g.territory_id, g.date
    """
    params = list(territories) + [s, en] + list(territories) + [s, en] + list(territories) + [s, en] \
        + list(territories) + [s, en]
    df = con.execute(sql, params).df()
    return _derive(df)


def _derive(df: pd.DataFrame) -> pd.DataFrame:
    df = df.copy()
    df["date"] = pd.to_datetime(df["date"]).dt.date
    for c in ("posts", "eng", "eng_posts", "eng_rel", "er_num", "er_den", "messages", "pos", "neg"):
        df[c] = pd.to_numeric(df[c]).astype("float64")
    df["one"] = 1.0
    df["net"] = df["pos"] - df["neg"]
    df["polar"] = df["pos"] + df["neg"]
    nf = pd.to_numeric(df["new_followers"], errors="coerce").astype("float64")
    df["nf_days"] = nf.notna().astype("float64")
    df["new_followers"] = nf.fillna(0.0)
    return df


# ================================================================================ estimation
@dataclass
class Effect:
    """An estimated effect with its bootstrap interval; ``relative`` for log-scale KPIs (0.48 = +48 %)."""

    estimate: float | None
    low: float | None
    high: float | None
    relative: bool
    p_boot: float | None = None  # two-sided bootstrap p-value (share of draws on the other side of 0)

    @property
    def significant(self) -> bool:
        return self.low is not None and self.high is not None and (self.low > 0 or self.high < 0)

    def fr(self) -> str:
        if self.estimate is None:
            return "—"
        if self.relative:
            return (f"{fr_pct(self.estimate, 0, signed=True)} (IC 95\u00a0% : {fr_pct(self.low, 0, signed=True)} "
                    f"à {fr_pct(self.high, 0, signed=True)})").replace("-", "−")
        return (f"{_pts(self.estimate)} (IC 95\u00a0% : {_pts(self.low)} à {_pts(self.high)})")


def _pts(v: float | None) -> str:
    return fr_signed(metrics.points(v), 0, "points")


@dataclass
class KPIResult:
    kpi: str
    name: str
    formula: str
    own_pre: float | None
    own_post: float | None
    peers_pre: float | None
    peers_post: float | None
    before_after: Effect
    did: Effect | None
    verdict: str
    n_pre_days: int
    n_post_days: int
    basis: str = ""  # what the main effect measures, beside the levels (effect_basis)


@dataclass
class Evaluation:
    campaign: Campaign
    baseline: tuple[date, date]
    peers: list[str]
    results: list[KPIResult]
    matched_posts: int
    n_boot: int
    seed: int
    block_days: int
    excluded: list[tuple[date, date, str]] = field(default_factory=list)
    metrics_version: str = metrics.METRICS_VERSION
    warnings: list[str] = field(default_factory=list)  # window beyond the data, crises inside it

    def as_json(self) -> dict[str, Any]:
        c = self.campaign.as_row()
        c["start_date"], c["end_date"] = str(c["start_date"]), str(c["end_date"])
        return {
            "campaign": c, "baseline": [str(self.baseline[0]), str(self.baseline[1])], "peers": self.peers,
            "matched_posts": self.matched_posts, "n_boot": self.n_boot, "seed": self.seed,
            "block_days": self.block_days, "metrics_version": self.metrics_version,
            "excluded": [[str(a), str(b), why] for a, b, why in self.excluded], "warnings": self.warnings,
            "results": [{**{k: v for k, v in asdict(r).items() if k not in ("before_after", "did")},
                         "before_after": asdict(r.before_after) | {"significant": r.before_after.significant},
                         "did": None if r.did is None else asdict(r.did) | {"significant": r.did.significant}}
                        for r in self.results],
        }


def _block_indices(rng: np.random.Generator, n: int, block: int, n_boot: int) -> np.ndarray:
    """Moving-block bootstrap: ``n_boot`` × ``n`` day indices made of contiguous blocks."""
    block = max(1, min(block, n))
    nb = math.ceil(n / block)
    starts = rng.integers(0, n - block + 1, size=(n_boot, nb))
    idx = (starts[:, :, None] + np.arange(block)[None, None, :]).reshape(n_boot, nb * block)
    return idx[:, :n]


def _ratio(num: np.ndarray, den: np.ndarray) -> np.ndarray | float:
    with np.errstate(divide="ignore", invalid="ignore"):
        return np.where(den > 0, num / np.where(den > 0, den, 1), np.nan)


def _stat(scale: str, pre: Any, post: Any) -> Any:
    with np.errstate(divide="ignore", invalid="ignore"):
        if scale == "log":
            return np.log(post) - np.log(pre)
        return post - pre


def estimate_effect(own: pd.DataFrame, control: pd.DataFrame | None, kpi: KPI, pre_mask: np.ndarray,
                    post_mask: np.ndarray, n_boot: int = 2000, seed: int = 0,
                    block_days: int = 7) -> tuple[Effect, Effect | None, dict[str, float | None]]:
    """Before/after and difference-in-differences effects of one KPI with block-bootstrap CIs.

    ``own``/``control`` are aligned daily frames (same dates, same order) with the KPI's ``num``
    and ``den`` columns; ``control`` sums the peers. Effect on the log scale for multiplicative
    KPIs: DiD = log(R_own,post ÷ R_own,pre) − log(R_ctl,post ÷ R_ctl,pre), reported as
    exp(·) − 1; additive KPIs use the same difference without logs. Pre and campaign days are
    resampled separately, in blocks of ``block_days``, with the same draws for own and control.
    """
    rng = np.random.default_rng(seed)
    n_boot = max(n_boot, 1)
    pre_i, post_i = np.flatnonzero(pre_mask), np.flatnonzero(post_mask)
    # at least 4 blocks per period: a one-week campaign cut in one-week blocks has nothing to resample
    block_days = max(1, min(block_days, min(len(pre_i), len(post_i)) // 4))
    on, od = own[kpi.num].to_numpy(float), own[kpi.den].to_numpy(float)
    levels: dict[str, float | None] = {}

    def level(num: np.ndarray, den: np.ndarray, idx: np.ndarray) -> float | None:
        d = den[idx].sum()
        return None if d <= 0 else float(num[idx].sum() / d)

    levels["own_pre"], levels["own_post"] = level(on, od, pre_i), level(on, od, post_i)
    bi_pre = pre_i[_block_indices(rng, len(pre_i), block_days, n_boot)]
    bi_post = post_i[_block_indices(rng, len(post_i), block_days, n_boot)]

    def boot_stat(num: np.ndarray, den: np.ndarray) -> tuple[float | None, np.ndarray]:
        point_pre, point_post = level(num, den, pre_i), level(num, den, post_i)
        pt = None
        if point_pre is not None and point_post is not None:
            v = float(_stat(kpi.scale, point_pre, point_post))
            pt = v if math.isfinite(v) else None
        r_pre = _ratio(num[bi_pre].sum(axis=1), den[bi_pre].sum(axis=1))
        r_post = _ratio(num[bi_post].sum(axis=1), den[bi_post].sum(axis=1))
        return pt, _stat(kpi.scale, r_pre, r_post)

    en = kpi.effect_num if kpi.effect_num in own else kpi.num
    own_pt, own_b = boot_stat(own[en].to_numpy(float), od)
    k = min(math.ceil(len(pre_i) / max(1, block_days)), math.ceil(len(post_i) / max(1, block_days)))
    ba = _effect(own_pt, own_b, kpi.scale, k)
    did = None
    if control is not None and len(control):
        cn, cd = control[kpi.num].to_numpy(float), control[kpi.den].to_numpy(float)
        levels["peers_pre"], levels["peers_post"] = level(cn, cd, pre_i), level(cn, cd, post_i)
        ctl_pt, ctl_b = boot_stat(control[en].to_numpy(float), cd)
        pt = None if own_pt is None or ctl_pt is None else own_pt - ctl_pt
        did = _effect(pt, own_b - ctl_b, kpi.scale, k)
    return ba, did, levels


def _effect(point: float | None, draws: np.ndarray, scale: str, n_blocks: int = 0) -> Effect:
    """Interval from the bootstrap draws, widened for the small number of blocks.

    A bootstrap over a dozen weekly blocks underestimates the spread (the variance of a mean of
    k blocks is estimated as if k were large): the centred percentiles are scaled by
    t₀.₉₇₅(k − 1) ÷ z₀.₉₇₅ · √(k ÷ (k − 1)), k = the smaller number of blocks of the two periods,
    which restores nominal coverage on simulated panels (see tests/test_campaigns.py).
    """
    from scipy.stats import norm, t

    draws = draws[np.isfinite(draws)]
    if point is None or len(draws) < 20:
        return Effect(None, None, None, scale == "log")
    q_lo, q_mid, q_hi = np.percentile(draws, [2.5, 50, 97.5])
    k = max(n_blocks, 2)
    f = float(t.ppf(0.975, k - 1) / norm.ppf(0.975) * math.sqrt(k / (k - 1))) if n_blocks else 1.0
    lo, hi = point + f * (q_lo - q_mid), point + f * (q_hi - q_mid)
    centred = draws - q_mid + point
    p = float(min(1.0, 2 * min((centred <= 0).mean(), (centred >= 0).mean())))
    if scale == "log":
        return Effect(math.expm1(point), math.expm1(lo), math.expm1(hi), True, p)
    return Effect(point, float(lo), float(hi), False, p)


def level_text(kpi: str, v: float | None) -> str:
    """A KPI's level as the page, the CLI and the report print it (rate in %, net sentiment in points)."""
    if kpi == "engagement_rate":
        return fr_pct(v, 2)
    if KPIS[kpi].scale == "diff":
        return fr_num(metrics.points(v), 0) + ("\u00a0points" if v is not None else "")
    return fr_num(v, 1)


def effect_basis(r: KPIResult) -> str:
    """The one explanation of a KPI's main effect, stated beside it in the page, the CLI and the
    report: what the percentage compares, what it is measured on, and why it differs from the
    change between the levels shown next to it (« +68 % » beside « 97,97 → 145,19 », +48 %)."""
    kpi = KPIS[r.kpi]
    main = r.did if r.did is not None and r.did.estimate is not None else r.before_after
    if main.estimate is None:
        return ""
    amount = main.fr().split(" (", 1)[0]
    if main is r.did:
        what = ("l'écart entre l'évolution du territoire (référence → campagne) et celle de ses pairs sur les mêmes "
                "jours (double différence)")
    else:
        what = "l'évolution du territoire entre la référence et la campagne (avant / après, sans pairs)"
    if kpi.effect_num:
        what += ", mesurée sur l'engagement de chaque publication rapporté à la moyenne de son compte"
    levels = ""
    if r.own_pre is not None and r.own_post is not None:
        raw = (fr_pct(r.own_post / r.own_pre - 1, 0, signed=True).replace("-", "\u2212")
               if kpi.scale == "log" and r.own_pre else _pts(r.own_post - r.own_pre))
        levels = (f" ; les niveaux {level_text(r.kpi, r.own_pre)} → {level_text(r.kpi, r.own_post)} ({raw}) sont ceux "
                  "du territoire seul" + (", des moyennes brutes qui mélangent comptes et plateformes"
                                           if kpi.effect_num else ""))
    return f"{amount} = {what}{levels}."


def verdict(kpi: KPI, eff: Effect, vs_peers: bool) -> str:
    """Plain-French verdict with its uncertainty."""
    if eff.estimate is None:
        return f"{kpi.name} : données insuffisantes pour conclure (indicateur absent des exports sur la période)."
    ref = "par rapport aux territoires comparés" if vs_peers else "par rapport à la période de référence"
    if eff.relative:
        verb = "a augmenté" if eff.estimate >= 0 else "a diminué"
        amount = fr_pct(abs(eff.estimate), 0)
    else:
        verb = "a progressé" if eff.estimate >= 0 else "a reculé"
        amount = fr_num(abs(100 * eff.estimate), 0) + "\u00a0points"
    ci = eff.fr().split(" (", 1)[1].rstrip(")")
    if amount.startswith("0\u00a0") or amount.startswith("0 "):
        verb, amount = "est resté stable", ""
    if eff.significant:
        concl = "effet net probable" if eff.estimate > 0 else "baisse nette probable"
    else:
        concl = "pas d'effet démontré (l'intervalle contient zéro)"
    if not vs_peers:
        concl += " ; sans comparaison avec les pairs, la saison peut expliquer l'écart"
    change = f"{verb} de {amount}" if amount else verb
    return f"{kpi.name} {change} ({ci}) {ref} : {concl}."


def _window(con: duckdb.DuckDBPyConnection, campaign: Campaign | str, kpis: list[str], baseline_days: int | None,
            peers: list[str] | None, exclude: list[tuple[date, date]] | None
            ) -> tuple[Campaign, list[tuple[date, date, str]], date, list[str], pd.DataFrame]:
    """What :func:`evaluate` and :func:`weekly_series` read: the campaign, its excluded periods, the
    baseline's first day (see :func:`evaluate`), the peers and the daily panel from then to its end."""
    c = get_campaign(con, campaign) if isinstance(campaign, str) else campaign
    unknown = [k for k in kpis if k not in KPIS]
    if unknown:
        raise KeyError(f"Indicateur inconnu : {', '.join(unknown)} (choix : {', '.join(KPIS)}).")
    nb = baseline_days or max(c.days, 56)
    excl = excluded_periods(con, c, exclude)
    d, usable = c.start_date, 0
    while usable < nb and (c.start_date - d).days < 365:
        d -= timedelta(days=1)
        usable += not any(a <= d <= b for a, b, _ in excl)
    peers = peers if peers is not None else peers_of(con, c.territory_id)
    return c, excl, d, peers, daily_panel(con, [c.territory_id, *peers], d, c.end_date)


def evaluate(con: duckdb.DuckDBPyConnection, campaign: Campaign | str, kpis: list[str] | None = None,
             baseline_days: int | None = None, peers: list[str] | None = None, n_boot: int = 2000,
             seed: int = 0, block_days: int = 7, exclude: list[tuple[date, date]] | None = None) -> Evaluation:
    """Evaluate a campaign on ``kpis`` (default: all) against its baseline and its peers.

    Baseline = the ``baseline_days`` usable days just before the campaign (default: the campaign's
    length, at least 8 weeks), skipping :func:`excluded_periods` (other campaigns, critical alerts,
    ``exclude``) and going back at most a year to collect them. Inside the campaign, only
    ``exclude`` and critical alerts remove days (an overlapping campaign is part of the effect).
    """
    kpis = kpis or list(KPIS)
    c, excl, b_start, peers, panel = _window(con, campaign, kpis, baseline_days, peers, exclude)

    def is_excluded(d: date) -> bool:
        return any(a <= d <= b for a, b, _ in excl)

    own = panel[panel["territory_id"] == c.territory_id].reset_index(drop=True)
    ctl = None
    if peers:
        ctl = (panel[panel["territory_id"].isin(peers)].groupby("date", sort=True)
               .sum(numeric_only=True).reset_index())
        ctl = ctl.set_index("date").reindex(own["date"]).reset_index()
    dates = np.array(own["date"].tolist())
    keep = np.array([not is_excluded(x) for x in dates], dtype=bool)
    # Inside the campaign only what the analyst excluded or a critical alert flagged is left out:
    # another campaign running at the same time is part of what is being evaluated.
    in_camp = [(a, b) for a, b, why in excl if not why.startswith(("campagne ", "pic inhabituel"))]
    keep_post = np.array([not any(a <= x <= b for a, b in in_camp) for x in dates], dtype=bool)
    pre_mask, post_mask = (dates < c.start_date) & keep, (dates >= c.start_date) & keep_post
    first, last = data_range(con, Filters((c.territory_id,)))
    crises = crisis_warnings(con, c)
    warnings = window_warnings(c.start_date, c.end_date, first, last, b_start) + crises
    results = []
    for k in kpis:
        kpi = KPIS[k]
        ba, did, lv = estimate_effect(own, ctl, kpi, pre_mask, post_mask, n_boot, seed, block_days)
        main = did if did is not None and did.estimate is not None else ba
        r = KPIResult(
            kpi=k, name=kpi.name, formula=kpi.formula, own_pre=lv.get("own_pre"), own_post=lv.get("own_post"),
            peers_pre=lv.get("peers_pre"), peers_post=lv.get("peers_post"), before_after=ba, did=did,
            verdict=verdict(kpi, main, main is did), n_pre_days=int(pre_mask.sum()), n_post_days=int(post_mask.sum()))
        if crises and main.significant:  # « effet net probable » during a probable crisis: said in the verdict
            r.verdict += " À confirmer : une crise probable tombe pendant la campagne (voir l'avertissement)."
        r.basis = effect_basis(r)
        results.append(r)
    overlapping = [e for e in excl if e[0] <= c.end_date and e[1] >= b_start]
    return Evaluation(c, (b_start, c.start_date - timedelta(days=1)), peers, results,
                      len(match_posts(con, c)), n_boot, seed, block_days, excluded=overlapping, warnings=warnings)


def weekly_series(con: duckdb.DuckDBPyConnection, campaign: Campaign | str, kpi: str = "engagement_per_post",
                  baseline_days: int | None = None, exclude: list[tuple[date, date]] | None = None) -> pd.DataFrame:
    """Weekly KPI of the own territory and of its pooled peers, each indexed to its baseline (= 100).

    Weeks are 7-day bins anchored on the campaign's first day (week 0 = first campaign week), so
    the chart shows the same split as the evaluation. Excluded days are left out.
    """
    # the evaluation's window and panel, read once (was: the whole evaluation, then the panel again)
    c, excl, b_start, _, panel = _window(con, campaign, [kpi], baseline_days, None, exclude)
    k = KPIS[kpi]
    excluded = [e for e in excl if e[0] <= c.end_date and e[1] >= b_start]  # Evaluation.excluded
    panel = panel[[not any(a <= d <= b for a, b, _ in excluded) for d in panel["date"]]].copy()
    panel["group"] = np.where(panel["territory_id"] == c.territory_id, "own", "peers")
    panel["week"] = [(d - c.start_date).days // 7 for d in panel["date"]]
    g = panel.groupby(["group", "week"]).agg(num=(k.num, "sum"), den=(k.den, "sum"), start=("date", "min"),
                                             days=("date", "nunique")).reset_index()
    g = g[g["days"] >= 4]  # a 1-day remainder bin would be pure noise on the chart
    g["value"] = g["num"] / g["den"].where(g["den"] > 0)
    base = g[g["week"] < 0].groupby("group").agg(num=("num", "sum"), den=("den", "sum"))
    ref = (base["num"] / base["den"].where(base["den"] > 0)).to_dict()
    # float even when a group has no baseline week (map of strings would keep a string dtype)
    ref_of_row = g["group"].map(ref).astype(float)
    if k.scale == "log":
        g["index"] = 100 * g["value"] / ref_of_row
    else:
        g["index"] = 100 * (g["value"] - ref_of_row)  # points of difference from the baseline  # points of difference from the baseline
    g["period"] = np.where(g["week"] < 0, "référence", "campagne")
    return g[["group", "week", "start", "value", "index", "period"]]
