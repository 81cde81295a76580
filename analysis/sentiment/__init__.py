"""French sentiment: the trained model, its loader, training and evaluation.

>>> from analysis.sentiment import load_model
>>> m = load_model()
>>> m.predict(["Pas terrible ce nouveau parking"])   # doctest: +SKIP
['negative']
"""

from __future__ import annotations

import os
from functools import lru_cache
from pathlib import Path

from analysis.sentiment.model import LABELS, FrenchSentimentClassifier, SentimentModel

MODEL_PATH = Path(__file__).resolve().parent / "model_fr.npz"

__all__ = ["LABELS", "MODEL_PATH", "FrenchSentimentClassifier", "SentimentModel", "load_model"]


def load_model(path: str | os.PathLike | None = None) -> SentimentModel:
    """Load the committed model (or ``path``, or ``$VIGIE_SENTIMENT_MODEL``); cached per path."""
    p = Path(path or os.environ.get("VIGIE_SENTIMENT_MODEL") or MODEL_PATH).resolve()
    return _load(str(p))


@lru_cache(maxsize=4)
def _load(path: str) -> SentimentModel:
    if not Path(path).exists():
        raise FileNotFoundError(
            f"Modèle de sentiment introuvable : {path}. Entraînez-le avec "
            "`vigie sentiment train --data DOSSIER`."
        )
    est = FrenchSentimentClassifier.load(path)
    return SentimentModel(est, est.meta_["version"])
