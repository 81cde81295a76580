"""The importers' errors: at the bottom of :mod:`analysis.ingest`, so that the file readers
(:mod:`analysis.ingest.sniff`, :mod:`analysis.ingest.safety`) and the adapters' vocabulary
(:mod:`analysis.ingest.base`, which re-exports them) raise the same errors without importing each other."""

from __future__ import annotations

from typing import Any


class ImportFailure(Exception):
    """A file could not be imported. The message says what, where and what to do."""

    def __init__(self, message: str, *, line: int | None = None, column: str | None = None,
                 value: Any = None) -> None:
        self.line = line
        self.column = column
        self.value = value
        where = []
        if line is not None:
            where.append(f"ligne {line}")
        if column is not None:
            where.append(f"colonne « {column} »")
        if value is not None:
            where.append(f"valeur « {str(value)[:60]} »")
        super().__init__(message + (f" ({', '.join(where)})" if where else ""))


class UnknownFormat(ImportFailure):
    """No adapter recognised the file."""
