"""Meta connector: Facebook Page and Instagram (Graph API), Instagram peers (business_discovery), Threads.

One module for the three platforms (they share the Graph conventions: ``fields=``, ``paging``,
the error body ``{"error": {"code", "error_subcode", …}}``, the usage headers). What each source
reads (see ``docs/collecte/meta.md``):

- ``facebook``/``account`` (key: Page id, token ``[meta] page_token``): the Page's followers,
  its posts (``/{page}/posts`` with reactions by type, comments and shares), their views and
  viewers (``/insights``), their comments and replies (``/{post}/comments?filter=stream``).
- ``instagram``/``account`` (key: IG user id, same token): followers, media, media insights,
  comments and their replies.
- ``instagram``/``discovery`` (key: the peer's username, asked from ``[meta] instagram_user_id``):
  the peer's followers and media with their like and comment counts — no reach, no views, no
  comment text (business_discovery does not give them).
- ``threads``/``account`` (token ``[meta] threads_token``, Threads API): followers, posts,
  their views/likes/replies/reposts/quotes and the replies (``/{post}/conversation``).

Incremental like the Bluesky connector: each run pages the newest posts down to the newest post
already stored minus :data:`~analysis.collect.base.REFRESH_WINDOW`, re-reads comments only of
posts whose comment count changed, and saves a resume point after every page. A post stored
before and absent from the listing is marked deleted only once a direct read of it fails.
"""

from __future__ import annotations

import json
import re
from collections.abc import Callable, Iterator
from datetime import datetime
from typing import Any
from urllib.parse import parse_qsl, urlsplit

import httpx
import pandas as pd

from analysis.collect.base import REFRESH_WINDOW, Batch, Source, StoreView
from analysis.collect.http import ApiClient, AuthError, CollectError, NotFound, RateLimited, redact
from analysis.config import LOCAL_TZ
from analysis.ingest.base import Context
from analysis.ingest.meta_graph import FB, IG, TH, Mapper, _utc

PLATFORM = "facebook"  # this module also serves instagram and threads (runner.CONNECTOR_MODULES)
DEFAULT_API = "https://graph.facebook.com"
THREADS_API = "https://graph.threads.net"
GRAPH_VERSION = "v26.0"  # released 29 July 2026; v25.0 is served until July 2028
THREADS_VERSION = "v1.0"

FB_PAGE_FIELDS = "id,name,username,link,followers_count,fan_count"
FB_POST_FIELDS = ",".join([
    "id", "message", "created_time", "updated_time", "permalink_url", "status_type",
    "attachments{media_type,type}", "shares", "reactions.limit(0).summary(total_count)",
    "comments.filter(stream).limit(0).summary(true)",
    *(f"reactions.type({r.upper()}).limit(0).summary(total_count).as({r})"
      for r in ("like", "love", "wow", "haha", "sad", "angry", "care"))])
FB_COMMENT_FIELDS = "id,message,created_time,from,parent{id},like_count,comment_count"
# Only the replacements Meta named when it removed post_impressions* (Nov. 2025 / June 2026).
FB_POST_METRICS = "post_media_view,post_total_media_view_unique"
IG_USER_FIELDS = "id,username,name,followers_count,media_count"
IG_MEDIA_FIELDS = "id,username,caption,media_type,media_product_type,permalink,timestamp,like_count,comments_count"
_IG_COMMENT = "id,text,timestamp,username,like_count,parent_id,media{id}"
IG_COMMENT_FIELDS = f"{_IG_COMMENT},replies{{{_IG_COMMENT}}}"
# impressions, plays and video_views are gone since April 2025: views replaces them.
IG_MEDIA_METRICS = "views,reach,saved,shares,total_interactions"
DISCOVERY_MEDIA_FIELDS = "id,caption,like_count,comments_count,timestamp,media_type,media_product_type,permalink"
TH_USER_FIELDS = "id,username,name,threads_profile_picture_url,threads_biography"
TH_POST_FIELDS = "id,media_product_type,media_type,permalink,username,text,timestamp,shortcode,is_quote_post"
TH_REPLY_FIELDS = "id,text,timestamp,username,permalink,replied_to,root_post,is_reply_owned_by_me,hide_status"
TH_POST_METRICS = "views,likes,replies,reposts,quotes"
THREADS_EPOCH = 1688540400

PAGE = 100
IG_PAGE = 50
DISCOVERY_PAGE = 50
MAX_COMMENT_PAGES = 50  # a post with more comments is read in part (no deletion inferred)
USAGE_STOP = 95.0  # % of a Meta rate-limit window used: stop before the app gets blocked
DEFAULT_THROTTLE_WAIT = 300.0  # throttled without an estimate: Meta's windows are one hour long
RATE_CODES = {4, 17, 32, 613}
_GRAPH_NATIVE = re.compile(r"^\d+(_\d+)?$")
_KNOWN_PERMISSIONS = re.compile(r"\b(pages_[a-z_]+|instagram_[a-z_]+|threads_[a-z_]+|read_insights|"
                                r"business_management|Page Public Content Access)\b")


class PermissionMissing(AuthError):
    """The token lacks a permission (Graph codes 10, 200–299)."""


class NoInsights(CollectError):
    """Insights not available for one object (too few viewers, a metric Meta removed)."""


# ==================================================================================== client
def client(api: str | None, credentials: Any, sleep: Callable[[float], None]) -> ApiClient:
    return ApiClient(api or DEFAULT_API, "Meta", sleep=sleep, credentials=credentials,
                     token_hint="vérifiez [meta] page_token (ou threads_token pour Threads) dans "
                                "~/.config/vigie/credentials.toml — voir docs/collecte/meta.md")


def _setup(source: Source, client: ApiClient) -> None:
    """Token, API root, French name and Graph error reading for this source's platform."""
    creds = client.credentials
    label = {FB: "Facebook", IG: "Instagram", TH: "Threads"}[source.platform]
    name = "threads_token" if source.platform == TH else "page_token"
    if creds is None:
        raise AuthError(f"{label} : identifiants absents ([meta] {name}).")
    token = creds.require("meta", name, label)
    client.platform = label
    client.params = {**client.params, "access_token": token}
    if source.platform == TH and client.base_url == DEFAULT_API:
        client.base_url = THREADS_API
    client.error_hook = error_hook(source.platform, label)


def graph_error(r: httpx.Response) -> dict | None:
    """The ``error`` object of a Graph / Threads error body, if any."""
    try:
        body = r.json()
    except ValueError:
        return None
    err = body.get("error") if isinstance(body, dict) else None
    return err if isinstance(err, dict) else None


def usage_percent(headers: httpx.Headers) -> tuple[float, float | None]:
    """Highest use (%) of any Meta rate-limit window named in the usage headers, and the longest
    ``estimated_time_to_regain_access`` (seconds) they give (None when they give none)."""
    top, regain = 0.0, None
    for h in ("x-app-usage", "x-page-usage", "x-business-use-case-usage", "x-ad-account-usage"):
        raw = headers.get(h)
        if not raw:
            continue
        try:
            v = json.loads(raw)
        except ValueError:
            continue
        entries: list[dict] = []
        if isinstance(v, dict) and any(k in v for k in ("call_count", "total_time", "total_cputime")):
            entries = [v]
        elif isinstance(v, dict):  # BUC: {"<business id>": [{"type", "call_count", …}]}
            entries = [e for lst in v.values() if isinstance(lst, list) for e in lst if isinstance(e, dict)]
        for e in entries:
            for k in ("call_count", "total_time", "total_cputime", "acc_id_util_pct"):
                if isinstance(e.get(k), int | float):
                    top = max(top, float(e[k]))
            t = e.get("estimated_time_to_regain_access")
            if isinstance(t, int | float):
                regain = max(regain or 0.0, float(t) * 60.0)  # minutes
    return top, regain


def _permissions_for(platform: str, url: str) -> list[str]:
    """The permissions an endpoint needs (named in the French error when Meta does not say)."""
    path, query = url.split("?", 1)[0], url
    if platform == TH:
        if "/conversation" in path or "/replies" in path:
            return ["threads_basic", "threads_read_replies"]
        if "insights" in path:
            return ["threads_basic", "threads_manage_insights"]
        return ["threads_basic"]
    if platform == IG:
        if "business_discovery" in query:
            return ["instagram_basic", "instagram_manage_insights", "pages_read_engagement"]
        if "/insights" in path:
            return ["instagram_basic", "instagram_manage_insights"]
        if "/comments" in path:
            return ["instagram_basic", "instagram_manage_comments"]
        return ["instagram_basic", "pages_show_list", "pages_read_engagement"]
    if "/comments" in path:
        return ["pages_read_engagement", "pages_read_user_content"]
    if "/insights" in path:
        return ["read_insights", "pages_read_engagement"]
    return ["pages_show_list", "pages_read_engagement"]


def error_hook(platform: str, label: str) -> Callable[[httpx.Response], Exception | float | None]:
    """Read a Graph error body: expired token, throttling, permissions, unknown objects."""
    token = "threads_token" if platform == TH else "page_token"

    def hook(r: httpx.Response) -> Exception | float | None:
        if "retry-after" in r.headers:
            return None  # the client waits what the header says
        err = graph_error(r)
        if err is None:
            return None
        code, sub = err.get("code"), err.get("error_subcode")
        code = code if isinstance(code, int) else -1
        msg = redact(str(err.get("message") or ""))[:240]
        url = redact(str(r.request.url))
        if code in (190, 102):
            why = {463: "il a expiré", 460: "le mot de passe du compte Facebook a changé", 467: "il est invalide",
                   458: "l'application a été retirée du compte", 492: "la session n'est plus valide "
                   "(rôle retiré sur la Page ?)"}.get(sub, "il est invalide ou a expiré")
            how = ("générez un nouveau jeton Threads de longue durée (60 jours, renouvelable)" if platform == TH else
                   "générez un nouveau jeton de Page de longue durée (utilisateur système de Business Manager, "
                   "ou jeton de Page issu d'un jeton utilisateur de 60 jours)")
            return AuthError(f"{label} : jeton refusé — {why} (code {code}{f'/{sub}' if sub else ''}). Que faire : "
                             f"{how}, voir docs/collecte/meta.md « Obtenir les jetons », puis remplacez [meta] "
                             f"{token} dans ~/.config/vigie/credentials.toml. Détail : {msg}")
        if code in RATE_CODES or 80000 <= code <= 80014:
            _, regain = usage_percent(r.headers)
            if regain is None:
                return DEFAULT_THROTTLE_WAIT
            return max(regain, 60.0)  # « 0 minute » still means: not right now
        if code in (1, 2) and r.status_code < 500:
            return 5.0  # Meta's « unknown error » / « service temporarily unavailable »: retry soon
        if "/insights" in url.split("?", 1)[0] and (
                (code == 10 and "viewer" in msg.lower()) or (code == 100 and "metric" in msg.lower())):
            return NoInsights(msg)
        if code == 10 or 200 <= code <= 299:
            named = list(dict.fromkeys(_KNOWN_PERMISSIONS.findall(msg))) or _permissions_for(platform, url)
            perms = ", ".join(f"« {p} »" for p in named)
            return PermissionMissing(
                f"{label} : permission manquante ({perms}) pour l'appel « {url.split('?', 1)[0].rsplit('/', 1)[-1]} ». "
                f"Que faire : ajoutez-la aux cas d'usage de l'application Meta et régénérez le jeton ({token}) "
                "en l'accordant ; si l'application sert des comptes dont les administrateurs n'ont pas de rôle "
                "dans l'application, il faut l'accès avancé (examen de l'application, « App Review », et "
                f"vérification de l'entreprise). Voir docs/collecte/meta.md. Détail : {msg}")
        if code == 110 or sub == 2207013:
            return NotFound(f"{label} : compte introuvable par business_discovery — nom d'utilisateur inexistant, "
                            f"ou compte personnel (seuls les comptes professionnels sont lisibles). Détail : {msg}")
        if code in (100, 803) and (sub == 33 or code == 803 or "does not exist" in msg.lower()):
            return NotFound(f"{label} : objet introuvable ({url.split('?', 1)[0].rsplit('/', 2)[-1]}) — "
                            f"identifiant inexistant, supprimé, ou non visible avec ce jeton. Détail : {msg}")
        return None

    return hook


# ==================================================================================== batches
def batches(source: Source, client: ApiClient, cursor: dict | None, since: datetime, ctx: Context,
            known: StoreView) -> Iterator[Batch]:
    if (source.platform, source.kind) not in _COLLECTORS:
        raise CollectError(f"Meta : source « {source.platform}/{source.kind} » inconnue "
                           "(facebook/account, instagram/account, instagram/discovery, threads/account).")
    _setup(source, client)
    yield from _COLLECTORS[(source.platform, source.kind)](source, client, ctx, known).run(cursor or {}, since)


def _today() -> Any:
    return pd.Timestamp.now(tz=LOCAL_TZ).date()


def _iso(ts: datetime | None) -> str | None:
    return None if ts is None else pd.Timestamp(ts).isoformat()


def next_params(body: dict) -> dict | None:
    """Query of ``paging.next`` (without the token): the next request, sent to our own API root
    (a proxy or the replay server) rather than to the host the link names. None on the last page."""
    nxt = ((body or {}).get("paging") or {}).get("next")
    if not nxt:
        return None
    q = {k: v for k, v in parse_qsl(urlsplit(str(nxt)).query, keep_blank_values=True) if k != "access_token"}
    return q or None


class _Collector:
    """One source: its account, then passes over its listing (posts, insights, comments)."""

    platform = FB

    def __init__(self, source: Source, client: ApiClient, ctx: Context, known: StoreView) -> None:
        self.source, self.client, self.ctx, self.known = source, client, ctx, known
        self.m = Mapper(ctx, source.territory_id)
        self.account_id: str | None = None
        self.owner: tuple[str, str | None, str | None] | None = None
        self.insights_off = False
        self.notes: set[str] = set()

    # ---------------------------------------------------------------- plumbing
    def get(self, path: str, params: dict[str, Any] | None = None) -> dict:
        r = self.client.get(path, params)
        used, _ = usage_percent(r.headers)
        if used >= USAGE_STOP:
            raise RateLimited(f"{self.client.platform} : {used:.0f} % du quota d'appels Meta utilisé ; la collecte "
                              "s'arrête avant le blocage de l'application et reprendra au même point à la prochaine "
                              "collecte.")
        try:
            body = r.json()
        except ValueError:
            raise CollectError(f"{self.client.platform} : réponse illisible (pas du JSON) pour "
                               f"{redact(str(r.request.url))[:200]}") from None
        return body if isinstance(body, dict) else {}

    def note(self, text: str) -> None:
        if text not in self.notes:
            self.notes.add(text)
            self.m.notes.append(text)

    def batch(self, **kw: Any) -> Batch:
        b = Batch(parsed=self.m.parsed(), **kw)
        self.m.reset()
        return b

    # ---------------------------------------------------------------- what differs
    def account(self) -> Batch:  # pragma: no cover - abstract
        raise NotImplementedError

    def first_params(self, until: datetime) -> dict:  # pragma: no cover - abstract
        raise NotImplementedError

    def fetch(self, params: dict) -> tuple[list[dict], dict | None]:  # pragma: no cover - abstract
        raise NotImplementedError

    def created(self, item: dict) -> pd.Timestamp | None:
        return _utc(item.get("created_time") or item.get("timestamp"))

    def map_item(self, item: dict) -> str | None:  # pragma: no cover - abstract
        raise NotImplementedError

    def insights(self, post_id: str) -> None:
        """Merge the post's insights into its row (nothing by default)."""

    def comments(self, post_id: str) -> tuple[set[str], bool]:
        """Read the post's comments into the mapper: ``(ids seen, complete)``."""
        return set(), False

    def exists(self, post_id: str) -> bool:
        """Whether the post can still be read (only then is its absence from the listing no deletion)."""
        return True

    def read_directly(self, path: str) -> bool:
        try:
            self.get(path, {"fields": "id"})
        except NotFound:
            return False
        except PermissionMissing:
            return True  # unsure: never call a post deleted on a doubt
        except (RateLimited, AuthError):
            raise  # the run must stop (and resume later), not guess
        except CollectError:
            return True
        return True

    def graph_id(self, post_id: str) -> str:
        return post_id.split(":", 1)[1]

    # ---------------------------------------------------------------- the pass
    def run(self, cursor: dict, since: datetime) -> Iterator[Batch]:
        yield self.account()
        resume = cursor.get("resume")
        top_until = since
        if resume:
            newest = _utc(resume.get("newest"))
            yield from self.feed_pass(resume.get("params"), _utc(resume["until"]) or since, newest, False)
            if newest is not None:
                top_until = max(since, newest - REFRESH_WINDOW)
        yield from self.feed_pass(None, top_until, None, True)

    def feed_pass(self, start: dict | None, until: datetime, newest: datetime | None,
                  detect_deleted: bool) -> Iterator[Batch]:
        """Page the listing from ``start`` down to ``until``: a batch per page (posts and their
        insights), then the comments of posts whose count changed; the resume point after each."""
        params = start or self.first_params(until)
        seen: set[str] = set()
        while True:
            items, nxt = self.fetch(params)
            dated = [d for d in (self.created(i) for i in items) if d is not None]
            page: list[str] = []
            for item in items:
                c = self.created(item)
                if c is not None and c < until:
                    continue
                pid = self.map_item(item)
                if pid:
                    page.append(pid)
            seen |= set(page)
            if dated and (newest is None or max(dated) > newest):
                newest = max(dated)
            if not self.insights_off:
                for pid in page:
                    self.insights(pid)
            # comments to re-read: count changed since the last run, or never read (read before
            # this page is written)
            stored = self.known.comment_counts(page)
            with_messages = self._posts_with_messages(page)
            to_read = [p for p in page if (self.m.posts[p].get("comments") or 0) > 0 and (
                stored.get(p, -1) != self.m.posts[p].get("comments") or p not in with_messages)]
            if nxt is not None:  # our fields and limit, Meta's cursor (a saved link may abridge the rest)
                nxt = {**self.first_params(until), **nxt}
            done = nxt is None or not items or bool(dated and min(dated) < until)
            resume = None if done else {"params": nxt, "until": _iso(until), "newest": _iso(newest)}
            yield self.batch(cursor={"resume": resume} if resume else None)
            for pid in to_read:
                yield from self.comment_batch(pid)
            if done:
                break
            params = nxt
        deleted: list[str] = []
        if detect_deleted and self.account_id:
            # every post since `until` was on the pages read: one stored and absent was deleted —
            # if reading it directly fails too (an exported reel may not be in /posts)
            gone = self.known.post_ids(self.account_id, until) - seen
            deleted = [p for p in sorted(gone) if _GRAPH_NATIVE.match(p.split(":", 1)[1]) and not self.exists(p)]
        yield self.batch(cursor={"resume": None}, newest_at=newest, deleted_posts=deleted)

    def comment_batch(self, post_id: str) -> Iterator[Batch]:
        ids, complete = self.comments(post_id)
        deleted: list[str] = []
        if complete:
            stored = {i for i in self.known.message_ids([post_id])
                      if _GRAPH_NATIVE.match(i.split(":", 1)[1])}  # not the hashed ids of exports
            deleted = sorted(stored - ids)
        yield self.batch(deleted_messages=deleted)

    def _posts_with_messages(self, post_ids: list[str]) -> set[str]:
        if not post_ids:
            return set()
        rows = self.known.con.execute("SELECT DISTINCT post_id FROM messages WHERE post_id IN (SELECT unnest(?))",
                                      [post_ids]).fetchall()
        return {r[0] for r in rows}

    def paged(self, path: str, params: dict, max_pages: int = MAX_COMMENT_PAGES) -> Iterator[dict]:
        """Every item of an edge, following ``paging.next``; stops after ``max_pages``."""
        first = params
        for _ in range(max_pages):
            body = self.get(path, params)
            for item in body.get("data") or []:
                if isinstance(item, dict):
                    yield item
            nxt = next_params(body)
            if nxt is None:
                return
            params = {**first, **nxt}
        raise _Truncated

    def read_insights(self, path: str, metrics: str, post_id: str) -> None:
        try:
            body = self.get(path, {"metric": metrics})
        except NoInsights as e:
            self.note(f"statistiques indisponibles pour certaines publications (trop peu de vues, ou métrique "
                      f"retirée par Meta) : {e}")
            return
        except PermissionMissing as e:
            self.insights_off = True  # the rest of the run would fail the same way
            self.note(f"statistiques non collectées : {e}")
            return
        self.m.insights(body, post_id)


class _Truncated(Exception):
    """A comment list longer than :data:`MAX_COMMENT_PAGES` pages."""


# ------------------------------------------------------------------------------ Facebook Page
class _FacebookPage(_Collector):
    platform = FB

    def account(self) -> Batch:
        page = self.source.key.strip()
        try:
            body = self.get(f"{GRAPH_VERSION}/{page}", {"fields": FB_PAGE_FIELDS})
        except NotFound as e:
            raise NotFound(f"Facebook : Page « {page} » introuvable (identifiant numérique de la Page attendu, "
                           f"et le jeton doit être celui de cette Page). {e}") from None
        self.page_id = str(body.get("id") or page)
        self.account_id = self.m.fb_page(body, _today())
        self.owner = self.m.owners[(FB, self.page_id)]
        followers = body.get("followers_count", body.get("fan_count"))
        return self.batch(followers=followers if isinstance(followers, int) else None)

    def first_params(self, until: datetime) -> dict:
        return {"fields": FB_POST_FIELDS, "limit": PAGE}

    def fetch(self, params: dict) -> tuple[list[dict], dict | None]:
        body = self.get(f"{GRAPH_VERSION}/{self.page_id}/posts", params)
        return [i for i in body.get("data") or [] if isinstance(i, dict)], next_params(body)

    def map_item(self, item: dict) -> str | None:
        return self.m.fb_post(item, self.page_id)

    def graph_id(self, post_id: str) -> str:
        return f"{self.page_id}_{post_id.split(':', 1)[1]}"

    def insights(self, post_id: str) -> None:
        self.read_insights(f"{GRAPH_VERSION}/{self.graph_id(post_id)}/insights", FB_POST_METRICS, post_id)

    def comments(self, post_id: str) -> tuple[set[str], bool]:
        native = post_id.split(":", 1)[1]
        seen: set[str] = set()
        try:
            for c in self.paged(f"{GRAPH_VERSION}/{self.graph_id(post_id)}/comments",
                                {"fields": FB_COMMENT_FIELDS, "filter": "stream", "order": "chronological",
                                 "limit": PAGE}):
                mid = self.m.fb_comment(c, native)
                if mid:
                    seen.add(mid)
        except _Truncated:
            return seen, False
        except PermissionMissing as e:
            self.note(f"commentaires non collectés : {e}")
            return seen, False
        return seen, True

    def exists(self, post_id: str) -> bool:
        return self.read_directly(f"{GRAPH_VERSION}/{self.graph_id(post_id)}")


# ------------------------------------------------------------------------------ Instagram own
class _InstagramAccount(_Collector):
    platform = IG

    def account(self) -> Batch:
        uid = self.source.key.strip()
        try:
            body = self.get(f"{GRAPH_VERSION}/{uid}", {"fields": IG_USER_FIELDS})
        except NotFound as e:
            raise NotFound(f"Instagram : compte « {uid} » introuvable (identifiant du compte professionnel "
                           f"attendu, relié à la Page dont vient le jeton). {e}") from None
        self.ig_id = str(body.get("id") or uid)
        self.account_id = self.m.ig_user(body, _today())
        self.owner = self.m.owners[(IG, self.ig_id)]
        f = body.get("followers_count")
        return self.batch(followers=f if isinstance(f, int) else None)

    def first_params(self, until: datetime) -> dict:
        return {"fields": IG_MEDIA_FIELDS, "limit": IG_PAGE}

    def fetch(self, params: dict) -> tuple[list[dict], dict | None]:
        body = self.get(f"{GRAPH_VERSION}/{self.ig_id}/media", params)
        return [i for i in body.get("data") or [] if isinstance(i, dict)], next_params(body)

    def map_item(self, item: dict) -> str | None:
        return self.m.ig_media(item, self.owner)

    def insights(self, post_id: str) -> None:
        self.read_insights(f"{GRAPH_VERSION}/{self.graph_id(post_id)}/insights", IG_MEDIA_METRICS, post_id)

    def comments(self, post_id: str) -> tuple[set[str], bool]:
        media = self.graph_id(post_id)
        seen: set[str] = set()
        try:
            for c in self.paged(f"{GRAPH_VERSION}/{media}/comments", {"fields": IG_COMMENT_FIELDS, "limit": IG_PAGE}):
                seen |= set(self.m.ig_comment(c, media))
        except _Truncated:
            return seen, False
        except PermissionMissing as e:
            self.note(f"commentaires non collectés : {e}")
            return seen, False
        return seen, True

    def exists(self, post_id: str) -> bool:
        return self.read_directly(f"{GRAPH_VERSION}/{self.graph_id(post_id)}")


# ------------------------------------------------------------------------------ Instagram peers
class _InstagramDiscovery(_Collector):
    """A peer's public counts and media through business_discovery, asked from our own IG account."""

    platform = IG

    def __init__(self, *a: Any) -> None:
        super().__init__(*a)
        creds = self.client.credentials
        self.me = creds.require("meta", "instagram_user_id", "Instagram (pairs, business_discovery)")
        self.username = self.source.key.strip().lstrip("@")

    def _bd(self, media: str | None) -> dict:
        inner = "id,username,name,followers_count,media_count" + (f",{media}" if media else "")
        return self.get(f"{GRAPH_VERSION}/{self.me}",
                        {"fields": f"business_discovery.username({self.username}){{{inner}}}"})

    def account(self) -> Batch:
        try:
            body = self._bd(None)
        except NotFound as e:
            raise NotFound(f"Instagram : pair « {self.username} » introuvable. {e}") from None
        bd = body.get("business_discovery")
        if not isinstance(bd, dict) or not bd.get("id"):
            raise CollectError(f"Instagram : la réponse ne contient pas de business_discovery pour « {self.username} » "
                               f"(vérifiez [meta] instagram_user_id : l'identifiant de NOTRE compte professionnel).")
        self.account_id = self.m.ig_user(bd, _today())
        self.owner = self.m.owners[(IG, str(bd.get("id") or self.username))]
        self.note("pair lu par business_discovery : mentions J'aime et commentaires comptés, sans couverture, "
                  "vues ni texte des commentaires")
        f = bd.get("followers_count")
        return self.batch(followers=f if isinstance(f, int) else None)

    def first_params(self, until: datetime) -> dict:
        return {}

    def fetch(self, params: dict) -> tuple[list[dict], dict | None]:
        after = params.get("after")
        media = (f"media.after({after}).limit({DISCOVERY_PAGE})" if after else f"media.limit({DISCOVERY_PAGE})")
        body = self._bd(f"{media}{{{DISCOVERY_MEDIA_FIELDS}}}")
        page = ((body.get("business_discovery") or {}).get("media") or {})
        items = [i for i in page.get("data") or [] if isinstance(i, dict)]
        cur = ((page.get("paging") or {}).get("cursors") or {}).get("after")
        # business_discovery gives cursors but no `next` link: an empty page, no cursor or the same
        # cursor again ends it (the pass also stops at --since)
        nxt = {"after": cur} if cur and cur != after else None
        return items, nxt

    def map_item(self, item: dict) -> str | None:
        return self.m.ig_media(item, self.owner)

    # exists() stays True: a peer's media cannot be read directly, so its deletions are not inferred


# ------------------------------------------------------------------------------ Threads
class _ThreadsAccount(_Collector):
    platform = TH

    def account(self) -> Batch:
        body = self.get(f"{THREADS_VERSION}/me", {"fields": TH_USER_FIELDS})
        key = self.source.key.strip().lstrip("@").casefold()
        if key not in {str(body.get("id") or "").casefold(), str(body.get("username") or "").casefold()}:
            raise CollectError(f"Threads : le jeton [meta] threads_token est celui de @{body.get('username')}, pas de "
                               f"« {self.source.key} ». L'API Threads ne lit que le compte qui a donné son jeton : "
                               "générez-le en vous connectant avec le compte Threads du territoire.")
        self.user_id = str(body.get("id"))
        self.owner = self.m.threads_user(body)
        self.account_id = self.owner[0]
        followers = None
        try:
            ins = self.get(f"{THREADS_VERSION}/{self.user_id}/threads_insights", {"metric": "followers_count"})
            self.m.threads_followers(ins, self.account_id, _today())
            followers = self.m.followers[-1]["followers"] if self.m.followers else None
        except (PermissionMissing, NoInsights) as e:
            self.note(f"abonnés Threads non collectés : {e}")
        return self.batch(followers=followers)

    def first_params(self, until: datetime) -> dict:
        # the API refuses a `since` before Threads opened (5 July 2023)
        return {"fields": TH_POST_FIELDS, "limit": PAGE,
                "since": max(THREADS_EPOCH, int(pd.Timestamp(until).timestamp()))}

    def fetch(self, params: dict) -> tuple[list[dict], dict | None]:
        body = self.get(f"{THREADS_VERSION}/{self.user_id}/threads", params)
        return [i for i in body.get("data") or [] if isinstance(i, dict)], next_params(body)

    def map_item(self, item: dict) -> str | None:
        return self.m.threads_post(item, self.owner)

    def insights(self, post_id: str) -> None:
        self.read_insights(f"{THREADS_VERSION}/{self.graph_id(post_id)}/insights", TH_POST_METRICS, post_id)

    def comments(self, post_id: str) -> tuple[set[str], bool]:
        root = self.graph_id(post_id)
        seen: set[str] = set()
        try:
            for r in self.paged(f"{THREADS_VERSION}/{root}/conversation",
                                {"fields": TH_REPLY_FIELDS, "reverse": "false", "limit": PAGE}):
                mid = self.m.threads_reply(r, root)
                if mid:
                    seen.add(mid)
        except _Truncated:
            return seen, False
        except PermissionMissing as e:
            self.note(f"réponses non collectées : {e}")
            return seen, False
        return seen, True

    def exists(self, post_id: str) -> bool:
        return self.read_directly(f"{THREADS_VERSION}/{self.graph_id(post_id)}")


_COLLECTORS: dict[tuple[str, str], type[_Collector]] = {
    (FB, "account"): _FacebookPage,
    (IG, "account"): _InstagramAccount,
    (IG, "discovery"): _InstagramDiscovery,
    (TH, "account"): _ThreadsAccount,
}

__all__ = ["DEFAULT_API", "GRAPH_VERSION", "PLATFORM", "THREADS_API", "THREADS_VERSION", "batches", "client",
           "error_hook", "next_params", "usage_percent"]
