"""The simulation of Bluesky, Mastodon, TikTok and the local press, from a random stream of its own."""

from __future__ import annotations

import math
import re
from datetime import date, datetime, timedelta

import numpy as np
import pandas as pd

from analysis.demo import text as T
from analysis.demo.model import (
    _CRISIS_TONE_CUM,
    ACCOUNT_START,
    ADDRESSED_SHARE,
    CRISIS,
    FOLLOWERS_PER_INHAB,
    N_DAYS,
    NEW_MENTIONS_PER_DAY,
    NEW_PLATFORMS,
    NEW_POOL,
    OWN,
    PARIS,
    PLACES,
    POST_RATE,
    PRESS,
    PRESS_CRISIS_PER_DAY,
    PRESS_OTHER_SHARE,
    START,
    TAG_DISPLAY,
    TERRITORY_STYLE,
    TIKTOK_AUDIENCE,
    YEARS,
    Author,
    FastRng,
    Ids,
    Sim,
    TextMaker,
    _acct_parts,
    _author_weights,
    _cum,
    _draw,
    _local_time,
    _mention_handle,
    _new_author_pool,
    _seq,
    _snowflake,
    _tid,
    _to_utc,
    campaign_of,
    in_crisis,
    season,
    size_factor,
)
from analysis.demo.posts import _message_labels, _new_message, _official_reply, _simulate_post
from analysis.registry import Account, Territory
from analysis.text import term_key


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
