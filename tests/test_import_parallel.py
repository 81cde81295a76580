"""The fast import (issue 19): files parsed on a pool of processes, written in their order by one
writer, many files per transaction, new rows inserted at once. It must leave the store exactly as
the one-by-one import does, bad files included (a clear French error, nothing else lost)."""

from __future__ import annotations

from datetime import datetime
from zoneinfo import ZoneInfo

import duckdb
import pandas as pd
import pytest

import analysis.ingest as ingest
from analysis import store
from analysis.ingest import default_context, import_paths
from analysis.ingest.generic import parse_dates
from tests.conftest import FIXTURES
from tests.pipeline_digest import digest

FILES = sorted([*(FIXTURES / "comments").glob("*.csv"), *(FIXTURES / "twitter").glob("*.jsonl"),
                *(FIXTURES / "twitter").glob("tweet_activity_*.csv")])


def _import(path, files, monkeypatch, *, workers: int, batch_rows: int) -> tuple[dict, list]:
    monkeypatch.setenv("VIGIE_IMPORT_WORKERS", str(workers))
    monkeypatch.setattr(ingest, "POOL_MIN_BYTES", 0)  # a pool even for small fixtures
    monkeypatch.setattr(ingest, "BATCH_ROWS", batch_rows)
    with store.writer(path) as con:
        results = import_paths(con, files, default_context(account_hint="facebook:104857600000001"))
        got = digest(con)
    return got, [(r.path, r.status, r.error, r.rows_read, r.inserted, r.updated, r.rejected, r.format)
                 for r in results]


def test_pool_and_batches_write_what_one_by_one_writes(tmp_path, monkeypatch):
    files = FILES + [FIXTURES / "comments" / "minet_fb_comments.csv"]  # a copy: « déjà importé »
    one_by_one = _import(tmp_path / "a.duckdb", files, monkeypatch, workers=1, batch_rows=1)
    fast = _import(tmp_path / "b.duckdb", files, monkeypatch, workers=2, batch_rows=10**9)
    assert fast == one_by_one
    statuses = {r[1] for r in fast[1]}
    assert "error" in statuses and "ok" in statuses  # the corrupt fixtures fail, the others import
    assert fast[0]["messages"]["rows"] > 0


def test_a_file_failing_inside_a_batch_loses_nothing(tmp_path, monkeypatch):
    """A file whose rows are rejected when written (the batch's transaction then rolls back) is
    reported with its French error, line and column; every other file of the batch is imported."""
    src = (FIXTURES / "comments" / "minet_fb_comments.csv").read_text(encoding="utf-8")
    bad = tmp_path / "minet_1990.csv"  # parses, then fails validation: a date before 2004
    bad.write_text(src.replace("c1,", "b1,").replace("c2,", "b2,").replace("1767265200", "631152000"),
                   encoding="utf-8")
    good = [FIXTURES / "comments" / "minet_fb_comments.csv", FIXTURES / "comments" / "youtube_api_comments.csv"]
    ctx = default_context(account_hint="facebook:104857600000001")
    monkeypatch.setenv("VIGIE_IMPORT_WORKERS", "2")
    monkeypatch.setattr(ingest, "POOL_MIN_BYTES", 0)
    with store.writer(tmp_path / "s.duckdb") as con:
        results = ingest.import_jobs(con, [(good[0], ctx, None), (bad, ctx, None), (good[1], ctx, None)])
        n = con.execute("SELECT count(*) FROM messages").fetchone()[0]
        files = {r[0] for r in con.execute("SELECT path FROM imports").fetchall()}
    assert [r.status for r in results] == ["ok", "error", "ok"]
    err = results[1].error
    assert "date hors de la plage plausible" in err and "ligne 3" in err and "Rien n'a été importé" in err
    assert n == results[0].tables["messages"][0] + results[2].tables["messages"][0] > 0
    assert files == {str(good[0]), str(good[1])}


def test_an_interruption_between_files_commits_nothing_of_the_open_batch(tmp_path, monkeypatch):
    """Files are written as they arrive in one open transaction: an interruption before its commit
    (Ctrl-C while the next file is parsed) rolls it back, and the store takes writes again."""
    files = [FIXTURES / "comments" / "minet_fb_comments.csv", FIXTURES / "comments" / "youtube_api_comments.csv"]
    ctx = default_context(account_hint="facebook:104857600000001")
    monkeypatch.setenv("VIGIE_IMPORT_WORKERS", "1")
    real = ingest._parse_job

    def parse(path, *args):
        if path.name.startswith("youtube"):
            raise KeyboardInterrupt
        return real(path, *args)

    with store.writer(tmp_path / "s.duckdb") as con:
        n0 = con.execute("SELECT count(*) FROM messages").fetchone()[0]
        monkeypatch.setattr(ingest, "_parse_job", parse)
        with pytest.raises(KeyboardInterrupt):
            ingest.import_jobs(con, [(f, ctx, None) for f in files])
        assert con.execute("SELECT count(*) FROM messages").fetchone()[0] == n0
        assert con.execute("SELECT count(*) FROM imports").fetchone()[0] == 0
        monkeypatch.setattr(ingest, "_parse_job", real)
        results = ingest.import_jobs(con, [(f, ctx, None) for f in files])
        assert [r.status for r in results] == ["ok", "ok"]
        assert con.execute("SELECT count(*) FROM imports").fetchone()[0] == 2


def test_upsert_of_new_keys_inserts_at_once(tmp_path, monkeypatch):
    """New, distinct keys: one INSERT (no staging table, no UPDATE joining the whole table); a key
    already stored or repeated in the frame takes the staged path (NULL never erases, last row wins).
    A frame of distinct string keys goes straight to INSERT … ON CONFLICT DO NOTHING (no check first)."""
    seen, direct = [], []
    real, real_direct = store._all_new, store._distinct_string_key

    def spy(*args):
        seen.append(real(*args))
        return seen[-1]

    def spy_direct(*args):
        direct.append(real_direct(*args))
        return direct[-1]

    monkeypatch.setattr(store, "_all_new", spy)
    monkeypatch.setattr(store, "_distinct_string_key", spy_direct)
    with store.writer(tmp_path / "u.duckdb") as con:
        df = pd.DataFrame({"message_id": ["x:1", "x:2"], "platform": "x", "kind": "mention", "likes": [1, 2]})
        assert store.upsert(con, "messages", df) == (2, 0)
        again = pd.DataFrame({"message_id": ["x:2", "x:3", "x:3"], "platform": "x", "kind": "mention",
                              "likes": [None, 5, 6]})
        assert store.upsert(con, "messages", again) == (1, 0)
        twice = pd.DataFrame({"message_id": ["x:4", "x:4"], "platform": "x", "kind": "mention", "likes": [7, 8]})
        assert store.upsert(con, "messages", twice) == (1, 0)
        assert con.execute("SELECT message_id, likes FROM messages ORDER BY 1").fetchall() == [
            ("x:1", 1), ("x:2", 2), ("x:3", 6), ("x:4", 8)]
        # distinct string keys, one of them stored: inserted at once, the stored one updated only if changed
        mixed = pd.DataFrame({"message_id": ["x:1", "x:5"], "platform": "x", "kind": "mention", "likes": [None, 9]})
        assert store.upsert(con, "messages", mixed) == (1, 0)
        changed = pd.DataFrame({"message_id": ["x:1", "x:6"], "platform": "x", "kind": "mention", "likes": [3, None]})
        assert store.upsert(con, "messages", changed) == (1, 1)
        assert con.execute("SELECT message_id, likes FROM messages ORDER BY 1").fetchall() == [
            ("x:1", 3), ("x:2", 2), ("x:3", 6), ("x:4", 8), ("x:5", 9), ("x:6", None)]
    assert direct == [True, False, False, True, True]
    assert seen == [False, False]  # the repeated keys' frames took the checks, then the staged path


def test_dates_with_a_format_read_as_one_by_one():
    """The vectorised read of a mapping's ``date_format`` gives what ``strptime`` in the zone gives,
    the hour a clock change repeats or skips included (those take the one-by-one path)."""
    raw = pd.Series(["26/10/2025 02:30:00", "30/03/2025 02:30:00", "05/07/2025 14:00:00", " 01/01/2025 00:00:00 ",
                     "", "n/a", None, "32/01/2025 00:00:00"])
    got, rejects = parse_dates(raw, "Date", pd.Series(range(2, 10)), fmt="%d/%m/%Y %H:%M:%S", tz="Europe/Paris")

    def one(v):
        d = datetime.strptime(v.strip(), "%d/%m/%Y %H:%M:%S").replace(tzinfo=ZoneInfo("Europe/Paris"))
        return pd.Timestamp(d.astimezone(ZoneInfo("UTC")).replace(tzinfo=None))

    assert list(got[:4]) == [one(v) for v in raw[:4]]
    assert got[4:].isna().all()
    assert [(r.line, r.value) for r in rejects] == [(9, "32/01/2025 00:00:00")]


@pytest.mark.parametrize("workers", [1, 2])
def test_one_process_or_a_pool(tmp_path, monkeypatch, workers):
    """VIGIE_IMPORT_WORKERS=1 reads every file in the writer's process (no pool)."""
    monkeypatch.setenv("VIGIE_IMPORT_WORKERS", str(workers))
    monkeypatch.setattr(ingest, "POOL_MIN_BYTES", 0)
    jobs = [(f, default_context(), None) for f in FILES[:3]]
    out = list(ingest.parallel_parse(jobs))
    assert len(out) == 3
    assert all(o is None for o in out) if workers == 1 else all(isinstance(o, tuple) for o in out)


def test_the_floor_counts_the_records_duckdb_reads(tmp_path):
    from benchmarks.run import stage_floor

    out: dict = {}
    files = [{"path": FIXTURES / "comments" / "youtube_api_comments.csv"},
             {"path": FIXTURES / "twitter" / "api_pages.jsonl"}, {"path": FIXTURES / "twitter" / "ads_tweets.xlsx"}]
    stage_floor(files, out)
    csv_rows = duckdb.connect().execute(f"SELECT count(*) FROM read_csv_auto('{files[0]['path']}')").fetchone()[0]
    tweets = duckdb.connect().execute(f"SELECT sum(len(data)) FROM read_json_auto('{files[1]['path']}')").fetchone()[0]
    assert out["floor"]["rows"] == csv_rows + tweets and tweets > 1
    assert out["floor"]["files"] == 2 and out["floor"]["left_out"] == {".xlsx": 1}


def test_a_process_running_threads_parses_in_its_own_process(monkeypatch):
    """The app's server runs threads: no fork there (a lock held by another thread would stay taken
    in the child), unless VIGIE_IMPORT_WORKERS says otherwise."""
    import threading

    monkeypatch.delenv("VIGIE_IMPORT_WORKERS", raising=False)
    stop = threading.Event()
    t = threading.Thread(target=stop.wait)
    t.start()
    try:
        assert ingest._import_workers() == 1
        monkeypatch.setenv("VIGIE_IMPORT_WORKERS", "2")
        assert ingest._import_workers() == 2
    finally:
        stop.set()
        t.join()


def test_a_parse_error_keeps_the_format_found_whoever_parses(tmp_path):
    """A file whose format is recognised but whose content is refused: its result names the format,
    whether the writer parsed it or a worker did (the error comes back pickled)."""
    import json
    import pickle

    p = tmp_path / "search.json"
    p.write_text(json.dumps({"kind": "youtube#searchListResponse", "items": []}), encoding="utf-8")
    err = ingest._parse_job(p, default_context(), None, set())
    assert isinstance(err, Exception) and err.vigie_found[0] == "youtube_api"
    back = pickle.loads(pickle.dumps(err))  # as a worker of the pool hands it to the writer
    con = duckdb.connect(str(tmp_path / "s.duckdb"))
    store.migrate(con)
    res = ingest.import_file(con, p, default_context(), preparsed=back)
    assert (res.format, res.status) == ("youtube_api", "error") and "search.list" in res.error
