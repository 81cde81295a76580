"""Territory registry: territories, population, peers and official accounts (a TOML file).

Default file: ``$VIGIE_REGISTRY`` or ``data/territories.toml`` (the demo registry).
"""

from __future__ import annotations

import functools
import os
import re
import tomllib
import unicodedata
from dataclasses import dataclass, field
from pathlib import Path

import numpy as np
import pandas as pd

from analysis import store
from analysis.fmt import fr_plural
from analysis.retention import audit
from analysis.store import REPO_ROOT
from analysis.text import names_any, strip_accents

DEFAULT_REGISTRY = REPO_ROOT / "data" / "territories.toml"


@dataclass(frozen=True)
class Account:
    platform: str
    native_id: str | None
    handle: str | None
    name: str
    territory_id: str

    @property
    def account_id(self) -> str:
        return f"{self.platform}:{self.native_id or self.handle}"


@dataclass(frozen=True)
class Watch:
    """What collection follows for a territory besides its accounts (``[territory.watch]``).

    ``hashtags`` without '#', lower-case; ``keywords`` are names and phrases that mean the
    territory (« Saint-Aubin », « mairie de Saint-Aubin »); ``feeds`` are RSS/Atom URLs of local
    press and alerts; ``mastodon_instances`` are the instances whose hashtag timelines are read.
    """

    hashtags: tuple[str, ...] = ()
    keywords: tuple[str, ...] = ()
    feeds: tuple[str, ...] = ()
    mastodon_instances: tuple[str, ...] = ()


@dataclass(frozen=True)
class Territory:
    territory_id: str
    name: str
    population: int | None
    kind: str  # own | peer
    insee_code: str | None = None
    territory_type: str | None = None
    peer_group: str | None = None
    peers: tuple[str, ...] = ()
    logo: str | None = None
    accounts: tuple[Account, ...] = ()
    watch: Watch = field(default_factory=lambda: Watch())

    @property
    def terms(self) -> tuple[str, ...]:
        """What names this territory in a text: its name, its keywords and hashtags (with '#')."""
        return tuple(dict.fromkeys((self.name, *self.watch.keywords, *(f"#{h}" for h in self.watch.hashtags))))


@dataclass
class Registry:
    territories: list[Territory]
    path: Path | None = None
    _by_key: dict[tuple[str, str], Account] = field(default_factory=dict, repr=False)

    def __post_init__(self) -> None:
        for t in self.territories:
            for a in t.accounts:
                for k in (a.native_id, a.handle, a.name):
                    if k:
                        self._by_key[(a.platform, _norm(k))] = a
                self._by_key[(a.platform, _norm(a.account_id))] = a

    @property
    def accounts(self) -> list[Account]:
        return [a for t in self.territories for a in t.accounts]

    def territory(self, territory_id: str) -> Territory:
        for t in self.territories:
            if t.territory_id == territory_id:
                return t
        raise KeyError(f"Territoire inconnu : {territory_id}")

    def own(self) -> list[Territory]:
        return [t for t in self.territories if t.kind == "own"]

    def find_account(self, platform: str, *keys: str | None) -> Account | None:
        """Official account of ``platform`` whose native id, handle or name equals a key.

        Equality ignores only case, NFKC width/compatibility forms and a leading '@'.
        """
        for k in keys:
            if k:
                a = self._by_key.get((platform, _norm(k)))
                if a:
                    return a
        return None

    def lookalike(self, name: str | None, handle: str | None,
                  territory_id: str | None = None) -> tuple[float, list[tuple[float, str, Reference]], list[str]]:
        """How much a non-official name/handle imitates our official accounts (the one look-alike score).

        Returns ``(score, per_label, claims)``: ``per_label`` holds, for each of the candidate's labels
        (name, handle), its best :func:`similarities` with an official name or handle of ``territory_id``
        (every territory when None) and that reference; ``score`` is the best of them, + 10 when the
        candidate claims to be the institution (« mairie », « officiel »…), capped at 100.
        """
        # a handle is compared by the part that names its owner (not ".bsky.social" or "@instance",
        # which every handle of the same host shares)
        handle = handle_core(handle) if isinstance(handle, str) and handle.strip() else handle
        labels = [x.lstrip("@") for x in (name, handle) if isinstance(x, str) and x.strip()]
        refs = self.references(territory_id)
        if not labels or not refs:
            return 0.0, [], []
        claims = sorted({w for lab in labels for w in claims_institution(lab)})
        per_label = []
        for lab in labels:
            sims = similarities(lab, [r.skeleton for r in refs], partial=bool(claims))
            best_at = int(np.argmax(sims))  # the first of the best, as max() gave
            per_label.append((float(sims[best_at]), lab, refs[best_at]))
        best = max(x[0] for x in per_label)
        return min(100.0, best + (CLAIM_BONUS if claims else 0.0)), per_label, claims

    def resembles_official(self, *keys: str | None) -> bool:
        """Whether a name/handle imitates one of our official accounts: the gate deciding, at import,
        which non-official accounts keep their public name and handle. The impersonation watch's own
        score and threshold (:meth:`lookalike`, :data:`LOOKALIKE_THRESHOLD`): an account is kept by
        name only if the watch would flag it, so a plain commenter whose name merely shares a word
        with the town (« Aubin Dupont ») is not.
        """
        name, handle = (list(keys) + [None, None])[:2]
        return self.lookalike(name, handle)[0] >= LOOKALIKE_THRESHOLD

    def references(self, territory_id: str | None = None) -> list[Reference]:
        """Names and handles of the official accounts (and territory names) to protect."""
        key = territory_id or ""
        cache = self.__dict__.setdefault("_references", {})
        if key not in cache:
            refs: list[Reference] = []
            for t in self.territories:
                if territory_id and t.territory_id != territory_id:
                    continue
                seen = set()
                for a in t.accounts:
                    for label in (a.name, f"@{handle_core(a.handle)}" if a.handle else None):
                        if label and (sk := skeleton(label.lstrip("@"))) and sk not in seen:
                            seen.add(sk)
                            refs.append(Reference(t.territory_id, a.platform, a.account_id, label, sk))
                if (sk := skeleton(t.name)) and sk not in seen:
                    refs.append(Reference(t.territory_id, "", "", t.name, sk))
            cache[key] = refs
        return cache[key]

    def territory_named(self, text: str | None) -> str | None:
        """Id of the territory a text names (its name, keywords or hashtags; our own first), or None.

        The one rule that files a mention, a press item or a firehose post under a territory."""

        for t in sorted(self.territories, key=lambda t: t.kind != "own"):
            if names_any(text, t.terms):
                return t.territory_id
        return None

    def get_account(self, account_id: str) -> Account | None:
        for a in self.accounts:
            if a.account_id == account_id:
                return a
        return None

    def territories_frame(self) -> pd.DataFrame:
        return pd.DataFrame([
            {"territory_id": t.territory_id, "name": t.name, "insee_code": t.insee_code,
             "population": t.population, "kind": t.kind, "territory_type": t.territory_type,
             "peer_group": t.peer_group, "peers": list(t.peers), "logo": t.logo}
            for t in self.territories
        ])

    def accounts_frame(self) -> pd.DataFrame:
        return pd.DataFrame([
            {"account_id": a.account_id, "platform": a.platform, "native_id": a.native_id,
             "handle": a.handle, "name": a.name, "territory_id": a.territory_id, "official": True}
            for a in self.accounts
        ])


def _norm(s: str) -> str:
    # Exact up to case, NFKC and a leading '@': an impersonator's '@SaintAubinLoire_' or
    # 'Saint-Aubin sur Loire' must never be taken for the official account.
    return unicodedata.normalize("NFKC", str(s)).strip().lstrip("@").casefold()


# ------------------------------------------------------------------------------ look-alike score
# Names are reduced to a *skeleton* before comparison (accents folded, homoglyphs and digits read as
# the letters they imitate, separators and institutional fillers such as "mairie de", "ville de",
# "officiel" removed, "st" → "saint"), then compared with rapidfuzz. Claiming to be the institution
# ("officiel", "mairie", "ville de"…) is evidence on its own and adds to the score. Used at import
# (which non-official accounts keep their name) and by the impersonation watch
# (analysis.moderation.impersonation): one score for both.
LOOKALIKE_THRESHOLD = 85.0
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


# Host parts every handle of a service shares: without them a Bluesky or Mastodon handle would
# "resemble" every other one of the same host.
SHARED_HANDLE_HOSTS = (".bsky.social",)


def handle_core(s: str) -> str:
    """The part of a handle that names its owner: ``@ville@mastodon.social`` → ``ville``,
    ``ville.bsky.social`` → ``ville`` (a custom domain such as ``saint-aubin.fr`` stays whole)."""
    s = str(s).strip().lstrip("@")
    if "@" in s:
        s = s.split("@", 1)[0]
    for host in SHARED_HANDLE_HOSTS:
        if s.lower().endswith(host):
            s = s[: -len(host)]
    return s


def _fold(s: str) -> str:
    return strip_accents(unicodedata.normalize("NFKC", str(s)).lower().translate(_HOMOGLYPHS))


_CAMEL_RE = re.compile(r"(?<=[a-z])(?=[A-Z])")
_NON_LETTERS_RE = re.compile(r"[^a-z]+")
_SPACES_RE = re.compile(r"\s+")


@functools.lru_cache(maxsize=1 << 16)  # a label's claims and skeleton both read its words
def words(s: str) -> str:
    """Folded words: accents and look-alikes resolved, camelCase and separators split."""
    s = _CAMEL_RE.sub(" ", str(s))  # "SaintAubinLoire" → "Saint Aubin Loire"
    s = _fold(s)
    s = _NON_LETTERS_RE.sub(" ", s)
    s = _SAINT.sub("saint", s)
    s = _SAINTE.sub("sainte", s)
    return _SPACES_RE.sub(" ", s).strip()


@functools.lru_cache(maxsize=1 << 16)  # an import compares each name with every reference
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


def similarity(candidate: str, ref_skeleton: str, partial: bool = False) -> float:
    """:func:`similarities` of ``candidate`` with one reference skeleton."""
    return float(similarities(candidate, [ref_skeleton], partial)[0])


def similarities(candidate: str, ref_skeletons: list[str], partial: bool = False) -> np.ndarray:
    """Similarity (0–100) of ``candidate`` with each of ``ref_skeletons``: the rapidfuzz ratio of
    skeletons; with ``partial`` (the candidate claims to be the institution) also 0.9 × the partial
    ratio when both skeletons have 8 characters or more, so "Mairie de St-Aubin Officiel" matches
    "Saint-Aubin-sur-Loire". Without a claim a page merely *containing* the town name (a sports club, a
    festival committee) is not a look-alike. One rapidfuzz call per scorer (C loops): an import scores
    every non-official account against every official name, and a Python loop over them cost 1,7 s of
    the writer's CPU at 1 M messages."""
    from rapidfuzz import fuzz, process

    sk = skeleton(candidate)
    out = np.zeros(len(ref_skeletons), dtype=np.float64)
    if not sk or not ref_skeletons:
        return out
    out[:] = process.cdist([sk], ref_skeletons, scorer=fuzz.ratio, dtype=np.float64)[0]
    out[[not r for r in ref_skeletons]] = 0.0
    if partial and len(sk) >= 8:
        long = np.array([len(r) >= 8 for r in ref_skeletons])
        if long.any():
            part = 0.9 * process.cdist([sk], ref_skeletons, scorer=fuzz.partial_ratio, dtype=np.float64)[0]
            out = np.where(long, np.maximum(out, part), out)
    return out


@dataclass(frozen=True)
class Reference:
    territory_id: str
    platform: str
    account_id: str
    label: str  # name or @handle as in the registry
    skeleton: str


def registry_path(path: str | os.PathLike | None = None) -> Path:
    return Path(path or os.environ.get("VIGIE_REGISTRY") or DEFAULT_REGISTRY).expanduser()


def load_registry(path: str | os.PathLike | None = None) -> Registry:
    """Read the registry TOML; errors name the file and the entry at fault."""
    p = registry_path(path)
    try:
        data = tomllib.loads(p.read_text(encoding="utf-8"))
    except FileNotFoundError as e:
        raise FileNotFoundError(f"Registre des territoires introuvable : {p}") from e
    except tomllib.TOMLDecodeError as e:
        raise ValueError(f"Registre {p} illisible : {e}") from e
    territories = []
    for i, t in enumerate(data.get("territory", []), start=1):
        for req in ("id", "name", "kind"):
            if req not in t:
                raise ValueError(f"Registre {p} : territoire n°{i} sans champ « {req} »")
        if t["kind"] not in ("own", "peer"):
            raise ValueError(f"Registre {p} : territoire « {t['id']} » : kind doit valoir own ou peer")
        accounts = tuple(
            Account(platform=a["platform"], native_id=str(a["native_id"]) if a.get("native_id") else None,
                    handle=a.get("handle"), name=a.get("name", t["name"]), territory_id=t["id"])
            for a in t.get("account", [])
        )
        territories.append(Territory(
            territory_id=t["id"], name=t["name"], population=t.get("population"), kind=t["kind"],
            insee_code=str(t["insee"]) if t.get("insee") else None, territory_type=t.get("type"),
            peer_group=t.get("peer_group"), peers=tuple(t.get("peers", [])), logo=t.get("logo"),
            accounts=accounts, watch=_watch(p, t),
        ))
    return Registry(territories, path=p)


def _watch(p: Path, t: dict) -> Watch:
    w = t.get("watch", {})
    if not isinstance(w, dict):
        raise ValueError(f"Registre {p} : territoire « {t['id']} » : « watch » doit être une table [territory.watch]")
    out = {}
    for k in ("hashtags", "keywords", "feeds", "mastodon_instances"):
        v = w.get(k, [])
        if isinstance(v, str) or not all(isinstance(x, str) for x in v):
            raise ValueError(f"Registre {p} : territoire « {t['id']} » : watch.{k} doit être une liste de textes")
        out[k] = tuple(x.strip() for x in v if x.strip())
    out["hashtags"] = tuple(dict.fromkeys(h.lstrip("#").lower() for h in out["hashtags"]))
    unknown = sorted(set(w) - set(out))
    if unknown:
        raise ValueError(f"Registre {p} : territoire « {t['id']} » : {fr_plural(len(unknown), 'clé inconnue', 'clés inconnues')} dans watch : {', '.join(unknown)} "
                         "(connues : hashtags, keywords, feeds, mastodon_instances)")
    return Watch(**out)


def sync_registry(con, registry: Registry) -> None:
    """Write territories and official accounts of ``registry`` into the store.

    An official account the registry now files under another territory (a mistake corrected, a
    tourism office moved to the intercommunality) takes its history along: its posts and the messages
    they received move to the new territory, logged in ``audit_log``. Before, only the account row
    moved: the pages showed its old posts under one territory and its new ones under the other."""
    moved = _moved_accounts(con, registry)
    store.upsert(con, "territories", registry.territories_frame())
    store.upsert(con, "accounts", registry.accounts_frame())
    for account_id, old, new in moved:
        posts = con.execute("UPDATE posts SET territory_id = ? WHERE account_id = ? AND territory_id = ?",
                            [new, account_id, old]).fetchone()[0]
        messages = con.execute(
            "UPDATE messages SET territory_id = ? WHERE territory_id = ? AND (account_id = ? OR (account_id IS NULL "
            "AND post_id IN (SELECT post_id FROM posts WHERE account_id = ?)))",
            [new, old, account_id, account_id]).fetchone()[0]
        if posts or messages:
            audit(con, "registry.account_moved", actor="vigie", detail={
                "account_id": account_id, "from": old, "to": new, "posts": int(posts), "messages": int(messages)})


def _moved_accounts(con, registry: Registry) -> list[tuple[str, str, str]]:
    """(account, stored territory, registry territory) of the official accounts whose territory changed
    (an account without one is :mod:`analysis.ingest.attach`'s business)."""
    terr = {a.account_id: a.territory_id for a in registry.accounts if a.territory_id}
    if not terr:
        return []
    rows = con.execute(f"SELECT account_id, territory_id FROM accounts WHERE territory_id IS NOT NULL AND account_id IN "
                       f"({', '.join('?' for _ in terr)})", list(terr)).fetchall()
    return sorted((a, t, terr[a]) for a, t in rows if terr[a] != t)
