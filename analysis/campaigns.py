"""Campaign evaluation, post performance and benchmark against peer territories.

Campaigns are data (``campaigns`` table, loaded from TOML/CSV, the CLI or the app). A campaign
is evaluated on daily series of the own territory and of its peers:

- *before/after*: the KPI during the campaign against the pre-campaign baseline;
- *difference-in-differences* against the peers over the same days, on the log scale for
  multiplicative KPIs, so a summer every territory enjoys is not credited to the campaign.

Uncertainty comes from a seeded **moving-block bootstrap over days** (blocks of a week by
default): days are resampled in blocks so autocorrelation and weekday patterns are kept, and the
same days are drawn for the own territory and the peers so common shocks cancel out.
"""

from __future__ import annotations

import csv
import io
import math
import tomllib
from dataclasses import asdict, dataclass, field
from datetime import date, timedelta
from pathlib import Path
from typing import Any

import duckdb
import numpy as np
import pandas as pd

from analysis import metrics, store
from analysis.config import LOCAL_TZ
from analysis.fmt import WEEKDAYS, fr_num, fr_pct, fr_signed
from analysis.moderation.alerts import PARAMS, episodes, seasonal_anomalies
from analysis.moderation.responsiveness import response_by_territory
from analysis.queries import Filters
from analysis.territories import peers_of  # noqa: F401 - re-exported (cli, notebooks)
from analysis.topics import load_taxonomy


# ================================================================================ definitions
@dataclass
class Campaign:
    """A communication campaign: territory, dates (inclusive) and what identifies its content."""

    campaign_id: str
    name: str
    territory_id: str
    start_date: date
    end_date: date
    hashtags: list[str] = field(default_factory=list)
    keywords: list[str] = field(default_factory=list)
    post_ids: list[str] = field(default_factory=list)
    objective: str | None = None
    budget: float | None = None
    source: str | None = None

    def __post_init__(self) -> None:
        self.start_date = _to_date(self.start_date, "start_date", self.campaign_id)
        self.end_date = _to_date(self.end_date, "end_date", self.campaign_id)
        if self.end_date < self.start_date:
            raise ValueError(f"Campagne « {self.campaign_id} » : la date de fin précède la date de début.")
        self.hashtags = [h.strip().lstrip("#").lower() for h in _as_list(self.hashtags) if h.strip().lstrip("#")]
        self.keywords = [k.strip().lower() for k in _as_list(self.keywords) if k.strip()]
        self.post_ids = [p.strip() for p in _as_list(self.post_ids) if p.strip()]

    @property
    def days(self) -> int:
        return (self.end_date - self.start_date).days + 1

    def as_row(self) -> dict[str, Any]:
        return asdict(self)


def _as_list(v: Any) -> list[str]:
    if v is None or (isinstance(v, float) and math.isnan(v)):
        return []
    if isinstance(v, str):
        return [x for x in v.replace("|", ",").replace(";", ",").split(",")]
    return [str(x) for x in v]


def _to_date(v: Any, col: str, cid: str) -> date:
    try:
        return pd.Timestamp(v).date()
    except (ValueError, TypeError) as e:
        raise ValueError(f"Campagne « {cid} » : {col} « {v} » n'est pas une date (AAAA-MM-JJ).") from e


def load_campaigns_file(path: str | Path) -> list[Campaign]:
    """Read campaigns from a TOML file (``[[campaign]]`` tables) or a CSV (one campaign per line).

    Columns/keys: ``id`` (or ``campaign_id``), ``name``, ``territory`` (or ``territory_id``),
    ``start``/``end`` (or ``start_date``/``end_date``), ``hashtags``, ``keywords``, ``post_ids``
    (lists, or strings separated by ``,`` ``;`` or ``|``), ``objective``, ``budget``.
    """
    p = Path(path)
    text = p.read_text(encoding="utf-8-sig")
    if p.suffix.lower() == ".toml":
        try:
            items = tomllib.loads(text).get("campaign", [])
        except tomllib.TOMLDecodeError as e:
            raise ValueError(f"{p} : TOML illisible ({e}).") from e
    else:
        dialect = csv.Sniffer().sniff(text.splitlines()[0], delimiters=",;\t")
        items = list(csv.DictReader(io.StringIO(text), dialect=dialect))
    out = []
    for i, it in enumerate(items, start=1):
        it = {k.strip().lower(): (v.strip() if isinstance(v, str) else v) for k, v in it.items() if k}
        cid = it.get("id") or it.get("campaign_id")
        where = f"{p}, campagne n°{i}"
        for req, alts in (("id", ("id", "campaign_id")), ("territory", ("territory", "territory_id")),
                          ("start", ("start", "start_date")), ("end", ("end", "end_date"))):
            if not any(it.get(a) for a in alts):
                raise ValueError(f"{where} : champ « {req} » manquant.")
        budget = it.get("budget")
        try:
            out.append(Campaign(
                campaign_id=str(cid), name=it.get("name") or str(cid),
                territory_id=it.get("territory") or it.get("territory_id"),
                start_date=it.get("start") or it.get("start_date"), end_date=it.get("end") or it.get("end_date"),
                hashtags=it.get("hashtags"), keywords=it.get("keywords"), post_ids=it.get("post_ids"),
                objective=it.get("objective") or None,
                budget=float(str(budget).replace(",", ".")) if budget not in (None, "") else None,
                source="file",
            ))
        except ValueError as e:
            raise ValueError(f"{where} : {e}") from e
    return out


def save_campaigns(con: duckdb.DuckDBPyConnection, campaigns: list[Campaign]) -> tuple[int, int]:
    """Upsert campaigns into the ``campaigns`` table → (inserted, updated)."""

    if not campaigns:
        return 0, 0
    return store.upsert(con, "campaigns", pd.DataFrame([c.as_row() for c in campaigns]))


def remove_campaign(con: duckdb.DuckDBPyConnection, campaign_id: str) -> bool:
    """Delete a campaign; False when it did not exist."""
    n = con.execute("SELECT count(*) FROM campaigns WHERE campaign_id = ?", [campaign_id]).fetchone()[0]
    con.execute("DELETE FROM campaigns WHERE campaign_id = ?", [campaign_id])
    return n > 0


def list_campaigns(con: duckdb.DuckDBPyConnection) -> list[Campaign]:
    """All campaigns, most recent first."""
    df = con.execute("SELECT * FROM campaigns ORDER BY start_date DESC, campaign_id").df()
    return [_from_row(r) for r in df.to_dict("records")]


def get_campaign(con: duckdb.DuckDBPyConnection, campaign_id: str) -> Campaign:
    """One campaign, or KeyError with a French message."""
    df = con.execute("SELECT * FROM campaigns WHERE campaign_id = ?", [campaign_id]).df()
    if df.empty:
        raise KeyError(f"Campagne inconnue : {campaign_id} (voir `vigie campaigns list`).")
    return _from_row(df.iloc[0].to_dict())


def _from_row(r: dict[str, Any]) -> Campaign:
    def lst(v: Any) -> list[str]:
        return [] if v is None or (isinstance(v, float) and math.isnan(v)) else list(v)

    budget = r.get("budget")
    return Campaign(r["campaign_id"], r.get("name") or r["campaign_id"], r.get("territory_id"),
                    r["start_date"], r["end_date"], lst(r.get("hashtags")), lst(r.get("keywords")),
                    lst(r.get("post_ids")), r.get("objective"),
                    None if budget is None or pd.isna(budget) else float(budget), r.get("source"))


def match_posts(con: duckdb.DuckDBPyConnection, c: Campaign) -> pd.DataFrame:
    """Official posts of the campaign's territory within its dates that carry one of its hashtags or
    keywords, or are listed by id (all of its posts in the window when it defines none of these)."""
    e = metrics.engagement_sql("p")
    conds, params = [], [c.territory_id, pd.Timestamp(c.start_date).to_pydatetime(),
                         pd.Timestamp(c.end_date + timedelta(days=1)).to_pydatetime()]
    for h in c.hashtags:
        # '#tag' followed by a non-word character or the end: #velo must not match #velorution
        conds.append("regexp_matches(lower(p.text), ?)")
        params.append(r"#" + _re_escape(h) + r"(\W|$)")
    for k in c.keywords:
        conds.append("strpos(lower(p.text), ?) > 0")
        params.append(k)
    if c.post_ids:
        conds.append(f"p.post_id IN ({', '.join('?' for _ in c.post_ids)})")
        params += c.post_ids
    match = " OR ".join(conds) if conds else "TRUE"
    return con.execute(
        f"SELECT p.post_id, p.platform, p.created_at, p.post_type, p.text, {e} AS engagement FROM posts p "
        f"WHERE p.territory_id = ? AND p.created_at >= ? AND p.created_at < ? AND ({match}) ORDER BY p.created_at",
        params,
    ).df()


def _re_escape(s: str) -> str:
    import re

    return re.escape(s)


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
    m AS (
        SELECT m.territory_id, m.created_at::DATE AS date, count(*) AS messages,
               count(*) FILTER (WHERE {label} = 'positive') AS pos,
               count(*) FILTER (WHERE {label} = 'negative') AS neg
        FROM messages m {sent_join if has_sent else ''}
        WHERE m.territory_id IN ({t_list}) AND NOT coalesce(m.is_official, FALSE)
          AND m.created_at >= ? AND m.created_at < ?
        GROUP BY ALL),
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


def _has_rows(con: duckdb.DuckDBPyConnection, table: str) -> bool:
    try:
        return con.execute(f"SELECT count(*) > 0 FROM {table}").fetchone()[0]
    except duckdb.Error:
        return False


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

    def as_json(self) -> dict[str, Any]:
        c = self.campaign.as_row()
        c["start_date"], c["end_date"] = str(c["start_date"]), str(c["end_date"])
        return {
            "campaign": c, "baseline": [str(self.baseline[0]), str(self.baseline[1])], "peers": self.peers,
            "matched_posts": self.matched_posts, "n_boot": self.n_boot, "seed": self.seed,
            "block_days": self.block_days, "metrics_version": self.metrics_version,
            "excluded": [[str(a), str(b), why] for a, b, why in self.excluded],
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


def evaluate(con: duckdb.DuckDBPyConnection, campaign: Campaign | str, kpis: list[str] | None = None,
             baseline_days: int | None = None, peers: list[str] | None = None, n_boot: int = 2000,
             seed: int = 0, block_days: int = 7, exclude: list[tuple[date, date]] | None = None) -> Evaluation:
    """Evaluate a campaign on ``kpis`` (default: all) against its baseline and its peers.

    Baseline = the ``baseline_days`` usable days just before the campaign (default: the campaign's
    length, at least 8 weeks), skipping :func:`excluded_periods` (other campaigns, critical alerts,
    ``exclude``) and going back at most a year to collect them. Inside the campaign, only
    ``exclude`` and critical alerts remove days (an overlapping campaign is part of the effect).
    """
    c = get_campaign(con, campaign) if isinstance(campaign, str) else campaign
    kpis = kpis or list(KPIS)
    unknown = [k for k in kpis if k not in KPIS]
    if unknown:
        raise KeyError(f"Indicateur inconnu : {', '.join(unknown)} (choix : {', '.join(KPIS)}).")
    nb = baseline_days or max(c.days, 56)
    excl = excluded_periods(con, c, exclude)

    def is_excluded(d: date) -> bool:
        return any(a <= d <= b for a, b, _ in excl)

    d, usable = c.start_date, 0
    while usable < nb and (c.start_date - d).days < 365:
        d -= timedelta(days=1)
        usable += not is_excluded(d)
    b_start = d
    peers = peers if peers is not None else peers_of(con, c.territory_id)
    panel = daily_panel(con, [c.territory_id, *peers], b_start, c.end_date)
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
    results = []
    for k in kpis:
        kpi = KPIS[k]
        ba, did, lv = estimate_effect(own, ctl, kpi, pre_mask, post_mask, n_boot, seed, block_days)
        main = did if did is not None and did.estimate is not None else ba
        results.append(KPIResult(
            kpi=k, name=kpi.name, formula=kpi.formula, own_pre=lv.get("own_pre"), own_post=lv.get("own_post"),
            peers_pre=lv.get("peers_pre"), peers_post=lv.get("peers_post"), before_after=ba, did=did,
            verdict=verdict(kpi, main, main is did), n_pre_days=int(pre_mask.sum()), n_post_days=int(post_mask.sum()),
        ))
    overlapping = [e for e in excl if e[0] <= c.end_date and e[1] >= b_start]
    return Evaluation(c, (b_start, c.start_date - timedelta(days=1)), peers, results,
                      len(match_posts(con, c)), n_boot, seed, block_days, excluded=overlapping)


def weekly_series(con: duckdb.DuckDBPyConnection, campaign: Campaign | str, kpi: str = "engagement_per_post",
                  baseline_days: int | None = None, exclude: list[tuple[date, date]] | None = None) -> pd.DataFrame:
    """Weekly KPI of the own territory and of its pooled peers, each indexed to its baseline (= 100).

    Weeks are 7-day bins anchored on the campaign's first day (week 0 = first campaign week), so
    the chart shows the same split as the evaluation. Excluded days are left out.
    """
    ev = evaluate(con, campaign, [kpi], baseline_days=baseline_days, n_boot=0, exclude=exclude)
    c, k = ev.campaign, KPIS[kpi]
    panel = daily_panel(con, [c.territory_id, *ev.peers], ev.baseline[0], c.end_date)
    panel = panel[[not any(a <= d <= b for a, b, _ in ev.excluded) for d in panel["date"]]].copy()
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


# ================================================================================ post performance
def post_table(con: duckdb.DuckDBPyConnection, territories: list[str] | tuple[str, ...] = (),
               start: date | None = None, end: date | None = None, platforms: tuple[str, ...] = ()) -> pd.DataFrame:
    """Official posts with engagement, rates, local weekday/hour, main theme and relative performance.

    ``rel`` = engagement ÷ median engagement of the same account over the period: it makes a
    Facebook post of a big city comparable with an Instagram post of a village.
    """

    w, params = Filters(tuple(territories), start, end, tuple(platforms)).where("p")
    theme = ("(SELECT t.theme FROM themes t WHERE t.item_id = p.post_id AND t.item_type = 'post' "
             "ORDER BY t.score DESC NULLS LAST LIMIT 1)") if _has_rows(con, "themes") else "NULL"
    df = con.execute(
        f"SELECT p.*, {theme} AS theme FROM posts p JOIN accounts a ON a.account_id = p.account_id AND a.official "
        f"WHERE {w}", params).df()
    df = metrics.add_post_metrics(df)
    local = pd.to_datetime(df["created_at"]).dt.tz_localize("UTC").dt.tz_convert(LOCAL_TZ)
    df["weekday"] = local.dt.day_of_week
    df["hour"] = local.dt.hour
    med = df.groupby("account_id")["engagement"].transform("median")
    df["rel"] = df["engagement"] / med.where(med > 0)
    return df


def explain_post(row: pd.Series) -> str:
    """Why a post stands out: format, theme, when, and how it compares with the account's median."""
    pt = row.get("post_type")
    parts = [pt if isinstance(pt, str) and pt else "format inconnu"]  # a missing type is NaN, not "nan"
    if isinstance(row.get("theme"), str):

        parts.append(f"thème « {load_taxonomy().label(row['theme'])} »")
    if not pd.isna(row.get("weekday")):
        parts.append(f"publié un {WEEKDAYS[int(row['weekday'])]} à {int(row['hour'])} h")
    rel = row.get("rel")
    if rel is not None and not pd.isna(rel):
        parts.append(f"{fr_num(rel, 1)} × l'engagement médian du compte")
    return ", ".join(parts)


def top_bottom_posts(posts: pd.DataFrame, n: int = 5) -> tuple[pd.DataFrame, pd.DataFrame]:
    """The ``n`` best and worst posts by relative performance, each with its explanation."""
    d = posts.dropna(subset=["rel"])
    cols = ["post_id", "platform", "created_at", "post_type", "theme", "engagement", "rel", "text"]
    top = d.nlargest(n, "rel")[cols].copy()
    bottom = d.nsmallest(n, "rel")[cols].copy()
    for t in (top, bottom):
        t["pourquoi"] = [explain_post(d.loc[i]) for i in t.index]
    return top, bottom


def performance_by(posts: pd.DataFrame, by: str) -> pd.DataFrame:
    """Posts, engagement per post and median relative performance by ``post_type`` or ``theme``."""
    d = posts.dropna(subset=["engagement"]).copy()
    d[by] = d[by].fillna("(inconnu)")
    g = d.groupby(by).agg(posts=("post_id", "size"), engagement_per_post=("engagement", "mean"),
                          median_rel=("rel", "median")).reset_index()
    return g.sort_values("median_rel", ascending=False, na_position="last").reset_index(drop=True)


def best_time_heatmap(posts: pd.DataFrame, value: str = "rel") -> pd.DataFrame:
    """Weekday × hour cells of log relative performance, shrunk toward the global mean (empirical Bayes).

    y = log(``value``) per post; cell mean ȳ_c over n_c posts; global mean μ; within-cell variance
    σ²; between-cell variance τ² = max(0, (Σ n_c(ȳ_c − μ)² − (k − 1)σ²) ÷ (N − Σ n_c² ÷ N)). Shrunk
    cell = μ + B_c (ȳ_c − μ) with B_c = τ² ÷ (τ² + σ²/n_c): a cell with one lucky post stays near
    the mean instead of topping the ranking. ``index`` = exp(shrunk − μ) (1.2 = 20 % above usual).
    """
    d = posts[[value, "weekday", "hour"]].dropna()
    d = d[d[value] > 0]
    y = np.log(d[value].astype(float))
    d = d.assign(y=y)
    g = d.groupby(["weekday", "hour"])["y"].agg(["mean", "count"]).reset_index()
    g.columns = ["weekday", "hour", "raw", "n"]
    if g.empty:
        return g.assign(shrunk=[], index=[], raw_index=[], weight=[])
    mu = float(d["y"].mean())
    resid = d["y"] - d.groupby(["weekday", "hour"])["y"].transform("mean")
    dof = max(len(d) - len(g), 1)
    sigma2 = float((resid ** 2).sum() / dof) if len(d) > len(g) else float(d["y"].var(ddof=1) or 1.0)
    # One-way random-effects ANOVA estimator: cells weigh by their size, so a single lucky post
    # cannot inflate the between-cell variance it is then shrunk with.
    n_tot, k = float(g["n"].sum()), len(g)
    between = float((g["n"] * (g["raw"] - mu) ** 2).sum())
    den = n_tot - float((g["n"] ** 2).sum()) / n_tot
    tau2 = max(0.0, (between - (k - 1) * sigma2) / den) if k > 1 and den > 0 else 0.0
    g["weight"] = tau2 / (tau2 + sigma2 / g["n"]) if tau2 > 0 else 0.0
    g["shrunk"] = mu + g["weight"] * (g["raw"] - mu)
    g["index"] = np.exp(g["shrunk"] - mu)
    g["raw_index"] = np.exp(g["raw"] - mu)
    g["jour"] = g["weekday"].map(lambda i: WEEKDAYS[int(i)])
    return g


# ================================================================================ benchmark
def _followers_at(con: duckdb.DuckDBPyConnection, end: date, platforms: tuple[str, ...] = ()) -> pd.DataFrame:
    """Followers per territory on the last known day before ``end`` (sum of official accounts, of
    ``platforms`` only when given).

    Falls back to the largest ``followers_at_posting`` seen on an account's posts when its
    follower series is absent; an account with neither contributes nothing (not zero)."""
    e = pd.Timestamp(end).to_pydatetime()
    plat = f"AND platform IN ({', '.join('?' for _ in platforms)})" if platforms else ""
    return con.execute(
        f"""
        WITH acc AS (SELECT account_id, territory_id FROM accounts
                     WHERE official AND territory_id IS NOT NULL {plat}),
        f AS (SELECT account_id, arg_max(followers, date) AS followers FROM audience_followers
              WHERE date < ?::DATE AND followers IS NOT NULL GROUP BY account_id),
        p AS (SELECT account_id, arg_max(followers_at_posting, created_at) AS followers FROM posts
              WHERE created_at < ? AND followers_at_posting IS NOT NULL GROUP BY account_id)
        SELECT acc.territory_id, sum(coalesce(f.followers, p.followers)) AS followers
        FROM acc LEFT JOIN f USING (account_id) LEFT JOIN p USING (account_id)
        GROUP BY acc.territory_id
        """, [*platforms, e, e]).df()


def message_totals(con: duckdb.DuckDBPyConnection, territories: list[str], start: date, end: date,
                    platforms: tuple[str, ...] = ()) -> pd.DataFrame:
    """Per territory over [start, end) (on ``platforms`` only when given): incoming messages,
    positive and negative ones (analyst labels first), as floats; 0 for a territory without
    messages. Without a platform filter, the sums of :func:`daily_panel`'s ``messages``, ``pos``,
    ``neg`` without building the daily panel."""
    cols = ["territory_id", "messages", "pos", "neg"]
    if not territories or start >= end:  # the daily panel has no day then: nothing, not 0
        return pd.DataFrame(columns=cols)
    has_sent = _has_rows(con, "sentiment")
    label = "coalesce(l.value, s.label)" if has_sent else "NULL"
    sent_join = ("LEFT JOIN (SELECT item_id, label FROM sentiment WHERE item_type = 'message' "
                 "AND label IN ('positive', 'negative')) s ON s.item_id = m.message_id "
                 "LEFT JOIN labels l ON l.item_id = m.message_id AND l.item_type = 'message' AND l.task = 'sentiment'"
                 if has_sent else "")
    t_list = ", ".join("?" for _ in territories)
    plat = f"AND m.platform IN ({', '.join('?' for _ in platforms)})" if platforms else ""
    got = con.execute(f"""
        SELECT m.territory_id, count(*) AS messages,
               count(*) FILTER (WHERE {label} = 'positive') AS pos,
               count(*) FILTER (WHERE {label} = 'negative') AS neg
        FROM messages m {sent_join}
        WHERE m.territory_id IN ({t_list}) AND NOT coalesce(m.is_official, FALSE)
          AND m.created_at >= ? AND m.created_at < ? {plat}
        GROUP BY 1""", [*territories, pd.Timestamp(start).to_pydatetime(), pd.Timestamp(end).to_pydatetime(),
                        *platforms]).df()
    out = pd.DataFrame({"territory_id": list(dict.fromkeys(territories))}).merge(got, on="territory_id", how="left")
    for c in ("messages", "pos", "neg"):
        out[c] = pd.to_numeric(out[c]).astype("float64").fillna(0.0)
    return out[cols]


def benchmark(con: duckdb.DuckDBPyConnection, start: date, end: date, territories: list[str] | None = None,
              platforms: tuple[str, ...] = ()) -> pd.DataFrame:
    """Territories side by side over [start, end): volumes, engagement normalised per post, per 1,000
    followers and per 1,000 inhabitants, share of voice, net sentiment and responsiveness; every
    column on ``platforms`` only when given (posts, followers, messages and replies alike)."""
    ter = con.execute("SELECT territory_id, name, kind, population, peer_group FROM territories").df()
    if territories:
        ter = ter[ter["territory_id"].isin(territories)]
    ids = ter["territory_id"].tolist()
    k = metrics.territory_kpis(con, start, end, ids, platforms)
    days = (pd.Timestamp(end) - pd.Timestamp(start)).days
    agg = message_totals(con, ids, start, end, platforms)
    df = (ter.merge(k, on="territory_id", how="left")
          .merge(_followers_at(con, end, platforms), on="territory_id", how="left")
          .merge(agg, on="territory_id", how="left")
          .merge(response_by_territory(con, start, end, territories=ids, platforms=platforms), on="territory_id", how="left"))
    df["engagement_per_1000_followers"] = [metrics.per_1000(e, f) for e, f in zip(df["engagement"], df["followers"], strict=True)]
    df["engagement_per_1000_inhabitants"] = [metrics.per_1000_inhabitants(e, p) for e, p in zip(df["engagement"], df["population"], strict=True)]
    df["posts_per_week"] = [metrics.posting_frequency(n, days) for n in df["posts"]]
    sov_m = metrics.share_of_voice_table(dict(zip(df["territory_id"], df["messages"], strict=True)))
    sov_e = metrics.share_of_voice_table(dict(zip(df["territory_id"], df["engagement"], strict=True)))
    df["sov_mentions"] = df["territory_id"].map(sov_m)
    df["sov_engagement"] = df["territory_id"].map(sov_e)
    df["net_sentiment"] = [metrics.net_sentiment(p, n) if (p or 0) + (n or 0) > 0 else None
                           for p, n in zip(df["pos"], df["neg"], strict=True)]
    order = {"own": 0}
    return df.sort_values(["kind", "name"], key=lambda s: s.map(order).fillna(1) if s.name == "kind" else s) \
             .reset_index(drop=True)


RANK_METRICS = {
    "engagement_per_post": ("eng", "eng_posts"),
    "engagement_per_1000_inhabitants": ("eng", None),
    "engagement_per_1000_followers": ("eng", None),
    "posts_per_week": ("posts", None),
}


def rank_intervals(con: duckdb.DuckDBPyConnection, start: date, end: date, metric: str = "engagement_per_post",
                   territories: list[str] | None = None, n_boot: int = 1000, seed: int = 0,
                   block_days: int = 7) -> pd.DataFrame:
    """Rank of each territory (1 = best) with a 95 % bootstrap interval (days resampled in blocks,
    jointly for all territories). A territory whose interval overlaps another's cannot be said
    to be ahead of it."""
    if metric not in RANK_METRICS:
        raise KeyError(f"Indicateur de classement inconnu : {metric} (choix : {', '.join(RANK_METRICS)}).")
    ter = con.execute("SELECT territory_id, name, population FROM territories ORDER BY territory_id").df()
    if territories:
        ter = ter[ter["territory_id"].isin(territories)].reset_index(drop=True)
    ids = ter["territory_id"].tolist()
    panel = daily_panel(con, ids, start, end - timedelta(days=1))
    num_col, den_col = RANK_METRICS[metric]
    num = panel.pivot(index="date", columns="territory_id", values=num_col)[ids].to_numpy(float)
    n_days = num.shape[0]
    if den_col:
        den = panel.pivot(index="date", columns="territory_id", values=den_col)[ids].to_numpy(float)
        scale = np.ones(len(ids))
    else:
        den = np.ones_like(num)
        if metric == "engagement_per_1000_inhabitants":
            pop = ter["population"].to_numpy(float)
            scale = 1000 * n_days / pop
        elif metric == "engagement_per_1000_followers":
            f = _followers_at(con, end).set_index("territory_id")["followers"].reindex(ids).to_numpy(float)
            scale = 1000 * n_days / f
        else:
            scale = np.full(len(ids), 7.0)  # posts per week
    point = _ratio(num.sum(0), den.sum(0)) * scale
    rng = np.random.default_rng(seed)
    idx = _block_indices(rng, n_days, block_days, n_boot)
    b = _ratio(num[idx].sum(1), den[idx].sum(1)) * scale[None, :]
    b = np.where(np.isfinite(b), b, -np.inf)  # an undefined value ranks last
    ranks = (-b).argsort(1).argsort(1) + 1
    pr = pd.Series(np.where(np.isfinite(point), point, -np.inf)).rank(ascending=False, method="min").astype(int)
    out = pd.DataFrame({
        "territory_id": ids, "name": ter["name"], "value": np.where(np.isfinite(point), point, np.nan),
        "low": np.nanpercentile(np.where(np.isfinite(b), b, np.nan), 2.5, axis=0),
        "high": np.nanpercentile(np.where(np.isfinite(b), b, np.nan), 97.5, axis=0),
        "rank": pr.to_numpy(), "rank_low": np.percentile(ranks, 2.5, axis=0).round().astype(int),
        "rank_high": np.percentile(ranks, 97.5, axis=0).round().astype(int),
        "p_first": (ranks == 1).mean(0),
    })
    return out.sort_values("rank").reset_index(drop=True)


def peer_groups(con: duckdb.DuckDBPyConnection) -> pd.DataFrame:
    """Territories by peer group (size class) with population, own territory flagged."""
    return con.execute(
        "SELECT peer_group, territory_id, name, population, kind FROM territories "
        "ORDER BY peer_group, population DESC").df()


# ================================================================================ report
def ranking_sentence(r: pd.DataFrame, territory_id: str, names: dict[str, str], what: str) -> str:
    """« Saint-Aubin est 2e sur 5 pour l'engagement par publication (entre la 2e et la 3e place, IC 95 %). »"""
    if territory_id not in set(r["territory_id"]):
        return ""
    x = r.set_index("territory_id").loc[territory_id]

    def nth(k: int) -> str:
        return "1re" if k == 1 else f"{k}e"

    s = f"{names.get(territory_id, territory_id)} est {nth(int(x['rank']))} sur {len(r)} pour {what}"
    if x["rank_low"] == x["rank_high"]:
        return s + " (place sûre à 95 %)."
    return s + f" (entre la {nth(int(x['rank_low']))} et la {nth(int(x['rank_high']))} place, IC 95\u00a0%)."


def report_section(con: duckdb.DuckDBPyConnection, f: Any, visible: tuple[str, ...] = ()) -> dict[str, Any]:
    """Campaign and benchmark figures for the periodic report (aggregates only, French texts ready).

    ``visible``: the territories the report's reader may see (``analysis.access``; empty: all); the
    benchmark and the ranking then compare with those of :func:`peers_of` only.

    Keys: ``territory_id``, ``metrics_version``, ``formulas`` (French formula lines),
    ``campaigns`` (each campaign of the territory overlapping the period: dates, verdict, effect
    and 95 % interval against the peers), ``benchmark`` (territory and peers side by side),
    ``ranking`` (engagement per 1,000 inhabitants with rank intervals) and ``ranking_sentence``.
    """
    ter = con.execute("SELECT territory_id, name, kind FROM territories").df()
    names = dict(zip(ter["territory_id"], ter["name"], strict=True))
    own = list(f.territories[:1]) or ter.loc[ter["kind"] == "own", "territory_id"].tolist()[:1]
    t = own[0] if own else None
    out: dict[str, Any] = {"territory_id": t, "metrics_version": metrics.METRICS_VERSION,
                           "formulas": [metrics.formula_text(k) for k in (
                               "engagement", "engagement_per_post", "per_1000_inhabitants", "sov_mentions",
                               "response_rate")],
                           "campaigns": [], "benchmark": [], "ranking": [], "ranking_sentence": ""}
    if t is None or f.start is None or f.end is None:
        return out
    for c in list_campaigns(con):
        if c.territory_id != t or c.end_date < f.start or c.start_date >= f.end:
            continue
        ev = evaluate(con, c, ["engagement_per_post"], n_boot=1000, seed=0)
        r = ev.results[0]
        main = r.did if r.did is not None and r.did.estimate is not None else r.before_after
        out["campaigns"].append({
            "campaign_id": c.campaign_id, "name": c.name, "start": c.start_date, "end": c.end_date,
            "verdict": r.verdict, "effect": main.estimate, "low": main.low, "high": main.high,
            "significant": main.significant, "vs_peers": main is r.did, "effect_fr": main.fr(),
            "ongoing": c.end_date >= f.end,
        })
    ids = [t, *(p for p in peers_of(con, t) if not visible or p in visible)]
    b = benchmark(con, f.start, f.end, ids)
    cols = ["territory_id", "name", "peer_group", "posts", "posts_per_week", "engagement_per_post",
            "engagement_per_1000_followers", "engagement_per_1000_inhabitants", "sov_mentions", "sov_engagement",
            "net_sentiment", "response_rate", "median_response_hours"]
    out["benchmark"] = b[cols].astype(object).where(b[cols].notna(), None).to_dict(orient="records")
    r = rank_intervals(con, f.start, f.end, "engagement_per_1000_inhabitants", ids, n_boot=1000, seed=0)
    out["ranking"] = r.astype(object).where(r.notna(), None).to_dict(orient="records")
    out["ranking_sentence"] = ranking_sentence(r, t, names, "l'engagement pour 1 000 habitants")
    return out
