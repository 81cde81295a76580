"""AppTest helpers shared by the page tests: open one page through the router, read its tables."""

from __future__ import annotations

from pathlib import Path

import pandas as pd
from streamlit.testing.v1 import AppTest

APP = Path(__file__).resolve().parents[1] / "streamlit_app" / "app.py"


def open_page(page: str, *, period: str, role: str | None = None, query: dict[str, str] | None = None,
              timeout: float = 90) -> AppTest:
    """Run the router with ``?periode=`` and ``query``, switch to ``app_pages/<page>``, fail on an exception."""
    at = AppTest.from_file(str(APP), default_timeout=timeout)
    if role:
        at.session_state["vigie_role"] = role
    at.query_params["periode"] = period
    for k, v in (query or {}).items():
        at.query_params[k] = v
    at.run()
    at.switch_page(f"app_pages/{page}").run()
    assert not at.exception, [e.value for e in at.exception]
    return at


def frames(at: AppTest) -> list[pd.DataFrame]:
    """Every table on the page as a DataFrame (styled tables unwrapped)."""
    return [d.value.data if hasattr(d.value, "data") else d.value for d in at.dataframe]


def frame_with(at: AppTest, col: str) -> pd.DataFrame:
    """The first table holding column ``col``."""
    for d in frames(at):
        if col in d.columns:
            return d
    raise AssertionError(f"no table with {col}: {[list(d.columns) for d in frames(at)]}")


def rendered(markdown: str) -> str:
    """What a reader sees of a markdown source built with ``exports.escape_markdown``: backslash
    escapes and HTML entities resolved (the pages escape every name and text they interpolate)."""
    import html
    import re

    return html.unescape(re.sub(r"\\(.)", r"\1", markdown))
