"""YouTube Data API v3: list responses (channels, playlistItems, videos, commentThreads, comments)
→ canonical rows.

The same code maps what ``vigie collect youtube`` fetches and the saved responses that
``vigie import`` reads (JSON or JSONL dumps of ``*.list`` responses, recognised by their
``kind: "youtube#…ListResponse"``, as researchers keep them).

Ids and choices (the same as the YouTube export importers of :mod:`analysis.ingest.comments`, so
that a channel both imported from an export and collected is never duplicated):
- a video is the post ``youtube:<videoId>``; its text is its **title** (what the CSV importer
  stores; the description is not stored); ``post_type`` is ``video`` — the API says nothing that
  tells a Short from a video (a duration under 3 minutes does not), so none is guessed;
- ``viewCount`` → ``video_views``, ``likeCount`` → ``likes`` and ``reactions``, ``commentCount``
  → ``comments``; a count the API leaves out (likes hidden, comments disabled) stays NULL;
- a comment is the message ``youtube:<comment id>`` (the ``lc=`` of its link, the ``id`` column
  of the CSV exports): kind ``comment`` for a top-level comment, ``reply`` with ``parent_id`` for a
  reply (whose id is ``<parent id>.<reply id>``); ``post_id`` is the video;
- a comment written by the video's channel (or by any registry account) is **official**
  (``is_official``): response times need it. Authors are pseudonymised from their channel id
  (their display name only when the analyst opted in), as the CSV importer does;
- an edited comment (``updatedAt`` later than ``publishedAt``) keeps ``updatedAt`` as
  ``edited_at``;
- ``subscriberCount`` → ``audience_followers``; a channel that hides it gives no row (NULL is
  not 0). YouTube rounds it to three significant figures.
"""

from __future__ import annotations

import html
import re
from datetime import date
from pathlib import Path
from typing import Any

import pandas as pd

from analysis.ingest.api_rows import RowSink, json_documents
from analysis.ingest.base import Adapter, Context, ImportFailure, Parsed, Reject, clean_text
from analysis.ingest.generic import account_row, hint_account, resolve_account
from analysis.ingest.sniff import Probe

PLATFORM = "youtube"
TAG_RE = re.compile(r"<[^>]+>")
# Resource kinds, in the order a dump is mapped: a reply needs its thread, a thread its video,
# a video its channel.
ORDER = ("youtube#channel", "youtube#playlistItem", "youtube#video", "youtube#commentThread", "youtube#comment")


def post_id(video_id: str) -> str:
    return f"{PLATFORM}:{video_id}"


def message_id(comment_id: str) -> str:
    return f"{PLATFORM}:{comment_id}"


def _utc(value: Any) -> pd.Timestamp | None:
    if not value:
        return None
    ts = pd.to_datetime(value, utc=True, errors="coerce", format="ISO8601")
    return None if pd.isna(ts) else ts.tz_localize(None)


def _int(value: Any) -> int | None:
    """An API count (a string of digits in YouTube's JSON) or None when absent."""
    if value is None or value == "":
        return None
    try:
        return int(value)
    except (TypeError, ValueError):
        return None


def _author_channel(snippet: dict) -> str | None:
    a = snippet.get("authorChannelId")
    if isinstance(a, dict):
        a = a.get("value")
    return str(a) if a else None


def _handle(url_or_handle: str | None) -> str | None:
    """``@name`` of a channel from its customUrl or channel URL (None for a /channel/UC… URL)."""
    if not url_or_handle:
        return None
    m = re.search(r"(?:^|/)@([^/?#]+)", url_or_handle)
    return m.group(1) if m else None


def comment_text(snippet: dict) -> str | None:
    """``textOriginal``, else ``textDisplay`` with its HTML removed (``textFormat=html``)."""
    text = clean_text(snippet.get("textOriginal"))
    if text is None and snippet.get("textDisplay"):
        disp = str(snippet["textDisplay"]).replace("<br>", "\n").replace("<br/>", "\n")
        text = clean_text(html.unescape(TAG_RE.sub("", disp)))
    return text


def uploads_playlist(channel: dict) -> str | None:
    """Id of a channel's uploads playlist (``UU…``), from ``contentDetails`` or by YouTube's rule."""
    pl = ((channel.get("contentDetails") or {}).get("relatedPlaylists") or {}).get("uploads")
    if pl:
        return str(pl)
    cid = str(channel.get("id") or "")
    return "UU" + cid[2:] if cid.startswith("UC") else None


class Mapper(RowSink):
    """Accumulates canonical rows from YouTube resources of any of the supported list responses.

    ``channels`` maps channel ids to ``(account_id, territory_id, official)``; ``video_channel``
    and ``comment_video`` remember, for comments that do not say it, which video and channel a
    reply belongs to.
    """

    def __init__(self, ctx: Context, territory_id: str | None = None) -> None:
        self.ctx = ctx
        self.territory_id = territory_id
        self.channels: dict[str, tuple[str, str | None, bool]] = {}
        self.video_channel: dict[str, str] = {}
        self.comment_video: dict[str, tuple[str | None, str | None]] = {}
        super().__init__()

    # ---------------------------------------------------------------- identities
    def channel_account(self, channel_id: str, handle: str | None = None,
                        title: str | None = None) -> tuple[str, str | None, bool]:
        """``(account_id, territory_id, official)`` of a channel; registry accounts are matched on
        the channel id or the @handle, never on the title (anyone can name a channel « Ville de … »)."""
        known = self.channels.get(channel_id)
        if known is not None and (known[2] or not handle):
            return known
        acc, terr, official = resolve_account(self.ctx, PLATFORM, channel_id, handle)
        out = (acc, terr, True) if official and acc else (f"{PLATFORM}:{channel_id}", None, False)
        self.channels[channel_id] = out
        if not out[2]:
            self.accounts[out[0]] = account_row(out[0], PLATFORM, channel_id, handle, title)
        return out

    def adopt(self, channel_id: str, territory_id: str | None) -> tuple[str, str | None, bool]:
        """The collected channel, official for this run even when absent from the registry (a
        channel named on the command line): its own comments are its official replies."""
        acc, terr, _ = self.channels.get(channel_id) or self.channel_account(channel_id)
        self.channels[channel_id] = (acc, terr or territory_id, True)
        return self.channels[channel_id]

    # ---------------------------------------------------------------- resources
    def channel(self, item: dict, day: date) -> str | None:
        """A ``youtube#channel``: its account and its subscribers count (none when hidden)."""
        cid = item.get("id")
        if not cid:
            return None
        self.items += 1
        sn = item.get("snippet") or {}
        st = item.get("statistics") or {}
        acc, _, _ = self.channel_account(str(cid), _handle(sn.get("customUrl")), sn.get("title"))
        subs = None if st.get("hiddenSubscriberCount") else _int(st.get("subscriberCount"))
        if subs is not None:
            self.followers.append({"account_id": acc, "date": day, "followers": subs})
        elif st:
            self.notes.append(f"{sn.get('title') or cid} : nombre d'abonnés masqué par la chaîne (laissé vide)")
        return acc

    def playlist_item(self, item: dict) -> tuple[str | None, pd.Timestamp | None]:
        """A ``youtube#playlistItem``: ``(videoId, publication time)``. Maps a post only for saved
        responses holding no ``videos.list`` answer for it (title and date, no counts)."""
        sn = item.get("snippet") or {}
        cd = item.get("contentDetails") or {}
        vid = cd.get("videoId") or (sn.get("resourceId") or {}).get("videoId")
        published = _utc(cd.get("videoPublishedAt"))
        return (str(vid) if vid else None), published or _utc(sn.get("publishedAt"))

    def playlist_post(self, item: dict) -> str | None:
        vid, published = self.playlist_item(item)
        sn = item.get("snippet") or {}
        if not vid or not (item.get("contentDetails") or {}).get("videoPublishedAt"):
            return None  # a private or deleted video: a placeholder, not a publication
        self.items += 1
        if vid in self.posts:
            return vid
        owner = sn.get("videoOwnerChannelId") or sn.get("channelId")
        self.video({"id": vid, "snippet": {"channelId": owner, "channelTitle": sn.get("channelTitle"),
                                           "title": sn.get("title"), "publishedAt": published.isoformat() if published is not None else None}},
                   count=False)
        return vid

    def video(self, item: dict, *, count: bool = True) -> str | None:
        """A ``youtube#video`` → a post with its counts."""
        vid = item.get("id")
        if not vid or not isinstance(vid, str):
            return None
        if count:
            self.items += 1
        sn = item.get("snippet") or {}
        st = item.get("statistics") or {}
        channel = sn.get("channelId")
        if channel:
            acc, terr, _ = self.channel_account(str(channel), None, sn.get("channelTitle"))
            self.video_channel[vid] = str(channel)
        else:
            acc, terr, _ = hint_account(self.ctx, PLATFORM)
        likes = _int(st.get("likeCount"))
        lang = sn.get("defaultAudioLanguage") or sn.get("defaultLanguage")
        self.posts[vid] = {
            "post_id": post_id(vid), "platform": PLATFORM, "native_id": vid, "account_id": acc,
            "territory_id": terr, "created_at": _utc(sn.get("publishedAt")), "source_tz": "UTC",
            "text": clean_text(sn.get("title")), "post_type": "video",
            "permalink": f"https://www.youtube.com/watch?v={vid}",
            "lang": str(lang).lower()[:8] if lang else None,
            "video_views": _int(st.get("viewCount")), "likes": likes, "reactions": likes,
            "comments": _int(st.get("commentCount"))}
        return vid

    def thread(self, item: dict, channel_id: str | None = None) -> tuple[str | None, int, list[str]]:
        """A ``youtube#commentThread``: ``(top-level comment id, totalReplyCount, ids of the replies
        it includes)`` — the API includes at most five replies; ``comments.list`` gives the rest."""
        sn = item.get("snippet") or {}
        top = sn.get("topLevelComment") or {}
        video = sn.get("videoId") or (top.get("snippet") or {}).get("videoId")
        channel = sn.get("channelId") or channel_id
        total = _int(sn.get("totalReplyCount")) or 0
        top_id = self.comment(top, video_id=video, channel_id=channel, replies=total)
        replies = []
        for r in (item.get("replies") or {}).get("comments") or []:
            if isinstance(r, dict):
                rid = self.comment(r, video_id=video, channel_id=channel, parent=top_id)
                if rid:
                    replies.append(rid)
        return top_id, total, replies

    def comment(self, item: dict, *, video_id: str | None = None, channel_id: str | None = None,
                parent: str | None = None, replies: int | None = None) -> str | None:
        """A ``youtube#comment`` (top-level or reply) → a message; returns its id."""
        cid = item.get("id")
        sn = item.get("snippet") or {}
        if not cid:
            return None
        self.items += 1
        cid = str(cid)
        parent = parent or sn.get("parentId")
        if parent and not video_id:
            video_id, channel_id = self.comment_video.get(parent, (None, channel_id))
        video_id = video_id or sn.get("videoId")
        channel_id = channel_id or sn.get("channelId") or self.video_channel.get(video_id or "")
        self.comment_video[cid] = (video_id, channel_id)
        if channel_id:
            acc, terr, _ = self.channels.get(channel_id) or self.channel_account(channel_id)
        else:
            acc, terr, _ = hint_account(self.ctx, PLATFORM)
        author = _author_channel(sn)
        official = bool(author) and (author == channel_id or self._registry_official(author))
        if author and not official:
            self.accounts.setdefault(f"{PLATFORM}:{author}", account_row(
                f"{PLATFORM}:{author}", PLATFORM, author, _handle(sn.get("authorChannelUrl")),
                sn.get("authorDisplayName")))
        created = _utc(sn.get("publishedAt"))
        updated = _utc(sn.get("updatedAt"))
        self.messages[cid] = {
            "message_id": message_id(cid), "platform": PLATFORM, "kind": "reply" if parent else "comment",
            "post_id": post_id(video_id) if video_id else None,
            "parent_id": message_id(parent) if parent else None,
            "account_id": acc, "territory_id": terr or self.territory_id,
            "author_hash": self.ctx.author_hash(PLATFORM, author or sn.get("authorDisplayName")),
            "author_name": sn.get("authorDisplayName") if self.ctx.keep_author_names else None,
            "is_official": official, "created_at": created, "source_tz": "UTC", "text": comment_text(sn),
            "likes": _int(sn.get("likeCount")), "replies": None if parent else replies,
            "edited_at": updated if (updated is not None and created is not None and updated > created) else None}
        return cid

    def _registry_official(self, channel_id: str) -> bool:
        known = self.channels.get(channel_id)
        if known is not None:
            return known[2]
        return resolve_account(self.ctx, PLATFORM, channel_id)[2]

    def response(self, obj: Any, day: date | None = None, kinds: tuple[str, ...] | None = None) -> int:
        """Map the items of one list response (of ``kinds`` only, when given); how many were mapped."""
        before = self.items
        for item in items_of(obj):
            kind = item.get("kind")
            if kinds is not None and kind not in kinds:
                continue
            if kind == "youtube#channel":
                self.channel(item, day or date.today())
            elif kind == "youtube#playlistItem":
                self.playlist_post(item)
            elif kind == "youtube#video":
                self.video(item)
            elif kind == "youtube#commentThread":
                self.thread(item)
            elif kind == "youtube#comment":
                self.comment(item)
        return self.items - before

    # ---------------------------------------------------------------- output
    def parsed(self, fmt: str = "youtube_api") -> Parsed:
        return super().parsed(fmt)


# ============================================================================ saved responses
def items_of(obj: Any) -> list[dict]:
    """Resources of a list response, of a bare list of resources, or a single resource."""
    if isinstance(obj, list):
        return [i for o in obj for i in items_of(o)]
    if not isinstance(obj, dict):
        return []
    kind = str(obj.get("kind", ""))
    if kind.endswith("ListResponse"):
        return [i for i in obj.get("items") or [] if isinstance(i, dict)]
    return [obj] if kind in ORDER else []


def looks_like(obj: Any) -> bool:
    """Whether a JSON value is a YouTube Data API list response (or resources of one)."""
    if isinstance(obj, list):
        return bool(obj) and looks_like(obj[0])
    if not isinstance(obj, dict):
        return False
    kind = str(obj.get("kind", ""))
    return (kind.startswith("youtube#") and kind.endswith("ListResponse")) or kind in ORDER


UNSUPPORTED = {
    "youtube#searchListResponse": "réponses de search.list (des identifiants, sans compteurs ni commentaires) : "
                                  "passez les identifiants trouvés à videos.list et importez ces réponses-là",
    "youtube#activityListResponse": "réponses d'activities.list (un fil d'activité, sans compteurs) : importez "
                                    "plutôt celles de playlistItems.list et videos.list",
}


def _nothing_found(docs: list[Any]) -> str:
    """French reason why a file of YouTube responses gave no row."""
    kinds = {str(d.get("kind")) for d in docs if isinstance(d, dict)}
    for kind, why in UNSUPPORTED.items():
        if kind in kinds:
            return f"{why}."
    if "youtube#playlistItemListResponse" in kinds:
        return ("réponses de playlistItems.list sans contentDetails.videoPublishedAt (demandées avec part=snippet) : "
                "la date de publication manque ; enregistrez aussi les réponses de videos.list de ces vidéos")
    return "aucune chaîne, vidéo ni commentaire YouTube dans ce fichier"


class YouTubeApiResponses(Adapter):
    name = "youtube_api"
    label = ("YouTube Data API v3 — réponses enregistrées (channels, playlistItems, videos, commentThreads, "
             "comments ; JSON/JSONL)")
    platform = PLATFORM
    signature = ("kind", "youtube#videoListResponse", "items", "snippet", "statistics", "topLevelComment")

    def sniff(self, probe: Probe) -> float:
        # JSON only: the CSV exports of YouTube comments are the comment adapters' (comments.py).
        if probe.kind not in ("json", "jsonl"):
            return 0.0
        j = probe.json_head
        if j is None:
            return 0.5 if re.search(r'"kind"\s*:\s*"youtube#\w+ListResponse"', probe.text_head[:20000]) else 0.0
        return 0.95 if looks_like(j) else 0.0

    def parse(self, path: Path, probe: Probe, ctx: Context) -> Parsed:
        m = Mapper(ctx)
        if ctx.account_hint and ctx.registry is not None:
            a = ctx.registry.get_account(ctx.account_hint)
            m.territory_id = a.territory_id if a else None
        day = date.fromtimestamp(path.stat().st_mtime)
        docs: list[Any] = []
        for lineno, obj in json_documents(path, probe):
            if isinstance(obj, ValueError):
                m.rejects.append(Reject(lineno, None, str(obj), "ligne JSON illisible"))
            elif not looks_like(obj):
                m.rejects.append(Reject(lineno, None, str(obj)[:80],
                                        "objet JSON qui n'est pas une réponse de l'API YouTube reconnue"))
            else:
                docs.append(obj)
        # A dump is not always in request order: channels first, then videos, then threads, then
        # the replies of comments.list, each of which needs what comes before it.
        found = sum(m.response(d, day, (kind,)) for kind in ORDER for d in docs)
        if not found and not m.rejects:
            raise ImportFailure(f"{path} : {_nothing_found(docs)}")
        out = m.parsed(self.name)
        if m.followers:
            out.notes.append(f"abonnés datés du {day.isoformat()} (date du fichier)")
        return out


ADAPTERS = [YouTubeApiResponses()]
