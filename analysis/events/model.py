"""Events and planned posts: the rows, what names an event in a post, and the ``.ics`` export.

Events come from the agenda importers (:mod:`analysis.ingest.agenda`), from the app (an analyst
enters one) or from ``vigie events add``. Dates are stored in UTC; an event entered in the app is
given in French local time (Europe/Paris).

The theme an event is read under is its stored ``theme`` when a person (or Vigie's own ``.ics``)
gave one, else what the theme classifier of :mod:`analysis.topics` reads in its title, categories
and description (:func:`effective_themes`); an event the classifier places under no theme is
« Culture et événements », the taxonomy's theme of events.
"""

from __future__ import annotations

import copy
import re
import uuid
from dataclasses import asdict, dataclass, field
from datetime import UTC, date, datetime, time, timedelta
from typing import Any
from zoneinfo import ZoneInfo

import duckdb
import numpy as np
import pandas as pd

from analysis import store
from analysis.config import LOCAL_TZ
from analysis.ingest.agenda import AUDIENCES, norm_keywords, norm_link, norm_tags, title_keywords
from analysis.text import fold
from analysis.topics import default_classifier, load_taxonomy, store_adaptation

DEFAULT_EVENT_THEME = "culture_evenements"
POST_FORMATS: dict[str, str] = {"photo": "Photo", "video": "Vidéo", "reel": "Vidéo courte (reel)",
                                "carousel": "Carrousel", "link": "Lien", "text": "Texte seul"}
PLANNED_STATUS: dict[str, str] = {"brouillon": "Brouillon", "planifie": "Planifiée", "publie": "Publiée",
                                  "abandonne": "Abandonnée"}

__all__ = ["AUDIENCES", "DEFAULT_EVENT_THEME", "Event", "POST_FORMATS", "effective_themes", "event_terms",
           "events_frame", "local", "planned_frame", "remove_event", "remove_planned", "save_events",
           "save_planned", "to_ics"]


def local(ts: Any) -> pd.Timestamp | None:
    """A stored UTC timestamp in French local time (naive, for display and calendars)."""
    if ts is None or (not isinstance(ts, str) and pd.isna(ts)):
        return None
    return pd.Timestamp(ts).tz_localize("UTC").tz_convert(LOCAL_TZ).tz_localize(None)


def to_utc(d: date | datetime, t: time | None = None) -> datetime:
    """French local date (and time) → naive UTC, as stored."""
    dt = d if isinstance(d, datetime) else datetime.combine(d, t or time(0, 0))
    if dt.tzinfo is None:
        dt = dt.replace(tzinfo=ZoneInfo(LOCAL_TZ))
    return dt.astimezone(UTC).replace(tzinfo=None)


def slug(text: str) -> str:
    """« Fête de la musique 2026 » → ``fete-de-la-musique-2026``."""

    return re.sub(r"[^a-z0-9]+", "-", fold(text.lower())).strip("-")[:60] or uuid.uuid4().hex[:8]


@dataclass
class Event:
    """An event of a territory. ``start_at``/``end_at`` are UTC (see :func:`to_utc`)."""

    event_id: str
    title: str
    territory_id: str | None
    start_at: datetime
    end_at: datetime
    all_day: bool = False
    description: str | None = None
    place: str | None = None
    city: str | None = None
    theme: str | None = None
    categories: list[str] = field(default_factory=list)
    audiences: list[str] = field(default_factory=list)
    hashtags: list[str] = field(default_factory=list)
    keywords: list[str] = field(default_factory=list)
    links: list[str] = field(default_factory=list)
    is_free: bool | None = None
    organizer: str | None = None
    occurrences: int = 1
    source: str = "app"

    def __post_init__(self) -> None:
        self.title = (self.title or "").strip()
        if not self.title:
            raise ValueError("le titre de l'événement est obligatoire")
        if self.end_at < self.start_at:
            raise ValueError("la fin de l'événement précède son début")
        unknown = [a for a in self.audiences if a not in AUDIENCES]
        if unknown:
            raise ValueError(f"public inconnu : {', '.join(unknown)} (choix : {', '.join(AUDIENCES)})")
        self.hashtags = norm_tags(self.hashtags)
        self.keywords = norm_keywords(self.keywords) or title_keywords(self.title)
        self.links = [u for u in (norm_link(x) for x in self.links) if u]

    @classmethod
    def entered(cls, title: str, territory_id: str, start: date | datetime, end: date | datetime | None = None,
                **kw: Any) -> Event:
        """An event entered by a person, dates in French local time (a date alone: all day)."""
        all_day = not isinstance(start, datetime)
        end = end or start
        s = to_utc(start)
        e = to_utc(end) if isinstance(end, datetime) else to_utc(end, time(23, 59) if all_day else None)
        eid = kw.pop("event_id", None) or f"app:{territory_id}:{slug(title)}-{pd.Timestamp(s).date().isoformat()}"
        return cls(eid, title, territory_id, s, e, all_day=all_day, **kw)

    def as_row(self) -> dict[str, Any]:
        return asdict(self)


def save_events(con: duckdb.DuckDBPyConnection, events: list[Event]) -> tuple[int, int]:
    """Upsert events → (inserted, updated). A list emptied by the user (no hashtag any more) is
    written as an empty list, not left as it was."""

    if not events:
        return 0, 0
    df = pd.DataFrame([e.as_row() for e in events])
    return store.upsert(con, "events", df)


def remove_event(con: duckdb.DuckDBPyConnection, event_id: str) -> bool:
    """Delete an event; False when it did not exist."""
    n = con.execute("SELECT count(*) FROM events WHERE event_id = ?", [event_id]).fetchone()[0]
    con.execute("DELETE FROM events WHERE event_id = ?", [event_id])
    return n > 0


def _rows_in_window(con: duckdb.DuckDBPyConnection, table: str, territories: list[str] | tuple[str, ...] | None,
                    start: date | None, end: date | None, first_col: str, last_col: str, order: str) -> pd.DataFrame:
    """Rows of ``table`` of ``territories`` (all when empty) whose [first_col, last_col] meets the local
    days [start, end)."""
    where, params = ["TRUE"], []
    if territories:
        where.append(f"territory_id IN ({', '.join('?' for _ in territories)})")
        params += list(territories)
    if start is not None:
        where.append(f"{last_col} >= ?")
        params.append(to_utc(start))
    if end is not None:
        where.append(f"{first_col} < ?")
        params.append(to_utc(end))
    return con.execute(f"SELECT * FROM {table} WHERE {' AND '.join(where)} ORDER BY {order}", params).df()


def events_frame(con: duckdb.DuckDBPyConnection, territories: tuple[str, ...] | list[str] = (),
                 start: date | None = None, end: date | None = None) -> pd.DataFrame:
    """Events overlapping [start, end) (local days) of ``territories`` (all when empty), with
    ``theme_effective`` (:func:`effective_themes`) and local ``start_local``/``end_local``."""
    cols = ["event_id", "territory_id", "title", "start_at", "end_at"]
    if not store.has_table(con, "events"):
        return pd.DataFrame(columns=cols)
    df = _rows_in_window(con, "events", territories, start, end, "start_at", "end_at", "start_at, event_id")
    # the store's classifier is read only when an event has no theme of its own
    todo = len(df) > 0 and ("theme" not in df or not all(isinstance(t, str) for t in df["theme"]))
    df["theme_effective"] = effective_themes(df, _agenda_classifier(con) if todo else None)
    df["start_local"] = [local(x) for x in df["start_at"]]
    df["end_local"] = [local(x) for x in df["end_at"]]
    for c in ("categories", "audiences", "hashtags", "keywords", "links"):
        df[c] = [list(v) if isinstance(v, list | tuple | np.ndarray) else [] for v in df[c]]
    return df


def in_window(events: pd.DataFrame, territories: tuple[str, ...] | list[str] = (), start: date | None = None,
              end: date | None = None) -> pd.DataFrame:
    """The rows of an :func:`events_frame` (in its order) that ``events_frame(con, territories, start, end)``
    would return, with the same values (a column that only holds NULLs in the narrower read would have come
    with another dtype): a frame read once for a territory and its peers answers its narrower questions
    without reading the events and classifying them again."""
    keep = np.ones(len(events), dtype=bool)
    if territories:
        keep &= events["territory_id"].isin(list(territories)).to_numpy()
    if start is not None:
        keep &= (events["end_at"] >= pd.Timestamp(to_utc(start))).to_numpy()
    if end is not None:
        keep &= (events["start_at"] < pd.Timestamp(to_utc(end))).to_numpy()
    return events[keep]


def _agenda_classifier(con: duckdb.DuckDBPyConnection) -> Any:
    """The store's classifier (:func:`analysis.topics.store_adaptation`) as agendas are read: a keyword of
    the taxonomy decides (``adapt_lead`` 0), the model adapted to the store's messages reads only the
    events no keyword names. Its lead over keywords was learned on messages and posts; on agenda listings
    it put « Course des remparts » under works and « Les Foulées de la Loire » (5 and 10 km races) under
    living environment in the demo, where the keywords say sport."""
    clf = copy.copy(store_adaptation(con, load_taxonomy(), refit=False))
    clf.adapt_lead = 0.0
    return clf


def effective_themes(events: pd.DataFrame, clf: Any = None) -> list[str]:
    """The theme each event is read under: its stored ``theme``, else the best theme of its title +
    categories + description as ``clf`` reads it (:func:`events_frame` passes the store's classifier,
    adapted to its texts, :func:`_agenda_classifier`; the shipped one by default), else
    :data:`DEFAULT_EVENT_THEME`."""

    if events.empty:
        return []
    tax = load_taxonomy()
    stored = events["theme"] if "theme" in events else pd.Series(None, index=events.index)
    todo = [i for i, t in enumerate(stored) if not (isinstance(t, str) and t in tax.ids)]
    out = [t if isinstance(t, str) and t in tax.ids else DEFAULT_EVENT_THEME for t in stored]
    if todo:
        rows = events.iloc[todo]
        texts = [" ".join(str(x) for x in (r.get("title"), " ".join(_list(r.get("categories"))), r.get("description"))
                          if isinstance(x, str) and x) for _, r in rows.iterrows()]
        clf = clf if clf is not None else default_classifier(tax)
        P = clf.predict_proba(texts)
        for k, i in enumerate(todo):
            j = int(np.argmax(P[k]))
            if P[k, j] >= clf.threshold:
                out[i] = tax.ids[j]
    return out


def _list(v: Any) -> list[str]:
    return list(v) if isinstance(v, list | tuple | np.ndarray) else []


def event_terms(row: Any) -> list[str]:
    """What names an event in a post (:func:`analysis.text.names_any` terms): its hashtags (with
    ``#``) and its keywords (phrases matched as whole words, accents and case ignored)."""
    tags = [f"#{h}" for h in _list(row.get("hashtags"))]
    kws = _list(row.get("keywords")) or title_keywords(row.get("title"))
    return tags + kws


# ------------------------------------------------------------------------------ planned posts
def save_planned(con: duckdb.DuckDBPyConnection, row: dict[str, Any]) -> str:
    """Insert or update a planned post; returns its id (a new uuid when ``planned_id`` is absent)."""

    r = dict(row)
    r.setdefault("planned_id", uuid.uuid4().hex)
    r.setdefault("status", "brouillon")
    r.setdefault("created_at", datetime.now(UTC).replace(tzinfo=None))
    if r["status"] not in PLANNED_STATUS:
        raise ValueError(f"statut inconnu : {r['status']} (choix : {', '.join(PLANNED_STATUS)})")
    if r.get("post_format") and r["post_format"] not in POST_FORMATS:
        raise ValueError(f"format inconnu : {r['post_format']} (choix : {', '.join(POST_FORMATS)})")
    store.upsert(con, "planned_posts", pd.DataFrame([r]))
    return r["planned_id"]


def remove_planned(con: duckdb.DuckDBPyConnection, planned_id: str) -> bool:
    n = con.execute("SELECT count(*) FROM planned_posts WHERE planned_id = ?", [planned_id]).fetchone()[0]
    con.execute("DELETE FROM planned_posts WHERE planned_id = ?", [planned_id])
    return n > 0


def planned_frame(con: duckdb.DuckDBPyConnection, territories: tuple[str, ...] | list[str] = (),
                  start: date | None = None, end: date | None = None) -> pd.DataFrame:
    """Planned posts of ``territories`` in [start, end) (local days), with ``planned_local``."""
    if not store.has_table(con, "planned_posts"):
        return pd.DataFrame(columns=["planned_id", "territory_id", "platform", "planned_at", "text"])
    df = _rows_in_window(con, "planned_posts", territories, start, end, "planned_at", "planned_at", "planned_at")
    df["planned_local"] = [local(x) for x in df["planned_at"]]
    return df


# ------------------------------------------------------------------------------ .ics export
def to_ics(events: pd.DataFrame, name: str = "Vigie — événements", theme_labels: dict[str, str] | None = None) -> bytes:
    """The events as an iCalendar file (RFC 5545, times in Europe/Paris with its VTIMEZONE).

    Vigie's own fields travel as ``X-VIGIE-THEME``, ``X-VIGIE-AUDIENCES``, ``X-VIGIE-HASHTAGS`` and
    ``X-VIGIE-KEYWORDS`` (other calendars ignore them; re-importing the file gives the same rows).
    Same events, same bytes (no generation time: ``DTSTAMP`` is the event's start)."""
    import icalendar

    tz = ZoneInfo(LOCAL_TZ)
    cal = icalendar.Calendar()
    cal.add("prodid", "-//Vigie//Evenements//FR")
    cal.add("version", "2.0")
    cal.add("calscale", "GREGORIAN")
    cal.add("x-wr-calname", name)
    cal.add("x-wr-timezone", LOCAL_TZ)
    if len(events):
        first = min(pd.Timestamp(x) for x in events["start_at"]).to_pydatetime()
        last = max(pd.Timestamp(x) for x in events["end_at"]).to_pydatetime()
        # a year either side: both daylight-saving rules of every year the events touch are stated
        cal.add_component(icalendar.Timezone.from_tzid(LOCAL_TZ, first_date=first.date() - timedelta(days=366),
                                                       last_date=last.date() + timedelta(days=366)))
    labels = theme_labels or {}
    for _, r in events.iterrows():
        ev = icalendar.Event()
        uid = str(r["event_id"])
        ev.add("uid", uid[4:] if uid.startswith("ics:") else uid)  # read back as the same event id
        ev.add("summary", r["title"])
        s = pd.Timestamp(r["start_at"]).tz_localize("UTC").tz_convert(tz).to_pydatetime()
        e = pd.Timestamp(r["end_at"]).tz_localize("UTC").tz_convert(tz).to_pydatetime()
        if bool(r.get("all_day")):
            ev.add("dtstart", s.date())
            ev.add("dtend", e.date() + timedelta(days=1))  # exclusive end of an all-day event
        else:
            ev.add("dtstart", s)
            ev.add("dtend", e)
        ev.add("dtstamp", pd.Timestamp(r["start_at"]).tz_localize("UTC").to_pydatetime())
        for key, col in (("description", "description"), ("location", "place")):
            v = r.get(col)
            if isinstance(v, str) and v:
                ev.add(key, v)
        links = _list(r.get("links"))
        if links:
            ev.add("url", links[0])
        theme = r.get("theme_effective") or r.get("theme")
        cats = [labels.get(theme, theme)] if isinstance(theme, str) else []
        cats += [c for c in _list(r.get("categories")) if c not in cats]
        if cats:
            ev.add("categories", cats)
        if isinstance(theme, str):
            ev.add("x-vigie-theme", theme)
        for key, col in (("x-vigie-audiences", "audiences"), ("x-vigie-hashtags", "hashtags"),
                         ("x-vigie-keywords", "keywords")):
            vals = _list(r.get(col))
            if vals:
                ev.add(key, ",".join(vals))
        cal.add_component(ev)
    return cal.to_ical()
