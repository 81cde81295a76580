"""What every mapper of API responses shares: the rows it accumulates and how saved bodies are read.

A mapper (``analysis/ingest/{bluesky,mastodon,youtube_api,meta_graph}.py``) turns the JSON of a
platform's API into canonical rows, for collection (one batch at a time: :meth:`RowSink.reset`
between batches, what it learnt about accounts kept) and for ``vigie import`` of saved responses
(:func:`json_documents`).
"""

from __future__ import annotations

import json
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pandas as pd

from analysis.ingest.base import ImportFailure, Parsed, Reject
from analysis.ingest.sniff import Probe


class RowSink:
    """Rows keyed by id (a later sighting of the same item replaces the earlier one), the followers
    counts read, rejected objects, notes and the number of items read since the last reset."""

    def __init__(self) -> None:
        self.reset()

    def reset(self) -> None:
        """Forget the rows of the previous batch (subclasses keep what they learnt about accounts)."""
        self.posts: dict[str, dict] = {}
        self.messages: dict[str, dict] = {}
        self.accounts: dict[str, dict] = {}
        self.followers: list[dict] = []
        self.rejects: list[Reject] = []
        self.notes: list[str] = []
        self.items = 0

    def parsed(self, fmt: str) -> Parsed:
        """The batch as canonical tables (one followers row per account and day, the last read)."""
        out = Parsed(format=fmt, rows_read=self.items, rejects=list(self.rejects), notes=list(self.notes))
        if self.posts:
            out.add("posts", pd.DataFrame(list(self.posts.values())))
        if self.messages:
            out.add("messages", pd.DataFrame(list(self.messages.values())))
        if self.accounts:
            out.add("accounts", pd.DataFrame(list(self.accounts.values())))
        if self.followers:
            out.add("audience_followers", pd.DataFrame(self.followers).drop_duplicates(
                ["account_id", "date"], keep="last"))
        return out


def json_documents(path: Path, probe: Probe, *, lines_fallback: bool = False) -> Iterator[tuple[int, Any]]:
    """``(line, value)`` of a saved-responses file: one JSON document, or one per line (JSONL).

    A line that is not JSON comes back as a ``ValueError`` (the adapter rejects it, with its line);
    a JSON file that does not parse is an :class:`ImportFailure`, unless ``lines_fallback`` reads
    it as one document per line (several bodies pasted one after the other)."""
    enc = "utf-8-sig" if (probe.encoding or "utf-8").lower().startswith("utf-8") else probe.encoding
    text = path.read_text(encoding=enc, errors="replace")
    if probe.kind == "json":
        try:
            yield 1, json.loads(text)
            return
        except ValueError as e:
            if not lines_fallback:
                raise ImportFailure(f"{path} : JSON illisible ({e})") from None
    for lineno, line in enumerate(text.splitlines(), start=1):
        line = line.strip()
        if not line:
            continue
        try:
            yield lineno, json.loads(line)
        except ValueError:
            yield lineno, ValueError(line[:80])
