"""Theme classifier on real civic texts and on our labelled comments.

Figures:
- **top-1 right**: the strongest theme is one of the text's acceptable themes (a text left
  without theme counts as wrong), over texts whose institution label maps to a theme;
- **no theme**: share of those texts given no theme at all;
- the per-theme table (recall of the top theme per gold theme, precision per predicted theme);
- **cross-validation by source**: every setting (similarity threshold and weight) is chosen on
  two sources and read on the third, so each figure is on texts the choice was not made on;
- speed: distinct messages per CPU second, same run, same texts, before/after;
- **the similarity floor's trade-off** (:func:`floor_table`): per floor, the civic figures and, on our
  labelled comments, the share of theme-less ones given a theme and the error of the theme shares a
  page would show (what an élu reads: « 14 % des messages parlent de mobilité »).
"""

from __future__ import annotations

import itertools
import time
from collections.abc import Iterable, Iterator, Sequence
from contextlib import contextmanager
from typing import Any

import numpy as np
import pandas as pd

from analysis.eval.stats import mean_ci
from analysis.topics import (
    NO_THEME,
    STOP_WORDS_FR,
    LemmaVectorizer,
    Taxonomy,
    ThemeClassifier,
    _keyword_parts,
    load_taxonomy,
)

SOURCES = ("toulouse", "montpellier", "mel")
GRID = {"similarity_floor": (0.0, 0.05, 0.1, 0.15, 0.2), "similarity_weight": (3.0, 5.0, 8.0, 12.0, 20.0)}
FLOORS = (0.0, 0.1, 0.15, 0.2, 0.25, 0.3)
NO_THEME_BOUND = 0.10  # issue 17: at most 10 % of short real civic texts left without a theme


def top1(clf: ThemeClassifier, texts: Sequence[str], gold: Sequence[tuple[str, ...]]) -> tuple[np.ndarray, np.ndarray]:
    """(right, no_theme) boolean vectors."""
    top = clf.predict_top(list(texts))
    right = np.array([t != NO_THEME and t in g for t, g in zip(top, gold, strict=True)])
    return right, top == NO_THEME


def score(clf: ThemeClassifier, df: pd.DataFrame) -> dict:
    right, none = top1(clf, df["text"].tolist(), df["gold"].tolist())
    return {"top1": mean_ci(right), "no_theme": mean_ci(none), "n": int(len(df))}


def per_theme(clf: ThemeClassifier, df: pd.DataFrame, top: np.ndarray | None = None) -> pd.DataFrame:
    """Per gold theme: texts, share whose top theme is right; per predicted theme: precision
    (``top``: the top themes already predicted for ``df``)."""
    top = clf.predict_top(df["text"].tolist()) if top is None else top
    rows = []
    for t in clf.classes_:
        has = np.array([t in g for g in df["gold"]])
        pred = top == t
        ok = np.array([p in g for p, g in zip(top, df["gold"], strict=True)])
        rows.append({"theme": t, "support": int(has.sum()),
                     "recall_top1": float((pred & has).sum() / has.sum()) if has.any() else float("nan"),
                     "predicted": int(pred.sum()),
                     "precision_top1": float((pred & ok).sum() / pred.sum()) if pred.any() else float("nan")})
    return pd.DataFrame(rows)


def speed(clf: ThemeClassifier, texts: Sequence[str], repeat: int = 5) -> float:
    """Distinct texts scored per CPU second (each call re-reads every text: no cache across calls)."""
    texts = list(dict.fromkeys(texts))
    clf.predict_proba(texts[:50])
    t0 = time.process_time()
    for _ in range(repeat):
        clf.predict_proba(texts)
    return repeat * len(texts) / max(time.process_time() - t0, 1e-9)


def cross_validate_by_source(dev: pd.DataFrame, grid: dict = GRID, bound: float | None = NO_THEME_BOUND,
                             **fixed: Any) -> dict:
    """Choose the settings on two sources, read them on the third. The shipped rule: the largest
    similarity floor whose no-theme rate on the two stays within ``bound``, then the weight with the
    best mean top-1 − no-theme rate (``bound=None``: the best of that objective over every setting)."""
    tax = load_taxonomy()
    combos = [dict(zip(grid, v, strict=True)) for v in itertools.product(*grid.values())]
    cache: dict[tuple, dict[str, tuple[np.ndarray, np.ndarray]]] = {}
    for c in combos:
        clf = ThemeClassifier(tax, **fixed, **c).fit()
        cache[tuple(c.values())] = {s: top1(clf, dev.loc[dev["source"] == s, "text"].tolist(),
                                            dev.loc[dev["source"] == s, "gold"].tolist()) for s in SOURCES}
    out: dict[str, Any] = {"folds": {}}
    right_all, none_all = [], []
    for held in SOURCES:
        train = [s for s in SOURCES if s != held]

        def objective(c: dict, train: list = train) -> float:
            r = np.concatenate([cache[tuple(c.values())][s][0] for s in train])
            n = np.concatenate([cache[tuple(c.values())][s][1] for s in train])
            return float(r.mean() - n.mean())

        def no_theme(c: dict, train: list = train) -> float:
            return float(np.concatenate([cache[tuple(c.values())][s][1] for s in train]).mean())

        allowed = combos
        if bound is not None and "similarity_floor" in grid:
            ok = [c for c in combos if no_theme(c) <= bound] or combos
            top = max(c["similarity_floor"] for c in ok)
            allowed = [c for c in ok if c["similarity_floor"] == top]
        best = max(allowed, key=objective)
        right, none = cache[tuple(best.values())][held]
        right_all.append(right)
        none_all.append(none)
        out["folds"][held] = {"chosen": best, "top1": mean_ci(right), "no_theme": mean_ci(none)}
    out["pooled"] = {"top1": mean_ci(np.concatenate(right_all)), "no_theme": mean_ci(np.concatenate(none_all))}
    return out


def comments_score(clf: ThemeClassifier, lab: pd.DataFrame) -> dict:
    """On our labelled comments (French): top-1 right and no-theme for those with a theme; for
    those without, the share given a theme anyway (false theme)."""
    fr = lab[lab["lang"] == "fr"]
    themed = fr[fr["themes"].str.len() > 0]
    bare = fr[fr["themes"].str.len() == 0]
    right, none = top1(clf, themed["text"].tolist(), themed["themes"].tolist())
    false_theme = clf.predict_top(bare["text"].tolist()) != NO_THEME
    by_theme = {}
    top = clf.predict_top(themed["text"].tolist())
    for t in ("securite_tranquillite", "tourisme_patrimoine", "services_publics_demarches", "solidarite_sante"):
        has = np.array([t in g for g in themed["themes"]])
        if has.any():
            by_theme[t] = {"support": int(has.sum()), "recall_top1": float((top[has] == t).mean())}
    return {"n": int(len(fr)), "top1": mean_ci(right), "no_theme": mean_ci(none), "false_theme": mean_ci(false_theme),
            "by_theme": by_theme, **shares(clf, fr)}


def shares(clf: ThemeClassifier, lab: pd.DataFrame) -> dict:
    """The theme shares a page would show for these messages (every theme reaching the threshold)
    against the labelled ones: share of messages with a theme (``themed``: predicted, labelled) and
    ``share_error``, the sum over themes of |predicted share − labelled share|."""
    ids = list(clf.classes_)
    pred = clf.predict(lab["text"].tolist()).astype(bool)
    gold = np.array([[t in g for t in ids] for g in lab["themes"]], dtype=bool).reshape(len(lab), len(ids))
    return {"themed": {"predicted": float(pred.any(axis=1).mean()), "labelled": float(gold.any(axis=1).mean())},
            "share_error": float(np.abs(pred.mean(axis=0) - gold.mean(axis=0)).sum())}


def floor_by_rule(rows: list[dict], bound: float = NO_THEME_BOUND) -> float | None:
    """The shipped floor's rule: the largest floor of :func:`floor_table` whose civic no-theme rate
    stays within ``bound`` (higher floors give fewer false themes and closer shares on our comments)."""
    ok = [r["floor"] for r in rows if r["no_theme"]["value"] <= bound]
    return max(ok) if ok else None


def floor_table(dev: pd.DataFrame, lab: pd.DataFrame, floors: Sequence[float] = FLOORS, **fixed: Any) -> list[dict]:
    """Per similarity floor (the shipped weight): top-1 right and no-theme on the civic texts, the
    theme-less comments given a theme, and the shares of :func:`shares` on our French comments."""
    tax = load_taxonomy()
    fr = lab[lab["lang"] == "fr"]
    bare = fr[fr["themes"].str.len() == 0]
    rows = []
    for fl in floors:
        clf = ThemeClassifier(tax, similarity_floor=fl, **fixed).fit()
        right, none = top1(clf, dev["text"].tolist(), dev["gold"].tolist())
        false_theme = clf.predict_top(bare["text"].tolist()) != NO_THEME
        rows.append({"floor": fl, "top1": mean_ci(right), "no_theme": mean_ci(none),
                     "false_theme": mean_ci(false_theme), **shares(clf, fr)})
    return rows


def mine_keywords(texts: Sequence[str], gold: Sequence[tuple[str, ...]], taxonomy: Any = None,
                  min_df: int = 3, min_precision: float = 0.75) -> dict[str, list[str]]:
    """Taxonomy enrichment from labelled texts: lemma words found in at least ``min_df`` texts of a
    theme and, among all texts holding them, in that theme's for at least ``min_precision`` of
    them (texts with one acceptable theme only), not yet keywords. Returns theme → words."""

    tax = taxonomy or load_taxonomy()
    single = [i for i, g in enumerate(gold) if len(g) == 1]
    vec = LemmaVectorizer(ngram_range=(1, 1), min_df=min_df)
    X = vec.fit_transform([texts[i] for i in single]).tocsc()
    X.data[:] = 1
    names = vec.get_feature_names_out()
    y = np.array([gold[i][0] for i in single], dtype=object)
    known = set(_keyword_parts(tax)[0])
    df = np.asarray(X.sum(axis=0)).ravel()
    out: dict[str, list[str]] = {}
    for t in tax.ids:
        m = (y == t).astype(np.float32)
        dft = np.asarray(X.T @ m).ravel()
        keep = (dft >= min_df) & (dft / np.maximum(df, 1) >= min_precision)
        words = [str(names[j]) for j in np.flatnonzero(keep)
                 if names[j] not in known and names[j] not in STOP_WORDS_FR and len(names[j]) >= 3
                 and not names[j].isdigit() and not names[j].startswith("#")]
        if words:
            out[t] = sorted(words)
    return out


def enriched_taxonomy(extra: dict[str, list[str]], taxonomy: Any = None) -> Any:
    """The taxonomy with ``extra`` keywords added to their themes (in memory, new version)."""
    import dataclasses
    import hashlib


    tax = taxonomy or load_taxonomy()
    themes = tuple(dataclasses.replace(t, keywords=(*t.keywords, *extra.get(t.id, ()))) for t in tax.themes)
    v = hashlib.sha256((tax.version + repr(sorted(extra.items()))).encode()).hexdigest()[:8]
    return Taxonomy(themes, v, None)


def cross_validate_enrichment(dev: pd.DataFrame, grid: dict = GRID) -> dict:
    """Like :func:`cross_validate_by_source`, with keywords mined from the two training sources
    added to the taxonomy before the settings are chosen and the third source is read."""
    out: dict[str, Any] = {"folds": {}}
    right_all, none_all = [], []
    combos = [dict(zip(grid, v, strict=True)) for v in itertools.product(*grid.values())]
    for held in SOURCES:
        train = dev[dev["source"] != held]
        extra = mine_keywords(train["text"].tolist(), train["gold"].tolist())
        tax = enriched_taxonomy(extra)

        def objective(c: dict, tax: Any = tax, train: pd.DataFrame = train) -> float:
            clf = ThemeClassifier(tax, **c).fit()
            r, n = top1(clf, train["text"].tolist(), train["gold"].tolist())
            return float(r.mean() - n.mean())

        best = max(combos, key=objective)
        test = dev[dev["source"] == held]
        right, none = top1(ThemeClassifier(tax, **best).fit(), test["text"].tolist(), test["gold"].tolist())
        right_all.append(right)
        none_all.append(none)
        out["folds"][held] = {"chosen": best, "mined": sum(len(v) for v in extra.values()),
                              "top1": mean_ci(right), "no_theme": mean_ci(none)}
    out["pooled"] = {"top1": mean_ci(np.concatenate(right_all)), "no_theme": mean_ci(np.concatenate(none_all))}
    return out


# ------------------------------------------------------------------------------ adaptation to a store's texts
ADAPT_FLOORS = (0.2, 0.25, 0.3, 0.35, 0.4, 0.45, 0.5, 0.55, 0.6)


def adapted_by_source(dev_all: pd.DataFrame, taxonomy: Any = None) -> dict[str, ThemeClassifier]:
    """One classifier per source, adapted (:meth:`ThemeClassifier.adapt`, no label read) on every text
    of that source, the rows without a mapped theme included: each source stands for one store."""
    tax = taxonomy or load_taxonomy()
    return {s: ThemeClassifier(tax).fit().adapt(dev_all.loc[dev_all["source"] == s, "text"].tolist())
            for s in SOURCES}


ADAPT_LEADS = (0.0, 1.0, 3.0, 10.0, 30.0, 100.0)


@contextmanager
def _setting(clfs: Iterable[ThemeClassifier], attr: str, value: float | None,
             none_is_a_value: bool = False) -> Iterator[None]:
    """Read with ``attr`` (``adapt_floor``, ``adapt_lead``, ``adapt_fallback_floor``) = ``value`` (None: as
    they are, unless ``none_is_a_value``: the fallback's None is « no fallback »), then put each classifier's back."""
    clfs = list(clfs)
    kept = [getattr(c, attr) for c in clfs]
    if value is not None or none_is_a_value:
        for c in clfs:
            setattr(c, attr, value)
    try:
        yield
    finally:
        for c, k in zip(clfs, kept, strict=True):
            setattr(c, attr, k)


def _by_source(clfs: dict[str, ThemeClassifier], dev: pd.DataFrame, floor: float | None = None,
               sources: Sequence[str] = SOURCES, lead: float | None = None) -> dict[str, tuple[np.ndarray, np.ndarray]]:
    """(right, no_theme) of each of ``sources``, read by its own adapted classifier (at ``floor``, ``lead``)."""
    out = {}
    with _setting(clfs.values(), "adapt_floor", floor), _setting(clfs.values(), "adapt_lead", lead):
        for s in sources:
            d = dev[dev["source"] == s]
            out[s] = top1(clfs[s], d["text"].tolist(), d["gold"].tolist())
    return out


def _pooled(by: dict[str, tuple[np.ndarray, np.ndarray]]) -> tuple[np.ndarray, np.ndarray]:
    """(right, no_theme) of the sources of :func:`_by_source` end to end."""
    return np.concatenate([r for r, _ in by.values()]), np.concatenate([n for _, n in by.values()])


def _per_source(clfs: dict[str, ThemeClassifier], dev: pd.DataFrame, floor: float | None = None,
                sources: Sequence[str] = SOURCES, lead: float | None = None) -> tuple[np.ndarray, np.ndarray]:
    """(right, no_theme) over ``sources``, each read by its own adapted classifier (at ``floor``, ``lead``)."""
    return _pooled(_by_source(clfs, dev, floor, sources, lead))


def score_adapted(clfs: dict[str, ThemeClassifier], dev: pd.DataFrame) -> dict:
    """:func:`score` with each source read by its own adapted classifier, and per source."""
    each = _by_source(clfs, dev)
    r, n = _pooled(each)
    by = {s: {"top1": mean_ci(rs), "no_theme": mean_ci(ns), "examples": clfs[s].adapt_examples_}
          for s, (rs, ns) in each.items()}
    return {"top1": mean_ci(r), "no_theme": mean_ci(n), "n": int(len(dev)), "by_source": by}


def per_theme_adapted(clfs: dict[str, ThemeClassifier], dev: pd.DataFrame) -> pd.DataFrame:
    """:func:`per_theme` with each source read by its own adapted classifier."""
    parts = [dev[dev["source"] == s] for s in SOURCES]
    top = np.concatenate([clfs[s].predict_top(d["text"].tolist()) for s, d in zip(SOURCES, parts, strict=True)])
    return per_theme(next(iter(clfs.values())), pd.concat(parts), top)


def adapt_floor_table(clfs: dict[str, ThemeClassifier], dev: pd.DataFrame, comments_clf: ThemeClassifier,
                      lab: pd.DataFrame, floors: Sequence[float] = ADAPT_FLOORS) -> list[dict]:
    """Per floor of the adapted model: civic top-1 and no-theme (each source by its own adaptation),
    the theme-less comments given a theme and the shares on our French comments (``comments_clf``)."""
    fr = lab[lab["lang"] == "fr"]
    bare = fr[fr["themes"].str.len() == 0]
    rows = []
    for fl in floors:
        right, none = _per_source(clfs, dev, fl)
        with _setting([comments_clf], "adapt_floor", fl):
            false_theme = comments_clf.predict_top(bare["text"].tolist()) != NO_THEME
            rows.append({"floor": fl, "top1": mean_ci(right), "no_theme": mean_ci(none),
                         "false_theme": mean_ci(false_theme), **shares(comments_clf, fr)})
    return rows


def cross_validate_adapt_floor(clfs: dict[str, ThemeClassifier], dev: pd.DataFrame,
                               floors: Sequence[float] = ADAPT_FLOORS, bound: float = NO_THEME_BOUND) -> dict:
    """The floor's rule (the largest that leaves at most ``bound`` of the texts without a theme) applied
    on two sources, read on the third."""
    out: dict[str, Any] = {"folds": {}}
    right_all, none_all = [], []
    for held in SOURCES:
        train = [s for s in SOURCES if s != held]
        rows = [{"floor": f, "no_theme": {"value": _per_source(clfs, dev, f, train)[1].mean()}} for f in floors]
        chosen = floor_by_rule(rows, bound)
        chosen = min(floors) if chosen is None else chosen
        r, n = _per_source(clfs, dev, chosen, (held,))
        right_all.append(r)
        none_all.append(n)
        out["folds"][held] = {"chosen": chosen, "top1": mean_ci(r), "no_theme": mean_ci(n)}
    out["pooled"] = {"top1": mean_ci(np.concatenate(right_all)), "no_theme": mean_ci(np.concatenate(none_all))}
    return out


def adapt_lead_table(clfs: dict[str, ThemeClassifier], dev: pd.DataFrame, comments_clf: ThemeClassifier,
                     lab: pd.DataFrame, leads: Sequence[float] = ADAPT_LEADS) -> list[dict]:
    """Per weight of the adapted model on the texts a keyword names (``adapt_lead``, 0: the keywords
    alone decide): civic top-1 per source and pooled, and on our French comments (``comments_clf``) the
    top-1 of those with a theme, security's recall and the shares."""
    fr = lab[lab["lang"] == "fr"]
    rows = []
    for lead in leads:
        each = _by_source(clfs, dev, lead=lead)
        right, none = _pooled(each)
        by = {s: float(r.mean()) for s, (r, _) in each.items()}
        with _setting([comments_clf], "adapt_lead", lead):
            c = comments_score(comments_clf, lab)
            rows.append({"lead": lead, "top1": mean_ci(right), "no_theme": mean_ci(none), "by_source": by,
                         "comments_top1": c["top1"], "security": c["by_theme"].get("securite_tranquillite"),
                         **shares(comments_clf, fr)})
    return rows


def cross_validate_adapt_lead(rows: list[dict], dev: pd.DataFrame) -> dict:
    """The lead that gives the best civic top-1 on two sources (the smallest among equals), read on the
    third (``rows``: :func:`adapt_lead_table`'s, whose per-source figures are these reads)."""
    n = dev["source"].value_counts().to_dict()
    out: dict[str, Any] = {"folds": {}}
    right = 0.0
    for held in SOURCES:
        train = [s for s in SOURCES if s != held]

        def fit(r: dict, train: list[str] = train) -> float:
            return sum(r["by_source"][s] * n.get(s, 0) for s in train)

        best = max(rows, key=lambda r: (round(fit(r), 6), -r["lead"]))
        out["folds"][held] = {"chosen": best["lead"], "top1": best["by_source"][held], "n": int(n.get(held, 0))}
        right += best["by_source"][held] * n.get(held, 0)
    out["pooled"] = {"top1": right / max(sum(n.get(s, 0) for s in SOURCES), 1)}
    return out


# ------------------------------------------------------------------------------ the adapted model's fallback
ADAPT_FALLBACK_FLOORS = (0.6, 0.55, 0.5, 0.45, 0.4, 0.35, 0.3, 0.25, 0.2, 0.15)


def fallback_floor_table(clfs: dict[str, ThemeClassifier], dev: pd.DataFrame, comments_clf: ThemeClassifier,
                         lab: pd.DataFrame, floors: Sequence[float] = ADAPT_FALLBACK_FLOORS) -> list[dict]:
    """Per floor of the adapted model's similarity fallback (None first: no fallback): civic top-1 and
    no-theme (each source by its own adaptation), the cross-validation by source of the adapted model's
    floor (:func:`cross_validate_adapt_floor`) read with that fallback, and on our French comments the
    theme-less ones given a theme and the shares."""
    fr = lab[lab["lang"] == "fr"]
    bare = fr[fr["themes"].str.len() == 0]
    rows = []
    for fl in (None, *floors):
        with _setting([*clfs.values(), comments_clf], "adapt_fallback_floor", fl, none_is_a_value=True):
            right, none = _per_source(clfs, dev)
            cv = cross_validate_adapt_floor(clfs, dev)["pooled"]
            false_theme = comments_clf.predict_top(bare["text"].tolist()) != NO_THEME
            rows.append({"floor": fl, "top1": mean_ci(right), "no_theme": mean_ci(none), "cv_top1": cv["top1"],
                         "cv_no_theme": cv["no_theme"], "false_theme": mean_ci(false_theme),
                         **shares(comments_clf, fr)})
    return rows


def fallback_by_rule(rows: list[dict], bound: float = NO_THEME_BOUND) -> float | None:
    """The shipped fallback's rule: the largest floor of :func:`fallback_floor_table` whose cross-validation
    by source leaves at most ``bound`` of the civic texts without a theme (the issue's bound on texts of a
    source never seen; a higher floor gives fewer themes to theme-less comments)."""
    ok = [r["floor"] for r in rows if r["floor"] is not None and r["cv_no_theme"]["value"] <= bound]
    return max(ok) if ok else None
