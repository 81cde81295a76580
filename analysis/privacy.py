"""Pseudonymisation of authors: a keyed hash (HMAC-SHA256) with a key kept outside the repo.

The key is read from ``$VIGIE_PSEUDONYM_KEY`` (hex or any string), else from the file
``$VIGIE_KEY_FILE`` (default ``~/.config/vigie/pseudonym.key``), created with mode 0600 on
first use. Without the key nobody can recompute which author a hash stands for; rotating
the key (new file) makes new imports unlinkable to old ones (documented in docs/privacy.md).

A key anyone could guess is no key: an empty or short one (fewer than :data:`MIN_KEY_CHARS`
characters) is refused with :class:`KeyRefused`, a key file readable by other accounts gives a
warning (:func:`key_warnings`).
"""

from __future__ import annotations

import hashlib
import hmac
import os
import secrets
import stat
from datetime import datetime
from functools import lru_cache
from pathlib import Path
from typing import TYPE_CHECKING

import duckdb

from analysis.store import file_stamp

if TYPE_CHECKING:
    import pandas as pd

DEFAULT_KEY_FILE = Path("~/.config/vigie/pseudonym.key")
# 16 characters: well beyond what can be enumerated (the generated key has 64 hex characters).
MIN_KEY_CHARS = 16
NEW_KEY_COMMAND = ('python3 -c "import secrets; print(secrets.token_hex(32))" > {path} && chmod 600 {path}')


class KeyRefused(ValueError):
    """The pseudonymisation key is empty or too short: French message saying where and what to do."""


def key_file() -> Path:
    return Path(os.environ.get("VIGIE_KEY_FILE") or DEFAULT_KEY_FILE).expanduser()


def _check(key: str, where: str, fix: str) -> bytes:
    key = key.strip()
    if not key:
        why = "elle est vide"
    elif len(key) < MIN_KEY_CHARS:
        why = f"elle est trop courte ({len(key)} caractère{'s' if len(key) > 1 else ''}, {MIN_KEY_CHARS} au minimum)"
    else:
        return key.encode("utf-8")
    raise KeyRefused(f"Clé de pseudonymisation refusée ({where}) : {why}. Avec une telle clé, n'importe qui "
                     f"pourrait recalculer les pseudonymes des auteurs. Rien n'a été importé. {fix}")


@lru_cache(maxsize=4)
def _load_key(env_key: str | None, path: str, _stamp: tuple[int, int] | None) -> bytes:
    if env_key is not None:
        return _check(env_key, "variable VIGIE_PSEUDONYM_KEY",
                      "Donnez-lui une valeur longue et aléatoire (par exemple la sortie de "
                      "`python3 -c \"import secrets; print(secrets.token_hex(32))\"`) ou retirez-la pour "
                      f"utiliser le fichier {path}.")
    p = Path(path)
    if not p.exists():
        p.parent.mkdir(parents=True, exist_ok=True)
        fd = os.open(p, os.O_WRONLY | os.O_CREAT | os.O_EXCL, 0o600)
        with os.fdopen(fd, "w") as fh:
            fh.write(secrets.token_hex(32))
    return _check(p.read_text(), f"fichier {p}",
                  "Si des imports ont déjà eu lieu, remettez la clé d'origine depuis votre sauvegarde ; sinon "
                  f"créez-en une : `{NEW_KEY_COMMAND.format(path=p)}` (voir docs/privacy.md, section 6).")


def get_key() -> bytes:
    """The pseudonymisation key (created on first use); :class:`KeyRefused` when empty or short."""
    env = os.environ.get("VIGIE_PSEUDONYM_KEY")
    p = key_file()
    # the file's stamp is part of the cache key: a key file replaced (rotation) is read again
    return _load_key(env, str(p), None if env is not None else file_stamp(p))


def key_warnings() -> list[str]:
    """French warnings about the key's protection (a key file readable or writable by other accounts)."""
    if os.environ.get("VIGIE_PSEUDONYM_KEY") is not None:
        return []
    p = key_file()
    try:
        mode = stat.S_IMODE(p.stat().st_mode)
    except FileNotFoundError:
        return []
    if mode & 0o077:
        return [f"Attention : la clé de pseudonymisation {p} est lisible par d'autres comptes du serveur "
                f"(droits {mode:04o}) : qui la lit peut recalculer les pseudonymes. Corrigez : `chmod 600 {p}`."]
    return []


def pseudonymise(platform: str, author_key: str, key: bytes | None = None) -> str:
    """``HMAC-SHA256(key, platform + ':' + author_key)``, first 16 hex chars, prefixed ``a_``."""
    k = key if key is not None else get_key()
    digest = hmac.new(k, f"{platform}:{author_key}".encode(), hashlib.sha256).hexdigest()
    return "a_" + digest[:16]


# ------------------------------------------------------------------------------ one key per store
KEY_CHECK = "pseudonym_key_check"


class KeyChanged(RuntimeError):
    """The key at hand is not the one the store's authors were hashed with (French message: what
    happened, what it would break, the two ways out)."""


def key_check(key: bytes | None = None) -> str:
    """A fingerprint of the pseudonymisation key: HMAC-SHA256(key, constant), 16 hex characters. It
    reveals nothing of the key (one more keyed hash, of a text nobody wrote), and tells two keys apart."""
    k = key if key is not None else get_key()
    return hmac.new(k, b"vigie:pseudonym-key-check", hashlib.sha256).hexdigest()[:16]


def recorded_key_check(con: duckdb.DuckDBPyConnection) -> tuple[str, datetime] | None:
    """(fingerprint, when) recorded in the store, or None (a store that never pseudonymised, or
    from before the record: its next import records the key at hand)."""
    try:
        row = con.execute("SELECT value, set_at FROM store_settings WHERE name = ?", [KEY_CHECK]).fetchone()
    except duckdb.CatalogException:  # a read copy from before migration 12
        return None
    return (row[0], row[1]) if row else None


def check_store_key(con: duckdb.DuckDBPyConnection) -> None:
    """Before a write hashes authors into the store (an import, a collection, an erasure by name):
    record the key's fingerprint in a store that has none; raise :class:`KeyChanged` when the key at
    hand is another one. A key file missing on a new server, a job run under another account (which
    creates a key of its own on first use) or a forgotten ``VIGIE_PSEUDONYM_KEY`` would otherwise hash
    the same people under new pseudonyms without a word: distinct authors counted twice, and — worse —
    an erasure by name missing their older messages, and the erased people's tombstones no longer
    stopping an old export from bringing their messages back."""
    now = key_check()
    got = recorded_key_check(con)
    if got is None:
        con.execute("INSERT INTO store_settings VALUES (?, ?, now()::TIMESTAMP) ON CONFLICT DO NOTHING",
                    [KEY_CHECK, now])
        return
    if got[0] != now:
        where = ("la variable VIGIE_PSEUDONYM_KEY" if os.environ.get("VIGIE_PSEUDONYM_KEY") is not None
                 else f"le fichier {key_file()}")
        raise KeyChanged(
            f"La clé de pseudonymisation ({where}) n'est pas celle avec laquelle les auteurs de cette base ont été "
            f"pseudonymisés (empreinte enregistrée le {got[1]:%d/%m/%Y} : {got[0]} ; clé actuelle : {now}). Rien n'a "
            "été écrit. Avec une autre clé, une même personne aurait deux pseudonymes, un effacement par nom "
            "manquerait ses anciens messages et les personnes effacées pourraient revenir par un ancien export. "
            "Remettez la clé d'origine (depuis votre sauvegarde, ou le même compte et la même configuration que "
            "les imports précédents) ; si c'est une rotation voulue (docs/privacy.md, section 6) : "
            "`vigie privacy key --rotated`.")


def record_rotation(con: duckdb.DuckDBPyConnection) -> tuple[str | None, str]:
    """A deliberate rotation (docs/privacy.md, section 6): the key at hand becomes the store's;
    returns (previous fingerprint, new one)."""
    old = recorded_key_check(con)
    new = key_check()
    con.execute("INSERT OR REPLACE INTO store_settings VALUES (?, ?, now()::TIMESTAMP)", [KEY_CHECK, new])
    return (old[0] if old else None), new


# ------------------------------------------------------------------------------ what an élu reads
# The rule for elected officials (docs/privacy.md, section 4): indicators and aggregates, plus a few
# representative message texts per block (a spike, an emerging subject, a tone), never a list of
# messages, never an author, a pseudonym or a message id. Every page applies it through
# :func:`messages_for_role`.
ELU_MESSAGES_PER_BLOCK = 5
ANALYST_ROLES = ("analyste", "admin", "analyst")
IDENTITY_COLUMNS = ("author_hash", "author_name", "message_id", "account_id", "parent_id", "post_id", "Id")


def messages_for_role(msgs: pd.DataFrame, role: str, n: int = ELU_MESSAGES_PER_BLOCK) -> pd.DataFrame:
    """The messages of one block as ``role`` may read them: all of them for analysts; for an élu
    the first ``n`` (the block's own order: most representative first), without identity columns."""
    if role in ANALYST_ROLES:
        return msgs
    return msgs.drop(columns=[c for c in IDENTITY_COLUMNS if c in msgs.columns]).head(n)
