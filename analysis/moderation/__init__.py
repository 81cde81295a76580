"""Moderation and watch: toxicity, moderation queue, responsiveness, alerts, impersonation, contacts.

Submodules: :mod:`.toxicity` (model, lexicon, questions), :mod:`.scoring` (the ``toxicity``
enricher), :mod:`.queue`, :mod:`.responsiveness`, :mod:`.alerts`, :mod:`.impersonation`,
:mod:`.contacts`. Importing this package loads no model and touches no store.
"""

from __future__ import annotations

from collections.abc import Callable

import duckdb

from analysis import enrich as orchestrator
from analysis.moderation.scoring import task


def enrich(con: duckdb.DuckDBPyConnection, progress: Callable[[str], None] | object | None = None) -> dict:
    """Enricher entry point (``analysis.enrich``): score new messages into the ``toxicity`` table.

    ``progress`` is a callable taking a French message, or an object with ``print`` (rich).
    Returns ``{"messages": rows written, "model_version": …}``.
    """
    return orchestrator.one_pass(con, [task(con)], progress=progress)["moderation"]


__all__ = ["enrich", "task"]
