"""Campaign definitions: the ``Campaign`` record, reading TOML/CSV files, storing, listing, matching posts."""

from __future__ import annotations

import csv
import io
import math
import tomllib
from dataclasses import asdict, dataclass, field
from datetime import date, timedelta
from pathlib import Path
from typing import Any

import duckdb
import pandas as pd

from analysis import derived, metrics, store


# ================================================================================ definitions
@dataclass
class Campaign:
    """A communication campaign: territory, dates (inclusive) and what identifies its content."""

    campaign_id: str
    name: str
    territory_id: str
    start_date: date
    end_date: date
    hashtags: list[str] = field(default_factory=list)
    keywords: list[str] = field(default_factory=list)
    post_ids: list[str] = field(default_factory=list)
    objective: str | None = None
    budget: float | None = None
    source: str | None = None

    def __post_init__(self) -> None:
        self.start_date = _to_date(self.start_date, "start_date", self.campaign_id)
        self.end_date = _to_date(self.end_date, "end_date", self.campaign_id)
        if self.end_date < self.start_date:
            raise ValueError(f"Campagne « {self.campaign_id} » : la date de fin précède la date de début.")
        self.hashtags = [h.strip().lstrip("#").lower() for h in _as_list(self.hashtags) if h.strip().lstrip("#")]
        self.keywords = [k.strip().lower() for k in _as_list(self.keywords) if k.strip()]
        self.post_ids = [p.strip() for p in _as_list(self.post_ids) if p.strip()]

    @property
    def days(self) -> int:
        return (self.end_date - self.start_date).days + 1

    def as_row(self) -> dict[str, Any]:
        return asdict(self)


def _as_list(v: Any) -> list[str]:
    if v is None or (isinstance(v, float) and math.isnan(v)):
        return []
    if isinstance(v, str):
        return [x for x in v.replace("|", ",").replace(";", ",").split(",")]
    return [str(x) for x in v]


def _to_date(v: Any, col: str, cid: str) -> date:
    try:
        return pd.Timestamp(v).date()
    except (ValueError, TypeError) as e:
        raise ValueError(f"Campagne « {cid} » : {col} « {v} » n'est pas une date (AAAA-MM-JJ).") from e


def load_campaigns_file(path: str | Path) -> list[Campaign]:
    """Read campaigns from a TOML file (``[[campaign]]`` tables) or a CSV (one campaign per line).

    Columns/keys: ``id`` (or ``campaign_id``), ``name``, ``territory`` (or ``territory_id``),
    ``start``/``end`` (or ``start_date``/``end_date``), ``hashtags``, ``keywords``, ``post_ids``
    (lists, or strings separated by ``,`` ``;`` or ``|``), ``objective``, ``budget``.
    """
    p = Path(path)
    text = p.read_text(encoding="utf-8-sig")
    if p.suffix.lower() == ".toml":
        try:
            items = tomllib.loads(text).get("campaign", [])
        except tomllib.TOMLDecodeError as e:
            raise ValueError(f"{p} : TOML illisible ({e}).") from e
    else:
        dialect = csv.Sniffer().sniff(text.splitlines()[0], delimiters=",;\t")
        items = list(csv.DictReader(io.StringIO(text), dialect=dialect))
    out = []
    for i, it in enumerate(items, start=1):
        it = {k.strip().lower(): (v.strip() if isinstance(v, str) else v) for k, v in it.items() if k}
        cid = it.get("id") or it.get("campaign_id")
        where = f"{p}, campagne n°{i}"
        for req, alts in (("id", ("id", "campaign_id")), ("territory", ("territory", "territory_id")),
                          ("start", ("start", "start_date")), ("end", ("end", "end_date"))):
            if not any(it.get(a) for a in alts):
                raise ValueError(f"{where} : champ « {req} » manquant.")
        budget = it.get("budget")
        try:
            out.append(Campaign(
                campaign_id=str(cid), name=it.get("name") or str(cid),
                territory_id=it.get("territory") or it.get("territory_id"),
                start_date=it.get("start") or it.get("start_date"), end_date=it.get("end") or it.get("end_date"),
                hashtags=it.get("hashtags"), keywords=it.get("keywords"), post_ids=it.get("post_ids"),
                objective=it.get("objective") or None,
                budget=float(str(budget).replace(",", ".")) if budget not in (None, "") else None,
                source="file",
            ))
        except ValueError as e:
            raise ValueError(f"{where} : {e}") from e
    return out


def save_campaigns(con: duckdb.DuckDBPyConnection, campaigns: list[Campaign]) -> tuple[int, int]:
    """Upsert campaigns into the ``campaigns`` table → (inserted, updated)."""

    if not campaigns:
        return 0, 0
    return store.upsert(con, "campaigns", pd.DataFrame([c.as_row() for c in campaigns]))


def remove_campaign(con: duckdb.DuckDBPyConnection, campaign_id: str) -> bool:
    """Delete a campaign; False when it did not exist."""
    n = con.execute("SELECT count(*) FROM campaigns WHERE campaign_id = ?", [campaign_id]).fetchone()[0]
    con.execute("DELETE FROM campaigns WHERE campaign_id = ?", [campaign_id])
    return n > 0


def list_campaigns(con: duckdb.DuckDBPyConnection) -> list[Campaign]:
    """All campaigns, most recent first."""
    df = con.execute("SELECT * FROM campaigns ORDER BY start_date DESC, campaign_id").df()
    return [_from_row(r) for r in df.to_dict("records")]


def get_campaign(con: duckdb.DuckDBPyConnection, campaign_id: str) -> Campaign:
    """One campaign, or KeyError with a French message."""
    df = con.execute("SELECT * FROM campaigns WHERE campaign_id = ?", [campaign_id]).df()
    if df.empty:
        raise KeyError(f"Campagne inconnue : {campaign_id} (voir `vigie campaigns list`).")
    return _from_row(df.iloc[0].to_dict())


def _from_row(r: dict[str, Any]) -> Campaign:
    def lst(v: Any) -> list[str]:
        return [] if v is None or (isinstance(v, float) and math.isnan(v)) else list(v)

    budget = r.get("budget")
    return Campaign(r["campaign_id"], r.get("name") or r["campaign_id"], r.get("territory_id"),
                    r["start_date"], r["end_date"], lst(r.get("hashtags")), lst(r.get("keywords")),
                    lst(r.get("post_ids")), r.get("objective"),
                    None if budget is None or pd.isna(budget) else float(budget), r.get("source"))


def match_posts(con: duckdb.DuckDBPyConnection, c: Campaign) -> pd.DataFrame:
    """Official posts of the campaign's territory within its dates that carry one of its hashtags or
    keywords, or are listed by id (all of its posts in the window when it defines none of these)."""
    e = metrics.engagement_sql("p")
    conds, params = [], [c.territory_id, pd.Timestamp(c.start_date).to_pydatetime(),
                         pd.Timestamp(c.end_date + timedelta(days=1)).to_pydatetime()]
    for h in c.hashtags:
        # '#tag' followed by a non-word character or the end: #velo must not match #velorution
        conds.append("regexp_matches(lower(p.text), ?)")
        params.append(r"#" + _re_escape(h) + r"(\W|$)")
    for k in c.keywords:
        conds.append("strpos(lower(p.text), ?) > 0")
        params.append(k)
    if c.post_ids:
        conds.append(f"p.post_id IN ({', '.join('?' for _ in c.post_ids)})")
        params += c.post_ids
    match = " OR ".join(conds) if conds else "TRUE"
    return con.execute(
        f"SELECT p.post_id, p.platform, p.created_at, p.post_type, p.text, {e} AS engagement FROM posts p "
        f"WHERE p.territory_id = ? AND p.created_at >= ? AND p.created_at < ? AND ({match}) ORDER BY p.created_at",
        params,
    ).df()


def _re_escape(s: str) -> str:
    import re

    return re.escape(s)


def daily_messages_sql(where: str = "TRUE") -> str:
    """SQL of the rows of ``daily_messages_utc`` for the messages of ``where`` (on ``m``): user
    messages (not official) per territory × platform × UTC day, with the positive and negative ones
    (analyst label first, then the model's): what :func:`analysis.campaigns.effects.daily_panel`
    and :func:`analysis.campaigns.benchmark.message_totals` count."""
    label = "coalesce(l.value, s.label)"
    return f"""
        SELECT m.territory_id, m.platform, m.created_at::DATE AS day, count(*) AS messages,
               count(*) FILTER (WHERE {label} = 'positive') AS positive,
               count(*) FILTER (WHERE {label} = 'negative') AS negative
        FROM messages m
        LEFT JOIN sentiment s ON s.item_id = m.message_id AND s.item_type = 'message'
        LEFT JOIN labels l ON l.item_id = m.message_id AND l.item_type = 'message' AND l.task = 'sentiment'
        WHERE NOT coalesce(m.is_official, FALSE) AND m.created_at IS NOT NULL AND ({where})
        GROUP BY ALL"""


def daily_messages_current(con: duckdb.DuckDBPyConnection, *bounds: Any) -> bool:
    """Whether ``daily_messages_utc`` can answer for ``bounds``: whole days, and the derived tables
    current (:func:`analysis.derived.current`)."""
    return derived.whole_days(*bounds) and derived.current(con)


def _has_rows(con: duckdb.DuckDBPyConnection, table: str) -> bool:
    try:
        return con.execute(f"SELECT count(*) > 0 FROM {table}").fetchone()[0]
    except duckdb.Error:
        return False
