"""Territory registry: territories, population, peers and official accounts (a TOML file).

Default file: ``$VIGIE_REGISTRY`` or ``data/territories.toml`` (the demo registry).
"""

from __future__ import annotations

import os
import tomllib
import unicodedata
from dataclasses import dataclass, field
from pathlib import Path

import pandas as pd

from analysis.store import REPO_ROOT

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

    def resembles_official(self, *keys: str | None, threshold: float = 60.0) -> bool:
        """Whether a name/handle looks like one of our official accounts (coarse, lenient gate).

        Used at ingestion to decide which non-official accounts keep their public name: those
        that could be impersonating a territory (the watch scores them precisely later).
        """
        from rapidfuzz import fuzz

        targets = self._fold_targets()
        for k in keys:
            if not k:
                continue
            fk = _fold(handle_core(k))
            if len(fk) < 4:
                continue
            for t in targets:
                if fuzz.partial_ratio(fk, t) >= threshold + 20 or fuzz.ratio(fk, t) >= threshold:
                    return True
        return False

    def _fold_targets(self) -> list[str]:
        if not hasattr(self, "_folded"):
            vals = {_fold(handle_core(v)) for a in self.accounts for v in (a.handle, a.name) if v}
            vals |= {_fold(t.name) for t in self.territories}
            self._folded = sorted(v for v in vals if len(v) >= 4)
        return self._folded

    def territory_named(self, text: str | None) -> str | None:
        """Id of the territory a text names (its name, keywords or hashtags; our own first), or None.

        The one rule that files a mention, a press item or a firehose post under a territory."""
        from analysis.text import names_any

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


_HOMOGLYPHS = str.maketrans({"0": "o", "1": "l", "3": "e", "4": "a", "5": "s", "7": "t", "@": "a", "$": "s",
                             "а": "a", "е": "e", "о": "o", "р": "p", "с": "c", "х": "x", "і": "i"})


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
    """Lower-case, accents and separators removed, look-alike digits/letters mapped to letters."""
    s = unicodedata.normalize("NFKD", str(s).casefold().translate(_HOMOGLYPHS))
    s = "".join(ch for ch in s if not unicodedata.combining(ch))
    return "".join(ch for ch in s if ch.isalnum())


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
        raise ValueError(f"Registre {p} : territoire « {t['id']} » : clé(s) inconnue(s) dans watch : {', '.join(unknown)} "
                         "(connues : hashtags, keywords, feeds, mastodon_instances)")
    return Watch(**out)


def sync_registry(con, registry: Registry) -> None:
    """Write territories and official accounts of ``registry`` into the store."""
    from analysis import store

    store.upsert(con, "territories", registry.territories_frame())
    store.upsert(con, "accounts", registry.accounts_frame())
