"""Enrichment orchestrator: run every registered enricher (sentiment, topics, moderation…).

Each enricher is a module exposing ``enrich(con, progress=None) -> dict`` and is listed in
:data:`ENRICHER_MODULES` as ``(name, module path)``, like ``ADAPTER_MODULES`` for importers.
A module not present yet is reported as skipped, so parts can land independently.
"""

from __future__ import annotations

import importlib
from collections.abc import Callable

import duckdb

ENRICHER_MODULES: list[tuple[str, str]] = [
    ("sentiment", "analysis.sentiment.enrich"),
    ("topics", "analysis.topics"),
    ("moderation", "analysis.moderation"),
]
ENGINES = ("local", "dask")
DASK_MODULE = "analysis.distributed"  # exposes run(con, only, scheduler, progress)


class EngineUnavailable(RuntimeError):
    """The requested engine is not installed in this code base yet."""


def names() -> list[str]:
    """Names of the registered enrichers."""
    return [n for n, _ in ENRICHER_MODULES]


def run(con: duckdb.DuckDBPyConnection, only: list[str] | str | None = None, engine: str = "local",
        progress: Callable[[str], None] | object | None = None, scheduler: str | None = None) -> dict:
    """Run the selected enrichers (all by default) on a writable connection.

    Returns ``{name: result dict}``; an enricher whose module is absent gets
    ``{'skipped': reason}``.
    """
    if isinstance(only, str):
        only = [only]
    unknown = sorted(set(only or []) - set(names()))
    if unknown:
        raise ValueError(f"Enrichissement inconnu : {', '.join(unknown)} (connus : {', '.join(names())})")
    if engine not in ENGINES:
        raise ValueError(f"Moteur inconnu : {engine!r} (attendu : {' ou '.join(ENGINES)})")
    if engine == "dask":
        try:
            dask_mod = importlib.import_module(DASK_MODULE)
        except ModuleNotFoundError as e:
            if e.name and DASK_MODULE.startswith(e.name):
                raise EngineUnavailable(
                    "Le moteur dask n'est pas encore disponible dans cette version : utilisez --engine local."
                ) from e
            raise
        return dask_mod.run(con, only=only, scheduler=scheduler, progress=progress)
    results: dict = {}
    for name, path in ENRICHER_MODULES:
        if only and name not in only:
            continue
        try:
            mod = importlib.import_module(path)
        except ModuleNotFoundError as e:
            if e.name and path.startswith(e.name):
                results[name] = {"skipped": f"module {path} absent"}
                continue
            raise
        if not hasattr(mod, "enrich"):
            results[name] = {"skipped": f"{path} n'expose pas enrich()"}
            continue
        results[name] = mod.enrich(con, progress=progress)
    return results
