"""Pseudonymisation of authors: a keyed hash (HMAC-SHA256) with a key kept outside the repo.

The key is read from ``$VIGIE_PSEUDONYM_KEY`` (hex or any string), else from the file
``$VIGIE_KEY_FILE`` (default ``~/.config/vigie/pseudonym.key``), created with mode 0600 on
first use. Without the key nobody can recompute which author a hash stands for; rotating
the key (new file) makes new imports unlinkable to old ones (documented in docs/privacy.md).
"""

from __future__ import annotations

import hashlib
import hmac
import os
import secrets
from functools import lru_cache
from pathlib import Path

DEFAULT_KEY_FILE = Path("~/.config/vigie/pseudonym.key")


def key_file() -> Path:
    return Path(os.environ.get("VIGIE_KEY_FILE") or DEFAULT_KEY_FILE).expanduser()


@lru_cache(maxsize=4)
def _load_key(env_key: str | None, path: str) -> bytes:
    if env_key:
        return env_key.encode("utf-8")
    p = Path(path)
    if not p.exists():
        p.parent.mkdir(parents=True, exist_ok=True)
        fd = os.open(p, os.O_WRONLY | os.O_CREAT | os.O_EXCL, 0o600)
        with os.fdopen(fd, "w") as fh:
            fh.write(secrets.token_hex(32))
    return p.read_text().strip().encode("utf-8")


def get_key() -> bytes:
    """The pseudonymisation key (created on first use)."""
    return _load_key(os.environ.get("VIGIE_PSEUDONYM_KEY"), str(key_file()))


def pseudonymise(platform: str, author_key: str, key: bytes | None = None) -> str:
    """``HMAC-SHA256(key, platform + ':' + author_key)``, first 16 hex chars, prefixed ``a_``."""
    k = key if key is not None else get_key()
    digest = hmac.new(k, f"{platform}:{author_key}".encode(), hashlib.sha256).hexdigest()
    return "a_" + digest[:16]
