"""Bluesky (AT Protocol AppView): responses of ``app.bsky.*`` endpoints → canonical rows.

The same code maps what ``vigie collect bluesky`` fetches and the saved responses that
``vigie import`` reads (JSON or JSONL dumps of ``getAuthorFeed``, ``getPostThread``,
``searchPosts``, ``getProfile(s)``, as researchers keep them).

Design choices (documented once, here; the same as X's):
- A post of an official account is a **post**, except a reply it writes under someone else's
  post, which is a **message** (kind ``reply``, ``is_official`` TRUE, ``parent_id`` = what it
  answers): response times need it. A reply to its own post (a thread) stays a post.
- A reply by anyone else in a thread whose root is an official post is a message of kind
  ``reply`` (``post_id`` = the root, ``parent_id`` = the post or reply answered), addressed to the
  root's account. Any other post (a search hit, a firehose match) is a ``mention`` filed under the
  official account it replies to or mentions, else under the territory its text names.
- Reposts by the account are copies of others' posts: not stored, counted in a note.
- Ids are the AT URIs (``bluesky:at://did:plc:…/app.bsky.feed.post/<rkey>``): stable, unique,
  and the way back to the record. Authors are pseudonymised from their DID (a handle can change).
"""

from __future__ import annotations

import re
from datetime import UTC, date, datetime
from pathlib import Path
from typing import Any

import pandas as pd

from analysis.fmt import fr_count, fr_plural
from analysis.ingest.api_rows import RowSink, json_documents
from analysis.ingest.base import Adapter, Context, ImportFailure, Parsed, Reject, clean_text
from analysis.ingest.generic import account_row, resolve_account
from analysis.ingest.sniff import Probe

PLATFORM = "bluesky"
POST_NSID = "app.bsky.feed.post"


def post_id(uri: str) -> str:
    return f"{PLATFORM}:{uri}"


def did_of(uri: str | None) -> str | None:
    """DID of the repository an AT URI points into (``at://did:plc:x/…`` → ``did:plc:x``)."""
    if not uri or not uri.startswith("at://"):
        return None
    return uri[5:].split("/", 1)[0] or None


def permalink(uri: str, handle: str | None) -> str:
    """Web address of a post on bsky.app."""
    return f"https://bsky.app/profile/{handle or did_of(uri)}/post/{uri.rsplit('/', 1)[-1]}"


_NANOS = re.compile(r"\.\d{7,}")


def _utc(value: Any) -> pd.Timestamp | None:
    if not value:
        return None
    if isinstance(value, str) and not _NANOS.search(value):
        # The API's own form (« 2026-11-28T09:00:00.000Z »), read without pandas' per-call cost:
        # a collection reads thousands of them. (Beyond microseconds, pandas keeps nanoseconds.)
        try:
            dt = datetime.fromisoformat(value)
        except ValueError:
            dt = None
        if dt is not None and dt.tzinfo is not None:
            return pd.Timestamp(dt.astimezone(UTC).replace(tzinfo=None))
    ts = pd.to_datetime(value, utc=True, errors="coerce", format="ISO8601")
    return None if pd.isna(ts) else ts.tz_localize(None)


_EMBED_TYPE = {"app.bsky.embed.images": "photo", "app.bsky.embed.video": "video",
               "app.bsky.embed.external": "link", "app.bsky.embed.record": "quote",
               "app.bsky.embed.recordWithMedia": "quote"}


def _post_type(record: dict) -> str:
    embed = record.get("embed") or {}
    return _EMBED_TYPE.get(str(embed.get("$type", "")).split("#")[0], "status")


def _mentioned_dids(record: dict) -> list[str]:
    out = []
    for facet in record.get("facets") or []:
        for feat in facet.get("features") or []:
            if str(feat.get("$type", "")).endswith("#mention") and feat.get("did"):
                out.append(feat["did"])
    return out


class Mapper(RowSink):
    """Accumulates canonical rows from Bluesky JSON objects of any of the supported endpoints.

    ``territory_id``: territory of the source being collected (searches, firehose), used for
    mentions that name no official account. ``officials`` maps DIDs to ``(account_id, territory_id)``
    and learns from every author met whose handle or DID is in the registry.
    """

    def __init__(self, ctx: Context, territory_id: str | None = None) -> None:
        self.ctx = ctx
        self.territory_id = territory_id
        self.officials: dict[str, tuple[str, str | None]] = {}
        self.handles: dict[str, str] = {}
        super().__init__()

    # ---------------------------------------------------------------- identities
    def learn(self, author: dict | None) -> tuple[str, str | None] | None:
        """Register an author (``profileView*``); return its official account if it is one."""
        if not isinstance(author, dict) or not author.get("did"):
            return None
        did, handle = author["did"], author.get("handle")
        if handle:
            self.handles[did] = handle
        if did not in self.officials:
            acc, terr, official = resolve_account(self.ctx, PLATFORM, did, handle)
            if official:
                self.officials[did] = (acc, terr)
        return self.officials.get(did)

    def official(self, did: str | None) -> tuple[str, str | None] | None:
        """The official account of a DID, met in these responses or not: a search hit replying to
        an official post, or @-mentioning an official account, is filed under it."""
        if not did:
            return None
        if did not in self.officials:
            acc, terr, official = resolve_account(self.ctx, PLATFORM, did)
            if not official:
                return None
            self.officials[did] = (acc, terr)
        return self.officials[did]

    # ---------------------------------------------------------------- endpoints
    def profile(self, p: dict, day: date) -> str | None:
        """``getProfile`` (profileViewDetailed): the followers count of an official account."""
        off = self.learn(p)
        if off and p.get("followersCount") is not None:
            self.followers.append({"account_id": off[0], "date": day, "followers": int(p["followersCount"])})
        return off[0] if off else None

    def feed_item(self, item: dict) -> str | None:
        """One ``feedViewPost`` of ``getAuthorFeed``; returns the post URI when it was mapped."""
        reason = str((item.get("reason") or {}).get("$type", ""))
        post = item.get("post") or {}
        if reason.endswith("#reasonRepost"):
            self.reposts += 1
            return None
        for k in ("root", "parent"):  # the context of a reply: learn whose thread it is
            ctxp = (item.get("reply") or {}).get(k) or {}
            self.learn(ctxp.get("author"))
        return self.view(post)

    def view(self, v: dict, depth_parent: str | None = None) -> str | None:
        """One ``postView`` (feed, search, thread); classified as post, reply or mention."""
        uri = v.get("uri")
        record = v.get("record") or {}
        author = v.get("author") or {}
        if not uri or record.get("$type", POST_NSID) != POST_NSID or not author.get("did"):
            return None
        self.items += 1
        off = self.learn(author)
        did = author["did"]
        reply = record.get("reply") or {}
        parent_uri = (reply.get("parent") or {}).get("uri") or depth_parent
        root_uri = (reply.get("root") or {}).get("uri") or parent_uri
        created = _utc(record.get("createdAt")) or _utc(v.get("indexedAt"))
        text = clean_text(record.get("text"))
        langs = record.get("langs") or []
        lang = str(langs[0]).lower()[:8] if langs else None
        counts = {"likes": v.get("likeCount"), "replies": v.get("replyCount"),
                  "reposts": v.get("repostCount"), "quotes": v.get("quoteCount")}
        if off and (not parent_uri or did_of(parent_uri) == did):
            self.posts[uri] = {
                "post_id": post_id(uri), "platform": PLATFORM, "native_id": uri, "account_id": off[0],
                "territory_id": off[1], "created_at": created, "source_tz": "UTC", "text": text,
                "post_type": _post_type(record), "permalink": permalink(uri, author.get("handle")),
                "lang": lang, "reactions": counts["likes"], "likes": counts["likes"],
                "comments": counts["replies"], "shares": counts["reposts"], "quotes": counts["quotes"]}
            return uri
        root_off = self.official(did_of(root_uri))
        addressed = root_off or next((self.official(d) for d in _mentioned_dids(record) if self.official(d)), None)
        if off and not addressed:
            addressed = off  # an official reply under someone else's post: filed under our account
        kind = "reply" if parent_uri and (root_off or off) else "mention"
        territory = addressed[1] if addressed else (
            self.territory_id or (self.ctx.registry.territory_named(text) if self.ctx.registry else None))
        if not off:
            self.accounts[did] = account_row(f"{PLATFORM}:{did}", PLATFORM, did, author.get("handle"),
                                             author.get("displayName"))
        self.messages[uri] = {
            "message_id": post_id(uri), "platform": PLATFORM, "kind": kind,
            "post_id": post_id(root_uri) if (kind == "reply" and root_uri) else None,
            "parent_id": post_id(parent_uri) if parent_uri else None,
            "account_id": addressed[0] if addressed else None, "territory_id": territory,
            "author_hash": None if off else self.ctx.author_hash(PLATFORM, did),
            "author_name": author.get("displayName") if (self.ctx.keep_author_names and not off) else None,
            "is_official": bool(off), "created_at": created, "source_tz": "UTC", "text": text,
            "lang": lang, "likes": counts["likes"], "replies": counts["replies"]}
        return uri

    def thread(self, node: dict, parent: str | None = None, depth: int = 0) -> tuple[set[str], set[str]]:
        """A ``getPostThread`` tree: ``(uris mapped, uris reported not found)``; parents first."""
        seen: set[str] = set()
        gone: set[str] = set()
        t = str(node.get("$type", ""))
        if node.get("notFound") or t.endswith("#notFoundPost"):
            if node.get("uri"):
                gone.add(node["uri"])
            return seen, gone
        if node.get("blocked") or t.endswith("#blockedPost") or "post" not in node:
            return seen, gone
        if depth == 0 and isinstance(node.get("parent"), dict):
            s, g = self.thread(node["parent"], None, -1)
            seen |= s
            gone |= g
        uri = self.view(node["post"], parent)
        if uri:
            seen.add(uri)
        if depth >= 0:
            for child in node.get("replies") or []:
                if isinstance(child, dict):
                    s, g = self.thread(child, uri, depth + 1)
                    seen |= s
                    gone |= g
        return seen, gone

    def response(self, obj: Any, day: date | None = None) -> int:
        """Any supported response body; returns how many items it held (0: not a Bluesky body)."""
        if not isinstance(obj, dict):
            return 0
        before = self.items
        if isinstance(obj.get("feed"), list):
            for item in obj["feed"]:
                if isinstance(item, dict):
                    self.feed_item(item)
        elif isinstance(obj.get("posts"), list):
            for v in obj["posts"]:
                if isinstance(v, dict):
                    self.view(v)
        elif isinstance(obj.get("thread"), dict):
            self.thread(obj["thread"])
        elif isinstance(obj.get("profiles"), list) or ("did" in obj and "followersCount" in obj):
            for p in obj.get("profiles") or [obj]:
                if isinstance(p, dict):
                    self.profile(p, day or date.today())
                    self.items += 1
        return self.items - before

    # ---------------------------------------------------------------- output
    def parsed(self, fmt: str = "bluesky_api") -> Parsed:
        out = super().parsed(fmt)
        if self.reposts:
            out.notes.append(f"{fr_count(self.reposts, 'republication')} d'autres comptes {fr_plural(self.reposts, 'ignorée')} (copies)")
        return out

    def reset(self) -> None:
        """Forget the rows (keep what was learnt about accounts): the next batch starts empty."""
        super().reset()
        self.reposts = 0


# ============================================================================ saved responses
def looks_like(obj: Any) -> bool:
    """Whether a JSON value is a response of one of the supported Bluesky endpoints."""
    if isinstance(obj, list):
        return bool(obj) and looks_like(obj[0] if not isinstance(obj[0], dict) or "uri" not in obj[0]
                                        else {"posts": obj})
    if not isinstance(obj, dict):
        return False
    if isinstance(obj.get("feed"), list):
        first = next((i for i in obj["feed"] if isinstance(i, dict)), {})
        return str((first.get("post") or {}).get("uri", "")).startswith("at://") or not obj["feed"]
    if isinstance(obj.get("posts"), list):
        first = next((i for i in obj["posts"] if isinstance(i, dict)), {})
        return str(first.get("uri", "")).startswith("at://")
    if isinstance(obj.get("thread"), dict):
        return str((obj["thread"].get("post") or {}).get("uri", obj["thread"].get("uri", ""))).startswith("at://")
    if isinstance(obj.get("profiles"), list):
        first = next((i for i in obj["profiles"] if isinstance(i, dict)), {})
        return str(first.get("did", "")).startswith("did:")
    return str(obj.get("did", "")).startswith("did:") and "followersCount" in obj


class BlueskyResponses(Adapter):
    name = "bluesky_api"
    label = "Bluesky — réponses enregistrées de l'API (getAuthorFeed, getPostThread, searchPosts, getProfile ; JSON/JSONL)"
    platform = PLATFORM
    signature = ("feed", "post", "uri", "record", "likeCount", "replyCount")

    def sniff(self, probe: Probe) -> float:
        if probe.kind not in ("json", "jsonl"):
            return 0.0
        j = probe.json_head
        if j is None:
            return 0.5 if '"at://did:' in probe.text_head[:20000] and '"app.bsky.' in probe.text_head[:20000] else 0.0
        return 0.9 if looks_like(j) else 0.0

    def parse(self, path: Path, probe: Probe, ctx: Context) -> Parsed:
        m = Mapper(ctx, territory_id=None)
        if ctx.account_hint and ctx.registry is not None:
            a = ctx.registry.get_account(ctx.account_hint)
            m.territory_id = a.territory_id if a else None
        day = date.fromtimestamp(path.stat().st_mtime)
        found = 0
        for lineno, obj in json_documents(path, probe):
            if isinstance(obj, ValueError):
                m.rejects.append(Reject(lineno, None, str(obj), "ligne JSON illisible"))
                continue
            if isinstance(obj, list):  # a bare list of postViews
                obj = {"posts": obj}
            n = m.response(obj, day)
            if n == 0 and not (isinstance(obj, dict) and looks_like(obj)):
                m.rejects.append(Reject(lineno, None, str(obj)[:80], "objet JSON qui n'est pas une réponse Bluesky reconnue"))
            found += n
        if not found and not m.rejects:
            raise ImportFailure(f"{path} : aucune publication ni profil Bluesky dans ce fichier")
        # A saved profile has no date of its own: the file's date stands for the day it was read.
        out = m.parsed(self.name)
        if m.followers:
            out.notes.append(f"abonnés datés du {day.isoformat()} (date du fichier)")
        return out


ADAPTERS = [BlueskyResponses()]
