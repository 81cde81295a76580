"""X / Twitter: Analytics "Tweet activity" CSV, the account archive (``tweets.js``), API v2 JSONL.

Design choices (documented once, here):
- The archive and the API agree on what is a *post* and what is a *message*: a tweet of an
  official account is a post, except a reply it writes to *someone else*, which is a message
  (kind ``reply``, ``is_official`` TRUE, ``parent_id`` = the tweet answered). That is what
  response-time metrics need; a self-reply (thread) stays a post.
- API v2, tweets of others: a reply to an official account's tweet is kind ``reply`` with
  ``post_id`` = ``parent_id`` = ``x:<that tweet>``; anything else is kind ``mention`` (addressed to
  the first official account mentioned or quoted, else to ``--account``). Pure retweets of
  others are copies and are skipped (counted in a note). Their authors become ``accounts`` rows
  (official FALSE, handle and name) for the impersonation watch.
- X pseudo-languages (``und``, ``zxx``, ``qme``, ``qam``, ``qst``…) are stored as NULL.
"""

from __future__ import annotations

import html
import json
import re
import zipfile
from pathlib import Path, PurePosixPath
from typing import Any

import pandas as pd

from analysis.fmt import fr_count, fr_plural
from analysis.ingest.base import (
    Adapter,
    Context,
    ImportFailure,
    Parsed,
    Reject,
    clean_text,
    content_id,
    find_header,
    norm_header,
)
from analysis.ingest.generic import (
    account_row,
    clean_series,
    finish,
    hash_authors,
    hint_account,
    map_unique,
    parse_dates,
    parse_numbers,
    resolve_account,
    to_int64,
)
from analysis.ingest.safety import check_zip
from analysis.ingest.sniff import Probe, read_csv_all, read_text, read_workbook

PLATFORM = "x"
PERMALINK_RE = re.compile(r"(?:twitter|x)\.com/([A-Za-z0-9_]+)/status(?:es)?/(\d+)")


def x_lang(v: Any) -> str | None:
    """Language code of X, NULL for its pseudo-codes (und, zxx and the private q-codes)."""
    if not isinstance(v, str) or not v:
        return None
    v = v.strip().lower()
    if v in ("und", "zxx", "art") or re.fullmatch(r"q[a-z]{2}", v):
        return None
    return v


def _utc(s: pd.Series, fmt: str | None = None) -> pd.Series:
    kw = {"format": fmt} if fmt else {"format": "ISO8601"}
    return pd.to_datetime(s, utc=True, errors="coerce", **kw).dt.tz_localize(None)


def _date_rejects(raw: pd.Series, parsed: pd.Series, column: str, lines: pd.Series | None) -> list[Reject]:
    bad = parsed.isna() & raw.notna() & (raw.astype(str).str.strip() != "")
    return [Reject(None if lines is None else int(lines.loc[i]), column, raw.loc[i], "date illisible")
            for i in raw.index[bad]]


# ======================================================================== Analytics CSV
ANALYTICS_COLS = ("Tweet id", "Tweet permalink", "Tweet text", "time", "impressions", "engagements",
                  "engagement rate", "retweets", "replies", "likes", "favorites", "user profile clicks",
                  "url clicks", "media views", "follows", "promoted impressions")
ANALYTICS_MAP = {  # source header (normalised) -> canonical post metric
    "impressions": "impressions", "engagements": "engagements_reported", "retweets": "shares",
    "replies": "comments", "user profile clicks": "profile_clicks", "url clicks": "link_clicks",
    "media views": "video_views", "follows": "follows",
}


class TweetActivity(Adapter):
    name = "x_tweet_activity"
    label = "X/Twitter Analytics — activité des tweets (CSV, 2015+)"
    platform = PLATFORM
    signature = ("Tweet id", "Tweet permalink", "Tweet text", "time", "impressions", "engagements")

    def sniff(self, probe: Probe) -> float:
        if probe.kind != "csv" or not probe.rows:
            return 0.0
        have = {norm_header(c) for c in probe.rows[0]}
        core = {"tweet id", "tweet permalink", "time", "impressions"}
        if core <= have:
            return 0.95
        return 0.5 if len(core & have) >= 3 else 0.0

    def parse(self, path: Path, probe: Probe, ctx: Context) -> Parsed:
        rows, lines = read_csv_all(probe)
        hi = find_header(rows, ANALYTICS_COLS, min_hits=4)
        if hi is None:
            raise ImportFailure(f"{path} : en-tête « Tweet id, Tweet permalink, time… » introuvable")
        header = [norm_header(h) for h in rows[hi]]
        n = len(header)
        body = [(r + [""] * n)[:n] for r in rows[hi + 1:] if any(c.strip() for c in r)]
        body_lines = [ln for r, ln in zip(rows[hi + 1:], lines[hi + 1:], strict=True) if any(c.strip() for c in r)]
        df = pd.DataFrame(body, columns=header, dtype=object)
        ln = pd.Series(body_lines, dtype="int64")
        parsed = Parsed(format=self.name, rows_read=len(df))
        if df.empty:
            parsed.notes.append("aucun tweet dans l'export")
            return parsed
        out = pd.DataFrame({"native_id": df["tweet id"].str.strip()})
        out["post_id"] = "x:" + out["native_id"]
        out["platform"] = PLATFORM
        out["permalink"] = df.get("tweet permalink")
        out["text"] = df.get("tweet text", pd.Series(None, index=df.index)).map(clean_text)
        out["created_at"] = _utc(df["time"], "%Y-%m-%d %H:%M %z")
        parsed.rejects += _date_rejects(df["time"], out["created_at"], "time", ln)
        out["source_tz"] = "UTC"
        for src, canon in ANALYTICS_MAP.items():
            if src in df:
                v, rj = parse_numbers(df[src], src, ln)
                parsed.rejects += rj
                out[canon] = to_int64(v)
        likes_col = "likes" if "likes" in df else ("favorites" if "favorites" in df else None)
        if likes_col:  # 'favorites' until Nov 2015, then 'likes'
            v, rj = parse_numbers(df[likes_col], likes_col, ln)
            parsed.rejects += rj
            out["likes"] = to_int64(v)
            out["reactions"] = out["likes"]
        if "promoted impressions" in df:
            pv, _ = parse_numbers(df["promoted impressions"], "promoted impressions", ln)
            # '-' means the tweet was not promoted: a known FALSE, not a missing value.
            out["is_paid"] = pv.fillna(0) > 0
        # The author is not in the file: the handle is in each permalink.
        handles = out["permalink"].fillna("").str.extract(PERMALINK_RE)[0]
        hint_id, hint_terr, _ = hint_account(ctx, PLATFORM)
        accounts = []
        acc_ids, terrs = [], []
        for h in handles:
            if isinstance(h, str):
                aid, terr, official = resolve_account(ctx, PLATFORM, h)
                if aid is None:
                    aid = f"x:{h}"
                    accounts.append(account_row(aid, PLATFORM, None, h, None))
            else:
                aid, terr = hint_id, hint_terr
            acc_ids.append(aid)
            terrs.append(terr)
        out["account_id"] = acc_ids
        out["territory_id"] = terrs
        out["_line"] = ln
        if accounts:
            parsed.add("accounts", pd.DataFrame(accounts).drop_duplicates("account_id"))
        parsed.add("posts", out)
        return finish(parsed)


# ======================================================================== Ads "Tweets" report (xlsx)
ADS_COLS = ("Time period", "Placement", "Tweet Text", "Campaign ID", "Ad Group ID", "Tweet ID",
            "Tweet publish date", "Impressions", "Spend", "Likes", "Retweets", "Replies", "Link clicks")


class TweetAdsReport(Adapter):
    """Twitter Ads tweet report: one ``ad_results`` row per promoted tweet and window.

    Promoted metrics stay in ``ad_results`` (never added to the organic post metrics); the tweet
    itself becomes a ``posts`` row marked ``is_paid`` with its text and publication time (in the
    ads account zone: ``--tz``, else UTC). The currency of ``Spend`` is not in the file: NULL.
    """

    name = "x_ads_tweets"
    label = "X/Twitter Ads — rapport des tweets sponsorisés (xlsx)"
    platform = PLATFORM
    signature = ADS_COLS

    def sniff(self, probe: Probe) -> float:
        for rows in probe.sheets.values():
            if find_header(rows, ADS_COLS, min_hits=6, max_scan=5) is not None:
                return 0.9
        return 0.0

    def parse(self, path: Path, probe: Probe, ctx: Context) -> Parsed:

        book = read_workbook(path, probe.kind)
        rows = next(r for r in book.values() if find_header(r, ADS_COLS, min_hits=6, max_scan=5) is not None)
        hi = find_header(rows, ADS_COLS, min_hits=6, max_scan=5)
        header = [norm_header(h) for h in rows[hi]]
        body = [(list(r) + [None] * len(header))[: len(header)] for r in rows[hi + 1:]]
        keep = [i for i, r in enumerate(body) if any(c not in (None, "") for c in r)]
        df = pd.DataFrame([body[i] for i in keep], columns=header, dtype=object)
        ln = pd.Series([hi + 2 + i for i in keep], dtype="int64")
        parsed = Parsed(format=self.name, rows_read=len(df))
        if df.empty:
            return parsed
        aid, terr, _ = hint_account(ctx, PLATFORM)
        tz = ctx.source_tz or "UTC"
        tid = df["tweet id"].map(lambda v: None if v is None else str(int(v)) if isinstance(v, float) else str(v).strip())
        period = df.get("time period", pd.Series(None, index=df.index)).astype(str).str.split(" - ", n=1, expand=True)
        start, rj = parse_dates(period[0], "Time period", ln)
        parsed.rejects += rj
        end, rj = parse_dates(period[1] if 1 in period else period[0], "Time period", ln)
        parsed.rejects += rj
        nums = {}
        for src in ("impressions", "spend", "link clicks"):
            v, rj = parse_numbers(df.get(src, pd.Series(None, index=df.index)), src, ln)
            parsed.rejects += rj
            nums[src] = v
        ads = pd.DataFrame({
            "account_id": aid, "campaign_name": df.get("campaign id"), "ad_set_name": df.get("ad group id"),
            "ad_name": tid, "reporting_start": start.dt.date, "reporting_end": end.dt.date,
            "impressions": to_int64(nums["impressions"]), "link_clicks": to_int64(nums["link clicks"]),
            "spend": nums["spend"], "_line": ln})
        ads["ad_row_id"] = [content_id(aid, c, s, a, st, en) for c, s, a, st, en in zip(
            ads.campaign_name, ads.ad_set_name, ads.ad_name, ads.reporting_start, ads.reporting_end, strict=True)]
        created, rj = parse_dates(df.get("tweet publish date"), "Tweet publish date", ln, tz=tz)
        parsed.rejects += rj
        posts = pd.DataFrame({"post_id": "x:" + tid, "platform": PLATFORM, "native_id": tid, "account_id": aid,
                              "territory_id": terr, "created_at": created, "source_tz": tz,
                              "text": df.get("tweet text").map(clean_text), "is_paid": True, "_line": ln})
        parsed.add("ad_results", ads)
        parsed.add("posts", posts.drop_duplicates("post_id"))
        return finish(parsed)


# ======================================================================== Archive (tweets.js)
TWEETS_JS_RE = re.compile(r"^\s*window\.YTD\.tweets?\.part\d+\s*=")
YTD_RE = re.compile(r"^\s*window\.YTD\.(\w+)\.part\d+\s*=")
ARCHIVE_MEMBER_RE = re.compile(r"(?:^|/)tweets?(?:-part\d+)?\.js$")
README_MARK = "This archive was generated at the request of the following user"


def load_js_assignment(text: str, where: str) -> Any:
    """JSON value of ``window.X = <json>`` (everything up to the first ``=`` is dropped)."""
    i = text.find("=")
    if i < 0:
        raise ImportFailure(f"{where} : affectation JavaScript « window.… = » introuvable")
    body = text[i + 1:].strip().rstrip(";")
    try:
        return json.loads(body)
    except json.JSONDecodeError as e:
        line = text[: i + 1].count("\n") + 1 + body[: e.pos].count("\n")
        raise ImportFailure(f"{where} : JSON illisible ({e.msg})", line=line) from e


def archive_owner(texts: dict[str, str]) -> tuple[str | None, str | None, str | None]:
    """(account id, @username, display name) from manifest.js / account.js / README.txt texts."""
    if "manifest.js" in texts:
        cfg = load_js_assignment(texts["manifest.js"], "manifest.js")
        ui = cfg.get("userInfo", {}) if isinstance(cfg, dict) else {}
        if ui.get("accountId"):
            return str(ui["accountId"]), ui.get("userName"), ui.get("displayName")
    if "account.js" in texts:
        items = load_js_assignment(texts["account.js"], "account.js")
        if items and isinstance(items, list):
            a = items[0].get("account", {})
            if a.get("accountId"):
                return str(a["accountId"]), a.get("username"), a.get("accountDisplayName")
    if "README.txt" in texts:
        t = texts["README.txt"]
        m_id = re.search(r"Account ID:\s*(\d+)", t)
        m_user = re.search(r"@username[^:]*:\s*(\S+)", t)
        if m_id:
            return m_id.group(1), m_user.group(1) if m_user else None, None
    return None, None, None


def _companions(path: Path) -> dict[str, str]:
    out = {}
    for name in ("manifest.js", "account.js", "README.txt"):
        p = path.parent / name
        if p.exists():
            out[name] = read_text(p)[0]
    return out


class TweetArchive(Adapter):
    name = "x_archive"
    label = "X/Twitter — archive du compte (tweets.js / tweet.js, dossier ou .zip)"
    platform = PLATFORM
    signature = ("window.YTD.tweets.part0", "full_text", "favorite_count", "retweet_count")

    def sniff(self, probe: Probe) -> float:
        head = probe.text_head[:400]
        if probe.kind == "js":
            if TWEETS_JS_RE.match(head):
                return 0.95
            if head.lstrip().startswith("window.__THAR_CONFIG") or YTD_RE.match(head):
                return 0.9  # companion files of an archive: recognised, then skipped
        if probe.kind in ("text", "csv") and README_MARK in probe.text_head[:2000]:
            return 0.9
        if probe.kind == "zip":
            try:
                with zipfile.ZipFile(probe.path) as z:
                    if any(ARCHIVE_MEMBER_RE.search(n) for n in z.namelist()):
                        return 0.9
            except zipfile.BadZipFile:
                return 0.0
        return 0.0

    def parse(self, path: Path, probe: Probe, ctx: Context) -> Parsed:
        parsed = Parsed(format=self.name)
        head = probe.text_head[:400]
        if probe.kind == "zip":
            check_zip(path)
            texts: dict[str, str] = {}
            tweet_texts: list[tuple[str, str]] = []
            with zipfile.ZipFile(path) as z:  # read members in memory, never extract to disk
                for info in z.infolist():
                    base = PurePosixPath(info.filename).name
                    if ARCHIVE_MEMBER_RE.search(info.filename):
                        tweet_texts.append((info.filename, z.read(info).decode("utf-8-sig")))
                    elif base in ("manifest.js", "account.js", "README.txt"):
                        texts[base] = z.read(info).decode("utf-8-sig", errors="replace")
            if not tweet_texts:
                raise ImportFailure(f"{path} : archive sans fichier tweets.js")
        elif probe.kind == "js" and TWEETS_JS_RE.match(head):
            texts = _companions(path)
            tweet_texts = [(path.name, read_text(path)[0])]
        else:
            what = "manifest.js" if "__THAR_CONFIG" in head else (
                "README.txt" if README_MARK in probe.text_head[:2000] else (YTD_RE.match(head).group(1) + ".js"
                                                                            if YTD_RE.match(head) else path.name))
            parsed.notes.append(f"fichier compagnon de l'archive X ({what}) : rien à importer, ignoré")
            return parsed
        owner_id, owner_user, owner_name = archive_owner(texts)
        items: list[dict] = []
        for where, text in sorted(tweet_texts):
            data = load_js_assignment(text, where)
            if not isinstance(data, list):
                raise ImportFailure(f"{where} : liste de tweets attendue")
            items.extend(d.get("tweet", d) for d in data if isinstance(d, dict))
        parsed.rows_read = len(items)
        if owner_id or owner_user:
            aid, terr, official = resolve_account(ctx, PLATFORM, owner_id, owner_user)
            if aid is None:
                aid = f"x:{owner_id or owner_user}"
                parsed.add("accounts", pd.DataFrame([account_row(aid, PLATFORM, owner_id, owner_user, owner_name)]))
        else:
            aid, terr, official = hint_account(ctx, PLATFORM)
            if aid is None:
                raise ImportFailure(
                    f"{path} : le propriétaire de l'archive est inconnu (pas de manifest.js à côté). "
                    "Relancez avec --account x:<identifiant ou @handle>.")
            if owner_user is None and ctx.registry is not None and ctx.registry.get_account(aid):
                owner_user = ctx.registry.get_account(aid).handle
        if not items:
            return parsed
        df = pd.DataFrame({
            "native_id": [str(t.get("id_str") or t.get("id") or "") for t in items],
            "created_raw": [t.get("created_at") for t in items],
            "text": [t.get("full_text") or t.get("text") for t in items],
            "lang": [t.get("lang") for t in items],
            "likes": [t.get("favorite_count") for t in items],
            "shares": [t.get("retweet_count") for t in items],
            "reply_user": [t.get("in_reply_to_user_id_str") for t in items],
            "reply_status": [t.get("in_reply_to_status_id_str") for t in items],
            "media": [((t.get("extended_entities") or t.get("entities") or {}).get("media") or [{}])[0].get("type")
                      for t in items],
        })
        df["_line"] = pd.Series(range(1, len(df) + 1))  # position in the tweet list
        created = _utc(df["created_raw"], "%a %b %d %H:%M:%S %z %Y")
        parsed.rejects += _date_rejects(df["created_raw"], created, "created_at", df["_line"])
        text = df["text"].map(lambda s: clean_text(html.unescape(s)) if isinstance(s, str) else None)
        lang = df["lang"].map(x_lang)
        likes = to_int64(df["likes"])
        is_reply_to_other = df["reply_user"].notna() & (df["reply_user"] != owner_id)
        if owner_id is None and owner_user:  # only a handle known: compare with the screen name
            names = [str(t.get("in_reply_to_screen_name") or "").lower() for t in items]
            is_reply_to_other = df["reply_user"].notna() & (pd.Series(names) != owner_user.lower())
        posts = df[~is_reply_to_other]
        handle = owner_user or "i"
        p = pd.DataFrame({
            "post_id": "x:" + posts["native_id"], "platform": PLATFORM, "native_id": posts["native_id"],
            "account_id": aid, "territory_id": terr, "created_at": created[posts.index], "source_tz": "UTC",
            "text": text[posts.index], "lang": lang[posts.index],
            "permalink": f"https://x.com/{handle}/status/" + posts["native_id"],
            "post_type": [_post_type(t, m) for t, m in zip(text[posts.index], posts["media"], strict=True)],
            "likes": likes[posts.index], "reactions": likes[posts.index], "shares": to_int64(posts["shares"]),
            "_line": posts["_line"],
        })
        _null_retweet_metrics(p)
        parsed.add("posts", p)
        rep = df[is_reply_to_other]
        if len(rep):
            author_key = owner_id or owner_user
            m = pd.DataFrame({
                "message_id": "x:" + rep["native_id"], "platform": PLATFORM, "kind": "reply",
                "post_id": None, "parent_id": "x:" + rep["reply_status"].astype(str),
                "account_id": aid, "territory_id": terr,
                "author_hash": hash_authors(ctx, PLATFORM, pd.Series(author_key, index=rep.index)),
                "is_official": official, "created_at": created[rep.index], "source_tz": "UTC",
                "text": text[rep.index], "lang": lang[rep.index], "likes": likes[rep.index],
                "_line": rep["_line"],
            })
            if ctx.keep_author_names:
                m["author_name"] = owner_name or owner_user
            parsed.add("messages", m)
            parsed.notes.append(f"{fr_count(len(rep), 'réponse')} du compte à d'autres comptes {fr_plural(len(rep), 'importée')} comme messages")
        return finish(parsed)


def _null_retweet_metrics(p: pd.DataFrame) -> None:
    """A retweet carries the counts of the original tweet: they are not ours, so NULL."""
    rt = p["post_type"] == "retweet"
    if rt.any():
        for c in ("likes", "reactions", "shares", "comments", "quotes", "impressions", "saves"):
            if c in p:
                p.loc[rt, c] = pd.NA


def _post_type(text: str | None, media: str | None) -> str:
    if isinstance(text, str) and text.startswith("RT @"):
        return "retweet"
    if media == "photo":
        return "photo"
    if media in ("video", "animated_gif"):
        return "video"
    return "status"


# ======================================================================== API v2 (twarc2 JSONL)
class ApiV2(Adapter):
    name = "x_api_v2"
    label = "X/Twitter API v2 — JSONL de twarc2 (pages de réponses ou tweets aplatis)"
    platform = PLATFORM
    signature = ("data", "includes", "author_id", "public_metrics", "conversation_id")

    def sniff(self, probe: Probe) -> float:
        j = probe.json_head
        if probe.kind not in ("jsonl", "json") and not (probe.kind == "binary" and probe.text_head.startswith("{")):
            return 0.0
        if not isinstance(j, dict):
            # first line may be a truncated stream line: look at the raw head
            return 0.6 if '"author_id"' in probe.text_head[:5000] and '"created_at"' in probe.text_head[:20000] else 0.0
        if "__twarc" in j:
            return 0.95
        d = j.get("data")
        if isinstance(d, list) and d and isinstance(d[0], dict):
            if "tweet_count" in d[0] or ("text" in d[0] and "id" in d[0]) or "username" in d[0]:
                return 0.85
        if isinstance(d, dict) and "text" in d and "id" in d:
            return 0.85
        if "id" in j and "text" in j and ("author_id" in j or "public_metrics" in j):
            return 0.85
        return 0.0

    def parse(self, path: Path, probe: Probe, ctx: Context) -> Parsed:
        parsed = Parsed(format=self.name)
        tweets: list[dict] = []
        context_tweets: dict[str, dict] = {}  # includes.tweets / expanded referenced tweets
        users: dict[str, dict] = {}
        bad_lines: list[int] = []
        n_counts = n_user_rows = n_errors = 0
        # Streamed line by line: a million-tweet JSONL is several GB of text.
        enc = "utf-8-sig" if (probe.encoding or "utf-8").startswith("utf-8") else probe.encoding
        with open(path, encoding=enc, errors="replace") as fh:
            for lineno, obj in self._objects(fh, bad_lines):
                inc = obj.get("includes") or {}
                for u in inc.get("users", []):
                    users[str(u.get("id"))] = u
                for t in inc.get("tweets", []):
                    context_tweets[str(t.get("id"))] = t
                data = obj.get("data")
                if isinstance(data, list):
                    for d in data:
                        if not isinstance(d, dict):
                            continue
                        if "tweet_count" in d:
                            n_counts += 1
                        elif "text" in d:
                            tweets.append((lineno, d))
                        elif "username" in d:
                            users[str(d.get("id"))] = d
                            n_user_rows += 1
                elif isinstance(data, dict) and "text" in data:
                    tweets.append((lineno, data))
                elif "id" in obj and "text" in obj:  # flattened: one tweet per line, expansions inline
                    tweets.append((lineno, obj))
                    if isinstance(obj.get("author"), dict):
                        users[str(obj["author"].get("id"))] = obj["author"]
                    for r in obj.get("referenced_tweets") or []:
                        if isinstance(r, dict) and "author_id" in r:
                            context_tweets[str(r["id"])] = r
                            if isinstance(r.get("author"), dict):
                                users[str(r["author"].get("id"))] = r["author"]
                elif "errors" in obj:
                    n_errors += 1
        if bad_lines:
            parsed.notes.append(f"{fr_count(len(bad_lines), 'ligne illisible ignorée', 'lignes illisibles ignorées')} (erreur de flux, "
                                f"{fr_plural(len(bad_lines), 'ligne')} "
                                f"{', '.join(map(str, bad_lines[:5]))})")
        if n_errors:
            parsed.notes.append(f"{fr_count(n_errors, 'réponse')} d'erreur de l'API {fr_plural(n_errors, 'ignorée')}")
        if not tweets:
            if n_counts:
                parsed.notes.append("fichier de comptages (counts) : aucun tweet, ignoré")
                return parsed
            if n_user_rows:
                acc = [self._account(u) for u in users.values()]
                parsed.rows_read = n_user_rows
                parsed.add("accounts", pd.DataFrame(acc).drop_duplicates("account_id"))
                parsed.notes.append(f"{fr_count(len(acc), 'compte importé', 'comptes importés')} (réponse « users »)")
                return parsed
            parsed.notes.append("aucun tweet dans le fichier")
            return parsed
        parsed.rows_read = len(tweets)
        self._build(parsed, tweets, context_tweets, users, ctx)
        return parsed

    @staticmethod
    def _objects(fh: Any, bad_lines: list[int]) -> Any:
        """``(line number, JSON object)`` of each readable line; unreadable ones are noted."""
        for lineno, line in enumerate(fh, start=1):
            line = line.strip()
            if not line:
                continue
            try:
                obj = json.loads(line)
            except json.JSONDecodeError:
                bad_lines.append(lineno)
                continue
            if isinstance(obj, dict):
                yield lineno, obj
            else:
                bad_lines.append(lineno)

    @staticmethod
    def _dates(parsed: Parsed, df: pd.DataFrame) -> pd.DataFrame:
        """Parse ``created_raw``; a tweet with an unreadable date is rejected (and never written)."""
        raw = df.pop("created_raw")
        df["created_at"] = _utc(raw)
        bad = df["created_at"].isna() & raw.notna()
        for i in df.index[bad]:
            line = df.at[i, "_line"]
            parsed.rejects.append(Reject(None if pd.isna(line) else int(line), "created_at", raw[i], "date illisible"))
        return df[~bad]

    @staticmethod
    def _account(u: dict) -> dict:
        return account_row(f"x:{u.get('id')}", PLATFORM, str(u.get("id")), u.get("username"), u.get("name"))

    def _build(self, parsed: Parsed, tweets: list[tuple[int, dict]], ctx_tweets: dict[str, dict],
               users: dict[str, dict], ctx: Context) -> None:
        cache: dict[tuple, tuple] = {}

        def official(uid: str | None, username: str | None = None) -> tuple[str | None, str | None]:
            k = (uid, username)
            if k not in cache:
                aid, terr, ok = resolve_account(ctx, PLATFORM, uid, username)
                cache[k] = (aid, terr) if ok else (None, None)
            return cache[k]

        hint_id, hint_terr, _ = hint_account(ctx, PLATFORM)
        post_rows, msg_rows, seen_authors = [], [], {}
        n_rt = 0
        for lineno, t in tweets:
            author = str(t.get("author_id") or (t.get("author") or {}).get("id") or "")
            u = users.get(author, {})
            a_aid, a_terr = official(author, u.get("username"))
            refs = {r.get("type"): str(r.get("id")) for r in t.get("referenced_tweets") or [] if isinstance(r, dict)}
            pm = t.get("public_metrics") or {}
            base = {"native_id": str(t["id"]), "created_raw": t.get("created_at"), "text": t.get("text"),
                    "lang": t.get("lang"), "_line": lineno}
            replied = refs.get("replied_to")
            reply_uid = t.get("in_reply_to_user_id")
            if reply_uid is None and replied in ctx_tweets:
                reply_uid = ctx_tweets[replied].get("author_id")
            reply_uid = None if reply_uid is None else str(reply_uid)
            if a_aid is not None:
                if replied and reply_uid and reply_uid != author and official(reply_uid)[0] is None:
                    msg_rows.append({**base, "kind": "reply", "post_id": None, "parent_id": f"x:{replied}",
                                     "account_id": a_aid, "territory_id": a_terr, "author": author,
                                     "author_name": u.get("name"), "is_official": True,
                                     "likes": pm.get("like_count"), "replies": pm.get("reply_count")})
                else:
                    post_rows.append({**base, "account_id": a_aid, "territory_id": a_terr,
                                      "username": u.get("username"),
                                      "post_type": "retweet" if "retweeted" in refs else (
                                          "quote" if "quoted" in refs else ("reply" if replied else "status")),
                                      "likes": pm.get("like_count"), "shares": pm.get("retweet_count"),
                                      "comments": pm.get("reply_count"), "quotes": pm.get("quote_count"),
                                      "impressions": pm.get("impression_count"),
                                      "saves": pm.get("bookmark_count")})
                continue
            seen_authors[author] = u  # retweeters too: impersonators often amplify the official account
            if "retweeted" in refs:
                n_rt += 1
                continue
            kind, post_id, parent_id, t_aid, t_terr = "mention", None, None, None, None
            if replied and reply_uid:
                t_aid, t_terr = official(reply_uid)
                if t_aid is not None:
                    kind, post_id, parent_id = "reply", f"x:{replied}", f"x:{replied}"
            if t_aid is None and "quoted" in refs and refs["quoted"] in ctx_tweets:
                t_aid, t_terr = official(str(ctx_tweets[refs["quoted"]].get("author_id")))
                if t_aid is not None:
                    post_id = f"x:{refs['quoted']}"
            if t_aid is None:
                for mnt in (t.get("entities") or {}).get("mentions") or []:
                    t_aid, t_terr = official(mnt.get("id"), mnt.get("username"))
                    if t_aid is not None:
                        break
            if t_aid is None:
                t_aid, t_terr = hint_id, hint_terr
            msg_rows.append({**base, "kind": kind, "post_id": post_id, "parent_id": parent_id,
                             "account_id": t_aid, "territory_id": t_terr, "author": author,
                             "author_name": u.get("name"), "is_official": False,
                             "likes": pm.get("like_count"), "replies": pm.get("reply_count")})
        # Official tweets the collected ones answer or quote: posts, with their metrics.
        for tid, t in ctx_tweets.items():
            author = str(t.get("author_id") or "")
            a_aid, a_terr = official(author, (users.get(author) or {}).get("username"))
            if a_aid is not None and not (t.get("referenced_tweets") and any(
                    r.get("type") == "replied_to" for r in t["referenced_tweets"] if isinstance(r, dict))):
                pm = t.get("public_metrics") or {}
                post_rows.append({"native_id": tid, "created_raw": t.get("created_at"), "text": t.get("text"),
                                  "lang": t.get("lang"), "_line": None, "account_id": a_aid,
                                  "territory_id": a_terr, "username": (users.get(author) or {}).get("username"),
                                  "post_type": "status", "likes": pm.get("like_count"),
                                  "shares": pm.get("retweet_count"), "comments": pm.get("reply_count"),
                                  "quotes": pm.get("quote_count"), "impressions": pm.get("impression_count"),
                                  "saves": pm.get("bookmark_count")})
        if n_rt:
            parsed.notes.append(f"{fr_count(n_rt, 'retweet')} d'autres comptes {fr_plural(n_rt, 'ignoré')} (copies sans texte propre)")
        if post_rows:
            p = pd.DataFrame(post_rows)
            p = self._dates(parsed, p)
            p["post_id"] = "x:" + p["native_id"]
            p["platform"] = PLATFORM
            p["source_tz"] = "UTC"
            p["text"] = clean_series(p["text"])
            p["lang"] = map_unique(p["lang"], x_lang)
            p["permalink"] = "https://x.com/" + p.pop("username").fillna("i") + "/status/" + p["native_id"]
            for c in ("likes", "shares", "comments", "quotes", "impressions", "saves"):
                p[c] = to_int64(p[c])
            p["reactions"] = p["likes"]
            _null_retweet_metrics(p)
            parsed.add("posts", p.drop_duplicates("post_id", keep="first"))
        if msg_rows:
            m = pd.DataFrame(msg_rows)
            m = self._dates(parsed, m)
            m["message_id"] = "x:" + m.pop("native_id")
            m["platform"] = PLATFORM
            m["source_tz"] = "UTC"
            m["text"] = clean_series(m["text"])
            m["lang"] = map_unique(m["lang"], x_lang)
            m["author_hash"] = hash_authors(ctx, PLATFORM, m.pop("author"))
            if not ctx.keep_author_names:
                m["author_name"] = None
            for c in ("likes", "replies"):
                m[c] = to_int64(m[c])
            parsed.add("messages", m)
        if seen_authors:
            acc = [self._account({"id": k, **v}) if v else account_row(f"x:{k}", PLATFORM, k) for k, v in seen_authors.items()]
            parsed.add("accounts", pd.DataFrame(acc))


ADAPTERS = [TweetActivity(), TweetAdsReport(), TweetArchive(), ApiV2()]
