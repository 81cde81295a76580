"""Issue 22 item 8: the report the director reads — the app's PDF is the CLI's, byte for byte, and
the command the page displays carries every filter (rendering is slow: few renders here)."""

from __future__ import annotations

import shlex
from pathlib import Path

import altair as alt
import pytest
from typer.testing import CliRunner

from analysis.reports import render
from streamlit_app import data
from tests.page_helpers import open_page


def _rendered(s: str) -> str:
    return s.replace("\\", "")


def test_file_name_and_command_carry_the_platforms():
    assert render.file_name("saint-aubin", "2026-10") == "rapport-saint-aubin-2026-10.pdf"
    assert render.file_name("saint-aubin", "2026-10", "html", ("instagram", "facebook")) == \
        "rapport-saint-aubin-2026-10-facebook-instagram.html"
    cmd = render.command_line("saint-aubin", "2026-10", "peers", "pdf", ("facebook",))
    assert "--platform facebook" in cmd and cmd.endswith("--out rapport-saint-aubin-2026-10-facebook.pdf")


# Without a platform filter, the same comparison is made end to end in Chromium by the director's walk
# (tests/test_browser_parcours.py): the downloaded PDF is the displayed command's, byte for byte.
@pytest.mark.parametrize("platform", ["facebook"])
def test_app_pdf_is_the_cli_pdf_of_the_displayed_command(demo_env, platform, tmp_path, monkeypatch):
    """The page enables the app's chart theme; the CLI does not: the PDFs must still be identical,
    and running the command the page shows must give that same file."""
    from analysis.cli import app

    at = open_page("rapports.py", period="12m", role="elu", query={"plateformes": platform} if platform else None,
                   timeout=240)
    cmd = next(_rendered(c.value) for c in at.caption if "vigie report" in c.value)
    cmd = cmd.split("`")[1]
    args = shlex.split(cmd)[1:]
    assert ("--platform" in args) == bool(platform)
    out_name = args[args.index("--out") + 1]
    assert out_name.endswith(f"-{platform}.pdf" if platform else f"-{args[args.index('--period') + 1]}.pdf")
    next(b for b in at.button if b.label == "Générer le rapport").click().run()
    assert not at.exception, [e.value for e in at.exception]
    files = at.session_state["rapport"][-1]
    assert "pdf" not in files  # made on download only (the browser parcours downloads it)
    app_pdf = data.report_pdf(files["html"], files["pdf_id"])
    monkeypatch.chdir(tmp_path)
    # `vigie report` runs in its own process, where nothing enables the app's chart theme
    alt.theme.enable("default")
    r = CliRunner().invoke(app, ["--db", str(demo_env), *args])
    assert r.exit_code == 0, r.output
    cli_pdf = Path(tmp_path / out_name).read_bytes()
    assert cli_pdf[:5] == b"%PDF-"
    assert app_pdf == cli_pdf


def test_word_cloud_does_not_repeat_a_word_of_a_shown_phrase():
    from analysis.topics import word_frequencies

    texts = ["Le standard mairie ne répond pas"] * 6 + ["standard saturé ce matin"] * 2 + ["piscine fermée"] * 3
    freq = word_frequencies(texts, top=10)
    assert "standard mairie" in freq
    assert "standard" not in freq and "mairie" not in freq
    assert "piscine fermée" in freq  # the next terms take the freed places


def test_an_emerging_subject_is_never_a_lone_generic_word(demo_db):
    """« plaire » (like « nouveau ») rose in June at Villeneuve: an evaluative word names no subject."""
    from datetime import date

    from analysis import store, topics
    from analysis.queries import Filters

    with store.reader(demo_db) as con:
        subjects = topics.emerging_subjects(con, Filters(("villeneuve-les-sources",), date(2026, 6, 1),
                                                         date(2026, 7, 1)))
    labels = [s.label for s in subjects]
    assert labels and "creche" in labels
    assert not any(set(s.terms) <= topics.LONE_GENERIC for s in subjects), labels
    assert "plaire" not in labels and "nouveau" not in labels


def test_the_monthly_report_is_compact_every_page_full(demo_db):
    """October 2026 on the demo store, platform names in French; 15 pages before (pages 3, 7 and 10 held a few lines each, every
    section opened a page), 12 after; every page but the last is filled to at least three quarters."""
    from weasyprint import HTML
    from weasyprint.formatting_structure import boxes

    from analysis import store
    from analysis.reports.period import parse_period

    with store.reader(demo_db) as con:
        rep = render.build_report(con, "saint-aubin", parse_period("2026-10"))
    html = render.render_html(rep)
    # platform names as schema.PLATFORM_LABELS spell them, never the ids
    body = html.split("Formules utilisées")[0]  # the metric formulas name export columns per platform id
    for pid in ("facebook", "instagram", "youtube", "press"):
        assert f">{pid}<" not in body and f"({pid})" not in body and f" ; {pid} " not in body, pid
    assert ">Facebook<" in html and "Presse locale" in html
    doc = HTML(string=html, base_url=str(render.TEMPLATES)).render()

    def filled(page) -> float:  # bottom of the last line or image, as a share of the page's content height
        pb, bottom = page._page_box, 0.0
        stack = [c for c in pb.children if not isinstance(c, boxes.MarginBox)]
        while stack:
            b = stack.pop()
            if isinstance(b, boxes.LineBox | boxes.ReplacedBox):
                bottom = max(bottom, b.position_y + b.margin_height())
            else:
                stack.extend(getattr(b, "children", None) or [])
        return (bottom - pb.margin_top) / pb.height

    fill = [round(filled(p), 2) for p in doc.pages]
    assert len(fill) <= 12, fill
    assert min(fill[:-1]) >= 0.75, fill
