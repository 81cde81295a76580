"""App users: roles, bcrypt-hashed passwords in a TOML file outside git, login throttling.

The file is ``$VIGIE_USERS`` (default ``~/.config/vigie/users.toml``), written with mode 0600
by an atomic rename; it is never inside the repository. One table per user::

    [users.camille]
    role = "analyste"
    password = "$2b$12$…"        # bcrypt, never the password itself
    created_at = "2026-11-26T19:00:00"

Roles: ``elu`` (aggregates, no author identity), ``analyste`` (messages, corrections,
moderation), ``admin`` (imports, users, and everything the analyst sees).
"""

from __future__ import annotations

import json
import os
import re
import threading
import time
import tomllib
from dataclasses import dataclass
from datetime import UTC, datetime
from pathlib import Path

import bcrypt

ROLES: tuple[str, ...] = ("elu", "analyste", "admin")
DEFAULT_USERS_FILE = Path("~/.config/vigie/users.toml")
MIN_PASSWORD_LENGTH = 10
BCRYPT_ROUNDS = 12  # ~0.2 s per check on one core: slow for an attacker, invisible to a user
USERNAME_RE = re.compile(r"^[a-z0-9][a-z0-9._-]{0,63}$")
# bcrypt only reads the first 72 bytes; longer passwords are refused rather than silently cut.
MAX_PASSWORD_BYTES = 72


class UserError(ValueError):
    """A user operation refused, with a French message for the person at the keyboard."""


@dataclass(frozen=True)
class User:
    name: str
    role: str
    password_hash: str
    created_at: str = ""


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
        out[name] = User(name, d["role"], str(d["password"]), str(d.get("created_at", "")))
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
                  f"password = {_toml_str(u.password_hash)}", f"created_at = {_toml_str(u.created_at)}", ""]
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


def add_user(name: str, role: str, password: str, path: Path | None = None) -> User:
    """Create a user; refuses an existing name, an unknown role or a weak password."""
    name = name.strip().lower()
    if not USERNAME_RE.match(name):
        raise UserError("Identifiant invalide : lettres minuscules, chiffres, « . », « _ » ou « - » (64 au plus).")
    if role not in ROLES:
        raise UserError(f"Rôle inconnu « {role} » : {', '.join(ROLES)}.")
    check_password_policy(password)
    users = load_users(path)
    if name in users:
        raise UserError(f"L'utilisateur « {name} » existe déjà (changer son mot de passe : `vigie users passwd`).")
    u = User(name, role, hash_password(password), datetime.now(UTC).replace(tzinfo=None).isoformat(timespec="seconds"))
    users[name] = u
    save_users(users, path)
    return u


def remove_user(name: str, path: Path | None = None) -> None:
    """Delete a user."""
    users = load_users(path)
    if name not in users:
        raise UserError(f"Utilisateur inconnu « {name} ».")
    del users[name]
    save_users(users, path)


def set_password(name: str, password: str, path: Path | None = None) -> None:
    """Replace a user's password."""
    users = load_users(path)
    if name not in users:
        raise UserError(f"Utilisateur inconnu « {name} ».")
    check_password_policy(password)
    u = users[name]
    users[name] = User(u.name, u.role, hash_password(password), u.created_at)
    save_users(users, path)


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


class Throttle:
    """Failed-login limiter: after ``max_failures`` failures within ``window`` seconds for a key
    (a user name, or a browser session), the key is locked for ``lockout`` seconds.

    In memory of the app process (one Streamlit server): a restart clears it, which is
    acceptable because each attempt also costs a bcrypt check.
    """

    def __init__(self, max_failures: int = 5, window: float = 900.0, lockout: float = 900.0,
                 clock=time.monotonic) -> None:
        self.max_failures, self.window, self.lockout, self.clock = max_failures, window, lockout, clock
        self._failures: dict[str, list[float]] = {}
        self._locked_until: dict[str, float] = {}
        self._lock = threading.Lock()

    def locked_for(self, key: str) -> float:
        """Seconds left before ``key`` may try again (0 when free)."""
        with self._lock:
            return max(0.0, self._locked_until.get(key, 0.0) - self.clock())

    def failure(self, key: str) -> None:
        """Record a failed attempt; lock the key when the limit is reached."""
        now = self.clock()
        with self._lock:
            recent = [t for t in self._failures.get(key, []) if now - t < self.window] + [now]
            if len(recent) >= self.max_failures:
                self._locked_until[key] = now + self.lockout
                recent = []
            self._failures[key] = recent

    def success(self, key: str) -> None:
        """Forget the failures of ``key``."""
        with self._lock:
            self._failures.pop(key, None)
            self._locked_until.pop(key, None)
