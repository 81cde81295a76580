"""Where an enrichment pass stopped (analysis.enrich._Marks, issue 19 item 2): the next pass reads only
the rows above its marks and writes exactly what a pass over every row writes; anything the marks
cannot vouch for (a score deleted behind their back, a text updated in place, another model) makes the
pass look at every row again."""

from __future__ import annotations

from datetime import datetime

import pandas as pd

from analysis import derived, enrich, store
from analysis.ingest import FileResult, Parsed, default_context, write_parsed

TASKS = ["keys", "moderation", "sentiment", "topics"]
T0 = datetime(2026, 11, 1, 12)


def _seed(path) -> None:
    con = store.connect(path)
    store.upsert(con, "messages", pd.DataFrame({
        "message_id": [f"facebook:m{i:03d}" for i in range(60)], "platform": "facebook", "kind": "comment",
        "created_at": [T0] * 60,
        "text": [["Merci pour votre aide !", "Quelle honte ce service, bande de nuls", "Quand ouvre la piscine ?",
                  "Pas terrible ce nouveau parking", None][i % 5] for i in range(60)]}))
    store.upsert(con, "posts", pd.DataFrame({
        "post_id": ["facebook:p1", "facebook:p2"], "platform": "facebook", "created_at": [T0] * 2,
        "text": ["La réunion publique aura lieu lundi", "Travaux rue Pasteur"]}))
    con.close()


def _write(con, messages: pd.DataFrame) -> None:
    """Messages written as an import or a collection writes them (edits included)."""
    parsed = Parsed(format="test", rows_read=len(messages))
    parsed.tables["messages"] = messages
    with store.transaction(con):
        write_parsed(con, parsed, default_context(), FileResult(path="test"), path="test", log_import=False)


def _pass(con) -> list[str]:
    timings: dict = {}
    enrich.run(con, timings=timings)
    return timings["incremental"]


def _results(path) -> dict[str, list]:
    with store.reader(path) as con:
        return {
            "sentiment": con.execute("SELECT item_id, item_type, model_version, lang, label, p_negative "
                                     "FROM sentiment ORDER BY ALL").fetchall(),
            "themes": con.execute("SELECT * FROM themes ORDER BY ALL").fetchall(),
            "toxicity": con.execute("SELECT message_id, model_version, p_toxic, is_question FROM toxicity "
                                    "ORDER BY ALL").fetchall(),
            "text_keys": con.execute("SELECT text, version FROM text_keys ORDER BY ALL").fetchall(),
        }


def _day(con) -> None:
    """One more day: new messages (one text already known), three edited texts, a message whose only
    change is a column no derived table reads (moved, its text unchanged), one erased through forget_rows."""
    _write(con, pd.DataFrame({
        "message_id": [f"facebook:n{i}" for i in range(4)], "platform": "facebook", "kind": "comment",
        "created_at": [T0] * 4,
        "text": ["Bravo pour le marché de Noël", "c0nnard de maire", "Merci pour votre aide !", None]}))
    _write(con, pd.DataFrame({"message_id": ["facebook:m000", "facebook:m001", "facebook:m007"],
                              "text": ["Merci, finalement c'est décevant", "Bande de nuls, vraiment",
                                       "Quand ouvre la médiathèque ?"]}))
    _write(con, pd.DataFrame({"message_id": ["facebook:m003"], "edited_at": [T0]}))
    derived.forget_rows(con, "messages", "message_id = 'facebook:m010'", "SELECT 'facebook:m010' AS message_id")
    derived.forget_scores(con, "message", "SELECT 'facebook:m010'", "SELECT 'facebook:m010' AS message_id")


def _day_then_pass(path, marks: bool) -> list[str]:
    """Seed, score every row, write one more day and score again, in one write session (a CHECKPOINT may
    renumber the rows of a small table: see the last test)."""
    _seed(path)
    with store.writer(path) as con:
        assert _pass(con) == []  # no marks yet: every row
        assert con.execute("SELECT count(*) FROM enrich_marks").fetchone()[0] == 6  # 4 tasks, 2 sources for 2
        assert _pass(con) == TASKS  # nothing new: every mark holds
        _day(con)
        assert con.execute("SELECT rowid FROM messages WHERE message_id = 'facebook:m003'").fetchone()[0] > 60
        if not marks:
            con.execute("DELETE FROM enrich_marks")
        return _pass(con)


def test_a_pass_above_the_marks_writes_what_a_pass_over_every_row_writes(tmp_path):
    assert _day_then_pass(tmp_path / "marks.duckdb", marks=True) == TASKS
    assert _day_then_pass(tmp_path / "full.duckdb", marks=False) == []
    assert _results(tmp_path / "marks.duckdb") == _results(tmp_path / "full.duckdb")
    with store.reader(tmp_path / "marks.duckdb") as con:  # the moved row scored again, the erased one not
        assert con.execute("SELECT count(*) FROM sentiment WHERE item_id = 'facebook:m003'").fetchone()[0] == 1
        assert con.execute("SELECT count(*) FROM sentiment WHERE item_id = 'facebook:m010'").fetchone()[0] == 0
        assert con.execute("SELECT count(*) FROM sentiment").fetchone()[0] == 59 + 4 + 2


def test_what_the_marks_cannot_vouch_for_makes_the_pass_read_every_row(db):
    _seed(db)
    with store.writer(db) as con:
        _pass(con)
        # a score deleted behind the marks' back: looked for everywhere, and found
        con.execute("DELETE FROM sentiment WHERE item_id = 'facebook:m005'")
        assert "sentiment" not in _pass(con)
        assert con.execute("SELECT count(*) FROM sentiment WHERE item_id = 'facebook:m005'").fetchone()[0] == 1
        # a post's text updated in place: the tasks that read posts read every row
        con.execute("UPDATE posts SET text = 'Quelle honte ces travaux' WHERE post_id = 'facebook:p2'")
        con.execute("DELETE FROM sentiment WHERE item_id = 'facebook:p2'")  # as forget_rows does for an edit
        assert _pass(con) == ["keys", "moderation"]
        assert con.execute("SELECT label FROM sentiment WHERE item_id = 'facebook:p2'").fetchone()[0] == "negative"
        # another model: every row
        con.execute("UPDATE enrich_marks SET version = 'an older model' WHERE task = 'moderation'")
        assert "moderation" not in _pass(con)
        assert _pass(con) == TASKS


def test_rows_renumbered_by_a_checkpoint_make_the_pass_read_every_row(db):
    """DuckDB's CHECKPOINT may rewrite a row group without its deleted rows, renumbering those after
    them: the marks no longer vouch for the rows up to them."""
    _seed(db)
    with store.writer(db) as con:
        _pass(con)
        _day(con)
        assert con.execute("SELECT max(rowid) FROM messages").fetchone()[0] == 67
    with store.writer(db) as con:
        assert con.execute("SELECT max(rowid) FROM messages").fetchone()[0] == 62  # the 4 rows deleted: renumbered
        _write(con, pd.DataFrame({"message_id": ["facebook:n9"], "platform": "facebook", "kind": "comment",
                                  "created_at": [T0], "text": ["Quelle belle fête"]}))
        assert _pass(con) == []
        assert con.execute("SELECT count(*) FROM sentiment WHERE item_id = 'facebook:n9'").fetchone()[0] == 1
        assert _pass(con) == TASKS


def test_a_mark_damaged_by_hand_only_costs_a_pass_over_every_row(db):
    _seed(db)
    with store.writer(db) as con:
        _pass(con)
        con.execute("UPDATE enrich_marks SET top = NULL WHERE task = 'sentiment' AND source = 'posts'")
        con.execute("UPDATE enrich_marks SET source = 'ailleurs' WHERE task = 'keys'")
        assert _pass(con) == ["moderation", "topics"]
        assert _pass(con) == TASKS  # written again by that pass


def test_a_forced_pass_scores_every_row_whatever_the_marks(db):
    from analysis.moderation import scoring

    _seed(db)
    with store.writer(db) as con:
        _pass(con)
        assert scoring.enrich(con) == 0  # its mark holds: nothing new
        assert scoring.enrich(con, force=True) == 60
        assert _pass(con) == TASKS
