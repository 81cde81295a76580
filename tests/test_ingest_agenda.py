"""Events agendas: OpenAgenda, DATAtourisme, open-data CSV and iCalendar importers (issue 21).

Fixtures: tests/fixtures/make_agenda.py (each quirk of the real agendas reproduced); the real
samples of ``shared/formats/agenda_*`` are read only with VIGIE_SAMPLES_DIR.
"""

from __future__ import annotations

from datetime import datetime
from pathlib import Path

import pytest

from analysis import store
from analysis.events.model import Event, events_frame, to_ics
from analysis.ingest import default_context, import_paths
from analysis.ingest.agenda import dates_from_text, first_time, title_keywords
from analysis.registry import load_registry

AG = Path(__file__).parent / "fixtures" / "agenda"
REGISTRY = load_registry()


def _import(db, *paths, **kw):
    kw.setdefault("registry", REGISTRY)
    keep = kw.pop("keep_going", False)
    territory = kw.pop("territory_id", None)
    ctx = default_context(**kw)
    ctx.territory_id = territory  # what `vigie events import --territory` tells the importer
    with store.writer(db) as con:
        return {Path(r.path).name: r for r in import_paths(con, list(paths), ctx, keep_going=keep)}


def _events(db) -> dict[str, dict]:
    with store.writer(db) as con:
        cur = con.execute("SELECT * FROM events")
        cols = [d[0] for d in cur.description]
        return {r[0]: dict(zip(cols, r, strict=True)) for r in cur.fetchall()}


def test_formats_detected_by_content(db):
    res = _import(db, AG, keep_going=True)
    got = {n: (r.status, r.format, r.rows_read, r.inserted) for n, r in res.items()}
    assert got == {
        "openagenda_v1.json": ("ok", "openagenda", 4, 3), "openagenda_v2.json": ("ok", "openagenda", 1, 1),
        "15-a1-lavande.json": ("ok", "datatourisme", 1, 1), "15-a2-expo.json": ("ok", "datatourisme", 1, 1),
        "graph.jsonld": ("ok", "datatourisme", 2, 2), "context.jsonld": ("skipped", "datatourisme", 0, 0),
        "agenda_opendata.csv": ("ok", "agenda_csv", 4, 3), "ville.ics": ("ok", "ics", 5, 4),
        "libre.ical": ("ok", "ics", 2, 2),
    }, {n: r.error for n, r in res.items()}


def test_openagenda_v1_and_v2(db):
    res = _import(db, AG / "openagenda_v1.json", AG / "openagenda_v2.json")
    notes = res["openagenda_v1.json"].notes
    assert notes[0].startswith("export partiel : 4 événements sur 5") and "1 événement annulé ignoré" in notes
    ev = _events(db)
    assert "openagenda:81000003" not in ev  # cancelled (status 6)
    f = ev["openagenda:81000001"]
    assert (f["title"], f["territory_id"], f["insee_code"], f["occurrences"]) == (
        "12e Festival des bords de Loire", "saint-aubin", "49901", 3)
    assert (f["start_at"], f["end_at"]) == (datetime(2026, 6, 12, 16), datetime(2026, 6, 14, 21, 30))  # UTC as given
    assert f["hashtags"] == ["bordsdeloire"] and f["keywords"] == ["festival des bords de loire"]
    assert f["links"] == ["https://www.saint-aubin.example/festival"]  # www. gets its scheme; the e-mail is not read
    assert (f["audiences"], f["age_min"], f["age_max"], f["is_free"]) == (["jeunes"], 15, 25, True)
    m = ev["openagenda:81000002"]
    assert (m["occurrences"], m["start_at"], m["end_at"], m["is_free"]) == (
        11, datetime(2026, 4, 4, 6), datetime(2026, 6, 18, 11), True)  # keywords null, « Entrée libre »
    h = ev["openagenda:81000004"]
    assert (h["title"], h["territory_id"], h["audiences"]) == ("Harbour night at Port-Marel", "port-marel",
                                                               ["seniors", "40_plus"])
    c = ev["openagenda:82000001"]  # v2: begin/end with an offset, flat fields, a decimal comma
    assert (c["start_at"], c["end_at"], c["territory_id"], c["latitude"]) == (
        datetime(2026, 6, 25, 17), datetime(2026, 6, 25, 20), "villeneuve-les-sources", 45.77)


def test_datatourisme_objects_graph_and_context(db):
    res = _import(db, AG / "datatourisme")
    assert res["context.jsonld"].notes[0].startswith("contexte JSON-LD du flux DATAtourisme")
    ev = _events(db)
    lav = ev["datatourisme:a1-lavande"]
    # periods in local time (CEST): 10:00 → 08:00 UTC; last period's end 18:00 → 16:00 UTC
    assert (lav["start_at"], lav["end_at"], lav["all_day"], lav["occurrences"]) == (
        datetime(2026, 7, 18, 8), datetime(2026, 7, 19, 16), False, 2)
    assert (lav["territory_id"], lav["insee_code"], lav["city"]) == ("bourg-lavande", "26904", "Bourg-la-Lavande")
    assert lav["audiences"] == ["familles", "touristes"] and lav["is_free"] is True
    assert lav["links"] == ["https://lavande.example/fete"]
    assert "jeanne.particulier" not in repr(ev)  # contact e-mails are never read
    expo = ev["datatourisme:a2-expo"]  # a period without times: all day, from local midnight
    assert (expo["start_at"], expo["all_day"], expo["title"]) == (datetime(2026, 8, 31, 22), True,
                                                                  "Exposition de photographies")
    pat = ev["datatourisme:a4-sans-periode"]  # no takesPlaceAt: schema:startDate as a list
    assert (pat["start_at"], pat["end_at"], pat["occurrences"]) == (datetime(2026, 9, 18, 22), datetime(2026, 9, 19, 22), 2)
    assert ev["datatourisme:a3-bal"]["audiences"] == ["seniors", "40_plus"]


def test_opendata_csv_free_text_dates(db):
    bad = _import(db, AG / "agenda_opendata.csv")["agenda_opendata.csv"]
    assert bad.status == "error" and "ligne 5" in bad.error and "Dates à venir" in bad.error
    res = _import(db, AG / "agenda_opendata.csv", keep_going=True)["agenda_opendata.csv"]
    assert (res.status, res.inserted, res.rejected) == ("ok", 3, 1)
    assert res.notes[0].startswith("2 événements datés d'après le texte libre")
    ev = _events(db)
    nuit = ev["agenda_csv:T-001"]
    assert (nuit["start_at"], nuit["all_day"], nuit["territory_id"]) == (datetime(2026, 5, 16, 18), False, "port-marel")
    assert (nuit["links"], nuit["is_free"], nuit["latitude"]) == (["https://www.port-marel.example/nuit"], True, 47.75)
    at = ev["agenda_csv:T-002"]  # « Le 05/05/2026 - A 14h30 Le 12/05/2026 … »
    assert (at["start_at"], at["end_at"], at["occurrences"]) == (
        datetime(2026, 5, 5, 12, 30), datetime(2026, 5, 19, 12, 30), 3)
    assert (at["age_min"], at["age_max"], at["audiences"]) == (8, 12, ["enfants", "familles"])
    salon = ev["agenda_csv:T-003"]  # « Du 21/05/2026 au 30/06/2026 - De 10h à 19h »
    assert (salon["start_at"], salon["end_at"], salon["territory_id"]) == (
        datetime(2026, 5, 21, 8), datetime(2026, 6, 30, 8), "saint-aubin")


def test_text_helpers():
    assert dates_from_text("Du 21/05/2020 au 30/06/2020 - De 10h à 19h") == [
        datetime(2020, 5, 21).date(), datetime(2020, 6, 30).date()]
    assert [str(first_time(t)) for t in ("A 16H00", "De 10h à 19h", "At 10am", "A las 11:00")] == [
        "16:00:00", "10:00:00", "10:00:00", "11:00:00"]
    assert first_time("Dates à venir") is None
    assert title_keywords("22ème festival de la tomate et des saveurs") == ["festival de la tomate et des saveurs"]
    assert title_keywords("Fête de la musique 2026") == ["fête de la musique"]
    assert title_keywords("Marché") == []  # one word would match every post


def test_icalendar_quirks(db):
    res = _import(db, AG / "ville.ics", AG / "libre.ical")
    assert res["ville.ics"].notes[:2] == ["1 événement annulé ignoré",
                                          "1 événement récurrent (RRULE) : seule la première date est retenue"]
    ev = _events(db)
    assert "ics:annule@ville" not in ev
    fm = ev["ics:fete-musique-2026@ville"]  # TZID without VTIMEZONE: Europe/Paris (CEST)
    assert (fm["start_at"], fm["end_at"], fm["territory_id"]) == (
        datetime(2026, 6, 21, 16), datetime(2026, 6, 21, 21, 59), "saint-aubin")  # from the calendar's name
    assert fm["place"] == "Place de l'Hôtel de ville"  # &#039; unescaped
    assert (fm["hashtags"], fm["categories"], fm["audiences"]) == (["fetedelamusique"], ["Concert", "Tout public"], ["tous"])
    assert fm["description"].startswith("Scènes ouvertes dans tout le centre-ville, venez")
    sp = ev["ics:journee-sport@ville"]  # all day, exclusive DTEND, two CATEGORIES lines, empty DESCRIPTION
    assert (sp["start_at"], sp["end_at"], sp["all_day"]) == (datetime(2026, 9, 11, 22), datetime(2026, 9, 12, 22), True)
    assert (sp["categories"], sp["audiences"], sp["description"]) == (["Sport", "Familles"], ["familles"], None)
    pe = ev["ics:permanence@ville"]  # no DTEND: ends when it starts
    assert pe["start_at"] == pe["end_at"] == datetime(2026, 4, 7, 7)
    assert ev["ics:cinema@ville"]["title"] == "Cinéma en plein air : une longue soirée d'été au bord de l'eau"
    lib = ev["ics:libre-1@agenda"]  # LF, floating time: French local time
    assert (lib["start_at"], lib["territory_id"], lib["links"]) == (
        datetime(2026, 3, 12, 18, 30), "villeneuve-les-sources", ["http://agenda.example/1"])
    assert ev["ics:libre-2@agenda"]["territory_id"] is None  # Lyon: no territory of the registry
    assert "1 événement sans territoire reconnu" in res["libre.ical"].notes[0]


def test_territory_forced(db):
    res = _import(db, AG / "libre.ical", territory_id="port-marel")["libre.ical"]
    assert {e["territory_id"] for e in _events(db).values()} == {"port-marel"}
    assert not any("sans territoire" in n for n in res.notes)


def test_ics_export_round_trip(db, tmp_path):
    _import(db, AG / "ville.ics", AG / "openagenda_v1.json")
    with store.writer(db) as con:
        ev = events_frame(con, ["saint-aubin"])
        ev.loc[ev["event_id"] == "openagenda:81000001", "theme"] = "culture_evenements"
        data = to_ics(ev)
    text = data.decode("utf-8")
    assert text.startswith("BEGIN:VCALENDAR\r\n") and text.count("BEGIN:VEVENT") == 6
    assert "PRODID:-//Vigie//" in text and "X-VIGIE-HASHTAGS:bordsdeloire" in text
    out = tmp_path / "export.ics"
    out.write_bytes(data)
    db2 = tmp_path / "other.duckdb"
    res = _import(db2, out)["export.ics"]
    assert (res.status, res.format, res.inserted) == ("ok", "ics", 6)
    back = _events(db2)
    f = back["openagenda:81000001"]  # Vigie's own export keeps each event's id, theme and hashtags
    assert (f["start_at"], f["end_at"], f["theme"], f["hashtags"]) == (
        datetime(2026, 6, 12, 16), datetime(2026, 6, 14, 21, 30), "culture_evenements", ["bordsdeloire"])
    assert back["ics:journee-sport@ville"]["all_day"] is True


def test_event_entered_in_the_app():
    e = Event.entered("Fête de la musique 2026", "saint-aubin", datetime(2026, 6, 21, 18), datetime(2026, 6, 21, 23),
                      hashtags="#FeteDeLaMusique, #SaintAubin", audiences=["jeunes", "familles"])
    assert (e.start_at, e.end_at) == (datetime(2026, 6, 21, 16), datetime(2026, 6, 21, 21))
    assert e.hashtags == ["fetedelamusique", "saintaubin"] and e.keywords == ["fête de la musique"]
    assert e.event_id == "app:saint-aubin:fete-de-la-musique-2026-2026-06-21"
    with pytest.raises(ValueError, match="public inconnu"):
        Event.entered("Bal", "saint-aubin", datetime(2026, 6, 21, 18), audiences=["ados"])
    with pytest.raises(ValueError, match="précède"):
        Event.entered("Bal du soir", "saint-aubin", datetime(2026, 6, 21, 18), datetime(2026, 6, 20, 18))


# ------------------------------------------------------------------------------ real agendas (acceptance)

def test_real_openagenda_arles(db, shared_formats):
    res = _import(db, shared_formats / "agenda_openagenda_arles")
    (r,) = res.values()
    assert (r.status, r.format, r.rows_read, r.inserted) == ("ok", "openagenda", 117, 117)
    ev = _events(db)
    assert sum(e["occurrences"] for e in ev.values()) == 2139
    s = ev["openagenda:10043239"]
    assert (s["title"], s["start_at"], s["end_at"], s["occurrences"], s["city"], s["insee_code"]) == (
        "Salon du vin et des gourmets", datetime(2023, 3, 4, 9), datetime(2023, 3, 5, 17), 2, "Arles", "13004")
    assert min(e["start_at"] for e in ev.values()) == datetime(2022, 4, 4, 8)


def test_real_datatourisme_touraine(db, shared_formats):
    res = _import(db, shared_formats / "agenda_datatourisme_touraine")
    got = sorted((r.status, r.format) for r in res.values())
    assert got.count(("ok", "datatourisme")) == 60 and got.count(("skipped", "datatourisme")) == 1
    ev = _events(db)
    assert len(ev) == 60 and sum(e["occurrences"] for e in ev.values()) == 85
    c = ev["datatourisme:FMA41AAEVE100022"]
    assert (c["start_at"], c["end_at"], c["occurrences"], c["city"], c["insee_code"], c["links"]) == (
        datetime(2020, 7, 1, 9, 45), datetime(2021, 9, 26, 14), 4, "Chambord", "41034", ["http://www.chambord.org"])
    assert "@" not in repr([e["links"] for e in ev.values()])  # no contact e-mail read


def test_real_opendata_toulouse(db, shared_formats):
    (r,) = _import(db, shared_formats / "agenda_opendata_toulouse").values()
    assert (r.status, r.format, r.rows_read, r.inserted, r.rejected) == ("ok", "agenda_csv", 171, 171, 0)
    assert r.notes[0].startswith("29 événements datés d'après le texte libre")
    ev = _events(db)
    assert sum(e["occurrences"] for e in ev.values()) == 424 and sum(e["all_day"] for e in ev.values()) == 37
    rio = ev["agenda_csv:FMAMID031FS00028"]
    assert (rio["title"], rio["start_at"], rio["end_at"], rio["links"]) == (
        "FESTIVAL RIO LOCO AFRIKA", datetime(2020, 6, 16, 22), datetime(2020, 6, 19, 22), ["https://www.rio-loco.org"])


def test_real_icalendar(db, shared_formats):
    res = _import(db, shared_formats / "agenda_ics")
    got = {n: (r.status, r.format, r.rows_read, r.inserted) for n, r in res.items()}
    assert got == {"agendadulibre_rhone-alpes_2012-2014.ical": ("ok", "ics", 130, 130),
                   "velo-club-val-d-europe_2025.ics": ("ok", "ics", 12, 12)}
    ev = _events(db)
    j = ev["ics:7308@agendadulibre.org"]
    assert (j["title"], j["start_at"], j["end_at"]) == ("Jeudi De La Bidouille", datetime(2012, 12, 20, 18),
                                                        datetime(2012, 12, 20, 21))
    a = ev["ics:8248-1754812800-1754845200@vcve.fr"]
    assert (a["title"], a["start_at"], a["end_at"]) == ("[Route] Chez Asterix", datetime(2025, 8, 10, 6),
                                                        datetime(2025, 8, 10, 15))
    assert not any("&#" in (e["title"] or "") for e in ev.values())
