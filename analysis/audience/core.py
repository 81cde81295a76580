"""Audience figures (growth, pyramid, representativeness, geography): see the package docstring,
:mod:`analysis.audience`."""

from __future__ import annotations

import functools
import math
import re
from collections.abc import Iterable, Mapping

import duckdb
import numpy as np
import pandas as pd

from analysis import schema
from analysis.fmt import fr_num, fr_pct
from analysis.metrics import per_1000_inhabitants  # noqa: F401 - the one definition, re-exported
from analysis.queries import Filters
from analysis.store import REPO_ROOT
from analysis.territories import peers_of
from analysis.text import strip_accents

# Age bands of the platforms (Meta, legacy Insights); the census is aggregated to the same bands.
BANDS: tuple[str, ...] = ("13-17", "18-24", "25-34", "35-44", "45-54", "55-64", "65+")
# Bands of the population table: platform bands, 0-12 (outside the 13+ base), and 35-44 kept as
# 35-39 + 40-44 when the source allows it (needed to cut the 40+ segment without guessing).
POP_BANDS: tuple[tuple[str, int, int], ...] = (
    ("0-12", 0, 12), ("13-17", 13, 17), ("18-24", 18, 24), ("25-34", 25, 34), ("35-39", 35, 39),
    ("40-44", 40, 44), ("45-54", 45, 54), ("55-64", 55, 64), ("65+", 65, 200),
)
GENDERS: tuple[str, ...] = ("F", "M")
DEMO_POPULATION_CSV = REPO_ROOT / "data" / "population_demo.csv"
AVG_MONTH_DAYS = 365.2425 / 12  # Gregorian mean month: CMGR over any span of days
UNDER_REACHED = 0.8  # index below this: the segment is named as under-reached
OVER_REACHED = 1.25

PLATFORM_FR = {**schema.PLATFORM_LABELS, "other": "autre plateforme", "all": "tous réseaux confondus"}

# Target segments a communication team asks for (bands they are made of).
SEGMENTS: dict[str, tuple[str, ...]] = {
    "18-24": ("18-24",),
    "25-34": ("25-34",),
    "40+": ("40-44", "45-54", "55-64", "65+"),  # 40-44 = part of 35-44, see split_40_44
    "65+": ("65+",),
}
SEGMENT_RULE_40 = (
    "Les plateformes donnent la tranche 35-44 ans d'un bloc : pour les 40 ans et plus, on en retient la "
    "part des 40-44 ans observée dans la population du territoire (même répartition par âge supposée "
    "chez les abonnés) ; sans détail par âge dans la population, la moitié (approximation signalée)."
)


# ------------------------------------------------------------------------------ formulas
def net_new_followers(followers_start: float | None, followers_end: float | None) -> float | None:
    """Net new followers = F_end − F_start (None when either is missing)."""
    if followers_start is None or followers_end is None or _nan(followers_start) or _nan(followers_end):
        return None
    return float(followers_end) - float(followers_start)


def growth_rate(followers_start: float | None, followers_end: float | None) -> float | None:
    """Simple growth rate = (F_end − F_start) ÷ F_start (None when F_start is missing or 0)."""
    net = net_new_followers(followers_start, followers_end)
    if net is None or not followers_start:
        return None
    return net / float(followers_start)


def compound_monthly_growth_rate(followers_start: float | None, followers_end: float | None,
                                 days: float) -> float | None:
    """Compound monthly growth rate = (F_end ÷ F_start)^(1 ÷ m) − 1, m = days ÷ 30,44 (mean month).

    None when a count is missing or not positive, or the span is empty.
    """
    if (followers_start is None or followers_end is None or _nan(followers_start) or _nan(followers_end)
            or followers_start <= 0 or followers_end <= 0 or days <= 0):
        return None
    return float((followers_end / followers_start) ** (AVG_MONTH_DAYS / days) - 1.0)




def representativeness_index(share_followers: float | None, share_population: float | None) -> float | None:
    """Index = share among followers ÷ share in the population (13+); 1 = as present as in the population."""
    if share_followers is None or share_population is None or _nan(share_followers) or _nan(share_population):
        return None
    if share_population <= 0:
        return None
    return float(share_followers) / float(share_population)


def combine_weighted(shares: Mapping[str, Mapping[str, float]], weights: Mapping[str, float]) -> dict[str, float]:
    """Σ_a w_a · s_a(cell) ÷ Σ_a w_a over the sources a having a positive weight.

    ``shares`` maps a source (account) to its cell shares; a cell absent from a source counts 0
    there (the platform says nobody is in it), a source without weight is left out.
    """
    srcs = [a for a in shares if weights.get(a) and weights[a] > 0]
    tot = sum(weights[a] for a in srcs)
    if not srcs:
        return {}
    cells = sorted({c for a in srcs for c in shares[a]})
    return {c: sum(weights[a] * shares[a].get(c, 0.0) for a in srcs) / tot for c in cells}


def _nan(v: object) -> bool:
    return isinstance(v, float) and math.isnan(v)


# ------------------------------------------------------------------------------ growth
def _acc_where(f: Filters, alias: str) -> tuple[str, list]:
    # Territory/platform filters apply to the account; dates are handled per query.
    from dataclasses import replace

    return replace(f, start=None, end=None).where(alias)


def followers_series(con: duckdb.DuckDBPyConnection, f: Filters | None = None) -> pd.DataFrame:
    """Daily follower rows of official accounts: account, platform, territory, date, followers, new, lost."""
    rows, params = _followers_rows(f or Filters())
    return con.execute(
        f"""SELECT af.account_id, a.platform, a.territory_id, af.date, af.followers, af.new_followers,
                   af.lost_followers {rows} ORDER BY 1, 4""", params).df()


def _followers_rows(f: Filters) -> tuple[str, list]:
    """FROM … WHERE of the daily follower rows (``af``) of the official accounts (``a``) of ``f``."""
    w, params = _acc_where(f, "a")
    dw, dparams = _date_where(f, "af")
    return (f"FROM audience_followers af JOIN accounts a USING (account_id) WHERE a.official AND {w} AND {dw}",
            params + dparams)


def _date_where(f: Filters, alias: str, col: str = "date") -> tuple[str, list]:
    clauses, params = ["TRUE"], []
    if f.start:
        clauses.append(f"{alias}.{col} >= ?")
        params.append(f.start)
    if f.end:
        clauses.append(f"{alias}.{col} < ?")
        params.append(f.end)
    return " AND ".join(clauses), params


def monthly_followers(con: duckdb.DuckDBPyConnection, f: Filters | None = None) -> pd.DataFrame:
    """Followers at the last known day of each month, per territory and platform (Σ of its accounts).

    Only accounts whose export gives the follower total (not just daily gains) are counted.
    """
    s = followers_series(con, f)
    s = s[s["followers"].notna()]
    if s.empty:
        return pd.DataFrame(columns=["territory_id", "platform", "month", "followers"])
    s = s.assign(month=pd.to_datetime(s["date"]).dt.to_period("M").dt.to_timestamp())
    last = s.sort_values("date").groupby(["account_id", "month"]).tail(1)
    out = last.groupby(["territory_id", "platform", "month"], as_index=False)["followers"].sum()
    return out.sort_values(["territory_id", "platform", "month"]).reset_index(drop=True)


def growth(con: duckdb.DuckDBPyConnection, f: Filters | None = None) -> pd.DataFrame:
    """Growth per account over the filtered period (all data when the period is open).

    Columns: account_id, platform, territory_id, date_start, date_end, followers_start, followers_end,
    net_new, growth_rate, cmgr, gained, lost, population, per_1000. ``gained``/``lost`` are the sums
    of the daily follows/unfollows when the export gives them (NULL otherwise, never 0).
    """
    rows, params = _followers_rows(f or Filters())
    # per account of followers_series: the first and last day whose export gives the total, and the sums
    # of the daily follows/unfollows (NULL when no day gives them, never 0); in SQL, one row per account
    # (a groupby over every day of every account was a third of the Synthèse headlines)
    known = "af.followers IS NOT NULL"
    acc = con.execute(
        f"""SELECT af.account_id, any_value(a.platform) AS platform, any_value(a.territory_id) AS territory_id,
                   min(af.date) FILTER (WHERE {known}) AS d0, arg_min(af.followers, af.date) FILTER (WHERE {known}) AS f0,
                   max(af.date) FILTER (WHERE {known}) AS d1, arg_max(af.followers, af.date) FILTER (WHERE {known}) AS f1,
                   sum(af.new_followers)::DOUBLE AS gained, sum(af.lost_followers)::DOUBLE AS lost
            {rows} GROUP BY af.account_id ORDER BY af.account_id""", params).df()
    pops = _populations(con)
    rows = []
    for aid, platform, terr, d0, f0, d1, f1, gained, lost in acc.itertuples(index=False, name=None):
        d0, d1 = (None, None) if pd.isna(d0) else (d0, d1)
        f0, f1 = (None if pd.isna(v) else float(v) for v in (f0, f1))
        gained, lost = (None if pd.isna(v) else float(v) for v in (gained, lost))
        days = (pd.Timestamp(d1) - pd.Timestamp(d0)).days if d0 is not None else 0
        rows.append({
            "account_id": aid, "platform": platform, "territory_id": terr,
            "date_start": d0, "date_end": d1, "followers_start": f0, "followers_end": f1,
            "net_new": net_new_followers(f0, f1), "growth_rate": growth_rate(f0, f1),
            "cmgr": compound_monthly_growth_rate(f0, f1, days),
            "gained": gained, "lost": lost,
            "population": pops.get(terr), "per_1000": per_1000_inhabitants(f1, pops.get(terr)),
        })
    cols = ["account_id", "platform", "territory_id", "date_start", "date_end", "followers_start", "followers_end",
            "net_new", "growth_rate", "cmgr", "gained", "lost", "population", "per_1000"]
    return pd.DataFrame(rows, columns=cols)


def growth_by_territory(con: duckdb.DuckDBPyConnection, f: Filters | None = None) -> pd.DataFrame:
    """Growth per territory (own and peers) and platform, plus an 'all' row summing the platforms.

    Sums are of follower counts (one person following two accounts counts twice). A territory's
    start/end counts only use accounts whose export gives the total.
    """
    g = growth(con, f)
    terr = con.execute("SELECT territory_id, name, kind, population FROM territories").df()
    g = g[g["followers_end"].notna()]
    rows = []
    for (tid, plat), x in list(g.groupby(["territory_id", "platform"])) + [
            ((tid, "all"), x) for tid, x in g.groupby("territory_id")]:
        f0, f1 = x["followers_start"].sum(), x["followers_end"].sum()
        days = (pd.Timestamp(x["date_end"].max()) - pd.Timestamp(x["date_start"].min())).days
        rows.append({"territory_id": tid, "platform": plat, "accounts": len(x), "followers_start": f0,
                     "followers_end": f1, "net_new": net_new_followers(f0, f1), "growth_rate": growth_rate(f0, f1),
                     "cmgr": compound_monthly_growth_rate(f0, f1, days)})
    out = pd.DataFrame(rows, columns=["territory_id", "platform", "accounts", "followers_start", "followers_end",
                                      "net_new", "growth_rate", "cmgr"])
    out = out.merge(terr, on="territory_id", how="left")
    out["per_1000"] = [per_1000_inhabitants(v, p) for v, p in zip(out["followers_end"], out["population"],
                                                                  strict=True)]
    order = {"own": 0, "peer": 1}
    out["_o"] = out["kind"].map(order).fillna(2)
    return out.sort_values(["_o", "name", "platform"]).drop(columns="_o").reset_index(drop=True)


def gains_only(con: duckdb.DuckDBPyConnection, f: Filters | None = None) -> pd.DataFrame:
    """Accounts whose exports give daily follows but no follower total (LinkedIn, MBS « Follows »).

    They cannot enter growth rates or totals; their gains over the period are still worth showing.
    """
    g = growth(con, f)
    return g[g["followers_end"].isna() & g["gained"].notna()][["account_id", "platform", "territory_id", "gained",
                                                                  "lost"]].reset_index(drop=True)


def _populations(con: duckdb.DuckDBPyConnection) -> dict[str, float]:
    return {r[0]: r[1] for r in con.execute("SELECT territory_id, population FROM territories").fetchall()}


# ------------------------------------------------------------------------------ demographics
def _latest_snapshots(con: duckdb.DuckDBPyConnection, dimension: str, f: Filters, history: bool = False
                      ) -> pd.DataFrame:
    """Rows of ``dimension`` for official accounts: the latest snapshot up to ``f.end`` included (or all)."""
    w, params = _acc_where(f, "a")
    # A snapshot exported on the (exclusive) end day describes the audience at the end of the period.
    end_clause, eparams = ("d.date <= ?", [f.end]) if f.end else ("TRUE", [])
    df = con.execute(
        f"""SELECT d.account_id, a.platform, a.territory_id, d.date, d.key, d.gender, d.age_band, d.value, d.unit
            FROM audience_demographics d JOIN accounts a USING (account_id)
            WHERE a.official AND d.dimension = ? AND {w} AND {end_clause}""",
        [dimension] + params + eparams).df()
    if df.empty or history:
        return df
    last = df.groupby("account_id")["date"].transform("max")
    return df[df["date"] == last].reset_index(drop=True)


def _shares(df: pd.DataFrame) -> pd.DataFrame:
    """Add ``share``: exported share as is, or count ÷ Σ counts of the (account, snapshot)."""
    if df.empty:
        return df.assign(share=pd.Series(dtype=float))
    tot = df.groupby(["account_id", "date"])["value"].transform("sum")
    share = np.where(df["unit"] == "share", df["value"], df["value"] / tot)
    return df.assign(share=share.astype(float))


def _norm_band(b: object) -> str | None:
    if b is None or (isinstance(b, float) and math.isnan(b)):
        return None
    s = str(b).strip().replace("–", "-").replace(" ", "")
    s = re.sub(r"(?i)ans?$", "", s)
    return s if s in BANDS else None


def _weights(con: duckdb.DuckDBPyConnection, snaps: pd.DataFrame) -> pd.DataFrame:
    """Weight of each (account, snapshot): followers on the snapshot day (the last day before it, else
    the first after); when the export gives no totals, the sum of the breakdown's counts.

    The snapshots are a few dozen: their accounts' follower rows (one per day, the table's key) are
    read once and looked up by binary search (an ASOF join in the store and a pandas group-by cost ten
    times more here, on every Audience read)."""
    cols = ["account_id", "date", "weight", "weight_source"]
    if snaps.empty:
        return pd.DataFrame(columns=cols)
    keys: dict[tuple, list] = {}  # (account, snapshot) → [unit of its first row giving one, Σ counts]
    for a, d, u, v in zip(snaps["account_id"], snaps["date"], snaps["unit"], snaps["value"], strict=True):
        k = keys.setdefault((a, pd.Timestamp(d)), [None, 0.0])
        if k[0] is None and not pd.isna(u):
            k[0] = u
        k[1] += 0.0 if pd.isna(v) else float(v)
    accounts = sorted({a for a, _ in keys})
    fol = con.execute(
        f"SELECT account_id, date, followers FROM audience_followers WHERE followers IS NOT NULL "
        f"AND account_id IN ({', '.join('?' for _ in accounts)}) ORDER BY account_id, date", accounts).fetchnumpy()
    acc, day, n = np.asarray(fol["account_id"], dtype=object), fol["date"].astype("datetime64[us]"), fol["followers"]
    out = []
    for (a, d), (unit, counted) in sorted(keys.items()):
        w, how = None, None
        lo, hi = np.searchsorted(acc, a, "left"), np.searchsorted(acc, a, "right")
        if hi > lo:
            # the last day on or before the snapshot, else the first
            i = lo + np.searchsorted(day[lo:hi], np.datetime64(d, "us"), "right") - 1
            w, how = float(n[max(i, lo)]), "abonnés"
        elif unit == "count":
            w, how = counted, "effectifs de la ventilation"
        out.append({"account_id": a, "date": d, "weight": w, "weight_source": how})
    out_df = pd.DataFrame(out, columns=cols)
    return out_df.astype({"date": snaps["date"].dtype})


def _source_weights(x: pd.DataFrame) -> dict[str, float]:
    """Weight per account (its first row's; NaN → 0), in account order; a lone account stands for the
    whole even without a weight."""
    w: dict[str, float] = {}
    for a, v in zip(x["account_id"], x["weight"], strict=True):
        w.setdefault(a, 0.0 if pd.isna(v) else float(v))
    w = dict(sorted(w.items()))
    if len(w) == 1 and not any(w.values()):
        return {a: 1.0 for a in w}
    return w


def _by_account(accounts: Iterable, cells: Iterable, values: Iterable) -> dict[str, dict]:
    """{account: {cell: value}} in account order, as a group-by on the account gives it (a cell met
    twice keeps its last value): plain loops, the rows being a few hundred."""
    out: dict[str, dict] = {}
    for a, c, v in zip(accounts, cells, values, strict=True):
        out.setdefault(a, {})[c] = v
    return dict(sorted(out.items()))


def pyramid(con: duckdb.DuckDBPyConnection, f: Filters | None = None) -> pd.DataFrame:
    """Age × gender shares per territory: one block per platform account and a weighted 'all' block.

    Columns: territory_id, platform, account_id, date, gender, age_band, share, weight. The latest
    snapshot up to ``f.end`` (included) is used. 'all' combines the accounts with :func:`combine_weighted`
    (weights: followers at each snapshot). Gender 'U' (not given) is kept: shares are of all followers.
    """
    f = f or Filters()
    raw = _shares(_latest_snapshots(con, "age_gender", f))
    cols = ["territory_id", "platform", "account_id", "date", "gender", "age_band", "share", "weight"]
    if raw.empty:
        return pd.DataFrame(columns=cols)
    raw["age_band"] = raw["age_band"].map(_norm_band)
    raw = raw[raw["age_band"].notna()]
    raw["gender"] = raw["gender"].fillna("U")
    wt = _weights(con, raw)
    raw = raw.merge(wt, on=["account_id", "date"], how="left")
    per = raw.groupby(["territory_id", "platform", "account_id", "date", "gender", "age_band"],
                      as_index=False).agg(share=("share", "sum"), weight=("weight", "first"))
    blocks = [per]
    for tid, x in per.groupby("territory_id"):
        shares = _by_account(x["account_id"], zip(x["gender"], x["age_band"], strict=True), x["share"])
        weights = _source_weights(x)
        comb = combine_weighted(shares, weights)
        if comb:
            blocks.append(pd.DataFrame([{"territory_id": tid, "platform": "all", "account_id": None,
                                         "date": x["date"].max(), "gender": g, "age_band": b, "share": s,
                                         "weight": sum(weights.values())}
                                        for (g, b), s in comb.items()]))
    return pd.concat(blocks, ignore_index=True)[cols]


def gender_split(con: duckdb.DuckDBPyConnection, f: Filters | None = None) -> pd.DataFrame:
    """Followers by gender from the 'gender' breakdown (MBS FollowerGender), per account and weighted 'all'.

    Columns: territory_id, platform, account_id, date, gender (F, M, U), share, weight.
    """
    f = f or Filters()
    raw = _shares(_latest_snapshots(con, "gender", f))
    cols = ["territory_id", "platform", "account_id", "date", "gender", "share", "weight"]
    if raw.empty:
        return pd.DataFrame(columns=cols)
    raw = raw.assign(gender=raw["gender"].fillna("U"))
    raw = raw.merge(_weights(con, raw), on=["account_id", "date"], how="left")
    per = raw.groupby(["territory_id", "platform", "account_id", "date", "gender"], as_index=False).agg(
        share=("share", "sum"), weight=("weight", "first"))
    blocks = [per]
    for tid, x in per.groupby("territory_id"):
        shares = _by_account(x["account_id"], x["gender"], x["share"])
        weights = _source_weights(x)
        blocks.append(pd.DataFrame([{"territory_id": tid, "platform": "all", "account_id": None,
                                     "date": x["date"].max(), "gender": g, "share": v, "weight": sum(weights.values())}
                                    for g, v in combine_weighted(shares, weights).items()], columns=cols))
    return pd.concat(blocks, ignore_index=True)[cols]


def breakdown_coverage(con: duckdb.DuckDBPyConnection, f: Filters | None = None) -> pd.DataFrame:
    """Official accounts and which breakdowns their exports give (age_gender, gender, city, country).

    Answers « which platforms lack the breakdown ». A missing breakdown is shown as such, never as 0.
    """
    f = f or Filters()
    w, params = _acc_where(f, "a")
    df = con.execute(
        f"""SELECT a.territory_id, a.platform, a.account_id,
                   bool_or(d.dimension = 'age_gender') AS age_gender, bool_or(d.dimension = 'gender') AS gender,
                   bool_or(d.dimension = 'city') AS city, bool_or(d.dimension = 'country') AS country,
                   max(d.date) AS last_snapshot
            FROM accounts a LEFT JOIN audience_demographics d USING (account_id)
            WHERE a.official AND {w} GROUP BY ALL ORDER BY 1, 2, 3""", params).df()
    for c in ("age_gender", "gender", "city", "country"):
        df[c] = df[c].fillna(False).astype(bool)
    return df


def lacking_breakdown(con: duckdb.DuckDBPyConnection, f: Filters | None = None) -> pd.DataFrame:
    """Accounts whose exports carry no age × gender breakdown (they are left out of the pyramid)."""
    c = breakdown_coverage(con, f)
    return c[~c["age_gender"]][["territory_id", "platform", "account_id"]].reset_index(drop=True)


def pyramid_history(con: duckdb.DuckDBPyConnection, f: Filters | None = None) -> pd.DataFrame:
    """Change over time: target-segment shares per account and snapshot date (all snapshots up to the end).

    Columns: territory_id, platform, account_id, date, segment, share, approximate.
    """
    f = f or Filters()
    raw = _shares(_latest_snapshots(con, "age_gender", f, history=True))
    cols = ["territory_id", "platform", "account_id", "date", "segment", "share", "approximate"]
    if raw.empty:
        return pd.DataFrame(columns=cols)
    raw["age_band"] = raw["age_band"].map(_norm_band)
    raw = raw[raw["age_band"].notna()]
    pop = population_reference(con, sorted(raw["territory_id"].dropna().unique()))
    rows = []
    for (tid, plat, aid, d), x in raw.groupby(["territory_id", "platform", "account_id", "date"]):
        bands = x.groupby("age_band")["share"].sum().to_dict()
        frac, approx = split_40_44(pop[pop["territory_id"] == tid])
        for seg, (share, ap) in segment_shares(bands, frac, approx).items():
            rows.append({"territory_id": tid, "platform": plat, "account_id": aid, "date": d, "segment": seg,
                         "share": share, "approximate": ap})
    return pd.DataFrame(rows, columns=cols)


# ------------------------------------------------------------------------------ population
def population_reference(con: duckdb.DuckDBPyConnection | None, territory_ids: Iterable[str] | None = None
                         ) -> pd.DataFrame:
    """Population by sex and age band: the ``population`` table (INSEE import), else the demo file.

    Columns: territory_id, sex, age_band, population, approximate, source.
    """
    cols = ["territory_id", "sex", "age_band", "population", "approximate", "source"]
    stored = pd.DataFrame(columns=cols)
    if con is not None:
        try:
            stored = con.execute(f"SELECT {', '.join(cols)} FROM population").df()
        except duckdb.CatalogException:  # store created before the table existed
            pass
    demo = pd.DataFrame(columns=cols)
    if DEMO_POPULATION_CSV.exists():
        demo = pd.read_csv(DEMO_POPULATION_CSV, dtype={"territory_id": str})
        demo = demo.assign(population=demo["population"].astype(float), approximate=False,
                           source=DEMO_POPULATION_CSV.name)[cols]
    demo = demo[~demo["territory_id"].isin(stored["territory_id"])]
    out = pd.concat([x for x in (stored, demo) if len(x)], ignore_index=True) if len(stored) or len(demo) \
        else stored
    if territory_ids is not None:
        out = out[out["territory_id"].isin(list(territory_ids))]
    return out.reset_index(drop=True)[cols]


def platform_bands(pop: pd.DataFrame) -> pd.DataFrame:
    """Population of one or several territories in the platform bands (13+ only; 35-39 + 40-44 → 35-44)."""
    p = pop.assign(age_band=pop["age_band"].replace({"35-39": "35-44", "40-44": "35-44"}))
    p = p[p["age_band"].isin(BANDS)]
    return p.groupby(["territory_id", "sex", "age_band"], as_index=False)["population"].sum()


def split_40_44(pop: pd.DataFrame) -> tuple[float, bool]:
    """Part of the 35-44 band aged 40-44, from the population: (fraction, approximate).

    Rule: population(40-44) ÷ population(35-44) when the census gives the split, else 0,5 (uniform
    by single year) flagged approximate; also approximate when that split came from a 5-year band.
    """
    b = pop.groupby("age_band")["population"].sum()
    if "40-44" in b and "35-39" in b and (b["40-44"] + b["35-39"]) > 0:
        ap = bool(pop.loc[pop["age_band"].isin(["35-39", "40-44"]), "approximate"].fillna(False).any())
        return float(b["40-44"] / (b["40-44"] + b["35-39"])), ap
    return 0.5, True


def segment_shares(bands: Mapping[str, float], frac_40_44: float, approx_split: bool
                   ) -> dict[str, tuple[float, bool]]:
    """Shares of the target segments from shares by platform band: {segment: (share, approximate)}.

    40+ = frac_40_44 × (35-44) + 45-54 + 55-64 + 65+ (see :data:`SEGMENT_RULE_40`).
    """
    get = lambda k: float(bands.get(k, 0.0))  # noqa: E731 - a band absent from the export has no follower
    return {
        "18-24": (get("18-24"), False),
        "25-34": (get("25-34"), False),
        "40+": (frac_40_44 * get("35-44") + get("45-54") + get("55-64") + get("65+"), approx_split),
        "65+": (get("65+"), False),
    }


# ------------------------------------------------------------------------------ representativeness
SEGMENT_FR = {"13-17": "Les 13-17 ans", "18-24": "Les 18-24 ans", "25-34": "Les 25-34 ans",
              "35-44": "Les 35-44 ans", "45-54": "Les 45-54 ans", "55-64": "Les 55-64 ans",
              "65+": "Les 65 ans et plus", "40+": "Les 40 ans et plus", "F": "Les femmes", "M": "Les hommes"}


def representativeness_table(followers: pd.DataFrame, population: pd.DataFrame) -> pd.DataFrame:
    """Index per segment for one audience (cells gender, age_band, share) vs one territory's population.

    Bases: followers with a known age band (all genders) for age segments, followers with a known
    gender (F/M) for sex segments; population aged 13 and over. Kinds: 'age' (platform bands, which
    include the targets 18-24, 25-34, 65+), 'sex', 'cell' (sex × band) and 'target' (40+). Columns:
    segment, kind, label, share_followers, share_population, index, approximate.
    """
    cols = ["segment", "kind", "label", "share_followers", "share_population", "index", "approximate"]
    # Plain dicts: these frames have a few dozen rows and pandas group-bys cost more than the maths.
    pc: dict[tuple[str, str], float] = {}
    raw_pop: dict[str, float] = {}
    for sex, band, n in zip(population["sex"], population["age_band"], population["population"], strict=True):
        raw_pop[band] = raw_pop.get(band, 0.0) + float(n)
        b = "35-44" if band in ("35-39", "40-44") else band
        if b in BANDS and sex in GENDERS:
            pc[(sex, b)] = pc.get((sex, b), 0.0) + float(n)
    fa: dict[str, float] = {}
    fc: dict[tuple[str, str], float] = {}
    for g, band, sh in zip(followers["gender"], followers["age_band"], followers["share"], strict=True):
        b = _norm_band(band)
        if b is None or pd.isna(sh):
            continue
        fa[b] = fa.get(b, 0.0) + float(sh)
        if g in GENDERS:
            fc[(g, b)] = fc.get((g, b), 0.0) + float(sh)
    pop_tot, fol_tot, known_tot = sum(pc.values()), sum(fa.values()), sum(fc.values())
    if pop_tot <= 0 or fol_tot <= 0:
        return pd.DataFrame(columns=cols)
    fb = {b: fa.get(b, 0.0) / fol_tot for b in BANDS}
    pb = {b: sum(pc.get((g, b), 0.0) for g in GENDERS) / pop_tot for b in BANDS}
    rows = []

    def add(seg: str, kind: str, label: str, sf: float, sp: float, approximate: bool = False) -> None:
        rows.append({"segment": seg, "kind": kind, "label": label, "share_followers": sf, "share_population": sp,
                     "index": representativeness_index(sf, sp), "approximate": approximate})

    for b in BANDS:
        add(b, "age", SEGMENT_FR[b], fb[b], pb[b])
    if known_tot > 0:
        for g in GENDERS:
            add(g, "sex", SEGMENT_FR[g], sum(fc.get((g, b), 0.0) for b in BANDS) / known_tot,
                sum(pc.get((g, b), 0.0) for b in BANDS) / pop_tot)
        for g in GENDERS:
            for b in BANDS:
                label = f"{'Femmes' if g == 'F' else 'Hommes'} " + (b.replace("+", " ans et plus") if b.endswith("+")
                                                                      else f"{b} ans")
                add(f"{g}.{b}", "cell", label, fc.get((g, b), 0.0) / known_tot, pc.get((g, b), 0.0) / pop_tot)
    frac, approx = split_40_44(population[population["age_band"].isin(["35-39", "40-44", "35-44"])])
    fseg = segment_shares(fb, frac, approx)
    pseg = segment_shares(pb, frac, approx)
    # The population's own 40+ is exact when the census splits 35-44; only the followers' cut is assumed.
    if "35-39" in raw_pop and "40-44" in raw_pop:
        pseg["40+"] = (sum(raw_pop.get(b, 0.0) for b in ("40-44", "45-54", "55-64", "65+")) / pop_tot, False)
    for seg in SEGMENTS:
        if seg not in BANDS:  # 18-24, 25-34, 65+ are single bands, already rows of kind 'age'
            add(seg, "target", SEGMENT_FR[seg], fseg[seg][0], pseg[seg][0], fseg[seg][1])
    return pd.DataFrame(rows, columns=cols)


def representativeness(con: duckdb.DuckDBPyConnection, f: Filters | None = None) -> pd.DataFrame:
    """Representativeness per territory and platform (and 'all', weighted) of the latest pyramid.

    Columns: territory_id, platform, segment, kind, label, share_followers, share_population, index,
    approximate. Territories without a population reference are left out.
    """
    pyr = pyramid(con, f)
    gen = gender_split(con, f)
    cols = ["territory_id", "platform", "segment", "kind", "label", "share_followers", "share_population",
            "index", "approximate"]
    if pyr.empty and gen.empty:
        return pd.DataFrame(columns=cols)
    pop = population_reference(con, sorted(set(pyr["territory_id"].dropna()) | set(gen["territory_id"].dropna())))
    out = []
    # Exports with a gender split but no age × gender (MBS FollowerGender alone): sex segments only.
    have = set(zip(pyr["territory_id"], pyr["platform"], strict=True))
    for (tid, plat), x in gen.groupby(["territory_id", "platform"]):
        p = pop[pop["territory_id"] == tid]
        if (tid, plat) in have or p.empty:
            continue
        known = x[x["gender"].isin(GENDERS)]
        k_tot, p13 = known["share"].sum(), p[p["age_band"] != "0-12"]
        for g in GENDERS:
            if k_tot <= 0:
                break
            sf = float(known.loc[known["gender"] == g, "share"].sum() / k_tot)
            sp = float(p13.loc[p13["sex"] == g, "population"].sum() / p13["population"].sum())
            out.append(pd.DataFrame([{"territory_id": tid, "platform": plat, "segment": g, "kind": "sex",
                                      "label": SEGMENT_FR[g], "share_followers": sf, "share_population": sp,
                                      "index": representativeness_index(sf, sp), "approximate": False}]))
    # Several accounts of one platform in a territory: combine them like platforms ('all').
    for (tid, plat), x in pyr.groupby(["territory_id", "platform"]):
        p = pop[pop["territory_id"] == tid]
        if p.empty:
            continue
        if x["account_id"].nunique() > 1:
            shares = _by_account(x["account_id"], zip(x["gender"], x["age_band"], strict=True), x["share"])
            comb = combine_weighted(shares, _source_weights(x))
            x = pd.DataFrame([{"gender": g, "age_band": b, "share": s} for (g, b), s in comb.items()])
        t = representativeness_table(x, p)
        out.append(t.assign(territory_id=tid, platform=plat))
    return pd.concat(out, ignore_index=True)[cols] if out else pd.DataFrame(columns=cols)


def _present(label: str) -> str:
    return "présentes" if label.startswith("Les femmes") else "présents"


def sentence(label: str, index: float, platform: str) -> str:
    """Plain-French sentence for one segment's index on one platform."""
    where = ("parmi vos abonnés " + PLATFORM_FR.get(platform, platform)) if platform != "all" else \
        "parmi vos abonnés (réseaux qui donnent l'âge et le sexe)"
    adj = _present(label)
    if index <= 0:
        absent = "absentes" if label.startswith("Les femmes") else "absents"
        if platform == "all":
            return f"{label} sont {absent} de vos abonnés (réseaux qui donnent l'âge et le sexe) d'après les plateformes."
        return f"{label} sont {absent} de vos abonnés {PLATFORM_FR.get(platform, platform)} d'après la plateforme."
    if index < 1:
        factor = 1 / index
        how = f"{fr_num(factor, 1)} fois moins {adj}" if factor >= 1.5 else f"{fr_pct(1 - index, 0)} moins {adj}"
    else:
        how = f"{fr_num(index, 1)} fois plus {adj}" if index >= 1.5 else f"{fr_pct(index - 1, 0)} plus {adj}"
    return f"{label} sont {how} {where} que dans la population."


def under_reached(rep: pd.DataFrame, threshold: float = UNDER_REACHED) -> pd.DataFrame:
    """Segments (age bands, sexes, target segments) whose index is below ``threshold``, with the sentence.

    The index is rounded to 1 decimal place *in the sentence only*; sorting uses the exact value.
    """
    x = rep[rep["kind"].isin(["age", "sex", "target"]) & rep["index"].notna() & (rep["index"] < threshold)]
    x = x.sort_values(["territory_id", "platform", "index"])
    return x.assign(sentence=[sentence(r.label, r.index, r.platform) for r in x.itertuples()]).reset_index(drop=True)


# ------------------------------------------------------------------------------ geography
_GENERIC = r"^(ville|mairie|commune|communaute (de communes|d agglomeration|urbaine)|metropole|agglo(meration)?|" \
           r"departement|office de tourisme)( (de|du|des|d|la|le|les))*\s+|\s+(agglo(meration)?|metropole|" \
           r"communaute)$"


@functools.lru_cache(maxsize=4096)
def place_key(s: str) -> str:
    """Key of a place name: lower case, accents removed (:func:`analysis.text.strip_accents`),
    hyphens/apostrophes as spaces, 'St'/'Ste' → 'saint'/'sainte'."""
    s = strip_accents(str(s)).lower()
    s = re.sub(r"[-'’_.]", " ", s)
    s = re.sub(r"\s+", " ", s).strip()
    s = re.sub(r"\bste\b", "sainte", s)
    return re.sub(r"\bst\b", "saint", s)


@functools.lru_cache(maxsize=1024)
def territory_core_name(name: str) -> str:
    """Folded territory name without generic words (« Ville de », « Agglomération »…)."""
    s = place_key(name)
    for _ in range(3):
        s = re.sub(_GENERIC, "", s).strip()
    return s


def city_in_territory(city_key: str, territory_name: str) -> bool:
    """True when the city of a breakdown key ('Angers, Pays de la Loire, France') is the territory.

    Rule: the part before the first comma, folded (:func:`fold`), equals the territory's core name
    (:func:`territory_core_name`). An EPCI is thus matched on its centre town only.
    """
    city = str(city_key).split(",")[0]
    core = territory_core_name(territory_name)
    return bool(core) and place_key(city) == core


def places(con: duckdb.DuckDBPyConnection, f: Filters | None = None, dimension: str = "city") -> pd.DataFrame:
    """Followers by city or country (latest snapshot up to ``f.end`` included) per account and weighted 'all'.

    Columns: territory_id, platform, account_id, date, key, share, weight. Shares are of all followers
    (the exports list the top places; the rest is in 'Others' or unlisted).
    """
    f = f or Filters()
    raw = _shares(_latest_snapshots(con, dimension, f))
    cols = ["territory_id", "platform", "account_id", "date", "key", "share", "weight"]
    if raw.empty:
        return pd.DataFrame(columns=cols)
    raw = raw.merge(_weights(con, raw), on=["account_id", "date"], how="left")
    per = raw[["territory_id", "platform", "account_id", "date", "key", "share", "weight"]]
    blocks = [per]
    for tid, x in per.groupby("territory_id"):
        shares = _by_account(x["account_id"], x["key"], x["share"])
        weights = _source_weights(x)
        comb = combine_weighted(shares, weights)
        blocks.append(pd.DataFrame([{"territory_id": tid, "platform": "all", "account_id": None,
                                     "date": x["date"].max(), "key": k, "share": s, "weight": sum(weights.values())}
                                    for k, s in comb.items()], columns=cols))
    return pd.concat(blocks, ignore_index=True)[cols]


def rayonnement(con: duckdb.DuckDBPyConnection, f: Filters | None = None) -> pd.DataFrame:
    """Share of followers inside the territory vs outside, per territory and platform ('all' weighted).

    Columns: territory_id, name, kind, platform, inside, outside, abroad, matched_cities. ``inside`` is
    the share of followers whose city matches the territory (:func:`city_in_territory`); ``abroad``
    = 1 − share of 'FR' in the country breakdown (NULL without one).
    """
    cities = places(con, f, "city")
    countries = places(con, f, "country")
    terr = con.execute("SELECT territory_id, name, kind FROM territories").df()
    names = dict(zip(terr["territory_id"], terr["name"], strict=True))
    # plain loops over the few hundred rows (a pandas group per territory and platform cost most of it)
    fr_share: dict[tuple, float] = {}
    for tid, plat, key, share in zip(countries["territory_id"], countries["platform"], countries["key"],
                                     countries["share"], strict=True):
        fr_share[(tid, plat)] = fr_share.get((tid, plat), 0.0) + (float(share) if str(key).upper() == "FR" else 0.0)
    groups: dict[tuple, list] = {}
    for tid, plat, key, share in zip(cities["territory_id"], cities["platform"], cities["key"], cities["share"],
                                     strict=True):
        groups.setdefault((tid, plat), []).append((key, share))
    rows = []
    for (tid, plat), x in sorted(groups.items()):
        name = names.get(tid, tid)
        hit = [(k, v) for k, v in x if city_in_territory(k, name)]
        inside = float(np.sum([v for _, v in hit]))
        total = float(np.sum([v for _, v in x]))
        abroad = 1.0 - fr_share[(tid, plat)] if (tid, plat) in fr_share else None
        rows.append({"territory_id": tid, "platform": plat, "inside": inside, "outside": total - inside,
                     "abroad": abroad, "matched_cities": ", ".join(sorted({k.split(",")[0] for k, _ in hit}))})
    out = pd.DataFrame(rows, columns=["territory_id", "platform", "inside", "outside", "abroad", "matched_cities"])
    out = out.merge(terr, on="territory_id", how="left")
    return out[["territory_id", "name", "kind", "platform", "inside", "outside", "abroad", "matched_cities"]]


def summary(con: duckdb.DuckDBPyConnection, territory_id: str, f: Filters | None = None) -> dict:
    """Everything the CLI, page and report print about one territory (growth, pyramid, index, places)."""
    from dataclasses import replace

    f = f or Filters()
    ids = [territory_id, *peers_of(con, territory_id)]
    fp = replace(f, territories=tuple(ids))
    fo = replace(f, territories=(territory_id,))
    rep = representativeness(con, fo)
    return {
        "growth": growth_by_territory(con, fp),
        "representativeness": rep,
        "under_reached": under_reached(rep),
        "lacking": lacking_breakdown(con, fo),
        "rayonnement": rayonnement(con, fp),
        "history": pyramid_history(con, fo),
    }
