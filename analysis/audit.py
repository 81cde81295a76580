"""The app's audit log: who logged in, saw or downloaded what, and the store's privacy operations.

The app opens the store read-only (one writer, the CLI), so what it records goes to the same small
SQLite file as the login state (``users.auth_db_path()``, mode 0600, table ``audit``): logins
(successful, refused, locked), sign-outs and ends of sessions, page views (a page with its filters,
once per change, not every rerun), downloads (tables and reports, file name and rows), reports
generated, and the administrators' changes to accounts. Never a password, a message text or an
author. Erasures and purges stay in the store's own ``audit_log`` (written by the CLI in the same
transaction as the deletion); :func:`combined` shows both.

Kept for ``[retention] audit`` (``~/.config/vigie/config.toml``, default 12 months) and purged by
``vigie purge``.
"""

from __future__ import annotations

import os
import time
import tomllib
from collections.abc import Iterable
from datetime import UTC, datetime
from pathlib import Path

import pandas as pd

from analysis import users
from analysis.config import LOCAL_TZ
from analysis.fmt import fr_datetime
from analysis.retention import config_path, parse_duration

DEFAULT_AUDIT_RETENTION = "12m"

# action code → what an administrator reads
ACTIONS: dict[str, str] = {
    "login": "connexion",
    "login_failed": "connexion refusée",
    "login_locked": "connexion bloquée (trop d'essais)",
    "logout": "fin de session",
    "page": "page consultée",
    "download": "téléchargement",
    "report": "rapport généré",
    "upload": "import de fichiers",
    "account": "compte modifié",
    # written in the store by the CLI and the app's writers (audit_log)
    "privacy.erase": "effacement d'un auteur",
    "privacy.purge": "purge (durée de conservation)",
    "privacy.key_rotated": "rotation de la clé de pseudonymisation",
    "label.sentiment": "correction d'un sentiment",
    "moderation_status": "statut de modération",
    "label.dropped_on_edit": "correction retirée (texte modifié par son auteur)",
    "moderation.reopened_on_edit": "décision de modération rouverte (texte modifié par son auteur)",
    "registry.account_moved": "compte officiel rattaché à un autre territoire (son historique suit)",
}
COLUMNS = ["at", "user", "role", "scope", "via", "action", "page", "detail"]


def scope_text(scope: Iterable[str] | None) -> str:
    """How a scope is stored in the log: ids joined by commas, ``""`` for every territory."""
    return "" if scope is None else ",".join(scope)


class AuditLog:
    """Append-only records in ``auth.sqlite`` (:func:`users.auth_db_path`), shared by every app
    process and by the `vigie` commands."""

    def __init__(self, path: Path | str | None = None, clock=time.time) -> None:
        self.path = Path(path) if path is not None else users.auth_db_path()
        self.clock = clock

    def record(self, action: str, *, user: str = "", role: str = "", scope: Iterable[str] | None = None,
               via: str = "", page: str = "", detail: str = "") -> None:
        """One entry; never raises (an audit that cannot be written is logged, the page goes on)."""
        try:
            con = users.open_auth_db(self.path)
            try:
                con.execute("INSERT INTO audit VALUES (?, ?, ?, ?, ?, ?, ?, ?)",
                            (self.clock(), user[:128], role, scope_text(scope), via, action, page[:128], detail[:1000]))
            finally:
                con.close()
        except Exception:  # noqa: BLE001 - the journal must never take a page down
            import logging

            logging.getLogger("vigie.audit").exception("journal d'audit non écrit : %s %s", action, user)

    def entries(self, *, since: datetime | None = None, user: str | None = None, action: str | None = None,
                within: Iterable[str] | None = None, limit: int | None = 1000) -> pd.DataFrame:
        """Entries newest first (``at`` as a naive UTC datetime). ``within``: only those of users whose
        scope lies inside these territories (what a territory's own administrator may read); entries
        of unscoped users and failed logins are left out then."""
        clauses, params = ["TRUE"], []
        if since is not None:
            clauses.append("at >= ?")
            params.append(since.replace(tzinfo=UTC).timestamp() if since.tzinfo is None else since.timestamp())
        if user:
            clauses.append("user = ?")
            params.append(user.strip().lower())
        if action:
            clauses.append("action = ?")
            params.append(action)
        sql = f"SELECT * FROM audit WHERE {' AND '.join(clauses)} ORDER BY at DESC"
        con = users.open_auth_db(self.path)
        try:
            df = pd.DataFrame(con.execute(sql, params).fetchall(), columns=COLUMNS)
        finally:
            con.close()
        if within is not None:
            allowed = set(within)
            df = df.loc[df["scope"].map(lambda s: bool(s) and set(s.split(",")) <= allowed).astype(bool)]
        if limit:
            df = df.head(limit)
        df["at"] = pd.to_datetime(df["at"], unit="s").astype("datetime64[us]")
        return df.reset_index(drop=True)

    def purge(self, before: datetime) -> int:
        """Delete the entries older than ``before`` (naive UTC); returns how many."""
        cut = before.replace(tzinfo=UTC).timestamp() if before.tzinfo is None else before.timestamp()
        con = users.open_auth_db(self.path)
        try:
            return con.execute("DELETE FROM audit WHERE at < ?", (cut,)).rowcount
        finally:
            con.close()


def default_retention(path: Path | None = None) -> str:
    """``[retention] audit`` of the settings file, else 12 months (``$VIGIE_CONFIG``)."""

    p = path or config_path()
    if p.exists():
        value = tomllib.loads(p.read_text(encoding="utf-8")).get("retention", {}).get("audit")
        if value:
            parse_duration(str(value))
            return str(value)
    return DEFAULT_AUDIT_RETENTION


def store_entries(con, limit: int = 1000) -> pd.DataFrame:
    """The store's own ``audit_log`` (erasures, purges, label corrections, moderation statuses, written
    by the CLI and the app's writers with the change), in the columns of :class:`AuditLog` entries."""
    raw = con.execute('SELECT "at", actor, action, detail FROM audit_log ORDER BY "at" DESC LIMIT ?', [limit]).df()
    return pd.DataFrame({"at": pd.to_datetime(raw["at"]).astype("datetime64[us]"),
                         "user": raw["actor"].fillna("").astype(str), "role": "", "scope": "", "via": "base",
                         "action": raw["action"].fillna("").astype(str), "page": "",
                         "detail": raw["detail"].fillna("").astype(str)}, columns=COLUMNS)


def combined(entries: pd.DataFrame, store: pd.DataFrame | None) -> pd.DataFrame:
    """App entries and the store's, newest first."""
    df = pd.concat([entries, store], ignore_index=True) if store is not None and len(store) else entries
    return df.sort_values("at", ascending=False, kind="stable").reset_index(drop=True)


def french(df: pd.DataFrame) -> pd.DataFrame:
    """What an administrator reads: local time, French action names, scope « tous »."""

    local = pd.to_datetime(df["at"]).dt.tz_localize("UTC").dt.tz_convert(LOCAL_TZ).dt.tz_localize(None)
    return pd.DataFrame({
        "Date": local.map(fr_datetime), "Utilisateur": df["user"],
        "Rôle": df["role"].map(lambda r: users.ROLE_LABELS.get(r, r)),
        "Territoires": [s if s else ("tous" if r else "") for s, r in zip(df["scope"], df["role"], strict=True)],
        "Connexion": df["via"].map({"password": "mot de passe", "oidc": "fournisseur d'identité"}).fillna(df["via"]),
        "Action": df["action"].map(lambda a: ACTIONS.get(a, a)), "Page": df["page"], "Détail": df["detail"]})


def operator() -> str:
    """Who runs a `vigie` command (the server account): ``$SUDO_USER`` or ``$USER``."""
    return os.environ.get("SUDO_USER") or os.environ.get("USER") or os.environ.get("LOGNAME") or "?"
