"""Look at a file's bytes and say what it is: container, encoding, delimiter, first rows.

Formats are detected from content, never from the file name (users rename exports).
"""

from __future__ import annotations

import csv
import io
import json
import re
import zipfile
from dataclasses import dataclass, field
from datetime import datetime
from pathlib import Path
from typing import Any

from analysis.fmt import fr_count, fr_plural
from analysis.ingest.errors import ImportFailure
from analysis.ingest.safety import check_zip

HEAD_BYTES = 256 * 1024
PROBE_ROWS = 40
csv.field_size_limit(64 * 1024 * 1024)


@dataclass
class Probe:
    """What the sniffer saw. Adapters decide from this whether a file is theirs."""

    path: Path
    size: int
    head: bytes
    kind: str  # csv, xlsx, spreadsheetml, xls, html, json, jsonl, js, zip, text, binary, empty
    encoding: str | None = None
    text_head: str = ""
    preamble: list[str] = field(default_factory=list)  # 'sep=,' line, if any
    delimiter: str | None = None
    rows: list[list[str]] = field(default_factory=list)  # first CSV rows after the sep= line
    sheets: dict[str, list[list[Any]]] = field(default_factory=dict)  # first rows of each sheet
    json_head: Any = None  # first JSON document (first line of JSONL, or parsed JS/JSON head)

    def first_cells(self, n: int = 6) -> list[str]:
        """First non-empty header-ish cells, for error messages."""
        rows = self.rows or next(iter(self.sheets.values()), [])
        for r in rows[:10]:
            cells = [str(c) for c in r if c not in (None, "")]
            if len(cells) >= 2:
                return cells[:n]
        return []


def detect_encoding(raw: bytes, truncated: bool = False) -> str:
    """BOM first; then UTF-16 without BOM by NUL pattern; then UTF-8; else Windows-1252.

    ``truncated``: ``raw`` is the head of a longer file, so a multi-byte character cut at the
    very end is not evidence against UTF-8.
    """
    if raw.startswith(b"\xef\xbb\xbf"):
        return "utf-8-sig"
    if raw.startswith(b"\xff\xfe"):
        return "utf-16"
    if raw.startswith(b"\xfe\xff"):
        return "utf-16"
    sample = raw[:4000]
    if len(sample) >= 4:
        even_nul = sample[1::2].count(0) / max(1, len(sample[1::2]))
        odd_nul = sample[0::2].count(0) / max(1, len(sample[0::2]))
        if even_nul > 0.4 and odd_nul < 0.05:
            return "utf-16-le"
        if odd_nul > 0.4 and even_nul < 0.05:
            return "utf-16-be"
    try:
        raw.decode("utf-8")
        return "utf-8"
    except UnicodeDecodeError as e:
        # A cut in the middle of a multi-byte char at the end of a head sample is not an error.
        if truncated and e.start >= len(raw) - 3 and e.reason == "unexpected end of data":
            return "utf-8"
        return "cp1252"


def decode(raw: bytes, encoding: str) -> str:
    text = raw.decode(encoding, errors="strict" if encoding != "cp1252" else "replace")
    return text.lstrip("\ufeff")


def read_text(path: Path, encoding: str | None = None) -> tuple[str, str]:
    """Whole file as text with the detected (or given) encoding."""
    raw = Path(path).read_bytes()
    enc = encoding or detect_encoding(raw)
    try:
        return decode(raw, enc), enc
    except UnicodeDecodeError as e:
        line = raw[: e.start].count(b"\n") + 1
        if enc == "utf-8":
            return decode(raw, "cp1252"), "cp1252"
        raise ImportFailure(f"Encodage {enc} invalide dans {path}", line=line) from e


def _strip_sep_line(text: str) -> tuple[list[str], str, str | None]:
    """Remove Excel's ``sep=,`` hint line; return (preamble, rest, delimiter it declares)."""
    m = re.match(r"\s*sep=(.)\s*\r?\n", text)
    if m:
        return [m.group(0).strip()], text[m.end():], m.group(1)
    return [], text, None


def sniff_delimiter(text: str) -> str:
    """Pick the delimiter giving the most consistent multi-column rows among , ; TAB |."""
    lines = [ln for ln in text.splitlines()[:60] if ln.strip()]
    sample = "\n".join(lines)
    best, best_score = ",", -1.0
    for d in [",", ";", "\t", "|"]:
        try:
            rows = list(csv.reader(io.StringIO(sample), delimiter=d))
        except csv.Error:
            continue
        widths = [len(r) for r in rows if len(r) > 1]
        if not widths:
            continue
        mode = max(set(widths), key=widths.count)
        consistency = widths.count(mode) / len(rows)
        score = consistency * min(mode, 50) + (0.01 if d == "," else 0)
        if score > best_score:
            best, best_score = d, score
    return best


def csv_rows(text: str, delimiter: str) -> list[list[str]]:
    return list(csv.reader(io.StringIO(text, newline=""), delimiter=delimiter))


class Workbook(dict):
    """Rows of each sheet by sheet name, with what reading them had to repair.

    ``notes`` (French) are meant for the import notes; ``encoding`` is the text encoding
    the cells were read in (SpreadsheetML only, else None).
    """

    def __init__(self, *args: Any, **kw: Any) -> None:
        super().__init__(*args, **kw)
        self.notes: list[str] = []
        self.encoding: str | None = None


_XML_ENCODING = re.compile(rb"""^\s*<\?xml[^>]*\bencoding\s*=\s*["']([A-Za-z0-9._-]+)["']""")


def _repair_utf8(data: bytes) -> tuple[bytes, int, int | None]:
    """Invalid UTF-8 sequences replaced by U+FFFD: ``(bytes, replaced characters, first line)``.

    Real legacy Insights workbooks declare UTF-8 but carry a few stray bytes in text cells
    (a Windows-1252 character pasted into a post): the file is kept, each bad sequence
    becomes one U+FFFD and the count is reported.
    """
    text = data.decode("utf-8", errors="replace")
    replaced = text.count("\ufffd") - data.decode("utf-8", errors="ignore").count("\ufffd")
    if not replaced:
        return data, 0, None
    # Line of the first U+FFFD (a genuine one of the file would come first: a hint, not a proof).
    return text.encode("utf-8"), replaced, text.count("\n", 0, text.index("\ufffd")) + 1


def _spreadsheetml_rows(data: bytes, max_rows: int | None = None) -> Workbook:
    """Parse SpreadsheetML 2003 XML (the '.xls' that is not Excel) into rows per sheet.

    ``ss:Type="DateTime"`` cells (ISO 8601 local wall time, ``2017-07-22T05:30:00.000``) become
    naive ``datetime`` values, as openpyxl gives them for xlsx; ``Number`` cells become floats.
    A file declaring UTF-8 (or nothing) whose text cells hold invalid UTF-8 bytes is read with
    each bad sequence replaced by U+FFFD, the count in ``notes``.
    """
    from lxml import etree

    ns = "{urn:schemas-microsoft-com:office:spreadsheet}"
    parser = etree.XMLParser(resolve_entities=False, no_network=True, huge_tree=True)
    out = Workbook()
    m = _XML_ENCODING.match(data[:200])
    declared = m.group(1).decode("ascii").lower() if m else None
    out.encoding = declared or "utf-8"
    try:
        root = etree.fromstring(data, parser)
    except etree.XMLSyntaxError as e:
        repaired, n, line = (_repair_utf8(data) if declared in (None, "utf-8", "utf8")
                             and not data.startswith((b"\xff\xfe", b"\xfe\xff")) else (data, 0, None))
        if not n:
            raise ImportFailure(f"XML SpreadsheetML illisible : {e}", line=getattr(e, "lineno", None)) from e
        try:
            root = etree.fromstring(repaired, parser)
        except etree.XMLSyntaxError as e2:
            raise ImportFailure(f"XML SpreadsheetML illisible : {e2}", line=getattr(e2, "lineno", None)) from e2
        out.encoding = "utf-8"
        out.notes.append(f"{fr_count(n, 'caractère illisible', 'caractères illisibles')} (octets UTF-8 invalides, le premier ligne "
                         f"{line} du fichier XML) {fr_plural(n, 'remplacé')} par « \ufffd »")
    for ws in root.iter(f"{ns}Worksheet"):
        name = ws.get(f"{ns}Name") or f"Sheet{len(out) + 1}"
        rows: list[list[Any]] = []
        for row in ws.iter(f"{ns}Row"):
            cells: list[Any] = []
            for cell in row.iter(f"{ns}Cell"):
                idx = cell.get(f"{ns}Index")
                if idx:
                    while len(cells) < int(idx) - 1:
                        cells.append(None)
                d = cell.find(f"{ns}Data")
                val: Any = None
                if d is not None:
                    val = "".join(d.itertext())
                    kind = d.get(f"{ns}Type")
                    if kind == "Number":
                        try:
                            val = float(val)
                        except ValueError:
                            pass
                    elif kind == "DateTime":
                        val = _xml_datetime(val)
                cells.append(val)
            rows.append(cells)
            if max_rows and len(rows) >= max_rows:
                break
        out[name] = rows
    return out


def _xml_datetime(v: str) -> Any:
    """``2017-07-22T05:30:00.000`` → naive datetime; the text itself when it is not ISO 8601."""
    try:
        return datetime.fromisoformat(v.strip())
    except ValueError:
        return v


def read_workbook(path: Path, kind: str, max_rows: int | None = None) -> Workbook:
    """All sheets of an xlsx / SpreadsheetML / BIFF xls / HTML table file as lists of rows.

    What had to be repaired to read it (SpreadsheetML with invalid UTF-8 bytes) is in the
    result's ``notes``, for the adapter to pass on to the import notes.
    """
    path = Path(path)
    if kind == "xlsx":

        check_zip(path)
        import openpyxl

        # Not read_only: some exporters write no dimension record and read_only then sees 1 cell.
        wb = openpyxl.load_workbook(path, data_only=True)
        out = Workbook()
        for ws in wb.worksheets:
            rows = []
            for r in ws.iter_rows(values_only=True):
                rows.append(list(r))
                if max_rows and len(rows) >= max_rows:
                    break
            out[ws.title] = rows
        wb.close()
        return out
    if kind == "spreadsheetml":
        return _spreadsheetml_rows(path.read_bytes(), max_rows)
    if kind == "xls":
        import xlrd

        book = xlrd.open_workbook(str(path))
        out = Workbook()
        for sh in book.sheets():
            n = sh.nrows if not max_rows else min(sh.nrows, max_rows)
            out[sh.name] = [sh.row_values(i) for i in range(n)]
        return out
    if kind == "html":
        import pandas as pd

        text, _ = read_text(path)
        tables = pd.read_html(io.StringIO(text), header=None)
        return Workbook({f"Table{i + 1}": t.astype(object).where(t.notna(), None).values.tolist()
                         for i, t in enumerate(tables)})
    raise ImportFailure(f"{path} n'est pas un classeur ({kind})")


def probe(path: str | Path) -> Probe:
    """Sniff ``path``: container kind, encoding, delimiter and first rows."""
    path = Path(path)
    size = path.stat().st_size
    with open(path, "rb") as fh:
        head = fh.read(HEAD_BYTES)
    p = Probe(path=path, size=size, head=head, kind="binary")
    if size == 0 or not head.strip():
        p.kind = "empty"
        return p
    if head.startswith(b"PK\x03\x04"):
        try:
            with zipfile.ZipFile(path) as z:
                names = z.namelist()
        except zipfile.BadZipFile as e:
            raise ImportFailure(f"Archive ZIP corrompue : {path}") from e
        if "[Content_Types].xml" in names and any(n.startswith("xl/") for n in names):
            p.kind = "xlsx"
            p.sheets = read_workbook(path, "xlsx", PROBE_ROWS)
        else:
            p.kind = "zip"
        return p
    if head.startswith(b"\xd0\xcf\x11\xe0"):
        p.kind = "xls"
        p.sheets = read_workbook(path, "xls", PROBE_ROWS)
        return p
    enc = detect_encoding(head, truncated=size > len(head))
    p.encoding = enc
    try:
        text = decode(head, enc if enc != "utf-16" else "utf-16")
    except UnicodeDecodeError:
        text = head.decode(enc, errors="ignore")
    text = text.lstrip("\ufeff")
    p.text_head = text
    stripped = text.lstrip()
    low = stripped[:2000].lower()
    if stripped.startswith("<?xml") or stripped.startswith("<Workbook"):
        if "urn:schemas-microsoft-com:office:spreadsheet" in low:
            p.kind = "spreadsheetml"
            p.sheets = read_workbook(path, "spreadsheetml", PROBE_ROWS)
            # The XML's own encoding, not the guess on its head (stray bytes made it cp1252).
            p.encoding = getattr(p.sheets, "encoding", None) or p.encoding
        else:
            p.kind = "xml"
        return p
    if low.startswith("<!doctype html") or low.startswith("<html") or "<table" in low[:500]:
        p.kind = "html"
        return p
    if re.match(r"window\.[\w.$]+\s*=", stripped):
        p.kind = "js"
        return p
    if stripped.startswith("{") or stripped.startswith("["):
        first = stripped.splitlines()[0] if stripped else ""
        try:
            p.json_head = json.loads(first)
            p.kind = "jsonl" if stripped.startswith("{") else "json"
            return p
        except json.JSONDecodeError:
            try:
                p.json_head = json.loads(path.read_text(encoding=enc))
                p.kind = "json"
                return p
            except (json.JSONDecodeError, UnicodeDecodeError):
                pass
    if "\x00" in text[:2000]:
        p.kind = "binary"
        return p
    preamble, rest, declared = _strip_sep_line(text)
    p.preamble = preamble
    # drop a possibly truncated last line of the head sample
    if size > HEAD_BYTES and "\n" in rest:
        rest = rest[: rest.rfind("\n")]
    p.delimiter = declared or sniff_delimiter(rest)
    try:
        p.rows = csv_rows(rest, p.delimiter)[:PROBE_ROWS]
    except csv.Error:
        p.rows = [ln.split(p.delimiter) for ln in rest.splitlines()[:PROBE_ROWS]]
    p.kind = "csv" if any(len(r) > 1 for r in p.rows) else "text"
    return p


def read_csv_all(p: Probe) -> tuple[list[list[str]], list[int]]:
    """All rows of a CSV probe (``sep=`` line removed) and the 1-based file line of each row.

    Line numbers count physical lines, so a caption spanning three lines moves the next
    row's number by three, as a user sees it in a text editor.
    """
    text, _enc = read_text(p.path, p.encoding)
    preamble, rest, _ = _strip_sep_line(text)
    offset = len(preamble)
    rows: list[list[str]] = []
    lines: list[int] = []
    reader = csv.reader(io.StringIO(rest, newline=""), delimiter=p.delimiter or ",")
    start = 1
    try:
        for row in reader:
            rows.append(row)
            lines.append(offset + start)
            start = reader.line_num + 1
    except csv.Error as e:
        raise ImportFailure(f"CSV mal formé : {e}", line=offset + reader.line_num) from e
    return rows, lines


def read_user_csv(path: str | Path) -> Any:
    """A CSV an analyst saved from a spreadsheet (samples, INSEE tables) as strings.

    French spreadsheets save with ``;`` and often in cp1252: UTF-8 (BOM or not) is tried first,
    then cp1252; the separator is ``;`` unless the header holds more commas. Empty cells stay "".
    """
    import pandas as pd

    raw = Path(path).read_bytes()
    try:
        text = raw.decode("utf-8-sig")
    except UnicodeDecodeError:
        text = raw.decode("cp1252")
    first = text.splitlines()[0] if text else ""
    sep = ";" if first.count(";") >= first.count(",") else ","
    return pd.read_csv(io.StringIO(text), sep=sep, dtype=str, keep_default_na=False)
