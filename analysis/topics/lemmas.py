"""Words of French social-media texts: surface clean-up, stop words, uni/bigram counts and lemma keys.

:class:`LemmaVectorizer` turns texts into lemma uni/bigram counts. Surface clean-up uses compiled
regexes over the joined corpus (URLs, @mentions, elisions, hashtags kept whole *and* split on
camel case); tokens are counted with array operations (:func:`surface_counts`, the same matrix as
scikit-learn's ``CountVectorizer``), and lemmatisation (simplemma through :func:`analysis.text.lemma`)
is applied once per distinct *vocabulary term*, not per token (:func:`lemma_counts`).
:func:`phrase_key` normalises a taxonomy keyword exactly like texts; :func:`subject_term` says
whether a term can name a subject.
"""

from __future__ import annotations

import re
from collections.abc import Iterable, Sequence
from functools import lru_cache
from typing import Any

import numpy as np
import pandas as pd
import scipy.sparse as sp
from sklearn.base import BaseEstimator, TransformerMixin
from sklearn.feature_extraction.text import CountVectorizer

from analysis.text import (
    ENGLISH_FUNCTION_WORDS,
    FRENCH_FUNCTION_WORDS,
    fold,
    known_word,
    lemma,
    split_hashtag,
)

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

# Evaluative and filler words (lemma keys, folded) that never name a subject on their own, however
# rare they were before: « nouveau », « plaire », « super » rise with any announcement. In a phrase
# they stay (« nouveau marché »); a subject whose only words are these is no subject (issue 22), and
# neither is one whose every phrase is made of them alone: agreement adverbs and the nouns of praise
# formulas (« Exactement, il faut… », « Belle initiative », « Bonne idée ») are reactions (issue 17). A
# message whose only words are these names no theme either (« Exceptionnel », « Très agréable »: review
# titles; :class:`analysis.topics.classifier.ThemeClassifier`), unless a keyword does.
LONE_GENERIC = frozenset("""
nouveau nouvel nouvelle ancien plaire aimer adorer super top genial bravo merci beau bel belle joli
content heureux bien mieux bon mauvais nul grand petit gros vrai vraiment chouette magnifique excellent
parfait formidable incroyable dommage honte triste penser savoir vouloir pouvoir devoir venir prendre mettre falloir
trouver attendre arriver passer rester demander esperer aucun chose truc gens monde annee jour semaine
mois fois moment temps
fabuleux exceptionnel agreable sympa sympathique impeccable extraordinaire superbe splendide genialissime
decevant decevoir decu moyen correct convenable acceptable horrible catastrophique mediocre
exactement totalement absolument carrement clairement franchement completement tellement initiative idee
""".split())

_URL = r"(?:https?://|www\.)\S+"
_MENTION = r"@\w+"
_HASHTAG = re.compile(r"#(\w+)")
# Hashtags as one token ('#eausaintaubin'), else runs of letters/digits of two characters at
# least (hyphenated words split: "vide-grenier" -> "vide grenier"; "zone 30" keeps its number).
TOKEN_PATTERN = r"(?u)#\w{2,}|\b[^\W_]{2,}\b"


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
# 'suuuuper' -> 'super' (three or more: 'ee' is French); replacement group 2. The look-ahead
# rejects most positions before the back-reference is tried (same matches, faster).
_ELONG_RE = re.compile(r"(?=(.)\1\1)([^\W\d_])\2{2,}")


def surface_one(text: str | None) -> str:
    """Lower-cased text without URLs/@mentions, elisions split, hashtags whole and split, elongations collapsed."""
    return _surfaced(_cleaned(str(text))) if text else ""


def _cleaned(t: str) -> str:
    """The first steps of :func:`surface_one`: URLs and @mentions out, hashtags whole and split."""
    t = _URL_RE.sub(" ", t)
    t = _MENTION_RE.sub(" ", t)
    return _HASHTAG.sub(_hashtag_repl, t) if "#" in t else t


def _surfaced(t: str) -> str:
    """The last steps of :func:`surface_one`: elongations collapsed, apostrophes blanked, lower case."""
    t = _ELONG_RE.sub(r"\2", t)
    for a in "'’`´":  # every apostrophe (a regex substitution was several times slower)
        t = t.replace(a, " ")
    return t.lower()


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


def _cleaned_joined(texts: list[str]) -> str | None:
    """The texts joined by ``' \\x00 '`` without URLs and @mentions, hashtags whole and split: the
    first steps of :func:`surface_one` (elongations, apostrophes and case are left to
    :func:`_corpus_tokens`); None when a text holds a NUL."""
    t = f" {_DOC_SEP} ".join(texts)
    return _cleaned(t) if t.count(_DOC_SEP) == max(len(texts) - 1, 0) else None


# Every ASCII byte that no token holds (all but letters, digits, '_', '#' and the separator) → a space.
# UTF-8 codes a non-ASCII character with bytes ≥ 0x80 only, so cutting at these bytes never cuts one.
_ASCII_BREAKS = bytes(i if i >= 128 or chr(i).isalnum() or chr(i) in "_#" + _DOC_SEP else 32 for i in range(256))
_PIECE_RE = re.compile(r"#\w{2,}|\w+|" + _DOC_SEP + r"|\n")


def _corpus_tokens(cleaned: str) -> tuple[np.ndarray, np.ndarray] | None:
    """``pd.factorize`` of ``_WORD_OR_SEP_RE.findall`` over the surface of ``cleaned`` (the text of
    :func:`_cleaned_joined`, then elongations collapsed, apostrophes blanked and lower-cased, as
    :func:`surface_one` does text by text): the token codes in corpus order and the distinct tokens in order of
    first appearance. None when there is no token.

    Why: the regex over the whole corpus made one string per token (1,2 M for the demo's distinct
    texts) and the elongation pattern tested every character. Here the corpus is cut into pieces at
    the ASCII characters no token holds (bytes, in C), the pieces are counted, and only the distinct
    pieces — a few per cent of them — are collapsed, lower-cased and tokenised. Same tokens: no
    elongation run, no token and no case change crosses a cut (none of those characters is a letter,
    a digit, '_' or '#', and lower-casing makes none of them). One exception, the Greek capital sigma,
    whose lower case depends on the letters around it, across an apostrophe or a full stop (« Σ » → « ς »
    at the end of a word): a corpus that holds one is surfaced whole, as before."""
    if "Σ" in cleaned:
        toks = _WORD_OR_SEP_RE.findall(_surfaced(cleaned))
        return _factorized(toks) if toks else None
    for a in "’´":  # the ASCII apostrophes are cut below
        cleaned = cleaned.replace(a, " ")
    pieces = cleaned.encode("utf-8", "surrogatepass").translate(_ASCII_BREAKS).split()
    if not pieces:
        return None
    pcodes, upieces = pd.factorize(pd.Series(pieces, dtype=object))
    # the distinct pieces one per line, surfaced and tokenised at once (no piece holds a line break)
    text = _ELONG_RE.sub(r"\2", b"\n".join(upieces).decode("utf-8", "surrogatepass")).lower()
    fcodes, funiq = pd.factorize(pd.Series(["\n", *_PIECE_RE.findall(text)], dtype=object))
    is_nl = fcodes[1:] == 0  # the line breaks: code 0
    fcodes = fcodes[1:]
    ftok = fcodes[~is_nl]  # tokens of the distinct pieces, piece after piece
    counts = np.bincount(np.cumsum(is_nl)[~is_nl], minlength=len(upieces))[: len(upieces)]
    start = np.cumsum(counts) - counts
    if (counts == 1).all():
        seq = ftok[start[pcodes]]
    else:  # a piece of several tokens ('bon\u00a0jour', '«oui»') or none ('…'): each occurrence expanded
        n = counts[pcodes]
        first = np.repeat(start[pcodes] - (np.cumsum(n) - n), n)
        seq = ftok[first + np.arange(int(n.sum()))]
    if not len(seq):
        return None
    codes, ids = pd.factorize(seq)
    return codes, np.asarray(funiq, dtype=object)[ids]


def _factorized(toks: list[str]) -> tuple[np.ndarray, np.ndarray]:
    codes, uniq = pd.factorize(pd.Series(toks, dtype=object))
    return codes, np.asarray(uniq, dtype=object)


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
    cleaned = _cleaned_joined(list(distinct))
    if cleaned is not None:
        tokenised = _corpus_tokens(cleaned)
    else:  # a text holds a NUL: surfaced text by text
        docs = surface(list(distinct)).tolist()
        toks = _WORD_OR_SEP_RE.findall(f" {_DOC_SEP} ".join(d.replace(_DOC_SEP, " ") for d in docs))
        tokenised = _factorized(toks) if toks else None
    if tokenised is None:
        return None
    codes, uniq = tokenised
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
# Plurals whose dictionary lemma is another word's: simplemma reads « travaux » (roadworks) as « travail »
# (« merci pour votre travail » was roadworks) and « devoirs » (homework) as the verb « devoir » (« je dois »
# was youth and education). Their key is the plural itself.
OWN_KEYS = frozenset({"travaux", "devoirs"})


def lemma_key(term: str) -> str:
    """Lemma key of a surface term: each word lemmatised and accent-folded ('pistes cyclables' → 'piste cyclable')."""
    k = _KEY_CACHE.get(term)
    if k is None:
        if len(_KEY_CACHE) > 2_000_000:  # bound memory on huge real corpora
            _KEY_CACHE.clear()
        k = " ".join(fold(w) if w[0] == "#" else w if w in OWN_KEYS else lemma(w) for w in term.split())
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
    """:func:`subject_term` of many terms (boolean array), each distinct word checked once (and
    remembered for the next call with the same ``exclude``: a page asks for the same words again)."""
    excl = frozenset(exclude)
    out = []
    for t in terms:
        parts = t.split()
        if len(parts) > 1 and "#" in t and any(w.startswith("#") for w in parts):
            out.append(False)
        else:
            out.append(all(_subject_word(w, excl) for w in parts))
    return np.array(out, dtype=bool)


@lru_cache(maxsize=200_000)
def _subject_word(word: str, exclude: frozenset[str]) -> bool:
    return not word.isdigit() and subject_term(word, exclude)


@lru_cache(maxsize=64)
def _folded_exclusions(exclude: frozenset[str]) -> tuple[str, ...]:
    return tuple(sorted({fold(x) for x in exclude if len(x) >= 4}, key=len, reverse=True))


@lru_cache(maxsize=100_000)
def _known_word(word: str) -> bool:
    """A word of the French dictionary (simplemma), so not a glued territory name."""
    return known_word(word)


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


def _binarize(X: sp.csr_matrix) -> sp.csr_matrix:
    B = X.copy()
    B.data[:] = 1
    return B
