"""Bluesky connector: profile, author feed, reply threads and searches of the AppView (XRPC).

Reading an account needs no login (``public.api.bsky.app``). ``searchPosts`` needs an app
password (Bluesky asks that searches not be used anonymously for monitoring): the connector
logs in with ``com.atproto.server.createSession`` on ``bsky.social`` and searches there. For
continuous watching of mentions, prefer ``vigie collect --follow`` (Jetstream).

Incremental: each run reads the author feed from the newest post down to the newest post
already stored minus :data:`~analysis.collect.base.REFRESH_WINDOW` (their counts still move),
re-reads only the threads whose reply count changed, and saves a resume point after every page,
so a run cut short (a crash, a limit) is finished by the next one.
"""

from __future__ import annotations

from collections.abc import Callable, Iterator
from datetime import datetime
from typing import Any

import pandas as pd

from analysis.collect.base import REFRESH_WINDOW, Batch, Source, StoreView
from analysis.collect.http import ApiClient, AuthError, CollectError, NotFound
from analysis.config import LOCAL_TZ
from analysis.ingest.base import Context
from analysis.ingest.bluesky import Mapper, _utc, post_id
from analysis.ingest.generic import account_row

PLATFORM = "bluesky"
DEFAULT_API = "https://public.api.bsky.app"
LOGIN_API = "https://bsky.social"  # searches go through the user's PDS, which proxies the AppView
PAGE = 100
THREAD_DEPTH = 100
THREADS_PER_BATCH = 25


def client(api: str | None, credentials: Any, sleep: Callable[[float], None]) -> ApiClient:
    return ApiClient(api or DEFAULT_API, "Bluesky", sleep=sleep, credentials=credentials,
                     token_hint="vérifiez [bluesky] handle et app_password (mot de passe d'application créé "
                                "dans Paramètres › Confidentialité et sécurité › Mots de passe d'application)")


def batches(source: Source, client: ApiClient, cursor: dict | None, since: datetime, ctx: Context,
            known: StoreView) -> Iterator[Batch]:
    if source.kind == "account":
        yield from _account(source, client, cursor or {}, since, ctx, known)
    elif source.kind == "search":
        yield from _search(source, client, since, ctx)
    else:
        raise CollectError(f"Bluesky : type de source inconnu « {source.kind} » (account ou search).")


def _today() -> Any:
    return pd.Timestamp.now(tz=LOCAL_TZ).date()


def _iso(ts: datetime | None) -> str | None:
    return None if ts is None else pd.Timestamp(ts).isoformat()


# ------------------------------------------------------------------------------------ account
def _account(source: Source, client: ApiClient, cursor: dict, since: datetime, ctx: Context,
             known: StoreView) -> Iterator[Batch]:
    actor = source.key.strip().lstrip("@")
    try:
        prof = client.get_json("xrpc/app.bsky.actor.getProfile", {"actor": actor})
    except (NotFound, CollectError) as e:
        if isinstance(e, AuthError):
            raise
        if isinstance(e, NotFound) or "not found" in str(e).lower() or "(HTTP 400)" in str(e):
            raise NotFound(f"Bluesky : compte « {actor} » introuvable (vérifiez l'identifiant, "
                           f"par ex. ville.bsky.social). Détail : {e}") from None
        raise
    m = Mapper(ctx, source.territory_id)
    acc = m.profile(prof, _today())
    if acc is None:  # a handle given on the command line, not in the registry: its posts are posts
        acc = f"{PLATFORM}:{prof.get('handle') or prof['did']}"
        m.officials[prof["did"]] = (acc, source.territory_id)
        m.accounts[prof["did"]] = account_row(acc, PLATFORM, prof["did"], prof.get("handle"), prof.get("displayName"))
        if prof.get("followersCount") is not None:
            m.followers.append({"account_id": acc, "date": _today(), "followers": int(prof["followersCount"])})
    followers = prof.get("followersCount")
    yield Batch(parsed=m.parsed(), followers=None if followers is None else int(followers))
    m.reset()

    resume = cursor.get("resume")
    top_until = since
    if resume:  # finish the pass a previous run could not complete, then read what came since
        yield from _feed_pass(actor, acc, client, m, known, start=resume.get("cursor"),
                              until=_utc(resume["until"]), newest=_utc(resume.get("newest")), detect_deleted=False)
        newest = _utc(resume.get("newest"))
        if newest is not None:
            top_until = max(since, newest - REFRESH_WINDOW)
    yield from _feed_pass(actor, acc, client, m, known, start=None, until=top_until, newest=None,
                          detect_deleted=True)


def _feed_pass(actor: str, acc: str, client: ApiClient, m: Mapper, known: StoreView, *, start: str | None,
               until: datetime, newest: datetime | None, detect_deleted: bool) -> Iterator[Batch]:
    """Page ``getAuthorFeed`` from ``start`` down to ``until``: one batch per page (posts and the
    account's replies), then the threads whose reply count changed; the resume point after each."""
    page_cursor = start
    seen: set[str] = set()
    while True:
        body = client.get_json("xrpc/app.bsky.feed.getAuthorFeed",
                               {"actor": actor, "limit": PAGE, "cursor": page_cursor, "filter": "posts_with_replies"})
        feed = [i for i in (body or {}).get("feed") or [] if isinstance(i, dict)]
        for item in feed:
            m.feed_item(item)
        own_posts = {uri: row for uri, row in m.posts.items() if row["account_id"] == acc}
        seen |= set(own_posts) | {u for u, r in m.messages.items() if r["is_official"]}
        dated = [_utc((i.get("post") or {}).get("record", {}).get("createdAt")) for i in feed
                 if not str((i.get("reason") or {}).get("$type", "")).endswith("#reasonPin")]
        dated = [d for d in dated if d is not None]
        page_newest = max(dated, default=None)
        if page_newest is not None and (newest is None or page_newest > newest):
            newest = page_newest
        # threads to re-read: reply count changed since the last run (read before this page is written)
        stored = known.comment_counts([post_id(u) for u in own_posts])
        threads = [u for u, row in own_posts.items()
                   if (row.get("comments") or 0) > 0 and stored.get(post_id(u), -1) != row.get("comments")]
        next_cursor = (body or {}).get("cursor")
        done = not next_cursor or not feed or (dated and min(dated) < until)
        resume = None if done else {"cursor": next_cursor, "until": _iso(until), "newest": _iso(newest)}
        yield Batch(parsed=m.parsed(), cursor={"resume": resume} if resume else None)
        m.reset()
        yield from _threads(threads, client, m, known)
        if done:
            break
        page_cursor = next_cursor
    deleted: list[str] = []
    if detect_deleted:
        # every post of the account created since `until` was on the pages read: a stored one
        # that is no longer there was deleted by the account
        deleted = sorted(known.post_ids(acc, until) - {post_id(u) for u in seen})
    yield Batch(parsed=m.parsed(), cursor={"resume": None}, newest_at=newest, deleted_posts=deleted)
    m.reset()


def _threads(uris: list[str], client: ApiClient, m: Mapper, known: StoreView) -> Iterator[Batch]:
    """Replies of these posts (``getPostThread``), a batch per :data:`THREADS_PER_BATCH` threads;
    replies stored before and absent now were deleted by their authors."""
    for i in range(0, len(uris), THREADS_PER_BATCH):
        chunk = uris[i:i + THREADS_PER_BATCH]
        seen: set[str] = set()
        gone: set[str] = set()
        complete: list[str] = []
        for uri in chunk:
            body = client.get_json("xrpc/app.bsky.feed.getPostThread",
                                   {"uri": uri, "depth": THREAD_DEPTH, "parentHeight": 0}, accept_404=True)
            if body is None or not isinstance(body.get("thread"), dict):
                continue  # the post itself is gone: the next feed pass says so
            s, g = m.thread(body["thread"])
            m.posts.pop(uri, None)  # the root's counts come from the feed page, read just before
            seen |= s
            gone |= g
            complete.append(post_id(uri))
        stored = known.message_ids(complete)
        deleted = sorted((stored - {post_id(u) for u in seen}) | ({post_id(u) for u in gone} & stored))
        yield Batch(parsed=m.parsed(), deleted_messages=deleted)
        m.reset()


# ------------------------------------------------------------------------------------ search
# Access tokens of this process, by (server, handle): createSession is limited to 30 calls per
# 5 minutes and 300 per day per account, so one `vigie collect` logs in once for all its searches
# (96 runs a day stay under the daily limit). Never written anywhere.
_SESSIONS: dict[tuple[str, str], str] = {}


def _login(client: ApiClient) -> None:
    creds = client.credentials
    handle = creds.require("bluesky", "handle", "Recherche Bluesky") if creds else None
    password = creds.require("bluesky", "app_password", "Recherche Bluesky") if creds else None
    if not handle or not password:
        raise AuthError("Recherche Bluesky : identifiants manquants ([bluesky] handle et app_password).")
    if client.base_url == DEFAULT_API:
        client.base_url = LOGIN_API
    jwt = _SESSIONS.get((client.base_url, handle))
    if jwt is None:
        session = client.post_json("xrpc/com.atproto.server.createSession",
                                   {"identifier": handle, "password": password})
        jwt = (session or {}).get("accessJwt")
        if not jwt:
            raise AuthError("Bluesky : la connexion n'a pas renvoyé de jeton (mot de passe d'application refusé ?).")
        _SESSIONS[(client.base_url, handle)] = jwt
    client.http.headers["Authorization"] = f"Bearer {jwt}"


def _search(source: Source, client: ApiClient, since: datetime, ctx: Context) -> Iterator[Batch]:
    _login(client)
    m = Mapper(ctx, source.territory_id)
    page_cursor = None
    newest = None
    while True:
        body = client.get_json("xrpc/app.bsky.feed.searchPosts",
                               {"q": source.key, "sort": "latest", "since": pd.Timestamp(since).strftime("%Y-%m-%dT%H:%M:%SZ"),
                                "limit": PAGE, "cursor": page_cursor}) or {}
        posts = [p for p in body.get("posts") or [] if isinstance(p, dict)]
        for p in posts:
            m.view(p)
        dated = [d for d in (_utc((p.get("record") or {}).get("createdAt")) for p in posts) if d is not None]
        if dated and (newest is None or max(dated) > newest):
            newest = max(dated)
        page_cursor = body.get("cursor")
        done = not page_cursor or not posts or (dated and min(dated) < since)
        yield Batch(parsed=m.parsed(), newest_at=newest if done else None)
        m.reset()
        if done:
            break
