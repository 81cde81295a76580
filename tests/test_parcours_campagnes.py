"""Issue 22 item 4: the analyst's campaign form and evaluation — dates inside the data, warnings for
a window beyond the data and for a crisis inside it, one explained number, French chart and budget."""

from __future__ import annotations

from datetime import date, timedelta

import pytest
from typer.testing import CliRunner

from analysis import campaigns as C
from analysis import store
from analysis.charts import campaigns as cc
from analysis.views import campagnes as v
from tests.page_helpers import frames
from tests.test_page_campagnes import camp_db, run_page  # noqa: F401 - fixture

LAST = date(2025, 10, 31)  # last day of the synthetic store of test_campaigns


def _form(at):
    return {t.label: t for t in at.text_input}, next(d for d in at.date_input if d.label == "Du … au … (inclus)")


def test_form_defaults_inside_the_data_and_french_budget(camp_db):  # noqa: F811
    at = run_page("campagnes.py", role="analyste")
    texts, dates = _form(at)
    assert dates.value == (LAST - timedelta(days=27), LAST)  # the last four weeks of data, not today + 30 days
    assert "Budget (€)" in texts  # a text field read in French, not « 0.00 »
    assert not any(n.label == "Budget (€)" for n in at.number_input)
    texts["Nom"].set_value("Automne test")
    texts["Identifiant court"].set_value("automne")
    texts["Budget (€)"].set_value("1 500,50")
    next(b for b in at.button if b.label == "Enregistrer la campagne").click().run()
    assert not at.exception, [e.value for e in at.exception]
    assert any("Automne test" in s.value for s in at.success)
    assert not any("jour de données" in w.value for w in at.warning)  # inside the data: nothing to warn about
    with store.reader(camp_db) as con:
        c = C.get_campaign(con, "automne")
    assert (c.start_date, c.end_date, c.budget) == (LAST - timedelta(days=27), LAST, 1500.5)
    assert "." not in v.campaigns_frame([c], {})["Budget (€)"].iloc[0]  # French, never « 1500.50 »


def test_a_campaign_ending_after_the_data_is_saved_with_a_warning(camp_db):  # noqa: F811
    at = run_page("campagnes.py", role="analyste")
    texts, dates = _form(at)
    texts["Nom"].set_value("Hiver test")
    texts["Identifiant court"].set_value("hiver")
    dates.set_value((date(2025, 10, 15), date(2025, 12, 15)))
    next(b for b in at.button if b.label == "Enregistrer la campagne").click().run()
    assert any("Hiver test" in s.value for s in at.success)
    warned = " ".join(w.value for w in at.warning).replace("\\", "")
    assert "après le dernier jour de données" in warned and "31 oct. 2025" in warned, warned
    # and its evaluation says so too
    at.query_params["campagne"] = "hiver"
    at.run()
    warned = " ".join(w.value for w in at.warning).replace("\\", "")
    assert "évaluation partielle" in warned, warned


def test_bad_budget_is_refused_in_french():
    assert v.parse_budget("") is None and v.parse_budget("2 000 €") == 2000.0 and v.parse_budget("750,5") == 750.5
    with pytest.raises(ValueError, match="budget illisible"):
        v.parse_budget("beaucoup")


def test_window_warnings_future_partial_and_before_the_data():
    assert C.window_warnings(date(2026, 10, 1), date(2026, 10, 28), date(2024, 11, 1), date(2026, 10, 31)) == []
    future = C.window_warnings(date(2026, 11, 10), date(2026, 12, 10), date(2024, 11, 1), date(2026, 10, 31))
    assert len(future) == 1 and "aucun de ses jours n'est encore couvert" in future[0]
    early = C.window_warnings(date(2024, 10, 20), date(2024, 11, 20), date(2024, 11, 1), date(2026, 10, 31))
    assert "avant le premier jour de données" in early[0]


def test_page_explains_the_number_beside_the_levels(camp_db):  # noqa: F811
    """« +68 % » beside « 97,97 → 145,19 »: the page states the basis, in the words of the CLI and the report."""
    at = run_page("campagnes.py")
    levels = next(d for d in frames(at) if "Par rapport aux pairs" in d.columns)
    with store.reader(camp_db) as con:
        ev = C.evaluate(con, "ete", ["engagement_per_post", "posts", "messages"], n_boot=2000, seed=0)
    basis = ev.results[0].basis
    assert basis.startswith(levels["Par rapport aux pairs"].iloc[0].split(" (")[0] + " = l'écart entre l'évolution")
    assert f"les niveaux {levels['Référence'].iloc[0]} → {levels['Campagne'].iloc[0]}" in basis
    captions = [c.value.replace("\\", "") for c in at.caption]
    assert basis in captions
    from analysis.cli import app

    r = CliRunner().invoke(app, ["--db", str(camp_db), "campaigns", "eval", "ete", "--kpi", "engagement_per_post",
                                 "--n-boot", "2000"])
    assert r.exit_code == 0, r.output
    assert " ".join(basis.split()) in " ".join(r.output.split())  # the whole sentence, wrapped by the terminal


def test_a_crisis_inside_the_window_is_said(demo_db):
    """The demo's March 2026 crisis (message spike that Vigie marks « crise probable ») inside a campaign."""
    c = C.Campaign("mars", "Mars test", "saint-aubin", date(2026, 3, 2), date(2026, 3, 29), source="test")
    with store.reader(demo_db) as con:
        ev = C.evaluate(con, c, ["engagement_per_post", "messages"], n_boot=300, seed=0)
    crisis = [w for w in ev.warnings if "crise probable" in w]
    assert crisis and "pendant la campagne" in crisis[0], ev.warnings
    for r in ev.results:
        main = r.did if r.did is not None and r.did.estimate is not None else r.before_after
        if main.significant:
            assert "À confirmer : une crise probable" in r.verdict


def test_effects_chart_french_axis_and_uncut_legend():
    spec = cc.effects_chart(cc.effects_frame([])).to_dict()
    layers = spec["layer"]
    xs = [lyr["encoding"]["x"] for lyr in layers if "x" in lyr.get("encoding", {})]
    assert all("+0,5" not in str(x.get("title", "")) for x in xs)
    assert any(x.get("title") == "Effet estimé" for x in xs)
    legends = [lyr["encoding"]["color"]["legend"] for lyr in layers if "color" in lyr.get("encoding", {})
               and "legend" in lyr["encoding"]["color"]]
    assert legends and all(lg["labelLimit"] == 0 for lg in legends)


def test_report_states_the_same_explanation(demo_db):
    """The report's campaign finding carries the page's and the CLI's explanation, word for word."""
    from analysis.reports.period import parse_period
    from analysis.reports.sections import ReportContext, campaigns_section
    from analysis.territories import peers_of

    with store.reader(demo_db) as con:
        ctx = ReportContext(con, "saint-aubin", "Saint-Aubin-sur-Loire", parse_period("2026-05"), "previous",
                            peers_of(con, "saint-aubin"), {})
        out = campaigns_section(ctx)
        ev = C.evaluate(con, "saint-aubin-a-velo-2026", ["engagement_per_post"], n_boot=1000, seed=0)
    basis = ev.results[0].basis
    assert basis.startswith("+") and any(f"Lecture : {basis}" in x for x in out["findings"]), out["findings"]
