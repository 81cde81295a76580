"""Post performance: each post against its account's median, by format and theme, best time to post."""

from __future__ import annotations

from datetime import date

import duckdb
import numpy as np
import pandas as pd

from analysis import metrics
from analysis.campaigns.model import _has_rows
from analysis.config import LOCAL_TZ
from analysis.fmt import WEEKDAYS, fr_num
from analysis.queries import Filters
from analysis.topics import load_taxonomy, main_theme_sql


# ================================================================================ post performance
def post_table(con: duckdb.DuckDBPyConnection, territories: list[str] | tuple[str, ...] = (),
               start: date | None = None, end: date | None = None, platforms: tuple[str, ...] = ()) -> pd.DataFrame:
    """Official posts with engagement, rates, local weekday/hour, main theme and relative performance.

    ``rel`` = engagement ÷ median engagement of the same account over the period: it makes a
    Facebook post of a big city comparable with an Instagram post of a village.
    """

    w, params = Filters(tuple(territories), start, end, tuple(platforms)).where("p")
    theme, tparams = main_theme_sql("p.post_id", "post") if _has_rows(con, "themes") else ("NULL", [])
    df = con.execute(
        f"SELECT p.*, {theme} AS theme FROM posts p JOIN accounts a ON a.account_id = p.account_id AND a.official "
        f"WHERE {w}", tparams + params).df()
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
    # ties (same relative performance) broken by date then id, never by the rows' order in the store
    order = ["rel", "created_at", "post_id"]
    top = d.sort_values(order, ascending=[False, True, True], kind="stable").head(n)[cols].copy()
    bottom = d.sort_values(order, ascending=[True, True, True], kind="stable").head(n)[cols].copy()
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
