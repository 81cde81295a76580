"""Local press and alert feeds (RSS 0.9x, 1.0, 2.0 and Atom) → canonical rows.

The same code maps what ``vigie collect rss`` fetches (:mod:`analysis.collect.rss`) and the feed
files that ``vigie import`` reads (saved ``.xml``/``.rss``/``.atom``). ``feedparser`` reads every
dialect and survives ill-formed feeds; this module decides what Vigie keeps of them.

Design choices (documented once, here):
- An item is kept only when it **names a territory**: its title, summary, body and categories
  contain one of the territory's names, keywords or hashtags (:func:`analysis.text.names_any`),
  or, for a feed read for no territory in particular (a saved file, ``vigie collect rss`` without
  ``--territory``), when :meth:`analysis.registry.Registry.territory_named` finds one.
- A kept item is a **message** of kind ``article`` on the platform ``press``: it counts in the
  volumes and sentiment of E-réputation beside the networks, but it is addressed to no account
  (``account_id`` NULL), so the moderation queue and the response rates leave it out.
- The author of an article is the **outlet**, not a person: ``author_hash`` is the pseudonym of
  the outlet's host name, and no journalist's name (``dc:creator``, ``author``, photo credits) is
  ever stored. The outlet itself is an ``accounts`` row ``press:<host>`` (official FALSE, name =
  the feed's title without its section, so that an outlet's feeds give it one name).
- ``text`` = title + line break + summary, as plain text: HTML turned into text, trailers such as
  WordPress's « L'article … est apparu en premier sur … » removed, at most
  :data:`MAX_SUMMARY` characters of summary. A feed that carries only the whole article
  (``content:encoded``) is read to decide whether it names the territory; only its beginning is
  stored (press publishers' neighbouring rights: Vigie keeps what a feed reader shows).
- Ids: ``press:<guid>`` when the guid is a URI (a permalink, ``urn:``, ``tag:``), ``press:<host>/<guid>``
  when it is a bare local number (two outlets may both have an item « 88412 »),
  ``press:<link>`` when there is no guid, tracking parameters (``utm_*``, ``xtor``…) removed so the
  id does not change with a campaign tag, else a hash of the title.
- Dates: RFC 822 with a numeric offset or a named zone (``CET``/``CEST``, which ``feedparser``
  takes for UTC), ISO 8601, French day and month names; a date without zone is French local time.
  An item **without date** takes the time it was fetched (a saved file: the file's date), said in
  a note; one already stored keeps the date it was given then.
"""

from __future__ import annotations

import hashlib
import html
import re
import unicodedata
from collections.abc import Iterable
from dataclasses import dataclass, field
from datetime import UTC, datetime, timedelta
from email.utils import parsedate_to_datetime
from pathlib import Path
from typing import Any
from urllib.parse import parse_qsl, urlencode, urljoin, urlsplit, urlunsplit
from zoneinfo import ZoneInfo, ZoneInfoNotFoundError

import pandas as pd

from analysis.config import LOCAL_TZ
from analysis.fmt import fr_count, fr_plural
from analysis.ingest.base import TZ_ABBREV, Adapter, Context, ImportFailure, Parsed, clean_text
from analysis.ingest.generic import account_row
from analysis.ingest.sniff import Probe
from analysis.text import names_any

PLATFORM = "press"
KIND = "article"
MAX_SUMMARY = 600  # characters of summary kept (a teaser, never the whole article)
# Query parameters and fragments that only track a campaign: removed from links used as ids.
TRACKING = re.compile(r"^(utm_\w+|xtor|at_\w+|fbclid|gclid|dclid|mc_cid|mc_eid|ns_\w+|_ga|ref_src|cmp|cmpid|"
                      r"origin|from)$", re.I)
# Zones met in RFC 822 dates beyond numeric offsets: the module's list (European and others),
# RFC 822's North American ones and military Z. feedparser reads CET/CEST as UTC.
ZONES: dict[str, float] = {**TZ_ABBREV, "UT": 0, "MEZ": 1, "MESZ": 2, "HNEC": 1, "HAEC": 2,
                           "EET": 2, "EEST": 3}
_FR_DAYS = {"lun": "Mon", "mar": "Tue", "mer": "Wed", "jeu": "Thu", "ven": "Fri", "sam": "Sat", "dim": "Sun"}
_FR_MONTHS = {"janv": "Jan", "janvier": "Jan", "févr": "Feb", "fevr": "Feb", "février": "Feb", "fevrier": "Feb",
              "mars": "Mar", "avr": "Apr", "avril": "Apr", "mai": "May", "juin": "Jun", "juil": "Jul",
              "juillet": "Jul", "août": "Aug", "aout": "Aug", "sept": "Sep", "septembre": "Sep", "oct": "Oct",
              "octobre": "Oct", "nov": "Nov", "novembre": "Nov", "déc": "Dec", "dec": "Dec", "décembre": "Dec",
              "decembre": "Dec"}
_TRAILERS = (
    re.compile(r"\s*L[’']article\s.{1,400}?\sest apparu en premier sur\s.{1,200}?\.?\s*$", re.S),
    re.compile(r"\s*The post\s.{1,400}?\sappeared first on\s.{1,200}?\.?\s*$", re.S),
    re.compile(r"\s*(\[(…|\.\.\.)\]|\((…|\.\.\.)\)|Lire la suite\W*|Continue reading\W*.*?)\s*$", re.S | re.I),
)
_ENTITY = re.compile(r"&(#\d{1,7}|#x[0-9a-f]{1,6}|[a-z]{2,8});", re.I)
_BLOCKS = ("p", "div", "br", "li", "ul", "ol", "h1", "h2", "h3", "h4", "h5", "h6", "blockquote", "figure",
           "figcaption", "table", "tr", "section", "article", "header", "footer")


class NotAFeed(ImportFailure):
    """The bytes are not an RSS or Atom feed (an HTML page, an error page, JSON…)."""


# ------------------------------------------------------------------------------------ parsing
def parse_feed(data: bytes, *, where: str, content_type: str | None = None) -> Any:
    """``feedparser``'s reading of a feed's bytes; :class:`NotAFeed` (French) when it is none.

    ``where`` names the address or file in messages. A feed that is not well-formed but still
    gives its entries (``bozo``) is kept: the caller notes it with :func:`bozo_note`."""
    import feedparser  # here, not at import: every `vigie import` loads the adapters to identify a file

    headers = {"content-type": content_type} if content_type else None
    d = feedparser.parse(data, response_headers=headers, sanitize_html=True, resolve_relative_uris=True)
    if d.get("version") or d.get("entries"):
        return d
    head = data[:4096].decode("utf-8", errors="replace").lstrip("\ufeff \t\r\n").lower()
    is_html = (content_type or "").lower().startswith(("text/html", "application/xhtml")) or head.startswith(
        ("<!doctype html", "<html")) or "<body" in head
    if is_html:
        title, alternates = _html_page(data)
        if re.match(r"(?i)^https?://", where):
            alternates = [urljoin(where, a) for a in alternates]
        seen = f" (« {title} »)" if title else ""
        hint = (f" Cette page annonce son flux : {', '.join(alternates[:3])} — déclarez cette adresse."
                if alternates else
                " Cherchez le lien du flux sur le site (icône RSS, adresse finissant souvent par /rss, "
                ".xml ou /feed).")
        raise NotAFeed(f"{where} n'est pas un flux RSS/Atom mais une page web{seen}.{hint}")
    why = d.get("bozo_exception")
    detail = f" ({why})" if why else ""
    raise NotAFeed(f"{where} n'est pas un flux RSS/Atom lisible{detail}. Vérifiez l'adresse du flux "
                   "(dans [territory.watch] feeds) ou le fichier.")


def _html_page(data: bytes) -> tuple[str | None, list[str]]:
    """Title of an HTML page and the feeds it announces (``<link rel="alternate" type="…rss…">``)."""
    from lxml import etree
    from lxml import html as lhtml

    try:
        root = lhtml.document_fromstring(data)
    except (etree.ParserError, ValueError):
        return None, []
    title = clean_text(" ".join(root.xpath("//title//text()")))
    feeds = [h for h in root.xpath("//link[contains(@rel, 'alternate')][contains(@type, 'rss') or "
                                   "contains(@type, 'atom')]/@href") if h]
    return (title[:120] if title else None), list(dict.fromkeys(feeds))


def bozo_note(d: Any) -> str | None:
    """French note for a feed that is not well-formed but was read (None when it is well-formed)."""
    exc = d.get("bozo_exception")
    if not d.get("bozo") or exc is None:
        return None
    import feedparser

    if isinstance(exc, feedparser.CharacterEncodingOverride | feedparser.NonXMLContentType):
        return None  # the bytes were read with another encoding or type than declared: harmless
    line = getattr(exc, "getLineNumber", lambda: None)()
    message = getattr(exc, "getMessage", lambda: str(exc))()
    where = f"ligne {line} : " if line else ""
    return (f"flux mal formé ({where}{message}) ; {fr_count(len(d.get('entries') or []), 'article lu', 'articles lus')} malgré "
            "l'erreur")


# ------------------------------------------------------------------------------------ text
def html_to_text(value: str | None) -> str:
    """Plain text of an HTML fragment (or of plain text with entities), on one line."""
    if not value:
        return ""
    if "<" in value:
        from lxml import etree
        from lxml import html as lhtml

        try:
            root = lhtml.fragment_fromstring(value, create_parent="div")
        except (etree.ParserError, ValueError):
            value = re.sub(r"<[^>]*>", " ", value)
        else:
            for bad in root.xpath("//script|//style"):
                bad.drop_tree()
            for el in root.iter(*_BLOCKS):  # a paragraph ends with a space, not glued to the next
                el.tail = " " + (el.tail or "")
            value = root.text_content()
    if _ENTITY.search(value):  # double-escaped feeds (« l&amp;#039;été ») leave entities in the text
        value = html.unescape(value)
    return re.sub(r"\s+", " ", unicodedata.normalize("NFKC", value)).strip()


def _strip_trailers(text: str) -> str:
    for rx in _TRAILERS:
        text = rx.sub("", text)
    return text.strip()


def _shorten(text: str, limit: int = MAX_SUMMARY) -> str:
    if len(text) <= limit:
        return text
    cut = text[:limit].rsplit(" ", 1)[0].rstrip(" ,;:")
    return cut + " ..."  # NFKC (clean_text) would turn « … » into this anyway


def clean_link(url: str | None) -> str | None:
    """A link without its tracking parameters and fragments (``utm_*``, ``xtor``…)."""
    if not url:
        return None
    url = url.strip()
    try:
        parts = urlsplit(url)
    except ValueError:
        return url
    if parts.scheme not in ("http", "https"):
        return url
    query = [(k, v) for k, v in parse_qsl(parts.query, keep_blank_values=True) if not TRACKING.match(k)]
    fragment = "" if re.match(r"(?i)^(xtor|utm_|at_)", parts.fragment) else parts.fragment
    return urlunsplit((parts.scheme, parts.netloc.lower(), parts.path, urlencode(query), fragment))


def host_of(url: str | None) -> str | None:
    """Host name of a URL, lower-case, without ``www.``."""
    if not url:
        return None
    try:
        host = urlsplit(url.strip()).hostname
    except ValueError:
        return None
    if not host:
        return None
    return host[4:] if host.startswith("www.") else host


def outlet_host(d: Any, url: str | None = None) -> str:
    """Host of the outlet publishing a feed: its web site (``<link>``), else the feed's own address
    (``atom:link rel="self"``), else the address it was fetched from."""
    feed = d.get("feed") or {}
    candidates = [feed.get("link")] + [lk.get("href") for lk in feed.get("links") or [] if lk.get("rel") == "self"]
    for c in [*candidates, url]:
        h = host_of(c)
        if h:
            return h
    title = clean_text(feed.get("title")) or "flux"
    return "flux-" + hashlib.sha256(title.encode("utf-8")).hexdigest()[:12]


def outlet_name(title: str | None) -> str | None:
    """The outlet's name from a feed's title, without the section one outlet's feeds differ by
    (« Le Courrier de la Loire - Alertes » → « Le Courrier de la Loire »): one name per outlet."""
    t = html_to_text(title)
    head = re.split(r"\s+[-–—|:»]\s+", t, maxsplit=1)[0].strip()
    return clean_text(head or t)


# ------------------------------------------------------------------------------------ dates
def parse_date(value: str | None) -> tuple[datetime | None, str | None]:
    """``(naive UTC datetime, zone as written)`` of a feed date; ``(None, None)`` when unreadable.

    RFC 822 (named zones included), ISO 8601, French day and month names; a date without zone is
    read in French local time (zone ``Europe/Paris``)."""
    if not value or not str(value).strip():
        return None, None
    s = re.sub(r"\s+", " ", str(value).strip())
    s = _english_names(s)
    # An IANA zone name after the time (« … 10:00:00 Europe/Paris »)
    m = re.fullmatch(r"(.*\d)\s+([A-Za-z]+/[A-Za-z_/+-]+)", s)
    if m:
        try:
            tz = ZoneInfo(m.group(2))
        except (ZoneInfoNotFoundError, ValueError):
            tz = None
        if tz is not None:
            naive, _ = parse_date(m.group(1) + " +0000")
            if naive is not None:
                return _utc(naive.replace(tzinfo=tz)), m.group(2)
    # A named zone: replaced by its offset (RFC 822 parsers take unknown names for UTC)
    iso_like = re.match(r"\d{4}-\d\d-\d\d", s)
    m = None if iso_like else re.fullmatch(r"(.*\d)\s*([A-Za-z]{1,5})", s)
    zone = None
    if m and m.group(2).upper() in ZONES:
        zone = m.group(2).upper()
        hours = ZONES[zone]
        sign = "-" if hours < 0 else "+"
        s = f"{m.group(1)} {sign}{int(abs(hours)):02d}{int(round(abs(hours) % 1 * 60)):02d}"
    try:
        dt = parsedate_to_datetime(s)
    except (TypeError, ValueError, IndexError):
        dt = None
    if dt is not None:
        if dt.tzinfo is None:  # « -0000 »: a UTC time whose writer's zone is unknown (RFC 5322)
            return dt, "UTC"
        return _utc(dt), zone or dt.strftime("%z")
    iso = s[:-1] + "+00:00" if s.endswith(("Z", "z")) else s
    try:
        dt = datetime.fromisoformat(iso)
    except ValueError:
        dt = None
    if dt is not None:
        if dt.tzinfo is None:
            return _local(dt), LOCAL_TZ
        return _utc(dt), zone or ("UTC" if dt.utcoffset() == timedelta(0) else dt.strftime("%z"))
    return None, None


def _english_names(s: str) -> str:
    """French day and month names (« lun., 30 nov. 2026 ») replaced by RFC 822's English ones."""
    def month(m: re.Match) -> str:
        w = m.group(0).lower().rstrip(".")
        return _FR_MONTHS.get(w, m.group(0))

    def day(m: re.Match) -> str:
        w = m.group(1).lower()
        return _FR_DAYS.get(w[:3], m.group(1)) + ","

    s = re.sub(r"^([A-Za-zéû]{3,8})\.?,", day, s)
    return re.sub(r"(?i)\b[a-zéû]{3,9}\b\.?", month, s)


def _utc(dt: datetime) -> datetime:
    return dt.astimezone(UTC).replace(tzinfo=None)


def _local(dt: datetime) -> datetime:
    return _utc(dt.replace(tzinfo=ZoneInfo(LOCAL_TZ)))


# ------------------------------------------------------------------------------------ items
@dataclass
class Item:
    """One feed entry, read: its id, the text stored, the text searched for a territory's name."""

    message_id: str
    text: str | None
    haystack: str
    created_at: datetime | None
    source_tz: str | None
    lang: str | None


def _lang(value: str | None) -> str | None:
    if not value:
        return None
    return re.split(r"[-_]", str(value).strip().lower())[0][:8] or None


def native_id(entry: Any, host: str) -> str:
    """The stable native id of an entry (see the module's docstring)."""
    guid = clean_text(entry.get("id"))
    if guid:
        if re.match(r"(?i)^(https?)://", guid):
            return clean_link(guid) or guid
        if re.match(r"(?i)^[a-z][a-z0-9+.-]*:\S", guid):  # urn:, tag:, other URIs
            return guid
        return f"{host}/{guid}"
    link = clean_link(entry.get("link"))
    if link:
        return link
    title = clean_text(entry.get("title")) or ""
    return f"{host}/" + hashlib.sha256(f"{title}\x1f{entry.get('published', '')}".encode()).hexdigest()[:20]


def read_items(d: Any, host: str) -> list[Item]:
    """Every entry of a parsed feed as an :class:`Item` (entries with neither title nor text skipped)."""
    feed_lang = _lang((d.get("feed") or {}).get("language"))
    out: dict[str, Item] = {}
    for e in d.get("entries") or []:
        title = html_to_text(e.get("title"))
        summary = html_to_text(e.get("summary"))
        bodies = [html_to_text(c.get("value")) for c in e.get("content") or []]
        html_bodies = [b for c, b in zip(e.get("content") or [], bodies, strict=True)
                       if "html" in str(c.get("type") or "")]  # not a photo caption (media:description)
        if not summary and html_bodies:
            summary = html_bodies[0]
        summary = _shorten(_strip_trailers(summary))
        tags = [clean_text(t.get("term")) or "" for t in e.get("tags") or []]
        if not title and not summary:
            continue
        text = clean_text(f"{title}\n{summary}" if title and summary else (title or summary))
        created, tz = None, None
        for k in ("published", "updated", "created"):
            created, tz = parse_date(e.get(k))
            if created is None and e.get(f"{k}_parsed"):  # the long tail feedparser reads (W3DTF
                created, tz = datetime(*e[f"{k}_parsed"][:6]), "UTC"  # variants, other languages)
            if created is not None:
                break
        lang = _lang((e.get("title_detail") or {}).get("language") or e.get("language")) or feed_lang
        mid = f"{PLATFORM}:{native_id(e, host)}"
        out[mid] = Item(mid, text, " \n ".join([title, summary, *bodies, *tags]), created, tz, lang)
    return list(out.values())


@dataclass
class FeedRows:
    """The rows of one feed for the store, and what a run says about it."""

    parsed: Parsed
    kept: int = 0
    newest: datetime | None = None
    ids: list[str] = field(default_factory=list)


def feed_rows(d: Any, items: Iterable[Item], ctx: Context, *, host: str, fetched_at: datetime,
              territory_id: str | None = None, terms: tuple[str, ...] = (), since: datetime | None = None,
              stored: set[str] | frozenset[str] = frozenset(), fmt: str = "rss_feed",
              fetched_label: str = "date de collecte") -> FeedRows:
    """Canonical rows of the items that name a territory.

    ``territory_id`` with ``terms``: keep the items naming one of ``terms``, filed under that
    territory; without ``territory_id``: the territory the registry finds named (own first).
    ``since``: older items are left out. ``stored``: ids already in the store (an undated one
    keeps its date). Undated items take ``fetched_at`` (``fetched_label`` says what it is)."""
    items = list(items)
    feed = d.get("feed") or {}
    author = ctx.author_hash(PLATFORM, host)
    rows: list[dict] = []
    undated = old = 0
    newest = None
    for it in items:
        if territory_id is not None:
            terr = territory_id if names_any(it.haystack, terms or _terms(ctx, territory_id)) else None
        else:
            terr = ctx.registry.territory_named(it.haystack) if ctx.registry is not None else None
        if terr is None:
            continue
        created = it.created_at
        if created is None:
            undated += 1
            created = None if it.message_id in stored else fetched_at
        elif since is not None and created < since:
            old += 1
            continue
        else:
            newest = created if newest is None or created > newest else newest
        rows.append({
            "message_id": it.message_id, "platform": PLATFORM, "kind": KIND, "post_id": None, "parent_id": None,
            "account_id": None, "territory_id": terr, "author_hash": author, "author_name": None,
            "is_official": False, "created_at": created, "source_tz": it.source_tz, "text": it.text,
            "lang": it.lang, "likes": None, "replies": None})
    out = Parsed(format=fmt, rows_read=len(items))
    if rows:
        df = pd.DataFrame(rows)
        df["created_at"] = pd.to_datetime(df["created_at"])
        out.add("messages", df)
        out.add("accounts", pd.DataFrame([account_row(f"{PLATFORM}:{host}", PLATFORM, host, host,
                                                      outlet_name(feed.get("title")) or host)]))
    out.notes.append(f"{fr_count(len(rows), 'article')} sur {len(items)} {fr_plural(len(rows), 'nomme', 'nomment')} le territoire")
    if undated:
        out.notes.append(f"{fr_count(undated, 'article')} sans date : {fetched_label} retenue "
                         f"({fetched_at:%Y-%m-%d %H:%M} UTC) pour ceux qui n'étaient pas encore enregistrés")
    if old:
        out.notes.append(f"{fr_count(old, 'article antérieur', 'articles antérieurs')} à la période demandée {fr_plural(old, 'ignoré')}")
    note = bozo_note(d)
    if note:
        out.notes.append(note)
    return FeedRows(out, kept=len(rows), newest=newest, ids=[r["message_id"] for r in rows])


def _terms(ctx: Context, territory_id: str) -> tuple[str, ...]:
    if ctx.registry is None:
        return ()
    try:
        return ctx.registry.territory(territory_id).terms
    except KeyError:
        return ()


# ============================================================================ saved feeds
_PROLOG = re.compile(r"\A(?:\s+|<\?xml[^>]*\?>|<\?xml-stylesheet[^>]*\?>|<!--.*?-->|<!DOCTYPE[^>]*>)*", re.S | re.I)
ATOM_NS = ("http://www.w3.org/2005/Atom", "http://purl.org/atom/ns#")
RDF_NS = ("http://purl.org/rss/1.0/", "http://my.netscape.com/rdf/simple/0.9/")


def root_kind(text: str) -> str | None:
    """``rss``, ``atom`` or ``rdf`` when the document's root element is a feed's, else None.

    Decided on the root element only (after the XML declaration, comments and doctype): an HTML
    page quoting ``<rss`` or a SpreadsheetML workbook (``<Workbook``) is never a feed."""
    text = text.lstrip("\ufeff")
    m = _PROLOG.match(text)
    rest = text[m.end():] if m else text
    root = re.match(r"<([A-Za-z_][\w.-]*:)?([A-Za-z_][\w.-]*)\b([^>]*)>?", rest)
    if not root:
        return None
    prefix, name, attrs = (root.group(1) or ""), root.group(2), root.group(3) or ""
    if name == "rss" and not prefix:
        return "rss"
    if name == "feed" and any(ns in attrs for ns in ATOM_NS):
        return "atom"
    if name == "RDF" and prefix == "rdf:" and any(ns in rest[:4000] for ns in RDF_NS):
        return "rdf"
    return None


class FeedFile(Adapter):
    """A saved RSS/Atom feed (``.xml``, ``.rss``, ``.atom``, ``.rdf``), detected by its root element."""

    name = "rss_feed"
    label = "Presse locale — flux RSS/Atom enregistré (.xml, .rss, .atom)"
    platform = PLATFORM
    signature = ("rss", "channel", "item", "feed", "entry")

    def sniff(self, probe: Probe) -> float:
        if probe.kind in ("spreadsheetml", "xlsx", "xls", "zip", "json", "jsonl", "binary", "empty"):
            return 0.0
        return 0.95 if root_kind(probe.text_head[:20000]) else 0.0

    def parse(self, path: Path, probe: Probe, ctx: Context) -> Parsed:
        data = Path(path).read_bytes()
        d = parse_feed(data, where=str(path))
        host = outlet_host(d)
        # A saved feed was fetched when it was saved: the file's date stands for it.
        fetched = datetime.fromtimestamp(Path(path).stat().st_mtime, UTC).replace(tzinfo=None)
        rows = feed_rows(d, read_items(d, host), ctx, host=host, fetched_at=fetched, fmt=self.name,
                         fetched_label="date du fichier")
        return rows.parsed


ADAPTERS = [FeedFile()]
