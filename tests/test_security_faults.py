"""Faults and concurrency: `vigie import` killed with SIGKILL mid-way leaves a consistent store and
a re-run loses no row; readers keep reading (the published copy) while an import writes."""

from __future__ import annotations

import os
import signal
import subprocess
import sys
import time
from pathlib import Path

import pytest

from analysis import store
from benchmarks import gen_big_csv

# module fixtures are expensive: keep this file on one xdist worker so they are built once
pytestmark = pytest.mark.xdist_group("security_faults")

VIGIE = [sys.executable, "-m", "analysis"]
ACCOUNT = "youtube:UCsaintaubin00000000001"
FILES, ROWS = 8, 4000  # enough files that the kill lands before the last one on a fast machine


@pytest.fixture(scope="session")
def exports(tmp_path_factory) -> Path:
    d = tmp_path_factory.mktemp("exports")
    for k in range(FILES):
        gen_big_csv.write(d / f"commentaires_{k}.csv", ROWS, seed=k, start=k * ROWS)
    return d


def _import(db: Path, src: Path) -> subprocess.Popen:
    # one transaction per file (not several files per commit, as by default): the kill then lands
    # between two committed files, the case this test is about
    return subprocess.Popen([*VIGIE, "--db", str(db), "import", str(src), "--account", ACCOUNT, "--json"],
                            stdout=subprocess.PIPE, stderr=subprocess.PIPE,
                            env={**os.environ, "VIGIE_IMPORT_BATCH_ROWS": "1"})


def _consistent(db: Path) -> dict:
    """Open the store like the next `vigie` run (WAL replayed) and check every import is whole."""
    con = store.connect(db)
    try:
        imports = con.execute("SELECT import_id, inserted FROM imports WHERE status = 'ok'").fetchall()
        for import_id, inserted in imports:
            n = con.execute("SELECT (SELECT count(*) FROM messages WHERE import_id = $1) + "
                            "(SELECT count(*) FROM posts WHERE import_id = $1)", [import_id]).fetchone()[0]
            assert n == inserted, f"import {import_id} half written: {n} rows for {inserted} declared"
        orphans = con.execute("SELECT count(*) FROM messages WHERE import_id NOT IN (SELECT import_id FROM imports)"
                              ).fetchone()[0]
        assert orphans == 0
        return {"imports": len(imports), "messages": con.execute("SELECT count(*) FROM messages").fetchone()[0]}
    finally:
        con.close()


def test_kill_9_mid_import_then_rerun_loses_nothing(exports, tmp_path):
    db = tmp_path / "vigie.duckdb"
    proc = _import(db, exports)
    # Kill once the first file is in (the WAL exists and grows) but before the last one.
    deadline = time.monotonic() + 120
    wal = db.with_name(db.name + ".wal")
    while time.monotonic() < deadline and not (wal.exists() and wal.stat().st_size > 2_000_000):
        assert proc.poll() is None, proc.stderr.read().decode()
        time.sleep(0.05)
    time.sleep(0.2)  # land inside a later file's transaction, not between two
    assert proc.poll() is None, "the import finished before it could be killed: make the files bigger"
    os.kill(proc.pid, signal.SIGKILL)
    proc.wait()
    assert proc.returncode == -signal.SIGKILL
    after_kill = _consistent(db)
    assert after_kill["messages"] < FILES * ROWS  # it was really interrupted
    print(f"\nkill -9 : {after_kill['imports']} fichier(s) complet(s), {after_kill['messages']} messages avant reprise")
    rerun = _import(db, exports)
    out, err = rerun.communicate(timeout=300)
    assert rerun.returncode == 0, err.decode()
    final = _consistent(db)
    assert final["messages"] == FILES * ROWS  # 0 row lost, 0 duplicated
    assert final["imports"] == FILES
    with store.reader(db) as con:  # and the published copy readers use has everything
        assert con.execute("SELECT count(*) FROM messages").fetchone()[0] == FILES * ROWS


def test_readers_keep_reading_during_a_long_import(exports, tmp_path):
    db = tmp_path / "vigie.duckdb"
    first = exports / "commentaires_0.csv"
    subprocess.run([*VIGIE, "--db", str(db), "import", str(first), "--account", ACCOUNT, "--json"],
                   check=True, capture_output=True)
    with store.reader(db) as con:
        assert con.execute("SELECT count(*) FROM messages").fetchone()[0] == ROWS
    proc = _import(db, exports)
    reads, seen = 0, set()
    while proc.poll() is None:
        t0 = time.perf_counter()
        with store.reader(db) as con:  # never blocked by the writer's lock
            seen.add(con.execute("SELECT count(*) FROM messages").fetchone()[0])
        assert time.perf_counter() - t0 < 2.0
        reads += 1
        time.sleep(0.02)
    assert proc.returncode == 0, proc.stderr.read().decode()
    assert reads >= 10
    assert seen <= {ROWS, FILES * ROWS}  # the old state or the new one, never a half-written one
    assert ROWS in seen
    with store.reader(db) as con:
        assert con.execute("SELECT count(*) FROM messages").fetchone()[0] == FILES * ROWS
