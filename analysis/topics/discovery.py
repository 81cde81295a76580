"""Topic discovery without taxonomy: NMF on TF-IDF (:class:`TopicDiscovery`), k chosen by NPMI
coherence (:func:`npmi_coherence`), readable labels from top terms (:func:`topic_label`, :func:`subject_label`)."""

from __future__ import annotations

import math
from collections.abc import Sequence
from typing import Any

import numpy as np
import pandas as pd
import scipy.sparse as sp
from sklearn.base import BaseEstimator, TransformerMixin

from analysis.topics.lemmas import LemmaVectorizer, _binarize


def npmi_coherence(B: sp.csr_matrix, topics: Sequence[Sequence[int]]) -> list[float]:
    """Mean NPMI of the top-term pairs of each topic over documents ``B`` (binary doc × term).

    NPMI(i, j) = log(p(i,j) ÷ (p(i)·p(j))) ÷ −log p(i,j), with document co-occurrence
    probabilities; −1 when two terms never co-occur. In [−1, 1], higher is more coherent.
    """
    n = max(B.shape[0], 1)
    Bc = B.tocsc()
    out = []
    for top in topics:
        sub = Bc[:, list(top)]
        co = (sub.T @ sub).toarray() / n
        p = np.diag(co).copy()
        vals = []
        for a in range(len(top)):
            for b in range(a + 1, len(top)):
                pij = co[a, b]
                if pij <= 0 or p[a] <= 0 or p[b] <= 0:
                    vals.append(-1.0)
                elif pij >= 1:
                    vals.append(1.0)
                else:
                    vals.append(math.log(pij / (p[a] * p[b])) / -math.log(pij))
        out.append(float(np.mean(vals)) if vals else float("nan"))
    return out


class TopicDiscovery(TransformerMixin, BaseEstimator):
    """Unsupervised topics: NMF on TF-IDF (French stop words, lemma uni/bigrams), k by NPMI coherence.

    For each k in ``ks`` an NMF (``init='nndsvda'``, ``random_state=seed``: deterministic) is
    fitted on a sample of at most ``selection_sample`` documents, and its mean NPMI of the
    ``top_n`` terms per topic is measured over the whole corpus; the best k is refitted on all
    documents. ``coherence_`` maps k → mean NPMI, ``labels_`` are readable labels (top terms).
    ``exclude``: words left out of the vocabulary (territory names, see :func:`territory_words`).
    """

    def __init__(self, ks: Sequence[int] = (6, 8, 10, 12, 15), seed: int = 0, top_n: int = 10,
                 min_df: int = 5, max_df: float = 0.3, max_features: int = 20_000,
                 selection_sample: int = 40_000, max_iter: int = 200, exclude: Sequence[str] = ()):
        self.ks = ks
        self.seed = seed
        self.top_n = top_n
        self.min_df = min_df
        self.max_df = max_df
        self.max_features = max_features
        self.selection_sample = selection_sample
        self.max_iter = max_iter
        self.exclude = exclude

    def _nmf(self, k: int, X: sp.csr_matrix) -> Any:
        from sklearn.decomposition import NMF

        return NMF(n_components=k, init="nndsvda", random_state=self.seed, max_iter=self.max_iter,
                   tol=1e-3).fit(X)

    def fit(self, texts: Sequence[str | None] | pd.Series, y: Any = None) -> TopicDiscovery:
        from sklearn.feature_extraction.text import TfidfTransformer

        texts = pd.Series(list(texts), dtype=object)
        self.vectorizer_ = LemmaVectorizer(min_df=self.min_df, max_df=self.max_df, max_features=self.max_features,
                                           subject_terms=True, exclude=self.exclude)
        counts = self.vectorizer_.fit_transform(texts)
        self.tfidf_ = TfidfTransformer(sublinear_tf=True).fit(counts)
        X = self.tfidf_.transform(counts)
        B = _binarize(counts)
        keep = np.flatnonzero(np.asarray(X.sum(axis=1)).ravel() > 0)
        rng = np.random.default_rng(self.seed)
        sample = keep if len(keep) <= self.selection_sample else np.sort(
            rng.choice(keep, self.selection_sample, replace=False))
        Xs = X[sample]
        self.coherence_: dict[int, float] = {}
        models = {}
        for k in self.ks:
            if k >= min(Xs.shape):
                continue
            m = self._nmf(k, Xs)
            tops = [np.argsort(-row)[: self.top_n] for row in m.components_]
            self.coherence_[k] = float(np.mean(npmi_coherence(B, tops)))
            models[k] = m
        if not self.coherence_:
            raise ValueError("Corpus trop petit pour découvrir des sujets (moins de documents que de sujets).")
        self.k_ = max(self.coherence_, key=lambda k: (self.coherence_[k], -k))
        self.model_ = models[self.k_] if len(sample) == len(keep) else self._nmf(self.k_, X[keep])
        self.components_ = self.model_.components_
        names = self.vectorizer_.get_feature_names_out()
        self.top_terms_ = [[str(names[i]) for i in np.argsort(-row)[: self.top_n]] for row in self.components_]
        self.topic_coherence_ = npmi_coherence(B, [np.argsort(-row)[: self.top_n] for row in self.components_])
        self.labels_ = [topic_label(t) for t in self.top_terms_]
        return self

    def transform(self, texts: Sequence[str | None] | pd.Series) -> np.ndarray:
        """Topic weights per text (n × k)."""
        X = self.tfidf_.transform(self.vectorizer_.transform(list(texts)))
        return self.model_.transform(X)

    def dominant_topic(self, texts: Sequence[str | None] | pd.Series) -> np.ndarray:
        """Index of the strongest topic per text; −1 when the text shares no term with any topic."""
        W = self.transform(texts)
        out = W.argmax(axis=1)
        out[W.max(axis=1) <= 0] = -1
        return out


# Content words in bigrams ("non potable") that say nothing alone in a label.
LABEL_SKIP = frozenset({"non", "pas", "plus"})


def topic_label(terms: Sequence[str], n: int = 3) -> str:
    """Readable label from top terms: the first ``n`` distinct ones, a bigram hiding its words."""
    chosen: list[str] = []
    for t in terms:
        if t in LABEL_SKIP:
            continue
        words = set(t.split())
        if any(words <= set(c.split()) or set(c.split()) <= words for c in chosen):
            continue
        chosen.append(t)
        if len(chosen) == n:
            break
    return " · ".join(chosen)


def subject_label(terms: Sequence[str], n: int = 3) -> str:
    """Label of an emerging subject: like :func:`topic_label`, but a phrase replaces its lone word
    ('vieux', 'vieux pont' → 'vieux pont') and overlapping phrases chain ('eau non', 'non potable'
    → 'eau non potable'): a reader keeps « vieux pont », not « vieux »."""
    chosen: list[str] = []
    for t in terms:
        if t in LABEL_SKIP:
            continue
        words = set(t.split())
        inside = [i for i, c in enumerate(chosen) if set(c.split()) < words]
        if inside:
            chosen[inside[0]] = t
            chosen = [c for i, c in enumerate(chosen) if i not in inside[1:]]
            continue
        if any(words <= set(c.split()) for c in chosen):
            continue
        if len(chosen) < n:
            chosen.append(t)
    merged = True
    while merged:  # 'eau non' + 'non potable' → 'eau non potable'
        merged = False
        for i, a in enumerate(chosen):
            for j, b in enumerate(chosen):
                aw, bw = a.split(), b.split()
                if i != j and len(aw) > 1 and len(bw) > 1 and aw[-1] == bw[0]:
                    chosen[i] = " ".join(aw + bw[1:])
                    del chosen[j]
                    merged = True
                    break
            if merged:
                break
    return " · ".join(chosen)
