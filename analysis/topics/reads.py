"""Read models over the ``themes`` table: theme shares, discovered-topic shares, themed texts,
sentiment per theme, our posts against the public conversation."""

from __future__ import annotations

from collections.abc import Sequence
from typing import Any

import numpy as np
import pandas as pd

from analysis import derived, store
from analysis.metrics import engagement_sql, net_sentiment
from analysis.queries import Filters
from analysis.topics.discovery import TopicDiscovery
from analysis.topics.taxonomy import NO_THEME, Taxonomy, load_taxonomy

SITUATION_NO_ECHO = "Nous en parlons, peu d'écho"
SITUATION_ECHO = "Nous en parlons, avec de l'écho"
SITUATION_SILENT = "Le public en parle, nous peu"
SITUATION_BALANCED = "Équilibré"


def daily_themes_sql(where: str = "TRUE") -> str:
    """SQL of the rows of the derived table ``daily_themes_utc`` for the messages of ``where`` (on
    ``m``): user messages (not official) per territory × platform × UTC day × theme (« none »
    included), with the model's sentiment labels among them — the counts :func:`theme_shares`,
    :func:`sentiment_by_theme` and :func:`posts_vs_conversation` make over the message tables — and
    ``first_theme``, each message counted once (:func:`analysis.topics.views.themed_share`)."""
    return f"""
        SELECT territory_id, platform, day, theme, count(*) AS messages,
               count(*) FILTER (WHERE label = 'positive') AS positive,
               count(*) FILTER (WHERE label = 'neutral') AS neutral,
               count(*) FILTER (WHERE label = 'negative') AS negative,
               count(*) FILTER (WHERE theme = first OR (first IS NULL AND theme = '{NO_THEME}')) AS first_theme
        FROM (SELECT m.territory_id, m.platform, m.created_at::DATE AS day, t.theme, s.label,
                     min(CASE WHEN t.theme <> '{NO_THEME}' THEN t.theme END) OVER (PARTITION BY t.item_id) AS first
              FROM messages m
              JOIN themes t ON t.item_id = m.message_id AND t.item_type = 'message'
              LEFT JOIN sentiment s ON s.item_id = m.message_id AND s.item_type = 'message'
              WHERE NOT coalesce(m.is_official, FALSE) AND m.created_at IS NOT NULL AND ({where}))
        GROUP BY ALL"""


def main_theme_sql(item_id: str, item_type: str, taxonomy: Taxonomy | None = None) -> tuple[str, list]:
    """SQL (and its parameter) of an item's main theme as the store holds it: its best-scored theme in
    ``themes`` — the enrichment's (the classifier adapted to the store), an analyst's label first
    (score 1) — ties broken in the taxonomy's order, as the classifier's argmax does; :data:`NO_THEME`
    when no theme reaches the threshold, NULL when the item was never classified. ``item_id``: the SQL
    of the item's id (``p.post_id``); ``item_type``: ``'post'`` or ``'message'``."""
    if item_type not in ("post", "message"):
        raise ValueError(f"type d'élément inconnu : {item_type!r}")
    ids = list((taxonomy or load_taxonomy()).ids)
    # one aggregate, not ORDER BY … LIMIT 1 in the subquery (twice the time of the Campagnes post table at 1 M):
    # the largest (score, − rank in the taxonomy, id) — a theme the taxonomy no longer has comes last
    return (f"(SELECT arg_max(t.theme, (coalesce(t.score, -1), -coalesce(list_position(?::VARCHAR[], t.theme), "
            f"2147483647), t.theme)) FROM themes t WHERE t.item_id = {item_id} AND t.item_type = '{item_type}')"), [ids]


def _daily(con: Any, f: Filters, derived_ok: bool, by: Sequence[str] = ()) -> bool:
    """Whether the daily tables answer for ``f`` grouped ``by``: groups of their keys, whole UTC days
    and the tables current (:func:`analysis.derived.usable`)."""
    return derived_ok and set(by) <= {"territory_id", "platform"} and derived.usable(con, f, "daily_themes_utc")


def _label_map(tax: Taxonomy | None = None) -> dict[str, str]:
    tax = tax or load_taxonomy()
    return {**tax.labels, NO_THEME: "Sans thème"}


def theme_shares(con: Any, f: Filters | None = None, freq: str | None = "month",
                 by: Sequence[str] = ("territory_id",), item_type: str = "message",
                 taxonomy: Taxonomy | None = None, derived_ok: bool = True) -> pd.DataFrame:
    """Share of items per theme and period: items with the theme ÷ all items of the group.

    Multi-label, so shares of a period do not add up to 100 %. ``item_type`` 'message' is the
    public conversation, 'post' our posts (official accounts). ``freq`` 'day', 'week', 'month'
    or None (the whole filtered period, ``period`` = its start). Columns: period, *by, theme,
    label, n_items, n_total, share. Messages over whole days are summed from the daily tables
    (``daily_themes_utc``, ``daily_messages_utc``) unless ``derived_ok`` is False: same rows.
    """
    f = f or Filters()
    if freq not in ("day", "week", "month", "quarter", "year", None):
        raise ValueError(f"Période d'agrégation inconnue : {freq}")
    table, idcol = ("messages", "message_id") if item_type == "message" else ("posts", "post_id")
    w, params = f.where("i")
    extra = "AND i.is_official IS NOT TRUE" if item_type == "message" else "AND i.territory_id IS NOT NULL"
    group = ", ".join(f"i.{c}" for c in by)
    gsel = (group + ", ") if by else ""

    def period_of(ts: str) -> str:  # the period of a row whose time (or day) is ``ts``
        return f"date_trunc('{freq}', {ts})::DATE" if freq else (
            f"DATE '{pd.Timestamp(f.start).date().isoformat()}'" if f.start else "DATE '1970-01-01'")

    period = period_of("i.created_at")
    if item_type == "message" and _daily(con, f, derived_ok, by):
        dw, dparams = f.where("d", ts="day")
        dperiod = period_of("d.day")
        dgroup = ", ".join(f"d.{c}" for c in by)
        dsel = (dgroup + ", ") if by else ""
        df = con.execute(
            f"""
            WITH th AS (SELECT {dperiod} AS period, {dsel} d.theme, sum(d.messages)::BIGINT AS n_items
                        FROM daily_themes_utc d WHERE {dw} AND d.theme <> '{NO_THEME}' GROUP BY ALL),
            tot AS (SELECT {dperiod} AS period, {dsel} sum(d.messages)::BIGINT AS n_total
                    FROM daily_messages_utc d WHERE {dw} GROUP BY ALL)
            SELECT th.*, tot.n_total FROM th JOIN tot USING (period {"," if by else ""} {", ".join(by)})
            ORDER BY period, theme {"," if by else ""} {", ".join(by)}
            """, dparams + dparams).df()
        df["share"] = df["n_items"] / df["n_total"]
        df["label"] = df["theme"].map(_label_map(taxonomy))
        return df
    df = con.execute(
        f"""
        WITH items AS (
            SELECT i.{idcol} AS item_id, {period} AS period {"," if by else ""} {group}
            FROM {table} i WHERE {w} {extra}),
        tot AS (SELECT period, {gsel.replace("i.", "")} count(*) AS n_total FROM items GROUP BY ALL),
        th AS (SELECT it.period, {gsel.replace("i.", "it.")} t.theme, count(*) AS n_items
               FROM items it JOIN themes t ON t.item_id = it.item_id AND t.item_type = ?
               WHERE t.theme <> '{NO_THEME}' GROUP BY ALL)
        SELECT th.*, tot.n_total FROM th JOIN tot USING (period {"," if by else ""} {", ".join(by)})
        ORDER BY period, theme {"," if by else ""} {", ".join(by)}
        """, params + [item_type]).df()
    df["share"] = df["n_items"] / df["n_total"]
    df["label"] = df["theme"].map(_label_map(taxonomy))
    return df


def topic_shares(con: Any, model: TopicDiscovery, f: Filters | None = None, freq: str = "month",
                 by: Sequence[str] = ("territory_id",), limit: int | None = None) -> pd.DataFrame:
    """Share of public messages per discovered topic and period: messages whose dominant topic
    is the topic ÷ all messages of the group (messages sharing no term with any topic count in
    the total, under topic −1 'hors sujets'). Columns: period, *by, topic, label, n_items,
    n_total, share.
    """
    if freq not in ("day", "week", "month", "quarter", "year"):
        raise ValueError(f"Période d'agrégation inconnue : {freq}")
    f = f or Filters()
    w, params = f.where("m")
    cols = "".join(f", m.{c}" for c in by)
    lim = f"LIMIT {int(limit)}" if limit else ""
    df = con.execute(
        f"SELECT date_trunc('{freq}', m.created_at)::DATE AS period{cols}, m.text FROM messages m "
        f"WHERE {w} AND m.is_official IS NOT TRUE AND m.text IS NOT NULL ORDER BY m.created_at {lim}", params).df()
    keys = ["period", *by]
    if df.empty:
        return pd.DataFrame(columns=[*keys, "topic", "label", "n_items", "n_total", "share"])
    df["topic"] = model.dominant_topic(df["text"])
    out = df.groupby([*keys, "topic"], dropna=False).size().rename("n_items").reset_index()
    tot = df.groupby(keys, dropna=False).size().rename("n_total").reset_index()
    out = out.merge(tot, on=keys)
    out["share"] = out["n_items"] / out["n_total"]
    labels = dict(enumerate(model.labels_))
    out["label"] = out["topic"].map(lambda t: labels.get(t, "hors sujets"))
    return out[[*keys, "topic", "label", "n_items", "n_total", "share"]]


def themed_messages(con: Any, f: Filters | None = None, theme: str | None = None, tone: str | None = None,
                    item_type: str = "message", limit: int | None = 50_000, spread: bool = False) -> pd.DataFrame:
    """Texts of items (no author column) with optional theme and sentiment tone filter.

    With ``limit``, the first items in time are kept; ``spread=True`` keeps instead a
    deterministic pseudo-random sample (hash of the id) spread over the whole period.
    """
    f = f or Filters()
    table, idcol = ("messages", "message_id") if item_type == "message" else ("posts", "post_id")
    w, params = f.where("i")
    where = [w]
    if item_type == "message":
        where.append("i.is_official IS NOT TRUE")
    else:
        where.append("i.territory_id IS NOT NULL")
    if theme:
        where.append(f"EXISTS (SELECT 1 FROM themes t WHERE t.item_id = i.{idcol} AND t.item_type = ? AND t.theme = ?)")
        params += [item_type, theme]
    if tone:
        where.append(f"EXISTS (SELECT 1 FROM sentiment s WHERE s.item_id = i.{idcol} AND s.item_type = ? "
                     "AND s.label = ?)")
        params += [item_type, tone]
    lim = f"LIMIT {int(limit)}" if limit else ""
    cols = f"i.{idcol} AS item_id, i.created_at, i.territory_id, i.platform, i.text"
    if spread and limit:
        # the sample picked by row id first, its columns read after: sorting a million texts along
        # with their hashes was two thirds of the word cloud's query
        sql = (f"WITH pick AS (SELECT i.rowid AS r FROM {table} i WHERE {' AND '.join(where)} "
               f"ORDER BY hash(i.{idcol}) {lim}) "
               f"SELECT {cols} FROM {table} i WHERE i.rowid IN (SELECT r FROM pick) ORDER BY i.created_at")
    else:
        sql = f"SELECT {cols} FROM {table} i WHERE {' AND '.join(where)} ORDER BY i.created_at {lim}"
    return store.frame(con, sql, params)


def sentiment_by_theme(con: Any, f: Filters | None = None, taxonomy: Taxonomy | None = None,
                       derived_ok: bool = True) -> pd.DataFrame:
    """Tone of the public conversation per theme: counts, negative share and net sentiment.

    Net sentiment = (positive − negative) ÷ (positive + negative) (:func:`analysis.metrics.net_sentiment`).
    Empty when the ``sentiment`` table has no rows for these messages. Over whole days, summed from
    ``daily_themes_utc`` unless ``derived_ok`` is False (same rows).
    """
    f = f or Filters()
    w, params = f.where("m")
    if _daily(con, f, derived_ok):
        dw, dparams = f.where("d", ts="day")
        df = con.execute(
            f"""
            SELECT * FROM (
                SELECT d.theme, sum(d.positive + d.neutral + d.negative)::BIGINT AS n,
                       sum(d.negative)::BIGINT AS negative, sum(d.neutral)::BIGINT AS neutral,
                       sum(d.positive)::BIGINT AS positive
                FROM daily_themes_utc d WHERE {dw} AND d.theme <> '{NO_THEME}' GROUP BY d.theme)
            WHERE n > 0 ORDER BY negative DESC, theme
            """, dparams).df()
    else:
        df = con.execute(
            f"""
            SELECT t.theme, count(*) AS n,
                   count(*) FILTER (WHERE s.label = 'negative') AS negative,
                   count(*) FILTER (WHERE s.label = 'neutral') AS neutral,
                   count(*) FILTER (WHERE s.label = 'positive') AS positive
            FROM messages m
            JOIN themes t ON t.item_id = m.message_id AND t.item_type = 'message'
            JOIN sentiment s ON s.item_id = m.message_id AND s.item_type = 'message'
            WHERE {w} AND m.is_official IS NOT TRUE AND t.theme <> '{NO_THEME}' AND s.label IS NOT NULL
            GROUP BY t.theme ORDER BY negative DESC, t.theme
            """, params).df()
    df["negative_share"] = df["negative"] / df["n"].where(df["n"] > 0)
    df["net_sentiment"] = [net_sentiment(p, n) for p, n in zip(df["positive"], df["negative"], strict=True)]
    df["label"] = df["theme"].map(_label_map(taxonomy))
    return df.sort_values("negative_share", ascending=False, kind="stable").reset_index(drop=True)


def posts_vs_conversation(con: Any, f: Filters | None = None, taxonomy: Taxonomy | None = None,
                          ratio: float = 1.5, derived_ok: bool = True) -> pd.DataFrame:
    """Our posts vs the public conversation, per theme.

    post_share = our posts with the theme ÷ all our posts; message_share = public messages with
    the theme ÷ all public messages; engagement_per_post = mean engagement of our posts with the
    theme (:func:`analysis.metrics.engagement_sql`, posts with unknown engagement left out).
    ``situation``: when post_share ≥ ratio × message_share, "Nous en parlons, peu d'écho" if the
    engagement per post is below the median of themes, else "Nous en parlons, avec de l'écho";
    "Le public en parle, nous peu" when message_share ≥ ratio × post_share; else "Équilibré".
    """
    f = f or Filters()
    wp, pp = f.where("p")
    wm, pm = f.where("m")
    posts = con.execute(
        f"""
        WITH p AS (SELECT p.post_id, {engagement_sql("p")} AS engagement FROM posts p
                   WHERE {wp} AND p.territory_id IS NOT NULL)
        SELECT t.theme, count(*) AS posts, avg(p.engagement) AS engagement_per_post,
               count(p.engagement) AS posts_with_engagement,
               (SELECT count(*) FROM p) AS posts_total
        FROM p JOIN themes t ON t.item_id = p.post_id AND t.item_type = 'post'
        WHERE t.theme <> '{NO_THEME}' GROUP BY t.theme
        """, pp).df()
    if _daily(con, f, derived_ok):  # the messages' half summed from the daily tables (same figures)
        dw, dparams = f.where("d", ts="day")
        msgs = con.execute(
            f"""
            SELECT d.theme, sum(d.messages)::BIGINT AS messages,
                   (SELECT coalesce(sum(d.messages), 0)::BIGINT FROM daily_messages_utc d WHERE {dw}) AS messages_total
            FROM daily_themes_utc d WHERE {dw} AND d.theme <> '{NO_THEME}' GROUP BY d.theme
            """, dparams + dparams).df()
    else:
        msgs = con.execute(
            f"""
            WITH m AS (SELECT m.message_id FROM messages m WHERE {wm} AND m.is_official IS NOT TRUE)
            SELECT t.theme, count(*) AS messages, (SELECT count(*) FROM m) AS messages_total
            FROM m JOIN themes t ON t.item_id = m.message_id AND t.item_type = 'message'
            WHERE t.theme <> '{NO_THEME}' GROUP BY t.theme
            """, pm).df()
    tax = taxonomy or load_taxonomy()
    out = pd.DataFrame({"theme": tax.ids})
    out = out.merge(posts, on="theme", how="left").merge(msgs, on="theme", how="left")
    out["posts"] = out["posts"].fillna(0).astype(int)
    out["messages"] = out["messages"].fillna(0).astype(int)
    pt = posts["posts_total"].iloc[0] if len(posts) else con.execute(
        f"SELECT count(*) FROM posts p WHERE {wp} AND p.territory_id IS NOT NULL", pp).fetchone()[0]
    mt = msgs["messages_total"].iloc[0] if len(msgs) else con.execute(
        f"SELECT count(*) FROM messages m WHERE {wm} AND m.is_official IS NOT TRUE", pm).fetchone()[0]
    out["post_share"] = out["posts"] / pt if pt else np.nan
    out["message_share"] = out["messages"] / mt if mt else np.nan
    out = out.drop(columns=["posts_total", "messages_total"])
    med = out["engagement_per_post"].median()
    we_talk = (out["post_share"] >= ratio * out["message_share"]) & (out["posts"] > 0)
    they_talk = (out["message_share"] >= ratio * out["post_share"]) & (out["messages"] > 0)
    echo = out["engagement_per_post"] >= med
    sit = np.select([we_talk & ~echo, we_talk & echo, they_talk],
                    [SITUATION_NO_ECHO, SITUATION_ECHO, SITUATION_SILENT], SITUATION_BALANCED)
    out["situation"] = sit
    out["label"] = out["theme"].map(tax.labels)
    return out
