"""The incremental refresh of the derived tables (issue 19 item 2): after a write, refreshing only
what the new rows touch gives the same rows as a full rebuild; a write it cannot follow row by
row (an erasure, a correction edited in place, an attachment) rebuilds everything. On the demo
store's last 90 days (``recent_demo_db``): every comparison with a rebuild costs a rebuild."""

from __future__ import annotations

import shutil
from datetime import date
from pathlib import Path

import pytest

from analysis import derived, derived_refresh, store
from analysis.sentiment.corrections import correct

# one worker: the recent demo store (recent_demo_db, 7 s to build) is built once, not once per worker
pytestmark = pytest.mark.xdist_group("derived_incremental")

TABLES = {"daily_sentiment": "territory_id, platform, day", "incoming_messages": "message_id",
          "moderation_messages": "message_id", "daily_messages_utc": "territory_id, platform, day",
          "daily_themes_utc": "territory_id, platform, day, theme"}


@pytest.fixture()
def spy(monkeypatch) -> dict[str, int]:
    """Counts the refreshes that took each path."""
    calls = {"update": 0, "rebuild": 0}
    update, rebuild = derived_refresh._update, derived_refresh._rebuild

    def counted_update(*a, **k):
        done = update(*a, **k)
        calls["update"] += int(done)
        return done

    def counted_rebuild(*a, **k):
        calls["rebuild"] += 1
        return rebuild(*a, **k)

    monkeypatch.setattr(derived_refresh, "_update", counted_update)
    monkeypatch.setattr(derived_refresh, "_rebuild", counted_rebuild)
    return calls


def _prepared(db, calls: dict[str, int]) -> None:
    """A write session that leaves the state with marks (a store from before them gets a rebuild),
    then the counts reset: what follows counts the session under test only."""
    with derived_refresh.writer(db):
        pass
    calls.update(update=0, rebuild=0)


@pytest.fixture(scope="module")
def prepared_copy(recent_demo_db, tmp_path_factory) -> Path:
    """One writable copy of the recent demo store with its refresh state, for tests that roll their change back."""
    dst = tmp_path_factory.mktemp("derived") / "demo.duckdb"
    shutil.copyfile(recent_demo_db, dst)
    with derived_refresh.writer(dst):
        pass
    return dst


def _digests(con) -> dict[str, tuple]:
    """Row count and order-independent content hash of each table (as store.snapshot_hash): comparing
    them costs a scan where fetching 200 000 rows as tuples twice cost seconds."""
    return {t: con.execute(f"SELECT count(*), coalesce(sum(hash(x))::HUGEINT, 0) FROM {t} AS x").fetchone()
            for t in TABLES}


def _check_same_as_rebuild(con) -> None:
    """The tables as the refresh left them equal a full rebuild from the message tables (compared by
    digest; the rows of a table whose digest differs are compared to show what)."""
    got = _digests(con)
    for t in TABLES:  # kept aside, read only if a digest differs
        con.execute(f"CREATE OR REPLACE TEMP TABLE _got_{t} AS SELECT * FROM {t}")
    derived_refresh.refresh(con, incremental=False)
    want = _digests(con)
    for t in TABLES:
        if got[t] != want[t]:
            assert (con.execute(f"SELECT * FROM _got_{t} ORDER BY {TABLES[t]}").fetchall()
                    == con.execute(f"SELECT * FROM {t} ORDER BY {TABLES[t]}").fetchall()), t
            assert got[t] == want[t], t


def _add_day(con, prefix: str = "new:") -> int:
    """One new day in the store as an import and an enrichment write it: new user messages under
    existing posts (copies of the last day's, one day later, scored like them), an official reply to
    an old message (threaded) and one under an old post without thread link (unthreaded)."""
    con.execute("""CREATE OR REPLACE TEMP TABLE src AS SELECT * FROM messages
                   WHERE created_at >= (SELECT max(created_at) FROM messages) - INTERVAL 1 DAY""")
    con.execute("""INSERT INTO messages SELECT * REPLACE (? || message_id AS message_id,
                       created_at + INTERVAL 1 DAY AS created_at, 'imp-new' AS import_id) FROM src""", [prefix])
    con.execute("""INSERT INTO sentiment SELECT s.* REPLACE (? || s.item_id AS item_id)
                   FROM sentiment s JOIN src ON s.item_id = src.message_id AND s.item_type = 'message'""", [prefix])
    con.execute("""INSERT INTO toxicity SELECT x.* REPLACE (? || x.message_id AS message_id)
                   FROM toxicity x JOIN src USING (message_id)""", [prefix])
    con.execute("""INSERT INTO themes SELECT th.* REPLACE (? || th.item_id AS item_id)
                   FROM themes th JOIN src ON th.item_id = src.message_id AND th.item_type = 'message'""", [prefix])
    # an unanswered incoming message of last year gets a threaded official reply today
    old = con.execute("""SELECT i.message_id, m.post_id, m.account_id, m.territory_id, m.platform FROM incoming_messages i
                         JOIN messages m USING (message_id) WHERE i.first_reply_at IS NULL AND i.visible
                         AND m.post_id IS NOT NULL ORDER BY i.created_at, i.message_id LIMIT 2""").fetchall()
    for k, (mid, post, account, terr, plat) in enumerate(old):
        con.execute("""INSERT INTO messages (message_id, platform, kind, post_id, parent_id, account_id, territory_id,
                                             is_official, created_at, text, import_id)
                       VALUES (?, ?, 'reply', ?, ?, ?, ?, TRUE, (SELECT max(created_at) FROM messages), 'Merci !',
                               'imp-new')""",
                    [f"{prefix}reply{k}", plat, post, mid if k == 0 else None, account, terr])
    return con.execute("SELECT count(*) FROM src").fetchone()[0] + len(old)


def test_a_new_day_is_refreshed_incrementally_and_equals_a_rebuild(recent_db_copy, spy):
    _prepared(recent_db_copy, spy)
    with derived_refresh.writer(recent_db_copy) as con:
        before = con.execute("SELECT count(*) FROM incoming_messages WHERE first_reply_at IS NOT NULL").fetchone()[0]
        assert _add_day(con) > 100
    assert spy == {"update": 1, "rebuild": 0}
    with store.reader(recent_db_copy) as con:
        assert derived.current(con)
        # the old messages answered today have their first reply
        assert con.execute("SELECT count(*) FROM incoming_messages WHERE first_reply_at IS NOT NULL").fetchone()[0] \
            >= before + 2
    con = store.connect(recent_db_copy)
    try:
        _check_same_as_rebuild(con)
    finally:
        con.close()


def test_replies_across_posts_and_without_post_equal_a_rebuild(recent_db_copy, spy):
    """The incremental refresh recomputes the touched messages' rows from a copy of the few messages
    they read: a new reply whose parent sits under another post (that parent's first reply is found
    under its own post), and replies without post linked by parent only (X mentions), must give
    what a rebuild gives."""
    _prepared(recent_db_copy, spy)
    with derived_refresh.writer(recent_db_copy) as con:
        # an old incoming message answered by an unthreaded official reply under its post
        old = con.execute("""SELECT i.message_id, m.post_id, m.account_id, m.territory_id, m.platform
                             FROM incoming_messages i JOIN messages m USING (message_id)
                             WHERE i.first_reply_at IS NOT NULL AND m.post_id IS NOT NULL AND NOT EXISTS (
                                 SELECT 1 FROM messages r WHERE r.parent_id = i.message_id)
                             ORDER BY i.created_at, i.message_id LIMIT 1""").fetchone()
        assert old is not None
        mid, post, account, terr, plat = old
        other = con.execute("SELECT post_id FROM posts WHERE post_id <> ? AND account_id = ? ORDER BY post_id LIMIT 1",
                            [post, account]).fetchone()[0]
        rows = [  # id, post, parent, official
            ("x:cross", other, mid, False),  # under another post, answering the old message
            ("x:nopost", None, mid, False),  # no post: linked by its parent only
            ("x:nopost-reply", None, "x:nopost", True),  # an official answer to it, threaded
        ]
        for k, (new_id, p, parent, official) in enumerate(rows):
            con.execute("""INSERT INTO messages (message_id, platform, kind, post_id, parent_id, account_id,
                                                 territory_id, is_official, created_at, text, import_id)
                           VALUES (?, ?, 'comment', ?, ?, ?, ?, ?,
                                   (SELECT max(created_at) FROM messages) + ? * INTERVAL 1 MINUTE, 'Et alors ?',
                                   'imp-new')""", [new_id, plat, p, parent, account, terr, official, k + 1])
    assert spy == {"update": 1, "rebuild": 0}
    con = store.connect(recent_db_copy)
    try:
        assert con.execute("SELECT first_reply_at IS NOT NULL FROM incoming_messages WHERE message_id = 'x:nopost'"
                           ).fetchone() == (True,)
        _check_same_as_rebuild(con)
    finally:
        con.close()


def test_a_real_import_of_one_more_day_equals_a_rebuild(recent_db_copy, spy, tmp_path):
    """The day ``make bench`` adds (the demo's own writers, one day after the store's last), imported
    through the real importers and enriched in one session, as ``vigie import`` then ``enrich``."""
    import pickle
    import subprocess
    import sys
    import tomllib
    from datetime import timedelta
    from pathlib import Path

    from analysis import enrich
    from analysis.ingest import default_context, import_paths
    from analysis.registry import load_registry

    _prepared(recent_db_copy, spy)
    with store.reader(recent_db_copy) as con:
        day = con.execute("SELECT max(created_at)::DATE FROM messages").fetchone()[0] + timedelta(days=1)
    out = tmp_path / "day"
    subprocess.run([sys.executable, "-m", "benchmarks.newday", "--write", str(out), "--day", day.isoformat(),
                    "--scale", "1"], check=True, cwd=Path(__file__).resolve().parents[1])
    files = pickle.loads(out.with_suffix(".files.pkl").read_bytes())["files"]
    with derived_refresh.writer(recent_db_copy) as con:
        n0 = con.execute("SELECT count(*) FROM messages").fetchone()[0]
        for f in files:
            mapping = tomllib.loads(Path(f["mapping"]).read_text(encoding="utf-8")) if f["mapping"] else None
            ctx = default_context(registry=load_registry(), account_hint=f["hint"], mapping=mapping,
                                  snapshot_date=f["snapshot"])
            assert all(r.status == "ok" for r in import_paths(con, [f["path"]], ctx, fmt=f["fmt"]))
        enrich.run(con)
        assert con.execute("SELECT count(*) FROM messages").fetchone()[0] - n0 > 100
    assert spy == {"update": 1, "rebuild": 0}
    con = store.connect(recent_db_copy)
    try:
        assert con.execute("SELECT count(*) FROM daily_sentiment WHERE day = ?", [day]).fetchone()[0] > 0
        _check_same_as_rebuild(con)
    finally:
        con.close()


def test_a_correction_is_refreshed_incrementally(recent_db_copy, spy):
    _prepared(recent_db_copy, spy)
    with derived_refresh.writer(recent_db_copy) as con:
        mid = con.execute("SELECT message_id FROM incoming_messages WHERE NOT is_negative "
                          "ORDER BY created_at, message_id LIMIT 1").fetchone()[0]
        correct(con, mid, "message", "negative", author="test")
    assert spy == {"update": 1, "rebuild": 0}
    con = store.connect(recent_db_copy)
    try:
        assert con.execute("SELECT is_negative FROM incoming_messages WHERE message_id = ?", [mid]).fetchone()[0]
        _check_same_as_rebuild(con)
    finally:
        con.close()


@pytest.mark.parametrize("enrich_too", [False, True])
def test_edited_texts_are_refreshed_incrementally(recent_db_copy, spy, enrich_too):
    """Messages whose text an import replaces lose their scores (analysis.ingest): the refresh's
    state forgets them and recounts their messages, without a rebuild, in the session that only
    imports (their scores missing) as in the one that also enriches (scored again)."""

    from analysis import enrich
    from analysis.ingest import FileResult, Parsed, default_context, write_parsed

    _prepared(recent_db_copy, spy)
    with derived_refresh.writer(recent_db_copy) as con:
        edited = con.execute(
            "SELECT message_id, platform, text FROM moderation_messages JOIN messages USING (message_id, platform) "
            "WHERE sentiment = 'positive' AND themes IS NOT NULL AND first_reply_at IS NULL "
            "ORDER BY message_id LIMIT 30").df()
        assert len(edited) == 30
        edited["text"] = "Quelle honte, bande de nuls, c'est scandaleux : " + edited["text"]
        parsed = Parsed(format="test", rows_read=len(edited))
        parsed.tables["messages"] = edited
        with store.transaction(con):
            write_parsed(con, parsed, default_context(), FileResult(path="x"), path="x")
        assert con.execute("SELECT count(*) FROM derived_touched").fetchone()[0] == 30
        assert not derived.current(con)  # readers of this session compute from the message tables
        if enrich_too:
            enrich.run(con)
    assert spy == {"update": 1, "rebuild": 0}
    con = store.connect(recent_db_copy)
    try:
        assert con.execute("SELECT count(*) FROM derived_touched").fetchone()[0] == 0
        labels = con.execute("SELECT sentiment FROM moderation_messages WHERE message_id IN "
                             "(SELECT unnest(?))", [list(edited["message_id"])]).fetchall()
        assert {lab for (lab,) in labels} == ({"negative"} if enrich_too else {None})
        _check_same_as_rebuild(con)
    finally:
        con.close()


@pytest.mark.parametrize("change", [
    "DELETE FROM messages WHERE message_id IN (SELECT message_id FROM incoming_messages ORDER BY 1 LIMIT 50)",
    "UPDATE messages SET territory_id = NULL WHERE message_id IN (SELECT message_id FROM messages ORDER BY 1 LIMIT 50)",
    "UPDATE sentiment SET label = 'negative' WHERE item_id IN (SELECT item_id FROM sentiment "
    "WHERE label = 'positive' ORDER BY 1 LIMIT 50)",
    "UPDATE toxicity SET is_question = NOT is_question WHERE message_id IN (SELECT message_id FROM toxicity "
    "ORDER BY 1 LIMIT 50)",
    # what moderation_messages reads besides: engagement, toxicity scores, the author's pseudonym
    "UPDATE messages SET likes = coalesce(likes, 0) + 100 WHERE message_id IN (SELECT message_id FROM "
    "moderation_messages ORDER BY 1 LIMIT 50)",
    "UPDATE toxicity SET p_toxic = 0.99, lexicon_hits = ['test'] WHERE message_id IN (SELECT message_id FROM "
    "moderation_messages ORDER BY 1 LIMIT 50)",
    "UPDATE messages SET author_hash = 'x' || author_hash WHERE message_id IN (SELECT message_id FROM "
    "moderation_messages WHERE author_hash IS NOT NULL ORDER BY 1 LIMIT 50)",
    "DELETE FROM themes WHERE item_id IN (SELECT message_id FROM moderation_messages WHERE themes IS NOT NULL "
    "ORDER BY 1 LIMIT 50)",
])
def test_a_change_in_place_rebuilds(prepared_copy, spy, monkeypatch, change):
    """Deletions and updates of a column the derived tables read leave no new row to follow: the
    fingerprint of the rows already counted differs, so everything is rebuilt. (The rebuild itself
    is only counted: what it writes is a rebuild, which the other tests compare with.) Each change is
    rolled back after the refresh has chosen: the eight share one copy of the store."""
    monkeypatch.setattr(derived_refresh, "_rebuild", lambda *a, **k: spy.update(rebuild=spy["rebuild"] + 1))
    con = store.connect(prepared_copy)
    try:
        con.execute("BEGIN TRANSACTION")
        con.execute(change)
        derived_refresh.refresh(con)  # what the write session runs before its commit
        con.execute("ROLLBACK")
    finally:
        con.close()
    assert spy == {"update": 0, "rebuild": 1}


def test_a_correction_then_an_erasure(recent_db_copy, spy):
    """Corrected, then its author erased (compacting session): the erasure rebuilds, and the
    tables equal a rebuild."""
    from analysis import retention

    _prepared(recent_db_copy, spy)
    with derived_refresh.writer(recent_db_copy) as con:
        mid, author = con.execute("SELECT message_id, author_hash FROM messages WHERE author_hash IS NOT NULL "
                                  "AND NOT coalesce(is_official, FALSE) ORDER BY 1 LIMIT 1").fetchone()
        correct(con, mid, "message", "positive", author="test")
    with derived_refresh.writer(recent_db_copy, compact=True) as con:
        retention.erase_author(con, author_hash=author, actor="dpo")
    assert spy == {"update": 1, "rebuild": 1}
    con = store.connect(recent_db_copy)
    try:
        assert con.execute("SELECT count(*) FROM incoming_messages WHERE message_id = ?", [mid]).fetchone()[0] == 0
        _check_same_as_rebuild(con)
    finally:
        con.close()


def test_tables_written_by_other_definitions_are_rebuilt(recent_db_copy, spy):
    """A Vigie that computes a derived table otherwise (another first-reply rule, a count added)
    rebuilds every table at its first write: refreshing only the new day would leave the older days
    counted the old way beside it. A store from before the definitions were recorded rebuilds too;
    the session after is incremental again."""
    _prepared(recent_db_copy, spy)
    with store.reader(recent_db_copy) as con:
        assert con.execute("SELECT messages FROM derived_state WHERE name = 'definitions'").fetchone()[0] \
            == derived_refresh.definitions()
    for n, old in enumerate(("UPDATE derived_state SET messages = messages + 1 WHERE name = 'definitions'",
                             "DELETE FROM derived_state WHERE name = 'definitions'")):
        with store.writer(recent_db_copy) as con:  # what the older version left: its own figures, its own stamp
            con.execute("UPDATE daily_sentiment SET messages = messages + 7 WHERE day = (SELECT min(day) FROM daily_sentiment)")
            con.execute(old)
        spy.update(update=0, rebuild=0)
        with derived_refresh.writer(recent_db_copy) as con:
            assert _add_day(con, f"old{n}:") > 100
        assert spy == {"update": 0, "rebuild": 1}, old
        if n == 0:  # the rebuild counted the old day again, the new way (checked once: a rebuild costs seconds)
            con = store.connect(recent_db_copy)
            try:
                _check_same_as_rebuild(con)
            finally:
                con.close()
    spy.update(update=0, rebuild=0)
    with derived_refresh.writer(recent_db_copy) as con:
        assert _add_day(con, "again:") > 100
    assert spy == {"update": 1, "rebuild": 0}


def test_definitions_follow_the_sql_of_the_tables(monkeypatch):
    """The fingerprint changes with the SQL that computes a table's rows (read as the rebuild runs it)."""
    before = derived_refresh.definitions()
    monkeypatch.setattr(derived_refresh, "incoming_sql", lambda only=None, source="messages": "SELECT 1 AS other_rule")
    derived_refresh.definitions.cache_clear()
    try:
        assert derived_refresh.definitions() != before
    finally:
        monkeypatch.undo()
        derived_refresh.definitions.cache_clear()
    assert derived_refresh.definitions() == before


def test_day_ranges():
    d = date.fromisoformat
    days = [d("2026-10-01"), d("2026-10-03"), d("2026-10-31"), d("2025-01-05")]
    assert derived_refresh._day_ranges(days) == [(d("2025-01-05"), d("2025-01-05")),
                                                 (d("2026-10-01"), d("2026-10-03")),
                                                 (d("2026-10-31"), d("2026-10-31"))]
    many = [d("2026-01-01").replace(month=1 + i % 12, day=1 + (i // 12) * 10) for i in range(24)]
    assert len(derived_refresh._day_ranges(many)) == 1


def test_a_session_that_writes_nothing_is_not_published_again(recent_db_copy):
    """Publishing copies the whole store (480 MB at 1 M messages): a session that wrote nothing (a
    collection run that found nothing new) keeps the read copy; one that wrote publishes; a copy
    older than the store (a publish interrupted) is published again even by an empty session."""
    import os

    read = store.read_path(recent_db_copy)
    with derived_refresh.writer(recent_db_copy):
        pass  # the first refresh with marks writes: published
    inode = read.stat().st_ino
    with derived_refresh.writer(recent_db_copy) as con:
        con.execute("SELECT count(*) FROM messages").fetchall()
    assert read.stat().st_ino == inode and store.published(recent_db_copy)
    with derived_refresh.writer(recent_db_copy) as con:
        con.execute("UPDATE messages SET likes = coalesce(likes, 0) + 1 WHERE message_id = "
                    "(SELECT min(message_id) FROM messages)")
    assert read.stat().st_ino != inode
    inode = read.stat().st_ino
    st = read.stat()
    os.utime(read, ns=(st.st_atime_ns, recent_db_copy.stat().st_mtime_ns - 10**9))  # older than the store
    assert not store.published(recent_db_copy)
    with derived_refresh.writer(recent_db_copy):
        pass
    assert read.stat().st_ino != inode and store.published(recent_db_copy)


def test_a_theme_added_later_is_refreshed_incrementally(recent_db_copy, spy):
    """The themes classifier run after the import (new ``themes`` rows only): an incremental refresh,
    and ``moderation_messages`` carries the new theme (the alerts' emerging-theme counts read it)."""
    _prepared(recent_db_copy, spy)
    with derived_refresh.writer(recent_db_copy) as con:
        mid = con.execute("SELECT message_id FROM moderation_messages ORDER BY created_at DESC, 1 LIMIT 1").fetchone()[0]
        con.execute("INSERT INTO themes (item_id, item_type, theme, score, model_version) "
                    "VALUES (?, 'message', 'zz_test', 0.9, 'test')", [mid])
    assert spy == {"update": 1, "rebuild": 0}
    con = store.connect(recent_db_copy)
    try:
        assert "zz_test" in con.execute("SELECT themes FROM moderation_messages WHERE message_id = ?",
                                        [mid]).fetchone()[0]
        _check_same_as_rebuild(con)
    finally:
        con.close()


@pytest.mark.parametrize("pass_limit, attempts", [("9MB", 3), ("4GB", 2)])
def test_a_refresh_out_of_memory_under_the_cap_is_tried_again_under_a_larger_one(recent_db_copy, spy, monkeypatch,
                                                                                   caplog, pass_limit, attempts):
    """The write session caps DuckDB's memory; a rebuild that does not fit under it is run again under
    the cap of the passes over the whole store (PASS_MEMORY_LIMIT), then, if that is still too little,
    without any cap (the tables current, not left stale for every page to recompute); the session's cap
    is back afterwards. At 1 M messages the rebuild did not fit under 512 MB when the themes were joined
    into the moderation rows; at 10 M it does not fit under 512 MB (without any cap it took 9,5 GB)."""
    import logging

    monkeypatch.setattr(store, "IMPORT_MEMORY_LIMIT", "8MB")  # far below what the test store's rebuild needs
    monkeypatch.setattr(store, "PASS_MEMORY_LIMIT", pass_limit)
    con = store.connect(recent_db_copy)
    try:
        con.execute("DELETE FROM derived_state")
        before = con.execute("SELECT current_setting('memory_limit')").fetchone()[0]
        with caplog.at_level(logging.INFO, logger="analysis.derived_refresh"), store.bounded_memory(con):
            derived_refresh.refresh_or_clear(con)
        assert con.execute("SELECT current_setting('memory_limit')").fetchone()[0] == before
        assert spy["rebuild"] == attempts
        assert f"nouvel essai sous {pass_limit}" in caplog.text and "non reconstruits" not in caplog.text
        assert ("nouvel essai sans plafond" in caplog.text) == (attempts == 3)
        assert derived.current(con) and derived.current_table(con, "moderation_messages")
        assert con.execute("SELECT count(*) FROM moderation_messages WHERE themes IS NOT NULL").fetchone()[0] > 1000
    finally:
        con.close()


def test_a_large_rebuild_runs_under_the_passes_cap_from_the_start(recent_db_copy, spy, monkeypatch, caplog):
    """A rebuild of more than LARGE_REBUILD_ROWS rows does not first fail under the import's cap (10 M
    messages: 115 s lost): it runs once, under PASS_MEMORY_LIMIT, and the session's cap is back after."""
    import logging

    monkeypatch.setattr(store, "IMPORT_MEMORY_LIMIT", "8MB")
    monkeypatch.setattr(store, "PASS_MEMORY_LIMIT", "4GB")
    monkeypatch.setattr(derived_refresh, "LARGE_REBUILD_ROWS", 1000)
    con = store.connect(recent_db_copy)
    try:
        con.execute("DELETE FROM derived_state")
        with caplog.at_level(logging.INFO, logger="analysis.derived_refresh"), store.bounded_memory(con):
            derived_refresh.refresh_or_clear(con)
            # the session's 8 MB again (DuckDB shows it rounded: 7.5 or 7.6 MiB), not the pass's 4 GB
            assert con.execute("SELECT current_setting('memory_limit')").fetchone()[0].startswith("7.")
        assert spy["rebuild"] == 1 and "nouvel essai" not in caplog.text
        assert derived.current(con) and derived.current_table(con, "moderation_messages")
    finally:
        con.close()
