"""X, YouTube, LinkedIn, TikTok Studio, social profiles and saved press feeds of the demo."""

from __future__ import annotations

import json
import re
from datetime import UTC, date, datetime, timedelta
from pathlib import Path

import numpy as np

from analysis.demo.files import (
    _csv_tiktok,
    _feed_document,
    _save_xlsx,
    _set_mtime,
    _write_csv,
    _write_csv_all_quoted,
    _yearless,
)
from analysis.demo.model import (
    END,
    HALVES,
    LOCAL_SHARE,
    PLACES,
    PRESS,
    PRESS_FEED_FROM,
    PRESS_SAVED,
    START,
    YEARS,
    Sim,
    _acct_parts,
    _split,
)
from analysis.registry import Account, Territory


class OtherExports:
    """The X, YouTube, LinkedIn, TikTok and press files of :class:`analysis.demo.writers.Writer`."""

    sim: Sim
    root: Path
    rng: np.random.Generator
    files: list[dict]

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
