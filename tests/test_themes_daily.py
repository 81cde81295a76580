"""The Thématiques page's shares and tone per theme summed from ``daily_themes_utc`` (issue 19 item 3)
give exactly what the message tables give; instants, other groupings and stale tables read the
message tables."""

from __future__ import annotations

from datetime import date, datetime

import pandas as pd
import pytest

from analysis import derived, derived_refresh, store
from analysis.queries import Filters
from analysis.topics import reads, views

FILTERS = [
    Filters((), date(2025, 11, 1), date(2026, 11, 1)),
    Filters(("saint-aubin",), date(2026, 3, 1), date(2026, 4, 1)),
    Filters(("saint-aubin", "port-marel"), date(2026, 9, 1), date(2026, 11, 1), ("facebook", "x")),
    Filters((), date(2024, 1, 1), date(2024, 1, 2)),  # before the data: empty frames
]
CALLS = {
    "theme_shares month by territory": lambda con, f, d: reads.theme_shares(con, f, derived_ok=d),
    "theme_shares whole period": lambda con, f, d: reads.theme_shares(con, f, freq=None, by=(), derived_ok=d),
    "theme_shares week by platform": lambda con, f, d: reads.theme_shares(con, f, freq="week",
                                                                           by=("territory_id", "platform"), derived_ok=d),
    "sentiment_by_theme": lambda con, f, d: reads.sentiment_by_theme(con, f, derived_ok=d),
    "posts_vs_conversation": lambda con, f, d: reads.posts_vs_conversation(con, f, derived_ok=d),
}


@pytest.fixture(scope="module")
def db_copy(demo_db, tmp_path_factory):
    """A writable copy of the test store, its derived tables refreshed (the migration adds the table)."""
    import shutil

    dst = tmp_path_factory.mktemp("themes_daily") / "demo.duckdb"
    shutil.copyfile(demo_db, dst)
    with derived_refresh.writer(dst):
        pass
    return dst


@pytest.fixture(scope="module")
def con(db_copy):
    with store.reader(db_copy) as c:
        yield c


@pytest.mark.parametrize("name", list(CALLS))
def test_the_daily_table_gives_the_figures_of_the_message_tables(con, name):
    for f in FILTERS:
        assert reads._daily(con, f, True, ("territory_id", "platform"))  # answered from the daily tables
        fast = CALLS[name](con, f, True)
        slow = CALLS[name](con, f, False)
        pd.testing.assert_frame_equal(fast, slow, check_dtype=False)
        assert fast["theme"].nunique() > 3 or f.end < date(2025, 1, 1)


def test_themed_share_from_the_daily_table_is_that_of_the_message_tables(con):
    multi, none = con.execute(
        "SELECT count(*) FILTER (WHERE n > 1), count(*) FILTER (WHERE has_none) FROM (SELECT item_id, count(*) AS n, "
        "bool_or(theme = 'none') AS has_none FROM themes WHERE item_type = 'message' GROUP BY 1)").fetchone()
    assert multi > 1000 and none > 1000  # messages of several themes and of none: each counted once
    assert derived.usable(con, FILTERS[0], "daily_themes_utc", "first_theme")
    for f in FILTERS:
        fast, slow = views.themed_share(con, f), views.themed_share(con, f, derived_ok=False)
        assert fast == slow, f
        assert fast is None or 0.3 < fast < 1


def test_a_store_before_the_column_reads_the_message_tables(db_copy, tmp_path):
    import shutil

    old = tmp_path / "old.duckdb"
    shutil.copyfile(db_copy, old)
    c = store.connect(old)
    try:
        c.execute("ALTER TABLE daily_themes_utc DROP COLUMN first_theme")  # as a read copy from before migration 10
        assert derived.usable(c, FILTERS[0], "daily_themes_utc") and not derived.usable(
            c, FILTERS[0], "daily_themes_utc", "first_theme")
        assert views.themed_share(c, FILTERS[0]) == views.themed_share(c, FILTERS[0], derived_ok=False)
    finally:
        c.close()


def test_instants_other_groups_and_stale_tables_read_the_message_tables(con, db_copy):
    assert reads._daily(con, FILTERS[0], True)
    assert not reads._daily(con, FILTERS[0], False)
    assert not reads._daily(con, Filters((), datetime(2025, 11, 1, 12), date(2026, 11, 1)), True)
    assert not reads._daily(con, Filters((), None, date(2026, 11, 1)), True)
    assert not reads._daily(con, FILTERS[0], True, by=("kind",))
    with store.writer(db_copy, refresh=lambda c: None) as w:  # a session without the rebuild
        w.execute("UPDATE messages SET likes = coalesce(likes, 0) + 1 WHERE message_id = "
                  "(SELECT min(message_id) FROM messages)")
        w.execute("DELETE FROM derived_state")
    c = store.connect(db_copy)  # the store itself: the module's reader keeps the copy it opened
    try:
        assert not reads._daily(c, FILTERS[0], True)
    finally:
        c.close()
