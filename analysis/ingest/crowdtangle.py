"""CrowdTangle exports (README §3): dashboard CSV (Facebook / Instagram), minet ``ct posts`` CSV,
and the per-post ``history_post_<id>.csv``.

The pages seen here are post authors, usually not ours: each becomes an ``accounts`` row
(non-official unless listed in the registry) — the impersonation watch looks at them.

Quirks handled: numbers in the exporting user's locale (``407.137`` thousands, ``"1,4"``
decimals) detected once per file from all numeric columns; ``Post Created`` with a timezone
abbreviation (``BRT``); settings-dependent column names matched by prefix; minet's duplicated
``account_platform`` header and ``|``-separated lists; the history file's TAB inside the id
cell, ``2.3x`` scores and trailing header cells holding the post date and URL.
"""

from __future__ import annotations

import re
from pathlib import Path

import numpy as np
import pandas as pd

from analysis.ingest.base import (
    TZ_ABBREV,
    Adapter,
    Context,
    ImportFailure,
    Parsed,
    Reject,
    clean_text,
    content_id,
)
from analysis.ingest.meta import (
    DEFAULT_TZ,
    accounts_frame,
    as_int,
    col,
    drop_rejected,
    frame,
    local_to_utc,
    num_col,
    post_types,
    prefixed,
    resolve_account,
    text_col,
)
from analysis.ingest.sniff import Probe, read_csv_all, read_text

REACTIONS = ("likes", "love", "wow", "haha", "sad", "angry", "care")
DASH_FB = ("Page Name", "User Name", "Facebook Id", "Post Created", "Type", "Total Interactions", "Likes",
           "Comments", "Shares", "URL", "Message")
DASH_IG = ("Account", "User Name", "Followers at Posting", "Post Created", "Type", "Total Interactions", "Likes",
           "Comments", "Views", "URL", "Description")
MINET = ("ct_id", "platform_id", "platform", "type", "message", "date", "post_url", "actual_like_count",
         "actual_comment_count", "actual_share_count", "account_name", "account_handle", "account_platform")


def detect_decimal(df: pd.DataFrame, count_cols: list[str], other_cols: list[str]) -> str | None:
    """The file's decimal mark, decided once from every numeric cell (not cell by cell).

    Counts cannot be fractional, so ``407.137`` in a count column means dot thousands, hence
    comma decimals; ``1,4`` / ``15,42`` anywhere means comma decimals; ``2.35`` or
    ``1,234`` the reverse. None when the file never says (plain integers only).
    """
    comma = dot = 0
    for c in count_cols + other_cols:
        if c is None or c not in df.columns:
            continue
        s = text_col(df, c).dropna().astype(str).str.replace(r"[xX%\s]", "", regex=True)
        if not len(s):
            continue
        comma += int(s.str.fullmatch(r"-?\d+,\d{1,2}|-?\d{1,3}(\.\d{3})+,\d+").sum())
        dot += int(s.str.fullmatch(r"-?\d+\.\d{1,2}|-?\d{1,3}(,\d{3})+\.\d+").sum())
        if c in count_cols:
            comma += int(s.str.fullmatch(r"-?\d{1,3}(\.\d{3})+").sum())
            dot += int(s.str.fullmatch(r"-?\d{1,3}(,\d{3})+").sum())
    if comma and dot:
        raise ImportFailure("Nombres de formats contradictoires dans le fichier (virgule et point décimaux)")
    return "," if comma else ("." if dot else None)


_FB_POST_RE = re.compile(r"/(?:posts|videos|photos|permalink)/(?:[^/?#]+/)*?(\d{6,})")
_FB_QS_RE = re.compile(r"(?:story_fbid|fbid)=(\d+)")
_IG_RE = re.compile(r"instagram\.com/(?:[^/]+/)?(?:p|reel|tv)/([A-Za-z0-9_-]+)")


def post_native_id(platform: str, url: str | None, platform_id: str | None = None) -> str | None:
    """Native post id: Facebook bare post id (as MBS exports it), Instagram shortcode."""
    if platform == "facebook":
        if platform_id and re.fullmatch(r"\d+(_\d+)?", platform_id):
            return platform_id.split("_")[-1]
        if url:
            m = _FB_POST_RE.search(url) or _FB_QS_RE.search(url)
            if m:
                return m.group(1)
    elif url:
        m = _IG_RE.search(url)
        if m:
            return m.group(1)
    return content_id(platform, url) if url else None


def _created_with_abbrev(s: pd.Series, df: pd.DataFrame, ctx: Context, out: Parsed, label: str) -> pd.Series:
    """``2021-07-05 18:02:45 BRT`` → naive UTC; timestamps without zone read in ctx.source_tz."""
    parts = s.str.extract(r"^(.*\d)\s+([A-Z]{2,5})$")
    has_abbr = parts[1].notna()
    res = pd.Series(pd.NaT, index=s.index, dtype="datetime64[ns]")
    if has_abbr.any():
        base = pd.to_datetime(parts.loc[has_abbr, 0], errors="coerce", format="mixed")
        offs = parts.loc[has_abbr, 1].map(TZ_ABBREV)
        for idx in base.index[base.isna() | offs.isna()]:
            out.rejects.append(Reject(int(df.at[idx, "_line"]), label, s[idx], "date ou fuseau illisible"))
        res.loc[has_abbr] = (base - pd.to_timedelta(offs.astype(float), unit="h")).astype("datetime64[ns]")
    rest = s.notna() & ~has_abbr
    if rest.any():
        res.loc[rest] = local_to_utc(s[rest], "%Y-%m-%d %H:%M:%S", ctx.source_tz or DEFAULT_TZ, df.loc[rest],
                                     out.rejects, label).astype("datetime64[ns]")
    return res


def _account_map(ctx: Context, platform: str, keys: pd.Series) -> tuple[pd.Series, pd.Series, list]:
    acc_rows, acc_of = [], {}
    for k in dict.fromkeys(keys):
        if not any(k):
            continue
        aid, terr, row = resolve_account(ctx, platform, *k)
        acc_of[k] = (aid, terr)
        acc_rows.append(row)
    return (keys.map(lambda k: acc_of.get(k, (None, None))[0]),
            keys.map(lambda k: acc_of.get(k, (None, None))[1]), acc_rows)


def _reactions_total(posts: pd.DataFrame, exported: list[str]) -> pd.Series:
    """Sum of the reaction types the export has columns for (``exported``)."""
    present = [c for c in REACTIONS if c in exported]
    if not present:
        return pd.Series(pd.NA, index=posts.index, dtype="Int64")
    # Sum only where every reaction type of the file is known: a partial sum would understate.
    block = posts[present]
    return block.sum(axis=1, min_count=len(present)).where(block.notna().all(axis=1)).astype("Int64")


class CrowdTangleDashboard(Adapter):
    name = "crowdtangle_dashboard"
    label = "CrowdTangle — export CSV du tableau de bord (Facebook / Instagram)"
    platform = "facebook"
    signature = DASH_FB

    def sniff(self, probe: Probe) -> float:
        if probe.kind != "csv" or not probe.rows:
            return 0.0
        h = {x.lower() for x in map(str, probe.rows[0])}
        h = {x.replace("\ufeff", "").strip() for x in h}
        if {"post created", "total interactions", "user name"} <= h and ("facebook id" in h or "account" in h):
            return 0.95
        return 0.0

    def parse(self, path: Path, probe: Probe, ctx: Context) -> Parsed:
        rows, lines = read_csv_all(probe)
        df = frame(rows, lines, 0)
        out = Parsed(format=self.name, rows_read=len(df))
        if not len(df):
            return out
        instagram = "facebook id" not in df.columns
        platform = "instagram" if instagram else "facebook"
        counts = [col(df, n) for n in ("total interactions", "likes", "comments", "shares", "love", "wow", "haha",
                                        "sad", "angry", "care", "post views", "total views", "views",
                                        "likes at posting", "followers at posting")]
        others = [prefixed(df, "total interactions (weighted"), prefixed(df, "overperforming score")]
        decimal = detect_decimal(df, [c for c in counts if c], [c for c in others if c])
        if decimal:
            out.notes.append(f"séparateur décimal du fichier : « {decimal} »")
        # Parse the settings-dependent columns too: garbage there is a sign of a broken file.
        for c in others:
            num_col(df, c, out.rejects, decimal)
        n = lambda *names: as_int(num_col(df, col(df, *names), out.rejects, decimal))  # noqa: E731

        native_acc = text_col(df, col(df, "facebook id"))
        handle = text_col(df, col(df, "user name"))
        name = text_col(df, col(df, "page name", "account"))
        keys = pd.Series(list(zip(native_acc, handle, name, strict=True)), index=df.index)
        account_id, territory_id, acc_rows = _account_map(ctx, platform, keys)

        url = text_col(df, col(df, "url"))
        native = pd.Series([post_native_id(platform, u) for u in url], index=df.index, dtype=object)
        created = _created_with_abbrev(text_col(df, col(df, "post created")), df, ctx, out, "Post Created")
        text = text_col(df, col(df, "message")) if not instagram else text_col(df, col(df, "description"))
        if instagram:
            text = text.fillna(text_col(df, col(df, "title")))
        posts = pd.DataFrame({
            "post_id": platform + ":" + native.fillna(""),
            "platform": platform, "native_id": native, "account_id": account_id, "territory_id": territory_id,
            "created_at": created, "source_tz": "UTC",
            "text": text.map(clean_text), "post_type": text_col(df, col(df, "type")).pipe(post_types),
            "permalink": url,
            "likes": n("likes"), "comments": n("comments"), "shares": n("shares"),
            "love": n("love"), "wow": n("wow"), "haha": n("haha"), "sad": n("sad"), "angry": n("angry"),
            "care": n("care"),
            "video_views": n("post views", "views"),
            "engagements_reported": n("total interactions"),
            "followers_at_posting": n("followers at posting"),
            "_line": df["_line"],
        })
        posts.loc[native.isna(), "post_id"] = None
        posts["reactions"] = _reactions_total(posts, [r for r in REACTIONS if r in df.columns])
        out.add("accounts", accounts_frame(acc_rows))
        out.add("posts", posts)
        return drop_rejected(out)


class MinetCrowdTangle(Adapter):
    name = "crowdtangle_minet"
    label = "CrowdTangle via minet (« minet ct posts », CSV)"
    platform = "facebook"
    signature = MINET
    # One post per row, header first, plain API numbers (no per-file decimal guess): big CSVs
    # import in chunks (ingest.chunked). Not the dashboard export: detect_decimal decides the
    # decimal mark from every numeric cell of the file.
    streamable = True

    def sniff(self, probe: Probe) -> float:
        if probe.kind != "csv" or not probe.rows:
            return 0.0
        h = {str(x).replace("\ufeff", "").strip() for x in probe.rows[0]}
        if "ct_id" in h and ("actual_like_count" in h or "account_platform" in h):
            return 0.95
        return 0.0

    def parse(self, path: Path, probe: Probe, ctx: Context) -> Parsed:
        rows, lines = read_csv_all(probe)
        df = frame(rows, lines, 0)
        out = Parsed(format=self.name, rows_read=len(df))
        if not len(df):
            return out
        plat_raw = text_col(df, col(df, "platform", "account_platform")).fillna("facebook").str.lower()
        platform = plat_raw.map(lambda p: "instagram" if "instagram" in p else "facebook")
        # API numbers are plain (no locale): parse with '.' decimals.
        n = lambda name: as_int(num_col(df, col(df, name), out.rejects, "."))  # noqa: E731
        acc_native = text_col(df, col(df, "account_platform_id"))
        handle = text_col(df, col(df, "account_handle"))
        name = text_col(df, col(df, "account_name"))
        acc_rows, account_id, territory_id = [], [], []
        cache: dict = {}
        for p, k in zip(platform, zip(acc_native, handle, name, strict=True), strict=True):
            if (p, k) not in cache:
                cache[(p, k)] = resolve_account(ctx, p, *k) if any(k) else (None, None, None)
                acc_rows.append(cache[(p, k)][2])
            account_id.append(cache[(p, k)][0])
            territory_id.append(cache[(p, k)][1])
        url = text_col(df, col(df, "post_url", "link"))
        pid = text_col(df, col(df, "platform_id"))
        native = pd.Series([post_native_id(p, u, i) for p, u, i in zip(platform, url, pid, strict=True)],
                           index=df.index, dtype=object)
        when = text_col(df, col(df, "datetime")).fillna(text_col(df, col(df, "date")))
        # CrowdTangle's API gives UTC times.
        created = pd.to_datetime(when, errors="coerce", utc=True, format="mixed").dt.tz_localize(None)
        for idx in df.index[when.notna() & created.isna()]:
            out.rejects.append(Reject(int(df.at[idx, "_line"]), "datetime", when[idx], "date illisible"))
        text = text_col(df, col(df, "message")).fillna(text_col(df, col(df, "description"))).fillna(
            text_col(df, col(df, "title")))
        followers = n("subscriber_count").fillna(n("account_subscriber_count"))
        posts = pd.DataFrame({
            "post_id": platform + ":" + native.fillna(""),
            "platform": platform, "native_id": native, "account_id": account_id, "territory_id": territory_id,
            "created_at": created, "source_tz": "UTC", "text": text.map(clean_text),
            "post_type": text_col(df, col(df, "type")).pipe(post_types), "permalink": url,
            "likes": n("actual_like_count"), "comments": n("actual_comment_count"),
            "shares": n("actual_share_count"), "love": n("actual_love_count"), "wow": n("actual_wow_count"),
            "haha": n("actual_haha_count"), "sad": n("actual_sad_count"), "angry": n("actual_angry_count"),
            "care": n("actual_care_count"),
            "followers_at_posting": followers,
            "_line": df["_line"],
        })
        posts.loc[native.isna(), "post_id"] = None
        posts["reactions"] = _reactions_total(posts, [r for r in REACTIONS if f"actual_{r.rstrip('s')}_count"
                                                      in df.columns or f"actual_{r}_count" in df.columns])
        out.add("accounts", accounts_frame(acc_rows))
        out.add("posts", posts)
        return drop_rejected(out)


HISTORY_COLS = {"likes": "likes", "comments": "comments", "shares": "shares", "love": "loves", "wow": "wows",
                "haha": "hahas", "sad": "sads", "angry": "angrys", "care": "cares", "reactions": "reactions",
                "video_views": "post views"}


class CrowdTangleHistory(Adapter):
    """Per-post history: the latest snapshot becomes the post's counts (the curve is not stored).

    Its header ends with the post date (GMT) and the post URL; the author is only known by
    the handle in that URL, so the account is ``facebook:<handle>``.
    """

    name = "crowdtangle_history"
    label = "CrowdTangle — historique d'une publication (history_post_<id>.csv)"
    platform = "facebook"
    signature = ("ID", "Score Date (GMT)", "Timestep", "Likes", "Average Likes", "Post Date (GMT)")

    def sniff(self, probe: Probe) -> float:
        if probe.kind != "csv" or not probe.rows:
            return 0.0
        h = {str(x).replace("\ufeff", "").strip().lower() for x in probe.rows[0]}
        return 0.95 if {"score date (gmt)", "timestep", "post date (gmt)"} <= h else 0.0

    def parse(self, path: Path, probe: Probe, ctx: Context) -> Parsed:
        rows, lines = read_csv_all(probe)
        head = [str(c).replace("\ufeff", "").strip() for c in rows[0]]
        i = [h.lower() for h in head].index("post date (gmt)")
        tail = [c for c in head[i + 1:] if c]
        post_date = next((c for c in tail if re.match(r"\d{4}-\d{2}-\d{2}", c)), None)
        post_url = next((c for c in tail if c.startswith("http")), None)
        df = frame(rows, lines, 0)
        out = Parsed(format=self.name, rows_read=len(df))
        if not len(df):
            return out
        ids = text_col(df, "id").dropna().unique()
        if len(ids) != 1:
            raise ImportFailure(f"{path} : un seul identifiant de publication attendu, trouvé {len(ids)}")
        score_at = pd.to_datetime(text_col(df, "score date (gmt)"), errors="coerce")
        for idx in df.index[score_at.isna()]:
            out.rejects.append(Reject(int(df.at[idx, "_line"]), "Score Date (GMT)", df.at[idx, "score date (gmt)"],
                                      "date illisible"))
        num_col(df, prefixed(df, "overperforming"), out.rejects, ".")  # '2.3x': validated, not stored
        last = score_at.idxmax()
        m = re.search(r"facebook\.com/([^/?#]+)/", post_url or "")
        handle = m.group(1) if m and not m.group(1).isdigit() else None
        page_id = m.group(1) if m and m.group(1).isdigit() else None
        aid, terr, acc = resolve_account(ctx, "facebook", page_id, handle) if m else (None, None, None)
        native = post_native_id("facebook", post_url, str(ids[0]))
        rec = {"post_id": f"facebook:{native}", "platform": "facebook", "native_id": native, "account_id": aid,
               "territory_id": terr, "permalink": post_url, "source_tz": "UTC",
               "created_at": pd.Timestamp(post_date) if post_date else None, "_line": int(df.at[last, "_line"])}
        for canon, c in HISTORY_COLS.items():
            v = num_col(df.loc[[last]], col(df, c), out.rejects, ".")
            rec[canon] = None if np.isnan(v.iloc[0]) else int(round(v.iloc[0]))
        out.add("accounts", accounts_frame([acc]))
        out.add("posts", pd.DataFrame([rec]))
        out.notes.append(f"dernier relevé : {score_at[last]:%Y-%m-%d %H:%M} GMT")
        return drop_rejected(out)


def _api_posts(doc: object) -> list[dict] | None:
    """Posts of a CrowdTangle API document: one post, a list, or ``{"result": {"posts": [...]}}``."""
    if isinstance(doc, dict) and isinstance(doc.get("result"), dict) and "posts" in doc["result"]:
        doc = doc["result"]["posts"]
    if isinstance(doc, dict):
        doc = [doc]
    if isinstance(doc, list) and doc and all(isinstance(x, dict) for x in doc):
        if all("platformId" in x and "statistics" in x for x in doc[:5]):
            return doc
    return None


API_STATS = {"likes": "likeCount", "comments": "commentCount", "shares": "shareCount", "love": "loveCount",
             "wow": "wowCount", "haha": "hahaCount", "sad": "sadCount", "angry": "angryCount", "care": "careCount"}


class CrowdTangleApiJson(Adapter):
    """CrowdTangle API posts (``/posts``, ``/links``, ``/posts/search``): JSON or JSON lines."""

    name = "crowdtangle_api"
    label = "CrowdTangle — réponse JSON de l'API (publications)"
    platform = "facebook"
    signature = ("platformId", "postUrl", "statistics", "account", "subscriberCount")

    def sniff(self, probe: Probe) -> float:
        if probe.kind not in ("json", "jsonl"):
            return 0.0
        return 0.95 if _api_posts(probe.json_head) else 0.0

    def parse(self, path: Path, probe: Probe, ctx: Context) -> Parsed:
        import json


        text, _ = read_text(path, probe.encoding)
        try:
            if probe.kind == "jsonl":
                items = [json.loads(ln) for ln in text.splitlines() if ln.strip()]
                docs = [p for it in items for p in (_api_posts(it) or [])]
            else:
                docs = _api_posts(json.loads(text)) or []
        except json.JSONDecodeError as e:
            raise ImportFailure(f"{path} : JSON illisible ({e.msg})", line=e.lineno) from e
        out = Parsed(format=self.name, rows_read=len(docs))
        acc_rows, recs = [], []
        for i, d in enumerate(docs, start=1):
            platform = "instagram" if "instagram" in str(d.get("platform", "")).lower() else "facebook"
            acc = d.get("account") or {}
            aid, terr, row = resolve_account(ctx, platform, acc.get("platformId"), acc.get("handle"), acc.get("name"))
            acc_rows.append(row)
            native = post_native_id(platform, d.get("postUrl"), str(d.get("platformId") or ""))
            actual = (d.get("statistics") or {}).get("actual") or {}
            rec = {"post_id": f"{platform}:{native}" if native else None, "platform": platform,
                   "native_id": native, "account_id": aid, "territory_id": terr,
                   # CrowdTangle's API gives UTC times.
                   "created_at": pd.to_datetime(d.get("date"), errors="coerce"), "source_tz": "UTC",
                   "text": clean_text(d.get("message") or d.get("description") or d.get("title")),
                   "post_type": d.get("type"), "permalink": d.get("postUrl"),
                   "lang": d.get("languageCode") if d.get("languageCode") not in (None, "und") else None,
                   # The post's own count is "at posting"; the account's is today's: no fallback.
                   "followers_at_posting": d.get("subscriberCount"),
                   "_line": i}
            for canon, k in API_STATS.items():
                rec[canon] = actual.get(k)
            recs.append(rec)
        if recs:
            posts = pd.DataFrame(recs)
            for c in (*API_STATS, "followers_at_posting"):
                posts[c] = pd.to_numeric(posts[c], errors="coerce").astype("Int64")
            posts["post_type"] = posts["post_type"].pipe(post_types)
            posts["reactions"] = _reactions_total(posts, list(REACTIONS))
            out.add("accounts", accounts_frame(acc_rows))
            out.add("posts", posts)
        return drop_rejected(out)


ADAPTERS: list[Adapter] = [CrowdTangleDashboard(), MinetCrowdTangle(), CrowdTangleHistory(), CrowdTangleApiJson()]
