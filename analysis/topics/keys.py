"""Lemma keys of every distinct message text, computed once at enrichment and read back as a matrix.

Why (issue 19 item 3): emerging subjects tokenised and lemmatised a territory's year of texts on
every page view (half a second at 1 M messages). The keys of a text never change, so the
enrichment pass stores them once per distinct text (:class:`KeysTask`: new texts only) in
``text_keys`` (the text and the ids of its keys) and ``lemma_keys`` (id → key); readers join them
to the messages they select (:func:`stored_key_matrix`) and get the same binary matrix as
:class:`analysis.topics.lemmas.LemmaVectorizer` over those texts. When a selected text has no
stored keys of the current :func:`keys_version` (a store not enriched since), readers get None and
tokenise as before.

The keys of one text do not depend on the other texts it is tokenised with (each text is its own
document of :func:`analysis.topics.lemmas.lemma_counts`: no pattern crosses the separator), so
keying texts chunk by chunk gives what tokenising the selection at once gives.

Texts are found by the text itself, not a hash of it: DuckDB's ``hash()`` gives two texts of the
demo store differing only in case the same value, and an MD5 of every selected message cost more
than the join on the text (at 1 M messages, 100 ms of CPU against 60 ms for a territory's year).
The copy is deleted with the last message holding the text (:mod:`analysis.retention`).
"""

from __future__ import annotations

import hashlib
from collections.abc import Sequence
from functools import lru_cache
from importlib import metadata
from typing import Any

import duckdb
import numpy as np
import pandas as pd
import scipy.sparse as sp

from analysis.text import detect_lang, language_rules_version
from analysis.topics.lemmas import STOP_WORDS_FR, TOKEN_PATTERN, lemma_counts, lemma_key, subject_terms_mask

# Bump when the tokenisation or the lemma keys change in a way the fingerprint below cannot see
# (the code of analysis.topics.lemmas): stored keys of another version are recomputed.
KEYS_SCHEME = "lemma-keys-4"  # 2: texts in another language than French have no keys; 3: the language
# is checked by py3langid when the function words are not conclusive (more texts found foreign); 4: « travaux »
# and « devoirs » are their own keys (analysis.topics.lemmas.OWN_KEYS)


@lru_cache(maxsize=1)
def keys_version() -> str:
    """Version of the stored keys: the scheme, the stop words, the token pattern, the lemmatiser's version and
    the language rules (:func:`analysis.text.language_rules_version`: foreign texts get no keys)."""
    try:
        simplemma = metadata.version("simplemma")
    except metadata.PackageNotFoundError:  # pragma: no cover - simplemma is a pinned dependency
        simplemma = "?"
    h = hashlib.sha256("\n".join([TOKEN_PATTERN, simplemma, language_rules_version(), *sorted(STOP_WORDS_FR)]).encode())
    return f"{KEYS_SCHEME}-{h.hexdigest()[:10]}"


def french_only(texts: Sequence[str | None]) -> list[str | None]:
    """``texts`` with those in another language than French (:func:`analysis.text.detect_lang`: a German
    or English review) emptied: French lemmas of foreign words are noise (« zu · klein · der » came out
    as a subject of a hotel's reviews); subjects and their keys are read from French texts only."""
    return [t if t is None or detect_lang(t) in ("fr", "und") else "" for t in texts]


def keys_of_texts(texts: Sequence[str]) -> pd.DataFrame:
    """Lemma uni/bigram keys of texts: one row per (``i`` = position in ``texts``, ``key``), distinct per
    text; a text without any key (or not in French: :func:`french_only`) gets one row with ``key`` None
    (so it is not read again)."""
    K, keys = lemma_counts(french_only(texts), (1, 2))
    C = K.tocoo()
    names = np.asarray(keys, dtype=object)
    rows, cols = C.row.astype(np.int64), C.col.astype(np.int64)
    none = np.setdiff1d(np.arange(len(texts), dtype=np.int64), rows)
    return pd.DataFrame({"i": np.concatenate([rows, none]),
                         "key": np.concatenate([names[cols], np.full(len(none), None, dtype=object)])})


class KeysTask:
    """The keys' share of the enrichment pass (:class:`analysis.enrich.TextTask`): one row per distinct
    message text without keys of this version (``item_id`` is the text itself)."""

    name = "keys"
    label = "Mots-clés des textes"
    sources, results = ("messages",), "text_keys"

    def __init__(self, con: Any = None):
        self.version = keys_version()

    def items(self, above: dict[str, int] | None = None) -> tuple[str, list]:
        # above the marks (analysis.enrich): the texts of the new messages only, some already known
        new = f" AND rowid > {int(above['messages'])}" if above else ""
        return (f"""SELECT 'text' AS item_type, text AS item_id, text, text IN (SELECT text FROM text_keys) AS stale
                   FROM (SELECT DISTINCT text FROM messages WHERE text IS NOT NULL{new})
                   WHERE text NOT IN (SELECT text FROM text_keys WHERE version = ?)""", [self.version])

    items_above = items

    def score(self, texts: list[str]) -> pd.DataFrame:
        return keys_of_texts(texts)

    def write(self, con: Any, rows: str, stale: bool) -> None:
        if stale:
            con.execute(f"DELETE FROM text_keys WHERE text IN (SELECT item_id FROM {rows} WHERE stale)")
        # new keys numbered after the others, in key order (ids are only names: readers look keys up)
        con.execute(f"""INSERT INTO lemma_keys
            SELECT (SELECT coalesce(max(key_id), -1) FROM lemma_keys) + row_number() OVER (ORDER BY key), key
            FROM (SELECT DISTINCT key FROM {rows} WHERE key IS NOT NULL) n
            WHERE NOT EXISTS (SELECT 1 FROM lemma_keys l WHERE l.key = n.key)""")
        con.execute(f"""INSERT INTO text_keys
            SELECT r.item_id, coalesce(list(l.key_id ORDER BY l.key_id) FILTER (WHERE l.key_id IS NOT NULL),
                                       []::INTEGER[]), ?
            FROM {rows} r LEFT JOIN lemma_keys l ON l.key = r.key GROUP BY r.item_id ORDER BY r.item_id""",
                    [self.version])

    def result(self, con: Any, counts: dict[str, int]) -> dict:
        return {"texts": counts.get("text", 0), "version": self.version}


def task(con: Any) -> KeysTask:
    """This enricher's share of the orchestrator's pass."""
    return KeysTask(con)


def keys_join(con: Any, alias: str = "m") -> tuple[str, list] | None:
    """``LEFT JOIN`` clause (and its parameters) giving ``k.keys``, the stored key ids of the text of each
    message ``alias`` (NULL when the text has no keys of this version); None when the store has no keys
    table (created before it)."""
    try:
        # every stored row of this version (the usual case): no version test per row (a fifth of the join)
        same = con.execute("SELECT bool_and(version = ?) FROM text_keys", [keys_version()]).fetchall()[0][0]
    except (duckdb.CatalogException, duckdb.InvalidInputException):  # no such table (a replacement scan may
        return None                                                   # have looked for a Python object)
    if same:
        return f"LEFT JOIN text_keys k ON k.text = {alias}.text", []
    return f"LEFT JOIN text_keys k ON k.text = {alias}.text AND k.version = ?", [keys_version()]


def stored_key_matrix(con: Any, keys: Any, min_df: int = 1, max_df: float = 1.0, subject_terms: bool = False,
                      exclude: Sequence[str] = ()) -> tuple[sp.csr_matrix, np.ndarray] | None:
    """Binary matrix (messages × lemma keys) from ``keys``, the ``k.keys`` of :func:`keys_join` read as an
    Arrow list array (one list of key ids per message).

    The keys kept and their order are those of :class:`analysis.topics.lemmas.LemmaVectorizer`
    (``min_df``, ``max_df``, ``subject_terms``, ``exclude``) fitted on the texts, and the matrix is
    its binarised ``fit_transform``. None when a text has no keys of this version.
    """
    keys = keys.combine_chunks() if hasattr(keys, "combine_chunks") else keys
    if keys.null_count:  # a text without stored keys (not enriched since): tokenise instead
        return None
    n = len(keys)
    off = keys.offsets.to_numpy().astype(np.int64)
    ids = keys.values.to_numpy()[off[0]:off[-1]].astype(np.int64)
    off -= off[0]
    # document frequency of a key = the messages holding it (a text's keys are distinct)
    df = np.bincount(ids) if len(ids) else np.zeros(0, dtype=np.int64)
    cand = np.flatnonzero((df >= max(min_df, 1)) & (df <= max_df * max(n, 1)))
    names = _key_names(con, cand)
    if subject_terms and len(names):
        excl = {lemma_key(w) for w in exclude}
        keep = subject_terms_mask(names, excl)
        cand, names = cand[keep], names[keep]
    order = np.argsort(names, kind="stable")  # the vectorizer sorts its keys (distinct: the order is total)
    col_of = np.full(len(df), -1, dtype=np.int64)
    col_of[cand[order]] = np.arange(len(order))
    col = col_of[ids]
    sel = col >= 0
    indptr = np.concatenate([[0], np.cumsum(sel)])[off]
    X = sp.csr_matrix((np.ones(int(sel.sum()), dtype=np.float32), col[sel].astype(np.int32), indptr),
                      shape=(n, len(order)))
    X.sort_indices()
    return X, np.asarray(names[order], dtype=object)


def _key_names(con: Any, ids: np.ndarray) -> np.ndarray:
    if not len(ids):
        return np.array([], dtype=object)
    got = con.execute("SELECT key_id, key FROM lemma_keys WHERE key_id IN (SELECT unnest(?::INTEGER[]))",
                      [ids.tolist()]).fetchnumpy()
    lookup = dict(zip(np.asarray(got["key_id"]).tolist(), np.asarray(got["key"], dtype=object).tolist(), strict=True))
    return np.array([lookup[i] for i in ids.tolist()], dtype=object)
