"""Robust input: importers fuzzed with random bytes and mutated copies of every fixture, crafted
archives (path traversal, bombs, lying sizes), author names kept only when opted in.

Every case must end as a ``FileResult`` (never an exception), an error must carry a message and
leave the store exactly as it was (no partial write). ``VIGIE_FUZZ_EXAMPLES`` raises the number
of cases for a long run (default keeps this file to seconds).
"""

from __future__ import annotations

import io
import os
import struct
import zipfile
from pathlib import Path

import duckdb
import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from analysis import schema, store
from analysis.fmt import fr_int
from analysis.ingest import default_context, import_file

# module fixtures are expensive: keep this file on one xdist worker so they are built once
pytestmark = pytest.mark.xdist_group("security_fuzz")

FIXTURES = Path(__file__).resolve().parent / "fixtures"
FILES = sorted(p for p in FIXTURES.rglob("*") if p.is_file() and p.suffix != ".py" and "__pycache__" not in p.parts)
N = int(os.environ.get("VIGIE_FUZZ_EXAMPLES", "40"))
STATS = {"cases": 0, "errors": 0, "ok": 0, "skipped": 0}
FUZZ = settings(max_examples=N, deadline=None, derandomize=True, database=None,
                suppress_health_check=[HealthCheck.too_slow, HealthCheck.function_scoped_fixture,
                                       HealthCheck.data_too_large])


@pytest.fixture(scope="module")
def con() -> duckdb.DuckDBPyConnection:
    c = duckdb.connect()
    store.migrate(c)
    yield c
    c.close()


@pytest.fixture(scope="module")
def ctx():
    return default_context()


def state(con: duckdb.DuckDBPyConnection) -> tuple:
    """Row counts and content hash of every table, lineage included."""
    names = [t.name for t in schema.TABLES]
    return tuple(store.table_counts(con).items()), store.snapshot_hash(con, names)


def check_case(con, ctx, path: Path, **kw) -> object:
    """Import ``path``; assert it ended cleanly and that an error wrote nothing."""
    before = state(con)
    res = import_file(con, path, ctx, **kw)  # an exception here fails the test: never allowed
    STATS["cases"] += 1
    STATS[{"error": "errors", "ok": "ok", "skipped": "skipped"}[res.status]] += 1
    if res.status == "error":
        assert res.error and len(res.error) > 10, res
        assert state(con) == before, f"partial write on error: {path} {res.error}"
    return res


# ------------------------------------------------------------------------------ mutations

@st.composite
def mutated(draw) -> tuple[str, bytes]:
    src = draw(st.sampled_from(FILES))
    data = bytearray(src.read_bytes())
    for _ in range(draw(st.integers(1, 4))):
        op = draw(st.sampled_from(["flip", "cut", "insert", "truncate", "dup", "delim", "nul", "lines"]))
        n = len(data)
        if n == 0:
            data += draw(st.binary(min_size=1, max_size=64))
            continue
        i = draw(st.integers(0, n - 1))
        j = draw(st.integers(i, min(n, i + 4096)))
        if op == "flip":
            for k in draw(st.lists(st.integers(0, n - 1), min_size=1, max_size=16)):
                data[k] = draw(st.integers(0, 255))
        elif op == "cut":
            del data[i:j]
        elif op == "insert":
            data[i:i] = draw(st.binary(min_size=1, max_size=256))
        elif op == "truncate":
            del data[i:]
        elif op == "dup":
            data[i:i] = data[i:j]
        elif op == "delim":
            a, b = draw(st.sampled_from([(b",", b";"), (b";", b","), (b"\t", b","), (b'"', b""), (b"\n", b"\r")]))
            data = bytearray(bytes(data).replace(a, b))
        elif op == "nul":
            data[i:i] = b"\x00" * draw(st.integers(1, 64))
        elif op == "lines":
            lines = bytes(data).split(b"\n")
            draw(st.randoms(use_true_random=False)).shuffle(lines)
            data = bytearray(b"\n".join(lines))
    return src.suffix or ".bin", bytes(data)


@FUZZ
@given(case=mutated())
def test_mutated_fixtures_fail_cleanly(con, ctx, tmp_path_factory, case):
    suffix, data = case
    p = tmp_path_factory.mktemp("fz") / f"mutant{suffix}"
    p.write_bytes(data)
    check_case(con, ctx, p)
    check_case(con, ctx, p, keep_going=True)


@FUZZ
@given(data=st.binary(max_size=4096), suffix=st.sampled_from([".csv", ".xlsx", ".xls", ".json", ".jsonl", ".js",
                                                                 ".zip", ".txt", ""]),
       prefix=st.sampled_from([b"", b"PK\x03\x04", b"\xd0\xcf\x11\xe0", b"\xef\xbb\xbf", b"\xff\xfe", b"{", b"[",
                               b"window.YTD.tweets.part0 = ", b"sep=;\n"]))
def test_random_bytes_fail_cleanly(con, ctx, tmp_path_factory, data, suffix, prefix):
    p = tmp_path_factory.mktemp("rb") / f"random{suffix}"
    p.write_bytes(prefix + data)
    # check_case fails on an exception, an error without a French message, or a partial write (the
    # assertion that stood here, « status in (error, skipped) or rows_read >= 0 », could not fail)
    check_case(con, ctx, p)


@pytest.mark.parametrize("src", FILES, ids=lambda p: str(p.relative_to(FIXTURES)))
def test_every_fixture_truncated_in_half(con, ctx, tmp_path, src):
    data = src.read_bytes()
    p = tmp_path / f"half{src.suffix}"
    p.write_bytes(data[: len(data) // 2])
    check_case(con, ctx, p)


@pytest.fixture(scope="module", autouse=True)
def fuzz_summary(request):
    """Prints the figures of the run at the end of the module (``pytest -s``), whatever order the
    tests ran in (xdist does not keep file order), and checks every case ended in a known way."""
    yield
    print(f"\nfuzz: {STATS['cases']} cas, {STATS['errors']} erreurs propres, {STATS['ok']} importés, "
          f"{STATS['skipped']} ignorés, 0 exception, 0 écriture partielle")
    assert STATS["cases"] == STATS["errors"] + STATS["ok"] + STATS["skipped"]


# ------------------------------------------------------------------------------ archives

def _zip(path: Path, members: dict[str, bytes], compression=zipfile.ZIP_DEFLATED) -> Path:
    with zipfile.ZipFile(path, "w", compression) as z:
        for name, data in members.items():
            z.writestr(name, data)
    return path


TWEETS = b'window.YTD.tweets.part0 = [ { "tweet" : { "id_str" : "1", "full_text" : "Bonjour", ' \
         b'"created_at" : "Mon Mar 02 10:00:00 +0000 2026" } } ]'


@pytest.mark.parametrize("evil", ["../../evil.txt", "/tmp/evil.txt", "data/../../evil.txt", "..\\..\\evil.txt"])
def test_archive_path_traversal_refused(con, ctx, tmp_path, evil):
    p = _zip(tmp_path / "archive.zip", {"data/tweets.js": TWEETS, evil: b"pwned"})
    res = check_case(con, ctx, p)
    assert res.status == "error" and "chemin dangereux" in res.error
    assert not (tmp_path.parent / "evil.txt").exists() and not Path("/tmp/evil.txt").exists()


def test_zip_bomb_refused(con, ctx, tmp_path):
    # 64 MiB of zeros compress to ~64 KiB: ratio ~1000
    p = _zip(tmp_path / "archive.zip", {"data/tweets.js": TWEETS, "data/like.js": b"\0" * (64 * 1024**2)})
    assert p.stat().st_size < 1024**2
    res = check_case(con, ctx, p)
    assert res.status == "error" and "bombe de décompression" in res.error


def test_xlsx_bomb_refused(con, ctx, tmp_path):
    src = FIXTURES / "comments" / "exportcomments_facebook.xlsx"
    buf = tmp_path / "book.xlsx"
    with zipfile.ZipFile(src) as zin, zipfile.ZipFile(buf, "w", zipfile.ZIP_DEFLATED) as zout:
        for info in zin.infolist():
            zout.writestr(info, zin.read(info))
        zout.writestr("xl/media/padding.bin", b"\0" * (64 * 1024**2))
    res = check_case(con, ctx, buf)
    assert res.status == "error" and "bombe de décompression" in res.error


def test_too_many_members_refused(con, ctx, tmp_path):
    members = {"data/tweets.js": TWEETS} | {f"data/x{i}.txt": b"" for i in range(20001)}
    p = _zip(tmp_path / "archive.zip", members, zipfile.ZIP_STORED)
    res = check_case(con, ctx, p)
    assert res.status == "error" and f"{fr_int(20002)} fichiers (maximum {fr_int(20000)})" in res.error


def test_member_lying_about_its_size(con, ctx, tmp_path):
    """The central directory says 200 bytes; the member inflates to 8 MiB: read stops at the
    declared size and the CRC check fails, a clean error (memory bounded by the declared size)."""
    real = b"window.YTD.tweets.part0 = [" + b" " * (8 * 1024**2) + b"]"
    p = _zip(tmp_path / "archive.zip", {"data/tweets.js": real})
    raw = bytearray(p.read_bytes())
    for sig, off in ((b"PK\x01\x02", 24), (b"PK\x03\x04", 22)):  # uncompressed size fields
        k = raw.find(sig)
        while k != -1:
            struct.pack_into("<I", raw, k + off, 200)
            k = raw.find(sig, k + 4)
    p.write_bytes(bytes(raw))
    res = check_case(con, ctx, p)
    assert res.status == "error"


# ------------------------------------------------------------------------------ names opt-in

def test_author_names_stored_only_with_opt_in(tmp_path):
    """Every fixture imported without --keep-author-names: no name in messages, no commenter
    account by name; with the opt-in, names are there."""
    def run(keep: bool) -> duckdb.DuckDBPyConnection:
        c = duckdb.connect()
        store.migrate(c)
        cx = default_context(keep_author_names=keep)
        for f in FILES:
            if f.relative_to(FIXTURES).parts[0] in ("comments", "twitter", "meta"):  # the files with commenters
                import_file(c, f, cx, keep_going=True)
        return c

    off, on = run(False), run(True)
    assert off.execute("SELECT count(*) FROM messages").fetchone()[0] > 10
    assert off.execute("SELECT count(*) FROM messages WHERE author_name IS NOT NULL AND NOT coalesce(is_official, false)"
                       ).fetchone()[0] == 0
    assert on.execute("SELECT count(*) FROM messages WHERE author_name IS NOT NULL").fetchone()[0] > 0
    # commenters' accounts are not kept by name (only publishers and look-alikes of official accounts)
    n_off = off.execute("SELECT count(*) FROM accounts WHERE NOT coalesce(official, false)").fetchone()[0]
    n_on = on.execute("SELECT count(*) FROM accounts WHERE NOT coalesce(official, false)").fetchone()[0]
    assert n_off < n_on


def test_xlsx_in_memory_members_never_extracted(tmp_path):
    """Archives are read member by member in memory: importing leaves no file behind."""
    before = set(os.listdir(tmp_path))
    buf = io.BytesIO()
    with zipfile.ZipFile(buf, "w") as z:
        z.writestr("data/tweets.js", TWEETS)
    (tmp_path / "a.zip").write_bytes(buf.getvalue())
    c = duckdb.connect()
    store.migrate(c)
    res = import_file(c, tmp_path / "a.zip", default_context())
    assert res.status in ("ok", "error")
    assert set(os.listdir(tmp_path)) == before | {"a.zip"}
