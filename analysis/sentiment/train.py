"""Training data readers, training entry point and evaluation figures for the sentiment model."""

from __future__ import annotations

import csv
import time
from dataclasses import dataclass
from pathlib import Path

import numpy as np

from analysis.sentiment.model import LABELS, FrenchSentimentClassifier, _as_codes

EXTRA_WEIGHT = 0.3  # extra corpora are other domains (hotel reviews): they count less than tweets


@dataclass
class Dataset:
    texts: list[str]
    y: np.ndarray  # codes 0/1/2
    source: str


def read_lines(path: str | Path) -> list[str]:
    """Lines of a UTF-8 text file (BOM tolerated), without trailing newlines."""
    return Path(path).read_text(encoding="utf-8-sig").splitlines()


def read_split(data_dir: str | Path, split: str) -> Dataset:
    """UMSAB-style split: ``<split>_text.txt`` and ``<split>_labels.txt``, one item per line."""
    d = Path(data_dir)
    texts = read_lines(d / f"{split}_text.txt")
    labels = read_lines(d / f"{split}_labels.txt")
    if len(texts) != len(labels):
        raise ValueError(f"{d}: {len(texts)} textes mais {len(labels)} étiquettes pour « {split} »")
    return Dataset(texts, _as_codes(labels), f"{d.name}/{split}")


def read_extra(path: str | Path) -> Dataset:
    """An extra labelled French corpus.

    - a UMSAB-style directory (``train_text.txt`` + ``train_labels.txt``);
    - a ``Review;Rating`` CSV (TripAdvisor-like, ratings 1–5: ≤2 negative, 3 neutral, ≥4
      positive; ``;`` without quoting, so only the last field is the rating);
    - a two-column ``text,label`` CSV with labels 0/1/2 or names.
    """
    p = Path(path)
    if p.is_dir():
        return read_split(p, "train")
    lines = read_lines(p)
    head = lines[0].lower()
    texts: list[str] = []
    ys: list[int] = []
    if head.startswith("review;rating"):
        for line in lines[1:]:
            text, _, rating = line.rpartition(";")
            try:
                r = float(rating.replace(",", "."))
            except ValueError:
                continue
            texts.append(text.strip())
            ys.append(0 if r <= 2 else 1 if r < 4 else 2)
        return Dataset(texts, np.asarray(ys), p.name)
    rows = list(csv.reader(lines))
    for row in rows[1:]:
        if len(row) >= 2 and row[0].strip():
            texts.append(row[0])
            ys.append(int(_as_codes([row[1]])[0]))
    return Dataset(texts, np.asarray(ys), p.name)


def train(data_dir: str | Path, extra: list[str | Path] = (), seed: int = 0, C: float = 3.0,
          corrections: Dataset | None = None, long_text_chars: int = 200,
          embedding_weight: float = 1.0) -> tuple[FrenchSentimentClassifier, dict]:
    """Fit on ``<data_dir>/train_*`` (+ extras, + analyst corrections); return model and a report.

    The report holds the training sources and, when ``val_*`` exists, the val figures.
    Deterministic for a given seed and data.
    """
    tr = read_split(data_dir, "train")
    texts, ys, weights = list(tr.texts), [tr.y], [np.ones(len(tr.texts))]
    sources = [{"source": tr.source, "n": len(tr.texts), "weight": 1.0}]
    for e in extra:
        ds = read_extra(e)
        texts += ds.texts
        ys.append(ds.y)
        weights.append(np.full(len(ds.texts), EXTRA_WEIGHT))
        sources.append({"source": ds.source, "n": len(ds.texts), "weight": EXTRA_WEIGHT})
    if corrections is not None and len(corrections.texts):
        # Analyst corrections are in-domain and checked by a person: they weigh double.
        texts += corrections.texts
        ys.append(corrections.y)
        weights.append(np.full(len(corrections.texts), 2.0))
        sources.append({"source": corrections.source, "n": len(corrections.texts), "weight": 2.0})
    y = np.concatenate(ys)
    w = np.concatenate(weights)
    t0 = time.perf_counter()
    # C = 3, the fastText block and sentence averaging above 200 characters: the settings chosen by
    # `vigie eval` (analysis.eval.sentiment.choose on the training split, choose_long on Booking reviews)
    model = FrenchSentimentClassifier(C=C, random_state=seed, long_text_chars=long_text_chars,
                                      embedding_weight=embedding_weight).fit(texts, y, sample_weight=w)
    report: dict = {"sources": sources, "seed": seed, "C": C, "long_text_chars": long_text_chars,
                    "embedding_weight": embedding_weight, "fit_seconds": round(time.perf_counter() - t0, 2)}
    val = Path(data_dir) / "val_text.txt"
    if val.exists():
        va = read_split(data_dir, "val")
        proba = model.predict_proba(va.texts)
        report["val"] = evaluate(va.y, proba.argmax(axis=1), proba)
    return model, report


def evaluate(y_true, y_pred, proba: np.ndarray | None = None) -> dict:
    """Macro-F1, accuracy, per-class precision/recall/F1, confusion matrix (rows = truth),
    and with probabilities the multi-class Brier score and the 10-bin top-label ECE."""
    yt = _as_codes(y_true)
    yp = _as_codes(y_pred)
    cm = np.zeros((3, 3), dtype=int)
    np.add.at(cm, (yt, yp), 1)
    per = {}
    for k, name in enumerate(LABELS):
        tp = cm[k, k]
        prec = tp / cm[:, k].sum() if cm[:, k].sum() else 0.0
        rec = tp / cm[k, :].sum() if cm[k, :].sum() else 0.0
        f1 = 2 * prec * rec / (prec + rec) if prec + rec else 0.0
        per[name] = {"precision": float(prec), "recall": float(rec), "f1": float(f1), "support": int(cm[k, :].sum())}
    present = [n for n in LABELS if per[n]["support"] > 0 or cm[:, LABELS.index(n)].sum() > 0]
    out = {
        "n": int(len(yt)),
        "macro_f1": float(np.mean([per[n]["f1"] for n in present])) if present else 0.0,
        "accuracy": float(np.trace(cm) / cm.sum()) if cm.sum() else 0.0,
        "per_class": per,
        "confusion": cm.tolist(),
    }
    if proba is not None:
        onehot = np.eye(3)[yt]
        out["brier"] = float(np.mean(np.sum((proba - onehot) ** 2, axis=1)))
        out["ece"] = expected_calibration_error(yt, proba)
    return out


def expected_calibration_error(y: np.ndarray, proba: np.ndarray, bins: int = 10) -> float:
    """Top-label ECE: Σ_b (n_b/n)·|accuracy_b − confidence_b| over equal-width confidence bins."""
    conf = proba.max(axis=1)
    correct = (proba.argmax(axis=1) == y).astype(float)
    edges = np.linspace(0, 1, bins + 1)
    ece = 0.0
    for lo, hi in zip(edges[:-1], edges[1:], strict=True):
        m = (conf > lo) & (conf <= hi)
        if m.any():
            ece += m.mean() * abs(correct[m].mean() - conf[m].mean())
    return float(ece)
