"""Themes and topics: taxonomy classifier, topic discovery, trends, emerging subjects, word clouds.

Pipeline (each stage a small swappable piece):

- :class:`LemmaVectorizer` turns texts into lemma uni/bigram counts. Surface clean-up is done
  with vectorised pandas string operations (URLs, @mentions, elisions, hashtags kept whole *and*
  split on camel case), tokens are counted by scikit-learn's C-speed ``CountVectorizer`` per
  chunk, and lemmatisation (simplemma through :func:`analysis.text.lemma`) is applied once per
  distinct *vocabulary term*, not per token: a sparse product maps surface terms to lemma keys.
- :class:`ThemeClassifier` scores the taxonomy (``data/themes.toml``) out of the box with a
  sparse keyword matrix, and learns from analyst labels (``fit``) with one logistic regression
  per theme on labelled examples plus seed pseudo-labels.
- :class:`TopicDiscovery` runs NMF on TF-IDF for several k and keeps the k with the best NPMI
  coherence (reported in ``coherence_``).
- :func:`detect_bursts` / :func:`emerging_subjects` flag terms and hashtags whose daily count
  jumps above their own baseline (z-score with minimum support), grouped into subjects with the
  messages behind them (no author identities).
- :func:`enrich` writes the ``themes`` table incrementally, stamped with ``model_version``.
"""

from __future__ import annotations

import hashlib
import html
import io
import math
import re
import tomllib
from collections.abc import Callable, Iterable, Sequence
from dataclasses import dataclass, field
from datetime import date, timedelta
from functools import lru_cache
from pathlib import Path
from typing import Any

import numpy as np
import pandas as pd
import scipy.sparse as sp
from sklearn.base import BaseEstimator, ClassifierMixin, TransformerMixin
from sklearn.feature_extraction.text import CountVectorizer

from analysis.fmt import fr_count, fr_plural
from analysis.queries import Filters
from analysis.store import REPO_ROOT
from analysis.text import ENGLISH_FUNCTION_WORDS, FRENCH_FUNCTION_WORDS, fold, lemma, split_hashtag

THEMES_PATH = REPO_ROOT / "data" / "themes.toml"
NO_THEME = "none"  # sentinel row in `themes`: the item was classified and matched no theme

# Function words plus frequent social-media filler. Kept accented and folded because the
# vectorizer filters surface tokens (before lemmatisation) and hashtag parts are folded.
# "non" stays a content word: "eau non potable" must keep its meaning in bigrams.
_EXTRA_STOP = """
aussi autre autres avant après avoir bah ben bon bonne bonsoir bjr car ceci celle celles celui ceux
chaque comme comment dès deja déjà depuis doit donc dont elle encore enfin entre est et etc été
être fait faire faut ici il ils jai juste là lors mais meme même merci mme mr mon moins ni nos
notre nous où ou par parce pareil peu peut plus pour pourquoi quand que quel quelle quelles quels
qui quoi rien sa sans se ses si soit son sont sous sur ta tes toi ton tous tout toute toutes très
tres trop un une vos votre vous voilà vraiment ya cest sest ete etre tjrs toujours bien oui
bonjour svp stp cela ça ca cette cet ces les des aux du au le la de en on je tu me te y lui leur
leurs eux moi vers chez avec dans sera seront serait été étaient était avait avons avez ont ai as
va vont allez aller vais fais font dit dire peux pouvez veux voir vu mis met quelque quelques
tant fois beaucoup alors ainsi plutôt assez afin lorsque puis donc or soit tel telle aucun aucune
qu jusqu lorsqu puisqu quoiqu presqu aujourd hui hab
""".split()
STOP_WORDS_FR: frozenset[str] = frozenset(
    w for w in (FRENCH_FUNCTION_WORDS | set(_EXTRA_STOP)) if w != "non"
)
# English function words too: tourists write in English and "the" is no subject.
STOP_WORDS_FR = STOP_WORDS_FR | frozenset(fold(w) for w in STOP_WORDS_FR) | frozenset(
    w for w in ENGLISH_FUNCTION_WORDS if "'" not in w and w not in ("non",))

_URL = r"(?:https?://|www\.)\S+"
_MENTION = r"@\w+"
_HASHTAG = re.compile(r"#(\w+)")
_APOSTROPHE = r"['’`´]"
# Hashtags as one token ('#eausaintaubin'), else runs of letters/digits of two characters at
# least (hyphenated words split: "vide-grenier" -> "vide grenier"; "zone 30" keeps its number).
TOKEN_PATTERN = r"(?u)#\w{2,}|\b[^\W_]{2,}\b"

SITUATION_NO_ECHO = "Nous en parlons, peu d'écho"
SITUATION_ECHO = "Nous en parlons, avec de l'écho"
SITUATION_SILENT = "Le public en parle, nous peu"
SITUATION_BALANCED = "Équilibré"

PRINT_PALETTE = ("#1f3b57", "#8c2d04", "#2e5e3a", "#5b2c6f", "#3c3c3c", "#0b5563", "#7a4b00")


def _hashtag_repl(m: re.Match) -> str:
    return _hashtag_text(m.group(1))


@lru_cache(maxsize=50_000)
def _hashtag_text(tag: str) -> str:
    # The tag itself (one token: '#EauSaintAubin' -> '#eausaintaubin') and its words. Cached:
    # campaigns repeat the same few tags thousands of times.
    parts = split_hashtag(tag)
    words = " ".join(parts) if len(parts) > 1 else ""  # an all-lower-case tag cannot be split
    return f" #{tag.lower()} {words} . "


# _URL with IGNORECASE spelled out (Unicode case folding adds only 'ſ' for 's'): starting with a
# character class lets the regex engine skip to the next h/w in C — same matches, ~6× faster.
_URL_RE = re.compile(r"[hHwW](?:(?<=[hH])[tT][tT][pP][sSſ]?://|(?<=[wW])[wW][wW]\.)\S+")
_MENTION_RE = re.compile(_MENTION)
_APOSTROPHE_RE = re.compile(_APOSTROPHE)
# 'suuuuper' -> 'super' (three or more: 'ee' is French); replacement group 2. The look-ahead
# rejects most positions before the back-reference is tried (same matches, faster).
_ELONG_RE = re.compile(r"(?=(.)\1\1)([^\W\d_])\2{2,}")


def surface_one(text: str | None) -> str:
    """Lower-cased text without URLs/@mentions, elisions split, hashtags whole and split, elongations collapsed."""
    if not text:
        return ""
    t = _URL_RE.sub(" ", str(text))
    t = _MENTION_RE.sub(" ", t)
    if "#" in t:
        t = _HASHTAG.sub(_hashtag_repl, t)
    t = _ELONG_RE.sub(r"\2", t)
    return _APOSTROPHE_RE.sub(" ", t).lower()


def surface(texts: Iterable[str | None] | pd.Series) -> pd.Series:
    """:func:`surface_one` of every text (compiled regexes; measured faster than pandas .str here)."""
    vals = texts.tolist() if isinstance(texts, pd.Series) else list(texts)
    return pd.Series([surface_one(t) if isinstance(t, str) else "" for t in vals], dtype=object)


# Whole-corpus passes: texts are joined with a separator no pattern can cross (spaces around a
# NUL, which no cleaned text holds), so each regex runs once in C over the corpus instead of
# once per text — same result as :func:`surface_one` text by text.
_DOC_SEP = "\x00"
# Runs of word characters (and hashtags, and the separator): the tokens of TOKEN_PATTERN are the
# hashtags plus the runs of two characters or more without '_' (``_word_token``) — a looser
# pattern without word-boundary tests, about a third faster.
_WORD_OR_SEP_RE = re.compile(r"#\w{2,}|\w+|" + _DOC_SEP)


def _word_token(w: str) -> bool:
    return w[0] == "#" or (len(w) >= 2 and "_" not in w)


def _surface_joined(texts: list[str]) -> str | None:
    """:func:`surface_one` of every text, joined by ``' \\x00 '``; None when a text holds a NUL."""
    t = f" {_DOC_SEP} ".join(texts)
    if t.count(_DOC_SEP) != max(len(texts) - 1, 0):
        return None
    t = _URL_RE.sub(" ", t)
    t = _MENTION_RE.sub(" ", t)
    if "#" in t:
        t = _HASHTAG.sub(_hashtag_repl, t)
    t = _ELONG_RE.sub(r"\2", t)
    for a in "'’`´":  # = _APOSTROPHE_RE.sub(" ", t), several times faster
        t = t.replace(a, " ")
    return t.lower()


def _ngrams(vals: list, ngram_range: tuple[int, int]) -> tuple[np.ndarray, int, np.ndarray, np.ndarray,
                                                                  np.ndarray, np.ndarray, np.ndarray] | None:
    """Uni/bigram occurrences of texts, as arrays (None when no token).

    Returns ``doc_codes`` (text → distinct text), the number of distinct texts, per occurrence
    its distinct text (``rows``) and term (``cols``), the tokens ``uniq``, and per term its first
    and second token (``tb`` −1 for a unigram). Tokens as in ``CountVectorizer``: stop words
    are removed before the bigrams are formed.
    """
    lo, hi = ngram_range
    doc_codes, distinct = pd.factorize(pd.Series([v if isinstance(v, str) else "" for v in vals], dtype=object))
    joined = _surface_joined(list(distinct))
    if joined is None:
        docs = surface(list(distinct)).tolist()
        joined = f" {_DOC_SEP} ".join(d.replace(_DOC_SEP, " ") for d in docs)
    toks = _WORD_OR_SEP_RE.findall(joined)
    if not toks:
        return None
    codes, uniq = pd.factorize(pd.Series(toks, dtype=object))
    uniq = np.asarray(uniq, dtype=object)
    # (not ``uniq == _DOC_SEP``: numpy strips the trailing NUL of the scalar and compares with '')
    is_sep_u = np.fromiter((u == _DOC_SEP for u in uniq), dtype=bool, count=len(uniq))
    drop_u = is_sep_u | np.fromiter((u in STOP_WORDS_FR or not _word_token(u) for u in uniq), dtype=bool,
                                    count=len(uniq))
    doc = np.cumsum(is_sep_u[codes])  # distinct text of each token
    keep = ~drop_u[codes]
    c, d = codes[keep].astype(np.int64), doc[keep]
    rows, cols, ta, tb = [], [], [], []
    if lo == 1:
        used = np.unique(c)
        rows.append(d)
        cols.append(np.searchsorted(used, c))
        ta.append(used)
        tb.append(np.full(len(used), -1, dtype=np.int64))
    if hi == 2:
        nxt = np.flatnonzero(d[:-1] == d[1:])  # adjacent kept tokens of the same text
        pair = c[nxt] * len(uniq) + c[nxt + 1]
        pcodes, puniq = pd.factorize(pair)
        rows.append(d[nxt])
        cols.append(pcodes + sum(len(x) for x in ta))
        ta.append(puniq // len(uniq))
        tb.append(puniq % len(uniq))
    ta_, tb_ = np.concatenate(ta), np.concatenate(tb)
    if not len(ta_):
        return None
    return doc_codes, len(distinct), np.concatenate(rows), np.concatenate(cols), uniq, ta_, tb_


def _term_strings(uniq: np.ndarray, ta: np.ndarray, tb: np.ndarray) -> np.ndarray:
    return np.array([uniq[a] if b < 0 else f"{uniq[a]} {uniq[b]}" for a, b in zip(ta.tolist(), tb.tolist(),
                                                                                strict=True)], dtype=object)


def _count_matrix(rows: np.ndarray, cols: np.ndarray, shape: tuple[int, int], doc_codes: np.ndarray,
                  binary: bool = False) -> sp.csr_matrix:
    Xd = sp.coo_matrix((np.ones(len(rows), dtype=np.float32), (rows, cols)), shape=shape).tocsr()
    Xd.sum_duplicates()
    if binary:
        Xd.data[:] = 1
    return Xd[doc_codes]


def surface_counts(texts: Sequence[str | None] | pd.Series, ngram_range: tuple[int, int] = (1, 2),
                   binary: bool = False) -> tuple[sp.csr_matrix, list[str]]:
    """Surface uni/bigram counts of texts: the same matrix and sorted terms as scikit-learn's
    ``CountVectorizer`` (:data:`TOKEN_PATTERN`, :data:`STOP_WORDS_FR` removed before bigrams)
    on :func:`surface`, computed with array operations.

    Why: the per-token Python loop of ``CountVectorizer`` and the per-text regexes took most of
    the time of emerging subjects and word clouds. Each distinct text is tokenised once (comment
    streams repeat short replies), by one regex pass over the joined corpus; uni/bigrams are
    counted with ``numpy``/``scipy``. Returns a float32 CSR (texts × terms) and the terms.
    """
    vals = texts.tolist() if isinstance(texts, pd.Series) else list(texts)
    empty = sp.csr_matrix((len(vals), 0), dtype=np.float32), []
    if not 1 <= ngram_range[0] <= ngram_range[1] <= 2:  # the array path knows uni- and bigrams only
        try:
            cv = _count_vectorizer(ngram_range, binary=binary)
            X = cv.fit_transform(surface(vals))
        except ValueError:
            return empty
        return X.tocsr(), list(cv.get_feature_names_out())
    ng = _ngrams(vals, ngram_range)
    if ng is None:
        return empty
    doc_codes, n_distinct, rows, cols, uniq, ta, tb = ng
    terms = _term_strings(uniq, ta, tb)
    order = np.argsort(terms, kind="stable")  # scikit-learn sorts its features by term
    rank = np.empty(len(order), dtype=np.int64)
    rank[order] = np.arange(len(order))
    X = _count_matrix(rows, rank[cols], (n_distinct, len(terms)), doc_codes, binary)
    return X, [str(t) for t in terms[order]]


def lemma_counts(texts: Sequence[str | None] | pd.Series, ngram_range: tuple[int, int] = (1, 2),
                 ordered: bool = False, bigram_firsts: frozenset[str] | None = None,
                 ) -> tuple[sp.csr_matrix, list[str]]:
    """Counts of lemma keys (:func:`lemma_key` of each surface uni/bigram) per text: float32 CSR
    (texts × keys) and the keys — the surface counts of :func:`surface_counts` summed over the
    terms sharing a key, without building the surface matrix.

    Keys come in an arbitrary order; ``ordered`` puts them in order of first appearance among
    the alphabetically sorted surface terms (the order ``max_features`` ties were cut in).
    ``bigram_firsts``: when only some bigram keys matter (a fixed vocabulary), the lemma keys
    their first word can have; other bigrams are dropped before their keys are built (the
    costly part of a transform).
    """
    vals = texts.tolist() if isinstance(texts, pd.Series) else list(texts)
    lo, hi = ngram_range
    if not 1 <= lo <= hi <= 2:
        X, terms = surface_counts(vals, ngram_range)
        if not terms:
            return X, []
        codes, keys = pd.factorize(pd.Series([lemma_key(t) for t in terms], dtype=object))
        M = sp.csr_matrix((np.ones(len(terms), dtype=np.float32), (np.arange(len(terms)), codes)),
                          shape=(len(terms), len(keys)))
        return (X @ M).tocsr(), [str(k) for k in keys]
    ng = _ngrams(vals, ngram_range)
    if ng is None:
        return sp.csr_matrix((len(vals), 0), dtype=np.float32), []
    doc_codes, n_distinct, rows, cols, uniq, ta, tb = ng
    need = np.unique(np.concatenate([ta, tb[tb >= 0]]))
    ukey = np.empty(len(uniq), dtype=object)
    ukey[need] = [lemma_key(u) for u in uniq[need]]
    if bigram_firsts is not None and (tb >= 0).any():
        first_ok = np.fromiter((k in bigram_firsts for k in ukey), dtype=bool, count=len(ukey))
        keep_t = (tb < 0) | first_ok[ta]
        if not keep_t.all():
            new_col = np.cumsum(keep_t) - 1
            occ = keep_t[cols]
            rows, cols = rows[occ], new_col[cols[occ]]
            ta, tb = ta[keep_t], tb[keep_t]
    # lemma_key works word by word: the key of 'a b' is key('a') + ' ' + key('b')
    tkeys = np.array([ukey[a] if b < 0 else f"{ukey[a]} {ukey[b]}" for a, b in zip(ta.tolist(), tb.tolist(),
                                                                                strict=True)], dtype=object)
    if ordered:
        order = np.argsort(_term_strings(uniq, ta, tb), kind="stable")
        rank = np.empty(len(order), dtype=np.int64)
        rank[order] = np.arange(len(order))
        kcodes, keys = pd.factorize(pd.Series(tkeys[order], dtype=object))
        kcodes = kcodes[rank]
    else:
        kcodes, keys = pd.factorize(pd.Series(tkeys, dtype=object))
    K = _count_matrix(rows, kcodes[cols], (n_distinct, len(keys)), doc_codes)
    return K, [str(k) for k in keys]


_KEY_CACHE: dict[str, str] = {}


def lemma_key(term: str) -> str:
    """Lemma key of a surface term: each word lemmatised and accent-folded ('pistes cyclables' → 'piste cyclable')."""
    k = _KEY_CACHE.get(term)
    if k is None:
        if len(_KEY_CACHE) > 2_000_000:  # bound memory on huge real corpora
            _KEY_CACHE.clear()
        k = " ".join(fold(w) if w[0] == "#" else lemma(w) for w in term.split())
        _KEY_CACHE[term] = k
    return k


def _count_vectorizer(ngram_range: tuple[int, int], binary: bool = False) -> CountVectorizer:
    return CountVectorizer(lowercase=False, token_pattern=TOKEN_PATTERN, stop_words=list(STOP_WORDS_FR),
                           ngram_range=ngram_range, dtype=np.float32, binary=binary)


@lru_cache(maxsize=20_000)
def phrase_key(phrase: str) -> str:
    """Lemma key of a taxonomy keyword, normalised exactly like texts ('office de tourisme' → 'office tourisme')."""
    if phrase.startswith("#"):
        # a hashtag keyword matches the whole-tag token only, not the plain word
        return "#" + fold(phrase[1:].strip().lower())
    s = surface_one(phrase)
    toks = [t for t in re.findall(TOKEN_PATTERN, s) if t not in STOP_WORDS_FR]
    return lemma_key(" ".join(toks))


def subject_term(term: str, exclude: set[str] | frozenset[str] = frozenset()) -> bool:
    """Whether a uni/bigram can name a subject: no bare number, no bigram glued to a hashtag, and
    no word that is only made of ``exclude`` words (territory names): '#montclaragglomeration' and
    'villeneuveles' go, '#eausaintaubin' stays (it leaves 'eau')."""
    parts = term.split()
    if any(w.isdigit() for w in parts):
        return False
    if len(parts) > 1 and any(w.startswith("#") for w in parts):
        return False
    folded = _folded_exclusions(frozenset(exclude))
    for w in parts:
        if w in exclude:
            return False
        rest = fold(w.lstrip("#"))
        if any(x in rest for x in folded) and not _known_word(w.lstrip("#")):  # 'sport' holds 'port'
            for x in folded:
                rest = rest.replace(x, "")
            if len(rest) < 3 or rest in STOP_WORDS_FR:
                return False
    return True


def subject_terms_mask(terms: Iterable[str], exclude: set[str] | frozenset[str] = frozenset()) -> np.ndarray:
    """:func:`subject_term` of many terms (boolean array), each distinct word checked once."""
    words: dict[str, bool] = {}

    def word_ok(w: str) -> bool:
        ok = words.get(w)
        if ok is None:
            ok = words[w] = not w.isdigit() and subject_term(w, exclude)
        return ok

    out = []
    for t in terms:
        parts = t.split()
        if len(parts) > 1 and "#" in t and any(w.startswith("#") for w in parts):
            out.append(False)
        else:
            out.append(all(word_ok(w) for w in parts))
    return np.array(out, dtype=bool)


@lru_cache(maxsize=64)
def _folded_exclusions(exclude: frozenset[str]) -> tuple[str, ...]:
    return tuple(sorted({fold(x) for x in exclude if len(x) >= 4}, key=len, reverse=True))


@lru_cache(maxsize=100_000)
def _known_word(word: str) -> bool:
    """A word of the French dictionary (simplemma), so not a glued territory name."""
    import simplemma

    try:
        return bool(simplemma.is_known(word, lang="fr"))
    except Exception:  # noqa: BLE001 - odd tokens: treat as unknown
        return False


class LemmaVectorizer(TransformerMixin, BaseEstimator):
    """Lemma uni/bigram counts of French texts (scikit-learn transformer, chunked, sparse).

    ``vocabulary`` fixes the keys (lemma keys, see :func:`phrase_key`); otherwise ``fit`` keeps
    keys seen in at least ``min_df`` documents and in at most ``max_df`` of them (share), the
    ``max_features`` most frequent first. ``subject_terms`` also drops keys unfit to name a
    subject: bare numbers ('19 h', '2026'), bigrams glued to a hashtag, and keys holding one of
    the ``exclude`` lemmas (e.g. the territory's own name). ``extra_vocabulary`` is always kept.
    """

    def __init__(self, ngram_range: tuple[int, int] = (1, 2), min_df: int = 1, max_df: float = 1.0,
                 max_features: int | None = None, vocabulary: Sequence[str] | None = None,
                 extra_vocabulary: Sequence[str] = (), subject_terms: bool = False, exclude: Sequence[str] = (),
                 chunk_size: int = 50_000):
        self.ngram_range = ngram_range
        self.min_df = min_df
        self.max_df = max_df
        self.max_features = max_features
        self.vocabulary = vocabulary
        self.extra_vocabulary = extra_vocabulary
        self.subject_terms = subject_terms
        self.exclude = exclude
        self.chunk_size = chunk_size

    def _chunks(self, texts: Sequence[str | None] | pd.Series) -> Iterable[list]:
        vals = texts.tolist() if isinstance(texts, pd.Series) else list(texts)
        for i in range(0, len(vals), self.chunk_size):
            yield vals[i:i + self.chunk_size]

    def _key_counts(self, chunk: Sequence[str | None], ordered: bool = False,
                    prune: bool = False) -> tuple[sp.csr_matrix, list[str]]:
        firsts = getattr(self, "bigram_firsts_", None) if prune else None
        return lemma_counts(chunk, self.ngram_range, ordered=ordered, bigram_firsts=firsts)

    def _learn(self, key_parts: list[tuple[sp.csr_matrix, list[str]]], n_docs: int) -> None:
        if self.vocabulary is not None:
            keys = list(dict.fromkeys(self.vocabulary))
        else:
            # document frequency per lemma key: non-zero entries per column (K is canonical);
            # keys in order of first appearance over the chunks
            dfs = [pd.Series(np.bincount(K.indices, minlength=len(keys)).astype("float64"),
                             index=pd.Index(keys, dtype=object)) for K, keys in key_parts if keys]
            s = (dfs[0] if len(dfs) == 1 else pd.concat(dfs).groupby(level=0, sort=False).sum()) if dfs else \
                pd.Series(dtype="float64", index=pd.Index([], dtype=object))
            s = s[(s >= self.min_df) & (s <= self.max_df * max(n_docs, 1))]
            if self.subject_terms:
                excl = {lemma_key(w) for w in self.exclude}
                s = s[subject_terms_mask(s.index, excl)]
            s = s.sort_values(ascending=False, kind="stable")
            if self.max_features:
                s = s.iloc[: self.max_features]
            keys = sorted(s.index)
        for k in self.extra_vocabulary:
            if k not in keys:
                keys.append(k)
        self.vocabulary_ = {k: i for i, k in enumerate(keys)}
        self.feature_names_ = np.array(keys, dtype=object)
        # first words of the bigram keys: a transform builds no other bigram (same matrix, faster)
        self.bigram_firsts_ = frozenset(k.split(" ", 1)[0] for k in keys if " " in k)

    def _project(self, K: sp.csr_matrix, keys: list[str]) -> sp.csr_matrix:
        # Keep the vocabulary's columns of K, renumbered (each key is one column of K: no sums).
        vocab = self.vocabulary_
        idx = np.fromiter((vocab.get(k, -1) for k in keys), dtype=np.int64, count=len(keys))
        col = idx[K.indices]
        keep = col >= 0
        indptr = np.concatenate([[0], np.cumsum(keep)])[K.indptr]
        out = sp.csr_matrix((K.data[keep], col[keep], indptr), shape=(K.shape[0], len(vocab)))
        out.sort_indices()
        return out

    def _stack(self, parts: list[sp.csr_matrix]) -> sp.csr_matrix:
        if not parts:
            return sp.csr_matrix((0, len(self.vocabulary_)), dtype=np.float32)
        return sp.vstack(parts, format="csr")

    def fit(self, texts: Sequence[str | None] | pd.Series, y: Any = None) -> LemmaVectorizer:
        if self.vocabulary is not None:
            self._learn([], 0)
            return self
        parts = [self._key_counts(c, self._ordered()) for c in self._chunks(texts)]
        self._learn(parts, sum(X.shape[0] for X, _ in parts))
        return self

    def _ordered(self) -> bool:
        # key order matters only to break df ties at the max_features cut
        return self.max_features is not None and self.vocabulary is None

    def fit_transform(self, texts: Sequence[str | None] | pd.Series, y: Any = None, **_: Any) -> sp.csr_matrix:
        """``fit`` then ``transform`` with one tokenisation pass (the costly part)."""
        parts = [self._key_counts(c, self._ordered()) for c in self._chunks(texts)]
        self._learn(parts, sum(X.shape[0] for X, _ in parts))
        return self._stack([self._project(K, keys) for K, keys in parts])

    def transform(self, texts: Sequence[str | None] | pd.Series) -> sp.csr_matrix:
        """Counts (n_texts × n_keys) as a float32 CSR matrix."""
        return self._stack([self._project(*self._key_counts(c, prune=True)) for c in self._chunks(texts)])

    def get_feature_names_out(self, input_features: Any = None) -> np.ndarray:
        return self.feature_names_


# ------------------------------------------------------------------------------ taxonomy
@dataclass(frozen=True)
class Theme:
    """One theme of the taxonomy."""

    id: str
    label: str
    description: str
    keywords: tuple[str, ...]
    hashtags: tuple[str, ...] = ()
    negative: tuple[str, ...] = ()
    weight: float = 1.0


@dataclass(frozen=True)
class Taxonomy:
    """The editable theme taxonomy (``data/themes.toml``)."""

    themes: tuple[Theme, ...]
    version: str
    path: Path | None = None

    @property
    def ids(self) -> list[str]:
        return [t.id for t in self.themes]

    @property
    def labels(self) -> dict[str, str]:
        return {t.id: t.label for t in self.themes}

    def label(self, theme_id: str) -> str:
        """French label of a theme id ('Sans thème' for the sentinel)."""
        return self.labels.get(theme_id, "Sans thème" if theme_id == NO_THEME else theme_id)


def load_taxonomy(path: str | Path | None = None) -> Taxonomy:
    """Read and validate the taxonomy TOML; errors say which theme and keyword is wrong.

    Cached per file and modification time: an edited file is read again.
    """
    p = Path(path) if path else THEMES_PATH
    return _load_taxonomy(p.resolve(), p.stat().st_mtime_ns)


@lru_cache(maxsize=8)
def _load_taxonomy(p: Path, _mtime: int) -> Taxonomy:
    raw = p.read_bytes()
    data = tomllib.loads(raw.decode("utf-8"))
    themes, seen = [], set()
    for i, t in enumerate(data.get("theme", []), 1):
        tid = t.get("id")
        if not tid or not re.fullmatch(r"[a-z0-9_]+", tid) or tid == NO_THEME:
            raise ValueError(f"{p} : thème n°{i} sans identifiant valide (minuscules, chiffres, _).")
        if tid in seen:
            raise ValueError(f"{p} : identifiant de thème en double « {tid} ».")
        seen.add(tid)
        kws = tuple(t.get("keywords", []))
        for kw in (*kws, *t.get("negative", [])):
            key = phrase_key(kw)
            if not key:
                raise ValueError(f"{p} : thème « {tid} », mot-clé « {kw} » ne contient que des mots-outils.")
            if len(key.split()) > 2:
                raise ValueError(f"{p} : thème « {tid} », mot-clé « {kw} » a plus de deux mots significatifs "
                                 f"({key}) ; raccourcissez-le.")
        themes.append(Theme(tid, t.get("label", tid), t.get("description", ""), kws,
                            tuple(t.get("hashtags", [])), tuple(t.get("negative", [])),
                            float(t.get("weight", 1.0))))
    if not themes:
        raise ValueError(f"{p} : aucun thème ([[theme]]) trouvé.")
    return Taxonomy(tuple(themes), hashlib.sha256(raw).hexdigest()[:8], p)


# ------------------------------------------------------------------------------ classifier
def _binarize(X: sp.csr_matrix) -> sp.csr_matrix:
    B = X.copy()
    B.data[:] = 1
    return B


# Keyword matrices per taxonomy (path, version): built once, shared by every classifier.
_SEED_CACHE: dict[tuple[Path | None, str], tuple[LemmaVectorizer, sp.csr_matrix, sp.csr_matrix]] = {}
MODEL_FAMILY = "themes-2.0"
# Most evidence similarity alone can give (score 1 − e^−0,9 = 0,59): enough for a theme, less than a keyword.
SIMILARITY_CAP = 0.9


def _keyword_parts(tax: Taxonomy) -> tuple[dict[str, int], list, list]:
    keys: dict[str, int] = {}
    pos, neg = [], []
    for j, t in enumerate(tax.themes):
        for kw in (*t.keywords, *t.hashtags):
            pos.append((keys.setdefault(phrase_key(kw), len(keys)), j, t.weight))
        for kw in t.negative:
            neg.append((keys.setdefault(phrase_key(kw), len(keys)), j, 1.0))
    return keys, pos, neg


def _sparse(entries: list, n: int, m: int) -> sp.csr_matrix:
    if not entries:
        return sp.csr_matrix((n, m), dtype=np.float32)
    r, c, v = zip(*entries, strict=True)
    W = sp.coo_matrix((np.array(v, dtype=np.float32), (r, c)), shape=(n, m)).tocsr()
    W.data = np.minimum(W.data, max(v))  # a keyword listed twice in a theme counts once
    return W


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
                 similarity_floor: float = 0.0, similarity_weight: float = 20.0,
                 embeddings: str | None = None):
        self.taxonomy = taxonomy
        self.threshold = threshold
        self.label_weight = label_weight
        self.C = C
        self.max_features = max_features
        self.expand = expand
        self.similarity_floor = similarity_floor
        self.similarity_weight = similarity_weight
        self.embeddings = embeddings

    # -- taxonomy evidence
    def _tax(self) -> Taxonomy:
        """The taxonomy captured at fit (before fit: the parameter or the default file)."""
        tax = getattr(self, "taxonomy_", None)
        if tax is not None:
            return tax
        return self.taxonomy if self.taxonomy is not None else load_taxonomy()

    def _build_seed(self, tax: Taxonomy) -> None:
        keys, pos, neg = _keyword_parts(tax)
        n, m = len(keys), len(tax.themes)
        vocab = list(keys)
        self.seed_pos_, self.seed_neg_ = _sparse(pos, n, m), _sparse(neg, n, m)
        self.n_keyword_keys_ = n
        if self.expand:
            from analysis.embeddings import load_table

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
        B = _binarize(self.seed_vectorizer_.transform(texts))
        K = B[:, : self.n_keyword_keys_]
        s = (K @ self.seed_pos_).toarray() - (K @ self.seed_neg_).toarray()
        s = np.clip(s, 0, None)
        if self.expand and len(s):
            # cosine to each centroid = (B·W·Cᵀ) ÷ ‖B·W‖: sparse products only (a BLAS call on
            # these small dense blocks cost more in thread start-up than the whole product)
            norms = np.sqrt(np.einsum("ij,ij->i", *(2 * [np.asarray(B @ self.word_vectors_)])))
            S = np.asarray(B @ self.word_centroid_sims_) / np.maximum(norms, 1e-9)[:, None]
            j = S.argmax(axis=1)
            best = S[np.arange(len(S)), j]
            e = self.similarity_weight * np.clip((best - self.similarity_floor) / (1 - self.similarity_floor), 0, None)
            # only for texts without any keyword: the taxonomy decides when it can, and similarity
            # never adds a second theme beside a keyword's; capped below one keyword's evidence
            e[s.max(axis=1) > 0] = 0
            s[np.arange(len(s)), j] += np.minimum(e, SIMILARITY_CAP)
        return s

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


def parse_labels(value: str | float | None) -> list[str] | None:
    """'a, b' → ['a', 'b']; '' → [] (explicitly no theme); NaN/None → None (unlabelled)."""
    if value is None or (isinstance(value, float) and math.isnan(value)):
        return None
    return [v.strip() for v in re.split(r"[,;|]", str(value)) if v.strip()]


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


# ------------------------------------------------------------------------------ topic discovery
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


# ------------------------------------------------------------------------------ reads
def _label_map(tax: Taxonomy | None = None) -> dict[str, str]:
    tax = tax or load_taxonomy()
    return {**tax.labels, NO_THEME: "Sans thème"}


def theme_shares(con: Any, f: Filters | None = None, freq: str | None = "month",
                 by: Sequence[str] = ("territory_id",), item_type: str = "message",
                 taxonomy: Taxonomy | None = None) -> pd.DataFrame:
    """Share of items per theme and period: items with the theme ÷ all items of the group.

    Multi-label, so shares of a period do not add up to 100 %. ``item_type`` 'message' is the
    public conversation, 'post' our posts (official accounts). ``freq`` 'day', 'week', 'month'
    or None (the whole filtered period, ``period`` = its start). Columns: period, *by, theme,
    label, n_items, n_total, share.
    """
    f = f or Filters()
    if freq not in ("day", "week", "month", "quarter", "year", None):
        raise ValueError(f"Période d'agrégation inconnue : {freq}")
    table, idcol = ("messages", "message_id") if item_type == "message" else ("posts", "post_id")
    w, params = f.where("i")
    extra = "AND i.is_official IS NOT TRUE" if item_type == "message" else "AND i.territory_id IS NOT NULL"
    group = ", ".join(f"i.{c}" for c in by)
    gsel = (group + ", ") if by else ""
    period = f"date_trunc('{freq}', i.created_at)::DATE" if freq else (
        f"DATE '{pd.Timestamp(f.start).date().isoformat()}'" if f.start else "DATE '1970-01-01'")
    df = con.execute(
        f"""
        WITH items AS (
            SELECT i.{idcol} AS item_id, {period} AS period {"," if by else ""} {group}
            FROM {table} i WHERE {w} {extra}),
        tot AS (SELECT period, {gsel.replace("i.", "")} count(*) AS n_total FROM items GROUP BY ALL),
        th AS (SELECT it.period, {gsel.replace("i.", "it.")} t.theme, count(*) AS n_items
               FROM items it JOIN themes t ON t.item_id = it.item_id AND t.item_type = ?
               WHERE t.theme <> '{NO_THEME}' GROUP BY ALL)
        SELECT th.*, tot.n_total FROM th JOIN tot USING (period {"," if by else ""} {", ".join(by)})
        ORDER BY period, theme
        """, params + [item_type]).df()
    df["share"] = df["n_items"] / df["n_total"]
    df["label"] = df["theme"].map(_label_map(taxonomy))
    return df


def topic_shares(con: Any, model: TopicDiscovery, f: Filters | None = None, freq: str = "month",
                 by: Sequence[str] = ("territory_id",), limit: int | None = None) -> pd.DataFrame:
    """Share of public messages per discovered topic and period: messages whose dominant topic
    is the topic ÷ all messages of the group (messages sharing no term with any topic count in
    the total, under topic −1 'hors sujets'). Columns: period, *by, topic, label, n_items,
    n_total, share.
    """
    if freq not in ("day", "week", "month", "quarter", "year"):
        raise ValueError(f"Période d'agrégation inconnue : {freq}")
    f = f or Filters()
    w, params = f.where("m")
    cols = "".join(f", m.{c}" for c in by)
    lim = f"LIMIT {int(limit)}" if limit else ""
    df = con.execute(
        f"SELECT date_trunc('{freq}', m.created_at)::DATE AS period{cols}, m.text FROM messages m "
        f"WHERE {w} AND m.is_official IS NOT TRUE AND m.text IS NOT NULL ORDER BY m.created_at {lim}", params).df()
    keys = ["period", *by]
    if df.empty:
        return pd.DataFrame(columns=[*keys, "topic", "label", "n_items", "n_total", "share"])
    df["topic"] = model.dominant_topic(df["text"])
    out = df.groupby([*keys, "topic"], dropna=False).size().rename("n_items").reset_index()
    tot = df.groupby(keys, dropna=False).size().rename("n_total").reset_index()
    out = out.merge(tot, on=keys)
    out["share"] = out["n_items"] / out["n_total"]
    labels = dict(enumerate(model.labels_))
    out["label"] = out["topic"].map(lambda t: labels.get(t, "hors sujets"))
    return out[[*keys, "topic", "label", "n_items", "n_total", "share"]]


def themed_messages(con: Any, f: Filters | None = None, theme: str | None = None, tone: str | None = None,
                    item_type: str = "message", limit: int | None = 50_000, spread: bool = False) -> pd.DataFrame:
    """Texts of items (no author column) with optional theme and sentiment tone filter.

    With ``limit``, the first items in time are kept; ``spread=True`` keeps instead a
    deterministic pseudo-random sample (hash of the id) spread over the whole period.
    """
    f = f or Filters()
    table, idcol = ("messages", "message_id") if item_type == "message" else ("posts", "post_id")
    w, params = f.where("i")
    where = [w]
    if item_type == "message":
        where.append("i.is_official IS NOT TRUE")
    else:
        where.append("i.territory_id IS NOT NULL")
    if theme:
        where.append(f"EXISTS (SELECT 1 FROM themes t WHERE t.item_id = i.{idcol} AND t.item_type = ? AND t.theme = ?)")
        params += [item_type, theme]
    if tone:
        where.append(f"EXISTS (SELECT 1 FROM sentiment s WHERE s.item_id = i.{idcol} AND s.item_type = ? "
                     "AND s.label = ?)")
        params += [item_type, tone]
    lim = f"LIMIT {int(limit)}" if limit else ""
    sql = (f"SELECT i.{idcol} AS item_id, i.created_at, i.territory_id, i.platform, i.text FROM {table} i "
           f"WHERE {' AND '.join(where)} ORDER BY {'hash(i.' + idcol + ')' if spread and limit else 'i.created_at'} {lim}")
    if spread and limit:
        sql = f"SELECT * FROM ({sql}) ORDER BY created_at"
    return con.execute(sql, params).df()


def sentiment_by_theme(con: Any, f: Filters | None = None, taxonomy: Taxonomy | None = None) -> pd.DataFrame:
    """Tone of the public conversation per theme: counts, negative share and net sentiment.

    Net sentiment = (positive − negative) ÷ (positive + negative) (:func:`analysis.metrics.net_sentiment`).
    Empty when the ``sentiment`` table has no rows for these messages.
    """
    from analysis.metrics import net_sentiment

    f = f or Filters()
    w, params = f.where("m")
    df = con.execute(
        f"""
        SELECT t.theme, count(*) AS n,
               count(*) FILTER (WHERE s.label = 'negative') AS negative,
               count(*) FILTER (WHERE s.label = 'neutral') AS neutral,
               count(*) FILTER (WHERE s.label = 'positive') AS positive
        FROM messages m
        JOIN themes t ON t.item_id = m.message_id AND t.item_type = 'message'
        JOIN sentiment s ON s.item_id = m.message_id AND s.item_type = 'message'
        WHERE {w} AND m.is_official IS NOT TRUE AND t.theme <> '{NO_THEME}' AND s.label IS NOT NULL
        GROUP BY t.theme ORDER BY negative DESC, t.theme
        """, params).df()
    df["negative_share"] = df["negative"] / df["n"].where(df["n"] > 0)
    df["net_sentiment"] = [net_sentiment(p, n) for p, n in zip(df["positive"], df["negative"], strict=True)]
    df["label"] = df["theme"].map(_label_map(taxonomy))
    return df.sort_values("negative_share", ascending=False, kind="stable").reset_index(drop=True)


def posts_vs_conversation(con: Any, f: Filters | None = None, taxonomy: Taxonomy | None = None,
                          ratio: float = 1.5) -> pd.DataFrame:
    """Our posts vs the public conversation, per theme.

    post_share = our posts with the theme ÷ all our posts; message_share = public messages with
    the theme ÷ all public messages; engagement_per_post = mean engagement of our posts with the
    theme (:func:`analysis.metrics.engagement_sql`, posts with unknown engagement left out).
    ``situation``: when post_share ≥ ratio × message_share, "Nous en parlons, peu d'écho" if the
    engagement per post is below the median of themes, else "Nous en parlons, avec de l'écho";
    "Le public en parle, nous peu" when message_share ≥ ratio × post_share; else "Équilibré".
    """
    from analysis.metrics import engagement_sql

    f = f or Filters()
    wp, pp = f.where("p")
    wm, pm = f.where("m")
    posts = con.execute(
        f"""
        WITH p AS (SELECT p.post_id, {engagement_sql("p")} AS engagement FROM posts p
                   WHERE {wp} AND p.territory_id IS NOT NULL)
        SELECT t.theme, count(*) AS posts, avg(p.engagement) AS engagement_per_post,
               count(p.engagement) AS posts_with_engagement,
               (SELECT count(*) FROM p) AS posts_total
        FROM p JOIN themes t ON t.item_id = p.post_id AND t.item_type = 'post'
        WHERE t.theme <> '{NO_THEME}' GROUP BY t.theme
        """, pp).df()
    msgs = con.execute(
        f"""
        WITH m AS (SELECT m.message_id FROM messages m WHERE {wm} AND m.is_official IS NOT TRUE)
        SELECT t.theme, count(*) AS messages, (SELECT count(*) FROM m) AS messages_total
        FROM m JOIN themes t ON t.item_id = m.message_id AND t.item_type = 'message'
        WHERE t.theme <> '{NO_THEME}' GROUP BY t.theme
        """, pm).df()
    tax = taxonomy or load_taxonomy()
    out = pd.DataFrame({"theme": tax.ids})
    out = out.merge(posts, on="theme", how="left").merge(msgs, on="theme", how="left")
    out["posts"] = out["posts"].fillna(0).astype(int)
    out["messages"] = out["messages"].fillna(0).astype(int)
    pt = posts["posts_total"].iloc[0] if len(posts) else con.execute(
        f"SELECT count(*) FROM posts p WHERE {wp} AND p.territory_id IS NOT NULL", pp).fetchone()[0]
    mt = msgs["messages_total"].iloc[0] if len(msgs) else con.execute(
        f"SELECT count(*) FROM messages m WHERE {wm} AND m.is_official IS NOT TRUE", pm).fetchone()[0]
    out["post_share"] = out["posts"] / pt if pt else np.nan
    out["message_share"] = out["messages"] / mt if mt else np.nan
    out = out.drop(columns=["posts_total", "messages_total"])
    med = out["engagement_per_post"].median()
    we_talk = (out["post_share"] >= ratio * out["message_share"]) & (out["posts"] > 0)
    they_talk = (out["message_share"] >= ratio * out["post_share"]) & (out["messages"] > 0)
    echo = out["engagement_per_post"] >= med
    sit = np.select([we_talk & ~echo, we_talk & echo, they_talk],
                    [SITUATION_NO_ECHO, SITUATION_ECHO, SITUATION_SILENT], SITUATION_BALANCED)
    out["situation"] = sit
    out["label"] = out["theme"].map(tax.labels)
    return out


# ------------------------------------------------------------------------------ emergence
def detect_bursts(counts: pd.DataFrame, baseline_days: int = 28, min_history: int = 7, z_threshold: float = 4.0,
                  min_support: int = 5, max_gap: int = 2) -> pd.DataFrame:
    """Bursts of daily counts against each term's own baseline.

    ``counts``: one row per day (DatetimeIndex, complete calendar), one column per term.
    Baseline of day d = mean μ and variance σ² of the ``baseline_days`` days before d (at least
    ``min_history`` of them). z = (c − μ) ÷ √(max(σ², μ) + 0,25) — the Poisson floor keeps a
    quiet term from exploding on a count of 2. A day bursts when z ≥ ``z_threshold`` and
    c ≥ ``min_support``. Burst days of a term separated by at most ``max_gap`` quiet days form
    one episode; once started, an episode goes on while the count stays ≥ ``min_support`` and
    at ``z_threshold``/2 above the baseline of its first day (so the burst, entering the rolling
    window, does not end itself). Returns one row per episode: term, start, end (inclusive), peak, peak_count,
    count (total over the episode), baseline (μ at the start), max_z.
    """
    cols = ["term", "start", "end", "peak", "peak_count", "count", "baseline", "max_z"]
    if counts.empty:
        return pd.DataFrame(columns=cols)
    c = counts.astype("float64")
    prev = c.shift(1).rolling(baseline_days, min_periods=min_history)
    mu, var = prev.mean(), prev.var(ddof=0)
    den = np.sqrt(np.maximum(var, mu) + 0.25)
    z = (c - mu) / den
    hot = ((z >= z_threshold) & (c >= min_support)).to_numpy()
    rows = []
    days = [d.date() for d in c.index]  # indexing a DatetimeIndex per episode was slow
    C, MU, DEN = c.to_numpy(), mu.to_numpy(), den.to_numpy()
    n = len(days)
    for j in np.flatnonzero(hot.any(axis=0)):
        i = 0
        while i < n:
            if not hot[i, j]:
                i += 1
                continue
            # The episode keeps the baseline of its first day: the burst must not raise its own bar.
            mu0, den0 = MU[i, j], DEN[i, j]
            zj = (C[:, j] - mu0) / den0
            last, k = i, i
            while k + 1 < n and k + 1 - last <= max_gap + 1:
                k += 1
                if hot[k, j] or (C[k, j] >= min_support and zj[k] >= z_threshold / 2):
                    last = k
            seg = slice(i, last + 1)
            pk = i + int(np.argmax(C[seg, j]))
            rows.append({"term": c.columns[j], "start": days[i], "end": days[last],
                         "peak": days[pk], "peak_count": int(C[pk, j]), "count": int(C[seg, j].sum()),
                         "baseline": float(mu0), "max_z": float(zj[seg].max())})
            i = last + 1
    return pd.DataFrame(rows, columns=cols).sort_values(["max_z"], ascending=False, kind="stable",
                                                       ignore_index=True)


@dataclass
class EmergingSubject:
    """A subject rising above its baseline: terms, hashtags, dates and the messages behind it."""

    label: str
    terms: list[str]
    hashtags: list[str]
    start: date
    end: date
    peak: date
    count: int
    baseline: float
    max_z: float
    messages: pd.DataFrame = field(repr=False)


def _daily_matrix(pos: np.ndarray, X: sp.csr_matrix, n_days: int) -> np.ndarray:
    """Day × term counts: rows of ``X`` summed per day (``pos`` = day index of each row, −1 = none)."""
    ok = pos >= 0
    D = sp.csr_matrix((np.ones(ok.sum(), dtype=np.float32), (pos[ok], np.flatnonzero(ok))),
                      shape=(n_days, X.shape[0]))
    return (D @ X).toarray()


# A word already in at least this share of the territory's messages of the baseline window is
# background vocabulary (« top », « super », « content », « nouveau », « mairie »…): it rises with
# the volume and names nothing new. Measured on the demo store:
# evaluative and filler words sit at 2–8 % in every territory, subject words (« eau », « navette »,
# « concert », « musée ») below 2 %, and on the real hotel-review stream « chambre », « personnel »,
# « emplacement » sit far above it.
GENERIC_SHARE = 0.02
# A subject named by one lone word needs a word that was rare before (below this share of the
# baseline messages): « colonie » or « canicule » yes, « vieux », « content », « quartier » no.
LONE_SHARE = 0.005
# A subject must be carried by several people: one angry author posting ten times is not a subject.
MIN_AUTHORS = 3
# A term must rise in *share* of the messages, not only in count: a word riding a volume rise
# (summer, a busy post) keeps its share and is not a subject.
MIN_LIFT = 2.0


# Evaluative and filler words (lemma keys, folded) that never name a subject on their own, however
# rare they were before: « nouveau », « plaire », « super » rise with any announcement. In a phrase
# they stay (« nouveau marché »); a subject whose only words are these is no subject (issue 22).
LONE_GENERIC = frozenset("""
nouveau nouvel nouvelle ancien plaire aimer adorer super top genial bravo merci beau bel belle joli
content heureux bien mieux bon mauvais nul grand petit gros vrai vraiment chouette magnifique excellent
parfait formidable incroyable dommage honte triste penser savoir vouloir venir prendre mettre falloir
trouver attendre arriver passer rester demander esperer aucun chose truc gens monde annee jour semaine
mois fois moment temps
""".split())


def generic_words(base_share: dict[str, float], threshold: float = GENERIC_SHARE) -> set[str]:
    """Words whose share of the baseline messages is at least ``threshold`` (background vocabulary)."""
    return {w for w, v in base_share.items() if v >= threshold}


def specific_term(term: str, generic: set[str] | frozenset[str]) -> bool:
    """Whether a term can name a subject on its own: a hashtag, or a uni/bigram with at least one word
    that is not background vocabulary (« eau potable » yes, « beau initiative », « top » no)."""
    if term.startswith("#"):
        return True
    return any(w not in generic for w in term.split())


def distinct_authors(authors: Sequence[Any]) -> int:
    """Distinct authors of messages; a message without author (export without authors) counts as one."""
    known = {a for a in authors if a is not None and a == a and a != ""}
    return len(known) + sum(1 for a in authors if a is None or a != a or a == "")


def emerging_subjects(con: Any, f: Filters, baseline_days: int = 28, z_threshold: float = 4.0,
                      min_support: int = 5, min_total: int = 10, overlap: float = 0.5, max_subjects: int = 10,
                      max_terms: int = 8, messages_per_subject: int = 20, min_authors: int = MIN_AUTHORS,
                      generic_share: float | None = GENERIC_SHARE, min_lift: float = MIN_LIFT,
                      lone_share: float | None = LONE_SHARE) -> list[EmergingSubject]:
    """Subjects and hashtags bursting inside ``[f.start, f.end)`` against their own baseline.

    Public messages of ``f`` plus the ``baseline_days`` before ``f.start`` are vectorised (lemma
    uni/bigrams and hashtags; numbers and the territory's own name left out), counted per day
    and passed to :func:`detect_bursts`. Episodes that overlap the period are grouped into
    subjects when their messages overlap (share of the smaller set ≥ ``overlap``); a subject
    needs ``min_total`` messages. Terms are ranked by their burst z-score; the label is made of
    the top ones (:func:`topic_label`). Messages carry no author column.

    A subject a human would keep (issue 17): only *specific* terms burst (:func:`specific_term`:
    words in at least ``generic_share`` of the territory's messages of the ``baseline_days``
    before the period are background vocabulary, so « top », « content · mairie » or « beau
    initiative » cannot name a subject; ``None`` switches this off), a term's share of the
    messages of its episode days must be at least ``min_lift`` × its baseline share (a word riding
    a volume rise is not new), a subject named by one lone word (no phrase, no hashtag) needs a
    word below ``lone_share`` of the baseline messages, and a subject needs ``min_authors``
    distinct authors. When nothing
    passes, the list is empty: the page says so.
    """
    if not (f.start and f.end):
        raise ValueError("emerging_subjects a besoin d'une période (début et fin).")
    start = pd.Timestamp(f.start)
    ext = Filters(territories=f.territories, platforms=f.platforms,
                  start=(start - timedelta(days=baseline_days)).date(), end=f.end)
    w, params = ext.where("m")
    # Only the row id, the day (index in the calendar) and the text of each message: the other
    # columns are read for the messages shown (converting 80 000 ids and names was a sixth of the time).
    res = con.execute(
        f"SELECT m.rowid AS rid, date_diff('day', ?::DATE, m.created_at::DATE)::INTEGER AS pos, m.text, "
        f"m.author_hash "
        f"FROM messages m WHERE {w} AND m.is_official IS NOT TRUE AND m.text IS NOT NULL "
        f"ORDER BY m.created_at, m.message_id", [ext.start, *params]).fetchnumpy()
    rid, pos, texts = np.asarray(res["rid"]), np.asarray(res["pos"]).astype(np.int64), np.asarray(res["text"])
    authors = np.asarray(res["author_hash"], dtype=object)
    if not len(rid):
        return []
    calendar = pd.date_range(pd.Timestamp(ext.start), pd.Timestamp(f.end) - pd.Timedelta(days=1), freq="D")
    pos[(pos < 0) | (pos >= len(calendar))] = -1
    # One chunk for a territory's year: each distinct text tokenised once (no max_features, so
    # the chunking cannot change the vocabulary).
    vec = LemmaVectorizer(min_df=min_support, max_df=0.5, subject_terms=True,
                          exclude=sorted(territory_words(con, f.territories)), chunk_size=200_000)
    X = _binarize(vec.fit_transform(texts)).tocsr()
    names = np.asarray(vec.get_feature_names_out(), dtype=object)
    counts = _daily_matrix(pos, X, len(calendar))
    # A burst needs a day with ≥ min_support messages: other terms cannot burst (same result),
    # and dropping them spares most of the rolling baselines.
    hot = counts.max(axis=0, initial=0) >= min_support
    daily = pd.DataFrame(counts[:, hot], index=calendar, columns=pd.Index(names[hot], dtype=object))
    eps = detect_bursts(daily, baseline_days=baseline_days, z_threshold=z_threshold, min_support=min_support)
    col_of = {n: i for i, n in enumerate(names)}
    day0 = pd.Timestamp(ext.start).date()
    # Background vocabulary and lift, from the baseline window (days before f.start), on its
    # ordinary days only: a crisis there (three times the volume) would dilute every everyday word.
    day_total = np.bincount(pos[pos >= 0], minlength=len(calendar)).astype(float)
    bt = day_total[:baseline_days]
    ordinary = bt <= 1.5 * np.median(bt[bt > 0]) if (bt > 0).any() else bt > 0
    base = (pos >= 0) & (pos < baseline_days)
    base[base] = ordinary[pos[base]]
    XA = X.tocsc()
    eps = eps[pd.to_datetime(eps["end"]) >= start] if len(eps) else eps
    if eps.empty:
        return []
    n_base = int(base.sum())
    base_share = (np.asarray(X[base].sum(axis=0)).ravel() / n_base) if n_base else np.zeros(len(names))
    generic: set[str] = set()
    if generic_share is not None and n_base:
        generic = generic_words({n: float(v) for n, v in zip(names, base_share, strict=True) if " " not in n},
                                generic_share)

    def keep(ep: Any) -> bool:
        if not specific_term(ep.term, generic):
            return False
        if not n_base or min_lift <= 1:
            return True
        a, b = (ep.start - day0).days, (ep.end - day0).days
        share = ep.count / max(day_total[a:b + 1].sum(), 1.0)
        return share >= min_lift * max(base_share[col_of[ep.term]], 1.0 / n_base)

    eps = eps[[keep(ep) for ep in eps.itertuples(index=False)]]
    if eps.empty:
        return []
    groups: list[dict] = []
    # message → groups holding it: an episode is compared only with the groups it shares a
    # message with (the others have no overlap), in group order as before.
    doc_groups: dict[int, set[int]] = {}
    for ep in eps.sort_values(["count", "max_z"], ascending=False).itertuples(index=False):
        j = col_of[ep.term]
        rows = XA.indices[XA.indptr[j]:XA.indptr[j + 1]]  # messages with the term (cheaper than XA[:, j])
        docs = rows[(pos[rows] >= (ep.start - day0).days) & (pos[rows] <= (ep.end - day0).days)]
        docset = set(docs.tolist())
        for gi in sorted({gi for d in docset for gi in doc_groups.get(d, ())}):
            g = groups[gi]
            inter = len(g["docs"] & docset)
            if inter and inter / min(len(g["docs"]), len(docset)) >= overlap:
                g["eps"].append(ep)
                for d in docset - g["docs"]:
                    doc_groups.setdefault(d, set()).add(gi)
                g["docs"] |= docset
                break
        else:
            groups.append({"eps": [ep], "docs": docset})
            for d in docset:
                doc_groups.setdefault(d, set()).add(len(groups) - 1)
    subjects = []
    # Only the max_subjects largest groups are returned (stable sort: ties keep the group order).
    def readable(g: dict) -> bool:
        names_g = {e.term for e in g["eps"]}
        if all(t in LONE_GENERIC for t in names_g):  # only « nouveau », « plaire »…: nothing named
            return False
        if lone_share is None or not n_base or len(names_g) > 1 or any(" " in t or t[0] == "#" for t in names_g):
            return True
        return base_share[col_of[next(iter(names_g))]] < lone_share

    groups = sorted((g for g in groups if len(g["docs"]) >= min_total and readable(g)
                     and distinct_authors(authors[sorted(g["docs"])].tolist()) >= min_authors),
                    key=lambda g: len(g["docs"]), reverse=True)[:max_subjects]
    shown = [sorted(g["docs"])[:messages_per_subject] for g in groups]
    table = _messages_by_rowid(con, rid[sorted({d for docs in shown for d in docs})])  # one scan for all
    for g, docs_shown in zip(groups, shown, strict=True):
        best: dict[str, Any] = {}
        for e in g["eps"]:  # a term may burst twice in the period: keep its strongest episode
            if e.term not in best or e.max_z > best[e.term].max_z:
                best[e.term] = e
        ranked = sorted(best.values(), key=lambda e: (-e.max_z, e.term))
        terms = [e.term for e in ranked if not e.term.startswith("#") and e.term not in LONE_GENERIC][:max_terms]
        hashtags = [e.term for e in ranked if e.term.startswith("#")][:max_terms]
        sub = table.loc[rid[docs_shown]]
        eps_g = g["eps"]
        subjects.append(EmergingSubject(
            label=subject_label(terms, 3) if terms else hashtags[0],
            terms=terms, hashtags=hashtags,
            start=min(e.start for e in eps_g), end=max(e.end for e in eps_g),
            peak=max(eps_g, key=lambda e: e.peak_count).peak, count=len(g["docs"]),
            baseline=float(min(e.baseline for e in eps_g)), max_z=float(max(e.max_z for e in eps_g)),
            messages=sub.head(messages_per_subject).reset_index(drop=True)))
    subjects.sort(key=lambda s: s.count, reverse=True)
    return subjects[:max_subjects]


def _messages_by_rowid(con: Any, rowids: np.ndarray) -> pd.DataFrame:
    """message_id, created_at, platform, territory_id, text of messages, indexed by row id."""
    ids = [int(r) for r in rowids]
    df = con.execute("SELECT m.rowid AS rid, m.message_id, m.created_at, m.platform, m.territory_id, m.text "
                     "FROM messages m WHERE m.rowid IN (SELECT unnest(?::BIGINT[]))", [ids]).df()
    return df.set_index("rid")[["message_id", "created_at", "platform", "territory_id", "text"]]


def territory_words(con: Any, territories: Sequence[str] = ()) -> set[str]:
    """Words of the territories' names and ids (all territories when none given), stop words out.

    They would 'emerge' with any local subject and fill every topic and word cloud.
    """
    if territories:
        rows = con.execute(f"SELECT name, territory_id FROM territories WHERE territory_id IN "
                           f"({', '.join('?' for _ in territories)})", list(territories)).fetchall()
        rows = rows or [(t, t) for t in territories]
    else:
        rows = con.execute("SELECT name, territory_id FROM territories").fetchall()
    return {w for n, tid in rows for w in re.findall(TOKEN_PATTERN, surface_one(f"{n or ''} {tid}"))
            if w not in STOP_WORDS_FR}


def emerging_table(subjects: Sequence[EmergingSubject]) -> pd.DataFrame:
    """One row per subject, French column names, French dates (for tables and reports)."""
    from analysis.fmt import fr_date, fr_int, fr_num

    return pd.DataFrame([{
        "Sujet": s.label, "Hashtags": ", ".join(s.hashtags), "Du": fr_date(s.start), "Au": fr_date(s.end),
        "Pic": fr_date(s.peak), "Messages": fr_int(s.count), "Niveau habituel (msg/jour)": fr_num(s.baseline),
        "Écart (z)": fr_num(s.max_z)} for s in subjects],
        columns=["Sujet", "Hashtags", "Du", "Au", "Pic", "Messages", "Niveau habituel (msg/jour)", "Écart (z)"])


# ------------------------------------------------------------------------------ word clouds
# Messages counted for a word cloud: beyond this a spread sample (see word_cloud_view).
WORD_CLOUD_SAMPLE = 10_000

def word_frequencies(texts: Sequence[str | None] | pd.Series, top: int = 150,
                     exclude: Iterable[str] = ()) -> dict[str, int]:
    """Most frequent words and bigrams (surface forms, accents kept, French stop words removed).

    A bigram is kept instead of its two words when it is at least half as frequent as each of them,
    so 'eau potable' shows as such; a word of a kept bigram is then not shown alone.
    ``exclude``: words to hide (e.g. the territory name).
    """
    X, terms = surface_counts(texts, (1, 2), binary=True)
    if not terms:
        return {}
    freq = pd.Series(np.asarray(X.sum(axis=0)).ravel(), index=pd.Index(terms, dtype=object))  # object: pyarrow strings iterate slowly
    excl = {e.lower() for e in exclude} | {fold(e.lower()) for e in exclude}
    freq = freq[subject_terms_mask(freq.index, excl)]
    is_bi = np.array([" " in t for t in freq.index], dtype=bool)
    uni, bi = freq[~is_bi], freq[is_bi]
    u = dict(zip(uni.index, uni.to_numpy(), strict=True))  # Series.get per bigram was most of the time
    # A bigram is shown when it is the main use of both its words (at least half of each), and its words
    # are then not shown alone: « standard » beside « standard mairie » said the same thing twice, and
    # « mairie », far more frequent than any of its phrases, stays a word (issue 22).
    bi = bi[np.array([v >= 0.5 * max(u.get(a, 0), u.get(b, 0)) for t, v in zip(bi.index, bi.to_numpy(), strict=True)
                      for a, b in [t.split()]], dtype=bool)]
    in_phrases = {w for t in bi.index for w in t.split()}
    uni = uni[[t not in in_phrases for t in uni.index]]
    freq = pd.concat([uni, bi]).sort_values(ascending=False, kind="stable").head(top)
    return {str(k): int(v) for k, v in freq.items() if v > 0}


def word_cloud_png(frequencies: dict[str, int], title: str | None = None, width: int = 900, height: int = 500,
                   seed: int = 0) -> bytes:
    """A word cloud as PNG bytes, dark print-readable palette on white, optional title on top.

    Raises ValueError (French message) when there is no word to draw.
    """
    from PIL import Image, ImageDraw, ImageFont
    from wordcloud import WordCloud
    from wordcloud.wordcloud import FONT_PATH

    if not frequencies:
        raise ValueError("Aucun mot à afficher pour cette sélection.")
    rng = np.random.default_rng(seed)
    palette = PRINT_PALETTE

    def color(*_args: Any, **_kw: Any) -> str:
        return palette[int(rng.integers(len(palette)))]

    title_h = 44 if title else 0
    # Layout on a half-size canvas drawn at scale 2: same output size and look, about 3× faster
    # (the placement search costs in proportion to the canvas area).
    wc = WordCloud(width=width // 2, height=(height - title_h) // 2, scale=2, background_color="white",
                   color_func=color, random_state=seed, prefer_horizontal=0.95, max_words=len(frequencies),
                   margin=2, collocations=False).generate_from_frequencies(frequencies)
    img = Image.new("RGB", (width, height), "white")
    img.paste(wc.to_image(), (0, title_h))
    if title:
        draw = ImageDraw.Draw(img)
        size = 22
        font = ImageFont.truetype(FONT_PATH, size)
        while size > 11 and font.getlength(title) > width - 24:  # shrink a long title to fit
            size -= 1
            font = ImageFont.truetype(FONT_PATH, size)
        if font.getlength(title) > width - 24:
            while title and font.getlength(title + "…") > width - 24:
                title = title[:-1]
            title += "…"
        draw.text((12, 10 + (22 - size) // 2), title, fill="#1a1a1a", font=font)
    buf = io.BytesIO()
    img.save(buf, format="PNG")
    return buf.getvalue()


def word_cloud_html(png: bytes, title: str) -> str:
    """``<figure>`` with the PNG inlined; title and alt text HTML-escaped (reports)."""
    import base64

    t = html.escape(title, quote=True)
    return (f'<figure><img src="data:image/png;base64,{base64.b64encode(png).decode()}" alt="{t}">'
            f"<figcaption>{t}</figcaption></figure>")


# ------------------------------------------------------------------------------ labels & enricher
def store_label(con: Any, item_id: str, themes: Sequence[str], item_type: str | None = None,
                author: str | None = None, taxonomy: Taxonomy | None = None) -> None:
    """Store an analyst theme label (task 'theme', value = comma-separated ids; empty = no theme)."""
    from analysis import store

    tax = taxonomy or load_taxonomy()
    unknown = [t for t in themes if t not in tax.ids]
    if unknown:
        raise ValueError(f"{fr_plural(len(unknown), 'Thème inconnu', 'Thèmes inconnus')} : {', '.join(unknown)}. Thèmes possibles : {', '.join(tax.ids)}.")
    if item_type is None:
        found = con.execute("SELECT 'message' FROM messages WHERE message_id = ? UNION ALL "
                            "SELECT 'post' FROM posts WHERE post_id = ?", [item_id, item_id]).fetchall()
        if not found:
            raise ValueError(f"Élément introuvable : {item_id} (ni message ni publication).")
        item_type = found[0][0]
    store.upsert(con, "labels", pd.DataFrame([{
        "item_id": item_id, "item_type": item_type, "task": "theme", "value": ",".join(themes),
        "author": author, "created_at": pd.Timestamp.now(tz="UTC").tz_localize(None)}]))


def _say(progress: Any, msg: str) -> None:
    # Same convention as the other enrichers: a console (``.print``) or a callable taking a str.
    if progress is None:
        return
    if hasattr(progress, "print"):
        progress.print(msg)
    elif callable(progress):
        progress(msg)


def classifier_from_store(con: Any, taxonomy: Taxonomy | None = None, unlabelled_sample: int = 20_000,
                          ) -> ThemeClassifier:
    """The classifier the enricher uses: seed-only, or fitted when analysts stored theme labels."""
    tax = taxonomy or load_taxonomy()
    labels = con.execute(
        """
        SELECT l.item_id, l.value, coalesce(m.text, p.text) AS text FROM labels l
        LEFT JOIN messages m ON l.item_type = 'message' AND m.message_id = l.item_id
        LEFT JOIN posts p ON l.item_type = 'post' AND p.post_id = l.item_id
        WHERE l.task = 'theme' ORDER BY l.item_id
        """).df()
    labels = labels[labels["text"].notna()]
    if labels.empty:
        return default_classifier(tax)
    clf = ThemeClassifier(tax)
    ys = [[t for t in parse_labels(v) or [] if t in tax.ids] for v in labels["value"]]
    # a deterministic sample of unlabelled messages carries the seed pseudo-labels
    pool = con.execute(
        "SELECT text FROM messages WHERE text IS NOT NULL AND message_id NOT IN (SELECT item_id FROM labels "
        "WHERE task = 'theme') ORDER BY hash(message_id) LIMIT ?", [unlabelled_sample]).df()["text"].tolist()
    clf.fit(labels["text"].tolist() + pool, ys + [None] * len(pool))
    fp = hashlib.sha256("\n".join(f"{i}={v}" for i, v in zip(labels["item_id"], labels["value"], strict=True))
                        .encode()).hexdigest()[:8]
    clf.labels_fingerprint_ = fp
    clf.version_ = clf._version()
    return clf


def enrich(con: Any, progress: Callable[[str], None] | object | None = None, batch_size: int = 50_000,
           taxonomy: Taxonomy | None = None, classifier: Any = None) -> dict:
    """Classify messages and posts not yet classified by the current model version into ``themes``.

    Incremental: an item already carrying rows of this ``model_version`` is skipped; an item
    classified by an older version is rewritten. Items matching no theme get one ``'none'``
    row so they are not re-read next time. Analyst labels override the model (score 1).
    Returns counts per item type and the model version.
    """
    from analysis import store

    # ``classifier``: the store's classifier wrapped by another engine (analysis.distributed).
    clf = classifier if classifier is not None else classifier_from_store(con, taxonomy)
    tax = clf._tax()
    version = clf.version
    ids = np.array(tax.ids, dtype=object)
    labels = con.execute("SELECT item_id, item_type, value FROM labels WHERE task = 'theme'").df()
    lab = {(r.item_id, r.item_type): parse_labels(r.value) or [] for r in labels.itertuples(index=False)}
    out: dict[str, Any] = {"model_version": version}
    for item_type, table, idcol in (("message", "messages", "message_id"), ("post", "posts", "post_id")):
        pending = con.execute(
            f"SELECT i.{idcol} AS item_id, i.text FROM {table} i WHERE NOT EXISTS (SELECT 1 FROM themes t "
            f"WHERE t.item_id = i.{idcol} AND t.item_type = ? AND t.model_version = ?) ORDER BY i.{idcol}",
            [item_type, version]).df()
        total, done, themed = len(pending), 0, 0
        for b in range(0, total, batch_size):
            batch = pending.iloc[b:b + batch_size]
            P = clf.predict_proba(batch["text"])
            hit = P >= clf.threshold
            r, c = np.nonzero(hit)
            rows = pd.DataFrame({"item_id": batch["item_id"].to_numpy()[r], "theme": ids[c],
                                 "score": P[r, c].astype("float64")})
            none = batch["item_id"].to_numpy()[~hit.any(axis=1)]
            rows = pd.concat([rows, pd.DataFrame({"item_id": none, "theme": NO_THEME, "score": 0.0})])
            if lab:
                keyed = {k[0]: v for k, v in lab.items() if k[1] == item_type}
                over = batch["item_id"][batch["item_id"].isin(keyed)]
                if len(over):
                    rows = rows[~rows["item_id"].isin(set(over))]
                    add = [{"item_id": i, "theme": t, "score": 1.0} for i in over for t in (keyed[i] or [NO_THEME])]
                    rows = pd.concat([rows, pd.DataFrame(add)])
            rows["item_type"] = item_type
            rows["model_version"] = version
            themed += int(rows.loc[rows["theme"] != NO_THEME, "item_id"].nunique())
            con.register("_themes_batch", rows[["item_id", "item_type", "theme", "score", "model_version"]])
            try:
                with store.transaction(con):
                    con.execute("DELETE FROM themes WHERE item_type = ? AND item_id IN "
                                "(SELECT DISTINCT item_id FROM _themes_batch)", [item_type])
                    con.execute("INSERT INTO themes SELECT item_id, item_type, theme, score, model_version "
                                "FROM _themes_batch")
            finally:
                con.unregister("_themes_batch")
            done += len(batch)
            what = "messages" if item_type == "message" else "publications"
            _say(progress, f"Thèmes : {done}/{total} {what} classés")
        out[f"{table}_classified"] = total
        out[f"{table}_themed"] = themed
    return out


# ------------------------------------------------------------------------------ view models (app, reports)
def theme_labels(con: Any = None) -> dict[str, str]:
    """theme id → French label, taxonomy order (``con`` unused: uniform signature for the app)."""
    return load_taxonomy().labels


def themes_status(con: Any) -> dict[str, Any]:
    """How far theme enrichment went: items classified and model versions in the store."""
    r = con.execute("SELECT count(DISTINCT (item_id, item_type)), list(DISTINCT model_version) FROM themes").fetchone()
    return {"classified": int(r[0] or 0), "model_versions": sorted(v for v in (r[1] or []) if v)}


def themed_share(con: Any, f: Filters | None = None) -> float | None:
    """Share of public messages with at least one theme = messages with a theme ÷ classified messages."""
    f = f or Filters()
    w, params = f.where("m")
    r = con.execute(
        f"""SELECT count(DISTINCT t.item_id) FILTER (WHERE t.theme <> '{NO_THEME}'), count(DISTINCT t.item_id)
            FROM messages m JOIN themes t ON t.item_id = m.message_id AND t.item_type = 'message'
            WHERE {w} AND m.is_official IS NOT TRUE""", params).fetchone()
    return r[0] / r[1] if r[1] else None


def emerging_view(con: Any, f: Filters, **kwargs: Any) -> list[dict[str, Any]]:
    """:func:`emerging_subjects` as plain dicts (cacheable), messages as records without author."""
    out = []
    for s in emerging_subjects(con, f, **kwargs):
        d = {k: getattr(s, k) for k in ("label", "terms", "hashtags", "start", "end", "peak", "count", "baseline",
                                        "max_z")}
        d["messages"] = s.messages[["created_at", "platform", "text"]].to_dict("records")
        out.append(d)
    return out


def word_cloud_view(con: Any, f: Filters | None = None, theme: str | None = None, tone: str | None = None,
                    limit: int = WORD_CLOUD_SAMPLE, top: int = 100) -> dict[str, Any]:
    """Word cloud of public messages for a theme/tone within the filters: PNG, title, frequencies.

    Territory names are removed (they would dominate every cloud). ``png`` is None when there are
    no words. Beyond ``limit`` messages the words are counted on a sample of ``limit`` messages
    spread over the period (``sampled`` True): on the demo store 13 of its 15 and 48 of its 50
    most frequent words are those of the full year, and tokenising every message of a year took
    over a second. ``top`` words are drawn.
    """
    f = f or Filters()
    msgs = themed_messages(con, f, theme=theme, tone=tone, limit=limit, spread=True)
    freq = word_frequencies(msgs["text"], top=top, exclude=territory_words(con))
    label = load_taxonomy().label(theme) if theme else "Tous les thèmes"
    tone_fr = {"negative": "messages négatifs", "neutral": "messages neutres", "positive": "messages positifs"}
    title = f"{label} — {tone_fr.get(tone or '', 'tous les messages')}"
    if f.start and f.end:
        title += f" ({fr_period_short(f.start, f.end)})"
    png = word_cloud_png(freq, title=title) if freq else None
    return {"png": png, "title": title, "frequencies": freq, "n_messages": len(msgs),
            "sampled": bool(limit) and len(msgs) >= limit}


def fr_period_short(start: Any, end_exclusive: Any) -> str:
    """'1 mars 2026 – 31 mars 2026' from a half-open period."""
    from analysis.fmt import fr_date

    return f"{fr_date(start)} – {fr_date(pd.Timestamp(end_exclusive) - pd.Timedelta(days=1))}"


def report_section(con: Any, f: Filters, top: int = 5) -> dict[str, Any]:
    """The « Thématiques » section of the periodic report, ready to render (French text).

    ``findings``: sentences stating the main facts (leading theme, gap between our posts and
    the conversation, emerging subjects, most criticised theme); ``tables``: French-formatted
    DataFrames; ``figures``: PNG word cloud of the negative messages of the most criticised
    theme (or of all messages); ``alt``: text alternatives of the figures.
    """
    from analysis.fmt import fr_date, fr_int, fr_num, fr_pct

    findings: list[str] = []
    tables: dict[str, pd.DataFrame] = {}
    total = theme_shares(con, f, freq=None, by=())
    if len(total):
        total = total.sort_values("share", ascending=False)
        lead = total.iloc[0]
        findings.append(f"« {lead['label']} » est le premier sujet de la conversation : {fr_pct(lead['share'])} "
                        f"des {fr_int(lead['n_total'])} messages publics.")
        tables["Thèmes de la conversation"] = pd.DataFrame({
            "Thème": total["label"], "Messages": total["n_items"].map(fr_int),
            "Part des messages": total["share"].map(fr_pct)}).head(top)
    pvc = posts_vs_conversation(con, f)
    if pvc["messages"].sum() or pvc["posts"].sum():
        gap = (pvc["message_share"] - pvc["post_share"]).fillna(0)
        s = pvc.loc[gap.idxmax()]
        if gap.max() >= 0.03:  # three points: below that the two profiles are alike
            findings.append(f"Le public parle de « {s['label']} » ({fr_pct(s['message_share'])} des messages) "
                            f"bien plus que nos publications ({fr_pct(s['post_share'])}).")
        tables["Nos publications face à la conversation"] = pd.DataFrame({
            "Thème": pvc["label"], "Part de nos publications": pvc["post_share"].map(fr_pct),
            "Part des messages": pvc["message_share"].map(fr_pct),
            "Engagement moyen par publication": pvc["engagement_per_post"].map(fr_num),
            "Situation": pvc["situation"]})
    subjects = emerging_subjects(con, f) if f.territories else []
    for sub in subjects[:3]:
        findings.append(f"Sujet émergent : « {sub.label} » du {fr_date(sub.start)} au {fr_date(sub.end)} "
                        f"({fr_count(sub.count, 'message')}, pic le {fr_date(sub.peak)}).")
    if subjects:
        tables["Sujets émergents"] = emerging_table(subjects)
    sent = sentiment_by_theme(con, f)
    theme = None
    if len(sent):
        worst = sent.iloc[0]
        theme = worst["theme"]
        findings.append(f"« {worst['label']} » concentre les critiques : {fr_pct(worst['negative_share'])} "
                        f"de messages négatifs.")
        tables["Sentiment par thème"] = pd.DataFrame({
            "Thème": sent["label"], "Messages": sent["n"].map(fr_int),
            "Part négative": sent["negative_share"].map(fr_pct), "Sentiment net": sent["net_sentiment"].map(fr_num)})
    cloud = word_cloud_view(con, f, theme=theme, tone="negative" if theme else None)
    figures, alt = {}, {}
    if cloud["png"] is not None:
        figures["Nuage de mots"] = cloud["png"]
        alt["Nuage de mots"] = (f"{cloud['title']}. Mots les plus fréquents : "
                                + ", ".join(list(cloud["frequencies"])[:10]) + ".")
    return {"title": "Thématiques", "findings": findings, "tables": tables, "figures": figures, "alt": alt}
