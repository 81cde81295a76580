"""Issue 20, part A — the attacks on the store and the CLI, each replayed: an orphan copy of the store
after a kill -9 during publish (6), two writers at once (11b), commenters' identities kept after a
purge (7), an erased author's name left in alerts and brought back by a re-import (8), an empty or
short pseudonymisation key (9), a zip bomb split into many members (11a)."""

from __future__ import annotations

import json
import os
import signal
import stat
import subprocess
import sys
import time
import zipfile
from pathlib import Path

import duckdb
import pandas as pd
import pytest
from typer.testing import CliRunner

from analysis import derived_refresh, privacy, store
from analysis.cli import app as vigie
from analysis.privacy import pseudonymise

ROOT = Path(__file__).resolve().parents[1]
FIXTURES = ROOT / "tests" / "fixtures"
PY = [sys.executable, "-c"]

# one X API v2 page: an official tweet of Saint-Aubin, a reply by a plain commenter whose name the
# registry's old coarse gate took for a look-alike ("Aubin Dupont"), a reply by a real look-alike
# commenter (name and handle copying the town hall), a mention by another plain commenter.
OFFICIAL_X = "900000000000000001"  # @SaintAubinLoire in data/territories.toml
LOOKALIKE_ID, PLAIN_ID, OTHER_ID = "555000009", "555000011", "555000012"
LOOKALIKE_NAME, LOOKALIKE_HANDLE = "Mairie de Saint-Aubin-sur-Loire officiel", "mairie_saintaubin_off"


def _x_page(path: Path) -> Path:
    def tweet(i: int, author: str, text: str, reply_to: str | None = None) -> dict:
        t = {"id": f"19000000000000001{i:02d}", "author_id": author, "text": text, "lang": "fr",
             "created_at": f"2026-03-0{1 + i % 5}T10:00:00.000Z",
             "public_metrics": {"retweet_count": 0, "reply_count": 0, "like_count": i, "quote_count": 0}}
        if reply_to:
            t["referenced_tweets"] = [{"type": "replied_to", "id": reply_to}]
            t["in_reply_to_user_id"] = OFFICIAL_X
        return t

    official = tweet(0, OFFICIAL_X, "Travaux rue de la Gare du 2 au 6 mars.")
    page = {"data": [official,
                     tweet(1, PLAIN_ID, "@SaintAubinLoire et les bus ?", official["id"]),
                     tweet(2, LOOKALIKE_ID, "@SaintAubinLoire Aide exceptionnelle : écrivez-nous en privé", official["id"]),
                     tweet(3, LOOKALIKE_ID, "@SaintAubinLoire Info importante pour les habitants", official["id"]),
                     tweet(4, OTHER_ID, "Beau marché ce matin à Saint-Aubin @SaintAubinLoire")],
            "includes": {"users": [
                {"id": OFFICIAL_X, "username": "SaintAubinLoire", "name": "Saint-Aubin-sur-Loire"},
                {"id": PLAIN_ID, "username": "aubin_d", "name": "Aubin Dupont"},
                {"id": LOOKALIKE_ID, "username": LOOKALIKE_HANDLE, "name": LOOKALIKE_NAME},
                {"id": OTHER_ID, "username": "jo_riverain", "name": "Jo Riverain"}]}}
    path.write_text(json.dumps(page, ensure_ascii=False) + "\n", encoding="utf-8")
    return path


def _vigie(db: Path, *args: str, input: str | None = None):
    res = CliRunner().invoke(vigie, ["--db", str(db), *args], input=input)
    return res


def _files_holding(folder: Path, needle: bytes) -> list[str]:
    return sorted(p.name for p in folder.iterdir() if p.is_file() and needle in p.read_bytes())


# ------------------------------------------------------------------------------ 6. orphan copies
def _writer_script(db: Path, body: str) -> str:
    return (f"import os, signal, shutil, time\nimport pandas as pd\nfrom analysis import derived_refresh, store\n"
            f"DB = {str(db)!r}\n{body}\n")


def test_kill_9_during_publish_leaves_no_orphan_copy_after_the_next_writer(tmp_path):
    """A kill -9 between the copy and its rename left ``<db>.read.<id>.tmp`` (a full store) that no
    command removed and that `privacy erase` missed: the next writer deletes it, erase says so."""
    db = tmp_path / "vigie.duckdb"
    secret = b"Texte secret de Jeanne Martin"
    script = _writer_script(db, f"""
with derived_refresh.writer(DB) as con:
    store.upsert(con, "messages", pd.DataFrame([{{"message_id": "facebook:1", "platform": "facebook",
        "kind": "comment", "text": {secret.decode()!r}, "author_hash": "a_0000000000000001"}}]))
os.replace = lambda *a, **k: os.kill(os.getpid(), signal.SIGKILL)  # killed between copy and rename
with derived_refresh.writer(DB) as con:
    con.execute("CREATE TABLE t AS SELECT 1 AS x")  # a write: a session that writes nothing is not published
""")
    proc = subprocess.run([*PY, script], cwd=ROOT, capture_output=True, timeout=120)
    assert proc.returncode == -signal.SIGKILL, proc.stderr.decode()
    # the new copy, and the name kept for the copy it replaces (the next publish patches that one)
    orphans = list(tmp_path.glob("vigie.duckdb.read.*.tmp"))
    assert len(orphans) == 2 and all(secret in o.read_bytes() for o in orphans)  # what the attacker found

    res = _vigie(db, "privacy", "erase", "--author", "a_0000000000000001", "--yes")
    assert res.exit_code == 0, res.output
    assert not list(tmp_path.glob("*.tmp"))
    assert _files_holding(tmp_path, secret) == []  # not in the store, its read copy or any leftover
    assert "2 copies temporaires" in res.output


def test_stale_app_links_removed_but_not_a_fresh_one(tmp_path, monkeypatch):
    """The app opens the read copy through a hard link it unlinks at once; one left by a killed app
    is a full copy too. A link younger than a minute may be in use: kept."""
    db = tmp_path / "vigie.duckdb"
    with derived_refresh.writer(db) as con:
        con.execute("CREATE TABLE t AS SELECT 1 AS x")
    link = tmp_path / "vigie.duckdb.read.4242.deadbeef.lnk"
    os.link(store.read_path(db), link)
    other = tmp_path / "autre.duckdb.read.1.tmp"  # another store's file: never touched
    other.write_bytes(b"x")
    assert store.stale_copies(db) == []  # fresh link: kept
    monkeypatch.setattr(store, "LINK_GRACE_SECONDS", -1.0)
    assert store.stale_copies(db) == [link]
    with derived_refresh.writer(db):
        pass
    assert not link.exists() and other.exists() and store.read_path(db).exists()


def test_erase_and_purge_name_the_parquet_exports_they_cannot_cover(tmp_path):
    db = tmp_path / "vigie.duckdb"
    res = _vigie(db, "import", str(_x_page(tmp_path / "page.jsonl")))
    assert res.exit_code == 0, res.output
    out = tmp_path / "cluster"
    res = _vigie(db, "parquet", "export", str(out))
    assert res.exit_code == 0, res.output
    res = _vigie(db, "privacy", "erase", "--author", pseudonymise("x", PLAIN_ID), "--yes")
    assert res.exit_code == 0, res.output
    flat = " ".join(res.output.split())
    assert str(out) in flat and "Parquet" in flat and "réexportez" in flat.lower()
    res = _vigie(db, "purge", "--older-than", "1d", "--yes")
    assert res.exit_code == 0 and str(out) in " ".join(res.output.split())
    # re-exporting replaces the folder's tables: no erased or purged message survives in it
    res = _vigie(db, "parquet", "export", str(out))
    assert res.exit_code == 0, res.output
    assert not list(out.rglob("messages/**/*.parquet"))


# ------------------------------------------------------------------------------ 11b. two writers
def _hold_writer(db: Path, inside: str = "print('in', flush=True); time.sleep(60)") -> subprocess.Popen:
    script = _writer_script(db, f"with derived_refresh.writer(DB) as con:\n    con.execute('SELECT 1')\n    {inside}\n")
    proc = subprocess.Popen([*PY, script], cwd=ROOT, stdout=subprocess.PIPE, stderr=subprocess.PIPE)
    assert proc.stdout.readline().strip() == b"in", proc.stderr.read().decode()
    return proc


def test_second_import_during_an_import_is_a_clear_busy_error_with_json(tmp_path):
    db = tmp_path / "vigie.duckdb"
    with derived_refresh.writer(db):
        pass
    holder = _hold_writer(db)
    try:
        src = str(FIXTURES / "twitter" / "api_pages.jsonl")
        r = subprocess.run([sys.executable, "-m", "analysis", "--db", str(db), "import", src, "--json"],
                           cwd=ROOT, capture_output=True, text=True, timeout=120)
        assert r.returncode != 0
        assert "Traceback" not in r.stderr and "Base occupée" in r.stderr
        out = json.loads(r.stdout)
        assert out["files"] == [] and out["error"].startswith("Base occupée")
        r = subprocess.run([sys.executable, "-m", "analysis", "--db", str(db), "purge", "--older-than", "1d",
                            "--yes"], cwd=ROOT, capture_output=True, text=True, timeout=120)
        assert r.returncode != 0 and "Traceback" not in r.stderr and "Base occupée" in r.stderr
    finally:
        holder.kill()
        holder.wait()


def test_no_writer_starts_while_a_copy_is_being_published(tmp_path):
    """DuckDB's lock is released at close, before the copy: a second writer could write into the
    file being copied (a torn read copy) or delete the copy in progress. The writer lock spans both."""
    db = tmp_path / "vigie.duckdb"
    script = _writer_script(db, """
real = shutil.copyfile
def slow(src, dst):
    print('in', flush=True)
    time.sleep(60)
    return real(src, dst)
shutil.copyfile = slow
with derived_refresh.writer(DB) as con:
    con.execute('SELECT 1')
""")
    proc = subprocess.Popen([*PY, script], cwd=ROOT, stdout=subprocess.PIPE, stderr=subprocess.PIPE)
    try:
        assert proc.stdout.readline().strip() == b"in", proc.stderr.read().decode()
        with pytest.raises(store.StoreBusy, match="Base occupée"), derived_refresh.writer(db) as con:
            con.execute("CREATE TABLE intruder (x INTEGER)")
        with pytest.raises(duckdb.IOException):  # callers catching DuckDB's lock error still catch it
            with derived_refresh.writer(db):
                pass
    finally:
        proc.kill()
        proc.wait()


# ------------------------------------------------------------------------------ 7. commenters
def test_x_commenters_not_stored_by_name_and_purged_with_their_last_message(tmp_path):
    db = tmp_path / "vigie.duckdb"
    res = _vigie(db, "import", str(_x_page(tmp_path / "page.jsonl")))
    assert res.exit_code == 0, res.output
    with store.reader(db) as con:
        kept = dict(con.execute("SELECT account_id, name FROM accounts WHERE NOT coalesce(official, false)")
                    .fetchall())
        assert con.execute("SELECT count(*) FROM messages").fetchone()[0] == 4
    # plain commenters (even one whose name shares a word with the town) are not kept by name
    assert kept == {f"x:{LOOKALIKE_ID}": LOOKALIKE_NAME}
    res = _vigie(db, "purge", "--older-than", "1d", "--yes")  # every message of March 2026 is older
    assert res.exit_code == 0, res.output
    with store.reader(db) as con:
        assert con.execute("SELECT count(*) FROM messages").fetchone()[0] == 0
        # the look-alike's row went with its last message, although first_seen is the import time
        assert con.execute("SELECT count(*) FROM accounts WHERE NOT coalesce(official, false)").fetchone()[0] == 0
        assert con.execute("SELECT count(*) FROM accounts WHERE official").fetchone()[0] > 0


def test_purge_keeps_an_account_whose_messages_are_recent(tmp_path):
    db = tmp_path / "vigie.duckdb"
    assert _vigie(db, "import", str(_x_page(tmp_path / "page.jsonl"))).exit_code == 0
    res = _vigie(db, "purge", "--older-than", "100y", "--yes")  # nothing is that old
    assert res.exit_code == 0, res.output
    with store.reader(db) as con:
        assert con.execute("SELECT count(*) FROM accounts WHERE account_id = ?", [f"x:{LOOKALIKE_ID}"]).fetchone()[0] == 1


# ------------------------------------------------------------------------------ 8. erase: alerts, tombstone
def test_erase_clears_alerts_and_a_reimport_does_not_bring_the_author_back(tmp_path):
    db = tmp_path / "vigie.duckdb"
    page = _x_page(tmp_path / "page.jsonl")
    assert _vigie(db, "import", str(page), "--keep-author-names").exit_code == 0
    res = _vigie(db, "alerts", "--since", "2026-02-01", "--format", "json")
    assert res.exit_code == 0, res.output
    with store.reader(db) as con:
        fired = con.execute("SELECT title, evidence FROM alerts WHERE rule = 'impersonation'").fetchall()
    assert fired and any(LOOKALIKE_HANDLE in e for _, e in fired)  # the state the attacker found

    who = pseudonymise("x", LOOKALIKE_ID)
    res = _vigie(db, "privacy", "erase", "--author", who, "--yes")
    assert res.exit_code == 0, res.output
    flat = " ".join(res.output.split())
    assert "réintrodui" in flat and "import" in flat  # the output says a later import will not bring it back
    with store.reader(db) as con:
        rows = con.execute("SELECT title, evidence FROM alerts").fetchall()
        text = json.dumps(rows, ensure_ascii=False, default=str)
        assert LOOKALIKE_NAME not in text and LOOKALIKE_HANDLE not in text and LOOKALIKE_ID not in text
        assert con.execute("SELECT count(*) FROM messages WHERE author_hash = ?", [who]).fetchone()[0] == 0

    # the same export imported again (--force), then a newer export: the author stays erased
    res = _vigie(db, "import", str(page), "--keep-author-names", "--force", "--json")
    assert res.exit_code == 0, res.output
    assert "effacé" in " ".join(res.output.split())
    with store.reader(db) as con:
        assert con.execute("SELECT count(*) FROM messages WHERE author_hash = ?", [who]).fetchone()[0] == 0
        assert con.execute("SELECT count(*) FROM accounts WHERE account_id = ?", [f"x:{LOOKALIKE_ID}"]).fetchone()[0] == 0
        assert con.execute("SELECT count(*) FROM messages").fetchone()[0] == 2  # the others are back
        names = [r[0] for r in con.execute("SELECT DISTINCT author_name FROM messages").fetchall()]
        assert LOOKALIKE_NAME not in names
        tomb = con.execute("SELECT * FROM erased_authors").df()
    assert list(tomb["author_hash"]) == [who] and LOOKALIKE_NAME not in tomb.to_csv()


def test_tombstone_checked_in_the_common_write_path(tmp_path):
    """Collection connectors write through ``ingest._write_tables`` too: the check lives there."""
    import pandas as pd

    from analysis.ingest import FileResult, _write_tables, default_context
    from analysis.ingest.base import Parsed

    con = duckdb.connect()
    store.migrate(con)
    who = pseudonymise("x", "777")
    con.execute("INSERT INTO erased_authors VALUES (?, now()::TIMESTAMP)", [who])
    parsed = Parsed(format="test")
    parsed.add("messages", pd.DataFrame([
        {"message_id": "x:1", "platform": "x", "kind": "mention", "text": "a", "author_hash": who},
        {"message_id": "x:2", "platform": "x", "kind": "mention", "text": "b", "author_hash": pseudonymise("x", "8")}]))
    parsed.add("accounts", pd.DataFrame([{"account_id": "x:777", "platform": "x", "native_id": "777",
                                          "handle": "mairie_off", "name": LOOKALIKE_NAME}]))
    res = FileResult(path="api")
    _write_tables(con, parsed, default_context(keep_author_names=True), "i1", pd.Timestamp.now(), set(), res)
    assert [r[0] for r in con.execute("SELECT message_id FROM messages").fetchall()] == ["x:2"]
    assert con.execute("SELECT count(*) FROM accounts").fetchone()[0] == 0


# ------------------------------------------------------------------------------ 9. key
@pytest.fixture()
def key_file(tmp_path, monkeypatch) -> Path:
    monkeypatch.delenv("VIGIE_PSEUDONYM_KEY", raising=False)
    p = tmp_path / "conf" / "pseudonym.key"
    monkeypatch.setenv("VIGIE_KEY_FILE", str(p))
    return p


@pytest.mark.parametrize(("content", "why"), [("", "vide"), ("\n  \n", "vide"), ("a", "trop courte"),
                                               ("abcdef123", "trop courte")])
def test_empty_or_short_key_file_refused(tmp_path, key_file, content, why):
    key_file.parent.mkdir()
    key_file.write_text(content)
    key_file.chmod(0o600)
    db = tmp_path / "vigie.duckdb"
    res = _vigie(db, "import", str(_x_page(tmp_path / "page.jsonl")))
    assert res.exit_code != 0
    flat = " ".join(res.output.split())
    assert "Clé de pseudonymisation refusée" in flat and why in flat and str(key_file) in flat
    assert "Traceback" not in res.output
    with pytest.raises(privacy.KeyRefused):
        pseudonymise("x", "1")
    if store.db_path(db).exists():
        with store.reader(db) as con:
            assert con.execute("SELECT count(*) FROM messages").fetchone()[0] == 0


@pytest.mark.parametrize("value", ["x", "0123456789"])
def test_short_key_in_environment_refused(monkeypatch, value):
    monkeypatch.setenv("VIGIE_PSEUDONYM_KEY", value)
    with pytest.raises(privacy.KeyRefused, match="VIGIE_PSEUDONYM_KEY"):
        privacy.get_key()


def test_key_readable_by_others_warns(tmp_path, key_file):
    key_file.parent.mkdir()
    key_file.write_text("f" * 64)
    key_file.chmod(0o644)
    res = _vigie(tmp_path / "vigie.duckdb", "import", str(_x_page(tmp_path / "page.jsonl")))
    assert res.exit_code == 0, res.output
    flat = " ".join(res.output.split())
    assert "lisible par d'autres comptes" in flat and f"chmod 600 {key_file}" in flat
    key_file.chmod(0o600)
    assert privacy.key_warnings() == []


def test_key_created_on_first_use_is_long_and_private(key_file):
    k = privacy.get_key()
    assert len(k) == 64 and stat.S_IMODE(key_file.stat().st_mode) == 0o600


# ------------------------------------------------------------------------------ 11a. split zip bomb
def _bomb(path: Path, members: int, size: int) -> Path:
    with zipfile.ZipFile(path, "w", zipfile.ZIP_DEFLATED, compresslevel=1) as z:
        z.writestr("data/tweets.js", b'window.YTD.tweets.part0 = [ { "tweet" : { "id_str" : "1", '
                                     b'"full_text" : "Bonjour", "created_at" : "Mon Mar 02 10:00:00 +0000 2026" } } ]')
        chunk = b"\0" * size
        for i in range(members):
            z.writestr(f"data/tweets-part{i + 1}.js", chunk)
    return path


@pytest.mark.parametrize(("members", "size"), [(201, 10 * 1024**2), (2000, 512 * 1024)])
def test_zip_bomb_split_across_members_refused(tmp_path, members, size):
    from analysis.ingest import default_context, import_file
    from analysis.ingest.safety import check_zip

    p = _bomb(tmp_path / "archive.zip", members, size)
    assert p.stat().st_size < 40 * 1024**2  # a few MB that would inflate to 2–3 GB
    from analysis.ingest.base import ImportFailure

    t0 = time.perf_counter()
    with pytest.raises(ImportFailure, match="bombe de décompression"):
        check_zip(p)
    c = duckdb.connect()
    store.migrate(c)
    res = import_file(c, p, default_context())
    assert res.status == "error" and "bombe de décompression" in res.error
    assert time.perf_counter() - t0 < 30  # refused from the central directory, nothing inflated


def test_ordinary_archives_still_pass(tmp_path):
    from analysis.ingest.safety import check_zip

    check_zip(FIXTURES / "twitter" / "archive.zip")
    for f in (FIXTURES / "linkedin").glob("*.xlsx"):
        check_zip(f)
    # an archive of already-compressed media (ratio ~1) of a few hundred MB is not a bomb
    p = tmp_path / "media.zip"
    with zipfile.ZipFile(p, "w", zipfile.ZIP_STORED) as z:
        z.writestr("data/tweets.js", b"window.YTD.tweets.part0 = []")
        z.writestr("data/tweets_media/a.jpg", os.urandom(5 * 1024**2))
    check_zip(p)


def test_erase_leaves_the_text_in_no_copy_before_last(tmp_path):
    """The publish keeps the copy before last (``<db>.read.prev``) to patch it next time: it holds the
    text too, so an erasure deletes it and keeps no old copy."""
    db = tmp_path / "vigie.duckdb"
    secret = "Texte secret de Jeanne Martin"
    with derived_refresh.writer(db) as con:
        store.upsert(con, "messages", pd.DataFrame([{"message_id": "facebook:1", "platform": "facebook",
                                                     "kind": "comment", "text": secret,
                                                     "author_hash": "a_0000000000000001"}]))
    with derived_refresh.writer(db) as con:
        con.execute("CREATE TABLE t AS SELECT 1 AS x")
    assert secret.encode() in store.prev_path(db).read_bytes()
    res = _vigie(db, "privacy", "erase", "--author", "a_0000000000000001", "--yes")
    assert res.exit_code == 0, res.output
    assert not store.prev_path(db).exists()
    assert _files_holding(tmp_path, secret.encode()) == []
