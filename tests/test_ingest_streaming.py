"""Every streamable adapter gives the same store through chunks as through a whole-file parse,
keeps the file's line numbers in errors, and a bad row in the 3rd chunk writes nothing.

Files are small; ``STREAM_THRESHOLD = 0`` and ``ROWS_PER_CHUNK = 7`` force the chunked path.
"""

from __future__ import annotations

import csv
import tomllib
from collections.abc import Callable
from dataclasses import dataclass
from pathlib import Path

import duckdb
import pytest

from analysis import schema, store
from analysis.ingest import adapters, chunked, default_context, import_file
from analysis.ingest.sniff import probe

ROOT = Path(__file__).resolve().parents[1]
MAPPING = tomllib.loads((ROOT / "docs" / "mapping_example.toml").read_text(encoding="utf-8"))
PAGE = "104857600000001"  # Saint-Aubin's Facebook page in data/territories.toml
N = 30  # data rows: chunks of 7 → 5 chunks; row 17 is in the 3rd one
BAD = 17


@dataclass
class Case:
    name: str
    adapter: str
    write: Callable[[Path, bool], None]  # (path, with a bad row 17)
    ctx: dict


def _csv(path: Path, rows: list[list[str]], *, delimiter: str = ",", encoding: str = "utf-8") -> None:
    with open(path, "w", encoding=encoding, newline="") as fh:
        csv.writer(fh, delimiter=delimiter, lineterminator="\r\n").writerows(rows)


def _text(i: int) -> str:
    # row 5 spans three physical lines: line numbers after it must still match the file's
    return "Premier paragraphe\nsecond\ntroisième" if i == 5 else f"Commentaire {i} sur la piscine, bravo"


def ec_facebook(path: Path, bad: bool) -> None:
    rows = [["ExportComments.com", ""], ["Source URL", f"https://www.facebook.com/{PAGE}_2000000000000001"], [],
            ["(#)", "Name (click to view profile)", "Profile ID", "Date", "Likes", "Comment", "(view source)"]]
    for i in range(1, N + 1):
        link = f"https://www.facebook.com/{PAGE}_2000000000000001?comment_id={3000000000000000 + i}" if i % 4 else ""
        date = "pas une date" if bad and i == BAD else f"{1 + i % 28:02d}/02/26 18:{i:02d}:05"
        rows.append([str(i), f"Habitant {i % 9}", f"ID: {700000000 + i % 9}", date, str(i % 5), _text(i), link])
    _csv(path, rows)


def ec_youtube(path: Path, bad: bool) -> None:
    rows = [["id ", "", "Name", "Date", "Likes", "isHearted", "isPinned", "Comment", "(view source)"]]
    for i in range(1, N + 1):
        likes = "beaucoup" if bad and i == BAD else str(i % 3)
        rows.append([str(i), "", f"Fan {i % 6}", f"{1 + i % 28:02d}/12/25 06:{i:02d}:13", likes, "false", "false",
                     _text(i), f"https://www.youtube.com/watch?v=vidSaintA0{i % 3}&lc=UgxC{i:06d}"])
    _csv(path, rows)


def minet_fb(path: Path, bad: bool) -> None:
    rows = [["id", "fbid", "depth", "parent_id", "author_name", "author_short_name", "author_gender", "author_url",
             "author_is_verified", "created_time", "text", "reactions", "replies"]]
    for i in range(1, N + 1):
        reply = i % 3 == 0
        when = "hier soir" if bad and i == BAD else str(1767261600 + 60 * i)
        rows.append([f"c{i}", str(4000000000000000 + i), "1" if reply else "0", f"c{i - 1}" if reply else "",
                     f"Habitant {i % 7}", "H", "", f"https://www.facebook.com/profile.php?id={700000000 + i % 7}", "0",
                     when, _text(i), str(i % 4), "0"])
    _csv(path, rows)


def minet_ct(path: Path, bad: bool) -> None:
    rows = [["ct_id", "id", "platform_id", "platform", "type", "message", "date", "datetime", "post_url",
             "subscriber_count", "actual_like_count", "actual_share_count", "actual_comment_count",
             "account_name", "account_handle", "account_platform", "account_platform", "account_platform_id"]]
    pages = [("104857600000005", "Montclar Agglo", "montclaragglo"), ("104857600000077", "Val Fictif", "valfictif")]
    for i in range(1, N + 1):
        pid, name, handle = pages[i % 2]
        post = 7770000000000000 + i
        when = "pas une date" if bad and i == BAD else f"2022-05-{1 + i % 28:02d}T10:{i:02d}:00"
        rows.append([f"1|{i}", str(i), f"{pid}_{post}", "Facebook", "photo", _text(i), when[:10], when,
                     f"https://www.facebook.com/{handle}/posts/{post}", "8000", str(100 + i), str(i % 5),
                     str(i % 9), name, handle, "Facebook", "Facebook", pid])
    _csv(path, rows)


def generic(path: Path, bad: bool) -> None:
    # French spreadsheet export: cp1252, ';', a title line above the header, comma decimals
    rows = [["Export des avis – mairie"], ["Identifiant", "Publication", "Date", "Auteur", "Commentaire", "J'aime",
                                           "Note"]]
    for i in range(1, N + 1):
        date = "31/02/2025 10:00" if bad and i == BAD else f"{1 + i % 28:02d}/04/2025 10:{i:02d}"
        rows.append([f"A{i}", "2000000000000001", date, f"Auteur {i % 5}", _text(i), f"{i},0", str(i % 5)])
    _csv(path, rows, delimiter=";", encoding="cp1252")


CASES = [
    Case("exportcomments_facebook_banner", "exportcomments", ec_facebook, {"account_hint": f"facebook:{PAGE}"}),
    Case("exportcomments_youtube", "exportcomments", ec_youtube, {"account_hint": "youtube:UCsaintaubin00000000001"}),
    Case("minet_fb_comments", "minet_fb_comments", minet_fb, {"account_hint": f"facebook:{PAGE}"}),
    Case("crowdtangle_minet", "crowdtangle_minet", minet_ct, {}),
    Case("generic_mapping", "generic_mapping", generic, {"mapping": MAPPING}),
]


def _store() -> duckdb.DuckDBPyConnection:
    c = duckdb.connect()
    store.migrate(c)
    return c


def _content(con: duckdb.DuckDBPyConnection, lineage: bool = False) -> dict[str, list[tuple]]:
    """Every row of every table (lineage tables and import ids only when ``lineage``)."""
    out = {}
    for t in schema.TABLES:
        if t.name == "audit_log" or (not lineage and t.name in ("imports", "rejects")):
            continue
        # first_seen is the import's start time: two imports never share it
        cols = [c for c in t.column_names if lineage or c not in ("import_id", "first_seen", "set_at")]
        out[t.name] = con.execute(f"SELECT {', '.join(store._q(c) for c in cols)} FROM {t.name} ORDER BY ALL").fetchall()
    return out


def _import(con, path: Path, case: Case, chunks: bool, monkeypatch, **kw):
    monkeypatch.setattr(chunked, "STREAM_THRESHOLD", 0 if chunks else 10**12)
    monkeypatch.setattr(chunked, "ROWS_PER_CHUNK", 7)
    return import_file(con, path, default_context(**case.ctx), **kw)


@pytest.mark.parametrize("case", CASES, ids=[c.name for c in CASES])
def test_chunks_equal_whole_file(case: Case, tmp_path, monkeypatch):
    path = tmp_path / f"{case.name}.csv"
    case.write(path, False)
    whole, parts = _store(), _store()
    rw = _import(whole, path, case, False, monkeypatch)
    rc = _import(parts, path, case, True, monkeypatch)
    assert (rw.status, rc.status) == ("ok", "ok"), (rw.error, rc.error)
    assert rw.format == rc.format == case.adapter
    assert "importé par blocs (gros fichier, mémoire bornée)" in rc.notes
    assert "importé par blocs (gros fichier, mémoire bornée)" not in rw.notes
    assert (rc.rows_read, rc.inserted, rc.updated) == (rw.rows_read, rw.inserted, rw.updated) == (N, N, 0)
    got, want = _content(parts), _content(whole)
    assert got == want
    assert len(got["posts" if case.adapter == "crowdtangle_minet" else "messages"]) == N
    # re-importing through chunks changes nothing
    again = _import(parts, path, case, True, monkeypatch, force=True)
    assert (again.status, again.inserted, again.updated) == ("ok", 0, 0)
    assert _content(parts) == want


@pytest.mark.parametrize("case", CASES, ids=[c.name for c in CASES])
def test_bad_row_in_third_chunk_writes_nothing(case: Case, tmp_path, monkeypatch):
    good, bad = tmp_path / "avant.csv", tmp_path / f"{case.name}.csv"
    case.write(good, False)
    case.write(bad, True)
    whole = _store()
    rw = _import(whole, bad, case, False, monkeypatch)
    con = _store()
    assert _import(con, good, case, True, monkeypatch).status == "ok"  # a store that already holds data
    before = _content(con, lineage=True)
    rc = _import(con, bad, case, True, monkeypatch)
    assert (rw.status, rc.status) == ("error", "error")
    assert rc.error == rw.error  # same file, same line and column as the whole-file import
    assert str(bad) in rc.error and "vigie-chunks-" not in rc.error
    assert _content(con, lineage=True) == before


def test_chunk_line_numbers_follow_banner_and_multiline_cells(tmp_path):
    path = tmp_path / "ec.csv"
    ec_facebook(path, True)
    p = probe(path)
    ec = next(a for a in adapters() if a.name == "exportcomments")
    assert chunked.header_index(ec, p) == 3  # banner (2 rows), a blank row, then the header
    offsets = [off for _, off in chunked.csv_chunks(p, rows_per_chunk=7, header_at=3)]
    # chunk k starts at data row 7k+1; row 5 spans 3 lines; each chunk repeats 4 head lines
    starts = [5 + 7 * k + (2 if k else 0) for k in range(5)]
    assert offsets == [s - 5 for s in starts]


def test_files_that_need_every_row_are_read_whole(tmp_path):
    by_name = {a.name: a for a in adapters()}
    # minet fb comments without --account: the page is deduced from replies anywhere in the file
    path = tmp_path / "minet.csv"
    minet_fb(path, False)
    assert not chunked.wants_chunks(by_name["minet_fb_comments"], probe(path), 0, default_context())
    assert chunked.wants_chunks(by_name["minet_fb_comments"], probe(path), 0,
                                default_context(account_hint=f"facebook:{PAGE}"))
    # ExportComments without banner nor YouTube columns: platform guessed from the first link
    ec = path.with_name("ec.csv")
    ec_facebook(ec, False)
    ec.write_bytes(ec.read_bytes().split(b"\r\n", 3)[3])
    assert probe(ec).rows[0][:2] == ["(#)", "Name (click to view profile)"]
    assert not chunked.wants_chunks(by_name["exportcomments"], probe(ec), 0, default_context())
    # CrowdTangle dashboard: the decimal mark is decided from every numeric cell of the file
    assert not getattr(by_name["crowdtangle_dashboard"], "streamable", False)
    # the mapping adapter streams only with its mapping
    gen = path.with_name("gen.csv")
    generic(gen, False)
    assert chunked.header_index(by_name["generic_mapping"], probe(gen), default_context(mapping=MAPPING)) == 1
    assert not chunked.wants_chunks(by_name["generic_mapping"], probe(gen), 0, default_context())
