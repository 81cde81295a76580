"""The editable theme taxonomy (``data/themes.toml``): :class:`Theme`, :class:`Taxonomy`, :func:`load_taxonomy`."""

from __future__ import annotations

import hashlib
import re
import tomllib
from dataclasses import dataclass
from functools import lru_cache
from pathlib import Path

from analysis.store import REPO_ROOT
from analysis.topics.lemmas import phrase_key

THEMES_PATH = REPO_ROOT / "data" / "themes.toml"
NO_THEME = "none"  # sentinel row in `themes`: the item was classified and matched no theme


@dataclass(frozen=True)
class Theme:
    """One theme of the taxonomy."""

    id: str
    label: str
    description: str
    keywords: tuple[str, ...]
    hashtags: tuple[str, ...] = ()
    negative: tuple[str, ...] = ()
    weight: float = 1.0


@dataclass(frozen=True)
class Taxonomy:
    """The editable theme taxonomy (``data/themes.toml``)."""

    themes: tuple[Theme, ...]
    version: str
    path: Path | None = None
    # « sans_theme » expressions (condolences): each is a negative keyword of every theme, and a message it
    # leaves without any keyword gets no theme (neither the adapted model nor the similarity reads it)
    no_theme: tuple[str, ...] = ()

    @property
    def ids(self) -> list[str]:
        return [t.id for t in self.themes]

    @property
    def labels(self) -> dict[str, str]:
        return {t.id: t.label for t in self.themes}

    def label(self, theme_id: str) -> str:
        """French label of a theme id ('Sans thème' for the sentinel)."""
        return self.labels.get(theme_id, "Sans thème" if theme_id == NO_THEME else theme_id)


def load_taxonomy(path: str | Path | None = None) -> Taxonomy:
    """Read and validate the taxonomy TOML; errors say which theme and keyword is wrong.

    Cached per file and modification time: an edited file is read again.
    """
    p = Path(path) if path else THEMES_PATH
    return _load_taxonomy(p.resolve(), p.stat().st_mtime_ns)


@lru_cache(maxsize=8)
def _load_taxonomy(p: Path, _mtime: int) -> Taxonomy:
    raw = p.read_bytes()
    data = tomllib.loads(raw.decode("utf-8"))
    themes, seen = [], set()
    for i, t in enumerate(data.get("theme", []), 1):
        tid = t.get("id")
        if not tid or not re.fullmatch(r"[a-z0-9_]+", tid) or tid == NO_THEME:
            raise ValueError(f"{p} : thème n°{i} sans identifiant valide (minuscules, chiffres, _).")
        if tid in seen:
            raise ValueError(f"{p} : identifiant de thème en double « {tid} ».")
        seen.add(tid)
        kws = tuple(t.get("keywords", []))
        for kw in (*kws, *t.get("negative", [])):
            _check_phrase(p, f"thème « {tid} », mot-clé", kw)
        themes.append(Theme(tid, t.get("label", tid), t.get("description", ""), kws,
                            tuple(t.get("hashtags", [])), tuple(t.get("negative", [])),
                            float(t.get("weight", 1.0))))
    if not themes:
        raise ValueError(f"{p} : aucun thème ([[theme]]) trouvé.")
    none = data.get("sans_theme", {})
    expressions = none.get("expressions", []) if isinstance(none, dict) else None
    if not isinstance(expressions, list) or not all(isinstance(e, str) for e in expressions):
        raise ValueError(f"{p} : [sans_theme] attend une liste de textes « expressions = [...] ».")
    for e in expressions:
        _check_phrase(p, "[sans_theme], expression", e)
    return Taxonomy(tuple(themes), hashlib.sha256(raw).hexdigest()[:8], p, tuple(expressions))


def _check_phrase(p: Path, where: str, phrase: str) -> None:
    key = phrase_key(phrase)
    if not key:
        raise ValueError(f"{p} : {where} « {phrase} » ne contient que des mots-outils.")
    if len(key.split()) > 2:
        raise ValueError(f"{p} : {where} « {phrase} » a plus de deux mots significatifs ({key}) ; raccourcissez-le.")
