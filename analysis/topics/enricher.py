"""Analyst theme labels and the enricher: :func:`store_label`, :func:`classifier_from_store`, and
:func:`enrich`, which writes the ``themes`` table incrementally, stamped with ``model_version``."""

from __future__ import annotations

import copy
import hashlib
import math
import re
from collections.abc import Callable, Sequence
from typing import Any

import numpy as np
import pandas as pd

from analysis import enrich as orchestrator
from analysis import store
from analysis.fmt import fr_plural
from analysis.topics.classifier import ADAPT_MIN_TEXTS, ThemeClassifier, default_classifier
from analysis.topics.taxonomy import NO_THEME, Taxonomy, load_taxonomy


def parse_labels(value: str | float | None) -> list[str] | None:
    """'a, b' → ['a', 'b']; '' → [] (explicitly no theme); NaN/None → None (unlabelled)."""
    if value is None or (isinstance(value, float) and math.isnan(value)):
        return None
    return [v.strip() for v in re.split(r"[,;|]", str(value)) if v.strip()]


def known_labels(value: str | float | None, ids: Sequence[str]) -> list[str] | None:
    """:func:`parse_labels` against the taxonomy at hand (``ids``): its themes that still exist; None
    (unlabelled: the model decides) when it named themes and none of them is in the taxonomy any more
    — a theme renamed or removed from ``data/themes.toml`` must not turn an analyst's « mobilité » into
    « no theme »."""
    got = parse_labels(value)
    if not got:
        return got
    known = [t for t in got if t in ids]
    return known or None


def store_label(con: Any, item_id: str, themes: Sequence[str], item_type: str | None = None,
                author: str | None = None, taxonomy: Taxonomy | None = None) -> None:
    """Store an analyst theme label (task 'theme', value = comma-separated ids; empty = no theme)."""
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


# Texts the adaptation learns from: a deterministic sample of the store's distinct texts (20 000: about
# 3 s to learn, once per doubling of the store).
ADAPT_SAMPLE = 20_000
ADAPTATION = "adaptation"


def _stored(con: Any, tax: Taxonomy) -> tuple[tuple | None, ThemeClassifier | None]:
    """The store's ``theme_model`` row (base, items, examples, fitted_at, model), and the shipped classifier
    with its model read in when it is current: learned for this taxonomy and word table, and readable (a
    row damaged by hand, or imported from a store of another version, is not current: learned again rather
    than stopping the enrichment). A row learned from too few texts (no model) gives the plain classifier."""
    if "theme_model" in store.pending_tables(con):
        return None, None
    row = con.execute("SELECT base, items, examples, fitted_at, model FROM theme_model WHERE name = ?",
                      [ADAPTATION]).fetchone()
    if row is None or row[0] != adapted_classifier(tax, None)._base_version():
        return row, None
    try:
        return row, adapted_classifier(tax, None if row[4] is None else bytes(row[4]))
    except Exception:  # noqa: BLE001 - any unreadable model: learned again
        return row, None


def store_adaptation(con: Any, tax: Taxonomy, refit: bool = True, sample: int = ADAPT_SAMPLE) -> ThemeClassifier:
    """The shipped classifier adapted to the store's texts (:meth:`ThemeClassifier.adapt`; without
    ``adaptation_`` when nothing was learned: too few texts a keyword names). Learned again — when
    ``refit`` (a write session) — if there is no current model for this taxonomy and word table, or the
    store holds twice the messages and posts it held then (its vocabulary may have moved; learning it at
    every import would reclassify every message every day)."""
    row, clf = _stored(con, tax)
    if not refit:  # a read-only session (a write session has migrated the store: the table is there)
        return clf or adapted_classifier(tax, None)
    items = con.execute("SELECT (SELECT count(*) FROM messages) + (SELECT count(*) FROM posts)").fetchone()[0]
    if clf is not None and items < 2 * max(row[1] or 0, 1):
        return clf
    # a copy of the shipped classifier: adapt() sets its own attributes only
    clf = adapted_classifier(tax, None).adapt(adaptation_sample(con, sample))
    con.execute("INSERT OR REPLACE INTO theme_model VALUES (?, ?, ?, ?, now()::TIMESTAMP, ?)",
                [ADAPTATION, clf._base_version(), items, clf.adapt_examples_, clf.adaptation_])
    return clf


def adaptation_sample(con: Any, sample: int = ADAPT_SAMPLE) -> list[str]:
    """The texts the store's adaptation learns from: ``sample`` distinct texts of its messages and posts,
    the same ones from one run to the next (ordered by their hash)."""
    return con.execute(
        "SELECT text FROM (SELECT text FROM messages WHERE text IS NOT NULL UNION "
        "SELECT text FROM posts WHERE text IS NOT NULL) ORDER BY hash(text), text LIMIT ?", [sample]
    ).df()["text"].tolist()


def adaptation_state(con: Any, taxonomy: Taxonomy | None = None) -> dict[str, Any] | None:
    """What the store's adaptation is (:func:`store_adaptation`), for the analyst: ``learned`` (a model
    is in use), ``examples`` (texts a keyword named), ``items`` (messages and posts then), ``fitted_at``,
    ``current`` (learned for this taxonomy and word table) and ``relearn_at`` (the store's size that
    makes the next write session learn it again). None: never learned (no write session since)."""
    row, clf = _stored(con, taxonomy or load_taxonomy())
    if row is None:
        return None
    return {"learned": clf is not None and clf.adaptation_ is not None, "examples": int(row[2] or 0),
            "items": int(row[1] or 0), "fitted_at": row[3], "current": clf is not None,
            "relearn_at": 2 * max(int(row[1] or 0), 1), "min_examples": ADAPT_MIN_TEXTS}


def adapted_classifier(tax: Taxonomy, adaptation: bytes | None) -> ThemeClassifier:
    """The shipped classifier (:func:`default_classifier`, built once per process) with ``adaptation``
    read in: a shallow copy, so the shared one is never changed."""
    clf = copy.copy(default_classifier(tax))
    clf.adaptation = adaptation
    clf._drop_adaptation()
    if adaptation is not None:
        clf._load_adaptation(adaptation)
    clf.version_ = clf._version()
    return clf


def classifier_from_store(con: Any, taxonomy: Taxonomy | None = None, unlabelled_sample: int = 20_000,
                          refit: bool = True) -> ThemeClassifier:
    """The classifier the enricher uses: the taxonomy adapted to the store's texts
    (:func:`store_adaptation`; ``refit=False`` in a read-only session), fitted on analysts' theme labels
    when there are some."""
    tax = taxonomy or load_taxonomy()
    adapted = store_adaptation(con, tax, refit=refit)
    labels = con.execute(
        """
        SELECT l.item_id, l.value, coalesce(m.text, p.text) AS text FROM labels l
        LEFT JOIN messages m ON l.item_type = 'message' AND m.message_id = l.item_id
        LEFT JOIN posts p ON l.item_type = 'post' AND p.post_id = l.item_id
        WHERE l.task = 'theme' ORDER BY l.item_id
        """).df()
    labels = labels[labels["text"].notna()]
    if labels.empty:
        return adapted
    clf = ThemeClassifier(tax, adaptation=adapted.adaptation_)
    ys = [known_labels(v, tax.ids) for v in labels["value"]]
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


class ThemesTask:
    """The theme enricher's share of a pass (:class:`analysis.enrich.TextTask`): rows of every item
    not yet classified by this model version; analyst labels override the model (score 1)."""

    name = "topics"
    label = "Thèmes"
    sources, results = tuple(store.ENRICH_SOURCES), "themes"

    def __init__(self, con: Any, clf: Any):
        self.clf = clf
        self.version = clf.version
        self.ids = np.array(clf._tax().ids, dtype=object)
        labels = con.execute("SELECT item_id, item_type, value FROM labels WHERE task = 'theme'").fetchall()
        known = [(i, t, known_labels(v, list(self.ids))) for i, t, v in labels]
        lab = pd.DataFrame([(t, i, th) for i, t, k in known if k is not None for th in dict.fromkeys(k or [NO_THEME])],
                           columns=["item_type", "item_id", "theme"], dtype=object)
        self.labelled = len(lab) > 0
        if self.labelled:
            con.execute("CREATE OR REPLACE TEMP TABLE _enrich_theme_labels AS SELECT * FROM lab")
        self.themed: dict[str, int] = {}

    def items(self) -> tuple[str, list]:
        parts, params = [], []
        for item_type, table, idcol in _SOURCES:
            parts.append(f"""SELECT '{item_type}' AS item_type, i.{idcol} AS item_id, coalesce(i.text, '') AS text,
                    EXISTS (SELECT 1 FROM themes t WHERE t.item_id = i.{idcol} AND t.item_type = '{item_type}') AS stale
                FROM {table} i WHERE NOT EXISTS (SELECT 1 FROM themes t WHERE t.item_id = i.{idcol}
                    AND t.item_type = '{item_type}' AND t.model_version = ?)""")
            params.append(self.version)
        return " UNION ALL ".join(parts), params

    def score(self, texts: list[str]) -> pd.DataFrame:
        """Rows (``i``, theme, score) of the themes reaching the threshold; ``'none'`` (score 0) else."""
        P = self.clf.predict_proba(texts)
        hit = P >= self.clf.threshold
        r, c = np.nonzero(hit)
        none = np.flatnonzero(~hit.any(axis=1))
        return pd.DataFrame({"i": np.concatenate([r, none]),
                             "theme": np.concatenate([self.ids[c], np.full(len(none), NO_THEME, dtype=object)]),
                             "score": np.concatenate([P[r, c].astype("float64"), np.zeros(len(none))]),
                             "rank": np.concatenate([c, np.full(len(none), len(self.ids))]).astype(np.int16)})

    def write(self, con: Any, rows: str, stale: bool) -> None:
        if stale:
            con.execute(f"DELETE FROM themes WHERE (item_type, item_id) IN (SELECT item_type, item_id FROM {rows} "
                        "WHERE stale)")
        model = f"(SELECT * FROM {rows} WHERE (item_type, item_id) NOT IN " \
                "(SELECT item_type, item_id FROM _enrich_theme_labels))" if self.labelled else rows
        # in key order, themes in taxonomy order, as item by item: a reader breaking a tie on the
        # score with LIMIT 1 keeps picking the same theme (campaigns.posts.posts_frame does)
        con.execute(f"INSERT INTO themes SELECT item_id, item_type, theme, score, ? FROM {model} "
                    "ORDER BY item_type, item_id, rank", [self.version])
        themed = f"SELECT item_type, item_id FROM {model} WHERE theme <> '{NO_THEME}'"
        if self.labelled:
            over = (f"SELECT l.item_type, l.item_id, l.theme FROM _enrich_theme_labels l WHERE (l.item_type, "
                    f"l.item_id) IN (SELECT item_type, item_id FROM {rows})")
            con.execute(f"INSERT INTO themes SELECT item_id, item_type, theme, 1.0, ? FROM ({over})", [self.version])
            themed += f" UNION ALL SELECT item_type, item_id FROM ({over}) WHERE theme <> '{NO_THEME}'"
        for item_type, n in con.execute(f"SELECT item_type, count(DISTINCT item_id) FROM ({themed}) GROUP BY 1"
                                        ).fetchall():
            self.themed[item_type] = self.themed.get(item_type, 0) + n

    def result(self, con: Any, counts: dict[str, int]) -> dict:
        if self.labelled:
            con.execute("DROP TABLE IF EXISTS _enrich_theme_labels")
        out: dict[str, Any] = {"model_version": self.version}
        for item_type, table, _ in _SOURCES:
            out[f"{table}_classified"] = counts.get(item_type, 0)
            out[f"{table}_themed"] = self.themed.get(item_type, 0)
        return out


# (item type, table, key) of the items scored: the enrichment's source tables
_SOURCES = tuple((item_type, table, key) for table, (item_type, key) in store.ENRICH_SOURCES.items())


def task(con: Any, taxonomy: Taxonomy | None = None, classifier: Any = None) -> ThemesTask:
    """This enricher's share of the orchestrator's pass (the store's classifier by default)."""
    return ThemesTask(con, classifier if classifier is not None else classifier_from_store(con, taxonomy))


def enrich(con: Any, progress: Callable[[str], None] | object | None = None, batch_size: int | None = None,
           taxonomy: Taxonomy | None = None, classifier: Any = None) -> dict:
    """Classify messages and posts not yet classified by the current model version into ``themes``.

    Incremental: an item already carrying rows of this ``model_version`` is skipped; an item
    classified by an older version is rewritten. Items matching no theme get one ``'none'``
    row so they are not re-read next time. Analyst labels override the model (score 1).
    Returns counts per item type and the model version. ``classifier``: the store's classifier
    wrapped by another engine (:mod:`analysis.distributed`), then called in this process.
    """
    return orchestrator.one_pass(con, [task(con, taxonomy, classifier)], progress=progress, chunk=batch_size,
                                 n_workers=1 if classifier is not None else None)[ThemesTask.name]
