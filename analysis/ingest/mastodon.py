"""Mastodon (any instance): REST API responses → canonical rows.

The same code maps what ``vigie collect mastodon`` fetches and the saved responses that
``vigie import`` reads (JSON or JSONL dumps of ``/api/v1/accounts/:id``, ``…/lookup``,
``/api/v1/accounts/:id/statuses``, ``/api/v1/statuses/:id/context``, ``/api/v1/timelines/tag/:tag``).

Design choices (documented once, here; the same as Bluesky's where the platforms agree):
- Ids are the status ``uri`` (``mastodon:https://instance/users/ville/statuses/1133…``): the
  numeric ``id`` is local to the instance that answered (the same status has another id on every
  instance), the ``uri`` is global. The permalink is the ``url``.
- An account is known by its full address ``@user@domain``: a local account's ``acct`` lacks the
  domain, which is then the instance asked (collection) or the host of the account's ``url``
  (saved responses). Commenters are pseudonymised from that address.
- A status of an official account is a **post**, except a reply it writes to someone else, which
  is a **message** (kind ``reply``, ``is_official`` TRUE): response times need it. A reply to its
  own status (a thread) stays a post. Boosts (``reblog``) are copies of others' statuses: not
  stored, counted in a note.
- Any other status is a message: ``reply`` when it answers an official status or sits in a
  thread whose root is an official post (``post_id`` = that post, ``parent_id`` = the status
  answered), else ``mention``, addressed to the official account it answers or mentions, else
  filed under the source's territory (hashtag timelines) or the territory its text names.
- ``in_reply_to_id`` is a local id: the status answered is known only once it has been met
  (a page, a context). A reply met before its parent waits and is mapped again when the parent
  shows up, so the order of the responses does not change the rows.
- Only ``public`` and ``unlisted`` statuses are kept: followers-only and direct messages (which a
  token may show) are private correspondence, counted in a note and never stored.
- ``content`` is HTML: paragraphs and ``<br>`` become line breaks, links, mentions and hashtags
  keep their text; the content warning (``spoiler_text``) comes first.
"""

from __future__ import annotations

import re
from datetime import UTC, date, datetime
from pathlib import Path
from typing import Any
from urllib.parse import urlparse

import pandas as pd
from lxml import etree
from lxml import html as lxml_html

from analysis.fmt import fr_count, fr_plural
from analysis.ingest.api_rows import RowSink, json_documents
from analysis.ingest.base import Adapter, Context, ImportFailure, Parsed, Reject, clean_text
from analysis.ingest.generic import account_row, resolve_account
from analysis.ingest.sniff import Probe

PLATFORM = "mastodon"
PUBLIC = ("public", "unlisted")
_BLOCKS = {"p", "div", "blockquote", "li", "ul", "ol", "pre", "h1", "h2", "h3", "h4", "h5", "h6"}


def status_id(uri: str) -> str:
    """Canonical id of a status (post or message) from its global ``uri``."""
    return f"{PLATFORM}:{uri}"


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


def _int(v: Any) -> int | None:
    try:
        return None if v is None or isinstance(v, bool) else int(v)
    except (TypeError, ValueError):
        return None


def host(url: str | None) -> str | None:
    """Lower-case host of a URL (None when there is none)."""
    if not url:
        return None
    h = urlparse(str(url)).hostname
    return h.lower() if h else None


def full_acct(account: dict | None, instance: str | None = None) -> str | None:
    """``@user@domain`` of an account or mention entity; a local ``acct`` gets ``instance`` (the
    instance that answered), else the host of the account's ``url``."""
    if not isinstance(account, dict):
        return None
    acct = str(account.get("acct") or account.get("username") or "").strip().lstrip("@")
    if not acct:
        return None
    if "@" in acct:
        return f"@{acct}"
    domain = instance or host(account.get("url"))
    return f"@{acct}@{domain}" if domain else f"@{acct}"


# ------------------------------------------------------------------------------------ HTML
def html_to_text(content: Any) -> str | None:
    """Plain text of a status' HTML ``content``: paragraphs separated by a blank line, ``<br>``
    a line break, links/mentions/hashtags their text (the full address of a shortened link)."""
    if content is None or not str(content).strip():
        return None
    try:
        root = lxml_html.fragment_fromstring(str(content), create_parent="div")
    except (etree.ParserError, ValueError):
        return clean_text(re.sub(r"<[^>]+>", " ", str(content)))
    parts: list[str] = []
    for child in root:
        _walk(child, parts, pre=False)
    text = (root.text or "") + "".join(parts)
    text = re.sub(r"[ \t]*\n[ \t]*", "\n", text)
    text = re.sub(r"\n{3,}", "\n\n", text)
    return clean_text(text)


def _walk(el: Any, parts: list[str], pre: bool) -> None:
    tag = el.tag.lower() if isinstance(el.tag, str) else None  # None: a comment
    if tag == "br":
        parts.append("\n")
    elif tag in ("script", "style"):
        pass
    elif tag is not None:
        block = tag in _BLOCKS
        inner_pre = pre or tag == "pre"
        if block:
            parts.append("\n\n")
        if el.text:
            parts.append(el.text if inner_pre else re.sub(r"\s+", " ", el.text))
        for child in el:
            _walk(child, parts, inner_pre)
        if block:
            parts.append("\n\n")
    if el.tail:
        parts.append(el.tail if pre else re.sub(r"\s+", " ", el.tail))


def status_text(s: dict) -> str | None:
    """The content warning (if any) then the text of a status."""
    spoiler = clean_text(s.get("spoiler_text"))
    body = html_to_text(s.get("content"))
    return "\n\n".join(p for p in (spoiler, body) if p) or None


_MEDIA_TYPE = {"image": "photo", "gifv": "video", "video": "video", "audio": "audio"}


def post_type(s: dict) -> str:
    media = [m for m in s.get("media_attachments") or [] if isinstance(m, dict)]
    if media:
        return _MEDIA_TYPE.get(str(media[0].get("type")), "photo")
    if s.get("poll"):
        return "poll"
    if isinstance(s.get("quote"), dict):
        return "quote"
    if s.get("card"):
        return "link"
    return "status"


# ------------------------------------------------------------------------------------ mapper
class Mapper(RowSink):
    """Accumulates canonical rows from Mastodon entities (Account, Status, Context).

    ``territory_id``: territory of the source (hashtag timeline) for mentions naming no official
    account; ``instance``: the instance that answered (the domain of its local accounts). What it
    learns about accounts and statuses (official or not, local ids, thread links) outlives
    :meth:`reset`, so later pages and contexts are classified with it.
    """

    def __init__(self, ctx: Context, territory_id: str | None = None, instance: str | None = None) -> None:
        self.ctx = ctx
        self.territory_id = territory_id
        self.instance = instance.lower() if instance else None
        self.officials: dict[str, tuple[str, str | None] | None] = {}  # full acct (folded) -> official
        self.official_ids: dict[str, tuple[str, str | None]] = {}  # local account id -> official
        self.uris: dict[str, str] = {}  # local status id -> uri
        self.parents: dict[str, str | None] = {}  # uri -> uri answered (None: not a reply)
        self.roots: dict[str, str] = {}  # uri -> uri of its thread's first status, when known
        self.authors: dict[str, tuple[str, str | None] | None] = {}  # uri -> official author
        self.waiting: dict[str, dict[str, dict]] = {}  # local id of an unseen parent -> {uri: status}
        super().__init__()

    # ---------------------------------------------------------------- identities
    def learn(self, account: dict | None) -> tuple[str, str | None] | None:
        """Register an account or mention entity; its official account if it is one."""
        full = full_acct(account, self.instance)
        if not full:
            return None
        key = full.casefold()
        if key not in self.officials:
            keys = [full]
            alt = full_acct(account)  # the domain of its url, should the instance differ
            if alt and alt != full:
                keys.append(alt)
            acc, terr, official = resolve_account(self.ctx, PLATFORM, *keys)
            self.officials[key] = (acc, terr) if official else None
        off = self.officials[key]
        if off and isinstance(account, dict) and account.get("id") is not None:
            self.official_ids[str(account["id"])] = off
        return off

    def adopt(self, account: dict, territory_id: str | None, day: date) -> str:
        """Treat an account absent from the registry as official (named on the command line)."""
        full = full_acct(account, self.instance) or f"@{account.get('id')}"
        acc = f"{PLATFORM}:{full}"
        self.officials[full.casefold()] = (acc, territory_id)
        if account.get("id") is not None:
            self.official_ids[str(account["id"])] = (acc, territory_id)
        self.accounts[acc] = account_row(acc, PLATFORM, account.get("url"), full, account.get("display_name"))
        self._followers(acc, account, day)
        return acc

    def account(self, a: dict, day: date) -> str | None:
        """An Account entity: the followers count of an official account (its id, else None)."""
        off = self.learn(a)
        if not off:
            self.strangers.add(full_acct(a, self.instance) or str(a.get("id")))
        if off:
            self._followers(off[0], a, day)
            moved = a.get("moved")
            if isinstance(moved, dict) and full_acct(moved):
                self.notes.append(f"le compte {full_acct(a, self.instance)} a déménagé vers {full_acct(moved)} : "
                                  "mettez à jour le registre des territoires")
        return off[0] if off else None

    def _followers(self, acc: str, a: dict, day: date) -> None:
        n = _int(a.get("followers_count"))
        if n is not None:
            self.followers.append({"account_id": acc, "date": day, "followers": n})

    # ---------------------------------------------------------------- statuses
    def link(self, s: dict) -> str | None:
        """Register a status' local id, author and place in its thread, without a row."""
        uri = s.get("uri")
        if not uri or not isinstance(s.get("account"), dict):
            return None
        self._register(s, uri)
        self._release(s.get("id"))
        return uri

    def _release(self, sid: Any) -> None:
        """Map again the statuses that were waiting for this one (their parent) to be known."""
        for s in (self.waiting.pop(str(sid), {}) if sid is not None else {}).values():
            self.status(s, again=True)

    def status(self, s: dict, *, again: bool = False) -> str | None:
        """One Status entity (any endpoint); returns its uri when it was mapped."""
        if not isinstance(s, dict):
            return None
        if isinstance(s.get("reblog"), dict):
            self.reblogs.add(str(s.get("uri") or s.get("id")))
            return None
        uri, author = s.get("uri"), s.get("account")
        if not uri or not isinstance(author, dict) or not full_acct(author):
            return None
        if s.get("visibility", "public") not in PUBLIC:
            self.hidden.add(uri)
            self.link(s)  # its replies may still be public: they need to know where they hang
            return None
        if not again:
            self.items += 1
        mentions = [m for m in s.get("mentions") or [] if isinstance(m, dict)]
        mentioned = [off for off in (self.learn(m) for m in mentions) if off]
        off = self.learn(author)
        reply_to = s.get("in_reply_to_id")
        self._register(s, uri)
        if reply_to is not None and self.parents.get(uri) is None:
            self.waiting.setdefault(str(reply_to), {})[uri] = s
        self_reply = reply_to is not None and str(s.get("in_reply_to_account_id")) == str(author.get("id"))
        created = _utc(s.get("created_at"))
        text = status_text(s)
        lang = str(s["language"]).lower()[:8] if s.get("language") else None
        likes, replies, reblogs = (_int(s.get("favourites_count")), _int(s.get("replies_count")),
                                   _int(s.get("reblogs_count")))
        edited = _utc(s.get("edited_at"))
        if off and (reply_to is None or self_reply):
            self.messages.pop(uri, None)
            self.posts[uri] = {
                "post_id": status_id(uri), "platform": PLATFORM, "native_id": uri, "account_id": off[0],
                "territory_id": off[1], "created_at": created, "source_tz": "UTC", "text": text,
                "post_type": post_type(s), "permalink": s.get("url") or uri, "lang": lang,
                "reactions": likes, "likes": likes, "comments": replies, "shares": reblogs,
                "quotes": _int(s.get("quotes_count")), "edited_at": edited}
        else:
            root = self.roots.get(uri)
            root_off = self.authors.get(root) if root and root != uri else None
            parent_off = self.official_ids.get(str(s.get("in_reply_to_account_id"))) if reply_to is not None else None
            addressed = root_off or parent_off or (mentioned[0] if mentioned else None) or off
            kind = "reply" if reply_to is not None and (root_off or parent_off or off) else "mention"
            territory = addressed[1] if addressed else (
                self.territory_id or (self.ctx.registry.territory_named(text) if self.ctx.registry else None))
            full = full_acct(author, self.instance)
            if not off:
                self.accounts[f"{PLATFORM}:{full}"] = account_row(
                    f"{PLATFORM}:{full}", PLATFORM, author.get("url"), full, author.get("display_name"))
            parent = self.parents.get(uri)
            self.messages[uri] = {
                "message_id": status_id(uri), "platform": PLATFORM, "kind": kind,
                "post_id": status_id(root) if (kind == "reply" and root_off) else None,
                "parent_id": status_id(parent) if parent else None,
                "account_id": addressed[0] if addressed else None, "territory_id": territory,
                "author_hash": None if off else self.ctx.author_hash(PLATFORM, full),
                "author_name": author.get("display_name") if (self.ctx.keep_author_names and not off) else None,
                "is_official": bool(off), "created_at": created, "source_tz": "UTC", "text": text,
                "lang": lang, "likes": likes, "replies": replies, "edited_at": edited}
        self._release(s.get("id"))
        return uri

    def _register(self, s: dict, uri: str) -> None:
        sid = s.get("id")
        if sid is not None:
            self.uris[str(sid)] = uri
        reply_to = s.get("in_reply_to_id")
        if reply_to is None:
            self.parents[uri], self.roots[uri] = None, uri
        else:
            parent = self.uris.get(str(reply_to))
            if parent is not None:
                self.parents[uri] = parent
                if parent in self.roots:
                    self.roots[uri] = self.roots[parent]
        self.authors[uri] = self.learn(s.get("account"))

    def context(self, body: dict, *, ancestors: str = "all") -> tuple[set[str], int]:
        """A Context entity: ``(uris of the descendants mapped, number of descendants)``.

        ``ancestors="parent"`` maps only the status answered and links the ones above it (the
        start of a stranger's thread the account stepped into is not about the territory)."""
        anc = [a for a in body.get("ancestors") or [] if isinstance(a, dict)]
        desc = [d for d in body.get("descendants") or [] if isinstance(d, dict)]
        for i, a in enumerate(anc):
            if ancestors == "all" or i == len(anc) - 1:
                self.status(a)
            else:
                self.link(a)
        seen = set()
        for d in desc:
            u = self.status(d)
            if u:
                seen.add(u)
        return seen, len(desc)

    def response(self, obj: Any, day: date | None = None) -> int:
        """Any supported response body; returns how many items it held (0: not a Mastodon body)."""
        before = self.items
        day = day or date.today()
        if isinstance(obj, list):
            for o in obj:
                self._one(o, day)
        elif isinstance(obj, dict):
            if isinstance(obj.get("statuses"), list) and not is_status(obj):  # a v2 search result
                for o in obj["statuses"]:
                    self._one(o, day)
            else:
                self._one(obj, day)
        return self.items - before

    def _one(self, o: Any, day: date) -> None:
        if is_context(o):
            self.context(o)
        elif is_status(o):
            if self.status(o) is None:
                self.items += 1  # a boost or a private status: read, and said in the notes
        elif is_account(o):
            self.account(o, day)
            self.items += 1

    # ---------------------------------------------------------------- output
    def parsed(self, fmt: str = "mastodon_api") -> Parsed:
        out = super().parsed(fmt)
        notes = []
        if self.reblogs:
            notes.append(f"{fr_count(len(self.reblogs), 'partage')} (boosts) de publications d'autres comptes "
                         f"{fr_plural(len(self.reblogs), 'ignoré')} (copies)")
        if self.hidden:
            notes.append(f"{fr_count(len(self.hidden), 'message non public', 'messages non publics')} (abonnés seulement ou privés) "
                         f"{fr_plural(len(self.hidden), 'ignoré')}")
        if self.strangers:
            notes.append(f"{fr_count(len(self.strangers), 'compte')} hors du registre {fr_plural(len(self.strangers), 'ignoré')} : seuls les comptes "
                         "officiels ont leurs abonnés comptés, un abonné n'est jamais enregistré")
        out.notes = notes + [n for n in out.notes if n not in notes]
        return out

    def reset(self) -> None:
        """Forget the rows (keep what was learnt about accounts and threads): the next batch starts empty."""
        super().reset()
        self.reblogs: set[str] = set()
        self.hidden: set[str] = set()
        self.strangers: set[str] = set()  # accounts read that are not official (a followers list)


# ============================================================================ shapes
def is_status(o: Any) -> bool:
    return (isinstance(o, dict) and "uri" in o and isinstance(o.get("account"), dict)
            and ("content" in o or "reblog" in o)
            and any(k in o for k in ("reblogs_count", "favourites_count", "replies_count")))


def is_account(o: Any) -> bool:
    return isinstance(o, dict) and "acct" in o and "username" in o and "followers_count" in o


def is_context(o: Any) -> bool:
    return (isinstance(o, dict) and isinstance(o.get("ancestors"), list) and isinstance(o.get("descendants"), list)
            and all(is_status(s) for s in (o["ancestors"] + o["descendants"])[:3]))


def looks_like(obj: Any) -> bool:
    """Whether a JSON value is a response of one of the supported Mastodon endpoints."""
    if isinstance(obj, list):
        first = next((o for o in obj if isinstance(o, dict)), None)
        return first is not None and (is_status(first) or is_account(first))
    if isinstance(obj, dict) and isinstance(obj.get("statuses"), list) and obj["statuses"]:
        return is_status(obj["statuses"][0])
    return is_context(obj) or is_status(obj) or is_account(obj)


# ============================================================================ saved responses
class MastodonResponses(Adapter):
    name = "mastodon_api"
    label = ("Mastodon — réponses enregistrées de l'API (comptes, statuts d'un compte, contexte d'un statut, "
             "fil d'un hashtag ; JSON/JSONL)")
    platform = PLATFORM
    signature = ("uri", "content", "account", "reblogs_count", "favourites_count", "replies_count")

    def sniff(self, probe: Probe) -> float:
        if probe.kind not in ("json", "jsonl"):
            return 0.0
        j = probe.json_head
        if j is None:
            head = probe.text_head[:20000]
            return 0.5 if all(k in head for k in ('"reblogs_count"', '"favourites_count"', '"uri"')) else 0.0
        return 0.9 if looks_like(j) else 0.0

    def parse(self, path: Path, probe: Probe, ctx: Context) -> Parsed:
        m = Mapper(ctx, territory_id=None, instance=None)
        if ctx.account_hint and ctx.registry is not None:
            a = ctx.registry.get_account(ctx.account_hint)
            m.territory_id = a.territory_id if a else None
        day = date.fromtimestamp(path.stat().st_mtime)
        found = 0
        for lineno, obj in json_documents(path, probe, lines_fallback=True):
            if isinstance(obj, ValueError):
                m.rejects.append(Reject(lineno, None, str(obj), "ligne JSON illisible"))
                continue
            n = m.response(obj, day)
            if n == 0 and not looks_like(obj) and obj != []:
                m.rejects.append(Reject(lineno, None, str(obj)[:80], "objet JSON qui n'est pas une réponse Mastodon reconnue"))
            found += n
        if not found and not m.rejects:
            raise ImportFailure(f"{path} : aucun statut ni compte Mastodon dans ce fichier")
        out = m.parsed(self.name)
        waiting = sum(len(w) for w in m.waiting.values())
        if waiting:
            out.notes.append(f"{fr_count(waiting, 'réponse')} dont le message d'origine n'est pas dans le fichier "
                             "(rattachées au compte ou au territoire, sans fil)")
        # A saved account has no date of its own: the file's date stands for the day it was read.
        if m.followers:
            out.notes.append(f"abonnés datés du {day.isoformat()} (date du fichier)")
        return out


ADAPTERS = [MastodonResponses()]
