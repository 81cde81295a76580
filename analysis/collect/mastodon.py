"""Mastodon connector (any instance): account, statuses, replies from the status context, hashtag
timelines, followers.

Public data needs no token: ``/api/v1/accounts/lookup``, ``/api/v1/accounts/:id/statuses``,
``/api/v1/statuses/:id/context`` and ``/api/v1/timelines/tag/:tag`` answer anonymous requests on
most instances. An optional ``[mastodon] token`` is sent as a Bearer token to the instance it was
created on (``[mastodon] instance``, else the instances of our own registry accounts, or any root
given with ``--api``): never to the other instances, which would otherwise receive our secret.
Some instances require it for timelines (HTTP 401/422, said in French).

Each source is read from ``https://<instance>`` (the instance of its key), or from ``--api`` for
every instance. Mastodon allows 300 requests per 5 minutes per IP (per token when one is sent)
and 300 *paged* requests per 15 minutes; it says what is left in ``X-RateLimit-Remaining`` and
when the window reopens in ``X-RateLimit-Reset``: at 0 the connector waits for the reset when it
is near (:data:`~analysis.collect.http.MAX_WAIT`), else it stops the source as ``partial`` and the
next run resumes from the stored point.

Incremental like Bluesky: the account's statuses are paged (``Link: …max_id``) from the newest
down to the newest stored minus :data:`~analysis.collect.base.REFRESH_WINDOW`, a resume point is
stored after every page, and the context of a status is re-read only when its ``replies_count``
changed since the last run (``replies_count`` counts direct replies: a reply to a citizen's
reply is seen when the thread is next re-read).
"""

from __future__ import annotations

import time
from collections.abc import Callable, Iterator
from dataclasses import dataclass
from datetime import datetime
from typing import Any
from urllib.parse import parse_qs, quote, urlparse

import httpx
import pandas as pd

from analysis.collect.base import REFRESH_WINDOW, Batch, Source, StoreView
from analysis.collect.http import MAX_WAIT, ApiClient, AuthError, CollectError, NotFound, RateLimited, redact
from analysis.config import LOCAL_TZ
from analysis.ingest.base import Context
from analysis.ingest.mastodon import Mapper, _utc, full_acct, host, status_id

PLATFORM = "mastodon"
DEFAULT_API = "https://{instance}"  # the instance of each source's key
PAGE = 40  # the largest page the statuses and timelines endpoints give
CONTEXTS_PER_BATCH = 25
DESCENDANTS_LIMIT = 60  # what a context shows without a token (4 096 with one)
TOKEN_HINT = ("vérifiez [mastodon] token dans ~/.config/vigie/credentials.toml (jeton d'une application créée "
              "dans Préférences › Développement de votre instance, portée « read »)")


def client(api: str | None, credentials: Any, sleep: Callable[[float], None]) -> ApiClient:
    return ApiClient(api or DEFAULT_API, "Mastodon", sleep=sleep, credentials=credentials, token_hint=TOKEN_HINT)


def batches(source: Source, client: ApiClient, cursor: dict | None, since: datetime, ctx: Context,
            known: StoreView) -> Iterator[Batch]:
    if source.kind == "account":
        user, instance = parse_account_key(source.key)
        yield from _account(source, _Api.open(client, instance, ctx), user, cursor or {}, since, ctx, known)
    elif source.kind == "hashtag":
        tag, instance = parse_tag_key(source.key)
        yield from _hashtag(source, _Api.open(client, instance, ctx), tag, cursor or {}, since, ctx)
    else:
        raise CollectError(f"Mastodon : type de source inconnu « {source.kind} » (account ou hashtag).")


# ------------------------------------------------------------------------------------ keys
def _instance(text: str) -> str:
    text = text.strip().lower()
    return (host(text) if "://" in text else text.split("/", 1)[0]) or ""


def parse_account_key(key: str) -> tuple[str, str]:
    """``(user, instance)`` of ``@user@instance``, ``user@instance`` or ``https://instance/@user``."""
    k = key.strip()
    if k.startswith(("http://", "https://")):
        parts = urlparse(k)
        user = parts.path.strip("/").split("/")[0].lstrip("@")
        inst = (parts.hostname or "").lower()
    else:
        user, _, inst = k.lstrip("@").partition("@")
        inst = _instance(inst)
    if not user or not inst or "@" in inst or "." not in inst:
        raise CollectError(f"Mastodon : adresse de compte « {key} » invalide — attendu @utilisateur@instance "
                           "(par ex. @ville@mastodon.social).")
    return user, inst


def parse_tag_key(key: str) -> tuple[str, str]:
    """``(tag, instance)`` of ``#tag@instance``."""
    tag, _, inst = key.strip().lstrip("#").rpartition("@")
    inst = _instance(inst)
    if not tag or not inst or "." not in inst:
        raise CollectError(f"Mastodon : hashtag « {key} » invalide — attendu #tag@instance "
                           "(par ex. #SaintAubin@mastodon.social : le fil du hashtag sur cette instance).")
    return tag, inst


# ------------------------------------------------------------------------------------ HTTP
def token_for(client: ApiClient, instance: str, ctx: Context) -> str | None:
    """The token to send to ``instance``, if any: only to the instance it belongs to."""
    creds = client.credentials
    token = creds.get("mastodon", "token") if creds is not None else None
    if not token:
        return None
    if "{instance}" not in client.base_url:  # --api: the one endpoint the user chose
        return token
    scope = creds.get("mastodon", "instance")
    if scope:
        allowed = {_instance(scope)}
    else:
        allowed = {a.handle.rsplit("@", 1)[1].lower() for t in (ctx.registry.own() if ctx.registry else [])
                   for a in t.accounts if a.platform == PLATFORM and a.handle and a.handle.count("@") >= 1}
    return token if instance in allowed else None


def _reset_wait(value: str | None) -> float | None:
    """Seconds until ``X-RateLimit-Reset`` (an ISO 8601 time), None if absent or unreadable."""
    when = _utc(value)
    if when is None:
        return None
    return max(0.0, (when - pd.Timestamp.now(tz="UTC").tz_localize(None)).total_seconds())


def _error_hook(instance: str, has_token: bool) -> Callable[[httpx.Response], Exception | float | None]:
    def hook(r: httpx.Response) -> Exception | float | None:
        if r.status_code == 429 and "retry-after" not in r.headers:
            # Mastodon's 429 carries no Retry-After, only when its window reopens
            w = _reset_wait(r.headers.get("x-ratelimit-reset"))
            return 60.0 if w is None else max(1.0, w)
        try:
            message = str((r.json() or {}).get("error") or "")
        except (ValueError, AttributeError):
            message = ""
        what = redact(r.request.url.path)
        if r.status_code in (401, 403) or (r.status_code == 422 and "authenticated" in message.lower()):
            if has_token:
                return AuthError(f"Mastodon ({instance}) : jeton refusé (HTTP {r.status_code}) pour {what} — "
                                 f"invalide, expiré, révoqué ou sans la portée « read » ; {TOKEN_HINT}. "
                                 f"Détail : {redact(message) or 'aucun'}")
            refused = " (ou refuse les lectures depuis cette adresse)" if r.status_code == 403 else ""
            return AuthError(f"Mastodon ({instance}) : cette instance exige un jeton{refused} pour lire {what} "
                             f"(HTTP {r.status_code}). Créez une application dans Préférences › Développement "
                             "(portée « read ») et ajoutez token = \"…\" (et instance = \"" + instance + "\") dans "
                             "la section [mastodon] de ~/.config/vigie/credentials.toml, ou la variable "
                             f"VIGIE_MASTODON_TOKEN. Détail : {redact(message) or 'aucun'}")
        if r.status_code == 410:
            return NotFound(f"Mastodon ({instance}) : {what} n'existe plus (HTTP 410, compte suspendu ou supprimé).")
        return None
    return hook


@dataclass
class _Api:
    """One instance's API through the shared client, paced by Mastodon's rate-limit headers."""

    client: ApiClient
    instance: str
    token: bool = False
    reopens_at: float | None = None  # epoch seconds when the spent window reopens

    @classmethod
    def open(cls, client: ApiClient, instance: str, ctx: Context) -> _Api:
        token = token_for(client, instance, ctx)
        client.base_url = client.base_url.replace("{instance}", instance)
        if token:
            client.http.headers["Authorization"] = f"Bearer {token}"
        client.error_hook = _error_hook(instance, bool(token))
        return cls(client, instance, bool(token))

    def get(self, path: str, params: dict[str, Any] | None = None, *, accept_404: bool = False) -> tuple[Any, httpx.Response]:
        """Decoded JSON (None for an accepted 404) and the response (its headers)."""
        self._pace()
        r = self.client.get(path, params, accept_404=accept_404)
        if r.headers.get("x-ratelimit-remaining", "").strip() in ("0", "0.0"):
            w = _reset_wait(r.headers.get("x-ratelimit-reset"))
            self.reopens_at = time.time() + (60.0 if w is None else w)
        if r.status_code == 404:
            return None, r
        try:
            return r.json(), r
        except ValueError:
            raise CollectError(f"Mastodon ({self.instance}) : réponse illisible (pas du JSON) pour "
                               f"{redact(str(r.request.url))[:200]}") from None

    def _pace(self) -> None:
        """Before a request: wait for the window to reopen when the last answer said it was spent."""
        if self.reopens_at is None:
            return
        w, self.reopens_at = self.reopens_at - time.time(), None
        if w > MAX_WAIT:
            raise RateLimited(f"Mastodon ({self.instance}) : limite de requêtes atteinte (300 par 5 minutes, "
                              f"300 pages par 15 minutes) ; elle se rouvre dans {int(w)} s. La prochaine collecte "
                              "reprendra au même point.")
        if w > 0:
            self.client.sleep(w)
            self.client.waited += w


def _next_max_id(r: httpx.Response) -> str | None:
    """``max_id`` of the ``Link: <…>; rel="next"`` header (the page after this one), if any."""
    url = (r.links.get("next") or {}).get("url")
    if not url:
        return None
    values = parse_qs(urlparse(url).query).get("max_id")
    return values[0] if values else None


def _pages(api: _Api, path: str, *, start: str | None, until: datetime) -> Iterator[tuple[list[dict], str | None]]:
    """Pages of statuses from ``start`` (``max_id``, None: the newest) down to ``until``: each page
    with the ``max_id`` of the next one, None for the last page of the pass."""
    max_id = start
    while True:
        body, r = api.get(path, {"limit": PAGE, "max_id": max_id})
        statuses = [s for s in body or [] if isinstance(s, dict)] if isinstance(body, list) else []
        dated = [d for d in (_utc(s.get("created_at")) for s in statuses) if d is not None]
        nxt = _next_max_id(r)
        done = not nxt or not statuses or bool(dated and min(dated) < until)
        yield statuses, None if done else nxt
        if done:
            return
        max_id = nxt


def _today() -> Any:
    return pd.Timestamp.now(tz=LOCAL_TZ).date()


def _iso(ts: datetime | None) -> str | None:
    return None if ts is None else pd.Timestamp(ts).isoformat()


def _newest(statuses: list[dict], newest: datetime | None) -> datetime | None:
    dated = [d for d in (_utc(s.get("created_at")) for s in statuses if not s.get("reblog")) if d is not None]
    return max([*dated, *([newest] if newest is not None else [])], default=None)


# ------------------------------------------------------------------------------------ store reads
# What StoreView does not say about messages; read with its connection, never written.
def _stored_messages(known: StoreView, ids: list[str]) -> dict[str, tuple[int | None, str | None]]:
    """``(replies, parent_id)`` of stored messages."""
    if not ids:
        return {}
    rows = known.con.execute("SELECT message_id, replies, parent_id FROM messages WHERE message_id IN "
                             "(SELECT unnest(?))", [ids]).fetchall()
    return {r[0]: (r[1], r[2]) for r in rows}


def _stored_children(known: StoreView, parent_ids: list[str]) -> set[str]:
    """Stored messages (not known deleted) that answer one of ``parent_ids``."""
    if not parent_ids:
        return set()
    rows = known.con.execute("SELECT message_id FROM messages WHERE parent_id IN (SELECT unnest(?)) "
                             "AND deleted_at IS NULL", [parent_ids]).fetchall()
    return {r[0] for r in rows}


def _stored_official(known: StoreView, prefix: str, since: datetime) -> set[str]:
    """The account's own replies stored (ids starting with its statuses' address) since ``since``."""
    rows = known.con.execute("SELECT message_id FROM messages WHERE is_official AND deleted_at IS NULL "
                             "AND created_at >= ? AND starts_with(message_id, ?)", [since, prefix]).fetchall()
    return {r[0] for r in rows}


def _changed(now: int | None, stored: int | None) -> bool:
    """Whether a thread must be re-read: its reply count moved (and it has or had replies)."""
    return now is not None and now != stored and bool(now or stored)


# ------------------------------------------------------------------------------------ account
def _account(source: Source, api: _Api, user: str, cursor: dict, since: datetime, ctx: Context,
             known: StoreView) -> Iterator[Batch]:
    address = f"@{user}@{api.instance}"
    try:
        body, _ = api.get("api/v1/accounts/lookup", {"acct": user})
    except NotFound as e:
        raise NotFound(f"Mastodon : compte « {address} » introuvable sur {api.instance} (vérifiez l'adresse "
                       f"@utilisateur@instance ; un compte suspendu ou déménagé n'est plus lisible). Détail : {e}") from None
    if not isinstance(body, dict) or body.get("id") is None:
        raise NotFound(f"Mastodon : compte « {address} » introuvable sur {api.instance}.")
    m = Mapper(ctx, source.territory_id, api.instance)
    acc = m.account(body, _today())
    if acc is None:  # an account named on the command line, not in the registry: its statuses are posts
        acc = m.adopt(body, source.territory_id, _today())
    followers = body.get("followers_count")
    yield Batch(parsed=m.parsed(), followers=None if followers is None else int(followers))
    m.reset()

    path = f"api/v1/accounts/{quote(str(body['id']), safe='')}/statuses"
    resume = cursor.get("resume")
    top_until = since
    if resume:  # finish the pass a previous run could not complete, then read what came since
        yield from _status_pass(api, path, acc, m, known, start=resume.get("max_id"), until=_utc(resume.get("until")) or since,
                                newest=_utc(resume.get("newest")), detect_deleted=False)
        newest = _utc(resume.get("newest"))
        if newest is not None:
            top_until = max(since, newest - REFRESH_WINDOW)
    yield from _status_pass(api, path, acc, m, known, start=None, until=top_until, newest=None, detect_deleted=True)


def _status_pass(api: _Api, path: str, acc: str, m: Mapper, known: StoreView, *, start: str | None,
                 until: datetime, newest: datetime | None, detect_deleted: bool) -> Iterator[Batch]:
    """Page the account's statuses from ``start`` down to ``until``. For each page: the contexts
    of its statuses whose reply count changed (and of its replies whose parent is unknown), then
    the page itself with the resume point: a run cut short re-reads the page and its threads."""
    seen_posts: set[str] = set()
    seen_replies: set[str] = set()
    prefix: str | None = None
    for statuses, nxt in _pages(api, path, start=start, until=until):
        by_uri = {}
        for s in statuses:
            uri = m.status(s)
            if uri:
                by_uri[uri] = s
                sid = str(s.get("id") or "")
                if prefix is None and sid and uri.endswith("/" + sid):
                    prefix = status_id(uri[: -len(sid)])  # where this account's statuses live
        newest = _newest(statuses, newest)
        posts = {u: row for u, row in m.posts.items() if row["account_id"] == acc and u in by_uri}
        replies = {u: row for u, row in m.messages.items() if row["is_official"] and u in by_uri}
        seen_posts |= set(posts)
        seen_replies |= set(replies)
        # read before anything of this page is written
        stored_posts = known.comment_counts([status_id(u) for u in posts])
        stored_replies = _stored_messages(known, [status_id(u) for u in replies])
        threads = [(by_uri[u], True) for u, row in posts.items()
                   if _changed(row["comments"], stored_posts.get(status_id(u)))]
        threads += [(by_uri[u], False) for u, row in replies.items()
                    if _changed(row["replies"], stored_replies.get(status_id(u), (None, None))[0])]
        unanswered = [u for u, row in replies.items()
                      if row["parent_id"] is None and stored_replies.get(status_id(u), (None, None))[1] is None]
        resume = None if nxt is None else {"max_id": nxt, "until": _iso(until), "newest": _iso(newest)}
        page = Batch(parsed=m.parsed(), cursor={"resume": resume} if resume else None)
        m.reset()
        yield from _contexts(api, m, known, threads, page)
        # the account's replies whose parent no thread read showed: their own context says what they answer
        read = {s["uri"] for s, _ in threads}
        yield from _contexts(api, m, known, [(by_uri[u], False) for u in unanswered
                                             if m.parents.get(u) is None and u not in read], page)
        yield page
    deleted_posts: list[str] = []
    deleted_replies: list[str] = []
    if detect_deleted:
        # every status of the account created since `until` was on the pages read: a stored one
        # that is no longer there was deleted by the account
        deleted_posts = sorted(known.post_ids(acc, until) - {status_id(u) for u in seen_posts})
        if prefix:
            deleted_replies = sorted(_stored_official(known, prefix, until) - {status_id(u) for u in seen_replies})
    yield Batch(parsed=m.parsed(), cursor={"resume": None}, newest_at=newest, deleted_posts=deleted_posts,
                deleted_messages=deleted_replies)
    m.reset()


def _contexts(api: _Api, m: Mapper, known: StoreView, statuses: list[tuple[dict, bool]], page: Batch) -> Iterator[Batch]:
    """Replies of these statuses (``/context``), a batch per :data:`CONTEXTS_PER_BATCH`. ``True``
    marks the account's posts. Replies stored before under a thread read whole and absent now were
    deleted by their authors. A 404 means the status itself is gone since its page was read: said
    by the page's batch, written after these (its row must exist to be marked)."""
    for i in range(0, len(statuses), CONTEXTS_PER_BATCH):
        gone: set[str] = set()
        for s, is_post in statuses[i:i + CONTEXTS_PER_BATCH]:
            uri = s["uri"]
            body, _ = api.get(f"api/v1/statuses/{quote(str(s['id']), safe='')}/context", accept_404=True)
            if not isinstance(body, dict):
                (page.deleted_posts if is_post else page.deleted_messages).append(status_id(uri))
                continue
            seen, count = m.context(body, ancestors="parent")
            if count >= DESCENDANTS_LIMIT and not api.token:
                m.notes.append(f"fil de plus de {DESCENDANTS_LIMIT} réponses : sans jeton, l'instance n'en montre que "
                               f"{DESCENDANTS_LIMIT} (les suivantes et les suppressions ne sont pas vues)")
                continue
            stored = _stored_children(known, [status_id(u) for u in {uri} | seen])
            gone |= stored - {status_id(u) for u in seen}
        m.posts.clear()  # the account's posts (and their counts) come from its pages
        yield Batch(parsed=m.parsed(), deleted_messages=sorted(gone))
        m.reset()


# ------------------------------------------------------------------------------------ hashtag
def _hashtag(source: Source, api: _Api, tag: str, cursor: dict, since: datetime, ctx: Context) -> Iterator[Batch]:
    """The tag's timeline on one instance (its own and the remote statuses it knows): mentions of
    the territory, replies to official statuses, official posts carrying the tag."""
    m = Mapper(ctx, source.territory_id, api.instance)
    path = f"api/v1/timelines/tag/{quote(tag, safe='')}"
    resume = cursor.get("resume")
    top_until = since
    if resume:
        yield from _tag_pass(api, path, m, start=resume.get("max_id"), until=_utc(resume.get("until")) or since,
                             newest=_utc(resume.get("newest")))
        newest = _utc(resume.get("newest"))
        if newest is not None:
            top_until = max(since, newest - REFRESH_WINDOW)
    yield from _tag_pass(api, path, m, start=None, until=top_until, newest=None)


def _tag_pass(api: _Api, path: str, m: Mapper, *, start: str | None, until: datetime,
              newest: datetime | None) -> Iterator[Batch]:
    for statuses, nxt in _pages(api, path, start=start, until=until):
        for s in statuses:
            m.status(s)
        newest = _newest(statuses, newest)
        resume = None if nxt is None else {"max_id": nxt, "until": _iso(until), "newest": _iso(newest)}
        yield Batch(parsed=m.parsed(), cursor={"resume": resume} if resume else None)
        m.reset()
    yield Batch(parsed=m.parsed(), cursor={"resume": None}, newest_at=newest)
    m.reset()


__all__ = ["PLATFORM", "DEFAULT_API", "client", "batches", "parse_account_key", "parse_tag_key", "token_for",
           "full_acct"]
