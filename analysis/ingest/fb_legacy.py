"""Legacy Facebook Page Insights "Export Data" (≤ 2020): page level and post level (README §2).

Quirks handled: two header rows (metric names, then long descriptions — skipped), CSV in
UTF-8, UTF-8-BOM or Windows-1252, ``.xlsx`` and ``.xls`` that is SpreadsheetML 2003 XML with one
sheet per breakdown (names truncated to 31 characters), duplicated column names, breakdowns
flattened as ``<metric> - <key>`` (split on the first ``" - "`` only: cities contain commas).

Choices
- Demographics (likes by gender × age, country, city, language) are kept for the **last date
  of the file** that carries values for that breakdown: they are lifetime snapshots, and one
  per day would multiply rows by ~180 for no analytical gain.
- Facebook post ids are stored without the page prefix (``pageid_postid`` → ``postid``), the
  form Meta Business Suite exports, so the same post from two sources has one ``post_id``.
- ``Posted`` carries no zone: it is read in ``ctx.source_tz`` (default Europe/Paris).
"""

from __future__ import annotations

import re
from pathlib import Path

import numpy as np
import pandas as pd

from analysis.fmt import fr_count
from analysis.ingest.base import (
    Adapter,
    Context,
    ImportFailure,
    Parsed,
    Reject,
    clean_text,
    norm_header,
    parse_number,
)
from analysis.ingest.meta import (
    DEFAULT_TZ,
    Headers,
    accounts_frame,
    as_int,
    col,
    drop_rejected,
    frame,
    local_to_utc,
    num_col,
    post_types,
    resolve_account,
    text_col,
)
from analysis.ingest.sniff import Probe, read_csv_all, read_workbook

PAGE_KNOWN = ("Date", "Lifetime Total Likes", "Daily New Likes", "Daily Unlikes", "Daily Page Engaged Users",
              "Daily Total Reach", "Daily Total Impressions")
POST_KNOWN = ("Post ID", "Permalink", "Post Message", "Type", "Posted", "Lifetime Post Total Reach",
              "Lifetime Post Total Impressions")

# Breakdown metrics whose sheet names may be truncated in workbooks (prefix match).
BREAKDOWNS = {
    "lifetime likes by gender and age": "age_gender",
    "lifetime likes by country": "country",
    "lifetime likes by city": "city",
    "lifetime likes by language": "language",
}
KNOWN_FLATTENED = tuple(BREAKDOWNS) + (
    "lifetime talking about this (post) by action type", "lifetime post stories by action type",
    "lifetime post consumers by type", "lifetime post consumptions by type",
)

# page_daily metric -> legacy column (first occurrence when duplicated).
PAGE_DAILY = {
    "follows": "daily new likes",
    "unfollows": "daily unlikes",
    "reach": "daily total reach",
    "reach_organic": "daily organic reach",
    "reach_paid": "daily paid reach",
    "reach_7d": "weekly total reach",
    "reach_28d": "28 days total reach",
    "impressions": "daily total impressions",
    "impressions_organic": "daily organic impressions",
    "impressions_paid": "daily paid impressions",
    "engaged_users": "daily page engaged users",
    "engaged_users_7d": "weekly page engaged users",
    "engaged_users_28d": "28 days page engaged users",
    "page_views": "daily logged-in page views",
    "post_reach": "daily reach of page posts",
    "post_impressions": "daily total impressions of your posts",
}

FILE_NAME_RE = re.compile(r"Facebook Insights Data Export(?: \([^)]*\))? - (.+?) - \d{4}-\d{2}-\d{2}")


def _kind(rows: list[list]) -> str | None:
    for r in rows[:5]:
        h = {norm_header(c) for c in r}
        if "post id" in h and ("posted" in h or "permalink" in h or "post message" in h):
            return "post"
        if "date" in h and sum(1 for k in PAGE_KNOWN[1:] if norm_header(k) in h) >= 2:
            return "page"
    return None


def _is_description_row(row: list) -> bool:
    """Row 2 of legacy exports: empty id/date cell and long English descriptions."""
    if not row or (row[0] not in (None, "") and str(row[0]).strip()):
        return False
    return any(isinstance(c, str) and re.match(r"(Lifetime|Daily|Weekly|28 Days)\s*:", c.strip()) for c in row) \
        or not any(c not in (None, "") and str(c).strip() for c in row)


def _header_idx(rows: list[list], key: str) -> int | None:
    for i, r in enumerate(rows[:10]):
        if any(norm_header(c) == key for c in r):
            return i
    return None


def _sheet_metric(sheet: str) -> str | None:
    """Full breakdown metric name for a (possibly truncated) sheet name."""
    s = norm_header(sheet).rstrip(".").rstrip("…").strip()
    if len(s) < 8:
        return None
    for k in KNOWN_FLATTENED:
        if k.startswith(s) or s.startswith(k):
            return k
    return None


def _sheet_frame(rows: list[list], key: str, sheet: str | None) -> pd.DataFrame | None:
    h = _header_idx(rows, key)
    if h is None:
        return None
    skip = 1 if len(rows) > h + 1 and _is_description_row(rows[h + 1]) else 0
    df = frame(rows, None, h, skip)
    metric = _sheet_metric(sheet) if sheet else None
    if metric:
        # Breakdown sheet with bare keys ('F.18-24'): restore the flattened CSV names.
        orig = df.attrs.get("orig", {})
        new = [c if c in (key, "_line") or " - " in c else f"{metric} - {c}" for c in df.columns]
        df.attrs["orig"] = Headers({n: (orig.get(c, c) if n == c else f"{metric} - {orig.get(c, c)}")
                                    for n, c in zip(new, df.columns, strict=True)})
        df.columns = new
    return df


def load(probe: Probe) -> tuple[pd.DataFrame, str, list[str]]:
    """The export as one frame (normalised flattened column names, ``_line``), its kind, notes."""
    notes: list[str] = []
    if probe.kind == "csv":
        rows, lines = read_csv_all(probe)
        kind = _kind(rows)
        if kind is None:
            raise ImportFailure(f"{probe.path} : en-tête Facebook Insights introuvable")
        key = "post id" if kind == "post" else "date"
        h = _header_idx(rows, key)
        skip = 1 if len(rows) > h + 1 and _is_description_row(rows[h + 1]) else 0
        return frame(rows, lines, h, skip), kind, notes
    if probe.kind not in ("xlsx", "spreadsheetml", "xls"):
        raise ImportFailure(f"{probe.path} : type de fichier {probe.kind} inattendu")
    sheets = read_workbook(probe.path, probe.kind)
    notes.extend(sheets.notes)  # invalid UTF-8 bytes replaced: say how many
    kind = next((k for k in (_kind(r) for r in sheets.values()) if k), None)
    if kind is None:
        raise ImportFailure(f"{probe.path} : aucune feuille Facebook Insights reconnue")
    key = "post id" if kind == "post" else "date"
    frames, used, orig = [], [], {}
    for name, rows in sheets.items():
        df = _sheet_frame(rows, key, name)
        if df is None or not len(df):
            continue
        orig = {**df.attrs.get("orig", {}), **orig}
        df = df[df[key].notna() & (df[key].astype(str).str.strip() != "")]
        df = df.drop_duplicates(key, keep="last").set_index(key)
        frames.append(df if not frames else df.drop(columns=["_line"]))
        used.append(name)
    if not frames:
        return pd.DataFrame(columns=[key, "_line"]), kind, notes
    merged = pd.concat(frames, axis=1, join="outer")
    merged = merged.loc[:, ~merged.columns.duplicated()].reset_index(names=key)
    merged["_line"] = merged["_line"].fillna(0).astype(int)
    merged.attrs["orig"] = Headers(orig)
    notes.append(f"{fr_count(len(used), 'feuille lue', 'feuilles lues')} sur {len(sheets)}")
    return merged, kind, notes


def _page_account(path: Path, ctx: Context) -> tuple[str, str | None, dict | None]:
    hint = (ctx.account_hint or "").strip()
    if hint:
        platform, _, native = hint.partition(":")
        if platform != "facebook" or not native:
            raise ImportFailure(f"--account « {hint} » : attendu facebook:<identifiant de la page>")
        if ctx.registry is not None:
            a = ctx.registry.get_account(hint) or ctx.registry.find_account("facebook", native)
            if a is not None:
                return a.account_id, a.territory_id, None
        return resolve_account(ctx, "facebook", native_id=native)
    m = FILE_NAME_RE.search(path.name)
    if m and ctx.registry is not None:
        a = ctx.registry.find_account("facebook", m.group(1))
        if a is not None:
            return a.account_id, a.territory_id, None
    page = f" (page « {m.group(1)} » inconnue du registre)" if m else ""
    raise ImportFailure(
        f"{path} : export Facebook Insights au niveau de la page sans identifiant de page{page}. "
        "Relancez l'import avec --account facebook:<identifiant de la page>."
    )


class FacebookInsightsLegacy(Adapter):
    name = "fb_insights_legacy"
    label = "Facebook Insights (ancien « Exporter les données ») — page ou publications"
    platform = "facebook"
    signature = PAGE_KNOWN + POST_KNOWN

    def sniff(self, probe: Probe) -> float:
        if probe.kind == "csv":
            return 0.9 if _kind(probe.rows) else 0.0
        if probe.kind in ("xlsx", "spreadsheetml", "xls"):
            return 0.9 if any(_kind(r) for r in probe.sheets.values()) else 0.0
        return 0.0

    def parse(self, path: Path, probe: Probe, ctx: Context) -> Parsed:
        df, kind, notes = load(probe)
        out = Parsed(format=self.name, rows_read=len(df), notes=notes)
        if not len(df):
            return out
        if kind == "post":
            self._posts(df, path, ctx, out)
        else:
            self._page(df, path, ctx, out)
        return drop_rejected(out)

    # -- post level ------------------------------------------------------------------------
    def _posts(self, df: pd.DataFrame, path: Path, ctx: Context, out: Parsed) -> None:
        tz = ctx.source_tz or DEFAULT_TZ
        raw_id = text_col(df, "post id")
        page_id = raw_id.str.split("_", n=1).str[0].where(raw_id.str.contains("_", regex=False), None)
        native = raw_id.str.split("_", n=1).str[-1]
        m = FILE_NAME_RE.search(path.name)
        page_name = m.group(1) if m else None
        acc_rows, acc_of = [], {}
        for pid in dict.fromkeys(page_id.dropna()):
            aid, terr, row = resolve_account(ctx, "facebook", native_id=pid, name=page_name)
            acc_of[pid] = (aid, terr)
            acc_rows.append(row)
        if page_id.isna().any() and ctx.account_hint:
            hint_native = ctx.account_hint.partition(":")[2]
            aid, terr, row = resolve_account(ctx, "facebook", native_id=hint_native)
            acc_of[None] = (aid, terr)
            acc_rows.append(row)
        posted = text_col(df, "posted")
        created = local_to_utc(posted, "%m/%d/%Y %I:%M:%S %p", tz, df, out.rejects, "Posted")
        n = lambda *names: num_col(df, col(df, *names), out.rejects)  # noqa: E731
        by_action = "lifetime talking about this (post) by action type - "
        likes = as_int(n(by_action + "like"))
        organic_v, paid_v = n("lifetime organic video views"), n("lifetime paid video views")
        total_v = n("lifetime total video views")
        video = total_v.fillna(organic_v.add(paid_v))  # both present → their sum; else NULL
        paid_reach = n("lifetime post paid reach")
        posts = pd.DataFrame({
            "post_id": "facebook:" + native.fillna(""),
            "platform": "facebook",
            "native_id": native,
            "account_id": page_id.map(lambda p: acc_of.get(p, acc_of.get(None, (None, None)))[0]),
            "territory_id": page_id.map(lambda p: acc_of.get(p, acc_of.get(None, (None, None)))[1]),
            "created_at": created,
            "source_tz": tz,
            "text": text_col(df, "post message").map(clean_text),
            "post_type": text_col(df, "type").pipe(post_types),
            "permalink": text_col(df, "permalink"),
            "is_paid": paid_reach.map(lambda v: None if np.isnan(v) else bool(v > 0)).astype(object),
            "reach": as_int(n("lifetime post total reach")),
            "impressions": as_int(n("lifetime post total impressions")),
            "engagements_reported": as_int(n("lifetime engaged users")),
            "comments": as_int(n(by_action + "comment")),
            "shares": as_int(n(by_action + "share")),
            "likes": likes,
            # Before 2016 the like was the only reaction.
            "reactions": likes,
            "clicks": as_int(n("lifetime post consumptions")),
            "link_clicks": as_int(n("lifetime post consumptions by type - link clicks")),
            "video_views": as_int(video),
            "_line": df["_line"],
        })
        posts.loc[raw_id.isna(), "post_id"] = None
        out.add("accounts", accounts_frame(acc_rows))
        out.add("posts", posts)

    # -- page level ------------------------------------------------------------------------
    def _page(self, df: pd.DataFrame, path: Path, ctx: Context, out: Parsed) -> None:
        aid, _terr, acc = _page_account(path, ctx)
        raw = text_col(df, "date")
        day = pd.to_datetime(raw, format="%m/%d/%Y", errors="coerce")
        todo = raw.notna() & day.isna()
        if todo.any():
            day[todo] = pd.to_datetime(raw[todo], errors="coerce")
        for idx in df.index[raw.notna() & day.isna()]:
            out.rejects.append(_reject(df, idx, "Date", raw[idx], "date illisible"))
        d = day.dt.date
        fol = pd.DataFrame({
            "account_id": aid, "date": d,
            "followers": as_int(num_col(df, col(df, "lifetime total likes"), out.rejects)),
            "new_followers": as_int(num_col(df, col(df, "daily new likes"), out.rejects)),
            "lost_followers": as_int(num_col(df, col(df, "daily unlikes"), out.rejects)),
            "_line": df["_line"],
        })
        fol = fol[fol[["followers", "new_followers", "lost_followers"]].notna().any(axis=1)]
        parts = []
        for metric, c in PAGE_DAILY.items():
            if c in df.columns:
                v = num_col(df, c, out.rejects)
                parts.append(pd.DataFrame({"account_id": aid, "date": d, "metric": metric, "value": v,
                                           "_line": df["_line"]})[v.notna()])
        out.add("accounts", accounts_frame([acc]))
        out.add("audience_followers", fol)
        if parts:
            out.add("page_daily", pd.concat(parts, ignore_index=True))
        out.add("audience_demographics", self._demographics(df, d, aid, out))

    def _demographics(self, df: pd.DataFrame, day: pd.Series, aid: str, out: Parsed) -> pd.DataFrame:
        recs = []
        for prefix, dim in BREAKDOWNS.items():
            cols = [c for c in df.columns if c.startswith(prefix + " - ")]
            if not cols:
                continue
            block = df[cols].replace("", None)
            filled = block.notna().any(axis=1) & day.notna()
            if not filled.any():
                continue
            idx = filled[filled].index[-1]  # last date carrying this breakdown
            for c in cols:
                v = block.at[idx, c]
                if v is None or (isinstance(v, float) and np.isnan(v)):
                    continue
                try:
                    value = parse_number(v)
                except ValueError:
                    out.rejects.append(_reject(df, idx, c, v, "nombre illisible"))
                    continue
                if value is None:
                    continue
                # Keys as exported (case and accents kept): 'Barcelona, Cataluña, Spain'.
                name = df.attrs.get("orig", {}).get(c, c)
                key = (name if " - " in name else c).split(" - ", 1)[1].strip()
                gender = age = None
                if dim == "age_gender":
                    m = re.fullmatch(r"([FMU])\.(.+)", key)
                    if m:
                        gender, age = m.group(1), m.group(2)
                recs.append({"account_id": aid, "date": day[idx], "dimension": dim, "key": key,
                             "gender": gender, "age_band": age, "value": value, "unit": "count",
                             "_line": int(df.at[idx, "_line"])})
        return pd.DataFrame(recs)


def _reject(df: pd.DataFrame, idx: int, column: str, value: object, reason: str) -> Reject:
    return Reject(int(df.at[idx, "_line"]) or None, column, value, reason)


ADAPTERS: list[Adapter] = [FacebookInsightsLegacy()]
