"""Local press and alerts: RSS/Atom feeds declared per territory (``[territory.watch] feeds``).

A feed is addressed by its own URL. ``--api URL`` (a relay, a local replay server) reads the
feed ``https://host/path`` at ``URL/host/path`` instead; a feed already under ``URL`` is read as is.
Each run is one conditional GET, as feed readers are expected to do: the ``ETag`` and
``Last-Modified`` of the last answer are kept in the source's cursor and sent back
(``If-None-Match``, ``If-Modified-Since``); a ``304 Not Modified`` stores nothing and is no error.
429 (with ``Retry-After``), 5xx and timeouts are retried by :class:`~analysis.collect.http.ApiClient`.

What is kept of a feed, and how, is decided by the mapping shared with ``vigie import``
(:mod:`analysis.ingest.rss`): the items naming the territory become press articles.
A feed is a window on the latest items, not an archive: an item that leaves it is not deleted.
"""

from __future__ import annotations

from collections.abc import Callable, Iterator
from datetime import datetime
from typing import Any
from urllib.parse import parse_qsl, urlsplit, urlunsplit

import httpx

from analysis.collect.base import Batch, Source, StoreView
from analysis.collect.http import ApiClient, CollectError, NotFound, now_utc, redact
from analysis.ingest.base import Context
from analysis.ingest.rss import NotAFeed, feed_rows, outlet_host, parse_feed, read_items

PLATFORM = "press"
DEFAULT_API = ""  # each feed is its own address
LABEL = "Presse locale"
ACCEPT = ("application/rss+xml, application/atom+xml, application/rdf+xml;q=0.9, application/xml;q=0.8, "
          "text/xml;q=0.8, */*;q=0.5")
MAX_BYTES = 20 * 1024 * 1024  # a feed is a few hundred kilobytes; more is not a feed


def client(api: str | None, credentials: Any, sleep: Callable[[float], None]) -> ApiClient:
    """The HTTP client of feeds (with ``api``, feeds are read through that root: see the module)."""
    return ApiClient(api or DEFAULT_API, LABEL, headers={"Accept": ACCEPT}, sleep=sleep, credentials=credentials,
                     error_hook=_error_hook,
                     token_hint="ce flux demande une connexion : Vigie ne lit que les flux publics")


def _error_hook(r: httpx.Response) -> Exception | float | None:
    """A feed that is gone says so plainly (the default message quotes the error page's HTML)."""
    if r.status_code in (404, 410):
        gone = "n'existe plus (HTTP 410)" if r.status_code == 410 else "est introuvable (HTTP 404)"
        return NotFound(f"{LABEL} : le flux {redact(str(r.request.url))[:200]} {gone}. Vérifiez son adresse sur le "
                        "site du journal et dans [territory.watch] feeds du registre des territoires.")
    return None


def batches(source: Source, client: ApiClient, cursor: dict | None, since: datetime, ctx: Context,
            known: StoreView) -> Iterator[Batch]:
    if source.kind != "feed":
        raise CollectError(f"{LABEL} : type de source inconnu « {source.kind} » (feed).")
    url = source.key.strip()
    if not url.lower().startswith(("http://", "https://")):
        raise CollectError(f"{LABEL} : « {url} » n'est pas une adresse de flux (http:// ou https://…).")
    cursor = cursor or {}
    conditional = {}
    if cursor.get("url") == url:  # validators belong to the address that gave them
        if cursor.get("etag"):
            conditional["If-None-Match"] = cursor["etag"]
        if cursor.get("last_modified"):
            conditional["If-Modified-Since"] = cursor["last_modified"]
    fetched_at = now_utc()
    # The feed's own query string (« ?format=feed&type=rss » of many town sites) goes as parameters:
    # httpx drops the query of a URL given with params, and ApiClient always gives some.
    parts = urlsplit(url)
    address = urlunsplit((parts.scheme, parts.netloc, parts.path, "", ""))
    if client.base_url and not address.startswith(client.base_url + "/"):
        address = f"{client.base_url}/{parts.netloc}{parts.path}"  # --api: a relay or a replay server
    params = dict(parse_qsl(parts.query, keep_blank_values=True))
    client.http.headers.update(conditional)
    try:
        r = client.get(address, params)
    finally:
        for k in conditional:
            client.http.headers.pop(k, None)
    if r.status_code == 304:  # unchanged since the last run: nothing to read, nothing to store
        return
    data = r.content
    if len(data) > MAX_BYTES:
        raise CollectError(f"{LABEL} : {url} renvoie {len(data) // 1_000_000} Mo, ce n'est pas un flux "
                           "d'actualités ; vérifiez l'adresse.")
    try:
        d = parse_feed(data, where=url, content_type=r.headers.get("content-type"))
    except NotAFeed as e:
        raise CollectError(f"{LABEL} : {e}") from None
    host = outlet_host(d, str(r.url))
    items = read_items(d, host)
    stored = _stored(known, [i.message_id for i in items if i.created_at is None])
    rows = feed_rows(d, items, ctx, host=host, fetched_at=fetched_at, territory_id=source.territory_id,
                     terms=source.terms, since=since, stored=stored, fmt="rss_feed")
    moved = [h for h in r.history if h.status_code in (301, 308)]
    if moved:
        rows.parsed.notes.append(f"le flux a déménagé définitivement vers {r.url} : mettez à jour son adresse "
                                 "dans [territory.watch] feeds")
    yield Batch(parsed=rows.parsed, newest_at=rows.newest,
                cursor={"url": url, "etag": r.headers.get("etag"), "last_modified": r.headers.get("last-modified")})


def _stored(known: StoreView, ids: list[str]) -> set[str]:
    """Which of these message ids the store already holds (an undated article keeps its first date)."""
    if not ids:
        return set()
    rows = known.con.execute("SELECT message_id FROM messages WHERE message_id IN (SELECT unnest(?))",
                             [ids]).fetchall()
    return {r[0] for r in rows}
