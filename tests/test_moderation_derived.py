"""Moderation read from the derived table ``moderation_messages`` (issue 19 item 3): the queue, its
counts and the alerts' daily counts give what the message tables give (same rows, same figures),
for any filter, threshold and analyst label; a store written before the table existed gets it
filled by its next write session."""

from __future__ import annotations

from datetime import date

import pandas as pd
import pytest

from analysis import derived, derived_refresh, store
from analysis.moderation import alerts as al
from analysis.moderation import queue as Q
from analysis.queries import Filters

FILTERS = [
    Filters(territories=("saint-aubin",), start=date(2025, 11, 1), end=date(2026, 11, 1)),
    Filters(),
    Filters(territories=("port-marel", "saint-aubin"), start=date(2026, 6, 1), end=date(2026, 7, 1),
            platforms=("facebook", "instagram")),
]


def _same_queue(con, f: Filters, threshold: float = Q.HOSTILE_THRESHOLD, include_done: bool = False) -> int:
    old = Q._queued_rows(con, f, include_done, threshold, Q.MIN_ENGAGEMENT, derived=False)
    new = Q._queued_rows(con, f, include_done, threshold, Q.MIN_ENGAGEMENT)
    pd.testing.assert_frame_equal(old.sort_values("message_id").reset_index(drop=True),
                                  new.sort_values("message_id").reset_index(drop=True), check_dtype=False)
    return len(new)


def test_the_demo_store_has_the_table_current(demo_db):
    with store.reader(demo_db) as con:
        assert derived.current_table(con, "moderation_messages")
        n = con.execute("SELECT count(*) FROM moderation_messages").fetchone()[0]
        users = con.execute(f"SELECT count(*) FROM {Q.MESSAGES} m WHERE NOT coalesce(m.is_official, FALSE)").fetchone()[0]
        assert n == users > 1000


@pytest.mark.parametrize("f", FILTERS)
def test_queue_from_the_derived_table_is_the_queue_from_the_messages(demo_db, f):
    with store.reader(demo_db) as con:
        assert _same_queue(con, f) > 0
        assert _same_queue(con, f, threshold=0.3, include_done=True) > 0


def test_queue_reads_the_derived_table_not_the_enrichment_tables(demo_db, monkeypatch):
    """The fast path really runs: no join of ``toxicity`` in the query of the queue."""
    seen: list[str] = []
    with store.reader(demo_db) as con:
        class Spy:
            def execute(self, sql, *a):
                seen.append(sql)
                return con.execute(sql, *a)

        Q.reason_counts(Spy(), FILTERS[0])
    queue_sql = [s for s in seen if "moderation_status" in s]
    assert len(queue_sql) == 1 and "FROM moderation_messages" in queue_sql[0]
    assert "toxicity t" not in queue_sql[0] and "JOIN sentiment" not in queue_sql[0]


def test_alert_daily_counts_from_the_derived_table(demo_db):
    with store.reader(demo_db) as con:
        terrs = ["saint-aubin", "port-marel", "bourg-lavandes"]
        lo, end = pd.Timestamp("2025-09-01").to_pydatetime(), pd.Timestamp("2026-11-01").to_pydatetime()
        old = al._daily_counts(con, terrs, lo, end, True, derived=False)
        new = al._daily_counts(con, terrs, lo, end, True)
        for a, b in zip(old, new, strict=True):
            keys = [c for c in ("territory_id", "grp", "day") if c in a.columns]
            pd.testing.assert_frame_equal(a.sort_values(keys).reset_index(drop=True),
                                          b.sort_values(keys).reset_index(drop=True))
        assert new[0]["hostile"].sum() > 0 and new[0]["neg"].sum() > 0 and len(new[1])


def test_analyst_labels_reach_the_derived_queue(demo_db_copy):
    """A hostility label and a sentiment correction written in a session: the refreshed table
    gives the queue the message tables give."""
    with store.reader(demo_db_copy) as con:
        f = FILTERS[0]
        q = Q._queued_rows(con, f, True, Q.HOSTILE_THRESHOLD, Q.MIN_ENGAGEMENT)
        hostile_id = q.loc[q["hostile"].astype(bool), "message_id"].iloc[0]
        calm_id = con.execute("SELECT message_id FROM moderation_messages WHERE territory_id = 'saint-aubin' "
                              "AND NOT coalesce(p_toxic >= 0.5, FALSE) AND len(coalesce(lexicon_hits, [])) = 0 "
                              "AND created_at >= '2026-01-01' ORDER BY message_id LIMIT 1").fetchone()[0]
    with derived_refresh.writer(demo_db_copy) as con:
        con.execute("INSERT INTO labels (item_id, item_type, task, value) VALUES (?, 'message', 'toxicity', "
                    "'non_hostile'), (?, 'message', 'toxicity', 'hostile'), (?, 'message', 'sentiment', 'negative')",
                    [hostile_id, calm_id, calm_id])
    with store.reader(demo_db_copy) as con:
        assert derived.current_table(con, "moderation_messages")
        new = Q._queued_rows(con, f, True, Q.HOSTILE_THRESHOLD, Q.MIN_ENGAGEMENT).set_index("message_id")
        assert calm_id in new.index and bool(new.loc[calm_id, "hostile"])
        assert hostile_id not in new.index or not bool(new.loc[hostile_id, "hostile"])
        _same_queue(con, f, include_done=True)


def test_a_store_from_before_the_table_gets_it_at_its_next_session(demo_db_copy):
    with derived_refresh.writer(demo_db_copy) as con:
        version = max(v for v, _ in __import__("analysis.schema", fromlist=["MIGRATIONS"]).MIGRATIONS
                      if any("moderation_messages" in s for s in _))
        con.execute("DROP TABLE moderation_messages")
        con.execute("DELETE FROM schema_migrations WHERE version >= ?", [version])
    with store.reader(demo_db_copy) as con:  # the table missing: readers compute from the messages
        assert not derived.current_table(con, "moderation_messages")
        assert Q.reason_counts(con, FILTERS[0])["total"] > 0
    with derived_refresh.writer(demo_db_copy):
        pass
    with store.reader(demo_db_copy) as con:
        assert derived.current_table(con, "moderation_messages")
        _same_queue(con, FILTERS[0])


@pytest.mark.parametrize("f", FILTERS[:2])
def test_author_stats_from_the_derived_table(demo_db, f):
    """Key contacts' per-author figures (the model's label, likes, locality over the visible
    territories) are those the message tables give."""
    from analysis.moderation import contacts as K

    with store.reader(demo_db) as con:
        old = K.author_stats(con, "saint-aubin", f, derived=False)
        new = K.author_stats(con, "saint-aubin", f)

    def norm(df: pd.DataFrame) -> pd.DataFrame:
        df = df.sort_values("author_hash").reset_index(drop=True)
        return df.assign(platforms=df["platforms"].map(lambda p: sorted(p)))

    assert len(new) > 100
    pd.testing.assert_frame_equal(norm(old), norm(new), check_dtype=False)


def test_author_names_kept_at_import_still_show(demo_db_copy):
    """A name kept with --keep-author-names comes from the messages (the derived table keeps none)."""
    from analysis.moderation import contacts as K

    with derived_refresh.writer(demo_db_copy) as con:
        author = con.execute("SELECT author_hash FROM moderation_messages WHERE territory_id = 'saint-aubin' "
                             "AND author_hash IS NOT NULL GROUP BY 1 ORDER BY count(*) DESC, 1 LIMIT 1").fetchone()[0]
        con.execute("UPDATE messages SET author_name = 'Camille Test' WHERE author_hash = ?", [author])
    with store.reader(demo_db_copy) as con:
        assert derived.current_table(con, "moderation_messages")
        st = K.author_stats(con, "saint-aubin", FILTERS[1]).set_index("author_hash")
        assert st.loc[author, "author_name"] == "Camille Test"
        assert st["author_name"].notna().sum() == 1
