"""Impersonation watch: pages and accounts whose name or handle mimics an official account.

Names are reduced to a *skeleton* before comparison (accents folded, homoglyphs and digits
read as the letters they imitate, separators and institutional fillers such as "mairie de",
"ville de", "officiel" removed, "st" → "saint"), then compared with rapidfuzz. Claiming to be
the institution ("officiel", "mairie", "ville de"…) is evidence on its own and adds to the score.
Accounts of the registry (by platform and native id or handle) are never flagged.
"""

from __future__ import annotations

import re
import unicodedata
from dataclasses import dataclass

import duckdb
import pandas as pd
from rapidfuzz import fuzz

from analysis.registry import Registry

THRESHOLD = 85.0
CLAIM_BONUS = 10.0

# Look-alike characters (Cyrillic, Greek, fullwidth are mostly handled by NFKC) and digits.
_HOMOGLYPHS = str.maketrans({
    "а": "a", "е": "e", "о": "o", "р": "p", "с": "c", "х": "x", "у": "y", "і": "i", "ј": "j", "ѕ": "s",
    "ԁ": "d", "ӏ": "l", "һ": "h", "к": "k", "м": "m", "т": "t", "в": "b", "н": "h", "ո": "n",
    "α": "a", "ο": "o", "ε": "e", "ρ": "p", "τ": "t", "υ": "u", "ι": "i", "κ": "k", "ν": "v",
    "0": "o", "1": "l", "3": "e", "4": "a", "5": "s", "7": "t", "8": "b", "@": "a", "$": "s", "|": "l",
    "!": "i",
})
# "l" and "i" (and "1", "|") are confusable in most fonts; "rn" reads as "m", "vv" as "w".
_CONFUSABLE_PAIRS = (("rn", "m"), ("vv", "w"), ("l", "i"))
_CLAIMS = re.compile(r"\b(officiel(?:le)?|official|mairie|hotel de ville|ville de|commune de|municipalite|"
                     r"conseil municipal|service communication|page officielle)\b")
_FILLERS = re.compile(r"\b(officiel(?:le)?|official|mairie|hotel de ville|ville|commune|municipalite|"
                      r"conseil municipal|service communication|page|compte|info|infos|actu|actus|"
                      r"de|du|des|la|le|les|d|l|fr|the)\b")
_SAINT = re.compile(r"\bst\b")
_SAINTE = re.compile(r"\bste\b")


def _fold(s: str) -> str:
    s = unicodedata.normalize("NFKC", str(s)).lower().translate(_HOMOGLYPHS)
    s = unicodedata.normalize("NFKD", s)
    return "".join(c for c in s if not unicodedata.combining(c))


def words(s: str) -> str:
    """Folded words: accents and look-alikes resolved, camelCase and separators split."""
    s = re.sub(r"(?<=[a-z])(?=[A-Z])", " ", str(s))  # "SaintAubinLoire" → "Saint Aubin Loire"
    s = _fold(s)
    s = re.sub(r"[^a-z]+", " ", s)
    s = _SAINT.sub("saint", s)
    s = _SAINTE.sub("sainte", s)
    return re.sub(r"\s+", " ", s).strip()


def skeleton(s: str) -> str:
    """Comparable core of a name or handle: no fillers, no separators, confusables merged."""
    w = _FILLERS.sub(" ", words(s))
    sk = re.sub(r"\s+", "", w)
    for a, b in _CONFUSABLE_PAIRS:
        sk = sk.replace(a, b)
    return sk


def claims_institution(s: str) -> list[str]:
    """Institutional words the name uses ("officiel", "mairie", "ville de"…)."""
    return sorted(set(_CLAIMS.findall(words(s))))


@dataclass(frozen=True)
class Reference:
    territory_id: str
    platform: str
    account_id: str
    label: str  # name or @handle as in the registry
    skeleton: str


def references(registry: Registry, territory_id: str | None = None) -> list[Reference]:
    """Names and handles of the official accounts (and territory names) to protect."""
    refs: list[Reference] = []
    for t in registry.territories:
        if territory_id and t.territory_id != territory_id:
            continue
        seen = set()
        for a in t.accounts:
            for label in (a.name, f"@{a.handle}" if a.handle else None):
                if label and (sk := skeleton(label.lstrip("@"))) and sk not in seen:
                    seen.add(sk)
                    refs.append(Reference(t.territory_id, a.platform, a.account_id, label, sk))
        if (sk := skeleton(t.name)) and sk not in seen:
            refs.append(Reference(t.territory_id, "", "", t.name, sk))
    return refs


def similarity(candidate: str, ref_skeleton: str, partial: bool = False) -> float:
    """0–100 rapidfuzz ratio of skeletons; with ``partial`` (the candidate claims to be the
    institution) also 0.9 × partial ratio, so "Mairie de St-Aubin Officiel" matches
    "Saint-Aubin-sur-Loire". Without a claim a page merely *containing* the town name (a sports
    club, a festival committee) is not a look-alike."""
    sk = skeleton(candidate)
    if not sk or not ref_skeleton:
        return 0.0
    s = fuzz.ratio(sk, ref_skeleton)
    if partial and min(len(sk), len(ref_skeleton)) >= 8:
        s = max(s, 0.9 * fuzz.partial_ratio(sk, ref_skeleton))
    return float(s)


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
        SELECT 'author:' || author_hash, platform, NULL, NULL, any_value(author_name),
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
    refs = references(registry, territory_id)
    cand = candidates(con)
    rows = []
    for c in cand.itertuples(index=False):
        if _is_registered(registry, c.platform, c.native_id, c.handle, c.account_id):
            continue
        labels = [x.lstrip("@") for x in (c.name, c.handle) if isinstance(x, str) and x.strip()]
        if not labels:
            continue
        claims = sorted({w for lab_ in labels for w in claims_institution(lab_)})
        per_label = []  # best reference for each of the candidate's labels (name, handle)
        for lab in labels:
            sims = [(similarity(lab, r.skeleton, partial=bool(claims)), r) for r in refs]
            if sims:
                s_, r_ = max(sims, key=lambda x: x[0])
                per_label.append((s_, lab, r_))
        if not per_label:
            continue
        sim, lab, ref = max(per_label, key=lambda x: x[0])
        score = min(100.0, sim + (CLAIM_BONUS if claims else 0.0))
        if score < threshold:
            continue
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
