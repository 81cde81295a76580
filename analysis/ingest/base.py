"""Shared vocabulary of the importers: what an adapter returns, errors, value parsers.

An adapter maps one export format to canonical rows (see :mod:`analysis.schema`). It
never writes to the store: the pipeline validates and writes everything of a file in one
transaction. Adapters match a *subset of known columns* (real exports add, drop and rename
columns between months), never an exact header tuple.
"""

from __future__ import annotations

import hashlib
import math
import re
import unicodedata
from dataclasses import dataclass, field
from datetime import UTC, date, datetime, timedelta, timezone
from pathlib import Path
from typing import TYPE_CHECKING, Any, ClassVar

import pandas as pd

from analysis.ingest.errors import ImportFailure, UnknownFormat  # noqa: F401 - re-exported
from analysis.text import strip_accents

if TYPE_CHECKING:  # pragma: no cover
    from analysis.ingest.sniff import Probe
    from analysis.registry import Registry


@dataclass
class Reject:
    """A row an adapter could not map: where (line 1-based in the file, column) and why."""

    line: int | None
    column: str | None
    value: Any
    reason: str

    def describe(self) -> str:
        parts = []
        if self.line is not None:
            parts.append(f"ligne {self.line}")
        if self.column:
            parts.append(f"colonne « {self.column} »")
        where = ", ".join(parts)
        val = "" if self.value is None else f" : « {str(self.value)[:60]} »"
        return f"{where}{val} — {self.reason}"


@dataclass
class Parsed:
    """Canonical output of one file: DataFrames keyed by canonical table name."""

    format: str
    tables: dict[str, pd.DataFrame] = field(default_factory=dict)
    rows_read: int = 0
    rejects: list[Reject] = field(default_factory=list)
    notes: list[str] = field(default_factory=list)
    # the structural checks (analysis.ingest.validate) ran, on the pool's worker that parsed the file:
    # their rejects are in ``rejects`` and the rows they reject are out of ``tables``
    validated: bool = False

    def add(self, table: str, df: pd.DataFrame) -> None:
        if df is None or len(df) == 0:
            return
        if table in self.tables:
            self.tables[table] = pd.concat([self.tables[table], df], ignore_index=True)
        else:
            self.tables[table] = df.reset_index(drop=True)


@dataclass
class Context:
    """What an adapter may need besides the file: the registry, the pseudonymiser, hints."""

    registry: Registry | None = None
    account_hint: str | None = None  # --account: account_id the file belongs to
    keep_author_names: bool = False
    pseudonymise: Any = None  # callable (platform, author_key) -> hash
    mapping: dict | None = None  # column mapping for generic CSV/XLSX
    source_tz: str | None = None  # --tz: timezone of naive timestamps (default Europe/Paris)
    snapshot_date: date | None = None  # date of demographic snapshots (default: file mtime)

    def author_hash(self, platform: str, author_key: Any) -> str | None:
        if author_key is None or (isinstance(author_key, float) and math.isnan(author_key)):
            return None
        key = str(author_key).strip()
        if not key:
            return None
        return self.pseudonymise(platform, key)


class Adapter:
    """One export format. Subclasses set ``name``/``label`` and implement ``sniff``/``parse``."""

    name: ClassVar[str] = ""
    label: ClassVar[str] = ""  # human description, French
    platform: ClassVar[str] = "other"
    # Cells that identify the format in a header, used for 'closest known formats' hints.
    signature: ClassVar[tuple[str, ...]] = ()

    def sniff(self, probe: Probe) -> float:
        """Confidence in [0, 1] that ``probe`` is this format (0 = no)."""
        raise NotImplementedError

    def parse(self, path: Path, probe: Probe, ctx: Context) -> Parsed:
        raise NotImplementedError


# ----------------------------------------------------------------------------------------
# Header helpers

def norm_header(s: Any) -> str:
    """Lower-case, accents removed, spaces collapsed, BOM stripped: for matching headers."""
    s = "" if s is None else str(s)
    s = s.replace("\ufeff", "").replace("\u2019", "'").strip()
    return re.sub(r"\s+", " ", strip_accents(s)).lower()


def dedupe_headers(headers: list[Any]) -> list[str]:
    """Suffix duplicated names (``Views``, ``Views.2``) so every column stays addressable."""
    seen: dict[str, int] = {}
    out = []
    for h in headers:
        h = "" if h is None else str(h).replace("\ufeff", "").strip()
        n = seen.get(h, 0) + 1
        seen[h] = n
        out.append(h if n == 1 else f"{h}.{n}")
    return out


def header_score(headers: list[Any], known: tuple[str, ...] | list[str]) -> float:
    """Share of ``known`` header names present in ``headers`` (normalised comparison)."""
    if not known:
        return 0.0
    have = {norm_header(h) for h in headers}
    return sum(1 for k in known if norm_header(k) in have) / len(known)


def pick(row: dict, *names: str, default: Any = None) -> Any:
    """First non-empty value among column ``names`` (normalised match) in a row dict."""
    for n in names:
        if n in row and not is_missing(row[n]):
            return row[n]
    return default


# ----------------------------------------------------------------------------------------
# Value parsers — they return None for missing and raise ValueError for garbage.

# The one list of cell values that mean « no value » in an export (case-insensitive, stripped):
# every adapter reads them as NULL, never as text or zero (« undefined »: Meta's exports).
MISSING_TOKENS = frozenset({"", "-", "--", "n/a", "na", "nan", "none", "null", "undefined", "—", "–"})


def is_missing(v: Any) -> bool:
    if v is None:
        return True
    if isinstance(v, float) and math.isnan(v):
        return True
    if v is pd.NA or v is pd.NaT:
        return True
    return isinstance(v, str) and v.strip().lower() in MISSING_TOKENS


def parse_number(v: Any, decimal: str | None = None) -> float | None:
    """Parse a locale-formatted number.

    Handles ``1234``, ``"424.0"``, ``407.137`` (dot thousands), ``1 234`` (space or NBSP
    thousands), ``1,234`` (comma thousands), ``"1,4"`` / ``7,0`` (comma decimal), ``2.3x``,
    ``12 %`` (returned as 12.0), and missing tokens (``-``, ``N/A``, empty) → None.
    ``decimal`` forces the decimal mark when the file's locale is known.
    """
    if is_missing(v):
        return None
    if isinstance(v, bool):
        return float(v)
    if isinstance(v, int | float):
        return float(v)
    s = str(v).strip().replace("\u00a0", " ").replace("\u202f", " ")
    s = re.sub(r"(?i)^avec une note de\s*", "", s)
    s = s.rstrip("xX%").strip()
    s = s.replace(" ", "")
    if s.startswith("+"):
        s = s[1:]
    if not s:
        return None
    if not re.fullmatch(r"-?[\d.,]+(e-?\d+)?", s, flags=re.I):
        raise ValueError(f"nombre illisible : {v!r}")
    if "e" in s.lower():
        return float(s.replace(",", "."))
    has_dot, has_comma = "." in s, "," in s
    if has_dot and has_comma:
        # the last separator is the decimal mark
        if s.rfind(",") > s.rfind("."):
            s = s.replace(".", "").replace(",", ".")
        else:
            s = s.replace(",", "")
    elif has_comma:
        if decimal == "," or not re.fullmatch(r"-?\d{1,3}(,\d{3})+", s):
            s = s.replace(",", ".")
        else:
            s = s.replace(",", "")
    elif has_dot:
        if decimal == "," and re.fullmatch(r"-?\d{1,3}(\.\d{3})+", s):
            s = s.replace(".", "")
        elif decimal is None and re.fullmatch(r"-?\d{1,3}(\.\d{3}){2,}", s):
            s = s.replace(".", "")
    return float(s)


def parse_int(v: Any, decimal: str | None = None) -> int | None:
    f = parse_number(v, decimal)
    return None if f is None else int(round(f))


TZ_ABBREV = {
    "UTC": 0, "GMT": 0, "Z": 0, "CET": 1, "CEST": 2, "WET": 0, "WEST": 1, "BST": 1,
    "BRT": -3, "BRST": -2, "EST": -5, "EDT": -4, "CST": -6, "CDT": -5, "MST": -7, "MDT": -6,
    "PST": -8, "PDT": -7, "PHT": 8, "PHST": 8, "AEST": 10, "AEDT": 11, "IST": 5.5, "JST": 9,
}

FR_MONTHS = {
    "janvier": 1, "janv": 1, "février": 2, "fevrier": 2, "févr": 2, "fevr": 2, "mars": 3, "avril": 4,
    "avr": 4, "mai": 5, "juin": 6, "juillet": 7, "juil": 7, "août": 8, "aout": 8, "septembre": 9,
    "sept": 9, "octobre": 10, "oct": 10, "novembre": 11, "nov": 11, "décembre": 12, "decembre": 12,
    "déc": 12, "dec": 12,
}
EN_MONTHS = {m: i for i, m in enumerate(
    ["january", "february", "march", "april", "may", "june", "july", "august", "september",
     "october", "november", "december"], start=1)}
EN_MONTHS.update({k[:3]: v for k, v in list(EN_MONTHS.items())})

_DT_FORMATS = [
    ("%Y-%m-%dT%H:%M:%S.%f%z", False), ("%Y-%m-%dT%H:%M:%S%z", False), ("%Y-%m-%dT%H:%M:%S", False),
    ("%Y-%m-%d %H:%M:%S%z", False), ("%Y-%m-%d %H:%M:%S", False), ("%Y-%m-%d %H:%M %z", False),
    ("%Y-%m-%d %H:%M", False), ("%Y-%m-%d", False), ("%a %b %d %H:%M:%S %z %Y", False),
    ("%Y-%m-%dT%H:%M", False),
]


_FMT_BY_SHAPE: dict[str, str] = {}
_DIGIT = re.compile(r"\d")


def _strptime_known(s: str) -> datetime | None:
    """The string read by the first of ``_DT_FORMATS`` that reads it, else None.

    A string matches at most one of these formats, so the format that read a string of the same
    shape (digits aside) is tried first, and a slashed date, which none reads, tries none. Trying
    the ten in turn cost 0,4 ms a date: Python keeps only five compiled formats, so each attempt
    compiled its format again (a small demo's build: 26,4 → 25,0 s of CPU). Only formats that read
    a string are remembered, at most 1 024 shapes."""
    if "/" in s:
        return None
    shape = _DIGIT.sub("0", s)
    known = _FMT_BY_SHAPE.get(shape)
    if known is not None:
        try:
            return datetime.strptime(s, known)
        except ValueError:
            pass
    for fmt, _ in _DT_FORMATS:
        try:
            d = datetime.strptime(s, fmt)
        except ValueError:
            continue
        if len(_FMT_BY_SHAPE) < 1024:
            _FMT_BY_SHAPE[shape] = fmt
        return d
    return None


def _as_utc(dt: datetime, tz: str | None) -> datetime:
    if dt.tzinfo is None:
        if tz:
            from zoneinfo import ZoneInfo

            dt = dt.replace(tzinfo=ZoneInfo(tz))
        else:
            dt = dt.replace(tzinfo=UTC)
    return dt.astimezone(UTC).replace(tzinfo=None)


def parse_datetime(v: Any, *, dayfirst: bool = False, tz: str | None = None,
                   year: int | None = None) -> datetime | None:
    """Parse the date formats met in exports and return a naive UTC datetime.

    ``tz`` is the zone of timestamps that carry none (MBS uses the exporting user's zone);
    ``dayfirst`` chooses DD/MM over MM/DD for slashed dates; ``year`` completes year-less
    dates (``August 19``). Excel serial numbers and pandas/py datetimes are accepted.
    """
    if is_missing(v):
        return None
    if isinstance(v, pd.Timestamp):
        v = v.to_pydatetime()
    if isinstance(v, datetime):
        return _as_utc(v, tz)
    if isinstance(v, date):
        return datetime(v.year, v.month, v.day)
    if isinstance(v, int | float):
        # Excel serial date (days since 1899-12-30) or epoch seconds
        f = float(v)
        if 20000 < f < 80000:
            return _as_utc(datetime(1899, 12, 30) + timedelta(days=f), tz)
        if f > 1e11:
            f /= 1000.0
        return datetime.fromtimestamp(f, UTC).replace(tzinfo=None)
    s = str(v).strip()
    if re.fullmatch(r"\d{9,13}", s):
        return parse_datetime(int(s))
    s = re.sub(r"\s+", " ", s)
    low = s.lower()
    # French phrases: "Publiée le 17 octobre 2013", "Commentaire envoyé le 16 août 2024"
    m = re.search(r"(\d{1,2})(?:er)? ([a-zéûô]+)\.? (\d{4})(?: (?:à )?(\d{1,2})[:h](\d{2}))?", low)
    if m and m.group(2) in FR_MONTHS:
        d = datetime(int(m.group(3)), FR_MONTHS[m.group(2)], int(m.group(1)),
                     int(m.group(4) or 0), int(m.group(5) or 0))
        return _as_utc(d, tz)
    # Timezone abbreviation suffix: "2021-07-05 18:02:45 BRT"
    m = re.fullmatch(r"(.*\d) ([A-Z]{2,5})", s)
    if m and m.group(2) in TZ_ABBREV:
        base = parse_datetime(m.group(1), dayfirst=dayfirst, tz="UTC", year=year)
        return base - timedelta(hours=TZ_ABBREV[m.group(2)]) if base else None
    d = _strptime_known(s.replace("Z", "+0000") if s.endswith("Z") else s)
    if d is not None:
        return _as_utc(d, tz)
    # Slashed: MM/DD/YYYY [HH:MM[:SS]] or DD/MM/YY…
    m = re.fullmatch(r"(\d{1,2})/(\d{1,2})/(\d{2,4})(?:,? (\d{1,2}):(\d{2})(?::(\d{2}))?(?: ?([AaPp][Mm]))?)?", s)
    if m:
        a, b, y = int(m.group(1)), int(m.group(2)), int(m.group(3))
        if y < 100:
            y += 2000
        month, day = (b, a) if dayfirst else (a, b)
        if month > 12 and day <= 12:
            month, day = day, month
        hh = int(m.group(4) or 0)
        if m.group(7):
            hh = hh % 12 + (12 if m.group(7).lower() == "pm" else 0)
        return _as_utc(datetime(y, month, day, hh, int(m.group(5) or 0), int(m.group(6) or 0)), tz)
    m = re.fullmatch(r"(\d{1,2})\.(\d{1,2})\.(\d{4})(?: (\d{1,2}):(\d{2}))?", s)
    if m:
        return _as_utc(datetime(int(m.group(3)), int(m.group(2)), int(m.group(1)),
                                int(m.group(4) or 0), int(m.group(5) or 0)), tz)
    # Year-less English: "August 19" (MBS FollowerHistory)
    m = re.fullmatch(r"([A-Za-z]+) (\d{1,2})(?:, (\d{4}))?", s)
    if m and m.group(1).lower() in EN_MONTHS:
        y = int(m.group(3)) if m.group(3) else year
        if y is None:
            raise ValueError(f"date sans année : {v!r}")
        return datetime(y, EN_MONTHS[m.group(1).lower()], int(m.group(2)))
    raise ValueError(f"date illisible : {v!r}")


def content_id(*parts: Any) -> str:
    """Stable id for rows an export gives no id to (hash of their identifying content)."""
    h = hashlib.sha256("\x1f".join("" if p is None else str(p) for p in parts).encode("utf-8"))
    return h.hexdigest()[:20]


def clean_text(v: Any) -> str | None:
    """NFKC-normalise text (math-bold captions become plain letters); None when empty."""
    if is_missing(v):
        return None
    s = unicodedata.normalize("NFKC", str(v)).replace("\r\n", "\n").strip()
    return s or None


def tz_offset_name(offset_hours: float) -> str:
    return str(timezone(timedelta(hours=offset_hours)))


def find_header(rows: list[list[Any]], known: tuple[str, ...] | list[str], *, min_hits: int = 2,
                max_scan: int = 15) -> int | None:
    """Index of the first row (within ``max_scan``) holding at least ``min_hits`` known names.

    Skips banners (ExportComments), title lines (MBS daily series) and notes above headers.
    """
    known_n = {norm_header(k) for k in known}
    best, best_hits = None, 0
    for i, r in enumerate(rows[:max_scan]):
        hits = sum(1 for c in r if norm_header(c) in known_n)
        if hits >= min_hits and hits > best_hits:
            best, best_hits = i, hits
            if hits >= max(min_hits, len(known_n) // 2):
                break
    return best


def records(rows: list[list[Any]], header_idx: int, lines: list[int] | None = None,
            skip_description_row: bool = False) -> tuple[list[str], list[tuple[int, dict]]]:
    """Turn rows below a header into ``(line, {normalised header: value})`` records.

    Headers are deduplicated (``views``, ``views.2``) then normalised with :func:`norm_header`.
    Blank rows are dropped. ``lines`` gives the file line of each row (CSV); for sheets the
    row number (1-based) is used.
    """
    header = dedupe_headers([norm_header(h) for h in rows[header_idx]])
    out = []
    start = header_idx + 1 + (1 if skip_description_row else 0)
    for i in range(start, len(rows)):
        r = rows[i]
        if not any(c not in (None, "") and str(c).strip() for c in r):
            continue
        line = lines[i] if lines is not None else i + 1
        out.append((line, {h: (r[j] if j < len(r) else None) for j, h in enumerate(header) if h}))
    return header, out
