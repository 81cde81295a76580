"""Events agendas of territories: OpenAgenda, DATAtourisme, city open-data CSVs and iCalendar.

Four adapters map the formats communes and tourism offices already publish to rows of the
``events`` table (one row per event, its occurrences counted). Each format's quirks, met in the
real sample files (the shared formats folder, ``agenda_*``; acceptance tests with ``VIGIE_SAMPLES_DIR``), are handled here:

- **OpenAgenda** JSON export (v1: ``{"events": [...], "total", "offset", "limit"}``; API v2 pages
  too): titles and descriptions as language maps, ``keywords`` null or per language, dozens of
  ``timings`` per event (UTC ``…Z`` in v1, ``begin``/``end`` with an offset in v2), location both
  nested and flat, ``age`` null or ``{min, max}``, cancelled events (``status`` 6) left out, an
  export holding fewer events than its ``total`` (paginated) said so.
- **DATAtourisme** JSON-LD: one object per file (``objects/*.json``) or a ``@graph``; language
  maps of lists, ``schema:startDate``/``endDate`` as lists, ``takesPlaceAt`` periods with or
  without times (local time, Europe/Paris), the commune's INSEE code deep in ``isLocatedAt``,
  ``hasAudience`` mixing geographic reach and people audiences; the feed's ``context.jsonld``
  is recognised and skipped. Contact blocks (private e-mails) are never read.
- **City open-data CSV** (``;``, French headers, Toulouse-like; synonyms of Paris, Nantes…
  portals): rows whose dates are only free text (« Le 05/05/2020 - A 14h30 Le 12/05/2020… »,
  « Du 21/05/2020 au 30/06/2020 ») get them from that text; times « A 16H00 », « De 10h à 19h »,
  « At 10am » are read when there is one; ``www.`` links get their scheme.
- **iCalendar** (``.ics``/``.ical``): read with ``icalendar``; ``TZID`` without ``VTIMEZONE``
  (``X-WR-TIMEZONE``), floating times, all-day dates (exclusive ``DTEND``), missing ``DTEND``,
  HTML entities left by WordPress plugins (``&#039;``), empty ``DESCRIPTION``, CRLF or LF,
  ``CATEGORIES``, cancelled events skipped, recurrences (``RRULE``) kept as their first date;
  the ``X-VIGIE-*`` properties Vigie writes (theme, audiences, hashtags) are read back.

An event belongs to the territory its place names (INSEE code, commune, venue, calendar name:
:meth:`analysis.registry.Registry.territory_named`), or to the territory the importer is told
(``vigie events import --territory``); else ``territory_id`` stays NULL and a note says so.
The theme is left to :func:`analysis.events.model.effective_themes` unless the source states
one of the taxonomy's ids (Vigie's own ``.ics``).
"""

from __future__ import annotations

import html
import json
import re
from datetime import UTC, date, datetime, time, timedelta
from pathlib import Path
from typing import Any
from zoneinfo import ZoneInfo

import pandas as pd

from analysis.config import LOCAL_TZ
from analysis.fmt import fr_count
from analysis.ingest.base import (
    Adapter,
    Context,
    ImportFailure,
    Parsed,
    Reject,
    clean_text,
    content_id,
    find_header,
    is_missing,
    norm_header,
    records,
)
from analysis.ingest.sniff import Probe, read_csv_all, read_text
from analysis.text import term_key

# The one vocabulary of audiences an event targets (ids stored in ``events.audiences``).
AUDIENCES: dict[str, str] = {
    "tous": "Tout public",
    "enfants": "Enfants",
    "familles": "Familles",
    "jeunes": "Jeunes (15–24 ans)",
    "40_plus": "40 ans et plus",
    "seniors": "Seniors",
    "touristes": "Touristes",
}
EVENT_COLUMNS = ("event_id", "territory_id", "title", "description", "start_at", "end_at", "all_day", "occurrences",
                 "place", "city", "insee_code", "latitude", "longitude", "theme", "categories", "audiences",
                 "age_min", "age_max", "hashtags", "keywords", "links", "is_free", "organizer", "source",
                 "source_tz", "updated_at", "_line")


# ------------------------------------------------------------------------------ shared vocabulary
_HASHTAG = re.compile(r"(?<![\w&])#(\w{2,})")
_YEAR_OR_ORDINAL = re.compile(r"\b(?:19|20)\d{2}\b|\b\d+\s*(?:e|è|ème|eme|er|ers|ère|res|re|nd|nde)\b", re.IGNORECASE)
_TITLE_SPLIT = re.compile(r"\s+[-–—|:/]\s+|\s*:\s+|\s*\|\s*")
_STOP = frozenset("le la les l de du des d un une et en au aux a à pour par sur the of and".split())


def hashtags_in(*texts: str | None) -> list[str]:
    """Hashtags written in texts, lower case, without ``#`` (« #FeteDeLaMusique » → ``fetedelamusique``)."""
    out: list[str] = []
    for t in texts:
        for h in _HASHTAG.findall(t or ""):
            if not h.isdigit():
                out.append(h.lower())
    return list(dict.fromkeys(out))


def title_keywords(title: str | None) -> list[str]:
    """The name a post would use for an event: its title's main part, without year or ordinal
    (« 22ème festival de la tomate et des saveurs » → « festival de la tomate et des saveurs »,
    « Fête de la musique 2026 » → « fête de la musique »), lower case; nothing when fewer than two
    significant words remain (a one-word title would match every post)."""
    if not title:
        return []
    main = _TITLE_SPLIT.split(html.unescape(title).strip())[0]
    main = re.sub(r"^\[[^\]]*\]\s*", "", main)  # « [Route] Chez Asterix »: a category prefix
    main = _YEAR_OR_ORDINAL.sub(" ", main)
    main = re.sub(r"\s+", " ", main).strip(" -–—,.!?«»\"'").lower()
    words = [w for w in term_key(main).split() if w not in _STOP and len(w) > 1]
    if len(words) < 2 or len(main.split()) > 8:
        return []
    return [main]


def norm_tags(values: Any) -> list[str]:
    """Hashtags from user input or a source list: lower case, without ``#``, spaces removed."""
    if values is None or (isinstance(values, float) and pd.isna(values)):
        return []
    if isinstance(values, str):
        values = re.split(r"[,;|\s]+", values)
    out = [re.sub(r"\s+", "", str(v)).lstrip("#").lower() for v in values]
    return list(dict.fromkeys(v for v in out if v))


def norm_keywords(values: Any) -> list[str]:
    """Keywords (phrases) from user input or a source list: lower case, trimmed, de-duplicated."""
    if values is None or (isinstance(values, float) and pd.isna(values)):
        return []
    if isinstance(values, str):
        values = re.split(r"[,;|]+", values)
    out = [re.sub(r"\s+", " ", str(v)).strip().lower() for v in values]
    return list(dict.fromkeys(v for v in out if v))


def norm_link(url: str | None) -> str | None:
    """``www.site.fr/page/`` → ``https://www.site.fr/page``; None when not a web address."""
    if not url or not isinstance(url, str):
        return None
    u = html.unescape(url.strip())
    if not u or " " in u:
        return None
    if u.lower().startswith("www."):
        u = "https://" + u
    elif not re.match(r"(?i)https?://", u):
        if re.fullmatch(r"[\w.-]+\.[a-z]{2,}(/\S*)?", u, re.IGNORECASE):
            u = "https://" + u
        else:
            return None
    return u.rstrip("/")


def audiences_from(age_min: Any = None, age_max: Any = None, *texts: str | None) -> list[str]:
    """Audiences an event targets from its age range and words of its categories/tags.

    Ages: a maximum of 12 or less → enfants and familles; a range inside 12–30 → jeunes; a minimum
    of 40 or more → 40_plus; of 60 or more → seniors. Words: « jeune public »/« enfant » →
    enfants + familles, « famille » → familles, « ado »/« jeunes » → jeunes, « senior »/« aînés » →
    seniors, « touris » → touristes, « tout public » → tous.
    """
    out: list[str] = []
    lo = _int_or_none(age_min)
    hi = _int_or_none(age_max)
    if hi is not None and hi <= 12:
        out += ["enfants", "familles"]
    elif lo is not None and hi is not None and lo >= 12 and hi <= 30:
        out += ["jeunes"]
    if lo is not None and lo >= 60:
        out += ["seniors", "40_plus"]
    elif lo is not None and lo >= 40:
        out += ["40_plus"]
    words = " " + term_key(" ".join(t for t in texts if t)) + " "
    rules = ((" jeune public ", ["enfants", "familles"]), (" enfant", ["enfants", "familles"]),
             (" famil", ["familles"]), (" ado ", ["jeunes"]), (" ados ", ["jeunes"]),
             (" adolescent", ["jeunes"]), (" jeunes ", ["jeunes"]), (" jeunesse ", ["jeunes"]),
             (" etudiant", ["jeunes"]), (" senior", ["seniors", "40_plus"]), (" aines ", ["seniors", "40_plus"]),
             (" touris", ["touristes"]), (" tout public ", ["tous"]), (" tous publics ", ["tous"]))
    for needle, auds in rules:
        if needle in words:
            out += auds
    return list(dict.fromkeys(out))


def _int_or_none(v: Any) -> int | None:
    try:
        f = float(v)
    except (TypeError, ValueError):
        return None
    return None if pd.isna(f) else int(f)


def _utc(dt: datetime, tz: str = LOCAL_TZ) -> datetime:
    """Naive UTC from an aware datetime, or from a naive one in ``tz``."""
    if dt.tzinfo is None:
        dt = dt.replace(tzinfo=ZoneInfo(tz))
    return dt.astimezone(UTC).replace(tzinfo=None)


def _local_day(d: date, t: time | None = None, tz: str = LOCAL_TZ) -> datetime:
    return _utc(datetime.combine(d, t or time(0, 0)), tz)


def resolve_territory(ctx: Context, *, insee: str | None = None, texts: tuple[str | None, ...] = ()) -> str | None:
    """The territory an event belongs to: the one the importer was told (``ctx.territory_id``),
    else the registry territory whose INSEE code it has, else the first whose name a text names."""
    forced = getattr(ctx, "territory_id", None)
    if forced:
        return forced
    reg = ctx.registry
    if reg is None:
        return None
    if insee:
        for t in reg.territories:
            if t.insee_code and str(t.insee_code) == str(insee):
                return t.territory_id
    for text in texts:
        if text:
            tid = reg.territory_named(text)
            if tid:
                return tid
    return None


def _frame(rows: list[dict], source: str, tz: str) -> pd.DataFrame:
    df = pd.DataFrame(rows, columns=[c for c in EVENT_COLUMNS if c not in ("source", "source_tz")])
    df["source"] = source
    df["source_tz"] = tz
    for c in ("categories", "audiences", "hashtags", "keywords", "links"):
        df[c] = [list(v) if isinstance(v, list | tuple) else [] for v in df[c]]
    return df


def _finish(out: Parsed, rows: list[dict], source: str, tz: str = LOCAL_TZ) -> Parsed:
    """Add the rows, with a note for events no territory claimed."""
    if rows:
        for r in rows:
            r["hashtags"] = list(dict.fromkeys([*r.get("hashtags", []), *hashtags_in(r.get("title"), r.get("description"))]))
            r["keywords"] = list(dict.fromkeys([*r.get("keywords", []), *title_keywords(r.get("title"))]))
        out.add("events", _frame(rows, source, tz))
        lost = sum(1 for r in rows if not r.get("territory_id"))
        if lost:
            out.notes.append(f"{fr_count(lost, 'événement')} sans territoire reconnu (lieu absent du registre) : importés sans "
                             "territoire ; relancez avec `vigie events import FICHIER --territory ID` pour les rattacher.")
    return out


# ------------------------------------------------------------------------------ OpenAgenda
def _lang(v: Any, prefer: tuple[str, ...] = ("fr", "en")) -> str | None:
    """A language map's French value (else English, else the first), or a plain string."""
    if isinstance(v, dict):
        for k in prefer:
            if not is_missing(v.get(k)):
                return _lang(v[k])
        for x in v.values():
            if not is_missing(x):
                return _lang(x)
        return None
    if isinstance(v, list):
        vals = [_lang(x) for x in v]
        vals = [x for x in vals if x]
        return vals[0] if vals else None
    return clean_text(v) if not is_missing(v) else None


def _lang_list(v: Any, prefer: tuple[str, ...] = ("fr",)) -> list[str]:
    if isinstance(v, dict):
        for k in prefer:
            if isinstance(v.get(k), list):
                return [str(x) for x in v[k] if not is_missing(x)]
        lists = [x for x in v.values() if isinstance(x, list)]
        return [str(x) for x in lists[0]] if lists else []
    if isinstance(v, list):
        return [str(x) for x in v if not is_missing(x)]
    return [] if is_missing(v) else [str(v)]


def _openagenda_events(doc: Any) -> list[dict] | None:
    evs = doc.get("events") if isinstance(doc, dict) else doc if isinstance(doc, list) else None
    if not isinstance(evs, list) or not evs or not isinstance(evs[0], dict):
        return None
    e = evs[0]
    if "uid" in e and ("timings" in e or "firstDate" in e or "firstTiming" in e) and "title" in e:
        return evs
    return None


def _iso(v: Any) -> datetime | None:
    if is_missing(v):
        return None
    s = str(v).strip().replace("Z", "+00:00")
    try:
        dt = datetime.fromisoformat(s)
    except ValueError:
        return None
    return _utc(dt)


class OpenAgendaJson(Adapter):
    """OpenAgenda agenda export (JSON, v1 export or v2 API page)."""

    name = "openagenda"
    label = "OpenAgenda — export JSON d'un agenda (événements)"
    platform = "other"
    signature = ("uid", "slug", "title", "timings", "location", "keywords")

    def sniff(self, probe: Probe) -> float:
        if probe.kind not in ("json", "jsonl"):
            return 0.0
        return 0.97 if _openagenda_events(probe.json_head) else 0.0

    def parse(self, path: Path, probe: Probe, ctx: Context) -> Parsed:
        text, _ = read_text(path, probe.encoding)
        try:
            doc = json.loads(text)
        except json.JSONDecodeError as e:
            raise ImportFailure(f"{path} : JSON illisible ({e.msg})", line=e.lineno) from e
        evs = _openagenda_events(doc) or []
        out = Parsed(self.name, rows_read=len(evs))
        total = doc.get("total") if isinstance(doc, dict) else None
        if isinstance(total, int) and total > len(evs):
            out.notes.append(f"export partiel : {len(evs)} événements sur {total} (l'export OpenAgenda est paginé ; "
                             "téléchargez les pages suivantes)")
        rows, cancelled = [], 0
        for i, e in enumerate(evs, start=1):
            if e.get("status") == 6:
                cancelled += 1
                continue
            title = _lang(e.get("title"))
            timings = [t for t in (e.get("timings") or []) if isinstance(t, dict)]
            starts = [s for t in timings if (s := _iso(t.get("start") or t.get("begin")))]
            ends = [s for t in timings if (s := _iso(t.get("end")))]
            all_day = False
            if not starts and e.get("firstDate"):  # no timings: the first/last dates, local time
                d0 = pd.Timestamp(e["firstDate"]).date()
                d1 = pd.Timestamp(e.get("lastDate") or e["firstDate"]).date()
                starts, ends, all_day = [_local_day(d0)], [_local_day(d1)], True
            if not title or not starts:
                out.rejects.append(Reject(i, "title" if not title else "timings", e.get("uid"),
                                          "événement sans titre" if not title else "événement sans date"))
                continue
            loc = e.get("location") if isinstance(e.get("location"), dict) else {}
            city = _lang(loc.get("city")) or _lang(e.get("city"))
            place = _lang(loc.get("name")) or _lang(e.get("locationName")) or _lang(loc.get("address")) \
                or _lang(e.get("address"))
            insee = loc.get("insee") or e.get("insee")
            age = e.get("age") if isinstance(e.get("age"), dict) else {}
            tags = [t.get("label") for t in (e.get("tags") or []) if isinstance(t, dict) and t.get("label")]
            groups = [g for g in (e.get("tagGroups") or []) if isinstance(g, dict)]
            keywords = _lang_list(e.get("keywords"))
            cond = _lang(e.get("conditions")) or ""
            free = any(term_key(g.get("name")) == "gratuit" for g in groups) or bool(
                re.search(r"\b(gratuit|entrée libre|free)\b", cond, re.IGNORECASE)) or None
            links = [norm_link(x) for x in (e.get("canonicalUrl"), e.get("registrationUrl"), e.get("onlineAccessLink"))]
            links += [norm_link(r.get("value")) for r in (e.get("registration") or [])
                      if isinstance(r, dict) and r.get("type") == "link"]
            org = e.get("contributor", {}).get("organization") if isinstance(e.get("contributor"), dict) else None
            desc = _lang(e.get("description"))
            rows.append({
                "event_id": f"openagenda:{e.get('uid')}",
                "territory_id": resolve_territory(ctx, insee=insee, texts=(city, place, _lang(e.get("address")))),
                "title": title, "description": desc, "start_at": min(starts), "end_at": max(ends or starts),
                "all_day": all_day, "occurrences": len(timings) or 1, "place": place, "city": city,
                "insee_code": str(insee) if insee else None,
                "latitude": _float(loc.get("latitude", e.get("latitude"))),
                "longitude": _float(loc.get("longitude", e.get("longitude"))),
                "theme": None, "categories": list(dict.fromkeys(tags)),
                "audiences": audiences_from(age.get("min"), age.get("max"), *tags),
                "age_min": _int_or_none(age.get("min")), "age_max": _int_or_none(age.get("max")),
                "hashtags": [k.lstrip("#").lower() for k in keywords if k.startswith("#")],
                "keywords": [], "links": list(dict.fromkeys(x for x in links if x)), "is_free": free,
                "organizer": clean_text(org), "updated_at": _iso(e.get("updatedAt")), "_line": i,
            })
        if cancelled:
            out.notes.append(fr_count(cancelled, "événement annulé ignoré", "événements annulés ignorés"))
        return _finish(out, rows, "openagenda", "UTC")


def _float(v: Any) -> float | None:
    try:
        f = float(str(v).replace(",", "."))
    except (TypeError, ValueError):
        return None
    return None if pd.isna(f) else f


# ------------------------------------------------------------------------------ DATAtourisme
def _types(o: dict) -> list[str]:
    t = o.get("@type", [])
    return [t] if isinstance(t, str) else [str(x) for x in t]


def _is_dt_event(o: Any) -> bool:
    return isinstance(o, dict) and bool({"schema:Event", "EntertainmentAndEvent"} & set(_types(o))) and (
        "rdfs:label" in o)


def _dt_objects(doc: Any) -> list[dict] | None:
    """The event objects of a DATAtourisme document; [] for the feed's context file; None otherwise."""
    if isinstance(doc, dict) and "@graph" in doc and isinstance(doc["@graph"], list):
        doc = doc["@graph"]
    if isinstance(doc, dict):
        if _is_dt_event(doc):
            return [doc]
        ctx = doc.get("@context", doc)
        if isinstance(ctx, dict) and "datatourisme" in str(ctx.get("@vocab", "")) and "@id" not in doc:
            return []  # context.jsonld of a DATAtourisme feed: nothing to import
        return None
    if isinstance(doc, list) and doc and all(isinstance(x, dict) for x in doc) and any(_is_dt_event(x) for x in doc):
        return [x for x in doc if _is_dt_event(x)]
    return None


def _as_list(v: Any) -> list:
    return [] if v is None else v if isinstance(v, list) else [v]


def _dt_label(o: Any) -> str | None:
    if isinstance(o, dict):
        return _lang(o.get("rdfs:label"))
    return None


class DatatourismeJsonLd(Adapter):
    """DATAtourisme events (JSON-LD object files or a flux with ``@graph``)."""

    name = "datatourisme"
    label = "DATAtourisme — événements JSON-LD (offices de tourisme, SIT)"
    platform = "other"
    signature = ("@id", "rdfs:label", "schema:startDate", "takesPlaceAt", "isLocatedAt", "hasAudience")

    def sniff(self, probe: Probe) -> float:
        if probe.kind not in ("json", "jsonl"):
            return 0.0
        return 0.97 if _dt_objects(probe.json_head) is not None else 0.0

    def parse(self, path: Path, probe: Probe, ctx: Context) -> Parsed:
        text, _ = read_text(path, probe.encoding)
        try:
            doc = json.loads(text)
        except json.JSONDecodeError as e:
            raise ImportFailure(f"{path} : JSON-LD illisible ({e.msg})", line=e.lineno) from e
        objs = _dt_objects(doc)
        out = Parsed(self.name, rows_read=len(objs or []))
        if not objs:
            out.notes.append("contexte JSON-LD du flux DATAtourisme : aucun événement dans ce fichier")
            return out
        rows = []
        for i, o in enumerate(objs, start=1):
            title = _lang(o.get("rdfs:label"))
            periods = [p for p in _as_list(o.get("takesPlaceAt")) if isinstance(p, dict)]
            starts, ends, all_day = [], [], True
            for p in periods:
                d0 = _date(p.get("startDate"))
                if d0 is None:
                    continue
                d1 = _date(p.get("endDate")) or d0
                t0, t1 = _time(p.get("startTime")), _time(p.get("endTime"))
                all_day = all_day and t0 is None
                starts.append(_local_day(d0, t0))
                ends.append(_local_day(d1, t1 or (None if t0 is None else t0)))
            if not starts:  # no periods: the schema:startDate / endDate lists
                ds = [d for v in _as_list(o.get("schema:startDate")) if (d := _date(v))]
                de = [d for v in _as_list(o.get("schema:endDate")) if (d := _date(v))]
                starts = [_local_day(d) for d in ds]
                ends = [_local_day(d) for d in de] or starts
            if not title or not starts:
                out.rejects.append(Reject(i, "rdfs:label" if not title else "schema:startDate", o.get("@id"),
                                          "événement sans titre" if not title else "événement sans date"))
                continue
            city = insee = place = postal = None
            lat = lon = None
            for loc in _as_list(o.get("isLocatedAt")):
                if not isinstance(loc, dict):
                    continue
                for a in _as_list(loc.get("schema:address")):
                    if not isinstance(a, dict):
                        continue
                    city = city or clean_text(a.get("schema:addressLocality"))
                    postal = postal or clean_text(a.get("schema:postalCode"))
                    street = [clean_text(s) for s in _as_list(a.get("schema:streetAddress"))]
                    place = place or next((s for s in street if s), None)
                    for c in _as_list(a.get("hasAddressCity")):
                        if isinstance(c, dict) and c.get("insee"):
                            insee = insee or str(c["insee"])
                            city = city or _dt_label(c)
                geo = loc.get("schema:geo") if isinstance(loc.get("schema:geo"), dict) else {}
                lat, lon = lat or _float(geo.get("schema:latitude")), lon or _float(geo.get("schema:longitude"))
            cats = [t.split(":")[-1] for t in _types(o) if t not in ("schema:Event", "EntertainmentAndEvent",
                                                                      "PointOfInterest") and not t.startswith("schema:")]
            labels = [lab for x in _as_list(o.get("hasTheme")) if (lab := _dt_label(x))]
            people = [x for x in _as_list(o.get("hasAudience")) + _as_list(o.get("hasClientTarget"))
                      if isinstance(x, dict) and "PeopleAudience" in _types(x)]
            aud_words = [_dt_label(x) or "" for x in people] + [str(x.get("@id", "")) for x in people]
            reach = {str(x.get("@id", "")) for x in _as_list(o.get("hasGeographicReach")) + _as_list(o.get("hasAudience"))
                     if isinstance(x, dict)}
            auds = audiences_from(o.get("schema:typicalAgeRange"), None, *aud_words)
            if {"kb:International", "kb:National"} & reach:
                auds.append("touristes")
            free = None
            for off in _as_list(o.get("offers")):
                for ps in _as_list(off.get("schema:priceSpecification") if isinstance(off, dict) else None):
                    pol = ps.get("hasEligiblePolicy") if isinstance(ps, dict) else None
                    if isinstance(pol, dict) and pol.get("@id") == "kb:Free":
                        free = True
            creator = o.get("hasBeenCreatedBy")
            org = creator.get("schema:legalName") if isinstance(creator, dict) else None
            links = [norm_link(h) for c in _as_list(o.get("hasBookingContact")) + _as_list(o.get("hasContact"))
                     if isinstance(c, dict) for h in _as_list(c.get("foaf:homepage"))]
            ident = o.get("dc:identifier") or str(o.get("@id", "")).rsplit("/", 1)[-1] or content_id(title, starts[0])
            rows.append({
                "event_id": f"datatourisme:{ident}",
                "territory_id": resolve_territory(ctx, insee=insee, texts=(city, place)),
                "title": title, "description": _lang(o.get("rdfs:comment")),
                "start_at": min(starts), "end_at": max(ends), "all_day": all_day,
                "occurrences": max(len(periods), len(_as_list(o.get("schema:startDate"))), 1),
                "place": place, "city": city, "insee_code": insee, "latitude": lat, "longitude": lon,
                "theme": None, "categories": list(dict.fromkeys(cats + labels)),
                "audiences": list(dict.fromkeys(auds)), "age_min": None, "age_max": None,
                "hashtags": [], "keywords": [], "links": list(dict.fromkeys(x for x in links if x)),
                "is_free": free, "organizer": clean_text(org),
                "updated_at": _iso(o.get("lastUpdate")), "_line": i,
            })
        return _finish(out, rows, "datatourisme")


def _date(v: Any) -> date | None:
    if is_missing(v):
        return None
    try:
        return datetime.fromisoformat(str(v).strip()[:10]).date()
    except ValueError:
        return None


def _time(v: Any) -> time | None:
    if is_missing(v):
        return None
    m = re.match(r"(\d{1,2}):(\d{2})", str(v))
    return time(int(m[1]), int(m[2])) if m else None


# ------------------------------------------------------------------------------ open-data CSV
CSV_FIELDS: dict[str, tuple[str, ...]] = {
    "id": ("identifiant", "id", "uid", "id evenement", "identifiant evenement"),
    "title": ("nom de la manifestation", "titre", "title", "nom de l'evenement", "intitule", "nom"),
    "description": ("descriptif court", "chapeau", "description", "resume", "descriptif"),
    "start": ("date debut", "date de debut", "date_debut", "debut", "date_start", "start"),
    "end": ("date fin", "date de fin", "date_fin", "fin", "date_end", "end"),
    "dates_text": ("dates affichage - horaires", "dates affichage", "dates", "date en clair", "occurrences"),
    "times": ("horaires", "heure", "heures"),
    "place": ("lieu - nom", "nom du lieu", "lieu", "lieu de la manifestation"),
    "address": ("lieu - adresse 2", "lieu - adresse 1", "adresse", "adresse du lieu"),
    "postal": ("code postal", "cp", "code_postal"),
    "city": ("commune", "ville", "city"),
    "insee": ("code insee", "insee", "code_insee"),
    "categories": ("type de manifestation", "categorie de la manifestation", "theme de la manifestation",
                   "categorie", "categories", "tags", "mots cles", "type"),
    "url": ("reservation site internet", "url", "lien", "site web", "site internet", "url de l'evenement"),
    "free": ("manifestation gratuite", "gratuit", "type de prix", "tarif"),
    "age": ("tranche age enfant", "age", "public", "tranche d'age"),
    "lat": ("googlemap latitude", "latitude", "lat"),
    "lon": ("googlemap longitude", "longitude", "lon", "lng"),
    "geo": ("geo point", "geo_point_2d", "coordonnees geographiques", "coordonnees"),
}
_CSV_KNOWN = tuple(dict.fromkeys(n for names in CSV_FIELDS.values() for n in names))
_DMY = re.compile(r"(\d{1,2})/(\d{1,2})/(\d{4})")
_HOUR = re.compile(r"(?i)(?<![\d/])(\d{1,2})\s*(?:h|:)\s*(\d{2})?(?!\d)|(?<![\d/])(\d{1,2})\s*(am|pm)\b")


def _csv_field(rec: dict, key: str) -> Any:
    for n in CSV_FIELDS[key]:
        if n in rec and not is_missing(rec[n]):
            return rec[n]
    return None


def _csv_date(v: Any) -> date | None:
    if is_missing(v):
        return None
    s = str(v).strip()
    m = _DMY.fullmatch(s[:10]) if len(s) >= 8 else None
    if m:
        return date(int(m[3]), int(m[2]), int(m[1]))
    try:
        return datetime.fromisoformat(s.replace("Z", "+00:00")[:19] if "T" in s else s[:10]).date()
    except ValueError:
        return None


def dates_from_text(text: str | None) -> list[date]:
    """Every date of a free-text schedule (« Le 05/05/2020 - A 14h30 Le 12/05/2020 », « Du 21/05/2020
    au 30/06/2020 - … »), sorted; a « du … au … » range gives its two ends."""
    if not text:
        return []
    return sorted({date(int(y), int(m), int(d)) for d, m, y in _DMY.findall(text)
                   if 1 <= int(m) <= 12 and 1 <= int(d) <= 31})


def first_time(text: str | None) -> time | None:
    """The first clock time of a schedule (« A 16H00 », « De 10h à 19h », « At 10am », « A las 11:00 »)."""
    if not text:
        return None
    m = _HOUR.search(text)
    if not m:
        return None
    if m[3]:
        h = int(m[3]) % 12 + (12 if m[4].lower() == "pm" else 0)
        return time(h, 0)
    h = int(m[1])
    return time(h, int(m[2] or 0)) if h < 24 else None


class AgendaCsv(Adapter):
    """A city's open-data agenda CSV (« agenda des manifestations », French headers)."""

    name = "agenda_csv"
    label = "Agenda open data d'une collectivité (CSV, en-têtes français)"
    platform = "other"
    signature = ("Identifiant", "Nom de la manifestation", "Date début", "Date fin", "Lieu - nom", "Commune")

    def _header(self, rows: list[list[Any]]) -> int | None:
        return find_header(rows, _CSV_KNOWN, min_hits=4)

    def sniff(self, probe: Probe) -> float:
        if probe.kind != "csv" or not probe.rows:
            return 0.0
        h = self._header(probe.rows)
        if h is None:
            return 0.0
        have = {norm_header(c) for c in probe.rows[h]}
        need = ("title", "start") if any(n in have for n in CSV_FIELDS["start"]) else ("title", "dates_text")
        if not all(any(n in have for n in CSV_FIELDS[k]) for k in need):
            return 0.0
        if not any(n in have for n in CSV_FIELDS["place"] + CSV_FIELDS["city"] + CSV_FIELDS["categories"]):
            return 0.0
        return 0.9

    def parse(self, path: Path, probe: Probe, ctx: Context) -> Parsed:
        rows, lines = read_csv_all(probe)
        h = self._header(rows)
        if h is None:
            raise ImportFailure(f"{path} : en-tête de l'agenda introuvable")
        _, recs = records(rows, h, lines)
        out = Parsed(self.name, rows_read=len(recs))
        events = []
        from_text = 0
        for line, rec in recs:
            title = clean_text(_csv_field(rec, "title"))
            d0, d1 = _csv_date(_csv_field(rec, "start")), _csv_date(_csv_field(rec, "end"))
            dtext = clean_text(_csv_field(rec, "dates_text"))
            listed = dates_from_text(dtext)
            if d0 is None and listed:
                d0, d1 = listed[0], listed[-1]
                from_text += 1
            if not title or d0 is None:
                out.rejects.append(Reject(line, "Nom de la manifestation" if not title else "Date début",
                                          dtext or title, "événement sans titre" if not title
                                          else "date de début absente et illisible dans le texte des dates"))
                continue
            d1 = d1 or d0
            times = clean_text(_csv_field(rec, "times")) or dtext
            t0 = first_time(re.sub(r"\b\d{1,2}/\d{1,2}/\d{4}\b", " ", times or ""))
            start = _local_day(d0, t0)
            end = _local_day(d1, t0) if t0 else _local_day(d1)
            city = clean_text(_csv_field(rec, "city"))
            place = clean_text(_csv_field(rec, "place"))
            cats: list[str] = []
            for n in CSV_FIELDS["categories"]:
                v = rec.get(n)
                if not is_missing(v):
                    cats += [c.strip() for c in re.split(r"[,;|]", str(v)) if c.strip()]
            lat, lon = _float(_csv_field(rec, "lat")), _float(_csv_field(rec, "lon"))
            geo = _csv_field(rec, "geo")
            if (lat is None or lon is None) and isinstance(geo, str) and "," in geo:
                lat, lon = (_float(x) for x in geo.split(",", 1))
            free_v = _csv_field(rec, "free")
            free = True if isinstance(free_v, str) and re.match(r"(?i)\s*(oui|yes|gratuit|1|true)\b", free_v) else None
            age_txt = clean_text(_csv_field(rec, "age")) or ""
            ages = [int(x) for x in re.findall(r"\d+", age_txt)]
            ident = clean_text(_csv_field(rec, "id")) or content_id(title, d0, place)
            events.append({
                "event_id": f"agenda_csv:{ident}",
                "territory_id": resolve_territory(ctx, insee=clean_text(_csv_field(rec, "insee")), texts=(city, place)),
                "title": title, "description": clean_text(_csv_field(rec, "description")),
                "start_at": start, "end_at": max(end, start), "all_day": t0 is None,
                "occurrences": max(len(listed), 1), "place": place, "city": city,
                "insee_code": clean_text(_csv_field(rec, "insee")), "latitude": lat, "longitude": lon,
                "theme": None, "categories": list(dict.fromkeys(cats)),
                "audiences": audiences_from(min(ages) if ages else None, max(ages) if ages else None, age_txt, *cats),
                "age_min": min(ages) if ages else None, "age_max": max(ages) if ages else None,
                "hashtags": [], "keywords": [], "links": [x for x in [norm_link(_csv_field(rec, "url"))] if x],
                "is_free": free, "organizer": None, "updated_at": None, "_line": line,
            })
        if from_text:
            out.notes.append(f"{fr_count(from_text, 'événement daté', 'événements datés')} d'après le texte libre des dates (colonne « Date début » vide)")
        return _finish(out, events, "agenda_csv")


# ------------------------------------------------------------------------------ iCalendar
def _is_ics(probe: Probe) -> bool:
    head = (probe.text_head or "").lstrip("\ufeff \r\n\t")
    return head[:15].upper() == "BEGIN:VCALENDAR"


def _ical_text(v: Any) -> str | None:
    if v is None:
        return None
    s = v.to_ical().decode("utf-8", "replace") if hasattr(v, "to_ical") and not isinstance(v, str) else str(v)
    s = s.replace("\\n", "\n").replace("\\,", ",").replace("\\;", ";")
    return clean_text(html.unescape(s))


def _ical_list(comp: Any, name: str) -> list[str]:
    out: list[str] = []
    for v in _as_list(comp.get(name)):
        cats = getattr(v, "cats", None)
        if cats is not None:
            out += [_ical_text(c) or "" for c in cats]
        else:
            out += [x.strip() for x in (_ical_text(v) or "").split(",")]
    return [x for x in dict.fromkeys(out) if x]


class ICalendar(Adapter):
    """An iCalendar file (``.ics``, ``.ical``): agendas of communes, associations, WordPress plugins."""

    name = "ics"
    label = "iCalendar (.ics) — agenda d'événements"
    platform = "other"
    signature = ("BEGIN:VCALENDAR", "BEGIN:VEVENT", "DTSTART", "SUMMARY")

    def sniff(self, probe: Probe) -> float:
        return 0.99 if _is_ics(probe) else 0.0

    def parse(self, path: Path, probe: Probe, ctx: Context) -> Parsed:
        import icalendar

        text, _ = read_text(path, probe.encoding)
        try:
            cal = icalendar.Calendar.from_ical(text)
        except ValueError as e:
            raise ImportFailure(f"{path} : calendrier iCalendar illisible ({e})") from e
        tz = str(cal.get("X-WR-TIMEZONE") or LOCAL_TZ)
        try:
            ZoneInfo(tz)
        except (KeyError, ValueError):
            tz = LOCAL_TZ
        calname = _ical_text(cal.get("X-WR-CALNAME"))
        vigie = "//Vigie//" in str(cal.get("PRODID", ""))
        vevent_lines = [i + 1 for i, ln in enumerate(text.splitlines()) if ln.strip().upper() == "BEGIN:VEVENT"]
        comps = list(cal.walk("VEVENT"))
        out = Parsed(self.name, rows_read=len(comps))
        rows, cancelled, recurring = [], 0, 0
        for i, ev in enumerate(comps):
            line = vevent_lines[i] if i < len(vevent_lines) else None
            if str(ev.get("STATUS", "")).upper() == "CANCELLED":
                cancelled += 1
                continue
            title = _ical_text(ev.get("SUMMARY"))
            ds = ev.get("DTSTART")
            if not title or ds is None:
                out.rejects.append(Reject(line, "SUMMARY" if not title else "DTSTART", title,
                                          "événement sans titre" if not title else "événement sans date"))
                continue
            start_v = ds.dt
            all_day = not isinstance(start_v, datetime)
            if all_day:
                start = _local_day(start_v, None, tz)
            else:
                start = _utc(start_v, tz)
            de, dur = ev.get("DTEND"), ev.get("DURATION")
            if de is not None:
                end_v = de.dt
                if all_day and not isinstance(end_v, datetime):
                    end = _local_day(max(end_v - timedelta(days=1), start_v), None, tz)  # DTEND is exclusive
                else:
                    end = _utc(end_v, tz) if isinstance(end_v, datetime) else _local_day(end_v, None, tz)
            elif dur is not None:
                end = start + dur.dt
            else:
                end = start
            if ev.get("RRULE") is not None:
                recurring += 1
            location = _ical_text(ev.get("LOCATION"))
            desc = _ical_text(ev.get("DESCRIPTION"))
            cats = _ical_list(ev, "CATEGORIES")
            vigie_theme = _ical_text(ev.get("X-VIGIE-THEME"))
            vigie_aud = [a for a in _ical_list(ev, "X-VIGIE-AUDIENCES") if a in AUDIENCES]
            uid = _ical_text(ev.get("UID")) or content_id(title, start)
            url = norm_link(_ical_text(ev.get("URL")))
            # Vigie's own export keeps each event's id as its UID: re-importing it updates the same rows
            eid = uid if vigie and re.match(r"(openagenda|datatourisme|agenda_csv|ics|app|demo):", uid) else f"ics:{uid}"
            rows.append({
                "event_id": eid,
                "territory_id": resolve_territory(ctx, texts=(location, calname, title)),
                "title": title, "description": desc, "start_at": start, "end_at": max(end, start),
                "all_day": all_day, "occurrences": 1, "place": location,
                "city": None, "insee_code": None, "latitude": None, "longitude": None,
                "theme": vigie_theme, "categories": cats,
                "audiences": vigie_aud or audiences_from(None, None, *cats),
                "age_min": None, "age_max": None, "hashtags": norm_tags(_ical_list(ev, "X-VIGIE-HASHTAGS")),
                "keywords": norm_keywords(_ical_list(ev, "X-VIGIE-KEYWORDS")),
                "links": [url] if url else [], "is_free": None,
                "organizer": _ical_text(getattr(ev.get("ORGANIZER"), "params", {}).get("CN")) if ev.get("ORGANIZER") else None,
                "updated_at": _utc(ev["LAST-MODIFIED"].dt) if ev.get("LAST-MODIFIED") is not None
                and isinstance(ev["LAST-MODIFIED"].dt, datetime) else None,
                "_line": line,
            })
        if cancelled:
            out.notes.append(fr_count(cancelled, "événement annulé ignoré", "événements annulés ignorés"))
        if recurring:
            out.notes.append(f"{fr_count(recurring, 'événement récurrent', 'événements récurrents')} (RRULE) : seule la première date est retenue")
        return _finish(out, rows, "ics", tz)


ADAPTERS: list[Adapter] = [OpenAgendaJson(), DatatourismeJsonLd(), AgendaCsv(), ICalendar()]
