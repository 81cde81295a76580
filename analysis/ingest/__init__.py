"""Import pipeline: sniff → detect format → parse to canonical rows → validate → one transaction.

A file imports whole or not at all; ``keep_going`` skips bad rows and records each in
``rejects``. Re-importing a file already imported (same SHA-256) changes nothing.
"""

from __future__ import annotations

import hashlib
import importlib
import os
import time
import uuid
from collections import Counter, deque
from collections.abc import Callable, Iterable, Iterator
from dataclasses import asdict, dataclass, field
from datetime import UTC, datetime
from functools import partial
from pathlib import Path

import duckdb
import pandas as pd
from rapidfuzz import fuzz

from analysis import derived, schema, store
from analysis.config import worker_processes
from analysis.fmt import fr_count, fr_plural
from analysis.ingest.attach import account_example, registry_snippet, unattached
from analysis.ingest.base import Adapter, Context, ImportFailure, Parsed, Reject, UnknownFormat
from analysis.ingest.chunked import csv_chunks, header_index, wants_chunks
from analysis.ingest.sniff import Probe, probe
from analysis.privacy import KeyChanged, check_store_key, pseudonymise
from analysis.registry import load_registry, sync_registry
from analysis.retention import audit

# Adapter modules, each exposing ADAPTERS: list[Adapter]. Order breaks ties in detection.
ADAPTER_MODULES = [
    "analysis.ingest.meta",
    "analysis.ingest.fb_legacy",
    "analysis.ingest.crowdtangle",
    "analysis.ingest.twitter",
    "analysis.ingest.comments",
    "analysis.ingest.linkedin",
    "analysis.ingest.bluesky",
    "analysis.ingest.jetstream",
    "analysis.ingest.mastodon",
    "analysis.ingest.youtube_api",
    "analysis.ingest.meta_graph",
    "analysis.ingest.rss",
    "analysis.ingest.tiktok",
    "analysis.ingest.agenda",
    "analysis.ingest.generic",
]

SKIP_NAMES = {".ds_store", "thumbs.db", "desktop.ini"}
SKIP_SUFFIXES = {".md", ".png", ".jpg", ".jpeg", ".gif", ".mp4", ".pdf", ".svg", ".webp"}


def adapters() -> list[Adapter]:
    """All known adapters (instances), in detection order."""
    out: list[Adapter] = []
    for mod in ADAPTER_MODULES:
        try:
            m = importlib.import_module(mod)
        except ModuleNotFoundError as e:
            if e.name and mod.startswith(e.name):  # not written yet
                continue
            raise
        out.extend(m.ADAPTERS)
    return out


@dataclass
class FileResult:
    path: str
    format: str | None = None
    rows_read: int = 0
    inserted: int = 0
    updated: int = 0
    rejected: int = 0
    status: str = "ok"  # ok | error | skipped
    error: str | None = None
    import_id: str | None = None
    encoding: str | None = None
    notes: list[str] = field(default_factory=list)
    tables: dict[str, list[int]] = field(default_factory=dict)  # table -> [inserted, updated]
    erased: int = 0  # messages of erased authors left out (tombstones)
    # Accounts of the file that no territory claims (``attach.unattached`` rows: platform, ids, name,
    # stored posts/messages without territory, first/last) and comments filed under no account.
    unknown_accounts: list[dict] = field(default_factory=list)
    without_account: int = 0
    without_account_platform: str | None = None  # their platform (for the --account example)

    def as_json(self) -> dict:
        d = asdict(self)
        out = {k: d[k] for k in ("path", "format", "rows_read", "inserted", "updated", "rejected",
                                 "status", "error", "notes", "tables", "without_account",
                                 "without_account_platform")}
        out["unknown_accounts"] = [{**u, "first": _iso(u.get("first")), "last": _iso(u.get("last")),
                                    "registry_snippet": registry_snippet(u)} for u in self.unknown_accounts]
        return out


def _iso(v: object) -> str | None:
    return None if v is None or pd.isna(v) else pd.Timestamp(v).isoformat()


def _outside_registry(parsed: Parsed) -> tuple[set[str], Counter, str | None]:
    """Account ids of ``parsed``'s posts and messages filed under no territory; how many of its
    comments/replies filed under no territory and no account (a comment export that does not name its
    page) each post id has (None: no post), and their platform."""
    ids: set[str] = set()
    without: Counter = Counter()
    platform = None
    for name in ("posts", "messages"):
        df = parsed.tables.get(name)
        if df is None or df.empty or "account_id" not in df.columns:
            continue
        free = df["territory_id"].isna() if "territory_id" in df.columns else pd.Series(True, index=df.index)
        ids |= set(df.loc[free & df["account_id"].notna(), "account_id"])
        if name == "messages" and "kind" in df.columns:
            lost = free & df["account_id"].isna() & df["kind"].isin(["comment", "reply"])
            posts = df.loc[lost, "post_id"] if "post_id" in df.columns else pd.Series(None, index=df.index[lost])
            without.update(p if isinstance(p, str) else None for p in posts)
            if lost.any() and "platform" in df.columns:
                platform = str(df.loc[lost, "platform"].iloc[0])
    return ids, without, platform


def _report_unattached(con: duckdb.DuckDBPyConnection, ids: set[str], lost_posts: Counter,
                       platform: str | None, res: FileResult) -> None:
    """Say, in the file's result, which accounts of it are outside the registry and how to attach them;
    comments without account under a stored post of a known page count as that page's."""
    posts = sorted({p for p in lost_posts if p})
    page = dict(con.execute(
        f"SELECT post_id, account_id FROM posts WHERE account_id IS NOT NULL AND post_id IN "
        f"({', '.join('?' for _ in posts)})", posts).fetchall()) if posts else {}
    without = sum(n for p, n in lost_posts.items() if p not in page)
    if page:  # the pages of those posts, when no territory claims them either
        marks = ", ".join("?" for _ in page)
        ids = ids | {r[0] for r in con.execute(
            f"SELECT DISTINCT account_id FROM posts WHERE territory_id IS NULL AND post_id IN ({marks})",
            list(page)).fetchall()}
    if ids:
        res.unknown_accounts = unattached(con, sorted(ids)).to_dict("records")
        n = len(res.unknown_accounts)
        res.notes.append(f"{n} compte{'s' if n > 1 else ''} hors registre : données classées « hors registre » ; "
                         "ajoutez le compte au registre des territoires puis lancez `vigie attach`")
    res.without_account, res.without_account_platform = without, platform
    if without:
        res.notes.append(f"{fr_count(without, 'commentaire')} sans compte : le fichier ne dit pas sous quelle page ils ont été "
                         "écrits ; réimportez-le avec --account, par exemple "
                         f"`vigie import FICHIER --account {account_example(platform)} --force`")


def describe_unknown(p: Probe, ranked: list[tuple[float, Adapter]]) -> str:
    """Error message for an unrecognised file: what was seen and the closest known formats."""
    seen = p.first_cells()
    closest = []
    if seen:
        scored = []
        for a in adapters():
            if a.signature:
                s = sum(max(fuzz.ratio(str(c).lower(), k.lower()) for c in seen) for k in a.signature[:6])
                scored.append((s / min(6, len(a.signature)), a))
        scored.sort(key=lambda x: -x[0])
        closest = [f"{a.label} ({a.name})" for _, a in scored[:3]]
    else:
        closest = [f"{a.label} ({a.name})" for _, a in ranked[:3]]
    enc = f", encodage {p.encoding}" if p.encoding else ""
    delim = f", séparateur « {p.delimiter} »" if p.delimiter else ""
    cells = " | ".join(seen) if seen else (p.text_head[:80].replace("\n", "⏎") if p.text_head else "")
    return (
        f"Format non reconnu : {p.path} (type {p.kind}{enc}{delim}). Début du fichier : « {cells} ». "
        f"Formats les plus proches : {', '.join(closest) or 'aucun'}. "
        "S'il s'agit d'un export d'un autre outil, décrivez ses colonnes dans un fichier de "
        "correspondance (voir README, « Importer un CSV quelconque »)."
    )


def detect(p: Probe) -> Adapter:
    """The adapter most confident about ``p``; UnknownFormat when none is."""
    ranked = sorted(((a.sniff(p), a) for a in adapters()), key=lambda x: -x[0])
    if not ranked or ranked[0][0] <= 0.3:
        raise UnknownFormat(describe_unknown(p, ranked))
    return ranked[0][1]


def sha256_file(path: Path) -> str:
    h = hashlib.sha256()
    with open(path, "rb") as fh:
        for chunk in iter(lambda: fh.read(1 << 20), b""):
            h.update(chunk)
    return h.hexdigest()


def expand_paths(paths: Iterable[str | Path]) -> list[Path]:
    """Files given, and files found recursively in folders given (hidden and media skipped)."""
    out: list[Path] = []
    for p in paths:
        p = Path(p)
        if p.is_dir():
            for f in sorted(p.rglob("*")):
                if not f.is_file() or any(part.startswith(".") for part in f.relative_to(p).parts):
                    continue
                if f.name.lower() in SKIP_NAMES or f.suffix.lower() in SKIP_SUFFIXES:
                    continue
                out.append(f)
        else:
            out.append(p)
    return out


def validate(parsed: Parsed) -> None:
    """Run the structural checks (:func:`_validate`) once: their rejects go to ``parsed.rejects``. The
    pool's workers run them after parsing (a day's 27 files: 0,17 s of pandas off the writer)."""
    if not parsed.validated:
        parsed.rejects = list(parsed.rejects) + _validate(parsed)
        parsed.validated = True


def _validate(parsed: Parsed) -> list[Reject]:
    """Structural checks common to every format: known columns, keys present, sane dates."""
    rejects: list[Reject] = []
    for name, df in list(parsed.tables.items()):
        t = schema.table(name)
        extra = [c for c in df.columns if c not in t.column_names and c != "_line"]
        if extra:
            raise ImportFailure(f"Erreur interne de l'importeur {parsed.format} : colonnes inconnues {extra} pour {name}")
        bad = pd.Series(False, index=df.index)
        for k in t.key:
            if k not in df.columns:
                raise ImportFailure(f"Erreur interne de l'importeur {parsed.format} : clé {k} absente pour {name}")
            miss = df[k].isna() | (df[k].astype(str).str.strip() == "")
            for idx in df.index[miss & ~bad]:
                line = df.at[idx, "_line"] if "_line" in df.columns else None
                rejects.append(Reject(None if pd.isna(line) else int(line), k, None, "identifiant manquant"))
            bad |= miss
        if "created_at" in df.columns:
            ts = pd.to_datetime(df["created_at"], errors="coerce")
            weird = ts.notna() & ((ts.dt.year < 2004) | (ts > pd.Timestamp.now() + pd.Timedelta(days=2)))
            for idx in df.index[weird & ~bad]:
                line = df.at[idx, "_line"] if "_line" in df.columns else None
                rejects.append(Reject(None if pd.isna(line) else int(line), "created_at",
                                      str(df.at[idx, "created_at"]), "date hors de la plage plausible (2004 – aujourd'hui)"))
            bad |= weird
        parsed.tables[name] = df[~bad]
    return rejects


def _public_accounts(df: pd.DataFrame, parsed: Parsed, ctx: Context) -> pd.DataFrame:
    """Non-official accounts worth keeping by name: publishers of posts (pages), look-alikes of
    our official accounts (impersonation watch), or all when the analyst opted in to names.

    Other accounts are individual commenters: their identity stays pseudonymised in
    ``messages.author_hash`` and is not stored in clear.
    """
    if ctx.keep_author_names or df.empty:
        return df
    publishers = set()
    posts = parsed.tables.get("posts")
    if posts is not None and "account_id" in posts.columns:
        publishers = set(posts["account_id"].dropna())
    keep = df["account_id"].isin(publishers)
    if "platform" in df.columns:  # press outlets (RSS feeds) publish articles: public, like a page
        keep |= df["platform"].eq("press")
    if ctx.registry is not None:
        names = df["name"] if "name" in df.columns else pd.Series(None, index=df.index)
        handles = df["handle"] if "handle" in df.columns else pd.Series(None, index=df.index)
        look = [ctx.registry.resembles_official(n if isinstance(n, str) else None, h if isinstance(h, str) else None)
                for n, h in zip(names, handles, strict=True)]
        keep |= pd.Series(look, index=df.index)
    return df[keep]


def _erased(con: duckdb.DuckDBPyConnection) -> set[str]:
    """Pseudonyms of the authors erased at their request (``erased_authors``, ``vigie privacy erase``)."""
    return {r[0] for r in con.execute("SELECT author_hash FROM erased_authors").fetchall()}


def _erased_account(row: pd.Series, ctx: Context, erased: set[str]) -> bool:
    """Whether an account row is an erased author: its id, handle or name hashes to a tombstone."""
    if not erased or ctx.pseudonymise is None:
        return False
    return any(isinstance(v, str) and v.strip() and ctx.pseudonymise(row["platform"], v.strip()) in erased
               for v in (row.get("native_id"), row.get("handle"), row.get("name")))


def _reject_rows(rejects: list[Reject], import_id: str, path: Path, erased: set[str], ctx: Context) -> pd.DataFrame:
    """The ``rejects`` rows of a file; a rejected value that is an erased author's name is not kept."""
    def value(v: object) -> str | None:
        if v is None:
            return None
        v = str(v)[:200]
        if erased and ctx.pseudonymise is not None and any(
                ctx.pseudonymise(p, v.strip()) in erased for p in schema.PLATFORMS if v.strip()):
            return "(effacé à la demande de la personne)"
        return v

    return pd.DataFrame([{"import_id": import_id, "path": str(path), "line": r.line, "column_name": r.column,
                          "value": value(r.value), "reason": r.reason} for r in rejects])


def _strip_internal(df: pd.DataFrame) -> pd.DataFrame:
    return df.drop(columns=[c for c in df.columns if c.startswith("_")])


def parse_file(path: str | Path, ctx: Context, fmt: str | None = None) -> tuple[str, Probe, Adapter, Parsed]:
    """Read-only half of an import (digest, probe, adapter, parsed tables): no store needed,
    so it can run on another process or machine (``analysis.distributed``)."""
    digest, p, adapter = _identify(Path(path), ctx, fmt)
    return digest, p, adapter, adapter.parse(Path(path), p, ctx)


def _identify(path: Path, ctx: Context, fmt: str | None) -> tuple[str, Probe, Adapter]:
    if not path.exists():
        raise ImportFailure(f"Fichier introuvable : {path}")
    digest = sha256_file(path)
    p = probe(path)
    # A column mapping (--mapping) is the user's explicit description of the file.
    fmt = fmt or ("generic_mapping" if ctx.mapping else None)
    if fmt:
        by_name = {a.name: a for a in adapters()}
        if fmt not in by_name:
            raise ImportFailure(f"Format inconnu « {fmt} ». Formats connus : {', '.join(sorted(by_name))}")
        return digest, p, by_name[fmt]
    return digest, p, detect(p)


def _write_tables(con: duckdb.DuckDBPyConnection, parsed: Parsed, ctx: Context, import_id: str,
                  started: datetime, registry_ids: set, res: FileResult, stage: bool = True) -> None:
    """Upsert the canonical tables of ``parsed`` (inside the caller's transaction); counts into ``res``.
    ``stage=False`` for the chunks of a big file (see :func:`analysis.store.upsert`).

    The one write path of imports and collection: the messages and account rows of erased authors
    (tombstones of ``vigie privacy erase``) are dropped here, so no later file or API page brings
    them back. Authors are hashed with one key per store (:func:`analysis.privacy.check_store_key`):
    rows pseudonymised with another one are refused, nothing written."""
    if any("author_hash" in df.columns and df["author_hash"].notna().any() for df in parsed.tables.values()):
        try:
            check_store_key(con)
        except KeyChanged as e:
            raise ImportFailure(f"{res.path} : {e}") from e
    erased = _erased(con)
    # Write order follows foreign references: accounts before posts before messages.
    for name in ("accounts", "posts", "messages", "audience_followers", "audience_demographics",
                 "page_daily", "ad_results", "campaigns", "events"):
        df = parsed.tables.get(name)
        if df is None or len(df) == 0:
            continue
        df = _strip_internal(df).copy()
        if name == "messages" and erased and "author_hash" in df.columns:
            gone = df["author_hash"].isin(erased)
            if gone.any():
                df = df[~gone]
                note = " (vigie privacy erase)"
                res.erased += int(gone.sum())  # summed over the chunks of a big file: one note
                res.notes = [n for n in res.notes if not n.endswith(note)] + [
                    f"{fr_count(res.erased, 'message')} d'auteurs effacés à leur demande non "
                    f"{fr_plural(res.erased, 'réimporté')}{note}"]
            if df.empty:
                continue
        if name == "accounts":
            df = df[~df["account_id"].isin(registry_ids)]
            df = _public_accounts(df, parsed, ctx)
            if erased and len(df):
                df = df[[not _erased_account(r, ctx, erased) for _, r in df.iterrows()]]
            if df.empty:
                continue
            # first_seen is set once: an account already stored keeps its first sighting.
            known = {r[0] for r in con.execute(
                "SELECT account_id FROM accounts WHERE first_seen IS NOT NULL").fetchall()}
            df["first_seen"] = [None if a in known else started for a in df["account_id"]]
        elif "import_id" in schema.table(name).column_names:
            df["import_id"] = import_id
        edited: list = []
        moved: list = []
        # an edited message moves to the table's end (its text updated in place cost the CHECKPOINT
        # a rewrite of the text of each row group it sits in: 0,4 s for 20 edits at 1 M messages)
        moves = {"relocate": partial(_move_messages, moved=moved), "in_place": derived.read_columns(name)} \
            if name == "messages" else {}
        ins, upd = store.upsert(con, name, df, stage=stage,
                                text_changed=edited if name in ("messages", "posts") else None, **moves)
        if edited:
            _forget_scores(con, name, edited, scores_gone=set(moved))
        before = res.tables.get(name, [0, 0])  # summed over the chunks of a big file
        res.tables[name] = [before[0] + ins, before[1] + upd]
        if name != "accounts":
            res.inserted += ins
            res.updated += upd


def _move_messages(con: duckdb.DuckDBPyConnection, rows: str, *, moved: list) -> None:
    """``store.upsert``'s ``relocate`` for messages: the stored rows of those staged in ``rows`` go, with
    their scores (:func:`analysis.derived.forget_moved`); their ids are added to ``moved``."""
    moved.extend(r[0] for r in con.execute(f"SELECT message_id FROM {rows}").fetchall())
    derived.forget_moved(con, rows, table="messages")


def _forget_scores(con: duckdb.DuckDBPyConnection, table: str, edited: list[tuple[str, str | None]],
                   scores_gone: set | frozenset = frozenset()) -> None:
    """An edited text's scores are stale: delete them (the next enrichment scores the new text) and
    the lemma keys of the old text once no message holds it (they keep a copy of it: an author who
    edited a comment to take something out must not find it still stored).

    What people decided about the old text no longer applies either: an analyst's label (sentiment,
    hostility, themes) is withdrawn — a « non hostile » label on a friendly comment edited into an insult
    kept it out of the moderation queue — and a closed moderation decision (answered, hidden, ignored) is
    reopened « à traiter » with a note. Both are listed in ``audit_log`` (who had decided what), so the
    analyst sees what to look at again. Only when the words changed (:func:`same_words`): another export
    of the same comment that spaces it otherwise or cuts it with « … » keeps them.

    ``scores_gone``: the edited items whose scores are gone already (moved to the table's end)."""
    item_type = table.removesuffix("s")  # messages → message, posts → post
    ids = pd.DataFrame({"item_id": [k for k, _ in edited], "old_text": [t for _, t in edited],
                        "has_scores": [k not in scores_gone for k, _ in edited]})
    con.register("_vigie_edited", ids)
    try:
        touched = _recount(item_type, "_vigie_edited")
        if ids["has_scores"].any():
            derived.forget_scores(con, item_type, "SELECT item_id FROM _vigie_edited WHERE has_scores", touched)
        if item_type == "message":
            store.drop_orphan_text_keys(con, "SELECT old_text AS text FROM _vigie_edited")
    finally:
        con.unregister("_vigie_edited")
    # people's decisions follow a rewording only: another export of the same comment that only spaces,
    # cases or cuts it (« … ») is the same text to a reader
    key = schema.table(table).key[0]
    new_text = dict(con.execute(f"SELECT {key}, text FROM {table} WHERE {key} IN (SELECT unnest(?))",
                                [[k for k, _ in edited]]).fetchall())
    reworded = pd.DataFrame({"item_id": [k for k, old in edited if not same_words(old, new_text.get(k))]},
                            dtype=object)
    if reworded.empty:
        return
    con.register("_vigie_reworded", reworded)
    try:
        of_edited = f"item_type = '{item_type}' AND item_id IN (SELECT item_id FROM _vigie_reworded)"
        labels = con.execute(f"SELECT item_id, task, value, author FROM labels WHERE {of_edited} ORDER BY ALL").fetchall()
        if labels:
            derived.forget_rows(con, "labels", of_edited, _recount(item_type, "_vigie_reworded"))
            audit(con, "label.dropped_on_edit", actor="vigie", detail={
                "item_type": item_type, "labels": [{"item_id": i, "task": t, "value": v, "author": a}
                                                   for i, t, v, a in labels]})
        if item_type == "message":
            _reopen_decisions(con)
    finally:
        con.unregister("_vigie_reworded")


def _recount(item_type: str, ids: str) -> str:
    """The messages the derived tables recount when rows of ``ids`` (a table of ``item_id``) lose their
    scores or labels (:func:`analysis.derived.forget_rows`): those messages, none for posts."""
    return (f"SELECT item_id AS message_id FROM {ids}" if item_type == "message"
            else "SELECT NULL::VARCHAR AS message_id WHERE FALSE")


def same_words(a: str | None, b: str | None) -> bool:
    """Two versions of a text a reader takes for the same: equal but for white space and case, or one
    of them cut with an ellipsis (« … », « ... ») where the other goes on — one export truncates long
    comments, another keeps them whole. An author who adds words (an insult after a compliment) or
    changes any is another text."""
    na, nb = (" ".join((t or "").split()).casefold() for t in (a, b))
    if na == nb:
        return True
    for cut, whole in ((na, nb), (nb, na)):
        for mark in ("…", "..."):
            if cut.endswith(mark) and len(cut) > len(mark) + 10 and whole.startswith(cut[: -len(mark)].rstrip()):
                return True
    return False


def _reopen_decisions(con: duckdb.DuckDBPyConnection) -> None:
    """The closed moderation decisions on the messages of ``_vigie_reworded`` go back to « à traiter »."""
    done = ", ".join(f"'{s}'" for s in schema.MODERATION_DONE)
    rows = con.execute(f"SELECT message_id, status, by_user FROM moderation_status WHERE status IN ({done}) AND "
                       "message_id IN (SELECT item_id FROM _vigie_reworded) ORDER BY ALL").fetchall()
    if not rows:
        return
    at = datetime.now(UTC).replace(tzinfo=None)
    for mid, status, by in rows:
        con.execute("UPDATE moderation_status SET status = 'a_traiter', by_user = 'vigie', \"at\" = ?, note = ? "
                    "WHERE message_id = ?",
                    [at, f"Texte modifié par son auteur après la décision « {schema.MODERATION_STATUSES.get(status, status)} » "
                         f"({by or 'inconnu'}) : à revoir.", mid])
    audit(con, "moderation.reopened_on_edit", actor="vigie",
          detail={"messages": [{"message_id": m, "status": s, "by_user": b} for m, s, b in rows]})


def _import_chunked(con: duckdb.DuckDBPyConnection, path: Path, p: Probe, adapter: Adapter, ctx: Context,
                    res: FileResult, digest: str, keep_going: bool) -> FileResult:
    """A big CSV parsed chunk by chunk (``ingest.chunked``), written in one transaction: the same
    all-or-nothing result as :func:`import_file` with the memory of one chunk."""
    import_id = uuid.uuid4().hex
    started = datetime.now(UTC).replace(tzinfo=None)
    registry_ids = {a.account_id for a in ctx.registry.accounts} if ctx.registry is not None else set()
    rejects: list[Reject] = []
    outside: set[str] = set()
    without: Counter = Counter()
    platform = None
    with store.bounded_memory(con), store.transaction(con):
        for chunk, offset in csv_chunks(p, header_at=header_index(adapter, p, ctx) or 0):
            try:
                parsed = adapter.parse(chunk, probe(chunk), ctx)
            except ImportFailure as e:  # name the user's file, not the temporary chunk
                raise ImportFailure(str(e).replace(str(chunk), str(path))) from e
            res.format = parsed.format or adapter.name
            res.rows_read += parsed.rows_read
            res.notes.extend(n for n in parsed.notes if n not in res.notes)
            for df in parsed.tables.values():
                if "_line" in df.columns:
                    df["_line"] = df["_line"] + offset
            found = [Reject(None if r.line is None else r.line + offset, r.column, r.value, r.reason)
                     for r in list(parsed.rejects) + _validate(parsed)]
            if found and not keep_going:
                first = found[0]
                raise ImportFailure(
                    f"{path} : {first.describe()}. Rien n'a été importé de ce fichier ; "
                    "corrigez-le ou relancez avec --keep-going pour ignorer les lignes en erreur.")
            rejects += found
            _write_tables(con, parsed, ctx, import_id, started, registry_ids, res, stage=False)
            ids, n, plat = _outside_registry(parsed)
            outside |= ids
            without += n
            platform = platform or plat
        _report_unattached(con, outside, without, platform, res)
        res.rejected = len(rejects)
        if rejects:
            store.upsert(con, "rejects", _reject_rows(rejects, import_id, path, _erased(con), ctx))
        store.upsert(con, "imports", pd.DataFrame([{
            "import_id": import_id, "path": str(path), "sha256": digest, "format": res.format,
            "encoding": p.encoding, "started_at": started, "finished_at": datetime.now(UTC).replace(tzinfo=None),
            "rows_read": res.rows_read, "inserted": res.inserted, "updated": res.updated,
            "rejected": res.rejected, "status": "ok", "error": None}]))
    res.import_id = import_id
    res.notes.append("importé par blocs (gros fichier, mémoire bornée)")
    return res


def write_parsed(con: duckdb.DuckDBPyConnection, parsed: Parsed, ctx: Context, res: FileResult, *,
                 path: str, digest: str | None = None, encoding: str | None = None,
                 keep_going: bool = False, import_id: str | None = None,
                 log_import: bool = True) -> FileResult:
    """Validate ``parsed`` and write it with its lineage row, inside the caller's transaction.

    The one write path of every way in: a file (:func:`import_file`) or a batch of API responses
    (:mod:`analysis.collect`). Rejected rows raise :class:`ImportFailure` unless ``keep_going``;
    ``path`` is what the lineage records (a file path, or ``api:<source>`` for collection).
    Collection passes its run id as ``import_id`` and ``log_import=False``: its lineage is one
    ``collect_runs`` row per source and run, not one ``imports`` row per page of responses.
    """
    res.format = parsed.format or res.format
    res.rows_read += parsed.rows_read
    res.notes.extend(n for n in parsed.notes if n not in res.notes)
    validate(parsed)
    rejects = list(parsed.rejects)
    if rejects and not keep_going:
        first = rejects[0]
        more = f" (et {fr_count(len(rejects) - 1, 'autre ligne', 'autres lignes')} en erreur)" if len(rejects) > 1 else ""
        raise ImportFailure(
            f"{path} : {first.describe()}{more}. Rien n'a été importé de ce fichier ; "
            "corrigez-le ou relancez avec --keep-going pour ignorer les lignes en erreur."
        )
    if not parsed.tables and parsed.rows_read == 0 and not rejects:
        res.status = "skipped"
        if not res.notes:
            res.notes.append("aucune donnée à importer")
        return res
    res.rejected += len(rejects)
    import_id = import_id or uuid.uuid4().hex
    res.import_id = import_id
    started = datetime.now(UTC).replace(tzinfo=None)
    registry_ids = {a.account_id for a in ctx.registry.accounts} if ctx.registry is not None else set()
    _write_tables(con, parsed, ctx, import_id, started, registry_ids, res)
    if log_import:  # a file: say which of its accounts no territory claims (collection has its own log)
        _report_unattached(con, *_outside_registry(parsed), res)
    if rejects:
        store.upsert(con, "rejects", _reject_rows(rejects, import_id, path, _erased(con), ctx))
    if not log_import:
        return res
    store.insert_row(con, "imports", {  # a fresh id: a new row
        "import_id": import_id, "path": path, "sha256": digest, "format": res.format,
        "encoding": encoding, "started_at": started,
        "finished_at": datetime.now(UTC).replace(tzinfo=None), "rows_read": parsed.rows_read,
        "inserted": res.inserted, "updated": res.updated, "rejected": len(rejects),
        "status": "ok", "error": None,
    })
    return res


def import_file(con: duckdb.DuckDBPyConnection, path: str | Path, ctx: Context, *,
                keep_going: bool = False, force: bool = False, fmt: str | None = None,
                preparsed: tuple[str, Probe, Adapter, Parsed] | BaseException | None = None) -> FileResult:
    """Import one file in one transaction. Never raises for bad input: returns an error result.

    ``preparsed``: what :func:`parse_file` returned (or raised) elsewhere; only the write half runs here.
    Its parsed tables may be None (a big CSV read here in chunks, or a file already imported).
    """
    path = Path(path)
    res = FileResult(path=str(path))
    try:
        if isinstance(preparsed, BaseException):
            res.format, res.encoding = getattr(preparsed, "vigie_found", (None, None))
            raise preparsed
        digest, p, adapter = preparsed[:3] if preparsed is not None else _identify(path, ctx, fmt)
        res.encoding = p.encoding
        res.format = adapter.name
        if not force and _already_imported(con, digest, res):
            return res
        parsed = preparsed[3] if preparsed is not None else None  # None: not parsed yet
        if parsed is None and wants_chunks(adapter, p, ctx=ctx):  # big CSV: bounded memory
            return _import_chunked(con, path, p, adapter, ctx, res, digest, keep_going)
        if parsed is None:
            parsed = adapter.parse(path, p, ctx)
        with store.transaction(con):
            write_parsed(con, parsed, ctx, res, path=str(path), digest=digest, encoding=p.encoding,
                         keep_going=keep_going)
    except ImportFailure as e:
        res.status, res.error = "error", str(e)
        res.inserted = res.updated = 0
    except Exception as e:  # a bug or an unforeseen quirk: still a clear, located message
        res.status = "error"
        res.error = f"{path} : erreur inattendue pendant l'import ({type(e).__name__}: {e}). Rien n'a été importé de ce fichier."
        res.inserted = res.updated = 0
    return res


def _already_imported(con: duckdb.DuckDBPyConnection, digest: str, res: FileResult) -> bool:
    """Whether a file of this SHA-256 was imported already (then ``res`` says so)."""
    prev = con.execute(
        "SELECT rows_read FROM imports WHERE sha256 = ? AND status = 'ok' ORDER BY finished_at DESC LIMIT 1",
        [digest],
    ).fetchone()
    if prev is None:
        return False
    res.rows_read = int(prev[0] or 0)
    res.notes.append("déjà importé (même empreinte SHA-256) : rien n'a changé")
    return True


class _Batch:
    """Parsed files written as they arrive, in their order, in one open transaction, exactly as
    :func:`import_file` writes each (one commit instead of one per file: a commit writes and syncs the
    log). Each file is written while the pool parses the next ones (written after the last was parsed,
    the day's 27 small files took 0,39–0,51 s of parsing then 0,65–0,76 s of writing).

    When a file fails, the transaction rolls back with nothing written: the batch's files are then
    imported one by one (their parsed tables as they were: writing validated tables changes none of
    them), so that a bad file still loses nothing of the others, and the next files open a new batch."""

    def __init__(self, con: duckdb.DuckDBPyConnection, *, keep_going: bool, force: bool, known: set[str]) -> None:
        self.con, self.keep_going, self.force = con, keep_going, force
        # digests imported already (or maybe: written in a batch that rolled back): only those are
        # looked up in the import log (27 lookups of a day's new files: 0,05 s)
        self.known = known
        self.items: list[tuple[Path, Context, tuple]] = []
        self.written: list[FileResult] = []
        self.rows = 0

    def add(self, path: Path, ctx: Context, pre: tuple) -> None:
        """Write one parsed file in the open transaction (opened by the first)."""
        if not self.items:
            self.con.execute("BEGIN TRANSACTION")
        self.items.append((path, ctx, pre))
        self.rows += pre[3].rows_read
        digest, p, adapter, parsed = pre
        validate(parsed)  # done on the worker already: the rows it rejects are out before any write
        check = digest in self.known
        self.known.add(digest)  # a later file of the same bytes is looked up, whatever happens to this one
        if len(self.written) < len(self.items) - 1:
            return  # a file of this batch failed: the rest is written one by one at close()
        res = FileResult(path=str(path), encoding=p.encoding, format=adapter.name)
        t0 = time.perf_counter()
        try:
            if self.force or not check or not _already_imported(self.con, digest, res):
                write_parsed(self.con, parsed, ctx, res, path=str(path), digest=digest, encoding=p.encoding,
                             keep_going=self.keep_going)
        except Exception:  # noqa: BLE001 - rolled back; redone file by file, which reports the error
            self.con.execute("ROLLBACK")
            return
        res.notes.append(f"{time.perf_counter() - t0:.2f} s")
        self.written.append(res)

    def close(self) -> list[tuple[Path, FileResult]]:
        """Commit; the results of the batch's files, in their order (imported one by one when one failed)."""
        items, written = self.items, self.written
        self.items, self.written, self.rows = [], [], 0
        if not items:
            return []
        if len(written) == len(items):
            try:
                self.con.execute("COMMIT")
                return [(f, r) for (f, _, _), r in zip(items, written, strict=True)]
            except Exception:  # noqa: BLE001 - as a file that failed: redone one by one
                self.con.execute("ROLLBACK")
        return [(f, _import_timed(self.con, f, ctx, keep_going=self.keep_going, force=self.force, preparsed=pre))
                for f, ctx, pre in items]

    def abort(self) -> None:
        """Roll back the open transaction (an interruption): nothing of the batch is written."""
        if self.items and len(self.written) == len(self.items):
            self.con.execute("ROLLBACK")
        self.items, self.written, self.rows = [], [], 0


def _import_timed(con: duckdb.DuckDBPyConnection, f: Path, ctx: Context, **kw: object) -> FileResult:
    """:func:`import_file` in its own transaction, its time in the result's notes."""
    t0 = time.perf_counter()
    r = import_file(con, f, ctx, **kw)
    r.notes.append(f"{time.perf_counter() - t0:.2f} s")
    return r


def import_paths(con: duckdb.DuckDBPyConnection, paths: Iterable[str | Path], ctx: Context | None = None, *,
                 keep_going: bool = False, force: bool = False, fmt: str | None = None,
                 on_file: Callable[[Path, FileResult], None] | None = None) -> list[FileResult]:
    """Import files and folders; one bad file does not stop the others."""
    ctx = ctx or default_context()
    if ctx.registry is not None:

        with store.transaction(con):
            sync_registry(con, ctx.registry)
    return import_jobs(con, [(f, ctx, fmt) for f in expand_paths(paths)], keep_going=keep_going, force=force,
                       on_file=on_file, sync=False)


def import_jobs(con: duckdb.DuckDBPyConnection, jobs: list[tuple[Path, Context, str | None]], *,
                keep_going: bool = False, force: bool = False, sync: bool = True,
                on_file: Callable[[Path, FileResult], None] | None = None) -> list[FileResult]:
    """Import ``(file, context, format)`` jobs in their order, each file in its own transaction.

    Files are read and parsed by :func:`parse_file` on a pool of processes (:func:`parallel_parse`:
    both cores of the machine) while this process writes them one after the other in the order
    given, so the store ends up exactly as a one-by-one import leaves it. ``sync``: write each
    distinct context's registry first (``import_paths`` has done it for its one context)."""
    if sync:
        for reg in {id(c.registry): c.registry for _, c, _ in jobs if c.registry is not None}.values():
            with store.transaction(con):
                sync_registry(con, reg)
    known = set() if force else {r[0] for r in con.execute(
        "SELECT DISTINCT sha256 FROM imports WHERE status = 'ok' AND sha256 IS NOT NULL").fetchall()}
    results: list[FileResult] = []
    batch = _Batch(con, keep_going=keep_going, force=force, known=set(known))

    def done(f: Path, r: FileResult) -> None:
        results.append(r)
        if on_file:
            on_file(Path(f), r)

    def flush() -> None:
        for f, r in batch.close():
            done(f, r)

    limit = _batch_rows()
    # No checkpoint in the middle of the files (each rewrote the tables' indexes): one at the end.
    before = con.execute("SELECT current_setting('checkpoint_threshold')").fetchone()[0]
    con.execute(f"SET checkpoint_threshold = '{CHECKPOINT_THRESHOLD}'")
    try:
        for (f, ctx, fmt), pre in zip(jobs, parallel_parse(jobs, known), strict=True):
            if pre is None:  # no pool (few bytes to read): parsed here, and written with the next ones all the same
                pre = _parse_job(Path(f), ctx, fmt, known)
            if isinstance(pre, tuple) and pre[3] is not None:  # parsed: written now, committed with the next ones
                batch.add(Path(f), ctx, pre)
                if batch.rows >= limit:
                    flush()
                continue
            flush()
            if isinstance(pre, tuple):
                batch.known.add(pre[0])
            done(f, _import_timed(con, f, ctx, keep_going=keep_going, force=force, fmt=fmt, preparsed=pre))
        flush()
    except BaseException:
        batch.abort()
        raise
    finally:
        con.execute(f"SET checkpoint_threshold = '{before}'")
    return results


# Parsed files written in one transaction until they hold this many rows (DuckDB keeps the rows
# of an open transaction in memory: about 0,5 KiB each); ``VIGIE_IMPORT_BATCH_ROWS`` overrides it
# (1: one transaction per file).
BATCH_ROWS = 200_000


def _batch_rows() -> int:
    try:
        return max(1, int(os.environ["VIGIE_IMPORT_BATCH_ROWS"]))
    except (KeyError, ValueError):
        return BATCH_ROWS
CHECKPOINT_THRESHOLD = "1GB"


# Files are parsed on a pool of processes when there is enough to read, or enough files (each costs
# tens of milliseconds of pandas whatever its size: one day of exports, 27 files and 0,6 MB, imported in
# 1,49–1,60 s with the pool, 1,61–1,88 s without); below both, a pool costs more than it saves.
# ``VIGIE_IMPORT_WORKERS`` sets the pool size (1: no pool).
POOL_MIN_BYTES = 8 * 1024**2
POOL_MIN_FILES = 16
_KNOWN: set[str] = set()  # digests already imported, set in each worker of the pool


def _import_workers() -> int:
    """Parsing processes of an import (:func:`analysis.config.worker_processes`, ``$VIGIE_IMPORT_WORKERS``)."""
    return worker_processes("VIGIE_IMPORT_WORKERS")


def _init_worker(known: set[str]) -> None:
    global _KNOWN
    _KNOWN = known
    _detach_from_writer()


def _detach_from_writer() -> None:
    """A worker is a fork of the writer and holds copies of its open files, the writer lock
    (``flock`` on ``<db>.lock``, :func:`analysis.store.writer`) among them: a writer killed mid-import
    would leave the store « occupée » while its workers live. Close those copies, and die with the
    writer (Linux's parent-death signal)."""
    import signal

    try:
        import ctypes

        ctypes.CDLL("libc.so.6", use_errno=True).prctl(1, signal.SIGKILL)  # PR_SET_PDEATHSIG
    except (OSError, AttributeError):  # not Linux: the worker ends when its queue closes
        pass
    fds = Path("/proc/self/fd")
    if fds.is_dir():
        for fd in os.listdir(fds):
            try:
                if os.readlink(fds / fd).endswith(".lock"):
                    os.close(int(fd))
            except (OSError, ValueError):
                pass


def _parse_job(path: Path, ctx: Context, fmt: str | None, known: set[str] | None = None) -> tuple | BaseException:
    """What :func:`import_file` needs of a file, read on a worker (or by the writer itself when no pool
    is worth it): digest, probe, adapter and parsed tables (None when the file is already imported —
    its digest in ``known``, by default the worker's — or is a big CSV read in chunks by the writer);
    the error it raised, to be reported by the writer as a one-by-one import would."""
    try:
        digest, p, adapter = _identify(Path(path), ctx, fmt)
        if digest in (_KNOWN if known is None else known) or wants_chunks(adapter, p, ctx=ctx):
            return digest, p, adapter, None
    except Exception as e:  # noqa: BLE001 - handed to the writer, which reports it as import_file does
        return e
    try:
        parsed = adapter.parse(Path(path), p, ctx)
        validate(parsed)
        return digest, p, adapter, parsed
    except Exception as e:  # noqa: BLE001 - as above, with the format and encoding found (the report says them)
        e.vigie_found = (adapter.name, p.encoding)
        return e


def parallel_parse(jobs: list[tuple[Path, Context, str | None]], known: set[str] | None = None,
                   workers: int | None = None) -> Iterator[tuple | BaseException | None]:
    """For each job in order, what :func:`_parse_job` returns, parsed on a pool of ``workers``
    processes a few files ahead of the caller; None (the caller parses the file itself) when no
    pool is worth it (one worker, one file, few files and little to read, a context that cannot be sent to
    another process) or when the worker's answer could not come back."""
    workers = workers or _import_workers()
    size = sum(Path(f).stat().st_size for f, _, _ in jobs if Path(f).is_file())
    if workers < 2 or len(jobs) < 2 or (size < POOL_MIN_BYTES and len(jobs) < POOL_MIN_FILES) or not _picklable(jobs):
        yield from (None for _ in jobs)
        return
    import multiprocessing
    from concurrent.futures import ProcessPoolExecutor

    ahead = 2 * workers  # parsed files waiting for the writer: bounded memory
    with ProcessPoolExecutor(workers, mp_context=multiprocessing.get_context("fork"),
                             initializer=_init_worker, initargs=(known or set(),)) as pool:
        pending = deque()
        todo = iter(jobs)
        for job in todo:
            pending.append(pool.submit(_parse_job, *job))
            if len(pending) >= ahead:
                break
        while pending:
            fut = pending.popleft()
            try:
                out = fut.result()
            except Exception:  # noqa: BLE001 - a result that could not be pickled: parsed by the caller
                out = None
            nxt = next(todo, None)
            if nxt is not None:
                pending.append(pool.submit(_parse_job, *nxt))
            yield out


def _picklable(jobs: list) -> bool:
    import pickle

    try:
        for c in {id(c): c for _, c, _ in jobs}.values():
            pickle.dumps(c)
    except Exception:  # noqa: BLE001 - e.g. a test's lambda as pseudonymiser: no pool
        return False
    return True


def import_uploads(con: duckdb.DuckDBPyConnection, files: Iterable[tuple[str, bytes]], ctx: Context | None = None, *,
                   keep_going: bool = False,
                   on_file: Callable[[Path, FileResult], None] | None = None) -> list[FileResult]:
    """Import files received as ``(name, bytes)`` (the app's upload), exactly like ``vigie import``.

    Each file is written under its own base name (a sender's path is never trusted) in a private
    temporary folder (0700), imported, then deleted: the uploaded copy holds personal data in
    clear and Vigie keeps only what it imported (with the file's SHA-256 in the import log).
    Results name the file as it was sent, never the temporary path.
    """
    import tempfile

    with tempfile.TemporaryDirectory(prefix="vigie-upload-") as tmp:
        os.chmod(tmp, 0o700)
        paths: list[Path] = []
        for i, (name, data) in enumerate(files):
            base = Path(str(name).replace("\\", "/")).name.strip() or f"fichier-{i + 1}"
            target = Path(tmp) / f"{i:03d}" / base
            target.parent.mkdir()
            target.write_bytes(data)
            paths.append(target)
        results = import_paths(con, paths, ctx, keep_going=keep_going, on_file=on_file)
        for r in results:
            sent = Path(r.path).name
            if r.error:
                r.error = r.error.replace(r.path, sent)
            if r.import_id:  # the lineage names the upload, not a temporary path that is gone
                for table in ("imports", "rejects"):
                    con.execute(f"UPDATE {table} SET path = ? WHERE import_id = ?", [f"upload:{sent}", r.import_id])
            r.path = sent
        return results


def default_context(**kw) -> Context:
    """Context with the default registry and the keyed pseudonymiser."""

    reg = kw.pop("registry", None) or load_registry()
    return Context(registry=reg, pseudonymise=pseudonymise, **kw)


__all__ = ["Context", "FileResult", "ImportFailure", "UnknownFormat", "adapters", "detect",
           "expand_paths", "import_file", "import_jobs", "import_paths", "import_uploads", "default_context", "write_parsed"]
