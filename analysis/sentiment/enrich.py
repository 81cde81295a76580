"""Sentiment enricher: score every message and post not yet scored by the current model.

Incremental: an item is scored when it has no ``sentiment`` row or one stamped with another
``model_version``; a second run with the same model scores nothing. The items are scored in the
orchestrator's pass over distinct texts (:func:`analysis.enrich.one_pass`), written per chunk
in one transaction each, so an interrupted run keeps what it finished.
"""

from __future__ import annotations

from collections.abc import Callable
from datetime import UTC, datetime

import duckdb
import numpy as np
import pandas as pd

from analysis import enrich as orchestrator
from analysis import store
from analysis.sentiment import load_model
from analysis.sentiment.corrections import ensure_view
from analysis.text import language_rules_version

NAME = "sentiment"

# (item type, table, key) of the items scored: the enrichment's source tables
_SOURCES = tuple((item_type, table, key) for table, (item_type, key) in store.ENRICH_SOURCES.items())


def scoring_version(model) -> str:
    """The version stamped on every ``sentiment`` row: the model's, and the language rules' (``-g`` +
    :func:`analysis.text.language_rules_version`: a text read as foreign gets no label), so a change
    of either rescores every item at the next enrichment."""
    return f"{model.version}-g{language_rules_version()}"


def pending(con: duckdb.DuckDBPyConnection, version: str, item_type: str) -> pd.DataFrame:
    """Items of ``item_type`` whose sentiment is missing or from another model version."""
    _, table, key = next(s for s in _SOURCES if s[0] == item_type)
    return con.execute(f"""
        SELECT i.{key} AS item_id, i.text
        FROM {table} AS i
        LEFT JOIN sentiment AS s ON s.item_id = i.{key} AND s.item_type = ?
        WHERE s.item_id IS NULL OR s.model_version IS DISTINCT FROM ?
        ORDER BY i.{key}
    """, [item_type, version]).df()


class SentimentTask:
    """The sentiment enricher's share of a pass (:class:`analysis.enrich.TextTask`)."""

    name = NAME
    label = "Sentiment"
    sources, results = tuple(store.ENRICH_SOURCES), "sentiment"

    def __init__(self, model):
        self.model = model
        self.version = scoring_version(model)
        self.scored_at = datetime.now(UTC).replace(tzinfo=None)

    def items(self) -> tuple[str, list]:
        parts, params = [], []
        for item_type, table, key in _SOURCES:
            parts.append(f"""SELECT '{item_type}' AS item_type, i.{key} AS item_id, coalesce(i.text, '') AS text,
                    s.item_id IS NOT NULL AS stale
                FROM {table} AS i LEFT JOIN sentiment AS s ON s.item_id = i.{key} AND s.item_type = '{item_type}'
                WHERE s.item_id IS NULL OR s.model_version IS DISTINCT FROM ?""")
            params.append(self.version)
        return " UNION ALL ".join(parts), params

    def score(self, texts: list[str]) -> pd.DataFrame:
        return score(texts, self.model)

    def write(self, con: duckdb.DuckDBPyConnection, rows: str, stale: bool) -> None:
        # Delete + insert rather than store.upsert: a re-score must be able to clear a label to
        # NULL (e.g. a message now detected as English), which upsert deliberately never does.
        if stale:
            con.execute(f"DELETE FROM sentiment WHERE (item_type, item_id) IN "
                        f"(SELECT item_type, item_id FROM {rows} WHERE stale)")
        con.execute(f"INSERT INTO sentiment BY NAME SELECT item_id, item_type, ? AS model_version, lang, label, "
                    f"p_negative, p_neutral, p_positive, ? AS scored_at FROM {rows} ORDER BY item_type, item_id",
                    [self.version, self.scored_at])  # in key order, as item by item

    def result(self, con: duckdb.DuckDBPyConnection, counts: dict[str, int]) -> dict:
        ensure_view(con)
        return {"model_version": self.version, "messages": counts.get("message", 0), "posts": counts.get("post", 0)}


def score(texts: list[str], model) -> pd.DataFrame:
    """Scores of texts (``i``, lang, label, p_negative, p_neutral, p_positive): a blank text is
    ``und`` with no label, a text in another language keeps its language with no label."""
    langs, labels, proba = model.score(texts)
    blank = np.fromiter((not t.strip() for t in texts), dtype=bool, count=len(texts))
    langs = np.where(blank, "und", np.asarray(langs, dtype=object))
    labels = np.asarray(labels, dtype=object)
    labels[blank] = None
    proba = np.asarray(proba, dtype=np.float64).reshape(len(texts), 3)
    proba[pd.isna(labels)] = np.nan
    return pd.DataFrame({"i": np.arange(len(texts)), "lang": langs, "label": labels,
                         "p_negative": proba[:, 0], "p_neutral": proba[:, 1], "p_positive": proba[:, 2]})


def task(con: duckdb.DuckDBPyConnection, model=None) -> SentimentTask:
    """This enricher's share of the orchestrator's pass (the committed model by default)."""
    return SentimentTask(model or load_model())


def enrich(con: duckdb.DuckDBPyConnection, progress: Callable[[str], None] | object | None = None,
           model=None, batch_size: int | None = None) -> dict:
    """Score pending messages and posts; return ``{'messages': n, 'posts': n, 'model_version': v}``.

    ``model``: another model with the same ``score``/``version`` (a test's, or one scoring on
    a cluster, :mod:`analysis.distributed`): it is then called in this process.
    """
    return orchestrator.one_pass(con, [task(con, model)], progress=progress, chunk=batch_size,
                                 n_workers=1 if model is not None else None)[NAME]
