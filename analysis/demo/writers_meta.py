"""Meta exports of the demo: Meta Business Suite posts, daily and demographics CSVs, Facebook and
Instagram comments (minet, ExportComments), ads, CrowdTangle."""

from __future__ import annotations

from datetime import UTC, date, timedelta
from pathlib import Path

import numpy as np

from analysis.demo.files import (
    MBS_EN,
    MBS_FR,
    MBS_IG,
    _fr_fb_date,
    _fr_thousands,
    _mon,
    _save_xlsx,
    _set_mtime,
    _write_csv,
    _write_csv_mbs,
)
from analysis.demo.model import (
    CAMPAIGNS,
    EXPORTCOMMENTS_POSTS,
    FOLLOWER_BANDS,
    FRENCH_HEADERS_TERRITORY,
    HALVES,
    IMPERSONATOR,
    OWN,
    PARIS,
    YEARS,
    Sim,
    _split,
)
from analysis.registry import Account


class MetaExports:
    """The Meta files of :class:`analysis.demo.writers.Writer`."""

    sim: Sim
    root: Path
    rng: np.random.Generator
    files: list[dict]

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
