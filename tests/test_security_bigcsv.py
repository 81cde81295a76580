"""Big CSV files import in chunks (bounded memory) with exactly the result of a whole-file import:
same rows, same counts, same line numbers in errors, still all or nothing."""

from __future__ import annotations

import duckdb
import pytest

from analysis import schema, store
from analysis.ingest import chunked, default_context, import_file
from benchmarks import gen_big_csv

ACCOUNT = "youtube:UCsaintaubin00000000001"


def _store() -> duckdb.DuckDBPyConnection:
    c = duckdb.connect()
    store.migrate(c)
    return c


def _content(con, table: str) -> list[tuple]:
    cols = [c for c in schema.table(table).column_names if c != "import_id"]
    return con.execute(f"SELECT {', '.join(cols)} FROM {table} ORDER BY ALL").fetchall()


@pytest.fixture()
def big(tmp_path):
    p = tmp_path / "commentaires.csv"
    gen_big_csv.write(p, 2500, seed=3)
    # a comment spanning three physical lines, to check line numbers after it
    lines = p.read_text(encoding="utf-8").split("\n")
    cells = lines[1000].split(",")
    cells[1] = '"Premier paragraphe\nsecond\ntroisième"'
    lines[1000] = ",".join(cells)
    p.write_text("\n".join(lines), encoding="utf-8")
    return p


def _run(path, chunks: bool, monkeypatch, **kw):
    monkeypatch.setattr(chunked, "STREAM_THRESHOLD", 0 if chunks else 10**12)
    monkeypatch.setattr(chunked, "ROWS_PER_CHUNK", 700)
    con = _store()
    res = import_file(con, path, default_context(account_hint=ACCOUNT), **kw)
    return con, res


def test_chunked_import_equals_whole_import(big, monkeypatch):
    whole, rw = _run(big, False, monkeypatch)
    parts, rc = _run(big, True, monkeypatch)
    assert rw.status == rc.status == "ok"
    assert "importé par blocs (gros fichier, mémoire bornée)" in rc.notes
    assert (rc.rows_read, rc.inserted, rc.tables["messages"]) == (rw.rows_read, rw.inserted, rw.tables["messages"])
    assert rc.rows_read == 2500
    for t in ("messages", "posts", "accounts"):
        assert _content(parts, t) == _content(whole, t), t
    n, inserted = parts.execute("SELECT rows_read, inserted FROM imports").fetchone()
    assert (n, inserted) == (2500, rw.inserted)


def test_chunked_error_same_line_and_nothing_written(big, monkeypatch):
    lines = big.read_text(encoding="utf-8").split("\n")
    cells = lines[2000].split(",")
    cells[9] = "pas une date"  # publishedAt on physical line 2001 (after the 3-line comment)
    lines[2000] = ",".join(cells)
    big.write_text("\n".join(lines), encoding="utf-8")
    whole, rw = _run(big, False, monkeypatch)
    parts, rc = _run(big, True, monkeypatch)
    assert rw.status == rc.status == "error"
    assert "ligne 2001," in rw.error and "ligne 2001," in rc.error
    assert str(big) in rc.error and "chunk_" not in rc.error
    assert store.table_counts(parts) == store.table_counts(_store())  # nothing written
    _, rk = _run(big, True, monkeypatch, keep_going=True)
    assert rk.status == "ok" and rk.rejected == 1 and rk.rows_read == 2500
