"""Data outside the registry: which stored accounts no territory claims, and their re-attachment.

A post or a message is filed under a territory at import, when its account is in the registry
(:meth:`analysis.registry.Registry.find_account`). Rows of other accounts keep ``territory_id``
NULL: the coverage shows them as « (hors registre) » (:func:`analysis.queries.coverage`). Once the
territory, or the account, is added to the registry, :func:`attach` files what is already stored
under it — no re-import needed.

- :func:`unattached` — the one definition of « an account outside the registry »: an account id
  carried by posts or messages whose ``territory_id`` is NULL (a message without account counts for
  its post's account), with its volumes.
- :func:`attach` — the one re-attachment: for each such account the registry now knows (same
  account id, or same native id / handle / name on the same platform, as at import), its posts and
  messages without a territory (and the messages under its posts that name no page) get the
  account's territory, and its ``accounts`` row the
  territory and ``official``. Only NULLs are filled (nothing stored is overwritten or deleted), in
  one transaction; ``dry_run`` computes the same changes and writes nothing. The derived tables
  are rebuilt by the caller's write session (``derived_refresh.writer``).
"""

from __future__ import annotations

from dataclasses import asdict, dataclass, field

import duckdb
import pandas as pd

from analysis import store
from analysis.fmt import fr_int
from analysis.registry import Registry, sync_registry

UNATTACHED_COLUMNS = ["account_id", "platform", "native_id", "handle", "name", "posts", "messages", "first", "last"]


def unattached(con: duckdb.DuckDBPyConnection, account_ids: list[str] | None = None) -> pd.DataFrame:
    """Accounts whose posts or messages are filed under no territory (« hors registre »), most rows
    first: ``account_id, platform, native_id, handle, name`` (from ``accounts`` when stored),
    ``posts``, ``messages`` (rows without territory), ``first`` / ``last`` (their first and last
    UTC timestamps). ``account_ids`` restricts it to some accounts (an import's)."""
    only, params = "", []
    if account_ids is not None:
        if not account_ids:
            return pd.DataFrame(columns=UNATTACHED_COLUMNS)
        only = f"WHERE r.account_id IN ({', '.join('?' for _ in account_ids)})"
        params = list(account_ids)
    return con.execute(
        f"""
        WITH rows_ AS (
            SELECT account_id, platform, 1 AS post, 0 AS message, created_at FROM posts
            WHERE territory_id IS NULL AND account_id IS NOT NULL
            UNION ALL
            -- a message names its page, else the page is its post's
            SELECT coalesce(m.account_id, p.account_id), m.platform, 0, 1, m.created_at
            FROM messages m LEFT JOIN posts p ON p.post_id = m.post_id
            WHERE m.territory_id IS NULL AND coalesce(m.account_id, p.account_id) IS NOT NULL)
        SELECT r.account_id, coalesce(any_value(a.platform), any_value(r.platform)) AS platform,
               any_value(a.native_id) AS native_id, any_value(a.handle) AS handle, any_value(a.name) AS name,
               sum(r.post)::BIGINT AS posts, sum(r.message)::BIGINT AS messages,
               min(r.created_at) AS first, max(r.created_at) AS last
        FROM rows_ r LEFT JOIN accounts a USING (account_id) {only}
        GROUP BY r.account_id ORDER BY posts + messages DESC, r.account_id
        """, params).df()[UNATTACHED_COLUMNS]


# Example ``--account`` values (the demo registry's fictional ids) for the hint given when a file
# names no account.
ACCOUNT_EXAMPLES = {"facebook": "facebook:104857600000001", "instagram": "instagram:178414000000001",
                    "youtube": "youtube:UCsaintaubin00000000001", "linkedin": "linkedin:ville-de-saint-aubin-sur-loire",
                    "x": "x:900000000000000001", "tiktok": "tiktok:villesaintaubin"}


def account_example(platform: str | None) -> str:
    """An example ``--account`` value for a file of ``platform``."""
    return ACCOUNT_EXAMPLES.get(platform or "facebook", f"{platform}:<identifiant du compte>")


def native_key(account_id: str) -> str:
    """The part of ``<platform>:<id or handle>`` after the platform."""
    return str(account_id).split(":", 1)[1] if ":" in str(account_id) else str(account_id)


def registry_snippet(row: dict | pd.Series) -> str:
    """The TOML lines that declare an unattached account in the registry (``data/territories.toml``),
    to paste under the ``[[territory]]`` it belongs to."""
    lines = ["  [[territory.account]]", f'  platform = "{_toml(row["platform"])}"']
    native = row.get("native_id") if isinstance(row.get("native_id"), str) else None
    handle = row.get("handle") if isinstance(row.get("handle"), str) else None
    if native:
        lines.append(f'  native_id = "{_toml(native)}"')
    if handle:
        lines.append(f'  handle = "{_toml(handle)}"')
    if not native and not handle:
        lines.append(f'  native_id = "{_toml(native_key(row["account_id"]))}"')
    if isinstance(row.get("name"), str) and row["name"].strip():
        lines.append(f'  name = "{_toml(row["name"].strip())}"')
    return "\n".join(lines)


def _toml(s: object) -> str:
    return str(s).replace("\\", "\\\\").replace('"', '\\"').replace("\n", " ")


@dataclass
class Attachment:
    """One account re-attached: the stored id, the registry account and territory, rows filled."""

    account_id: str
    platform: str
    name: str | None
    registry_account: str
    territory_id: str
    posts: int
    messages: int


@dataclass
class AttachResult:
    dry_run: bool
    attached: list[Attachment] = field(default_factory=list)
    still_unattached: int = 0  # accounts no registry entry claims

    @property
    def posts(self) -> int:
        return sum(a.posts for a in self.attached)

    @property
    def messages(self) -> int:
        return sum(a.messages for a in self.attached)

    def as_json(self) -> dict:
        return {"dry_run": self.dry_run, "posts": self.posts, "messages": self.messages,
                "still_unattached": self.still_unattached, "attached": [asdict(a) for a in self.attached]}


def attach(con: duckdb.DuckDBPyConnection, registry: Registry, *, dry_run: bool = False) -> AttachResult:
    """Re-attach stored posts and messages of accounts outside the registry to the territory the
    registry now gives them (see the module doc). ``dry_run``: what would change, nothing written."""
    todo = unattached(con)
    res = AttachResult(dry_run=dry_run)
    for r in todo.to_dict("records"):
        keys = [r[k] for k in ("native_id", "handle", "name") if isinstance(r[k], str)]
        a = registry.get_account(r["account_id"]) or registry.find_account(
            r["platform"], native_key(r["account_id"]), *keys)
        if a is None:
            res.still_unattached += 1
            continue
        res.attached.append(Attachment(r["account_id"], r["platform"], r["name"] if isinstance(r["name"], str) else None,
                                       a.account_id, a.territory_id, int(r["posts"]), int(r["messages"])))
    if dry_run or not res.attached:
        return res
    with store.transaction(con):
        sync_registry(con, registry)  # the territory itself may be new
        for a in res.attached:
            con.execute("UPDATE posts SET territory_id = ? WHERE account_id = ? AND territory_id IS NULL",
                        [a.territory_id, a.account_id])
            # its messages, and those under its posts that name no page (they get the page too)
            con.execute("UPDATE messages SET territory_id = ?, account_id = coalesce(account_id, ?) "
                        "WHERE territory_id IS NULL AND (account_id = ? OR (account_id IS NULL AND post_id IN "
                        "(SELECT post_id FROM posts WHERE account_id = ?)))",
                        [a.territory_id, a.account_id, a.account_id, a.account_id])
            con.execute("UPDATE accounts SET territory_id = ?, official = TRUE "
                        "WHERE account_id = ? AND territory_id IS NULL", [a.territory_id, a.account_id])
    return res


def describe(res: AttachResult) -> str:
    """One French sentence for a re-attachment (the CLI and the Données page say the same)."""
    n = len(res.attached)
    left = (f" {fr_int(res.still_unattached)} compte{'s' if res.still_unattached > 1 else ''} "
            f"rest{'ent' if res.still_unattached > 1 else 'e'} hors registre." if res.still_unattached else "")
    if not n:
        return "Aucun compte hors registre n'est déclaré dans le registre : rien à rattacher." + left
    verb = "seraient rattachés" if res.dry_run else "rattachés"
    return (f"{fr_int(n)} compte{'s' if n > 1 else ''} : {fr_int(res.posts)} publication{'s' if res.posts > 1 else ''} "
            f"et {fr_int(res.messages)} message{'s' if res.messages > 1 else ''} {verb} à leur territoire"
            + (" (simulation : rien n'a été écrit)." if res.dry_run else ".") + left)
