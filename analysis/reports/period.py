"""Report periods: a calendar month, quarter or year, and the one just before it."""

from __future__ import annotations

import re
from dataclasses import dataclass
from datetime import date

from analysis.fmt import MONTHS
from analysis.queries import previous_period


@dataclass(frozen=True)
class Period:
    """A half-open calendar period [start, end) with its kind (month, quarter, year) and French label."""

    start: date
    end: date  # exclusive
    kind: str

    @property
    def code(self) -> str:
        """``2026-10``, ``2026-Q3`` or ``2026`` (the CLI spelling, used in file names)."""
        if self.kind == "month":
            return f"{self.start.year}-{self.start.month:02d}"
        if self.kind == "quarter":
            return f"{self.start.year}-Q{(self.start.month - 1) // 3 + 1}"
        return str(self.start.year)

    @property
    def label(self) -> str:
        """``octobre 2026``, ``3e trimestre 2026``, ``année 2026``."""
        if self.kind == "month":
            return f"{MONTHS[self.start.month - 1]} {self.start.year}"
        if self.kind == "quarter":
            q = (self.start.month - 1) // 3 + 1
            return f"{'1er' if q == 1 else f'{q}e'} trimestre {self.start.year}"
        return f"année {self.start.year}"

    @property
    def short_label(self) -> str:
        """What follows « par rapport à » / « en »: ``septembre``, ``le 2e trimestre``, ``2025``."""
        if self.kind == "month":
            return MONTHS[self.start.month - 1]
        if self.kind == "quarter":
            return f"le {self.label}"
        return str(self.start.year)

    def previous(self) -> Period:
        """The calendar period of the same kind just before (September for October, Q2 for Q3):
        :func:`analysis.queries.previous_period`, the one rule."""
        start, end = previous_period(self.start, self.end)
        return Period(start, end, self.kind)


class PeriodError(ValueError):
    """A period the CLI cannot understand (French message)."""


def _month(y: int, m: int) -> Period:
    end = date(y + 1, 1, 1) if m == 12 else date(y, m + 1, 1)
    return Period(date(y, m, 1), end, "month")


def parse_period(spec: str, today: date | None = None) -> Period:
    """``2026-10`` | ``2026-Q3`` | ``2026`` | ``last-month`` (the calendar month before ``today``)."""
    s = spec.strip()
    if s in ("last-month", "mois-dernier"):
        t = today or date.today()
        return _month(t.year - (t.month == 1), 12 if t.month == 1 else t.month - 1)
    if m := re.fullmatch(r"(\d{4})-(\d{1,2})", s):
        y, mo = int(m[1]), int(m[2])
        if 1 <= mo <= 12:
            return _month(y, mo)
    if m := re.fullmatch(r"(\d{4})-[Qq]([1-4])", s):
        y, q = int(m[1]), int(m[2])
        start = date(y, 3 * q - 2, 1)
        return Period(start, date(y + 1, 1, 1) if q == 4 else date(y, 3 * q + 1, 1), "quarter")
    if re.fullmatch(r"\d{4}", s):
        y = int(s)
        return Period(date(y, 1, 1), date(y + 1, 1, 1), "year")
    raise PeriodError(f"Période non reconnue : « {spec} ». Formats acceptés : 2026-10 (mois), 2026-Q3 "
                      "(trimestre), 2026 (année) ou last-month (mois précédent).")
