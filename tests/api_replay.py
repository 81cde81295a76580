"""A local API on 127.0.0.1 that replays responses in the platforms' real shapes (no network).

Built on pytest-httpserver (a werkzeug server in a thread). Rules are matched in the order they
were added, *scripted* rules (``times=``) first, so a test can say « the first call to this
endpoint answers 429 with Retry-After: 1, then the normal page ». Every request is recorded.

    def test_x(replay):
        replay.json("/xrpc/app.bsky.actor.getProfile", {"did": …})
        replay.fail("/xrpc/app.bsky.feed.getAuthorFeed", 429, headers={"Retry-After": "1"})
        replay.json("/xrpc/app.bsky.feed.getAuthorFeed", page2, when={"cursor": "c1"})
        … collect with api=replay.url …
        assert replay.calls("/xrpc/app.bsky.feed.getAuthorFeed")[1]["cursor"] == "c1"
"""

from __future__ import annotations

import json
import threading
from collections.abc import Callable
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import pytest
from werkzeug import Request, Response

from analysis import derived_refresh


@dataclass
class Rule:
    method: str
    path: str
    when: dict[str, str | None]  # query parameters that must match (None: must be absent)
    status: int
    body: Any
    headers: dict[str, str]
    times: int | None  # None: answers forever
    raw: bool = False
    used: int = 0

    def matches(self, method: str, path: str, args: dict[str, str]) -> bool:
        if self.method != method or self.path != path:
            return False
        if self.times is not None and self.used >= self.times:
            return False
        for k, v in self.when.items():
            if v is None and k in args:
                return False
            if v is not None and args.get(k) != v:
                return False
        return True


@dataclass
class Replay:
    """Scripted responses served by a pytest-httpserver instance."""

    server: Any
    rules: list[Rule] = field(default_factory=list)
    log: list[dict] = field(default_factory=list)
    lock: threading.Lock = field(default_factory=threading.Lock)

    @property
    def url(self) -> str:
        return self.server.url_for("/").rstrip("/")

    def json(self, path: str, body: Any, *, when: dict[str, str | None] | None = None, status: int = 200,
             headers: dict[str, str] | None = None, times: int | None = None, method: str = "GET") -> None:
        """Answer ``path`` (with the ``when`` parameters) with a JSON body (a dict, or a file path)."""
        if isinstance(body, Path):
            body = json.loads(body.read_text(encoding="utf-8"))
        self.rules.append(Rule(method, path, dict(when or {}), status, body, dict(headers or {}), times))

    def text(self, path: str, body: str, *, content_type: str, when: dict | None = None, status: int = 200,
             headers: dict[str, str] | None = None, times: int | None = None) -> None:
        """Answer with a raw text body (an RSS feed, an HTML error page)."""
        self.rules.append(Rule("GET", path, dict(when or {}), status, body,
                               {"Content-Type": content_type, **(headers or {})}, times, raw=True))

    def fail(self, path: str, status: int, *, body: Any = None, headers: dict[str, str] | None = None,
             times: int = 1, when: dict | None = None, method: str = "GET") -> None:
        """The next ``times`` calls of ``path`` fail with ``status`` (checked before other rules)."""
        self.rules.insert(0, Rule(method, path, dict(when or {}), status, body if body is not None else {"error": "x"},
                                  dict(headers or {}), times))

    def reset(self) -> None:
        """Forget rules and calls (a test's second act: the platform changed)."""
        with self.lock:
            self.rules.clear()
            self.log.clear()

    def calls(self, path: str | None = None) -> list[dict[str, str]]:
        """Query parameters of each recorded call (of ``path``), in order."""
        return [c["args"] for c in self.log if path is None or c["path"] == path]

    def handle(self, request: Request) -> Response:
        args = {k: v for k, v in request.args.items()}
        with self.lock:
            self.log.append({"method": request.method, "path": request.path, "args": args,
                             "headers": dict(request.headers), "body": request.get_data(as_text=True)})
            rule = next((r for r in self.rules if r.matches(request.method, request.path, args)), None)
            if rule is None:
                return Response(json.dumps({"error": "NotFound", "message": f"no replay for {request.path}"}),
                                status=404, content_type="application/json")
            rule.used += 1
        if rule.raw:
            return Response(rule.body, status=rule.status, headers=rule.headers)
        return Response(json.dumps(rule.body), status=rule.status, content_type="application/json",
                        headers=rule.headers)


@pytest.fixture()
def replay(httpserver) -> Replay:
    """A :class:`Replay` on a fresh local server (127.0.0.1, random port)."""
    r = Replay(httpserver)
    import re

    httpserver.expect_request(re.compile(".*")).respond_with_handler(r.handle)
    return r


class Sleeps(list):
    """Records the waits a client asked for instead of sleeping (tests never wait)."""

    def __call__(self, seconds: float) -> None:
        self.append(seconds)


Responder = Callable[[Request], Response]


def run_collect(sources: list, api: str, *, sleep: Sleeps | None = None, since: Any = None,
                credentials: Any = None) -> list:
    """One collection run in-process on the store of ``$VIGIE_DB`` (as ``vigie collect`` does)."""
    from analysis import store
    from analysis.collect.credentials import Credentials, load_credentials
    from analysis.collect.runner import collect
    from analysis.ingest import default_context
    from analysis.registry import sync_registry

    ctx = default_context()
    creds = credentials if isinstance(credentials, Credentials) else load_credentials()
    with derived_refresh.writer() as con:
        with store.transaction(con):
            sync_registry(con, ctx.registry)
        return collect(con, sources, ctx, api=api, since=since, credentials=creds,
                       sleep=sleep if sleep is not None else Sleeps())


def rows(sql: str, params: list | None = None) -> list[tuple]:
    """Rows of a query on the published store."""
    from analysis import store

    with store.reader() as con:
        return con.execute(sql, params or []).fetchall()
