"""Moderation and watch: toxicity, moderation queue, responsiveness, alerts, impersonation, contacts.

Submodules: :mod:`.toxicity` (model, lexicon, questions), :mod:`.scoring` (the ``toxicity``
enricher), :mod:`.queue`, :mod:`.responsiveness`, :mod:`.alerts`, :mod:`.impersonation`,
:mod:`.contacts`. Importing this package loads no model and touches no store.
"""

from __future__ import annotations

from collections.abc import Callable

import duckdb


def enrich(con: duckdb.DuckDBPyConnection, progress: Callable | None = None) -> int:
    """Enricher entry point: score messages into the ``toxicity`` table (see :mod:`.scoring`)."""
    from analysis.moderation.scoring import enrich as _enrich

    return _enrich(con, progress=progress)


__all__ = ["enrich"]
