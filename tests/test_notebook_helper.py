"""Notebook helper (issue 22 item 6): the current published store, French labels and formats."""

from __future__ import annotations

from datetime import date, datetime

import pandas as pd

from analysis import notebook as nb
from analysis import store


def _message(mid: str, text: str) -> pd.DataFrame:
    return pd.DataFrame([{"message_id": mid, "platform": "facebook", "kind": "comment", "text": text,
                          "created_at": datetime(2026, 10, 5, 9), "is_official": False}])


def test_helper_sees_a_write_without_closing_anything(db):
    with store.writer(db) as con:
        store.upsert(con, "messages", _message("facebook:1", "Bonjour"))
    helper = nb.open_store(db)
    old = store.connect(db, read_only=True)  # a connection the notebook keeps open, as before
    assert helper.value("SELECT count(*) FROM messages") == 1
    assert old.execute("SELECT count(*) FROM messages").fetchone()[0] == 1
    with store.writer(db) as con:  # an import or a correction meanwhile
        store.upsert(con, "messages", _message("facebook:2", "Merci"))
    # nothing closed: the helper reads the copy just published (the old connection still sees 1)
    assert helper.value("SELECT count(*) FROM messages") == 2
    assert helper.sql("SELECT message_id FROM messages ORDER BY 1")["message_id"].tolist() == ["facebook:1",
                                                                                              "facebook:2"]
    assert nb.open_store(db).value("SELECT count(*) FROM messages") == 2  # a new helper too
    old.close()
    helper.close()


def test_table_is_french_by_default():
    df = pd.DataFrame({"theme": ["cadre_de_vie_environnement"], "platform": ["facebook"],
                       "negative_share": [0.1234], "messages": [1234], "net_sentiment": [-0.05],
                       "period": [pd.Timestamp("2026-10-01")]})
    out = nb.table(df)
    row = out.iloc[0].to_dict()
    assert row["Thème"] != "cadre_de_vie_environnement" and "_" not in row["Thème"]
    assert row["Plateforme"] == "Facebook"
    assert row["Part négative"] == "12,3\u00a0%"
    assert row["Messages"] == "1\u202f234"
    assert row["Sentiment net"] in ("-5,0\u00a0%", "\u22125,0\u00a0%")  # the minus sign is analysis.fmt's choice
    assert row["Période"] == "1 oct. 2026"


def test_period_is_printed_with_its_last_day():
    assert nb.period(date(2026, 10, 1), date(2026, 11, 1)) == "du 1 oct. 2026 au 31 oct. 2026"
    assert nb.period(date(2026, 10, 1), date(2026, 10, 31), end_included=True) == "du 1 oct. 2026 au 31 oct. 2026"
