"""The demo's recorded API responses (Bluesky, Mastodon, press feeds), the local server that replays them
and the collection through the real connectors."""

from __future__ import annotations

import hashlib
import html
import json
import os
import re
import threading
from datetime import date, datetime, timedelta
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from pathlib import Path
from typing import Any
from urllib.parse import parse_qsl, unquote, urlsplit

import numpy as np

from analysis import store
from analysis.collect.credentials import Credentials
from analysis.collect.runner import collect
from analysis.collect.sources import declared_sources
from analysis.demo.files import _bsky_facets, _cid, _feed_document, _iso_ms
from analysis.demo.model import (
    ACCOUNT_START,
    COLLECTED,
    DEMO_BLUESKY_LOGIN,
    END,
    PLACES,
    PRESS,
    PRESS_FEED_FROM,
    START,
    Author,
    Sim,
    _acct_parts,
)
from analysis.demo.social import _hashtags, _search_hit, _words
from analysis.ingest import default_context
from analysis.registry import Account, Registry, sync_registry


class ReplayExports:
    """The replay manifest of :class:`analysis.demo.writers.Writer`."""

    sim: Sim
    root: Path
    rng: np.random.Generator
    files: list[dict]


    # -- API responses served to the collection ---------------------------------------------------------
    def replay(self) -> None:
        """What the platforms' APIs answer at the end of the period, in their real shapes, as a replay
        manifest (one response a line: method, path, selecting parameters, status, headers, body):
        ``build_report`` serves it on 127.0.0.1 and collects it through the real connectors."""

        plan = declared_sources(self.sim.registry, Credentials(values=dict(DEMO_BLUESKY_LOGIN)),
                                platforms=set(COLLECTED))
        out: dict[str, list[dict]] = {"bluesky": [], "mastodon": [], "press": []}
        for src in plan.sources:
            if src.platform == "bluesky" and src.kind == "account":
                out["bluesky"] += self._bsky_account(self.sim.registry.find_account("bluesky", src.key))
            elif src.platform == "bluesky":
                out["bluesky"] += self._bsky_search(src.key)
            elif src.platform == "mastodon" and src.kind == "account":
                out["mastodon"] += self._masto_account_routes(self.sim.registry.find_account("mastodon", src.key))
            elif src.platform == "mastodon":
                out["mastodon"] += self._masto_tag(src.key)
            else:
                out["press"] += self._feed_route(src)
        if any(s.platform == "bluesky" and s.kind == "search" for s in plan.sources):
            own = next(a for a in self.sim.registry.own()[0].accounts if a.platform == "bluesky")
            out["bluesky"].append({"method": "POST", "path": "/xrpc/com.atproto.server.createSession", "query": {},
                                   "json": {"did": own.native_id, "handle": own.handle, "active": True,
                                            "accessJwt": "demo-access-jwt", "refreshJwt": "demo-refresh-jwt"}})
        folder = self.root / "replay"
        folder.mkdir(parents=True, exist_ok=True)
        for plat, routes in out.items():
            lines = [json.dumps({"method": "GET", "query": {}, "status": 200, "headers": {}, **r}, ensure_ascii=False)
                     for r in routes]
            (folder / f"{plat}.jsonl").write_text("\n".join(lines) + "\n", encoding="utf-8")

    # Bluesky ------------------------------------------------------------------------------------
    def _bsky_actor(self, who: Author | Account) -> dict:
        """``profileViewBasic`` of an official account or a commenter."""
        if isinstance(who, Account):
            did, handle, name = who.native_id, who.handle, who.name
        else:
            did, handle, name = who.key, f"{who.handle}.bsky.social", who.name
        return {"did": did, "handle": handle, "displayName": name,
                "avatar": f"https://cdn.bsky.app/img/avatar/plain/{did}/bafkreiavatar@jpeg",
                "associated": {"chat": {"allowIncoming": "following"}}, "labels": [],
                "createdAt": "2025-01-14T09:12:40.511Z"}

    def _bsky_profile(self, acc: Account, followers: int, day: date) -> dict:
        """``profileViewDetailed`` (getProfile, getProfiles) of an official account."""
        if not hasattr(self, "_post_days"):
            self._post_days: dict[str, list[date]] = {}
            for p in self.sim.posts:
                if p["platform"] == "bluesky":
                    self._post_days.setdefault(p["account"].account_id, []).append(p["created_local"].date())
        n_posts = sum(1 for d in self._post_days.get(acc.account_id, []) if d < day)
        return {**self._bsky_actor(acc), "description": f"Compte officiel : {acc.name}.", "followersCount": followers,
                "followsCount": 60 + len(acc.name), "postsCount": n_posts,
                "indexedAt": f"{ACCOUNT_START.get((acc.territory_id, 'bluesky'), START).isoformat()}T08:00:00.000Z"}

    def _bsky_view(self, item: dict) -> dict:
        """``postView`` of a simulated post or message (record, counts, embed, facets, reply refs)."""
        key = ("bsky", id(item))
        if key not in self._views:  # a post is shown in its feed, its thread and its replies' context
            self._views[key] = self._bsky_view_new(item)
        return self._views[key]

    def _bsky_view_new(self, item: dict) -> dict:
        sim_post = "comments_users" in item
        acc = item["account"]
        author = self._bsky_actor(acc if (sim_post or item["is_official"]) else item["author"])
        text = item["text"]
        record: dict[str, Any] = {"$type": "app.bsky.feed.post", "createdAt": _iso_ms(item["created_utc"]),
                                  "text": text, "langs": [item.get("lang") or "fr"]}
        if not sim_post:
            parent = item["parent"] or item["post"]
            if parent is not None:
                root = item["post"] or parent
                record["reply"] = {"root": {"uri": root["native_id"], "cid": _cid(root["native_id"])},
                                   "parent": {"uri": parent["native_id"], "cid": _cid(parent["native_id"])}}
        facets = _bsky_facets(text, {a.handle: a.native_id for a in self.sim.registry.accounts
                                     if a.platform == "bluesky"})
        if facets:
            record["facets"] = facets
        if sim_post and item["post_type"] == "photo":
            record["embed"] = {"$type": "app.bsky.embed.images", "images": [{
                "alt": "Photo : " + text[:60], "image": {"$type": "blob", "ref": {"$link": _cid(item["native_id"] + "i")},
                                                         "mimeType": "image/jpeg", "size": 150000 + len(text) * 97}}]}
        elif sim_post and item["post_type"] == "link":
            record["embed"] = {"$type": "app.bsky.embed.external", "external": {
                "uri": f"https://www.{acc.territory_id}.example/actualites", "title": text[:70], "description": ""}}
        if sim_post:
            counts = {"replyCount": sum(1 for m in self._replies(item)), "repostCount": item["shares"],
                      "likeCount": item["reactions"], "quoteCount": item["shares"] // 12}
        else:
            counts = {"replyCount": int(bool(item.get("replied_by_official"))), "repostCount": 0,
                      "likeCount": item["likes"], "quoteCount": 0}
        return {"uri": item["native_id"], "cid": _cid(item["native_id"]), "author": author, "record": record,
                **counts, "indexedAt": _iso_ms(item["created_utc"] + timedelta(seconds=1)),
                "viewer": {"threadMuted": False, "embeddingDisabled": False}, "labels": []}

    def _replies(self, post: dict) -> list[dict]:
        """Citizens' replies directly under a post (official answers hang under them)."""
        return self._under.get(id(post), [])

    def _index_threads(self) -> None:
        self._views: dict[tuple, dict] = {}
        self._under: dict[int, list[dict]] = {}
        self._answers: dict[int, list[dict]] = {}
        for m in self.sim.messages:
            if m["platform"] not in ("bluesky", "mastodon"):
                continue
            if m["parent"] is not None:
                self._answers.setdefault(id(m["parent"]), []).append(m)
            elif m["post"] is not None:
                self._under.setdefault(id(m["post"]), []).append(m)

    def _bsky_account(self, acc: Account) -> list[dict]:
        sim = self.sim
        posts = [p for p in sim.posts if p["account"] is acc]
        answers = [m for m in sim.messages if m["account"] is acc and m["is_official"]]
        fol = sim.followers[acc.account_id]
        routes = [{"path": "/xrpc/app.bsky.actor.getProfile", "query": {"actor": acc.handle},
                   "json": self._bsky_profile(acc, int(fol.followers.iloc[-1]), END + timedelta(days=1))}]
        feed = [({"post": self._bsky_view(p)}, p["created_utc"]) for p in posts]
        for m in answers:  # the account's replies, with the thread they answer
            parent = m["parent"]
            root = m["post"] or parent
            feed.append(({"post": self._bsky_view(m), "reply": {
                "root": {"$type": "app.bsky.feed.defs#postView", **self._bsky_view(root)},
                "parent": {"$type": "app.bsky.feed.defs#postView", **self._bsky_view(parent)}}}, m["created_utc"]))
        feed.sort(key=lambda x: x[1], reverse=True)
        for i in range(0, max(len(feed), 1), 100):
            page = feed[i:i + 100]
            body: dict[str, Any] = {"feed": [x for x, _ in page]}
            if i + 100 < len(feed):
                body["cursor"] = _iso_ms(page[-1][1])
            query = {"actor": acc.handle} if i == 0 else {"actor": acc.handle, "cursor": _iso_ms(feed[i - 1][1])}
            routes.append({"path": "/xrpc/app.bsky.feed.getAuthorFeed", "query": query, "json": body})
        for p in posts:
            replies = self._replies(p)
            if not replies:
                continue
            node = {"$type": "app.bsky.feed.defs#threadViewPost", "post": self._bsky_view(p), "replies": [
                {"$type": "app.bsky.feed.defs#threadViewPost", "post": self._bsky_view(r), "replies": [
                    {"$type": "app.bsky.feed.defs#threadViewPost", "post": self._bsky_view(a), "replies": []}
                    for a in self._answers.get(id(r), [])]}
                for r in sorted(replies, key=lambda m: m["created_utc"])], "threadContext": {}}
            routes.append({"path": "/xrpc/app.bsky.feed.getPostThread", "query": {"uri": p["native_id"]},
                           "json": {"thread": node}})
        return routes

    def _bsky_search(self, q: str) -> list[dict]:
        if not hasattr(self, "_mention_words"):
            self._mention_words = [(m, _words(m["text"])) for m in self.sim.messages
                                   if m["platform"] == "bluesky" and m["kind"] == "mention" and not m["is_official"]]
        hits = sorted((m for m, words in self._mention_words if _search_hit(m["text"], q, words)),
                      key=lambda m: m["created_utc"], reverse=True)
        routes = []
        for i in range(0, max(len(hits), 1), 100):
            body: dict[str, Any] = {"posts": [self._bsky_view(m) for m in hits[i:i + 100]], "hitsTotal": len(hits)}
            if i + 100 < len(hits):
                body["cursor"] = str(i + 100)
            routes.append({"path": "/xrpc/app.bsky.feed.searchPosts",
                           "query": {"q": q} if i == 0 else {"q": q, "cursor": str(i)}, "json": body})
        return routes

    # Mastodon -----------------------------------------------------------------------------------
    def _masto_id(self, acct: str) -> str:
        """An account's (instance-local) id, stable for the demo."""
        return str(109_000_000_000_000_000 + int(hashlib.sha256(acct.lower().encode()).hexdigest()[:12], 16) % 10**15)

    def _masto_account(self, acct: str, answering: str, acc: Account | None = None, followers: int | None = None,
                       name: str | None = None) -> dict:
        """An Account entity as ``answering`` renders it (a local account's ``acct`` has no domain)."""
        user, inst = _acct_parts(acct)
        h = int(hashlib.sha256(acct.encode()).hexdigest()[:6], 16)
        if followers is None:
            followers = int(self.sim.followers[acc.account_id].followers.iloc[-1]) if acc else 20 + h % 400
        return {"id": self._masto_id(acct), "username": user, "acct": user if inst == answering else f"{user}@{inst}",
                "display_name": acc.name if acc else (name or user), "locked": False, "bot": False,
                "discoverable": True, "group": False, "created_at": "2025-01-20T00:00:00.000Z",
                "note": f"<p>Compte officiel : {acc.name}.</p>" if acc else "", "url": f"https://{inst}/@{user}",
                "uri": f"https://{inst}/users/{user}", "avatar": f"https://{inst}/avatars/original/missing.png",
                "avatar_static": f"https://{inst}/avatars/original/missing.png",
                "header": f"https://{inst}/headers/original/missing.png",
                "header_static": f"https://{inst}/headers/original/missing.png", "followers_count": followers,
                "following_count": 10 + h % 90, "statuses_count": 50 + h % 900, "last_status_at": "2026-10-31",
                "emojis": [], "fields": []}

    def _masto_who(self, item: dict) -> tuple[str, Account | None, str | None]:
        """``(acct, official account or None, display name)`` of the author of a post or message."""
        acc = item["account"]
        if "comments_users" in item or item["is_official"]:
            return acc.handle, acc, None
        return item["author"].key, None, item["author"].name

    def _masto_status(self, item: dict, answering: str) -> dict:
        """A Status entity of a simulated post or message, rendered by ``answering``."""
        key = (answering, id(item))
        if key not in self._views:  # a status is shown in its pages, its thread and its replies' context
            self._views[key] = self._masto_status_new(item, answering)
        return self._views[key]

    def _masto_status_new(self, item: dict, answering: str) -> dict:
        acct, acc, name = self._masto_who(item)
        user, inst = _acct_parts(acct)
        sim_post = "comments_users" in item
        text = item["text"]
        mentions = [] if sim_post else item.get("mentions") or []
        html_text = html.escape(text, quote=False)
        ents = []
        for who in mentions:
            u, i = _acct_parts(who)
            ents.append({"id": self._masto_id(who), "username": u, "url": f"https://{i}/@{u}",
                         "acct": u if i == answering else f"{u}@{i}"})
            html_text = html_text.replace(f"@{u}", f'<span class="h-card" translate="no"><a href="https://{i}/@{u}" '
                                                   f'class="u-url mention">@<span>{u}</span></a></span>', 1)
        html_text = re.sub(r"(?<![\w#])#(\w+)", lambda mm: f'<a href="https://{answering}/tags/{mm.group(1).lower()}" '
                           f'class="mention hashtag" rel="tag">#<span>{mm.group(1)}</span></a>', html_text)
        answered = None if sim_post else (item["parent"] or item["post"])
        if sim_post:
            counts = {"replies_count": len(self._replies(item)), "reblogs_count": item["shares"],
                      "favourites_count": item["reactions"]}
        else:
            counts = {"replies_count": len(self._answers.get(id(item), [])), "reblogs_count": 0,
                      "favourites_count": item["likes"]}
        media, card = [], None
        if sim_post and item["post_type"] == "photo":
            media = [{"id": str(int(item["status_id"]) + 1), "type": "image", "url": f"https://{inst}/media/{item['status_id']}.jpg",
                      "preview_url": f"https://{inst}/media/small/{item['status_id']}.jpg", "remote_url": None,
                      "description": "Photo : " + text[:60], "blurhash": "UKHx~", "meta": {}}]
        elif sim_post and item["post_type"] == "link":
            card = {"url": f"https://www.{acc.territory_id}.example/actualites", "title": text[:70], "description": "",
                    "type": "link", "author_name": "", "author_url": "", "provider_name": f"{acc.territory_id}.example",
                    "provider_url": "", "html": "", "width": 0, "height": 0, "image": None, "embed_url": "",
                    "blurhash": None}
        return {"id": item["status_id"], "created_at": _iso_ms(item["created_utc"]),
                "in_reply_to_id": answered["status_id"] if answered else None,
                "in_reply_to_account_id": self._masto_id(self._masto_who(answered)[0]) if answered else None,
                "sensitive": False, "spoiler_text": "", "visibility": "public",
                "language": item.get("lang") or "fr", "uri": item["native_id"],
                "url": f"https://{inst}/@{user}/{item['status_id']}", **counts, "edited_at": None,
                "content": f"<p>{html_text}</p>", "reblog": None,
                "application": {"name": "Web", "website": None} if inst == answering else None,
                "account": self._masto_account(acct, answering, acc, name=name), "media_attachments": media,
                "mentions": ents, "tags": [{"name": t, "url": f"https://{answering}/tags/{t}"} for t in _hashtags(text)],
                "emojis": [], "card": card, "poll": None}

    def _masto_pages(self, path: str, statuses: list[dict], answering: str, page: int = 40) -> list[dict]:
        """Pages of statuses (newest first) linked by ``Link: <…?max_id=…>; rel="next"``."""
        routes = []
        for i in range(0, max(len(statuses), 1), page):
            part = statuses[i:i + page]
            headers = {}
            if part:
                link = f"https://{answering}{path}"
                nxt = f'<{link}?max_id={part[-1]["id"]}>; rel="next", ' if i + page < len(statuses) else ""
                headers["Link"] = nxt + f'<{link}?min_id={part[0]["id"]}>; rel="prev"'
            query = {} if i == 0 else {"max_id": statuses[i - 1]["id"]}
            routes.append({"path": path, "query": query, "headers": headers, "json": part})
        return routes

    def _masto_account_routes(self, acc: Account) -> list[dict]:
        sim = self.sim
        user, inst = _acct_parts(acc.handle)
        routes = [{"path": "/api/v1/accounts/lookup", "query": {"acct": user}, "json": self._masto_account(acc.handle, inst, acc)}]
        items = [p for p in sim.posts if p["account"] is acc] + [m for m in sim.messages if m["account"] is acc and m["is_official"]]
        items.sort(key=lambda x: x["created_utc"], reverse=True)
        path = f"/api/v1/accounts/{self._masto_id(acc.handle)}/statuses"
        routes += self._masto_pages(path, [self._masto_status(x, inst) for x in items], inst)
        for x in items:
            if "comments_users" in x:  # a post: its thread
                desc = []
                for r in sorted(self._replies(x), key=lambda m: m["created_utc"]):
                    desc.append(r)
                    desc += sorted(self._answers.get(id(r), []), key=lambda m: m["created_utc"])
                if not desc:
                    continue
                body = {"ancestors": [], "descendants": [self._masto_status(d, inst) for d in desc]}
            else:  # an official reply: what it answers
                anc = ([x["post"]] if x["post"] is not None else []) + [x["parent"]]
                body = {"ancestors": [self._masto_status(a, inst) for a in anc], "descendants": []}
            routes.append({"path": f"/api/v1/statuses/{x['status_id']}/context", "json": body})
        return routes

    def _masto_tag(self, key: str) -> list[dict]:
        tag, _, inst = key.lstrip("#").rpartition("@")
        items = [x for x in (*self.sim.posts, *self.sim.messages)
                 if x["platform"] == "mastodon" and tag.lower() in _hashtags(x["text"])]
        items.sort(key=lambda x: x["created_utc"], reverse=True)
        path = f"/api/v1/timelines/tag/{tag}"
        return self._masto_pages(path, [self._masto_status(x, inst) for x in items], inst)

    # Press ---------------------------------------------------------------------------------------
    def _feed_route(self, src) -> list[dict]:
        """The feed as the daily serves it at the end of the period (its latest items), with validators."""
        cfg = PRESS[src.territory_id]
        items = [i for i in self.sim.press if i["territory_id"] == src.territory_id
                 and i["created_local"].date() >= PRESS_FEED_FROM]
        doc = _feed_document(cfg, PLACES[src.territory_id][0], src.key, items, END + timedelta(days=1))
        parts = urlsplit(src.key)
        ctype = "application/atom+xml; charset=utf-8" if cfg["dialect"] == "atom" else "application/rss+xml; charset=utf-8"
        return [{"path": f"/{parts.netloc}{parts.path}", "text": doc,
                 "headers": {"Content-Type": ctype, "ETag": '"' + hashlib.sha256(doc.encode()).hexdigest()[:16] + '"',
                             "Last-Modified": "Sat, 31 Oct 2026 18:30:00 GMT"}}]


# ------------------------------------------------------------------------------ collection (replay)
class ReplayServer:
    """A tiny local HTTP API on 127.0.0.1 (a random port) answering the responses recorded by
    :meth:`Writer.replay`: the demo collects Bluesky, Mastodon and the press feeds through the real
    connectors with ``--api`` pointed at it, as their tests do. Nothing leaves the machine.

    A route is a method, a path and the query parameters that select a page (``cursor``, ``max_id``,
    ``actor``…: those any recorded response of that path names); other parameters are ignored. A
    response with an ``ETag`` answers ``304`` to a matching ``If-None-Match``. Unknown routes: 404.
    """

    def __init__(self, manifests: list[Path]) -> None:
        raw: dict[tuple[str, str], list[dict]] = {}
        for path in manifests:
            for line in path.read_text(encoding="utf-8").splitlines():
                if line.strip():
                    r = json.loads(line)
                    raw.setdefault((r["method"], r["path"]), []).append(r)
        self.routes: dict[tuple[str, str], tuple[tuple[str, ...], dict[tuple, dict]]] = {}
        for key, rules in raw.items():
            select = tuple(sorted({k for r in rules for k in r["query"]}))
            self.routes[key] = (select, {tuple(r["query"].get(k) for k in select): r for r in rules})
        self.requests = 0
        self._server: ThreadingHTTPServer | None = None
        self._thread: threading.Thread | None = None

    @property
    def url(self) -> str:
        assert self._server is not None, "serveur de rejeu non démarré"
        host, port = self._server.server_address[:2]
        return f"http://{host}:{port}"

    def answer(self, method: str, target: str, headers: Any) -> tuple[int, dict[str, str], bytes]:
        """``(status, headers, body)`` for one request."""
        self.requests += 1
        parts = urlsplit(target)
        path = unquote(parts.path)
        query = dict(parse_qsl(parts.query, keep_blank_values=True))
        route = self.routes.get((method, path))
        rule = route[1].get(tuple(query.get(k) for k in route[0])) if route else None
        if rule is None:
            body = json.dumps({"error": "NotFound", "message": f"aucune réponse enregistrée pour {path}"})
            return 404, {"Content-Type": "application/json"}, body.encode()
        out = dict(rule["headers"])
        if out.get("ETag") and headers.get("If-None-Match") == out["ETag"]:
            return 304, {"ETag": out["ETag"]}, b""
        if "text" in rule:
            return rule["status"], out, rule["text"].encode("utf-8")
        out.setdefault("Content-Type", "application/json; charset=utf-8")
        return rule["status"], out, json.dumps(rule["json"], ensure_ascii=False).encode("utf-8")

    def __enter__(self) -> ReplayServer:
        self._server = ThreadingHTTPServer(("127.0.0.1", 0), _ReplayHandler)
        self._server.daemon_threads = True
        self._server.replay = self  # type: ignore[attr-defined]
        self._thread = threading.Thread(target=self._server.serve_forever, name="vigie-demo-replay", daemon=True)
        self._thread.start()
        return self

    def __exit__(self, *exc: object) -> None:
        if self._server is not None:
            self._server.shutdown()
            self._server.server_close()
        if self._thread is not None:
            self._thread.join(timeout=5)


class _ReplayHandler(BaseHTTPRequestHandler):
    protocol_version = "HTTP/1.1"  # keep-alive: the connectors' client reuses its connection
    # Headers and body leave in two writes: with Nagle's algorithm the body would wait for the
    # client's delayed ACK (40 ms a request).
    disable_nagle_algorithm = True

    def _reply(self) -> None:
        length = int(self.headers.get("Content-Length") or 0)
        if length:
            self.rfile.read(length)  # a login's JSON body: read, not needed
        status, headers, body = self.server.replay.answer(self.command, self.path, self.headers)  # type: ignore[attr-defined]
        self.send_response(status)
        for k, v in headers.items():
            self.send_header(k, v)
        self.send_header("Content-Length", str(len(body)))
        self.end_headers()
        if body:
            self.wfile.write(body)

    do_GET = do_POST = _reply

    def log_message(self, format: str, *args: Any) -> None:  # noqa: A002 - the base class's name
        pass  # quiet: the collection runs say what was asked


def collect_replay(exports_dir: str | os.PathLike, con, registry: Registry) -> list:
    """Collect every Bluesky, Mastodon and press source the registry declares from the recorded
    responses of ``exports_dir/replay`` served on 127.0.0.1 (``since`` = the demo's first day), so
    that ``collect_runs`` and ``collect_state`` hold real runs. The server stops whatever happens."""

    with store.transaction(con):
        sync_registry(con, registry)  # the official accounts the connectors file things under
    creds = Credentials(values=dict(DEMO_BLUESKY_LOGIN))
    plan = declared_sources(registry, creds, platforms=set(COLLECTED))
    manifests = sorted((Path(exports_dir) / "replay").glob("*.jsonl"))
    with ReplayServer(manifests) as server:
        # The replay stands for a collection the day after the demo period: the followers counts
        # it reads are dated that day, not the day the demo is built (same seed, same store).
        return collect(con, plan.sources, default_context(registry=registry), api=server.url,
                       since=datetime.combine(START, datetime.min.time()), credentials=creds,
                       sleep=lambda seconds: None, as_of=END + timedelta(days=1))
