"""Periodic reports: periods, findings wording rules, section registry, and one monthly report on the
demo store (PDF text = library KPIs, identical bytes twice, no author identity, French exit on no data,
axe-core audit of the HTML)."""

from __future__ import annotations

import re
import shutil
import subprocess
import sys
from datetime import date, timedelta
from pathlib import Path

import pytest
from typer.testing import CliRunner

from analysis import ereputation, store
from analysis.fmt import fr_int, fr_pct
from analysis.queries import Filters
from analysis.reports import findings as fnd
from analysis.reports import sections as sec
from analysis.reports.period import Period, PeriodError, parse_period
from tests.page_helpers import rendered

# module fixtures are expensive: keep this file on one xdist worker so they are built once
pytestmark = pytest.mark.xdist_group("reports")

CHROMIUM = Path("/usr/bin/chromium")


# ------------------------------------------------------------------------------ periods (no store)
def test_parse_period_kinds_and_previous():
    p = parse_period("2026-10")
    assert (p.start, p.end, p.kind, p.label, p.code) == (date(2026, 10, 1), date(2026, 11, 1), "month",
                                                         "octobre 2026", "2026-10")
    assert p.previous() == Period(date(2026, 9, 1), date(2026, 10, 1), "month")
    q = parse_period("2026-Q3")
    assert (q.start, q.end, q.label) == (date(2026, 7, 1), date(2026, 10, 1), "3e trimestre 2026")
    assert q.previous().code == "2026-Q2"
    assert parse_period("2026-Q1").previous().code == "2025-Q4"
    y = parse_period("2026")
    assert (y.start, y.end, y.previous().code) == (date(2026, 1, 1), date(2027, 1, 1), "2025")
    assert parse_period("last-month", today=date(2026, 1, 15)).code == "2025-12"
    assert parse_period("last-month", today=date(2026, 11, 26)).code == "2026-10"
    assert parse_period("2026-01").previous().code == "2025-12"
    with pytest.raises(PeriodError, match="Période non reconnue"):
        parse_period("2026-13")


def test_intervals_and_claim_rule():
    d, ci = fnd.rate_ratio_change(1100, 1000)
    assert d == pytest.approx(0.1)
    # ln(1.1) ± 1.96·√(1/1100 + 1/1000) → exp(·) − 1
    assert ci[0] == pytest.approx(0.00972, abs=1e-4) and ci[1] == pytest.approx(0.1984, abs=1e-4)
    assert fnd._certainty(ci) == "significant"
    d, ci = fnd.rate_ratio_change(105, 100)
    assert fnd._certainty(ci) == "stable"
    d, ci = fnd.mean_difference([1.0, 2.0, 3.0], [1.0, 2.0, 3.0])
    assert d == 0 and ci[0] < 0 < ci[1]
    assert fnd.mean_difference([1.0], [2.0, 3.0]) == (None, None)
    text, direction, tone = fnd._reading("net_sentiment", "+8\u00a0points", " de sentiment net", "significant",
                                         0.08, "par rapport à septembre", "above")
    assert text == ("La tonalité s'améliore : +8\u00a0points de sentiment net par rapport à septembre, au-dessus "
                    "de la moyenne des territoires comparés.")
    assert (direction, tone) == ("up", "good")
    text, direction, _ = fnd._reading("negative_share", "+1,0\u00a0points", "", "stable", 0.01,
                                      "par rapport à septembre", "")
    assert text.startswith("La part de messages négatifs est stable par rapport à septembre") and direction == "flat"
    text, direction, tone = fnd._reading("engagement_per_post", "−18\u00a0%", "", "significant", -0.18,
                                         fnd.PEERS_PHRASE, "")
    assert text == "L'engagement par publication est en dessous de la moyenne des territoires comparés : −18\u00a0%."
    assert (direction, tone) == ("down", "bad")
    assert fnd.signed(-0.3, 0, "points") == "0\u00a0point" and fnd.signed(1.6, 1, "points") == "+1,6\u00a0point"
    assert fnd.signed(-8, 0, "points") == "−8\u00a0points"


def test_registry_plugs_a_section_without_core_change():
    ids = [s.id for s in sec.sections()]
    assert ids[:5] == ["ereputation", "themes", "audience", "campaigns", "moderation"] and "coverage" in ids

    @sec.section("test_extra", "Section d'essai", order=95)
    def _build(ctx):
        return {"findings": ["Une ligne"]}

    try:
        assert [s.id for s in sec.sections()][-1] == "test_extra"
    finally:
        sec.SECTIONS[:] = [s for s in sec.SECTIONS if s.id != "test_extra"]


def test_discovery_imports_the_section_plugins_only():
    """``analysis/events/report.py`` is a section plug-in; ``analysis/cli/report.py`` is the `vigie report`
    command: discovering the sections must not import the CLI (typer, the demo generator: 0,3 s of each
    first report) nor look inside the packages by importing them."""
    code = ("import sys; from analysis.reports import sections as s; found = s.discover(); "
            "print(found, 'analysis.cli' in sys.modules, 'analysis.demo' in sys.modules)")
    out = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, check=True,
                         cwd=Path(__file__).resolve().parents[1]).stdout.strip()
    assert out == "['analysis.events.report'] False False", out


# ------------------------------------------------------------------------------ demo store
def _norm(s: str) -> str:
    return re.sub(r"[\s\u202f\u00a0]+", " ", s.replace("\u2212", "-"))


@pytest.fixture(scope="session")
def month(demo_db) -> str:
    """The last complete month of the demo store."""
    with store.reader(demo_db) as con:
        last = con.execute("SELECT max(created_at) FROM messages WHERE territory_id = 'saint-aubin'").fetchone()[0]
    if (last + timedelta(days=1)).month == last.month:  # the last month is not complete: take the one before
        last = last.replace(day=1) - timedelta(days=1)
    return f"{last.year}-{last.month:02d}"


@pytest.fixture(scope="session")
def outputs(demo_db, month, tmp_path_factory) -> dict[str, Path]:
    """The CLI run twice for the PDF and once for the HTML of one monthly report."""
    from analysis.cli import app

    out = tmp_path_factory.mktemp("reports")
    runner = CliRunner()
    paths = {"pdf1": out / "a.pdf", "pdf2": out / "b.pdf", "html": out / "r.html"}
    for key, fmt in (("pdf1", "pdf"), ("pdf2", "pdf"), ("html", "html")):
        r = runner.invoke(app, ["--db", str(demo_db), "report", "--territory", "saint-aubin", "--period", month,
                                "--format", fmt, "--out", str(paths[key])])
        assert r.exit_code == 0, r.output
    return paths


def test_pdf_text_has_library_kpis(outputs, demo_db, month):
    if not shutil.which("pdftotext"):
        pytest.skip("pdftotext absent (poppler-utils)")
    text = _norm(subprocess.run(["pdftotext", "-layout", str(outputs["pdf1"]), "-"], capture_output=True,
                                text=True, check=True).stdout)
    p = parse_period(month)
    with store.reader(demo_db) as con:
        k = ereputation.kpis(con, Filters(("saint-aubin",), p.start, p.end))
        prev = ereputation.kpis(con, Filters(("saint-aubin",), p.previous().start, p.previous().end))
        found = {x.kpi: x for x in fnd.findings(con, "saint-aubin", p, "previous")}
    # values computed here by the library, formatted in French, are printed in the PDF
    assert _norm(fr_int(k["messages"])) in text
    assert _norm(fnd.signed(100 * k["net_sentiment"], 0)) in text
    assert _norm(fr_pct(k["negative_share"], 1)) in text
    assert _norm(fnd.signed(100 * (k["net_sentiment"] - prev["net_sentiment"]), 0, "points")) in text
    for x in found.values():
        assert _norm(x.value_fr) in text, x.kpi
    assert "octobre" in text or p.label.split()[0] in text
    assert "Annexe : méthodes" in text and "(P − N) ÷ (P + N)".replace("−", "-") in text
    assert "Détecteurs (règles, sans modèle propre)" in text  # the annex table of the detectors' figures
    meta = subprocess.run(["pdfinfo", str(outputs["pdf1"])], capture_output=True, text=True).stdout
    assert f"Rapport {p.label}" in meta and "Saint-Aubin" in meta and re.search(r"Tagged:\s+yes", meta)
    # the date written is the store's last import, not the time of the run
    with store.reader(demo_db) as con:
        last = con.execute("SELECT max(finished_at) FROM imports").fetchone()[0]
    assert re.search(rf"CreationDate:.*{last:%b}\s+0?{last.day} {last:%H:%M:%S} {last.year}", meta), meta


def test_two_runs_identical_bytes(outputs):
    assert outputs["pdf1"].read_bytes() == outputs["pdf2"].read_bytes()
    assert outputs["pdf1"].read_bytes()[:5] == b"%PDF-"


def test_html_self_contained_and_without_authors(outputs, demo_db, month):
    html = outputs["html"].read_text(encoding="utf-8")
    assert '<html lang="fr">' in html and "<title>Rapport " in html
    assert "http://" not in html and "https://" not in html  # no external resource
    imgs = re.findall(r"<img [^>]*>", html)
    assert imgs and all('alt="' in i and 'alt=""' not in i for i in imgs)
    p = parse_period(month)
    with store.reader(demo_db) as con:
        rows = con.execute("SELECT DISTINCT author_hash, author_name FROM messages WHERE territory_id = 'saint-aubin' "
                           "AND created_at >= ? AND created_at < ?", [p.start, p.end]).fetchall()
    hashes = {h for h, _ in rows if h}
    names = {n for _, n in rows if n and len(n) > 3}
    assert hashes  # the period has authors: the check below is not vacuous
    text = re.sub(r'src="data:[^"]+"', "", html)
    # the detectors' real-stream figures in the annex, the sentences the pages quote (one figure everywhere)
    from markupsafe import escape  # as the template escapes

    from analysis.eval.figures import reliability_note
    assert str(escape(reliability_note("emerging"))) in html and str(escape(reliability_note("spikes"))) in html
    assert not [h for h in hashes if h in text]
    assert not [n for n in names if n in text]


def test_missing_period_exits_non_zero_with_french_message(demo_db, tmp_path):
    from analysis.cli import app

    r = CliRunner().invoke(app, ["--db", str(demo_db), "report", "--territory", "saint-aubin", "--period", "1990-01",
                                 "--format", "html", "--out", str(tmp_path / "x.html")])
    assert r.exit_code == 1
    assert "Aucune donnée pour Saint-Aubin-sur-Loire en janvier 1990" in _norm(r.output)
    assert "La base couvre Saint-Aubin-sur-Loire du 1 nov. 2024" in _norm(r.output)
    assert not (tmp_path / "x.html").exists()
    r = CliRunner().invoke(app, ["--db", str(demo_db), "report", "--territory", "nulle-part", "--period", "2026-10",
                                 "--format", "pdf", "--out", str(tmp_path / "y.pdf")])
    assert r.exit_code == 1 and "Territoire inconnu : « nulle-part »" in _norm(r.output)
    r = CliRunner().invoke(app, ["--db", str(demo_db), "report", "--period", "octobre"])
    assert r.exit_code == 2 and "Période non reconnue" in _norm(r.output)


@pytest.mark.browser
def test_axe_no_serious_violations(outputs):
    if not CHROMIUM.exists():
        pytest.skip("/usr/bin/chromium absent")
    pytest.importorskip("axe_playwright_python")
    from axe_playwright_python.sync_playwright import Axe
    from playwright.sync_api import sync_playwright

    with sync_playwright() as pw:
        browser = pw.chromium.launch(executable_path=str(CHROMIUM), headless=True,
                                     args=["--no-sandbox", "--disable-gpu", "--disable-background-networking",
                                           "--disable-component-update", "--disable-sync"])
        page = browser.new_page()
        page.goto(outputs["html"].as_uri())
        res = Axe().run(page)
        browser.close()
    bad = [(v["id"], v["impact"], v["help"]) for v in res.response["violations"]
           if v["impact"] in ("serious", "critical")]
    assert bad == []


def test_rapports_page_generates_both_files(demo_db, month, monkeypatch):
    from tests.page_helpers import linked_page

    monkeypatch.setenv("VIGIE_DB", str(demo_db))
    monkeypatch.setenv("VIGIE_AUTH", "demo")
    at = linked_page("rapports", role="elu", timeout=180).run()
    assert not at.exception, [e.value for e in at.exception]
    assert at.title[0].value == "Rapports"
    assert next(s for s in at.selectbox if s.label == "Période").value == month  # newest period with data first
    at.button[0].click().run()
    assert not at.exception, [e.value for e in at.exception]
    assert at.success and rendered(at.success[0].value).startswith("Rapport prêt : Saint-Aubin-sur-Loire")
    texts = [rendered(m.value) for m in at.markdown]
    assert any(t.startswith("- La tonalité ") for t in texts)
    assert any(t.startswith("- L'audience ") for t in texts)
