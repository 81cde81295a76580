"""Our territory and its peers: the one definition of each, read from the store's registry
(``territories`` table, synchronised from ``data/territories.toml``).

- **Own territory**: the territory of ``kind = 'own'`` (the first by id when the registry declares
  several); ``None`` when it declares none.
- **Peers** of some territories: the peers the registry lists for them (``peers = [...]``), the
  territories themselves excluded, in the registry's order. A territory that lists none has no
  peers: it is never compared with « every other territory ». This is the meaning of
  :mod:`analysis.access` (a scoped user may compare with the peers of the scope).
"""

from __future__ import annotations

from collections.abc import Sequence

import duckdb


def own_territory(con: duckdb.DuckDBPyConnection) -> str | None:
    """Id of the own territory (``kind = 'own'``, the first by id), None when the registry has none."""
    r = con.execute("SELECT territory_id FROM territories WHERE kind = 'own' ORDER BY territory_id LIMIT 1").fetchone()
    return r[0] if r else None


def peers_of(con: duckdb.DuckDBPyConnection, territories: str | Sequence[str]) -> list[str]:
    """Peer territories of ``territories`` (one id or several): the registry's ``peers`` of each, in
    order, without duplicates and without the territories themselves; [] when none are listed."""
    ids = [territories] if isinstance(territories, str) else list(territories)
    if not ids:
        return []
    rows = con.execute(
        f"SELECT territory_id, peers FROM territories WHERE territory_id IN ({', '.join('?' for _ in ids)})",
        ids).fetchall()
    listed = {t: p for t, p in rows}
    out: list[str] = []
    for t in ids:  # in the order asked, so that the first territory's peers come first
        for p in listed.get(t) or []:
            if p not in ids and p not in out:
                out.append(p)
    return out


def focus_territory(con: duckdb.DuckDBPyConnection, territories: Sequence[str] = ()) -> str | None:
    """The one territory a view is about: the first of ``territories`` (a page's filter), else our own,
    else — a registry that declares no own territory — the first by id; None for an empty registry."""
    if territories:
        return territories[0]
    own = own_territory(con)
    if own:
        return own
    r = con.execute("SELECT territory_id FROM territories ORDER BY territory_id LIMIT 1").fetchone()
    return r[0] if r else None
