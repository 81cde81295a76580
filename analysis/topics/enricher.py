"""Analyst theme labels and the enricher: :func:`store_label`, :func:`classifier_from_store`, and
:func:`enrich`, which writes the ``themes`` table incrementally, stamped with ``model_version``."""

from __future__ import annotations

import hashlib
import math
import re
from collections.abc import Callable, Sequence
from typing import Any

import numpy as np
import pandas as pd

from analysis import store
from analysis.fmt import fr_plural
from analysis.topics.classifier import ThemeClassifier, default_classifier
from analysis.topics.taxonomy import NO_THEME, Taxonomy, load_taxonomy


def parse_labels(value: str | float | None) -> list[str] | None:
    """'a, b' → ['a', 'b']; '' → [] (explicitly no theme); NaN/None → None (unlabelled)."""
    if value is None or (isinstance(value, float) and math.isnan(value)):
        return None
    return [v.strip() for v in re.split(r"[,;|]", str(value)) if v.strip()]


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
