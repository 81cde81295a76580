"""Key local contacts: engaged authors, ambassadors, repeat critics, network centrality, locality."""

from __future__ import annotations

import duckdb
import networkx as nx
import numpy as np
import pandas as pd
import scipy as sp

from analysis import derived as derived_tables
from analysis.moderation.queue import MESSAGES
from analysis.queries import Filters

MIN_MESSAGES = 3


def author_stats(con: duckdb.DuckDBPyConnection, territory_id: str, f: Filters | None = None,
                 derived: bool = True) -> pd.DataFrame:
    """Per pseudonymised author writing about ``territory_id``: messages, likes received,
    positive/negative counts (sentiment, NULL when not scored), and ``locality`` = share of the
    author's messages (all territories, same period) that concern this territory.

    Read from ``moderation_messages`` when it is current (the same messages with the model's label
    already joined), unless ``derived=False``; the names (kept only with ``--keep-author-names``)
    from the messages that have one."""
    f = f or Filters()
    w, params = f.where("m")
    if derived and derived_tables.current_table(con, "moderation_messages"):
        rows = (f"SELECT m.author_hash, NULL::VARCHAR AS author_name, m.territory_id, m.likes, m.platform, "
                f"m.model_label AS label FROM moderation_messages m WHERE {w} AND m.author_hash IS NOT NULL")
        named = (f"SELECT author_hash, max(author_name) AS author_name FROM {MESSAGES} m WHERE {w} "
                 "AND NOT coalesce(m.is_official, FALSE) AND m.author_hash IS NOT NULL AND m.author_name IS NOT NULL "
                 "GROUP BY 1")
        df = con.execute(
            f"WITH n AS ({named}), s AS ({_STATS_SQL.format(rows=rows)}) "
            "SELECT s.* REPLACE (n.author_name AS author_name) FROM s LEFT JOIN n USING (author_hash)",
            params + params + [territory_id] * 7).df()
        return df
    rows = (f"SELECT m.*, s.label FROM {MESSAGES} m "
            "LEFT JOIN sentiment s ON s.item_id = m.message_id AND s.item_type = 'message' "
            f"WHERE {w} AND NOT coalesce(m.is_official, FALSE) AND m.author_hash IS NOT NULL")
    return con.execute(_STATS_SQL.format(rows=rows), params + [territory_id] * 7).df()


# Per author (rows: author_hash, author_name, territory_id, likes, platform, label; 7 parameters,
# the territory): what author_stats returns.
_STATS_SQL = """
        WITH m AS ({rows})
        SELECT author_hash,
               max(author_name) AS author_name,
               count(*) FILTER (WHERE territory_id = ?) AS messages,
               sum(coalesce(likes, 0)) FILTER (WHERE territory_id = ?) AS likes_received,
               count(label) FILTER (WHERE territory_id = ?) AS scored,
               count(*) FILTER (WHERE territory_id = ? AND label = 'positive') AS positive,
               count(*) FILTER (WHERE territory_id = ? AND label = 'negative') AS negative,
               count(*) AS messages_all_territories,
               list(DISTINCT platform) FILTER (WHERE territory_id = ?) AS platforms
        FROM m GROUP BY author_hash
        HAVING count(*) FILTER (WHERE territory_id = ?) > 0
        """


def reply_edges(con: duckdb.DuckDBPyConnection, territory_id: str,
                f: Filters | None = None) -> list[tuple[str, str, int]]:
    """The edges of :func:`reply_graph` (source, target, number of messages), in the query's order;
    none from or to an unknown end, none from a node to itself."""
    f = f or Filters()
    w, params = f.where("m")
    edges = con.execute(
        f"""
        SELECT CASE WHEN coalesce(m.is_official, FALSE) THEN m.account_id ELSE m.author_hash END AS src,
               CASE WHEN p.message_id IS NOT NULL AND NOT coalesce(p.is_official, FALSE) THEN p.author_hash
                    WHEN NOT coalesce(m.is_official, FALSE) THEN m.account_id END AS dst,
               count(*) AS w
        FROM {MESSAGES} m LEFT JOIN messages p ON p.message_id = m.parent_id
        WHERE {w} AND m.territory_id = ?
        GROUP BY ALL
        """,
        params + [territory_id],
    ).fetchall()
    return [(src, dst, int(weight)) for src, dst, weight in edges if src and dst and src != dst]


def reply_graph(con: duckdb.DuckDBPyConnection, territory_id: str, f: Filters | None = None) -> nx.DiGraph:
    """Directed graph of who answers whom: author → author replied to (``parent_id``), author →
    official account commented on, official account → author it replied to. Edge weight =
    number of messages. Nodes are pseudonymised hashes and account ids."""
    g = nx.DiGraph()
    for src, dst, weight in reply_edges(con, territory_id, f):
        g.add_edge(src, dst, weight=weight)
    return g


def pagerank(edges: list[tuple[str, str, int]], alpha: float = 0.85, max_iter: int = 100,
             tol: float = 1.0e-06) -> dict[str, float]:
    """``networkx.pagerank(reply_graph, weight="weight")`` computed from the edges, without building the
    Python graph and converting it (at 10 M messages, 0,35 s of the contacts' 1 s): the same nodes in the
    same order (as the graph first meets them, source then target), the same sparse matrix and the same
    power iteration as networkx's ``_pagerank_scipy``, hence the same figures (a test compares them)."""
    if not edges:
        return {}
    src, dst, weight = zip(*edges, strict=True)
    codes, nodes = pd.factorize(pd.Series([x for pair in zip(src, dst, strict=True) for x in pair], dtype=object))
    n = len(nodes)
    a = sp.sparse.coo_array((np.asarray(weight, dtype=float), (codes[0::2], codes[1::2])), shape=(n, n)).tocsr()
    s = a.sum(axis=1)
    s[s != 0] = 1.0 / s[s != 0]
    a = sp.sparse.dia_array((s.T, 0), shape=a.shape).tocsr() @ a
    x = np.repeat(1.0 / n, n)
    p = np.repeat(1.0 / n, n)
    dangling = np.where(s == 0)[0]
    for _ in range(max_iter):
        last = x
        x = alpha * (x @ a + sum(x[dangling]) * p) + (1 - alpha) * p
        if np.absolute(x - last).sum() < n * tol:
            return dict(zip(nodes, map(float, x), strict=True))
    raise nx.PowerIterationFailedConvergence(max_iter)


def key_contacts(con: duckdb.DuckDBPyConnection, territory_id: str, f: Filters | None = None,
                 role: str = "analyst", min_messages: int = MIN_MESSAGES, top: int = 50) -> pd.DataFrame:
    """Most engaged local authors with their profile.

    ``engagement`` = messages + likes received. ``centrality`` = PageRank in the reply graph
    (:func:`reply_graph`: who others, including our accounts, answer; weighted). ``profile``: ambassadeur (≥ ``min_messages`` scored and
    ≥ 60 % positive), critique récurrent (≥ ``min_messages`` negative messages and ≥ 50 %
    negative), else actif. ``author_name`` only for the analyst role and only where stored.
    """
    st = author_stats(con, territory_id, f)
    cols = ["author_hash", "author_name", "messages", "likes_received", "engagement", "positive", "negative",
            "positive_share", "negative_share", "locality", "centrality", "profile", "platforms"]
    if st.empty:
        return pd.DataFrame(columns=cols if role == "analyst" else [c for c in cols if c != "author_name"])
    pr = pagerank(reply_edges(con, territory_id, f))
    st["engagement"] = st["messages"] + st["likes_received"].fillna(0)
    scored = st["scored"].where(st["scored"] > 0)
    st["positive_share"] = st["positive"] / scored
    st["negative_share"] = st["negative"] / scored
    st["locality"] = st["messages"] / st["messages_all_territories"]
    st["centrality"] = st["author_hash"].map(pr).fillna(0.0)
    amb = (st["scored"] >= min_messages) & (st["positive_share"] >= 0.6)
    crit = (st["negative"] >= min_messages) & (st["negative_share"] >= 0.5)
    st["profile"] = "actif"
    st.loc[amb, "profile"] = "ambassadeur"
    st.loc[crit, "profile"] = "critique récurrent"
    # the author's hash breaks ties (a stable sort): the same store always lists the same contacts
    st = st.sort_values(["engagement", "centrality", "author_hash"], ascending=[False, False, True],
                        kind="mergesort").head(top).reset_index(drop=True)
    if role != "analyst":
        st = st.drop(columns=["author_name"])
        cols = [c for c in cols if c != "author_name"]
    return st[cols]
