"""Pages « Calendrier » and « Avant de publier » (Streamlit AppTest) on a copy of the demo store."""

from __future__ import annotations

from datetime import date

import pytest

from analysis import store
from tests.page_helpers import frame_with, open_page

pytestmark = pytest.mark.xdist_group("events_pages")


@pytest.fixture()
def app_db(demo_db_copy, monkeypatch):
    monkeypatch.setenv("VIGIE_AUTH", "demo")
    return demo_db_copy


def test_analyst_enters_an_event_shown_on_the_calendar(app_db):
    at = open_page("calendrier.py", period="12m", role="analyste", query={"territoires": "saint-aubin"}, timeout=120)
    assert at.title[0].value == "Calendrier"
    inputs = {t.label: t for t in at.text_input}
    inputs["Titre"].set_value("Marché de <b>Noël</b> des Rives")
    inputs["Hashtags de sa promotion (séparés par des virgules)"].set_value("#NoelDesRives")
    next(d for d in at.date_input if d.label == "Début").set_value(date(2026, 10, 20))
    next(d for d in at.date_input if d.label == "Fin").set_value(date(2026, 10, 21))
    next(b for b in at.button if b.label == "Enregistrer l'événement").click().run()
    assert not at.exception, [e.value for e in at.exception]
    assert any("Marché de" in s.value and "enregistré" in s.value for s in at.success)
    with store.reader(app_db) as con:
        row = con.execute("SELECT territory_id, start_at, end_at, all_day, hashtags, source FROM events "
                          "WHERE title = 'Marché de <b>Noël</b> des Rives'").fetchone()
    assert row[0] == "saint-aubin" and row[3] is True and row[4] == ["noeldesrives"] and row[5] == "app"
    at.run()
    tab = frame_with(at, "Titre")
    assert "Marché de <b>Noël</b> des Rives" in tab["Titre"].tolist()  # October: the default month
    grid = next(h.proto.body for h in at.get("html") if "vg-cal" in h.proto.body)
    assert "Marché de &lt;b&gt;Noël&lt;/b&gt; des Rives" in grid and "<b>Noël" not in grid  # escaped in the grid


def test_elu_sees_no_entry_form_and_no_draft_check(app_db):
    at = open_page("calendrier.py", period="12m", role="elu", query={"territoires": "saint-aubin"}, timeout=120)
    assert not any(b.label == "Enregistrer l'événement" for b in at.button)
    at = open_page("avant_de_publier.py", period="12m", role="elu", query={"territoires": "saint-aubin"}, timeout=120)
    assert any("réservée au profil analyste" in i.value for i in at.info)
    assert any(m.value.startswith("- Jeunes") and "18–24 ans" in m.value for m in at.markdown)
