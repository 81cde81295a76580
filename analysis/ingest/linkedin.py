"""LinkedIn Page analytics exports (xlsx, and ``.xls`` that is SpreadsheetML or real BIFF).

- Content export (``Metrics`` / 2020 ``Update metrics (aggregated)`` daily sheet → ``page_daily``;
  ``All posts`` / 2020 ``Update engagement`` → ``posts``). Raw exports carry a one-line note above
  the header; re-saved ones do not: the header row is found by its cells.
- Followers export: ``New followers`` → ``audience_followers`` (new follows per day; the total is
  not in the file, so ``followers`` stays NULL); ``Location``, ``Job function``, ``Seniority``,
  ``Industry``, ``Company size`` → ``audience_demographics`` (unit ``count``).
- Visitors export: ``Visitor metrics`` → ``page_daily``; its demographic sheets count page views
  and go to ``audience_demographics`` with a ``visitor_`` dimension prefix.

The page is not in the file. It is ``--account``, else — a documented exception to "content,
not name" — the file name prefix ``<page>_(content|updates|followers|visitors)_<epoch ms>``
matched against the registry handles, else the import fails asking for ``--account``.
Demographic snapshots are dated by a ``Date`` column, else ``ctx.snapshot_date``, else the last
day of the daily sheet of the same file, else the export time in the file name.
"""

from __future__ import annotations

import re
from datetime import UTC, date, datetime
from pathlib import Path
from typing import Any

import pandas as pd

from analysis.ingest.base import (
    Adapter,
    Context,
    ImportFailure,
    Parsed,
    clean_text,
    find_header,
    is_missing,
    norm_header,
    parse_datetime,
)
from analysis.ingest.generic import (
    account_row,
    drop_rejected,
    hint_account,
    parse_dates,
    parse_numbers,
    resolve_account,
    to_int64,
)
from analysis.ingest.sniff import Probe, read_workbook

PLATFORM = "linkedin"
NAME_RE = re.compile(r"^(?P<page>.+?)_(?:content|updates|followers|visitors|competitor)_(?P<epoch>\d{10,13})", re.I)
DAILY_SHEETS = ("metrics", "update metrics (aggregated)")
POST_SHEETS = ("all posts", "update engagement")
DEMO_SHEETS = {"location": "location", "job function": "job_function", "seniority": "seniority",
               "industry": "industry", "company size": "company_size"}
POST_COLS = ("Post title", "Post link", "Post type", "Created date", "Impressions", "Clicks", "Likes",
             "Comments", "Reposts", "Update title", "Update link", "Update type", "Shares", "Views")
POST_METRICS = {"impressions": "impressions", "views": "video_views", "video views": "video_views",
                "clicks": "clicks", "likes": "reactions", "comments": "comments", "reposts": "shares",
                "shares": "shares", "follows": "follows"}
# Daily sheet columns → page_daily metric names. Rates are not stored: they are recomputed by
# analysis.metrics with one documented formula.
DAILY_METRICS = {
    "impressions (organic)": "impressions_organic", "impressions (sponsored)": "impressions_paid",
    "impressions (total)": "impressions", "unique impressions (organic)": "reach_organic",
    "clicks (organic)": "clicks_organic", "clicks (sponsored)": "clicks_paid", "clicks (total)": "clicks",
    "reactions (organic)": "reactions_organic", "reactions (sponsored)": "reactions_paid",
    "reactions (total)": "reactions", "comments (organic)": "comments_organic",
    "comments (sponsored)": "comments_paid", "comments (total)": "comments",
    "reposts (organic)": "shares_organic", "reposts (sponsored)": "shares_paid", "reposts (total)": "shares",
    "shares (organic)": "shares_organic", "shares (sponsored)": "shares_paid", "shares (total)": "shares",
}


def _sheet(book: dict[str, list[list[Any]]], names: tuple[str, ...] | list[str]) -> tuple[str, list[list[Any]]] | None:
    for k, rows in book.items():
        if norm_header(k) in names:
            return k, rows
    return None


def _frame(rows: list[list[Any]], known: tuple[str, ...], min_hits: int = 2) -> tuple[pd.DataFrame, pd.Series] | None:
    """Rows below the header (found by its cells, under an optional note line) as a DataFrame."""
    hi = find_header(rows, known, min_hits=min_hits, max_scan=5)
    if hi is None:
        return None
    header = [norm_header(h) for h in rows[hi]]
    n = len(header)
    body, lines = [], []
    for i in range(hi + 1, len(rows)):
        r = rows[i]
        if any(not is_missing(c) for c in r):
            body.append((list(r) + [None] * n)[:n])
            lines.append(i + 1)
    df = pd.DataFrame(body, columns=header, dtype=object)
    df = df.loc[:, [bool(h) for h in header]]
    return df, pd.Series(lines, dtype="int64")


class LinkedInPage(Adapter):
    name = "linkedin_page"
    label = "LinkedIn — export de page (contenu, abonnés, visiteurs ; xls/xlsx)"
    platform = PLATFORM
    signature = ("Date", "Impressions (organic)", "Impressions (total)", "Post title", "Post link", "Total followers")

    def sniff(self, probe: Probe) -> float:
        if not probe.sheets:
            return 0.0
        names = {norm_header(k) for k in probe.sheets}
        if names & set(DAILY_SHEETS) and names & set(POST_SHEETS):
            return 0.95
        if "new followers" in names or "visitor metrics" in names:
            return 0.95
        if names & set(DAILY_SHEETS) or names & set(POST_SHEETS):
            rows = next(iter(probe.sheets.values()))
            return 0.8 if find_header(rows, POST_COLS + tuple(DAILY_METRICS), min_hits=3, max_scan=5) is not None else 0.3
        return 0.0

    def _account(self, path: Path, ctx: Context) -> tuple[str, str | None, list[dict]]:
        aid, terr, official = hint_account(ctx, PLATFORM)
        if aid:
            extra = [] if official else [account_row(aid, PLATFORM, None, aid.split(":", 1)[1], None)]
            return aid, terr, extra
        m = NAME_RE.match(path.name)
        if m:
            aid, terr, official = resolve_account(ctx, PLATFORM, m.group("page"))
            if official:
                return aid, terr, []
        page = m.group("page") if m else None
        hint = f" (page « {page} » absente du registre)" if page else ""
        raise ImportFailure(
            f"{path} : l'export LinkedIn ne dit pas de quelle page il s'agit{hint}. "
            "Relancez avec --account linkedin:<handle de la page>.")

    def parse(self, path: Path, probe: Probe, ctx: Context) -> Parsed:
        book = read_workbook(path, probe.kind)
        aid, terr, extra = self._account(path, ctx)
        parsed = Parsed(format=self.name)
        parsed.notes.extend(book.notes)  # SpreadsheetML with invalid UTF-8 bytes replaced
        if extra:
            parsed.add("accounts", pd.DataFrame(extra))
        tz = ctx.source_tz
        last_day: date | None = None
        daily = _sheet(book, DAILY_SHEETS) or _sheet(book, ("visitor metrics",))
        if daily:
            last_day = self._daily(parsed, daily, aid)
        posts = _sheet(book, POST_SHEETS)
        if posts:
            self._posts(parsed, posts, aid, terr, tz)
        nf = _sheet(book, ("new followers",))
        if nf:
            last_day = self._followers(parsed, nf, aid) or last_day
        visitors = _sheet(book, ("visitor metrics",)) is not None
        snap = ctx.snapshot_date or last_day
        if snap is None:
            m = NAME_RE.match(path.name)
            snap = datetime.fromtimestamp(int(m.group("epoch")[:10]), UTC).date() if m else \
                datetime.fromtimestamp(path.stat().st_mtime, UTC).date()
        for sheet_name, rows in book.items():
            dim = DEMO_SHEETS.get(norm_header(sheet_name))
            if dim:
                self._demographics(parsed, sheet_name, rows, aid, ("visitor_" + dim) if visitors else dim, snap)
        if not parsed.tables or set(parsed.tables) == {"accounts"}:
            parsed.notes.append("export LinkedIn sans données (en-têtes seuls)")
        return parsed

    def _daily(self, parsed: Parsed, sheet: tuple[str, list], aid: str) -> date | None:
        start = len(parsed.rejects)  # rows of this sheet in error are skipped whole (--keep-going)
        name, rows = sheet
        fr = _frame(rows, ("Date",) + tuple(DAILY_METRICS) + ("Overview page views (total)", "Total page views (total)"))
        if fr is None:
            raise ImportFailure(f"Feuille « {name} » : en-tête « Date, Impressions… » introuvable")
        df, ln = fr
        if df.empty:
            return None
        parsed.rows_read += len(df)
        days, rj = parse_dates(df["date"], "Date", ln)
        parsed.rejects += rj
        long = []
        for col in df.columns:
            metric = DAILY_METRICS.get(col) or _visitor_metric(col)
            if not metric:
                continue
            v, rj = parse_numbers(df[col], col, ln)
            parsed.rejects += rj
            long.append(pd.DataFrame({"account_id": aid, "date": days.dt.date, "metric": metric, "value": v,
                                      "_line": ln}))
        if long:
            out = pd.concat(long, ignore_index=True)
            out = drop_rejected(out, parsed.rejects[start:])
            parsed.add("page_daily", out[out["value"].notna() & out["date"].notna()])
        return days.max().date() if days.notna().any() else None

    def _posts(self, parsed: Parsed, sheet: tuple[str, list], aid: str, terr: str | None, tz: str) -> None:
        start = len(parsed.rejects)  # rows of this sheet in error are skipped whole (--keep-going)
        name, rows = sheet
        fr = _frame(rows, POST_COLS, min_hits=3)
        if fr is None:
            raise ImportFailure(f"Feuille « {name} » : en-tête « Post title, Post link… » introuvable")
        df, ln = fr
        if df.empty:
            return
        parsed.rows_read += len(df)
        link = df.get("post link", df.get("update link"))
        urn = link.map(lambda u: None if is_missing(u) else _urn(str(u)))
        out = pd.DataFrame({"native_id": urn, "platform": PLATFORM, "account_id": aid, "territory_id": terr,
                            "permalink": link.map(lambda u: None if is_missing(u) else str(u).strip()),
                            "_line": ln})
        out["post_id"] = out["native_id"].map(lambda u: None if u is None else f"linkedin:{u}")
        out["text"] = df.get("post title", df.get("update title")).map(clean_text)
        # A bare calendar date: kept as that day at 00:00, never shifted by a zone conversion.
        created, rj = parse_dates(df["created date"], "Created date", ln)
        parsed.rejects += rj
        out["created_at"] = created
        ptype = df.get("post type", df.get("update type"))
        if ptype is not None:  # 'Organic' / 'Sponsored'
            out["is_paid"] = ptype.map(lambda v: None if is_missing(v) else str(v).strip().lower() == "sponsored")
        if "content type" in df:
            out["post_type"] = df["content type"].map(lambda v: None if is_missing(v) else str(v).strip().lower())
        for src, canon in POST_METRICS.items():
            if src in df and canon not in out:
                v, rj = parse_numbers(df[src], src, ln)
                parsed.rejects += rj
                out[canon] = to_int64(v)
        parsed.add("posts", drop_rejected(out, parsed.rejects[start:]))

    def _followers(self, parsed: Parsed, sheet: tuple[str, list], aid: str) -> date | None:
        start = len(parsed.rejects)  # rows of this sheet in error are skipped whole (--keep-going)
        name, rows = sheet
        fr = _frame(rows, ("Date", "Sponsored followers", "Organic followers", "Total followers"))
        if fr is None:
            raise ImportFailure(f"Feuille « {name} » : en-tête « Date, Total followers » introuvable")
        df, ln = fr
        if df.empty:
            return None
        parsed.rows_read += len(df)
        days, rj = parse_dates(df["date"], "Date", ln)
        parsed.rejects += rj
        new, rj = parse_numbers(df.get("total followers"), "Total followers", ln)
        parsed.rejects += rj
        if new.isna().all() and {"organic followers", "sponsored followers"} <= set(df.columns):
            o, _ = parse_numbers(df["organic followers"], "Organic followers", ln)
            s, _ = parse_numbers(df["sponsored followers"], "Sponsored followers", ln)
            new = o + s
        parsed.add("audience_followers", drop_rejected(pd.DataFrame({
            "account_id": aid, "date": days.dt.date, "new_followers": to_int64(new), "_line": ln}), parsed.rejects[start:]))
        return days.max().date() if days.notna().any() else None

    def _demographics(self, parsed: Parsed, sheet_name: str, rows: list, aid: str, dim: str, snap: date) -> None:
        start = len(parsed.rejects)  # rows of this sheet in error are skipped whole (--keep-going)
        fr = _frame(rows, (sheet_name, "Total followers", "Total views", "Date"))
        if fr is None:
            return
        df, ln = fr
        if df.empty:
            return
        parsed.rows_read += len(df)
        key_col = df.columns[0]
        val_col = next((c for c in ("total followers", "total views") if c in df), None)
        if val_col is None:
            return
        v, rj = parse_numbers(df[val_col], val_col, ln)
        parsed.rejects += rj
        if "date" in df:
            d = df["date"].map(lambda x: None if is_missing(x) else parse_datetime(x))
            dates = pd.to_datetime(d).dt.date.where(d.notna(), snap)
        else:
            dates = snap
        parsed.add("audience_demographics", drop_rejected(pd.DataFrame({
            "account_id": aid, "date": dates, "dimension": dim,
            "key": df[key_col].map(lambda x: None if is_missing(x) else str(x).strip()), "value": v,
            "unit": "count", "_line": ln}), parsed.rejects[start:]))


def _urn(url: str) -> str:
    """``urn:li:activity:123`` from a post link (the link itself when it carries no URN)."""
    m = re.search(r"(urn:li:[A-Za-z]+:\d+)", url.replace("%3A", ":"))
    return m.group(1) if m else url.strip()


def _visitor_metric(col: str) -> str | None:
    """'Overview page views (desktop)' → 'page_views_overview_desktop'; totals → 'page_views'."""
    m = re.fullmatch(r"(.+?) (page views|unique visitors) \((desktop|mobile|total)\)", col)
    if not m:
        return None
    section, what, device = m.group(1).strip(), m.group(2).replace(" ", "_"), m.group(3)
    if section == "total" and device == "total":
        return what
    return f"{what}_{section.replace(' ', '_')}_{device}"


ADAPTERS = [LinkedInPage()]
