"""Small helpers shared by the `vigie` sub-command modules (opening the store, reading options)."""

from __future__ import annotations

from datetime import date, datetime, timedelta

import duckdb
import typer
from rich.console import Console

from analysis import store

err = Console(stderr=True)


def open_reader() -> duckdb.DuckDBPyConnection:
    """Read-only connection on the published store; a missing store exits 1 with what to run."""
    try:
        return store.connect(read_only=True)
    except store.StoreMissing as e:
        err.print(f"[red]{e}[/]")
        raise typer.Exit(1) from e


def parse_date(s: str | None, opt: str) -> date | None:
    """``AAAA-MM-JJ`` option value → date (None when empty); a bad value names the option."""
    if not s:
        return None
    try:
        return datetime.strptime(s, "%Y-%m-%d").date()
    except ValueError as e:
        raise typer.BadParameter(f"date attendue au format AAAA-MM-JJ (ex. 2026-03-09), reçu « {s} »",
                                 param_hint=opt) from e


def parse_until(s: str | None, opt: str = "--until") -> date | None:
    """``--until`` is the **last day included** (« --until 2026-10-31 » covers 31 October): the
    exclusive end of the library's periods is the day after (None when empty)."""
    d = parse_date(s, opt)
    return None if d is None else d + timedelta(days=1)
