"""Publishing the read copy (issue 19 item 2): the copy before last is patched with only the bytes that
changed when nobody reads it, else copied whole; readers never see a file being written; erasure keeps
no old copy."""

from __future__ import annotations

import hashlib
import subprocess
import sys
from pathlib import Path

import duckdb
import pytest

from analysis import store


def _sha(p: Path) -> str:
    return hashlib.sha256(p.read_bytes()).hexdigest()


def _write(db: Path, n: int, *, compact: bool = False) -> None:
    """One write session adding ``n`` rows to a table of its own (then checkpoint, close, publish)."""
    with store.writer(db, compact=compact) as con:
        con.execute("CREATE TABLE IF NOT EXISTS t (i INTEGER, s VARCHAR)")
        start = con.execute("SELECT count(*) FROM t").fetchone()[0]
        con.execute("INSERT INTO t SELECT i, md5(i::VARCHAR) || md5((i + 7)::VARCHAR) FROM range(?, ?) r(i)", [start, start + n])


@pytest.fixture()
def published_twice(tmp_path) -> Path:
    db = tmp_path / "vigie.duckdb"
    _write(db, 200_000)
    _write(db, 1_000)
    assert store.prev_path(db).exists()
    return db


def _count(p: Path) -> int:
    con = duckdb.connect(str(p), read_only=True)
    try:
        return con.execute("SELECT count(*) FROM t").fetchone()[0]
    finally:
        con.close()


def test_the_copy_before_last_is_patched_into_the_new_one(published_twice, monkeypatch):
    db = published_twice
    rp, prev = store.read_path(db), store.prev_path(db)
    old_read, old_prev = rp.stat().st_ino, prev.stat().st_ino
    written: list[int] = []
    real = store._patch
    monkeypatch.setattr(store, "_patch", lambda src, fd: written.append(real(src, fd)) or written[-1])
    _write(db, 1_000)
    assert written, "the copy before last was not patched"
    assert rp.stat().st_ino == old_prev and prev.stat().st_ino == old_read  # the two copies swapped
    assert _sha(rp) == _sha(db) and store.published(db)
    assert 0 < written[0] < db.stat().st_size / 5  # only what changed was written
    assert _count(rp) == 202_000 and _count(prev) == 201_000
    assert not list(db.parent.glob("*.tmp"))


def test_a_copy_someone_reads_is_never_patched(published_twice, monkeypatch):
    db = published_twice
    rp, prev = store.read_path(db), store.prev_path(db)
    monkeypatch.setattr(store, "_patch", lambda src, fd: pytest.fail("patched a file being read"))
    # a reader in this process (a notebook, the app's pool) still on the copy before last
    con = duckdb.connect(str(prev), read_only=True)
    try:
        reading = prev.stat().st_ino
        _write(db, 1_000)
        assert rp.stat().st_ino != reading and _sha(rp) == _sha(db)
        assert con.execute("SELECT count(*) FROM t").fetchone()[0] == 200_000  # its old state, intact
    finally:
        con.close()
    # a reader in another process
    child = subprocess.Popen([sys.executable, "-c", "import duckdb, sys, time; c = duckdb.connect(sys.argv[1], "
                              "read_only=True); print(c.execute('SELECT count(*) FROM t').fetchone()[0], flush=True); "
                              "time.sleep(30)", str(prev)], stdout=subprocess.PIPE, text=True)
    try:
        assert int(child.stdout.readline()) == 201_000
        _write(db, 1_000)
        assert _sha(rp) == _sha(db) and _count(rp) == 203_000
    finally:
        child.kill()
        child.wait()
    # a second name (an app's hard link, made just before it opens the file)
    link = prev.with_name(prev.name + ".1.abcd.lnk")
    import os

    os.link(prev, link)
    _write(db, 1_000)
    assert _count(link) == 202_000 and _count(rp) == 204_000


def test_erasure_keeps_no_old_copy(published_twice):
    db = published_twice
    _write(db, 10, compact=True)
    assert not store.prev_path(db).exists()
    assert _sha(store.read_path(db)) == _sha(db)
    _write(db, 10)  # the next publish copies whole and keeps the copy made after the erasure
    assert _count(store.prev_path(db)) == 201_010 and _count(store.read_path(db)) == 201_020
