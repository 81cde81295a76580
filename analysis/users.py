"""App users: roles, bcrypt-hashed passwords in a TOML file outside git, login throttling.

The file is ``$VIGIE_USERS`` (default ``~/.config/vigie/users.toml``), written with mode 0600
by an atomic rename; it is never inside the repository. One table per user::

    [users.camille]
    role = "analyste"
    password = "$2b$12$…"        # bcrypt, never the password itself
    created_at = "2026-11-26T19:00:00"
    scope = ["port-marel"]       # territories this user may see; absent: every territory

Roles: ``elu`` (aggregates, no author identity), ``analyste`` (messages, corrections,
moderation), ``admin`` (imports, users, and everything the analyst sees). The spellings people
type are accepted (« élu », « Élu·e », « analyst », « administrateur·rice »: :func:`normalize_role`).

Scope: the territories whose messages, authors, queues and downloads the user sees (their peers'
aggregates stay visible for comparison: ``analysis.access``). No scope means every territory, for
the hosting organisation's administrators; a malformed scope never widens access (the entry is
ignored, like a malformed role).
"""

from __future__ import annotations

import json
import os
import re
import sqlite3
import stat
import time
import tomllib
import unicodedata
import uuid
from collections.abc import Iterable, Iterator
from contextlib import contextmanager
from dataclasses import dataclass
from datetime import UTC, datetime
from pathlib import Path

import bcrypt

from analysis.registry import load_registry
from analysis.retention import config_path

ROLES: tuple[str, ...] = ("elu", "analyste", "admin")
DEFAULT_USERS_FILE = Path("~/.config/vigie/users.toml")
MIN_PASSWORD_LENGTH = 10
BCRYPT_ROUNDS = 12  # ~0.2 s per check on one core: slow for an attacker, invisible to a user
USERNAME_RE = re.compile(r"^[a-z0-9][a-z0-9._-]{0,63}$")
# bcrypt only reads the first 72 bytes; longer passwords are refused rather than silently cut.
MAX_PASSWORD_BYTES = 72


class UserError(ValueError):
    """A user operation refused, with a French message for the person at the keyboard."""


# What people type for a role, folded (accents, case, « · », « ( ) », « . », « - » and spaces removed).
_ROLE_SPELLINGS: dict[str, str] = {
    **dict.fromkeys(("elu", "elue", "elus", "elues"), "elu"),
    **dict.fromkeys(("analyste", "analystes", "analyst", "analysts"), "analyste"),
    **dict.fromkeys(("admin", "admins", "administrateur", "administratrice", "administrateurrice",
                     "administrateurtrice", "administrateurs", "administratrices", "administrator"), "admin"),
}
ROLE_LABELS: dict[str, str] = {"elu": "élu·e", "analyste": "analyste", "admin": "administrateur·rice"}
# What `vigie users --help` says a role may be typed as (every spelling of _ROLE_SPELLINGS folds to one).
ROLE_HELP = ("élu·e (ou élu, élue, elu, elue, élu(e)), analyste (ou analyst) ou admin (ou administrateur, "
             "administratrice, administrateur·rice) ; majuscules et accents indifférents.")


def normalize_role(text: str) -> str:
    """The role id (``elu``, ``analyste``, ``admin``) of what a person typed: « élu », « Élu·e »,
    « élue », « elu(e) », « analyst », « administrateur·rice »…; :class:`UserError` otherwise."""
    folded = unicodedata.normalize("NFKD", str(text)).encode("ascii", "ignore").decode("ascii").lower()
    role = _ROLE_SPELLINGS.get(re.sub(r"[^a-z]", "", folded))
    if role is None:
        raise UserError(f"Rôle inconnu « {text} ». Rôles : {ROLE_HELP}")
    return role


@dataclass(frozen=True)
class User:
    name: str
    role: str
    password_hash: str
    created_at: str = ""
    scope: tuple[str, ...] | None = None  # territory ids; None: every territory


def parse_scope(value: str | Iterable[str] | None) -> tuple[str, ...] | None:
    """Territory ids of ``"saint-aubin,port-marel"`` (or a list), in the order given; ``None`` for no
    value or ``*`` / « tous » (every territory)."""
    if value is None:
        return None
    items = value.split(",") if isinstance(value, str) else [str(v) for v in value]
    ids = [i.strip().lower() for i in items if i.strip()]
    if not ids or any(i in ("*", "tous", "toutes", "all") for i in ids):
        return None
    return tuple(dict.fromkeys(ids))


def check_scope(scope: tuple[str, ...] | None, known: Iterable[str] | None = None) -> tuple[str, ...] | None:
    """``scope`` when every id is a territory of the registry (``known``, else the registry file);
    :class:`UserError` naming the unknown ones and the known ones."""
    if scope is None:
        return None
    if known is None:

        try:
            known = [t.territory_id for t in load_registry().territories]
        except (OSError, ValueError):  # no registry on this server yet: the ids are kept as typed
            return scope
    known = list(known)
    unknown = [t for t in scope if t not in known]
    if unknown:
        raise UserError(f"Territoire{'s' if len(unknown) > 1 else ''} inconnu{'s' if len(unknown) > 1 else ''} : "
                        f"{', '.join(unknown)}. Territoires du registre : {', '.join(known)}.")
    return scope


def users_path() -> Path:
    """The users file: ``$VIGIE_USERS`` or ``~/.config/vigie/users.toml``."""
    return Path(os.environ.get("VIGIE_USERS") or DEFAULT_USERS_FILE).expanduser()


def load_users(path: Path | None = None) -> dict[str, User]:
    """Users of the file (empty when the file does not exist)."""
    p = path or users_path()
    if not p.exists():
        return {}
    try:
        raw = tomllib.loads(p.read_text(encoding="utf-8"))
    except tomllib.TOMLDecodeError as e:
        raise UserError(f"Fichier d'utilisateurs illisible ({p}) : {e}") from e
    out: dict[str, User] = {}
    for name, d in (raw.get("users") or {}).items():
        if not isinstance(d, dict) or d.get("role") not in ROLES or not str(d.get("password", "")).startswith("$2"):
            continue  # a malformed entry never grants access
        scope = d.get("scope")
        if scope is not None and (not isinstance(scope, list) or not all(isinstance(t, str) for t in scope)
                                  or parse_scope(scope) is None):
            continue  # a malformed (or empty) scope must not turn into « every territory »
        out[name] = User(name, d["role"], str(d["password"]), str(d.get("created_at", "")),
                         None if scope is None else parse_scope(scope))
    return out


def _toml_str(s: str) -> str:
    # A JSON string literal is a valid TOML basic string (same escapes, \uXXXX included).
    return json.dumps(s, ensure_ascii=False)


def save_users(users: dict[str, User], path: Path | None = None) -> Path:
    """Write the file atomically with mode 0600 (readable by the service account only)."""
    p = path or users_path()
    p.parent.mkdir(parents=True, exist_ok=True)
    lines = ["# Utilisateurs de l'application Vigie (géré par `vigie users`). Ne pas versionner.", ""]
    for name in sorted(users):
        u = users[name]
        lines += [f"[users.{_toml_str(name)}]", f"role = {_toml_str(u.role)}",
                  f"password = {_toml_str(u.password_hash)}", f"created_at = {_toml_str(u.created_at)}"]
        if u.scope is not None:
            lines.append(f"scope = [{', '.join(_toml_str(t) for t in u.scope)}]")
        lines.append("")
    tmp = p.with_name(p.name + f".{os.getpid()}.tmp")
    fd = os.open(tmp, os.O_WRONLY | os.O_CREAT | os.O_TRUNC, 0o600)
    with os.fdopen(fd, "w", encoding="utf-8") as fh:
        fh.write("\n".join(lines))
    os.replace(tmp, p)
    return p


def check_password_policy(password: str) -> None:
    """Refuse passwords too short or too long for bcrypt."""
    if len(password) < MIN_PASSWORD_LENGTH:
        raise UserError(f"Mot de passe trop court : {MIN_PASSWORD_LENGTH} caractères au minimum.")
    if len(password.encode("utf-8")) > MAX_PASSWORD_BYTES:
        raise UserError(f"Mot de passe trop long : {MAX_PASSWORD_BYTES} octets au maximum (limite de bcrypt).")


def hash_password(password: str, rounds: int | None = None) -> str:
    """bcrypt hash (salted) of ``password``."""
    return bcrypt.hashpw(password.encode("utf-8"), bcrypt.gensalt(rounds or BCRYPT_ROUNDS)).decode("ascii")


def add_user(name: str, role: str, password: str, path: Path | None = None,
             scope: str | Iterable[str] | None = None) -> User:
    """Create a user; refuses an existing name, an unknown role, an unknown territory or a weak password.
    ``scope``: the territories the user may see (``"saint-aubin,port-marel"``), None for all."""
    name = name.strip().lower()
    if not USERNAME_RE.match(name):
        raise UserError("Identifiant invalide : lettres minuscules, chiffres, « . », « _ » ou « - » (64 au plus).")
    role = normalize_role(role)
    territories = check_scope(parse_scope(scope))
    check_password_policy(password)
    users = load_users(path)
    if name in users:
        raise UserError(f"L'utilisateur « {name} » existe déjà (changer son mot de passe : `vigie users passwd`).")
    u = User(name, role, hash_password(password), datetime.now(UTC).replace(tzinfo=None).isoformat(timespec="seconds"),
             territories)
    users[name] = u
    save_users(users, path)
    return u


def set_access(name: str, role: str | None = None, scope: str | Iterable[str] | None = None, *,
               every_territory: bool = False, path: Path | None = None) -> User:
    """Change a user's role and/or scope (``every_territory=True``: no scope). The sessions the user
    has open end at their next page: the new rights apply from the next login."""
    users = load_users(path)
    name = name.strip().lower()
    if name not in users:
        raise UserError(f"Utilisateur inconnu « {name} ».")
    u = users[name]
    new_role = normalize_role(role) if role is not None else u.role
    new_scope = None if every_territory else (check_scope(parse_scope(scope)) if scope is not None else u.scope)
    if scope is not None and not every_territory and new_scope is None:
        raise UserError("Périmètre vide : donnez des territoires (saint-aubin,port-marel) ou --tous.")
    users[name] = User(u.name, new_role, u.password_hash, u.created_at, new_scope)
    save_users(users, path)
    Throttle().revoke(name)
    return users[name]


def remove_user(name: str, path: Path | None = None) -> None:
    """Delete a user."""
    users = load_users(path)
    if name not in users:
        raise UserError(f"Utilisateur inconnu « {name} ».")
    del users[name]
    save_users(users, path)
    Throttle().revoke(name)  # the sessions already open end at their next page


def set_password(name: str, password: str, path: Path | None = None) -> None:
    """Replace a user's password."""
    users = load_users(path)
    if name not in users:
        raise UserError(f"Utilisateur inconnu « {name} ».")
    check_password_policy(password)
    u = users[name]
    users[name] = User(u.name, u.role, hash_password(password), u.created_at, u.scope)
    save_users(users, path)
    Throttle().revoke(name)  # a stolen password stops working in the sessions it opened too


# Checking an unknown user against this hash costs the same time as a real check, so response
# time does not reveal which user names exist.
_DUMMY_HASH = bcrypt.hashpw(b"vigie-dummy-password", bcrypt.gensalt(4))


def verify(name: str, password: str, path: Path | None = None) -> User | None:
    """The user when ``password`` is theirs, else None."""
    users = load_users(path)
    u = users.get(name.strip().lower())
    pw = password.encode("utf-8")[:MAX_PASSWORD_BYTES]
    if u is None:
        bcrypt.checkpw(pw, _DUMMY_HASH)
        return None
    try:
        return u if bcrypt.checkpw(pw, u.password_hash.encode("ascii")) else None
    except ValueError:  # corrupted hash in the file
        return None


def auth_db_path() -> Path:
    """The app's small state file (failed logins, locks, session revocations): ``$VIGIE_AUTH_DB``, else
    ``auth.sqlite`` beside the users file. SQLite, not the store: the app opens the store read-only
    (one writer, the CLI), and this state must survive a restart of the app."""
    env = os.environ.get("VIGIE_AUTH_DB")
    return Path(env).expanduser() if env else users_path().with_name("auth.sqlite")


_AUTH_SCHEMA = (
    "CREATE TABLE IF NOT EXISTS attempts (key TEXT NOT NULL, at REAL NOT NULL, attempt TEXT NOT NULL, "
    "state TEXT NOT NULL)",
    "CREATE INDEX IF NOT EXISTS attempts_key ON attempts (key, at)",
    "CREATE TABLE IF NOT EXISTS locks (key TEXT PRIMARY KEY, until REAL NOT NULL)",
    "CREATE TABLE IF NOT EXISTS revocations (user TEXT PRIMARY KEY, before REAL NOT NULL)",
    # Identity-provider logins: the provider's cookie outlives a browser session (30 days), so the idle
    # time is kept per login (user, time the provider issued it), across sessions and restarts.
    "CREATE TABLE IF NOT EXISTS sso_logins (user TEXT NOT NULL, issued REAL NOT NULL, last_seen REAL NOT NULL, "
    "ended INTEGER NOT NULL DEFAULT 0, PRIMARY KEY (user, issued))",
    # The app's audit log (analysis.audit): who logged in, saw or downloaded what.
    "CREATE TABLE IF NOT EXISTS audit (at REAL NOT NULL, user TEXT NOT NULL, role TEXT NOT NULL, "
    "scope TEXT NOT NULL, via TEXT NOT NULL, action TEXT NOT NULL, page TEXT NOT NULL, detail TEXT NOT NULL)",
    "CREATE INDEX IF NOT EXISTS audit_at ON audit (at)",
)


def open_auth_db(path: Path) -> sqlite3.Connection:
    """A connection (autocommit, transactions by hand) on the app's state file, created 0600 with its
    tables when missing."""
    path.parent.mkdir(parents=True, exist_ok=True)
    os.close(os.open(path, os.O_RDWR | os.O_CREAT, 0o600))  # never world-readable, even briefly
    if stat.S_IMODE(path.stat().st_mode) & 0o077:
        os.chmod(path, 0o600)
    con = sqlite3.connect(path, timeout=30, isolation_level=None)
    for ddl in _AUTH_SCHEMA:
        con.execute(ddl)
    return con


class Throttle:
    """Failed-login limiter: after ``max_failures`` failures within ``window`` seconds for a key
    (a user name, or a browser session), the key is locked for ``lockout`` seconds.

    Kept in a small SQLite file (:func:`auth_db_path`, mode 0600): a restart of the app does not
    clear a lock, and every app process on the server shares it. :meth:`begin` checks the locks and
    records the attempt *before* the password is checked, in one ``BEGIN IMMEDIATE`` transaction:
    30 simultaneous submissions get at most ``max_failures`` password checks, the others are refused
    (an in-memory check-then-record let all 30 through, the 30th logged in). Also holds the
    session revocations of « se déconnecter partout » (:meth:`revoke`).
    """

    def __init__(self, max_failures: int = 5, window: float = 900.0, lockout: float = 900.0,
                 clock=time.time, path: Path | str | None = None) -> None:
        self.max_failures, self.window, self.lockout, self.clock = max_failures, window, lockout, clock
        self.path = Path(path) if path is not None else auth_db_path()
        self._ready = False

    # ---------------------------------------------------------------- storage
    def _connect(self) -> sqlite3.Connection:
        if not self._ready or not self.path.exists():  # first use, or the file was removed meanwhile
            con = open_auth_db(self.path)
            self._ready = True
            return con
        return sqlite3.connect(self.path, timeout=30, isolation_level=None)  # transactions by hand

    @contextmanager
    def _immediate(self) -> Iterator[sqlite3.Connection]:
        """One write transaction, taken before reading: concurrent callers are serialised."""
        con = self._connect()
        try:
            con.execute("BEGIN IMMEDIATE")
            try:
                yield con
            except BaseException:
                con.execute("ROLLBACK")
                raise
            con.execute("COMMIT")
        finally:
            con.close()

    def _lock_if_due(self, con: sqlite3.Connection, key: str, now: float) -> bool:
        """Lock ``key`` when it has ``max_failures`` attempts in the window (and forget them)."""
        n = con.execute("SELECT count(*) FROM attempts WHERE key = ? AND at > ?", (key, now - self.window)).fetchone()[0]
        if n < self.max_failures:
            return False
        con.execute("INSERT OR REPLACE INTO locks VALUES (?, ?)", (key, now + self.lockout))
        con.execute("DELETE FROM attempts WHERE key = ?", (key,))
        return True

    def _wait(self, con: sqlite3.Connection, keys: list[str], now: float) -> float:
        rows = con.execute(f"SELECT max(until) FROM locks WHERE key IN ({', '.join('?' * len(keys))})",
                           keys).fetchone()
        return max(0.0, (rows[0] or 0.0) - now)

    # ---------------------------------------------------------------- attempts
    def begin(self, keys: list[str]) -> tuple[float, str | None]:
        """Check and record an attempt at once: ``(0, attempt id)`` when it may go on (the attempt
        already counts as a failure), else ``(seconds to wait, None)``."""
        with self._immediate() as con:
            now = self.clock()  # read inside the transaction: clocks of concurrent attempts stay in order
            con.execute("DELETE FROM attempts WHERE at <= ?", (now - self.window,))
            wait = self._wait(con, keys, now)
            if wait <= 0:
                for k in keys:
                    if self._lock_if_due(con, k, now):
                        wait = self.lockout
            if wait > 0:
                return wait, None
            attempt = uuid.uuid4().hex
            con.executemany("INSERT INTO attempts VALUES (?, ?, ?, 'pending')", [(k, now, attempt) for k in keys])
            return 0.0, attempt

    def end(self, attempt: str, keys: list[str], ok: bool) -> None:
        """Close an attempt of :meth:`begin`: a success forgets the keys' failures, a failure stays
        counted (and locks the key at the limit)."""
        with self._immediate() as con:
            now = self.clock()
            if ok:
                marks = ", ".join("?" * len(keys))
                con.execute(f"DELETE FROM attempts WHERE key IN ({marks})", keys)
                con.execute(f"DELETE FROM locks WHERE key IN ({marks})", keys)
                return
            con.execute("UPDATE attempts SET state = 'failed' WHERE attempt = ?", (attempt,))
            for k in keys:
                self._lock_if_due(con, k, now)

    def locked_for(self, key: str) -> float:
        """Seconds left before ``key`` may try again (0 when free)."""
        with self._immediate() as con:
            return self._wait(con, [key], self.clock())

    def failure(self, key: str) -> None:
        """Record a failed attempt; lock the key when the limit is reached."""
        with self._immediate() as con:
            now = self.clock()
            con.execute("INSERT INTO attempts VALUES (?, ?, ?, 'failed')", (key, now, uuid.uuid4().hex))
            self._lock_if_due(con, key, now)

    def success(self, key: str) -> None:
        """Forget the failures and the lock of ``key``."""
        with self._immediate() as con:
            con.execute("DELETE FROM attempts WHERE key = ?", (key,))
            con.execute("DELETE FROM locks WHERE key = ?", (key,))

    def reset(self) -> None:
        """Forget every failure, lock and revocation (tests, or an administrator's fresh start)."""
        with self._immediate() as con:
            for table in ("attempts", "locks", "revocations", "sso_logins"):
                con.execute(f"DELETE FROM {table}")

    # ---------------------------------------------------------------- sessions
    def revoke(self, user: str) -> None:
        """End every session of ``user`` opened until now (« se déconnecter partout », `vigie users
        logout`, a password change, a removed account)."""
        with self._immediate() as con:
            con.execute("INSERT OR REPLACE INTO revocations VALUES (?, ?)", (user.strip().lower(), self.clock()))

    def revoked_after(self, user: str, logged_in_at: float) -> bool:
        """Whether the sessions of ``user`` opened at ``logged_in_at`` were revoked since."""
        con = self._connect()
        try:
            row = con.execute("SELECT before FROM revocations WHERE user = ?", (user.strip().lower(),)).fetchone()
        finally:
            con.close()
        return row is not None and logged_in_at <= row[0]

    # ---------------------------------------------------------------- identity-provider logins
    def sso_state(self, user: str, issued: float, idle: float) -> str | None:
        """``"ended"`` when the provider login of ``user`` issued at ``issued`` was signed out (its
        cookie replayed), ``"idle"`` when it went ``idle`` seconds without a page run in any session
        (0: never), else None. A login seen for the first time starts now."""
        with self._immediate() as con:
            row = con.execute("SELECT last_seen, ended FROM sso_logins WHERE user = ? AND issued = ?",
                              (user.strip().lower(), issued)).fetchone()
            if row is None:
                con.execute("INSERT INTO sso_logins VALUES (?, ?, ?, 0)", (user.strip().lower(), issued, self.clock()))
                return None
            if row[1]:
                return "ended"
            return "idle" if idle > 0 and self.clock() - row[0] > idle else None

    def sso_seen(self, user: str, issued: float) -> None:
        """A page run of the provider login (``user``, ``issued``); logins unseen for 30 days are
        forgotten (the provider's cookie lasts 30 days)."""
        with self._immediate() as con:
            now = self.clock()
            con.execute("UPDATE sso_logins SET last_seen = ? WHERE user = ? AND issued = ? AND NOT ended",
                        (now, user.strip().lower(), issued))
            con.execute("DELETE FROM sso_logins WHERE last_seen < ?", (now - 31 * 86400,))

    def sso_end(self, user: str, issued: float) -> None:
        """A provider login signed out or timed out: its cookie, if replayed, is idle for good."""
        with self._immediate() as con:
            con.execute("UPDATE sso_logins SET ended = 1 WHERE user = ? AND issued = ?",
                        (user.strip().lower(), issued))


DEFAULT_IDLE_MINUTES = 30


def idle_timeout_seconds() -> float:
    """Idle time after which an app session is logged out: ``$VIGIE_IDLE_MINUTES``, else
    ``[session] idle_minutes`` of the settings file (``~/.config/vigie/config.toml``), else 30
    minutes; 0 turns it off."""

    raw: object = os.environ.get("VIGIE_IDLE_MINUTES")
    if raw is None:
        cfg = config_path()
        if cfg.exists():
            raw = tomllib.loads(cfg.read_text(encoding="utf-8")).get("session", {}).get("idle_minutes")
    if raw is None or str(raw).strip() == "":
        return DEFAULT_IDLE_MINUTES * 60.0
    try:
        minutes = float(str(raw).replace(",", "."))
    except ValueError as e:
        raise UserError(f"Durée d'inactivité invalide « {raw} » : un nombre de minutes (0 = jamais).") from e
    return max(0.0, minutes) * 60.0
