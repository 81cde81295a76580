"""Sentiment enricher: score every message and post not yet scored by the current model.

Incremental: an item is scored when it has no ``sentiment`` row or one stamped with another
``model_version``; a second run with the same model scores nothing. Rows are written per batch
in one transaction each, so an interrupted run keeps what it finished.
"""

from __future__ import annotations

from collections.abc import Callable
from datetime import UTC, datetime

import duckdb
import numpy as np
import pandas as pd

from analysis import store
from analysis.sentiment.corrections import ensure_view

NAME = "sentiment"
BATCH = 50_000

_SOURCES = (("message", "messages", "message_id"), ("post", "posts", "post_id"))


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


def enrich(con: duckdb.DuckDBPyConnection, progress: Callable[[str], None] | object | None = None,
           model=None, batch_size: int = BATCH) -> dict:
    """Score pending messages and posts; return ``{'messages': n, 'posts': n, 'model_version': v}``."""
    from analysis.sentiment import load_model

    m = model or load_model()
    out: dict = {"model_version": m.version}
    for item_type, table, _ in _SOURCES:
        todo = pending(con, m.version, item_type)
        done = 0
        for start in range(0, len(todo), batch_size):
            chunk = todo.iloc[start:start + batch_size]
            _write(con, item_type, chunk, m)
            done += len(chunk)
            _say(progress, f"Sentiment : {done}/{len(todo)} {table} évalués")
        out[table] = done
    ensure_view(con)
    return out


def _write(con: duckdb.DuckDBPyConnection, item_type: str, chunk: pd.DataFrame, m) -> None:
    texts = chunk["text"].fillna("").astype(str).tolist()
    langs, labels, proba = m.score(texts)
    langs = [lg if t.strip() else "und" for lg, t in zip(langs, texts, strict=True)]
    labels = [lb if t.strip() else None for lb, t in zip(labels, texts, strict=True)]
    proba = np.where(np.array(labels, dtype=object)[:, None] == None, np.nan, proba)  # noqa: E711
    df = pd.DataFrame({
        "item_id": chunk["item_id"].to_numpy(),
        "item_type": item_type,
        "model_version": m.version,
        "lang": langs,
        "label": labels,
        "p_negative": proba[:, 0],
        "p_neutral": proba[:, 1],
        "p_positive": proba[:, 2],
        "scored_at": datetime.now(UTC).replace(tzinfo=None),
    })
    # Delete + insert rather than store.upsert: a re-score must be able to clear a label to
    # NULL (e.g. a message now detected as English), which upsert deliberately never does.
    con.register("_sent_batch", df)
    try:
        with store.transaction(con):
            con.execute("DELETE FROM sentiment WHERE item_type = ? AND item_id IN (SELECT item_id FROM _sent_batch)",
                        [item_type])
            con.execute("INSERT INTO sentiment BY NAME SELECT * FROM _sent_batch")
    finally:
        con.unregister("_sent_batch")


def _say(progress, msg: str) -> None:
    if progress is None:
        return
    if hasattr(progress, "print"):
        progress.print(msg)
    elif callable(progress):
        progress(msg)
