"""What works, per audience: the young (18–24) and the 40+ publics the brief names.

**What the exports give.** Facebook and Instagram (Meta Business Suite) give the followers' age ×
sex shares, TikTok their age shares; none gives the age of the people who reacted to *one post*,
and X, Bluesky, Mastodon, YouTube (channel exports without demographics) and LinkedIn (company size,
industry, seniority: no age) give no age at all. So the answer is read through the platforms' mix:

1. per platform, the audience's **share of the followers** (latest snapshot) × the followers count
   = how many of that public each platform reaches (``reach_weight``);
2. per post, its **performance** = its engagement ÷ its account's usual level
   (:func:`analysis.events.engagement.features`: ``exp(y − level)``, 1 = as usual);
3. per theme, format and slot, the median performance of the posts, each weighted by its platform's
   weight for that public; with the number of posts and a bootstrap 90 % interval of the weighted
   median (posts resampled).

It says which themes, formats and slots do best *on the platforms where that public is*, not who
reacted: the page and the notebook say so, and name the platforms without age data.
"""

from __future__ import annotations

import duckdb
import numpy as np
import pandas as pd

from analysis.events import engagement as E
from analysis.events.model import POST_FORMATS
from analysis.fmt import fr_num, fr_pct

AUDIENCE_BANDS: dict[str, tuple[str, ...]] = {
    # 40+: the exports' bands split at 35/45, not 40: half of 35–44 is counted (said in the caveat)
    "jeunes": ("18-24",),
    "40_plus": ("45-54", "55-64", "65+", "55+"),
}
HALF_BAND = {"40_plus": "35-44"}
AUDIENCE_LABELS = {"jeunes": "Jeunes (18–24 ans)", "40_plus": "40 ans et plus"}
AGE_PLATFORMS = ("facebook", "instagram", "tiktok")
MIN_POSTS = 8


def platform_shares(con: duckdb.DuckDBPyConnection, territory: str) -> pd.DataFrame:
    """Per platform of the territory's official accounts: followers (latest), share of each
    audience among them (latest age snapshot; NaN where the export gives no age)."""
    acc = con.execute("SELECT account_id, platform FROM accounts WHERE territory_id = ? AND official",
                      [territory]).df()
    fol = con.execute(
        "SELECT f.account_id, arg_max(f.followers, f.date) AS followers FROM audience_followers f "
        "JOIN accounts a USING (account_id) WHERE a.territory_id = ? AND a.official GROUP BY 1", [territory]).df()
    dem = con.execute(
        "SELECT d.account_id, d.dimension, d.key, d.age_band, d.value FROM audience_demographics d "
        "JOIN accounts a USING (account_id) WHERE a.territory_id = ? AND a.official AND d.dimension IN ('age', "
        "'age_gender') AND d.date = (SELECT max(date) FROM audience_demographics x WHERE x.account_id = d.account_id "
        "AND x.dimension = d.dimension)", [territory]).df()
    rows = []
    for plat, g in acc.groupby("platform"):
        ids = set(g["account_id"])
        f = fol[fol["account_id"].isin(ids)]["followers"].sum()
        d = dem[dem["account_id"].isin(ids)]
        row = {"platform": plat, "followers": float(f) if f else np.nan}
        if len(d):
            band = d["age_band"].fillna(d["key"].str.split(".").str[-1])
            tot = d["value"].sum()
            for aud, bands in AUDIENCE_BANDS.items():
                share = d["value"][band.isin(bands)].sum() + 0.5 * d["value"][band == HALF_BAND.get(aud)].sum()
                row[aud] = float(share / tot) if tot else np.nan
        else:
            for aud in AUDIENCE_BANDS:
                row[aud] = np.nan
        rows.append(row)
    return pd.DataFrame(rows, columns=["platform", "followers", *AUDIENCE_BANDS])


# Half the total weight, lowered by a relative 1e-9: when the cumulative weight reaches exactly half
# (posts of one platform share one weight, so it often does), the lower median is taken, whatever the
# order in which the float sums were rounded.
_HALF = 0.5 * (1 - 1e-9)


def _wmedian(x: np.ndarray, w: np.ndarray) -> float:
    """Weighted (lower) median: the smallest value whose cumulative weight reaches half the total."""
    o = np.argsort(x)
    cw = np.cumsum(w[o])
    return float(x[o][np.searchsorted(cw, cw[-1] * _HALF)])


def _wmedians(x: np.ndarray, w: np.ndarray, s: np.ndarray) -> np.ndarray:
    """:func:`_wmedian` of each resample ``x[s[i]]`` weighted by ``w[s[i]]``, without sorting any
    resample: each resample is counted per rank of ``x`` (how many times it drew each value), so its
    cumulative weight in value order is the cumulative sum of count × weight over the ranks."""
    n_boot, n = s.shape[0], len(x)
    o = np.argsort(x)
    rank = np.empty(n, dtype=np.int64)
    rank[o] = np.arange(n)
    r = rank[s]
    r += (np.arange(n_boot, dtype=np.int64) * n)[:, None]  # row i counts into bins i·n … i·n + n − 1
    counts = np.bincount(r.ravel(), minlength=n_boot * n).reshape(n_boot, n)
    cw = np.cumsum(counts * w[o], axis=1)
    cw = cw[cw[:, -1] > 0]
    at = (cw < cw[:, -1:] * _HALF).sum(1)  # the first rank whose cumulative weight reaches half the total
    return x[o][at]


def what_works(con: duckdb.DuckDBPyConnection, territory: str, n_boot: int = 300, seed: int = 0) -> dict:
    """{"shares": platform_shares, "rows": per audience × dimension (theme, post_format, slot) × value:
    weighted median performance, its 90 % interval, posts; "no_age": platforms without age data}."""
    shares = platform_shares(con, territory)
    hist = E.history(con, [territory])
    out = {"territory_id": territory, "shares": shares, "rows": pd.DataFrame(), "no_age": []}
    if hist.empty or shares.empty:
        return out
    tgt, _ = E.choose_target(hist)
    feats = E.features(hist, tgt)
    feats = feats[np.isfinite(feats["y"]) & np.isfinite(feats["level"])]
    perf = np.exp((feats["y"] - feats["level"]).to_numpy())
    out["no_age"] = sorted(shares.loc[shares[list(AUDIENCE_BANDS)].isna().all(axis=1), "platform"])
    rng = np.random.default_rng(seed)
    rows = []
    for aud in AUDIENCE_BANDS:
        wp = (shares["followers"].fillna(0) * shares[aud]).fillna(0)
        weight = dict(zip(shares["platform"], wp / wp.sum() if wp.sum() else wp, strict=True))
        w = feats["platform"].map(weight).fillna(0).to_numpy()
        for dim in ("theme", "post_format", "slot"):
            for val, idx in feats.groupby(dim).indices.items():
                ww, pp = w[idx], perf[idx]
                keep = ww > 0
                if keep.sum() < MIN_POSTS or val in ("aucun", "autre"):
                    continue
                ww, pp = ww[keep], pp[keep]
                s = rng.integers(0, len(pp), (n_boot, len(pp)))
                b = _wmedians(pp, ww, s)
                lo, hi = np.percentile(b, [5, 95])
                rows.append({"audience": aud, "dimension": dim, "value": val, "performance": _wmedian(pp, ww),
                             "low": float(lo), "high": float(hi), "posts": int(keep.sum())})
    out["rows"] = pd.DataFrame(rows).sort_values(["audience", "dimension", "performance"],
                                                  ascending=[True, True, False], ignore_index=True)
    return out


def sentences_fr(ww: dict, theme_labels: dict[str, str] | None = None) -> list[str]:
    """The findings in French: for each public, the best theme, format and slot (intervals), and
    where the exports give no age."""

    labels = {"theme": theme_labels or {}, "post_format": POST_FORMATS, "slot": {}}
    out = []
    s = ww["shares"]
    r = ww["rows"]
    for aud, name in AUDIENCE_LABELS.items():
        known = s.dropna(subset=[aud])
        if known.empty:
            out.append(f"{name} : aucun export ne donne l'âge des abonnés de ce territoire.")
            continue
        where = ", ".join(f"{p} {fr_pct(v, 0)}" for p, v in zip(known["platform"], known[aud], strict=True))
        best = []
        for dim, what in (("theme", "thème"), ("post_format", "format"), ("slot", "créneau")):
            sub = r[(r["audience"] == aud) & (r["dimension"] == dim)] if len(r) else r
            if len(sub):
                b = sub.iloc[0]
                best.append(f"{what} « {labels[dim].get(b['value'], b['value'])} » (× {fr_num(b['performance'], 2)}, "
                            f"IC 90 % : {fr_num(b['low'], 2)} à {fr_num(b['high'], 2)}, {b['posts']} publ.)")
        out.append(f"{name} (part des abonnés : {where}) : " + (" ; ".join(best) if best else "trop peu de publications")
                   + ".")
    if ww["no_age"]:
        out.append("Sans âge dans les exports : " + ", ".join(ww["no_age"]) + " (non comptés).")
    return out
