"""The theme classifier (:class:`ThemeClassifier`, a scikit-learn estimator).

It scores the taxonomy out of the box with a sparse keyword matrix plus the similarity of the
text's static word vectors to each theme's centroid, and learns from analyst labels (``fit``) with
one logistic regression per theme on labelled examples plus seed pseudo-labels.
:func:`default_classifier` is the shipped one, fitted on the taxonomy alone.
"""

from __future__ import annotations

from collections.abc import Sequence
from pathlib import Path
from typing import Any

import numpy as np
import pandas as pd
import scipy.sparse as sp
from sklearn.base import BaseEstimator, ClassifierMixin

from analysis.embeddings import load_table
from analysis.fmt import fr_plural
from analysis.topics.lemmas import LONE_GENERIC, STOP_WORDS_FR, LemmaVectorizer, _binarize, phrase_key
from analysis.topics.taxonomy import NO_THEME, Taxonomy, load_taxonomy

# Keyword matrices per taxonomy (path, version): built once, shared by every classifier.
_SEED_CACHE: dict[tuple[Path | None, str], tuple[LemmaVectorizer, sp.csr_matrix, sp.csr_matrix]] = {}
MODEL_FAMILY = "themes-2.1"  # 2.1: a text of reaction words only and no keyword gets no theme
# Most evidence similarity alone can give (score 1 − e^−0,9 = 0,59): enough for a theme, less than a keyword.
SIMILARITY_CAP = 0.9
# Below this cosine to its nearest theme, a text without any keyword gets no theme. At 0 (chosen on the
# civic texts alone, which all have a theme) 80 % of our real comments without a theme got one and the
# classifier said 88 % of those comments had a theme (39 % by our labels). The floor is the largest of
# `vigie eval`'s table that keeps the issue's bound on civic texts (≤ 10 % left without a theme): 0,15
# (8,9 %); the shares' error on our comments goes 0,66 → 0,50, the civic top-1 52,5 → 51,5 %.
SIMILARITY_FLOOR = 0.15
# Adaptation to the store's own texts (:meth:`ThemeClassifier.adapt`, issue 17): a model learned, without
# any label, from the texts where a keyword named the theme, then read on the texts without a keyword. It
# needs enough of them (a small store keeps the similarity rule); a text gets its theme when the model's
# probability reaches the floor, chosen by `vigie eval` (largest floor of its table that leaves at most 10 %
# of civic texts without a theme): still 0,50 with the vocabulary of 7 Dec. 2026 (9,7 %). At 0,45, which
# the rule chose before that vocabulary's last ten words, condolences (« Mes sympathies à la famille ») read
# as youth and education.
ADAPT_MIN_TEXTS = 200
ADAPT_FLOOR = 0.5
ADAPT_C = 1.0
# After the first fit, the texts a keyword names are labelled again with the theme that leads them
# (keywords + ADAPT_LEAD × the model, :meth:`ThemeClassifier._lead`) and the model learned again, this many
# times: the model then agrees with what it reads in whole texts, not with one keyword each. `vigie eval`
# (2 rounds, floor by its rule 0,35 → 0,50): civic top-1 59,8 → 61,1 %, no theme 8,5 → 8,7 %, our theme-less
# comments given a theme 47 → 32 %, shares' error 0,47 → 0,39 (1 round: 60,3 % / 9,8 % / 35 % / 0,41 at
# 0,45; 3 rounds: 61,5 % / 7,9 % / 35 % / 0,41 at 0,50).
ADAPT_ROUNDS = 2
# Evidence an adapted theme gives (score 1 − e^−s between 0,50 and 0,59): a theme, less than a keyword.
ADAPT_EVIDENCE = (0.7, 0.9)
# A text a keyword names leads with the theme that wins keywords + ADAPT_LEAD × the adapted model's
# probability: the model reads every word of the text, a keyword one word, so a confident model overrides
# a one- or two-keyword lead (« piste cyclable » in a text about the market's parking: mobility, not
# commerce). Its themes stay the keywords' (plus the model's, first, when no keyword named it). Chosen by
# `vigie eval` (table « meneur », before ADAPT_ROUNDS): civic top-1 57,8 → 59,8 % (Toulouse 76 → 82 %), our
# comments 57 → 61 %; held out by source, Toulouse's choice on the two others is 10 and Montpellier's 100
# (a plateau).
ADAPT_LEAD = 10.0
# A text without keyword whose adapted probability stays under ADAPT_FLOOR still gets the theme it is most
# similar to (the similarity rule of a small store) when that cosine reaches this floor: held out by source,
# the adapted model alone left 15,6 % of the civic texts of the source it never saw without a theme (Montpellier's
# grant names: 22 %). Chosen by `vigie eval` (table « repli ») as the largest floor whose cross-validation by
# source leaves at most 10 % without a theme (7 Dec. 2026): 0,40 — by source 65,4 → 66,9 % right, 15,6 → 9,6 %
# without a theme; the cost, on our theme-less comments: given a theme 22,4 → 25,9 %, shares' error 0,24 → 0,28.
ADAPT_FALLBACK_FLOOR = 0.40


def _keyword_parts(tax: Taxonomy) -> tuple[dict[str, int], list, list, list[int]]:
    keys: dict[str, int] = {}
    pos, neg = [], []
    for j, t in enumerate(tax.themes):
        for kw in (*t.keywords, *t.hashtags):
            pos.append((keys.setdefault(phrase_key(kw), len(keys)), j, t.weight))
        for kw in t.negative:
            neg.append((keys.setdefault(phrase_key(kw), len(keys)), j, 1.0))
    # a « sans_theme » expression is also a negative keyword of every theme (« sympathies aux parents »:
    # « parent » alone no longer names youth and education)
    hold = sorted({keys.setdefault(phrase_key(e), len(keys)) for e in tax.no_theme})
    neg += [(k, j, 1.0) for k in hold for j in range(len(tax.themes))]
    return keys, pos, neg, hold


def _sparse(entries: list, n: int, m: int) -> sp.csr_matrix:
    if not entries:
        return sp.csr_matrix((n, m), dtype=np.float32)
    r, c, v = zip(*entries, strict=True)
    W = sp.coo_matrix((np.array(v, dtype=np.float32), (r, c)), shape=(n, m)).tocsr()
    W.data = np.minimum(W.data, max(v))  # a keyword listed twice in a theme counts once
    return W


def _unit_scale(B: sp.csr_matrix) -> np.ndarray:
    """Per row of binary keys ``B``: the factor that brings it to unit norm (1 for an empty row)."""
    return 1 / np.maximum(np.sqrt(np.asarray(B.sum(axis=1)).ravel()), 1)


def theme_centroids(tax: Taxonomy, table: Any) -> np.ndarray:
    """One unit vector per theme: the mean of the static vectors of its label, description and
    keywords (each phrase embedded as the SIF mean of its words, :mod:`analysis.embeddings`)."""
    C = []
    for t in tax.themes:
        V = table.transform([t.label, t.description, *t.keywords])
        V = V[np.linalg.norm(V, axis=1) > 0]
        c = V.mean(axis=0) if len(V) else np.zeros(table.dim, dtype=np.float32)
        C.append(c / max(float(np.linalg.norm(c)), 1e-9))
    return np.asarray(C, dtype=np.float32)


class ThemeClassifier(ClassifierMixin, BaseEstimator):
    """Multi-label theme classifier (scikit-learn contract: ``fit`` first, then predict).

    ``fit`` captures the taxonomy (``taxonomy_``, so editing the file after fit changes nothing
    until the next fit) and builds the evidence matrix: the score of theme *t* is
    ``1 − exp(−s)`` where *s* = distinct taxonomy keywords/hashtags of *t* in the text (× theme
    weight) − the number of *t*'s negative keywords present + the similarity evidence of the
    text's vector (pretrained static word vectors, :mod:`analysis.embeddings`) to the theme's
    centroid (its label, description and keywords; see :meth:`seed_scores`). One clear keyword
    gives 0,63 > ``threshold``; a text without keyword still gets the theme it is closest to
    when the similarity is high enough.
    ``expand=False`` is the keyword-only classifier of earlier versions.

    With labels — ``y`` a list of theme-id lists, ``None`` for unlabelled texts — one logistic
    regression per theme is also trained on lemma uni/bigrams plus the seed score, on the
    labelled texts (weight ``label_weight``) and the unlabelled ones with their seed labels as
    pseudo-labels. A theme with no labelled positive keeps the seed score.
    """

    def __init__(self, taxonomy: Taxonomy | None = None, threshold: float = 0.5, label_weight: float = 5.0,
                 C: float = 4.0, max_features: int = 50_000, expand: bool = True,
                 similarity_floor: float = SIMILARITY_FLOOR, similarity_weight: float = 20.0,
                 embeddings: str | None = None, adaptation: bytes | None = None, adapt_floor: float = ADAPT_FLOOR,
                 adapt_lead: float = ADAPT_LEAD, adapt_fallback_floor: float | None = ADAPT_FALLBACK_FLOOR):
        self.taxonomy = taxonomy
        self.threshold = threshold
        self.label_weight = label_weight
        self.C = C
        self.max_features = max_features
        self.expand = expand
        self.similarity_floor = similarity_floor
        self.similarity_weight = similarity_weight
        self.embeddings = embeddings
        self.adaptation = adaptation
        self.adapt_floor = adapt_floor
        self.adapt_lead = adapt_lead
        self.adapt_fallback_floor = adapt_fallback_floor

    # -- taxonomy evidence
    def _tax(self) -> Taxonomy:
        """The taxonomy captured at fit (before fit: the parameter or the default file)."""
        tax = getattr(self, "taxonomy_", None)
        if tax is not None:
            return tax
        return self.taxonomy if self.taxonomy is not None else load_taxonomy()

    def _build_seed(self, tax: Taxonomy) -> None:
        keys, pos, neg, hold = _keyword_parts(tax)
        n, m = len(keys), len(tax.themes)
        vocab = list(keys)
        self.seed_pos_, self.seed_neg_ = _sparse(pos, n, m), _sparse(neg, n, m)
        self.no_theme_keys_ = np.asarray(hold, dtype=np.int64)
        self.n_keyword_keys_ = n
        if self.expand:
            table = load_table(self.embeddings)
            # table words as unigram keys of the same vectorizer: one tokenisation pass gives both
            # the keyword matches and the text's vector
            rows = [i for i, k in enumerate(table.keys_) if k not in keys and k not in STOP_WORDS_FR]
            vocab += [table.keys_[i] for i in rows]
            self.word_vectors_ = np.vstack([np.zeros((n, table.dim), dtype=np.float32),
                                            table.vectors_[rows] * table.sif_[rows, None]])
            self.centroids_ = theme_centroids(tax, table)
            self.word_centroid_sims_ = self.word_vectors_ @ self.centroids_.T
            self.embeddings_version_ = table.version_
        self.seed_vectorizer_ = LemmaVectorizer(vocabulary=vocab).fit([])

    def seed_scores(self, texts: Sequence[str | None] | pd.Series) -> np.ndarray:
        """Evidence *s* per text and theme (n × themes), ≥ 0: distinct keywords of the theme
        (× weight) minus its negative keywords, plus — when ``expand`` — the similarity evidence
        ``similarity_weight × (cos − similarity_floor) ÷ (1 − similarity_floor)``, at most
        :data:`SIMILARITY_CAP`, for the theme whose centroid is closest to the text's vector (that
        theme only, only above the floor, and only for a text where no keyword matched).
        """
        self._check_fitted()
        B, s = self._keyword_evidence(texts)
        # only texts without any keyword: the taxonomy decides when it can, and similarity never
        # adds a second theme beside a keyword's (so the others' vectors are not even computed); nor
        # texts holding a « sans_theme » expression (« Mes sympathies à la famille »: the adapted model
        # read « famille » as youth)
        bare = np.flatnonzero((s.max(axis=1) <= 0) & ~self._held(B)) if self.expand and len(s) else \
            np.array([], dtype=np.int64)
        adapted = self.expand and getattr(self, "adapt_coef_", None) is not None
        if adapted and self.adapt_lead > 0 and len(bare) < len(s):
            self._lead(B, s, np.flatnonzero(s.max(axis=1) > 0))
        # A text without a keyword whose words are all reactions (« Exceptionnel », « Très agréable »,
        # « Bravo, magnifique »: review titles, comments; :data:`LONE_GENERIC`) names no subject: neither the
        # adapted model nor similarity gives it a theme from its vector (a keyword still does: « Piscine »).
        if len(bare):
            bare = bare[np.asarray(B[bare] @ self._subject_keys()).ravel() > 0]
        if len(bare) and adapted:
            P = self._adapted_proba(B[bare])
            j = P.argmax(axis=1)
            best = P[np.arange(len(P)), j]
            lo, hi = ADAPT_EVIDENCE
            e = lo + (hi - lo) * np.clip((best - self.adapt_floor) / (1 - self.adapt_floor), 0, 1)
            s[bare, self.adapt_classes_[j]] += np.where(best >= self.adapt_floor, e, 0.0)
            rest = bare[best < self.adapt_floor] if self.adapt_fallback_floor is not None else bare[:0]
            if len(rest):  # the model unsure: the closest theme, when similar enough (ADAPT_FALLBACK_FLOOR)
                s[rest] += self._similarity_evidence(B[rest], self.adapt_fallback_floor)
        elif len(bare):
            s[bare] += self._similarity_evidence(B[bare], self.similarity_floor)
        return s

    def _subject_keys(self) -> np.ndarray:
        """1 for each vocabulary key that may name a subject, 0 for a reaction word (:data:`LONE_GENERIC`)."""
        keys = getattr(self, "subject_keys_", None)
        if keys is None:
            vocab = self.seed_vectorizer_.vocabulary_
            keys = np.ones(len(vocab))
            keys[[i for k, i in vocab.items() if k in LONE_GENERIC]] = 0.0
            self.subject_keys_ = keys
        return keys

    def _similarity_evidence(self, Bb: sp.csr_matrix, floor: float) -> np.ndarray:
        """Per text (its binary keys ``Bb``) and theme: ``similarity_weight × (cos − floor) ÷ (1 − floor)``,
        at most :data:`SIMILARITY_CAP`, for the theme whose centroid is closest to the text's vector only."""
        # cosine to each centroid = (B·W·Cᵀ) ÷ ‖B·W‖: sparse products only (a BLAS call on
        # these small dense blocks cost more in thread start-up than the whole product)
        norms = np.sqrt(np.einsum("ij,ij->i", *(2 * [np.asarray(Bb @ self.word_vectors_)])))
        S = np.asarray(Bb @ self.word_centroid_sims_) / np.maximum(norms, 1e-9)[:, None]
        j = S.argmax(axis=1)
        best = S[np.arange(len(S)), j]
        e = self.similarity_weight * np.clip((best - floor) / (1 - floor), 0, None)
        out = np.zeros(S.shape)
        out[np.arange(len(S)), j] = np.minimum(e, SIMILARITY_CAP)  # capped below one keyword's evidence
        return out

    def _held(self, B: sp.csr_matrix) -> np.ndarray:
        """Per text (its binary keys ``B``): whether it holds one of the taxonomy's ``sans_theme`` expressions."""
        hold = getattr(self, "no_theme_keys_", None)
        if hold is None or not len(hold):
            return np.zeros(B.shape[0], dtype=bool)
        return np.diff(B[:, hold].tocsr().indptr) > 0

    def _lead(self, B: sp.csr_matrix, s: np.ndarray, named: np.ndarray) -> None:
        """In place on the evidence ``s``: each text of ``named`` (a keyword names it) leads with the theme
        that wins its keywords' evidence + :attr:`adapt_lead` × the adapted model's probability; that theme
        gets at least the highest evidence of the others plus 0,01 (a theme no keyword named becomes one,
        and the first)."""
        P = self._adapted_proba(B[named])
        sn = s[named]
        blend = sn.copy()
        blend[:, self.adapt_classes_] += self.adapt_lead * P
        j = blend.argmax(axis=1)  # ties: the taxonomy's order
        rows = np.arange(len(named))
        others = sn.copy()
        others[rows, j] = -np.inf
        # ahead of every other theme by 0,01 at least (unchanged when it already leads by as much)
        sn[rows, j] = np.maximum(sn[rows, j], others.max(axis=1) + 0.01)
        s[named] = sn

    def _keyword_evidence(self, texts: Sequence[str | None] | pd.Series) -> tuple[sp.csr_matrix, np.ndarray]:
        """The texts' binary keys of the seed vectorizer, and per theme the distinct keywords present
        (× weight) minus its negative keywords, at least 0."""
        B = _binarize(self.seed_vectorizer_.transform(texts))
        K = B[:, : self.n_keyword_keys_]
        return B, np.clip((K @ self.seed_pos_).toarray() - (K @ self.seed_neg_).toarray(), 0, None)

    # -- adaptation to the store's texts
    def _adapted_blocks(self, B: sp.csr_matrix) -> tuple[np.ndarray, np.ndarray]:
        """The two blocks of the adapted model's features of texts (their binary keys ``B`` of the seed
        vectorizer): the scale that brings each row of ``B`` to unit norm, and the text's static vector
        (unit norm). The vocabulary is the taxonomy's keywords and the shipped word table's: no word of
        the store's own."""
        scale = _unit_scale(B)
        V = np.asarray(B @ self.word_vectors_)
        V /= np.maximum(np.linalg.norm(V, axis=1, keepdims=True), 1e-9)
        return scale, V

    def _adapted_features(self, B: sp.csr_matrix) -> sp.csr_matrix:
        scale, V = self._adapted_blocks(B)
        return sp.hstack([sp.diags(scale).astype(np.float32) @ B, sp.csr_matrix(V)], format="csr")

    def _adapted_proba(self, B: sp.csr_matrix) -> np.ndarray:
        # the two blocks' products in one sparse product, B × [coefficients of the words | word vectors ×
        # coefficients of the vector] (:meth:`_set_adaptation`): the text's vector is only needed for its
        # norm. Neither the dense block nor its product (BLAS threads: a fifth of the CPU time) is made.
        scale = _unit_scale(B)
        BW = np.asarray(B @ self.word_vectors_)
        norms = np.maximum(np.sqrt(np.einsum("ij,ij->i", BW, BW)), 1e-9)
        ZZ = np.asarray(B @ self.adapt_word_coef_)
        k = ZZ.shape[1] // 2
        Z = ZZ[:, :k] * scale[:, None] + ZZ[:, k:] / norms[:, None] + self.adapt_intercept_
        if Z.shape[1] == 1:  # two themes learned: the binary model's one column
            Z = np.hstack([-Z, Z]) / 2
        Z -= Z.max(axis=1, keepdims=True)
        E = np.exp(Z)
        return E / E.sum(axis=1, keepdims=True)

    def _base_version(self) -> str:
        """What the adapted model depends on: the taxonomy (its keywords) and the word table (its columns),
        and how it is learned (:data:`ADAPT_ROUNDS`): a model learned otherwise is learned again."""
        return f"{self._tax().version}-{getattr(self, 'embeddings_version_', 'x')}-r{ADAPT_ROUNDS}"

    def adapt(self, texts: Sequence[str | None] | pd.Series, C: float = ADAPT_C) -> ThemeClassifier:
        """Learn the store's vocabulary without any label (self-training): the texts where a keyword
        names a theme are the examples of that theme (the strongest one), and a logistic regression on
        the words and the static vector of each text learns which other words go with it; then, for
        :data:`ADAPT_ROUNDS` rounds, those texts are labelled again with the theme that leads them
        (:meth:`_lead`: keywords + the model) and the model learned again. The texts
        without a keyword then get the theme it reads (:meth:`seed_scores`) instead of the nearest
        centroid. Fewer than :data:`ADAPT_MIN_TEXTS` such examples, or a single theme among them: nothing
        learned (the similarity rule stays). Returns ``self``: ``adaptation_`` holds the learned model as
        bytes (what a store keeps: :func:`analysis.topics.enricher.store_adaptation`; read back with the
        ``adaptation`` parameter), and the version names it."""
        from sklearn.linear_model import LogisticRegression

        self._check_fitted()
        if not self.expand:
            return self
        texts = list(dict.fromkeys(t for t in texts if isinstance(t, str) and t.strip()))
        self._drop_adaptation()
        B, s = self._keyword_evidence(texts)
        named = np.flatnonzero(s.max(axis=1) >= 1) if len(s) else np.array([], dtype=np.int64)
        y = s[named].argmax(axis=1) if len(named) else np.array([], dtype=np.int64)
        if len(named) < ADAPT_MIN_TEXTS or len(np.unique(y)) < 2:
            self.adapt_examples_ = len(named)  # what there was to learn from (nothing learned)
            self.version_ = self._version()
            return self
        X = self._adapted_features(B[named])
        m = None
        for round_ in range(1 + (ADAPT_ROUNDS if self.adapt_lead > 0 else 0)):
            if round_:  # labelled again with the theme that leads each text (keywords + the model)
                lead = s[named].copy()
                self._lead(B[named], lead, np.arange(len(named)))
                y = lead.argmax(axis=1)
                if len(np.unique(y)) < 2:
                    break
            # tol 1e-3: half the iterations of the default for the same figures of `vigie eval`; a round
            # starts from the model before it when its themes are the same (half the time)
            same = m is not None and np.array_equal(np.unique(y), m.classes_)
            m = m if same else LogisticRegression(C=C, tol=1e-3, max_iter=1000, warm_start=True)
            m.fit(X, y)
            self._set_adaptation(m.coef_.astype(np.float32), m.intercept_.astype(np.float32),
                                 m.classes_.astype(np.int64), len(named))
        return self

    def _drop_adaptation(self) -> None:
        self.adapt_coef_ = self.adapt_intercept_ = self.adapt_classes_ = self.adapt_word_coef_ = None
        self.adapt_examples_ = 0
        self.adaptation_ = None

    def _set_adaptation(self, coef: np.ndarray, intercept: np.ndarray, classes: np.ndarray, examples: int,
                        blob: bytes | None = None) -> None:
        """Use a learned model; ``blob``: the bytes it was read from (else they are written)."""
        import hashlib
        import io

        self.adapt_coef_, self.adapt_intercept_, self.adapt_classes_ = coef, intercept, classes
        nb = self.word_vectors_.shape[0]  # the words' block, then the vector's (_adapted_features)
        self.adapt_word_coef_ = np.hstack([coef[:, :nb].T, self.word_vectors_ @ coef[:, nb:].T])
        self.adapt_examples_ = int(examples)
        if blob is None:
            buf = io.BytesIO()
            np.savez_compressed(buf, coef=coef, intercept=intercept, classes=classes, examples=np.int64(examples),
                                base=np.array(self._base_version()))
            blob = buf.getvalue()
        self.adaptation_ = blob
        h = hashlib.sha256(coef.tobytes())
        h.update(intercept.tobytes())
        h.update(classes.tobytes())
        self.adapt_fingerprint_ = h.hexdigest()[:8]
        self.version_ = self._version()

    def _load_adaptation(self, blob: bytes) -> None:
        """Read an adapted model (:meth:`adapt`'s ``adaptation_``); one learned for another taxonomy or
        word table does not fit these columns: refused."""
        import io

        z = np.load(io.BytesIO(blob), allow_pickle=False)
        if str(z["base"]) != self._base_version():
            raise ValueError(f"Modèle adapté pour une autre taxonomie, table de mots ou méthode ({z['base']}, "
                             f"attendu {self._base_version()}).")
        self._set_adaptation(z["coef"], z["intercept"], z["classes"], int(z["examples"]), blob)

    def _check_fitted(self) -> None:
        from sklearn.utils.validation import check_is_fitted

        check_is_fitted(self, "seed_pos_")

    # -- learning
    def fit(self, texts: Sequence[str | None] | pd.Series | None = None,
            y: Sequence[Sequence[str] | None] | None = None) -> ThemeClassifier:
        """Capture the taxonomy, build the evidence matrix and, with labels, learn from them."""
        from sklearn.linear_model import LogisticRegression

        tax = self.taxonomy if self.taxonomy is not None else load_taxonomy()
        self.taxonomy_ = tax
        self.classes_ = np.array(tax.ids, dtype=object)
        self._build_seed(tax)
        texts = [] if texts is None else list(texts)
        y = list(y) if y is not None else [None] * len(texts)
        if len(y) != len(texts):
            raise ValueError("texts et y doivent avoir la même longueur.")
        ids = tax.ids
        labelled = np.array([lab is not None for lab in y], dtype=bool)
        self.n_labelled_ = int(labelled.sum())
        self.models_: dict[str, Any] = {}
        self._drop_adaptation()
        if self.adaptation is not None and self.expand:
            self._load_adaptation(self.adaptation)
        self.version_ = self._version()
        if not labelled.any():
            return self
        seed = self.seed_scores(texts)
        Y = (1 - np.exp(-seed)) >= self.threshold  # pseudo-labels
        for i, lab in enumerate(y):
            if lab is not None:
                unknown = [t for t in lab if t not in ids]
                if unknown:
                    raise ValueError(f"{fr_plural(len(unknown), 'Thème inconnu', 'Thèmes inconnus')} dans les étiquettes : {unknown}. Thèmes : {ids}")
                Y[i] = [t in lab for t in ids]
        self.vectorizer_ = LemmaVectorizer(min_df=2, max_features=self.max_features).fit(texts)
        X = self._features(texts, seed)
        w = np.where(labelled, self.label_weight, 1.0)
        for j, t in enumerate(ids):
            yj = Y[:, j]
            if not (labelled & yj).any() or yj.all() or not yj.any():
                continue  # nothing learned for this theme beyond the seed
            m = LogisticRegression(C=self.C, solver="liblinear", max_iter=200)
            m.fit(X, yj.astype(int), sample_weight=w)
            self.models_[t] = m
        return self

    def _features(self, texts: Sequence[str | None], seed: np.ndarray) -> sp.csr_matrix:
        B = _binarize(self.vectorizer_.transform(texts))
        norms = np.sqrt(np.asarray(B.sum(axis=1)).ravel())
        B = sp.diags(1 / np.maximum(norms, 1)) @ B
        return sp.hstack([B, sp.csr_matrix(1 - np.exp(-seed))], format="csr")

    # -- prediction
    def predict_proba(self, texts: Sequence[str | None] | pd.Series) -> np.ndarray:
        """Score in [0, 1] per text and theme (columns in ``classes_`` order)."""
        self._check_fitted()
        # Each distinct text is scored once and broadcast back: rows are scored independently,
        # and comment streams repeat short replies (a third of the demo's messages).
        first: dict[Any, int] = {}
        codes = np.fromiter((first.setdefault(t if isinstance(t, str) else None, len(first)) for t in texts),
                            dtype=np.int64)
        texts = list(first)
        seed = self.seed_scores(texts)
        P = 1 - np.exp(-seed)
        if self.models_:
            X = self._features(texts, seed)
            for j, t in enumerate(self.classes_):
                if t in self.models_:
                    P[:, j] = self.models_[t].predict_proba(X)[:, 1]
        return P[codes]

    def predict(self, texts: Sequence[str | None] | pd.Series) -> np.ndarray:
        """Indicator matrix (n × themes) of themes whose score reaches ``threshold``."""
        return (self.predict_proba(texts) >= self.threshold).astype(np.int8)

    def predict_labels(self, texts: Sequence[str | None] | pd.Series) -> list[tuple[str, ...]]:
        """Theme ids per text (possibly empty)."""
        ids = np.asarray(self.classes_, dtype=object)
        return [tuple(ids[row.astype(bool)]) for row in self.predict(texts)]

    def predict_top(self, texts: Sequence[str | None] | pd.Series) -> np.ndarray:
        """The strongest theme per text, or :data:`NO_THEME` when none reaches ``threshold``."""
        P = self.predict_proba(texts)
        top = np.asarray(self.classes_, dtype=object)[P.argmax(axis=1)] if P.shape[1] else np.array([])
        return np.where(P.max(axis=1, initial=0) >= self.threshold, top, NO_THEME)

    def _version(self) -> str:
        parts = [MODEL_FAMILY, self.taxonomy_.version]
        if self.expand:
            parts.append(f"{getattr(self, 'embeddings_version_', 'x')}"
                         f"-f{self.similarity_floor:g}w{self.similarity_weight:g}")
            if getattr(self, "adapt_coef_", None) is not None:
                parts.append(f"a{self.adapt_fingerprint_}p{self.adapt_floor:g}"
                             + (f"d{self.adapt_lead:g}" if self.adapt_lead else "")
                             + (f"r{self.adapt_fallback_floor:g}" if self.adapt_fallback_floor is not None else ""))
        fp = getattr(self, "labels_fingerprint_", None)
        parts.append(f"l{fp}" if fp else "seed")
        return "-".join(parts)

    @property
    def version(self) -> str:
        """Model version stamped on every ``themes`` row (``version_``; kept for older callers)."""
        self._check_fitted()
        return self.version_


def default_classifier(taxonomy: Taxonomy | None = None) -> ThemeClassifier:
    """The shipped classifier, fitted on the taxonomy alone (no labels), cached per taxonomy version."""
    tax = taxonomy or load_taxonomy()
    key = (tax.path, tax.version)
    clf = _DEFAULT_CACHE.get(key)
    if clf is None:
        clf = _DEFAULT_CACHE[key] = ThemeClassifier(tax).fit()
    return clf


_DEFAULT_CACHE: dict[tuple, ThemeClassifier] = {}
