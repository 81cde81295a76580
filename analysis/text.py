"""French social-media normalisation shared by every text model (sentiment, topics, moderation).

``tokens(text)`` turns a raw message into a list of normalised tokens:

- URLs → ``URL``, @mentions → ``USER``, hashtags → ``HASHTAG`` + their words split on camel
  case (``#EteASaintAubin`` → ``ete a saint aubin``);
- elisions split and restored (``l'`` → ``le``, ``qu'`` → ``que``, ``n'`` → ``ne``);
- emojis → ``EMO_<name>`` (``emoji`` package), emoticons → ``EMO_POS``/``EMO_NEG``/``EMO_LOVE``;
- elongations collapsed (``troooop`` → ``trop``) with an ``ELONG`` marker; words in capitals
  add an ``ALLCAPS`` marker; ``!``/``?`` runs become ``EXCL``/``QUEST``;
- negation scope: up to :data:`NEG_WINDOW` words after a negation cue are prefixed ``NEG_``
  until punctuation (``pas terrible`` → ``pas NEG_terrible``);
- intensifiers add an ``INTENS`` marker (the word itself is kept);
- every word is lemmatised with simplemma and accent-folded (both cached per word form).

Everything is precompiled regexes and dict look-ups, so it runs on millions of messages.
``detect_lang(text)`` is a function-word ratio detector of the same speed: French, English, or one of
the other languages tourists review in (German, Spanish, Italian, Dutch, Portuguese); a text it
calls French on thin evidence is checked by py3langid's character model (Scandinavian languages,
Catalan, Spanish reviews full of French-looking words).
"""

from __future__ import annotations

import re
import unicodedata
from collections.abc import Iterable
from functools import lru_cache

import emoji
import numpy as np
from sklearn.feature_extraction.text import ENGLISH_STOP_WORDS

from analysis.config import cache_dir

NEG_WINDOW = 3

_URL = re.compile(r"(?:https?://|www\.)\S+|\bhttps?\b", re.IGNORECASE)
_MENTION = re.compile(r"@\w+")
_HASHTAG = re.compile(r"#(\w+)")
_CAMEL = re.compile(r"[A-ZÀ-ÖØ-Þ]?[a-zß-öø-ÿ]+|[A-ZÀ-ÖØ-Þ]+(?![a-zß-öø-ÿ])|\d+")
# Emoticons checked before punctuation is stripped; ordered so that ":-)" wins over ":".
_EMOTICONS = {
    "EMO_POS": r"[:;=]-?[)D\]pP]+|\^\^|\^_\^|xD+|XD+|:-?3",
    "EMO_NEG": r":'?-?[(\[/]+|D-?:|-_-|:-?[|]",
    "EMO_LOVE": r"<3+",
}
_EMOTICON = re.compile("|".join(f"(?P<{k}>{v})" for k, v in _EMOTICONS.items()))
# Substrings every emoticon contains: a C-speed `in` test spares the regex on most messages.
_EMOTICON_HINTS = (":", ";", "=", "<3", "^", "xD", "XD", "-_-")
# Cheap pre-check: only messages with a character in the emoji blocks go through `emoji`.
_MAYBE_EMOJI = re.compile("[\u2190-\u2bff\u3030\u303d\u3297\u3299\U0001F000-\U0001FAFF]")
_ELISION = re.compile(r"\b(l|d|j|m|t|s|c|n|qu|jusqu|lorsqu|puisqu|quoiqu)['’]", re.IGNORECASE)
_ELISION_MAP = {"l": "le", "d": "de", "j": "je", "m": "me", "t": "te", "s": "se", "c": "ce",
                "n": "ne", "qu": "que", "jusqu": "jusque", "lorsqu": "lorsque", "puisqu": "puisque",
                "quoiqu": "quoique"}
_TOKEN = re.compile(r"EMO_\w+|[^\W_]+(?:-[^\W_]+)*|[!?]+|[.,;:]", re.UNICODE)
_ELONG = re.compile(r"([^\W\d_])\1{2,}")

NEGATION_CUES = frozenset({"pas", "jamais", "rien", "aucun", "aucune", "ni", "sans", "nullement",
                           "guère", "personne", "ne"})
INTENSIFIERS = frozenset({"très", "trop", "vraiment", "tellement", "super", "hyper", "ultra",
                          "vachement", "grave", "totalement", "complètement", "extrêmement",
                          "carrément", "absolument", "si", "tant", "archi", "franchement",
                          "énormément", "terriblement", "trés", "tres"})
# French function words (closed-class words: articles, pronouns, prepositions, conjunctions,
# auxiliaries). No French stop-word list ships with our pinned packages; this closed list is
# short, stable and precise for language identification.
FRENCH_FUNCTION_WORDS = frozenset("""
le la les un une des du de au aux et ou mais donc or ni car que qui quoi dont où ce cet cette
ces mon ma mes ton ta tes son sa ses notre nos votre vos leur leurs je tu il elle on nous vous
ils elles me te se moi toi lui eux y en ne pas plus est sont était été être avoir ai as avons
avez ont a suis es sommes êtes fait faire dans sur sous avec pour par chez vers entre sans
très trop bien aussi comme tout tous toute toutes cela ça c'est cest quand alors encore déjà
ici là oui non merci bonjour même peu rien jamais toujours faut peut va vont
""".split())
# scikit-learn's English list minus entries that are also French words or loanwords common in
# French tweets ("via", "an" in "€/an", "con", "six"...), which would push French towards English.
_EN_NOT_DISCRIMINANT = frozenset({"an", "via", "per", "etc", "ex", "de", "con", "six", "mine", "sincere",
                                  "fire", "bill", "system", "interest", "detail", "front", "full", "ie",
                                  "eg", "co", "inc", "ltd", "re", "un", "le", "la", "amount", "hence", "top",
                                  "bottom", "mill", "fill", "find", "give", "call"})
ENGLISH_FUNCTION_WORDS = frozenset(w for w in ENGLISH_STOP_WORDS if len(w) > 1) - _EN_NOT_DISCRIMINANT
# Words shared by both lists say nothing about the language.
_AMBIGUOUS = FRENCH_FUNCTION_WORDS & ENGLISH_FUNCTION_WORDS
_FR_ONLY = FRENCH_FUNCTION_WORDS - _AMBIGUOUS
_EN_ONLY = ENGLISH_FUNCTION_WORDS - _AMBIGUOUS
# Function words of the other languages a tourist writes a review in (German, Spanish, Italian,
# Dutch, Portuguese), kept only when they are not French words nor English ones (« die », « war »,
# « il », « non », « de », « en », « per », « con » are left out): a French text never reaches two of
# them, a German review reaches ten. Such a text is marked with its language and left unscored by
# the French models, like English.
_OTHER_FUNCTION_WORDS = {
    "de": "der das und ist nicht ein eine einen einem einer ich zu mit sich auf für sehr auch wir den dem "
          "im zum zur von bei aber wie noch nur oder hat haben wird werden sind kein keine dass wenn "
          "waren unser unsere uns alles immer schon viel mehr dann doch nach aus über wurde sein ganz "
          "hatten gibt leider zimmer sauber freundlich",
    "es": "el los las una muy pero por para del lo está estaba fue todo también sin más hay nuestra "
          "estuvo habitación limpio mucho muy todos buena bueno ubicación desayuno pequeña",
    "it": "della che molto sono gli anche nella alla dalla questo stato abbiamo camera ottimo ottima "
          "tutto pulita colazione personale gentile stanza piccola perché però",
    "nl": "het een niet zeer ook wij erg goed heel maar zijn kamer ontbijt schoon vriendelijk",
    "pt": "não muito uma com os mas foi também quarto pequeno limpo ótimo ótima café localização",
}
_OTHER_SEEN = [w for words in _OTHER_FUNCTION_WORDS.values() for w in words.split()]
# word → its one language (a word two of those languages share is left out)
_OTHER_ONLY = {w: lang for lang, words in _OTHER_FUNCTION_WORDS.items() for w in words.split()
               if len(w) > 1 and _OTHER_SEEN.count(w) == 1 and w not in FRENCH_FUNCTION_WORDS
               and w not in ENGLISH_FUNCTION_WORDS}
_WORD = re.compile(r"[a-zà-öø-ÿ']+")


class _CombiningMarks(dict):
    """str.translate table deleting every code point with a non-zero combining class (the same
    result as filtering with unicodedata.combining() character by character, 5× faster), filled
    as code points are met: building it for all 1,1 M code points cost every process 85 ms."""

    def __missing__(self, c: int) -> int | None:
        v = None if unicodedata.combining(chr(c)) else c
        self[c] = v
        return v


_COMBINING_MARKS = _CombiningMarks()


def strip_accents(s: str) -> str:
    """The one accent removal: NFKD, then every combining mark dropped (é → e, ç → c); case and every
    other character kept (« – », « ’ », « ≥ »). Place names, dates and handles compare through it."""
    s = str(s)
    if s.isascii():  # NFKD leaves ASCII as it is and it has no combining mark
        return s
    return unicodedata.normalize("NFKD", s).translate(_COMBINING_MARKS)


def fold(s: str) -> str:
    """Word key of lexicons and topics: :func:`strip_accents`, ligatures spelled out (œ → oe,
    æ → ae) and any remaining non-ASCII character dropped (« aujourd’hui » → « aujourdhui »)."""
    s = s.replace("œ", "oe").replace("æ", "ae")
    return unicodedata.normalize("NFKD", s).encode("ascii", "ignore").decode("ascii") or s


_KEY_WORD = re.compile(r"[a-z0-9]+")


def term_key(s: str | None) -> str:
    """Lower-case, accent-folded words joined by single spaces: « Saint-Aubin-sur-Loire »,
    « #SaintAubin » and « saint aubin » compare equal word for word (``saint aubin sur loire``)."""
    return " ".join(_KEY_WORD.findall(fold((s or "").lower())))


def name_keys(text: str | None) -> tuple[str, frozenset[str]]:
    """The text side of :func:`names_any` (its words, its hashtags' keys), for a text checked against
    many term lists (an event's promotion posts)."""
    return f" {term_key(text)} ", frozenset(term_key(h).replace(" ", "") for h in _HASHTAG.findall(text or ""))


_SEP = "\x00"  # joins texts folded at once: ASCII, no word character, a starter for NFKD
# After fold (ASCII only, as bytes): the separator becomes a line break, every other character that
# is no word character (:func:`term_key`) a space (_WORD_BYTES) or nothing (_NON_WORD_BYTES, hashtags).
_WORD_BYTES = bytes(c if chr(c).islower() or chr(c).isdigit() else 10 if chr(c) == _SEP else 32 for c in range(256))
_NON_WORD_BYTES = bytes(c for c in range(128) if not chr(c).islower() and not chr(c).isdigit() and chr(c) != _SEP)


def _fold_joined(texts: list[str]) -> str | None:
    """``fold(text.lower())`` of the texts joined by ``_SEP``, lower-casing and folding done once
    (NFKD decomposes each character alone and the separator is a starter, so joining changes
    nothing); None when the separator occurs in a text or the result is not ASCII."""
    if any(_SEP in t for t in texts):
        return None
    f = fold(_SEP.join(texts).lower())
    return f if f.isascii() else None  # not ASCII: fold fell back on its input (nothing ASCII in it)


@lru_cache(maxsize=8192)
def _term(term: str) -> tuple[str, str, bool]:
    k = term_key(term)
    return k, k.replace(" ", ""), term.lstrip().startswith("#")


def names_any(text: str | None, terms: tuple[str, ...] | list[str],
              keys: tuple[str, frozenset[str]] | None = None) -> bool:
    """Whether ``text`` names one of ``terms`` (see :func:`term_key`); ``keys``: its
    :func:`name_keys` when already computed.

    A name or keyword matches as whole words (« Saint-Aubin-sur-Loire » in « à saint aubin sur
    loire ») or as a hashtag of the text written glued (``#SaintAubinSurLoire``). A hashtag term
    (``#SaintAubin``) matches only a hashtag of the text, whole: never « Saint-Aubin-du-Cormier »."""
    if not text:
        return False
    t, tags = keys if keys is not None else name_keys(text)
    for term in terms:
        k, glued, is_tag = _term(term)
        if not k:
            continue
        if glued in tags:
            return True
        if not is_tag and f" {k} " in t:
            return True
    return False


class NameIndex:
    """:func:`names_any` of many texts at once: their :func:`name_keys` laid end to end in one
    string (each term's words found by a scan in C) and their hashtags' keys in a dictionary.
    ``NameIndex(texts).naming(terms)[i] == names_any(texts[i], terms)`` for every i."""

    def __init__(self, texts: Iterable[str | None]) -> None:
        clean = [t if isinstance(t, str) else "" for t in texts]
        self.n = len(clean)
        folded = _fold_joined(clean) if clean else ""
        if folded is None:  # a text holding the separator: keyed one by one
            keys = [name_keys(t) for t in clean]
            words = "\n".join(w for w, _ in keys).encode("ascii")
            tags = [(i, g) for i, (_, gs) in enumerate(keys) for g in gs]
        else:
            # one byte string: each text's words between spaces, texts separated by a line break,
            # so that a term's words (no line break) never span two texts
            words = b" " + folded.encode("ascii").translate(_WORD_BYTES).replace(b"\n", b" \n ") + b" "
            tags = self._hashtags(clean)
        breaks = np.flatnonzero(np.frombuffer(words, dtype=np.uint8) == 10)
        if len(breaks) != max(self.n - 1, 0):
            raise AssertionError("NameIndex: one line per text expected")  # a line break inside a key
        self._starts = np.concatenate([[0], breaks + 1, [len(words) + 1]]).astype(np.int64)
        self._words = words
        self._tags: dict[str, list[int]] = {}
        for i, g in tags:
            self._tags.setdefault(g, []).append(i)

    @staticmethod
    def _hashtags(texts: list[str]) -> list[tuple[int, str]]:
        """(text's row, hashtag key) of every hashtag of ``texts`` (:func:`name_keys`'s second part)."""
        rows, raw = [], []
        for i, t in enumerate(texts):
            if "#" in t:
                for h in _HASHTAG.findall(t):
                    rows.append(i)
                    raw.append(h)
        if not raw:
            return []
        folded = _fold_joined(raw)
        if folded is None:
            return [(i, term_key(h).replace(" ", "")) for i, h in zip(rows, raw, strict=True)]
        keys = folded.encode("ascii").translate(None, _NON_WORD_BYTES).decode("ascii").split(_SEP)
        return list(zip(rows, keys, strict=True))

    def naming(self, terms: tuple[str, ...] | list[str], lo: int = 0, hi: int | None = None) -> np.ndarray:
        """Mask of the texts of rows [lo, hi) that name one of ``terms`` (others False)."""
        hi = self.n if hi is None else hi
        out = np.zeros(self.n, dtype=bool)
        if hi <= lo:
            return out
        a, b = int(self._starts[lo]), int(self._starts[hi])
        for term in terms:
            k, glued, is_tag = _term(term)
            if not k:
                continue
            rows = self._tags.get(glued)
            if rows:
                out[rows] = True
            if not is_tag:  # its words as whole words, whatever the spaces between them
                pattern = re.compile(b" " + b" +".join(re.escape(w.encode("ascii")) for w in k.split(" ")) + b" ")
                found = [m.start() for m in pattern.finditer(self._words, a, b)]
                if found:
                    out[np.searchsorted(self._starts, np.asarray(found), side="right") - 1] = True
        out[:lo] = False
        out[hi:] = False
        return out


@lru_cache(maxsize=200_000)
def lemma(word: str) -> str:
    """Accent-folded simplemma lemma of a lower-case French word (cached per form)."""
    try:
        lem = _lemmatizer().lemmatize(word, lang="fr")
    except Exception:  # noqa: BLE001 - simplemma may reject odd tokens; keep the word
        lem = word
    return fold(lem.lower())


def known_word(word: str) -> bool:
    """Whether ``word`` is a form of simplemma's French dictionary (``simplemma.is_known``, same
    dictionary as :func:`lemma`, read once)."""
    from simplemma.utils import normalize_token

    try:
        return _lookup().get_lemma(normalize_token(word), "fr") is not None
    except Exception:  # noqa: BLE001 - odd tokens: unknown
        return False


class _FrenchDictionary:
    """simplemma's ``DictionaryFactory`` for French only, its dictionary read by
    :func:`_simplemma_dictionary` (the package's own, from a decoded copy)."""

    def get_dictionary(self, lang: str):
        if lang != "fr":
            raise ValueError(f"Unsupported language: {lang}")
        return _simplemma_dictionary()


@lru_cache(maxsize=1)
def _lemmatizer():
    """simplemma's lemmatiser as ``simplemma.lemmatize(word, lang="fr")`` builds it (default
    strategy, not greedy), reading :class:`_FrenchDictionary`."""
    from simplemma import Lemmatizer
    from simplemma.strategies import DefaultStrategy

    return Lemmatizer(lemmatization_strategy=DefaultStrategy(greedy=False, dictionary_factory=_FrenchDictionary()))


@lru_cache(maxsize=1)
def _lookup():
    """simplemma's dictionary lookup (``simplemma.is_known``) over :class:`_FrenchDictionary`."""
    from simplemma.strategies import DictionaryLookupStrategy

    return DictionaryLookupStrategy(_FrenchDictionary())


@lru_cache(maxsize=1)
def _simplemma_dictionary():
    """simplemma's French dictionary (250 000 forms), as its package reads it.

    The package decodes it from an xz-compressed, front-coded file: 0,4 s in every process that
    lemmatises (an enrichment, the app's first word cloud, a report). The first read writes it
    decoded (two byte arrays, no pickle) under :func:`analysis.config.cache_dir`; later processes
    read that copy in about 0,07 s. A missing, damaged or unwritable copy only costs the slow read."""
    from simplemma.strategies.dictionaries.dictionary_factory import (
        DEFAULT_DICTIONARY_FACTORY,
        MappingStrToByteString,
    )

    path = _simplemma_cache_path()
    try:
        with np.load(path, allow_pickle=False) as z:
            keys, values = z["keys"].tobytes().split(b"\0"), z["values"].tobytes().split(b"\0")
        if len(keys) != len(values):
            raise ValueError("damaged copy")
        return MappingStrToByteString(dict(zip(keys, values, strict=True)))
    except (OSError, ValueError, KeyError, EOFError):
        pass
    d = DEFAULT_DICTIONARY_FACTORY.get_dictionary("fr")
    items = list(d.items())
    if not any("\0" in k or "\0" in v for k, v in items):
        _write_cache_npz(path, {"keys": np.frombuffer("\0".join(k for k, _ in items).encode(), np.uint8),
                                "values": np.frombuffer("\0".join(v for _, v in items).encode(), np.uint8)})
    return d


def _simplemma_cache_path():
    from importlib.metadata import version

    return cache_dir() / f"simplemma-{version('simplemma')}-fr.npz"


def split_hashtag(tag: str) -> list[str]:
    """Split a hashtag body on camel case and digits: 'EteASaintAubin' → ['ete','a','saint','aubin']."""
    parts = _CAMEL.findall(tag)
    return [fold(p.lower()) for p in parts] if parts else [fold(tag.lower())]


def _emoji_repl(chars: str, data: dict) -> str:
    name = data.get("en", "").strip(":").lower()
    return f" EMO_{re.sub(r'[^a-z0-9]+', '_', name).strip('_')} "


_NON_SPACE = re.compile(r"\S+")


@lru_cache(maxsize=100_000)
def _emoji_chunk(chunk: str) -> str:
    # No emoji is pure ASCII (keycaps carry U+FE0F/U+20E3), so ASCII chunks are skipped.
    return chunk if chunk.isascii() else emoji.replace_emoji(chunk, replace=_emoji_repl)


def _emoji_chunk_repl(m: re.Match) -> str:
    # No emoji sequence contains white space, so replacing chunk by chunk is exact; the emoji
    # tokenizer walks every character in Python (profiled: 65 % of scoring), and chunks repeat.
    return _emoji_chunk(m.group(0))


def _hashtag_repl(m: re.Match) -> str:
    return " HASHTAG " + " ".join(split_hashtag(m.group(1))) + " . "


def _emoticon_repl(m: re.Match) -> str:
    return f" {m.lastgroup} "


def _elision_repl(m: re.Match) -> str:
    return _ELISION_MAP[m.group(1).lower()] + " "


# Per raw token: (kind, emitted tokens). kind 0 = word, 1 = negation cue, 2 = punctuation
# that closes a negation scope, 3 = marker. Caching the whole decision per surface form makes
# the per-token cost one dict look-up on real traffic (Zipf: few forms, many occurrences).
_TOKEN_CACHE: dict[str, tuple[int, tuple[str, ...], bool]] = {}
_MARKERS = frozenset({"URL", "USER", "HASHTAG"})


def _token_info(tok: str) -> tuple[int, tuple[str, ...], bool]:
    c0 = tok[0]
    if c0 in "!?.,;:":
        return 2, ("EXCL",) if c0 == "!" else ("QUEST",) if c0 == "?" else (), False
    if tok in _MARKERS or tok.startswith("EMO_"):
        return 3, (tok,), False
    caps = len(tok) >= 3 and tok.isupper()
    w = tok.lower()
    pre: tuple[str, ...] = ()
    if _ELONG.search(w):
        w = _ELONG.sub(r"\1", w)
        pre = ("ELONG",)
    if w in NEGATION_CUES:
        return 1, (*pre, w), caps
    if w in INTENSIFIERS:
        pre = (*pre, "INTENS")
    return 0, (*pre, lemma(w)), caps


def tokens(text: str | None) -> list[str]:
    """Normalised tokens of one message (see module docstring)."""
    if not text:
        return []
    t = text
    if "http" in t or "www." in t or "HTTP" in t:
        t = _URL.sub(" URL ", t)
    if "@" in t:
        t = _MENTION.sub(" USER ", t)
    if "#" in t:
        t = _HASHTAG.sub(_hashtag_repl, t)
    if not t.isascii():
        if _MAYBE_EMOJI.search(t):
            t = _NON_SPACE.sub(_emoji_chunk_repl, t)
        if "’" in t:
            t = t.replace("’", "'")
    if any(c in t for c in _EMOTICON_HINTS):
        t = _EMOTICON.sub(_emoticon_repl, t)
    if "'" in t:
        t = _ELISION.sub(_elision_repl, t)
    out: list[str] = []
    neg_left = 0
    any_caps = False
    cache = _TOKEN_CACHE
    for tok in _TOKEN.findall(t):
        info = cache.get(tok)
        if info is None:
            info = _token_info(tok)
            if len(cache) < 500_000:
                cache[tok] = info
        kind, emitted, caps = info
        if caps:
            any_caps = True
        if kind == 0:
            if neg_left:
                out.extend(emitted[:-1])
                out.append("NEG_" + emitted[-1])
                neg_left -= 1
            else:
                out.extend(emitted)
        elif kind == 1:
            out.extend(emitted)
            neg_left = NEG_WINDOW
        elif kind == 2:
            neg_left = 0
            out.extend(emitted)
        else:
            out.extend(emitted)
    if any_caps:
        out.append("ALLCAPS")
    return out


def normalize(text: str | None) -> str:
    """Normalised tokens joined by spaces (what vectorizers consume)."""
    return " ".join(tokens(text))


# Languages py3langid may answer for a text the function words call French: those of tourists'
# reviews and of a border region's comments. Any other answer keeps French.
LANGID_LANGUAGES = ("fr", "en", "de", "es", "it", "nl", "pt", "da", "no", "sv", "pl", "ro", "ca")
LANGID_MIN_LETTERS = 25  # shorter: too little for a character model, French by default
LANGID_MIN_PROBABILITY = 0.9


@lru_cache(maxsize=1)
def _langid():
    """py3langid's identifier (langid.py's model, shipped in the package, BSD-3), restricted to
    :data:`LANGID_LANGUAGES`; loaded once per process, only when a text needs it.

    The package stores its model compressed with xz: reading it costs 0,5 s, nearly all in the
    decompression. The first load writes the restricted model uncompressed (plain arrays, no
    pickle) under :func:`analysis.config.cache_dir`; later processes read that copy in about 0,1 s.
    A missing, unreadable or unwritable copy only costs the slow load."""
    from py3langid.langid import LanguageIdentifier

    path = _langid_cache_path()
    try:
        with np.load(path, allow_pickle=False) as z:
            arrays = {k: z[k] for k in z.files}
    except (OSError, ValueError, KeyError, EOFError):
        arrays = _langid_arrays()
        _write_cache_npz(path, arrays)
    ident = LanguageIdentifier(arrays["ptc"], arrays["pc"], arrays["classes"].tolist(),
                               _uint_array(arrays["nextmove"]), arrays["out_feat"].tolist(),
                               norm_probs=True, tk_row=_uint_array(arrays["nextmove_row"]))
    ident.set_languages(list(LANGID_LANGUAGES))
    return ident


@lru_cache(maxsize=65_536)
def _langid_classify(text: str) -> tuple[str, float]:
    """py3langid's answer, remembered: the sentiment and the lemma keys of an enrichment pass both
    ask for the language of the same texts (one pass scores a chunk of texts with each model in turn)."""
    lang, p = _langid().classify(text)
    return str(lang), float(p)


def _langid_cache_path():
    from importlib.metadata import version

    return cache_dir() / f"langid-{version('py3langid')}-{'-'.join(LANGID_LANGUAGES)}.npz"


def _langid_arrays() -> dict[str, np.ndarray]:
    """The package's model (its own loader), restricted to :data:`LANGID_LANGUAGES`."""
    import lzma

    from py3langid.langid import MODEL_DIR, MODEL_FILE

    with lzma.open(MODEL_DIR / MODEL_FILE) as src, np.load(src, allow_pickle=False) as z:
        arrays = {k: z[k] for k in z.files}
    keep = [i for i, c in enumerate(arrays["classes"].tolist()) if c in LANGID_LANGUAGES]
    arrays["ptc"] = np.ascontiguousarray(arrays["ptc"][:, keep])
    arrays["pc"], arrays["classes"] = arrays["pc"][keep], arrays["classes"][keep]
    return arrays


def _write_cache_npz(path, arrays: dict[str, np.ndarray]) -> None:
    """Write ``arrays`` to ``path`` (npz) atomically; an unwritable folder is not an error."""
    import os
    import tempfile

    try:
        path.parent.mkdir(parents=True, exist_ok=True)
        fd, tmp = tempfile.mkstemp(dir=path.parent, suffix=".tmp")
        try:
            with os.fdopen(fd, "wb") as f:
                np.savez(f, **arrays)
            os.replace(tmp, path)  # readers never see a half-written file
        except BaseException:
            os.unlink(tmp)
            raise
    except OSError:
        pass  # a read-only home: every process pays the slow load, nothing else changes


def _uint_array(a: np.ndarray):
    """A numpy unsigned array as the stdlib ``array`` py3langid's tokenizer indexes."""
    from array import array

    out = array({2: "H", 4: "I", 8: "L"}[a.dtype.itemsize])
    out.frombytes(memoryview(np.ascontiguousarray(a)).cast("B"))  # one copy (tobytes() made two)
    return out


@lru_cache(maxsize=1)
def language_rules_version() -> str:
    """Fingerprint (6 hex) of what decides a text's language in :func:`detect_lang`: its word lists and
    pattern, py3langid's version, languages and thresholds, and the function's own code. Stamped
    with the scores that depend on it (sentiment: a text read as foreign gets no label; lemma keys:
    foreign texts get none), so a change of the rules rescored them instead of leaving the older
    messages decided the old way beside the new ones."""
    import hashlib
    import inspect
    from importlib.metadata import PackageNotFoundError, version

    try:
        langid = version("py3langid")
    except PackageNotFoundError:  # pragma: no cover - a pinned dependency
        langid = "?"
    try:
        code = inspect.getsource(detect_lang)
    except (OSError, TypeError):  # installed without its sources
        code = ""
    parts = [_WORD.pattern, *sorted(_FR_ONLY), "|", *sorted(_EN_ONLY), "|",
             *sorted(f"{w}={lang}" for w, lang in _OTHER_ONLY.items()), repr(LANGID_LANGUAGES),
             str(LANGID_MIN_LETTERS), str(LANGID_MIN_PROBABILITY), langid, code]
    return hashlib.sha256("\x00".join(parts).encode()).hexdigest()[:6]


def detect_lang(text: str | None, min_hits: int = 2, check: bool = True) -> str:
    """'fr', 'en', 'de', 'es', 'it', 'nl', 'pt', another code of :data:`LANGID_LANGUAGES` or 'und'.

    First from counts of function words only one of those languages has. Messages too short to
    decide (fewer than ``min_hits`` function words) default to French unless they carry no letters
    at all ('und'): the accounts followed are French, so a short message is far more likely French
    than anything else.

    With ``check``, a text those counts call French on thin evidence — fewer than two French-only
    function words, or a function word of another language — and of at least
    :data:`LANGID_MIN_LETTERS` letters is read by py3langid's character model: another language
    at probability ≥ :data:`LANGID_MIN_PROBABILITY` wins. The function words alone called French a
    Spanish review (« de », « la », « en », « que » are French words too) and every Danish, Swedish
    or Norwegian one (`vigie eval`, language table). A text with French evidence never reaches the
    model, so French messages are read at the same speed.
    """
    if not text:
        return "und"
    words = _WORD.findall(text.lower())
    if not words:
        return "und"
    fr = en = 0
    other: dict[str, int] = {}
    for w in words:
        if w in _FR_ONLY:
            fr += 1
        elif w in _EN_ONLY:
            en += 1
        elif w in _OTHER_ONLY:
            lang = _OTHER_ONLY[w]
            other[lang] = other.get(lang, 0) + 1
    if en >= min_hits and en > 2 * fr:
        return "en"
    if other:
        lang, hits = max(other.items(), key=lambda kv: kv[1])
        if hits >= min_hits and hits > 2 * fr and hits > en:
            return lang
    if check and (fr < 2 or other) and sum(map(len, words)) >= LANGID_MIN_LETTERS:
        lang, p = _langid_classify(text)
        if lang != "fr" and p >= LANGID_MIN_PROBABILITY:
            return str(lang)
    return "fr"
