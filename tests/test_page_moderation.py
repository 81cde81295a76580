"""Page « Modération & veille » (Streamlit AppTest) on a small hand-built store."""

from __future__ import annotations

from datetime import datetime, timedelta
from pathlib import Path

import pandas as pd
import pytest
from streamlit.testing.v1 import AppTest

from analysis import derived_refresh, store
from analysis.moderation.scoring import enrich
from analysis.registry import load_registry, sync_registry
from tests.page_helpers import frame_with, frames, open_page

FB = "facebook:104857600000001"
T0 = datetime(2026, 3, 10, 9, 0)


def _m(mid, text, at, **kw):
    row = {"message_id": mid, "platform": "facebook", "kind": "comment", "post_id": "facebook:p1",
           "account_id": FB, "territory_id": "saint-aubin", "author_hash": f"a_{mid[-1]}", "is_official": False,
           "created_at": at, "text": text, "likes": 0, "replies": 0}
    row.update(kw)
    return row


@pytest.fixture()
def mod_db(db: Path) -> Path:
    with derived_refresh.writer(db) as con:
        sync_registry(con, load_registry())
        store.upsert(con, "messages", pd.DataFrame([
            _m("facebook:m1", "Bande de connards, vous êtes des incapables !", T0, author_name="Jean Dupont"),
            _m("facebook:m2", "À quelle heure ouvre la piscine dimanche ?", T0 + timedelta(minutes=5)),
            _m("facebook:m3", "Est-ce que le marché est maintenu ?", T0 + timedelta(minutes=10)),
            _m("facebook:r3", "Oui, il est maintenu.", T0 + timedelta(hours=2), parent_id="facebook:m3",
               is_official=True, author_hash=None),
        ]))
        store.upsert(con, "accounts", pd.DataFrame([
            {"account_id": "facebook:555", "platform": "facebook", "native_id": "555", "handle": "mairie.staubin",
             "name": "Mairie de St-Aubin Officiel", "official": False}]))
        enrich(con)
    return db


def run_page(role: str | None = None) -> AppTest:
    return open_page("moderation.py", period="12m", role=role, timeout=60)


_frames = frames


_frame_with = frame_with


def test_analyst_sees_the_queue_with_reasons_and_can_mark(mod_db, monkeypatch):
    monkeypatch.setenv("VIGIE_AUTH", "demo")
    at = run_page("analyste")
    m = {x.label: x.value for x in at.metric}
    assert m["Messages à traiter"] == "2" and m["Hostiles ou insultants"] == "1"
    assert m["Questions sans réponse"] == "1" and m["Taux de réponse"] == "50\u00a0%"
    q = _frame_with(at, "Motifs")
    assert q["Id"].tolist() == ["facebook:m1", "facebook:m2"]
    assert q["Motifs"].iloc[0].startswith("Message hostile ou insultant")
    imp = _frame_with(at, "Ressemble à")
    assert imp["Compte"].tolist() == ["facebook:555"]
    contacts = _frame_with(at, "Ancrage local")
    assert "Jean Dupont" in contacts["Auteur"].tolist()
    # Mark the insult as hidden in one click: stored with who (the session, no typed name) and when.
    assert not at.text_input(key="moderation_note").value and "moderation_who" not in [w.key for w in at.text_input]
    at.multiselect(key="moderation_ids").set_value(["facebook:m1"]).run()
    at.button(key="moderation_masque").click().run()
    assert not at.exception
    with store.reader(mod_db) as con:
        assert con.execute("SELECT status, by_user FROM moderation_status").fetchall() == [("masque", "démonstration")]


def test_elu_sees_aggregates_only(mod_db):
    at = run_page()  # no authentication configured: élu
    everything = " ".join(str(d.to_dict()) for d in _frames(at))
    assert "connards" not in everything and "Jean Dupont" not in everything and "a_1" not in everything
    summary = _frame_with(at, "Motif")
    assert sorted(summary["Motif"]) == ["Hostile ou insultant", "Question sans réponse"]
    assert not at.main.multiselect and not at.main.button


def test_demo_store_page_finds_the_impersonator(demo_db, monkeypatch):
    monkeypatch.setenv("VIGIE_DB", str(demo_db))
    monkeypatch.setenv("VIGIE_AUTH", "demo")
    at = run_page("analyste")
    imp = _frame_with(at, "Ressemble à")
    assert imp["Nom"].tolist() == ["Mairie de St Aubin-sur-Loire Officiel"]
    assert len(_frame_with(at, "Motifs")) > 0
