"""The one cached data-access module of the app.

Every read goes through :func:`call`: a short-lived read-only connection on the published
copy of the store (``store.reader()``), a result cached by ``st.cache_data`` and keyed by
the published file's modification time, so a new import shows up on the next rerun without
restarting the app, and a running import never blocks a page.

It is also where the logged-in user's territories (scope) apply, for every page, table and
download: :func:`call` runs the read model through ``analysis.access.read`` with :func:`scope`
(part of the cache key), so a user limited to some territories never gets another's messages,
authors or rows, whatever the filters, the URL or the page asks; their peers' aggregates stay.
The app's writes (corrections, moderation statuses, campaigns, imports) go through :func:`writer`,
which refuses a message, a campaign or a territory outside the scope.

Adding a read model for a page is one line (the function itself, classified in
:data:`analysis.access.READ_MODELS`)::

    def coverage(f: Filters) -> pd.DataFrame:
        return call(analysis.queries.coverage, f)
"""

from __future__ import annotations

import functools
import os
import threading
import uuid
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from datetime import date
from pathlib import Path
from typing import Any

import duckdb
import pandas as pd
import streamlit as st

import analysis.audit
import analysis.collect.runner
import analysis.queries
import analysis.reports.render
import analysis.store
from analysis import access, derived_refresh, store
from analysis.exports import escape_markdown
from analysis.queries import Filters

MISSING_STORE_MESSAGE = (
    "**Aucune base de données Vigie n'a été trouvée** ({path}).\n\n"
    "Pour découvrir l'outil avec les données de démonstration, lancez `make demo` dans le dossier "
    "du projet. Pour analyser vos propres exports, importez-les avec "
    "`vigie import DOSSIER_OU_FICHIERS…` puis rechargez cette page."
)


OUTDATED_STORE_MESSAGE = (
    "**La base {path} ne correspond pas à cette version de Vigie** ({detail}).\n\n"
    "Reconstruisez la base de démonstration (`make clean-demo && make demo`) ou réimportez vos "
    "exports dans une nouvelle base (`vigie --db NOUVELLE_BASE import …`)."
)


def store_stamp() -> tuple[str, int] | None:
    """(path, mtime in ns) of the file readers open, or None when no store exists.

    The mtime changes at every publish (atomic rename of a new copy), which is what
    invalidates the caches below.
    """
    rp = store.read_path()
    target = rp if rp.exists() else store.db_path()
    if not target.exists():
        return None
    return str(store.db_path()), target.stat().st_mtime_ns


def available() -> bool:
    """True when a store can be read."""
    return store_stamp() is not None


def require_store() -> tuple[str, int]:
    """Stop the page with a friendly French message (not a traceback) when there is no store."""
    stamp = store_stamp()
    if stamp is None:
        st.info(MISSING_STORE_MESSAGE.format(path=escape_markdown(store.db_path())), icon=":material/database:")
        st.stop()
    _written()  # the success of a write made on the run before (see write)
    return stamp


def _filters_key(f: Filters | None) -> tuple | None:
    # Filters carries an unhashable ``extra`` dict; the cache key is its hashable part.
    if f is None:
        return None
    return (tuple(f.territories), f.start, f.end, tuple(f.platforms), tuple(sorted(f.extra.items())))


def _filters_from_key(k: tuple | None) -> Filters | None:
    if k is None:
        return None
    t, start, end, p, extra = k
    return Filters(territories=t, start=start, end=end, platforms=p, extra=dict(extra))


def _resolve(target: str) -> Any:
    return access.resolve(target)  # a module attribute: benchmarks/run.py records the page's queries through it


def scope() -> access.Scope:
    """The territories the logged-in user may see (``analysis.access.Scope``): every territory in the
    demo mode and for users without scope; none when nobody is logged in (safe by default)."""
    from streamlit_app import auth

    if auth.demo_mode():
        return access.EVERYTHING
    u = auth.current_user()
    return access.Scope.of(u.get("scope")) if u else access.NOTHING


def sees_everything() -> bool:
    """Whether the user sees every territory (the host's administrators; the demo)."""
    return scope().everything


class _Pooled:
    """One read-only DuckDB instance on one published copy, and the cursors lent from it."""

    def __init__(self, path: Path) -> None:
        # Opened through a hard link with a name of its own: ``duckdb.connect(path)`` would
        # reuse an instance still open on the same path (DuckDB's instance cache, which also
        # resolves symbolic links), i.e. the previous copy's content after a publish replaced
        # the file. The link is removed at once; the instance keeps the file open.
        link = path.with_name(f"{path.name}.{os.getpid()}.{uuid.uuid4().hex[:8]}.lnk")
        os.link(path, link)
        try:
            self.con = duckdb.connect(str(link), read_only=True)
        finally:
            link.unlink()
        self.active = 0
        self.retired = False

    def cursor(self) -> duckdb.DuckDBPyConnection:
        return self.con.cursor()


_POOL_LOCK = threading.Lock()
_POOL: dict[tuple[str, int], _Pooled] = {}


@contextmanager
def _read_connection(stamp: tuple[str, int]) -> Iterator[duckdb.DuckDBPyConnection]:
    """A cursor on one long-lived read-only instance per published copy of the store.

    Opening the store costs ~20 ms (catalog load) at every cache miss; a cursor costs under a
    millisecond and each thread gets its own. Only the published copy (``<db>.read``) is held
    open: a publish is a new file (atomic rename) with a new stamp, so the writer never waits.
    When a newer copy appears, the older instances are closed as soon as no page reads them.
    Without a published copy (a store never written through ``store.writer``) the connection is
    short-lived, as before, so that it never holds the main file's lock.
    """
    rp = store.read_path(stamp[0])
    with _POOL_LOCK:
        pooled = _POOL.get(stamp)
        if pooled is None and rp.exists():
            try:
                pooled = _POOL[stamp] = _Pooled(rp)
            except OSError:  # no hard links on this file system: one connection per read, as before
                pooled = None
            else:  # older copies: closed now if unused, else by their last reader
                for old in [k for k in _POOL if k[0] == stamp[0] and k[1] < stamp[1]]:
                    _POOL[old].retired = True
                    if _POOL[old].active == 0:
                        _POOL.pop(old).con.close()
        if pooled is not None:
            pooled.active += 1
    short_lived = pooled is None
    if short_lived:
        with store.reader(stamp[0]) as con:
            yield con
        return
    try:
        cur = pooled.cursor()
        try:
            yield cur
        finally:
            cur.close()
    finally:
        with _POOL_LOCK:
            pooled.active -= 1
            if pooled.retired and pooled.active == 0 and _POOL.get(stamp) is pooled:
                _POOL.pop(stamp).con.close()


@st.cache_data(show_spinner=False, max_entries=512)
def _cached(stamp: tuple[str, int], target: str, fkey: tuple | None, kwargs: tuple,
            scope_key: tuple[str, ...] | None = None) -> Any:
    with _read_connection(stamp) as con:
        return access.read(con, access.Scope(scope_key), target, _filters_from_key(fkey), _resolve, **dict(kwargs))


# Reads whose call is itself worth an audit entry (the file made is downloaded by a logged click).
AUDITED = {"analysis.reports.render:generate_files": "report"}


def call(target: Callable[..., Any] | str, f: Filters | None = None, /, **kwargs: Any) -> Any:
    """Run ``target(con[, f], **kwargs)`` on a read-only connection, cached, for the logged-in user's
    territories (``analysis.access.read``: the one place the scope applies).

    ``target`` is the read model itself (``data.call(queries.coverage, f)``: imports, type checkers and
    renames follow it); the cache is keyed on its qualified name (``analysis.queries:coverage``,
    :func:`analysis.access.target_name`), under which :data:`analysis.access.READ_MODELS` classifies
    it. Stops the page when there is no store, or with a French message when the read concerns a
    territory outside the user's scope.
    """
    target = access.target_name(target)
    stamp = require_store()
    sc = scope()
    if target in AUDITED:
        from streamlit_app import auth

        auth.record(AUDITED[target], detail=", ".join(f"{k}={v}" for k, v in sorted(kwargs.items())))
    try:
        return _cached(stamp, target, _filters_key(f), tuple(sorted(kwargs.items())), sc.key())
    except access.OutOfScope as e:
        st.warning(escape_markdown(e), icon=":material/lock:")
        st.stop()
    except duckdb.CatalogException as e:
        # A store built by an older, unreleased schema: say what to do rather than a traceback.
        st.error(OUTDATED_STORE_MESSAGE.format(path=escape_markdown(store.db_path()),
                                               detail=escape_markdown(str(e).splitlines()[0])),
                 icon=":material/database:")
        st.stop()


def chart(target: Callable[..., Any] | str, /, *args: Any, **kwargs: Any) -> Any:
    """The chart built by ``module:function(*args, **kwargs)`` (``analysis.charts*``), cached by
    its inputs: building an Altair chart costs 20–65 ms on every run of a page (each step
    validates and copies), a cached copy under a millisecond. The data frames among ``args`` are
    part of the cache key, so another filter or another store gives another chart."""
    return _chart(access.target_name(target), args, tuple(sorted(kwargs.items())))


@st.cache_data(show_spinner=False, max_entries=256)
def _chart(target: str, args: tuple, kwargs: tuple) -> Any:
    return _resolve(target)(*args, **dict(kwargs))


@functools.lru_cache(maxsize=8)  # not st.cache_data: a download runs outside any page run
def report_pdf(html: bytes, pdf_id: str) -> bytes:
    """The PDF of a report that :func:`call` built (``generate_files``: its HTML and ``pdf_id``), made when
    it is downloaded (WeasyPrint, about half the time of a report) and kept for the next download of the
    same file: the same bytes as ``vigie report``. Keyed by the HTML itself, so a reader only gets the PDF
    of a report they were shown."""
    return analysis.reports.render.html_to_pdf(html, pdf_id)


# ------------------------------------------------------------------------------ read models

def territories() -> pd.DataFrame:
    """Territories of the store, own first (``queries.territories``). For a user limited to some
    territories: those (``kind = 'own'``, « nous ») and their peers (``'peer'``), nothing else."""
    return call(analysis.queries.territories)


def selectable_territories() -> list[str]:
    """Territory ids the user may pick in a filter or a form (own first): the whole registry, or the
    user's scope."""
    t = territories()
    sc = scope()
    return [x for x in t["territory_id"] if sc.allows(x)]


def territory_names() -> dict[str, str]:
    """territory_id → display name."""
    t = territories()
    return dict(zip(t["territory_id"], t["name"], strict=False))


def platforms() -> list[str]:
    """Platforms present in the data (of the user's territories)."""
    return call(analysis.queries.platforms, Filters())


def data_range() -> tuple[date | None, date | None]:
    """First and last day with data (of the user's territories)."""
    return call(analysis.queries.data_range, Filters())


def import_log(limit: int = 100) -> pd.DataFrame:
    """Latest imports."""
    return call(analysis.queries.import_log, limit=limit)


def rejects(limit: int = 500) -> pd.DataFrame:
    """Rejected rows."""
    return call(analysis.queries.rejects, limit=limit)


def collect_status() -> pd.DataFrame:
    """Last collection run of every source (``vigie collect status``)."""
    return call(analysis.collect.runner.status)


def import_uploads(files: list[tuple[str, bytes]], keep_going: bool = False, on_file: Any = None) -> list | str:
    """Import uploaded files through the importers (a short writer session, then a new read copy).

    Returns the per-file results, or a French message when the store is busy (the CLI holds the
    write lock during an import or a collection): nothing was written then."""
    from analysis.ingest import import_uploads as _import
    from streamlit_app import auth

    if not sees_everything():  # an export may hold any territory's pages: the host imports them
        return ("Import réservé aux administrateurs de l'hébergement (un export peut concerner d'autres "
                "territoires que les vôtres) : transmettez vos fichiers à l'administrateur de Vigie.")
    auth.record("upload", detail=", ".join(name for name, _ in files)[:900])
    try:
        with derived_refresh.writer() as con:
            return _import(con, files, keep_going=keep_going, on_file=on_file)
    except duckdb.IOException:
        return ("Base occupée : un import, une collecte ou un enrichissement est en cours. Réessayez dans un "
                "instant ; rien n'a été importé.")


@contextmanager
def writer(*, messages: list[str] | tuple[str, ...] = (), campaigns: list[str] | tuple[str, ...] = (),
           territories: list[str] | tuple[str, ...] = ()) -> Iterator[duckdb.DuckDBPyConnection]:
    """A short writer session on the store (``store.writer``) for a change made from a page, refused
    before anything is written when a message (``KeyError``, as for an unknown id), a campaign or a
    territory (``access.OutOfScope``) lies outside the user's scope."""
    with derived_refresh.writer() as con:
        access.check_write(con, scope(), messages=messages, campaigns=campaigns, territories=territories)
        yield con


def audit_entries(limit: int = 500) -> pd.DataFrame:
    """The audit log an administrator reads (French columns): the app's entries (logins, page views,
    downloads, reports) and the store's (erasures, purges, corrections), newest first. A territory's
    own administrator reads the entries of the users of their territories only."""
    from analysis import audit

    sc = scope()
    app = audit.AuditLog().entries(limit=limit, within=None if sc.everything else sc.territories)
    base = call(analysis.audit.store_entries, limit=limit) if sc.everything else None
    return audit.french(audit.combined(app, base).head(limit))


def table_counts() -> dict[str, int]:
    """Row count of every canonical table."""
    return call(analysis.store.table_counts)


def store_file() -> Path:
    """The store path (shown to admins on the Données page)."""
    return store.db_path()


@st.cache_data(show_spinner=False)
def formats() -> pd.DataFrame:
    """Known export formats (name, platform, description) from the importers."""
    from analysis.ingest import adapters

    return pd.DataFrame([{"Format": a.name, "Plateforme": a.platform, "Description": a.label}
                         for a in adapters()], columns=["Format", "Plateforme", "Description"])


BUSY_MESSAGE = ("Base occupée : un import, une collecte ou un enrichissement est en cours. Réessayez dans un "
                "instant ; rien n'a été enregistré.")


def attempt(change: Callable[[duckdb.DuckDBPyConnection, str], Any], /, *,
            messages: list[str] | tuple[str, ...] = (), campaigns: list[str] | tuple[str, ...] = (),
            territories: list[str] | tuple[str, ...] = ()) -> tuple[Any, str | None]:
    """THE error policy of a write made from a page: ``change(con, signature)`` runs in a short writer
    session (:func:`writer`: refused before anything is written for a message, campaign or territory
    outside the user's scope), signed by the logged-in user (``auth.signature()``, never a typed name).

    Returns ``(result, None)`` — the read caches are then cleared, so every figure follows — or
    ``(None, French error)`` and nothing was written: nobody logged in, the store busy (« Base
    occupée… réessayez »), an unknown id or one outside the scope, a refused value (``ValueError``).
    Pages call :func:`write`; a button callback (which cannot rerun the page) calls this one."""
    from streamlit_app import auth

    who = auth.signature()
    if not who:
        return None, "Connectez-vous pour enregistrer une modification : elle est signée de votre nom."
    try:
        with writer(messages=messages, campaigns=campaigns, territories=territories) as con:
            out = change(con, who)
    except duckdb.IOException:  # store.StoreBusy included: another writer holds the file
        return None, BUSY_MESSAGE
    except access.OutOfScope as e:
        return None, f"Modification refusée : {escape_markdown(e)}"
    except KeyError as e:
        what = "Message" if messages else ("Campagne" if campaigns else "Élément")
        return None, f"{what} introuvable : {escape_markdown(e.args[0] if e.args else '')} ; rien n'a été enregistré."
    except ValueError as e:
        return None, f"Modification impossible : {escape_markdown(e)} ; rien n'a été enregistré."
    _cached.clear()
    _chart.clear()
    return out, None


def write(change: Callable[[duckdb.DuckDBPyConnection, str], Any], /, *,
          success: str | Callable[[Any], str], messages: list[str] | tuple[str, ...] = (),
          campaigns: list[str] | tuple[str, ...] = (), territories: list[str] | tuple[str, ...] = ()) -> None:
    """A write from a form or a button (:func:`attempt`'s one policy). On success the page runs again
    at once (every figure above the form already counts the change) and shows the French ``success``
    (markdown, escape what comes from users; or a function of the change's result) at its top; else
    the French error where the form is, and nothing was written."""
    out, error = attempt(change, messages=messages, campaigns=campaigns, territories=territories)
    if error is not None:
        st.error(error)
        return
    st.session_state[K_WRITTEN] = success(out) if callable(success) else success
    st.rerun()


K_WRITTEN = "vigie_written"


def _written() -> None:
    """Show (once) the success of the write that made this run (:func:`write`)."""
    msg = st.session_state.pop(K_WRITTEN, None)
    if msg:
        st.success(msg, icon=":material/check_circle:")
