"""Impersonation watch: pages and accounts whose name or handle mimics an official account.

Names are reduced to a *skeleton* before comparison (accents folded, homoglyphs and digits
read as the letters they imitate, separators and institutional fillers such as "mairie de",
"ville de", "officiel" removed, "st" → "saint"), then compared with rapidfuzz. Claiming to be
the institution ("officiel", "mairie", "ville de"…) is evidence on its own and adds to the score.
Accounts of the registry (by platform and native id or handle) are never flagged.
"""

from __future__ import annotations

import unicodedata

import duckdb
import pandas as pd

# The look-alike score lives with the registry, so that the import (which non-official accounts keep
# their name) and this watch use the same one; re-exported here.
from analysis.registry import (  # noqa: F401 - re-exports
    CLAIM_BONUS,
    LOOKALIKE_THRESHOLD,
    Reference,
    Registry,
    claims_institution,
    similarity,
    skeleton,
    words,
)

THRESHOLD = LOOKALIKE_THRESHOLD


def references(registry: Registry, territory_id: str | None = None) -> list[Reference]:
    """Names and handles of the official accounts (and territory names) to protect."""
    return registry.references(territory_id)


AUTHOR_PREFIX = "author:"  # candidates that are message authors (a name kept with --keep-author-names)


def is_author(account_id: object) -> bool:
    """Whether a watch candidate is a person writing messages (``author:<pseudonym>``), not a page or
    account: their name and pseudonym are personal data, shown to analysts only."""
    return isinstance(account_id, str) and account_id.startswith(AUTHOR_PREFIX)


def _is_registered(registry: Registry, platform: str, native_id: str | None, handle: str | None,
                   account_id: str) -> bool:
    if registry.get_account(account_id):
        return True
    # Match on ids only: a page that copies the *name* of an official account is exactly what we look for.
    for a in registry.accounts:
        if a.platform != platform:
            continue
        if native_id and a.native_id and str(native_id) == a.native_id:
            return True
        if handle and a.handle and str(handle).lstrip("@").lower() == a.handle.lower():
            return True
    return False


def candidates(con: duckdb.DuckDBPyConnection) -> pd.DataFrame:
    """Accounts and pages seen in the data that are not official (name, handle, first/last seen).

    Press outlets (platform ``press``, from RSS feeds) are not candidates: « Info Saint-Aubin » is a
    local news site, named after the town by trade, with no account on a network to pass for ours."""
    return con.execute(
        """
        WITH act AS (
            SELECT account_id, min(created_at) AS first_post, max(created_at) AS last_post, count(*) AS posts
            FROM posts GROUP BY 1)
        SELECT a.account_id, a.platform, a.native_id, a.handle, a.name,
               coalesce(act.first_post, a.first_seen) AS first_seen, act.last_post, coalesce(act.posts, 0) AS posts
        FROM accounts a LEFT JOIN act USING (account_id)
        WHERE NOT coalesce(a.official, FALSE) AND a.platform IS DISTINCT FROM 'press'
        UNION ALL
        SELECT 'author:' || author_hash, platform, NULL, NULL, max(author_name),
               min(created_at), max(created_at), 0
        FROM messages WHERE author_name IS NOT NULL AND NOT coalesce(is_official, FALSE)
        GROUP BY author_hash, platform
        """
    ).df()


def watch(con: duckdb.DuckDBPyConnection, registry: Registry, territory_id: str | None = None,
          threshold: float = THRESHOLD) -> pd.DataFrame:
    """Suspected impersonations, best score first, each with its evidence in French.

    ``score`` = max over official names/handles of :func:`similarity` (name and handle of the
    candidate), + 10 when the candidate claims to be the institution, capped at 100.
    Candidates whose platform id or handle is in the registry are skipped.
    """
    cand = candidates(con)
    rows = []
    for c in cand.itertuples(index=False):
        if _is_registered(registry, c.platform, c.native_id, c.handle, c.account_id):
            continue
        score, per_label, claims = registry.lookalike(c.name, c.handle, territory_id)
        if not per_label or score < threshold:
            continue
        labels = [lab_ for _, lab_, _ in per_label]
        sim, lab, ref = max(per_label, key=lambda x: x[0])
        ev = [f"« {lab_} » ressemble à « {ref_.label} » (similarité {s_:.0f}/100 après normalisation : "
              f"{skeleton(lab_)} ≈ {ref_.skeleton})" for s_, lab_, ref_ in per_label if s_ >= threshold - 10]
        if claims:
            ev.append("se présente comme institutionnel : " + ", ".join(f"« {w} »" for w in claims))
        if any(ch in lab_ for _, lab_, _ in per_label for ch in "0134578@$|"):
            ev.append("chiffres ou symboles à la place de lettres")
        if any(ord(ch) > 0x036F and unicodedata.category(ch).startswith("L") for lab_ in labels for ch in lab_):
            ev.append("caractères d'un autre alphabet (homoglyphes)")
        ev.append("absent du registre des comptes officiels")
        rows.append({
            "account_id": c.account_id, "platform": c.platform, "name": c.name, "handle": c.handle,
            "territory_id": ref.territory_id, "resembles": ref.label, "resembles_account": ref.account_id or None,
            "similarity": round(sim, 1), "score": round(score, 1), "claims": claims,
            "first_seen": c.first_seen, "last_seen": c.last_post, "posts": int(c.posts),
            "evidence": " ; ".join(ev),
        })
    cols = ["account_id", "platform", "name", "handle", "territory_id", "resembles", "resembles_account",
            "similarity", "score", "claims", "first_seen", "last_seen", "posts", "evidence"]
    out = pd.DataFrame(rows, columns=cols)
    return out.sort_values(["score", "posts"], ascending=False).reset_index(drop=True)
