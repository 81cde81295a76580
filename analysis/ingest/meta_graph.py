"""Meta Graph API (Facebook Pages, Instagram) and Threads API responses → canonical rows.

The same code maps what ``vigie collect facebook|instagram|threads`` fetches and the saved
responses that ``vigie import`` reads (JSON or JSONL dumps of ``/{page}``, ``/{page}/posts``,
``/{post}/comments``, ``/{ig-user}``, ``/{ig-user}/media``, ``/{media}/comments``,
``business_discovery``, ``/insights``, ``/me/threads``, ``/{post}/conversation``…).

Ids agree with the export importers, so a post both exported and collected is one row:
- Facebook posts: ``facebook:<post id>`` without the page prefix (Graph ``<page>_<post>`` →
  ``<post>``), the form Meta Business Suite exports and :mod:`analysis.ingest.fb_legacy` keeps.
  Comments keep the Graph form ``facebook:<post>_<comment>`` (as :mod:`analysis.ingest.comments`).
- Instagram posts: ``instagram:<media id>`` (MBS « Post ID »), comments ``instagram:<comment id>``.
- Threads: ``threads:<media id>``. Accounts: ``<platform>:<page / IG user / Threads user id>``
  unless the registry names them.

Choices (documented once, here):
- A comment or reply written by the official account itself is ``is_official`` (our reply).
  Facebook comments are ``comment`` at the top level and ``reply`` under a comment; Instagram
  likewise; Threads replies are all ``reply`` (as Bluesky's: a thread of posts).
- Authors are pseudonymised: Facebook ``from.id`` (absent unless the app has page-scoped access
  to the user: the author is then unknown, NULL hash), Instagram and Threads usernames (public
  handles, the key the comment exports use).
- Facebook omits ``shares`` when a post has none: a post read with its reactions or comments
  summary and no ``shares`` has 0 shares. Instagram omits ``like_count`` when the owner hid it:
  that stays NULL (not known, not zero).
- Insights: Facebook ``post_media_view`` → impressions (« Vues »), ``post_total_media_view_unique``
  → reach; Instagram ``views``, ``reach``, ``saved``, ``shares``, ``total_interactions``; Threads
  ``views``, ``likes``, ``replies``, ``reposts``, ``quotes``. Removed metrics (``impressions``,
  ``post_impressions*``, ``plays``, ``video_views``) are never asked.
"""

from __future__ import annotations

import re
from datetime import date
from pathlib import Path
from typing import Any

import pandas as pd

from analysis.fmt import fr_count, fr_plural
from analysis.ingest.api_rows import RowSink, json_documents
from analysis.ingest.base import Adapter, Context, ImportFailure, Parsed, Reject, clean_text
from analysis.ingest.generic import account_row, resolve_account
from analysis.ingest.meta import post_type as canonical_post_type
from analysis.ingest.sniff import Probe

FB, IG, TH = "facebook", "instagram", "threads"
REACTION_TYPES = ("like", "love", "wow", "haha", "sad", "angry", "care")
# insights metric → posts column, per platform (a metric name means different things on each)
INSIGHT_COLUMNS: dict[str, dict[str, tuple[str, ...]]] = {
    FB: {"post_media_view": ("impressions",), "post_total_media_view_unique": ("reach",)},
    IG: {"views": ("impressions",), "reach": ("reach",), "saved": ("saves",), "shares": ("shares",),
         "total_interactions": ("engagements_reported",)},
    TH: {"views": ("impressions",), "likes": ("likes", "reactions"), "replies": ("comments",),
         "reposts": ("shares",), "quotes": ("quotes",)},
}
FB_STATUS_TYPES = {"added_photos": "photo", "added_video": "video", "shared_story": "link",
                   "mobile_status_update": "status", "published_story": "status", "created_note": "status",
                   "wall_post": "status", "created_event": "event", "created_fundraiser": "status"}
IG_MEDIA_TYPES = {"IMAGE": "photo", "VIDEO": "video", "CAROUSEL_ALBUM": "carousel"}
TH_MEDIA_TYPES = {"TEXT_POST": "status", "IMAGE": "photo", "VIDEO": "video", "CAROUSEL_ALBUM": "carousel",
                  "AUDIO": "audio"}
_FB_ID = re.compile(r"^\d+_\d+$")
_THREADS_URL = re.compile(r"https?://(www\.)?threads\.(net|com)/", re.I)


def _utc(value: Any) -> pd.Timestamp | None:
    """Graph timestamps (``2026-11-28T09:00:00+0000``) → naive UTC."""
    if not value or not isinstance(value, str | int | float):
        return None
    ts = pd.to_datetime(value, utc=True, errors="coerce", format="ISO8601")
    return None if pd.isna(ts) else ts.tz_localize(None)


def _int(v: Any) -> int | None:
    if isinstance(v, bool):
        return None
    if isinstance(v, int):
        return v
    if isinstance(v, float) and v == v:
        return int(round(v))
    if isinstance(v, str) and v.strip().lstrip("-").isdigit():
        return int(v)
    return None


def _summary(v: Any) -> int | None:
    """``{"data": [], "summary": {"total_count": 12}}`` → 12."""
    if isinstance(v, dict) and isinstance(v.get("summary"), dict):
        return _int(v["summary"].get("total_count"))
    return None


def fb_post_native(graph_id: str) -> str:
    """Graph post id ``<page>_<post>`` → the bare post id MBS exports."""
    return str(graph_id).split("_", 1)[-1]


def fb_page_of(graph_id: str) -> str | None:
    s = str(graph_id)
    return s.split("_", 1)[0] if "_" in s else None


def insight_value(item: dict) -> int | None:
    """Value of one insights metric (``values[0].value`` or ``total_value.value``); None if absent."""
    if isinstance(item.get("total_value"), dict):
        return _int(item["total_value"].get("value"))
    values = item.get("values")
    if isinstance(values, list) and values and isinstance(values[-1], dict):
        return _int(values[-1].get("value"))
    return None


class Mapper(RowSink):
    """Accumulates canonical rows from Graph / Threads JSON objects of the supported endpoints.

    Collection calls the endpoint methods directly (it knows what it asked); :meth:`response`
    recognises a saved body by its shape and calls the same methods.
    """

    def __init__(self, ctx: Context, territory_id: str | None = None) -> None:
        self.ctx = ctx
        self.territory_id = territory_id
        # native owner id (page, IG user, Threads user) → (account_id, territory_id, username)
        self.owners: dict[tuple[str, str], tuple[str, str | None, str | None]] = {}
        self.media_owner: dict[tuple[str, str], tuple[str, str | None, str | None]] = {}  # post native → owner
        # owner of saved items that do not name theirs (``vigie import --account instagram:<id>``)
        self.default_owner: dict[str, tuple[str, str | None, str | None]] = {}
        self.default_page: str | None = None
        super().__init__()

    # ---------------------------------------------------------------- accounts
    def owner(self, platform: str, native_id: str | None, username: str | None = None,
              name: str | None = None) -> tuple[str, str | None, str | None]:
        """The account of a page / IG user / Threads user: the registry's, else a public one."""
        key = (platform, str(native_id or username or ""))
        if key in self.owners:
            acc, terr, user = self.owners[key]
            if username and not user:
                self.owners[key] = (acc, terr, username)
            return self.owners[key]
        acc, terr, official = resolve_account(self.ctx, platform, native_id, username)
        if not official:
            acc = f"{platform}:{native_id or username}"
            self.accounts[acc] = account_row(acc, platform, native_id, username, name or username)
        self.owners[key] = (acc, terr, username)
        if username:  # later objects may name the owner by handle only
            self.owners[(platform, username)] = self.owners[key]
        return self.owners[key]

    def _followers(self, account_id: str, value: Any, day: date) -> None:
        n = _int(value)
        if n is not None:
            self.followers.append({"account_id": account_id, "date": day, "followers": n})

    def _official(self, platform: str, *keys: str | None) -> tuple[str, str | None] | None:
        """The registry account an author is (exactly), if any."""
        acc, terr, official = resolve_account(self.ctx, platform, *[k for k in keys if k])
        return (acc, terr) if official and acc else None

    # ---------------------------------------------------------------- Facebook
    def fb_page(self, p: dict, day: date) -> str:
        """``/{page-id}?fields=id,name,username,followers_count,fan_count``: account and followers."""
        acc, _, _ = self.owner(FB, str(p.get("id")), p.get("username"), p.get("name"))
        # followers_count is what the Page shows since the new Pages experience; fan_count (likes)
        # only stands in for Pages that do not report followers.
        self._followers(acc, p.get("followers_count", p.get("fan_count")), day)
        self.items += 1
        return acc

    def fb_post(self, p: dict, page_id: str | None = None) -> str | None:
        """One ``/{page}/posts`` item; returns its canonical id."""
        gid = str(p.get("id") or "")
        if not gid:
            return None
        page = fb_page_of(gid) or page_id or str((p.get("from") or {}).get("id") or "") or self.default_page or ""
        if not page:
            self.rejects.append(Reject(None, "id", gid, "publication Facebook sans Page identifiable"))
            return None
        acc, terr, _ = self.owner(FB, page, None, (p.get("from") or {}).get("name"))
        native = fb_post_native(gid)
        self.media_owner[(FB, native)] = (acc, terr, page)
        attach = ((p.get("attachments") or {}).get("data") or [{}])[0] or {}
        ptype = canonical_post_type(attach.get("media_type")) if attach.get("media_type") else None
        ptype = ptype or FB_STATUS_TYPES.get(str(p.get("status_type") or ""), None)
        shares = (p.get("shares") or {}).get("count") if isinstance(p.get("shares"), dict) else None
        if shares is None and "shares" not in p and ("reactions" in p or "comments" in p):
            shares = 0  # the Graph API leaves `shares` out when nobody shared the post
        row = {"post_id": f"{FB}:{native}", "platform": FB, "native_id": native, "account_id": acc,
               "territory_id": terr, "created_at": _utc(p.get("created_time")), "source_tz": "UTC",
               "text": clean_text(p.get("message")), "post_type": ptype or ("status" if p.get("message") else None),
               "permalink": p.get("permalink_url"), "reactions": _summary(p.get("reactions")),
               "comments": _summary(p.get("comments")), "shares": _int(shares)}
        for r in REACTION_TYPES:
            if r in p:
                row["likes" if r == "like" else r] = _summary(p.get(r))
        self._add_post(row)
        return row["post_id"]

    def fb_comment(self, c: dict, post_native: str | None = None) -> str | None:
        """One ``/{post}/comments`` item (``filter=stream``: replies carry ``parent``)."""
        cid = str(c.get("id") or "")
        if not cid:
            return None
        post_native = post_native or (cid.split("_", 1)[0] if _FB_ID.match(cid) else None)
        if post_native is None:
            self.rejects.append(Reject(None, "id", cid, "commentaire Facebook sans publication identifiable"))
            return None
        if "_" not in cid:
            cid = f"{post_native}_{cid}"
        owner = self.media_owner.get((FB, post_native))
        author = c.get("from") or {}
        page = owner[2] if owner else None
        off = self._official(FB, str(author.get("id") or "") or None) if author else None
        if off is None and page and str(author.get("id") or "") == page:
            off = owner[:2] if owner else None
        parent = (c.get("parent") or {}).get("id")
        if parent and "_" not in str(parent):
            parent = f"{post_native}_{parent}"
        self.items += 1
        self.messages[cid] = {
            "message_id": f"{FB}:{cid}", "platform": FB, "kind": "reply" if parent else "comment",
            "post_id": f"{FB}:{post_native}", "parent_id": f"{FB}:{parent}" if parent else None,
            "account_id": owner[0] if owner else None, "territory_id": owner[1] if owner else self.territory_id,
            "author_hash": None if off else self.ctx.author_hash(FB, author.get("id")),
            "author_name": author.get("name") if (self.ctx.keep_author_names and not off) else None,
            "is_official": bool(off), "created_at": _utc(c.get("created_time")), "source_tz": "UTC",
            "text": clean_text(c.get("message")), "likes": _int(c.get("like_count")),
            "replies": _int(c.get("comment_count"))}
        return f"{FB}:{cid}"

    # ---------------------------------------------------------------- Instagram
    def ig_user(self, u: dict, day: date) -> str:
        """``/{ig-user-id}?fields=id,username,name,followers_count,media_count``."""
        acc, _, _ = self.owner(IG, str(u.get("id") or "") or None, u.get("username"), u.get("name"))
        self._followers(acc, u.get("followers_count"), day)
        self.items += 1
        return acc

    def ig_media(self, m: dict, owner: tuple[str, str | None, str | None] | None = None) -> str | None:
        """One ``/{ig-user}/media`` (or business_discovery media) item."""
        mid = str(m.get("id") or "")
        if not mid:
            return None
        if owner is None:
            user = m.get("username") or (m.get("owner") or {}).get("username")
            uid = (m.get("owner") or {}).get("id")
            if not user and not uid and IG not in self.default_owner:
                self.rejects.append(Reject(None, "id", mid, "publication Instagram sans compte identifiable "
                                           "(demandez le champ username, ou importez avec --account)"))
                return None
            owner = self.owner(IG, uid, user) if (user or uid) else self.default_owner[IG]
        self.media_owner[(IG, mid)] = owner
        likes = _int(m.get("like_count"))
        ptype = "reel" if m.get("media_product_type") == "REELS" else IG_MEDIA_TYPES.get(str(m.get("media_type")))
        row = {"post_id": f"{IG}:{mid}", "platform": IG, "native_id": mid, "account_id": owner[0],
               "territory_id": owner[1], "created_at": _utc(m.get("timestamp")), "source_tz": "UTC",
               "text": clean_text(m.get("caption")), "post_type": ptype, "permalink": m.get("permalink"),
               "likes": likes, "reactions": likes,  # Instagram's one reaction is the like (as meta.py)
               "comments": _int(m.get("comments_count"))}
        self._add_post(row)
        return row["post_id"]

    def ig_comment(self, c: dict, media_id: str | None = None, parent: str | None = None) -> list[str]:
        """One ``/{media}/comments`` item and its nested ``replies``; returns the ids mapped."""
        cid = str(c.get("id") or "")
        media_id = media_id or str((c.get("media") or {}).get("id") or "") or None
        if not cid or not media_id:
            if cid:
                self.rejects.append(Reject(None, "id", cid, "commentaire Instagram sans publication identifiable"))
            return []
        parent = parent or c.get("parent_id")
        owner = self.media_owner.get((IG, media_id))
        user = c.get("username") or (c.get("from") or {}).get("username")
        off = None
        if owner and user and owner[2] and user.casefold() == owner[2].casefold():
            off = owner[:2]
        off = off or self._official(IG, user, (c.get("from") or {}).get("id"))
        self.items += 1
        self.messages[cid] = {
            "message_id": f"{IG}:{cid}", "platform": IG, "kind": "reply" if parent else "comment",
            "post_id": f"{IG}:{media_id}", "parent_id": f"{IG}:{parent}" if parent else None,
            "account_id": owner[0] if owner else None, "territory_id": owner[1] if owner else self.territory_id,
            "author_hash": None if off else self.ctx.author_hash(IG, user or (c.get("from") or {}).get("id")),
            "author_name": user if (self.ctx.keep_author_names and not off) else None,
            "is_official": bool(off), "created_at": _utc(c.get("timestamp")), "source_tz": "UTC",
            "text": clean_text(c.get("text")), "likes": _int(c.get("like_count"))}
        out = [f"{IG}:{cid}"]
        replies = (c.get("replies") or {}).get("data") if isinstance(c.get("replies"), dict) else None
        for r in replies or []:
            if isinstance(r, dict):
                out += self.ig_comment(r, media_id, cid)
        return out

    def discovery(self, body: dict, day: date) -> tuple[str, list[str]]:
        """A ``business_discovery`` body: the peer's followers and its media page."""
        bd = body.get("business_discovery") or {}
        acc = self.ig_user(bd, day)
        owner = self.owners[(IG, str(bd.get("id") or bd.get("username")))]
        ids = []
        for m in ((bd.get("media") or {}).get("data") or []):
            if isinstance(m, dict):
                pid = self.ig_media(m, owner)
                if pid:
                    ids.append(pid)
        return acc, ids

    # ---------------------------------------------------------------- Threads
    def threads_user(self, u: dict) -> tuple[str, str | None, str | None]:
        """``/me?fields=id,username,name``: the account whose token this is."""
        self.items += 1
        return self.owner(TH, str(u.get("id") or "") or None, u.get("username"), u.get("name"))

    def threads_followers(self, body: dict, account_id: str, day: date) -> None:
        """``/{user}/threads_insights?metric=followers_count``."""
        for item in body.get("data") or []:
            if isinstance(item, dict) and item.get("name") == "followers_count":
                self._followers(account_id, insight_value(item), day)

    def threads_post(self, t: dict, owner: tuple[str, str | None, str | None] | None = None) -> str | None:
        """One ``/{user}/threads`` item (a repost of someone else's post is skipped)."""
        tid = str(t.get("id") or "")
        if not tid:
            return None
        if t.get("media_type") == "REPOST_FACADE":
            self.skipped_reposts += 1
            return None
        if owner is None:
            if not t.get("username") and TH not in self.default_owner:
                self.rejects.append(Reject(None, "id", tid, "publication Threads sans compte identifiable "
                                           "(demandez le champ username, ou importez avec --account)"))
                return None
            owner = self.owner(TH, None, t["username"]) if t.get("username") else self.default_owner[TH]
        self.media_owner[(TH, tid)] = owner
        ptype = "quote" if t.get("is_quote_post") else TH_MEDIA_TYPES.get(str(t.get("media_type")))
        row = {"post_id": f"{TH}:{tid}", "platform": TH, "native_id": tid, "account_id": owner[0],
               "territory_id": owner[1], "created_at": _utc(t.get("timestamp")), "source_tz": "UTC",
               "text": clean_text(t.get("text")), "post_type": ptype, "permalink": t.get("permalink")}
        self._add_post(row)
        return row["post_id"]

    def threads_reply(self, r: dict, root: str | None = None) -> str | None:
        """One ``/{post}/conversation`` (or ``/replies``) item."""
        rid = str(r.get("id") or "")
        root = root or str((r.get("root_post") or {}).get("id") or "") or None
        if not rid or not root:
            return None
        parent = str((r.get("replied_to") or {}).get("id") or "") or root
        owner = self.media_owner.get((TH, root))
        user = r.get("username")
        off = owner[:2] if (owner and (r.get("is_reply_owned_by_me") is True or (
            user and owner[2] and user.casefold() == owner[2].casefold()))) else None
        off = off or self._official(TH, user)
        self.items += 1
        self.messages[rid] = {
            "message_id": f"{TH}:{rid}", "platform": TH, "kind": "reply", "post_id": f"{TH}:{root}",
            "parent_id": f"{TH}:{parent}", "account_id": owner[0] if owner else None,
            "territory_id": owner[1] if owner else self.territory_id,
            "author_hash": None if off else self.ctx.author_hash(TH, user),
            "author_name": user if (self.ctx.keep_author_names and not off) else None,
            "is_official": bool(off), "created_at": _utc(r.get("timestamp")), "source_tz": "UTC",
            "text": clean_text(r.get("text"))}
        return f"{TH}:{rid}"

    # ---------------------------------------------------------------- insights
    def insights(self, body: dict, post_id: str | None = None) -> int:
        """An ``/insights`` body of one post; merged into its row (now, or when it is mapped)."""
        n = 0
        for item in body.get("data") or []:
            if not isinstance(item, dict) or not item.get("name"):
                continue
            pid = post_id or self._insight_post(str(item.get("id") or ""))
            if pid is None:
                continue
            self.pending.setdefault(pid, {})[str(item["name"])] = insight_value(item)
            n += 1
        for pid in list(self.pending):
            self._merge_insights(pid)
        return n

    def _insight_post(self, insight_id: str) -> str | None:
        """``<object>/insights/<metric>/<period>`` → the canonical id of the post it describes."""
        obj = insight_id.split("/", 1)[0]
        if not obj:
            return None
        if _FB_ID.match(obj):
            return f"{FB}:{fb_post_native(obj)}"
        for plat in (IG, TH):
            if f"{plat}:{obj}" in self.posts:
                return f"{plat}:{obj}"
        return f"?:{obj}"  # resolved when the post is mapped (see _add_post)

    def _merge_insights(self, pid: str) -> None:
        row = self.posts.get(pid)
        if row is None:
            return
        for metric, value in self.pending.pop(pid).items():
            for col in INSIGHT_COLUMNS.get(row["platform"], {}).get(metric, ()):
                if value is not None:
                    row[col] = value

    def _add_post(self, row: dict) -> None:
        self.items += 1
        old = self.posts.get(row["post_id"])
        if old:  # metrics merged earlier (insights) survive a second sighting of the post
            row = {**old, **{k: v for k, v in row.items() if v is not None}}
        self.posts[row["post_id"]] = row
        early = self.pending.pop(f"?:{row['native_id']}", None)  # insights read before the post
        if early:
            self.pending.setdefault(row["post_id"], {}).update(early)
        if row["post_id"] in self.pending:
            self._merge_insights(row["post_id"])

    # ---------------------------------------------------------------- saved bodies
    def response(self, obj: Any, day: date) -> int:
        """Any supported response body; returns how many items it held (0: not a Graph body)."""
        if not isinstance(obj, dict):
            return 0
        before = self.items
        kind = body_kind(obj)
        if kind == "discovery":
            self.discovery(obj, day)
        elif kind == "fb_page":
            self.fb_page(obj, day)
        elif kind == "ig_user":
            self.ig_user(obj, day)
        elif kind == "threads_user":
            self.threads_user(obj)
        elif kind == "insights":
            data = obj.get("data") or []
            if any(isinstance(i, dict) and i.get("name") == "followers_count" for i in data):
                uid = str(data[0].get("id") or "").split("/", 1)[0]
                owner = self.owners.get((TH, uid))
                if owner:
                    self.threads_followers(obj, owner[0], day)
                    self.items += 1
            else:
                self.items += self.insights(obj)
        elif kind in ("list", "item"):
            for item in (obj.get("data") if kind == "list" else [obj]) or []:
                if isinstance(item, dict):
                    self.item(item)
        elif kind == "batch":
            for v in obj.values():
                self.response(v, day)
        return self.items - before

    def item(self, it: dict) -> None:
        """One element of a ``data`` list, recognised by its fields."""
        k = item_kind(it)
        if k == "fb_post":
            self.fb_post(it)
        elif k == "fb_comment":
            self.fb_comment(it)
        elif k == "ig_media":
            self.ig_media(it)
        elif k == "ig_comment":
            self.ig_comment(it)
        elif k == "threads_post":
            self.threads_post(it)
        elif k == "threads_reply":
            self.threads_reply(it)

    # ---------------------------------------------------------------- output
    def parsed(self, fmt: str = "meta_graph") -> Parsed:
        out = super().parsed(fmt)
        if self.skipped_reposts:
            out.notes.append(f"{fr_count(self.skipped_reposts, 'republication')} Threads d'autres comptes "
                             f"{fr_plural(self.skipped_reposts, 'ignorée')} (copies)")
        return out

    def reset(self) -> None:
        """Forget the rows (keep what was learnt about owners): the next batch starts empty."""
        super().reset()
        self.skipped_reposts = 0
        self.pending: dict[str, dict[str, int | None]] = {}  # insights of posts not (yet) mapped


# ============================================================================ shapes
def item_kind(it: dict) -> str | None:
    """What one ``data`` element is: fb_post, fb_comment, ig_media, ig_comment, threads_post/reply."""
    if not isinstance(it, dict) or "id" not in it:
        return None
    if it.get("media_product_type") == "THREADS" or _THREADS_URL.match(str(it.get("permalink") or "")) or \
            "root_post" in it or "replied_to" in it or "is_reply_owned_by_me" in it:
        return "threads_reply" if ("root_post" in it or "replied_to" in it or it.get("is_reply")) else "threads_post"
    if "created_time" in it:
        if any(k in it for k in ("like_count", "comment_count", "parent")) or \
                "comment_id=" in str(it.get("permalink_url") or ""):
            return "fb_comment"
        return "fb_post" if _FB_ID.match(str(it["id"])) else None
    if "timestamp" in it:
        if "text" in it and "media_type" not in it and "caption" not in it:
            return "ig_comment"
        if any(k in it for k in ("media_type", "caption", "permalink", "comments_count", "media_product_type")):
            return "ig_media"
    return None


def body_kind(obj: Any) -> str | None:
    """What a saved response body is (None: not a Graph / Threads body)."""
    if not isinstance(obj, dict):
        return None
    if isinstance(obj.get("business_discovery"), dict):
        return "discovery"
    data = obj.get("data")
    if isinstance(data, list):
        # X API v2 pages also have `data`: theirs carry `meta`/`includes` and `created_at`
        if "meta" in obj or "includes" in obj:
            return None
        first = next((i for i in data if isinstance(i, dict)), None)
        if first is None:  # an empty page, or insights not computed yet
            return "list" if not data or "paging" in obj else None
        if "name" in first and ("values" in first or "total_value" in first) and "period" in first:
            return "insights"
        return "list" if item_kind(first) else None
    if "id" in obj and ("followers_count" in obj or "fan_count" in obj):
        if "fan_count" in obj or "facebook.com" in str(obj.get("link") or ""):
            return "fb_page"
        # not a Mastodon account (acct, statuses_count), which also has id/username/followers_count
        if any(k in obj for k in ("media_count", "ig_id", "profile_picture_url")) and not any(
                k in obj for k in ("acct", "statuses_count")):
            return "ig_user"
    if "id" in obj and ("threads_biography" in obj or "threads_profile_picture_url" in obj):
        return "threads_user"
    if item_kind(obj):
        return "item"
    values = [v for v in obj.values()]
    if values and all(isinstance(v, dict) for v in values) and all(
            str(v.get("id")) == k for k, v in obj.items()) and any(body_kind(v) for v in values):
        return "batch"  # ?ids=a,b answers {"a": {...}, "b": {...}}
    return None


# ============================================================================ saved responses
class MetaGraphResponses(Adapter):
    name = "meta_graph"
    label = ("Meta — réponses enregistrées de l'API Graph (Page Facebook, Instagram, business_discovery, "
             "insights) et de l'API Threads (JSON/JSONL)")
    platform = FB
    signature = ("data", "paging", "cursors", "created_time", "business_discovery", "permalink_url")

    def sniff(self, probe: Probe) -> float:
        if probe.kind not in ("json", "jsonl"):
            return 0.0
        j = probe.json_head
        if isinstance(j, list):
            j = next((x for x in j if isinstance(x, dict)), None)
        if isinstance(j, dict) and j.get("data") == [] and "paging" not in j:
            return 0.0  # `{"data": []}` alone says nothing about who wrote it
        # above X API v2 (0.85), which also reads `{"data": [{"id", "text"}]}` pages
        return 0.92 if body_kind(j) else 0.0

    def parse(self, path: Path, probe: Probe, ctx: Context) -> Parsed:
        m = Mapper(ctx)
        hint = (ctx.account_hint or "").strip()
        platform, _, native = hint.partition(":")
        if platform in (FB, IG, TH) and native:
            a = ctx.registry.get_account(hint) if ctx.registry is not None else None
            m.territory_id = a.territory_id if a else None
            native = (a.native_id if a else native) or None
            m.default_owner[platform] = m.owner(platform, native, a.handle if a else None)
            m.default_page = native if platform == FB else None
        day = date.fromtimestamp(path.stat().st_mtime)
        found = 0
        for lineno, doc in json_documents(path, probe):
            # a JSON file may hold a list of bodies; a JSONL line is one body
            for obj in (doc if isinstance(doc, list) and probe.kind == "json" else [doc]):
                if isinstance(obj, ValueError):
                    m.rejects.append(Reject(lineno, None, str(obj), "ligne JSON illisible"))
                    continue
                n = m.response(obj, day)
                if n == 0 and body_kind(obj) is None:
                    m.rejects.append(Reject(lineno, None, str(obj)[:80], "objet JSON qui n'est pas une réponse Meta reconnue"))
                found += n
        if not found and not m.rejects:
            raise ImportFailure(f"{path} : aucune publication, aucun commentaire ni compte Meta dans ce fichier")
        lost = {k: v for k, v in m.pending.items() if k not in m.posts}
        out = m.parsed(self.name)
        if lost:
            out.notes.append(f"statistiques de {fr_count(len(lost), 'objet absent', 'objets absents')} du fichier (compte, ou publication "
                             "non enregistrée) ignorées")
        if m.followers:
            out.notes.append(f"abonnés datés du {day.isoformat()} (date du fichier)")
        return out


ADAPTERS = [MetaGraphResponses()]
