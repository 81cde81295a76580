"""Read models of the « Calendrier » and « Avant de publier » pages and of the Campagnes page's
events section (called through ``streamlit_app.data.call``; scope rules in :mod:`analysis.access`).

The month and week calendars are HTML built here (every title escaped): a grid of seven columns on a
desktop, a day-by-day list on a phone (CSS media query, no width guessed on the server).
"""

from __future__ import annotations

import html
from datetime import date, timedelta
from typing import Any

import duckdb
import pandas as pd

from analysis.events import draft as D
from analysis.events.audiences import sentences_fr, what_works
from analysis.events.evaluation import evaluate_event, territory_summary
from analysis.events.model import POST_FORMATS, events_frame, local, planned_frame
from analysis.fmt import fr_date
from analysis.queries import Filters
from analysis.territories import peers_of
from analysis.topics import load_taxonomy

KINDS = {"event": "Événement", "planned": "Publication planifiée", "campaign": "Campagne"}
KINDS_PLURAL = {"event": "Événements", "planned": "Publications planifiées", "campaign": "Campagnes"}
WEEKDAYS = ("lun.", "mar.", "mer.", "jeu.", "ven.", "sam.", "dim.")


def _territories(con: duckdb.DuckDBPyConnection, f: Filters) -> list[str]:
    if f.territories:
        return list(f.territories)
    return [r[0] for r in con.execute("SELECT territory_id FROM territories ORDER BY 1").fetchall()]


def calendar_items(con: duckdb.DuckDBPyConnection, f: Filters, start: date, end: date) -> pd.DataFrame:
    """Events, planned posts and campaigns of the filters' territories overlapping [start, end) (local
    days): kind, territory_id, title, start and end (local), detail."""
    terr = _territories(con, f)
    rows: list[dict[str, Any]] = []
    for r in events_frame(con, terr, start, end).itertuples():
        place = r.place if isinstance(r.place, str) else ""
        rows.append({"kind": "event", "territory_id": r.territory_id, "title": r.title, "start": r.start_local,
                     "end": r.end_local, "all_day": bool(r.all_day), "detail": place, "id": r.event_id})
    for r in planned_frame(con, terr, start, end).itertuples():
        rows.append({"kind": "planned", "territory_id": r.territory_id, "title": (r.text or "")[:80],
                     "start": r.planned_local, "end": r.planned_local, "all_day": False,
                     "detail": f"{r.platform} · {POST_FORMATS.get(r.post_format, r.post_format or '')}",
                     "id": r.planned_id})
    if terr:
        camp = con.execute(
            f"SELECT campaign_id, territory_id, name, start_date, end_date FROM campaigns WHERE territory_id IN "
            f"({', '.join('?' for _ in terr)}) AND end_date >= ? AND start_date < ?", [*terr, start, end]).df()
        for r in camp.itertuples():
            rows.append({"kind": "campaign", "territory_id": r.territory_id, "title": r.name,
                         "start": pd.Timestamp(r.start_date), "end": pd.Timestamp(r.end_date), "all_day": True,
                         "detail": "", "id": r.campaign_id})
    cols = ["kind", "territory_id", "title", "start", "end", "all_day", "detail", "id"]
    return pd.DataFrame(rows, columns=cols).sort_values(["start", "kind"], ignore_index=True)


def month_bounds(anchor: date, mode: str) -> tuple[date, date]:
    """[start, end) of the month (``mois``) or ISO week (``semaine``) holding ``anchor``."""
    if mode == "semaine":
        s = anchor - timedelta(days=anchor.weekday())
        return s, s + timedelta(days=7)
    s = anchor.replace(day=1)
    return s, (s + timedelta(days=32)).replace(day=1)


CSS = """<style>
.vg-cal{display:grid;grid-template-columns:repeat(7,minmax(0,1fr));gap:2px;font-size:.85rem}
.vg-cal .h{font-weight:600;text-align:center;padding:.2rem}
.vg-cal .d{border:1px solid #d0d4da;min-height:5.5rem;padding:.2rem;border-radius:4px;overflow:hidden}
.vg-cal .d.out{background:#f4f5f7;color:#5a606b}
.vg-cal .n{font-weight:600}
.vg-cal .it{display:block;margin:.1rem 0;padding:.05rem .25rem;border-radius:3px;line-height:1.25;
 overflow-wrap:anywhere}
.vg-cal .event{background:#dbe9ff;color:#0b2e63}.vg-cal .planned{background:#fff0c2;color:#4a3500}
.vg-cal .campaign{background:#e3f4e1;color:#133d10}
@media (max-width:640px){.vg-cal{display:block}.vg-cal .h,.vg-cal .d.empty,.vg-cal .d.out{display:none}
 .vg-cal .d{min-height:0;margin-bottom:.3rem}}
</style>"""


def calendar_html(items: pd.DataFrame, start: date, end: date, names: dict[str, str] | None = None) -> str:
    """The calendar of [start, end) as HTML (month: whole weeks shown, days outside greyed)."""
    names = names or {}
    first = start - timedelta(days=start.weekday())
    last = end + timedelta(days=(7 - end.weekday()) % 7)
    parts = [CSS, '<div class="vg-cal">']  # no ARIA grid roles: the page's table view is the accessible one
    parts += [f'<div class="h">{d}</div>' for d in WEEKDAYS]
    day = first
    multi = len(set(items["territory_id"])) > 1 if len(items) else False
    while day < last:
        inside = start <= day < end
        its = []
        if len(items):
            s = pd.to_datetime(items["start"]).dt.date
            e = pd.to_datetime(items["end"]).dt.date
            for r in items[(s <= day) & (e >= day)].itertuples():
                when = "" if r.all_day or pd.Timestamp(r.start).date() != day else pd.Timestamp(r.start).strftime("%H:%M ")
                who = f" ({names.get(r.territory_id, r.territory_id)})" if multi else ""
                label = f"{KINDS[r.kind]} : {when}{r.title}{who}"
                its.append(f'<span class="it {r.kind}" title="{html.escape(label)}">'
                           f"{html.escape(when + str(r.title) + who)}</span>")
        cls = "d" + ("" if inside else " out") + ("" if its else " empty")
        head = f'{WEEKDAYS[day.weekday()]} {fr_date(day)}' if its else str(day.day)
        parts.append(f'<div class="{cls}"><span class="n">{html.escape(head)}</span>{"".join(its)}</div>')
        day += timedelta(days=1)
    parts.append("</div>")
    return "".join(parts)


def events_table(con: duckdb.DuckDBPyConnection, f: Filters, start: date | None = None,
                 end: date | None = None) -> pd.DataFrame:
    """Events of the filters' territories (all their columns, local dates, effective theme)."""
    return events_frame(con, _territories(con, f), start, end)


def event_evaluations(con: duckdb.DuckDBPyConnection, territory: str, start: date | None = None,
                      end: date | None = None, visible: tuple[str, ...] = ()) -> pd.DataFrame:
    """Every event of ``territory`` in [start, end) evaluated (:func:`analysis.events.evaluation.territory_summary`)."""

    return territory_summary(con, territory, start, end, n_boot=500, seed=0, visible=visible)


def event_detail(con: duckdb.DuckDBPyConnection, territory: str, event_id: str,
                 visible: tuple[str, ...] = ()) -> dict[str, Any]:
    """One event of ``territory`` evaluated with its conversation: a dict (``territory_id`` first)."""

    row = con.execute("SELECT territory_id FROM events WHERE event_id = ?", [event_id]).fetchone()
    if row is None or row[0] != territory:
        return {"territory_id": territory, "evaluation": None}
    ev = evaluate_event(con, event_id, n_boot=2000, seed=0, visible=visible)
    posts = ev.promo_posts[["post_id", "platform", "created_at", "text", "engagement", "reach"]].copy()
    posts["created_at"] = [local(x) for x in posts["created_at"]]
    return {"territory_id": territory, "evaluation": ev, "posts": posts}


def draft_check(con: duckdb.DuckDBPyConnection, territory: str, text: str, platform: str, post_format: str,
                when_local: Any, visible: tuple[str, ...] = ()) -> dict[str, Any]:
    """The draft check of :func:`analysis.events.draft.check` (peers: those the reader may compare with)."""

    peers = [p for p in peers_of(con, [territory]) if not visible or p in visible]
    d = D.check(con, territory, text, platform, post_format, pd.Timestamp(when_local).to_pydatetime(), peers=peers)
    return {"territory_id": territory, "check": d, "lines": D.summary_fr(d)}


def draft_platforms(con: duckdb.DuckDBPyConnection, territory: str) -> list[str]:
    """Platforms the territory's official accounts published on (the draft check's choices)."""
    return [r[0] for r in con.execute(
        "SELECT p.platform FROM posts p JOIN accounts a ON a.account_id = p.account_id AND a.official "
        "WHERE p.territory_id = ? GROUP BY 1 ORDER BY count(*) DESC", [territory]).fetchall()]


def audience_works(con: duckdb.DuckDBPyConnection, territory: str) -> dict[str, Any]:
    """What works per audience (:func:`analysis.events.audiences.what_works`) with its French sentences."""

    w = what_works(con, territory)
    w["sentences"] = sentences_fr(w, load_taxonomy().labels)
    return w
