"""French formatting of numbers and dates, used by every view (app, report, CLI, notebooks).

``1 234,5`` (narrow no-break space as thousands separator), ``12,3 %``, ``26 nov. 2026``.
"""

from __future__ import annotations

import math
from datetime import date, datetime
from typing import Any

import pandas as pd

NNBSP = "\u202f"  # narrow no-break space: French thousands separator
NBSP = "\u00a0"
MONTHS_ABBR = ["janv.", "févr.", "mars", "avr.", "mai", "juin", "juil.", "août", "sept.", "oct.", "nov.", "déc."]
MONTHS = ["janvier", "février", "mars", "avril", "mai", "juin", "juillet", "août", "septembre", "octobre",
          "novembre", "décembre"]
WEEKDAYS = ["lundi", "mardi", "mercredi", "jeudi", "vendredi", "samedi", "dimanche"]


def _missing(v: Any) -> bool:
    return v is None or (isinstance(v, float) and math.isnan(v)) or v is pd.NA or v is pd.NaT


def fr_num(v: Any, decimals: int = 1, missing: str = "—") -> str:
    """``1234.56`` → ``1 234,6`` (NNBSP thousands, comma decimal); None → ``—``."""
    if _missing(v):
        return missing
    s = f"{float(v):,.{decimals}f}"
    return s.replace(",", NNBSP).replace(".", ",")


def fr_int(v: Any, missing: str = "—") -> str:
    """``12345`` → ``12 345``."""
    return fr_num(v, 0, missing)


def fr_pct(v: Any, decimals: int = 1, missing: str = "—", signed: bool = False) -> str:
    """A ratio (0.123) as ``12,3 %``."""
    if _missing(v):
        return missing
    s = fr_num(100 * float(v), decimals)
    if signed and float(v) > 0:
        s = "+" + s
    return s + NBSP + "%"


def fr_signed(v: Any, decimals: int = 1, unit: str = "", missing: str = "—") -> str:
    """``+8,0 points`` style deltas (unit appended after a no-break space)."""
    if _missing(v):
        return missing
    s = fr_num(v, decimals)
    if float(v) > 0:
        s = "+" + s
    s = s.replace("-", "−")
    return s + (NBSP + unit if unit else "")


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
    """``du 1 oct. 2026 au 31 oct. 2026`` from the first and the **last** day (both shown as given)."""
    return f"du {fr_date(start)} au {fr_date(last_day)}"


def fr_period_end_excluded(start: date | datetime, end: date | datetime) -> str:
    """``du 1 oct. 2026 au 31 oct. 2026`` from a half-open period [start, end) — every
    :class:`~analysis.queries.Filters` period: the day before ``end`` is the last one shown."""
    return fr_period_end_included(start, pd.Timestamp(end) - pd.Timedelta(days=1))
