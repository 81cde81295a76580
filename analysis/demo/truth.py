"""The demo's ground truth: what was injected, written beside the exports, and its readers."""

from __future__ import annotations

import json
import os
import unicodedata
from datetime import date
from pathlib import Path

import numpy as np
import pandas as pd

from analysis import store
from analysis.config import LOCAL_ZONE
from analysis.demo import text as T
from analysis.demo.model import (
    ACCOUNT_START,
    CAMPAIGNS,
    CRISIS,
    END,
    ENGAGEMENT_SIGMA,
    IMPERSONATOR,
    NB_DISPERSION,
    NEW_PLATFORMS,
    OWN,
    PRESS_FEED_FROM,
    START,
    TERRITORY_STYLE,
    Sim,
    season,
)
from analysis.demo.writers import Writer


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
                       "injected_effect": c["effect"], "placebo": c["placebo"],
                       # 60 % of the territory's posts in the window are on this theme (the placebo too: no
                       # engagement effect, same posts), so their comments burst on the theme's subjects on
                       # purpose: an emerging subject naming one of them is right (analysis.eval.emerging)
                       "theme": c["theme"], "subjects": list(T.SUBJECTS[c["theme"]])} for c in CAMPAIGNS],
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
