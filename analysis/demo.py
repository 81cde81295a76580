"""Deterministic demo data: 5 fictional territories, 24 months, written as real export files.

``build()`` simulates the territories' social-media life (posts, user messages, official
replies, followers, demographics, a crisis, campaigns and a placebo), writes every piece in
the *real* export format of its platform (Meta Business Suite CSVs, X analytics + twarc2
JSONL, minet and ExportComments comments, YouTube API CSV, LinkedIn xlsx, CrowdTangle…),
then imports those files through the real importers. What was injected is saved beside the
exports (``ground_truth.json`` and ``ground_truth_messages.csv.gz``) so that every analysis
can be tested against it.

Same seed → byte-identical files (xlsx zips are written with fixed timestamps).
"""

from __future__ import annotations

import base64
import bisect
import csv
import hashlib
import html
import io
import json
import math
import os
import re
import threading
import tomllib
import unicodedata
import zipfile
from collections.abc import Callable
from dataclasses import dataclass, field
from datetime import UTC, date, datetime, timedelta
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from pathlib import Path
from typing import Any
from urllib.parse import parse_qsl, unquote, urlsplit

import numpy as np
import pandas as pd

from analysis import demo_text as T
from analysis import derived_refresh, store
from analysis.collect.credentials import Credentials
from analysis.collect.runner import collect
from analysis.collect.sources import declared_sources
from analysis.config import LOCAL_ZONE
from analysis.ingest import default_context, import_paths
from analysis.registry import Account, Registry, Territory, load_registry, sync_registry
from analysis.text import strip_accents, term_key

PARIS = LOCAL_ZONE
START = date(2024, 11, 1)
END = date(2026, 10, 31)  # inclusive
N_DAYS = (END - START).days + 1
OWN = "saint-aubin"
FIXED_ZIP_TIME = (2026, 11, 1, 0, 0, 0)
POPULATION_CSV = Path(__file__).resolve().parents[1] / "data" / "population_demo.csv"

AGE_BANDS = ("0-12", "13-17", "18-24", "25-34", "35-44", "45-54", "55-64", "65+")
FOLLOWER_BANDS = AGE_BANDS[1:]

CRISIS = {"territory_id": OWN, "start": date(2026, 3, 9), "end": date(2026, 3, 22), "volume_factor": 3.0,
          "hashtag": "EauSaintAubin", "keywords": ["eau non potable", "eau du robinet", "bouteilles"],
          "themes": ["cadre_de_vie_environnement", "services_publics_demarches"]}
CAMPAIGNS = [
    {"campaign_id": "ete-a-saint-aubin-2025", "name": "Été à Saint-Aubin", "start": date(2025, 6, 15),
     "end": date(2025, 8, 31), "hashtag": "EteASaintAubin", "effect": 0.5, "placebo": False,
     "theme": "tourisme_patrimoine", "budget": 4500.0},
    {"campaign_id": "saint-aubin-a-velo-2026", "name": "Saint-Aubin à vélo", "start": date(2026, 5, 1),
     "end": date(2026, 5, 31), "hashtag": "SaintAubinAVelo", "effect": 0.3, "placebo": False,
     "theme": "mobilite_transports", "budget": 1800.0},
    {"campaign_id": "journees-du-patrimoine-2025", "name": "Journées du patrimoine", "start": date(2025, 9, 15),
     "end": date(2025, 9, 21), "hashtag": "PatrimoineSaintAubin", "effect": 0.0, "placebo": True,
     "theme": "tourisme_patrimoine", "budget": None},
]
IMPERSONATOR = {"platform": "facebook", "name": "Mairie de St Aubin-sur-Loire Officiel",
                # 'vilIesaintaubin': capital I in place of the second l of the official handle
                "handle": "vilIesaintaubin", "native_id": "100089475512366"}

# Posts per month for a territory of the own territory's size, by platform (scale 1.0). Bluesky and
# Mastodon are smaller and younger (January 2025); TikTok: few videos, many views.
POST_RATE = {"facebook": 30.0, "instagram": 20.0, "x": 32.0, "linkedin": 10.0, "youtube": 5.0,
             "bluesky": 6.0, "mastodon": 4.0, "tiktok": 5.0}
# Mean user comments per post (size 1.0), and engagement ratios relative to comments.
COMMENT_MEAN = {"facebook": 19.0, "instagram": 11.0, "x": 4.0, "linkedin": 4.0, "youtube": 18.0,
                "bluesky": 1.1, "mastodon": 0.8, "tiktok": 12.0}
REACTIONS_PER_COMMENT = {"facebook": 7.0, "instagram": 14.0, "x": 5.0, "linkedin": 9.0, "youtube": 4.0,
                         "bluesky": 6.0, "mastodon": 3.5, "tiktok": 60.0}
SHARES_PER_COMMENT = {"facebook": 0.8, "instagram": 0.25, "x": 1.2, "linkedin": 0.6, "youtube": 0.3,
                      "bluesky": 1.1, "mastodon": 1.5, "tiktok": 4.0}
# Followers at the end of the period (Bluesky, Mastodon, TikTok: see _simulate_followers_new).
FOLLOWERS_PER_INHAB = {"facebook": 0.30, "instagram": 0.14, "x": 0.05, "linkedin": 0.06, "youtube": 0.012,
                       "bluesky": 0.045, "mastodon": 0.016, "tiktok": 0.11}
MENTIONS_PER_DAY = 7.0  # X mentions per day for the own territory's size (scale 1.0)
ENGAGEMENT_SIGMA = 0.25  # lognormal per-post noise on the engagement mean
NB_DISPERSION = 20.0  # negative binomial size parameter of the counts around that mean

# Per-territory behaviour: theme mix weights (official posts), tone mix, official replies.
TERRITORY_STYLE = {
    "saint-aubin": {"themes": [1.0, 1.4, 1.6, 1.3, 1.2, 1.0, 1.2, 1.0, 0.9, 0.8, 0.6, 1.0],
                    "tone": (0.42, 0.36, 0.22), "reply_rate": 0.62, "reply_median_h": (1.2, 14.0)},
    "port-marel": {"themes": [0.8, 2.2, 1.5, 1.2, 0.8, 0.7, 0.9, 1.4, 0.7, 0.7, 0.5, 0.7],
                   "tone": (0.48, 0.34, 0.18), "reply_rate": 0.35, "reply_median_h": (3.0, 20.0)},
    "villeneuve-les-sources": {"themes": [1.3, 0.8, 1.2, 1.4, 1.5, 1.4, 1.3, 1.0, 1.2, 1.0, 0.9, 1.1],
                               "tone": (0.38, 0.37, 0.25), "reply_rate": 0.50, "reply_median_h": (2.0, 16.0)},
    "bourg-lavande": {"themes": [0.9, 1.6, 1.8, 1.2, 0.6, 0.8, 1.0, 0.9, 0.8, 1.2, 0.5, 1.3],
                      "tone": (0.45, 0.38, 0.17), "reply_rate": 0.20, "reply_median_h": (6.0, 30.0)},
    "montclar-agglo": {"themes": [1.8, 0.9, 1.0, 1.3, 1.8, 1.5, 1.4, 0.9, 1.0, 1.0, 0.8, 1.2],
                       "tone": (0.36, 0.38, 0.26), "reply_rate": 0.70, "reply_median_h": (0.8, 10.0)},
}
# Regional places for follower cities: (territory city key, neighbours, region label).
PLACES = {
    "saint-aubin": ("Saint-Aubin-sur-Loire", ["Angers", "Saumur", "Nantes", "Cholet"], "Pays de la Loire"),
    "port-marel": ("Port-Marel", ["Vannes", "Lorient", "Auray", "Rennes"], "Bretagne"),
    "villeneuve-les-sources": ("Villeneuve-les-Sources", ["Clermont-Ferrand", "Riom", "Issoire", "Vichy"],
                               "Auvergne-Rhône-Alpes"),
    "bourg-lavande": ("Bourg-la-Lavande", ["Valence", "Montélimar", "Crest", "Nyons"], "Auvergne-Rhône-Alpes"),
    "montclar-agglo": ("Montclar", ["Montpellier", "Béziers", "Nîmes", "Sète"], "Occitanie"),
}
LOCAL_SHARE = {"saint-aubin": 0.46, "port-marel": 0.38, "villeneuve-les-sources": 0.5, "bourg-lavande": 0.34,
               "montclar-agglo": 0.55}
# Facebook over-represents 25-44 and women, under-represents 65+ and 13-17 (relative propensity).
PROPENSITY = {"facebook": {"13-17": 0.15, "18-24": 0.7, "25-34": 1.7, "35-44": 1.75, "45-54": 1.25,
                           "55-64": 0.85, "65+": 0.4},
              "instagram": {"13-17": 0.45, "18-24": 2.1, "25-34": 1.9, "35-44": 1.1, "45-54": 0.6,
                            "55-64": 0.3, "65+": 0.1}}
WOMEN_PROPENSITY = {"facebook": 1.3, "instagram": 1.4}
FRENCH_HEADERS_TERRITORY = "villeneuve-les-sources"  # its MBS post exports use French headers
EXPORTCOMMENTS_POSTS = 6  # peer posts whose comments come as ExportComments xlsx

FIRST = ["Marie", "Nathalie", "Isabelle", "Sylvie", "Catherine", "Sophie", "Julie", "Camille", "Léa", "Manon",
         "Chloé", "Emma", "Sandrine", "Valérie", "Céline", "Aurélie", "Laura", "Inès", "Jeanne", "Louise",
         "Jean", "Philippe", "Michel", "Alain", "Nicolas", "Christophe", "Pierre", "Thomas", "Julien", "Lucas",
         "Hugo", "Mathieu", "Sébastien", "Laurent", "Éric", "David", "Antoine", "Kévin", "Yanis", "Mehdi"]
LAST = ["Martin", "Bernard", "Dubois", "Thomas", "Robert", "Richard", "Petit", "Durand", "Leroy", "Moreau",
        "Simon", "Laurent", "Lefebvre", "Michel", "Garcia", "David", "Bertrand", "Roux", "Vincent", "Fournier",
        "Morel", "Girard", "André", "Mercier", "Blanc", "Guérin", "Boyer", "Garnier", "Chevalier", "Legrand",
        "Gauthier", "Perrin", "Robin", "Clément", "Morin", "Nicolas", "Henry", "Roussel", "Mathieu", "Gautier"]
EN_NAMES = ["Emily Clarke", "James Walker", "Sarah Johnson", "Tom Becker", "Anna Schmidt", "Mark Evans"]


# ------------------------------------------------------------------------------ model
@dataclass
class Author:
    key: str  # platform native id (what the importer pseudonymises)
    name: str
    handle: str
    role: str  # ambassador, critic, regular, tourist
    local: bool


@dataclass
class Sim:
    """Everything simulated, before it is written as files."""

    registry: Registry
    scale: float
    posts: list[dict] = field(default_factory=list)
    messages: list[dict] = field(default_factory=list)
    followers: dict[str, pd.DataFrame] = field(default_factory=dict)  # account_id -> daily series
    demographics: dict[str, dict] = field(default_factory=dict)  # account_id -> {snapshot: shares}
    authors: dict[tuple[str, str], list[Author]] = field(default_factory=dict)
    ct_posts: list[dict] = field(default_factory=list)
    press: list[dict] = field(default_factory=list)  # every item of the simulated press feeds


def season(d: date) -> float:
    """Seasonal activity factor shared by every territory (summer and December peaks)."""
    base = {1: 0.85, 2: 0.9, 3: 0.9, 4: 0.95, 5: 1.0, 6: 1.15, 7: 1.45, 8: 1.45, 9: 1.0, 10: 0.95,
            11: 0.9, 12: 1.3}[d.month]
    return base


def size_factor(t: Territory, own_pop: int) -> float:
    return float(((t.population or own_pop) / own_pop) ** 0.6)


def campaign_of(d: date, territory_id: str) -> dict | None:
    if territory_id != OWN:
        return None
    for c in CAMPAIGNS:
        if c["start"] <= d <= c["end"]:
            return c
    return None


def in_crisis(d: date, territory_id: str) -> bool:
    return territory_id == CRISIS["territory_id"] and CRISIS["start"] <= d <= CRISIS["end"]


def _business_hours(local: datetime) -> bool:
    return local.weekday() < 5 and 9 <= local.hour < 18


def _nb(rng: np.random.Generator, mean: float, k: float = NB_DISPERSION) -> int:
    """Negative binomial count with ``mean`` and size ``k`` (over-dispersed like real engagement)."""
    if mean <= 0:
        return 0
    return int(rng.negative_binomial(k, k / (k + mean)))


class Ids:
    """Deterministic native ids per platform (digits like the platforms' own ids)."""

    def __init__(self) -> None:
        self.n: dict[str, int] = {}

    def next(self, kind: str, base: int) -> int:
        self.n[kind] = self.n.get(kind, 0) + 1
        return base + self.n[kind] * 7919


# ------------------------------------------------------------------------------ text
_CONTRACTIONS = [  # French contractions after slot filling ("de Le stade" → "du stade"), any case
    (re.compile(r"\b(d)e les\b", re.I), lambda m: m.group(1) + "es"),
    (re.compile(r"\b(d)e le\b", re.I), lambda m: m.group(1) + "u"),
    (re.compile(r"(?<!\w)(à) les\b", re.I), lambda m: ("a" if m.group(1) == "à" else "A") + "ux"),
    (re.compile(r"(?<!\w)(à) le\b", re.I), lambda m: ("a" if m.group(1) == "à" else "A") + "u"),
]


class TextMaker:
    """Draws labelled French messages from the template bank."""

    def __init__(self, rng: np.random.Generator) -> None:
        self.rng = rng

    def _pick(self, seq: list[str]) -> str:
        return seq[int(self.rng.integers(len(seq)))]

    def _fill(self, tpl: str, subject: str, tshort: str) -> str:
        s = tpl.replace("{S}", subject[:1].upper() + subject[1:]).replace("{s}", subject).replace("{t}", tshort)
        for a, b in _CONTRACTIONS:  # "de le parking" → "du parking"
            s = a.sub(b, s)
        return s

    def _decorate(self, s: str, tone: str, official_handle: str, tag: str) -> str:
        r = self.rng.random(6)
        if r[0] < 0.18:
            s += " " + self._pick(T.EMOJIS_POS if tone == "positive" else T.EMOJIS_NEG if tone == "negative" else ["🙂", "👀", "🤔"])
        if r[1] < 0.07:  # a typo: two letters swapped in one longer word
            words = s.split(" ")
            long_ = [i for i, w in enumerate(words) if len(w) > 5 and w.isalpha()]
            if long_:
                i = long_[int(self.rng.integers(len(long_)))]
                w = words[i]
                j = int(self.rng.integers(1, len(w) - 2))
                words[i] = w[:j] + w[j + 1] + w[j] + w[j + 2:]
                s = " ".join(words)
        if r[2] < 0.08:
            s += f" #{tag}"
        if r[3] < 0.05:
            s = f"@{official_handle} " + s
        if r[4] < 0.12:
            s = s.lower()
        if r[5] < 0.04:  # phone keyboards: accents dropped
            s = s.translate(str.maketrans("éèêàùçô", "eeeauco"))
        return s

    def message(self, theme: str, tone: str, tshort: str, official_handle: str, tag: str,
                english: bool = False, hostile: bool = False, question_rate: float = 0.45) -> tuple[str, bool]:
        """``(text, is_question)`` for a message of ``theme`` and ``tone``."""
        rng = self.rng
        self.explicit = True  # does the text name a subject of the theme?
        if english:
            e = self._pick(T.EN_SUBJECTS)
            bank = {"positive": T.EN_POSITIVE, "neutral": T.EN_NEUTRAL, "negative": T.EN_NEGATIVE}[tone]
            tpl = self._pick(bank)
            self.explicit = "{e}" in tpl
            s = tpl.replace("{e}", e)
            return s, s.rstrip().endswith("?")
        subject = self._pick(T.SUBJECTS[theme])
        if hostile:
            return self._fill(self._pick(T.HOSTILE), subject, tshort), False
        q = False
        if tone == "neutral":
            if rng.random() < question_rate:
                tpl, q = self._pick(T.QUESTIONS), True
            else:
                tpl = self._pick(T.NEUTRAL)
        elif tone == "negative":
            u = rng.random()
            if u < 0.14:
                tpl, q = self._pick(T.NEG_QUESTIONS), True
            elif u < 0.22:
                tpl = self._pick(T.ANGRY_CAPS)
            else:
                tpl = self._pick(T.NEGATIVE)
        else:
            tpl = self._pick(T.POSITIVE)
        self.explicit = "{s}" in tpl or "{S}" in tpl
        s = self._fill(tpl, subject, tshort)
        if tpl in T.ANGRY_CAPS:
            s = s.upper()
        elif tone == "positive" and rng.random() < 0.05:
            s = s.replace("super", "suuuuper").replace("Super", "Suuuuper").replace("top", "toooop")
        if not q and tpl in T.NEUTRAL:
            q = s.rstrip().endswith("?")
        return self._decorate(s, tone, official_handle, tag), q


# ------------------------------------------------------------------------------ simulation
def _author_pool(rng: np.random.Generator, platform: str, terr_idx: int, n: int, ids: Ids) -> list[Author]:
    out = []
    for i in range(n):
        first, last = FIRST[int(rng.integers(len(FIRST)))], LAST[int(rng.integers(len(LAST)))]
        name = f"{first} {last}"
        handle = re.sub(r"[^a-z0-9]", "", (first[0] + last).lower().translate(str.maketrans("éèëçï", "eeeci")))
        handle = f"{handle}{int(rng.integers(10, 99))}"
        if platform == "facebook":
            key = str(ids.next("fb_user", 100000000000000 + terr_idx * 10**12))
        elif platform == "x":
            key = str(ids.next("x_user", 1200000000000000000 + terr_idx * 10**15))
        elif platform == "youtube":
            key = "UC" + "".join("abcdefghijklmnopqrstuvwxyzABCDEFGHIJKLMNOPQRSTUVWXYZ0123456789_-"[int(c)]
                                 for c in rng.integers(0, 64, 22))
        else:
            key = handle
        role = "ambassador" if i < 3 else "critic" if i < 6 else "regular"
        out.append(Author(key=key, name=name, handle=handle, role=role, local=bool(rng.random() < 0.85) or i < 6))
    return out


def _author_weights(n: int) -> np.ndarray:
    # Heavy tail: rank-based Zipf; the first six (ambassadors, critics) are the most active.
    w = 1.0 / np.arange(1, n + 1) ** 1.05
    return w / w.sum()


class FastRng:
    """A numpy Generator whose scalar ``random``/``integers`` read a pre-drawn buffer.

    Hundreds of thousands of scalar draws through ``Generator`` cost seconds; a buffer of
    uniforms keeps the stream deterministic for a seed at a fraction of the cost.
    """

    def __init__(self, seed: int) -> None:
        self.g = np.random.default_rng(seed)
        self._buf: list[float] = []
        self._i = 0

    def random(self, size: int | None = None):
        if size is not None:
            return [self.random() for _ in range(size)]
        if self._i >= len(self._buf):
            self._buf, self._i = self.g.random(1 << 16).tolist(), 0
        v = self._buf[self._i]
        self._i += 1
        return v

    def integers(self, low: int, high: int | None = None, size: int | None = None):
        if size is not None:
            return self.g.integers(low, high, size)
        if high is None:
            low, high = 0, low
        return low + int(self.random() * (high - low))

    def __getattr__(self, name: str):
        return getattr(self.g, name)


def _cum(p) -> list[float]:
    """Cumulative weights for :func:`_draw`."""
    return np.cumsum(np.asarray(p, float)).tolist()


def _draw(rng: FastRng, cum: list[float]) -> int:
    """Index drawn with cumulative weights ``cum`` (see :func:`_cum`)."""
    return min(bisect.bisect_right(cum, rng.random() * cum[-1]), len(cum) - 1)


_TONE_CUM = {"ambassador": _cum((0.82, 0.14, 0.04)), "critic": _cum((0.05, 0.2, 0.75))}
_EN_TONE_CUM = _cum([0.6, 0.3, 0.1])
_CRISIS_TONE_CUM = _cum([0.8, 0.13, 0.07])
_CT_PAGE_CUM = _cum([0.3, 0.2, 0.2, 0.1, 0.1, 0.1])


def _tone_for(rng: np.random.Generator, role: str, base: tuple[float, float, float]) -> str:
    return ("positive", "neutral", "negative")[_draw(rng, _TONE_CUM.get(role) or _cum(base))]


# Hour-of-day profiles (Paris time): official posts in office hours, users in the evening too.
_POST_HOURS = _cum([0, 0, 0, 0, 0, 0, 0, 1, 3, 5, 6, 6, 7, 4, 4, 5, 5, 6, 7, 5, 3, 2, 1, 0])
_USER_HOURS = _cum([1, 0.5, 0.3, 0.2, 0.2, 0.4, 1, 2, 3, 3, 3, 3, 4, 4, 3, 3, 3, 4, 5, 6, 7, 6, 4, 2])


def _local_time(rng: np.random.Generator, d: date, peak: str = "post") -> datetime:
    h = int(_draw(rng, _POST_HOURS if peak == "post" else _USER_HOURS))
    return datetime(d.year, d.month, d.day, h, int(rng.integers(60)), int(rng.integers(60)), tzinfo=PARIS)


def _to_utc(local: datetime) -> datetime:
    return local.astimezone(UTC).replace(tzinfo=None)


def simulate(registry: Registry, seed: int, scale: float) -> Sim:
    """Simulate 24 months of activity of every registry territory (pure, deterministic)."""
    rng = FastRng(seed)
    sim = Sim(registry=registry, scale=scale)
    ids = Ids()
    tm = TextMaker(rng)
    own = next(t for t in registry.territories if t.kind == "own")
    own_pop = own.population or 50000
    days = [START + timedelta(days=i) for i in range(N_DAYS)]

    for ti, terr in enumerate(registry.territories):
        style = TERRITORY_STYLE.get(terr.territory_id, TERRITORY_STYLE[OWN])
        sf = size_factor(terr, own_pop)
        theme_p = _cum(style["themes"])
        tshort = terr.name.split(" ")[0]
        tag = re.sub(r"[^A-Za-z]", "", terr.name.translate(str.maketrans("éèêàç", "eeeac")))
        for acc in terr.accounts:
            plat = acc.platform
            if plat in NEW_PLATFORMS:  # simulated afterwards with their own random stream
                continue
            pool_n = max(20, int(round(260 * sf * math.sqrt(max(scale, 0.01)) * (1.0 if plat != "linkedin" else 0.3))))
            pool = _author_pool(rng, plat, ti + 1, pool_n, ids)
            sim.authors[(terr.territory_id, plat)] = pool
            weights = _cum(_author_weights(len(pool)))
            handle = acc.handle or acc.native_id or ""
            _simulate_followers(sim, rng, terr, acc, days)
            for d in days:
                lam = POST_RATE[plat] / 30.4 * sf * season(d) * scale
                n_posts = int(rng.poisson(lam))
                crisis_day = in_crisis(d, terr.territory_id) and plat in ("facebook", "instagram", "x")
                if crisis_day and d == CRISIS["start"] and n_posts == 0:
                    n_posts = 1  # the alert is published on day one whatever the scale
                for k in range(n_posts):
                    # During the crisis, a share of the official posts are updates about the water.
                    crisis_post = crisis_day and ((d == CRISIS["start"] and k == 0) or rng.random() < 0.35)
                    _simulate_post(sim, rng, tm, ids, terr, acc, d, theme_p, sf, tshort, tag, handle, pool,
                                   weights, style, crisis_post)
            if plat == "x":
                _simulate_mentions(sim, rng, tm, ids, terr, acc, days, sf, tshort, tag, handle, pool, weights,
                                   style, theme_p)
    _inject_crisis(sim, rng, tm, ids, registry)
    _simulate_crowdtangle(sim, rng, ids, registry)
    _simulate_demographics(sim, rng, registry)
    # Bluesky, Mastodon, TikTok and the local press draw from their own stream: the platforms
    # above keep exactly the data they had before these were added.
    _simulate_new_platforms(sim, seed, ids)
    return sim


def _simulate_post(sim: Sim, rng, tm: TextMaker, ids: Ids, terr: Territory, acc: Account, d: date,
                   theme_p: list[float], sf: float, tshort: str, tag: str, handle: str, pool: list[Author],
                   weights: list[float], style: dict, crisis_post: bool) -> None:
    plat = acc.platform
    local = _local_time(rng, d, "post")
    camp = campaign_of(d, terr.territory_id)
    hashtags = [tag]
    if crisis_post:
        theme = "cadre_de_vie_environnement"
        themes = [theme, "services_publics_demarches"]
        text = tm._pick(T.CRISIS_POSTS).replace("{t}", terr.name)
    else:
        theme = T.THEMES[int(_draw(rng, theme_p))]
        themes = [theme]
        if camp and rng.random() < 0.6:
            theme = camp["theme"]
            themes = [theme]
            hashtags.append(camp["hashtag"])
        text = tm._pick(T.POST_TEMPLATES[theme]).replace("{t}", terr.name)
        text = text.replace("{h}", " ".join("#" + h for h in hashtags))
    text = text.replace("{h}", "")
    # Engagement: common season × size × campaign effect × lognormal noise; counts NB around it.
    effect = camp["effect"] if camp else 0.0
    mu = (COMMENT_MEAN[plat] * sf * season(d) * (1.0 + effect)
          * float(np.exp(rng.normal(-ENGAGEMENT_SIGMA ** 2 / 2, ENGAGEMENT_SIGMA))))
    n_comments = _nb(rng, mu)
    if crisis_post and plat == "tiktok":  # the explanatory video draws the crowd
        n_comments = int(n_comments * CRISIS["volume_factor"])
    reactions = _nb(rng, mu * REACTIONS_PER_COMMENT[plat])
    shares = _nb(rng, mu * SHARES_PER_COMMENT[plat])
    if crisis_post:
        shares += int(rng.integers(40, 120))
    kind = {"facebook": ["Photos", "Photos", "Links", "Videos", "Reels"], "instagram": ["IG image", "IG carousel", "IG reel"],
            "x": ["status"], "linkedin": ["Organic"], "youtube": ["video"],
            # what the Bluesky/Mastodon mappers read from the embed, media or card written
            "bluesky": ["status", "status", "photo", "link"], "mastodon": ["status", "photo", "link"],
            "tiktok": ["video"]}[plat]
    ptype = kind[int(rng.integers(len(kind)))]
    reach = int(reactions * rng.uniform(9, 16) + rng.integers(50, 400) * sf)
    post = {
        "territory_id": terr.territory_id, "platform": plat, "account": acc, "native_id": None,
        "created_local": local, "created_utc": _to_utc(local), "text": text, "themes": themes,
        "post_type": ptype, "comments_users": n_comments, "reactions": reactions, "shares": shares,
        "reach": reach, "impressions": int(reach * rng.uniform(1.2, 1.6)),
        "video_views": int(reach * rng.uniform(0.3, 0.7)) if ptype in ("Videos", "Reels", "IG reel", "video") else None,
        "clicks": int(reach * rng.uniform(0.01, 0.05)), "campaign": camp["campaign_id"] if camp else None,
        "effect": effect, "crisis": crisis_post, "hashtags": hashtags,
    }
    if plat == "facebook":
        post["native_id"] = str(ids.next("fb_post", 1000000000000000 + 10**13 * int(acc.native_id[-1])))
    elif plat == "instagram":
        post["native_id"] = str(ids.next("ig_post", 17900000000000000 + 10**13 * int(acc.native_id[-1])))
    elif plat == "x":
        post["native_id"] = str(ids.next("x_post", 1850000000000000000 + 10**15 * int(acc.native_id[-1])))
    elif plat == "linkedin":
        post["native_id"] = str(ids.next("li_post", 7250000000000000000))
    elif plat in NEW_PLATFORMS:
        _new_post_ids(post, rng, ids)
    else:
        post["native_id"] = "".join("abcdefghijklmnopqrstuvwxyzABCDEFGHIJKLMNOPQRSTUVWXYZ0123456789_-"[int(c)]
                                    for c in rng.integers(0, 64, 11))
    sim.posts.append(post)
    if plat == "linkedin":  # the LinkedIn export carries counts only, no comment text
        post["comments"] = n_comments
        return
    _simulate_comments(sim, rng, tm, ids, terr, acc, post, n_comments, tshort, tag, handle, pool, weights, style,
                       crisis=crisis_post)


def _message_labels(rng, terr_style: dict, role: str, theme_hint: str, theme_p: list[float] | None) -> dict:
    english = role == "tourist" or rng.random() < 0.02
    hostile = (not english) and rng.random() < 0.015
    if hostile:
        tone = "negative"
    elif english:
        tone = ("positive", "neutral", "negative")[int(_draw(rng, _EN_TONE_CUM))]
    else:
        tone = _tone_for(rng, role, terr_style["tone"])
    theme = theme_hint
    if english:
        theme = "tourisme_patrimoine"
    elif theme_p is not None and rng.random() < 0.3:
        theme = T.THEMES[int(_draw(rng, theme_p))]
    return {"english": english, "hostile": hostile, "tone": tone, "theme": theme}


def _new_message(sim: Sim, rng, tm: TextMaker, ids: Ids, terr: Territory, acc: Account, post: dict | None,
                 when: datetime, author: Author, labels: dict, tshort: str, tag: str, handle: str,
                 kind: str, crisis: bool = False) -> dict:
    plat = acc.platform
    if crisis:
        tone = labels["tone"]
        bank = {"negative": T.CRISIS_NEGATIVE, "neutral": T.CRISIS_NEUTRAL, "positive": T.CRISIS_POSITIVE}[tone]
        text = tm._pick(bank)
        q = text.split("#")[0].rstrip().endswith("?")
        themes = list(CRISIS["themes"])
        if rng.random() < 0.15:
            text = text.upper() if tone == "negative" else text
        english = False
        explicit = True
    else:
        text, q = tm.message(labels["theme"], labels["tone"], tshort, handle, tag, english=labels["english"],
                             hostile=labels["hostile"])
        explicit = tm.explicit
        themes = [labels["theme"]]
        english = labels["english"]
        if not english and not labels["hostile"] and rng.random() < 0.1:
            t2 = T.THEMES[int(rng.integers(len(T.THEMES)))]
            if t2 != labels["theme"]:
                extra, q2 = tm.message(t2, labels["tone"], tshort, handle, tag, question_rate=0.0)
                if tm.explicit:  # a second theme only when the added sentence names it
                    text = f"{text} Et {extra[:1].lower()}{extra[1:]}"
                    themes.append(t2)
    if plat == "x" and kind == "mention" and f"@{handle}" not in text:
        text = f"@{handle} {text}"
    if plat == "x" and kind == "reply" and post is not None:
        text = f"@{handle} {text}"
    nid = _message_native_id(ids, plat, post)
    m = {"territory_id": terr.territory_id, "platform": plat, "account": acc, "post": post, "native_id": nid,
         "kind": kind, "parent": None, "author": author, "is_official": False, "created_utc": when,
         "text": text, "themes": themes, "tone": labels["tone"], "is_question": bool(q),
         "is_hostile": bool(labels["hostile"]), "lang": "en" if english else "fr", "crisis": crisis,
         "theme_explicit": bool(explicit),
         "likes": _nb(rng, 1.2 if labels["tone"] != "negative" else 2.0, 1.5)}
    sim.messages.append(m)
    return m


def _message_native_id(ids: Ids, plat: str, post: dict | None) -> str:
    if plat == "facebook":
        return str(ids.next("fb_comment", 2000000000000000))
    if plat == "instagram":
        return str(ids.next("ig_comment", 18000000000000000))
    if plat == "x":
        return str(ids.next("x_post", 1850000000000000000))
    if plat == "youtube":
        n = ids.next("yt_comment", 0)
        return f"Ugz{n:020d}"
    return str(ids.next("other", 0))


def _official_reply(sim: Sim, rng, ids: Ids, terr: Territory, acc: Account, msg: dict, style: dict) -> None:
    """The official account answers a share of questions and complaints, faster in office hours
    (not on TikTok: the comment exports Vigie reads there do not say which author is the town)."""
    if acc.platform == "tiktok" or msg["is_hostile"] or not (msg["is_question"] or msg["tone"] == "negative"):
        return
    if rng.random() >= style["reply_rate"]:
        return
    local = msg["created_utc"].replace(tzinfo=UTC).astimezone(PARIS)
    med_bh, med_off = style["reply_median_h"]
    med = med_bh if _business_hours(local) else med_off
    delay = float(np.exp(rng.normal(math.log(med), 0.7)))
    # whole seconds: every export format stores seconds (xlsx would keep microseconds)
    when = (msg["created_utc"] + timedelta(hours=min(delay, 24 * 6))).replace(microsecond=0)
    if when.date() > END:
        return
    official = Author(key=acc.native_id or acc.handle or "", name=acc.name, handle=acc.handle or "",
                      role="official", local=True)
    plat = acc.platform
    text = T.OFFICIAL_REPLIES[int(rng.integers(len(T.OFFICIAL_REPLIES)))]
    if plat == "x":
        text = f"@{msg['author'].handle} {text}"
    r = {"territory_id": terr.territory_id, "platform": plat, "account": acc, "post": msg["post"],
         "native_id": _message_native_id(ids, plat, msg["post"]), "kind": "reply", "parent": msg,
         "author": official, "is_official": True, "created_utc": when, "text": text,
         "themes": list(msg["themes"]), "tone": "neutral", "is_question": False, "is_hostile": False,
         "lang": "fr", "crisis": msg["crisis"], "likes": int(rng.integers(0, 4)), "theme_explicit": False,
         "reply_delay_h": (when - msg["created_utc"]).total_seconds() / 3600}
    msg["replied_by_official"] = True
    sim.messages.append(r)


def _simulate_comments(sim: Sim, rng, tm: TextMaker, ids: Ids, terr: Territory, acc: Account, post: dict,
                       n: int, tshort: str, tag: str, handle: str, pool: list[Author], weights: list[float],
                       style: dict, crisis: bool = False) -> None:
    plat = acc.platform
    theme_hint = post["themes"][0]
    start_n = len(sim.messages)
    picks = [_draw(rng, weights) for _ in range(n)]
    for i in range(n):
        delay_h = float(np.exp(rng.normal(math.log(2.5), 1.3)))
        if plat == "tiktok":  # a video keeps being pushed to viewers for days
            delay_h *= 6
        when = (post["created_utc"] + timedelta(hours=min(delay_h, 24 * 9))).replace(microsecond=0)
        if when.date() > END:
            continue
        author = pool[int(picks[i])]
        if not crisis and rng.random() < 0.02:
            author = _tourist(author, EN_NAMES[int(rng.integers(len(EN_NAMES)))], plat)
        labels = _message_labels(rng, style, author.role, theme_hint, None)
        if crisis:
            labels["tone"] = ("negative", "neutral", "positive")[int(_draw(rng, _CRISIS_TONE_CUM))]
            labels["english"] = labels["hostile"] = False
        kind = "reply" if plat in ("x", "bluesky", "mastodon") else "comment"
        m = _new_message(sim, rng, tm, ids, terr, acc, post, when, author, labels, tshort, tag, handle, kind,
                         crisis=crisis)
        _official_reply(sim, rng, ids, terr, acc, m, style)
    # The post's comment count is what was written under it (users + official replies).
    post["comments"] = post.get("comments", 0) + len(sim.messages) - start_n


def _simulate_mentions(sim: Sim, rng, tm: TextMaker, ids: Ids, terr: Territory, acc: Account, days: list[date],
                       sf: float, tshort: str, tag: str, handle: str, pool: list[Author], weights: list[float],
                       style: dict, theme_p: list[float]) -> None:
    for d in days:
        n = int(rng.poisson(MENTIONS_PER_DAY * sf * season(d) * sim.scale))
        for _ in range(n):
            when = _to_utc(_local_time(rng, d, "user"))
            author = pool[int(_draw(rng, weights))]
            theme = T.THEMES[int(_draw(rng, theme_p))]
            labels = _message_labels(rng, style, author.role, theme, theme_p)
            m = _new_message(sim, rng, tm, ids, terr, acc, None, when, author, labels, tshort, tag, handle, "mention")
            _official_reply(sim, rng, ids, terr, acc, m, style)


def _inject_crisis(sim: Sim, rng, tm: TextMaker, ids: Ids, registry: Registry) -> None:
    """Own territory, crisis window: user messages × ``volume_factor``, mostly negative, new hashtag."""
    terr = registry.territory(CRISIS["territory_id"])
    style = TERRITORY_STYLE[terr.territory_id]
    s, e = CRISIS["start"], CRISIS["end"]
    # Target: user messages per day in the window = volume_factor × the rate of the 28 days before.
    own_users = [m["created_utc"].date() for m in sim.messages
                 if m["territory_id"] == terr.territory_id and not m["is_official"]]
    before = sum(1 for d in own_users if s - timedelta(days=28) <= d < s) / 28.0
    during = sum(1 for d in own_users if s <= d <= e)
    extra = max(0, int(round(before * ((e - s).days + 1) * CRISIS["volume_factor"] - during)))
    crisis_posts = [p for p in sim.posts if p["crisis"]]
    by_plat: dict[str, list[dict]] = {}
    for p in crisis_posts:
        by_plat.setdefault(p["platform"], []).append(p)
    tshort = terr.name.split(" ")[0]
    tag = "SaintAubinSurLoire"
    share = {"facebook": 0.5, "instagram": 0.15, "x": 0.15}
    x_acc = next(a for a in terr.accounts if a.platform == "x")
    n_mentions = extra - sum(int(extra * v) for v in share.values())
    for plat, frac in share.items():
        posts = by_plat.get(plat, [])
        k = int(extra * frac)
        if not posts:
            n_mentions += k
            continue
        split = rng.multinomial(k, np.ones(len(posts)) / len(posts))
        for p, n in zip(posts, split, strict=True):
            pool = sim.authors[(terr.territory_id, plat)]
            _simulate_comments(sim, rng, tm, ids, terr, p["account"], p, int(n), tshort, tag,
                               p["account"].handle or "", pool, _cum(_author_weights(len(pool))), style, crisis=True)
    pool = sim.authors[(terr.territory_id, "x")]
    w = _cum(_author_weights(len(pool)))
    span = (e - s).days + 1
    for _ in range(n_mentions):
        d = s + timedelta(days=int(rng.integers(span)))
        when = _to_utc(_local_time(rng, d, "user"))
        author = pool[int(_draw(rng, w))]
        labels = {"english": False, "hostile": False, "theme": CRISIS["themes"][0],
                  "tone": ("negative", "neutral", "positive")[int(_draw(rng, _CRISIS_TONE_CUM))]}
        m = _new_message(sim, rng, tm, ids, terr, x_acc, None, when, author, labels, tshort, tag,
                         x_acc.handle or "", "mention", crisis=True)
        _official_reply(sim, rng, ids, terr, x_acc, m, style)
    # Crisis messages outside the window would make no sense: clip any reply spilling over.
    for m in sim.messages:
        if m["crisis"] and m["created_utc"].date() > e + timedelta(days=6):
            m["created_utc"] = datetime.combine(e, datetime.min.time()) + timedelta(hours=20)


CT_PAGES = [  # non-official pages of a CrowdTangle keyword search "Saint-Aubin" (realistic, not look-alikes)
    {"name": "Ouest Loire Info", "handle": "ouestloireinfo", "native_id": "100064512200001", "category": "MEDIA_NEWS_COMPANY"},
    {"name": "Comité des fêtes de Saint-Aubin", "handle": "comitefetes.staubin", "native_id": "100064512200002",
     "category": "COMMUNITY_ORGANIZATION"},
    {"name": "AS Saint-Aubin Football", "handle": "asstaubinfoot", "native_id": "100064512200003", "category": "SPORTS_TEAM"},
    {"name": "Les Amis du Vieux Pont", "handle": "amisduvieuxpont", "native_id": "100064512200004",
     "category": "NON_PROFIT_ORGANIZATION"},
    {"name": "Radio Val de Loire", "handle": "radiovaldeloire", "native_id": "100064512200005", "category": "RADIO_STATION"},
    {**IMPERSONATOR, "category": "GOVERNMENT_ORGANIZATION"},
]


def _simulate_crowdtangle(sim: Sim, rng, ids: Ids, registry: Registry) -> None:
    """Keyword search "Saint-Aubin": local pages, the impersonator, and official posts naming the town."""
    own = registry.territory(OWN)
    n_pages = max(3, int(round(180 * sim.scale)))
    texts = {
        "MEDIA_NEWS_COMPANY": ["Saint-Aubin : le conseil municipal vote le budget 2026", "Saint-Aubin-sur-Loire : la fête de la musique a attiré la foule",
                               "Eau non potable à Saint-Aubin : ce que l'on sait"],
        "COMMUNITY_ORGANIZATION": ["Grande brocante de Saint-Aubin dimanche, inscriptions ouvertes !", "Merci à tous les bénévoles du comité des fêtes de Saint-Aubin"],
        "SPORTS_TEAM": ["Victoire 2-1 de l'AS Saint-Aubin ce week-end ⚽", "Stage de foot des vacances à Saint-Aubin"],
        "NON_PROFIT_ORGANIZATION": ["Visite du vieux pont de Saint-Aubin samedi avec les Amis du Vieux Pont"],
        "RADIO_STATION": ["Ce matin à l'antenne : le maire de Saint-Aubin répond à vos questions"],
        "GOVERNMENT_ORGANIZATION": ["🎁 Saint-Aubin offre 200 € à chaque habitant : cliquez sur le lien pour recevoir votre aide",
                                    "Mairie de Saint-Aubin : mettez à jour vos coordonnées bancaires pour la taxe d'habitation ici",
                                    "Concours officiel Saint-Aubin : gagnez un séjour, partagez cette publication !"],
    }
    days = [START + timedelta(days=int(x)) for x in rng.integers(0, N_DAYS, n_pages)]
    for i, d in enumerate(sorted(days)):
        page = CT_PAGES[int(_draw(rng, _CT_PAGE_CUM))]
        if i == 0:
            page = CT_PAGES[-1]  # the impersonator is in the file whatever the scale
        local = _local_time(rng, d, "post")
        inter = _nb(rng, 180.0 if page["category"] != "MEDIA_NEWS_COMPANY" else 900.0, 2.0)
        sim.ct_posts.append({"page": page, "created_local": local, "created_utc": _to_utc(local),
                             "text": texts[page["category"]][int(rng.integers(len(texts[page["category"]])))],
                             "native_id": str(ids.next("fb_post_ext", 3000000000000000)),
                             "interactions": inter})
    # Official posts naming the town also appear in the search (same ids and counts as MBS).
    fb = next(a for a in own.accounts if a.platform == "facebook")
    for p in sim.posts:
        if p["account"] is fb and "Saint-Aubin" in p["text"] and rng.random() < 0.25:
            sim.ct_posts.append({"page": {"name": fb.name, "handle": fb.handle, "native_id": fb.native_id,
                                          "category": "GOVERNMENT_ORGANIZATION"}, "official_post": p,
                                 "created_local": p["created_local"], "created_utc": p["created_utc"],
                                 "text": p["text"], "native_id": p["native_id"],
                                 "interactions": p["reactions"] + p["comments"] + p["shares"]})
    sim.ct_posts.sort(key=lambda r: r["created_utc"])


def _simulate_followers(sim: Sim, rng, terr: Territory, acc: Account, days: list[date]) -> None:
    """Daily followers: steady growth, summer/December bumps, campaign and crisis spikes."""
    base = (terr.population or 20000) * FOLLOWERS_PER_INHAB[acc.platform]
    gains, losses = [], []
    for d in days:
        g = base * 0.00045 * season(d)
        if campaign_of(d, terr.territory_id) and not campaign_of(d, terr.territory_id)["placebo"]:
            g *= 1.6
        if in_crisis(d, terr.territory_id):
            g *= 2.5  # people follow the page for updates
        gains.append(int(rng.poisson(g)))
        losses.append(int(rng.poisson(base * 0.00012 * (3.0 if in_crisis(d, terr.territory_id) else 1.0))))
    followers = int(base) + np.cumsum(np.array(gains) - np.array(losses))
    sim.followers[acc.account_id] = pd.DataFrame({"date": days, "followers": followers, "new": gains, "lost": losses})


# Export periods. Real MBS/X exports take any range; half-years keep the file count (and the
# per-file import overhead) low enough for the demo to build in about a minute.
HALVES = [(date(2024, 11, 1), date(2025, 4, 30)), (date(2025, 5, 1), date(2025, 10, 31)),
          (date(2025, 11, 1), date(2026, 4, 30)), (date(2026, 5, 1), date(2026, 10, 31))]
YEARS = [(date(2024, 11, 1), date(2025, 10, 31)), (date(2025, 11, 1), date(2026, 10, 31))]


def snapshot_dates(territory_id: str) -> list[date]:
    """Demographic snapshot days: every half-year for the own territory, the last one for peers."""
    days = [b + timedelta(days=1) for _, b in HALVES]
    return days if territory_id == OWN else days[-1:]


def _split(items: list[dict], periods: list[tuple[date, date]], key: str = "created_utc"
           ) -> list[tuple[date, date, list[dict]]]:
    out = []
    for i, (a, b) in enumerate(periods):
        # open-ended first/last periods: a local midnight can be the previous day in UTC
        lo = date.min if i == 0 else a
        hi = date.max if i == len(periods) - 1 else b
        part = [it for it in items if lo <= it[key].date() <= hi]
        if part:
            out.append((a, b, part))
    return out


def population_table(registry: Registry) -> pd.DataFrame:
    """Population by sex and age band, summing exactly to each territory's registry population."""
    base = np.array([0.145, 0.06, 0.08, 0.115, 0.125, 0.13, 0.13, 0.215])
    tilt = {"bourg-lavande": np.array([-0.015, -0.005, -0.015, -0.015, -0.005, 0.0, 0.015, 0.04]),
            "montclar-agglo": np.array([0.01, 0.005, 0.02, 0.01, 0.0, -0.005, -0.01, -0.03]),
            "port-marel": np.array([-0.01, -0.005, -0.01, -0.01, 0.0, 0.0, 0.01, 0.025]),
            "villeneuve-les-sources": np.array([0.005, 0.0, 0.015, 0.01, 0.0, -0.005, -0.01, -0.015])}
    women = np.array([0.488, 0.488, 0.495, 0.505, 0.508, 0.51, 0.52, 0.575])
    rows = []
    for t in registry.territories:
        shares = base + tilt.get(t.territory_id, 0.0)
        cells = np.concatenate([shares * women, shares * (1 - women)])
        cells = cells / cells.sum() * (t.population or 0)
        ints = np.floor(cells).astype(int)
        rest = int((t.population or 0) - ints.sum())
        ints[np.argsort(-(cells - ints), kind="stable")[:rest]] += 1  # largest remainder: exact total
        for i, band in enumerate(AGE_BANDS):
            rows.append({"territory_id": t.territory_id, "sex": "F", "age_band": band, "population": int(ints[i])})
            rows.append({"territory_id": t.territory_id, "sex": "M", "age_band": band,
                         "population": int(ints[i + len(AGE_BANDS)])})
    return pd.DataFrame(rows)


def _simulate_demographics(sim: Sim, rng, registry: Registry) -> None:
    pop = population_table(registry)
    for t in registry.territories:
        snaps = snapshot_dates(t.territory_id)
        p = pop[pop.territory_id == t.territory_id]
        city, neighbours, region = PLACES[t.territory_id]
        for acc in t.accounts:
            if acc.platform not in ("facebook", "instagram", "linkedin"):
                continue  # X and YouTube exports give no audience breakdown
            per_snap = {}
            for si, snap in enumerate(snaps):
                out: dict[str, dict[str, float]] = {}
                if acc.platform in PROPENSITY:
                    drift = 1.0 + 0.02 * si  # the page slowly gets younger followers
                    cells = {}
                    for sex in ("F", "M"):
                        for band in FOLLOWER_BANDS:
                            n = float(p[(p.sex == sex) & (p.age_band == band)].population.iloc[0])
                            w = PROPENSITY[acc.platform][band] * (drift if band in ("18-24", "25-34") else 1.0)
                            w *= WOMEN_PROPENSITY[acc.platform] if sex == "F" else 1.0
                            cells[f"{sex}.{band}"] = n * w * float(np.exp(rng.normal(0, 0.03)))
                    tot = sum(cells.values())
                    out["age_gender"] = {k: v / tot for k, v in cells.items()}
                    out["gender"] = {g: sum(v for k, v in out["age_gender"].items() if k[0] == g) for g in ("F", "M")}
                # Per-account noise: two accounts never export byte-identical files (the pipeline
                # skips a file whose SHA-256 it has already imported).
                local = LOCAL_SHARE[t.territory_id] * (1.0 - 0.01 * si) + float(rng.normal(0, 0.01))
                rest = 1.0 - local
                nw = np.array([0.3, 0.2, 0.15, 0.1]) * rest
                cities = {f"{city}, {region}, France": local}
                for n, w in zip(neighbours, nw, strict=True):
                    cities[f"{n}, {region if n not in ('Nantes', 'Rennes', 'Montpellier') else region}, France"] = float(w)
                cities["Paris, Île-de-France, France"] = float(rest * 0.08)
                cities["Others"] = float(rest - nw.sum() - rest * 0.08)
                out["city"] = cities
                fr = (0.93 if t.territory_id != "port-marel" else 0.9) + float(rng.normal(0, 0.006))
                out["country"] = {"FR": fr, "BE": 0.018, "CH": 0.012, "GB": 0.01, "DE": 0.008,
                                  "Others": 1.0 - fr - 0.048}
                per_snap[snap.isoformat()] = out
            sim.demographics[acc.account_id] = per_snap


# ------------------------------------------------------------------------------ Bluesky, Mastodon, TikTok, press
NEW_PLATFORMS = ("bluesky", "mastodon", "tiktok")
COLLECTED = ("bluesky", "mastodon", "press")  # collected from the local replay server (build_report)
# French collectivités opened their Bluesky (and Mastodon) accounts when they left X, from 20 January
# 2025: nothing before. Montclar runs its own Mastodon instance since 2023 and the TikTok accounts
# predate the period: they start with it.
ACCOUNT_START = {("saint-aubin", "bluesky"): date(2025, 1, 20), ("saint-aubin", "mastodon"): date(2025, 1, 22),
                 ("port-marel", "bluesky"): date(2025, 1, 27), ("villeneuve-les-sources", "bluesky"): date(2025, 2, 10),
                 ("villeneuve-les-sources", "mastodon"): date(2025, 2, 10),
                 ("montclar-agglo", "bluesky"): date(2025, 1, 21)}
NEW_MENTIONS_PER_DAY = {"bluesky": 0.35, "mastodon": 0.15}  # posts naming the territory (own size, scale 1)
ADDRESSED_SHARE = 0.35  # of those mentions, the share that also @-mentions the official account
NEW_POOL = {"bluesky": 120, "mastodon": 60, "tiktok": 20}  # commenters per platform (own size, scale 1)
MASTODON_INSTANCES = ("piaille.example", "mastodon.example", "framapiaf.example", "mamot.example")
TAG_DISPLAY = {"saintaubin": "SaintAubin", "eausaintaubin": "EauSaintAubin"}  # the registry keeps lower case
# Local dailies of the territories that declare a feed: outlet, feed dialect, articles naming the
# territory per week, towns of the other items of the feed (not kept: they name no territory).
PRESS = {
    "saint-aubin": {"outlet": "Le Courrier de la Loire", "site": "https://www.courrier-loire.example",
                    "section": "saint-aubin", "dialect": "rss", "per_week": 3.0,
                    "others": ("Saumur", "Angers", "Cholet"), "first_id": 84100},
    "port-marel": {"outlet": "L'Écho du Golfe", "site": "https://www.echo-du-golfe.example",
                   "section": "port-marel", "dialect": "wordpress", "per_week": 1.5,
                   "others": ("Vannes", "Lorient", "Auray"), "first_id": 20410},
    "montclar-agglo": {"outlet": "Midi Littoral", "site": "https://www.midi-littoral.example",
                       "section": "montclar", "dialect": "atom", "per_week": 2.0,
                       "others": ("Béziers", "Sète", "Lunel"), "first_id": 6620},
}
PRESS_CRISIS_PER_DAY = 2.5  # extra articles a day on the own territory during the water crisis
PRESS_OTHER_SHARE = 0.6  # items about other towns, relative to the territory's
PRESS_FEED_FROM = date(2026, 9, 1)  # older items come as saved feed files; newer ones are collected
# A saved feed per half-year (the dailies' feeds keep their last hundred items or so).
PRESS_SAVED = [(date(2024, 11, 1), date(2025, 4, 30)), (date(2025, 5, 1), date(2025, 10, 31)),
               (date(2025, 11, 1), date(2026, 4, 30)), (date(2026, 5, 1), date(2026, 8, 31))]
# TikTok Studio audience of a town account: young, more women, mostly France.
TIKTOK_AUDIENCE = {"gender": {"F": 0.57, "M": 0.41, "U": 0.02},
                   "age": {"18-24": 0.41, "25-34": 0.30, "35-44": 0.16, "45-54": 0.09, "55+": 0.04},
                   "country": {"FR": 0.88, "BE": 0.03, "CH": 0.02, "CA": 0.015, "Others": 0.055}}
# What the demo's collection logs in with for Bluesky searches: a placeholder sent only to the local
# replay server (a real app password lives in ~/.config/vigie/credentials.toml, never in code).
DEMO_BLUESKY_LOGIN = {("bluesky", "handle"): "saintaubinsurloire.bsky.social",
                      ("bluesky", "app_password"): "demo-demo-demo-demo"}
_B32_SORT = "234567abcdefghijklmnopqrstuvwxyz"


def _tid(when: datetime, n: int) -> str:
    """A Bluesky record key (TID): microseconds since the epoch and a clock id, base32-sortable."""
    us = int(when.replace(tzinfo=UTC).timestamp()) * 1_000_000 + n % 1_000_000
    v = (us << 10) | (n % 1024)
    return "".join(_B32_SORT[(v >> (5 * i)) & 31] for i in range(12, -1, -1))


def _snowflake(when: datetime, n: int) -> str:
    """A Mastodon status id: milliseconds since the epoch shifted 16 bits, plus a sequence."""
    return str((int(when.replace(tzinfo=UTC).timestamp()) * 1000 << 16) + n % 65536)


def _acct_parts(acct: str) -> tuple[str, str]:
    """``(user, instance)`` of ``@user@instance``."""
    user, _, inst = acct.lstrip("@").partition("@")
    return user, inst


def _seq(ids: Ids, kind: str) -> int:
    ids.n[kind] = ids.n.get(kind, 0) + 1
    return ids.n[kind]


def _tourist(a: Author, name: str, plat: str) -> Author:
    """An English-speaking visitor commenting from a regular's device (a distinct author)."""
    if plat == "mastodon":
        user, inst = _acct_parts(a.key)
        return Author(key=f"@{user}_uk@{inst}", name=name, handle=f"{user}_uk", role="tourist", local=False)
    return Author(key=f"{a.key}9", name=name, handle=f"{a.handle}_uk", role="tourist", local=False)


def _new_author_pool(rng, plat: str, terr_idx: int, n: int) -> list[Author]:
    """Commenters: Bluesky DIDs, Mastodon ``@user@instance`` addresses (the keys importers pseudonymise)."""
    out = []
    for i in range(n):
        first, last = FIRST[int(rng.integers(len(FIRST)))], LAST[int(rng.integers(len(LAST)))]
        handle = re.sub(r"[^a-z0-9]", "", (first[0] + last).lower().translate(str.maketrans("éèëçï", "eeeci")))
        handle = f"{handle}{int(rng.integers(10, 99))}"
        if plat == "bluesky":
            key = "did:plc:" + "".join(_B32_SORT[int(c)] for c in rng.integers(0, 32, 24))
        elif plat == "mastodon":
            key = f"@{handle}@{MASTODON_INSTANCES[int(rng.integers(len(MASTODON_INSTANCES)))]}"
        else:
            key = handle
        role = "ambassador" if i < 3 else "critic" if i < 6 else "regular"
        out.append(Author(key=key, name=f"{first} {last}", handle=handle, role=role,
                          local=bool(rng.random() < 0.85) or i < 6))
    return out


def _mention_handle(acc: Account) -> str:
    """How people write the account in a text: ``@ville.bsky.social``, ``@ville`` on Mastodon."""
    if acc.platform == "mastodon":
        return _acct_parts(acc.handle or "")[0]
    return acc.handle or acc.native_id or ""


def _new_post_ids(post: dict, rng, ids: Ids) -> None:
    """Native ids of a Bluesky/Mastodon/TikTok post (they carry its time) and TikTok's views."""
    plat, acc, when = post["platform"], post["account"], post["created_utc"]
    if plat == "bluesky":
        post["native_id"] = f"at://{acc.native_id}/app.bsky.feed.post/{_tid(when, _seq(ids, 'bsky'))}"
    elif plat == "mastodon":
        user, inst = _acct_parts(acc.handle)
        post["status_id"] = _snowflake(when, _seq(ids, "masto"))
        post["native_id"] = f"https://{inst}/users/{user}/statuses/{post['status_id']}"
    else:  # a TikTok video id holds its publication second in its high 32 bits
        ts = int(when.replace(tzinfo=UTC).timestamp())
        post["native_id"] = str((ts << 32) | (_seq(ids, "tiktok") * 2654435761 % 2**32))
        views = int(post["reactions"] * rng.uniform(14, 32)) + int(rng.integers(300, 1500))
        post.update(video_views=views, impressions=views, reach=int(views * rng.uniform(0.6, 0.8)))


def _search_hit(text: str, query: str, words: str | None = None) -> bool:
    """Whether a Bluesky search (``#tag`` or words) finds ``text`` (the demo server's rule);
    ``words``: ``text``'s :func:`_words`, when already computed."""
    if query.startswith("#"):
        return query[1:].lower() in _hashtags(text)
    return f" {term_key(query)} " in (words if words is not None else _words(text))


def _words(text: str) -> str:
    """``text`` as :func:`analysis.text.term_key` words, padded: what a words search compares."""
    return f" {term_key(text)} "


def _hashtags(text: str) -> list[str]:
    return [h.lower() for h in re.findall(r"(?<![\w#])#(\w+)", text)]


def _searches(terr: Territory, plat: str) -> list[str]:
    """What collection follows for a territory on a platform (as analysis.collect.sources declares)."""
    tags = [f"#{h}" for h in terr.watch.hashtags]
    return tags + list(terr.watch.keywords) if plat == "bluesky" else tags


def _make_findable(m: dict, terr: Territory, acc: Account, rng) -> None:
    """A mention names the territory the way collection finds it (a watched hashtag or keyword);
    some also @-mention the official account."""
    plat, text = m["platform"], m["text"]
    found = _searches(terr, plat)
    if plat == "mastodon":
        hit = any(h in _hashtags(text) for h in terr.watch.hashtags)
    else:
        words = _words(text)
        hit = any(_search_hit(text, q, words) for q in found)
    if not hit:
        tags = list(terr.watch.hashtags)
        if tags and (plat == "mastodon" or rng.random() < 0.5):
            text = f"{text} #{TAG_DISPLAY.get(tags[0], tags[0])}"
        else:
            text = f"{terr.watch.keywords[0]} : {text[:1].lower()}{text[1:]}"
    m["mentions"] = []
    if rng.random() < ADDRESSED_SHARE:
        handle = _mention_handle(acc)
        if not text.startswith(f"@{handle}"):
            text = f"@{handle} {text}"
    if text.startswith(f"@{_mention_handle(acc)}"):
        m["mentions"] = [acc.handle if plat == "mastodon" else acc.native_id]
    m["text"] = text


def _simulate_new_platforms(sim: Sim, seed: int, ids: Ids) -> None:
    """Bluesky and Mastodon (from January 2025), TikTok, and the local press of the registry's territories."""
    rng = FastRng(seed + 1009)
    tm = TextMaker(rng)
    registry = sim.registry
    own_pop = next(t for t in registry.territories if t.kind == "own").population or 50000
    days = [START + timedelta(days=i) for i in range(N_DAYS)]
    first_new = len(sim.messages)
    for ti, terr in enumerate(registry.territories):
        style = TERRITORY_STYLE.get(terr.territory_id, TERRITORY_STYLE[OWN])
        sf = size_factor(terr, own_pop)
        theme_p = _cum(style["themes"])
        tshort = terr.name.split(" ")[0]
        tag = re.sub(r"[^A-Za-z]", "", terr.name.translate(str.maketrans("éèêàç", "eeeac")))
        for acc in terr.accounts:
            plat = acc.platform
            if plat not in NEW_PLATFORMS:
                continue
            first = ACCOUNT_START.get((terr.territory_id, plat), START)
            pool_n = max(15, int(round(NEW_POOL[plat] * sf * math.sqrt(max(sim.scale, 0.01)))))
            pool = _new_author_pool(rng, plat, ti + 1, pool_n)
            sim.authors[(terr.territory_id, plat)] = pool
            weights = _cum(_author_weights(len(pool)))
            handle = _mention_handle(acc)
            _simulate_followers_new(sim, rng, terr, acc, days, first)
            for d in days:
                if d < first:
                    continue
                n_posts = int(rng.poisson(POST_RATE[plat] / 30.4 * sf * season(d) * sim.scale))
                crisis_day = in_crisis(d, terr.territory_id)
                if crisis_day and d == CRISIS["start"] and n_posts == 0:
                    n_posts = 1
                for k in range(n_posts):
                    crisis_post = crisis_day and ((d == CRISIS["start"] and k == 0) or rng.random() < 0.35)
                    _simulate_post(sim, rng, tm, ids, terr, acc, d, theme_p, sf, tshort, tag, handle, pool,
                                   weights, style, crisis_post)
            if plat in NEW_MENTIONS_PER_DAY and _searches(terr, plat):
                _simulate_new_mentions(sim, rng, tm, ids, terr, acc, days, first, sf, tshort, tag, pool, weights,
                                       style, theme_p)
        if terr.territory_id in PRESS and terr.watch.feeds:
            _simulate_press(sim, rng, tm, terr, days)
    _social_messages(sim, ids, first_new)
    _tiktok_demographics(sim, rng)


def _simulate_new_mentions(sim: Sim, rng, tm: TextMaker, ids: Ids, terr: Territory, acc: Account,
                           days: list[date], first: date, sf: float, tshort: str, tag: str, pool: list[Author],
                           weights: list[float], style: dict, theme_p: list[float]) -> None:
    """Posts naming the territory, ×volume_factor during the crisis (mostly about the water)."""
    handle = _mention_handle(acc)
    for d in days:
        if d < first:
            continue
        crisis = in_crisis(d, terr.territory_id)
        lam = NEW_MENTIONS_PER_DAY[acc.platform] * sf * season(d) * sim.scale
        n = int(rng.poisson(lam * (CRISIS["volume_factor"] if crisis else 1.0)))
        first_alarm = crisis and d == CRISIS["start"]  # someone raises it on day one whatever the scale
        for k in range(max(n, 1) if first_alarm else n):
            when = _to_utc(_local_time(rng, d, "user"))
            author = pool[int(_draw(rng, weights))]
            if (first_alarm and k == 0) or (crisis and rng.random() < 0.75):
                labels = {"english": False, "hostile": False, "theme": CRISIS["themes"][0],
                          "tone": ("negative", "neutral", "positive")[int(_draw(rng, _CRISIS_TONE_CUM))]}
                m = _new_message(sim, rng, tm, ids, terr, acc, None, when, author, labels, tshort, tag, handle,
                                 "mention", crisis=True)
            else:
                theme = T.THEMES[int(_draw(rng, theme_p))]
                labels = _message_labels(rng, style, author.role, theme, theme_p)
                m = _new_message(sim, rng, tm, ids, terr, acc, None, when, author, labels, tshort, tag, handle,
                                 "mention")
            _make_findable(m, terr, acc, rng)
            _official_reply(sim, rng, ids, terr, acc, m, style)


def _social_messages(sim: Sim, ids: Ids, start: int) -> None:
    """Ids of the Bluesky/Mastodon/TikTok messages (Bluesky's and Mastodon's name their author and
    time) and, on Mastodon, the @-mention a client puts at the start of a reply."""
    for m in sim.messages[start:]:
        plat = m["platform"]
        if plat == "tiktok":  # comment ids: 19 digits, like the videos'
            m["native_id"] = str(7_310_000_000_000_000_000 + _seq(ids, "tiktok_comment") * 7919)
        elif plat == "bluesky":
            m["native_id"] = f"at://{m['author'].key}/app.bsky.feed.post/{_tid(m['created_utc'], _seq(ids, 'bsky'))}"
            m.setdefault("mentions", [])
        elif plat == "mastodon":
            user, inst = _acct_parts(m["author"].key)
            m["status_id"] = _snowflake(m["created_utc"], _seq(ids, "masto"))
            m["native_id"] = f"https://{inst}/users/{user}/statuses/{m['status_id']}"
            m.setdefault("mentions", [])
            if m["kind"] == "reply":
                answered = m["parent"]["author"].key if m["parent"] else m["account"].handle
                who = _acct_parts(answered)[0]
                if not m["text"].startswith(f"@{who}"):
                    m["text"] = f"@{who} {m['text']}"
                m["mentions"] = [answered]


def _simulate_followers_new(sim: Sim, rng, terr: Territory, acc: Account, days: list[date], first: date) -> None:
    """Daily followers from the account's first day: a wave on the day a town joins Bluesky or Mastodon
    (its X followers follow it there), then concave growth; campaign and crisis bumps."""
    end = (terr.population or 20000) * FOLLOWERS_PER_INHAB[acc.platform]
    live = [d for d in days if d >= first]
    if acc.platform == "tiktok":
        start_share, tau = 0.45, 420.0
    elif first > START:
        start_share, tau = 0.10, 170.0
    else:
        start_share, tau = 0.55, 500.0
    t = np.arange(len(live), dtype=float)
    span = max(len(live) - 1, 1)
    curve = end * (start_share + (1 - start_share) * (1 - np.exp(-t / tau)) / (1 - np.exp(-span / tau)))
    net = np.diff(curve, prepend=curve[0])
    gains, losses = [], []
    for d, x in zip(live, net, strict=True):
        boost = 1.0
        camp = campaign_of(d, terr.territory_id)
        if camp and not camp["placebo"]:
            boost = 1.6
        if in_crisis(d, terr.territory_id):
            boost = 2.5
        gains.append(int(rng.poisson(max(x, 0.0) * 1.15 * boost + end * 0.00004)))
        losses.append(int(rng.poisson(max(x, 0.0) * 0.15 + end * 0.00004)))
    followers = int(round(curve[0])) + np.cumsum(np.array(gains) - np.array(losses))
    sim.followers[acc.account_id] = pd.DataFrame({"date": live, "followers": followers, "new": gains, "lost": losses})


def _tiktok_demographics(sim: Sim, rng) -> None:
    """TikTok Studio's breakdowns (gender, age, top territories) at each export day, slowly getting younger."""
    for t in sim.registry.territories:
        for acc in t.accounts:
            if acc.platform != "tiktok":
                continue
            per_snap = {}
            for si, (_, last) in enumerate(YEARS):
                snap = last + timedelta(days=1)
                dims = {}
                for dim, base in TIKTOK_AUDIENCE.items():
                    v = {k: x * float(np.exp(rng.normal(0, 0.04))) for k, x in base.items()}
                    if dim == "age":
                        v["18-24"] *= 1.0 + 0.04 * si
                    tot = sum(v.values())
                    dims[dim] = {k: x / tot for k, x in v.items()}
                per_snap[snap.isoformat()] = dims
            sim.demographics[acc.account_id] = per_snap


def _press_text(tm: TextMaker, place: str, theme: str, tone: str) -> tuple[str, str]:
    subject = tm._pick(T.SUBJECTS[theme])
    title = tm._fill(tm._pick(T.PRESS_TITLES[tone]).replace("{T}", place), subject, place)
    summary = tm._fill(tm._pick(T.PRESS_SUMMARIES[tone]), subject, place)
    return title[:1].upper() + title[1:], summary


def _simulate_press(sim: Sim, rng, tm: TextMaker, terr: Territory, days: list[date]) -> None:
    """The local daily's feed: 2–4 articles a week naming the territory (more, and mostly negative,
    during the crisis), among items about other towns that collection must leave out."""
    cfg = PRESS[terr.territory_id]
    place = PLACES[terr.territory_id][0]
    style = TERRITORY_STYLE.get(terr.territory_id, TERRITORY_STYLE[OWN])
    theme_p = _cum(style["themes"])
    host = cfg["site"].split("://", 1)[1].removeprefix("www.")
    outlet = Author(key=host, name=cfg["outlet"], handle=host, role="press", local=True)
    num = cfg["first_id"]
    for d in days:
        lam = cfg["per_week"] / 7 * season(d) * sim.scale
        crisis = in_crisis(d, terr.territory_id)
        n_crisis = int(rng.poisson(PRESS_CRISIS_PER_DAY * sim.scale)) if crisis else 0
        if crisis and d in (CRISIS["start"], CRISIS["end"]) and n_crisis == 0:
            n_crisis = 1  # the alert and its end are covered whatever the scale
        kinds = (["crisis"] * n_crisis + ["town"] * int(rng.poisson(lam))
                 + ["other"] * int(rng.poisson(lam * PRESS_OTHER_SHARE)))
        for k, kind in enumerate(kinds):
            local = datetime(d.year, d.month, d.day, int(rng.integers(6, 21)), int(rng.integers(60)), 0, tzinfo=PARIS)
            num += 1 + int(rng.integers(3))
            if kind == "crisis":  # day one informs, the last day says it is over, the rest is anger
                tone = ("neutral" if d == CRISIS["start"] and k == 0 else "positive" if d == CRISIS["end"] and k == 0
                        else "negative" if rng.random() < 0.7 else "neutral")
                title, summary = T.PRESS_CRISIS[tone][int(rng.integers(len(T.PRESS_CRISIS[tone])))]
                title, summary = title.replace("{T}", place), summary
                themes = list(CRISIS["themes"])
            else:
                tone = ("positive", "neutral", "negative")[int(_draw(rng, _PRESS_TONE_CUM))]
                theme = T.THEMES[int(_draw(rng, theme_p))]
                town = place if kind == "town" else cfg["others"][int(rng.integers(len(cfg["others"])))]
                title, summary = _press_text(tm, town, theme, tone)
                themes = [theme]
            item = {"territory_id": terr.territory_id, "cfg": cfg, "num": num, "created_local": local,
                    "created_utc": _to_utc(local), "title": title, "summary": summary,
                    "journalist": T.JOURNALISTS[int(rng.integers(len(T.JOURNALISTS)))],
                    "category": place if kind != "other" else town, "kept": kind != "other"}
            item["native_id"] = _press_native_id(cfg, num, local.year)
            sim.press.append(item)
            if kind == "other":
                continue
            sim.messages.append({
                "territory_id": terr.territory_id, "platform": "press", "account": None, "post": None,
                "native_id": item["native_id"], "kind": "article", "parent": None, "author": outlet,
                "is_official": False, "created_utc": item["created_utc"], "text": f"{title}\n{summary}",
                "themes": themes, "tone": tone, "is_question": False, "is_hostile": False, "lang": "fr",
                "crisis": kind == "crisis", "theme_explicit": True, "likes": None})


_PRESS_TONE_CUM = _cum([0.3, 0.52, 0.18])


def _press_native_id(cfg: dict, num: int, year: int) -> str:
    """The id the press importer derives from the item's guid (see analysis.ingest.rss)."""
    host = cfg["site"].split("://", 1)[1]
    if cfg["dialect"] == "rss":  # a bare local number as guid: prefixed by the outlet's host
        return f"{host.removeprefix('www.')}/{num}"
    if cfg["dialect"] == "wordpress":  # WordPress: guid = the ?p= short link
        return f"{cfg['site']}/?p={num}"
    return f"tag:{host.removeprefix('www.')},{year}:article-{num}"  # Atom tag URI



# ------------------------------------------------------------------------------ writers
def _q(v) -> str:
    """MBS-style CSV cell: quoted only when it holds a space, comma, quote or newline."""
    s = "" if v is None else str(v)
    if any(c in s for c in ' ,"\n\r'):
        return '"' + s.replace('"', '""') + '"'
    return s


def _write_csv_mbs(path: Path, header: list[str], rows: list[list], bom: bool = True) -> None:
    lines = [",".join(_q(h) for h in header)] + [",".join(_q(v) for v in r) for r in rows]
    path.parent.mkdir(parents=True, exist_ok=True)
    path.write_bytes(("\ufeff" if bom else "").encode() + "\n".join(lines).encode("utf-8") + b"\n")


def _write_csv_all_quoted(path: Path, header: list[str], rows: list[list]) -> None:
    buf = io.StringIO()
    w = csv.writer(buf, quoting=csv.QUOTE_ALL, lineterminator="\n")
    w.writerow(header)
    w.writerows(rows)
    path.parent.mkdir(parents=True, exist_ok=True)
    path.write_bytes(buf.getvalue().encode("utf-8"))


def _write_csv(path: Path, header: list[str], rows: list[list], bom: bool = False) -> None:
    buf = io.StringIO()
    w = csv.writer(buf, lineterminator="\n")
    w.writerow(header)
    w.writerows(rows)
    path.parent.mkdir(parents=True, exist_ok=True)
    path.write_bytes(("\ufeff" if bom else "").encode() + buf.getvalue().encode("utf-8"))


def _save_xlsx(wb, path: Path) -> None:
    """Save a workbook with fixed zip and document timestamps (same seed → same bytes)."""
    path.parent.mkdir(parents=True, exist_ok=True)
    buf = io.BytesIO()
    wb.save(buf)
    src = zipfile.ZipFile(io.BytesIO(buf.getvalue()))
    out = io.BytesIO()
    with zipfile.ZipFile(out, "w", zipfile.ZIP_DEFLATED) as z:
        for info in src.infolist():
            data = src.read(info.filename)
            if info.filename == "docProps/core.xml":
                data = re.sub(rb"(<dcterms:(created|modified)[^>]*>)[^<]*", rb"\g<1>2026-11-01T00:00:00Z", data)
            zi = zipfile.ZipInfo(info.filename, date_time=FIXED_ZIP_TIME)
            zi.compress_type = zipfile.ZIP_DEFLATED
            z.writestr(zi, data)
    path.write_bytes(out.getvalue())


def _set_mtime(path: Path, d: date) -> None:
    ts = datetime(d.year, d.month, d.day, 12, tzinfo=UTC).timestamp()
    os.utime(path, (ts, ts))


MBS_EN = ["Post ID", "Page ID", "Page name", "Title", "Description", "Duration (sec)", "Publish time", "Caption type",
          "Permalink", "Is crosspost", "Is share", "Post type", "Languages", "Custom labels", "Funded content status",
          "Data comment", "Date", "Views", "Reach", "Reactions, Comments and Shares", "Reactions", "Comments",
          "Shares", "Total clicks", "3-second video views"]
MBS_FR = ["Identifiant de la publication", "ID de la Page", "Nom de la page", "Titre", "Description", "Durée (s)",
          "Heure de publication", "Type de légende", "Permalien", "Est une publication croisée", "Est un partage",
          "Type de publication", "Langues", "Libellés personnalisés", "Statut du contenu financé",
          "Commentaire sur les données", "Date", "Vues", "Couverture", "Réactions, commentaires et partages",
          "Réactions", "Commentaires", "Partages", "Total des clics", "Vues de vidéo de 3 secondes"]
MBS_IG = ["Post ID", "Account ID", "Account username", "Account name", "Description", "Duration (sec)",
          "Publish time", "Permalink", "Post type", "Data comment", "Date", "Views", "Reach", "Likes", "Shares",
          "Follows", "Comments", "Saves"]


def _mon(d: date) -> str:
    return d.strftime("%b-%d-%Y")


class Writer:
    """Writes the simulated world as export files under ``root``; records each file's import context."""

    def __init__(self, sim: Sim, root: Path, rng: np.random.Generator) -> None:
        self.sim, self.root, self.rng = sim, root, rng
        self.files: list[dict] = []  # {"path", "hint", "snapshot", "mapping", "fmt"}

    def add(self, path: Path, hint: str | None = None, snapshot: date | None = None, mapping: Path | None = None,
            fmt: str | None = None) -> None:
        self.files.append({"path": path, "hint": hint, "snapshot": snapshot, "mapping": mapping, "fmt": fmt})

    def write_all(self) -> None:
        # Bluesky, Mastodon, TikTok and the press first: they are imported first, while the tables
        # are small (each file's upsert costs more as the tables grow). They use no random draw, so
        # the other files are the same with or without them.
        self._index_threads()
        self.tiktok()
        self.social_profiles()
        self.press_saved()
        self.replay()
        self.mbs_posts()
        self.mbs_daily()
        self.mbs_demographics()
        self.x_analytics()
        self.x_twarc()
        self.fb_comments()
        self.ig_comments()
        self.youtube()
        self.linkedin()
        self.ads()
        self.crowdtangle()

    # -- Meta Business Suite ------------------------------------------------------------
    def mbs_posts(self) -> None:
        sim = self.sim
        for terr in sim.registry.territories:
            for acc in terr.accounts:
                if acc.platform not in ("facebook", "instagram"):
                    continue
                posts = [p for p in sim.posts if p["account"] is acc]
                for d0, d1, items in _split(posts, HALVES, "created_local"):
                    export_id = 2855862537940540 + int(acc.native_id[-3:]) * 1000 + d0.year * 12 + d0.month
                    name = f"{_mon(d0)}_{_mon(d1)}_{export_id}.csv"
                    path = self.root / terr.territory_id / acc.platform / "posts" / name
                    if acc.platform == "instagram":
                        self._mbs_ig(path, acc, items)
                    else:
                        self._mbs_fb(path, acc, items, french=terr.territory_id == FRENCH_HEADERS_TERRITORY)
                    self.add(path)

    def _mbs_fb(self, path: Path, acc: Account, items: list[dict], french: bool) -> None:
        rows = []
        for p in sorted(items, key=lambda p: p["created_local"]):
            title, desc = (p["text"], "") if p["post_type"] != "Links" else ("", p["text"])
            eng = p["reactions"] + p["comments"] + p["shares"]
            video = p["video_views"] if p["video_views"] is not None else 0
            ptype = p["post_type"]
            if french:
                ptype = {"Photos": "Photos", "Links": "Liens", "Videos": "Vidéos", "Reels": "Reels"}[ptype]
            rows.append([p["native_id"], acc.native_id, acc.name, title, desc,
                         "" if not p["video_views"] else int(self.rng.integers(15, 180)),
                         p["created_local"].strftime("%m/%d/%Y %H:%M"), "N/A",
                         f"https://www.facebook.com/{acc.handle}/posts/{p['native_id']}", 0, 0, ptype, "", "", "", "",
                         "Lifetime" if not french else "Durée de vie", p["impressions"], p["reach"], eng,
                         p["reactions"], p["comments"], p["shares"], p["clicks"], video])
        _write_csv_mbs(path, MBS_FR if french else MBS_EN, rows)

    def _mbs_ig(self, path: Path, acc: Account, items: list[dict]) -> None:
        rows = []
        for p in sorted(items, key=lambda p: p["created_local"]):
            ptype = p["post_type"]
            rows.append([p["native_id"], acc.native_id, acc.handle, acc.name, p["text"],
                         int(self.rng.integers(10, 60)) if ptype == "IG reel" else "",
                         p["created_local"].strftime("%m/%d/%Y %H:%M"),
                         f"https://www.instagram.com/p/{p['native_id'][-11:]}/", ptype, "", "Lifetime",
                         p["impressions"], p["reach"], p["reactions"], p["shares"], int(p["reach"] * 0.002),
                         p["comments"], int(p["reactions"] * 0.05)])
        _write_csv_mbs(path, MBS_IG, rows)

    def mbs_daily(self) -> None:
        """Follows.csv (UTF-16LE, sep=, title line) and FollowerHistory.csv (year-less dates), quarterly."""
        sim = self.sim
        for terr in sim.registry.territories:
            for acc in terr.accounts:
                if acc.platform not in ("facebook", "instagram"):
                    continue
                f = sim.followers[acc.account_id]
                if acc.platform == "facebook":  # one daily series over the whole period
                    lines = ["sep=,", '"Facebook follows"', '"Date","Primary"'] + [
                        f'"{d.isoformat()}T00:00:00","{n}"' for d, n in zip(f.date, f.new, strict=True)]
                    path = self.root / terr.territory_id / acc.platform / "page" / "Follows.csv"
                    path.parent.mkdir(parents=True, exist_ok=True)
                    path.write_bytes(b"\xff\xfe" + ("\n".join(lines) + "\n").encode("utf-16-le"))
                    self.add(path, hint=acc.account_id)
                for q0, q1 in YEARS:
                    part = f[(f.date >= q0) & (f.date <= q1)]
                    folder = self.root / terr.territory_id / acc.platform / "page" / f"{q0.isoformat()}_{q1.isoformat()}"
                    export_day = q1 + timedelta(days=1)
                    prev = f[f.date < q0].followers
                    prev_v = int(prev.iloc[-1]) if len(prev) else int(part.followers.iloc[0])
                    diffs = np.diff(np.concatenate([[prev_v], part.followers.to_numpy()]))
                    lines = ['"Date","Followers","Difference in followers from previous day"'] + [
                        f'"{d.strftime("%B")} {d.day}","{int(v)}","{int(df)}"'
                        for d, v, df in zip(part.date, part.followers, diffs, strict=True)]
                    path = folder / "FollowerHistory.csv"
                    path.parent.mkdir(parents=True, exist_ok=True)
                    path.write_bytes("\ufeff".encode() + "\n".join(lines).encode("utf-8"))
                    _set_mtime(path, export_day)
                    self.add(path, hint=acc.account_id, snapshot=export_day)

    def mbs_demographics(self) -> None:
        sim = self.sim
        for terr in sim.registry.territories:
            for acc in terr.accounts:
                if acc.platform not in ("facebook", "instagram"):
                    continue
                for snap, dims in sim.demographics[acc.account_id].items():
                    sd = date.fromisoformat(snap)
                    folder = self.root / terr.territory_id / acc.platform / "demographics" / snap
                    ag = dims["age_gender"]
                    files = {
                        "FollowerGender.csv": ['"Gender","Distribution"'] + [
                            f'"{"Female" if g == "F" else "Male"}","{v:.4f}"' for g, v in dims["gender"].items()],
                        "FollowerTopTerritories.csv": ['"Top territories","Distribution"'] + [
                            f'"{k}","{v:.4f}"' for k, v in dims["country"].items()],
                        "FollowerTopCities.csv": ['"Top cities","Distribution"'] + [
                            f'"{k}","{v:.4f}"' for k, v in dims["city"].items()],
                        "FollowerAgeGender.csv": ['"Age","Women","Men"'] + [
                            f'"{b}","{ag["F." + b]:.4f}","{ag["M." + b]:.4f}"' for b in FOLLOWER_BANDS],
                    }
                    for fname, lines in files.items():
                        path = folder / fname
                        path.parent.mkdir(parents=True, exist_ok=True)
                        path.write_bytes("\ufeff".encode() + "\n".join(lines).encode("utf-8"))
                        _set_mtime(path, sd)
                        self.add(path, hint=acc.account_id, snapshot=sd)

    # -- X --------------------------------------------------------------------------------
    def x_analytics(self) -> None:
        header = ["Tweet id", "Tweet permalink", "Tweet text", "time", "impressions", "engagements",
                  "engagement rate", "retweets", "replies", "likes", "user profile clicks", "url clicks",
                  "hashtag clicks", "detail expands", "permalink clicks", "app opens", "app installs", "follows",
                  "email tweet", "dial phone", "media views", "media engagements", "promoted impressions",
                  "promoted engagements", "promoted engagement rate", "promoted retweets", "promoted replies",
                  "promoted likes"]
        for terr in self.sim.registry.territories:
            for acc in terr.accounts:
                if acc.platform != "x":
                    continue
                posts = [p for p in self.sim.posts if p["account"] is acc]
                for d0, d1, items in _split(posts, HALVES):
                    rows = []
                    for p in sorted(items, key=lambda p: p["created_utc"], reverse=True):
                        eng = p["reactions"] + p["comments"] + p["shares"] + p["clicks"]
                        imp = max(p["impressions"], 1)
                        rows.append([p["native_id"], f"https://twitter.com/{acc.handle}/status/{p['native_id']}",
                                     p["text"], p["created_utc"].strftime("%Y-%m-%d %H:%M +0000"), f"{imp:.1f}",
                                     f"{eng:.1f}", repr(eng / imp), f"{p['shares']:.1f}", f"{p['comments']:.1f}",
                                     f"{p['reactions']:.1f}", f"{int(p['clicks'] * 0.3):.1f}",
                                     f"{int(p['clicks'] * 0.5):.1f}", "0.0", f"{int(p['clicks'] * 0.2):.1f}", "0.0",
                                     "0", "0", "0", "0", "0", "0", "0"] + ["-"] * 6)
                    name = f"tweet_activity_metrics_{acc.handle}_{d0:%Y%m%d}_{d1:%Y%m%d}_en.csv"
                    path = self.root / terr.territory_id / "x" / "analytics" / name
                    _write_csv_all_quoted(path, header, rows)
                    self.add(path)

    def x_twarc(self) -> None:
        """Replies and mentions as twarc2 search response pages (one JSON page per line)."""
        for terr in self.sim.registry.territories:
            for acc in terr.accounts:
                if acc.platform != "x":
                    continue
                msgs = [m for m in self.sim.messages if m["account"] is acc]
                for d0, d1, items in _split(msgs, HALVES):
                    items = sorted(items, key=lambda m: (m["created_utc"], m["native_id"]), reverse=True)
                    lines = []
                    for i in range(0, len(items), 100):
                        page = items[i:i + 100]
                        data, users = [], {}
                        for m in page:
                            a = m["author"]
                            t = {"id": m["native_id"], "text": m["text"], "author_id": a.key,
                                 "created_at": m["created_utc"].strftime("%Y-%m-%dT%H:%M:%S.000Z"),
                                 "lang": m["lang"], "conversation_id": m["post"]["native_id"] if m["post"] else m["native_id"],
                                 "public_metrics": {"retweet_count": 0, "reply_count": 0, "like_count": m["likes"],
                                                    "quote_count": 0}, "reply_settings": "everyone",
                                 "source": "Twitter for Android", "possibly_sensitive": False,
                                 "edit_history_tweet_ids": [m["native_id"]]}
                            parent = m["parent"]["native_id"] if m["parent"] else (m["post"]["native_id"] if m["post"] else None)
                            if parent:
                                t["referenced_tweets"] = [{"type": "replied_to", "id": parent}]
                                t["in_reply_to_user_id"] = (m["parent"]["author"].key if m["parent"] else acc.native_id)
                            t["entities"] = {"mentions": [{"start": mm.start(), "end": mm.end(), "username": mm.group(1)}
                                                          for mm in re.finditer(r"@(\w+)", m["text"])]}
                            data.append(t)
                            users[a.key] = {"id": a.key, "name": a.name, "username": a.handle if m["is_official"] is False else acc.handle,
                                            "created_at": "2015-03-02T10:00:00.000Z", "verified": False,
                                            "public_metrics": {"followers_count": 100, "following_count": 200,
                                                               "tweet_count": 1000, "listed_count": 0},
                                            "protected": False, "description": "", "url": ""}
                        doc = {"data": data, "includes": {"users": list(users.values())},
                               "meta": {"newest_id": data[0]["id"], "oldest_id": data[-1]["id"],
                                        "result_count": len(data)},
                               "__twarc": {"url": f"https://api.twitter.com/2/tweets/search/all?query=%40{acc.handle}",
                                           "version": "2.14.0", "retrieved_at": "2026-11-01T00:00:00+00:00"}}
                        lines.append(json.dumps(doc, ensure_ascii=False))
                    path = self.root / terr.territory_id / "x" / "mentions" / f"search_{acc.handle}_{d0:%Y%m%d}_{d1:%Y%m%d}.jsonl"
                    path.parent.mkdir(parents=True, exist_ok=True)
                    path.write_bytes(("\n".join(lines) + "\n").encode("utf-8"))
                    self.add(path)

    # -- Facebook comments ------------------------------------------------------------------
    def fb_comments(self) -> None:
        """minet (older column set, with post_id) per page and month; a few posts as ExportComments xlsx."""
        import openpyxl

        sim = self.sim
        ec_posts: set[int] = set()
        peer = next(t for t in sim.registry.territories if t.territory_id == "port-marel")
        peer_fb = next(a for a in peer.accounts if a.platform == "facebook")
        cands = [p for p in sim.posts if p["account"] is peer_fb and p["comments"] >= 5]
        for p in cands[:: max(1, len(cands) // EXPORTCOMMENTS_POSTS)][:EXPORTCOMMENTS_POSTS]:
            ec_posts.add(id(p))
        header = ["post_id", "id", "user_id", "user_handle", "user_url", "user_label", "text", "html",
                  "formatted_date", "date", "reactions", "replies", "in_reply_to"]
        for terr in sim.registry.territories:
            for acc in terr.accounts:
                if acc.platform != "facebook":
                    continue
                msgs = [m for m in sim.messages if m["account"] is acc and id(m["post"]) not in ec_posts]
                for d0, d1, items in _split(msgs, HALVES):
                    rows = []
                    for m in sorted(items, key=lambda m: (m["created_utc"], m["native_id"])):
                        a = m["author"]
                        local = m["created_utc"].replace(tzinfo=UTC).astimezone(PARIS)
                        n_rep = sum(1 for _ in ())  # replies are separate rows (in_reply_to)
                        rows.append([m["post"]["native_id"], m["native_id"], a.key, a.handle,
                                     f"https://www.facebook.com/{a.handle}" if not m["is_official"] else f"https://www.facebook.com/{acc.handle}",
                                     a.name, m["text"], "", _fr_fb_date(local), local.strftime("%Y-%m-%dT%H:%M:%S"),
                                     m["likes"], n_rep, m["parent"]["native_id"] if m["parent"] else ""])
                    path = self.root / terr.territory_id / "facebook" / "comments" / f"minet_fb_comments_{acc.handle}_{d0:%Y%m%d}_{d1:%Y%m%d}.csv"
                    _write_csv(path, header, rows)
                    self.add(path, hint=acc.account_id)  # minet rows do not name the page
        for p in sim.posts:
            if id(p) not in ec_posts:
                continue
            acc = p["account"]
            wb = openpyxl.Workbook()
            ws = wb.active
            ws.title = "ExportComments.com"
            ws.append(["ExportComments.com"])
            ws.append(["Source URL", f"https://www.facebook.com/{acc.native_id}_{p['native_id']}"])
            ws.append([])
            ws.append([])
            ws.append([])
            ws.append([None, None, "Name (click to view profile)", "Profile ID", "Date", "Likes", "Comment", "(view source)"])
            ms = sorted((m for m in sim.messages if m["post"] is p), key=lambda m: (m["created_utc"], m["native_id"]))
            for i, m in enumerate(ms, start=1):
                local = m["created_utc"].replace(tzinfo=UTC).astimezone(PARIS).replace(tzinfo=None)
                ws.append([i, None, m["author"].name, f"ID: {m['author'].key}", local, m["likes"], m["text"], "view comment"])
            path = self.root / acc.territory_id / "facebook" / "comments" / f"exportcomments_{p['native_id']}.xlsx"
            _save_xlsx(wb, path)
            self.add(path)

    # -- Instagram comments (generic mapping) ---------------------------------------------
    def ig_comments(self) -> None:
        sim = self.sim
        for terr in sim.registry.territories:
            for acc in terr.accounts:
                if acc.platform != "instagram":
                    continue
                folder = self.root / terr.territory_id / "instagram" / "comments"
                folder.mkdir(parents=True, exist_ok=True)
                mapping = folder / "mapping.toml"
                mapping.write_text(
                    "# Correspondance des colonnes de l'export de commentaires Instagram (outil tiers)\n"
                    'table = "messages"\nplatform = "instagram"\n'
                    f'account = "{acc.account_id}"\nkind = "comment"\n'
                    'date_format = "%d/%m/%Y %H:%M:%S"\ntimezone = "Europe/Paris"\n\n[columns]\n'
                    'message_id = "ID commentaire"\npost_id = "ID publication"\nparent_id = "Réponse à"\n'
                    'created_at = "Date"\nauthor = "Utilisateur"\ntext = "Commentaire"\nlikes = "J\'aime"\n'
                    'is_official = "Compte officiel"\n', encoding="utf-8")
                msgs = [m for m in sim.messages if m["account"] is acc]
                for d0, d1, items in _split(msgs, YEARS):
                    rows = []
                    for m in sorted(items, key=lambda m: (m["created_utc"], m["native_id"])):
                        local = m["created_utc"].replace(tzinfo=UTC).astimezone(PARIS)
                        rows.append([m["native_id"], m["post"]["native_id"], m["parent"]["native_id"] if m["parent"] else "",
                                     local.strftime("%d/%m/%Y %H:%M:%S"),
                                     acc.handle if m["is_official"] else m["author"].handle, m["text"], m["likes"],
                                     "oui" if m["is_official"] else "non"])
                    path = folder / f"commentaires_{acc.handle}_{d0:%Y%m%d}_{d1:%Y%m%d}.csv"
                    _write_csv(path, ["ID commentaire", "ID publication", "Réponse à", "Date", "Utilisateur",
                                      "Commentaire", "J'aime", "Compte officiel"], rows, bom=True)
                    self.add(path, mapping=mapping, fmt="generic_mapping")

    # -- YouTube ------------------------------------------------------------------------------
    def youtube(self) -> None:
        """YouTube Data API commentThreads, flattened, with the video statistics merged in."""
        header = ["videoId", "textDisplay", "textOriginal", "authorDisplayName", "authorProfileImageUrl",
                  "authorChannelUrl", "authorChannelId", "canRate", "viewerRating", "publishedAt", "updatedAt",
                  "commentLikeCount", "videoTitle", "videoPublishedAt", "channelId", "channelTitle", "viewCount",
                  "likeCount", "commentCount", "textClean"]
        sim = self.sim
        for terr in sim.registry.territories:
            for acc in terr.accounts:
                if acc.platform != "youtube":
                    continue
                msgs = [m for m in sim.messages if m["account"] is acc]
                for d0, d1, items in _split(msgs, YEARS):
                    rows = []
                    for m in sorted(items, key=lambda m: (m["created_utc"], m["native_id"])):
                        p, a = m["post"], m["author"]
                        ts = m["created_utc"].strftime("%Y-%m-%dT%H:%M:%SZ")
                        rows.append([p["native_id"], m["text"].replace("&", "&amp;").replace("\n", "<br>"), m["text"],
                                     "@" + a.handle, "https://yt3.ggpht.com/ytc/default.jpg",
                                     f"http://www.youtube.com/@{a.handle}", a.key, "true", "none", ts, ts,
                                     m["likes"], p["text"][:90], p["created_utc"].strftime("%Y-%m-%dT%H:%M:%SZ"),
                                     acc.native_id, acc.name, p["video_views"] or p["impressions"], p["reactions"],
                                     p["comments"], m["text"].lower()])
                    path = self.root / terr.territory_id / "youtube" / f"commentThreads_{acc.handle}_{d0:%Y%m%d}_{d1:%Y%m%d}.csv"
                    _write_csv(path, header, rows)
                    self.add(path)

    # -- LinkedIn -------------------------------------------------------------------------------
    def linkedin(self) -> None:
        import openpyxl

        sim = self.sim
        for terr in sim.registry.territories:
            for acc in terr.accounts:
                if acc.platform != "linkedin":
                    continue
                posts = [p for p in sim.posts if p["account"] is acc]
                for q0, last in YEARS:
                    q1 = last + timedelta(days=1)
                    items = [p for p in posts if q0 <= p["created_local"].date() < q1]
                    wb = openpyxl.Workbook()
                    ws = wb.active
                    ws.title = "Metrics"
                    ws.append(["Aggregated metrics for the selected period. Data for the last 2 days may be incomplete."])
                    ws.append(["Date", "Impressions (organic)", "Impressions (sponsored)", "Impressions (total)",
                               "Unique impressions (organic)", "Clicks (organic)", "Clicks (sponsored)", "Clicks (total)",
                               "Reactions (organic)", "Reactions (sponsored)", "Reactions (total)", "Comments (organic)",
                               "Comments (sponsored)", "Comments (total)", "Reposts (organic)", "Reposts (sponsored)",
                               "Reposts (total)", "Engagement rate (organic)", "Engagement rate (sponsored)",
                               "Engagement rate (total)"])
                    d = q0
                    while d < q1:
                        day = [p for p in items if p["created_local"].date() == d]
                        imp = sum(p["impressions"] for p in day)
                        clk = sum(p["clicks"] for p in day)
                        rea = sum(p["reactions"] for p in day)
                        com = sum(p["comments"] for p in day)
                        rep = sum(p["shares"] for p in day)
                        er = (clk + rea + com + rep) / imp if imp else 0
                        ws.append([d.strftime("%m/%d/%Y"), imp, 0, imp, int(imp * 0.8), clk, 0, clk, rea, 0, rea,
                                   com, 0, com, rep, 0, rep, er, 0, er])
                        d += timedelta(days=1)
                    ws2 = wb.create_sheet("All posts")
                    ws2.append(["Individual post metrics. Data for the last 2 days may be incomplete."])
                    ws2.append(["Post title", "Post link", "Post type", "Campaign name", "Posted by", "Created date",
                                "Campaign start date", "Campaign end date", "Audience", "Impressions", "Views",
                                "Offsite Views", "Clicks", "Click through rate (CTR)", "Likes", "Comments", "Reposts",
                                "Follows", "Engagement rate", "Content Type"])
                    for p in sorted(items, key=lambda p: p["created_local"], reverse=True):
                        imp = p["impressions"]
                        ws2.append([p["text"], f"https://www.linkedin.com/feed/update/urn:li:activity:{p['native_id']}",
                                    "Organic", "", "Service communication", p["created_local"].strftime("%m/%d/%Y"),
                                    "", "", "All followers", imp, "", "", p["clicks"], p["clicks"] / imp if imp else 0,
                                    p["reactions"], p["comments"], p["shares"], "",
                                    (p["clicks"] + p["reactions"] + p["comments"] + p["shares"]) / imp if imp else 0, ""])
                    epoch = int(datetime(q1.year, q1.month, q1.day, 9, tzinfo=UTC).timestamp() * 1000)
                    path = self.root / terr.territory_id / "linkedin" / f"{acc.handle}_content_{epoch}.xlsx"
                    _save_xlsx(wb, path)
                    self.add(path)
                self._linkedin_followers(terr, acc)

    def _linkedin_followers(self, terr: Territory, acc: Account) -> None:
        import openpyxl

        f = self.sim.followers[acc.account_id]
        city, neighbours, region = PLACES[terr.territory_id]
        for q0, last in YEARS:
            q1 = last + timedelta(days=1)
            part = f[(f.date >= q0) & (f.date < q1)]
            total = int(part.followers.iloc[-1])
            wb = openpyxl.Workbook()
            ws = wb.active
            ws.title = "New followers"
            ws.append(["Date", "Sponsored followers", "Organic followers", "Total followers"])
            for d, n in zip(part.date, part.new, strict=True):
                ws.append([d.strftime("%m/%d/%Y"), 0, int(n), int(n)])
            shares = {
                "Location": {city: LOCAL_SHARE[terr.territory_id] * 0.7, neighbours[0]: 0.12, neighbours[1]: 0.08,
                             "Paris": 0.07, neighbours[2]: 0.05},
                "Job function": {"Administration": 0.18, "Éducation": 0.12, "Ventes": 0.1, "Ingénierie": 0.09,
                                 "Opérations": 0.08, "Santé": 0.07, "Communication": 0.06},
                "Seniority": {"Confirmé": 0.38, "Débutant": 0.22, "Manager": 0.14, "Directeur": 0.06, "Stagiaire": 0.05},
                "Industry": {"Administration publique": 0.22, "Enseignement": 0.1, "Santé": 0.08, "Commerce de détail": 0.07,
                             "BTP": 0.06, "Tourisme": 0.05},
                "Company size": {"1-10": 0.12, "11-50": 0.16, "51-200": 0.18, "201-500": 0.14, "501-1000": 0.1,
                                 "1001-5000": 0.15, "5001-10000": 0.06, "10001+": 0.09},
            }
            for sheet, vals in shares.items():
                w = wb.create_sheet(sheet)
                w.append([sheet, "Total followers"])
                for k, v in vals.items():
                    w.append([k, int(round(total * v))])
            epoch = int(datetime(q1.year, q1.month, q1.day, 9, 5, tzinfo=UTC).timestamp() * 1000)
            path = self.root / terr.territory_id / "linkedin" / f"{acc.handle}_followers_{epoch}.xlsx"
            _save_xlsx(wb, path)
            _set_mtime(path, q1)
            self.add(path, hint=acc.account_id, snapshot=q1)

    # -- Ads, CrowdTangle ------------------------------------------------------------------------
    def ads(self) -> None:
        c = CAMPAIGNS[0]
        own = self.sim.registry.territory(OWN)
        fb = next(a for a in own.accounts if a.platform == "facebook")
        header = ["Reporting starts", "Reporting ends", "Campaign name", "Ad name", "Ad delivery", "Ad set name",
                  "Bid", "Bid type", "Ad set budget", "Ad set budget type", "Last significant edit",
                  "Attribution setting", "Results", "Result indicator", "Reach", "Impressions", "Cost per results",
                  "Quality ranking", "Engagement rate ranking", "Conversion rate ranking", "Amount spent (EUR)", "Ends",
                  "Post engagement", "Link clicks"]
        rows = []
        ads = [("Été - vidéo bords de Loire", "Habitants 25-54"), ("Été - carrousel patrimoine", "Touristes région"),
               ("Été - agenda festival", "Habitants 25-54"), ("Été - guinguettes", "Touristes région")]
        spend_total = c["budget"]
        for i, (ad, adset) in enumerate(ads):
            spend = round(spend_total * (0.31, 0.27, 0.24, 0.18)[i], 2)
            imp = int(spend * float(self.rng.uniform(180, 260)))
            reach = int(imp * float(self.rng.uniform(0.55, 0.7)))
            eng = int(imp * float(self.rng.uniform(0.02, 0.04)))
            clicks = int(imp * float(self.rng.uniform(0.006, 0.012)))
            rows.append([c["start"].isoformat(), c["end"].isoformat(), c["name"], ad, "completed", adset, 0,
                         "ABSOLUTE_OCPM", "Using campaign budget", 0, "2025-06-12T10:14:03+0200",
                         "7-day click or 1-day view", eng, "actions:post_engagement", reach, imp,
                         round(spend / eng, 6) if eng else "", "-", "-", "-", spend, c["end"].isoformat(), eng, clicks])
        path = self.root / OWN / "facebook" / "ads" / f"Ville-de-Saint-Aubin-Ads-{c['start']:%b-%-d-%Y}-{c['end']:%b-%-d-%Y}.csv"
        _write_csv(path, header, rows)
        self.add(path, hint=fb.account_id)

    def crowdtangle(self) -> None:
        header = ["Page Name", "User Name", "Facebook Id", "Page Category", "Page Admin Top Country",
                  "Page Description", "Page Created", "Likes at Posting", "Followers at Posting", "Post Created",
                  "Post Created Date", "Post Created Time", "Type", "Total Interactions", "Likes", "Comments",
                  "Shares", "Love", "Wow", "Haha", "Sad", "Angry", "Care", "Video Share Status", "Is Video Owner?",
                  "Post Views", "Total Views", "Total Views For All Crossposts", "Video Length", "URL", "Message",
                  "Link", "Final Link", "Image Text", "Link Text", "Description", "Sponsor Id", "Sponsor Name",
                  "Sponsor Category",
                  "Total Interactions (weighted  —  Likes 1x Shares 1x Comments 1x Love 1x Wow 1x Haha 1x Sad 1x Angry 1x Care 1x )",
                  "Overperforming Score"]
        rows = []
        for r in self.sim.ct_posts:
            page, local = r["page"], r["created_local"]
            tz = local.tzname()
            if "official_post" in r:
                p = r["official_post"]
                reactions, comments, shares = p["reactions"], p["comments"], p["shares"]
            else:
                total = r["interactions"]
                comments = int(total * 0.12)
                shares = int(total * 0.1)
                reactions = total - comments - shares
            likes = int(reactions * 0.78)
            love = int(reactions * 0.12)
            care = int(reactions * 0.04)
            wow, haha, sad = int(reactions * 0.02), int(reactions * 0.02), int(reactions * 0.01)
            angry = reactions - likes - love - care - wow - haha - sad
            total = reactions + comments + shares
            followers = 2400 if page["native_id"] == IMPERSONATOR["native_id"] else 5000 + int(page["native_id"][-2:]) * 900
            score = float(self.rng.uniform(0.4, 3.5))
            rows.append([page["name"], page["handle"], page["native_id"], page["category"], "FR", "",
                         "2025-01-14 10:22:31" if page["native_id"] == IMPERSONATOR["native_id"] else "2012-03-05 09:12:44",
                         followers, followers, f"{local:%Y-%m-%d %H:%M:%S} {tz}", f"{local:%Y-%m-%d}",
                         f"{local:%H:%M:%S}", "Photo", _fr_thousands(total), likes, comments, shares, love, wow, haha, sad,
                         angry, care, "", "-", 0, 0, 0, "N/A",
                         f"https://www.facebook.com/{page['native_id']}/posts/{r['native_id']}", r["text"], "", "", "",
                         "", "", "", "", "", _fr_thousands(total), f"{score:.1f}".replace(".", ",")])
        path = self.root / "veille" / "2026-11-01-08-00-00-CET-search-csv-export.csv"
        _write_csv(path, header, rows, bom=True)
        self.add(path)

    # -- TikTok Studio ---------------------------------------------------------------------------
    def tiktok(self) -> None:
        """A yearly TikTok Studio export per account (English UI): Overview, Content and the
        Followers_<handle>/ folder of its zip, year-less dates completed by the export day."""
        sim = self.sim
        for terr in sim.registry.territories:
            for acc in terr.accounts:
                if acc.platform != "tiktok":
                    continue
                posts = sorted((p for p in sim.posts if p["account"] is acc), key=lambda p: p["created_utc"])
                fol = sim.followers[acc.account_id]
                for q0, q1 in YEARS:
                    export_day = q1 + timedelta(days=1)
                    folder = self.root / terr.territory_id / "tiktok" / f"{acc.handle}_{export_day.isoformat()}"
                    files = {"Overview.csv": self._tiktok_overview(posts, q0, q1),
                             "Content.csv": self._tiktok_content(acc, posts, q0, q1, export_day)}
                    part = fol[(fol.date >= q0) & (fol.date <= q1)]
                    prev = fol[fol.date < q0].followers
                    base = int(prev.iloc[-1]) if len(prev) else int(part.followers.iloc[0])
                    diffs = np.diff(np.concatenate([[base], part.followers.to_numpy()]))
                    sub = f"Followers_{acc.handle}/"
                    files[sub + "FollowerHistory.csv"] = [["Date", "Followers", "Difference in followers from previous day"]] + [
                        [_yearless(d), str(int(v)), str(int(x))] for d, v, x in zip(part.date, part.followers, diffs, strict=True)]
                    dims = sim.demographics[acc.account_id][export_day.isoformat()]
                    gender = {"F": "Female", "M": "Male", "U": "Other"}
                    files[sub + "FollowerGender.csv"] = [["Gender", "Distribution"]] + [
                        [gender[k], f"{v:.3f}"] for k, v in dims["gender"].items()]
                    files[sub + "FollowerTopTerritories.csv"] = [["Top territories", "Distribution"]] + [
                        [k, f"{v:.3f}"] for k, v in dims["country"].items()]
                    files[sub + "FollowerAge.csv"] = [["Age", "Distribution"]] + [
                        [k, f"{v:.3f}"] for k, v in dims["age"].items()]
                    for name, rows in files.items():
                        path = folder / name
                        path.parent.mkdir(parents=True, exist_ok=True)
                        path.write_bytes(("\ufeff" + _csv_tiktok(rows)).encode("utf-8"))
                        _set_mtime(path, export_day)
                        self.add(path, hint=acc.account_id, snapshot=export_day)
                self._tiktok_comments(terr, acc)

    def _tiktok_comments(self, terr: Territory, acc: Account) -> None:
        """The videos' comments as 4CAT exports them (Zeeschuimer's TikTok comments, CSV), read
        with a column mapping: Studio's exports give comment counts, never their text."""
        folder = self.root / terr.territory_id / "tiktok" / "commentaires"
        folder.mkdir(parents=True, exist_ok=True)
        mapping = folder / "mapping.toml"
        mapping.write_text(
            "# Correspondance des colonnes de l'export 4CAT des commentaires TikTok (collecte Zeeschuimer)\n"
            f'table = "messages"\nplatform = "tiktok"\naccount = "{acc.account_id}"\nkind = "comment"\n'
            'date_format = "%Y-%m-%d %H:%M:%S"\ntimezone = "UTC"\n\n[columns]\n'
            'message_id = "id"\npost_id = "post_id"\ncreated_at = "timestamp"\nauthor = "author"\n'
            'text = "body"\nlikes = "likes"\nreplies = "replies"\nlang = "language_guess"\n', encoding="utf-8")
        header = ["collected_from_url", "id", "thread_id", "author", "author_full", "author_avatar_url", "body",
                  "timestamp", "unix_timestamp", "likes", "replies", "post_id", "post_url", "post_body",
                  "comment_url", "is_liked_by_post_author", "is_sticky", "is_comment_on_comment", "language_guess"]
        msgs = [m for m in self.sim.messages if m["account"] is acc]
        for d0, d1, items in _split(msgs, YEARS):
            rows = []
            for m in sorted(items, key=lambda m: (m["post"]["created_utc"], m["created_utc"], m["native_id"])):
                p, a = m["post"], m["author"]
                url = f"https://www.tiktok.com/@{acc.handle}/video/{p['native_id']}"
                ts = int(m["created_utc"].replace(tzinfo=UTC).timestamp())
                rows.append([url, m["native_id"], p["native_id"], a.handle, a.name,
                             f"https://p16-sign.tiktokcdn.example/{a.handle}.jpeg", m["text"],
                             m["created_utc"].strftime("%Y-%m-%d %H:%M:%S"), ts, m["likes"], 0, p["native_id"], url,
                             p["text"], f"{url}?comment_id={m['native_id']}", "yes" if m["likes"] > 3 else "no", "no",
                             "no", m["lang"]])
            path = folder / f"4cat-tiktok-comments-{acc.handle}-{d0:%Y%m%d}-{d1:%Y%m%d}.csv"
            _write_csv(path, header, rows)
            self.add(path, mapping=mapping, fmt="generic_mapping")

    def _tiktok_overview(self, posts: list[dict], q0: date, q1: date) -> list[list[str]]:
        """Daily views, profile views, likes, comments, shares: each video's totals spread over the
        three weeks after its publication (half on the first day)."""
        n = (q1 - q0).days + 1
        daily = np.zeros((5, n))
        decay = 0.5 ** np.arange(21)
        decay /= decay.sum()
        for p in posts:
            start = (p["created_local"].date() - q0).days
            if start >= n or start + len(decay) <= 0:
                continue
            totals = np.array([p["video_views"], p["video_views"] * 0.012, p["reactions"], p["comments"], p["shares"]])
            for k, w in enumerate(decay):
                if 0 <= start + k < n:
                    daily[:, start + k] += totals * w
        rows = [["Date", "Video Views", "Profile Views", "Likes", "Comments", "Shares"]]
        for i in range(n):
            rows.append([_yearless(q0 + timedelta(days=i))] + [str(int(round(v))) for v in daily[:, i]])
        return rows

    def _tiktok_content(self, acc: Account, posts: list[dict], q0: date, q1: date, export_day: date) -> list[list[str]]:
        rows = [["Time", "Video title", "Video link", "Post time", "Total likes", "Total comments", "Total shares",
                 "Total views"]]
        items = [p for p in posts if q0 <= p["created_local"].date() <= q1]
        for p in sorted(items, key=lambda p: -p["video_views"]):  # TikTok lists the most viewed first
            rows.append([_yearless(export_day), p["text"], f"https://www.tiktok.com/@{acc.handle}/video/{p['native_id']}",
                         _yearless(p["created_local"].date()), str(p["reactions"]), str(p["comments"]),
                         str(p["shares"]), str(p["video_views"])])
        return rows

    # -- Bluesky and Mastodon follower counts ------------------------------------------------------
    def social_profiles(self) -> None:
        """Follower counts kept month after month as saved API responses (``getProfiles`` for
        Bluesky, a list of Account entities for Mastodon), dated by the day they were read."""
        sim = self.sim
        accs = [a for a in sim.registry.accounts if a.platform in ("bluesky", "mastodon")]
        months = []  # the first day of every quarter, up to the day after the period
        d = date(START.year, START.month, 1)
        while d <= END:
            d = (d + timedelta(days=92)).replace(day=1)
            months.append(min(d, END + timedelta(days=1)))
        for d in months:
            for plat in ("bluesky", "mastodon"):
                live = []
                for a in accs:
                    f = sim.followers[a.account_id]
                    seen = f[f.date < d]
                    if a.platform == plat and len(seen):
                        live.append((a, int(seen.followers.iloc[-1])))
                if not live:
                    continue
                if plat == "bluesky":
                    body = {"profiles": [self._bsky_profile(a, n, d) for a, n in live]}
                    path = self.root / "bluesky" / "profils" / f"getProfiles_{d.isoformat()}.json"
                else:
                    body = [self._masto_account(a.handle, _acct_parts(a.handle)[1], a, followers=n) for a, n in live]
                    path = self.root / "mastodon" / "comptes" / f"accounts_{d.isoformat()}.json"
                path.parent.mkdir(parents=True, exist_ok=True)
                path.write_text(json.dumps(body, ensure_ascii=False, indent=1) + "\n", encoding="utf-8")
                _set_mtime(path, d)
                self.add(path)

    # -- Press ---------------------------------------------------------------------------------------
    def press_saved(self) -> None:
        """The local dailies' feeds as saved files, one per period (RSS 2.0, WordPress RSS, Atom)."""
        for terr in self.sim.registry.territories:
            if terr.territory_id not in PRESS or not terr.watch.feeds:
                continue
            items = [i for i in self.sim.press if i["territory_id"] == terr.territory_id]
            for a, b in PRESS_SAVED:
                part = [i for i in items if a <= i["created_local"].date() <= b and i["created_local"].date() < PRESS_FEED_FROM]
                if not part:
                    continue
                saved = b + timedelta(days=1)
                doc = _feed_document(PRESS[terr.territory_id], PLACES[terr.territory_id][0], terr.watch.feeds[0],
                                     part, saved)
                ext = "atom" if PRESS[terr.territory_id]["dialect"] == "atom" else "xml"
                path = self.root / terr.territory_id / "presse" / f"flux_{a:%Y%m%d}_{b:%Y%m%d}.{ext}"
                path.parent.mkdir(parents=True, exist_ok=True)
                path.write_bytes(doc.encode("utf-8"))
                _set_mtime(path, saved)
                self.add(path)

    # -- API responses served to the collection ---------------------------------------------------------
    def replay(self) -> None:
        """What the platforms' APIs answer at the end of the period, in their real shapes, as a replay
        manifest (one response a line: method, path, selecting parameters, status, headers, body):
        ``build_report`` serves it on 127.0.0.1 and collects it through the real connectors."""

        plan = declared_sources(self.sim.registry, Credentials(values=dict(DEMO_BLUESKY_LOGIN)),
                                platforms=set(COLLECTED))
        out: dict[str, list[dict]] = {"bluesky": [], "mastodon": [], "press": []}
        for src in plan.sources:
            if src.platform == "bluesky" and src.kind == "account":
                out["bluesky"] += self._bsky_account(self.sim.registry.find_account("bluesky", src.key))
            elif src.platform == "bluesky":
                out["bluesky"] += self._bsky_search(src.key)
            elif src.platform == "mastodon" and src.kind == "account":
                out["mastodon"] += self._masto_account_routes(self.sim.registry.find_account("mastodon", src.key))
            elif src.platform == "mastodon":
                out["mastodon"] += self._masto_tag(src.key)
            else:
                out["press"] += self._feed_route(src)
        if any(s.platform == "bluesky" and s.kind == "search" for s in plan.sources):
            own = next(a for a in self.sim.registry.own()[0].accounts if a.platform == "bluesky")
            out["bluesky"].append({"method": "POST", "path": "/xrpc/com.atproto.server.createSession", "query": {},
                                   "json": {"did": own.native_id, "handle": own.handle, "active": True,
                                            "accessJwt": "demo-access-jwt", "refreshJwt": "demo-refresh-jwt"}})
        folder = self.root / "replay"
        folder.mkdir(parents=True, exist_ok=True)
        for plat, routes in out.items():
            lines = [json.dumps({"method": "GET", "query": {}, "status": 200, "headers": {}, **r}, ensure_ascii=False)
                     for r in routes]
            (folder / f"{plat}.jsonl").write_text("\n".join(lines) + "\n", encoding="utf-8")

    # Bluesky ------------------------------------------------------------------------------------
    def _bsky_actor(self, who: Author | Account) -> dict:
        """``profileViewBasic`` of an official account or a commenter."""
        if isinstance(who, Account):
            did, handle, name = who.native_id, who.handle, who.name
        else:
            did, handle, name = who.key, f"{who.handle}.bsky.social", who.name
        return {"did": did, "handle": handle, "displayName": name,
                "avatar": f"https://cdn.bsky.app/img/avatar/plain/{did}/bafkreiavatar@jpeg",
                "associated": {"chat": {"allowIncoming": "following"}}, "labels": [],
                "createdAt": "2025-01-14T09:12:40.511Z"}

    def _bsky_profile(self, acc: Account, followers: int, day: date) -> dict:
        """``profileViewDetailed`` (getProfile, getProfiles) of an official account."""
        if not hasattr(self, "_post_days"):
            self._post_days: dict[str, list[date]] = {}
            for p in self.sim.posts:
                if p["platform"] == "bluesky":
                    self._post_days.setdefault(p["account"].account_id, []).append(p["created_local"].date())
        n_posts = sum(1 for d in self._post_days.get(acc.account_id, []) if d < day)
        return {**self._bsky_actor(acc), "description": f"Compte officiel : {acc.name}.", "followersCount": followers,
                "followsCount": 60 + len(acc.name), "postsCount": n_posts,
                "indexedAt": f"{ACCOUNT_START.get((acc.territory_id, 'bluesky'), START).isoformat()}T08:00:00.000Z"}

    def _bsky_view(self, item: dict) -> dict:
        """``postView`` of a simulated post or message (record, counts, embed, facets, reply refs)."""
        key = ("bsky", id(item))
        if key not in self._views:  # a post is shown in its feed, its thread and its replies' context
            self._views[key] = self._bsky_view_new(item)
        return self._views[key]

    def _bsky_view_new(self, item: dict) -> dict:
        sim_post = "comments_users" in item
        acc = item["account"]
        author = self._bsky_actor(acc if (sim_post or item["is_official"]) else item["author"])
        text = item["text"]
        record: dict[str, Any] = {"$type": "app.bsky.feed.post", "createdAt": _iso_ms(item["created_utc"]),
                                  "text": text, "langs": [item.get("lang") or "fr"]}
        if not sim_post:
            parent = item["parent"] or item["post"]
            if parent is not None:
                root = item["post"] or parent
                record["reply"] = {"root": {"uri": root["native_id"], "cid": _cid(root["native_id"])},
                                   "parent": {"uri": parent["native_id"], "cid": _cid(parent["native_id"])}}
        facets = _bsky_facets(text, {a.handle: a.native_id for a in self.sim.registry.accounts
                                     if a.platform == "bluesky"})
        if facets:
            record["facets"] = facets
        if sim_post and item["post_type"] == "photo":
            record["embed"] = {"$type": "app.bsky.embed.images", "images": [{
                "alt": "Photo : " + text[:60], "image": {"$type": "blob", "ref": {"$link": _cid(item["native_id"] + "i")},
                                                         "mimeType": "image/jpeg", "size": 150000 + len(text) * 97}}]}
        elif sim_post and item["post_type"] == "link":
            record["embed"] = {"$type": "app.bsky.embed.external", "external": {
                "uri": f"https://www.{acc.territory_id}.example/actualites", "title": text[:70], "description": ""}}
        if sim_post:
            counts = {"replyCount": sum(1 for m in self._replies(item)), "repostCount": item["shares"],
                      "likeCount": item["reactions"], "quoteCount": item["shares"] // 12}
        else:
            counts = {"replyCount": int(bool(item.get("replied_by_official"))), "repostCount": 0,
                      "likeCount": item["likes"], "quoteCount": 0}
        return {"uri": item["native_id"], "cid": _cid(item["native_id"]), "author": author, "record": record,
                **counts, "indexedAt": _iso_ms(item["created_utc"] + timedelta(seconds=1)),
                "viewer": {"threadMuted": False, "embeddingDisabled": False}, "labels": []}

    def _replies(self, post: dict) -> list[dict]:
        """Citizens' replies directly under a post (official answers hang under them)."""
        return self._under.get(id(post), [])

    def _index_threads(self) -> None:
        self._views: dict[tuple, dict] = {}
        self._under: dict[int, list[dict]] = {}
        self._answers: dict[int, list[dict]] = {}
        for m in self.sim.messages:
            if m["platform"] not in ("bluesky", "mastodon"):
                continue
            if m["parent"] is not None:
                self._answers.setdefault(id(m["parent"]), []).append(m)
            elif m["post"] is not None:
                self._under.setdefault(id(m["post"]), []).append(m)

    def _bsky_account(self, acc: Account) -> list[dict]:
        sim = self.sim
        posts = [p for p in sim.posts if p["account"] is acc]
        answers = [m for m in sim.messages if m["account"] is acc and m["is_official"]]
        fol = sim.followers[acc.account_id]
        routes = [{"path": "/xrpc/app.bsky.actor.getProfile", "query": {"actor": acc.handle},
                   "json": self._bsky_profile(acc, int(fol.followers.iloc[-1]), END + timedelta(days=1))}]
        feed = [({"post": self._bsky_view(p)}, p["created_utc"]) for p in posts]
        for m in answers:  # the account's replies, with the thread they answer
            parent = m["parent"]
            root = m["post"] or parent
            feed.append(({"post": self._bsky_view(m), "reply": {
                "root": {"$type": "app.bsky.feed.defs#postView", **self._bsky_view(root)},
                "parent": {"$type": "app.bsky.feed.defs#postView", **self._bsky_view(parent)}}}, m["created_utc"]))
        feed.sort(key=lambda x: x[1], reverse=True)
        for i in range(0, max(len(feed), 1), 100):
            page = feed[i:i + 100]
            body: dict[str, Any] = {"feed": [x for x, _ in page]}
            if i + 100 < len(feed):
                body["cursor"] = _iso_ms(page[-1][1])
            query = {"actor": acc.handle} if i == 0 else {"actor": acc.handle, "cursor": _iso_ms(feed[i - 1][1])}
            routes.append({"path": "/xrpc/app.bsky.feed.getAuthorFeed", "query": query, "json": body})
        for p in posts:
            replies = self._replies(p)
            if not replies:
                continue
            node = {"$type": "app.bsky.feed.defs#threadViewPost", "post": self._bsky_view(p), "replies": [
                {"$type": "app.bsky.feed.defs#threadViewPost", "post": self._bsky_view(r), "replies": [
                    {"$type": "app.bsky.feed.defs#threadViewPost", "post": self._bsky_view(a), "replies": []}
                    for a in self._answers.get(id(r), [])]}
                for r in sorted(replies, key=lambda m: m["created_utc"])], "threadContext": {}}
            routes.append({"path": "/xrpc/app.bsky.feed.getPostThread", "query": {"uri": p["native_id"]},
                           "json": {"thread": node}})
        return routes

    def _bsky_search(self, q: str) -> list[dict]:
        if not hasattr(self, "_mention_words"):
            self._mention_words = [(m, _words(m["text"])) for m in self.sim.messages
                                   if m["platform"] == "bluesky" and m["kind"] == "mention" and not m["is_official"]]
        hits = sorted((m for m, words in self._mention_words if _search_hit(m["text"], q, words)),
                      key=lambda m: m["created_utc"], reverse=True)
        routes = []
        for i in range(0, max(len(hits), 1), 100):
            body: dict[str, Any] = {"posts": [self._bsky_view(m) for m in hits[i:i + 100]], "hitsTotal": len(hits)}
            if i + 100 < len(hits):
                body["cursor"] = str(i + 100)
            routes.append({"path": "/xrpc/app.bsky.feed.searchPosts",
                           "query": {"q": q} if i == 0 else {"q": q, "cursor": str(i)}, "json": body})
        return routes

    # Mastodon -----------------------------------------------------------------------------------
    def _masto_id(self, acct: str) -> str:
        """An account's (instance-local) id, stable for the demo."""
        return str(109_000_000_000_000_000 + int(hashlib.sha256(acct.lower().encode()).hexdigest()[:12], 16) % 10**15)

    def _masto_account(self, acct: str, answering: str, acc: Account | None = None, followers: int | None = None,
                       name: str | None = None) -> dict:
        """An Account entity as ``answering`` renders it (a local account's ``acct`` has no domain)."""
        user, inst = _acct_parts(acct)
        h = int(hashlib.sha256(acct.encode()).hexdigest()[:6], 16)
        if followers is None:
            followers = int(self.sim.followers[acc.account_id].followers.iloc[-1]) if acc else 20 + h % 400
        return {"id": self._masto_id(acct), "username": user, "acct": user if inst == answering else f"{user}@{inst}",
                "display_name": acc.name if acc else (name or user), "locked": False, "bot": False,
                "discoverable": True, "group": False, "created_at": "2025-01-20T00:00:00.000Z",
                "note": f"<p>Compte officiel : {acc.name}.</p>" if acc else "", "url": f"https://{inst}/@{user}",
                "uri": f"https://{inst}/users/{user}", "avatar": f"https://{inst}/avatars/original/missing.png",
                "avatar_static": f"https://{inst}/avatars/original/missing.png",
                "header": f"https://{inst}/headers/original/missing.png",
                "header_static": f"https://{inst}/headers/original/missing.png", "followers_count": followers,
                "following_count": 10 + h % 90, "statuses_count": 50 + h % 900, "last_status_at": "2026-10-31",
                "emojis": [], "fields": []}

    def _masto_who(self, item: dict) -> tuple[str, Account | None, str | None]:
        """``(acct, official account or None, display name)`` of the author of a post or message."""
        acc = item["account"]
        if "comments_users" in item or item["is_official"]:
            return acc.handle, acc, None
        return item["author"].key, None, item["author"].name

    def _masto_status(self, item: dict, answering: str) -> dict:
        """A Status entity of a simulated post or message, rendered by ``answering``."""
        key = (answering, id(item))
        if key not in self._views:  # a status is shown in its pages, its thread and its replies' context
            self._views[key] = self._masto_status_new(item, answering)
        return self._views[key]

    def _masto_status_new(self, item: dict, answering: str) -> dict:
        acct, acc, name = self._masto_who(item)
        user, inst = _acct_parts(acct)
        sim_post = "comments_users" in item
        text = item["text"]
        mentions = [] if sim_post else item.get("mentions") or []
        html_text = html.escape(text, quote=False)
        ents = []
        for who in mentions:
            u, i = _acct_parts(who)
            ents.append({"id": self._masto_id(who), "username": u, "url": f"https://{i}/@{u}",
                         "acct": u if i == answering else f"{u}@{i}"})
            html_text = html_text.replace(f"@{u}", f'<span class="h-card" translate="no"><a href="https://{i}/@{u}" '
                                                   f'class="u-url mention">@<span>{u}</span></a></span>', 1)
        html_text = re.sub(r"(?<![\w#])#(\w+)", lambda mm: f'<a href="https://{answering}/tags/{mm.group(1).lower()}" '
                           f'class="mention hashtag" rel="tag">#<span>{mm.group(1)}</span></a>', html_text)
        answered = None if sim_post else (item["parent"] or item["post"])
        if sim_post:
            counts = {"replies_count": len(self._replies(item)), "reblogs_count": item["shares"],
                      "favourites_count": item["reactions"]}
        else:
            counts = {"replies_count": len(self._answers.get(id(item), [])), "reblogs_count": 0,
                      "favourites_count": item["likes"]}
        media, card = [], None
        if sim_post and item["post_type"] == "photo":
            media = [{"id": str(int(item["status_id"]) + 1), "type": "image", "url": f"https://{inst}/media/{item['status_id']}.jpg",
                      "preview_url": f"https://{inst}/media/small/{item['status_id']}.jpg", "remote_url": None,
                      "description": "Photo : " + text[:60], "blurhash": "UKHx~", "meta": {}}]
        elif sim_post and item["post_type"] == "link":
            card = {"url": f"https://www.{acc.territory_id}.example/actualites", "title": text[:70], "description": "",
                    "type": "link", "author_name": "", "author_url": "", "provider_name": f"{acc.territory_id}.example",
                    "provider_url": "", "html": "", "width": 0, "height": 0, "image": None, "embed_url": "",
                    "blurhash": None}
        return {"id": item["status_id"], "created_at": _iso_ms(item["created_utc"]),
                "in_reply_to_id": answered["status_id"] if answered else None,
                "in_reply_to_account_id": self._masto_id(self._masto_who(answered)[0]) if answered else None,
                "sensitive": False, "spoiler_text": "", "visibility": "public",
                "language": item.get("lang") or "fr", "uri": item["native_id"],
                "url": f"https://{inst}/@{user}/{item['status_id']}", **counts, "edited_at": None,
                "content": f"<p>{html_text}</p>", "reblog": None,
                "application": {"name": "Web", "website": None} if inst == answering else None,
                "account": self._masto_account(acct, answering, acc, name=name), "media_attachments": media,
                "mentions": ents, "tags": [{"name": t, "url": f"https://{answering}/tags/{t}"} for t in _hashtags(text)],
                "emojis": [], "card": card, "poll": None}

    def _masto_pages(self, path: str, statuses: list[dict], answering: str, page: int = 40) -> list[dict]:
        """Pages of statuses (newest first) linked by ``Link: <…?max_id=…>; rel="next"``."""
        routes = []
        for i in range(0, max(len(statuses), 1), page):
            part = statuses[i:i + page]
            headers = {}
            if part:
                link = f"https://{answering}{path}"
                nxt = f'<{link}?max_id={part[-1]["id"]}>; rel="next", ' if i + page < len(statuses) else ""
                headers["Link"] = nxt + f'<{link}?min_id={part[0]["id"]}>; rel="prev"'
            query = {} if i == 0 else {"max_id": statuses[i - 1]["id"]}
            routes.append({"path": path, "query": query, "headers": headers, "json": part})
        return routes

    def _masto_account_routes(self, acc: Account) -> list[dict]:
        sim = self.sim
        user, inst = _acct_parts(acc.handle)
        routes = [{"path": "/api/v1/accounts/lookup", "query": {"acct": user}, "json": self._masto_account(acc.handle, inst, acc)}]
        items = [p for p in sim.posts if p["account"] is acc] + [m for m in sim.messages if m["account"] is acc and m["is_official"]]
        items.sort(key=lambda x: x["created_utc"], reverse=True)
        path = f"/api/v1/accounts/{self._masto_id(acc.handle)}/statuses"
        routes += self._masto_pages(path, [self._masto_status(x, inst) for x in items], inst)
        for x in items:
            if "comments_users" in x:  # a post: its thread
                desc = []
                for r in sorted(self._replies(x), key=lambda m: m["created_utc"]):
                    desc.append(r)
                    desc += sorted(self._answers.get(id(r), []), key=lambda m: m["created_utc"])
                if not desc:
                    continue
                body = {"ancestors": [], "descendants": [self._masto_status(d, inst) for d in desc]}
            else:  # an official reply: what it answers
                anc = ([x["post"]] if x["post"] is not None else []) + [x["parent"]]
                body = {"ancestors": [self._masto_status(a, inst) for a in anc], "descendants": []}
            routes.append({"path": f"/api/v1/statuses/{x['status_id']}/context", "json": body})
        return routes

    def _masto_tag(self, key: str) -> list[dict]:
        tag, _, inst = key.lstrip("#").rpartition("@")
        items = [x for x in (*self.sim.posts, *self.sim.messages)
                 if x["platform"] == "mastodon" and tag.lower() in _hashtags(x["text"])]
        items.sort(key=lambda x: x["created_utc"], reverse=True)
        path = f"/api/v1/timelines/tag/{tag}"
        return self._masto_pages(path, [self._masto_status(x, inst) for x in items], inst)

    # Press ---------------------------------------------------------------------------------------
    def _feed_route(self, src) -> list[dict]:
        """The feed as the daily serves it at the end of the period (its latest items), with validators."""
        cfg = PRESS[src.territory_id]
        items = [i for i in self.sim.press if i["territory_id"] == src.territory_id
                 and i["created_local"].date() >= PRESS_FEED_FROM]
        doc = _feed_document(cfg, PLACES[src.territory_id][0], src.key, items, END + timedelta(days=1))
        parts = urlsplit(src.key)
        ctype = "application/atom+xml; charset=utf-8" if cfg["dialect"] == "atom" else "application/rss+xml; charset=utf-8"
        return [{"path": f"/{parts.netloc}{parts.path}", "text": doc,
                 "headers": {"Content-Type": ctype, "ETag": '"' + hashlib.sha256(doc.encode()).hexdigest()[:16] + '"',
                             "Last-Modified": "Sat, 31 Oct 2026 18:30:00 GMT"}}]


# ------------------------------------------------------------------------------ new platforms: file shapes
def _yearless(d: date) -> str:
    """TikTok Studio's English UI date: « October 3 », without the year."""
    return f"{_EN_MONTHS[d.month - 1]} {d.day}"


_EN_MONTHS = ["January", "February", "March", "April", "May", "June", "July", "August", "September", "October",
              "November", "December"]
_EN_DAYS = ["Mon", "Tue", "Wed", "Thu", "Fri", "Sat", "Sun"]


def _csv_tiktok(rows: list[list[str]]) -> str:
    """Every field quoted, and no newline after the last row (TikTok's writer)."""
    buf = io.StringIO()
    csv.writer(buf, lineterminator="\n", quoting=csv.QUOTE_ALL).writerows(rows)
    return buf.getvalue().rstrip("\n")


def _iso_ms(ts: datetime) -> str:
    """``2026-03-09T07:30:00.000Z`` (naive UTC in, as the AppView and Mastodon write it)."""
    return ts.strftime("%Y-%m-%dT%H:%M:%S.") + f"{ts.microsecond // 1000:03d}Z"


def _cid(uri: str) -> str:
    """A CID-shaped content id, stable for the record."""
    return "bafyrei" + base64.b32encode(hashlib.sha256(uri.encode()).digest()).decode().lower().rstrip("=")[:52]


def _bsky_facets(text: str, officials: dict[str, str]) -> list[dict]:
    """Rich-text facets (byte offsets) of the @-mentions of official accounts and of the hashtags."""
    data = text.encode("utf-8")
    out = []
    for handle, did in officials.items():
        needle = f"@{handle}".encode()
        i = data.find(needle)
        if i >= 0:
            out.append({"index": {"byteStart": i, "byteEnd": i + len(needle)},
                        "features": [{"$type": "app.bsky.richtext.facet#mention", "did": did}]})
    for m in re.finditer(r"(?<![\w#])#(\w+)", text):
        start = len(text[:m.start()].encode("utf-8"))
        out.append({"index": {"byteStart": start, "byteEnd": start + len(m.group(0).encode("utf-8"))},
                    "features": [{"$type": "app.bsky.richtext.facet#tag", "tag": m.group(1)}]})
    return sorted(out, key=lambda f: f["index"]["byteStart"])


def _slug(text: str) -> str:
    s = strip_accents(text.lower())
    return re.sub(r"[^a-z0-9]+", "-", s).strip("-")[:60].rstrip("-")


def _rfc822(local: datetime) -> str:
    return (f"{_EN_DAYS[local.weekday()]}, {local.day:02d} {_EN_MONTHS[local.month - 1][:3]} {local.year} "
            f"{local:%H:%M:%S} {local:%z}")


def _feed_document(cfg: dict, place: str, feed_url: str, items: list[dict], built: date) -> str:
    """A local daily's feed holding ``items``: RSS 2.0 (a bare number as guid), WordPress's RSS (guid
    ``?p=``, creator and category in CDATA, the « L'article … est apparu en premier sur … » trailer)
    or Atom (tag URIs); journalists' names included, as real feeds have them."""
    items = sorted(items, key=lambda i: (i["created_utc"], i["num"]), reverse=True)
    site, section, outlet = cfg["site"], cfg["section"], cfg["outlet"]
    host = site.split("://", 1)[1].removeprefix("www.")
    esc = html.escape
    built_at = datetime(built.year, built.month, built.day, 6, 0, tzinfo=PARIS)
    if cfg["dialect"] == "atom":
        lines = ['<?xml version="1.0" encoding="utf-8"?>', '<feed xmlns="http://www.w3.org/2005/Atom" xml:lang="fr">',
                 f"  <title>{esc(outlet)} — {esc(place)}</title>",
                 f'  <link href="{site}/{section}/" rel="alternate" type="text/html"/>',
                 f'  <link href="{esc(feed_url)}" rel="self" type="application/atom+xml"/>',
                 f"  <id>tag:{host},2023:{section}</id>", f"  <updated>{built_at.isoformat()}</updated>"]
        for i in items:
            when = i["created_local"].isoformat()
            lines += ["  <entry>", f"    <title>{esc(i['title'])}</title>",
                      f'    <link href="{site}/{section}/{_slug(i["title"])}-{i["num"]}.html" rel="alternate"/>',
                      f"    <id>{esc(i['native_id'])}</id>", f"    <published>{when}</published>",
                      f"    <updated>{when}</updated>", f"    <author><name>{esc(i['journalist'])}</name></author>",
                      f'    <category term="{esc(i["category"])}"/>',
                      f'    <summary type="html">{esc("<p>" + esc(i["summary"]) + "</p>")}</summary>', "  </entry>"]
        return "\n".join(lines + ["</feed>"]) + "\n"
    wordpress = cfg["dialect"] == "wordpress"
    lines = ['<?xml version="1.0" encoding="UTF-8"?>',
             '<rss version="2.0" xmlns:dc="http://purl.org/dc/elements/1.1/" xmlns:atom="http://www.w3.org/2005/Atom">',
             "<channel>", f"  <title>{esc(outlet)} - {esc(place)}</title>", f"  <link>{site}/{section}/</link>",
             f'  <atom:link href="{esc(feed_url)}" rel="self" type="application/rss+xml"/>',
             f"  <description>L'actualité de {esc(place)} et de ses environs</description>",
             "  <language>fr-FR</language>", f"  <lastBuildDate>{_rfc822(built_at)}</lastBuildDate>"]
    for i in items:
        local = i["created_local"]
        lines += ["  <item>", f"    <title>{esc(i['title'])}</title>"]
        if wordpress:
            link = f"{site}/{local:%Y/%m/%d}/{_slug(i['title'])}/"
            trailer = (f'<p>L\'article <a href="{link}">{esc(i["title"])}</a> est apparu en premier sur '
                       f'<a href="{site}">{esc(outlet)}</a>.</p>')
            utc = i["created_utc"].replace(tzinfo=UTC)
            lines += [f"    <link>{link}</link>", f"    <dc:creator><![CDATA[{i['journalist']}]]></dc:creator>",
                      f"    <pubDate>{_rfc822(utc)}</pubDate>", f"    <category><![CDATA[{i['category']}]]></category>",
                      f'    <guid isPermaLink="false">{site}/?p={i["num"]}</guid>',
                      f"    <description><![CDATA[<p>{esc(i['summary'])}</p>{trailer}]]></description>"]
        else:
            link = f"{site}/{section}/{_slug(i['title'])}-{i['num']}?xtor=RSS-12"
            lines += [f"    <link>{esc(link)}</link>", f'    <guid isPermaLink="false">{i["num"]}</guid>',
                      f"    <pubDate>{_rfc822(local)}</pubDate>", f"    <dc:creator>{esc(i['journalist'])}</dc:creator>",
                      f"    <category>{esc(i['category'])}</category>",
                      f"    <description>{esc('<p>' + esc(i['summary']) + '</p>')}</description>"]
        lines.append("  </item>")
    return "\n".join(lines + ["</channel>", "</rss>"]) + "\n"


def _fr_thousands(n: int) -> str:
    """CrowdTangle in a French/pt-BR locale: dot as thousands separator (``12.345``)."""
    return f"{n:,}".replace(",", ".")


def _fr_fb_date(local: datetime) -> str:
    months = ["janvier", "février", "mars", "avril", "mai", "juin", "juillet", "août", "septembre", "octobre",
              "novembre", "décembre"]
    return f"{local.day} {months[local.month - 1]} {local.year} à {local:%H:%M}"


# ------------------------------------------------------------------------------ collection (replay)
class ReplayServer:
    """A tiny local HTTP API on 127.0.0.1 (a random port) answering the responses recorded by
    :meth:`Writer.replay`: the demo collects Bluesky, Mastodon and the press feeds through the real
    connectors with ``--api`` pointed at it, as their tests do. Nothing leaves the machine.

    A route is a method, a path and the query parameters that select a page (``cursor``, ``max_id``,
    ``actor``…: those any recorded response of that path names); other parameters are ignored. A
    response with an ``ETag`` answers ``304`` to a matching ``If-None-Match``. Unknown routes: 404.
    """

    def __init__(self, manifests: list[Path]) -> None:
        raw: dict[tuple[str, str], list[dict]] = {}
        for path in manifests:
            for line in path.read_text(encoding="utf-8").splitlines():
                if line.strip():
                    r = json.loads(line)
                    raw.setdefault((r["method"], r["path"]), []).append(r)
        self.routes: dict[tuple[str, str], tuple[tuple[str, ...], dict[tuple, dict]]] = {}
        for key, rules in raw.items():
            select = tuple(sorted({k for r in rules for k in r["query"]}))
            self.routes[key] = (select, {tuple(r["query"].get(k) for k in select): r for r in rules})
        self.requests = 0
        self._server: ThreadingHTTPServer | None = None
        self._thread: threading.Thread | None = None

    @property
    def url(self) -> str:
        assert self._server is not None, "serveur de rejeu non démarré"
        host, port = self._server.server_address[:2]
        return f"http://{host}:{port}"

    def answer(self, method: str, target: str, headers: Any) -> tuple[int, dict[str, str], bytes]:
        """``(status, headers, body)`` for one request."""
        self.requests += 1
        parts = urlsplit(target)
        path = unquote(parts.path)
        query = dict(parse_qsl(parts.query, keep_blank_values=True))
        route = self.routes.get((method, path))
        rule = route[1].get(tuple(query.get(k) for k in route[0])) if route else None
        if rule is None:
            body = json.dumps({"error": "NotFound", "message": f"aucune réponse enregistrée pour {path}"})
            return 404, {"Content-Type": "application/json"}, body.encode()
        out = dict(rule["headers"])
        if out.get("ETag") and headers.get("If-None-Match") == out["ETag"]:
            return 304, {"ETag": out["ETag"]}, b""
        if "text" in rule:
            return rule["status"], out, rule["text"].encode("utf-8")
        out.setdefault("Content-Type", "application/json; charset=utf-8")
        return rule["status"], out, json.dumps(rule["json"], ensure_ascii=False).encode("utf-8")

    def __enter__(self) -> ReplayServer:
        self._server = ThreadingHTTPServer(("127.0.0.1", 0), _ReplayHandler)
        self._server.daemon_threads = True
        self._server.replay = self  # type: ignore[attr-defined]
        self._thread = threading.Thread(target=self._server.serve_forever, name="vigie-demo-replay", daemon=True)
        self._thread.start()
        return self

    def __exit__(self, *exc: object) -> None:
        if self._server is not None:
            self._server.shutdown()
            self._server.server_close()
        if self._thread is not None:
            self._thread.join(timeout=5)


class _ReplayHandler(BaseHTTPRequestHandler):
    protocol_version = "HTTP/1.1"  # keep-alive: the connectors' client reuses its connection
    # Headers and body leave in two writes: with Nagle's algorithm the body would wait for the
    # client's delayed ACK (40 ms a request).
    disable_nagle_algorithm = True

    def _reply(self) -> None:
        length = int(self.headers.get("Content-Length") or 0)
        if length:
            self.rfile.read(length)  # a login's JSON body: read, not needed
        status, headers, body = self.server.replay.answer(self.command, self.path, self.headers)  # type: ignore[attr-defined]
        self.send_response(status)
        for k, v in headers.items():
            self.send_header(k, v)
        self.send_header("Content-Length", str(len(body)))
        self.end_headers()
        if body:
            self.wfile.write(body)

    do_GET = do_POST = _reply

    def log_message(self, format: str, *args: Any) -> None:  # noqa: A002 - the base class's name
        pass  # quiet: the collection runs say what was asked


def collect_replay(exports_dir: str | os.PathLike, con, registry: Registry) -> list:
    """Collect every Bluesky, Mastodon and press source the registry declares from the recorded
    responses of ``exports_dir/replay`` served on 127.0.0.1 (``since`` = the demo's first day), so
    that ``collect_runs`` and ``collect_state`` hold real runs. The server stops whatever happens."""

    with store.transaction(con):
        sync_registry(con, registry)  # the official accounts the connectors file things under
    creds = Credentials(values=dict(DEMO_BLUESKY_LOGIN))
    plan = declared_sources(registry, creds, platforms=set(COLLECTED))
    manifests = sorted((Path(exports_dir) / "replay").glob("*.jsonl"))
    with ReplayServer(manifests) as server:
        # The replay stands for a collection the day after the demo period: the followers counts
        # it reads are dated that day, not the day the demo is built (same seed, same store).
        return collect(con, plan.sources, default_context(registry=registry), api=server.url,
                       since=datetime.combine(START, datetime.min.time()), credentials=creds,
                       sleep=lambda seconds: None, as_of=END + timedelta(days=1))


# ------------------------------------------------------------------------------ ground truth
def _ground_truth(sim: Sim, writer: Writer, seed: int, scale: float) -> dict:
    own = sim.registry.territory(OWN)
    key_authors = []
    for (tid, plat), pool in sorted(sim.authors.items()):
        for a in pool:
            if a.role in ("ambassador", "critic"):
                key_authors.append({"territory_id": tid, "platform": plat, "author_key": a.key, "role": a.role,
                                    "local": a.local})
    themes_mix = {}
    for tid, st in TERRITORY_STYLE.items():
        w = np.asarray(st["themes"], float)
        themes_mix[tid] = {t: round(float(v), 6) for t, v in zip(T.THEMES, w / w.sum(), strict=True)}
    crisis_posts = [f"{p['platform']}:{p['native_id']}" for p in sim.posts if p["crisis"]]
    return {
        "seed": seed, "scale": scale, "period": {"start": START.isoformat(), "end": END.isoformat()},
        "own_territory": own.territory_id,
        "timezone_of_local_exports": LOCAL_ZONE.key,
        "crisis": {**{k: (v.isoformat() if isinstance(v, date) else v) for k, v in CRISIS.items()},
                   "post_ids": crisis_posts,
                   "volume_definition": "user messages (not official) addressed to the own territory per day in the "
                                        "window, relative to the same count without the crisis"},
        "campaigns": [{"campaign_id": c["campaign_id"], "name": c["name"], "territory_id": OWN,
                       "start": c["start"].isoformat(), "end": c["end"].isoformat(), "hashtag": c["hashtag"],
                       "injected_effect": c["effect"], "placebo": c["placebo"]} for c in CAMPAIGNS],
        "campaign_kpi": ("engagement per post = reactions + comments + shares; during the window every own-territory "
                         "post's expected engagement is multiplied by (1 + injected_effect) relative to the "
                         "counterfactual; every territory shares the same seasonal factor (summer, December), so a "
                         "difference-in-differences against the peers recovers the effect. Noise: lognormal "
                         f"(sigma {ENGAGEMENT_SIGMA}) on the mean, negative binomial (size {NB_DISPERSION}) counts. "
                         "Crisis posts (crisis.post_ids) carry extra comments and should be left out."),
        "seasonality": {str(m): season(date(2025, m, 1)) for m in range(1, 13)},
        "impersonator": dict(IMPERSONATOR, account_id=f"facebook:{IMPERSONATOR['native_id']}",
                             impersonates="facebook:" + next(a.native_id for a in own.accounts if a.platform == "facebook")),
        "demographics": sim.demographics,
        "demographics_note": "shares of followers per account and snapshot date; age_gender keys 'F.25-34'; X and "
                             "YouTube give no breakdown; TikTok gives gender, age and country apart",
        "theme_mix": themes_mix,
        "official_reply_policy": {tid: {"reply_rate_questions_and_negative": st["reply_rate"],
                                        "median_delay_hours_business": st["reply_median_h"][0],
                                        "median_delay_hours_off_hours": st["reply_median_h"][1],
                                        "business_hours": "Mon-Fri 09:00-18:00 Europe/Paris",
                                        "not_answered": "hostile messages",
                                        "note": "YouTube and ExportComments exports carry no parent: official "
                                                "replies there are top-level comments by the official account"}
                                  for tid, st in TERRITORY_STYLE.items()},
        "key_authors": key_authors,
        "rates": {"hostile": 0.015, "english": 0.02},
        "files": len(writer.files),
        "new_platforms": {
            "account_start": {f"{t}:{p}": d.isoformat() for (t, p), d in ACCOUNT_START.items()},
            "how": {"tiktok": "TikTok Studio exports (Overview, Content, Followers_<handle>/…), imported",
                    "bluesky": "collected (getProfile, getAuthorFeed, getPostThread, searchPosts) from a local "
                               "replay server; monthly follower counts from saved getProfiles responses",
                    "mastodon": "collected (accounts/lookup, statuses, context, tag timelines) from a local replay "
                                "server; monthly follower counts from saved Account lists",
                    "press": f"saved feed files before {PRESS_FEED_FROM.isoformat()}, collected feeds after"},
            "posts": {p: sum(1 for x in sim.posts if x["platform"] == p) for p in NEW_PLATFORMS},
            "messages": {p: sum(1 for m in sim.messages if m["platform"] == p) for p in (*NEW_PLATFORMS, "press")},
            "press_items_not_naming_a_territory": sum(1 for i in sim.press if not i["kept"]),
            "followers_end": {a.account_id: int(sim.followers[a.account_id].followers.iloc[-1])
                              for a in sim.registry.accounts if a.platform in NEW_PLATFORMS},
        },
    }


def _messages_truth(sim: Sim) -> pd.DataFrame:
    rows = []
    for m in sim.messages:
        plat = m["platform"]
        rows.append({
            "message_id": f"{plat}:{m['native_id']}", "platform": plat, "native_id": m["native_id"],
            "territory_id": m["territory_id"], "post_native_id": m["post"]["native_id"] if m["post"] else None,
            "kind": m["kind"], "is_official": m["is_official"],
            "created_at": m["created_utc"].strftime("%Y-%m-%d %H:%M:%S"), "author_key": m["author"].key,
            "author_role": m["author"].role, "themes": ";".join(m["themes"]),
            "theme_explicit": m["theme_explicit"], "tone": m["tone"],
            "is_question": m["is_question"], "is_hostile": m["is_hostile"], "lang": m["lang"],
            "crisis": m["crisis"], "text": m["text"],
        })
    return pd.DataFrame(rows)


def write_population_csv(path: str | os.PathLike = POPULATION_CSV, registry: Registry | None = None) -> Path:
    """Write ``data/population_demo.csv`` (territory_id, sex, age_band, population) from the registry."""
    path = Path(path)
    population_table(registry or load_registry()).to_csv(path, index=False)
    return path


def import_files(files: list[dict], db: str | os.PathLike, registry: Registry,
                 say: Callable[[str], None]) -> list:
    """Import the written files through the real pipeline, with the hints each one needs."""

    results = []
    groups: dict[tuple, list[Path]] = {}
    for f in files:  # one pipeline call per context: each call re-syncs the registry
        key = (f["hint"], f["snapshot"], str(f["mapping"] or ""), f["fmt"])
        groups.setdefault(key, []).append(f["path"])
    with derived_refresh.writer(db) as con:
        for (hint, snap, mapping_path, fmt), paths in groups.items():
            mapping = tomllib.loads(Path(mapping_path).read_text(encoding="utf-8")) if mapping_path else None
            ctx = default_context(registry=registry, account_hint=hint, mapping=mapping, snapshot_date=snap)
            results += import_paths(con, paths, ctx, fmt=fmt)
    bad = [r for r in results if r.status == "error"]
    say(f"Import : {len(results)} fichiers, {len(bad)} en erreur")
    return results


def campaigns_frame() -> pd.DataFrame:
    """The demo campaigns (the placebo included) as rows of the ``campaigns`` table."""
    return pd.DataFrame([{
        "campaign_id": c["campaign_id"], "name": c["name"], "territory_id": OWN, "start_date": c["start"],
        "end_date": c["end"], "hashtags": [c["hashtag"].lower()], "keywords": [], "post_ids": [],
        "objective": "engagement", "budget": c["budget"], "source": "demo"} for c in CAMPAIGNS])


# ------------------------------------------------------------------------------ readers
def exports_dir_for(db_path: str | os.PathLike) -> Path:
    """Default exports folder of a store: ``<db stem>_exports`` beside the db (as ``vigie demo``)."""
    p = store.db_path(db_path)
    return p.parent / (p.stem + "_exports")


def ground_truth(db_path: str | os.PathLike | None = None) -> dict:
    """The injected truth (crisis, campaigns, impersonator, demographics…) of the demo store."""
    path = exports_dir_for(db_path) / "ground_truth.json"
    if not path.exists():
        raise FileNotFoundError(f"Vérité terrain absente : {path}. Lancez `vigie demo` d'abord.")
    return json.loads(path.read_text(encoding="utf-8"))


def ground_truth_messages(db_path: str | os.PathLike | None = None) -> pd.DataFrame:
    """Per-message truth (themes, tone, is_question, is_hostile, lang) keyed by the imported ``message_id``.

    Formats without a comment id (ExportComments, YouTube threads CSV) get a content-hash id at
    import: those rows are matched to the store on (platform, created_at, text).
    """
    path = exports_dir_for(db_path) / "ground_truth_messages.csv.gz"
    if not path.exists():
        raise FileNotFoundError(f"Vérité terrain absente : {path}. Lancez `vigie demo` d'abord.")
    df = pd.read_csv(path, dtype={"native_id": str, "post_native_id": str, "author_key": str, "message_id": str,
                                  "text": str}, keep_default_na=False, na_values={"post_native_id": [""]})
    try:
        con = store.connect(db_path, read_only=True)
    except store.StoreMissing:
        return df
    try:
        # Importers store NFKC-normalised text (… becomes ...): compare on that form.
        norm = df["text"].fillna("").map(lambda t: unicodedata.normalize("NFKC", t).replace("\r\n", "\n").strip())
        con.register("gt", df[["message_id", "platform", "created_at"]].assign(text=norm, _row=range(len(df))))
        found = con.execute("""
            SELECT g._row, coalesce(d.message_id, h.message_id) AS resolved
            FROM gt g
            LEFT JOIN messages d ON d.message_id = g.message_id
            LEFT JOIN (SELECT platform, created_at, text, any_value(message_id) AS message_id
                       FROM messages GROUP BY ALL) h
              ON d.message_id IS NULL AND h.platform = g.platform
             AND h.created_at = CAST(g.created_at AS TIMESTAMP) AND h.text = g.text
        """).df().sort_values("_row")
    finally:
        con.close()
    df["message_id"] = found["resolved"].to_numpy()
    return df
