"""Continuous watching of Bluesky through the public Jetstream firehose (``vigie collect --follow``).

Two halves, because the store has one writer and a service that runs forever must never hold it:

1. **The follow service** (:func:`follow`) subscribes to Jetstream's post events
   (``/subscribe?wantedCollections=app.bsky.feed.post``), keeps the few that concern a territory
   — a post by an official account of the registry, a reply to, quote of or @-mention of one, a
   post whose text or hashtags name a territory (:meth:`Registry.territory_named`), and the
   deletions of posts by these accounts or by authors whose posts Vigie keeps — and appends them
   to a **spool**: ``<store>.spool/jetstream/YYYYMMDDHHMM.jsonl`` (one file per 5-minute UTC slot, written as
   ``….jsonl.part`` and renamed when the slot ends or the service stops). Its position (the last
   ``time_us``) is saved atomically in ``cursor.json``; after a dropped connection it resumes from
   that cursor minus :data:`REWIND_US` (Jetstream replays from a cursor; events already spooled
   are recognised and skipped), with an exponential backoff capped at :data:`BACKOFF_MAX`.
   SIGTERM or SIGINT stop it cleanly (spool closed, cursor written).
2. **The spool import**, a connector of the runner (:data:`SPOOL_SOURCE`): every ``vigie collect``
   (and ``vigie collect jetstream-spool``) maps the closed files with the Jetstream adapter
   (:mod:`analysis.ingest.jetstream`), writes each file in one transaction, applies its
   deletions, then deletes the file (it holds DIDs: personal data).

Why deletes are filtered, not all kept: the real Jetstream sample (0,3 s of the network) holds one
post deletion for 17 new posts, i.e. about 3 deletions a second network-wide, 250 000 a day —
some 50 MB a day of unrelated people's identifiers for a handful that concern the store.
"""

from __future__ import annotations

import fcntl
import json
import os
import signal
import sys
import threading
import time
from collections import Counter
from collections.abc import Callable, Iterator
from dataclasses import dataclass, field
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any
from urllib.parse import parse_qsl, urlencode, urlsplit, urlunsplit

from websockets.exceptions import InvalidURI, WebSocketException
from websockets.sync.client import connect

from analysis import store
from analysis.collect.base import Batch, Source, StoreView
from analysis.collect.http import USER_AGENT, ApiClient, CollectError
from analysis.fmt import fr_count, fr_plural
from analysis.ingest.base import Context
from analysis.ingest.jetstream import (
    DID_CACHE,
    concerns,
    is_event,
    load_did_cache,
    official_dids,
    post_commit,
    read_file,
    spool_dir,
)
from analysis.registry import Registry, load_registry

PLATFORM = "bluesky"
DEFAULT_API = "wss://jetstream2.us-east.bsky.network"  # one of Bluesky's four public instances
APPVIEW = "https://public.api.bsky.app"  # resolves official handles to DIDs (no login)
WANTED = "app.bsky.feed.post"
REWIND_US = 5_000_000  # a resumed subscription starts this far before the last event read
BACKOFF_FIRST = 1.0
BACKOFF_MAX = 60.0
CURSOR_EVERY = 5.0  # seconds between two saves of the cursor (and fsyncs of the spool)
# A spool file is closed (ready for import) every SLOT_MINUTES: with the 15-minute collection
# timer, a mention reaches the store within about 20 minutes.
SLOT_MINUTES = 5
RECV_TICK = 1.0  # seconds a read waits before the loop checks the stop flag and the hour
DID_TTL = timedelta(days=7)  # a handle can move to another DID: resolve again after this
REPLAY_WINDOW = timedelta(hours=24)  # how far back public Jetstream instances replay (v1)
CURSOR_FILE = "cursor.json"
LOCK_FILE = "follow.lock"
PART = ".jsonl.part"

# What `vigie collect` runs to import the spool (through the runner: one transaction per file).
SPOOL_SOURCE = Source(PLATFORM, "firehose", "jetstream", options=(("connector", "jetstream"),))

REASONS = {"official": "compte officiel", "reply": "réponse à un compte officiel",
           "quote": "citation d'un compte officiel", "mention": "mention d'un compte officiel",
           "named": "territoire nommé", "delete": "suppression"}


# ------------------------------------------------------------------------------------ filter
@dataclass
class Watcher:
    """Decides which post events concern a territory of the registry.

    ``officials``: ``DID → handle`` of the registry's Bluesky accounts; ``authors``: DIDs whose
    posts the store (or the spool) holds — their deletions matter, nobody else's.
    """

    registry: Registry
    officials: dict[str, str | None]
    authors: set[str] = field(default_factory=set)

    def keep(self, ev: dict) -> str | None:
        """Why the event is kept (a key of :data:`REASONS`), or None."""
        c = post_commit(ev)
        if c is None:
            return None
        did = ev["did"]
        if c["operation"] == "delete":
            return "delete" if did in self.officials or did in self.authors else None
        reason = self.reason(did, c["record"])
        if reason:
            self.authors.add(did)
        return reason

    def reason(self, did: str, record: dict) -> str | None:
        return concerns(did, record, self.officials, self.registry)


# ------------------------------------------------------------------------------------ spool
def _hour_and_rank(p: Path) -> tuple[str, int] | None:
    """``("202612010905", 0)`` for ``202612010905.jsonl``, ``(…, 2)`` for ``202612010905.2.jsonl``
    (a slot of :data:`SLOT_MINUTES`; hourly ``YYYYMMDDHH`` names of older spools are read too)."""
    parts = p.name.split(".")
    if p.suffix != ".jsonl" or not parts[0].isdigit() or len(parts[0]) not in (10, 12):
        return None
    if len(parts) == 2:
        return parts[0], 0
    if len(parts) == 3 and parts[1].isdigit():
        return parts[0], int(parts[1])
    return None


def closed_files(root: Path) -> list[Path]:
    """Closed spool files, oldest first (a deletion must come after the post it deletes)."""
    if not root.is_dir():
        return []
    ranked = [(k, p) for p in root.iterdir() if (k := _hour_and_rank(p)) is not None]
    return [p for _, p in sorted(ranked)]


class Spool:
    """JSONL files of kept events, one per 5-minute slot: ``SLOT.jsonl.part`` while written, ``SLOT.jsonl`` when closed."""

    def __init__(self, root: Path, now: Callable[[], datetime]) -> None:
        self.root = root
        self.now = now
        self.hour: str | None = None
        self.fh: Any = None
        self.closed = 0
        for part in sorted(root.glob(f"*{PART}")):  # left open by a crash: its events are whole lines
            self._close_part(part)

    def _hour(self) -> str:
        t = self.now().astimezone(UTC)
        return t.strftime("%Y%m%d%H") + f"{t.minute // SLOT_MINUTES * SLOT_MINUTES:02d}"

    def write(self, line: str) -> None:
        hour = self._hour()
        if hour != self.hour:
            self.close()
        if self.fh is None:
            self.hour = hour
            fd = os.open(self.root / f"{hour}{PART}", os.O_WRONLY | os.O_CREAT | os.O_APPEND, 0o600)
            self.fh = os.fdopen(fd, "a", encoding="utf-8")
        self.fh.write(line + "\n")

    def tick(self) -> bool:
        """Close the file of an hour that has ended; True when one was closed."""
        if self.fh is not None and self._hour() != self.hour:
            self.close()
            return True
        return False

    def flush(self) -> None:
        if self.fh is not None:
            self.fh.flush()
            os.fsync(self.fh.fileno())

    def close(self) -> Path | None:
        """Flush and close the current file, renamed so that the next import takes it."""
        if self.fh is None:
            return None
        self.flush()
        self.fh.close()
        self.fh = None
        part = self.root / f"{self.hour}{PART}"
        self.hour = None
        return self._close_part(part)

    def _close_part(self, part: Path) -> Path | None:
        if part.stat().st_size == 0:
            part.unlink()
            return None
        hour = part.name[: -len(PART)]
        ranks = [k[1] for p in closed_files(self.root) if (k := _hour_and_rank(p)) and k[0] == hour]
        rank = max(ranks) + 1 if ranks else 0
        target = self.root / (f"{hour}.jsonl" if rank == 0 else f"{hour}.{rank}.jsonl")
        os.replace(part, target)
        self.closed += 1
        return target


def spooled_authors(root: Path) -> set[str]:
    """Authors of the posts waiting in the spool (their deletions must be kept after a restart)."""
    out: set[str] = set()
    for p in [*closed_files(root), *root.glob(f"*{PART}")]:
        with open(p, encoding="utf-8", errors="replace") as fh:
            for line in fh:
                try:
                    ev = json.loads(line)
                except ValueError:
                    continue
                c = post_commit(ev) if isinstance(ev, dict) else None
                if c is not None and c["operation"] != "delete":
                    out.add(ev["did"])
    return out


def stored_authors() -> set[str]:
    """DIDs of the Bluesky posts and messages in the store, read from its published read-only copy.

    Only that copy (``<store>.read``): opening the store file itself, even read-only, could stop
    the writer (``vigie collect``, ``vigie import``) from opening it."""
    if not store.read_path().exists():
        return set()
    try:
        with store.reader() as con:
            rows = con.execute("""
                SELECT DISTINCT split_part(message_id, '/', 3) FROM messages
                WHERE platform = 'bluesky' AND message_id LIKE 'bluesky:at://%'
                UNION SELECT DISTINCT split_part(post_id, '/', 3) FROM posts
                WHERE platform = 'bluesky' AND post_id LIKE 'bluesky:at://%'
            """).fetchall()
    except Exception:  # a copy being replaced, an older schema: the next refresh will do
        return set()
    return {r[0] for r in rows if r[0]}


# ------------------------------------------------------------------------------------ position
@dataclass
class Position:
    """Where the stream was read up to, and the events spooled in the last seconds (to skip
    them when a resumed subscription replays them)."""

    time_us: int | None = None
    recent: dict[tuple[str, ...], int] = field(default_factory=dict)

    @classmethod
    def load(cls, path: Path) -> Position:
        try:
            raw = json.loads(path.read_text(encoding="utf-8"))
            t = raw.get("time_us")
            recent = {tuple(k[:-1]): int(k[-1]) for k in raw.get("recent") or []}
            return cls(int(t) if t is not None else None, recent)
        except (OSError, ValueError, TypeError, AttributeError, IndexError):
            return cls()

    def save(self, path: Path) -> None:
        """Written to a temporary file then renamed: a crash never leaves half a cursor."""
        body = {"time_us": self.time_us, "saved_at": datetime.now(UTC).isoformat(timespec="seconds"),
                "recent": [[*k, t] for k, t in self.recent.items()]}
        tmp = path.with_name(path.name + ".tmp")
        with open(tmp, "w", encoding="utf-8") as fh:
            json.dump(body, fh)
            fh.flush()
            os.fsync(fh.fileno())
        os.replace(tmp, path)

    def advance(self, time_us: int) -> None:
        if self.time_us is None or time_us > self.time_us:
            self.time_us = time_us
        floor = self.time_us - 2 * REWIND_US
        if self.recent and min(self.recent.values()) < floor:
            self.recent = {k: t for k, t in self.recent.items() if t >= floor}

    def resume_at(self) -> int | None:
        return None if self.time_us is None else max(0, self.time_us - REWIND_US)


def event_key(ev: dict, commit: dict) -> tuple[str, ...]:
    return (ev["did"], str(commit.get("rev") or ""), commit["rkey"], commit["operation"])


# ------------------------------------------------------------------------------------ identities
def resolve_officials(registry: Registry, root: Path, *, appview: str | None, log: Callable[[str], None],
                      now: datetime, sleep: Callable[[float], Any]) -> dict[str, str | None]:
    """``DID → handle`` of the registry's Bluesky accounts: ``native_id`` when it is a DID, else the
    handle resolved once (``com.atproto.identity.resolveHandle``) and cached in the spool for
    :data:`DID_TTL`. A handle that cannot be resolved keeps its cached DID, and is said."""
    path = root / DID_CACHE
    try:
        cache = json.loads(path.read_text(encoding="utf-8"))
        cache = cache if isinstance(cache, dict) else {}
    except (OSError, ValueError):
        cache = {}
    changed = False
    client = ApiClient(appview or APPVIEW, "Bluesky", attempts=2, sleep=sleep)
    try:
        for a in registry.accounts:
            if a.platform != PLATFORM or (a.native_id or "").startswith("did:") or not a.handle:
                continue
            handle = a.handle.lstrip("@").lower()
            entry = cache.get(handle) if isinstance(cache.get(handle), dict) else None
            try:
                fresh = entry is not None and now - datetime.fromisoformat(entry["resolved_at"]) < DID_TTL
            except (KeyError, TypeError, ValueError):
                fresh = False
            if fresh:
                continue
            try:
                did = (client.get_json("xrpc/com.atproto.identity.resolveHandle", {"handle": handle}) or {}).get("did")
            except CollectError as e:
                did = None
                log(f"Bluesky : le compte « {handle} » n'a pas pu être résolu en DID ({e}) ; "
                    + ("l'identifiant en cache reste utilisé." if entry else
                       "ses réponses et mentions ne seront reconnues qu'au texte. Donnez son DID "
                       "(native_id = \"did:plc:…\") dans le registre ou relancez le service."))
            if isinstance(did, str) and did.startswith("did:"):
                cache[handle] = {"did": did, "resolved_at": now.isoformat(timespec="seconds")}
                changed = True
    finally:
        client.close()
    if changed:
        tmp = path.with_name(path.name + ".tmp")
        tmp.write_text(json.dumps(cache, indent=1, sort_keys=True), encoding="utf-8")
        os.replace(tmp, path)
    return official_dids(registry, load_did_cache(root))


# ------------------------------------------------------------------------------------ service
@dataclass
class FollowStats:
    """What one run of the follow service saw and did."""

    received: int = 0
    kept: Counter = field(default_factory=Counter)  # by reason (keys of REASONS)
    dropped: int = 0  # post events that concern no territory
    duplicates: int = 0  # replayed after a reconnection, already in the spool
    ignored: Counter = field(default_factory=Counter)  # identity, account, other collections
    malformed: int = 0
    connections: int = 0
    files_closed: int = 0
    cursor: int | None = None
    stopped_by: str = ""

    def summary(self) -> str:
        kept = sum(self.kept.values())
        return (f"{fr_count(self.received, 'événement reçu', 'événements reçus')}, {fr_count(kept, 'gardé')} "
                f"({', '.join(f'{REASONS[k]} : {v}' for k, v in sorted(self.kept.items())) or 'aucun'}), "
                f"{self.dropped} sans rapport, {fr_count(sum(self.ignored.values()), 'ignoré')} (identité, compte, "
                f"autres collections), {fr_count(self.duplicates, 'doublon')} de reprise, "
                f"{fr_count(self.malformed, 'illisible')}, {fr_count(self.connections, 'connexion')}")


def subscribe_url(api: str | None, cursor: int | None) -> str:
    """The ``/subscribe`` address of a Jetstream instance, for post events, from ``cursor``."""
    parts = urlsplit((api or DEFAULT_API).strip())
    scheme = {"http": "ws", "https": "wss"}.get(parts.scheme, parts.scheme)
    if scheme not in ("ws", "wss") or not parts.netloc:
        raise CollectError(f"Jetstream : adresse « {api} » invalide ; attendu ws://HÔTE:PORT ou "
                           f"wss://HÔTE (par défaut {DEFAULT_API}).")
    path = parts.path if parts.path not in ("", "/") else "/subscribe"
    query = [(k, v) for k, v in parse_qsl(parts.query) if k not in ("wantedCollections", "cursor")]
    query.append(("wantedCollections", WANTED))
    if cursor is not None:
        query.append(("cursor", str(cursor)))
    return urlunsplit((scheme, parts.netloc, path, urlencode(query), ""))


def _stderr(message: str) -> None:
    print(f"vigie collect --follow : {message}", file=sys.stderr, flush=True)


def _lock(root: Path) -> Any:
    fh = open(root / LOCK_FILE, "a+")  # noqa: SIM115 - held for the life of the service
    try:
        fcntl.flock(fh, fcntl.LOCK_EX | fcntl.LOCK_NB)
    except OSError:
        fh.close()
        raise CollectError(f"Jetstream : un autre service de suivi utilise déjà le tampon {root} ; "
                           "arrêtez-le (systemctl stop vigie-jetstream) avant d'en lancer un second.") from None
    return fh


def _signals(stop: threading.Event, stats: FollowStats) -> Callable[[], None]:
    """SIGTERM/SIGINT set ``stop`` (main thread only); returns what restores the previous handlers."""
    if threading.current_thread() is not threading.main_thread():
        return lambda: None

    def on_signal(signum: int, _frame: Any) -> None:
        stats.stopped_by = signal.Signals(signum).name
        stop.set()

    old = {s: signal.signal(s, on_signal) for s in (signal.SIGTERM, signal.SIGINT)}
    return lambda: [signal.signal(s, h) for s, h in old.items()]


def follow(api: str | None = None, *, spool: Path | None = None, appview: str | None = None,
           registry: Registry | None = None, stop: threading.Event | None = None,
           max_events: int | None = None, on_event: Callable[[FollowStats], None] | None = None,
           sleep: Callable[[float], Any] | None = None, now: Callable[[], datetime] | None = None,
           log: Callable[[str], None] | None = None) -> FollowStats:
    """Follow Jetstream until ``stop`` is set (SIGTERM, SIGINT, ``max_events`` events received).

    ``api``: the Jetstream instance (default :data:`DEFAULT_API`); ``spool``: default
    :func:`~analysis.ingest.jetstream.spool_dir` of the store; ``appview``: where handles are
    resolved; ``sleep`` waits between reconnections (default: ``stop.wait``, so a stop never waits);
    ``now`` is the clock of the spool slots; ``on_event`` is called after each event received.
    """
    say = log if log is not None else _stderr
    stop = stop if stop is not None else threading.Event()
    wait = sleep if sleep is not None else stop.wait
    clock = now or (lambda: datetime.now(UTC))
    reg = registry or load_registry()
    root = Path(spool) if spool else spool_dir()
    subscribe_url(api, None)  # a wrong address is said now, not retried forever
    root.mkdir(parents=True, exist_ok=True)
    os.chmod(root, 0o700)  # DIDs are personal data
    lock = _lock(root)
    stats = FollowStats()
    restore = _signals(stop, stats)  # from now on a SIGTERM ends the service cleanly
    try:
        pos = Position.load(root / CURSOR_FILE)
        officials = resolve_officials(reg, root, appview=appview, log=say, now=clock(), sleep=wait)
        watcher = Watcher(reg, officials, stored_authors() | spooled_authors(root))
        spool_ = Spool(root, clock)
        say(f"{fr_count(len(officials), 'compte officiel', 'comptes officiels')} Bluesky "
            f"{fr_plural(len(officials), 'suivi', 'suivis')}, {fr_count(len(reg.territories), 'territoire')} ; "
            f"tampon {root}")
        try:
            _run(api, pos, watcher, spool_, stats, stop=stop, max_events=max_events, on_event=on_event,
                 wait=wait, say=say, root=root, appview=appview, reg=reg, clock=clock)
        finally:
            spool_.close()
            pos.save(root / CURSOR_FILE)
            stats.files_closed = spool_.closed
            stats.cursor = pos.time_us
        say(f"arrêt ({stats.stopped_by or 'demandé'}) : {stats.summary()} ; curseur {pos.time_us}.")
        return stats
    finally:
        restore()
        lock.close()


def _run(api: str | None, pos: Position, watcher: Watcher, spool_: Spool, stats: FollowStats, *,
         stop: threading.Event, max_events: int | None, on_event: Callable[[FollowStats], None] | None,
         wait: Callable[[float], Any], say: Callable[[str], None], root: Path, appview: str | None,
         reg: Registry, clock: Callable[[], datetime]) -> None:
    attempt = 0
    saved_at = time.monotonic()
    while not stop.is_set():
        cursor = pos.resume_at()
        if cursor is not None and clock().timestamp() * 1e6 - cursor > REPLAY_WINDOW.total_seconds() * 1e6:
            say("le dernier événement lu date de plus de 24 h : Jetstream ne rejoue que les dernières 24 h, "
                "des publications de l'interruption ont pu être manquées.")
        url = subscribe_url(api, cursor)
        got = 0
        try:
            with connect(url, user_agent_header=USER_AGENT, open_timeout=20, close_timeout=5) as ws:
                stats.connections += 1
                say(f"connecté à {url}")
                while not stop.is_set():
                    try:
                        msg = ws.recv(timeout=RECV_TICK)
                    except TimeoutError:
                        msg = None
                    if msg is not None:
                        got += 1
                        _handle(msg, pos, watcher, spool_, stats, say)
                        if max_events is not None and stats.received >= max_events:
                            stats.stopped_by = stats.stopped_by or "max_events"
                            stop.set()
                        if on_event is not None:
                            on_event(stats)
                    if spool_.tick():  # an hour ended: its file is ready for the next import
                        watcher.officials = resolve_officials(reg, root, appview=appview, log=say, now=clock(),
                                                              sleep=wait)
                        watcher.authors |= stored_authors()
                        say(f"heure close : {stats.summary()}")
                    if time.monotonic() - saved_at >= CURSOR_EVERY:
                        spool_.flush()  # the spool is on disk before the cursor says it was read
                        pos.save(root / CURSOR_FILE)
                        saved_at = time.monotonic()
        except InvalidURI as e:
            raise CollectError(f"Jetstream : adresse invalide ({e}).") from None
        except (WebSocketException, OSError, TimeoutError) as e:
            if stop.is_set():
                break
            if got:
                attempt = 0
            delay = min(BACKOFF_MAX, BACKOFF_FIRST * 2 ** attempt)
            attempt += 1
            spool_.tick()  # a long outage must not keep the last hour from being imported
            spool_.flush()
            pos.save(root / CURSOR_FILE)
            say(f"connexion perdue ou refusée ({type(e).__name__}: {e}) ; nouvel essai dans {delay:.0f} s "
                f"à partir du curseur {pos.resume_at()}.")
            wait(delay)


def _handle(msg: str | bytes, pos: Position, watcher: Watcher, spool_: Spool, stats: FollowStats,
            say: Callable[[str], None]) -> None:
    stats.received += 1
    try:
        ev = json.loads(msg)
    except ValueError:
        ev = None
    if not is_event(ev):
        stats.malformed += 1
        if stats.malformed in (1, 10, 100) or stats.malformed % 1000 == 0:
            say(f"message illisible ignoré ({stats.malformed} depuis le démarrage) : {str(msg)[:80]!r}")
        return
    pos.advance(ev["time_us"])
    c = post_commit(ev)
    if c is None:
        coll = (ev.get("commit") or {}).get("collection") if ev["kind"] == "commit" else None
        stats.ignored[ev["kind"] if coll is None else "other collections"] += 1
        return
    try:
        reason = watcher.keep(ev)
    except Exception as e:  # a record off the lexicon (any PDS can write one): never a crash loop
        stats.malformed += 1
        say(f"publication de forme inattendue ignorée ({type(e).__name__}: {e}) : {ev['did']} {c['rkey']}")
        return
    if reason is None:
        stats.dropped += 1
        return
    key = event_key(ev, c)
    if key in pos.recent:
        stats.duplicates += 1
        return
    spool_.write(json.dumps(ev, ensure_ascii=False, separators=(",", ":")))
    pos.recent[key] = ev["time_us"]
    stats.kept[reason] += 1


# ------------------------------------------------------------------------------------ spool import
def client(api: str | None, credentials: Any, sleep: Callable[[float], None]) -> ApiClient:
    """The spool is read from disk: this client makes no request (the runner counts them)."""
    return ApiClient("file:", "Jetstream", sleep=sleep)


def batches(source: Source, client: ApiClient, cursor: dict | None, since: datetime, ctx: Context,
            known: StoreView) -> Iterator[Batch]:
    """One batch per closed spool file, oldest first; a file is deleted once its batch is written.

    The runner writes a batch (rows, deletions, cursor) in one transaction before asking for the
    next: a crash between the two leaves the file, whose second import changes nothing."""
    root = spool_dir()
    officials = official_dids(ctx.registry, load_did_cache(root))
    for path in closed_files(root):
        r = read_file(path, ctx, officials)
        yield Batch(parsed=r.parsed, cursor={"file": path.name, "time_us": r.last_time_us},
                    newest_at=None if r.newest_at is None else r.newest_at.to_pydatetime(),
                    deleted_posts=r.deleted, deleted_messages=r.deleted)
        path.unlink(missing_ok=True)  # imported: the DIDs it held are not kept


def spool_sources(platforms: set[str] | None = None) -> list[Source]:
    """What ``vigie collect`` adds to its plan: the spool import, when a follow service has a spool."""
    if platforms and PLATFORM not in platforms:
        return []
    return [SPOOL_SOURCE] if spool_dir().is_dir() else []
