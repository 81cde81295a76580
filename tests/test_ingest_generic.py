"""Generic CSV/XLSX import with a TOML mapping (the documented example file is the one tested)."""

from __future__ import annotations

import tomllib
from pathlib import Path

import pandas as pd
import pytest

from analysis import store
from analysis.ingest import default_context, import_paths
from analysis.ingest.generic import MappedTable
from analysis.ingest.sniff import probe
from analysis.privacy import pseudonymise

ROOT = Path(__file__).resolve().parents[1]
GEN = ROOT / "tests" / "fixtures" / "generic"
EXAMPLE = tomllib.loads((ROOT / "docs" / "mapping_example.toml").read_text(encoding="utf-8"))


@pytest.fixture()
def con(db):
    c = store.connect(db)
    yield c
    c.close()


def run(con, name, mapping, **kw):
    force = kw.pop("force", False)
    keep_going = kw.pop("keep_going", False)
    return import_paths(con, [GEN / name], default_context(mapping=mapping, **kw), force=force,
                        keep_going=keep_going)


def test_sniff_only_with_a_mapping():
    assert MappedTable().sniff(probe(GEN / "avis_mairie_cp1252.csv")) == 0.0


def test_example_mapping_cp1252_semicolon_comma_decimals(con):
    (r,) = run(con, "avis_mairie_cp1252.csv", EXAMPLE)
    assert (r.status, r.format, r.rows_read, r.inserted) == ("ok", "generic_mapping", 2, 2), r.error
    m = con.execute("SELECT * FROM messages ORDER BY message_id").fetchdf().set_index("message_id")
    a1 = m.loc["facebook:A1"]
    assert (a1.post_id, a1.kind, a1.platform) == ("facebook:2000000000000001", "comment", "facebook")
    assert (a1.account_id, a1.territory_id) == ("facebook:104857600000001", "saint-aubin")
    assert a1.created_at == pd.Timestamp("2025-04-03 12:30:00")  # 14:30 Paris (CEST) → UTC
    assert a1.source_tz == "Europe/Paris"
    assert (a1.text, a1.likes, a1.rating) == ("Très bien, merci", 3, 4.5)  # cp1252, comma decimal
    assert a1.author_hash == pseudonymise("facebook", "Jean Dupont") and a1.author_name is None
    a2 = m.loc["facebook:A2"]
    assert pd.isna(a2.likes) and pd.isna(a2.post_id) and a2.rating == 2.0  # empty: NULL, not 0
    again = run(con, "avis_mairie_cp1252.csv", EXAMPLE, force=True)
    assert (again[0].inserted, again[0].updated) == (0, 0)


def test_bad_rows_fail_whole_file_or_are_skipped_with_keep_going(con):
    (r,) = run(con, "avis_mairie_errors.csv", EXAMPLE)
    assert r.status == "error" and "ligne 2" in r.error and "2 autre" not in r.error and "1 autre" in r.error
    assert con.execute("SELECT count(*) FROM messages").fetchone()[0] == 0
    (r,) = run(con, "avis_mairie_errors.csv", EXAMPLE, keep_going=True)
    assert r.status == "ok" and r.rejected == 2 and r.inserted == 1
    assert con.execute("SELECT message_id FROM messages").fetchall() == [("facebook:A5",)]  # bad rows skipped whole
    # The reasons are logged in `rejects`, with line and column.
    rej = con.execute("SELECT line, column_name, reason FROM rejects ORDER BY line").fetchall()
    assert rej == [(2, "J'aime", "nombre illisible"), (3, "Date", "date illisible")]


def test_posts_mapping_and_missing_column_message(con):
    mapping = {"table": "posts", "platform": "other", "account": "facebook:104857600000002",
               "dayfirst": True, "columns": {"native_id": "Identifiant", "created_at": "Date", "text": "Commentaire",
                                             "reactions": "J'aime"}}
    (r,) = run(con, "avis_mairie_cp1252.csv", mapping)
    assert r.status == "ok", r.error
    p = con.execute("SELECT post_id, account_id, territory_id, created_at, reactions FROM posts ORDER BY post_id").fetchall()
    assert p[0] == ("other:A1", "facebook:104857600000002", "port-marel", pd.Timestamp("2025-04-03 12:30"), 3)  # Paris by default
    bad = dict(mapping, columns={"text": "Texte du message"})
    (r,) = run(con, "avis_mairie_cp1252.csv", bad, force=True)
    assert r.status == "error" and "Texte du message" in r.error and "Commentaire" in r.error
    (r,) = run(con, "avis_mairie_cp1252.csv", dict(mapping, columns={"colour": "Note"}), force=True)
    assert r.status == "error" and "colour" in r.error
