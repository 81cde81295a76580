"""Bluesky Jetstream events (JSON lines) → canonical rows: the spool of ``vigie collect --follow``
and saved firehose dumps read by ``vigie import``.

Jetstream (https://github.com/bluesky-social/jetstream) sends one JSON object per event:
``{"did", "time_us", "kind": "commit", "commit": {"rev", "operation", "collection", "rkey",
"record", "cid"}}`` (and ``identity`` / ``account`` events, ignored here). A commit's ``record``
of collection ``app.bsky.feed.post`` is the very record the AppView wraps in a ``postView``, so
the mapping is the Bluesky connector's (:class:`analysis.ingest.bluesky.Mapper`): same ids
(``bluesky:at://<did>/app.bsky.feed.post/<rkey>``), same post / reply / mention rules, authors
pseudonymised from their DID. What differs:

- Jetstream carries no counts (likes, replies, reposts): they stay NULL, never 0, and a NULL
  never erases a count the author-feed collection stored.
- No handle comes with an event: the DIDs of the registry's official accounts come from the
  registry (``native_id`` = DID) or from the cache the follow service keeps in its spool
  (handle → DID, resolved once with ``com.atproto.identity.resolveHandle``).
- A quote of an official post is filed under that official account (the AppView mapper only
  knows replies and @-mentions); hashtags of ``record.tags`` count as naming a territory.
- ``delete`` commits become the ids to mark deleted (:attr:`SpoolRead.deleted`); the collection
  runner applies them (``vigie collect``). ``vigie import`` cannot: it says how many it skipped.
"""

from __future__ import annotations

import json
import os
from collections import Counter
from collections.abc import Iterable, Iterator
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import pandas as pd

from analysis import store
from analysis.fmt import fr_count, fr_plural
from analysis.ingest.base import Adapter, Context, ImportFailure, Parsed, Reject
from analysis.ingest.bluesky import POST_NSID, Mapper, _mentioned_dids, did_of, post_id
from analysis.ingest.sniff import Probe

PLATFORM = "bluesky"
FORMAT = "bluesky_jetstream"
DID_CACHE = "dids.json"
EVENT_KINDS = ("commit", "identity", "account")


def spool_dir(db: str | os.PathLike | None = None) -> Path:
    """Where the follow service leaves its events: ``<store path>.spool/jetstream``."""
    p = store.db_path(db)
    return p.with_name(p.name + ".spool") / "jetstream"


def load_did_cache(spool: Path) -> dict[str, str]:
    """``handle → DID`` of official accounts resolved by the follow service (empty when absent)."""
    try:
        raw = json.loads((spool / DID_CACHE).read_text(encoding="utf-8"))
    except (OSError, ValueError):
        return {}
    out = {}
    for handle, v in (raw.items() if isinstance(raw, dict) else ()):
        did = v.get("did") if isinstance(v, dict) else v
        if isinstance(did, str) and did.startswith("did:"):
            out[str(handle).lower()] = did
    return out


def official_dids(registry: Any, cache: dict[str, str]) -> dict[str, str | None]:
    """``DID → handle`` of the registry's Bluesky accounts whose DID is known (registry or cache)."""
    out: dict[str, str | None] = {}
    for a in (registry.accounts if registry is not None else []):
        if a.platform != PLATFORM:
            continue
        handle = (a.handle or "").lstrip("@").lower() or None
        did = a.native_id if (a.native_id or "").startswith("did:") else cache.get(handle or "")
        if did:
            out[did] = handle
    return out


def post_uri(did: str, rkey: str) -> str:
    return f"at://{did}/{POST_NSID}/{rkey}"


def quoted_uri(record: dict) -> str | None:
    """AT URI of the post a record quotes (``embed.record`` or ``embed.recordWithMedia``)."""
    embed = record.get("embed") or {}
    if not isinstance(embed, dict):
        return None
    rec = embed.get("record") or {}
    if isinstance(rec, dict) and isinstance(rec.get("record"), dict):  # recordWithMedia
        rec = rec["record"]
    uri = rec.get("uri") if isinstance(rec, dict) else None
    return uri if isinstance(uri, str) and f"/{POST_NSID}/" in uri else None


def record_tags(record: dict) -> list[str]:
    """Hashtags of a post: facet tags and the extra ``tags`` of the record."""
    tags = [t for t in record.get("tags") or [] if isinstance(t, str)]
    for facet in record.get("facets") or []:
        for feat in (facet.get("features") or []) if isinstance(facet, dict) else []:
            if isinstance(feat, dict) and str(feat.get("$type", "")).endswith("#tag") and feat.get("tag"):
                tags.append(str(feat["tag"]))
    return tags


def is_event(obj: Any) -> bool:
    """Whether a JSON value has the shape of a Jetstream event."""
    return (isinstance(obj, dict) and isinstance(obj.get("did"), str) and obj.get("kind") in EVENT_KINDS
            and isinstance(obj.get("time_us"), int) and not isinstance(obj.get("time_us"), bool))


def post_commit(ev: dict) -> dict | None:
    """The commit of an ``app.bsky.feed.post`` event (create, update or delete), else None."""
    c = ev.get("commit")
    if ev.get("kind") != "commit" or not isinstance(c, dict) or c.get("collection") != POST_NSID:
        return None
    if not isinstance(c.get("rkey"), str) or c.get("operation") not in ("create", "update", "delete"):
        return None
    if c["operation"] != "delete" and not isinstance(c.get("record"), dict):
        return None
    return c


def concerns(did: str, record: dict, officials: dict[str, Any] | set[str], registry: Any) -> str | None:
    """Why a post concerns a territory of the registry, or None — the one rule of the firehose.

    ``official``: written by an official account; ``reply``, ``quote``, ``mention``: answers,
    quotes or @-mentions one (``officials`` holds their DIDs); ``named``: its text or hashtags name
    a territory (:meth:`~analysis.registry.Registry.territory_named`)."""
    if did in officials:
        return "official"
    reply = record.get("reply") if isinstance(record.get("reply"), dict) else {}
    for k in ("parent", "root"):
        ref = reply.get(k)
        if isinstance(ref, dict) and did_of(str(ref.get("uri") or "")) in officials:
            return "reply"
    if did_of(quoted_uri(record)) in officials:
        return "quote"
    if any(d in officials for d in _mentioned_dids(record)):
        return "mention"
    tags = " ".join(f"#{t}" for t in record_tags(record))
    if registry is not None and registry.territory_named(f"{record.get('text') or ''} {tags}"):
        return "named"
    return None


def _iso_us(time_us: int) -> str:
    return pd.Timestamp(time_us, unit="us", tz="UTC").isoformat()


class JetstreamMapper(Mapper):
    """The Bluesky mapper fed with Jetstream commits; ``officials``: ``DID → handle``."""

    def __init__(self, ctx: Context, officials: dict[str, str | None]) -> None:
        super().__init__(ctx, territory_id=None)
        for did, handle in officials.items():
            self.learn({"did": did, "handle": handle})
        self.deleted: list[str] = []
        self.unrelated = 0

    def commit(self, ev: dict, c: dict) -> str | None:
        """Map one post commit; returns the post URI (deletes are listed in :attr:`deleted`)."""
        did = ev["did"]
        uri = post_uri(did, c["rkey"])
        if c["operation"] == "delete":
            self.deleted.append(post_id(uri))
            self.items += 1
            return uri
        record = c["record"]
        if concerns(did, record, self.officials, self.ctx.registry) is None:
            self.unrelated += 1  # a dump of the whole firehose: strangers' posts are not kept
            return None
        view = {"uri": uri, "cid": c.get("cid"), "record": record, "indexedAt": _iso_us(ev["time_us"]),
                "author": {"did": did, "handle": self.handles.get(did)}}
        if self.view(view) is None:
            return None
        msg = self.messages.get(uri)
        if msg is not None and msg["account_id"] is None:
            off = self.official(did_of(quoted_uri(record)))
            if off:  # a quote of an official post addresses that account
                msg["account_id"], msg["territory_id"] = off
        if msg is not None and msg["territory_id"] is None and self.ctx.registry is not None:
            tags = " ".join(f"#{t}" for t in record_tags(record))
            msg["territory_id"] = self.ctx.registry.territory_named(f"{msg['text'] or ''} {tags}")
        return uri


@dataclass
class SpoolRead:
    """What a file of Jetstream events holds, mapped: rows, deletions, position, what was skipped."""

    parsed: Parsed
    deleted: list[str] = field(default_factory=list)
    newest_at: pd.Timestamp | None = None
    last_time_us: int | None = None
    ignored: Counter = field(default_factory=Counter)


def lines_of(path: Path) -> Iterator[tuple[int, str]]:
    """Non-empty lines of a file with their 1-based numbers (bad bytes replaced)."""
    with open(path, encoding="utf-8-sig", errors="replace") as fh:
        for n, line in enumerate(fh, start=1):
            if line.strip():
                yield n, line


def read_events(lines: Iterable[tuple[int, str]], ctx: Context, officials: dict[str, str | None],
                fmt: str = FORMAT) -> SpoolRead:
    """Map numbered JSON lines of Jetstream events; a malformed line is a counted reject."""
    m = JetstreamMapper(ctx, officials)
    out = SpoolRead(parsed=Parsed(format=fmt))
    read = 0
    for n, line in lines:
        read += 1
        try:
            ev = json.loads(line)
        except ValueError:
            m.rejects.append(Reject(n, None, line.strip()[:80], "ligne JSON illisible (événement Jetstream tronqué ?)"))
            continue
        if not is_event(ev):
            m.rejects.append(Reject(n, None, line.strip()[:80], "objet JSON qui n'est pas un événement Jetstream"))
            continue
        out.last_time_us = max(out.last_time_us or 0, ev["time_us"])
        c = post_commit(ev)
        if c is None:
            coll = (ev.get("commit") or {}).get("collection") if ev["kind"] == "commit" else None
            out.ignored[ev["kind"] if coll is None else "autres collections"] += 1
            continue
        try:
            uri = m.commit(ev, c)
        except Exception as e:  # a record off the lexicon must not block the files after it
            m.rejects.append(Reject(n, None, line.strip()[:80], f"publication de forme inattendue ({type(e).__name__})"))
            continue
        if uri is not None:
            ts = pd.Timestamp(ev["time_us"], unit="us")
            out.newest_at = ts if out.newest_at is None or ts > out.newest_at else out.newest_at
    deleted = list(dict.fromkeys(m.deleted))
    out.parsed = m.parsed(fmt)
    out.parsed.rows_read = read
    out.deleted = deleted
    if m.unrelated:
        out.parsed.notes.append(f"{fr_count(m.unrelated, 'publication')} sans rapport avec un territoire {fr_plural(m.unrelated, 'ignorée')}")
    if m.rejects:
        out.parsed.notes.append(fr_count(len(m.rejects), "ligne illisible ignorée", "lignes illisibles ignorées"))
    if out.ignored:
        what = ", ".join(f"{k} : {v}" for k, v in sorted(out.ignored.items()))
        out.parsed.notes.append(f"événements sans publication ignorés ({what})")
    return out


def read_file(path: Path, ctx: Context, officials: dict[str, str | None] | None = None) -> SpoolRead:
    """:func:`read_events` of a file; official DIDs from the registry and the default spool's cache."""
    if officials is None:
        officials = official_dids(ctx.registry, load_did_cache(spool_dir()))
    return read_events(lines_of(path), ctx, officials)


class BlueskyJetstream(Adapter):
    name = FORMAT
    label = "Bluesky — événements Jetstream enregistrés (JSONL : did, time_us, kind, commit)"
    platform = PLATFORM
    signature = ("did", "time_us", "kind", "commit", "operation", "collection")

    def sniff(self, probe: Probe) -> float:
        if probe.kind not in ("json", "jsonl"):
            return 0.0
        return 0.95 if is_event(probe.json_head) else 0.0

    def parse(self, path: Path, probe: Probe, ctx: Context) -> Parsed:
        r = read_file(path, ctx)
        if r.parsed.rows_read == 0:
            raise ImportFailure(f"{path} : aucun événement Jetstream dans ce fichier")
        if r.deleted:
            r.parsed.notes.append(
                f"{fr_count(len(r.deleted), 'suppression non appliquée', 'suppressions non appliquées')} par « vigie import » : elles le sont quand "
                "le tampon du service de suivi est importé par « vigie collect »")
        return r.parsed


ADAPTERS = [BlueskyJetstream()]
