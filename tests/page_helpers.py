"""AppTest helpers shared by the page tests: open one page through the router, read its tables."""

from __future__ import annotations

import ast
import functools
from pathlib import Path

import pandas as pd
from streamlit.testing.v1 import AppTest

APP = Path(__file__).resolve().parents[1] / "streamlit_app" / "app.py"


@functools.cache
def router_pages() -> tuple[tuple[str, str, str, str], ...]:
    """The router's own list (``streamlit_app/app.py``: PAGES), read once without running the app:
    (file in app_pages/, French title, icon, URL path), in menu order."""
    tree = ast.parse(APP.read_text(encoding="utf-8"))
    for node in ast.walk(tree):
        if isinstance(node, ast.AnnAssign) and getattr(node.target, "id", None) == "PAGES":
            return tuple(tuple(p) for p in ast.literal_eval(node.value))
    raise AssertionError("PAGES not found in app.py")


URL_PATHS = {p[0]: p[3] for p in router_pages()}


def linked_page(page: str, query: dict[str, str] | None = None, role: str | None = None,
                timeout: float = 90) -> AppTest:
    """An AppTest of ``app_pages/<page>`` (``synthese`` or ``synthese.py``) opened as a link opens it:
    the first run asks the router for the page by its URL path (``st.Page`` hashes it; Streamlit's
    frontend sends the same hash for a link), so the router draws that page and only it. Running the
    router first and then ``switch_page`` drew the home page too, on every test (≈ 0,6 s of CPU when
    its filters were new). Not run yet: the caller may set more state, then ``run()``."""
    from streamlit.util import calc_hash

    at = AppTest.from_file(str(APP), default_timeout=timeout)
    for k, v in (query or {}).items():
        at.query_params[k] = v
    if role:
        at.session_state["vigie_role"] = role
    at._page_hash = calc_hash(URL_PATHS[page if page.endswith(".py") else f"{page}.py"])
    return at


def open_page(page: str, *, period: str, role: str | None = None, query: dict[str, str] | None = None,
              timeout: float = 90) -> AppTest:
    """``app_pages/<page>`` opened from a link with ``?periode=`` and ``query``; fail on an exception."""
    at = linked_page(page, {"periode": period, **(query or {})}, role, timeout).run()
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
