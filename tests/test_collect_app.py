"""Collection and upload seen from the app: the Données page lists collection runs, analysts and
admins upload exports there (élus never see the control), uploads go through the importers."""

from __future__ import annotations

from datetime import datetime
from pathlib import Path

import pytest

from analysis import derived_refresh
from analysis.collect.base import Source
from analysis.ingest import import_uploads
from tests.api_replay import rows, run_collect
from tests.page_helpers import open_page
from tests.test_collect_bluesky import HANDLE, serve_account

FIX = Path(__file__).resolve().parent / "fixtures"
TWEETS = FIX / "twitter" / "tweet_activity_2015.csv"


def test_upload_imports_like_the_cli_and_keeps_no_copy(db, tmp_path, monkeypatch):
    monkeypatch.setenv("TMPDIR", str(tmp_path))
    import tempfile

    monkeypatch.setattr(tempfile, "tempdir", str(tmp_path))
    data = TWEETS.read_bytes()
    with derived_refresh.writer() as con:
        res = import_uploads(con, [("../../etc/" + TWEETS.name, data), ("vide.csv", b"")])
    ok, bad = res
    assert (ok.path, ok.status, ok.format) == (TWEETS.name, "ok", "x_tweet_activity")  # base name only
    assert ok.inserted > 0
    assert bad.status in ("error", "skipped") and "vigie-upload" not in (bad.error or "")
    assert rows("SELECT path FROM imports") == [(f"upload:{TWEETS.name}",)]
    assert not list(tmp_path.glob("vigie-upload-*"))  # the uploaded copy is gone
    with derived_refresh.writer() as con:  # the same file again changes nothing (same SHA-256)
        [again] = import_uploads(con, [(TWEETS.name, data)])
    assert again.inserted == 0 and "déjà importé" in " ".join(again.notes)


@pytest.fixture()
def collected_store(collect_env, replay):
    serve_account(replay)
    run_collect([Source("bluesky", "account", HANDLE, "saint-aubin", "own")], replay.url, since=datetime(2026, 11, 1))
    return collect_env


@pytest.mark.parametrize("role", ["analyste", "elu"])
def test_donnees_lists_collection_runs_and_upload_is_for_analysts(collected_store, role):
    at = open_page("donnees.py", period="12m", role=role)
    headers = [h.value for h in at.header]
    assert "Collecte automatique" in headers
    table = next(d.value for d in at.dataframe if "Dernière collecte" in d.value.columns)
    assert table["Source"].tolist() == [f"Bluesky · {HANDLE}"]
    assert table["Statut"].tolist() == ["réussie"] and table["Ajoutées"].tolist() == [10]
    uploaders = at.get("file_uploader")
    if role == "elu":
        assert "Importer des exports" not in headers and not uploaders
    else:
        assert "Importer des exports" in headers and len(uploaders) == 1


def test_collection_platforms_appear_in_coverage(collected_store):
    at = open_page("donnees.py", period="perso", role="analyste", query={"du": "2024-11-01", "au": "2026-12-31"})
    cov = next(d.value for d in at.dataframe if "Plateforme" in d.value.columns and "Territoire" in d.value.columns)
    assert "Bluesky" in cov["Plateforme"].tolist()
    assert rows("SELECT count(*) FROM posts WHERE platform = 'bluesky'") == [(5,)]


def test_every_table_has_a_french_name_on_donnees():
    from analysis import schema
    from analysis.views.donnees import TABLE_LABELS as labels

    assert sorted(t.name for t in schema.TABLES if t.name not in labels) == []
