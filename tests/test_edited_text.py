"""An edited message or post (same id, another text, from a later export or collection) loses the
scores of its old text: the next enrichment scores the new one. Before, the old scores stayed: a
comment edited into an insult kept its friendly sentiment and never reached the moderation queue."""

from __future__ import annotations

from datetime import datetime

import pandas as pd
import pytest

from analysis import enrich, store
from analysis.ingest import FileResult, Parsed, default_context, write_parsed

FRIENDLY = "Merci, c'est vraiment génial, bravo à toute l'équipe ! Les travaux du tram sont finis"
HOSTILE = "Quelle honte, bande de nuls, c'est nul et scandaleux, rien ne marche à la piscine"
T0 = datetime(2026, 11, 1, 12)


def _put(con, table: str, rows: dict) -> FileResult:
    p = Parsed(format="test", rows_read=1)
    p.tables[table] = pd.DataFrame(rows)
    with store.transaction(con):
        return write_parsed(con, p, default_context(), FileResult(path="x"), path="x")


def _message(con, text: str, mid: str = "facebook:m1") -> None:
    _put(con, "messages", {"message_id": [mid], "platform": "facebook", "kind": "comment",
                           "created_at": [T0], "text": [text]})


def _scores(con, item: str = "facebook:m1") -> tuple:
    return (con.execute("SELECT label FROM sentiment WHERE item_id = ?", [item]).fetchall(),
            con.execute("SELECT theme FROM themes WHERE item_id = ? ORDER BY 1", [item]).fetchall(),
            con.execute("SELECT p_toxic FROM toxicity WHERE message_id = ?", [item]).fetchall())


def test_an_edited_message_is_scored_again_and_its_old_text_forgotten(db):
    con = store.connect(db)
    _message(con, FRIENDLY)
    _message(con, FRIENDLY, "facebook:m2")  # another message with the same text
    enrich.run(con)
    before = _scores(con)
    assert before[0] == [("positive",)] and before[2]
    con.execute("INSERT INTO labels VALUES ('facebook:m1', 'message', 'toxicity', 'ok', 'analyste', ?)", [T0])

    _message(con, FRIENDLY)  # the same text again: nothing is stale, nothing deleted
    assert _scores(con) == before

    _message(con, HOSTILE)
    assert _scores(con) == ([], [], [])  # the old text's scores are gone
    assert con.execute("SELECT count(*) FROM labels").fetchone()[0] == 0  # and the label set on it, audited
    assert con.execute("SELECT action FROM audit_log").fetchall() == [("label.dropped_on_edit",)]
    # the old text's keys stay while another message holds it
    assert con.execute("SELECT count(*) FROM text_keys WHERE text = ?", [FRIENDLY]).fetchone()[0] == 1
    enrich.run(con)
    after = _scores(con)
    assert after[0] == [("negative",)] and after[1] != before[1] and after[2][0][0] > before[2][0][0]
    assert _scores(con, "facebook:m2") == before  # the other message is untouched

    _message(con, HOSTILE, "facebook:m2")  # the last copy of the old text goes: so do its keys
    assert con.execute("SELECT count(*) FROM text_keys WHERE text = ?", [FRIENDLY]).fetchone()[0] == 0
    con.close()


def test_an_edited_post_loses_its_scores_and_a_missing_text_is_not_an_edit(db):
    con = store.connect(db)
    post = {"post_id": ["facebook:p1"], "platform": "facebook", "created_at": [T0]}
    _put(con, "posts", {**post, "text": [FRIENDLY]})
    enrich.run(con)
    assert _scores(con, "facebook:p1")[0] == [("positive",)]
    _put(con, "posts", {**post, "text": [None], "likes": [4]})  # a file without the text: not an edit
    assert _scores(con, "facebook:p1")[0] == [("positive",)]
    _put(con, "posts", {**post, "text": [HOSTILE]})
    assert _scores(con, "facebook:p1")[0] == []
    con.close()


@pytest.mark.parametrize("stage", [True, False])
def test_upsert_reports_replaced_texts_on_every_path(db, stage):
    con = store.connect(db)
    rows = {"message_id": ["x:1", "x:2"], "platform": "x", "text": ["a", "b"]}
    store.upsert(con, "messages", pd.DataFrame(rows))
    edited: list = []
    # a repeated key takes the staged path (the last row wins), distinct keys the fast one
    for df in (pd.DataFrame({"message_id": ["x:1", "x:3"], "platform": "x", "text": ["a2", "c"]}),
               pd.DataFrame({"message_id": ["x:2", "x:2"], "platform": "x", "text": ["b", "b2"]})):
        store.upsert(con, "messages", df, stage=stage, text_changed=edited)
    assert sorted(edited) == [("x:1", "a"), ("x:2", "b")]
    con.close()


def test_an_insult_edited_in_after_a_decision_reaches_the_queue_again(db):
    """A friendly comment an analyst labelled « non hostile » and a moderator closed (« répondu »),
    then edited by its author into an insult: the label judged a text that is gone (it is withdrawn,
    who set it kept in audit_log) and the decision is reopened, so the insult is queued as hostile."""
    from analysis.moderation.queue import queue, set_status
    from analysis.queries import Filters

    con = store.connect(db)
    _put(con, "messages", {"message_id": ["facebook:m1"], "platform": "facebook", "kind": "comment",
                           "created_at": [T0], "text": [FRIENDLY], "territory_id": ["saint-aubin"]})
    enrich.run(con)
    con.execute("INSERT INTO labels VALUES ('facebook:m1', 'message', 'toxicity', 'non_hostile', 'analyste', ?)", [T0])
    con.execute("INSERT INTO labels VALUES ('facebook:m1', 'message', 'sentiment', 'positive', 'analyste', ?)", [T0])
    set_status(con, "facebook:m1", "repondu", by_user="moderatrice")
    assert queue(con, Filters(territories=("saint-aubin",))).empty

    _put(con, "messages", {"message_id": ["facebook:m1"], "text": [HOSTILE + ", connards"]})
    enrich.run(con)
    q = queue(con, Filters(territories=("saint-aubin",)))
    assert q["message_id"].tolist() == ["facebook:m1"] and "hostile" in q["reason_codes"].iloc[0]
    status, by, note = con.execute("SELECT status, by_user, note FROM moderation_status").fetchone()
    assert (status, by) == ("a_traiter", "vigie") and "répondu" in note and "moderatrice" in note
    assert con.execute("SELECT count(*) FROM labels").fetchone()[0] == 0
    actions = [r[0] for r in con.execute('SELECT action FROM audit_log ORDER BY "at", action').fetchall()]
    assert actions.count("label.dropped_on_edit") == 1 and actions.count("moderation.reopened_on_edit") == 1
    detail = con.execute("SELECT detail FROM audit_log WHERE action = 'label.dropped_on_edit'").fetchone()[0]
    assert "non_hostile" in detail and "analyste" in detail
    con.close()


def test_another_export_of_the_same_words_keeps_peoples_decisions(db):
    """Another export of the same comment that only spaces, cases or cuts it (« … ») is no rewording:
    the analyst's label and the moderator's decision stay (its scores are recomputed, which costs
    nothing to anyone). Words added after the cut are a rewording."""
    from analysis.ingest import same_words
    from analysis.moderation.queue import set_status

    long = FRIENDLY + " et le marché de Noël était superbe cette année"
    assert same_words(long, "  " + long.upper().replace(" ", "  ") + " ")
    assert same_words(long[:40] + "…", long) and same_words(long, long[:40] + "...")
    assert not same_words(long, long + ", bande de nuls") and not same_words("Bravo…", "Bravo, bande de nuls")
    con = store.connect(db)
    _message(con, long)
    con.execute("INSERT INTO labels VALUES ('facebook:m1', 'message', 'toxicity', 'non_hostile', 'analyste', ?)", [T0])
    set_status(con, "facebook:m1", "repondu", by_user="moderatrice")
    for other_export in (long[:60] + "…", " ".join(long.split()).upper(), long):
        _message(con, other_export)
        assert con.execute("SELECT count(*) FROM labels").fetchone()[0] == 1
        assert con.execute("SELECT status FROM moderation_status").fetchone()[0] == "repondu"
    _message(con, long + ", bande de nuls")
    assert con.execute("SELECT count(*) FROM labels").fetchone()[0] == 0
    assert con.execute("SELECT status FROM moderation_status").fetchone()[0] == "a_traiter"
    con.close()
