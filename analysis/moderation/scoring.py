"""Enricher writing the ``toxicity`` table: p_toxic, is_question, lexicon_hits per message."""

from __future__ import annotations

from collections.abc import Callable

import duckdb
import numpy as np
import pandas as pd

from analysis import store
from analysis.moderation.toxicity import (
    ToxicityClassifier,
    default_lexicon,
    fold,
    is_question_folded,
    load_model,
    normalise_folded,
)

CHUNK = 50_000


def score_texts(texts: list[str | None], model: ToxicityClassifier | None = None) -> pd.DataFrame:
    """Score texts: columns p_toxic, is_question, lexicon_hits (list of terms)."""
    model = model or load_model()
    lex = default_lexicon()
    # Score each distinct text once (comment threads repeat "Merci !", emoji-only replies…);
    # the scores are then broadcast back, so the result is identical to scoring every row.
    codes, uniq = pd.factorize(pd.Series(texts, dtype=object), use_na_sentinel=False)
    uniq = [None if isinstance(u, float) and u != u else u for u in uniq]  # factorize turns None into NaN
    folded = [fold(t) if t else "" for t in uniq]  # once for both the model and the question test
    norm = [normalise_folded(t) if t else "" for t in folded]
    hits = [lex.hits(n, normalised=True) for n in norm]
    p = model.score_normalised(norm, hits) if uniq else np.zeros(0)
    q = np.array([is_question_folded(t) if t else False for t in folded], dtype=bool)
    return pd.DataFrame({"p_toxic": np.asarray(p)[codes] if len(texts) else [],
                         "is_question": q[codes] if len(texts) else [],
                         "lexicon_hits": [hits[c] for c in codes]})


def enrich(con: duckdb.DuckDBPyConnection, progress: Callable[[int, int], None] | None = None,
           model: ToxicityClassifier | None = None, force: bool = False,
           score: Callable[[list[str | None], ToxicityClassifier], pd.DataFrame] = score_texts) -> int:
    """Score every message not yet scored by the current model version; return rows written.

    Incremental: messages already scored with the same ``model_version`` are skipped, so a
    nightly run after an import only scores the new messages.
    """
    model = model or load_model()
    version = getattr(model, "version_", "tox-unsaved")
    cond = "TRUE" if force else "(t.message_id IS NULL OR t.model_version IS DISTINCT FROM ?)"
    params = [] if force else [version]
    ids = con.execute(
        f"SELECT m.message_id FROM messages m LEFT JOIN toxicity t USING (message_id) WHERE {cond} "
        "ORDER BY m.message_id", params
    ).fetchall()
    ids = [r[0] for r in ids]
    total, done = len(ids), 0
    for i in range(0, total, CHUNK):
        chunk = ids[i:i + CHUNK]
        con.register("_tox_ids", pd.DataFrame({"message_id": chunk}))
        try:
            df = con.execute(
                "SELECT m.message_id, m.text FROM messages m JOIN _tox_ids USING (message_id) ORDER BY 1"
            ).df()
        finally:
            con.unregister("_tox_ids")
        scored = score(df["text"].tolist(), model)  # another engine may score on a cluster
        scored.insert(0, "message_id", df["message_id"].to_numpy())
        scored.insert(1, "model_version", version)
        with store.transaction(con):
            store.upsert(con, "toxicity", scored)
        done += len(df)
        if progress:
            progress(done, total)
    return done
