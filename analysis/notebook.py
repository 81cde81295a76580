"""Notebook helper (top layer, like the CLI): the current store, French labels and formats by default.

In a notebook::

    from analysis import notebook as nb
    db = nb.open_store()                 # $VIGIE_DB, read only
    er.kpis(db.con, f)                   # db.con: the published copy as it is *now*
    db.value("SELECT count(*) FROM messages")
    nb.table(er.sentiment_table(db.con, f))   # « 12,3 % », « Facebook », theme labels
    nb.period(f.start, f.end)            # « du 1 oct. 2026 au 31 oct. 2026 »

Why a helper: a connection opened with ``store.connect(read_only=True)`` keeps reading the copy that
was published when it opened, and DuckDB hands a new ``connect`` on the same path the instance still
open (its instance cache), so a write through ``store.writer()`` stayed invisible until every
connection was closed. :class:`NotebookStore` checks the published copy at each use and reopens it
when a writer has published a new one, through a link of its own name (as the app's
``data._Pooled``), so no other open connection can hand it the old instance.
"""

from __future__ import annotations

import os
import uuid
from datetime import date, datetime, timedelta
from pathlib import Path
from typing import Any

import duckdb
import pandas as pd

from analysis import store
from analysis.fmt import fr_date, fr_datetime, fr_int, fr_num, fr_pct, fr_period_end_included
from analysis.schema import PLATFORM_LABELS
from analysis.topics import load_taxonomy

# Column names the read models use, as a French table heads them.
COLUMN_LABELS = {
    "territory_id": "Territoire", "name": "Nom", "platform": "Plateforme", "theme": "Thème", "label": "Libellé",
    "period": "Période", "date": "Date", "created_at": "Date", "text": "Message", "messages": "Messages",
    "posts": "Publications", "scored": "Évalués", "likes": "J'aime", "replies": "Réponses",
    "engagement": "Engagement", "share": "Part", "negative_share": "Part négative", "positive_share": "Part positive",
    "net_sentiment": "Sentiment net", "response_rate": "Taux de réponse", "growth_rate": "Croissance",
    "positive": "Positifs", "neutral": "Neutres", "negative": "Négatifs", "non_french": "Hors français",
    "unscored": "Non évalués", "role": "Rôle", "post_share": "Part des publications",
    "message_share": "Part des messages", "engagement_per_post": "Engagement par publication",
    "situation": "Situation", "reasons": "Motifs", "priority": "Priorité", "metric": "Indicateur",
    "current": "Valeur", "reference": "Référence", "change": "Évolution", "significant": "Significatif",
    "author_hash": "Auteur (pseudonyme)", "profile": "Profil", "locality": "Ancrage local",
    "centrality": "Centralité", "likes_received": "J'aime reçus", "title": "Titre", "source": "Source",
}
# Columns holding a ratio (0,123 → « 12,3 % »), besides every column named *share, *rate or *_pct.
PCT_COLUMNS = {"share", "net_sentiment", "net_sentiment_all", "locality", "confidence", "p_negative", "p_positive",
               "p_neutral", "p_toxic", "cmgr"}


def _is_pct(column: str) -> bool:
    """Whether a column holds ratios: its name, without an interval bound (``_lo``, ``_hi``) or a
    ``diff_`` prefix, is a known ratio or ends in ``_share``, ``_rate``, ``_pct``."""
    c = str(column)
    for suffix in ("_lo", "_hi", "_low", "_high"):
        c = c.removesuffix(suffix)
    c = c.removeprefix("diff_")
    return c in PCT_COLUMNS or c.endswith(("_share", "_rate", "_pct")) or c.startswith("share_")


class NotebookStore:
    """A read-only connection on the published copy of the store that follows every publish.

    ``con`` (or :meth:`sql`, :meth:`value`) reopens the copy when a writer published a new one since
    the last use; the old connection is closed then. Nothing needs closing by hand (:meth:`close`
    or a ``with`` block release the file earlier)."""

    def __init__(self, path: str | os.PathLike | None = None) -> None:
        self.path = store.db_path(path)
        self._con: duckdb.DuckDBPyConnection | None = None
        self._stamp: tuple[int, int] | None = None

    def _target(self) -> Path:
        rp = store.read_path(self.path)
        if rp.exists():
            return rp
        if self.path.exists():
            return self.path
        raise store.StoreMissing(f"Aucune base Vigie à {self.path}. Lancez `vigie demo` ou `vigie import FICHIER…` "
                                 "d'abord.")

    @property
    def con(self) -> duckdb.DuckDBPyConnection:
        """The connection, reopened first when the published copy changed (new file, new stamp)."""
        target = self._target()
        st = target.stat()
        stamp = (st.st_ino, st.st_mtime_ns)
        if self._con is None or stamp != self._stamp:
            self.close()
            self._con, self._stamp = _open_private(target), stamp
        return self._con

    def sql(self, query: str, params: list | tuple | None = None) -> pd.DataFrame:
        """The result of ``query`` as a DataFrame (``execute(...).df()``, which the pinned DuckDB supports)."""
        return self.con.execute(query, list(params or [])).df()

    def value(self, query: str, params: list | tuple | None = None) -> Any:
        """The first column of the first row of ``query`` (None when there is no row)."""
        row = self.con.execute(query, list(params or [])).fetchone()
        return None if row is None else row[0]

    def close(self) -> None:
        if self._con is not None:
            self._con.close()
            self._con, self._stamp = None, None

    def __enter__(self) -> NotebookStore:
        return self

    def __exit__(self, *exc: object) -> None:
        self.close()


def _open_private(target: Path) -> duckdb.DuckDBPyConnection:
    """Open ``target`` read only through a hard link of its own name: DuckDB's instance cache (keyed by
    path) cannot then hand back an instance still open on an older copy. The link is removed at once
    (the instance keeps the file open); without hard links, the path itself."""
    link = target.with_name(f"{target.name}.{os.getpid()}.{uuid.uuid4().hex[:8]}.lnk")
    try:
        os.link(target, link)
    except OSError:
        return duckdb.connect(str(target), read_only=True)
    try:
        return duckdb.connect(str(link), read_only=True)
    finally:
        link.unlink()


def open_store(path: str | os.PathLike | None = None) -> NotebookStore:
    """The store of ``path`` (default ``$VIGIE_DB``), always read as last published."""
    return NotebookStore(path)


def period(start: date | datetime, end: date | datetime, *, end_included: bool = False) -> str:
    """« du 1 oct. 2026 au 31 oct. 2026 »: a ``Filters`` period (``end`` excluded) printed with its
    last day; ``end_included=True`` when ``end`` is already the last day."""
    last = end if end_included else pd.Timestamp(end) - timedelta(days=1)
    return fr_period_end_included(start, last)


def _cell(column: str, v: Any, decimals: int, pct: bool = False) -> str:
    if v is None or (isinstance(v, float) and v != v) or v is pd.NaT:
        return "—"
    if isinstance(v, bool):
        return "oui" if v else "non"
    if (pct or _is_pct(column)) and isinstance(v, int | float):
        return fr_pct(v, decimals)
    if isinstance(v, int) or (isinstance(v, float) and float(v).is_integer() and abs(v) < 1e15 and not _is_pct(column)):
        return fr_int(v)
    if isinstance(v, float):
        return fr_num(v, decimals)
    if isinstance(v, pd.Timestamp | datetime):
        ts = pd.Timestamp(v)
        return fr_date(ts) if ts == ts.normalize() else fr_datetime(ts)
    if isinstance(v, date):
        return fr_date(v)
    return str(v)


def table(df: pd.DataFrame | pd.Series, *, decimals: int = 1, rename: bool = True, pct: tuple[str, ...] | bool = ()
          ) -> pd.DataFrame:
    """``df`` as a French reader expects it: theme ids replaced by their taxonomy labels, platforms
    by their names (``analysis.schema.PLATFORM_LABELS``), ratios as « 12,3 % » (columns ``share``,
    ``*_share``, ``*_rate``…), numbers in French, dates as « 5 oct. 2026 », the usual column names in
    French (``rename=False`` keeps them). ``pct``: more columns to show as percentages (``True``: every
    numeric column). A Series is shown as one row. Every cell becomes text: for reading, not computing."""
    out = df.to_frame().T if isinstance(df, pd.Series) else df.copy()
    as_pct = set(out.columns) if pct is True else set(pct or ())
    if "theme" in out.columns:
        tax = load_taxonomy()
        out["theme"] = out["theme"].map(lambda t: tax.label(t) if isinstance(t, str) else t)
    for c in ("platform", "Plateforme"):
        if c in out.columns:
            out[c] = out[c].map(lambda p: PLATFORM_LABELS.get(p, p) if isinstance(p, str) else p)
    for c in out.columns:
        out[c] = [_cell(c, v, decimals, c in as_pct) for v in out[c].tolist()]
    if rename:
        out = out.rename(columns={c: COLUMN_LABELS[c] for c in out.columns if c in COLUMN_LABELS})
    return out
