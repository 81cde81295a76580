"""French formatting of numbers and dates, used by every view (app, report, CLI, notebooks).

``1 234,5`` (narrow no-break space as thousands separator), ``−1,9`` (the true minus sign U+2212,
never the hyphen), ``12,3 %``, ``26 nov. 2026``, ``3 comptes`` / ``1 compte`` / ``0 réponse``.
"""

from __future__ import annotations

import math
from datetime import date, datetime
from typing import Any

import pandas as pd

NNBSP = "\u202f"  # narrow no-break space: French thousands separator
NBSP = "\u00a0"
MINUS = "\u2212"  # « − »: the minus sign of typeset numbers (a hyphen « - » is not one)
MONTHS_ABBR = ["janv.", "févr.", "mars", "avr.", "mai", "juin", "juil.", "août", "sept.", "oct.", "nov.", "déc."]
MONTHS = ["janvier", "février", "mars", "avril", "mai", "juin", "juillet", "août", "septembre", "octobre",
          "novembre", "décembre"]
WEEKDAYS = ["lundi", "mardi", "mercredi", "jeudi", "vendredi", "samedi", "dimanche"]


def _missing(v: Any) -> bool:
    return v is None or (isinstance(v, float) and math.isnan(v)) or v is pd.NA or v is pd.NaT


def fr_num(v: Any, decimals: int = 1, missing: str = "—") -> str:
    """``1234.56`` → ``1 234,6`` (NNBSP thousands, comma decimal), ``-1.94`` → ``−1,9`` (minus sign);
    None → ``—``. A value that rounds to zero has no sign (``-0.01`` → ``0,0``)."""
    if _missing(v):
        return missing
    s = f"{float(v):,.{decimals}f}"
    if s.startswith("-"):
        s = s[1:] if not s.strip("-0.,") else MINUS + s[1:]
    return s.replace(",", NNBSP).replace(".", ",")


def fr_int(v: Any, missing: str = "—") -> str:
    """``12345`` → ``12 345``."""
    return fr_num(v, 0, missing)


def fr_pct(v: Any, decimals: int = 1, missing: str = "—", signed: bool = False) -> str:
    """A ratio (0.123) as ``12,3 %``."""
    if _missing(v):
        return missing
    s = fr_num(100 * float(v), decimals)
    if signed and float(v) > 0 and s.strip("0,") != "":
        s = "+" + s
    return s + NBSP + "%"


def fr_signed(v: Any, decimals: int = 1, unit: str = "", missing: str = "—") -> str:
    """``+8,0 points`` style deltas (unit appended after a no-break space)."""
    if _missing(v):
        return missing
    s = fr_num(v, decimals)
    if float(v) > 0 and s.strip("0,") != "":
        s = "+" + s
    return s + (NBSP + unit if unit else "")


def fr_plural(n: Any, singular: str, plural: str | None = None) -> str:
    """The word agreeing with ``n`` by the French rule: 0 and 1 take the singular (« 0 réponse »,
    « 1 compte »), 2 and more the plural (default ``singular + "s"``; give it when irregular)."""
    return singular if abs(float(n)) < 2 else (plural or singular + "s")


def fr_count(n: Any, singular: str, plural: str | None = None) -> str:
    """``3`` → ``3 comptes``, ``1`` → ``1 compte``, ``0`` → ``0 compte``, ``1234`` → ``1 234 comptes``:
    a count and its word, never « compte(s) ». ``singular`` may be several words (« message reçu »,
    plural « messages reçus »)."""
    return f"{fr_int(n)} {fr_plural(n, singular, plural)}"


def fr_date(d: Any, missing: str = "—") -> str:
    """``2026-11-26`` → ``26 nov. 2026``."""
    if _missing(d):
        return missing
    d = pd.Timestamp(d)
    return f"{d.day} {MONTHS_ABBR[d.month - 1]} {d.year}"


def fr_datetime(d: Any, missing: str = "—") -> str:
    """``26 nov. 2026 à 14 h 05``."""
    if _missing(d):
        return missing
    d = pd.Timestamp(d)
    return f"{fr_date(d)} à {d.hour} h {d.minute:02d}"


def fr_month(d: Any, long: bool = False) -> str:
    """``oct. 2026`` (or ``octobre 2026``)."""
    d = pd.Timestamp(d)
    return f"{(MONTHS if long else MONTHS_ABBR)[d.month - 1]} {d.year}"


def fr_period_end_included(start: date | datetime, last_day: date | datetime) -> str:
    """``du 1 oct. 2026 au 31 oct. 2026`` from the first and the **last** day (both shown as given);
    one day is ``le 5 oct. 2026``, never « du 5 oct. 2026 au 5 oct. 2026 »."""
    first, last = fr_date(start), fr_date(last_day)
    return f"le {first}" if first == last else f"du {first} au {last}"


def fr_period_end_excluded(start: date | datetime, end: date | datetime) -> str:
    """``du 1 oct. 2026 au 31 oct. 2026`` from a half-open period [start, end) — every
    :class:`~analysis.queries.Filters` period: the day before ``end`` is the last one shown."""
    return fr_period_end_included(start, pd.Timestamp(end) - pd.Timedelta(days=1))
