"""Page « Données » (issue 22 items 2, 7, 10): coverage of everything stored whatever the period, the
data's first month, the help's numbered list, accounts outside the registry listed with their volumes
and re-attached from the page (preview first, analysts only)."""

from __future__ import annotations

from datetime import datetime
from pathlib import Path

import pandas as pd
import pytest
from streamlit.testing.v1 import AppTest

from analysis import derived_refresh, store
from analysis.ingest import FileResult, default_context, import_paths
from analysis.registry import load_registry
from analysis.views import donnees as view
from tests import app_store
from tests.page_helpers import linked_page

APP = Path(__file__).resolve().parents[1] / "streamlit_app" / "app.py"
FIX = Path(__file__).parent / "fixtures" / "attach"


def run_page(role: str = "elu", query: dict[str, str] | None = None) -> AppTest:
    at = linked_page("donnees", query, role).run()
    assert not at.exception, [e.value for e in at.exception]
    return at


def frame_with(at: AppTest, col: str) -> pd.DataFrame:
    for d in at.dataframe:
        if col in d.value.columns:
            return d.value
    raise AssertionError(f"no table with {col}")


@pytest.fixture()
def old_and_new(db: Path) -> Path:
    """The small app store plus two posts of 2020 (older than the default 12 months)."""
    app_store.build(db)
    with derived_refresh.writer(db) as con:
        store.upsert(con, "posts", pd.DataFrame([
            {"post_id": f"facebook:old-{i}", "platform": "facebook", "territory_id": "saint-aubin",
             "account_id": "facebook:saint-aubin", "created_at": datetime(2020, 3, 10 + i), "text": "Archive"}
            for i in range(2)]))
    return db


def test_coverage_shows_everything_stored_whatever_the_period(old_and_new):
    at = run_page(query={"periode": "12m"})
    summary = frame_with(at, "Premier mois").set_index(["Territoire", "Plateforme"])
    row = summary.loc[("Saint-Aubin-sur-Loire", "Facebook")]
    assert (row["Premier mois"], row["Dernier mois"], row["Publications"]) == ("mars 2020", "avr. 2026", 8)
    monthly = frame_with(at, "Territoire · plateforme")
    assert "mars 2020" in monthly.columns
    assert {m.label: m.value for m in at.metric}["Publications"] == "15"
    assert any("quelle que soit la période choisie" in c.value for c in at.caption)


def test_help_is_one_numbered_list_of_three_steps(old_and_new):
    from markdown_it import MarkdownIt

    at = run_page()
    help_md = next(m.value for m in at.markdown if "Rechargez cette page" in m.value)
    html = MarkdownIt("commonmark").render(help_md)
    assert html.count("<ol>") == 1 and html.count("<li>") == 3
    assert "<li>\n<p>Rechargez cette page" in html  # step 3 is an item, not the end of a paragraph


@pytest.fixture()
def unattached_store(db: Path, monkeypatch) -> Path:
    """Posts of a page outside the registry (imported before its territory was declared); the
    registry now declares it."""
    with derived_refresh.writer(db) as con:
        import_paths(con, [FIX / "mbs_posts_unknown_page.csv"],
                     default_context(registry=load_registry(FIX / "registry_before.toml")))
    monkeypatch.setenv("VIGIE_REGISTRY", str(FIX / "registry_after.toml"))
    return db


def test_unattached_accounts_listed_then_attached_from_the_page(unattached_store):
    at = run_page("analyste")
    free = frame_with(at, "Identifiant")
    assert free[["Compte", "Publications", "Messages", "Première donnée", "Dernière donnée"]].values.tolist() == [
        ["Ville de Lorvan", 2, 0, "14 sept. 2025", "2 oct. 2025"]]
    assert any('native_id = "104857600000099"' in c.value for c in at.code)
    assert "Comptes hors registre" in frame_with(at, "Premier mois")["Territoire"].tolist()
    at.button(key="attach_preview").click().run()
    assert any("seraient rattachés" in i.value for i in at.info)
    with store.connect(unattached_store, read_only=True) as con:  # the preview wrote nothing
        assert con.execute("SELECT count(*) FROM posts WHERE territory_id IS NULL").fetchone()[0] == 2
    at.button(key="attach_apply").click().run()
    assert not at.exception, [e.value for e in at.exception]
    assert any("2 publications et 0 message rattachés" in s.value for s in at.success)
    assert any(view.ALL_ATTACHED in s.value for s in at.success)
    assert frame_with(at, "Premier mois")["Territoire"].tolist() == ["Lorvan"]


def test_elu_sees_the_list_but_no_attach_button(unattached_store):
    at = run_page("elu")
    assert frame_with(at, "Identifiant")["Publications"].tolist() == [2]
    assert not [b for b in at.button if b.key in ("attach_preview", "attach_apply")]


def test_upload_warnings_name_the_account_and_escape_the_file_name():
    r = FileResult(path="*piège*.csv", unknown_accounts=[{
        "account_id": "facebook:104857600000099", "platform": "facebook", "native_id": "104857600000099",
        "handle": None, "name": "Ville de Lorvan", "posts": 2, "messages": 0}], without_account=3,
                   without_account_platform="youtube")
    (text, lines), (text2, _) = view.upload_warnings([r])
    assert text.startswith("\\*piège\\*\\.csv : 1 compte hors registre") and "vigie attach" in text
    assert 'native_id = "104857600000099"' in lines
    assert "3 commentaires sans compte" in text2 and "--account youtube:UC" in text2
    assert view.upload_frame([r])["Comptes hors registre"].tolist() == ["Facebook · Ville de Lorvan"]
