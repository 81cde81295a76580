"""The French sentiment estimator: normalised unigrams (sublinear TF-IDF) + lexicon scores → LR.

Why this design: on UMSAB-fr, word unigrams over :func:`analysis.text.tokens` (lemmas, negation
scope, emoji/emoticon tokens) plus six lexicon features reach the accuracy of the word+char mix
while staying a single dict look-up per token. The lexicon features are linear in the token
counts (a sparse product with a ``V×4`` matrix), so scoring is tokenisation + two sparse
products + a softmax. Probabilities are calibrated by a temperature fitted on out-of-fold
training scores (never on val).

Follows the scikit-learn contract: ``fit`` returns self, learned attributes end in ``_``.
The artefact is saved as a plain ``.npz`` (no pickle: loading never executes code).
"""

from __future__ import annotations

import hashlib
import json
import re
from pathlib import Path

import numpy as np
import scipy.sparse as sp
from sklearn.base import BaseEstimator, ClassifierMixin
from sklearn.linear_model import LogisticRegression
from sklearn.model_selection import StratifiedKFold
from sklearn.utils.validation import check_is_fitted

from analysis.text import detect_lang, fold, lemma, tokens

LABELS = ("negative", "neutral", "positive")
_NEG_PREFIX = "NEG_"
# Polarity given to emoticon/emoji tokens absent from the word lexicon.
_EMO_POLARITY = {"EMO_POS": 2.0, "EMO_LOVE": 2.5, "EMO_NEG": -2.0}


def load_lexicon(path: str | Path | None = None) -> dict[str, float]:
    """Lemmatised, accent-folded French polarity lexicon (VADER-fr ``word->score`` lines).

    Default source: the ``fr_lexicon.txt`` shipped by the vaderSentiment-fr package (MIT).
    Used only at training time: the trained artefact embeds what it needs.
    """
    if path is None:
        import vaderSentiment_fr

        path = Path(vaderSentiment_fr.__file__).with_name("fr_lexicon.txt")
    raw: dict[str, float] = {}
    by_lemma: dict[str, list[float]] = {}
    for line in Path(path).read_text(encoding="utf-8").splitlines():
        if "->" not in line:
            continue
        w, v = line.rsplit("->", 1)
        try:
            val = float(v)
        except ValueError:
            continue
        w = w.strip().lower()
        raw[fold(w)] = val
        by_lemma.setdefault(lemma(w), []).append(val)
    # Tokens are lemmas, so every inflected entry also scores through its lemma.
    for lem, vals in by_lemma.items():
        raw.setdefault(lem, float(np.mean(vals)))
    for k, v in _EMO_POLARITY.items():
        raw[k] = v
    return raw


# Sentences and clauses of a long text: split after . ! ? … or a line break, and before « mais »,
# « cependant », « par contre » (the usual turn of a review).
_SENTENCE = re.compile(r"(?<=[.!?…])\s+|\n+|\s*;\s*|\s+(?=(?:mais|cependant|par contre|en revanche|malheureusement)\b)",
                       re.IGNORECASE)


def sentences(text: str, min_chars: int = 12) -> list[str]:
    """Sentences/clauses of a text; pieces shorter than ``min_chars`` are glued to the previous one."""
    out: list[str] = []
    for piece in _SENTENCE.split(text or ""):
        piece = piece.strip()
        if not piece:
            continue
        if out and len(piece) < min_chars:
            out[-1] = f"{out[-1]} {piece}"
        else:
            out.append(piece)
    return out or [text or ""]


class FrenchSentimentClassifier(ClassifierMixin, BaseEstimator):
    """Three-class French sentiment classifier on raw texts (see module docstring).

    Parameters: ``C`` (inverse L2 strength), ``lexicon_weight`` (scale of the lexicon block),
    ``negated_lexicon_factor`` (polarity kept by a negated lexicon word, sign flipped),
    ``min_df``, ``calibrate`` (fit a temperature on out-of-fold scores), ``random_state``,
    ``embedding_weight`` (scale of the pretrained block: the SIF mean of the tokens' static
    vectors, :mod:`analysis.embeddings`; 0 = no pretrained block), ``long_text_chars`` (texts
    longer than this are scored sentence by sentence and the sentence scores averaged, so a
    long review is not pushed to one side by the sheer number of its words; 0 = never).
    """

    def __init__(self, C: float = 10.0, lexicon_weight: float = 1.0, negated_lexicon_factor: float = 0.5,
                 min_df: int = 1, calibrate: bool = True, random_state: int = 0,
                 lexicon: dict[str, float] | None = None, embedding_weight: float = 0.0,
                 long_text_chars: int = 0):
        self.C = C
        self.lexicon_weight = lexicon_weight
        self.negated_lexicon_factor = negated_lexicon_factor
        self.min_df = min_df
        self.calibrate = calibrate
        self.random_state = random_state
        self.lexicon = lexicon
        self.embedding_weight = embedding_weight
        self.long_text_chars = long_text_chars

    # -- features --------------------------------------------------------------------------
    def _counts(self, toks: list[list[str]]) -> sp.csr_matrix:
        vocab = self.vocabulary_
        indptr = [0]
        indices: list[int] = []
        for ts in toks:
            for t in ts:
                j = vocab.get(t)
                if j is not None:
                    indices.append(j)
            indptr.append(len(indices))
        data = np.ones(len(indices), dtype=np.float64)
        m = sp.csr_matrix((data, np.asarray(indices, dtype=np.int32), np.asarray(indptr, dtype=np.int64)),
                          shape=(len(toks), len(vocab)))
        m.sum_duplicates()
        return m

    def _features(self, toks: list[list[str]]) -> sp.csr_matrix:
        sparse, b = self._blocks(toks)
        return sparse if b is None else sp.hstack([sparse, sp.csr_matrix(self._dense_block(b))], format="csr")

    def _blocks(self, toks: list[list[str]]) -> tuple[sp.csr_matrix, sp.csr_matrix | None]:
        """The sparse blocks (TF-IDF, lexicon), and the words present (0/1) that the pretrained
        block averages (None without it)."""
        counts = self._counts(toks)
        tf = counts.copy()
        tf.data = 1.0 + np.log(tf.data)
        tf = tf.multiply(self.idf_).tocsr()
        norms = np.sqrt(np.asarray(tf.multiply(tf).sum(axis=1)).ravel())
        norms[norms == 0] = 1.0
        tf = sp.diags(1.0 / norms) @ tf
        lex = (counts @ self.lexmat_).toarray()  # pos sum, neg sum, pos count, neg count
        lexf = np.column_stack([lex, lex[:, 0] - lex[:, 1], np.tanh((lex[:, 0] - lex[:, 1]) / 4.0)])
        lexf = np.sign(lexf) * np.log1p(np.abs(lexf)) * self.lexicon_weight
        sparse = sp.hstack([tf, sp.csr_matrix(lexf)], format="csr")
        if not self.embedding_weight:
            return sparse, None
        b = counts.copy()
        b.data[:] = 1.0
        return sparse, b

    def _dense_block(self, b: sp.csr_matrix) -> np.ndarray:
        """The pretrained block: the rows' SIF-weighted mean vectors, L2-normalised, × the weight."""
        E = np.asarray(b @ self.embmat_)
        return E * (self.embedding_weight / np.maximum(np.sqrt(np.einsum("ij,ij->i", E, E)), 1e-9))[:, None]

    def _build_vocabulary(self, toks: list[list[str]]) -> None:
        df: dict[str, int] = {}
        for ts in toks:
            for t in set(ts):
                df[t] = df.get(t, 0) + 1
        words = sorted(t for t, n in df.items() if n >= self.min_df)
        lex = self.lexicon if self.lexicon is not None else load_lexicon()
        extra = sorted((set(lex) | {_NEG_PREFIX + w for w in lex}) - set(words))
        self.vocab_list_ = words + extra
        self.vocabulary_ = {t: i for i, t in enumerate(self.vocab_list_)}
        n = len(toks)
        idf = np.zeros(len(self.vocab_list_))
        # Smooth idf as sklearn; lexicon-only words have idf 0 (they feed the lexicon block only).
        idf[: len(words)] = [np.log((1 + n) / (1 + df[w])) + 1.0 for w in words]
        self.idf_ = idf
        lexmat = np.zeros((len(self.vocab_list_), 4))
        for t, j in self.vocabulary_.items():
            if t.startswith(_NEG_PREFIX):
                v = lex.get(t[len(_NEG_PREFIX):])
                v = None if v is None else -self.negated_lexicon_factor * v
            else:
                v = lex.get(t)
            if not v:
                continue
            if v > 0:
                lexmat[j, 0], lexmat[j, 2] = v, 1.0
            else:
                lexmat[j, 1], lexmat[j, 3] = -v, 1.0
        self.lexmat_ = sp.csr_matrix(lexmat)
        if self.embedding_weight:
            self._build_embeddings()

    def _build_embeddings(self) -> None:
        """Rows of the static table for the vocabulary, SIF-weighted; a negated word counts against."""
        from analysis.embeddings import load_table

        table = load_table()
        emb = np.zeros((len(self.vocab_list_), table.dim), dtype=np.float32)
        # one vectorised gather (a loop over the vocabulary, row by row, cost 0,05 s per process)
        cut = len(_NEG_PREFIX)
        neg = np.fromiter((t.startswith(_NEG_PREFIX) for t in self.vocab_list_), bool, len(self.vocab_list_))
        get = table.index_.get
        rows = np.fromiter((get(t[cut:] if n else t, -1) for t, n in zip(self.vocab_list_, neg, strict=True)),
                           np.int64, len(self.vocab_list_))
        found = rows >= 0
        sign = np.where(neg, -self.negated_lexicon_factor, 1.0).astype(np.float32)
        emb[found] = (table.vectors_[rows[found]] * (table.sif_[rows[found]] * sign[found])[:, None])
        self.embmat_ = emb
        self.embeddings_version_ = table.version_

    # -- fit / predict -----------------------------------------------------------------------
    def fit(self, X: list[str], y, sample_weight=None) -> FrenchSentimentClassifier:
        """Fit on raw texts and labels (0/1/2 or names)."""
        y = _as_codes(y)
        toks = [tokens(x) for x in X]
        self._build_vocabulary(toks)
        F = self._features(toks)
        sw = None if sample_weight is None else np.asarray(sample_weight, dtype=float)
        self.classes_ = np.array(LABELS)
        self.temperature_ = 1.0
        if self.calibrate:
            # Out-of-fold decision scores on train → temperature minimising the log-loss.
            oof = np.zeros((len(y), 3))
            skf = StratifiedKFold(5, shuffle=True, random_state=self.random_state)
            for a, b in skf.split(F, y):
                m = self._lr().fit(F[a], y[a], sample_weight=None if sw is None else sw[a])
                oof[b] = m.decision_function(F[b])
            self.temperature_ = _fit_temperature(oof, y)
        lr = self._lr().fit(F, y, sample_weight=sw)
        self.coef_ = lr.coef_
        self.intercept_ = lr.intercept_
        self.embcoef_ = None  # the pretrained block's word scores, derived from coef_ (_decision)
        self.n_features_in_ = 1
        self.version_ = self._version()
        return self

    def _lr(self) -> LogisticRegression:
        # newton-cg: 6 iterations here where lbfgs needs ~130 on these ill-scaled blocks.
        return LogisticRegression(C=self.C, solver="newton-cg", max_iter=500, class_weight="balanced",
                                  random_state=self.random_state)

    def _decision(self, texts: list[str]) -> np.ndarray:
        sparse, b = self._blocks([tokens(x) for x in texts])
        k = sparse.shape[1]
        out = np.asarray(sparse @ self.coef_[:, :k].T) + self.intercept_
        if b is None:
            return out
        # The pretrained block's scores as sparse products only: (b·M·cᵀ) × weight ÷ ‖b·M‖. A BLAS
        # product of the dense block gives other last bits for the same text in another batch
        # size, and batches must not change a label; stacked as a sparse matrix it cost most of
        # the time.
        if getattr(self, "embcoef_", None) is None:
            # einsum's own loop, not BLAS: the same bits whatever the process's thread pools
            self.embcoef_ = np.einsum("vd,cd->vc", self.embmat_.astype(np.float64), self.coef_[:, k:])
        E = np.asarray(b @ self.embmat_)
        scale = self.embedding_weight / np.maximum(np.sqrt(np.einsum("ij,ij->i", E, E)), 1e-9)
        return out + np.asarray(b @ self.embcoef_) * scale[:, None]

    def decision_function(self, X: list[str]) -> np.ndarray:
        """Decision scores (n × 3) of whole texts (no sentence split)."""
        check_is_fitted(self, "coef_")
        return self._decision(list(X))

    def predict_proba(self, X: list[str]) -> np.ndarray:
        """Calibrated probabilities, columns in :data:`LABELS` order (rows sum to 1).

        A text longer than ``long_text_chars`` gets the mean of its sentences' probabilities.
        """
        check_is_fitted(self, "coef_")
        X = ["" if x is None else str(x) for x in X]
        P = _softmax(self._decision(X) / self.temperature_)
        if self.long_text_chars:
            long_idx = [i for i, x in enumerate(X) if len(x) > self.long_text_chars]
            if long_idx:
                pieces, owner = [], []
                for i in long_idx:
                    for s in sentences(X[i]):
                        pieces.append(s)
                        owner.append(i)
                Ps = _softmax(self._decision(pieces) / self.temperature_)
                owner_a = np.asarray(owner)
                for i in long_idx:
                    P[i] = Ps[owner_a == i].mean(axis=0)
        return P

    def predict(self, X: list[str]) -> np.ndarray:
        """Labels in {'negative', 'neutral', 'positive'} (array)."""
        p = self.predict_proba(X)
        return np.asarray(LABELS, dtype=object)[p.argmax(axis=1)]

    # -- persistence --------------------------------------------------------------------------
    def save(self, path: str | Path, meta: dict | None = None) -> Path:
        """Write the fitted model as a compressed ``.npz`` (vocabulary, weights, metadata JSON).

        The pretrained block's word rows are not stored: they are read back from the static
        table (its version is recorded and checked on load).
        """
        path = Path(path)
        path.parent.mkdir(parents=True, exist_ok=True)
        params = {k: v for k, v in self.get_params().items() if k != "lexicon"}
        meta = {**(meta or {}), "version": self.version_,
                "embeddings_version": getattr(self, "embeddings_version_", None)}
        np.savez_compressed(
            path,
            vocab=np.array(self.vocab_list_, dtype=object).astype(str),
            idf=self.idf_.astype(np.float32),
            lexmat=self.lexmat_.toarray().astype(np.float32),
            coef=self.coef_.astype(np.float32),
            intercept=self.intercept_,
            temperature=np.array([self.temperature_]),
            meta=np.array(json.dumps({"params": params, **meta}, ensure_ascii=False)),
        )
        return path

    def _version(self) -> str:
        """Content version: hash of the learned weights (and settings), so any retraining changes it."""
        h = hashlib.sha256()
        h.update("\n".join(self.vocab_list_).encode())
        for a in (self.coef_, self.intercept_, np.array([self.temperature_])):
            h.update(np.ascontiguousarray(a, dtype=np.float32).tobytes())
        h.update(f"{self.long_text_chars}|{getattr(self, 'embeddings_version_', '')}".encode())
        return "fr-lr-" + h.hexdigest()[:10]

    @classmethod
    def load(cls, path: str | Path) -> FrenchSentimentClassifier:
        """Rebuild a fitted model from :meth:`save` output."""
        z = np.load(path, allow_pickle=False)
        meta = json.loads(str(z["meta"]))
        m = cls(**meta["params"])
        m.vocab_list_ = [str(t) for t in z["vocab"]]
        m.vocabulary_ = {t: i for i, t in enumerate(m.vocab_list_)}
        m.idf_ = z["idf"].astype(np.float64)
        m.lexmat_ = sp.csr_matrix(z["lexmat"].astype(np.float64))
        m.coef_ = z["coef"].astype(np.float64)
        m.intercept_ = z["intercept"]
        m.temperature_ = float(z["temperature"][0])
        m.classes_ = np.array(LABELS)
        m.n_features_in_ = 1
        if m.embedding_weight:
            m._build_embeddings()
            want = meta.get("embeddings_version")
            if want and want != m.embeddings_version_:
                raise ValueError(f"{path} : modèle entraîné avec la table de vecteurs {want}, trouvée "
                                 f"{m.embeddings_version_}. Réentraînez : `vigie sentiment train`.")
        m.meta_ = meta
        m.version_ = meta["version"]
        return m


class SentimentModel:
    """What the rest of Vigie uses: ``predict``, ``predict_proba``, ``score`` and ``version``."""

    def __init__(self, estimator: FrenchSentimentClassifier, version: str):
        self.estimator = estimator
        self.version = version
        self.labels = LABELS

    def predict_proba(self, texts: list[str]) -> np.ndarray:
        """n×3 calibrated probabilities (negative, neutral, positive) — scored as French."""
        return self.estimator.predict_proba(list(texts))

    def predict(self, texts: list[str]) -> list[str]:
        """One label per text (a list), scored as French whatever the language (see :meth:`score`)."""
        return [str(v) for v in self.estimator.predict(list(texts))]

    def score(self, texts: list[str]) -> tuple[list[str], list[str | None], np.ndarray]:
        """(lang, label, proba) per text; non-French texts get label None and NaN probabilities.

        Our choice for English: detected and marked ``lang='en'`` but left unscored, because a
        French model scoring English is noise and VADER-en on these messages is not evaluated.
        """
        texts = list(texts)
        # Each distinct text is scored once and broadcast back (same result, less work: comment
        # streams repeat short replies).
        first: dict[str, int] = {}
        codes = np.fromiter((first.setdefault(t, len(first)) for t in texts), dtype=np.int64, count=len(texts))
        uniq = list(first)
        ulangs = [detect_lang(t) for t in uniq]
        uproba = np.full((len(uniq), 3), np.nan)
        idx = [i for i, lg in enumerate(ulangs) if lg == "fr"]
        if idx:
            uproba[idx] = self.estimator.predict_proba([uniq[i] for i in idx])
        ulabels = [LABELS[int(np.argmax(p))] if lg == "fr" else None for p, lg in zip(uproba, ulangs, strict=True)]
        return [ulangs[c] for c in codes], [ulabels[c] for c in codes], uproba[codes]


def _as_codes(y) -> np.ndarray:
    out = []
    for v in y:
        s = str(v).strip().lower()
        if s in LABELS:
            out.append(LABELS.index(s))
        elif s in ("0", "1", "2"):
            out.append(int(s))
        else:
            raise ValueError(f"Étiquette inconnue : {v!r} (attendu 0/1/2 ou negative/neutral/positive)")
    return np.asarray(out, dtype=int)


def _softmax(z: np.ndarray) -> np.ndarray:
    z = z - z.max(axis=1, keepdims=True)
    e = np.exp(z)
    return e / e.sum(axis=1, keepdims=True)


def _fit_temperature(scores: np.ndarray, y: np.ndarray) -> float:
    """Temperature T minimising the log-loss of softmax(scores / T) (grid, then refine)."""
    def nll(t: float) -> float:
        p = _softmax(scores / t)
        return float(-np.mean(np.log(p[np.arange(len(y)), y] + 1e-12)))

    grid = np.exp(np.linspace(np.log(0.2), np.log(5.0), 61))
    best = min(grid, key=nll)
    fine = np.linspace(best * 0.9, best * 1.1, 21)
    return float(min(fine, key=nll))
