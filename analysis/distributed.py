"""Scale-out on Dask: enrichment and folder imports on ``dask.distributed`` workers.

The split is always the same: **workers compute, the single writer writes.** DuckDB has one
writer, so workers never touch the store: they receive partitions of texts (or file paths),
return scores (or parsed tables), and the process holding the writable connection writes them
with exactly the code of the single-machine path. The enrichers' tasks run in the local
engine's single pass over distinct texts (:func:`analysis.enrich.one_pass`) with a model whose
scoring method dispatches partitions to the cluster, so the rows written are the rows the local
engine writes (``tests/test_distributed.py``).

Models are loaded once per worker: the sentiment and toxicity models through their cached
``load_model()``, the theme classifier (it may be fitted on the store's labels) broadcast once
with ``Client.scatter``.
"""

from __future__ import annotations

import math
from collections.abc import Callable, Iterable, Sequence
from contextlib import contextmanager
from pathlib import Path
from typing import Any

import duckdb
import numpy as np
import pandas as pd

from analysis import store, topics
from analysis.enrich import names, one_pass
from analysis.ingest import default_context, expand_paths, import_file, parse_file
from analysis.moderation.scoring import ToxicityTask, score_texts
from analysis.moderation.toxicity import load_model as tox_model
from analysis.registry import sync_registry
from analysis.sentiment import enrich as sentiment_enrich
from analysis.sentiment import load_model as sentiment_model
from analysis.topics.enricher import task as topics_task
from analysis.topics.keys import task as keys_task

PARTITION = 10_000  # texts per task: large enough to amortise the task overhead (~1 ms)


# ------------------------------------------------------------------------------ cluster
@contextmanager
def client(scheduler: str | None = None, n_workers: int = 2, processes: bool = True):
    """A ``dask.distributed.Client`` on ``scheduler`` (``tcp://host:8786``), or on a local
    cluster of ``n_workers`` single-threaded workers when no address is given."""
    from dask.distributed import Client, LocalCluster

    if scheduler:
        c = Client(scheduler)
        try:
            yield c
        finally:
            c.close()
        return
    with LocalCluster(n_workers=n_workers, threads_per_worker=1, processes=processes,
                      dashboard_address=None) as cluster, Client(cluster) as c:
        yield c


def _partitions(n: int, size: int = PARTITION, n_workers: int = 1) -> list[slice]:
    # At least one partition per worker so every worker gets work, at most ``size`` texts each.
    k = max(math.ceil(n / size), min(n_workers, n), 1)
    step = math.ceil(n / k) if n else 0
    return [slice(i, min(i + step, n)) for i in range(0, n, step)] if n else []


def _n_workers(c) -> int:
    return max(len(c.scheduler_info().get("workers", {})), 1)


# ------------------------------------------------------------------------------ worker tasks
def _sentiment_score(texts: list[str]) -> tuple[list[str], list[str | None], np.ndarray]:

    return sentiment_model().score(texts)


def _toxicity_score(texts: list[str | None]) -> pd.DataFrame:

    return score_texts(texts, tox_model())


def _themes_score(clf: Any, texts: list[str | None]) -> np.ndarray:
    return clf.predict_proba(texts)


# ------------------------------------------------------------------------------ model proxies
class _DistributedSentiment:
    """Stands for the sentiment model inside the unchanged enricher; ``score`` runs on the cluster."""

    def __init__(self, model: Any, c: Any):
        self._model, self._client = model, c
        self.version = model.version

    def score(self, texts: Sequence[str]) -> tuple[list[str], list[str | None], np.ndarray]:
        texts = list(texts)
        parts = _partitions(len(texts), n_workers=_n_workers(self._client))
        res = self._client.gather(self._client.map(_sentiment_score, [texts[s] for s in parts], pure=False))
        if not res:
            return [], [], np.zeros((0, 3))
        return ([x for r in res for x in r[0]], [x for r in res for x in r[1]], np.vstack([r[2] for r in res]))


class _DistributedThemes:
    """Stands for the theme classifier inside the unchanged enricher; ``predict_proba`` is distributed."""

    def __init__(self, clf: Any, c: Any):
        self._clf, self._client = clf, c
        [self._remote] = c.scatter([clf], broadcast=True)  # shipped once, deserialised once per worker

    def __getattr__(self, name: str) -> Any:  # version, threshold, _tax… as the local classifier
        return getattr(self._clf, name)

    def predict_proba(self, texts: Iterable[str | None]) -> np.ndarray:
        texts = list(texts)
        parts = _partitions(len(texts), n_workers=_n_workers(self._client))
        res = self._client.gather(
            [self._client.submit(_themes_score, self._remote, texts[s], pure=False) for s in parts])
        return np.vstack(res) if res else self._clf.predict_proba([])


def _distributed_toxicity(c: Any) -> Callable[[list[str | None], Any], pd.DataFrame]:
    def score(texts: list[str | None], model: Any) -> pd.DataFrame:
        parts = _partitions(len(texts), n_workers=_n_workers(c))
        res = c.gather(c.map(_toxicity_score, [texts[s] for s in parts], pure=False))
        return pd.concat(res, ignore_index=True) if res else pd.DataFrame(
            {"p_toxic": [], "is_question": [], "lexicon_hits": []})

    return score


# ------------------------------------------------------------------------------ enrichment
def run(con: duckdb.DuckDBPyConnection, only: list[str] | None = None, scheduler: str | None = None,
        progress: Callable[[str], None] | object | None = None, client_: Any = None) -> dict:
    """``vigie enrich --engine dask``: the registered enrichers with scoring on Dask workers.

    ``con`` is the single writer. ``scheduler``: address of an existing cluster; without it a
    local cluster of 2 worker processes is started. ``client_``: an already connected client
    (tests). Returns the same dict as :func:`analysis.enrich.run`.
    """

    selected = [n for n in names() if not only or n in only]
    if client_ is not None:
        return _run(con, selected, client_, progress)
    with client(scheduler) as c:
        return _run(con, selected, c, progress)


def _run(con: duckdb.DuckDBPyConnection, selected: list[str], c: Any, progress: Any) -> dict:
    # The local engine's single pass over distinct texts, each model's scoring dispatched to the
    # cluster (in this process: the cluster is the parallelism).
    tasks: list = []
    if "sentiment" in selected:
        tasks.append(sentiment_enrich.task(con, _DistributedSentiment(sentiment_model(), c)))
    if "topics" in selected:
        tasks.append(topics_task(con, classifier=_DistributedThemes(topics.classifier_from_store(con), c)))
    if "moderation" in selected:
        tasks.append(ToxicityTask(tox_model(), score=_distributed_toxicity(c)))
    if "keys" in selected:  # tokenising is cheap next to the models: in this process
        tasks.append(keys_task(con))
    return one_pass(con, tasks, progress=progress, n_workers=1)


# ------------------------------------------------------------------------------ imports
def _parse(path: str, ctx: Any, fmt: str | None) -> Any:

    try:
        return parse_file(path, ctx, fmt)
    except Exception as e:  # noqa: BLE001 - handed to the writer, which reports it as import_file does
        return e


def import_paths(con: duckdb.DuckDBPyConnection, paths: Iterable[str | Path], ctx: Any = None, *,
                 keep_going: bool = False, force: bool = False, fmt: str | None = None,
                 scheduler: str | None = None, client_: Any = None,
                 on_file: Callable[[Path, Any], None] | None = None) -> list:
    """Like :func:`analysis.ingest.import_paths`, files parsed on Dask workers (parse only).

    The writer upserts each parsed file in the order of the local path, in one transaction
    per file, so the store ends up identical. Files must be readable by the workers (shared
    filesystem or object store mounted at the same path).
    """

    ctx = ctx or default_context()
    if ctx.registry is not None:

        with store.transaction(con):
            sync_registry(con, ctx.registry)
    files = expand_paths(paths)

    def go(c: Any) -> list:
        futures = c.map(_parse, [str(f) for f in files], ctx=ctx, fmt=fmt, pure=False)
        results = []
        for f, fut in zip(files, futures, strict=True):
            r = import_file(con, f, ctx, keep_going=keep_going, force=force, fmt=fmt, preparsed=fut.result())
            fut.release()  # parsed tables can be large: free them on the worker once written
            results.append(r)
            if on_file:
                on_file(f, r)
        return results

    if client_ is not None:
        return go(client_)
    with client(scheduler) as c:
        return go(c)
