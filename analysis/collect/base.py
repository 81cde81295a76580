"""Shared vocabulary of the connectors: what to collect, what a connector yields, what a run says.

A connector is a small module (``analysis/collect/<platform>.py``) that *fetches*: it pages an
API through :class:`analysis.collect.http.ApiClient` and hands each page of responses to the
mapping functions of its importer (``analysis/ingest/<platform>_api.py``), which turn the API's
JSON into canonical rows — the very code that reads saved responses with ``vigie import``. The
runner (:mod:`analysis.collect.runner`) writes every :class:`Batch` in one transaction, with the
source's cursor, through the importers' write path.
"""

from __future__ import annotations

import json
from collections.abc import Callable, Iterator
from dataclasses import asdict, dataclass, field
from datetime import datetime, timedelta
from typing import Any, Protocol

import duckdb

from analysis.collect.http import ApiClient
from analysis.ingest.base import Context, Parsed

# A later run re-reads this much of the recent past: the counts of recent posts (likes,
# replies, reposts) still move, and a reply to an older post shows up in its thread.
REFRESH_WINDOW = timedelta(days=7)
# How far back the first run of a source goes without --since.
FIRST_RUN_HORIZON = timedelta(days=90)


@dataclass(frozen=True)
class Source:
    """One thing to collect: an account, a hashtag, a search, a feed.

    ``key`` is what the user declared (handle, ``@user@instance``, channel id, tag, URL);
    ``territory_id``/``role`` come from the registry (``role``: own or peer; None for a source
    given on the command line that matches no registry account).
    """

    platform: str
    kind: str  # account | hashtag | search | feed | discovery
    key: str
    territory_id: str | None = None
    role: str | None = None
    terms: tuple[str, ...] = ()  # names and keywords an item must contain (feeds, firehose)
    options: tuple[tuple[str, str], ...] = ()  # connector-specific (e.g. ("instance", "…"))

    @property
    def source_id(self) -> str:
        return f"{self.platform}:{self.kind}:{self.key}"

    def option(self, name: str, default: str | None = None) -> str | None:
        return dict(self.options).get(name, default)


@dataclass
class Batch:
    """What one step of a connector hands to the runner (written in one transaction).

    ``cursor`` replaces the stored cursor when not None; ``deleted_*`` are canonical ids found
    deleted at the source; ``followers`` is the count read (also present as an
    ``audience_followers`` row in ``parsed``).
    """

    parsed: Parsed
    cursor: dict | None = None
    newest_at: datetime | None = None
    deleted_posts: list[str] = field(default_factory=list)
    deleted_messages: list[str] = field(default_factory=list)
    followers: int | None = None
    quota_units: int = 0


@dataclass
class SourceResult:
    """The outcome of one source in one run; ``as_json`` is the documented ``--json`` shape."""

    platform: str
    account: str
    source_id: str = ""
    posts: int = 0
    messages: int = 0
    followers: int | None = None
    inserted: int = 0
    updated: int = 0
    deleted: int = 0
    edited: int = 0
    rejected: int = 0
    requests: int = 0
    quota_units: int | None = None
    status: str = "ok"  # ok | partial | error
    error: str | None = None
    notes: list[str] = field(default_factory=list)
    seconds: float = 0.0
    seen: dict[str, set] = field(default_factory=dict, repr=False)  # ids received, by table

    def as_json(self) -> dict:
        d = asdict(self)
        keys = ("platform", "account", "posts", "messages", "followers", "inserted", "updated",
                "status", "error", "deleted", "edited", "rejected", "requests", "quota_units", "notes")
        return {k: d[k] for k in keys}


class StoreView:
    """What a connector may read of the store: ids and counts of items already collected."""

    def __init__(self, con: duckdb.DuckDBPyConnection) -> None:
        self.con = con

    def post_ids(self, account_id: str, since: datetime) -> set[str]:
        """Ids of the account's posts created since ``since`` and not known deleted."""
        rows = self.con.execute(
            "SELECT post_id FROM posts WHERE account_id = ? AND created_at >= ? AND deleted_at IS NULL",
            [account_id, since]).fetchall()
        return {r[0] for r in rows}

    def comment_counts(self, post_ids: list[str]) -> dict[str, int | None]:
        """Stored ``comments`` count of each post (to skip threads whose reply count is unchanged)."""
        if not post_ids:
            return {}
        rows = self.con.execute("SELECT post_id, comments FROM posts WHERE post_id IN (SELECT unnest(?))",
                                [post_ids]).fetchall()
        return {r[0]: r[1] for r in rows}

    def message_ids(self, post_ids: list[str]) -> set[str]:
        """Ids of the messages stored under these posts (not known deleted)."""
        if not post_ids:
            return set()
        rows = self.con.execute("SELECT message_id FROM messages WHERE post_id IN (SELECT unnest(?)) "
                                "AND deleted_at IS NULL", [post_ids]).fetchall()
        return {r[0] for r in rows}


class Connector(Protocol):
    """What the runner needs of a connector module."""

    PLATFORM: str
    DEFAULT_API: str

    def client(self, api: str | None, credentials: Any, sleep: Callable[[float], None]) -> ApiClient: ...

    def batches(self, source: Source, client: ApiClient, cursor: dict | None, since: datetime,
                ctx: Context, known: StoreView) -> Iterator[Batch]: ...


def dump_cursor(cursor: dict | None) -> str | None:
    return None if cursor is None else json.dumps(cursor, sort_keys=True, default=str)


def load_cursor(text: str | None) -> dict | None:
    if not text:
        return None
    try:
        v = json.loads(text)
    except ValueError:
        return None
    return v if isinstance(v, dict) else None
