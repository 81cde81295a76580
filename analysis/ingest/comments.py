"""Comment-level exports: ExportComments (xlsx / CSV), YouTube Data API v3 comment threads, minet.

Ids and choices:
- ExportComments gives no comment id in cells, but its ``(view source)`` hyperlink ends with the
  comment id: Facebook comments become ``facebook:<post>_<comment>`` (Graph API form), YouTube
  ``youtube:<lc>``; without a link the id is a content hash. The post comes from the
  ``Source URL`` banner (``facebook.com/<page>_<post>``, ``/posts/<id>``, ``watch?v=<id>``…),
  else the comments are attached to ``--account`` only.
- Dates without a zone (ExportComments, older minet ``date``) are read in ``--tz``, default
  Europe/Paris like every naive timestamp; API timestamps carry their zone (UTC).
- YouTube API flattened CSV. Comment columns: ``videoId, textDisplay, textOriginal,
  authorDisplayName, authorChannelId, publishedAt, updatedAt, commentLikeCount`` and optionally
  ``id``/``commentId``, ``parentId``, ``totalReplyCount``. Merged video columns we read when
  present: ``title`` (or ``videoTitle``), ``viewCount``, ``likeCount``, ``commentCount``,
  ``videoPublishedAt`` (or ``video_publishedAt`` / a second ``publishedAt``), ``channelId``,
  ``channelTitle``; they become a ``posts`` row ``youtube:<videoId>``.
- minet ``fb comments``: both column sets; ``depth > 0`` / ``in_reply_to`` make a ``reply`` with
  ``parent_id``; a comment written by a registry page is ``is_official``.
"""

from __future__ import annotations

import html
import re
from pathlib import Path
from typing import Any

import numpy as np
import pandas as pd

from analysis.config import LOCAL_TZ
from analysis.ingest.base import (
    Adapter,
    Context,
    ImportFailure,
    Parsed,
    content_id,
    dedupe_headers,
    find_header,
    is_missing,
    norm_header,
)
from analysis.ingest.generic import (
    _id_str,
    clean_series,
    finish,
    hash_authors,
    hint_account,
    map_unique,
    parse_dates,
    parse_numbers,
    prefixed,
    resolve_account,
    to_int64,
)
from analysis.ingest.safety import check_zip
from analysis.ingest.sniff import Probe, read_csv_all, read_workbook

TAG_RE = re.compile(r"<[^>]+>")


_clean_series = clean_series


def platform_of_url(url: str | None) -> str | None:
    u = (url or "").lower()
    for key, plat in (("facebook.com", "facebook"), ("fb.com", "facebook"), ("youtube.com", "youtube"),
                      ("youtu.be", "youtube"), ("instagram.com", "instagram"), ("twitter.com", "x"),
                      ("x.com", "x"), ("linkedin.com", "linkedin")):
        if key in u:
            return plat
    return None


def post_from_url(url: str | None) -> tuple[str | None, str | None, str | None]:
    """``(platform, page native id or None, post native id)`` parsed from a post URL."""
    if not url:
        return None, None, None
    plat = platform_of_url(url)
    if plat == "facebook":
        m = re.search(r"facebook\.com/(\d+)_(\d+)", url)
        if m:
            return plat, m.group(1), m.group(2)
        m = re.search(r"story_fbid=(\d+)&(?:amp;)?id=(\d+)", url)
        if m:
            return plat, m.group(2), m.group(1)
        m = re.search(r"facebook\.com/([^/?#]+)/(?:posts|videos|photos)/(?:[^/]+/)?(\d+)", url)
        if m:
            return plat, m.group(1), m.group(2)
        m = re.search(r"(?:fbid|v)=(\d+)", url)
        if m:
            return plat, None, m.group(1)
        return plat, None, None
    if plat == "youtube":
        m = re.search(r"(?:v=|youtu\.be/|shorts/|embed/)([A-Za-z0-9_-]{6,})", url)
        return plat, None, m.group(1) if m else None
    if plat == "instagram":
        m = re.search(r"/(?:p|reel)/([A-Za-z0-9_-]+)", url)
        return plat, None, m.group(1) if m else None
    if plat == "x":
        m = re.search(r"/([A-Za-z0-9_]+)/status/(\d+)", url)
        return plat, (m.group(1) if m else None), (m.group(2) if m else None)
    return plat, None, None


def _comment_key_from_link(link: str | None) -> str | None:
    if not link:
        return None
    m = re.search(r"[?&]lc=([A-Za-z0-9_.-]+)", link) or re.search(r"comment_id=(\d+)", link) \
        or re.search(r"/(\d{6,})/?$", link)
    return m.group(1) if m else None


# ======================================================================== ExportComments
EC_COLS = ("(#)", "Name (click to view profile)", "Profile ID", "Date", "Likes", "Comment", "(view source)",
           "id", "Name", "isHearted", "isPinned")


class ExportComments(Adapter):
    name = "exportcomments"
    label = "ExportComments.com — commentaires (xlsx ou CSV : Facebook, YouTube…)"
    platform = "other"
    signature = ("Name (click to view profile)", "Profile ID", "Date", "Likes", "Comment", "(view source)")

    @staticmethod
    def _score(rows: list[list[Any]]) -> float:
        for r in rows[:15]:
            have = {norm_header(c) for c in r}
            if "comment" in have and ("name (click to view profile)" in have or "profile id" in have):
                return 0.95
            if "comment" in have and "name" in have and ("ishearted" in have or "ispinned" in have):
                return 0.95
        banner = any(str(r[0]).strip() == "ExportComments.com" for r in rows[:3] if r)
        return 0.6 if banner else 0.0

    def sniff(self, probe: Probe) -> float:
        if probe.kind == "csv":
            return self._score(probe.rows)
        if probe.sheets:
            return max((self._score(rows) for rows in probe.sheets.values()), default=0.0)
        return 0.0

    streamable = True  # one comment per row; big CSVs import in chunks (ingest.chunked)

    def stream_header(self, probe: Probe, ctx: Context | None = None) -> int | None:
        """Header index for chunking (the banner above it is repeated in each chunk), or None.

        Without a ``Source URL`` banner naming the platform, :meth:`parse` takes it from the
        first comment link of the file: a cross-row guess a chunk could make differently, so
        such files are read whole, except the YouTube CSV (``isHearted`` / ``isPinned``) whose
        links all point to YouTube.
        """
        if probe.kind != "csv":
            return None
        hi = find_header(probe.rows, EC_COLS, min_hits=3)
        if hi is None:
            return None
        if platform_of_url(_source_url(probe.rows[:hi])) is not None:
            return hi
        return hi if {"ishearted", "ispinned"} & {norm_header(c) for c in probe.rows[hi]} else None

    def parse(self, path: Path, probe: Probe, ctx: Context) -> Parsed:
        links: dict[int, str] = {}
        if probe.kind == "csv":
            rows, lines = read_csv_all(probe)
        elif probe.kind == "xlsx":
            rows, lines, links = _xlsx_with_links(path)
        else:
            book = read_workbook(path, probe.kind)
            rows = max(book.values(), key=lambda r: self._score(r))
            lines = list(range(1, len(rows) + 1))
        hi = find_header(rows, EC_COLS, min_hits=3)
        if hi is None:
            raise ImportFailure(f"{path} : en-tête ExportComments (Name, Date, Likes, Comment) introuvable")
        source_url = _source_url(rows[:hi])
        header = [norm_header(h) for h in rows[hi]]
        n = len(header)
        body, body_lines, body_links = [], [], []
        for r, ln in zip(rows[hi + 1:], lines[hi + 1:], strict=True):
            if any(not is_missing(c) for c in r):
                body.append((list(r) + [None] * n)[:n])
                body_lines.append(ln)
                body_links.append(links.get(ln))
        df = pd.DataFrame(body, columns=range(n), dtype=object)
        col = {h: j for j, h in reversed(list(enumerate(header))) if h}
        ln = pd.Series(body_lines, dtype="int64")
        is_youtube_csv = "ishearted" in col or "ispinned" in col
        src_c = col.get("(view source)")
        row_links = [lk or (s if isinstance(s, str) and s.startswith("http") else None)
                     for lk, s in zip(body_links, df[src_c] if src_c is not None else [None] * len(df), strict=True)]
        plat, page_id, post_native = post_from_url(source_url)
        if plat is None:  # no banner: the comment links still tell the platform
            plat = next((platform_of_url(lk) for lk in row_links if platform_of_url(lk)), None)
        platform = plat or ("youtube" if is_youtube_csv else "facebook")
        parsed = Parsed(format=self.name, rows_read=len(df))
        if df.empty:
            return parsed
        # The account the comments are addressed to: the page of the post, else --account.
        aid, terr, _ = resolve_account(ctx, platform, page_id) if page_id else (None, None, False)
        if aid is None:
            aid, terr, _ = hint_account(ctx, platform)
        post_id = f"{platform}:{post_native}" if post_native else None
        row_posts = [post_id] * len(df)
        if post_id is None:  # YouTube comment links carry the video: watch?v=<id>&lc=<comment>
            row_posts = [(lambda p: f"{platform}:{p[2]}" if p[2] and p[0] == platform and platform != "facebook"
                          else None)(post_from_url(lk)) for lk in row_links]
            if not any(row_posts):
                parsed.notes.append("publication commentée inconnue (pas de « Source URL » lisible)")
        name_c = col.get("name (click to view profile)", col.get("name"))
        names = df[name_c] if name_c is not None else pd.Series(None, index=df.index, dtype=object)
        if "profile id" in col:
            keys = df[col["profile id"]].map(
                lambda v: None if is_missing(v) else re.sub(r"^\s*ID:\s*", "", _id_str(v)))
        else:
            keys = names.map(lambda v: None if is_missing(v) else str(v).strip())
        tz = ctx.source_tz or LOCAL_TZ
        created, rj = parse_dates(df[col["date"]], "Date", ln, dayfirst=True, tz=tz) if "date" in col else (
            pd.Series(pd.NaT, index=df.index), [])
        parsed.rejects += rj
        likes = pd.Series(None, index=df.index, dtype="Int64")
        if "likes" in col:
            v, rj = parse_numbers(df[col["likes"]], "Likes", ln)
            parsed.rejects += rj
            likes = to_int64(v)
        text = _clean_series(df[col["comment"]]) if "comment" in col else pd.Series(None, index=df.index)
        ckeys = [_comment_key_from_link(lk) for lk in row_links]
        if "id" in col:  # the YouTube CSV 'id ' column: a row number, or a real comment id ('Ugx…')
            ids_cell = df[col["id"]].map(lambda v: str(v).strip() if isinstance(v, str) else None)
            ckeys = [ck or (v if v and not v.isdigit() and len(v) >= 10 else None)
                     for ck, v in zip(ckeys, ids_cell, strict=True)]
        author_hash = hash_authors(ctx, platform, keys)
        ids = []
        for ck, ah, c, t, pid in zip(ckeys, author_hash, created, text, row_posts, strict=True):
            if ck and platform == "facebook" and post_native:
                ids.append(f"facebook:{post_native}_{ck}")
            elif ck:
                ids.append(f"{platform}:{ck}")
            else:
                ids.append(f"{platform}:h{content_id(pid, ah, c, t)}")
        official = map_unique(keys, lambda k: not is_missing(k) and resolve_account(ctx, platform, k)[2]).astype(bool)
        out = pd.DataFrame({
            "message_id": ids, "platform": platform, "kind": "comment", "post_id": row_posts,
            "account_id": aid, "territory_id": terr, "author_hash": author_hash,
            "author_name": names.map(lambda v: None if is_missing(v) else str(v).strip()) if ctx.keep_author_names else None,
            "is_official": official, "created_at": created, "source_tz": tz, "text": text, "likes": likes,
            "_line": ln,
        })
        parsed.add("messages", out)
        return finish(parsed)


def _source_url(banner: list[list[Any]]) -> str | None:
    """The ``Source URL`` of an ExportComments banner (rows above the header), the last one wins."""
    source_url = None
    for r in banner:
        cells = [c for c in r if not is_missing(c)]
        if cells and norm_header(cells[0]) == "source url" and len(cells) > 1:
            source_url = str(cells[1]).strip()
    return source_url


def _xlsx_with_links(path: Path) -> tuple[list[list[Any]], list[int], dict[int, str]]:
    """Rows of the first ExportComments sheet plus the hyperlink target of each row (by row number)."""
    import openpyxl

    check_zip(path)
    wb = openpyxl.load_workbook(path, data_only=True)
    ws = wb.worksheets[0]
    rows, links = [], {}
    for i, r in enumerate(ws.iter_rows(), start=1):
        rows.append([c.value for c in r])
        for c in r:
            if c.hyperlink is not None and c.hyperlink.target and "comment" in str(c.value or "").lower():
                links[i] = c.hyperlink.target
    wb.close()
    return rows, list(range(1, len(rows) + 1)), links


# ======================================================================== YouTube API v3
YT_COLS = ("videoId", "textDisplay", "textOriginal", "authorDisplayName", "authorChannelId", "publishedAt",
           "updatedAt", "commentLikeCount")


class YouTubeCommentThreads(Adapter):
    name = "youtube_comment_threads"
    label = "YouTube Data API v3 — fils de commentaires (CSV aplati, stats vidéo fusionnées)"
    platform = "youtube"
    signature = YT_COLS
    streamable = True  # one comment per row, header first: big files import in chunks (ingest.chunked)

    def sniff(self, probe: Probe) -> float:
        if probe.kind != "csv" or not probe.rows:
            return 0.0
        have = {norm_header(c) for c in probe.rows[0]}
        core = {"videoid", "authorchannelid", "publishedat"}
        if core <= have and ({"textoriginal", "textdisplay"} & have):
            return 0.95
        return 0.0

    def parse(self, path: Path, probe: Probe, ctx: Context) -> Parsed:
        rows, lines = read_csv_all(probe)

        header = dedupe_headers([norm_header(h) for h in rows[0]])
        n = len(header)
        body = [(r + [""] * n)[:n] for r in rows[1:] if any(c.strip() for c in r)]
        ln = pd.Series([x for r, x in zip(rows[1:], lines[1:], strict=True) if any(c.strip() for c in r)], dtype="int64")
        df = pd.DataFrame(body, columns=header, dtype=object).replace("", None)
        parsed = Parsed(format=self.name, rows_read=len(df))
        if df.empty:
            return parsed
        g = df.get
        text = _clean_series(g("textoriginal")) if "textoriginal" in df else None
        if "textdisplay" in df:
            disp = df["textdisplay"].map(lambda v: None if is_missing(v) else
                                         html.unescape(TAG_RE.sub("", str(v).replace("<br>", "\n"))))
            disp = _clean_series(disp)
            text = disp if text is None else text.where(text.notna(), disp)
        tz = ctx.source_tz or "UTC"
        created, rj = parse_dates(df["publishedat"], "publishedAt", ln, tz=tz)
        parsed.rejects += rj
        likes, rj = parse_numbers(g("commentlikecount", pd.Series(None, index=df.index)), "commentLikeCount", ln)
        parsed.rejects += rj
        replies, _ = parse_numbers(g("totalreplycount", pd.Series(None, index=df.index)), "totalReplyCount", ln)
        video = df["videoid"].astype(str).str.strip()
        author = df.get("authorchannelid", pd.Series(None, index=df.index))
        author_key = author.where(author.notna(), g("authordisplayname"))
        author_hash = hash_authors(ctx, "youtube", author_key)
        idc = "id" if "id" in df else ("commentid" if "commentid" in df else None)
        if idc:
            mid = "youtube:" + df[idc].astype(str).str.strip()
        else:
            mid = pd.Series([f"youtube:h{content_id(v, a, c, t)}" for v, a, c, t in
                             zip(video, author_hash, created, text, strict=True)], index=df.index)
        # Channel of each video: merged 'channelId' column, else --account.
        hint_id, hint_terr, _ = hint_account(ctx, "youtube")
        chan = g("channelid", pd.Series(None, index=df.index))
        acc = chan.map(lambda c: resolve_account(ctx, "youtube", c)[:2] if not is_missing(c) else (hint_id, hint_terr))
        official_ids = {a.native_id for a in (ctx.registry.accounts if ctx.registry else []) if a.platform == "youtube"}
        parent = g("parentid")
        kind = pd.Series("comment", index=df.index)
        if parent is not None:
            kind = kind.where(parent.isna(), "reply")
        out = pd.DataFrame({
            "message_id": mid, "platform": "youtube", "kind": kind, "post_id": "youtube:" + video,
            "parent_id": None if parent is None else parent.map(lambda p: None if is_missing(p) else f"youtube:{p}"),
            "account_id": acc.map(lambda x: x[0]), "territory_id": acc.map(lambda x: x[1]),
            "author_hash": author_hash, "is_official": author.isin(official_ids),
            "created_at": created, "source_tz": tz, "text": text, "likes": to_int64(likes),
            "replies": to_int64(replies), "_line": ln,
        })
        if ctx.keep_author_names and "authordisplayname" in df:
            out["author_name"] = df["authordisplayname"]
        parsed.add("messages", out)
        self._videos(parsed, df, video, out, ln, tz)
        return finish(parsed)

    @staticmethod
    def _videos(parsed: Parsed, df: pd.DataFrame, video: pd.Series, msgs: pd.DataFrame, ln: pd.Series, tz: str) -> None:
        stats = {"viewcount": "video_views", "likecount": "likes", "commentcount": "comments"}
        have = [c for c in stats if c in df]
        title_c = next((c for c in ("title", "videotitle") if c in df), None)
        pub_c = next((c for c in ("videopublishedat", "video_publishedat", "publishedat.2") if c in df), None)
        if not have and not title_c and not pub_c:
            return
        first = ~video.duplicated()
        v = pd.DataFrame({"post_id": "youtube:" + video[first], "platform": "youtube", "native_id": video[first],
                          "account_id": msgs.loc[first, "account_id"], "territory_id": msgs.loc[first, "territory_id"],
                          "permalink": "https://www.youtube.com/watch?v=" + video[first], "post_type": "video",
                          "_line": ln[first]})
        for c in have:
            num, rj = parse_numbers(df.loc[first, c], c, ln[first])
            parsed.rejects += rj
            v[stats[c]] = to_int64(num)
        if "likes" in v:
            v["reactions"] = v["likes"]
        if title_c:
            v["text"] = _clean_series(df.loc[first, title_c])
        if pub_c:
            v["created_at"], rj = parse_dates(df.loc[first, pub_c], pub_c, ln[first], tz=tz)
            v["source_tz"] = tz
            parsed.rejects += rj
        parsed.add("posts", v)


# ======================================================================== minet fb comments
MINET_NEW = ("id", "fbid", "depth", "parent_id", "author_name", "author_short_name", "author_gender", "author_url",
             "author_is_verified", "created_time", "text", "reactions", "replies")
MINET_OLD = ("post_id", "id", "user_id", "user_handle", "user_url", "user_label", "text", "html", "formatted_date",
             "date", "reactions", "replies", "in_reply_to")


class MinetFbComments(Adapter):
    name = "minet_fb_comments"
    label = "minet fb comments — commentaires Facebook (CSV, ancien et nouveau jeu de colonnes)"
    platform = "facebook"
    signature = ("id", "fbid", "depth", "parent_id", "author_name", "created_time", "text", "reactions")
    streamable = True  # one comment per row, header first; see stream_header

    def stream_header(self, probe: Probe, ctx: Context | None = None) -> int | None:
        """0 (header first) with ``--account``; None otherwise: :meth:`parse` then deduces the
        page from the official replies found anywhere in the file, which needs every row."""
        return 0 if ctx is not None and ctx.account_hint else None

    def sniff(self, probe: Probe) -> float:
        if probe.kind != "csv" or not probe.rows:
            return 0.0
        have = {norm_header(c) for c in probe.rows[0]}
        if {"fbid", "depth", "author_name", "created_time", "text"} <= have:
            return 0.9
        if {"user_id", "user_label", "formatted_date", "in_reply_to", "text"} <= have:
            return 0.9
        return 0.0

    def parse(self, path: Path, probe: Probe, ctx: Context) -> Parsed:
        rows, lines = read_csv_all(probe)
        header = [norm_header(h) for h in rows[0]]
        df, ln = _csv_frame(rows[1:], lines[1:], header)
        parsed = Parsed(format=self.name, rows_read=len(df))
        if df.empty:
            return parsed
        old = "user_id" in df
        none = pd.Series(None, index=df.index, dtype=object)
        tz = ctx.source_tz or LOCAL_TZ
        if old:
            author_key = df["user_id"].where(df["user_id"].notna(), df.get("user_handle", none))
            names = df.get("user_label", none)
            handles = df.get("user_handle", none)
            created, rj = parse_dates(df["date"].where(df["date"].notna(), df.get("formatted_date", none)),
                                      "date", ln, tz=tz)
            parent = df.get("in_reply_to", none)
            is_reply = parent.notna()
        else:
            author_key = df["author_url"].where(df["author_url"].notna(), df.get("author_name", none)) \
                if "author_url" in df else df.get("author_name", none)
            names = df.get("author_name", none)
            handles = map_unique(df.get("author_url", none), _fb_handle)
            created, rj = parse_dates(df["created_time"], "created_time", ln, tz=tz)
            tz = "UTC"  # epoch seconds: the zone of the export does not matter
            parent = df.get("parent_id", none)
            depth, _ = parse_numbers(df.get("depth", none), "depth", ln)
            is_reply = (depth.fillna(0) > 0) | parent.notna()
        parsed.rejects += rj
        if not old:
            author_key = map_unique(author_key, lambda u: _fb_handle(u) or u if isinstance(u, str) else u)
        hint_id, hint_terr, _ = hint_account(ctx, "facebook")
        post = prefixed("facebook", df.get("post_id", none))
        if post.isna().all() and hint_id is None:
            parsed.notes.append("publication commentée inconnue : rattachez le fichier avec --account")
        # Registry look-ups once per distinct handle / name, not once per comment.
        official = map_unique(handles, lambda h: not is_missing(h) and resolve_account(ctx, "facebook", h)[2]) | \
            map_unique(names, lambda nm: not is_missing(nm) and resolve_account(ctx, "facebook", nm)[2])
        official = official.astype(bool)
        if hint_id is None and official.any():
            # minet scrapes the comments of one post: when the page itself answers in the file,
            # that page is the one the comments are addressed to (only if a single page answers).
            pages = {resolve_account(ctx, "facebook", h)[:2] for h in handles[official].dropna().unique()}
            pages |= {resolve_account(ctx, "facebook", nm)[:2] for nm in names[official].dropna().unique()}
            pages.discard((None, None))
            if len(pages) == 1:
                hint_id, hint_terr = pages.pop()
                parsed.notes.append(f"page déduite des réponses officielles du fichier : {hint_id}")
        likes, rj = parse_numbers(df.get("reactions", none), "reactions", ln)
        parsed.rejects += rj
        replies, rj = parse_numbers(df.get("replies", none), "replies", ln)
        parsed.rejects += rj
        out = pd.DataFrame({
            "message_id": prefixed("facebook", df["id"]),
            "platform": "facebook", "kind": is_reply.map({True: "reply", False: "comment"}),
            "post_id": post, "parent_id": prefixed("facebook", parent),
            "account_id": hint_id, "territory_id": hint_terr,
            "author_hash": hash_authors(ctx, "facebook", author_key), "is_official": official,
            "created_at": created, "source_tz": tz, "text": _clean_series(df["text"]) if "text" in df else None,
            "likes": to_int64(likes), "replies": to_int64(replies), "_line": ln,
        })
        if ctx.keep_author_names:
            out["author_name"] = names
        parsed.add("messages", out)
        return finish(parsed)


def _csv_frame(rows: list[list[str]], lines: list[int], header: list[str]) -> tuple[pd.DataFrame, pd.Series]:
    """CSV body rows → DataFrame of strings ('' → NULL, blank rows dropped) and their file lines."""
    n = len(header)
    # One object array filled row by row: the DataFrame-wide mask/where passes on object
    # columns were 15 % of a 1-million-message import (profiled with py-spy).
    arr = np.full((len(rows), n), None, dtype=object)
    for i, r in enumerate(rows):
        m = min(len(r), n)
        arr[i, :m] = r[:m]
    if arr.size:
        arr[arr == ""] = None
    keep = np.not_equal(arr, None).any(axis=1) if n else np.zeros(len(rows), dtype=bool)
    df = pd.DataFrame(arr[keep], columns=header, dtype=object)
    ln = pd.Series(np.asarray(lines, dtype="int64")[keep])
    return df, ln


def _fb_handle(u: Any) -> str | None:
    """Profile id or vanity name from a Facebook profile URL."""
    if is_missing(u):
        return None
    m = re.search(r"[?&]id=(\d+)", str(u)) or re.search(r"facebook\.com/([^/?#]+)", str(u))
    return m.group(1) if m else None


ADAPTERS = [ExportComments(), YouTubeCommentThreads(), MinetFbComments()]
