"""One simulated post and its messages: labels, official replies, comments (the classic and the new
platforms share them)."""

from __future__ import annotations

import math
from datetime import UTC, date, datetime, timedelta

import numpy as np

from analysis.demo import text as T
from analysis.demo.model import (
    _CRISIS_TONE_CUM,
    _EN_TONE_CUM,
    COMMENT_MEAN,
    CRISIS,
    EN_NAMES,
    END,
    ENGAGEMENT_SIGMA,
    NEW_PLATFORMS,
    PARIS,
    REACTIONS_PER_COMMENT,
    SHARES_PER_COMMENT,
    Author,
    Ids,
    Sim,
    TextMaker,
    _business_hours,
    _draw,
    _local_time,
    _nb,
    _new_post_ids,
    _to_utc,
    _tone_for,
    _tourist,
    campaign_of,
    season,
)
from analysis.registry import Account, Territory


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
