"""Small statistics of the evaluation suite: bootstrap intervals, agreement, calibration, PR curves."""

from __future__ import annotations

from collections.abc import Callable, Sequence

import numpy as np

N_BOOT = 1000
SEED = 0


def bootstrap_ci(stat: Callable[[np.ndarray], float], n: int, n_boot: int = N_BOOT, alpha: float = 0.05,
                 seed: int = SEED, groups: np.ndarray | None = None) -> tuple[float, float]:
    """Percentile bootstrap interval of ``stat(indices)`` over ``n`` items (resampled with replacement).

    ``groups``: resample whole groups (e.g. the texts of one author) instead of items.
    """
    rng = np.random.default_rng(seed)
    vals = []
    if groups is None:
        for _ in range(n_boot):
            vals.append(stat(rng.integers(0, n, n)))
    else:
        uniq, inv = np.unique(groups, return_inverse=True)
        members = [np.flatnonzero(inv == g) for g in range(len(uniq))]
        for _ in range(n_boot):
            pick = rng.integers(0, len(uniq), len(uniq))
            vals.append(stat(np.concatenate([members[g] for g in pick])))
    vals = np.asarray([v for v in vals if v == v])
    if not len(vals):
        return float("nan"), float("nan")
    return float(np.quantile(vals, alpha / 2)), float(np.quantile(vals, 1 - alpha / 2))


def mean_ci(x: Sequence[float] | np.ndarray, **kw) -> dict:
    """Mean of a 0/1 (or any) vector with its bootstrap interval."""
    a = np.asarray(x, dtype=float)
    lo, hi = bootstrap_ci(lambda i: float(a[i].mean()), len(a), **kw) if len(a) else (np.nan, np.nan)
    return {"value": float(a.mean()) if len(a) else float("nan"), "low": lo, "high": hi, "n": int(len(a))}


def macro_f1(y: np.ndarray, p: np.ndarray, labels: Sequence) -> float:
    """Mean over ``labels`` of per-class F1 (a class absent from truth and prediction is skipped)."""
    f1s = []
    for c in labels:
        tp = np.sum((y == c) & (p == c))
        fp = np.sum((y != c) & (p == c))
        fn = np.sum((y == c) & (p != c))
        if tp + fp + fn == 0:
            continue
        f1s.append(2 * tp / (2 * tp + fp + fn))
    return float(np.mean(f1s)) if f1s else float("nan")


def per_class(y: np.ndarray, p: np.ndarray, labels: Sequence) -> dict:
    """precision, recall, F1, support per class."""
    out = {}
    for c in labels:
        tp = int(np.sum((y == c) & (p == c)))
        fp = int(np.sum((y != c) & (p == c)))
        fn = int(np.sum((y == c) & (p != c)))
        prec = tp / (tp + fp) if tp + fp else float("nan")
        rec = tp / (tp + fn) if tp + fn else float("nan")
        out[str(c)] = {"precision": prec, "recall": rec, "f1": 2 * tp / (2 * tp + fp + fn) if tp + fp + fn else float("nan"),
                       "support": tp + fn}
    return out


def macro_f1_ci(y: Sequence, p: Sequence, labels: Sequence, **kw) -> dict:
    y, p = np.asarray(y, dtype=object), np.asarray(p, dtype=object)
    lo, hi = bootstrap_ci(lambda i: macro_f1(y[i], p[i], labels), len(y), **kw)
    return {"value": macro_f1(y, p, labels), "low": lo, "high": hi, "n": int(len(y))}


def binary_prf(y: np.ndarray, pred: np.ndarray) -> tuple[float, float, float]:
    tp = float(np.sum((y == 1) & (pred == 1)))
    fp = float(np.sum((y == 0) & (pred == 1)))
    fn = float(np.sum((y == 1) & (pred == 0)))
    prec = tp / (tp + fp) if tp + fp else float("nan")
    rec = tp / (tp + fn) if tp + fn else float("nan")
    f1 = 2 * tp / (2 * tp + fp + fn) if tp + fp + fn else float("nan")
    return prec, rec, f1


def binary_prf_ci(y: Sequence[int], pred: Sequence[int], **kw) -> dict:
    """Precision, recall and F1 of the positive class, each with its bootstrap interval."""
    y, pred = np.asarray(y, dtype=int), np.asarray(pred, dtype=int)
    prec, rec, f1 = binary_prf(y, pred)
    out = {"n": int(len(y)), "positives": int(y.sum()), "flagged": int(pred.sum())}
    for k, (name, v) in enumerate((("precision", prec), ("recall", rec), ("f1", f1))):
        lo, hi = bootstrap_ci(lambda i, k=k: binary_prf(y[i], pred[i])[k], len(y), **kw)
        out[name] = {"value": v, "low": lo, "high": hi}
    return out


def pr_curve(y: Sequence[int], score: Sequence[float], thresholds: Sequence[float]) -> list[dict]:
    """Precision, recall, F1 and share flagged at each threshold (score ≥ threshold)."""
    y, s = np.asarray(y, dtype=int), np.asarray(score, dtype=float)
    rows = []
    for t in thresholds:
        pred = (s >= t).astype(int)
        prec, rec, f1 = binary_prf(y, pred)
        rows.append({"threshold": float(t), "precision": prec, "recall": rec, "f1": f1,
                     "flagged_share": float(pred.mean()) if len(pred) else float("nan")})
    return rows


def cohen_kappa(a: Sequence, b: Sequence) -> float:
    """Cohen's κ = (p_o − p_e) ÷ (1 − p_e) for two labellings of the same items."""
    a, b = np.asarray(a, dtype=object), np.asarray(b, dtype=object)
    cats = sorted(set(a.tolist()) | set(b.tolist()), key=str)
    po = float(np.mean(a == b))
    pe = sum(float(np.mean(a == c)) * float(np.mean(b == c)) for c in cats)
    return (po - pe) / (1 - pe) if pe < 1 else 1.0


def ece(y_idx: np.ndarray, proba: np.ndarray, bins: int = 10) -> float:
    """Top-label expected calibration error: Σ_b (n_b/n)·|accuracy_b − confidence_b|, equal-width bins."""
    conf = proba.max(axis=1)
    correct = (proba.argmax(axis=1) == y_idx).astype(float)
    edges = np.linspace(0, 1, bins + 1)
    out = 0.0
    for lo, hi in zip(edges[:-1], edges[1:], strict=True):
        m = (conf > lo) & (conf <= hi)
        if m.any():
            out += m.mean() * abs(correct[m].mean() - conf[m].mean())
    return float(out)
