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

import bisect
import csv
import gzip
import io
import json
import math
import os
import re
import time
import tomllib
import unicodedata
import zipfile
from collections.abc import Callable
from dataclasses import dataclass, field
from datetime import UTC, date, datetime, timedelta
from pathlib import Path
from zoneinfo import ZoneInfo

import numpy as np
import pandas as pd

from analysis import demo_text as T
from analysis import store
from analysis.registry import Account, Registry, Territory, load_registry

PARIS = ZoneInfo("Europe/Paris")
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

# Posts per month for a territory of the own territory's size, by platform (scale 1.0).
POST_RATE = {"facebook": 30.0, "instagram": 20.0, "x": 32.0, "linkedin": 10.0, "youtube": 5.0}
# Mean user comments per post (size 1.0), and engagement ratios relative to comments.
COMMENT_MEAN = {"facebook": 19.0, "instagram": 11.0, "x": 4.0, "linkedin": 4.0, "youtube": 18.0}
REACTIONS_PER_COMMENT = {"facebook": 7.0, "instagram": 14.0, "x": 5.0, "linkedin": 9.0, "youtube": 4.0}
SHARES_PER_COMMENT = {"facebook": 0.8, "instagram": 0.25, "x": 1.2, "linkedin": 0.6, "youtube": 0.3}
FOLLOWERS_PER_INHAB = {"facebook": 0.30, "instagram": 0.14, "x": 0.05, "linkedin": 0.06, "youtube": 0.012}
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
    reactions = _nb(rng, mu * REACTIONS_PER_COMMENT[plat])
    shares = _nb(rng, mu * SHARES_PER_COMMENT[plat])
    if crisis_post:
        shares += int(rng.integers(40, 120))
    kind = {"facebook": ["Photos", "Photos", "Links", "Videos", "Reels"], "instagram": ["IG image", "IG carousel", "IG reel"],
            "x": ["status"], "linkedin": ["Organic"], "youtube": ["video"]}[plat]
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
    """The official account answers a share of questions and complaints, faster in office hours."""
    if msg["is_hostile"] or not (msg["is_question"] or msg["tone"] == "negative"):
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
        when = (post["created_utc"] + timedelta(hours=min(delay_h, 24 * 9))).replace(microsecond=0)
        if when.date() > END:
            continue
        author = pool[int(picks[i])]
        if not crisis and rng.random() < 0.02:
            author = Author(key=f"{author.key}9", name=EN_NAMES[int(rng.integers(len(EN_NAMES)))],
                            handle=f"{author.handle}_uk", role="tourist", local=False)
        labels = _message_labels(rng, style, author.role, theme_hint, None)
        if crisis:
            labels["tone"] = ("negative", "neutral", "positive")[int(_draw(rng, _CRISIS_TONE_CUM))]
            labels["english"] = labels["hostile"] = False
        kind = "reply" if plat == "x" else "comment"
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


def _fr_thousands(n: int) -> str:
    """CrowdTangle in a French/pt-BR locale: dot as thousands separator (``12.345``)."""
    return f"{n:,}".replace(",", ".")


def _fr_fb_date(local: datetime) -> str:
    months = ["janvier", "février", "mars", "avril", "mai", "juin", "juillet", "août", "septembre", "octobre",
              "novembre", "décembre"]
    return f"{local.day} {months[local.month - 1]} {local.year} à {local:%H:%M}"


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
        "timezone_of_local_exports": "Europe/Paris",
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
                             "YouTube give no breakdown",
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


# ------------------------------------------------------------------------------ build
@dataclass
class BuildReport:
    """What a demo build did: files and their import results, counts and timings (wall and CPU)."""

    exports_dir: Path
    files: list[dict]
    results: list
    n_posts_generated: int
    n_messages_generated: int
    n_posts_store: int
    n_messages_store: int
    timings: dict[str, float]
    enriched: bool

    @property
    def errors(self) -> list:
        return [r for r in self.results if r.status == "error"]

    def summary(self) -> str:
        """French summary printed by ``vigie demo``."""
        from analysis.fmt import fr_int, fr_num

        t = self.timings
        lines = [
            f"Démo Vigie : {fr_int(len(self.files))} fichiers d'export dans {self.exports_dir}",
            f"  génération : {fr_int(self.n_posts_generated)} publications, {fr_int(self.n_messages_generated)} "
            f"messages en {fr_num(t['generate_wall'], 1)} s (CPU {fr_num(t['generate_cpu'], 1)} s)",
            f"  import : {fr_num(t['import_wall'], 1)} s (CPU {fr_num(t['import_cpu'], 1)} s) ; la base contient "
            f"{fr_int(self.n_posts_store)} publications et {fr_int(self.n_messages_store)} messages",
            f"  enrichissement : {fr_num(t['enrich_wall'], 1)} s" if self.enriched else "  pas d'enrichissement",
        ]
        if self.errors:
            lines.append(f"  {len(self.errors)} fichier(s) en erreur, premier : {self.errors[0].error}")
        return "\n".join(lines)


def generate(exports_dir: str | os.PathLike, seed: int = 42, scale: float = 1.0,
             registry: Registry | None = None) -> tuple[Sim, list[dict]]:
    """Simulate and write every export file plus the ground truth; return the simulation and the files."""
    registry = registry or load_registry()
    root = Path(exports_dir)
    sim = simulate(registry, seed, scale)
    root.mkdir(parents=True, exist_ok=True)
    writer = Writer(sim, root, np.random.default_rng(seed + 1))
    writer.write_all()
    truth = _ground_truth(sim, writer, seed, scale)
    (root / "ground_truth.json").write_text(json.dumps(truth, ensure_ascii=False, indent=1, sort_keys=True),
                                            encoding="utf-8")
    buf = io.BytesIO()
    with gzip.GzipFile(fileobj=buf, mode="wb", mtime=0) as gz:  # mtime=0: same seed, same bytes
        gz.write(_messages_truth(sim).to_csv(index=False).encode("utf-8"))
    (root / "ground_truth_messages.csv.gz").write_bytes(buf.getvalue())
    return sim, writer.files


def build_report(exports_dir: str | os.PathLike, db: str | os.PathLike, seed: int = 42, scale: float = 1.0,
                 enrich: bool = True, progress: Callable[[str], None] | None = None) -> BuildReport:
    """Generate the demo exports, import them through the real importers, enrich; report what happened."""
    say = progress or (lambda s: None)
    registry = load_registry()
    w0, c0 = time.perf_counter(), time.process_time()
    sim, files = generate(exports_dir, seed, scale, registry)
    timings = {"generate_wall": time.perf_counter() - w0, "generate_cpu": time.process_time() - c0}
    say(f"Exports écrits : {len(files)} fichiers, {len(sim.posts)} publications, {len(sim.messages)} messages "
        f"({timings['generate_wall']:.1f} s)")
    w0, c0 = time.perf_counter(), time.process_time()
    results = import_files(files, db, registry, say)
    timings.update(import_wall=time.perf_counter() - w0, import_cpu=time.process_time() - c0)
    w0 = time.perf_counter()
    enriched = False
    with store.writer(db) as con:
        store.upsert(con, "campaigns", campaigns_frame())
        if enrich:
            try:
                from analysis import enrich as enrich_mod  # written by another engineer; optional
            except ModuleNotFoundError as e:
                if e.name != "analysis.enrich":
                    raise
                enrich_mod = None
            if enrich_mod is not None:
                say("Enrichissement (sentiment, thèmes)…")
                enrich_mod.run(con)
                enriched = True
        n_posts = con.execute("SELECT count(*) FROM posts").fetchone()[0]
        n_msgs = con.execute("SELECT count(*) FROM messages").fetchone()[0]
    timings["enrich_wall"] = time.perf_counter() - w0
    return BuildReport(Path(exports_dir), files, results, len(sim.posts), len(sim.messages), n_posts, n_msgs,
                       timings, enriched)


def build(exports_dir: str | os.PathLike, db: str | os.PathLike, seed: int = 42, scale: float = 1.0,
          enrich: bool = True, progress: Callable[[str], None] | None = None) -> str:
    """Generate the demo exports, import them, enrich; return a French summary (``vigie demo``)."""
    return build_report(exports_dir, db, seed, scale, enrich, progress).summary()


def write_population_csv(path: str | os.PathLike = POPULATION_CSV, registry: Registry | None = None) -> Path:
    """Write ``data/population_demo.csv`` (territory_id, sex, age_band, population) from the registry."""
    path = Path(path)
    population_table(registry or load_registry()).to_csv(path, index=False)
    return path


def import_files(files: list[dict], db: str | os.PathLike, registry: Registry,
                 say: Callable[[str], None]) -> list:
    """Import the written files through the real pipeline, with the hints each one needs."""
    from analysis.ingest import default_context, import_paths

    results = []
    groups: dict[tuple, list[Path]] = {}
    for f in files:  # one pipeline call per context: each call re-syncs the registry
        key = (f["hint"], f["snapshot"], str(f["mapping"] or ""), f["fmt"])
        groups.setdefault(key, []).append(f["path"])
    with store.writer(db) as con:
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
