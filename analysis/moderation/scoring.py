"""Enricher writing the ``toxicity`` table: p_toxic, is_question, lexicon_hits per message."""

from __future__ import annotations

from collections.abc import Callable

import duckdb
import numpy as np
import pandas as pd

from analysis import enrich as orchestrator
from analysis.moderation.toxicity import (
    ToxicityClassifier,
    default_lexicon,
    fold,
    is_question_folded,
    load_model,
    normalise_folded,
    scoring_version,
)

CHUNK = 50_000


def score_texts(texts: list[str | None], model: ToxicityClassifier | None = None) -> pd.DataFrame:
    """Score texts: columns p_toxic, is_question, lexicon_hits (list of terms)."""
    model = model or load_model()
    lex = default_lexicon()
    # Each distinct text is scored once (comment threads repeat "Merci !", emoji-only replies…),
    # then each distinct folded text (the question test reads only that), then each distinct
    # normalised text (the model and the lexicon read only that: half as many at 1 M messages);
    # the scores are broadcast back, so the result is identical to scoring every row.
    codes, uniq = _distinct(t if t else "" for t in texts)
    fcodes, folded = _distinct(fold(t) if t else "" for t in uniq)
    q = np.array([is_question_folded(t) if t else False for t in folded], dtype=bool)
    ncodes, norm = _distinct(normalise_folded(t) if t else "" for t in folded)
    hits = lex.hits_many(norm)
    p = np.asarray(model.score_normalised(norm, hits)) if norm else np.zeros(0)
    to_norm = ncodes[fcodes][codes] if len(texts) else codes
    return pd.DataFrame({"p_toxic": p[to_norm] if len(texts) else [],
                         "is_question": q[fcodes][codes] if len(texts) else [],
                         "lexicon_hits": [hits[c] for c in to_norm]})


def _distinct(values) -> tuple[np.ndarray, list]:
    """(code of each value, distinct values in order of first appearance)."""
    first: dict = {}
    codes = np.fromiter((first.setdefault(v, len(first)) for v in values), dtype=np.int64)
    return codes, list(first)


class ToxicityTask:
    """The toxicity enricher's share of a pass (:class:`analysis.enrich.TextTask`): every message
    not yet scored by this model version (all of them with ``force``)."""

    name = "moderation"
    label = "Toxicité"
    sources, results = ("messages",), "toxicity"

    def __init__(self, model: ToxicityClassifier, force: bool = False,
                 score: Callable[[list[str | None], ToxicityClassifier], pd.DataFrame] = score_texts):
        self.model, self.force, self._score = model, force, score
        self.version = scoring_version(model)
        self.on_progress: Callable[[int, int], None] | None = None

    def items(self) -> tuple[str, list]:
        cond = "TRUE" if self.force else "(t.message_id IS NULL OR t.model_version IS DISTINCT FROM ?)"
        return (f"SELECT 'message' AS item_type, m.message_id AS item_id, coalesce(m.text, '') AS text, "
                f"t.message_id IS NOT NULL AS stale FROM messages m LEFT JOIN toxicity t USING (message_id) "
                f"WHERE {cond}", [] if self.force else [self.version])

    def score(self, texts: list[str]) -> pd.DataFrame:
        scored = self._score(texts, self.model)  # another engine may score on a cluster
        # the hits travel as one string (unit separator): a list column of a frame is slow to read
        hits = ["\x1f".join(h) for h in scored["lexicon_hits"]]
        return pd.DataFrame({"i": np.arange(len(texts)), "p_toxic": scored["p_toxic"].to_numpy(dtype=np.float64),
                             "is_question": scored["is_question"].to_numpy(dtype=bool), "hits": hits})

    def write(self, con: duckdb.DuckDBPyConnection, rows: str, stale: bool) -> None:
        if stale:
            con.execute(f"DELETE FROM toxicity WHERE message_id IN (SELECT item_id FROM {rows} WHERE stale)")
        con.execute(f"INSERT INTO toxicity SELECT item_id, ?, p_toxic, is_question, CASE WHEN hits = '' THEN "
                    f"[]::VARCHAR[] ELSE string_split(hits, chr(31)) END FROM {rows} ORDER BY item_id",
                    [self.version])  # in key order, as message by message

    def result(self, con: duckdb.DuckDBPyConnection, counts: dict[str, int]) -> dict:
        return {"messages": counts.get("message", 0), "model_version": self.version}


def task(con: duckdb.DuckDBPyConnection | None = None, model: ToxicityClassifier | None = None,
         force: bool = False) -> ToxicityTask:
    """This enricher's share of the orchestrator's pass (the committed model by default)."""
    return ToxicityTask(model or load_model(), force)


def enrich(con: duckdb.DuckDBPyConnection, progress: Callable[[int, int], None] | None = None,
           model: ToxicityClassifier | None = None, force: bool = False,
           score: Callable[[list[str | None], ToxicityClassifier], pd.DataFrame] = score_texts) -> int:
    """Score every message not yet scored by the current model version; return rows written.

    Incremental: messages already scored with the same ``model_version`` are skipped, so a
    nightly run after an import only scores the new messages. ``score``: another engine's
    scoring (:mod:`analysis.distributed`), then called in this process.
    """
    t = ToxicityTask(model or load_model(), force, score)
    t.on_progress = progress
    return orchestrator.one_pass(con, [t], n_workers=1 if score is not score_texts else None)[t.name]["messages"]
