"""Right to erasure and retention: `vigie privacy erase`, `vigie purge`, derived rows, audit log."""

from __future__ import annotations

import json
from datetime import datetime

import pandas as pd
import pytest
from typer.testing import CliRunner

from analysis import derived_refresh, retention, store
from analysis.cli import app as vigie
from analysis.privacy import pseudonymise

OLD, NEW = datetime(2023, 1, 15, 9), datetime(2026, 10, 1, 9)
NOW = datetime(2026, 11, 1)
ALICE = pseudonymise("facebook", "1001")  # exported with an id
BOB = pseudonymise("x", "Bob Martin")  # exported without id: the name is hashed


def _store(db) -> None:
    msgs = [
        ("facebook:m1", ALICE, "Alice Durand", OLD, "vieux message d'Alice"),
        ("facebook:m2", ALICE, "Alice Durand", NEW, "message récent d'Alice"),
        ("x:m3", BOB, None, NEW, "tweet de Bob"),
        ("facebook:m4", pseudonymise("facebook", "2002"), None, OLD, "vieux message de Chloé"),
        ("facebook:m5", pseudonymise("facebook", "2002"), None, NEW, "message récent de Chloé"),
    ]
    with derived_refresh.writer(db) as con:
        store.upsert(con, "messages", pd.DataFrame([
            {"message_id": i, "platform": i.split(":")[0], "kind": "comment", "author_hash": h, "author_name": n,
             "created_at": t, "text": x, "territory_id": "saint-aubin", "account_id": None} for i, h, n, t, x in msgs]))
        ids = [m[0] for m in msgs]
        store.upsert(con, "sentiment", pd.DataFrame({"item_id": ids, "item_type": "message", "label": "neg"}))
        store.upsert(con, "themes", pd.DataFrame({"item_id": ids, "item_type": "message", "theme": "voirie"}))
        store.upsert(con, "labels", pd.DataFrame({"item_id": ids, "item_type": "message", "task": "sentiment",
                                                  "value": "neg"}))
        store.upsert(con, "toxicity", pd.DataFrame({"message_id": ids, "p_toxic": 0.1}))
        store.upsert(con, "moderation_status", pd.DataFrame({"message_id": ids, "status": "traite"}))
        # a post sentiment with the same id must survive (item_type differs)
        store.upsert(con, "sentiment", pd.DataFrame({"item_id": ["facebook:m1"], "item_type": ["post"], "label": ["pos"]}))
        store.upsert(con, "accounts", pd.DataFrame([
            {"account_id": "facebook:1001", "platform": "facebook", "native_id": "1001", "name": "Alice Durand",
             "official": False, "first_seen": OLD},
            {"account_id": "facebook:42", "platform": "facebook", "native_id": "42", "name": "Mairie",
             "official": True, "first_seen": OLD}]))
        store.upsert(con, "imports", pd.DataFrame([{"import_id": "i1", "path": "a.csv", "finished_at": OLD, "status": "ok"},
                                                   {"import_id": "i2", "path": "b.csv", "finished_at": NEW, "status": "ok"}]))
        store.upsert(con, "rejects", pd.DataFrame([
            {"import_id": "i2", "path": "b.csv", "line": 3, "column_name": "Auteur", "value": "Alice Durand", "reason": "x"},
            {"import_id": "i1", "path": "a.csv", "line": 4, "column_name": "Date", "value": "31/02", "reason": "x"},
            {"import_id": "i2", "path": "b.csv", "line": 5, "column_name": "Date", "value": "32/01", "reason": "x"}]))


def _count(con, sql: str) -> int:
    return con.execute(sql).fetchone()[0]


def test_erase_by_hash_removes_messages_and_derived_rows(db):
    _store(db)
    with derived_refresh.writer(db) as con:
        rep = retention.erase_author(con, author_hash=ALICE, actor="dpo")
    assert rep.counts == {"sentiment": 2, "themes": 2, "labels": 2, "toxicity": 2, "moderation_status": 2,
                          "messages": 2, "accounts": 1, "rejects": 1, "alerts": 0, "erased_authors": 1}
    with store.reader(db) as con:
        assert sorted(r[0] for r in con.execute("SELECT message_id FROM messages").fetchall()) == \
            ["facebook:m4", "facebook:m5", "x:m3"]
        assert _count(con, "SELECT count(*) FROM sentiment WHERE item_type = 'post'") == 1
        assert _count(con, "SELECT count(*) FROM sentiment") == 4
        assert _count(con, "SELECT count(*) FROM accounts WHERE account_id = 'facebook:42'") == 1
        assert _count(con, "SELECT count(*) FROM rejects WHERE value = 'Alice Durand'") == 0
        at, actor, action, detail = con.execute("SELECT * FROM audit_log").fetchone()
    assert (actor, action) == ("dpo", "privacy.erase")
    assert json.loads(detail)["counts"]["messages"] == 2
    assert "Alice" not in detail  # the log never re-identifies


def test_erase_by_name_finds_hashed_names(db):
    _store(db)
    res = CliRunner().invoke(vigie, ["privacy", "erase", "--name", "Bob Martin", "--yes"])
    assert res.exit_code == 0, res.output
    with store.reader(db) as con:
        assert _count(con, "SELECT count(*) FROM messages WHERE message_id = 'x:m3'") == 0
        assert _count(con, "SELECT count(*) FROM messages") == 4
        assert con.execute("SELECT action FROM audit_log").fetchall() == [("privacy.erase",)]


def test_purge_older_than_24_months(db):
    _store(db)
    with derived_refresh.writer(db) as con:
        rep = retention.purge_older_than(con, "24m", now=NOW, actor="cron")
    assert rep.messages == 2
    with store.reader(db) as con:
        assert sorted(r[0] for r in con.execute("SELECT message_id FROM messages").fetchall()) == \
            ["facebook:m2", "facebook:m5", "x:m3"]
        assert _count(con, "SELECT count(*) FROM toxicity") == 3
        assert _count(con, "SELECT count(*) FROM rejects") == 2  # only the old import's reject went
        # Alice still has a recent message: her account goes with her last message, not before (issue 20)
        assert _count(con, "SELECT count(*) FROM accounts") == 2
        detail = json.loads(con.execute("SELECT detail FROM audit_log WHERE action = 'privacy.purge'").fetchone()[0])
    assert detail["cutoff"] == "2024-11-01T00:00:00" and detail["counts"]["messages"] == 2


def test_purge_cli_default_from_config(db, tmp_path, monkeypatch):
    _store(db)
    cfg = tmp_path / "config.toml"
    cfg.write_text('[retention]\nmessages = "1d"\n')
    monkeypatch.setenv("VIGIE_CONFIG", str(cfg))
    assert retention.default_retention() == "1d"
    res = CliRunner().invoke(vigie, ["purge", "--yes"])
    assert res.exit_code == 0, res.output
    with store.reader(db) as con:
        assert _count(con, "SELECT count(*) FROM messages") == 0  # everything is older than a day


@pytest.mark.parametrize(("text", "days"), [("730d", 730), ("730j", 730)])
def test_durations(text, days):
    assert retention.parse_duration(text).days == days
    assert retention.cutoff("24m", NOW) == datetime(2024, 11, 1)
    assert retention.cutoff("2y", NOW) == datetime(2024, 11, 1)


@pytest.mark.parametrize("bad", ["", "24", "m24", "-3m", "0d", "3 semaines"])
def test_bad_durations_refused(bad):
    with pytest.raises(ValueError):
        retention.parse_duration(bad)


def test_confirmation_is_asked_in_french_and_a_no_keeps_everything(db):
    """The question says « [o/N] » (Click's own says « [y/N] » and « Error: invalid input »); an answer
    not understood is asked again in French; « n » deletes nothing."""
    _store(db)
    with store.reader(db) as con:
        before = con.execute("SELECT count(*) FROM messages").fetchone()[0]
    res = CliRunner().invoke(vigie, ["privacy", "erase", "--author", ALICE], input="peut-être\nn\n")
    assert res.exit_code == 1
    assert "[o/N]" in res.output and "Réponse non comprise : tapez o (oui) ou n (non)." in res.output
    assert "y/N" not in res.output and "Error" not in res.output
    with store.reader(db) as con:
        assert con.execute("SELECT count(*) FROM messages").fetchone()[0] == before
    res = CliRunner().invoke(vigie, ["purge", "--older-than", "24m"], input="oui\n")
    assert res.exit_code == 0, res.output
    assert "[o/N]" in res.output and "Purge des messages antérieurs" in res.output


def test_a_store_keeps_the_key_its_authors_were_hashed_with(db, monkeypatch):
    """A key other than the store's (a key file missing on a new server, a job run under another
    account, which creates a key of its own) is refused by every write that hashes authors: an import,
    an erasure by name. Otherwise the same people get new pseudonyms, an erasure by name misses their
    older messages and the erased people's tombstones stop an old export from bringing them back.
    A deliberate rotation is recorded with `vigie privacy key --rotated`."""
    from pathlib import Path

    from analysis import privacy
    from analysis.ingest import default_context, import_paths

    cm = Path(__file__).resolve().parent / "fixtures" / "comments"
    monkeypatch.setenv("VIGIE_PSEUDONYM_KEY", "key-of-the-first-imports-0123456789")
    first = privacy.key_check()
    with derived_refresh.writer(db) as con:
        (r,) = import_paths(con, [cm / "exportcomments_youtube.csv"], default_context(account_hint="youtube:UCsaintaubin00000000001"))
        assert r.status == "ok" and r.inserted > 0
        assert privacy.recorded_key_check(con)[0] == first
        before = _count(con, "SELECT count(*) FROM messages")
    assert CliRunner().invoke(vigie, ["privacy", "key"]).exit_code == 0

    monkeypatch.setenv("VIGIE_PSEUDONYM_KEY", "a-key-created-by-another-account-987")
    with derived_refresh.writer(db) as con:
        (r,) = import_paths(con, [cm / "minet_fb_comments.csv"], default_context(account_hint="facebook:104857600000001"))
        assert r.status == "error" and "clé de pseudonymisation" in r.error and "Rien n'a été écrit" in r.error
        assert _count(con, "SELECT count(*) FROM messages") == before  # nothing of the file written
        with pytest.raises(privacy.KeyChanged):
            retention.erase_author(con, name="Bob Martin")
    res = CliRunner().invoke(vigie, ["privacy", "erase", "--name", "Bob Martin", "--yes"])
    assert res.exit_code == 1 and "clé de pseudonymisation" in res.output
    res = CliRunner().invoke(vigie, ["privacy", "key"])
    assert res.exit_code == 1 and first in res.output and "--rotated" in res.output

    res = CliRunner().invoke(vigie, ["privacy", "key", "--rotated", "--yes"])
    assert res.exit_code == 0, res.output
    with derived_refresh.writer(db) as con:
        (r,) = import_paths(con, [cm / "minet_fb_comments.csv"], default_context(account_hint="facebook:104857600000001"))
        assert r.status == "ok" and r.inserted > 0
        assert privacy.recorded_key_check(con)[0] == privacy.key_check() != first
        assert con.execute("SELECT action FROM audit_log").fetchall() == [("privacy.key_rotated",)]


def test_a_store_from_before_the_key_record_records_the_key_at_hand(db, monkeypatch):
    """A store written before the record (no row) takes the key of its next import; the fingerprint
    is an HMAC of a constant, never the key."""
    from analysis import privacy

    monkeypatch.setenv("VIGIE_PSEUDONYM_KEY", "key-of-the-first-imports-0123456789")
    _store(db)  # rows written directly, as an older Vigie did: no record
    with derived_refresh.writer(db) as con:
        assert privacy.recorded_key_check(con) is None
        privacy.check_store_key(con)
        value = privacy.recorded_key_check(con)[0]
    assert value == privacy.key_check() and "0123456789" not in value and len(value) == 16


def test_privacy_key_without_a_store_says_what_to_run(db):
    res = CliRunner().invoke(vigie, ["privacy", "key"])
    assert res.exit_code == 1 and "Aucune base Vigie" in res.output and "Traceback" not in res.output
