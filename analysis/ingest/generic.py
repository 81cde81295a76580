"""Any CSV/XLSX described by a small TOML mapping file (``vigie import --mapping FILE``).

Mapping format (see ``docs/mapping_example.toml``)::

    table = "messages"            # or "posts"
    platform = "facebook"         # facebook, instagram, x, linkedin, youtube, other
    account = "facebook:1048…"    # optional: account the rows belong to (else --account)
    kind = "comment"              # messages only: default kind (comment, reply, mention, review)
    date_format = "%d/%m/%Y %H:%M"  # optional strptime format (else every known format is tried)
    dayfirst = true               # optional: 03/04/2025 is 3 April
    decimal = ","                 # optional: decimal mark of numbers
    timezone = "Europe/Paris"     # optional: zone of naive timestamps (else --tz, else Europe/Paris)
    sheet = "Feuil1"              # optional: sheet of a workbook (else the first one)

    [columns]                     # canonical name = source column header
    message_id = "Identifiant"
    created_at = "Date"
    text = "Commentaire"
    author = "Auteur"             # pseudonymised into author_hash (name kept only on opt-in)
    likes = "J'aime"

Canonical names are the columns of the table in :mod:`analysis.schema`, plus ``author``.
Ids without a ``<platform>:`` prefix get one; rows without an id column get a content hash.
The adapter only applies when a mapping is given (``ctx.mapping``): it never guesses.

This module also holds small vectorised helpers shared by the other adapters of this family.
"""

from __future__ import annotations

from collections.abc import Callable
from pathlib import Path
from typing import Any

import numpy as np
import pandas as pd

from analysis import schema
from analysis.config import LOCAL_TZ
from analysis.ingest.base import MISSING_TOKENS as MISSING
from analysis.ingest.base import (
    Adapter,
    Context,
    ImportFailure,
    Parsed,
    Reject,
    _as_utc,
    clean_text,
    content_id,
    is_missing,
    norm_header,
    parse_datetime,
    parse_number,
)
from analysis.ingest.sniff import Probe, read_csv_all, read_workbook
from analysis.privacy import get_key, pseudonymise

# ----------------------------------------------------------------------------------------
# Vectorised helpers (shared by twitter, comments, linkedin)


def map_unique(s: pd.Series, fn: Callable[[Any], Any]) -> pd.Series:
    """Apply ``fn`` once per distinct value of ``s`` (exports repeat authors and dates a lot)."""
    uniq = pd.unique(s.astype(object))
    table = {u: fn(u) for u in uniq}
    return s.astype(object).map(table)


def missing_mask(s: pd.Series) -> pd.Series:
    """Vectorised :func:`~analysis.ingest.base.is_missing` (text cells, as a CSV gives them, in one
    pass; other values one by one)."""
    if pd.api.types.infer_dtype(s, skipna=True) in ("string", "empty"):
        st = s.astype(object)
        null = st.isna()
        return null | st.where(~null, "").str.strip().str.lower().isin(MISSING)
    return s.map(is_missing).astype(bool)


def _text_cells(s: pd.Series) -> bool:
    return pd.api.types.infer_dtype(s, skipna=True) in ("string", "empty")


def clean_cells(s: pd.Series) -> pd.Series:
    """:func:`~analysis.ingest.base.clean_text` of each cell (NULL for a missing token), vectorised."""
    if not _text_cells(s):
        return s.map(clean_text)
    return clean_series(s.astype(object).where(~missing_mask(s), None))


def id_cells(s: pd.Series) -> pd.Series:
    """Each cell as an id (:func:`_id_str`: stripped text; NULL for a missing token), vectorised."""
    if not _text_cells(s):
        return s.map(lambda v: None if is_missing(v) else _id_str(v))
    obj = s.astype(object)
    return obj.where(~missing_mask(s), None).str.strip().astype(object).where(lambda x: x.notna(), None)


def clean_series(s: pd.Series) -> pd.Series:
    """Vectorised :func:`clean_text`: NFKC, CRLF → LF, stripped; empty → NULL."""
    t = s.astype("string").str.normalize("NFKC").str.replace("\r\n", "\n", regex=False).str.strip()
    return t.astype(object).where(t.notna() & (t != ""), None)


def hash_authors(ctx: Context, platform: str, keys: pd.Series) -> pd.Series:
    """Keyed pseudonym of each author key, computed once per distinct author."""

    if ctx.pseudonymise is pseudonymise:  # read the key once, not once per author
        key = get_key()

        def one(k: Any) -> str | None:
            if is_missing(k):
                return None
            k = str(k).strip()
            return pseudonymise(platform, k, key) if k else None

        return map_unique(keys, one)
    return map_unique(keys, lambda k: None if is_missing(k) else ctx.author_hash(platform, k))


def parse_numbers(s: pd.Series, column: str, lines: pd.Series | None = None,
                  decimal: str | None = None) -> tuple[pd.Series, list[Reject]]:
    """Locale numbers → float Series (NULL for missing tokens) and rejects for garbage."""
    bad: dict[Any, str] = {}

    def one(v: Any) -> float | None:
        try:
            return parse_number(v, decimal)
        except ValueError as e:
            bad[v] = str(e)
            return None

    out = map_unique(s, one)
    rejects: list[Reject] = []
    if bad:
        for idx in s.index[s.astype(object).isin(list(bad))]:
            line = None if lines is None else int(lines.loc[idx])
            rejects.append(Reject(line, column, s.loc[idx], "nombre illisible"))
    return pd.to_numeric(out, errors="coerce"), rejects


def to_int64(s: pd.Series) -> pd.Series:
    """Float counts (``424.0``) → nullable BIGINT-compatible integers."""
    return pd.to_numeric(s, errors="coerce").round().astype("Int64")


def parse_dates(s: pd.Series, column: str, lines: pd.Series | None = None, *, fmt: str | None = None,
                dayfirst: bool = False, tz: str | None = None) -> tuple[pd.Series, list[Reject]]:
    """Dates → naive UTC Timestamps; unreadable non-empty values become rejects."""
    bad: set[Any] = set()
    if fmt:
        from datetime import datetime


        def one(v: Any) -> Any:
            if is_missing(v):
                return None
            try:
                return _as_utc(datetime.strptime(str(v).strip(), fmt), tz)
            except ValueError:
                bad.add(v)
                return None
    else:
        def one(v: Any) -> Any:
            try:
                return parse_datetime(v, dayfirst=dayfirst, tz=tz)
            except (ValueError, OverflowError):
                bad.add(v)
                return None

    out = _iso_fast_path(s, tz) if not fmt else _format_fast_path(s, fmt, tz)
    if out is None:
        out = pd.to_datetime(map_unique(s, one), errors="coerce")
    else:
        rest = out.isna() & ~missing_mask(s)
        if rest.any():
            out = out.astype("datetime64[us]")
            out.loc[rest] = pd.to_datetime(map_unique(s[rest], one), errors="coerce").astype("datetime64[us]")
    rejects = []
    if bad:
        for idx in s.index[s.astype(object).isin(list(bad))]:
            line = None if lines is None else int(lines.loc[idx])
            rejects.append(Reject(line, column, s.loc[idx], "date illisible"))
    return out, rejects


def _format_fast_path(s: pd.Series, fmt: str, tz: str | None) -> pd.Series | None:
    """Vectorised ``strptime(value, fmt)`` read in ``tz``; NaT where that is not plain (a value
    pandas cannot read with ``fmt``, a wall time that a change of hour makes ambiguous or skips):
    those take the one-by-one path. None when ``fmt`` carries a zone (``%z``, ``%Z``) or no
    value reads."""
    if "%z" in fmt or "%Z" in fmt:
        return None
    st = s.astype("string").str.strip()
    try:
        d = pd.to_datetime(st, format=fmt, errors="coerce")
    except ValueError:  # a format pandas does not take
        return None
    if not d.notna().any():
        return None
    if tz:
        d = d.dt.tz_localize(tz, ambiguous="NaT", nonexistent="NaT").dt.tz_convert("UTC").dt.tz_localize(None)
    return d.astype("datetime64[us]")


_ISO_NAIVE = r"^\d{4}-\d{2}-\d{2}[T ]\d{2}:\d{2}(?::\d{2}(?:\.\d{1,9})?)?$"
_ISO_UTC = r"^\d{4}-\d{2}-\d{2}T\d{2}:\d{2}:\d{2}(?:\.\d{1,9})?Z$"


def _iso_fast_path(s: pd.Series, tz: str | None) -> pd.Series | None:
    """Vectorised parse of ISO timestamps (naive in ``tz``, or ``Z``); other values → NaT.

    Exports hold hundreds of thousands of distinct timestamps: parsing them one by one with
    :func:`parse_datetime` dominated import time. Returns None when no value is ISO.
    """
    st = s.astype("string").str.strip()
    naive = st.str.match(_ISO_NAIVE).fillna(False).astype(bool)
    utc = st.str.match(_ISO_UTC).fillna(False).astype(bool)
    if not (naive.any() or utc.any()):
        return None
    out = pd.Series(pd.NaT, index=s.index, dtype="datetime64[us]")
    if naive.any():
        d = pd.to_datetime(st[naive], format="ISO8601", errors="coerce")
        if tz:
            d = d.dt.tz_localize(tz, ambiguous="NaT", nonexistent="shift_forward").dt.tz_convert("UTC").dt.tz_localize(None)
        out.loc[naive] = d.astype("datetime64[us]")
    if utc.any():
        d = pd.to_datetime(st[utc], format="ISO8601", utc=True, errors="coerce").dt.tz_localize(None)
        out.loc[utc] = d.astype("datetime64[us]")
    return out


def drop_rejected(df: pd.DataFrame, rejects: list[Reject]) -> pd.DataFrame:
    """Rows of ``df`` (with ``_line``) minus those a reject points at: with --keep-going a bad row
    is skipped whole, never written with a silently NULLed cell."""
    bad = {r.line for r in rejects if r.line is not None}
    if not bad or "_line" not in df:
        return df
    return df[~df["_line"].isin(bad)]


def finish(parsed: Parsed) -> Parsed:
    """Apply :func:`drop_rejected` to every table of a single-sheet file."""
    for name, df in list(parsed.tables.items()):
        parsed.tables[name] = drop_rejected(df, parsed.rejects)
    parsed.rejects.sort(key=lambda r: r.line or 0)  # the first error reported is the first in the file
    return parsed


def resolve_account(ctx: Context, platform: str, *keys: str | None) -> tuple[str | None, str | None, bool]:
    """``(account_id, territory_id, official)`` of the registry account matching ``keys``."""
    if ctx.registry is not None:
        a = ctx.registry.find_account(platform, *keys)
        # The registry matches loosely (punctuation dropped): '@SaintAubinLoire_' would pass
        # for the official '@SaintAubinLoire'. An impersonator must never become official.
        if a is not None and _exact(a, keys):
            return a.account_id, a.territory_id, True
    return None, None, False


def _exact(a: Any, keys: tuple[str | None, ...]) -> bool:
    own = {str(v).lstrip("@").strip().casefold() for v in (a.native_id, a.handle, a.name, a.account_id) if v}
    return any(k is not None and str(k).lstrip("@").strip().casefold() in own for k in keys)


def hint_account(ctx: Context, platform: str | None = None) -> tuple[str | None, str | None, bool]:
    """The ``--account`` hint as ``(account_id, territory_id, official)``; Nones without a hint."""
    hint = ctx.account_hint
    if not hint:
        return None, None, False
    if ctx.registry is not None:
        a = ctx.registry.get_account(hint)
        if a is None and ":" in hint:
            plat, key = hint.split(":", 1)
            a = ctx.registry.find_account(plat, key)
        if a is not None:
            return a.account_id, a.territory_id, True
    if ":" not in hint and platform:
        hint = f"{platform}:{hint}"
    return hint, None, False


def account_row(account_id: str, platform: str, native_id: str | None = None, handle: str | None = None,
                name: str | None = None) -> dict:
    """An ``accounts`` row for a non-registry account (the pipeline never overwrites official ones)."""
    return {"account_id": account_id, "platform": platform, "native_id": native_id, "handle": handle,
            "name": name, "territory_id": None, "official": False}


def prefixed(platform: str, s: pd.Series) -> pd.Series:
    """Native ids → canonical ``<platform>:<id>`` (ids already prefixed are kept)."""
    pre = f"{platform}:"
    if pd.api.types.infer_dtype(s, skipna=True) in ("string", "empty"):  # CSV: vectorised path
        txt = s.astype("string").str.strip()
        txt = txt.mask(txt.str.lower().isin(MISSING))
    else:  # workbooks: numeric ids read as floats
        txt = map_unique(s, lambda v: None if is_missing(v) else _id_str(v)).astype("string")
    out = txt.where(txt.str.startswith(pre), pre + txt)
    return out.astype(object).where(out.notna(), None)


def _id_str(v: Any) -> str:
    # Excel turns numeric ids into floats: 1.0e15 must come back as '1000000000000000'.
    if isinstance(v, float) and v.is_integer():
        return str(int(v))
    return str(v).strip()


# ----------------------------------------------------------------------------------------
# The mapping adapter

ALLOWED = {
    "messages": set(schema.table("messages").column_names) - {"import_id", "author_hash", "author_name"} | {"author"},
    "posts": set(schema.table("posts").column_names) - {"import_id"},
}
INT_TYPES = {"BIGINT", "INTEGER"}


def _read_table(path: Path, probe: Probe, sheet: str | None) -> tuple[list[list[Any]], list[int]]:
    if probe.kind == "csv":
        return read_csv_all(probe)
    if probe.kind in ("xlsx", "xls", "spreadsheetml", "html"):
        book = read_workbook(path, probe.kind)
        if sheet:
            if sheet not in book:
                raise ImportFailure(f"Feuille « {sheet} » absente de {path} (feuilles : {', '.join(book)})")
            rows = book[sheet]
        else:
            rows = next(iter(book.values()), [])
        return rows, list(range(1, len(rows) + 1))
    raise ImportFailure(f"{path} : un fichier de correspondance s'applique à un CSV ou un classeur, pas à « {probe.kind} »")


def _header_row(rows: list[list[Any]], cols: dict[str, str]) -> int | None:
    """Index of the first row (among the first 30) holding every source column of the mapping."""
    wanted = [norm_header(v) for v in cols.values()]
    for i, r in enumerate(rows[:30]):
        have = {norm_header(c) for c in r}
        if all(w in have for w in wanted):
            return i
    return None


class MappedTable(Adapter):
    name = "generic_mapping"
    label = "CSV/XLSX quelconque décrit par un fichier de correspondance (--mapping)"
    platform = "other"
    signature = ()
    # Each row maps on its own (ids, content hashes, dates, numbers): big CSVs import in chunks.
    streamable = True

    def stream_header(self, probe: Probe, ctx: Context | None = None) -> int | None:
        """Index of the mapped header (rows above it repeat in every chunk); None without a mapping."""
        if ctx is None or not ctx.mapping or probe.kind != "csv":
            return None
        return _header_row(probe.rows, dict(ctx.mapping.get("columns", {})))

    def sniff(self, probe: Probe) -> float:
        # Never guesses: applies only when the user gave a mapping (context set by the CLI).
        return 0.0

    def parse(self, path: Path, probe: Probe, ctx: Context) -> Parsed:
        m = ctx.mapping
        if not m:
            raise ImportFailure("Format « generic_mapping » : donnez un fichier de correspondance avec --mapping FICHIER.toml")
        table = m.get("table", "messages")
        if table not in ALLOWED:
            raise ImportFailure(f"Correspondance : table « {table} » inconnue (messages ou posts)")
        platform = m.get("platform", "other")
        if platform not in schema.PLATFORMS:
            raise ImportFailure(f"Correspondance : plateforme « {platform} » inconnue ({', '.join(schema.PLATFORMS)})")
        cols: dict[str, str] = dict(m.get("columns", {}))
        unknown = sorted(set(cols) - ALLOWED[table])
        if unknown:
            raise ImportFailure(f"Correspondance : colonnes canoniques inconnues {unknown} pour {table} "
                                f"(connues : {', '.join(sorted(ALLOWED[table]))})")
        rows, lines = _read_table(path, probe, m.get("sheet"))
        hi = _header_row(rows, cols)
        if hi is None:
            first = [str(c) for c in (rows[0] if rows else []) if c not in (None, "")]
            missing = [v for v in cols.values() if norm_header(v) not in {norm_header(c) for c in first}]
            raise ImportFailure(f"{path} : colonnes de la correspondance introuvables {missing}. "
                                f"Colonnes du fichier : {', '.join(first[:30])}")
        header = [norm_header(c) for c in rows[hi]]
        body = rows[hi + 1:]
        width = max([len(header)] + [len(r) for r in body])
        cells = np.full((len(body), width), None, dtype=object)
        for i, r in enumerate(body):
            cells[i, :len(r)] = r
        full = pd.DataFrame(cells, dtype=object)
        keep = np.zeros(len(body), dtype=bool)  # rows with at least one value
        for j in range(width):
            keep |= ~missing_mask(full[j]).to_numpy(dtype=bool)
        raw = full.loc[keep, list(range(len(header)))].reset_index(drop=True)
        line_s = pd.Series(np.asarray(lines[hi + 1:], dtype="int64")[keep])
        pos = {h: j for j, h in reversed(list(enumerate(header)))}
        out = pd.DataFrame(index=raw.index)
        rejects: list[Reject] = []
        t = schema.table(table)
        tz = m.get("timezone") or ctx.source_tz or LOCAL_TZ  # the house default for naive times
        for canon, src in cols.items():
            s = raw[pos[norm_header(src)]]
            if canon == "author":
                continue
            ctype = t.column(canon).type
            if ctype == "TIMESTAMP":
                out[canon], rj = parse_dates(s, src, line_s, fmt=m.get("date_format"),
                                             dayfirst=bool(m.get("dayfirst", False)), tz=tz)
                rejects += rj
            elif ctype in INT_TYPES or ctype == "DOUBLE":
                v, rj = parse_numbers(s, src, line_s, m.get("decimal"))
                rejects += rj
                out[canon] = to_int64(v) if ctype in INT_TYPES else v
            elif ctype == "BOOLEAN":
                out[canon] = map_unique(s, lambda v: None if is_missing(v) else str(v).strip().lower() in
                                        ("1", "true", "vrai", "oui", "yes", "x"))
            elif canon == "text":
                out[canon] = clean_cells(s)
            else:
                out[canon] = id_cells(s)
        out["platform"] = platform
        acc_id, terr, _ = hint_account(ctx, platform)
        if m.get("account"):
            acc_id, terr, _ = hint_account(Context(registry=ctx.registry, account_hint=m["account"]), platform)
        if "account_id" in out:
            out["account_id"] = prefixed(platform, out["account_id"])
        elif acc_id:
            out["account_id"] = acc_id
        if "territory_id" not in out and terr:
            out["territory_id"] = terr
        if "created_at" in out:
            out["source_tz"] = tz
        for idcol in ("post_id", "parent_id", "message_id"):
            if idcol in out:
                out[idcol] = prefixed(platform, out[idcol])
        if table == "messages":
            if "author" in cols:
                a = raw[pos[norm_header(cols["author"])]]
                keys = id_cells(a) if _text_cells(a) else a.map(lambda v: None if is_missing(v) else str(v).strip())
                out["author_hash"] = hash_authors(ctx, platform, keys)
                if ctx.keep_author_names:
                    out["author_name"] = a.map(clean_text)
            if "kind" not in out:
                out["kind"] = m.get("kind", "comment")
            if "message_id" not in out:
                parts = [out.get(c, pd.Series(None, index=out.index)) for c in ("post_id", "created_at", "author_hash", "text")]
                out["message_id"] = [f"{platform}:h{content_id(platform, *vals)}" for vals in zip(*parts, strict=True)]
        else:
            if "post_id" not in out:
                if "native_id" in out:
                    out["post_id"] = prefixed(platform, out["native_id"])
                else:
                    parts = [out.get(c, pd.Series(None, index=out.index)) for c in ("account_id", "created_at", "text")]
                    out["post_id"] = [f"{platform}:h{content_id(platform, *vals)}" for vals in zip(*parts, strict=True)]
        out["_line"] = line_s
        parsed = Parsed(format=self.name, rows_read=len(out), rejects=rejects)
        if acc_id and not terr and "account_id" not in cols:  # an account outside the registry
            parsed.add("accounts", pd.DataFrame([account_row(acc_id, platform, None, acc_id.split(":", 1)[1])]))
        parsed.add(table, out)
        return finish(parsed)


ADAPTERS = [MappedTable()]
