"""Rights of the people and retention: erase an author, purge old messages; both audited.

Erasure (GDPR art. 17) and retention (art. 5-1-e) delete a citizen's *messages* and every row
derived from them (sentiment, themes, labels, toxicity, moderation status), the rejected rows
whose value is that person's name, and their account row when one was stored. Each run writes
one ``audit_log`` row (who, what, counts) — never the name in clear.
"""

from __future__ import annotations

import getpass
import json
import os
import re
import tomllib
from dataclasses import dataclass, field
from datetime import UTC, datetime, timedelta
from pathlib import Path

import duckdb
import pandas as pd

from analysis import schema, store
from analysis.privacy import check_store_key, pseudonymise

PLATFORMS = schema.PLATFORMS
DEFAULT_CONFIG_FILE = Path("~/.config/vigie/config.toml")
DEFAULT_RETENTION = "24m"  # CNIL guidance for social-media monitoring is "as short as possible"
_DURATION = re.compile(r"^\s*(\d+)\s*([dmy]|j|a)\s*$", re.IGNORECASE)


def config_path() -> Path:
    """Vigie settings file: ``$VIGIE_CONFIG`` or ``~/.config/vigie/config.toml``."""
    return Path(os.environ.get("VIGIE_CONFIG") or DEFAULT_CONFIG_FILE).expanduser()


def default_retention(path: Path | None = None) -> str:
    """``[retention] messages`` of the settings file, else 24 months."""
    p = path or config_path()
    if p.exists():
        value = tomllib.loads(p.read_text(encoding="utf-8")).get("retention", {}).get("messages")
        if value:
            parse_duration(str(value))  # fail early on a typo in the file
            return str(value)
    return DEFAULT_RETENTION


def parse_duration(text: str) -> pd.DateOffset | timedelta:
    """``730d``/``730j`` (days), ``24m`` (calendar months) or ``2y``/``2a`` (years)."""
    m = _DURATION.match(text or "")
    if not m:
        raise ValueError(f"Durée invalide « {text} » : écrivez par exemple 730d, 24m ou 2y.")
    n, unit = int(m.group(1)), m.group(2).lower()
    if n <= 0:
        raise ValueError("La durée doit être positive.")
    if unit in ("d", "j"):
        return timedelta(days=n)
    return pd.DateOffset(months=n) if unit == "m" else pd.DateOffset(years=n)


def cutoff(older_than: str, now: datetime | None = None) -> datetime:
    """The instant before which messages are purged (naive UTC, like the store)."""
    now = now or datetime.now(UTC).replace(tzinfo=None)
    return (pd.Timestamp(now) - parse_duration(older_than)).to_pydatetime()


@dataclass
class DeletionReport:
    action: str
    counts: dict[str, int] = field(default_factory=dict)

    @property
    def messages(self) -> int:
        return self.counts.get("messages", 0)


def audit(con: duckdb.DuckDBPyConnection, action: str, detail: dict, actor: str | None = None) -> None:
    """Append one row to ``audit_log``."""
    try:
        who = actor or getpass.getuser()
    except (KeyError, OSError):  # no passwd entry in some containers
        who = "inconnu"
    con.execute("INSERT INTO audit_log VALUES (?, ?, ?, ?)",
                [datetime.now(UTC).replace(tzinfo=None), who, action, json.dumps(detail, ensure_ascii=False)])


def _delete_messages(con: duckdb.DuckDBPyConnection, where: str, params: list) -> dict[str, int]:
    """Delete the messages matching ``where`` and every row derived from them; counts per table."""
    con.execute(f"CREATE OR REPLACE TEMP TABLE _erase AS SELECT message_id, text FROM messages WHERE {where}", params)
    counts: dict[str, int] = {}
    derived = [
        ("sentiment", "item_type = 'message' AND item_id IN (SELECT message_id FROM _erase)"),
        ("themes", "item_type = 'message' AND item_id IN (SELECT message_id FROM _erase)"),
        ("labels", "item_type = 'message' AND item_id IN (SELECT message_id FROM _erase)"),
        ("toxicity", "message_id IN (SELECT message_id FROM _erase)"),
        ("moderation_status", "message_id IN (SELECT message_id FROM _erase)"),
        ("messages", "message_id IN (SELECT message_id FROM _erase)"),
    ]
    for table, cond in derived:
        counts[table] = int(con.execute(f"DELETE FROM {table} WHERE {cond}").fetchone()[0])
    # the keys stored per text (analysis.topics.keys) keep a copy of it: gone with its last message
    store.drop_orphan_text_keys(con, "SELECT text FROM _erase")
    con.execute("DROP TABLE _erase")
    return counts


def author_hashes_for_name(name: str, platforms: tuple[str, ...] = PLATFORMS) -> list[str]:
    """The pseudonyms a display name gets when an export gives no author id (hash of the name)."""
    return [pseudonymise(p, name) for p in platforms]


def _account_hashes(platform: str, *values: object) -> set[str]:
    """The pseudonyms an account's id, handle or name stands for (exports hash whichever they give)."""
    return {pseudonymise(platform, str(v).strip()) for v in values
            if v is not None and not (isinstance(v, float) and pd.isna(v)) and str(v).strip()}


def _erase_alerts(con: duckdb.DuckDBPyConnection, hashes: set[str], account_ids: set[str],
                  names: set[str]) -> int:
    """Alerts that name an erased author (an impersonation alert on their account or their messages):
    the title and the evidence are replaced by a neutral text, the alert row stays so that it is not
    fired again. Returns the number of alerts changed."""
    ids = account_ids | {f"author:{h}" for h in hashes}
    needles = [n.lower() for n in names if n and len(n) >= 3]
    changed = 0
    for alert_id, title, evidence in con.execute("SELECT alert_id, title, evidence FROM alerts").fetchall():
        try:
            ev = json.loads(evidence or "{}")
        except ValueError:
            ev = {}
        text = f"{title or ''} {evidence or ''}".lower()
        if not ((isinstance(ev, dict) and ev.get("account_id") in ids)
                or any(n in text for n in needles) or any(h in text for h in hashes)):
            continue
        con.execute("UPDATE alerts SET title = ?, evidence = ? WHERE alert_id = ?",
                    ["Alerte retirée : elle nommait une personne effacée à sa demande (vigie privacy erase).",
                     json.dumps({"erased": True}), alert_id])
        changed += 1
    return changed


def erase_author(con: duckdb.DuckDBPyConnection, *, author_hash: str | None = None, name: str | None = None,
                 actor: str | None = None) -> DeletionReport:
    """Right to erasure: delete everything stored about one author, in one transaction.

    ``author_hash``: the pseudonym shown to analysts (``a_…``). ``name``: a display name;
    matches messages stored with that name (``--keep-author-names``) and the pseudonyms that
    name hashes to on every platform (exports without author ids hash the name).

    Besides the messages and what derives from them: the author's account row, the rejected rows
    holding their name, and the alerts naming them (title and evidence neutralised). The author's
    pseudonyms are kept as tombstones (``erased_authors``, never a name): no later import or
    collection writes their messages or account again.
    """
    if not author_hash and not name:
        raise ValueError("Indiquez --author HASH ou --name NOM.")
    hashes = [author_hash] if author_hash else []
    if name:  # hashed with the store's key, or the older messages would be missed (KeyChanged)
        check_store_key(con)
        hashes += author_hashes_for_name(name)
    conds, params = [], []
    if hashes:
        conds.append(f"author_hash IN ({', '.join('?' * len(hashes))})")
        params += hashes
    if name:
        conds.append("lower(author_name) = lower(?)")
        params.append(name)
    rep = DeletionReport("privacy.erase")
    with store.transaction(con):
        # The names stored for this author's hash(es) are needed to clean rejects and accounts.
        names = {name} if name else set()
        names |= {r[0] for r in con.execute(
            f"SELECT DISTINCT author_name FROM messages WHERE ({' OR '.join(conds)}) AND author_name IS NOT NULL",
            params).fetchall()}
        # every pseudonym of the person: those asked for and those of the messages found by name
        tomb = set(hashes) | {r[0] for r in con.execute(
            f"SELECT DISTINCT author_hash FROM messages WHERE ({' OR '.join(conds)}) AND author_hash IS NOT NULL",
            params).fetchall()}
        rep.counts = _delete_messages(con, " OR ".join(conds), params)
        # Account rows of the author (kept only for look-alikes or with names opted in), never official.
        acc = con.execute("SELECT account_id, platform, native_id, handle, name FROM accounts "
                          "WHERE NOT coalesce(official, false)").fetchall()
        lower_names = {n.lower() for n in names}
        mine = [(a, plat, nid, handle, nm) for a, plat, nid, handle, nm in acc
                if _account_hashes(plat, nid, handle, nm) & tomb or (nm and nm.lower() in lower_names)]
        account_ids = {a for a, *_ in mine}
        names |= {v for _, _, _, handle, nm in mine for v in (handle, nm) if v}
        gone = [a for a in account_ids
                if not con.execute("SELECT 1 FROM posts WHERE account_id = ? LIMIT 1", [a]).fetchone()]
        rep.counts["accounts"] = 0
        for a in gone:
            rep.counts["accounts"] += int(con.execute("DELETE FROM accounts WHERE account_id = ?", [a]).fetchone()[0])
        rep.counts["rejects"] = 0
        for n in names:
            rep.counts["rejects"] += int(con.execute(
                "DELETE FROM rejects WHERE lower(value) = lower(?)", [n]).fetchone()[0])
        rep.counts["alerts"] = _erase_alerts(con, tomb, set(gone), names)
        now = datetime.now(UTC).replace(tzinfo=None)
        for h in sorted(tomb):
            con.execute("INSERT INTO erased_authors VALUES (?, ?) ON CONFLICT DO NOTHING", [h, now])
        rep.counts["erased_authors"] = len(tomb)
        # The audit row names the pseudonym, never the name (the log must not re-identify).
        audit(con, rep.action, {"author_hash": author_hash, "by_name": bool(name), "counts": rep.counts}, actor)
    return rep


def purge_older_than(con: duckdb.DuckDBPyConnection, older_than: str, *, now: datetime | None = None,
                     actor: str | None = None) -> DeletionReport:
    """Retention: delete messages created before ``now - older_than`` and their derived rows,
    the rejected rows of imports finished before then, and the non-official accounts whose last
    message went (or, for an account never seen writing, first seen before then). Posts of the
    accounts followed (public, institutional) are kept, and so are the accounts that publish them.
    """
    limit = cutoff(older_than, now)
    rep = DeletionReport("privacy.purge")
    with store.transaction(con):
        # Accounts of authors (look-alikes, or every author with names opted in) are linked to their
        # messages by pseudonym, not by account_id (that is the page commented on): hash them here.
        acc = con.execute(
            "SELECT account_id, platform, native_id, handle, name, first_seen FROM accounts AS a "
            "WHERE NOT coalesce(a.official, false) "
            "AND NOT EXISTS (SELECT 1 FROM posts p WHERE p.account_id = a.account_id)").fetchall()
        links = pd.DataFrame([(a, h) for a, plat, nid, handle, nm, _ in acc
                              for h in _account_hashes(plat, nid, handle, nm)], columns=["account_id", "h"])
        # `links` is read by DuckDB's replacement scan of this local DataFrame
        old_authors = {r[0] for r in con.execute(
            "SELECT DISTINCT account_id FROM links WHERE h IN (SELECT author_hash FROM messages WHERE created_at < ?)",
            [limit]).fetchall()} if len(links) else set()
        rep.counts = _delete_messages(con, "created_at < ?", [limit])
        rep.counts["rejects"] = int(con.execute(
            "DELETE FROM rejects WHERE import_id IN (SELECT import_id FROM imports WHERE finished_at < ?)",
            [limit]).fetchone()[0])
        still = {r[0] for r in con.execute(
            "SELECT DISTINCT account_id FROM links WHERE h IN (SELECT author_hash FROM messages)").fetchall()} \
            if len(links) else set()
        targeted = {r[0] for r in con.execute(
            "SELECT DISTINCT account_id FROM messages WHERE account_id IS NOT NULL").fetchall()}
        gone = [a for a, *_, first_seen in acc
                if a not in still and a not in targeted
                and (a in old_authors or (first_seen is not None and first_seen < limit))]
        rep.counts["accounts"] = 0
        for a in gone:
            rep.counts["accounts"] += int(con.execute("DELETE FROM accounts WHERE account_id = ?", [a]).fetchone()[0])
        audit(con, rep.action, {"older_than": older_than, "cutoff": limit.isoformat(timespec="seconds"),
                                "counts": rep.counts}, actor)
    return rep
