"""Store: migrations, upsert semantics (NULL never erases, re-import is a no-op), publish, hash."""

from __future__ import annotations

import duckdb
import pandas as pd
import pytest

from analysis import derived_refresh, schema, store


def test_migrations_create_every_declared_table(db):
    with derived_refresh.writer(db) as con:
        tables = {r[0] for r in con.execute("SELECT table_name FROM information_schema.tables").fetchall()}
        versions = [r[0] for r in con.execute("SELECT version FROM schema_migrations").fetchall()]
    assert {t.name for t in schema.TABLES} <= tables
    assert versions == [v for v, _ in schema.MIGRATIONS]


def test_upsert_counts_and_null_is_not_zero(db):
    with derived_refresh.writer(db) as con:
        df = pd.DataFrame({"post_id": ["x:1", "x:2", "x:2"], "platform": ["x"] * 3, "likes": [1, None, 3],
                           "reach": [None, None, None]})
        assert store.upsert(con, "posts", df) == (2, 0)  # duplicate key keeps the last row
        assert store.upsert(con, "posts", df) == (0, 0)  # same data again: nothing changes
        # a later export without likes but with shares: likes kept, shares added
        assert store.upsert(con, "posts", pd.DataFrame({"post_id": ["x:1"], "likes": [None], "shares": [5]})) == (0, 1)
        rows = con.execute("SELECT post_id, likes, shares, reach FROM posts ORDER BY 1").fetchall()
    assert rows == [("x:1", 1, 5, None), ("x:2", 3, None, None)]


@pytest.mark.parametrize("probe_max", [0, 1, 512])
def test_upsert_of_distinct_string_keys_counts_the_same_with_or_without_the_index_probe(db, monkeypatch, probe_max):
    """Frames of distinct string keys: looked up in the primary key first (small frames: none stored,
    a plain INSERT) or inserted with ON CONFLICT DO NOTHING (a stored key, or a frame above
    ``PROBE_MAX_KEYS``): the same rows and counts either way."""
    monkeypatch.setattr(store, "PROBE_MAX_KEYS", probe_max)
    with derived_refresh.writer(db) as con:
        assert store.upsert(con, "posts", pd.DataFrame({"post_id": ["x:1", "x:2"], "likes": [1, 2]})) == (2, 0)
        both = pd.DataFrame({"post_id": ["x:2", "x:3"], "likes": [5, 3]})  # one stored, one new
        assert store.upsert(con, "posts", both) == (1, 1)
        assert store.upsert(con, "posts", both) == (0, 0)
        rows = con.execute("SELECT post_id, likes FROM posts ORDER BY 1").fetchall()
    assert rows == [("x:1", 1), ("x:2", 5), ("x:3", 3)]


@pytest.mark.parametrize("stage", [True, False])
def test_upsert_moves_the_rows_whose_changes_leave_the_in_place_columns_alone(db, stage):
    """``relocate``: an edited text moves its row to the table's end (deleted by the callable, inserted
    again with the stored values where the frame has none); a change to an ``in_place`` column is an
    UPDATE, as without ``relocate``; the counts are the same either way."""
    moved_keys: list = []

    def relocate(con, moved):
        moved_keys.extend(r[0] for r in con.execute(f"SELECT post_id FROM {moved} ORDER BY 1").fetchall())
        con.execute(f"DELETE FROM posts WHERE post_id IN (SELECT post_id FROM {moved})")

    with derived_refresh.writer(db) as con:
        store.upsert(con, "posts", pd.DataFrame({"post_id": ["x:1", "x:2", "x:3"], "platform": ["x"] * 3,
                                                 "text": ["un", "deux", "trois"], "likes": [1, 2, 3]}))
        edits = pd.DataFrame({"post_id": ["x:1", "x:2", "x:3", "x:4"], "text": ["un bis", "deux bis", "trois", "quatre"],
                              "likes": [None, 20, 3, 4]})
        got = store.upsert(con, "posts", edits, stage=stage, relocate=relocate, in_place=("likes",))
        rows = con.execute("SELECT post_id, platform, text, likes FROM posts ORDER BY rowid").fetchall()
    assert got == (1, 2)  # x:4 new; x:1 and x:2 changed; x:3 the same
    assert moved_keys == ["x:1"]  # x:2's likes change: updated in place
    assert rows == [("x:2", "x", "deux bis", 20), ("x:3", "x", "trois", 3), ("x:4", None, "quatre", 4),
                    ("x:1", "x", "un bis", 1)]


def test_insert_row_writes_one_new_row_and_refuses_a_stored_key_or_an_unknown_column(db):
    with derived_refresh.writer(db) as con:
        store.insert_row(con, "imports", {"import_id": "i1", "path": "a.csv", "status": "ok", "rows_read": 3})
        assert con.execute("SELECT path, status, rows_read, error FROM imports WHERE import_id = 'i1'"
                           ).fetchall() == [("a.csv", "ok", 3, None)]
        with pytest.raises(duckdb.ConstraintException):
            store.insert_row(con, "imports", {"import_id": "i1", "path": "b.csv"})
        with pytest.raises(ValueError, match="inconnues"):
            store.insert_row(con, "imports", {"import_id": "i2", "nope": 1})


def test_upsert_rejects_unknown_columns(db):
    with derived_refresh.writer(db) as con, pytest.raises(ValueError, match="inconnues"):
        store.upsert(con, "posts", pd.DataFrame({"post_id": ["x:1"], "nope": [1]}))


def test_transaction_rolls_back_everything(db):
    with derived_refresh.writer(db) as con:
        with pytest.raises(RuntimeError), store.transaction(con):
            store.upsert(con, "posts", pd.DataFrame({"post_id": ["x:9"]}))
            raise RuntimeError("boom")
        assert con.execute("SELECT count(*) FROM posts").fetchone()[0] == 0


def test_readers_use_published_copy_while_a_writer_is_open(db):
    with derived_refresh.writer(db) as con:
        store.upsert(con, "posts", pd.DataFrame({"post_id": ["x:1"]}))
    con = store.connect(db)  # a writer holds the main file (an import in progress)…
    try:
        store.upsert(con, "posts", pd.DataFrame({"post_id": ["x:2"]}))
        with store.reader(db) as r:  # …and a reader still opens, on the last published state
            assert r.execute("SELECT count(*) FROM posts").fetchone()[0] == 1
    finally:
        con.close()
    store.publish(db)
    with store.reader(db) as r:
        assert r.execute("SELECT count(*) FROM posts").fetchone()[0] == 2


def test_reader_on_missing_store_says_what_to_do(tmp_path):
    with pytest.raises(store.StoreMissing, match="vigie demo"):
        store.connect(tmp_path / "none.duckdb", read_only=True)


def test_snapshot_hash_is_order_independent_and_content_sensitive(tmp_path):
    a, b = tmp_path / "a.duckdb", tmp_path / "b.duckdb"
    rows = pd.DataFrame({"post_id": ["x:1", "x:2"], "likes": [1, 2]})
    with derived_refresh.writer(a) as con:
        store.upsert(con, "posts", rows)
        ha = store.snapshot_hash(con)
    with derived_refresh.writer(b) as con:
        store.upsert(con, "posts", rows.iloc[::-1])
        hb = store.snapshot_hash(con)
        store.upsert(con, "posts", pd.DataFrame({"post_id": ["x:1"], "likes": [7]}))
        hc = store.snapshot_hash(con)
    assert ha == hb != hc


def test_read_copy_is_read_only(db):
    with derived_refresh.writer(db):
        pass
    with store.reader(db) as r, pytest.raises(duckdb.Error):
        r.execute("INSERT INTO posts (post_id) VALUES ('x:1')")


def test_model_outputs_lose_their_primary_key_and_keep_their_rows(db):
    """Migration 15: a store whose sentiment, themes and toxicity tables had a primary key (before
    Table.indexed) keeps every row, in order, and the effective views still read them."""
    with derived_refresh.writer(db) as con:
        con.execute("DELETE FROM schema_migrations WHERE version = 15")
        for n in ("sentiment", "themes", "toxicity"):  # as migration 1 created them before
            t = schema.table(n)
            con.execute(f"DROP TABLE {n}")
            con.execute(t.ddl().replace("\n)", f",\n    PRIMARY KEY ({', '.join(t.key)})\n)"))
        con.execute("INSERT INTO sentiment (item_id, item_type, label) VALUES ('x:1', 'message', 'negative'), "
                    "('x:0', 'post', 'positive')")
        con.execute("INSERT INTO themes (item_id, item_type, theme, score) VALUES ('x:1', 'message', 'voirie', 0.5)")
        con.execute("INSERT INTO toxicity (message_id, p_toxic) VALUES ('x:1', 0.9)")
        with pytest.raises(duckdb.ConstraintException):
            con.execute("INSERT INTO toxicity (message_id) VALUES ('x:1')")
        store.migrate(con)
        keyed = con.execute("SELECT count(*) FROM duckdb_constraints() WHERE constraint_type = 'PRIMARY KEY' "
                            "AND table_name IN ('sentiment', 'themes', 'toxicity')").fetchone()[0]
        assert keyed == 0
        assert con.execute("SELECT item_id, item_type, label FROM sentiment").fetchall() == [
            ("x:1", "message", "negative"), ("x:0", "post", "positive")]
        assert con.execute("SELECT item_id, theme, score FROM themes").fetchall() == [("x:1", "voirie", 0.5)]
        assert con.execute("SELECT message_id, p_toxic FROM toxicity").fetchall() == [("x:1", 0.9)]
        assert not con.execute("SELECT table_name FROM duckdb_tables() WHERE table_name LIKE '%keyed%'").fetchall()
        with pytest.raises(duckdb.ConstraintException):  # the key columns stay NOT NULL
            con.execute("INSERT INTO toxicity (message_id) VALUES (NULL)")


def test_upsert_matches_on_the_key_of_a_table_without_primary_key(db):
    """toxicity's key is not indexed (Table.indexed): upsert still updates a stored key, adds a new
    one, keeps the last of duplicates, and never writes a key twice."""
    assert not schema.table("toxicity").indexed
    with derived_refresh.writer(db) as con:
        assert store.upsert(con, "toxicity", pd.DataFrame({"message_id": ["x:1", "x:2"], "p_toxic": [0.1, 0.2]})) == (2, 0)
        assert store.upsert(con, "toxicity", pd.DataFrame({"message_id": ["x:2", "x:3", "x:3"],
                                                           "p_toxic": [0.5, 0.3, 0.4]})) == (1, 1)
        rows = con.execute("SELECT message_id, p_toxic FROM toxicity ORDER BY 1").fetchall()
    assert rows == [("x:1", 0.1), ("x:2", 0.5), ("x:3", 0.4)]


def test_enrichment_writes_each_key_of_the_model_outputs_once(demo_db):
    """The writers keep the unindexed keys unique (sentiment, themes, toxicity of the demo store)."""
    with store.reader(demo_db) as con:
        for t in (schema.table(n) for n in ("sentiment", "themes", "toxicity")):
            keys = ", ".join(t.key)
            total, distinct = con.execute(f"SELECT count(*), count(DISTINCT ({keys})) FROM {t.name}").fetchone()
            assert total == distinct > 0, t.name


def test_frame_is_df_read_through_arrow():
    """store.frame gives what .df() gives — columns, dtypes, values, NULLs — for every type it reads from
    Arrow itself, and leaves the others (dates, decimals, lists), an empty result and repeated names to
    .df(); it also reads on a connection whose last execute() was not read to its end."""
    con = duckdb.connect()
    q = """SELECT * FROM (VALUES
      (1::BIGINT, NULL::BIGINT, 1::INTEGER, NULL::INTEGER, TRUE, NULL::BOOLEAN, 1.5::DOUBLE, NULL::DOUBLE, 'a',
       NULL::VARCHAR, TIMESTAMP '2026-01-01 10:00', NULL::TIMESTAMP, 3::UTINYINT, NULL::USMALLINT, 1.5::FLOAT, 'é'),
      (2, 3, 2, 4, FALSE, TRUE, 2.5, 1.0, 'b', 'c', TIMESTAMP '2026-01-02 10:00', TIMESTAMP '2026-01-02 10:00', 4, 5,
       NULL, '=1+1')) t(i64, i64n, i32, i32n, b, bn, f, fn, s, sn, ts, tsn, u8, u16n, f32, txt) WHERE i64 >= ?"""
    for sql, params in ((q, [0]), (q, [5]),
                        ("SELECT [1, 2] AS l, DATE '2026-01-01' AS d, 1.5::DECIMAL(4, 2) AS dec, 'x' AS s", []),
                        ("SELECT 1 AS a, 2 AS a", []), ("SELECT 'x' AS s, NULL::BIGINT AS n WHERE FALSE", []),
                        # a text column of NULLs only (every permalink of a platform missing): .df() gives objects
                        ("SELECT NULL::VARCHAR AS s, 1 AS i FROM range(3)", []), (q, [2])):
        pd.testing.assert_frame_equal(store.frame(con, sql, params), con.execute(sql, params).df())
    assert str(store.frame(con, q, [0])["i64n"].dtype) == "Int64"
    unfinished = con.execute("SELECT * FROM range(10)")
    unfinished.fetchone()
    pd.testing.assert_frame_equal(store.frame(con, q, [0]), con.execute(q, [0]).df())
    con.execute("CREATE TABLE w (a INT)")
    con.execute("BEGIN")
    con.execute("INSERT INTO w SELECT * FROM range(3) RETURNING a").fetchone()  # a write not read to its end
    assert store.frame(con, "SELECT count(*) AS n FROM w")["n"].tolist() == [3]
    con.execute("COMMIT")
