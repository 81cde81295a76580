"""The demo world's parameters and building blocks: period, territories' style, crisis, campaigns,
platform rates, authors, ids, the text maker and the fast random stream."""

from __future__ import annotations

import bisect
import re
from dataclasses import dataclass, field
from datetime import UTC, date, datetime, timedelta
from pathlib import Path

import numpy as np
import pandas as pd

from analysis.config import LOCAL_ZONE
from analysis.demo import text as T
from analysis.registry import Account, Registry, Territory

PARIS = LOCAL_ZONE
START = date(2024, 11, 1)
END = date(2026, 10, 31)  # inclusive
N_DAYS = (END - START).days + 1
OWN = "saint-aubin"
FIXED_ZIP_TIME = (2026, 11, 1, 0, 0, 0)
POPULATION_CSV = Path(__file__).resolve().parents[2] / "data" / "population_demo.csv"

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
