"""YouTube connector (Data API v3): channel statistics, uploads, video statistics, comment threads.

Reading public channels needs an **API key** (a free Google Cloud project with « YouTube Data
API v3 » enabled), sent as the ``key`` query parameter and masked in every message. Requests
made, per run of one channel:

- ``channels.list`` (id or ``forHandle``): subscribers and the uploads playlist;
- ``playlistItems.list`` of the uploads playlist, 50 a page, newest first, down to the ``since``
  the runner gives (the newest video stored minus a week, or ``--since``);
- ``videos.list`` of each page's ids (50 per request): views, likes, comment counts;
- ``commentThreads.list`` (100 a page) of the videos whose comment count changed since the last
  run, and ``comments.list`` for the threads holding more replies than the five included.

Never ``search.list`` (100 units a call in the shared quota, or its own 100-call bucket): every
request above costs **1 unit** of the key's daily quota (10 000 by default), counted in each
batch (``Batch.quota_units``, shown by ``vigie collect status``). Google counts a request that
fails too, so retries are counted.

Incremental and resumable like the Bluesky connector: a resume point (the next page token) is
saved with every page of videos, which is written only after the comments of its videos, so a
run cut short leaves no video whose comments are half-read.
"""

from __future__ import annotations

import re
from collections.abc import Callable, Iterator
from datetime import datetime
from typing import Any

import httpx
import pandas as pd

from analysis.collect.base import REFRESH_WINDOW, Batch, Source, StoreView
from analysis.collect.http import (
    ApiClient,
    AuthError,
    CollectError,
    NotFound,
    QuotaExceeded,
    retry_after,
)
from analysis.config import LOCAL_TZ
from analysis.ingest.base import Context, Parsed
from analysis.ingest.youtube_api import Mapper, _utc, message_id, post_id, uploads_playlist

PLATFORM = "youtube"
DEFAULT_API = "https://www.googleapis.com/youtube/v3"
VIDEOS_PAGE = 50  # playlistItems.list and videos.list maximum
COMMENTS_PAGE = 100  # commentThreads.list and comments.list maximum
# Quota cost of each method used (https://developers.google.com/youtube/v3/determine_quota_cost).
COST = {"channels": 1, "playlistItems": 1, "videos": 1, "commentThreads": 1, "comments": 1}
RATE_WAIT = 10.0  # seconds before retrying a rateLimitExceeded that gives no Retry-After
CHANNEL_ID = re.compile(r"^UC[A-Za-z0-9_-]{20,24}$")
KEY_HINT = ("vérifiez [youtube] api_key dans ~/.config/vigie/credentials.toml (ou la variable "
            "VIGIE_YOUTUBE_API_KEY) : une clé d'un projet Google Cloud où « YouTube Data API v3 » est activée")
QUOTA_MESSAGE = ("YouTube : le quota quotidien de la clé d'API est épuisé (10 000 unités par jour par défaut). "
                 "Il est remis à zéro à minuit, heure du Pacifique (vers 9 h à Paris) ; la prochaine collecte "
                 "reprendra au même point. Pour collecter davantage, espacez la collecte des pairs (une fois "
                 "par jour) ou demandez une extension de quota à Google (formulaire d'audit des services "
                 "d'API YouTube).")


class CommentsDisabled(CollectError):
    """The video's comments are turned off (403 ``commentsDisabled``): a note, not an error."""


class VideoGone(NotFound):
    """A video (or its comments) no longer exists (404 ``videoNotFound``)."""


class PlaylistGone(NotFound):
    """The uploads playlist does not exist (a channel that never published)."""


def reasons(r: httpx.Response) -> set[str]:
    """The ``reason`` codes of a Google API error body (``errors[]`` and ``details[]``)."""
    try:
        body = r.json()
    except ValueError:
        return set()
    err = body.get("error") if isinstance(body, dict) else None
    if not isinstance(err, dict):
        return set()
    out = {str(e.get("reason")) for e in err.get("errors") or [] if isinstance(e, dict) and e.get("reason")}
    out |= {str(d.get("reason")) for d in err.get("details") or [] if isinstance(d, dict) and d.get("reason")}
    return out


def error_hook(r: httpx.Response) -> Exception | float | None:
    """YouTube's reading of an error response (see :attr:`ApiClient.error_hook`)."""
    why = reasons(r)
    if why & {"quotaExceeded", "dailyLimitExceeded"}:
        return QuotaExceeded(QUOTA_MESSAGE)
    if why & {"rateLimitExceeded", "userRateLimitExceeded", "RATE_LIMIT_EXCEEDED"}:
        return retry_after(r.headers.get("retry-after")) or RATE_WAIT
    if why & {"keyInvalid", "API_KEY_INVALID", "keyExpired", "API_KEY_EXPIRED"}:
        return AuthError(f"YouTube : clé d'API refusée (invalide ou expirée) ; {KEY_HINT}.")
    if why & {"accessNotConfigured", "SERVICE_DISABLED"}:
        return AuthError("YouTube : l'API « YouTube Data API v3 » n'est pas activée sur le projet Google Cloud de "
                         "la clé ; activez-la dans la console Google Cloud (API et services › Bibliothèque).")
    if why & {"ipRefererBlocked", "API_KEY_HTTP_REFERRER_BLOCKED", "API_KEY_IP_ADDRESS_BLOCKED",
              "API_KEY_SERVICE_BLOCKED"}:
        return AuthError("YouTube : la clé d'API refuse cette machine ou ce service (restrictions de la clé) ; "
                         "autorisez l'adresse IP du serveur Vigie et « YouTube Data API v3 » dans la console Google Cloud.")
    if "commentsDisabled" in why:
        return CommentsDisabled("commentaires désactivés")
    if "videoNotFound" in why:
        return VideoGone("vidéo introuvable")
    if "playlistNotFound" in why:
        return PlaylistGone("playlist introuvable")
    if "channelNotFound" in why:
        return NotFound("YouTube : chaîne introuvable (vérifiez l'identifiant UC… ou le @handle).")
    return None


def client(api: str | None, credentials: Any, sleep: Callable[[float], None]) -> ApiClient:
    if credentials is None:
        raise AuthError("Collecte YouTube : clé d'API manquante ; ajoutez api_key dans la section [youtube] de "
                        "~/.config/vigie/credentials.toml ou la variable VIGIE_YOUTUBE_API_KEY.")
    key = credentials.require("youtube", "api_key", "Collecte YouTube")
    return ApiClient(api or DEFAULT_API, "YouTube", params={"key": key}, sleep=sleep, credentials=credentials,
                     token_hint=KEY_HINT, error_hook=error_hook)


def batches(source: Source, client: ApiClient, cursor: dict | None, since: datetime, ctx: Context,
            known: StoreView) -> Iterator[Batch]:
    if source.kind != "account":
        raise CollectError(f"YouTube : type de source inconnu « {source.kind} » (account : une chaîne UC… ou @handle).")
    calls = Calls(client)
    try:
        for b in _account(source, calls, cursor or {}, since, ctx, known):
            b.quota_units += calls.take()
            yield b
    except CollectError:
        # the units of the request that failed (and of those before it) are spent all the same
        units = calls.take()
        if units:
            yield Batch(parsed=Parsed(format="youtube_api"), quota_units=units)
        raise


class Calls:
    """GETs of the API methods, with the quota units they cost (retried requests included)."""

    def __init__(self, client: ApiClient) -> None:
        self.client = client
        self.units = 0

    def get(self, method: str, params: dict[str, Any]) -> dict:
        before = self.client.requests
        try:
            return self.client.get_json(method, params) or {}
        finally:
            self.units += COST[method] * (self.client.requests - before)

    def take(self) -> int:
        units, self.units = self.units, 0
        return units


def _today() -> Any:
    return pd.Timestamp.now(tz=LOCAL_TZ).date()


def _iso(ts: datetime | None) -> str | None:
    return None if ts is None else pd.Timestamp(ts).isoformat()


def channel_query(key: str) -> dict[str, str]:
    """``channels.list`` filter for what the user declared: a channel id, a @handle or a channel URL."""
    k = key.strip()
    m = re.search(r"youtube\.com/(?:channel/(UC[\w-]+)|(@[^/?#]+))", k)
    if m:
        k = m.group(1) or m.group(2)
    if CHANNEL_ID.match(k):
        return {"id": k}
    return {"forHandle": k if k.startswith("@") else f"@{k}"}


# ------------------------------------------------------------------------------------ account
def _account(source: Source, api: Calls, cursor: dict, since: datetime, ctx: Context,
             known: StoreView) -> Iterator[Batch]:
    body = api.get("channels", {"part": "snippet,statistics,contentDetails", **channel_query(source.key)})
    items = [i for i in body.get("items") or [] if isinstance(i, dict) and i.get("id")]
    if not items:
        raise NotFound(f"YouTube : chaîne « {source.key} » introuvable (vérifiez l'identifiant UC… ou le @handle, "
                       "visibles dans l'adresse de la chaîne).")
    ch = items[0]
    m = Mapper(ctx, source.territory_id)
    acc = m.channel(ch, _today())
    channel_id = str(ch["id"])
    m.adopt(channel_id, source.territory_id)
    followers = next((f["followers"] for f in m.followers if f["account_id"] == acc), None)
    yield Batch(parsed=m.parsed(), followers=followers)
    m.reset()
    playlist = uploads_playlist(ch)
    if not playlist:
        return
    run = _Run(api, m, known, acc, channel_id, playlist)
    resume = cursor.get("resume")
    top_until = since
    if resume:  # finish the pass a previous run could not complete, then read what came since
        yield from run.uploads(start=resume.get("page"), until=_utc(resume["until"]),
                               newest=_utc(resume.get("newest")), detect_deleted=False)
        newest = _utc(resume.get("newest"))
        if newest is not None:
            top_until = max(since, newest - REFRESH_WINDOW)
    yield from run.uploads(start=None, until=top_until, newest=None, detect_deleted=True)


class _Run:
    """One channel's pass over its uploads: pages of videos, then the comments of changed videos."""

    def __init__(self, api: Calls, m: Mapper, known: StoreView, acc: str, channel_id: str, playlist: str) -> None:
        self.api, self.m, self.known = api, m, known
        self.acc, self.channel_id, self.playlist = acc, channel_id, playlist

    def uploads(self, *, start: str | None, until: datetime, newest: datetime | None,
                detect_deleted: bool) -> Iterator[Batch]:
        """Page the uploads playlist from ``start`` down to ``until``: per page, the comments of the
        videos whose count changed, then the page's videos with the resume point after it."""
        page = start
        seen: set[str] = set()
        while True:
            try:
                body = self.api.get("playlistItems", {"part": "snippet,contentDetails", "playlistId": self.playlist,
                                                      "maxResults": VIDEOS_PAGE, "pageToken": page})
            except PlaylistGone:  # a channel that never published has no uploads playlist
                body = {}
            ids, dated = [], []
            for item in body.get("items") or []:
                vid, published = self.m.playlist_item(item)
                if vid:
                    ids.append(vid)
                if published is not None:
                    dated.append(published)
            videos = self._videos(ids)
            seen |= set(videos)
            if dated and (newest is None or max(dated) > newest):
                newest = max(dated)
            # comments to re-read: count changed since the last run (read before this page is written)
            stored = self.known.comment_counts([post_id(v) for v in videos])
            changed = [v for v, n in videos.items()
                       if n is not None and stored.get(post_id(v)) != n and (n > 0 or stored.get(post_id(v)))]
            posts = self.m.parsed()
            self.m.reset()
            for vid in changed:
                yield from self._comments(vid)
            next_page = body.get("nextPageToken")
            done = not next_page or not ids or min(dated, default=until) < until
            resume = None if done else {"page": next_page, "until": _iso(until), "newest": _iso(newest)}
            yield Batch(parsed=posts, cursor={"resume": resume} if resume else None)
            if done:
                break
            page = next_page
        deleted: list[str] = []
        if detect_deleted:
            # every video published since `until` was on the pages read; a stored one absent from
            # them may have been moved or hidden: videos.list says whether it still exists
            missing = sorted(self.known.post_ids(self.acc, until) - {post_id(v) for v in seen})
            still = self._videos([p.split(":", 1)[1] for p in missing])
            deleted = [p for p in missing if p.split(":", 1)[1] not in still]
        yield Batch(parsed=self.m.parsed(), cursor={"resume": None}, newest_at=newest, deleted_posts=deleted)
        self.m.reset()

    def _videos(self, ids: list[str]) -> dict[str, int | None]:
        """``videos.list`` of ``ids`` (50 a request), mapped; ``{videoId: commentCount}`` of those returned."""
        out: dict[str, int | None] = {}
        for i in range(0, len(ids), VIDEOS_PAGE):
            chunk = ids[i:i + VIDEOS_PAGE]
            body = self.api.get("videos", {"part": "snippet,statistics,contentDetails,status", "id": ",".join(chunk),
                                           "maxResults": VIDEOS_PAGE})
            for v in body.get("items") or []:
                if isinstance(v, dict) and self.m.video(v):
                    out[v["id"]] = self.m.posts[v["id"]]["comments"]
        return out

    def _comments(self, vid: str) -> Iterator[Batch]:
        """Every comment thread of one video (and the replies not included), in one batch; comments
        stored before and absent now were deleted (by their author or the channel)."""
        seen: set[str] = set()
        page = None
        try:
            while True:
                body = self.api.get("commentThreads", {"part": "snippet,replies", "videoId": vid,
                                                       "maxResults": COMMENTS_PAGE, "order": "time",
                                                       "textFormat": "plainText", "pageToken": page})
                for t in body.get("items") or []:
                    if not isinstance(t, dict):
                        continue
                    top, total, replies = self.m.thread(t, self.channel_id)
                    if top is None:
                        continue
                    seen.add(top)
                    seen.update(replies)
                    if total > len(replies):
                        seen.update(self._replies(top, vid))
                page = body.get("nextPageToken")
                if not page:
                    break
        except CommentsDisabled:
            # hidden, not deleted: what was stored stays as it was
            self.m.notes.append(f"commentaires désactivés sur la vidéo {vid} : ses commentaires ne sont plus lisibles")
            yield Batch(parsed=self.m.parsed())
            self.m.reset()
            return
        except VideoGone:
            self.m.reset()
            return  # deleted between videos.list and now: the end of the pass says so
        stored = self.known.message_ids([post_id(vid)])
        deleted = sorted(stored - {message_id(c) for c in seen})
        yield Batch(parsed=self.m.parsed(), deleted_messages=deleted)
        self.m.reset()

    def _replies(self, parent: str, vid: str) -> set[str]:
        """Every reply of one thread (``comments.list``, 100 a page)."""
        seen: set[str] = set()
        page = None
        while True:
            body = self.api.get("comments", {"part": "snippet", "parentId": parent, "maxResults": COMMENTS_PAGE,
                                             "textFormat": "plainText", "pageToken": page})
            for c in body.get("items") or []:
                if isinstance(c, dict):
                    cid = self.m.comment(c, video_id=vid, channel_id=self.channel_id, parent=parent)
                    if cid:
                        seen.add(cid)
            page = body.get("nextPageToken")
            if not page:
                return seen
