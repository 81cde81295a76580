"""Moderation and watch: toxicity, moderation queue, responsiveness, alerts, impersonation, contacts.

Submodules: :mod:`.toxicity` (model, lexicon, questions), :mod:`.scoring` (the ``toxicity``
enricher), :mod:`.queue`, :mod:`.responsiveness`, :mod:`.alerts`, :mod:`.impersonation`,
:mod:`.contacts`. Importing this package loads no model and touches no store.
"""

from __future__ import annotations

from collections.abc import Callable

import duckdb

from analysis.moderation.scoring import enrich as _enrich
from analysis.moderation.toxicity import load_model


def enrich(con: duckdb.DuckDBPyConnection, progress: Callable[[str], None] | object | None = None) -> dict:
    """Enricher entry point (``analysis.enrich``): score new messages into the ``toxicity`` table.

    ``progress`` is a callable taking a French message, or an object with ``print`` (rich).
    Returns ``{"messages": rows written, "model_version": …}``.
    """

    def say(done: int, total: int) -> None:
        msg = f"Toxicité : {done}/{total} messages évalués"
        if hasattr(progress, "print"):
            progress.print(msg)
        elif callable(progress):
            progress(msg)

    model = load_model()
    n = _enrich(con, progress=say if progress is not None else None, model=model)
    return {"messages": n, "model_version": model.version_}


__all__ = ["enrich"]
