"""Expected engagement of a post, with an 80 % prediction interval, from the account's own history.

**Model** (:class:`EngagementModel`, scikit-learn contract): ``log(1 + engagement)`` = the
account's **level** + a ridge regression of the gap to it + the median of the cross-fitted
residuals (so the point is a median), where

- the **level** is the median of ``log(1 + engagement)`` over its 20 previous posts published at
  least 3 days before (younger posts' counts still move) — it carries the audience size, the
  season and the account's trend (the ridge may still correct it: it is also an input);
- the ridge's inputs are the level, the **platform**, the **format** (photo, vidéo, reel, carrousel, lien, texte), the **slot**
  (weekday or weekend × morning, lunch, afternoon, evening, night, French local time), the
  **theme** the post is read under (its main theme in the store, :func:`analysis.topics.main_theme_sql`:
  the same as the Thématiques page; a draft or a post never classified is read by the store's
  classifier, :func:`analysis.topics.store_adaptation`), the **length** (log of characters),
  the number of **hashtags** and whether it carries a **link**; its penalty is chosen among
  :data:`ALPHAS` on contiguous time blocks of the training posts.

**Interval**: split-conformal on the log scale. Residuals of the training posts are cross-fitted
(five contiguous time blocks, each predicted by a model fitted on the others); the interval is the
prediction plus their 10th and 90th percentiles (finite-sample ranks ⌊(n + 1)·0,1⌋ and
⌈(n + 1)·0,9⌉), per platform when it has at least 30 residuals (platforms differ in noise), else
pooled. The model's point is the median on the log scale, i.e. a median number of interactions.

**Evaluation on a time split** (:func:`evaluate`): posts are ordered by time; the first 60 % only
train; the last 40 % are predicted in four consecutive blocks, each by a model fitted on every post
before it (walk-forward: never a future post). Reported: the share of held-out posts inside their
80 % interval (with its Wilson interval), and the mean absolute error of the predicted median
against that of the **account's median** (the median engagement of its posts before the block),
in interactions and on the log scale.

**Target**: engagement (:func:`analysis.metrics.engagement`); for an account whose exports lack a
component of it (an X archive has no reply counts) the model uses reactions alone and says so.
"""

from __future__ import annotations

import math
from dataclasses import dataclass, field
from typing import Any

import duckdb
import numpy as np
import pandas as pd
from sklearn.base import BaseEstimator, RegressorMixin
from sklearn.compose import ColumnTransformer
from sklearn.linear_model import Ridge
from sklearn.pipeline import Pipeline
from sklearn.preprocessing import OneHotEncoder, StandardScaler

from analysis import metrics, store
from analysis.config import LOCAL_TZ
from analysis.fmt import fr_count
from analysis.metrics import wilson_interval
from analysis.topics import NO_THEME, default_classifier, load_taxonomy, main_theme_sql

MODEL_VERSION = "engagement-ridge-conformal-1"
LEVEL_WINDOW = 20  # previous posts whose median is the account's level
LEVEL_LAG_DAYS = 3  # … published at least this long before (younger counts still move)
MIN_HISTORY = 3  # posts of history needed before a post can be predicted
MIN_POSTS = 30  # fewer posts in an account's export: no model, said so
COVERAGE = 0.8
ALPHAS = (1.0, 10.0, 100.0, 1000.0)  # ridge penalties tried (chosen on the training posts' time blocks)
CATEGORICAL = ["platform", "post_format", "slot", "theme"]
NUMERIC = ["level", "log_length", "n_hashtags", "has_link"]
SLOTS = {"matin": (6, 11), "midi": (11, 14), "après-midi": (14, 18), "soir": (18, 22), "nuit": (22, 30)}
FORMAT_OF = {  # post_type as exports give it → the draft check's formats
    "photos": "photo", "photo": "photo", "ig image": "photo", "image": "photo", "album": "carousel",
    "ig carousel": "carousel", "carousel": "carousel", "carrousel": "carousel",
    "videos": "video", "video": "video", "vidéos": "video", "sharedvideo": "video", "native_video": "video",
    "reels": "reel", "reel": "reel", "ig reel": "reel", "short": "reel",
    "links": "link", "link": "link", "liens": "link", "lien": "link", "article": "link",
    "status": "text", "statut": "text", "text": "text", "organic": "text", "note": "text",
}


def post_format(post_type: Any, platform: Any = None) -> str:
    """The draft check's format of an export's ``post_type`` (``autre`` when unknown; TikTok and
    YouTube posts are videos)."""
    if platform in ("tiktok", "youtube") and not isinstance(post_type, str):
        return "video"
    if not isinstance(post_type, str):
        return "autre"
    return FORMAT_OF.get(post_type.strip().lower(), "autre")


def _slot(day_of_week: int, hour: int) -> str:
    day = "week-end" if day_of_week >= 5 else "semaine"
    h = hour if hour >= 6 else hour + 24
    name = next(k for k, (a, b) in SLOTS.items() if a <= h < b)
    return f"{day} {name}"


def slot_of(local: pd.Timestamp) -> str:
    """« semaine soir », « week-end matin »… of a French local time."""
    return _slot(local.day_of_week, local.hour)


def slots_of(local: pd.Series) -> list[str]:
    """:func:`slot_of` of every French local time of a series (one name per weekday × hour)."""
    code = (local.dt.day_of_week * 24 + local.dt.hour).to_numpy()
    names = {int(c): _slot(int(c) // 24, int(c) % 24) for c in np.unique(code)}
    return [names[int(c)] for c in code]


def _levels(y: np.ndarray, ends: np.ndarray) -> np.ndarray:
    """Median of ``y[max(0, k − LEVEL_WINDOW):k]`` for each k of ``ends`` (NaN below MIN_HISTORY):
    the full windows at once, the shorter ones once per length."""
    out = np.full(len(ends), np.nan)
    full = ends >= LEVEL_WINDOW
    if full.any():
        win = np.lib.stride_tricks.sliding_window_view(y, LEVEL_WINDOW)
        out[full] = np.median(win[ends[full] - LEVEL_WINDOW], axis=1)
    for k in np.unique(ends[(ends >= MIN_HISTORY) & ~full]):
        out[ends == k] = float(np.median(y[:k]))
    return out


# ------------------------------------------------------------------------------ data
def history(con: duckdb.DuckDBPyConnection, territories: tuple[str, ...] | list[str] = (),
            accounts: tuple[str, ...] | list[str] = (), official_only: bool = True) -> pd.DataFrame:
    """Posts with their engagement, reactions (the fallback target) and main theme in the store
    (:func:`analysis.topics.main_theme_sql`; NULL when never classified), time-ordered; official
    posts of ``territories``, or every post of ``accounts`` (a real export imported as is)."""
    e = metrics.engagement_sql("p")
    where, params = ["TRUE"], []
    if territories:
        where.append(f"p.territory_id IN ({', '.join('?' for _ in territories)})")
        params += list(territories)
    if accounts:
        where.append(f"p.account_id IN ({', '.join('?' for _ in accounts)})")
        params += list(accounts)
    join = "JOIN accounts a ON a.account_id = p.account_id AND a.official" if official_only and not accounts else ""
    theme, tparams = main_theme_sql("p.post_id", "post")
    return store.frame(
        con,
        f"SELECT p.post_id, p.account_id, p.territory_id, p.platform, p.created_at, p.text, p.post_type, "
        f"{e} AS engagement, coalesce(p.reactions, p.likes) AS reactions, {theme} AS theme FROM posts p {join} "
        f"WHERE {' AND '.join(where)} AND p.account_id IS NOT NULL AND p.deleted_at IS NULL "
        f"ORDER BY p.created_at, p.post_id", tparams + params)


def choose_target(posts: pd.DataFrame) -> tuple[str, str | None]:
    """``engagement`` when at least half the posts carry it, else ``reactions`` with a French note."""
    if len(posts) and pd.to_numeric(posts["engagement"], errors="coerce").notna().mean() >= 0.5:
        return "engagement", None
    return "reactions", ("l'export ne donne pas toutes les composantes de l'engagement (commentaires ou partages) : "
                         "le modèle prévoit les réactions (« j'aime ») seules")


NO_THEME_FEATURE = "aucun"  # the theme feature of a text no theme reaches


def _themes(texts: pd.Series, clf: Any = None) -> list[str]:
    """The main theme of each text as ``clf`` reads it (the shipped classifier by default)."""
    if not len(texts):
        return []
    clf = clf if clf is not None else default_classifier(load_taxonomy())
    return [NO_THEME_FEATURE if t == NO_THEME else t for t in clf.predict_top(texts.fillna("").tolist())]


def _main_themes(texts: pd.Series, themes: pd.Series | None, clf: Any = None) -> list[str]:
    """The theme feature of each text: its main theme as stored (``themes``), else as ``clf`` reads it."""
    stored = (pd.Series(None, index=texts.index, dtype=object) if themes is None
              else themes.astype(object).where(themes.notna(), None))
    todo = stored.isna().to_numpy()
    theme = [NO_THEME_FEATURE if x == NO_THEME else x for x in stored]
    if todo.any():
        for i, v in zip(np.flatnonzero(todo), _themes(texts[todo], clf), strict=True):
            theme[i] = v
    return theme


def text_features(texts: pd.Series, themes: pd.Series | None = None, clf: Any = None) -> pd.DataFrame:
    """Theme, log length, number of hashtags and link flag of texts. ``themes``: the texts' main themes
    as stored (:func:`history`), read as they are; the texts without one are classified by ``clf``."""
    t = texts.fillna("").astype(str)
    return pd.DataFrame({
        "theme": _main_themes(t, themes, clf),
        "log_length": np.log1p(t.str.len().to_numpy(float)),
        "n_hashtags": t.str.count(r"(?<![\w&])#\w{2,}").to_numpy(float),
        "has_link": t.str.contains(r"https?://|www\.", regex=True).to_numpy(float),
    }, index=texts.index)


def features(posts: pd.DataFrame, target: str = "engagement", text: bool = True) -> pd.DataFrame:
    """Model inputs of each post (module docstring) plus ``y`` = log(1 + target); the level of a post
    comes only from its account's posts published ``LEVEL_LAG_DAYS`` or more before it. ``text=False``:
    of the text's features, only the theme (for a reader of theme, format and slot alone)."""
    df = posts.copy()
    df["created_at"] = pd.to_datetime(df["created_at"])
    df = df.sort_values(["created_at", "post_id"]).reset_index(drop=True)
    df["y"] = np.log1p(pd.to_numeric(df[target], errors="coerce").astype(float).clip(lower=0))
    local = df["created_at"].dt.tz_localize("UTC").dt.tz_convert(LOCAL_TZ)
    df["slot"] = slots_of(local)
    df["post_format"] = [post_format(p, pl) for p, pl in zip(df["post_type"], df["platform"], strict=True)]
    themes = df["theme"] if "theme" in df else None
    if text:
        df = pd.concat([df.drop(columns="theme", errors="ignore"), text_features(df["text"], themes)], axis=1)
    else:
        df["theme"] = _main_themes(df["text"].fillna("").astype(str), themes)
    df["level"] = np.nan
    df["history"] = 0
    lag = pd.Timedelta(days=LEVEL_LAG_DAYS)
    for _, g in df.groupby("account_id", sort=False):
        t = g["created_at"].to_numpy()
        y = g["y"].to_numpy()
        known = np.isfinite(y)
        tk, yk = t[known], y[known]
        ends = np.searchsorted(tk, t - lag.to_timedelta64(), side="right")
        df.loc[g.index, "level"] = _levels(yk, ends)
        df.loc[g.index, "history"] = ends
    return df


def level_now(posts: pd.DataFrame, account_id: str, when: pd.Timestamp, target: str = "engagement") -> float | None:
    """The level a draft of ``account_id`` to be published at ``when`` (UTC) would have."""
    g = posts[(posts["account_id"] == account_id)].copy()
    g = g[pd.to_datetime(g["created_at"]) <= when - pd.Timedelta(days=LEVEL_LAG_DAYS)]
    y = np.log1p(pd.to_numeric(g[target], errors="coerce").astype(float).clip(lower=0)).dropna()
    if len(y) < MIN_HISTORY:
        return None
    return float(np.median(y.to_numpy()[-LEVEL_WINDOW:]))


# ------------------------------------------------------------------------------ model
def _pipeline(alpha: float) -> Pipeline:
    pre = ColumnTransformer([
        ("cat", OneHotEncoder(handle_unknown="ignore"), CATEGORICAL),
        ("num", StandardScaler(), NUMERIC),
    ])
    return Pipeline([("pre", pre), ("ridge", Ridge(alpha=alpha))])


def _conformal(res: np.ndarray, coverage: float) -> tuple[float, float]:
    """Finite-sample split-conformal bounds of signed residuals for a central ``coverage`` interval."""
    r = np.sort(res[np.isfinite(res)])
    n = len(r)
    if n == 0:
        return -np.inf, np.inf
    a = (1 - coverage) / 2
    lo = int(math.floor((n + 1) * a)) - 1
    hi = int(math.ceil((n + 1) * (1 - a))) - 1
    return (float(r[lo]) if lo >= 0 else -np.inf), (float(r[hi]) if hi < n else np.inf)


class EngagementModel(RegressorMixin, BaseEstimator):
    """Ridge on log engagement with split-conformal intervals (module docstring).

    ``fit(X)`` takes :func:`features` rows (``y`` and the inputs); learned attributes end in ``_``.
    """

    def __init__(self, alpha: float | None = None, coverage: float = COVERAGE, folds: int = 5, min_group: int = 30):
        self.alpha = alpha
        self.coverage = coverage
        self.folds = folds
        self.min_group = min_group

    def fit(self, X: pd.DataFrame, y: Any = None) -> EngagementModel:
        d = X[np.isfinite(X["y"]) & np.isfinite(X["level"])].reset_index(drop=True)
        if len(d) < 10:
            raise ValueError(f"historique trop court : {fr_count(len(d), 'publication')} avec un niveau connu (10 au moins)")
        # contiguous time blocks: the penalty is chosen, then the residuals cross-fitted, on them
        k = max(2, min(self.folds, len(d) // 5))
        blocks = np.array_split(np.arange(len(d)), k)
        # the account's level is an offset: the ridge explains the gap to it, so a strong penalty
        # falls back on « the recent median plus the usual gap », not on a constant
        Xd, yd = d[CATEGORICAL + NUMERIC], (d["y"] - d["level"]).to_numpy()

        def crossfit(alpha: float) -> np.ndarray:
            res = np.full(len(d), np.nan)
            for b in blocks:
                train = np.setdiff1d(np.arange(len(d)), b)
                m = _pipeline(alpha).fit(Xd.iloc[train], yd[train])
                res[b] = yd[b] - m.predict(Xd.iloc[b])
            return res

        if self.alpha is None:  # the penalty with the smallest cross-fitted absolute error
            tried = {a: crossfit(a) for a in ALPHAS}
            self.alpha_ = min(tried, key=lambda a: (float(np.nanmean(np.abs(tried[a]))), -a))
            res = tried[self.alpha_]
        else:
            self.alpha_ = self.alpha
            res = crossfit(self.alpha_)
        self.pipeline_ = _pipeline(self.alpha_).fit(Xd, yd)
        # the point is a median: the cross-fitted residuals' median is added back
        self.shift_ = float(np.nanmedian(res))
        res = res - self.shift_
        self.residuals_ = res
        self.pooled_q_ = _conformal(res, self.coverage)
        self.platform_q_ = {p: _conformal(res[(d["platform"] == p).to_numpy()], self.coverage)
                            for p in d["platform"].unique() if (d["platform"] == p).sum() >= self.min_group}
        self.n_train_ = len(d)
        self.platforms_ = sorted(d["platform"].unique())
        self.version_ = MODEL_VERSION
        return self

    def predict(self, X: pd.DataFrame) -> np.ndarray:
        """Median log(1 + engagement): level + the ridge's gap + the residuals' median."""
        return X["level"].to_numpy(float) + self.pipeline_.predict(X[CATEGORICAL + NUMERIC]) + self.shift_

    def predict_interval(self, X: pd.DataFrame) -> pd.DataFrame:
        """``mid``, ``low``, ``high`` in interactions (the 80 % interval by default)."""
        mid = self.predict(X)
        q = np.array([self.platform_q_.get(p, self.pooled_q_) for p in X["platform"]], dtype=float).reshape(-1, 2)
        lo, hi = mid + q[:, 0], mid + q[:, 1]
        return pd.DataFrame({"mid": np.expm1(mid), "low": np.expm1(np.maximum(lo, 0.0)), "high": np.expm1(hi)},
                            index=X.index)


# ------------------------------------------------------------------------------ evaluation
@dataclass
class Evaluation:
    """Time-split evaluation of the model on one history (an account or a territory)."""

    label: str
    target: str
    note: str | None
    n_posts: int
    n_test: int
    coverage: float | None
    coverage_low: float | None
    coverage_high: float | None
    mae_model: float | None
    mae_median: float | None
    mae_log_model: float | None
    mae_log_median: float | None
    mae_recent_median: float | None = None
    predictions: pd.DataFrame = field(default_factory=pd.DataFrame, repr=False)

    @property
    def beats_median(self) -> bool:
        return self.mae_model is not None and self.mae_median is not None and self.mae_model < self.mae_median

    def as_row(self) -> dict[str, Any]:
        return {k: getattr(self, k) for k in ("label", "target", "note", "n_posts", "n_test", "coverage",
                                              "coverage_low", "coverage_high", "mae_model", "mae_median",
                                              "mae_log_model", "mae_log_median", "mae_recent_median")} | {
            "beats_median": self.beats_median}


def evaluate(posts: pd.DataFrame, label: str = "", train_share: float = 0.6, blocks: int = 4,
             coverage: float = COVERAGE, target: str | None = None) -> Evaluation:
    """Walk-forward evaluation (module docstring) of the model on ``posts`` (:func:`history` rows)."""

    tgt, note = (target, None) if target else choose_target(posts)
    df = features(posts, tgt)
    df = df[np.isfinite(df["y"])].reset_index(drop=True)
    n = len(df)
    empty = Evaluation(label, tgt, note, n, 0, None, None, None, None, None, None, None)
    if n < MIN_POSTS:
        empty.note = f"trop peu de publications ({n}, {MIN_POSTS} au moins) pour évaluer le modèle"
        return empty
    start = int(n * train_share)
    cuts = np.array_split(np.arange(start, n), blocks)
    out = []
    for b in cuts:
        if not len(b):
            continue
        train = df.iloc[: b[0]]
        test = df.iloc[b]
        test = test[np.isfinite(test["level"])]
        if test.empty:
            continue
        try:
            m = EngagementModel(coverage=coverage).fit(train)
        except ValueError:
            continue
        iv = m.predict_interval(test)
        med = {a: float(np.median(np.expm1(g["y"]))) for a, g in train.groupby("account_id")}
        out.append(pd.DataFrame({
            "post_id": test["post_id"], "account_id": test["account_id"], "platform": test["platform"],
            "created_at": test["created_at"], "y": np.expm1(test["y"]), "low": iv["low"], "mid": iv["mid"],
            "high": iv["high"], "naive": [med.get(a, np.nan) for a in test["account_id"]],
            "recent": np.expm1(test["level"])}))
    if not out:
        empty.note = "aucune publication évaluable (historique trop court avant chaque bloc)"
        return empty
    p = pd.concat(out, ignore_index=True).dropna(subset=["naive"])
    inside = (p["y"] >= p["low"]) & (p["y"] <= p["high"])
    w = wilson_interval(int(inside.sum()), len(p))
    return Evaluation(
        label, tgt, note, n, len(p), float(inside.mean()), w[0] if w else None, w[1] if w else None,
        float((p["y"] - p["mid"]).abs().mean()), float((p["y"] - p["naive"]).abs().mean()),
        float((np.log1p(p["y"]) - np.log1p(p["mid"])).abs().mean()),
        float((np.log1p(p["y"]) - np.log1p(p["naive"])).abs().mean()),
        float((p["y"] - p["recent"]).abs().mean()), p)


def fit_territory(con: duckdb.DuckDBPyConnection, territory: str) -> tuple[EngagementModel | None, pd.DataFrame, str,
                                                                           str | None]:
    """The model of a territory's official accounts (all platforms) → (model or None, history, target, note)."""
    posts = history(con, [territory])
    tgt, note = choose_target(posts)
    if len(posts) < MIN_POSTS:
        return None, posts, tgt, f"trop peu de publications ({len(posts)}) pour un modèle d'engagement"
    df = features(posts, tgt)
    try:
        return EngagementModel().fit(df), posts, tgt, note
    except ValueError as e:
        return None, posts, tgt, str(e)


def evaluate_accounts(con: duckdb.DuckDBPyConnection, min_posts: int = MIN_POSTS) -> list[Evaluation]:
    """The time-split evaluation of every account of the store with ``min_posts`` posts or more (a
    real export imported as it is: its accounts need not be official ones of the registry)."""
    accs = con.execute("SELECT account_id, count(*) FROM posts WHERE account_id IS NOT NULL GROUP BY 1 "
                       "HAVING count(*) >= ? ORDER BY 2 DESC, 1", [min_posts]).fetchall()
    return [evaluate(history(con, accounts=[a]), a) for a, _ in accs]
