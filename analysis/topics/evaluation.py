"""Evaluation of theme predictions against analyst labels: precision, recall, F1 per theme, micro and macro."""

from __future__ import annotations

from collections.abc import Sequence

import pandas as pd


def evaluate(y_true: Sequence[Sequence[str]], y_pred: Sequence[Sequence[str]], theme_ids: Sequence[str],
             ) -> pd.DataFrame:
    """Precision, recall, F1 and support per theme, then micro and macro averages (rows 'micro', 'macro').

    precision = TP ÷ (TP + FP), recall = TP ÷ (TP + FN), F1 = 2PR ÷ (P + R); micro sums TP/FP/FN
    over themes, macro averages the per-theme figures (themes with no support and no prediction
    are left out of the macro average).
    """
    rows = []
    tp_all = fp_all = fn_all = 0
    for t in theme_ids:
        tp = sum(1 for a, b in zip(y_true, y_pred, strict=True) if t in a and t in b)
        fp = sum(1 for a, b in zip(y_true, y_pred, strict=True) if t not in a and t in b)
        fn = sum(1 for a, b in zip(y_true, y_pred, strict=True) if t in a and t not in b)
        tp_all, fp_all, fn_all = tp_all + tp, fp_all + fp, fn_all + fn
        p = tp / (tp + fp) if tp + fp else float("nan")
        r = tp / (tp + fn) if tp + fn else float("nan")
        f1 = 2 * p * r / (p + r) if tp else (0.0 if (tp + fp) and (tp + fn) else float("nan"))
        rows.append({"theme": t, "precision": p, "recall": r, "f1": f1, "support": tp + fn, "predicted": tp + fp})
    out = pd.DataFrame(rows)
    p = tp_all / (tp_all + fp_all) if tp_all + fp_all else float("nan")
    r = tp_all / (tp_all + fn_all) if tp_all + fn_all else float("nan")
    micro = {"theme": "micro", "precision": p, "recall": r, "f1": 2 * p * r / (p + r) if tp_all else 0.0,
             "support": int(out["support"].sum()), "predicted": int(out["predicted"].sum())}
    active = out[(out["support"] > 0) | (out["predicted"] > 0)]
    macro = {"theme": "macro", "precision": active["precision"].mean(), "recall": active["recall"].mean(),
             "f1": active["f1"].mean(), "support": int(out["support"].sum()),
             "predicted": int(out["predicted"].sum())}
    return pd.concat([out, pd.DataFrame([micro, macro])], ignore_index=True)
