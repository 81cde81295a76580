"""Analyst corrections of sentiment: store them, show them first, evaluate and retrain on them.

Corrections live in ``labels`` (``task='sentiment'``) and every change is written to
``audit_log``. The ``effective_sentiment`` view applies them over the model output, so notebooks,
app and reports all show the corrected label.
"""

from __future__ import annotations

import json
from datetime import UTC, datetime

import duckdb
import numpy as np
import pandas as pd

from analysis import store
from analysis.fmt import fr_int, fr_num
from analysis.sentiment.model import LABELS, _as_codes

ITEM_TYPES = ("message", "post")

EFFECTIVE_VIEW_SQL = """
CREATE OR REPLACE VIEW effective_sentiment AS
SELECT s.item_id, s.item_type, s.lang, s.model_version,
       coalesce(l.value, s.label) AS label,
       s.label AS model_label,
       l.value IS NOT NULL AS corrected,
       s.p_negative, s.p_neutral, s.p_positive
FROM sentiment AS s
LEFT JOIN labels AS l
  ON l.item_id = s.item_id AND l.item_type = s.item_type AND l.task = 'sentiment'
UNION ALL
-- corrected items the model has not scored yet still show their analyst label
SELECT l.item_id, l.item_type, NULL, NULL, l.value, NULL, TRUE, NULL, NULL, NULL
FROM labels AS l
WHERE l.task = 'sentiment'
  AND NOT EXISTS (SELECT 1 FROM sentiment AS s WHERE s.item_id = l.item_id AND s.item_type = l.item_type)
"""


def ensure_view(con: duckdb.DuckDBPyConnection) -> None:
    """Create (or refresh) the ``effective_sentiment`` view on a writable connection."""
    con.execute(EFFECTIVE_VIEW_SQL)


def correct(con: duckdb.DuckDBPyConnection, item_id: str, item_type: str, label: str | int,
            author: str) -> None:
    """Record an analyst's sentiment label for one message or post (overrides the model)."""
    if item_type not in ITEM_TYPES:
        raise ValueError(f"Type d'élément inconnu : {item_type!r} (attendu : message ou post)")
    value = LABELS[int(_as_codes([label])[0])]
    table = "messages" if item_type == "message" else "posts"
    key = "message_id" if item_type == "message" else "post_id"
    if not con.execute(f"SELECT 1 FROM {table} WHERE {key} = ?", [item_id]).fetchone():
        raise KeyError(f"{item_type} {item_id!r} absent de la base : vérifiez l'identifiant.")
    now = datetime.now(UTC).replace(tzinfo=None)
    previous = con.execute(
        "SELECT value FROM labels WHERE item_id = ? AND item_type = ? AND task = 'sentiment'",
        [item_id, item_type]).fetchone()
    with store.transaction(con):
        store.upsert(con, "labels", pd.DataFrame([{
            "item_id": item_id, "item_type": item_type, "task": "sentiment", "value": value,
            "author": author, "created_at": now}]))
        con.execute("INSERT INTO audit_log VALUES (?, ?, ?, ?)", [
            now, author, "label.sentiment",
            json.dumps({"item_id": item_id, "item_type": item_type, "value": value,
                        "previous": previous[0] if previous else None}, ensure_ascii=False)])
    ensure_view(con)


def effective_sentiment(con: duckdb.DuckDBPyConnection, item_type: str | None = None) -> pd.DataFrame:
    """Model labels with analyst corrections applied (same rows as the view)."""
    sql = EFFECTIVE_VIEW_SQL.split(" AS\n", 1)[1]
    df = con.execute(f"SELECT * FROM ({sql})" + (" WHERE item_type = ?" if item_type else ""),
                     [item_type] if item_type else []).df()
    return df


def corrected_dataset(con: duckdb.DuckDBPyConnection):
    """Texts and analyst labels of every corrected message/post (for evaluation and retraining)."""
    from analysis.sentiment.train import Dataset

    df = con.execute("""
        SELECT coalesce(m.text, p.text) AS text, l.value
        FROM labels AS l
        LEFT JOIN messages AS m ON l.item_type = 'message' AND m.message_id = l.item_id
        LEFT JOIN posts AS p ON l.item_type = 'post' AND p.post_id = l.item_id
        WHERE l.task = 'sentiment' AND coalesce(m.text, p.text) IS NOT NULL
        ORDER BY l.item_type, l.item_id
    """).df()
    return Dataset(df["text"].tolist(), _as_codes(df["value"]) if len(df) else np.zeros(0, int),
                   "store-corrections")


def store_eval_caveat(n: int, low: float, high: float) -> str:
    """What a macro-F1 measured on the analysts' corrections is worth (French): a small sample, not
    drawn at random but chosen among messages whose label looked doubtful, so neither a figure of
    the model on every message nor a precise one; ``low``–``high``: its 95 % bootstrap interval."""
    sample = f"{fr_int(n)} correction{'s' if n > 1 else ''}"
    interval = (f"intervalle de confiance à 95 % (bootstrap) : {fr_num(low, 2)} à {fr_num(high, 2)}"
                if low == low and high == high else "intervalle de confiance non calculable")
    return (f"Prudence : mesure sur {sample} d'analystes seulement, un petit échantillon choisi parmi les messages "
            f"dont le sentiment semblait douteux (ni tiré au hasard ni représentatif de l'ensemble des messages) ; "
            f"{interval}. La macro-F1 du modèle sur tous les messages peut en être nettement différente.")
