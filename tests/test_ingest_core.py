"""Ingest core: value parsers, sniffing, unknown-format message, all-or-nothing, JSON CLI."""

from __future__ import annotations

import json
from datetime import datetime

import pytest
from typer.testing import CliRunner

from analysis import derived_refresh, store
from analysis.ingest import default_context, import_paths
from analysis.ingest.base import parse_datetime, parse_number
from analysis.ingest.sniff import detect_encoding, probe


@pytest.mark.parametrize("raw,expected", [
    ("1234", 1234.0), ("424.0", 424.0), ("407.137", 407.137), ("1.407.137", 1407137.0),
    ("1 234", 1234.0), ("1\u202f234,5", 1234.5), ("1,234", 1234.0), ("1,4", 1.4), ("7,0", 7.0),
    ("2.3x", 2.3), ("-", None), ("N/A", None), ("", None), (None, None), ("12 %", 12.0),
    ("1,234,567", 1234567.0), ("1.234,56", 1234.56), ("Avec une note de 7,0", 7.0),
])
def test_parse_number(raw, expected):
    assert parse_number(raw) == expected


def test_parse_number_with_known_comma_locale():
    assert parse_number("407.137", decimal=",") == 407137.0
    assert parse_number("1,5", decimal=",") == 1.5


def test_parse_number_garbage_raises():
    with pytest.raises(ValueError, match="illisible"):
        parse_number("douze")


@pytest.mark.parametrize("raw,kw,expected", [
    ("2015-09-30 18:42 +0000", {}, datetime(2015, 9, 30, 18, 42)),
    ("Fri Feb 20 09:10:58 +0000 2026", {}, datetime(2026, 2, 20, 9, 10, 58)),
    ("2021-04-01T15:52:31.000Z", {}, datetime(2021, 4, 1, 15, 52, 31)),
    ("2021-07-05 18:02:45 BRT", {}, datetime(2021, 7, 5, 21, 2, 45)),
    ("09/20/2025 14:05", {"tz": "Europe/Paris"}, datetime(2025, 9, 20, 12, 5)),
    ("03/12/25 06:24:13", {"dayfirst": True}, datetime(2025, 12, 3, 6, 24, 13)),
    ("10/1/2015", {}, datetime(2015, 10, 1)),
    ("August 19", {"year": 2025}, datetime(2025, 8, 19)),
    ("Commentaire envoyé le 16 août 2024", {}, datetime(2024, 8, 16)),
    ("Publiée le 17 octobre 2013", {}, datetime(2013, 10, 17)),
    ("2025-09-20T00:00:00", {}, datetime(2025, 9, 20)),
    (1700000000, {}, datetime(2023, 11, 14, 22, 13, 20)),
])
def test_parse_datetime(raw, kw, expected):
    assert parse_datetime(raw, **kw) == expected


def test_parse_datetime_reads_each_shape_as_trying_every_format_in_turn():
    """The format remembered per shape gives what trying the formats in order gives, in any order of
    values (a shape whose remembered format fails on a value falls back to the list)."""
    import random

    from analysis.ingest import base

    def reference(s: str):
        for fmt, _ in base._DT_FORMATS:
            try:
                return datetime.strptime(s, fmt)
            except ValueError:
                continue
        return None

    values = ["2021-04-01T15:52:31.000+0000", "2021-04-01T15:52:31+0000", "2021-04-01T15:52:31",
              "2021-04-01 15:52:31+0100", "2021-04-01 15:52:31", "2015-09-30 18:42 +0000", "2015-09-30 18:42",
              "2015-09-30", "Fri Feb 20 09:10:58 +0000 2026", "2025-09-20T00:00", "2021-13-01", "2021-1-5",
              "2021-12-31 24:00", "2021-02-30", "Sat Feb 31 09:10:58 +0000 2026", "2025-09-20T00:61",
              "20210401", "2021-04-01T15:52:31.5+02:00", "09/20/2025 14:05"]
    rng = random.Random(3)
    for _ in range(20):
        base._FMT_BY_SHAPE.clear()
        order = values * 2
        rng.shuffle(order)
        assert [base._strptime_known(v) for v in order] == [None if "/" in v else reference(v) for v in order]


def test_parse_datetime_yearless_without_year_is_an_error():
    with pytest.raises(ValueError, match="sans année"):
        parse_datetime("August 19")


def test_detect_encoding():
    assert detect_encoding("é".encode("utf-8-sig")) == "utf-8-sig"
    assert detect_encoding("\ufeffsep=,".encode("utf-16-le")) == "utf-16"
    assert detect_encoding("Date,Valeur".encode("utf-16-le")) == "utf-16-le"
    assert detect_encoding("café".encode("cp1252")) == "cp1252"
    assert detect_encoding("café".encode()) == "utf-8"


def test_probe_strips_sep_line_and_sniffs_semicolon(tmp_path):
    f = tmp_path / "x.csv"
    f.write_text("sep=;\nDate;Valeur\n2025-01-01;1,5\n", encoding="utf-8")
    p = probe(f)
    assert p.kind == "csv" and p.delimiter == ";" and p.preamble == ["sep=;"]
    assert p.rows[0] == ["Date", "Valeur"]


def test_unknown_format_names_file_what_was_seen_and_closest(db, tmp_path):
    f = tmp_path / "mystere.csv"
    f.write_text("Colonne A,Colonne B,Colonne C\n1,2,3\n", encoding="utf-8")
    with derived_refresh.writer(db) as con:
        [r] = import_paths(con, [f], default_context())
        counts = store.table_counts(con)
    assert r.status == "error"
    assert "Format non reconnu" in r.error and "mystere.csv" in r.error
    assert "Colonne A | Colonne B" in r.error and "utf-8" in r.error
    assert "Formats les plus proches" in r.error
    assert counts["imports"] == 0 and counts["posts"] == 0


def test_missing_and_empty_files_are_clear_errors(db, tmp_path):
    empty = tmp_path / "vide.csv"
    empty.write_bytes(b"")
    with derived_refresh.writer(db) as con:
        res = import_paths(con, [tmp_path / "absent.csv", empty], default_context())
    assert [r.status for r in res] == ["error", "error"]
    assert "introuvable" in res[0].error
    assert "vide.csv" in res[1].error


def test_cli_json_reports_every_file_and_fails_on_error(db, tmp_path):
    from analysis.cli import app

    f = tmp_path / "inconnu.txt"
    f.write_text("bonjour\n", encoding="utf-8")
    res = CliRunner().invoke(app, ["--db", str(db), "import", "--json", str(f)])
    assert res.exit_code == 1
    out = json.loads(res.stdout)
    assert out["files"][0]["path"] == str(f)
    assert out["files"][0]["status"] == "error"
    assert set(out["files"][0]) >= {"path", "format", "rows_read", "inserted", "updated", "rejected", "status", "error"}


def test_cli_import_enrich_scores_what_is_new_in_the_same_session(db):
    """`vigie import --enrich`: the new messages are scored in the import's session (what `vigie enrich`
    would score next); a file already imported brings nothing new, and nothing is enriched."""
    from analysis.cli import app
    from tests.conftest import FIXTURES

    f = FIXTURES / "comments" / "minet_fb_comments.csv"
    args = ["--db", str(db), "import", "--json", "--enrich", "--account", "facebook:104857600000001", str(f)]
    res = CliRunner().invoke(app, args)
    assert res.exit_code == 0, res.output
    out = json.loads(res.stdout)
    assert out["files"][0]["status"] == "ok" and out["files"][0]["inserted"] > 0
    with store.reader(db) as con:
        n = con.execute("SELECT count(*) FROM messages WHERE text IS NOT NULL").fetchone()[0]
        scored = con.execute("SELECT count(*) FROM sentiment WHERE item_type = 'message'").fetchone()[0]
        hostile = con.execute("SELECT count(*) FROM toxicity").fetchone()[0]
    assert out["enrich"]["sentiment"]["messages"] == scored == n > 0
    assert out["enrich"]["moderation"]["messages"] == hostile == n
    again = json.loads(CliRunner().invoke(app, args).stdout)
    assert "déjà importé" in " ".join(again["files"][0]["notes"]) and again["enrich"] == {}
    table = CliRunner().invoke(app, [*args[:3], "--enrich", "--force", "--account", "facebook:104857600000001", str(f)],
                               terminal_width=200)
    assert table.exit_code == 0 and "Import" in table.output


def test_cli_territories_lists_registry():
    from analysis.cli import app

    res = CliRunner().invoke(app, ["territories"])
    assert res.exit_code == 0
    assert "saint-aubin" in res.stdout and "48 250" in res.stdout.replace("\u202f", " ")
