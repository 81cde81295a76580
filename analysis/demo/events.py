"""The demo agenda: events of the five fictional territories, their promotion, its injected effect.

Called by the demo build (:func:`analysis.demo.build.generate`): :func:`inject` adds to the simulated
world, from a random stream of its own (the rest of the demo keeps its draws), the promotion posts
of each event — on Facebook, Instagram and X, in the four weeks before it — whose expected
engagement is the one a regular post of the same account and day would have, multiplied by
``1 + effect`` (the **injected promotion effect**; council meetings get 0: a promotion that does
not work), their comments, and extra X mentions naming the own territory's events while they take
place. :func:`write` writes the agendas in their real shapes, imported by the real importers:

- ``saint-aubin/agenda/agenda-ville.ics`` — the town's calendar (iCalendar: CRLF, ``TZID`` without
  ``VTIMEZONE``, an HTML entity in the calendar name, an all-day event, a cancelled one, the event's
  hashtag in its description);
- ``saint-aubin/agenda/office-de-tourisme_openagenda.json`` — the tourism office's OpenAgenda export
  (v1 shape: language maps, one timing per day in UTC, ``keywords`` per language or null);
- ``agenda-regional_openagenda.json`` — the peers' events in a regional OpenAgenda (a cancelled one).

The truth is written beside the exports (``ground_truth_events.json``). Event dates avoid the demo
campaigns' first and last weeks and the water crisis: a campaign that starts in the middle of an
event's promotion would change every post's engagement there, which no per-event comparison can
tell apart from the promotion (the evaluation's caveat). :func:`coverage` measures, on simulated
accounts drawn from the same engagement model, how often the evaluation's 95 % interval covers
the injected effect.
"""

from __future__ import annotations

import json
import math
from dataclasses import dataclass
from datetime import UTC, date, datetime, timedelta
from pathlib import Path
from typing import Any

import numpy as np

from analysis.config import LOCAL_TZ, LOCAL_ZONE
from analysis.demo.model import (
    COMMENT_MEAN,
    ENGAGEMENT_SIGMA,
    NB_DISPERSION,
    POST_RATE,
    REACTIONS_PER_COMMENT,
    SHARES_PER_COMMENT,
    TERRITORY_STYLE,
    FastRng,
    Ids,
    TextMaker,
    _author_weights,
    _cum,
    _draw,
    _local_time,
    _nb,
    _to_utc,
    campaign_of,
    season,
    size_factor,
)
from analysis.demo.posts import _message_native_id, _official_reply, _simulate_comments
from analysis.demo.truth import exports_dir_for
from analysis.events.evaluation import lift, strata
from analysis.fmt import MONTHS, WEEKDAYS

PARIS = LOCAL_ZONE
SEED_OFFSET = 2121  # the agenda's own random stream: seed + 2121
ID_START = 5_000_000  # native ids of the agenda's posts and messages start far above the demo's


@dataclass(frozen=True)
class DemoEvent:
    key: str
    territory_id: str
    title: str
    start: datetime  # local (Europe/Paris), naive
    end: datetime
    effect: float
    theme: str
    audiences: tuple[str, ...]
    hashtag: str | None
    n_posts: int
    lead_days: int = 24
    all_day: bool = False
    source: str = "ics"  # ics (town calendar), openagenda (tourism office), regional (peers)
    conversation: float = 0.0  # extra messages a day naming it while it takes place (own territory)
    place: str = "Place de la Mairie"
    description: str = ""


def _d(y: int, m: int, d: int, h: int = 0, mi: int = 0) -> datetime:
    return datetime(y, m, d, h, mi)


OWN = "saint-aubin"
EVENTS: tuple[DemoEvent, ...] = (
    DemoEvent("noel-2024", OWN, "Noël sur Loire", _d(2024, 12, 6, 17), _d(2024, 12, 8, 20), 0.6,
              "culture_evenements", ("familles", "tous"), "NoelSurLoire", 8, 21, source="openagenda",
              conversation=5.0, description="Marché de Noël, patinoire et chalets des artisans sur les quais."),
    DemoEvent("conseil-2025-02", OWN, "Conseil municipal du 10 février", _d(2025, 2, 10, 18, 30),
              _d(2025, 2, 10, 21), 0.0, "vie_citoyenne", ("40_plus",), None, 4, 14, conversation=1.0,
              place="Hôtel de ville", description="Séance publique : budget primitif 2025."),
    DemoEvent("jobs-2025", OWN, "Forum Jobs d'été", _d(2025, 4, 5), _d(2025, 4, 5), 0.35, "economie_emploi",
              ("jeunes",), "JobsDeteSaintAubin", 6, 24, all_day=True, conversation=2.0, place="Salle des fêtes",
              description="Offres d'emplois saisonniers pour les 16-25 ans, ateliers CV."),
    DemoEvent("foulees-2025", OWN, "Les Foulées de la Loire", _d(2025, 5, 11, 9), _d(2025, 5, 11, 13), 0.3,
              "sport_loisirs", ("jeunes", "40_plus"), "FouleesDeLaLoire", 6, 24, conversation=3.0,
              place="Quai des Mariniers", description="Courses de 5 et 10 km le long de la Loire."),
    DemoEvent("nuits-2025", OWN, "Les Nuits de Loire", _d(2025, 7, 18, 19), _d(2025, 7, 20, 23, 30), 0.5,
              "culture_evenements", ("jeunes", "touristes", "tous"), "NuitsDeLoire", 9, 19, source="openagenda",
              conversation=8.0, place="Parc des Rives", description="Festival de musiques sur les bords de Loire."),
    DemoEvent("noel-2025", OWN, "Noël sur Loire", _d(2025, 12, 5, 17), _d(2025, 12, 7, 20), 0.5,
              "culture_evenements", ("familles", "tous"), "NoelSurLoire", 8, 21, source="openagenda",
              conversation=5.0, description="Marché de Noël, patinoire et chalets des artisans sur les quais."),
    DemoEvent("conseil-2026-02", OWN, "Conseil municipal du 9 février", _d(2026, 2, 9, 18, 30),
              _d(2026, 2, 9, 21), 0.0, "vie_citoyenne", ("40_plus",), None, 4, 14, conversation=1.0,
              place="Hôtel de ville", description="Séance publique : budget primitif 2026."),
    DemoEvent("foulees-2026", OWN, "Les Foulées de la Loire", _d(2026, 7, 5, 9), _d(2026, 7, 5, 13), 0.2,
              "sport_loisirs", ("jeunes", "40_plus"), "FouleesDeLaLoire", 6, 20, conversation=3.0,
              place="Quai des Mariniers", description="Courses de 5 et 10 km le long de la Loire."),
    DemoEvent("nuits-2026", OWN, "Les Nuits de Loire", _d(2026, 7, 17, 19), _d(2026, 7, 19, 23, 30), 0.4,
              "culture_evenements", ("jeunes", "touristes", "tous"), "NuitsDeLoire", 9, 10, source="openagenda",
              conversation=8.0, place="Parc des Rives", description="Festival de musiques sur les bords de Loire."),
    DemoEvent("assos-2026", OWN, "Fête des associations", _d(2026, 9, 12), _d(2026, 9, 12), 0.25, "vie_citoyenne",
              ("familles", "tous"), "AssosSaintAubin", 5, 21, all_day=True, conversation=2.0,
              place="Gymnase Jean-Moulin", description="Rencontrez les 120 associations de la ville."),
    DemoEvent("conseil-2026-10", OWN, "Conseil municipal du 5 octobre", _d(2026, 10, 5, 18, 30),
              _d(2026, 10, 5, 21), 0.0, "vie_citoyenne", ("40_plus",), None, 4, 14, conversation=1.0,
              place="Hôtel de ville", description="Séance publique."),
)
# Peers' events (regional OpenAgenda): same kinds of events, their own promotion effects.
_PEER_KINDS = (  # (title pattern, month, day, hour, days, effect, theme, audiences, hashtag suffix, posts)
    ("Marché de Noël de {n}", 12, 12, 16, 2, 0.3, "culture_evenements", ("familles",), "Noel", 6),
    ("Festival d'été de {n}", 7, 11, 19, 2, 0.25, "culture_evenements", ("jeunes", "touristes"), "Festival", 7),
    ("Course des remparts de {n}", 5, 24, 9, 0, 0.15, "sport_loisirs", ("40_plus",), "Course", 5),
    ("Conseil municipal de {n}", 3, 3, 18, 0, 0.0, "vie_citoyenne", ("40_plus",), None, 3),
)
PEER_NAMES = {"port-marel": ("Port-Marel", "PortMarel"), "villeneuve-les-sources": ("Villeneuve", "Villeneuve"),
              "bourg-lavande": ("Bourg-la-Lavande", "BourgLavande"), "montclar-agglo": ("Montclar", "Montclar")}
PEER_CITY = {"port-marel": "Port-Marel", "villeneuve-les-sources": "Villeneuve-les-Sources",
             "bourg-lavande": "Bourg-la-Lavande", "montclar-agglo": "Montclar Agglomération"}


def peer_events() -> list[DemoEvent]:
    """Every peer's events of the two years (Christmas markets, summer festivals, races, councils)."""
    out = []
    for tid, (short, tag) in PEER_NAMES.items():
        for k, (title, month, day, hour, days, effect, theme, auds, suffix, n) in enumerate(_PEER_KINDS):
            for year in (2025, 2026) if month < 11 else (2024, 2025):
                if (year, month) > (2026, 10):
                    continue
                start = _d(year, month, day, hour)
                out.append(DemoEvent(f"{tid}-{k}-{year}", tid, title.format(n=short), start,
                                     start + timedelta(days=days, hours=3), effect, theme, auds,
                                     f"{suffix}{tag}" if suffix else None, n, 21, source="regional",
                                     place="Centre-ville"))
    return out


def all_events() -> list[DemoEvent]:
    return [*EVENTS, *peer_events()]


def event_id(e: DemoEvent) -> str:
    """The id the importers give the event (``ics:<UID>`` or ``openagenda:<uid>``)."""
    return f"ics:{e.key}@saint-aubin-sur-loire.example" if e.source == "ics" else f"openagenda:{_oa_uid(e)}"


def _oa_uid(e: DemoEvent) -> int:
    return 70_000_000 + sum(ord(c) * 131 ** i for i, c in enumerate(e.key)) % 9_000_000


def link(e: DemoEvent) -> str:
    if e.territory_id == OWN:
        return f"https://www.saint-aubin-sur-loire.example/agenda/{e.key}"
    return f"https://openagenda.com/agenda-regional-example/events/{e.key}"


# ------------------------------------------------------------------------------ promotion texts
_PROMO = (  # {title}, {date}, {place}, {tag} (hashtags incl. '#'), {link}
    "📣 {title} : rendez-vous {date}, {place} ! Tout le programme 👉 {link} {tag}",
    "J-7 : {title} approche ! {desc} {tag}",
    "C'est bientôt : {title}, {date}. On vous attend nombreux ! {tag}",
    "🗓️ À noter : {title} {date} ({place}). Infos : {link}",
    "Dernière ligne droite : {title}, le plan d'accès et les horaires sont en ligne. {tag}",
    "C'est parti : {title} ! Suivez la journée avec {tag}",
    "Merci à toutes et à tous ! {title} : retour en images 📸 {tag}",
)
_TALK = (  # (template, tone, is_question): messages naming the event while it takes place
    ("Super ambiance à {title} ce soir, bravo aux organisateurs ! {tag}", "positive", False),
    ("Qui vient à {title} ? On se retrouve sur place {tag}", "neutral", False),
    ("{title} : impossible de se garer, dommage 😕 {tag}", "negative", False),
    ("Quelqu'un sait à quelle heure commence {title} ? {tag}", "neutral", True),
    ("J'adore {title}, vivement l'an prochain ✨ {tag}", "positive", False),
    ("Très belle édition de {title} cette année 👏 {tag}", "positive", False),
    ("{title} : beaucoup trop de monde et pas assez de navettes {tag}", "negative", False),
)


def _fr_date(dt: datetime) -> str:

    return f"le {WEEKDAYS[dt.weekday()]} {dt.day} {MONTHS[dt.month - 1]}"


# ------------------------------------------------------------------------------ simulation
def _engagement(rng: Any, plat: str, sf: float, day: date, territory_id: str, effect: float) -> dict:
    """Counts of a post of ``plat`` on ``day`` drawn from the demo's engagement model, × (1 + effect)."""
    camp = campaign_of(day, territory_id)
    mu = (COMMENT_MEAN[plat] * sf * season(day) * (1.0 + (camp["effect"] if camp else 0.0)) * (1.0 + effect)
          * float(np.exp(rng.normal(-ENGAGEMENT_SIGMA ** 2 / 2, ENGAGEMENT_SIGMA))))
    return {"mu": mu, "comments": _nb(rng, mu), "reactions": _nb(rng, mu * REACTIONS_PER_COMMENT[plat]),
            "shares": _nb(rng, mu * SHARES_PER_COMMENT[plat]), "camp": camp}


def _promo_days(rng: Any, e: DemoEvent, n: int) -> list[datetime]:
    """Publication times: most in the last days before the event, one during, one after (thanks)."""
    start_day = e.start.date()
    out = []
    for k in range(n):
        if k == n - 1 and n >= 5:
            d = e.end.date() + timedelta(days=1)  # the thank-you post
        elif k == n - 2 and n >= 4:
            d = start_day  # « c'est parti »
        else:
            back = int(min(e.lead_days, max(1, round(float(rng.exponential(e.lead_days / 2.5)) + 1))))
            d = start_day - timedelta(days=back)
        h = int(rng.integers(8, 20))
        out.append(datetime(d.year, d.month, d.day, h, int(rng.integers(60)), int(rng.integers(60)), tzinfo=PARIS))
    return sorted(out)


def inject(sim: Any, seed: int) -> dict:
    """Add the agenda's promotion posts, their comments and the conversation naming the own
    territory's events to ``sim`` (in place); returns the truth (also kept on ``sim``)."""
    rng = FastRng(seed + SEED_OFFSET)
    tm = TextMaker(rng)
    ids = Ids()
    ids.n = {k: ID_START for k in ("fb_post", "ig_post", "x_post", "fb_comment", "ig_comment", "yt_comment", "other")}
    reg = sim.registry
    own_pop = next(t for t in reg.territories if t.kind == "own").population or 50000
    truth = []
    for e in all_events():
        terr = reg.territory(e.territory_id)
        sf = size_factor(terr, own_pop)
        style = TERRITORY_STYLE.get(terr.territory_id, TERRITORY_STYLE[OWN])
        tshort = terr.name.split(" ")[0]
        ttag = "".join(ch for ch in terr.name.translate(str.maketrans("éèêàç", "eeeac")) if ch.isalpha())
        accounts = {a.platform: a for a in terr.accounts if a.platform in ("facebook", "instagram", "x")}
        plats = [p for p in ("facebook", "instagram", "x") if p in accounts]
        if e.theme == "vie_citoyenne" and "instagram" in plats and e.effect == 0:
            plats.remove("instagram")  # council meetings: Facebook and X
        times = _promo_days(rng, e, e.n_posts)
        post_ids = []
        for k, local in enumerate(times):
            plat = plats[k % len(plats)]
            acc = accounts[plat]
            day = local.date()
            eng = _engagement(rng, plat, sf, day, terr.territory_id, e.effect)
            tag = " ".join(f"#{h}" for h in ([e.hashtag] if e.hashtag else []) + [ttag])
            tpl = _PROMO[min(k, len(_PROMO) - 2)] if k < len(times) - 1 or len(times) < 5 else _PROMO[-1]
            if not e.hashtag and "{link}" not in tpl:
                tpl = _PROMO[0]  # no hashtag: the post names it and links to it
            text = tpl.format(title=e.title, date=_fr_date(e.start), place=e.place, tag=tag, link=link(e),
                              desc=e.description).strip()
            reach = int(eng["reactions"] * rng.uniform(9, 16) + rng.integers(50, 400) * sf)
            ptype = {"facebook": ["Photos", "Links", "Videos"], "instagram": ["IG image", "IG carousel", "IG reel"],
                     "x": ["status"]}[plat][int(rng.integers(3 if plat != "x" else 1))]
            post = {
                "territory_id": terr.territory_id, "platform": plat, "account": acc, "native_id": None,
                "created_local": local, "created_utc": _to_utc(local), "text": text, "themes": [e.theme],
                "post_type": ptype, "comments_users": eng["comments"], "reactions": eng["reactions"],
                "shares": eng["shares"], "reach": reach, "impressions": int(reach * rng.uniform(1.2, 1.6)),
                "video_views": int(reach * rng.uniform(0.3, 0.7)) if ptype in ("Videos", "IG reel") else None,
                "clicks": int(reach * rng.uniform(0.01, 0.05)),
                "campaign": eng["camp"]["campaign_id"] if eng["camp"] else None,
                "effect": (eng["camp"]["effect"] if eng["camp"] else 0.0), "crisis": False,
                "hashtags": [h for h in ([e.hashtag] if e.hashtag else []) + [ttag]], "event": e.key,
                "event_effect": e.effect,
            }
            if plat == "facebook":
                post["native_id"] = str(ids.next("fb_post", 1000000000000000 + 10**13 * int(acc.native_id[-1])))
            elif plat == "instagram":
                post["native_id"] = str(ids.next("ig_post", 17900000000000000 + 10**13 * int(acc.native_id[-1])))
            else:
                post["native_id"] = str(ids.next("x_post", 1850000000000000000 + 10**15 * int(acc.native_id[-1])))
            sim.posts.append(post)
            post_ids.append(f"{plat}:{post['native_id']}")
            pool = sim.authors.get((terr.territory_id, plat))
            if pool:
                weights = _cum(_author_weights(len(pool)))
                _simulate_comments(sim, rng, tm, ids, terr, acc, post, eng["comments"], tshort, ttag,
                                     acc.handle or acc.native_id or "", pool, weights, style)
        talk = _conversation(sim, rng, ids, e, terr, accounts.get("x"), style) if e.conversation else 0
        truth.append({"key": e.key, "event_id": event_id(e), "territory_id": e.territory_id, "title": e.title,
                      "start": e.start.isoformat(), "end": e.end.isoformat(), "theme": e.theme,
                      "audiences": list(e.audiences), "hashtag": e.hashtag, "injected_effect": e.effect,
                      "placebo": e.effect == 0.0, "promo_posts": post_ids, "source": e.source,
                      "conversation_messages": talk, "conversation_per_day": e.conversation})
    out = {"seed": seed, "events": truth,
           "definition": ("promotion effect = engagement (reactions + comments + shares) of a promotion post ÷ the "
                          "expected engagement of a regular post of the same account on the same day, minus 1; "
                          "each promotion post's expected engagement is the demo's (size × season × campaign × "
                          f"lognormal σ {ENGAGEMENT_SIGMA}) times (1 + injected_effect); counts negative binomial "
                          f"(size {NB_DISPERSION}). Promotion posts are published from lead days before the "
                          "event to the day after it; they name it (title), carry its hashtag and/or link to it.")}
    sim.events_truth = out  # read by write()
    return out


def _conversation(sim: Any, rng: Any, ids: Any, e: DemoEvent, terr: Any, acc: Any, style: dict) -> int:
    """Extra X mentions naming an own event: ``conversation`` a day while it takes place, a third of
    that in the three days before."""
    if acc is None:
        return 0
    pool = sim.authors.get((terr.territory_id, "x")) or []
    if not pool:
        return 0
    weights = _cum(_author_weights(len(pool)))
    handle = acc.handle or ""
    days = [(e.start.date() - timedelta(days=k), e.conversation / 3) for k in (3, 2, 1)]
    d = e.start.date()
    while d <= e.end.date():
        days.append((d, e.conversation))
        d += timedelta(days=1)
    n_total = 0
    for day, lam in days:
        for _ in range(int(rng.poisson(lam))):
            tpl, tone, q = _TALK[int(rng.integers(len(_TALK)))]
            tag = f"#{e.hashtag}" if e.hashtag and rng.random() < 0.6 else ""
            text = tpl.format(title=e.title, tag=tag).strip()
            when = _to_utc(_local_time(rng, day, "user"))
            author = pool[int(_draw(rng, weights))]
            m = {"territory_id": terr.territory_id, "platform": "x", "account": acc, "post": None,
                 "native_id": _message_native_id(ids, "x", None), "kind": "mention", "parent": None,
                 "author": author, "is_official": False, "created_utc": when,
                 "text": f"@{handle} {text}" if rng.random() < 0.5 else text, "themes": [e.theme], "tone": tone,
                 "is_question": q, "is_hostile": False, "lang": "fr", "crisis": False, "theme_explicit": True,
                 "likes": _nb(rng, 1.5, 1.5), "event": e.key}
            sim.messages.append(m)
            _official_reply(sim, rng, ids, terr, acc, m, style)
            n_total += 1
    return n_total


# ------------------------------------------------------------------------------ files
def _ics_text(s: str) -> str:
    return s.replace("\\", "\\\\").replace(";", "\\;").replace(",", "\\,").replace("\n", "\\n")


def _ics_fold(line: str) -> list[str]:
    """RFC 5545 folding at 75 octets (continuation lines start with a space)."""
    out, cur = [], ""
    for ch in line:
        if len((cur + ch).encode("utf-8")) > 75:
            out.append(cur)
            cur = " " + ch
        else:
            cur += ch
    return out + [cur]


def town_ics(events: list[DemoEvent]) -> str:
    """The town's calendar as its CMS exports it (see the module docstring for its quirks)."""
    lines = ["BEGIN:VCALENDAR", "VERSION:2.0", "PRODID:-//Ville de Saint-Aubin-sur-Loire//Agenda//FR",
             "CALSCALE:GREGORIAN", "METHOD:PUBLISH",
             "X-WR-CALNAME:Ville de Saint-Aubin-sur-Loire &#8211; Agenda", "X-WR-TIMEZONE:Europe/Paris",
             "X-WR-CALDESC:Les rendez-vous de la ville"]
    stamp = "20261101T000000Z"
    for e in events:
        desc = e.description + (f" Partagez vos photos avec #{e.hashtag}" if e.hashtag else "")
        lines += ["BEGIN:VEVENT", f"UID:{e.key}@saint-aubin-sur-loire.example", f"DTSTAMP:{stamp}"]
        if e.all_day:
            lines += [f"DTSTART;VALUE=DATE:{e.start:%Y%m%d}", f"DTEND;VALUE=DATE:{e.end + timedelta(days=1):%Y%m%d}"]
        else:
            lines += [f"DTSTART;TZID=Europe/Paris:{e.start:%Y%m%dT%H%M%S}", f"DTEND;TZID=Europe/Paris:{e.end:%Y%m%dT%H%M%S}"]
        lines += [f"SUMMARY:{_ics_text(e.title)}", f"DESCRIPTION:{_ics_text(desc)}",
                  f"LOCATION:{_ics_text(e.place + ', Saint-Aubin-sur-Loire')}", f"URL:{link(e)}", "END:VEVENT"]
    # a cancelled event: the importer leaves it out
    lines += ["BEGIN:VEVENT", "UID:brocante-2025@saint-aubin-sur-loire.example", f"DTSTAMP:{stamp}",
              "DTSTART;VALUE=DATE:20250907", "DTEND;VALUE=DATE:20250908", "SUMMARY:Brocante du quartier Gare",
              "STATUS:CANCELLED", "LOCATION:Rue de la Gare\\, Saint-Aubin-sur-Loire", "END:VEVENT", "END:VCALENDAR"]
    return "\r\n".join(x for ln in lines for x in _ics_fold(ln)) + "\r\n"


def _iso_z(local: datetime) -> str:
    return local.replace(tzinfo=PARIS).astimezone(UTC).strftime("%Y-%m-%dT%H:%M:%S.000Z")


def openagenda(events: list[DemoEvent], agenda_uid: int, title: str, cancelled: DemoEvent | None = None) -> dict:
    """An OpenAgenda v1 export (``{"events": [...], "total", "offset", "limit"}``)."""
    out = []
    for e in events + ([cancelled] if cancelled else []):
        timings = []
        d = e.start
        while d.date() <= e.end.date():
            end = datetime.combine(d.date(), e.end.time()) if e.end.time() > d.time() else d + timedelta(hours=3)
            timings.append({"start": _iso_z(d), "end": _iso_z(end)})
            d = datetime.combine(d.date() + timedelta(days=1), e.start.time())
        city = "Saint-Aubin-sur-Loire" if e.territory_id == OWN else PEER_CITY[e.territory_id]
        desc = e.description or f"{e.title} : animations, restauration sur place."
        if e.hashtag:
            desc += f" #{e.hashtag}"
        out.append({
            "uid": _oa_uid(e), "slug": e.key, "canonicalUrl": link(e),
            "title": {"fr": e.title}, "description": {"fr": desc},
            "longDescription": {"fr": desc}, "keywords": {"fr": [t for t in e.theme.split("_")[:1]]} if e.hashtag else None,
            "timings": timings, "firstDate": e.start.date().isoformat(), "lastDate": e.end.date().isoformat(),
            "location": {"uid": 1000 + len(out), "name": e.place, "address": f"{e.place}, {city}", "city": city,
                         "postalCode": None, "insee": None, "latitude": 47.3, "longitude": -0.5,
                         "timezone": LOCAL_TZ},
            "age": {"min": 16, "max": 25} if "jeunes" in e.audiences and e.theme == "economie_emploi" else None,
            "status": 6 if e is cancelled else 1, "attendanceMode": 1, "onlineAccessLink": None,
            "registration": [], "registrationUrl": None, "conditions": {"fr": "Entrée libre"},
            "tags": [{"label": "Jeune public", "slug": "jeune-public", "id": 1}] if "familles" in e.audiences else [],
            "tagGroups": [{"name": "Gratuit", "slug": "gratuit", "tags": []}], "contributor": {"organization": title},
            "updatedAt": "2026-10-01T08:00:00.000Z", "createdAt": "2024-09-01T08:00:00.000Z",
        })
    return {"readme": "Results are paginated. See: https://developers.openagenda.com/export-json-dun-agenda/",
            "total": len(out), "offset": 0, "limit": 200, "events": out}


def write(writer: Any) -> list[Path]:
    """Write the agendas and the events truth under the writer's root; register them for import."""
    root = Path(writer.root)
    own = [e for e in EVENTS if e.source == "ics"]
    tourism = [e for e in EVENTS if e.source == "openagenda"]
    peers = peer_events()
    paths = []
    p = root / OWN / "agenda" / "agenda-ville.ics"
    p.parent.mkdir(parents=True, exist_ok=True)
    p.write_bytes(town_ics(own).encode("utf-8"))
    paths.append(p)
    p = root / OWN / "agenda" / "office-de-tourisme_openagenda.json"
    p.write_text(json.dumps(openagenda(tourism, 41234567, "Office de tourisme de Saint-Aubin-sur-Loire"),
                            ensure_ascii=False, separators=(",", ":")), encoding="utf-8")
    paths.append(p)
    cancelled = DemoEvent("annule-port-marel", "port-marel", "Salon du livre de Port-Marel", _d(2026, 4, 18, 10),
                          _d(2026, 4, 19, 18), 0.0, "culture_evenements", (), None, 0, source="regional")
    p = root / "agenda-regional_openagenda.json"
    p.write_text(json.dumps(openagenda(peers, 52345678, "Agenda régional des communes", cancelled),
                            ensure_ascii=False, indent=1), encoding="utf-8")
    paths.append(p)
    for q in paths:
        writer.add(q)
    truth = getattr(writer.sim, "events_truth", None)
    if truth is not None:
        (root / "ground_truth_events.json").write_text(json.dumps(truth, ensure_ascii=False, indent=1, sort_keys=True),
                                                       encoding="utf-8")
    return paths


def ground_truth(db_path: Any = None) -> dict:
    """The injected events truth of the demo store (``ground_truth_events.json``)."""
    path = exports_dir_for(db_path) / "ground_truth_events.json"
    if not path.exists():
        raise FileNotFoundError(f"Vérité terrain des événements absente : {path}. Lancez `vigie demo` d'abord.")
    return json.loads(path.read_text(encoding="utf-8"))


# ------------------------------------------------------------------------------ coverage
def simulate_account(rng: np.random.Generator, plat: str, sf: float, days: list[date], effect: float,
                     n_promo: int, event_day: date, lead: int = 24, territory_id: str = "peer") -> tuple:
    """One account's posts over ``days`` drawn from the demo's model, with ``n_promo`` promotion
    posts of effect ``effect`` before ``event_day``: (times in days, engagement, promo mask)."""
    t, e, promo = [], [], []
    for d in days:
        for _ in range(int(rng.poisson(POST_RATE[plat] / 30.4 * sf * season(d)))):
            c = _engagement(rng, plat, sf, d, territory_id, 0.0)
            t.append((d - days[0]).days + float(rng.uniform(0.3, 0.9)))
            e.append(c["comments"] + c["reactions"] + c["shares"])
            promo.append(False)
    for _ in range(n_promo):
        back = int(min(lead, max(1, round(float(rng.exponential(lead / 2.5)) + 1))))
        d = event_day - timedelta(days=back)
        c = _engagement(rng, plat, sf, d, territory_id, effect)
        t.append((d - days[0]).days + float(rng.uniform(0.3, 0.9)))
        e.append(c["comments"] + c["reactions"] + c["shares"])
        promo.append(True)
    return np.array(t), np.array(e, float), np.array(promo)


def coverage(seeds: range | list[int] = range(100), effect: float = 0.4, n_promo: int = 6,
             n_boot: int = 400) -> dict[str, float]:
    """Share of simulated events whose 95 % interval covers the injected effect, and share of
    null-effect events found significant, on accounts drawn from the demo's engagement model
    (Facebook, Instagram and X of a town of the own territory's size, random event dates)."""
    import pandas as pd


    covered = false_pos = n = 0
    widths = []
    for s in seeds:
        rng = np.random.default_rng(10_000 + s)
        day0 = date(2025, 1, 1) + timedelta(days=int(rng.integers(0, 600)))
        days = [day0 + timedelta(days=i) for i in range(90)]
        event_day = day0 + timedelta(days=60)
        res = {}
        for eff in (effect, 0.0):
            frames = []
            for plat in ("facebook", "instagram", "x"):
                k = n_promo // 3 + (1 if ("facebook", "instagram", "x").index(plat) < n_promo % 3 else 0)
                t, e, pm = simulate_account(rng, plat, 1.0, days, eff, k, event_day)
                frames.append(pd.DataFrame({"account_id": plat, "created_at": [pd.Timestamp(day0) + pd.Timedelta(days=x)
                                                                                for x in t], "engagement": e,
                                            "promo": pm}))
            posts = pd.concat(frames, ignore_index=True)
            pm = posts["promo"].to_numpy()
            st, _ = strata(posts, pm, pm)
            res[eff] = lift([st], n_boot, seed=s)
        lf = res[effect]
        n += 1
        covered += int(lf.low is not None and lf.low <= effect <= lf.high)
        false_pos += int(res[0.0].significant)
        if lf.low is not None:
            widths.append(math.log1p(lf.high) - math.log1p(lf.low))
    return {"simulations": n, "coverage": covered / n, "false_positive_rate": false_pos / n,
            "median_log_width": float(np.median(widths)) if widths else float("nan"),
            "effect": effect, "promo_posts": n_promo}
