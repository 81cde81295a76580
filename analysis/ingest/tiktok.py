"""TikTok Studio / TikTok Business analytics exports (shared/formats README § 7b).

Files, recognised by their headers (never their names: owners rename exports):

- **Overview** (``Date, Video Views, Profile Views, Likes, Comments, Shares``; Business adds
  ``Reached audience, Net growth, New followers, Lost followers, Website clicks…``) →
  ``page_daily`` in long form (:data:`DAILY_METRICS`, Meta's names where Meta has one: views,
  visits, reach, follows, followers_net, link_clicks) and ``audience_followers`` (new / lost / total).
- **Content** (``Time, Video title, Video link, Post time, Total likes, Total comments, Total shares,
  Total views``; Business: ``Video views, Likes…, Add to Favorites``) → ``posts`` (platform
  ``tiktok``, type ``video``): views → ``video_views``, likes → ``likes`` and ``reactions`` (the like
  is TikTok's only reaction), comments, shares, favourites → ``saves``, reached audience → ``reach``.
- **FollowerHistory** (→ ``audience_followers.followers`` + ``page_daily.followers_net``) and
  **Viewers** (→ ``page_daily`` viewers / new_viewers / returning_viewers), as Meta's adapter does.
- **FollowerGender / FollowerTopTerritories / age** → ``audience_demographics`` with the Meta
  conventions (dimension ``gender`` keys F/M/U, ``country`` ISO codes and ``Others``, ``age``;
  unit ``share``), dated by the export day.
- **FollowerActivity** (active followers per hour) is recognised and not imported: Vigie has no
  hourly table, and TikTok fills the hours after the export with zeros that would read as real.

Rules
- **Ids.** A post is ``tiktok:<video id>``, the id read from the video link (or an id column).
  Without one (links removed), ``tiktok:h<hash>`` of account, publication day and title: stable
  across re-imports, but a retitled video becomes another post.
- **Publication time.** A TikTok video id carries its publication instant (Unix seconds in its
  high 32 bits): ``created_at`` comes from it, exact and in UTC. Without an id, ``Post time`` is
  read in ``--tz`` (default Europe/Paris).
- **Year-less dates** (« February 28 », « 8 de marzo », « 28 févr. »; English, French, Spanish,
  Portuguese, German, Italian month names). Never from today. A daily series runs in order, so a
  month going backwards starts a new year, and the last day is the most recent one not after the
  **export day**, taken in this order: ``--date-export`` (``ctx.snapshot_date``); the export day
  of the other TikTok files exported with it — the same folder, else the folder above, as
  TikTok's Followers zip unpacks into a sub-folder — known from a content file whose video ids
  date it (the neighbour whose export day follows the file's last date most closely); else the
  file's modification day (the download day if it was not copied since), said in the notes. A
  series that would skip a 29 February is moved back a year (TikTok lists every day). Content
  files date their own ``Time`` (export day) from their video ids.
- **Counts.** ``undefined``, ``NAN``, ``--`` are missing (NULL, no ``page_daily`` row). A negative
  count (TikTok's daily comments go below zero when comments are deleted) is not a count: NULL,
  and the notes say how many and where. Net growth and follower differences may be negative.
- **Account.** The export does not name it (content links do): ``--account tiktok:<nom du compte>``,
  else a French error saying so. FollowerHistory, Viewers, FollowerGender and
  FollowerTopTerritories have exactly the headers Meta Business Suite's files of the same names
  have: with ``--account facebook:…`` / ``instagram:…`` they go to the Meta adapters.
"""

from __future__ import annotations

import re
from collections import defaultdict
from datetime import UTC, date, datetime, timedelta
from functools import lru_cache
from pathlib import Path
from typing import Any

import numpy as np
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
    is_missing,
    norm_header,
    parse_datetime,
)
from analysis.ingest.generic import account_row, hint_account
from analysis.ingest.meta import (
    DEFAULT_TZ,
    GENDER_MAP,
    MetaDemographics,
    MetaYearlessDaily,
    _age_band,
    _scale,
    accounts_frame,
    as_int,
    drop_rejected,
    frame,
    infer_years,
    num_col,
    text_col,
)
from analysis.ingest.sniff import Probe, read_csv_all, read_workbook
from analysis.ingest.sniff import probe as probe_file
from analysis.text import strip_accents

PLATFORM = "tiktok"

# Overview column (normalised) -> page_daily metric. Meta's names where Meta has the notion.
DAILY_METRICS: dict[str, str] = {
    "video views": "views", "profile views": "visits", "likes": "likes", "comments": "comments",
    "shares": "shares", "reached audience": "reach", "net growth": "followers_net", "new followers": "follows",
    "lost followers": "unfollows", "website clicks": "link_clicks", "phone clicks": "phone_clicks",
    "email clicks": "email_clicks", "address clicks": "address_clicks", "leads": "leads",
    "lead submissions": "leads", "add to favorites": "saves", "engaged audience": "engaged_users",
}
SIGNED = {"net growth", "difference in followers from previous day"}  # may be below zero
FOLLOWER_TOTAL = ("total followers", "followers")
OVERVIEW_SIGNAL = {"video views", "profile views", "reached audience", "net growth", "new followers",
                   "lost followers", "total followers"}

# posts column -> Content headers (Studio "Total …", Business plain names); the first present wins.
POST_METRICS: dict[str, tuple[str, ...]] = {
    "video_views": ("total views", "video views", "views", "total video views"),
    "likes": ("total likes", "likes"),
    "comments": ("total comments", "comments"),
    "shares": ("total shares", "shares"),
    "saves": ("add to favorites", "total favorites", "favorites", "saves"),
    "reach": ("reached audience", "total reach", "reach"),
    "follows": ("new followers",),
}
TITLE = ("video title", "title", "video description", "description", "caption")
LINK = ("video link", "link", "url", "video url")
POSTED = ("post time", "posted", "publish time", "create time", "date posted")
VIDEO_ID = ("video id", "item id", "post id")
EXPORT_DAY = ("time",)

LINK_RE = re.compile(r"tiktok\.com/@([^/?#\s]+)/video/(\d+)", re.I)
TIKTOK_LAUNCH = 1472688000  # 2016-09-01: a video id dating before that is not a TikTok id
SIBLING_MAX_FILES = 60
SIBLING_MAX_BYTES = 5_000_000

_MONTH_NAMES = {
    1: "january jan janvier janv enero ene janeiro januar gennaio gen",
    2: "february feb fevrier fevr fev febrero febr fevereiro februar febbraio",
    3: "march mar mars marzo marco maerz marz mrz",
    4: "april apr avril avr abril abr aprile",
    5: "may mai mayo maio maggio mag",
    6: "june jun juin junio junho juni giugno giu",
    7: "july jul juillet juil julio julho juli luglio lug",
    8: "august aug aout agosto ago",
    9: "september sep sept septembre septiembre setiembre set setembro settembre",
    10: "october oct octobre octubre outubro out oktober okt ottobre ott",
    11: "november nov novembre noviembre novembro",
    12: "december dec decembre diciembre dic dezembro dez dezember dicembre",
}
MONTHS: dict[str, int] = {w: m for m, names in _MONTH_NAMES.items() for w in names.split()}

_TIME = r"(?:,?\s+(\d{1,2}):(\d{2})(?::(\d{2}))?)?"
_YMD = re.compile(r"(\d{4})[/.-](\d{1,2})[/.-](\d{1,2})" + r"(?:[ T](\d{1,2}):(\d{2})(?::(\d{2}))?)?")
_MONTH_DAY = re.compile(r"([^\W\d_]+)\.?\s+(\d{1,2})(?:st|nd|rd|th)?(?:,?\s+(\d{4}))?" + _TIME)
_DAY_MONTH = re.compile(r"(\d{1,2})(?:er|º|°|\.)?\s+(?:de\s+)?([^\W\d_]+)\.?(?:\s+(?:de\s+)?(\d{4}))?" + _TIME)


# ----------------------------------------------------------------------------------------
# Dates

def _fold(s: str) -> str:
    return strip_accents(s.strip().lower())


def split_date(v: Any) -> tuple[int | None, int, int, tuple[int, int, int] | None]:
    """``(year or None, month, day, (h, m, s) or None)`` of a date as TikTok prints it.

    Year-less in the UI's language (« February 28 », « 8 de marzo », « 28 févr. », « 1er mars »),
    ``yyyy/mm/dd [HH:MM]`` (Business), ISO, ``MM/DD/YYYY`` and spreadsheet dates. ValueError
    for anything else.
    """
    if isinstance(v, pd.Timestamp):
        v = v.to_pydatetime()
    if isinstance(v, datetime):
        return v.year, v.month, v.day, (v.hour, v.minute, v.second)
    if isinstance(v, date):
        return v.year, v.month, v.day, None
    s = re.sub(r"\s+", " ", str(v).strip())
    for rx, order in ((_YMD, "ymd"), (_MONTH_DAY, "md"), (_DAY_MONTH, "dm")):
        m = rx.fullmatch(s)
        if not m:
            continue
        g = m.groups()
        if order == "ymd":
            y, mo, d = int(g[0]), int(g[1]), int(g[2])
            t = (int(g[3]), int(g[4]), int(g[5] or 0)) if g[3] else None
        else:
            name, d = (g[0], g[1]) if order == "md" else (g[1], g[0])
            mo = MONTHS.get(_fold(name).rstrip("."))
            if mo is None:
                continue
            y, d = (int(g[2]) if g[2] else None), int(d)
            t = (int(g[3]), int(g[4]), int(g[5] or 0)) if g[3] else None
        date(2000 if y is None else y, mo, d)  # raises ValueError for 31 April (2000: 29 Feb is valid)
        return y, mo, d, t
    dt = parse_datetime(s)  # MM/DD/YYYY, ISO with zone…; raises ValueError
    if dt is None:
        raise ValueError(f"date vide : {v!r}")
    return dt.year, dt.month, dt.day, (dt.hour, dt.minute, dt.second)


def _skips_leap_day(days: list[date]) -> bool:
    """A daily series (steps of 0 or 1 day) that jumps over a 29 February: wrong years."""
    steps = [(b - a).days for a, b in zip(days, days[1:], strict=False)]
    jumps = [i for i, s in enumerate(steps) if s not in (0, 1)]
    return bool(jumps) and all(steps[i] == 2 and (days[i] + timedelta(days=1)).day == 29 for i in jumps)


def complete_years(month_day: list[tuple[int, int]], reference: date) -> list[date]:
    """Years of year-less ``(month, day)`` listed in order, the last day not after ``reference``.

    :func:`analysis.ingest.meta.infer_years` (a month going backwards starts a new year), moved
    back a year while the series would skip a 29 February that TikTok would have listed.
    """
    ref = reference
    for _ in range(8):
        days = infer_years(month_day, ref)
        if not _skips_leap_day(days):
            return days
        ref = date(days[-1].year - 1, 12, 31)
    return infer_years(month_day, reference)


def _latest_on_or_before(month: int, day: int, ref: date) -> date:
    """The most recent ``month``/``day`` not after ``ref`` (29 February: the last leap year)."""
    for y in range(ref.year, ref.year - 9, -1):
        try:
            d = date(y, month, day)
        except ValueError:
            continue
        if d <= ref:
            return d
    raise ImportFailure(f"Impossible de dater le {day}/{month} avant le {ref.isoformat()}")


def video_time(native_id: Any) -> datetime | None:
    """Publication instant (naive UTC) a TikTok video id carries in its high 32 bits; None if not one."""
    if native_id is None or not re.fullmatch(r"\d{18,20}", str(native_id)):
        return None
    ts = int(native_id) >> 32
    if ts < TIKTOK_LAUNCH or ts > 4102444800:  # 2100: not an id of this kind
        return None
    return datetime.fromtimestamp(ts, UTC).replace(tzinfo=None)


# ----------------------------------------------------------------------------------------
# Recognising the files

def _header_kind(cells: list[Any]) -> str | None:
    """Which TikTok file a header row is (None: not one)."""
    h = {norm_header(c) for c in cells if c is not None and str(c).strip()}
    first = norm_header(next((c for c in cells if c is not None and str(c).strip()), ""))
    # 'Video …' headers make it TikTok's (a bare 'Title, Posted, Likes' could be anything).
    if h & {"video link", "video title", "video id", "item id"} and h & set(POSTED) \
            and any(n in h for names in POST_METRICS.values() for n in names):
        return "content"
    if {"date", "hour", "active followers"} <= h:
        return "activity"
    if {"date", "followers"} <= h and any(x.startswith("difference in followers") for x in h):
        return "follower_history"
    if {"date", "total viewers", "new viewers"} <= h:
        return "viewers"
    if "distribution" in h:
        if first in ("gender", "genre"):
            return "gender"
        if first in ("top territories", "top countries", "territories", "countries", "country"):
            return "country"
        if first in ("age", "age range", "age group", "ages"):
            return "age"
    if "date" in h and h & OVERVIEW_SIGNAL and len(h & (set(DAILY_METRICS) | set(FOLLOWER_TOTAL))) >= 2:
        return "overview"
    return None


def _rows_kind(rows: list[list[Any]]) -> str | None:
    first = next((r for r in rows[:3] if any(c is not None and str(c).strip() for c in r)), None)
    return None if first is None else _header_kind(first)


def file_kind(probe: Probe) -> str | None:
    """Kind of a probed file (first non-empty row of the CSV or of a sheet)."""
    if probe.kind == "csv":
        return _rows_kind(probe.rows)
    if probe.kind in ("xlsx", "xls", "spreadsheetml"):
        return next((k for k in map(_rows_kind, probe.sheets.values()) if k), None)
    return None


def _table(path: Path, probe: Probe) -> tuple[list[list[Any]], list[int]]:
    """Rows (header first) and their 1-based line (CSV) or row number (sheet)."""
    if probe.kind == "csv":
        rows, lines = read_csv_all(probe)
    elif probe.kind in ("xlsx", "xls", "spreadsheetml"):
        rows, lines = [], []
        for sheet in read_workbook(path, probe.kind).values():
            if _rows_kind(sheet):
                rows, lines = sheet, list(range(1, len(sheet) + 1))
                break
    else:
        raise ImportFailure(f"{path} : CSV ou classeur attendu (type {probe.kind})")
    while rows and not any(c is not None and str(c).strip() for c in rows[0]):
        rows, lines = rows[1:], lines[1:]
    if not rows:
        raise ImportFailure(f"{path} : en-tête TikTok introuvable")
    return rows, lines


def _decimal(probe: Probe) -> str | None:
    return "," if probe.delimiter == ";" else None  # re-saved by a French Excel


# ----------------------------------------------------------------------------------------
# Account

def _hint_platform(ctx: Context) -> str | None:
    hint = (ctx.account_hint or "").strip()
    return hint.partition(":")[0].lower() if ":" in hint else None


def _missing_account(path: Path, what: str, shared: bool) -> ImportFailure:
    meta = (" (ou facebook:<identifiant de la page> / instagram:<identifiant du compte> s'il vient de Meta "
            "Business Suite, qui écrit ce même fichier)") if shared else ""
    return ImportFailure(
        f"{path} : ce fichier ({what}) ne dit pas à quel compte TikTok il appartient. "
        f"Relancez l'import avec --account tiktok:<nom du compte>{meta}.")


def _resolve(ctx: Context, handle: str) -> tuple[str, str | None, dict | None]:
    """``(account_id, territory_id, accounts row or None)`` of a TikTok handle."""
    handle = handle.strip().lstrip("@")
    if ctx.registry is not None:
        a = ctx.registry.get_account(f"{PLATFORM}:{handle}") or ctx.registry.find_account(PLATFORM, handle)
        if a is not None:
            return a.account_id, a.territory_id, None
    aid = f"{PLATFORM}:{handle}"
    return aid, None, account_row(aid, PLATFORM, None, handle, handle)


def hinted(ctx: Context, path: Path, what: str, shared: bool = False) -> tuple[str, str | None, dict | None]:
    """The ``--account`` TikTok account of a file that does not name it (French error without one)."""
    hint = (ctx.account_hint or "").strip()
    if not hint:
        raise _missing_account(path, what, shared)
    plat = _hint_platform(ctx)
    if plat is not None and plat != PLATFORM:
        raise ImportFailure(f"--account « {hint} » : ce fichier TikTok attend tiktok:<nom du compte>")
    aid, terr, official = hint_account(ctx, PLATFORM)
    if official:
        return aid, terr, None
    return _resolve(ctx, aid.partition(":")[2])


# ----------------------------------------------------------------------------------------
# Export day: what completes year-less dates and dates demographic snapshots

def _export_day_of_content(rows: list[list[Any]], lines: list[int]) -> date | None:
    """Export day of a content file, dated by its own video ids (None when they cannot date it)."""
    df = frame(rows, lines, 0)
    if not len(df):
        return None
    ids = _video_ids(df)[1]
    times = [t for t in (video_time(i) for i in ids.dropna()) if t is not None]
    posted = _column(df, POSTED)
    full = []
    if posted is not None:
        for v in text_col(df, posted).dropna():
            try:
                y, m, d, _t = split_date(v)
            except ValueError:
                continue
            if y is not None:
                full.append(date(y, m, d))
    newest = max([t.date() for t in times] + full, default=None)
    if newest is None:
        return None
    exp = _column(df, EXPORT_DAY)
    for v in (text_col(df, exp).dropna() if exp is not None else []):
        try:
            y, m, d, _t = split_date(v)
        except ValueError:
            continue
        # The export day is on or after the newest video (a day of margin: ids are UTC instants).
        return date(y, m, d) if y is not None else _next_on_or_after(m, d, newest - timedelta(days=1))
    return newest


def _next_on_or_after(month: int, day: int, start: date) -> date:
    for y in range(start.year, start.year + 9):
        try:
            d = date(y, month, day)
        except ValueError:
            continue
        if d >= start:
            return d
    raise ImportFailure(f"Impossible de dater le {day}/{month}")


@lru_cache(maxsize=512)
def _anchor(path_str: str, _mtime_ns: int, _size: int) -> date | None:
    """Export day a TikTok file proves by itself: a content file dated by its video ids, or the
    last day of a series whose dates carry their year. Cached per file version."""
    path = Path(path_str)
    try:
        p = probe_file(path)
        kind = file_kind(p)
        if kind is None:
            return None
        rows, lines = _table(path, p)
        if kind == "content":
            return _export_day_of_content(rows, lines)
        if kind in ("overview", "follower_history", "viewers"):
            days = []
            for r in rows[1:]:
                if r and not is_missing(r[0]):
                    y, m, d, _t = split_date(r[0])
                    if y is None:
                        return None
                    days.append(date(y, m, d))
            return max(days, default=None)
    except (ImportFailure, ValueError, OSError, UnicodeError):
        return None
    return None


def sibling_export_days(path: Path) -> list[tuple[date, Path]]:
    """Export days proved by the other TikTok files beside ``path`` (else in the folder above).

    TikTok's Followers download unzips into a sub-folder of the export, hence the folder above.
    Files are recognised by content, never by name.
    """
    path = Path(path)
    for folder in (path.parent, path.parent.parent):
        found = []
        try:
            files = sorted(f for f in folder.iterdir() if f.is_file() and not f.name.startswith("."))
        except OSError:
            continue
        for f in files[:SIBLING_MAX_FILES]:
            if f.resolve() == path.resolve():
                continue
            st = f.stat()
            if st.st_size > SIBLING_MAX_BYTES or f.suffix.lower() not in (".csv", ".xlsx", ".xls", ".txt"):
                continue
            d = _anchor(str(f), st.st_mtime_ns, st.st_size)
            if d is not None:
                found.append((d, f))
        if found:
            return found
    return []


def export_day(path: Path, ctx: Context, last: tuple[int, int] | None = None) -> tuple[date, str]:
    """The export day of a file without one, and where it comes from (French, for the notes).

    ``last``: the file's last ``(month, day)``; among several neighbouring exports, the one whose
    export day follows it most closely is taken (the same download, most likely).
    """
    if ctx.snapshot_date is not None:
        return ctx.snapshot_date, "donné par --date-export"
    found = sibling_export_days(path)
    if found:
        if last is not None:
            def gap(item: tuple[date, Path]) -> tuple[int, int]:
                d = item[0]
                return (date(2000, d.month, d.day) - date(2000, *last)).days % 366, -d.toordinal()
            d, f = min(found, key=gap)
        else:
            d, f = max(found)
        return d, f"celui de « {f.name} », exporté avec lui et daté par les identifiants de ses vidéos"
    d = datetime.fromtimestamp(Path(path).stat().st_mtime, UTC).date()
    return d, ("date de modification du fichier : le jour du téléchargement s'il n'a pas été recopié depuis, "
               "sinon relancez avec --date-export AAAA-MM-JJ")


# ----------------------------------------------------------------------------------------
# Shared parsing helpers

def _column(df: pd.DataFrame, names: tuple[str, ...]) -> str | None:
    return next((n for n in names if n in df.columns), None)


def _label(df: pd.DataFrame, c: str) -> str:
    return df.attrs.get("orig", {}).get(c, c)


class _Counts:
    """Counts parsed with missing tokens as NULL; negative counts set to NULL and listed for a note."""

    def __init__(self, df: pd.DataFrame, out: Parsed, decimal: str | None) -> None:
        self.df, self.out, self.decimal = df, out, decimal
        self.negative: dict[str, list[int]] = defaultdict(list)

    def __call__(self, c: str | None, signed: bool = False) -> pd.Series:
        v = num_col(self.df, c, self.out.rejects, self.decimal, None if c is None else _label(self.df, c))
        if c is None or signed or c in SIGNED:
            return v
        neg = v < 0
        if neg.any():
            self.negative[_label(self.df, c)] += [int(x) for x in self.df.loc[neg, "_line"]]
            v = v.mask(neg)
        return v

    def note(self) -> None:
        if not self.negative:
            return
        n = sum(len(v) for v in self.negative.values())
        where = "; ".join(f"« {c} » ligne{'s' if len(ls) > 1 else ''} {', '.join(map(str, ls[:5]))}"
                          f"{'…' if len(ls) > 5 else ''}" for c, ls in self.negative.items())
        self.out.notes.append(
            f"{fr_count(n, 'valeur négative laissée vide', 'valeurs négatives laissées vides')} : un compte ne peut pas être négatif (TikTok retranche "
            f"du jour les commentaires supprimés) — {where}")


def _series_days(df: pd.DataFrame, path: Path, ctx: Context, out: Parsed) -> pd.Series:
    """The ``Date`` column of a daily series as dates (NaT where unreadable: rejected)."""
    raw = df["date"]
    parsed: dict[Any, tuple] = {}
    for idx, v in raw.items():
        if is_missing(v):
            out.rejects.append(Reject(int(df.at[idx, "_line"]), "Date", None, "date manquante"))
            continue
        try:
            parsed[idx] = split_date(v)
        except ValueError:
            out.rejects.append(Reject(int(df.at[idx, "_line"]), "Date", v, "date illisible"))
    days = pd.Series(pd.NaT, index=df.index, dtype="object")
    if not parsed:
        return days
    yearless = [i for i, p in parsed.items() if p[0] is None]
    if yearless and len(yearless) != len(parsed):
        raise ImportFailure(f"{path} : dates avec et sans année mêlées dans la colonne « Date »")
    if not yearless:
        for i, (y, m, d, _t) in parsed.items():
            days[i] = date(y, m, d)
        return days
    idxs = list(parsed)
    md = [(parsed[i][1], parsed[i][2]) for i in idxs]
    ref, why = export_day(path, ctx, md[-1])
    try:
        full = complete_years(md, ref)
    except ImportFailure as e:
        raise ImportFailure(f"{path} : {e}") from None
    if (full[-1] - full[0]).days > 400:
        raise ImportFailure(f"{path} : dates sans année qui ne se suivent pas (du {full[0].isoformat()} au "
                            f"{full[-1].isoformat()} une fois les années déduites) : triez le fichier par date")
    for i, d in zip(idxs, full, strict=True):
        days[i] = d
    out.notes.append(f"années déduites d'après le jour d'export {ref.isoformat()} ({why}) : "
                     f"du {full[0].isoformat()} au {full[-1].isoformat()}")
    return days


def _dedupe_days(df: pd.DataFrame, days: pd.Series, value_cols: list[str], out: Parsed) -> pd.DataFrame:
    """One row per day: an identical repeated row is dropped (noted), a conflicting one rejected."""
    ok = days.notna()
    dup = days.duplicated(keep="first") & ok
    if not dup.any():
        return df[ok]
    first_of = {d: i for i, d in days[ok & ~dup].items()}
    same = 0
    for idx in df.index[dup]:
        j = first_of[days[idx]]
        if all(str(df.at[idx, c]) == str(df.at[j, c]) for c in value_cols):
            same += 1
        else:
            out.rejects.append(Reject(int(df.at[idx, "_line"]), "Date", str(df.at[idx, "date"]),
                                      "jour en double avec d'autres valeurs"))
    if same:
        out.notes.append(f"{fr_count(same, 'ligne')} en double (même jour, mêmes valeurs) {fr_plural(same, 'importée')} une seule fois")
    return df[ok & ~dup]


def _long(aid: str, days: pd.Series, metric: str, values: pd.Series, lines: pd.Series) -> pd.DataFrame:
    """page_daily rows of one metric; missing values make no row (missing is not zero)."""
    part = pd.DataFrame({"account_id": aid, "date": days.values, "metric": metric, "value": values.values,
                         "_line": lines.values})
    return part[part["value"].notna()]


def _video_ids(df: pd.DataFrame) -> tuple[pd.Series, pd.Series]:
    """``(handle, video id)`` per row, from an id column or the video link."""
    handle = pd.Series(None, index=df.index, dtype=object)
    vid = pd.Series(None, index=df.index, dtype=object)
    link_c = _column(df, LINK)
    if link_c is not None:
        m = text_col(df, link_c).str.extract(LINK_RE)
        handle, vid = m[0].astype(object).where(m[0].notna(), None), m[1].astype(object).where(m[1].notna(), None)
    id_c = _column(df, VIDEO_ID)
    if id_c is not None:
        ids = text_col(df, id_c).str.replace(r"\.0$", "", regex=True)
        vid = ids.where(ids.notna() & ids.str.fullmatch(r"\d+").fillna(False), vid).astype(object)
    return handle, vid


# ----------------------------------------------------------------------------------------
# Adapters

class _TikTokAdapter(Adapter):
    platform = PLATFORM
    kinds: tuple[str, ...] = ()
    score = 0.9

    def sniff(self, probe: Probe) -> float:
        return self.score if file_kind(probe) in self.kinds else 0.0

    def _frame(self, path: Path, probe: Probe) -> pd.DataFrame:
        rows, lines = _table(path, probe)
        return frame(rows, lines, 0)


class TikTokOverview(_TikTokAdapter):
    name = "tiktok_overview"
    label = "TikTok Studio / Business — vue d'ensemble quotidienne (vues, visites du profil, j'aime…)"
    signature = ("Date", "Video Views", "Profile Views", "Likes", "Comments", "Shares", "Reached audience",
                 "Net growth", "New followers", "Lost followers")
    kinds = ("overview",)

    def parse(self, path: Path, probe: Probe, ctx: Context) -> Parsed:
        df = self._frame(path, probe)
        out = Parsed(format=self.name, rows_read=len(df))
        if not len(df):
            return out
        aid, _terr, acc = hinted(ctx, path, "vue d'ensemble")
        days = _series_days(df, path, ctx, out)
        metric_cols = [c for c in df.columns if c in DAILY_METRICS]
        total_c = _column(df, FOLLOWER_TOTAL)
        df = _dedupe_days(df, days, metric_cols + ([total_c] if total_c else []), out)
        days = days[df.index]
        counts = _Counts(df, out, _decimal(probe))
        parts = [_long(aid, days, DAILY_METRICS[c], counts(c), df["_line"]) for c in metric_cols]
        if parts:
            out.add("page_daily", pd.concat(parts, ignore_index=True))
        fol = pd.DataFrame({
            "account_id": aid, "date": days.values,
            "followers": as_int(counts(total_c)).values,
            "new_followers": as_int(counts(_column(df, ("new followers",)))).values,
            "lost_followers": as_int(counts(_column(df, ("lost followers",)))).values,
            "_line": df["_line"].values})
        out.add("audience_followers", fol[fol[["followers", "new_followers", "lost_followers"]].notna().any(axis=1)])
        out.add("accounts", accounts_frame([acc]))
        ignored = [_label(df, c) for c in df.columns if c not in DAILY_METRICS and c not in ("date", "_line", total_c)]
        if ignored:
            out.notes.append("colonnes non importées : " + ", ".join(f"« {c.strip()} »" for c in ignored))
        counts.note()
        return drop_rejected(out)


class TikTokContent(_TikTokAdapter):
    name = "tiktok_content"
    label = "TikTok Studio / Business — vidéos publiées et leurs statistiques (contenu)"
    signature = ("Time", "Video title", "Video link", "Post time", "Total likes", "Total comments",
                 "Total shares", "Total views", "Add to Favorites")
    kinds = ("content",)

    def parse(self, path: Path, probe: Probe, ctx: Context) -> Parsed:
        rows, lines = _table(path, probe)
        df = frame(rows, lines, 0)
        out = Parsed(format=self.name, rows_read=len(df))
        if not len(df):
            return out
        tz = ctx.source_tz or DEFAULT_TZ
        handle, native = _video_ids(df)
        id_time = native.map(video_time)
        account, territory, acc_rows = self._accounts(handle, path, ctx)
        local_day, from_post = self._post_times(df, id_time, path, ctx, tz, rows, lines, out)
        created = pd.to_datetime(id_time.where(id_time.notna(), None)).fillna(from_post)
        rejected = {r.line for r in out.rejects}
        for idx in df.index[created.isna()]:
            if int(df.at[idx, "_line"]) not in rejected:
                out.rejects.append(Reject(int(df.at[idx, "_line"]), "Post time", None,
                                          "ni lien de vidéo ni date de publication"))
        title = text_col(df, _column(df, TITLE)).map(clean_text)
        # Without a video id: a hash of account, publication day (as exported) and title.
        post_id = pd.Series([
            f"{PLATFORM}:{n}" if n is not None else
            f"{PLATFORM}:h{content_id(a, local_day[i].isoformat() if i in local_day else '', '' if is_missing(t) else t)}"
            for i, n, a, t in zip(df.index, native, account, title, strict=True)], index=df.index, dtype=object)
        if native.isna().any():
            out.notes.append(f"{fr_count(int(native.isna().sum()), 'vidéo')} sans lien : identifiant stable calculé "
                             "d'après le compte, le jour de publication et le titre")
        counts = _Counts(df, out, _decimal(probe))
        posts = pd.DataFrame({
            "post_id": post_id, "platform": PLATFORM, "native_id": native, "account_id": account,
            "territory_id": territory, "created_at": created,
            "source_tz": np.where(id_time.notna(), "UTC", tz), "text": title, "post_type": "video",
            "permalink": text_col(df, _column(df, LINK)).where(native.notna(), None), "_line": df["_line"]})
        for canon, names in POST_METRICS.items():
            posts[canon] = as_int(counts(_column(df, names)))
        posts["reactions"] = posts["likes"]  # the like is TikTok's only reaction
        before = len(posts)
        posts = posts.drop_duplicates("post_id", keep="last")
        if len(posts) < before:
            out.notes.append(f"{fr_count(before - len(posts), 'vidéo listée', 'vidéos listées')} deux fois : dernière ligne gardée")
        used = {c for names in (*POST_METRICS.values(), TITLE, LINK, POSTED, VIDEO_ID, EXPORT_DAY) for c in names}
        ignored = [_label(df, c) for c in df.columns if c not in used and c != "_line"]
        if ignored:
            out.notes.append("colonnes non importées : " + ", ".join(f"« {c.strip()} »" for c in ignored))
        counts.note()
        out.add("accounts", accounts_frame(acc_rows))
        out.add("posts", posts)
        return drop_rejected(out)

    def _accounts(self, handle: pd.Series, path: Path, ctx: Context) -> tuple[pd.Series, pd.Series, list]:
        """Account and territory per row: the handle of the video link (it must agree with
        ``--account`` when both are given), else ``--account``."""
        rows: list[dict | None] = []
        hint = None
        if ctx.account_hint:
            aid, terr, row = hinted(ctx, path, "vidéos")
            hint = (aid, terr)
            rows.append(row)
        of: dict[Any, tuple[str, str | None]] = {}
        for h in dict.fromkeys(handle.dropna()):
            aid, terr, row = _resolve(ctx, h)
            if hint is not None and aid != hint[0]:
                raise ImportFailure(f"{path} : les vidéos sont celles de @{h} ({aid}), pas de --account "
                                    f"« {ctx.account_hint} » : vérifiez le compte donné")
            of[h] = (aid, terr)
            rows.append(row)
        if handle.isna().any():
            if hint is None:
                raise _missing_account(path, "vidéos sans lien", False)
            of[None] = hint
        pair = handle.map(lambda h: of.get(h, of.get(None)))
        return pair.map(lambda x: x[0]), pair.map(lambda x: x[1]), rows

    def _post_times(self, df: pd.DataFrame, id_time: pd.Series, path: Path, ctx: Context, tz: str,
                    rows: list, lines: list, out: Parsed) -> tuple[dict[Any, date], pd.Series]:
        """``Post time`` as ``(local day per row, naive UTC instant per row)``; year-less days take
        their year from the export day (the file's own, dated by its video ids, first)."""
        posted_c = _column(df, POSTED)
        parts: dict[Any, tuple] = {}
        for idx, v in (text_col(df, posted_c).items() if posted_c else ()):
            if v is None:
                continue
            try:
                parts[idx] = split_date(v)
            except ValueError:
                out.rejects.append(Reject(int(df.at[idx, "_line"]), _label(df, posted_c), v, "date illisible"))
        day = {idx: date(p[0], p[1], p[2]) for idx, p in parts.items() if p[0] is not None}
        yearless = [idx for idx, p in parts.items() if p[0] is None]
        if yearless:
            exp, why = self._export_day(df, path, ctx, rows, lines)
            for idx in yearless:
                day[idx] = _latest_on_or_before(parts[idx][1], parts[idx][2], exp)
            if id_time[yearless].isna().any():  # else the ids date those videos anyway
                out.notes.append(f"années des dates de publication déduites d'après le jour d'export "
                                 f"{exp.isoformat()} ({why})")
        local = pd.Series(pd.NaT, index=df.index, dtype="datetime64[ns]")
        for idx, d in day.items():
            local[idx] = pd.Timestamp(datetime(d.year, d.month, d.day, *(parts[idx][3] or (0, 0, 0))))
        utc = local.dt.tz_localize(tz, ambiguous="NaT", nonexistent="shift_forward").dt.tz_convert("UTC")
        return day, utc.dt.tz_localize(None)

    def _export_day(self, df: pd.DataFrame, path: Path, ctx: Context, rows: list, lines: list) -> tuple[date, str]:
        own = _export_day_of_content(rows, lines)
        if own is not None and ctx.snapshot_date is None:
            return own, "celui du fichier, daté par les identifiants de ses vidéos"
        exp_c = _column(df, EXPORT_DAY)
        last = None
        if exp_c is not None:
            try:
                y, m, d, _t = split_date(text_col(df, exp_c).dropna().iloc[0])
                if y is not None:
                    return date(y, m, d), "celui du fichier"
                last = (m, d)
            except (ValueError, IndexError):
                pass
        ref, why = export_day(path, ctx, last)
        # The 'Time' column names the export day: the latest such day by the reference.
        return (_latest_on_or_before(*last, ref + timedelta(days=1)) if last else ref), why


class TikTokFollowerHistory(_TikTokAdapter):
    name = "tiktok_follower_history"
    label = "TikTok Studio — historique des abonnés / spectateurs (dates sans année)"
    signature = ("Date", "Followers", "Difference in followers from previous day", "Total Viewers", "New Viewers",
                 "Returning Viewers")
    kinds = ("follower_history", "viewers")
    score = 0.96  # same headers as Meta's files: routed by --account (see the module docstring)

    def parse(self, path: Path, probe: Probe, ctx: Context) -> Parsed:
        if _hint_platform(ctx) in ("facebook", "instagram"):
            return MetaYearlessDaily().parse(path, probe, ctx)
        df = self._frame(path, probe)
        out = Parsed(format=self.name, rows_read=len(df))
        if not len(df):
            return out
        aid, _terr, acc = hinted(ctx, path, "historique quotidien", shared=True)
        days = _series_days(df, path, ctx, out)
        value_cols = [c for c in df.columns if c not in ("date", "_line")]
        df = _dedupe_days(df, days, value_cols, out)
        days = days[df.index]
        counts = _Counts(df, out, _decimal(probe))
        if "followers" in df.columns:
            followers = as_int(counts("followers"))
            fol = pd.DataFrame({"account_id": aid, "date": days.values, "followers": followers.values,
                                "_line": df["_line"].values})
            out.add("audience_followers", fol[fol["followers"].notna()])
            diff = next(c for c in df.columns if c.startswith("difference in followers"))
            # The net difference is not "new followers" (gains minus losses): page_daily, as Meta's.
            out.add("page_daily", _long(aid, days, "followers_net", counts(diff, signed=True), df["_line"]))
        else:
            for c, metric in (("total viewers", "viewers"), ("new viewers", "new_viewers"),
                              ("returning viewers", "returning_viewers")):
                if c in df.columns:
                    out.add("page_daily", _long(aid, days, metric, counts(c), df["_line"]))
        out.add("accounts", accounts_frame([acc]))
        counts.note()
        return drop_rejected(out)


class TikTokDemographics(_TikTokAdapter):
    name = "tiktok_demographics"
    label = "TikTok Studio — abonnés par genre, âge et territoire"
    signature = ("Gender", "Distribution", "Top territories", "Age")
    kinds = ("gender", "country", "age")
    score = 0.96  # Gender / Top territories: same headers as Meta's files, routed by --account

    def parse(self, path: Path, probe: Probe, ctx: Context) -> Parsed:
        kind = file_kind(probe)
        if kind in ("gender", "country") and _hint_platform(ctx) in ("facebook", "instagram"):
            return MetaDemographics().parse(path, probe, ctx)
        df = self._frame(path, probe)
        out = Parsed(format=self.name, rows_read=len(df))
        if not len(df):
            return out
        aid, _terr, acc = hinted(ctx, path, "démographie des abonnés", shared=kind != "age")
        first = df.columns[0]
        keys = text_col(df, first)
        value = num_col(df, df.columns[1], out.rejects, _decimal(probe), _label(df, df.columns[1]))
        demo = pd.DataFrame({"key": keys, "value": value, "gender": None, "age_band": None, "_line": df["_line"]})
        if kind == "gender":
            g = keys.map(lambda v: GENDER_MAP.get(norm_header(v)) if v else None)
            for idx in df.index[g.isna() & keys.notna()]:
                out.rejects.append(Reject(int(df.at[idx, "_line"]), _label(df, first), keys[idx], "genre inconnu"))
            demo["gender"] = demo["key"] = g
        elif kind == "age":
            demo["age_band"] = demo["key"] = keys.map(lambda v: _age_band(v) if v else None)
        demo = demo[demo["key"].notna() & demo["value"].notna()]
        demo["value"], unit = _scale(demo["value"])
        snap, why = export_day(path, ctx)
        demo = demo.assign(unit=unit, dimension=kind, account_id=aid, date=snap)
        out.add("accounts", accounts_frame([acc]))
        out.add("audience_demographics", demo)
        out.notes.append(f"instantané daté du jour d'export {snap.isoformat()} ({why})")
        return drop_rejected(out)


class TikTokFollowerActivity(_TikTokAdapter):
    name = "tiktok_follower_activity"
    label = "TikTok Studio — activité des abonnés par heure (reconnue, non importée)"
    signature = ("Date", "Hour", "Active followers")
    kinds = ("activity",)

    def parse(self, path: Path, probe: Probe, ctx: Context) -> Parsed:
        out = Parsed(format=self.name)
        out.notes.append(
            "activité des abonnés par heure non importée : Vigie n'a pas de table horaire (page_daily est "
            "quotidienne), et TikTok remplit de zéros les heures qui suivent l'export, qui passeraient pour "
            "de vraies valeurs")
        return out


ADAPTERS: list[Adapter] = [TikTokOverview(), TikTokContent(), TikTokFollowerHistory(), TikTokDemographics(),
                           TikTokFollowerActivity()]
