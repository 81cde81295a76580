"""Pages « Campagnes » and « Benchmark » (Streamlit AppTest) on the synthetic store of test_campaigns."""

from __future__ import annotations

from datetime import date
from pathlib import Path

import pytest
from streamlit.testing.v1 import AppTest

from analysis import campaigns as C
from analysis import store
from tests.page_helpers import frames, open_page
from tests.test_campaigns import END, START, _synthetic_store


@pytest.fixture()
def camp_db(db: Path, monkeypatch) -> Path:
    con = _synthetic_store(db)
    C.save_campaigns(con, [C.Campaign("ete", "Été test", "own", START, END, ["EteTest"], source="test")])
    con.execute("CHECKPOINT")
    con.close()
    store.publish(db)
    monkeypatch.setenv("VIGIE_AUTH", "demo")
    return db


def run_page(page: str, role: str = "elu") -> AppTest:
    return open_page(page, period="12m", role=role, timeout=120)


def test_campagnes_page_gives_verdict_chart_and_formula(camp_db):
    at = run_page("campagnes.py")
    assert at.title[0].value == "Campagnes"
    lst = next(d for d in frames(at) if "Campagne" in d.columns)
    assert lst["Campagne"].tolist() == ["Été test"] and lst["Du"].tolist() == ["15 juin 2025"]
    verdicts = [s.value for s in at.success]
    assert any(v.startswith("L'engagement par publication a augmenté de ") and "effet net probable" in v
               for v in verdicts), verdicts
    levels = next(d for d in frames(at) if "Par rapport aux pairs" in d.columns)
    assert levels["Indicateur"].iloc[0] == "L'engagement par publication"
    assert "IC 95\u00a0%" in levels["Par rapport aux pairs"].iloc[0]
    md = " ".join(m.value for m in at.markdown)
    assert "v1.0" in md and "Σ engagement ÷ nombre de publications" in md
    # élu: no campaign form
    assert not any(b.label == "Enregistrer la campagne" for b in at.button)
    # post performance: top posts explained
    top = next(d for d in frames(at) if "Pourquoi" in d.columns)
    assert top["Pourquoi"].str.contains("× l'engagement médian du compte").all()


def test_analyst_defines_a_campaign(camp_db):
    at = run_page("campagnes.py", role="analyste")
    form_inputs = {t.label: t for t in at.text_input}
    form_inputs["Nom"].set_value("Rentrée test")
    form_inputs["Identifiant court"].set_value("rentree")
    form_inputs["Hashtags (séparés par des virgules)"].set_value("#Rentree, #Ecole")
    next(d for d in at.date_input if d.label == "Du … au … (inclus)").set_value((date(2025, 9, 1), date(2025, 9, 30)))
    next(b for b in at.button if b.label == "Enregistrer la campagne").click().run()
    assert not at.exception, [e.value for e in at.exception]
    assert any("Rentrée test" in s.value for s in at.success)
    with store.reader(camp_db) as con:
        c = C.get_campaign(con, "rentree")
    assert (c.start_date, c.end_date, c.hashtags, c.source) == (date(2025, 9, 1), date(2025, 9, 30),
                                                               ["rentree", "ecole"], "app")


def test_benchmark_page_side_by_side_and_ranks(camp_db):
    at = run_page("benchmark.py")
    assert at.title[0].value == "Benchmark"
    side = next(d for d in frames(at) if "Engagement / 1 000 habitants" in d.columns)
    assert side["Territoire"].iloc[0] == "Saint-Test"
    row = side.iloc[0]
    assert row["Engagement / 1 000 habitants"] == pytest.approx(row["Engagement"] / 40000 * 1000)
    ranks = next(d for d in frames(at) if "Rang (IC 95 %)" in d.columns)
    assert sorted(ranks["Rang"].tolist()) == [1, 2, 3, 4]
    resp = next(d for d in frames(at) if "Taux de réponse" in d.columns)
    assert resp["Taux de réponse"].isna().all()  # no replies in these data: unknown, not 0 %
