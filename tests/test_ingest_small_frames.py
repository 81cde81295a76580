"""text_col and num_col read a small frame value by value (pandas' string methods cost a millisecond a
call whatever the length): the same values and the same rejects as the column-wise path."""

from __future__ import annotations

import numpy as np
import pandas as pd
import pytest

from analysis.ingest import meta

CELLS = ["12", " 7 ", "-3", "1.5", "407.137", "1,4", "1 234", "1\u00a0234", "12 %", "2.3x", "N/A", "-", "", None,
         float("nan"), "abc", "—", "  none ", "١٢", "1e3", "+5", "0012", "3.0", "12,345", "1.234,5", "x", "NULL",
         "Texte avec espaces  ", "\tTab\t", 42, 3.5, True]


@pytest.mark.parametrize("decimal", [None, ",", "."])
def test_small_frames_read_as_the_column_wise_path(monkeypatch, decimal):
    df = pd.DataFrame({"v": pd.Series(CELLS * 3, dtype=object)})
    df["_line"] = np.arange(len(df)) + 2
    small_rejects: list = []
    small_text = meta.text_col(df, "v")
    small_num = meta.num_col(df, "v", small_rejects, decimal=decimal)
    monkeypatch.setattr(meta, "SMALL_FRAME", -1)  # force the column-wise path
    big_rejects: list = []
    big_text = meta.text_col(df, "v")
    big_num = meta.num_col(df, "v", big_rejects, decimal=decimal)
    assert small_text.tolist() == big_text.tolist()
    pd.testing.assert_series_equal(small_num, big_num)
    assert small_rejects == big_rejects and len(small_rejects) > 0
