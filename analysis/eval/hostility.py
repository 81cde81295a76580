"""Hostility (moderation queue) and questions on real French texts the model never saw.

The shipped decision is: a hostility-lexicon term, **or** the model's ``p_toxic`` at or above
the operating threshold (:data:`analysis.moderation.toxicity.HOSTILE_THRESHOLD`). It is read on:

- the **MLMA test split** (a fixed quarter of MLMA by hash of its id, never used to fit or
  choose anything; crowd labels mapped to « hostile as a moderator means it », see
  :func:`analysis.eval.data.mlma_target`);
- **our labelled comments** (French; ``hostile`` and ``question`` labelled by reading).

Precision–recall curves over the model threshold (lexicon always on) make the operating point a
choice; the issue 22 sentences must not be flagged.
"""

from __future__ import annotations

from typing import Any

import numpy as np
import pandas as pd

from analysis.eval.stats import binary_prf_ci, pr_curve

ISSUE_22 = ("Super le guichet unique 👏", "Je transmets à ma mère pour le budget participatif")
THRESHOLDS = (0.3, 0.4, 0.5, 0.6, 0.7, 0.8, 0.9, 0.95)


def scores(model: Any, texts: list[str]) -> tuple[np.ndarray, np.ndarray]:
    """(p_toxic at the deployment prior, lexicon hit 0/1) per text, as the enricher computes them."""
    from analysis.moderation.scoring import score_texts

    df = score_texts(texts, model)
    return df["p_toxic"].to_numpy(dtype=float), np.array([1 if h else 0 for h in df["lexicon_hits"]])


def decision(p: np.ndarray, lex: np.ndarray, threshold: float) -> np.ndarray:
    return ((lex > 0) | (p >= threshold)).astype(int)


def evaluate(model: Any, texts: list[str], y: np.ndarray, threshold: float) -> dict:
    p, lex = scores(model, texts)
    out = {"decision": binary_prf_ci(y, decision(p, lex, threshold)),
           "lexicon_only": binary_prf_ci(y, (lex > 0).astype(int)),
           "model_only": binary_prf_ci(y, (p >= threshold).astype(int)),
           "curve": pr_curve(y, np.where(lex > 0, 1.0, p), THRESHOLDS)}
    return out


def issue_22(model: Any, threshold: float) -> dict:
    p, lex = scores(model, list(ISSUE_22))
    return {t: {"p_toxic": float(pi), "lexicon": bool(li), "flagged": bool(li or pi >= threshold)}
            for t, pi, li in zip(ISSUE_22, p, lex, strict=True)}


def questions(lab: pd.DataFrame) -> dict:
    """The rule-based question flag against our labels (French comments)."""
    from analysis.moderation.toxicity import is_question

    fr = lab[lab["lang"] == "fr"]
    pred = np.array([1 if is_question(t) else 0 for t in fr["text"]])
    return binary_prf_ci(fr["question"].to_numpy(dtype=int), pred)
