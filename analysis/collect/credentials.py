"""API credentials: a 0600 TOML file in the user's config directory, or environment variables.

Never in git, never in the store, never in a log line or a report (:func:`analysis.collect.http.redact`
masks them in error messages). File ``~/.config/vigie/credentials.toml`` (or ``$VIGIE_CREDENTIALS``)::

    [bluesky]                       # only for searchPosts (mentions); reading feeds needs nothing
    handle = "ville.bsky.social"
    app_password = "xxxx-xxxx-xxxx-xxxx"

    [mastodon]                      # optional: public endpoints need no token
    token = "…"

    [youtube]
    api_key = "AIza…"               # free key of a Google Cloud project, YouTube Data API v3

    [meta]
    page_token = "EAAB…"            # Page access token (Facebook Page posts, insights, comments)
    instagram_user_id = "1784…"     # the territory's Instagram professional account
    threads_token = "THAA…"         # Threads API user token

Environment variables take precedence: ``VIGIE_BLUESKY_HANDLE``, ``VIGIE_BLUESKY_APP_PASSWORD``,
``VIGIE_MASTODON_TOKEN``, ``VIGIE_YOUTUBE_API_KEY``, ``VIGIE_META_PAGE_TOKEN``,
``VIGIE_INSTAGRAM_USER_ID``, ``VIGIE_THREADS_TOKEN``.
"""

from __future__ import annotations

import os
import stat
import tomllib
from dataclasses import dataclass, field
from pathlib import Path

from analysis.collect.http import CollectError

DEFAULT_FILE = Path("~/.config/vigie/credentials.toml")
ENV = {
    ("bluesky", "handle"): "VIGIE_BLUESKY_HANDLE",
    ("bluesky", "app_password"): "VIGIE_BLUESKY_APP_PASSWORD",
    ("mastodon", "token"): "VIGIE_MASTODON_TOKEN",
    ("youtube", "api_key"): "VIGIE_YOUTUBE_API_KEY",
    ("meta", "page_token"): "VIGIE_META_PAGE_TOKEN",
    ("meta", "instagram_user_id"): "VIGIE_INSTAGRAM_USER_ID",
    ("meta", "threads_token"): "VIGIE_THREADS_TOKEN",
}


def credentials_path() -> Path:
    return Path(os.environ.get("VIGIE_CREDENTIALS") or DEFAULT_FILE).expanduser()


@dataclass
class Credentials:
    """Secrets by ``(section, name)``; ``warnings`` says what was wrong with the file (in French)."""

    values: dict[tuple[str, str], str] = field(default_factory=dict)
    path: Path | None = None
    warnings: list[str] = field(default_factory=list)

    def get(self, section: str, name: str) -> str | None:
        return self.values.get((section, name))

    def require(self, section: str, name: str, what: str) -> str:
        """The secret, or a French error saying where to put it."""
        v = self.get(section, name)
        if not v:
            env = ENV.get((section, name))
            raise CollectError(
                f"{what} : identifiant manquant. Ajoutez « {name} = \"…\" » dans la section [{section}] de "
                f"{self.path or credentials_path()} (droits 0600)" + (f", ou la variable {env}" if env else "") + ".")
        return v

    def __repr__(self) -> str:  # never print a secret, even by accident
        return f"Credentials(path={self.path}, names={sorted(f'{s}.{n}' for s, n in self.values)})"


def load_credentials(path: str | os.PathLike | None = None, environ: dict[str, str] | None = None) -> Credentials:
    """Read the credentials file (if any) then the environment variables (which win)."""
    env = os.environ if environ is None else environ
    p = Path(path).expanduser() if path else credentials_path()
    creds = Credentials(path=p)
    if p.exists():
        mode = stat.S_IMODE(p.stat().st_mode)
        if mode & 0o077:
            creds.warnings.append(f"{p} est lisible par d'autres comptes (droits {mode:o}) : "
                                  f"faites « chmod 600 {p} ».")
        try:
            data = tomllib.loads(p.read_text(encoding="utf-8"))
        except (tomllib.TOMLDecodeError, UnicodeDecodeError) as e:
            # the parser's message may quote the offending line, which may hold a secret
            raise CollectError(f"Fichier d'identifiants {p} illisible (TOML invalide, {type(e).__name__}).") from None
        for section, body in data.items():
            if isinstance(body, dict):
                for name, value in body.items():
                    if isinstance(value, str | int) and str(value).strip():
                        creds.values[(section, name)] = str(value).strip()
    for (section, name), var in ENV.items():
        v = env.get(var, "").strip()
        if v:
            creds.values[(section, name)] = v
    return creds
