"""French toxicity classifier, hostility lexicon and question detection (moderation).

The model is a logistic regression on TF-IDF word (1–2) and character (2–5) n-grams of a
normalised text, plus two lexicon features, trained on the French part of MLMA (tweets,
``normal`` vs every hostile label). MLMA was sampled on hostile keywords, so 80 % of it is
hostile; a comment stream under a town-hall post is nothing like that. ``predict_proba``
therefore applies a *prior shift* (Saerens et al. 2002): the odds learned at the training base
rate are rescaled to the deployment base rate ``prior`` (default 5 %). Held-out figures are
computed at the training prior, where they are comparable with the literature.

The artifact is a gzipped JSON file (vocabularies, idf, coefficients): small, diffable in
size, and loading it executes no code (unlike a pickle).
"""

from __future__ import annotations

import gzip
import hashlib
import json
import re
from collections.abc import Callable, Iterable
from dataclasses import dataclass
from functools import cached_property, lru_cache
from pathlib import Path

import numpy as np
import pandas as pd
import scipy.sparse as sp
from sklearn.base import BaseEstimator, ClassifierMixin
from sklearn.feature_extraction.text import CountVectorizer
from sklearn.linear_model import LogisticRegression
from sklearn.preprocessing import normalize
from sklearn.utils.validation import check_is_fitted

from analysis.store import REPO_ROOT
from analysis.text import strip_accents

LEXICON_PATH = REPO_ROOT / "data" / "lexicons" / "hostility_fr.txt"
MODEL_PATH = REPO_ROOT / "data" / "models" / "toxicity_fr.json.gz"
CARD_PATH = REPO_ROOT / "data" / "models" / "TOXICITY_CARD.md"
DEFAULT_PRIOR = 0.05
# Operating threshold of the hostile decision (a lexicon term, or p_toxic ≥ this): chosen with C by
# 3-fold cross-validation on the training tweets only (best F1 with precision ≥ 0,82 in every fold,
# together with the lexicon terms that flag on their own,
# analysis.eval.hostility.choose_operating_point) and stored in the model's meta; a test checks that
# both agree. The figure it gives on tweets never seen is printed by `vigie eval`.
HOSTILE_THRESHOLD = 0.45
# Lexicon category of harmless phrases that contain a listed word ("s'attarder", "pute" inside
# "députés" is already excluded by word boundaries): matched first, never reported as hits.
EXCEPTION = "exception"
# Lexicon category of ambiguous terms: listed (the file documents them, the model reads them through its
# character n-grams) but never a hit on their own. A term lands there when, on the training tweets, it
# is too often used without hostility (« attardé », « islamo-gauchiste »): chosen by cross-validation,
# analysis.eval.hostility.ambiguous_terms. Not matched at all: an ambiguous term is not evidence.
AMBIGUOUS = "ambigu"
# Lexicon category of words whose everyday sense is not an insult in what a local authority receives
# (« ma chienne », « un blaireau » in a nature reserve, « spectacle de clowns », « incapable de
# trouver », « un pneu crevé », « tv pourrie », « attention aux voleurs »): a hit only inside an
# insult's frame (:data:`_FRAME`), elsewhere the model judges. Chosen by hand (hits in civic texts,
# reviews and ordinary tweets, and the words' other senses), never rewritten by the cross-validation.
POLYSEMOUS = "polyseme"
# A polysemous word is a hit only inside an insult's frame, aimed at someone: « bande d'incapables »,
# « espèce de blaireau », « sale chienne », « le maire est un guignol », « vous êtes des voleurs » (the
# hit is the whole phrase, shown to the moderator as it is). On normalised text (accents folded,
# apostrophes kept).
_FRAME = (r"(?:bande d(?:e |')|espece d(?:e |')|quel(?:le)?s? |sales? |tou(?:te)?s des |"
          r"(?:t'es|t'etes|tu es|vous etes|es|est|etes|sont|c'est|ce sont) (?:qu'un |qu'une |que des |un |une |des ))")
_FRAME_PREFIX = re.compile(_FRAME)

# Digit-for-letter and look-alike substitutions used to dodge filters ("c0nnard", "s@lope").
_LEET = str.maketrans({"0": "o", "1": "i", "3": "e", "4": "a", "5": "s", "7": "t", "@": "a", "$": "s",
                       "€": "e", "!": "i"})
_URL = re.compile(r"https?://\S+|www\.\S+|@url\b")
_MENTION = re.compile(r"@\w+")
_REPEAT = re.compile(r"(\w)\1{2,}")
_NONWORD = re.compile(r"[^a-z0-9'@$€!?\s]")
_SPACES = re.compile(r"\s+")
# Letters spaced or dotted to dodge a filter ("c o n n a r d", "c.o.n.n.a.r.d", "p-u-t-e"): four
# letters or more, each alone between separators, are glued back into one word.
_SPACED = re.compile(r"(?<![a-z0-9])(?:[a-z][ .\-_*]){3,}[a-z](?![a-z0-9])")
_SEPARATORS = re.compile(r"[ .\-_*]")


def fold(text: str) -> str:
    """Lower-case and strip accents (:func:`analysis.text.strip_accents`, the one accent removal),
    keeping the rest of the text."""
    return strip_accents(str(text).lower())


def normalise(text: str | None) -> str:
    """Text as the model and the lexicon see it.

    URLs → ``url``, mentions → ``mentionuser``, accents folded, letters repeated 3+ times cut to 2
    ("nuuuul" → "nuul"), digits inside words read as letters ("c0nnard" → "connard"), four or more
    letters spaced or dotted glued back ("c o n n a r d" → "connard"), punctuation except ``' ? !``
    dropped.
    """
    if not text:
        return ""
    return normalise_folded(fold(text))


def normalise_folded(t: str) -> str:
    """:func:`normalise` of a text already passed through :func:`fold` (the enricher folds once
    for both the model and :func:`is_question`)."""
    t = _URL.sub(" url ", t)
    t = _MENTION.sub(" mentionuser ", t)
    t = _REPEAT.sub(r"\1\1", t)
    t = t.replace("’", "'")
    t = _unleet(t)
    t = _SPACED.sub(lambda m: _SEPARATORS.sub("", m.group(0)), t)
    t = _NONWORD.sub(" ", t)
    return " ".join(t.split())  # = _SPACES.sub(" ", t).strip(): same white space (str.isspace), faster


_LEETABLE = re.compile(r"[0-9@$€]")
_LEET_WORD = re.compile(r"\b\w*[a-z]\w*[0-9@$€]\w*|\b[0-9@$€]+[a-z]\w*")


def _unleet(t: str) -> str:
    # Only inside words: "c0nnard" → "connard", but "3 questions" keeps its digit meaning apart.
    # Both alternatives need one of [0-9@$€]: most texts have none, and skip the substitution.
    if not _LEETABLE.search(t):
        return t
    return _LEET_WORD.sub(lambda m: m.group(0).translate(_LEET), t)


# ------------------------------------------------------------------------------ lexicon
@dataclass(frozen=True)
class Lexicon:
    """Hostility terms by category, matched on normalised text with word boundaries."""

    terms: tuple[tuple[str, str], ...]  # (category, term)

    @classmethod
    def load(cls, path: str | Path = LEXICON_PATH) -> Lexicon:
        """Read ``category<TAB>term`` lines (``#`` comments)."""
        terms = []
        for line in Path(path).read_text(encoding="utf-8").splitlines():
            if not line.strip() or line.startswith("#"):
                continue
            cat, _, term = line.partition("\t")
            terms.append((cat.strip(), normalise(term.strip().rstrip("*")) + ("*" if term.strip().endswith("*") else "")))
        return cls(tuple(terms))

    @property
    def sha(self) -> str:
        return hashlib.sha256("\n".join(f"{c}\t{t}" for c, t in self.terms).encode()).hexdigest()[:8]

    @cached_property
    def _regex(self) -> re.Pattern:
        return _compile(self._regex_terms)

    def hits(self, text: str | None, normalised: bool = False) -> list[str]:
        """Lexicon terms found in ``text`` (as they appear, deduplicated, in order)."""
        t = text if normalised else normalise(text)
        if not t:
            return []
        out: list[str] = []
        exceptions = self._exceptions
        for m in self._regex.finditer(t):
            w = m.group(0)
            # an "exception" term (longer, so tried first) consumes a harmless use of a listed
            # word ("s attarde" is "to linger", not the slur "attardé"): not a hit
            if w not in out and not any(w == e or (e.endswith("*") and w.startswith(e[:-1])) for e in exceptions):
                out.append(w)
        return out

    def hits_many(self, norm: list[str]) -> list[list[str]]:
        """``[hits(t, normalised=True) for t in norm]``, with one regex pass over the texts joined by
        a NUL (no term matches across it, and normalised texts hold none): hits are rare, so the
        Python work is per hit, not per text."""
        joined = "\x00".join(norm)
        starts = np.cumsum([0] + [len(t) + 1 for t in norm[:-1]]) if norm else np.zeros(0, dtype=np.int64)
        out: list[list[str]] = [[] for _ in norm]
        exceptions = self._exceptions
        for m in self._regex.finditer(joined):
            w = m.group(0)
            hits = out[int(np.searchsorted(starts, m.start(), side="right")) - 1]
            if w not in hits and not any(w == e or (e.endswith("*") and w.startswith(e[:-1])) for e in exceptions):
                hits.append(w)
        return out

    @cached_property
    def _exceptions(self) -> tuple[str, ...]:
        return tuple(term for cat, term in self.terms if cat == EXCEPTION)

    @property
    def _regex_terms(self) -> tuple[tuple[str, str], ...]:
        return tuple((c, t) for c, t in self.terms if c != AMBIGUOUS)

    @cached_property
    def _longest_first(self) -> tuple[tuple[str, str], ...]:
        return tuple(sorted(self.terms, key=lambda x: -len(x[1])))

    def term_of(self, hit: str) -> str | None:
        """The lexicon term (as written in the file, ``*`` kept) a hit was matched by."""
        for h in (hit, _without_frame(hit)):  # a polysemous word's hit holds its frame
            for cat, term in self._longest_first:
                base = term.rstrip("*")
                if cat != EXCEPTION and (h == base or (term.endswith("*") and h.startswith(base))):
                    return term
        return None

    def with_ambiguous(self) -> Lexicon:
        """The same lexicon with its ambiguous terms matched like insults (to measure them)."""
        return Lexicon(tuple(("insulte" if c == AMBIGUOUS else c, t) for c, t in self.terms))

    def without(self, terms: Iterable[str]) -> Lexicon:
        """The same lexicon with ``terms`` (as written in the file) moved to the ambiguous category."""
        drop = set(terms)
        return Lexicon(tuple((AMBIGUOUS if t in drop and c != EXCEPTION else c, t) for c, t in self.terms))

    def categories(self, hits: Iterable[str]) -> set[str]:
        """Categories of the given hits."""
        cats = set()
        for h in hits:
            term = self.term_of(h)
            cats |= {cat for cat, t in self.terms if t == term and cat != EXCEPTION}
        return cats


@lru_cache(maxsize=8)
def _compile(terms: tuple[tuple[str, str], ...]) -> re.Pattern:
    parts = []
    # Longest first so "fils de pute" wins over "pute"; a polysemous word only inside an insult's frame
    # (tried first: « sale chienne » is one hit, not « sale » then nothing).
    for cat, term in sorted(terms, key=lambda x: (x[0] != POLYSEMOUS, -len(x[1]))):
        word = re.escape(term[:-1]) + r"[a-z]*" if term.endswith("*") else re.escape(term)
        parts.append(_FRAME + word if cat == POLYSEMOUS else word)
    return re.compile(r"(?<![a-z])(?:" + "|".join(parts) + r")(?![a-z])")


def _without_frame(hit: str) -> str:
    """A hit without the insult's frame a polysemous word was found in (« bande d'incapables » →
    « incapables »); other hits as they are."""
    m = _FRAME_PREFIX.match(hit)
    return hit[m.end():] if m else hit


@lru_cache(maxsize=1)
def default_lexicon() -> Lexicon:
    return Lexicon.load()


# ------------------------------------------------------------------------------ questions
_QUESTION = re.compile(
    r"\?|^(?:est[- ]ce qu|qu'est[- ]ce|comment|pourquoi|quand|ou |combien|a quelle heure|"
    r"qui (?:peut|doit|contacter)|peut[- ]on|pouvez[- ]vous|pourriez[- ]vous|savez[- ]vous|y a[- ]t[- ]il)"
    r"|\b(?:est[- ]ce qu|comment faire|comment on fait|pouvez[- ]vous|pourriez[- ]vous|savez[- ]vous|"
    r"a quelle heure|a partir de quand|jusqu'a quand|des quand|quelqu'un sait|quelqu'un a|"
    r"merci de (?:me|nous) (?:dire|repondre|indiquer|tenir)|je voudrais savoir|j'aimerais savoir|"
    r"on peut savoir|qui contacter|ou peut[- ]on|ou trouver|ou s'adresser|serait[- ]il possible|"
    r"est[- ]il possible|y a[- ]t[- ]il|a[- ]t[- ]on|svp|s'il vous plait|une info|des infos|"
    r"besoin d'aide|quelles sont|quel est|quelle est|quels sont)\b"
)


def is_question(text: str | None) -> bool:
    """Interrogative or request: a "?" or a French question/request phrase."""
    if not text:
        return False
    return is_question_folded(fold(text))


def is_question_folded(t: str) -> bool:
    """:func:`is_question` of a text already passed through :func:`fold`. A link is not read: the
    « ? » of its query string (``safe_image.php?d=…``) asks nothing."""
    if "://" in t or "www." in t:
        t = _URL.sub(" ", t)
    t = " ".join(t.replace("’", "'").split())  # = _SPACES.sub(" ", …).strip(), faster
    return bool(_QUESTION.search(t))


# What decides a stored score besides the model's learned content: the question rules (their
# version, to bump whenever :data:`_QUESTION` or :func:`is_question_folded` changes what they find).
QUESTION_RULES_VERSION = 2


def scoring_version(model: ToxicityClassifier, lexicon: Lexicon | None = None) -> str:
    """The version stamped on every ``toxicity`` row: the model's (``tox-`` + its hash), the lexicon
    file's (``l`` + its hash: its terms are features and evidence, and the file is edited — by
    ``python -m analysis.eval.hostility`` or by hand) and the question rules' (``q`` +
    :data:`QUESTION_RULES_VERSION`). A change of any of them rescores every message at the next
    enrichment, so no queue mixes two lexicons."""
    lex = lexicon or default_lexicon()
    return f"{getattr(model, 'version_', 'tox-unsaved')}-l{lex.sha[:6]}-q{QUESTION_RULES_VERSION}"


# ------------------------------------------------------------------------------ model
def _tfidf(counts: sp.csr_matrix, idf: np.ndarray) -> sp.csr_matrix:
    """Sublinear tf (1 + ln tf) × idf, rows L2-normalised."""
    x = counts.astype(np.float64).tocsr()
    x.data = 1.0 + np.log(x.data)
    x = x @ sp.diags(idf)
    return normalize(x, copy=False)


def _tfidf_dot(counts: sp.csr_matrix, idf: np.ndarray, coef: np.ndarray) -> np.ndarray:
    """Per row, ``_tfidf(counts, idf) @ coef`` without the intermediate matrices."""
    counts = counts.tocsr()
    d = np.log(counts.data.astype(np.float64))
    d += 1.0
    d *= idf[counts.indices]
    x = sp.csr_matrix((d, counts.indices, counts.indptr), shape=counts.shape)
    dot = x @ np.asarray(coef, dtype=np.float64)
    np.square(d, out=d)
    norms = np.sqrt(x @ np.ones(counts.shape[1]))
    norms[norms == 0] = 1.0
    return dot / norms


def _idf(counts: sp.csr_matrix) -> np.ndarray:
    """Smoothed idf: ln((1 + n) / (1 + df)) + 1."""
    n = counts.shape[0]
    df = np.bincount(counts.indices, minlength=counts.shape[1])
    return np.log((1 + n) / (1 + df)) + 1.0


# The word vectorizer's token pattern, plus the separator of joined texts (NUL: normalise drops it).
_WORD_OR_SEP = re.compile(r"(?u)\b\w[\w']*\b|[?!]|\x00")


def word_counts(vectorizer: CountVectorizer, norm: list[str]) -> sp.csr_matrix:
    """Same matrix as ``vectorizer.transform(norm)`` for the fitted word uni/bigram vectorizer, faster.

    One regex pass over the texts joined by a NUL (no token crosses it, and normalised texts
    hold none), then uni/bigrams counted with arrays, each distinct bigram looked up once
    (profiled: scikit-learn's per-token loop was the costliest part of the toxicity scoring).
    """
    vectorizer._check_vocabulary()  # as transform does: a loaded vocabulary becomes vocabulary_
    vocab = vectorizer.vocabulary_
    n = len(norm)
    toks = _WORD_OR_SEP.findall(" \x00 ".join(norm))
    if not toks:
        return sp.csr_matrix((n, len(vocab)), dtype=np.float64)
    codes, uniq = pd.factorize(pd.Series(toks, dtype=object))
    is_sep = np.fromiter((u == "\x00" for u in uniq), dtype=bool, count=len(uniq))
    doc = np.cumsum(is_sep[codes])
    keep = ~is_sep[codes]
    c, d = codes[keep].astype(np.int64), doc[keep]
    uni = np.fromiter((vocab.get(u, -1) for u in uniq), dtype=np.int64, count=len(uniq))
    nxt = np.flatnonzero(d[:-1] == d[1:])  # adjacent tokens of the same text
    pcodes, puniq = pd.factorize(c[nxt] * len(uniq) + c[nxt + 1])
    bi = np.fromiter((vocab.get(f"{uniq[a]} {uniq[b]}", -1) for a, b in zip((puniq // len(uniq)).tolist(),
                                                                            (puniq % len(uniq)).tolist(),
                                                                            strict=True)),
                     dtype=np.int64, count=len(puniq))
    rows, cols = np.concatenate([d, d[nxt]]), np.concatenate([uni[c], bi[pcodes]])
    ok = cols >= 0
    out = sp.csr_matrix((np.ones(int(ok.sum())), (rows[ok], cols[ok])), shape=(n, len(vocab)))
    out.sum_duplicates()
    return out


def char_wb_counts(vectorizer: CountVectorizer, norm: list[str]) -> sp.csr_matrix:
    """Same matrix as ``vectorizer.transform(norm)`` for a fitted ``char_wb`` vectorizer, faster.

    ``char_wb`` n-grams never cross a word boundary, so a text's counts are the sum of its
    words' counts. Words follow Zipf's law (a 20,000-message batch has ~2,000 distinct
    words), so n-grams are extracted once per distinct word, then a text × word count matrix
    times the word × n-gram matrix gives the exact integer counts (profiled: the pure-Python
    per-text n-gram loop was 80 % of the toxicity enricher's time).
    """
    words: dict[str, int] = {}
    indices: list[int] = []
    indptr = [0]
    for t in norm:
        # str.split() with no argument is the analyzer's own split (after whitespace folding).
        for w in t.split():
            indices.append(words.setdefault(w, len(words)))
        indptr.append(len(indices))
    per_text = sp.csr_matrix((np.ones(len(indices)), np.asarray(indices, dtype=np.int64),
                              np.asarray(indptr, dtype=np.int64)), shape=(len(norm), len(words)))
    per_text.sum_duplicates()
    if not words:  # texts without a word (empty, emoji only): the vocabulary as transform sees it
        vectorizer._check_vocabulary()  # a loaded vocabulary becomes vocabulary_
        return sp.csr_matrix((len(norm), len(vectorizer.vocabulary_)), dtype=np.float64)
    per_word = vectorizer.transform(list(words))
    out = (per_text @ per_word).tocsr()
    out.sort_indices()
    return out


class ToxicityClassifier(ClassifierMixin, BaseEstimator):
    """Hostile-vs-normal classifier on French short texts (scikit-learn contract).

    ``prior``: base rate of hostile messages where the model is used; ``predict_proba``
    rescales the training odds to it. ``prior=None`` keeps the training base rate.
    """

    def __init__(self, C: float = 4.0, prior: float | None = DEFAULT_PRIOR, max_char_features: int = 40000,
                 max_word_features: int = 20000, random_state: int = 0):
        self.C = C
        self.prior = prior
        self.max_char_features = max_char_features
        self.max_word_features = max_word_features
        self.random_state = random_state

    # -- features
    def _vectorizers(self, vocab_word: dict | None = None, vocab_char: dict | None = None):
        word = CountVectorizer(analyzer="word", ngram_range=(1, 2), token_pattern=r"(?u)\b\w[\w']*\b|[?!]",
                               min_df=2 if vocab_word is None else 1, max_features=self.max_word_features,
                               vocabulary=vocab_word, lowercase=False, dtype=np.float64)
        char = CountVectorizer(analyzer="char_wb", ngram_range=(2, 5), min_df=3 if vocab_char is None else 1,
                               max_features=self.max_char_features, vocabulary=vocab_char, lowercase=False,
                               dtype=np.float64)
        return word, char

    def _lex_features(self, norm: list[str], hits: list[list[str]] | None = None) -> sp.csr_matrix:
        lex = default_lexicon()
        hits = hits if hits is not None else [lex.hits(t, normalised=True) for t in norm]
        rows = []
        for h in hits:
            cats = lex.categories(h) if h else set()
            rows.append((min(len(h), 3) / 3.0, 1.0 if "menace" in cats else 0.0,
                         1.0 if "injure_discriminatoire" in cats else 0.0))
        return sp.csr_matrix(np.asarray(rows, dtype=np.float64).reshape(len(norm), 3))

    def _features(self, texts: Iterable[str | None], norm: list[str] | None = None,
                  hits: list[list[str]] | None = None) -> sp.csr_matrix:
        norm = norm if norm is not None else [normalise(t) for t in texts]
        xw = _tfidf(self.word_.transform(norm), self.word_idf_)
        xc = _tfidf(char_wb_counts(self.char_, norm), self.char_idf_)
        return sp.hstack([xw, xc, self._lex_features(norm, hits)], format="csr")

    def score_normalised(self, norm: list[str], hits: list[list[str]]) -> np.ndarray:
        """``p_hostile`` for texts already normalised, with their lexicon hits (the enricher
        computes both once and stores the hits, so they are not recomputed here)."""
        check_is_fitted(self, "coef_")
        # The logit of the fitted features (:meth:`_features`) without building them: each TF-IDF
        # block's dot product with its coefficients divided by the block's row norm (equal to
        # 1e-15 relative: the same sums, in another order). Rows keep sorted column indices, so a
        # text's score does not depend on the batch it is scored in (the Dask engine's partitions).
        nw, nc = len(self.word_idf_), len(self.char_idf_)
        logit = (_tfidf_dot(word_counts(self.word_, norm), self.word_idf_, self.coef_[:nw])
                 + _tfidf_dot(char_wb_counts(self.char_, norm), self.char_idf_, self.coef_[nw:nw + nc])
                 + np.asarray(self._lex_features(norm, hits) @ self.coef_[nw + nc:]).ravel() + self.intercept_)
        return 1.0 / (1.0 + np.exp(-self._shift(logit, self.prior)))

    # -- estimator API
    def fit(self, X: Iterable[str | None], y: Iterable[int]) -> ToxicityClassifier:
        """Learn vocabularies, idf and coefficients from texts ``X`` and labels ``y`` (1 = hostile)."""
        X = list(X)
        y = np.asarray(list(y), dtype=int)
        norm = [normalise(t) for t in X]
        word, char = self._vectorizers()
        cw = word.fit_transform(norm).tocsr()
        cc = char.fit_transform(norm).tocsr()
        self.word_, self.char_ = word, char
        self.word_idf_, self.char_idf_ = _idf(cw), _idf(cc)
        feats = sp.hstack([_tfidf(cw, self.word_idf_), _tfidf(cc, self.char_idf_), self._lex_features(norm)],
                          format="csr")
        clf = LogisticRegression(C=self.C, max_iter=2000, solver="liblinear", random_state=self.random_state)
        clf.fit(feats, y)
        self.coef_ = clf.coef_.ravel().astype(np.float64)
        self.intercept_ = float(clf.intercept_[0])
        self.classes_ = np.array([0, 1])
        self.train_prior_ = float(y.mean())
        self.version_ = self._version(self.to_dict())
        return self

    @staticmethod
    def _version(d: dict, raw: bytes | None = None) -> str:
        """``tox-`` + 10 hex of the SHA-256 of the learned content (the artifact without its meta):
        the same after fit and after load, changed by any retraining.

        ``raw``: the artifact's JSON as :meth:`save` wrote it (``meta`` last). Its bytes before
        ``,"meta":`` are then the content's own serialisation, hashed as they are: 0,08 s of
        ``json.dumps`` saved in every process that scores. Any other bytes (an artifact written
        otherwise) are serialised again."""
        cut = raw.rfind(b',"meta":') if raw is not None and list(d)[-1:] == ["meta"] else -1
        if cut > 0:
            content = raw[:cut] + b"}"
        else:
            body = {k: v for k, v in d.items() if k != "meta"}
            content = json.dumps(body, ensure_ascii=False, separators=(",", ":")).encode("utf-8")
        return "tox-" + hashlib.sha256(content).hexdigest()[:10]

    def decision_function(self, X: Iterable[str | None]) -> np.ndarray:
        """Log-odds at the training base rate."""
        check_is_fitted(self, "coef_")
        return np.asarray(self._features(X) @ self.coef_ + self.intercept_).ravel()

    def _shift(self, logit: np.ndarray, prior: float | None) -> np.ndarray:
        if prior is None:
            return logit
        tp = self.train_prior_
        return logit + np.log(prior / (1 - prior)) - np.log(tp / (1 - tp))

    def predict_proba(self, X: Iterable[str | None]) -> np.ndarray:
        """``[[p_normal, p_hostile], …]`` at the deployment base rate ``prior``."""
        p = 1.0 / (1.0 + np.exp(-self._shift(self.decision_function(X), self.prior)))
        return np.column_stack([1 - p, p])

    def predict(self, X: Iterable[str | None]) -> np.ndarray:
        return (self.predict_proba(X)[:, 1] >= 0.5).astype(int)

    # -- persistence
    def to_dict(self) -> dict:
        return {
            "format": "vigie-toxicity/1",
            "params": self.get_params(),
            "word_vocab": sorted(self.word_.vocabulary_, key=self.word_.vocabulary_.get),
            "char_vocab": sorted(self.char_.vocabulary_, key=self.char_.vocabulary_.get),
            "word_idf": [round(float(v), 5) for v in self.word_idf_],
            "char_idf": [round(float(v), 5) for v in self.char_idf_],
            "coef": [round(float(v), 6) for v in self.coef_],
            "intercept": self.intercept_,
            "train_prior": self.train_prior_,
            "lexicon_sha": default_lexicon().sha,
            "meta": getattr(self, "meta_", {}),
        }

    def save(self, path: str | Path = MODEL_PATH) -> Path:
        """Write the gzipped JSON artifact (deterministic bytes: mtime 0)."""
        path = Path(path)
        path.parent.mkdir(parents=True, exist_ok=True)
        raw = json.dumps(self.to_dict(), ensure_ascii=False, separators=(",", ":")).encode("utf-8")
        with open(path, "wb") as fh, gzip.GzipFile(filename="", fileobj=fh, mode="wb", mtime=0) as gz:
            gz.write(raw)
        return path

    @classmethod
    def load(cls, path: str | Path = MODEL_PATH) -> ToxicityClassifier:
        """Rebuild a fitted classifier from its artifact."""
        path = Path(path)
        if not path.exists():
            raise FileNotFoundError(
                f"Modèle de toxicité introuvable : {path}. Lancez `vigie moderation train-toxicity --data FICHIER`."
            )
        with gzip.open(path, "rb") as fh:
            raw = fh.read()
        d = json.loads(raw)
        params = {k: v for k, v in d["params"].items() if k in cls().get_params()}
        m = cls(**params)
        wv = {t: i for i, t in enumerate(d["word_vocab"])}
        cv = {t: i for i, t in enumerate(d["char_vocab"])}
        m.word_, m.char_ = m._vectorizers(wv, cv)
        m.word_idf_ = np.asarray(d["word_idf"])
        m.char_idf_ = np.asarray(d["char_idf"])
        m.coef_ = np.asarray(d["coef"])
        m.intercept_ = float(d["intercept"])
        m.train_prior_ = float(d["train_prior"])
        m.classes_ = np.array([0, 1])
        m.meta_ = d.get("meta", {})
        m.version_ = cls._version(d, raw)
        return m


@lru_cache(maxsize=2)
def load_model(path: str | None = None) -> ToxicityClassifier:
    """The committed model (cached per process)."""
    return ToxicityClassifier.load(path or MODEL_PATH)


# ------------------------------------------------------------------------------ training
def read_mlma(path: str | Path) -> tuple[list[str], np.ndarray, list[str]]:
    """MLMA French CSV → (texts, y, raw labels); y = 1 unless the label is exactly ``normal``."""
    import pandas as pd

    df = pd.read_csv(path, dtype=str, keep_default_na=False)
    missing = {"tweet", "sentiment"} - set(df.columns)
    if missing:
        raise ValueError(f"{path} : colonnes absentes {sorted(missing)} (attendu : fichier MLMA fr_dataset.csv)")
    y = (df["sentiment"].str.strip() != "normal").astype(int).to_numpy()
    return df["tweet"].tolist(), y, df["sentiment"].tolist()


def train(data: str | Path, seed: int = 42, test_size: float = 0.2, out: str | Path | None = MODEL_PATH,
          metrics_out: str | Path | None = None, progress: Callable[[str], None] | None = None) -> dict:
    """Train on a stratified split, report held-out figures, refit on everything and save.

    Returns the metrics dict (also written to ``metrics_out`` as JSON).
    """
    from sklearn.metrics import (
        average_precision_score,
        f1_score,
        precision_recall_fscore_support,
        roc_auc_score,
    )
    from sklearn.model_selection import StratifiedKFold, train_test_split

    say = progress or (lambda s: None)
    texts, y, _ = read_mlma(data)
    idx = np.arange(len(texts))
    tr, te = train_test_split(idx, test_size=test_size, stratify=y, random_state=seed)
    xtr, ytr = [texts[i] for i in tr], y[tr]
    xte, yte = [texts[i] for i in te], y[te]

    # C chosen by 3-fold CV on the training part only (the held-out part stays unseen).
    best_c, best_f1 = None, -1.0
    for c in (1.0, 4.0, 16.0):
        f1s = []
        for a, b in StratifiedKFold(3, shuffle=True, random_state=seed).split(xtr, ytr):
            m = ToxicityClassifier(C=c, prior=None).fit([xtr[i] for i in a], ytr[a])
            f1s.append(f1_score(ytr[b], m.predict([xtr[i] for i in b]), average="macro"))
        say(f"C={c}: F1 macro CV {np.mean(f1s):.3f}")
        if np.mean(f1s) > best_f1:
            best_c, best_f1 = c, float(np.mean(f1s))

    m = ToxicityClassifier(C=best_c, prior=None).fit(xtr, ytr)
    p = m.predict_proba(xte)[:, 1]
    pred = (p >= 0.5).astype(int)
    prec, rec, f1, _ = precision_recall_fscore_support(yte, pred, labels=[1, 0], zero_division=0)
    lex = default_lexicon()
    lex_pred = np.array([1 if lex.hits(t) else 0 for t in xte])
    lp, lr, lf, _ = precision_recall_fscore_support(yte, lex_pred, labels=[1], zero_division=0)
    metrics = {
        "data": Path(data).name, "n": len(texts), "n_train": len(tr), "n_test": len(te), "seed": seed,
        "positive_share": round(float(y.mean()), 4), "C": best_c, "cv_f1_macro": round(best_f1, 4),
        "held_out": {
            "precision_hostile": round(float(prec[0]), 4), "recall_hostile": round(float(rec[0]), 4),
            "f1_hostile": round(float(f1[0]), 4), "precision_normal": round(float(prec[1]), 4),
            "recall_normal": round(float(rec[1]), 4), "f1_normal": round(float(f1[1]), 4),
            "f1_macro": round(float(f1_score(yte, pred, average="macro")), 4),
            "roc_auc": round(float(roc_auc_score(yte, p)), 4),
            "average_precision": round(float(average_precision_score(yte, p)), 4),
        },
        "baselines": {
            "majority_f1_macro": round(float(f1_score(yte, np.ones_like(yte), average="macro")), 4),
            "lexicon_only": {"precision_hostile": round(float(lp[0]), 4), "recall_hostile": round(float(lr[0]), 4),
                             "f1_hostile": round(float(lf[0]), 4)},
        },
    }
    say(f"held-out: P={prec[0]:.3f} R={rec[0]:.3f} F1={f1[0]:.3f}")
    if out:
        final = ToxicityClassifier(C=best_c, prior=DEFAULT_PRIOR).fit(texts, y)
        final.meta_ = {"trained_on": Path(data).name, "n": len(texts), "seed": seed, "held_out": metrics["held_out"]}
        saved = Path(final.save(out)).resolve()
        metrics["artifact"] = str(saved.relative_to(REPO_ROOT)) if saved.is_relative_to(REPO_ROOT) else str(saved)
    if metrics_out:
        Path(metrics_out).write_text(json.dumps(metrics, ensure_ascii=False, indent=2), encoding="utf-8")
    return metrics
