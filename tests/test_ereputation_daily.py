"""E-réputation counts summed from ``daily_sentiment`` (issue 19 item 3): every grouping the pages
use (territory, platform, a focus/peers CASE, pooled; per day, week, month or none) gives the
counts the join of the messages with their sentiment gives; other groupings and bounds with a
time of day still read the messages."""

from __future__ import annotations

from datetime import date, datetime

import pandas as pd
import pytest

from analysis import store
from analysis.ereputation import core as C
from analysis.queries import Filters

YEAR = Filters(start=date(2025, 11, 1), end=date(2026, 11, 1))
CASES = [
    (YEAR, {"territory_id": "territory_id"}, None, ()),
    (YEAR, {"territory_id": "territory_id"}, "day", ()),
    (YEAR.with_territories(("saint-aubin",)), {"platform": "platform"}, "week", ()),
    (Filters(start=date(2026, 3, 1), end=date(2026, 4, 1), platforms=("facebook",)), {}, None, ()),
    (YEAR, {}, "month", ()),
    (YEAR.with_territories(("saint-aubin", "port-marel")),
     {"series": "CASE WHEN territory_id IN (?) THEN 'focus' ELSE 'peers' END"}, "week", ("saint-aubin",)),
    (Filters(territories=("nulle-part",), start=date(2026, 1, 1), end=date(2026, 2, 1)), {}, None, ()),
]


class _Spy:
    """The connection ``con``, the SQL of each ``execute`` noted in ``seen``."""

    def __init__(self, con, seen: list[str]) -> None:
        self._con, self._seen = con, seen

    def execute(self, sql, *a):
        self._seen.append(sql)
        return self._con.execute(sql, *a)

    def __getattr__(self, name):
        return getattr(self._con, name)


@pytest.mark.parametrize(("f", "keys", "freq", "key_params"), CASES)
def test_counts_from_the_daily_table_are_the_counts_from_the_messages(demo_db, f, keys, freq, key_params):
    with store.reader(demo_db) as con:
        seen: list[str] = []
        new = C._counts(_Spy(con, seen), f, keys, freq, key_params)
        old = C._counts(con, f, keys, freq, key_params, derived=False)
    assert any("FROM daily_sentiment" in s for s in seen)
    pd.testing.assert_frame_equal(old, new)
    assert new["messages"].sum() > 0 or "nulle-part" in f.territories


def test_groupings_the_daily_table_lacks_read_the_messages(demo_db):
    assert not C._daily_keys({"current": "m.created_at >= ?"})
    assert not C._daily_keys({"account_id": "account_id"})
    assert C._daily_keys({"series": "CASE WHEN territory_id IN ('a', 'b') THEN 'focus' ELSE 'peers' END"})
    with store.reader(demo_db) as con:
        f = Filters(start=datetime(2026, 3, 1, 12), end=date(2026, 4, 1))  # a time of day: not whole days
        seen: list[str] = []
        C._counts(_Spy(con, seen), f, {"territory_id": "territory_id"})
    assert not any("daily_sentiment" in s for s in seen)


@pytest.mark.parametrize("f", [
    Filters(territories=("saint-aubin",), start=date(2026, 9, 1), end=date(2026, 10, 1)),  # a month: the month before
    Filters(start=date(2026, 3, 3), end=date(2026, 3, 17), platforms=("facebook",)),  # a span: the span before
    Filters(territories=("port-marel",), start=date(2020, 1, 1), end=date(2020, 2, 1)),  # no data either side
])
def test_change_vs_previous_sums_the_daily_table_to_the_one_scan_figures(demo_db, f, monkeypatch):
    """Whole days: each period summed from ``daily_sentiment``; the same table as the one scan of
    both periods the messages give (the path a time of day still takes)."""
    with store.reader(demo_db) as con:
        seen: list[str] = []
        new = C.change_vs_previous(_Spy(con, seen), f)
        monkeypatch.setattr(C.derived_tables, "usable", lambda *a, **k: False)
        old = C.change_vs_previous(con, f)
    assert sum("FROM daily_sentiment" in s for s in seen) == 2  # the period and the one before
    assert not any("created_at" in s for s in seen), seen  # no message read (the check of the tables' state counts them)
    pd.testing.assert_frame_equal(old, new)
