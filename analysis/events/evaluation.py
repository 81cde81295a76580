"""Did an event's promotion work? Its posts, the conversation around it, and comparisons.

**Promotion posts** of an event: official posts of its territory published from ``LEAD_DAYS``
before its start to ``TAIL_DAYS`` after its end that name it (:func:`analysis.text.names_any` on
its hashtags and keywords) or link to one of its pages.

**Promotion effect** (the « lift »): the promotion posts' engagement, summed, divided by the sum of
what each would have drawn as a usual post — the mean engagement of the *other* posts of the same
account published within ``MATCH_DAYS`` of it (posts promoting any event of the territory left
out) —, minus 1: +40 % = the promotion posts drew 40 % more interactions than the account's usual
posts of the same weeks. Same account and same weeks: the platform, the audience size and the
season cancel out; a campaign that starts or stops inside those weeks does not (said in the page's
method note).

**Uncertainty**: a seeded bootstrap that resamples the promotion posts *and* the reference posts
(so a mean built on three ordinary posts is as uncertain as it is); a group of events (the
territory's comparable past events, peers' similar events) is pooled, each event's posts resampled. The centred percentiles on the log scale are widened by t₀.₉₇₅(n − 1) ÷ z₀.₉₇₅ ·
√(n ÷ (n − 1)), n = promotion posts, as the campaign evaluation does for its few blocks; :func:`analysis.demo.events.coverage` measures the coverage this gives on simulated
agendas.

**Conversation** around the event: messages (not official) of the territory that name it or
answer one of its promotion posts, per day before / during / after, their sentiment (Wilson
interval) and themes; reach of the promotion posts where the exports give it (missing is not 0).
"""

from __future__ import annotations

import functools
import math
from dataclasses import dataclass, field
from datetime import date, timedelta
from typing import Any

import duckdb
import numpy as np
import pandas as pd
from threadpoolctl import ThreadpoolController

from analysis import metrics, store
from analysis.config import LOCAL_TZ
from analysis.events.model import event_terms, events_frame, in_window, local
from analysis.fmt import fr_date, fr_int, fr_num, fr_pct
from analysis.ingest.agenda import norm_link
from analysis.territories import peers_of
from analysis.text import NameIndex, name_keys, names_any

LEAD_DAYS = 28  # promotion starts up to four weeks before an event
TAIL_DAYS = 2  # … and a thank-you post may follow it
AFTER_DAYS = 14  # conversation followed two weeks after the event
MATCH_DAYS = 14  # reference posts of the same account within two weeks of each promotion post
MIN_REFERENCE = 3  # fewer reference posts within MATCH_DAYS: the window is doubled once
COMPARABLE_YEARS = 3  # past events compared with: the territory's, of the same theme, within 3 years
PEER_WINDOW_DAYS = 365  # peers' events of the same theme within a year of this one


# ------------------------------------------------------------------------------ posts
def load_posts(con: duckdb.DuckDBPyConnection, territories: list[str] | tuple[str, ...], start: date,
               end: date, spans: list[tuple[pd.Timestamp, pd.Timestamp]] | None = None) -> pd.DataFrame:
    """Official posts of ``territories`` in [start, end] (UTC days), with engagement (:func:`metrics.engagement_sql`);
    ``spans``: only those within one of these [from, to] (both included)."""
    if not territories:
        return pd.DataFrame(columns=["post_id", "account_id", "territory_id", "platform", "created_at", "text",
                                     "permalink", "engagement", "reach", "post_type"])
    e = metrics.engagement_sql("p")
    t_list = ", ".join("?" for _ in territories)
    within, bounds = "", []
    if spans is not None:
        within = " AND (" + (" OR ".join("p.created_at BETWEEN ? AND ?" for _ in spans) or "FALSE") + ")"
        bounds = [pd.Timestamp(x).to_pydatetime() for span in spans for x in span]
    return store.frame(
        con,
        f"SELECT p.post_id, p.account_id, p.territory_id, p.platform, p.created_at, p.text, p.permalink, "
        f"{e} AS engagement, p.reach, p.post_type FROM posts p JOIN accounts a ON a.account_id = p.account_id "
        f"AND a.official WHERE p.territory_id IN ({t_list}) AND p.created_at >= ? AND p.created_at < ?{within} "
        f"ORDER BY p.created_at, p.post_id",
        [*territories, pd.Timestamp(start).to_pydatetime(), pd.Timestamp(end + timedelta(days=1)).to_pydatetime(),
         *bounds])


def _link_key(u: str | None) -> str | None:
    n = norm_link(u)
    if not n:
        return None
    return n.split("://", 1)[-1].removeprefix("www.").lower()


class PostArrays:
    """The columns of a posts frame (:func:`load_posts`) as arrays, and each text's
    :func:`analysis.text.name_keys` computed once: what :func:`promotes` and :func:`strata` read
    when many events are checked against the same posts."""

    def __init__(self, posts: pd.DataFrame) -> None:
        self.n = len(posts)
        def col(name: str) -> np.ndarray:  # strata() alone reads a frame of account, time, engagement
            return posts[name].to_numpy(object) if name in posts else np.full(self.n, None, dtype=object)

        self.territory, self.texts, self.perma = col("territory_id"), col("text"), col("permalink")
        codes, names = pd.factorize(self.territory)  # territories as integers: fast masks
        self.terr_code, self._terr_codes = codes, {t: i for i, t in enumerate(names)}
        created = pd.to_datetime(posts["created_at"])
        self.created = created.to_numpy()
        self.days = (created - pd.Timestamp("2000-01-01")).dt.total_seconds().to_numpy() / 86400
        self.eng = pd.to_numeric(posts["engagement"], errors="coerce").to_numpy(float)
        self.acc = pd.factorize(posts["account_id"].to_numpy(object))[0]  # accounts as integers: fast masks
        self.known = np.isfinite(self.eng)
        self._keys: dict[int, tuple[str, frozenset[str]]] = {}
        self._index: NameIndex | None = None
        self._index_row = np.full(self.n, -1, dtype=np.int64)  # row of each post in _index, -1: not in it

    def index_names(self, rows: np.ndarray) -> None:
        """Key the texts of ``rows`` (a mask) at once (:class:`analysis.text.NameIndex`): the posts
        :func:`promotes` will look at, for many events."""
        at = np.flatnonzero(rows)
        self._index = NameIndex(self.texts[at])
        self._index_row = np.full(self.n, -1, dtype=np.int64)
        self._index_row[at] = np.arange(len(at))

    def naming(self, terms: list[str], rows: np.ndarray) -> np.ndarray | None:
        """Mask of the posts of ``rows`` (indices) naming one of ``terms``, from the index; None when
        some of them are not indexed."""
        if self._index is None:
            return None
        local = self._index_row[rows]
        if not len(rows):
            return np.zeros(self.n, dtype=bool)
        if (local < 0).any():
            return None
        hit = self._index.naming(terms, int(local.min()), int(local.max()) + 1)
        out = np.zeros(self.n, dtype=bool)
        out[rows] = hit[local]
        return out

    def subset(self, sel: np.ndarray) -> PostArrays:
        """The same arrays for the rows of ``sel`` (a mask)."""
        out = object.__new__(PostArrays)
        out.n = int(sel.sum())
        for name in ("territory", "terr_code", "created", "texts", "perma", "days", "eng", "acc", "known"):
            setattr(out, name, getattr(self, name)[sel])
        out._terr_codes = self._terr_codes
        out._keys = {}
        out._index, out._index_row = self._index, self._index_row[sel]
        return out

    def keys(self, i: int) -> tuple[str, frozenset[str]]:
        k = self._keys.get(i)
        if k is None:
            k = self._keys[i] = name_keys(self.texts[i] if isinstance(self.texts[i], str) else "")
        return k


def _promotion_window(P: PostArrays, event: Any, within: np.ndarray | None = None) -> np.ndarray:
    """Mask of the posts :func:`promotes` looks at: the event's territory, from ``LEAD_DAYS``
    before its start to ``TAIL_DAYS`` after its end (and in ``within``)."""
    s, e = pd.Timestamp(event["start_at"]), pd.Timestamp(event["end_at"])
    t = event["territory_id"]
    mine = P.terr_code == P._terr_codes.get(t, -2) if isinstance(t, str) else P.territory == t
    return (mine & (True if within is None else within)
            & (P.created >= (s - pd.Timedelta(days=LEAD_DAYS)).to_datetime64())
            & (P.created <= (e + pd.Timedelta(days=TAIL_DAYS)).to_datetime64()))


def promotes(posts: pd.DataFrame | PostArrays, event: Any, within: np.ndarray | None = None) -> np.ndarray:
    """Mask of the posts that promote ``event``: its territory, its promotion window, naming it or
    linking to it (see the module docstring). ``within``: only those posts are looked at (others False)."""
    P = posts if isinstance(posts, PostArrays) else PostArrays(posts)
    if not P.n:
        return np.zeros(0, dtype=bool)
    win = _promotion_window(P, event, within)
    terms = event_terms(event)
    links = [k for k in (_link_key(u) for u in event.get("links") or []) if k]
    texts, perma = P.texts, P.perma
    cand = np.flatnonzero(win)
    named = P.naming(terms, cand) if terms else np.zeros(P.n, dtype=bool)
    if named is None:  # texts not indexed: one by one
        named = np.zeros(P.n, dtype=bool)
        for i in cand:
            named[i] = names_any(texts[i] if isinstance(texts[i], str) else "", terms, P.keys(i))
    out = named
    if links:
        for i in cand[~named[cand]]:
            text = texts[i] if isinstance(texts[i], str) else ""
            hay = (text + " " + str(perma[i] or "")).lower()
            out[i] = any(k in hay for k in links)
    return out


# ------------------------------------------------------------------------------ the lift
@dataclass
class Stratum:
    """One event × account: its promotion posts and the account's reference posts (times in days)."""

    t_promo: np.ndarray
    e_promo: np.ndarray
    t_ref: np.ndarray
    e_ref: np.ndarray
    W: np.ndarray  # promo × ref: reference posts within the matching window of each promotion post


def strata(posts: pd.DataFrame | PostArrays, promo: np.ndarray, exclude: np.ndarray) -> tuple[list[Stratum], int]:
    """Strata of one event (one per account with promotion posts) and the number of promotion posts
    left out (engagement missing, or no reference post of the account within 2 × ``MATCH_DAYS``)."""
    P = posts if isinstance(posts, PostArrays) else PostArrays(posts)
    out: list[Stratum] = []
    dropped = 0
    days, eng, acc = P.days, P.eng, P.acc
    usable = ~exclude & P.known
    for a in pd.unique(acc[promo]):
        mine = acc == a
        p = np.flatnonzero(promo & mine)
        known = p[P.known[p]]
        dropped += len(p) - len(known)
        if not len(known):
            continue
        r = np.flatnonzero(mine & usable)
        if not len(r):
            dropped += len(known)
            continue
        dist = np.abs(days[known][:, None] - days[r][None, :])
        W = dist <= MATCH_DAYS
        few = W.sum(1) < MIN_REFERENCE
        W[few] = dist[few] <= 2 * MATCH_DAYS
        ok = W.sum(1) >= 2
        dropped += int((~ok).sum())
        if not ok.any():
            continue
        keep_r = W[ok].any(0)
        out.append(Stratum(days[known][ok], eng[known][ok], days[r][keep_r], eng[r][keep_r], W[ok][:, keep_r]))
    return out, dropped


def _reference_means(s: Stratum, counts: np.ndarray | None = None) -> np.ndarray:
    """The (resampled) mean engagement of each promotion post's reference posts."""
    c = np.ones_like(s.e_ref) if counts is None else counts
    with np.errstate(divide="ignore", invalid="ignore"):
        return ((c * s.e_ref) @ s.W.T) / (c @ s.W.T)


def _resampled_reference_means(g: list[Stratum], B: int, rng: np.random.Generator) -> np.ndarray:
    """B × (promotion posts of ``g``): :func:`_reference_means` of each stratum with its reference
    posts resampled (``rng.integers(0, k, (B, k))`` per stratum, in order). One product per stratum
    with [W·e | W] gives each mean's numerator and denominator: sums of whole engagements and
    counts, so exactly the figures of the two products it replaces."""
    rows = np.arange(B)[:, None]
    out = []
    for s in g:
        k, p = len(s.e_ref), len(s.e_promo)
        idx = rng.integers(0, k, size=(B, k))
        idx += rows * k
        counts = np.bincount(idx.ravel(), minlength=B * k).reshape(B, k).astype(float)
        wt = s.W.T
        r = counts @ np.concatenate([wt * s.e_ref[:, None], wt], axis=1)
        with np.errstate(divide="ignore", invalid="ignore"):
            out.append(r[:, :p] / r[:, p:])
    return np.concatenate(out, axis=1)


@functools.cache
def _threadpools() -> ThreadpoolController:
    """The process's thread pools (BLAS), looked up once: threadpool_limits() scans the loaded
    libraries at every call (3 ms, 23 times for the events of one territory)."""
    return ThreadpoolController()


def _draws(groups: list[list[Stratum]], n_boot: int, rng: np.random.Generator) -> tuple[float | None, np.ndarray, int]:
    """Point estimate Σ engagement of the promotion posts ÷ Σ their reference means − 1 over every
    promotion post of ``groups`` (events), and its bootstrap draws: within each event, its
    promotion posts and each account's reference posts are resampled. A group of events is compared
    as it was (those events, their posts resampled), not as a sample of possible events."""
    num = sum(float(s.e_promo.sum()) for g in groups for s in g)
    den = sum(float(np.nansum(_reference_means(s))) for g in groups for s in g)
    n_posts = sum(len(s.e_promo) for g in groups for s in g)
    if not n_posts or den <= 0:
        return None, np.array([]), 0
    point = num / den - 1
    B = max(n_boot, 1)
    e_sum = np.zeros((B, len(groups)))
    m_sum = np.zeros((B, len(groups)))
    # products of a few columns: BLAS threads cost more than they give (half the CPU on two cores)
    with _threadpools().limit(limits=1, user_api="blas"):
        _resample_groups(groups, B, rng, e_sum, m_sum)
    with np.errstate(divide="ignore", invalid="ignore"):
        draws = e_sum.sum(1) / m_sum.sum(1) - 1
    n_units = n_posts
    return point, draws[np.isfinite(draws) & (draws > -1)], n_units


def _resample_groups(groups: list[list[Stratum]], B: int, rng: np.random.Generator, e_sum: np.ndarray,
                     m_sum: np.ndarray) -> None:
    """Fill column gi of ``e_sum`` / ``m_sum`` with group gi's resampled sums of promotion
    engagement / reference means (:func:`_draws`)."""
    for gi, g in enumerate(groups):
        # reference means resampled per account; the promotion posts of the event resampled together
        # (per account, an account with two promotion posts would halve their variance)
        m = _resampled_reference_means(g, B, rng)
        e = np.concatenate([s.e_promo for s in g])
        n = len(e)
        pick = rng.integers(0, n, size=(B, n))
        e_sum[:, gi] = e[pick].sum(1)
        m_sum[:, gi] = np.nansum(np.take_along_axis(m, pick, axis=1), axis=1)


@dataclass
class Lift:
    """A promotion effect (0.4 = +40 %) with its 95 % interval; ``events`` > 1 for a group."""

    estimate: float | None
    low: float | None
    high: float | None
    posts: int = 0
    events: int = 0
    log_draws: np.ndarray = field(default_factory=lambda: np.array([]), repr=False)

    @property
    def significant(self) -> bool:
        return self.low is not None and self.high is not None and (self.low > 0 or self.high < 0)

    def fr(self) -> str:
        if self.estimate is None:
            return "—"
        return (f"{fr_pct(self.estimate, 0, signed=True)} (IC 95\u00a0% : {fr_pct(self.low, 0, signed=True)} "
                f"à {fr_pct(self.high, 0, signed=True)})").replace("-", "−")


def _widen(n: int) -> float:
    from scipy.stats import norm, t

    n = max(n, 2)
    return float(t.ppf(0.975, n - 1) / norm.ppf(0.975) * math.sqrt(n / (n - 1)))


def lift(groups: list[list[Stratum]], n_boot: int = 2000, seed: int = 0) -> Lift:
    """The promotion effect of one event (``groups`` of one) or of a group of events, with its
    widened bootstrap interval (module docstring)."""
    rng = np.random.default_rng(seed)
    point, draws, n_units = _draws([g for g in groups if g], n_boot, rng)
    n_posts = sum(len(s.e_promo) for g in groups for s in g)
    n_ev = sum(1 for g in groups if g)
    if point is None or len(draws) < 20 or point <= -1:
        return Lift(None, None, None, n_posts, n_ev)
    ld = np.log1p(draws)
    lp = math.log1p(point)
    q_lo, q_mid, q_hi = np.percentile(ld, [2.5, 50, 97.5])
    f = _widen(n_units)
    return Lift(point, math.expm1(lp + f * (q_lo - q_mid)), math.expm1(lp + f * (q_hi - q_mid)), n_posts, n_ev,
                lp + f * (ld - q_mid))


def difference(a: Lift, b: Lift) -> tuple[float, float, float] | None:
    """Ratio of two effects (1 + a) ÷ (1 + b) − 1 with its 95 % interval, from their independent
    bootstrap draws (each already widened as its own interval is)."""
    if a.estimate is None or b.estimate is None or not len(a.log_draws) or not len(b.log_draws):
        return None
    n = min(len(a.log_draws), len(b.log_draws))
    d = a.log_draws[:n] - b.log_draws[:n]
    lo, hi = np.percentile(d, [2.5, 97.5])
    return math.expm1(math.log1p(a.estimate) - math.log1p(b.estimate)), math.expm1(lo), math.expm1(hi)


# ------------------------------------------------------------------------------ conversation
def conversation(con: duckdb.DuckDBPyConnection, event: Any, promo_ids: list[str]) -> dict[str, Any]:
    """Messages naming the event or answering its promotion posts, per phase (before / during /
    after): count, per day, sentiment (P, N, neutral, net with its Wilson interval), top themes;
    the volume change during vs before with a quasi-Poisson interval."""
    s, e = pd.Timestamp(event["start_at"]), pd.Timestamp(event["end_at"])
    w0 = _utc_midnight(local(s).normalize()) - pd.Timedelta(days=LEAD_DAYS)
    w1 = _utc_midnight(local(e).normalize()) + pd.Timedelta(days=1 + AFTER_DAYS)
    has_sent = bool(con.execute("SELECT count(*) > 0 FROM sentiment").fetchone()[0])
    label = "coalesce(l.value, s.label)" if has_sent else "NULL"
    msgs = store.frame(
        con,
        f"""SELECT m.message_id, m.post_id, m.created_at, m.text, {label} AS label
            FROM messages m
            LEFT JOIN sentiment s ON s.item_id = m.message_id AND s.item_type = 'message'
            LEFT JOIN labels l ON l.item_id = m.message_id AND l.item_type = 'message' AND l.task = 'sentiment'
            WHERE m.territory_id = ? AND NOT coalesce(m.is_official, FALSE) AND m.created_at >= ? AND m.created_at < ?""",
        [event["territory_id"], w0.to_pydatetime(), w1.to_pydatetime()])
    terms = event_terms(event)
    keep = msgs["post_id"].isin(set(promo_ids)).to_numpy(bool, copy=True)
    if terms and len(msgs):
        keep |= NameIndex(msgs["text"].to_numpy(object)).naming(terms)
    m = msgs[keep].copy() if len(msgs) else msgs
    # phases are French local days: the event's days (whole), the four weeks before, two weeks after
    d0 = _utc_midnight(local(s).normalize())
    d1 = _utc_midnight(local(e).normalize() + pd.Timedelta(days=1))
    w0, w1 = d0 - pd.Timedelta(days=LEAD_DAYS), d1 + pd.Timedelta(days=AFTER_DAYS)
    phases = {"avant": (w0, d0), "pendant": (d0, d1), "après": (d1, w1)}
    themes = pd.DataFrame(columns=["theme", "n"])
    if len(m):
        ids = m["message_id"].tolist()
        themes = con.execute(
            f"SELECT theme, count(*) AS n FROM themes WHERE item_type = 'message' AND theme <> 'none' AND item_id IN "
            f"({', '.join('?' for _ in ids)}) GROUP BY 1 ORDER BY 2 DESC, 1 LIMIT 3", ids).df()
    rows = []
    for name, (a, b) in phases.items():
        sub = m[(m["created_at"] >= a) & (m["created_at"] < b)] if len(m) else m
        days = max((b - a).total_seconds() / 86400, 1 / 24)
        pos = int((sub["label"] == "positive").sum()) if len(sub) else 0
        neg = int((sub["label"] == "negative").sum()) if len(sub) else 0
        neu = int((sub["label"] == "neutral").sum()) if len(sub) else 0
        ci = metrics.net_sentiment_interval(pos, neg) if pos + neg else None
        rows.append({"phase": name, "start": local(a), "end": local(b), "days": days, "messages": len(sub),
                     "per_day": len(sub) / days, "positive": pos, "negative": neg, "neutral": neu,
                     "net_sentiment": metrics.net_sentiment(pos, neg) if pos + neg else None,
                     "net_low": ci[0] if ci else None, "net_high": ci[1] if ci else None})
    ph = pd.DataFrame(rows)
    daily = (m.assign(day=[local(x).date() for x in m["created_at"]]).groupby("day").size()
             if len(m) else pd.Series(dtype=float))
    return {"phases": ph, "themes": themes, "volume_change": _rate_ratio(ph, daily, w0, w1), "messages": len(m)}


def _utc_midnight(local_day: pd.Timestamp) -> pd.Timestamp:
    """A French local midnight as a naive UTC timestamp."""
    return pd.Timestamp(local_day).tz_localize(LOCAL_TZ).tz_convert("UTC").tz_localize(None)


def _rate_ratio(ph: pd.DataFrame, daily: pd.Series, w0: pd.Timestamp, w1: pd.Timestamp) -> tuple | None:
    """Messages per day during ÷ before, with a quasi-Poisson 95 % interval (dispersion from the
    daily counts of the window, at least 1)."""
    b, d = ph.set_index("phase").loc["avant"], ph.set_index("phase").loc["pendant"]
    if b["messages"] == 0 or d["messages"] == 0:
        return None
    idx = pd.date_range(local(w0).normalize(), local(w1).normalize(), freq="D").date
    counts = daily.reindex(idx, fill_value=0).to_numpy(float)
    phi = max(1.0, float(counts.var(ddof=1) / counts.mean())) if counts.mean() > 0 and len(counts) > 2 else 1.0
    rr = (d["messages"] / d["days"]) / (b["messages"] / b["days"])
    se = math.sqrt(phi * (1 / d["messages"] + 1 / b["messages"]))
    return rr - 1, math.exp(math.log(rr) - 1.96 * se) - 1, math.exp(math.log(rr) + 1.96 * se) - 1


# ------------------------------------------------------------------------------ evaluation
@dataclass
class EventEvaluation:
    event: dict[str, Any]
    theme: str
    promo_posts: pd.DataFrame
    dropped_posts: int
    lift: Lift
    past: Lift
    past_events: list[str]
    peers: Lift
    peer_events: list[str]
    vs_past: tuple[float, float, float] | None
    vs_peers: tuple[float, float, float] | None
    conversation: dict[str, Any] | None
    reach_known: int
    reach_total: float | None
    verdict: str
    n_boot: int
    seed: int


def _peers(con: duckdb.DuckDBPyConnection, territory: str) -> list[str]:

    return peers_of(con, [territory])


def _event_strata(posts: pd.DataFrame, ev: Any, any_promo: np.ndarray) -> tuple[list[Stratum], np.ndarray, int]:
    pm = promotes(posts, ev)
    st, dropped = strata(posts, pm, any_promo | pm)
    return st, pm, dropped


def _posts_window(ev: Any) -> tuple[pd.Timestamp, pd.Timestamp]:
    """[from, to) of the official posts an event's evaluation reads: its comparable past events'
    and peers' events' promotion windows, with the reference posts around them."""
    s0 = (pd.Timestamp(ev["start_at"]) - pd.DateOffset(years=COMPARABLE_YEARS)).date()
    s1 = (pd.Timestamp(ev["end_at"]) + pd.Timedelta(days=PEER_WINDOW_DAYS)).date()
    return (pd.Timestamp(s0 - timedelta(days=LEAD_DAYS + 2 * MATCH_DAYS)),
            pd.Timestamp(s1 + timedelta(days=2 * MATCH_DAYS + TAIL_DAYS + 1)))


@dataclass
class _Scope:
    """What the evaluations of a territory's events share: its peers, their events, the official
    posts of all of them over the evaluated events' windows and each event's promotion mask."""

    territory: str
    peers: list[str]
    events: pd.DataFrame
    posts: pd.DataFrame
    arrays: PostArrays
    masks: dict[str, np.ndarray]
    any_promo: np.ndarray
    compared: _Compared  # the events' columns an event's comparison reads, as arrays


_COMPARED_COLUMNS = ("event_id", "territory_id", "theme_effective", "start_at", "end_at")


class _Compared:
    """What an event's comparison (:meth:`of`) reads of the events' ``_COMPARED_COLUMNS`` (``slim``) as arrays, with the
    masks of ``territory`` and of its ``peers``, built once per scope: a pandas filter per comparison took
    6 ms (0,14 s of a territory's evaluations at 1 M messages)."""

    def __init__(self, slim: pd.DataFrame, territory: str, peers: list[str]) -> None:
        self.slim = slim
        ter = slim["territory_id"]
        self.peer = ter.isin(peers).to_numpy(bool)
        self.scoped = ter.isin([territory, *peers]).to_numpy(bool)
        self.own = ter.isin([territory]).to_numpy(bool)
        codes, themes = pd.factorize(slim["theme_effective"])  # missing: -1, never equal to an event's theme
        self.theme, self._theme_code = codes, {th: i for i, th in enumerate(themes)}
        self.start = pd.to_datetime(slim["start_at"]).to_numpy()
        self.end = pd.to_datetime(slim["end_at"]).to_numpy()

    def of(self, ev: Any) -> tuple[pd.DataFrame, pd.DataFrame]:
        """The events ``ev`` is compared with: the territory's past events of its theme within
        ``COMPARABLE_YEARS``, and its peers' events of its theme within ``PEER_WINDOW_DAYS``."""
        start = pd.Timestamp(ev["start_at"])
        s0 = pd.Timestamp((start - pd.DateOffset(years=COMPARABLE_YEARS)).date())
        th = ev["theme_effective"]
        same = self.theme == (-2 if pd.isna(th) else self._theme_code.get(th, -2))
        relevant = self.scoped & same & (self.start >= s0.to_datetime64())
        past = relevant & self.own & (self.end < start.to_datetime64())
        near = np.abs(self.start - start.to_datetime64()) <= np.timedelta64(PEER_WINDOW_DAYS, "D")
        return self.slim[past], self.slim[relevant & self.peer & near]


def _need_spans(cmp_: _Compared, rows: pd.DataFrame) -> list[tuple[pd.Timestamp, pd.Timestamp]]:
    """[from, to] spans (both included, overlapping ones merged) of the posts an evaluation of
    ``rows`` can read: within 2 × ``MATCH_DAYS`` (and a day) of the promotion windows of those events
    and of the events they are compared with. Farther posts are no reference of any promotion post,
    so whether they promote something changes nothing."""
    spans = {}
    for ev in rows.to_dict("records"):
        spans[ev["event_id"]] = (ev["start_at"], ev["end_at"])
        for x in cmp_.of(ev):
            spans.update(zip(x["event_id"], zip(x["start_at"], x["end_at"], strict=True), strict=True))
    out: list[tuple[pd.Timestamp, pd.Timestamp]] = []
    for lo, hi in sorted((pd.Timestamp(a) - pd.Timedelta(days=LEAD_DAYS + 2 * MATCH_DAYS + 1),
                          pd.Timestamp(b) + pd.Timedelta(days=TAIL_DAYS + 2 * MATCH_DAYS + 1))
                         for a, b in spans.values()):
        if out and lo <= out[-1][1]:
            out[-1] = (out[-1][0], max(out[-1][1], hi))
        else:
            out.append((lo, hi))
    return out


def _needed(arrays: PostArrays, spans: list[tuple[pd.Timestamp, pd.Timestamp]]) -> np.ndarray:
    """Mask of the posts within one of ``spans`` (:func:`_need_spans`)."""
    need = np.zeros(arrays.n, dtype=bool)
    for lo, hi in spans:
        need |= (arrays.created >= lo.to_datetime64()) & (arrays.created <= hi.to_datetime64())
    return need


def scoped_events(con: duckdb.DuckDBPyConnection, territory: str,
                  visible: tuple[str, ...] = ()) -> tuple[list[str], pd.DataFrame]:
    """The peers an evaluation of ``territory``'s events compares with (those the reader may see:
    ``visible``, empty for all) and every event of the territory and of them (:func:`events_frame`)."""
    peers = [p for p in _peers(con, territory) if not visible or p in visible]
    return peers, events_frame(con, [territory, *peers])


def _scope(con: duckdb.DuckDBPyConnection, territory: str, event_ids: list[str], visible: tuple[str, ...],
           scoped: tuple[list[str], pd.DataFrame] | None = None) -> _Scope:
    peers, evs = scoped or scoped_events(con, territory, visible)
    slim = evs[list(_COMPARED_COLUMNS)]  # what _Compared reads: filtering it is cheap (no list columns)
    rows = slim[slim["event_id"].isin(event_ids)]
    windows = [_posts_window(x) for _, x in rows.iterrows()]
    compared = _Compared(slim, territory, peers)
    spans = _need_spans(compared, rows)
    if windows:  # only the posts the evaluations can read (the others change nothing: _need_spans)
        posts = load_posts(con, [territory, *peers], min(w[0] for w in windows).date(),
                           (max(w[1] for w in windows) - pd.Timedelta(days=1)).date(), spans)
    else:
        posts = load_posts(con, [], date.today(), date.today())
    arrays = PostArrays(posts)
    need = _needed(arrays, spans)
    any_promo = np.zeros(len(posts), dtype=bool)
    masks: dict[str, np.ndarray] = {}
    scoped = [x for _, x in evs[evs["territory_id"].isin([territory, *peers])].iterrows()]
    looked_at = np.zeros(len(posts), dtype=bool)
    for x in scoped:
        looked_at |= _promotion_window(arrays, x, need)
    arrays.index_names(looked_at)  # every text read once, keyed at once
    for x in scoped:
        masks[x["event_id"]] = promotes(arrays, x, need)
        any_promo |= masks[x["event_id"]]
    return _Scope(territory, peers, evs, posts, arrays, masks, any_promo, compared)


def evaluate_event(con: duckdb.DuckDBPyConnection, event_id: str, n_boot: int = 2000, seed: int = 0,
                   with_conversation: bool = True, visible: tuple[str, ...] = ()) -> EventEvaluation:
    """Evaluate one event (see the module docstring). ``visible``: peers the reader may compare with
    (``analysis.access``; empty: every peer)."""
    row = con.execute("SELECT territory_id FROM events WHERE event_id = ?", [event_id]).fetchone()
    if row is None:
        raise KeyError(f"Événement inconnu : {event_id} (voir `vigie events list`).")
    t = row[0]
    if t is None:
        raise ValueError("Cet événement n'est rattaché à aucun territoire : rien à évaluer "
                         "(`vigie events import FICHIER --territory ID`).")
    return _evaluate(con, _scope(con, t, [event_id], visible), event_id, n_boot, seed, with_conversation)


def evaluate_events(con: duckdb.DuckDBPyConnection, territory: str, event_ids: list[str], n_boot: int = 2000,
                    seed: int = 0, with_conversation: bool = True, visible: tuple[str, ...] = (),
                    scoped: tuple[list[str], pd.DataFrame] | None = None) -> list[EventEvaluation]:
    """:func:`evaluate_event` of several events of ``territory`` (the same results), its peers'
    events and posts read once. ``scoped``: :func:`scoped_events` of the same territory and reader,
    when the caller has read it already."""
    sc = _scope(con, territory, list(event_ids), visible, scoped)
    return [_evaluate(con, sc, e, n_boot, seed, with_conversation) for e in event_ids]


def _evaluate(con: duckdb.DuckDBPyConnection, sc: _Scope, event_id: str, n_boot: int, seed: int,
              with_conversation: bool) -> EventEvaluation:
    """:func:`evaluate_event` within a scope: the event's posts are the scope's posts of its window
    (:func:`_posts_window`), as if read for it alone."""
    evs = sc.events
    ev = evs[evs["event_id"] == event_id].iloc[0]
    theme = ev["theme_effective"]
    past_rows, peer_rows = sc.compared.of(ev)
    w0, w1 = _posts_window(ev)
    sel = (sc.arrays.created >= w0.to_datetime64()) & (sc.arrays.created < w1.to_datetime64())
    arrays = sc.arrays.subset(sel)
    any_promo = sc.any_promo[sel]
    masks = {k: m[sel] for k, m in sc.masks.items()}

    def groups_of(rows: pd.DataFrame) -> tuple[list[list[Stratum]], list[str]]:
        gs, names = [], []
        for eid in rows["event_id"]:
            st, _ = strata(arrays, masks[eid], any_promo)
            if st:
                gs.append(st)
                names.append(eid)
        return gs, names

    own_st, dropped = strata(arrays, masks[event_id], any_promo)
    this = lift([own_st], n_boot, seed)
    past_g, past_names = groups_of(past_rows)
    past = lift(past_g, n_boot, seed + 1) if past_g else Lift(None, None, None)
    peer_g, peer_names = groups_of(peer_rows)
    peer = lift(peer_g, n_boot, seed + 2) if peer_g else Lift(None, None, None)
    # rows 0…n, whichever posts the scope read (the window's posts, then its promotion posts: the same rows)
    promo_posts = sc.posts[sel & sc.masks[event_id]].reset_index(drop=True)
    reach = pd.to_numeric(promo_posts["reach"], errors="coerce")
    conv = conversation(con, ev, promo_posts["post_id"].tolist()) if with_conversation else None
    out = EventEvaluation(
        event=ev.to_dict(), theme=theme, promo_posts=promo_posts, dropped_posts=dropped, lift=this, past=past,
        past_events=past_names, peers=peer, peer_events=peer_names,
        vs_past=difference(this, past) if len(past_g) >= 1 else None,
        vs_peers=difference(this, peer) if len(peer_g) >= 1 else None,
        conversation=conv, reach_known=int(reach.notna().sum()),
        reach_total=float(reach.sum()) if reach.notna().any() else None, verdict="", n_boot=n_boot, seed=seed)
    out.verdict = verdict(out)
    return out


def _cmp(diff: tuple[float, float, float] | None, ref: Lift, what: str) -> str:
    """« Par rapport aux … (+20 %, 3 événements) : pas de différence démontrée (écart … , IC 95 % : …). »"""
    if diff is None or ref.estimate is None:
        return ""
    est, lo, hi = diff
    n = f"{ref.events} événement{'s' if ref.events > 1 else ''}"
    ci = (f"écart {fr_pct(est, 0, signed=True)}, IC 95\u00a0% : {fr_pct(lo, 0, signed=True)} à "
          f"{fr_pct(hi, 0, signed=True)}").replace("-", "−")
    concl = "mieux" if lo > 0 else "moins bien" if hi < 0 else "pas de différence démontrée"
    return f"Par rapport {what} ({fr_pct(ref.estimate, 0, signed=True).replace('-', '−')}, {n}) : {concl} ({ci})."


def verdict(ev: EventEvaluation) -> str:
    """Plain-French verdict of an event's promotion, in the campaign page's style."""
    title = ev.event.get("title") or ev.event.get("event_id")
    n = len(ev.promo_posts)
    if n == 0:
        return (f"« {title} » : aucune publication officielle ne l'a promu (hashtags, mots-clés ou liens de "
                "l'événement, dans les quatre semaines qui le précèdent) : rien à évaluer.")
    lf = ev.lift
    pubs = f"{fr_int(n)} publication{'s' if n > 1 else ''} de promotion"
    if lf.estimate is None:
        return (f"« {title} » : {pubs}, mais leur engagement ou celui des autres publications des mêmes comptes "
                "manque dans les exports : effet non mesurable.")
    amount = f"{fr_pct(abs(lf.estimate), 0)} {'de plus' if lf.estimate >= 0 else 'de moins'}"
    if lf.significant:
        concl = "effet net probable" if lf.estimate > 0 else "moins bien que les publications habituelles"
    else:
        concl = "pas d'effet démontré (l'intervalle contient zéro)"
    ci = lf.fr().split(" (", 1)[1].rstrip(")")
    s = (f"« {title} » : ses {pubs} ont reçu {amount} d'interactions que les autres publications des mêmes comptes "
         f"les mêmes semaines ({ci}) : {concl}.")
    extra = [x for x in (_cmp(ev.vs_past, ev.past, "aux événements comparables passés du territoire"),
                         _cmp(ev.vs_peers, ev.peers, "aux événements semblables des pairs")) if x]
    return " ".join([s, *extra])


def territory_summary(con: duckdb.DuckDBPyConnection, territory: str, start: date | None = None,
                      end: date | None = None, n_boot: int = 500, seed: int = 0,
                      visible: tuple[str, ...] = ()) -> pd.DataFrame:
    """One row per event of ``territory`` overlapping [start, end): promotion posts, effect with its
    interval, comparisons and verdict (conversation left to :func:`evaluate_event`)."""
    scoped = scoped_events(con, territory, visible)
    evs = in_window(scoped[1], [territory], start, end)  # events_frame(con, [territory], start, end), read once
    sc = _scope(con, territory, evs["event_id"].tolist(), visible, scoped)
    rows = []
    for _, x in evs.iterrows():
        ev = _evaluate(con, sc, x["event_id"], n_boot, seed, with_conversation=False)
        rows.append({"event_id": x["event_id"], "territory_id": territory, "title": x["title"],
                     "start": x["start_local"], "end": x["end_local"], "theme": ev.theme,
                     "promo_posts": len(ev.promo_posts), "effect": ev.lift.estimate, "low": ev.lift.low,
                     "high": ev.lift.high, "significant": ev.lift.significant, "effect_fr": ev.lift.fr(),
                     "vs_past": ev.vs_past[0] if ev.vs_past else None,
                     "vs_peers": ev.vs_peers[0] if ev.vs_peers else None, "verdict": ev.verdict})
    return pd.DataFrame(rows, columns=["event_id", "territory_id", "title", "start", "end", "theme", "promo_posts",
                                       "effect", "low", "high", "significant", "effect_fr", "vs_past", "vs_peers",
                                       "verdict"])


def describe_dates(start: Any, end: Any) -> str:
    """« 21 juin 2026 » or « du 5 au 7 déc. 2025 » (local dates)."""
    a, b = pd.Timestamp(start).date(), pd.Timestamp(end).date()
    return fr_date(a) if a == b else f"du {fr_date(a)} au {fr_date(b)}"


__all__ = ["EventEvaluation", "Lift", "evaluate_event", "evaluate_events", "lift", "promotes", "strata", "territory_summary",
           "verdict", "describe_dates", "fr_num"]
