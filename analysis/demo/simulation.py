"""The simulation of the demo's classic platforms (Facebook, Instagram, X, LinkedIn, YouTube,
CrowdTangle), its crisis, followers and demographics: :func:`simulate` (pure, deterministic)."""

from __future__ import annotations

import math
import os
import re
from datetime import date, datetime, timedelta
from pathlib import Path

import numpy as np
import pandas as pd

from analysis.demo import text as T
from analysis.demo.model import (
    _CRISIS_TONE_CUM,
    _CT_PAGE_CUM,
    AGE_BANDS,
    CRISIS,
    FOLLOWER_BANDS,
    FOLLOWERS_PER_INHAB,
    IMPERSONATOR,
    LOCAL_SHARE,
    MENTIONS_PER_DAY,
    N_DAYS,
    NEW_PLATFORMS,
    OWN,
    PLACES,
    POPULATION_CSV,
    POST_RATE,
    PROPENSITY,
    START,
    TERRITORY_STYLE,
    WOMEN_PROPENSITY,
    Author,
    FastRng,
    Ids,
    Sim,
    TextMaker,
    _author_pool,
    _author_weights,
    _cum,
    _draw,
    _local_time,
    _nb,
    _to_utc,
    campaign_of,
    in_crisis,
    season,
    size_factor,
    snapshot_dates,
)
from analysis.demo.posts import (
    _message_labels,
    _new_message,
    _official_reply,
    _simulate_comments,
    _simulate_post,
)
from analysis.demo.social import _simulate_new_platforms
from analysis.registry import Account, Registry, Territory, load_registry


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


def write_population_csv(path: str | os.PathLike = POPULATION_CSV, registry: Registry | None = None) -> Path:
    """Write ``data/population_demo.csv`` (territory_id, sex, age_band, population) from the registry."""
    path = Path(path)
    population_table(registry or load_registry()).to_csv(path, index=False)
    return path
