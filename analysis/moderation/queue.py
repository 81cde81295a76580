"""Moderation queue (what needs attention, ranked, with its reason in French) and statuses."""

from __future__ import annotations

import json
import math
import re
from datetime import UTC, datetime

import duckdb
import pandas as pd

from analysis import derived as derived_tables
from analysis import schema, store
from analysis.fmt import fr_count, fr_int, fr_pct, fr_plural
from analysis.moderation.toxicity import HOSTILE_THRESHOLD, normalise
from analysis.queries import Filters

STATUSES = schema.MODERATION_STATUSES
# Decisions that take a message out of the queue; « escaladé » (passed to someone who decides) and
# « à traiter » leave it in, with its status shown.
DONE_STATUSES = schema.MODERATION_DONE
REASONS = {"hostile": "Hostile ou insultant", "negative_visible": "Négatif très visible",
           "unanswered_question": "Question sans réponse"}
# Waiting time of a queued message (since it was written, up to the last message of the store):
# code → (French label, from hours included, to hours excluded).
AGES = {"moins_24h": ("moins de 24 h", 0.0, 24.0), "1_7j": ("de 1 à 7 jours", 24.0, 168.0),
        "plus_7j": ("plus de 7 jours", 168.0, math.inf)}
# A message is hostile when it contains a hostility-lexicon term, or when the model alone is
# confident enough (p ≥ HOSTILE_THRESHOLD, chosen by cross-validation on real training tweets:
# see analysis.moderation.toxicity and data/models/TOXICITY_CARD.md).


def hostile_sql(t: str = "t", label: str | None = None, threshold: float = HOSTILE_THRESHOLD) -> str:
    """SQL predicate: the toxicity row ``t`` says hostile (lexicon term or model ≥ threshold);
    an analyst label (``labels`` alias ``label``, values hostile/non_hostile; or a column
    expression holding that value, e.g. ``d.toxicity_label``) overrides it."""
    pred = f"(coalesce(len({t}.lexicon_hits), 0) > 0 OR coalesce({t}.p_toxic, 0) >= {float(threshold)})"
    if label:
        value = label if "." in label else f"{label}.value"
        return f"(CASE {value} WHEN 'hostile' THEN TRUE WHEN 'non_hostile' THEN FALSE ELSE {pred} END)"
    return pred
MIN_ENGAGEMENT = 5
# Weights of each reason in the priority: an insult is visible to everyone now and harms the
# people targeted, a visible negative message shapes opinion, a question only waits.
W_HOSTILE, W_NEGATIVE, W_QUESTION = 3.0, 2.0, 1.0


# Messages with their territory and account resolved from the post when the export did not
# say (comment exports often carry only the post): the same message, seen from its post. Only
# the messages missing one of them are joined to their post, so filters on the territory reach
# the scan of the others. Press articles (kind 'article', collected from RSS feeds) are not
# moderation's business: addressed to no account, they need no reply and are nobody's comment
# (they count in E-réputation's volumes and sentiment, not in the queue, alerts or contacts).
def messages_sql(source: str = "messages") -> str:
    """:data:`MESSAGES` read from ``source``: a table of ``messages``' rows (the incremental refresh passes
    the few it recomputes, :mod:`analysis.derived_refresh`)."""
    # The rows lacking a territory or an account are read as two branches with simple NULL tests, not
    # one OR: DuckDB pushes a simple test into the scan but evaluates an OR after it, on every row of
    # the period (half the time of a page query reading one territory's messages at 1 M).
    return (f"(SELECT * FROM {source} WHERE territory_id IS NOT NULL AND account_id IS NOT NULL "
            "AND kind IS DISTINCT FROM 'article' "
            "UNION ALL "
            "SELECT m.* REPLACE (coalesce(m.territory_id, p.territory_id) AS territory_id, "
            "coalesce(m.account_id, p.account_id) AS account_id) "
            f"FROM (SELECT * FROM {source} WHERE territory_id IS NULL "
            f"UNION ALL SELECT * FROM {source} WHERE territory_id IS NOT NULL AND account_id IS NULL) m "
            "LEFT JOIN posts p ON p.post_id = m.post_id WHERE m.kind IS DISTINCT FROM 'article')")


MESSAGES = messages_sql()


def first_replies_from(incoming: str, source: str = "messages") -> str:
    """SQL (CTE body) giving each message of the relation ``incoming`` its first official reply time.

    ``incoming`` names a CTE or table with ``message_id``, ``post_id``, ``created_at`` (one row per
    message). A reply is an ``is_official`` message written after the incoming one that points to
    it (``parent_id``). When the export carries no thread link (official message with
    ``parent_id`` NULL, e.g. YouTube comments), the official message is taken to answer the
    *latest* earlier user message under the same post (the greater ``message_id`` of those written
    at the same time), and only that one: a lower bound, where
    counting it as an answer to every earlier comment would inflate the response rate. Columns:
    ``message_id``, ``first_reply_at``.

    Only the posts of ``incoming`` are read, and only from its first message on: the latest
    earlier user message of an unthreaded reply belongs to ``incoming`` only if the reply is
    under one of its posts and after its first message (so the result is the same as over the
    whole store, at the cost of the messages looked at). ``source``: where the replies are looked
    for (a table of ``messages``' rows holding, for each message of ``incoming``, those that answer it
    and the others of its post).
    """
    return f"""
        WITH fr_r AS (  -- unthreaded official replies under the posts of `incoming`
            SELECT message_id, post_id, created_at FROM {source}
            WHERE is_official AND parent_id IS NULL AND post_id IN (SELECT post_id FROM {incoming}))
        SELECT message_id, min(reply_at) AS first_reply_at FROM (
            SELECT i.message_id, r.created_at AS reply_at
            FROM {incoming} i JOIN {source} r ON r.parent_id = i.message_id
            WHERE r.is_official AND r.created_at >= i.created_at
            UNION ALL
            SELECT x.message_id, x.reply_at FROM (
                SELECT r.message_id AS reply_id, r.created_at AS reply_at,
                       -- ties on the time (exports round to the second or minute) go to the
                       -- greater id, so the answer does not depend on the scan order
                       arg_max(u.message_id, {{t: u.created_at, id: u.message_id}}) AS message_id
                FROM fr_r r JOIN {source} u ON u.post_id = r.post_id AND u.created_at < r.created_at
                     AND NOT coalesce(u.is_official, FALSE)
                WHERE u.post_id IN (SELECT post_id FROM fr_r)
                  -- the latest earlier message is in `incoming` only if it is not before its
                  -- first message: earlier ones can be left out of the arg_max
                  AND u.created_at >= (SELECT min(created_at) FROM {incoming})
                GROUP BY r.message_id, r.created_at) x
            JOIN {incoming} i ON i.message_id = x.message_id
        ) GROUP BY 1"""


def first_replies_sql(msg_where: str) -> str:
    """SQL (CTE body) giving each incoming message of ``msg_where`` (a predicate on
    :data:`MESSAGES` aliased ``m``; its parameters are passed once) its first official reply time;
    see :func:`first_replies_from`. Columns: ``message_id``, ``first_reply_at``."""
    return f"""
        WITH fr_in AS (SELECT m.message_id, m.post_id, m.created_at FROM {MESSAGES} m WHERE {msg_where})
        SELECT * FROM ({first_replies_from("fr_in")})"""


def _count(n: object, one: str, many: str) -> str:
    """« 0 réponse », « 1 réponse », « 3 réponses »: :func:`analysis.fmt.fr_count`, a missing count read as 0."""
    return fr_count(0 if n is None or pd.isna(n) else int(n), one, many)


def human_delay(hours: float) -> str:
    """A waiting time in French: « 25 min », « 7 h », « 3 j »."""
    if hours < 1:
        return f"{max(1, round(hours * 60))} min"
    if hours < 48:
        return f"{fr_int(math.floor(hours))} h"
    return f"{fr_int(math.floor(hours / 24))} j"


def moderation_rows_sql(only: str | None = None, source: str = "messages") -> str:
    """SQL of the rows of the derived table ``moderation_messages`` (:mod:`analysis.derived`): every
    user message of :data:`MESSAGES` (not official), with its toxicity (model probability, lexicon
    terms, analyst label), question flag, effective sentiment (analyst label first), first official
    reply (:func:`first_replies_from`), author pseudonym and the model's own sentiment label. Its
    ``themes`` column is NULL: :func:`moderation_themes_sql` fills it once the rows are written.
    ``only`` (a table with a ``message_id`` column) restricts them to those messages, read from
    ``source`` (the incremental refresh: :func:`messages_sql`, :func:`first_replies_from`)."""
    restrict = f" AND m.message_id IN (SELECT message_id FROM {only})" if only else ""
    return f"""
        WITH m AS MATERIALIZED (
            SELECT m.message_id, m.territory_id, m.account_id, m.platform, m.kind, m.post_id, m.created_at,
                   m.likes, m.replies, m.author_hash
            FROM {messages_sql(source)} m WHERE NOT coalesce(m.is_official, FALSE){restrict}),
        fr AS ({first_replies_from("m", source)})
        SELECT m.* EXCLUDE (author_hash), t.p_toxic, t.lexicon_hits, lb.value AS toxicity_label,
               coalesce(t.is_question, FALSE) AS is_question, coalesce(ls.value, s.label) AS sentiment,
               fr.first_reply_at, m.author_hash, s.label AS model_label, NULL::VARCHAR[] AS themes
        FROM m
        LEFT JOIN toxicity t USING (message_id)
        LEFT JOIN sentiment s ON s.item_id = m.message_id AND s.item_type = 'message'
        LEFT JOIN labels lb ON lb.item_id = m.message_id AND lb.item_type = 'message' AND lb.task = 'toxicity'
        LEFT JOIN labels ls ON ls.item_id = m.message_id AND ls.item_type = 'message' AND ls.task = 'sentiment'
        LEFT JOIN fr USING (message_id)"""


def moderation_themes_sql(only: str | None = None, target: str = "moderation_messages") -> str:
    """UPDATE giving the rows of ``target`` (``moderation_messages``, or the incremental refresh's
    few new rows before they join it) their themes, sorted (of ``only``'s messages, when given). A
    statement of its own: joined into :func:`moderation_rows_sql`, the lists of a million messages sat
    in a hash table DuckDB could not spill, and the rebuild failed under the import's memory cap (Out
    of Memory at 1 M messages, 512 MB); written afterwards it fits."""
    restrict = f" AND item_id IN (SELECT message_id FROM {only})" if only else ""
    return f"""
        UPDATE {target} AS d SET themes = th.themes
        FROM (SELECT item_id, list(theme ORDER BY theme) AS themes FROM themes
              WHERE item_type = 'message'{restrict} GROUP BY 1) th
        WHERE th.item_id = d.message_id"""


def _queued_rows_derived(con: duckdb.DuckDBPyConnection, f: Filters, hostile_threshold: float,
                         min_engagement: int) -> pd.DataFrame:
    """:func:`_queued_rows` read from ``moderation_messages`` (same rows: one scan of the territory's
    messages, no join of the enrichment tables)."""
    w, params = f.where("d")
    hostile = hostile_sql("d", "d.toxicity_label", hostile_threshold)
    return con.execute(
        f"""
        WITH d AS MATERIALIZED (
            SELECT d.message_id, d.created_at, d.platform, d.kind, d.territory_id, d.post_id, d.account_id,
                   d.likes, d.replies, d.p_toxic, d.toxicity_label, d.lexicon_hits, d.is_question, d.sentiment,
                   d.first_reply_at, coalesce(d.likes, 0) + coalesce(d.replies, 0) AS engagement, {hostile} AS hostile
            FROM moderation_messages d WHERE {w}),
        q AS (SELECT quantile_cont(engagement, 0.9) AS p90 FROM d)
        SELECT d.message_id, d.created_at, d.platform, d.kind, d.territory_id, d.post_id, d.account_id,
               d.likes, d.replies, d.engagement, d.p_toxic, d.hostile, d.toxicity_label, d.lexicon_hits,
               d.is_question, d.sentiment, d.first_reply_at,
               ms.status, ms.by_user AS status_by, ms.at AS status_at, ms.assigned_to, q.p90
        FROM d CROSS JOIN q
        LEFT JOIN moderation_status ms USING (message_id)
        WHERE d.hostile
           OR (d.sentiment = 'negative' AND d.engagement >= greatest(?, coalesce(q.p90, 0)))
           OR (d.is_question AND d.first_reply_at IS NULL)
        """,
        params + [min_engagement],
    ).df()


def _queued_rows(con: duckdb.DuckDBPyConnection, f: Filters | None, include_done: bool, hostile_threshold: float,
                 min_engagement: int, derived: bool = True) -> pd.DataFrame:
    """The queued messages of :func:`queue` as SQL returns them (no text or author, no priority,
    no reasons); from ``moderation_messages`` when it is current, unless ``derived=False``."""
    f = f or Filters()
    if derived and derived_tables.current_table(con, "moderation_messages"):
        df = _queued_rows_derived(con, f, hostile_threshold, min_engagement)
        if not include_done and len(df):
            df = df[~df["status"].isin(DONE_STATUSES)]
        return _without_deleted(con, df)
    w, params = f.where("m")
    base = f"{w} AND NOT coalesce(m.is_official, FALSE)"
    hostile = hostile_sql("t", "lb", hostile_threshold)
    # Two steps, so the costly parts run on few rows: every reason but the missing reply is decided
    # first (c: hostile, negative and visible, or a question), then the first reply is looked up for
    # those messages only (the text is read by the caller, for the rows it returns).
    df = con.execute(
        f"""
        WITH m AS MATERIALIZED (
            SELECT m.message_id, m.created_at, m.platform, m.kind, m.territory_id, m.post_id, m.account_id,
                   m.likes, m.replies, coalesce(m.likes, 0) + coalesce(m.replies, 0) AS engagement
            FROM {MESSAGES} m WHERE {base}),
        q AS (SELECT quantile_cont(engagement, 0.9) AS p90 FROM m),
        c AS MATERIALIZED (
            SELECT m.*, t.p_toxic, {hostile} AS hostile, lb.value AS toxicity_label, t.lexicon_hits,
                   coalesce(t.is_question, FALSE) AS is_question, coalesce(ls.value, s.label) AS sentiment, q.p90
            FROM m CROSS JOIN q
            LEFT JOIN toxicity t USING (message_id)
            LEFT JOIN sentiment s ON s.item_id = m.message_id AND s.item_type = 'message'
            LEFT JOIN labels lb ON lb.item_id = m.message_id AND lb.item_type = 'message' AND lb.task = 'toxicity'
            LEFT JOIN labels ls ON ls.item_id = m.message_id AND ls.item_type = 'message' AND ls.task = 'sentiment'
            WHERE {hostile}
               OR (coalesce(ls.value, s.label) = 'negative' AND m.engagement >= greatest(?, coalesce(q.p90, 0)))
               OR coalesce(t.is_question, FALSE)),
        fr AS ({first_replies_from("c")})
        SELECT c.message_id, c.created_at, c.platform, c.kind, c.territory_id, c.post_id, c.account_id,
               c.likes, c.replies, c.engagement,
               c.p_toxic, c.hostile, c.toxicity_label, c.lexicon_hits, c.is_question,
               c.sentiment, fr.first_reply_at,
               ms.status, ms.by_user AS status_by, ms.at AS status_at, ms.assigned_to, c.p90
        FROM c
        LEFT JOIN fr USING (message_id)
        LEFT JOIN moderation_status ms USING (message_id)
        WHERE c.hostile
           OR (c.sentiment = 'negative' AND c.engagement >= greatest(?, coalesce(c.p90, 0)))
           OR (c.is_question AND fr.first_reply_at IS NULL)
        """,
        params + [min_engagement, min_engagement],
    ).df()
    if not include_done and len(df):
        df = df[~df["status"].isin(DONE_STATUSES)]
    return _without_deleted(con, df)


def _without_deleted(con: duckdb.DuckDBPyConnection, df: pd.DataFrame) -> pd.DataFrame:
    """``df`` without the messages their authors deleted at the source (seen by a collection): nothing
    is left to answer, hide or report, and the queue showed them with an empty text. They still count
    in the alerts and the volumes (they were written)."""
    if df.empty:
        return df
    gone = {r[0] for r in con.execute("SELECT message_id FROM messages WHERE deleted_at IS NOT NULL").fetchall()}
    return df[~df["message_id"].isin(gone)] if gone else df


def _reasons(df: pd.DataFrame, min_engagement: int) -> tuple[pd.Series, pd.Series, pd.Series]:
    """(hostile, negative and visible, unanswered question) flags of queued rows."""
    threshold_eng = df["p90"].fillna(0).clip(lower=min_engagement)
    hostile = df["hostile"].fillna(False).astype(bool)
    is_q = df["is_question"].astype(bool)
    # an ordinary question is not a « message négatif très visible » (issue 22): the sentiment model
    # leans negative on questions ("à quelle heure ouvre la mairie ?" → negative 0,61); a question
    # is queued for being unanswered, and a hostile one for its hostility
    negative = (df["sentiment"] == "negative") & (df["engagement"] >= threshold_eng) & ~is_q
    question = is_q & df["first_reply_at"].isna()
    return hostile, negative, question


def reason_counts(con: duckdb.DuckDBPyConnection, f: Filters | None = None, *, include_done: bool = False,
                  hostile_threshold: float = HOSTILE_THRESHOLD, min_engagement: int = MIN_ENGAGEMENT) -> dict[str, int]:
    """Number of messages of :func:`queue` (``total``) and per reason code, without building the
    queue (no text, no French reasons)."""
    df = _queued_rows(con, f, include_done, hostile_threshold, min_engagement)
    if df.empty:
        return {"total": 0, "hostile": 0, "negative_visible": 0, "unanswered_question": 0}
    hostile, negative, question = _reasons(df, min_engagement)
    return {"total": int(len(df)), "hostile": int(hostile.sum()), "negative_visible": int(negative.sum()),
            "unanswered_question": int(question.sum())}


def overlap_note(counts: dict[str, int]) -> str | None:
    """French note when the reason counts of :func:`reason_counts` sum to more than the total: a
    message can have several reasons (hostile and unanswered, for instance). None otherwise."""
    reasons = counts.get("hostile", 0) + counts.get("negative_visible", 0) + counts.get("unanswered_question", 0)
    if reasons <= counts.get("total", 0):
        return None
    return (f"Un message peut relever de plusieurs motifs : les motifs totalisent {fr_int(reasons)} pour "
            f"{fr_int(counts['total'])} messages à traiter.")


def queue_codes(con: duckdb.DuckDBPyConnection, f: Filters | None = None, *, include_done: bool = False,
                hostile_threshold: float = HOSTILE_THRESHOLD, min_engagement: int = MIN_ENGAGEMENT) -> pd.DataFrame:
    """``platform`` and ``reason_codes`` of every message of :func:`queue` (what
    :func:`queue_summary` needs), without text, priority or French reasons."""
    df = _queued_rows(con, f, include_done, hostile_threshold, min_engagement)
    if df.empty:
        return pd.DataFrame(columns=["platform", "reason_codes"])
    hostile, negative, question = _reasons(df, min_engagement)
    codes = [[c for c, on in (("hostile", h), ("negative_visible", n), ("unanswered_question", q)) if on]
             for h, n, q in zip(hostile.tolist(), negative.tolist(), question.tolist(), strict=True)]
    return pd.DataFrame({"platform": df["platform"].to_numpy(), "reason_codes": codes})


def queue(con: duckdb.DuckDBPyConnection, f: Filters | None = None, *, now: datetime | None = None,
          include_done: bool = False, role: str = "analyst", limit: int | None = 200,
          hostile_threshold: float = HOSTILE_THRESHOLD, min_engagement: int = MIN_ENGAGEMENT,
          reasons: tuple[str, ...] = (), ages: tuple[str, ...] = ()) -> pd.DataFrame:
    """Messages needing attention, highest priority first, each with its reasons in French.

    Reasons: hostile (a lexicon term or ``p_toxic`` ≥ threshold, see :func:`hostile_sql`; an
    analyst label ``hostile``/``non_hostile`` overrides), negative and
    highly engaged (sentiment ``negative`` and likes + replies ≥ max(``min_engagement``, 90th
    percentile of the period)), question with no official reply. ``priority`` = 3 × hostile
    (+ p_toxic + number of lexicon terms / 3, capped at 1) + 2 × negative-visible (+ engagement term) + 1 × unanswered question (+ waiting
    term, capped at 3 days). Messages marked répondu/masqué/ignoré are left out unless
    ``include_done`` (« escaladé » stays, with its status and ``assigned_to``). ``author_name`` is
    returned only for the analyst role.

    ``reasons`` (codes of :data:`REASONS`) keeps the messages with at least one of them, ``ages``
    (codes of :data:`AGES`) those waiting for one of these spans; both before ``limit``.
    """
    now = now or con.execute("SELECT max(created_at) FROM messages").fetchone()[0] or datetime.now(UTC).replace(tzinfo=None)
    df = _queued_rows(con, f, include_done, hostile_threshold, min_engagement)
    if df.empty:
        return _empty_queue(role)
    hostile, negative, question = _reasons(df, min_engagement)
    n_hits = pd.Series([0 if h is None or (isinstance(h, float) and math.isnan(h)) else len(h)
                        for h in df["lexicon_hits"].tolist()], index=df.index)
    wait_h = (pd.Timestamp(now) - pd.to_datetime(df["created_at"])).dt.total_seconds() / 3600
    df["waiting_hours"] = wait_h.clip(lower=0)
    df["priority"] = (
        hostile * (W_HOSTILE + df["p_toxic"].fillna(0) + (n_hits / 3).clip(upper=1))
        + negative * (W_NEGATIVE + (df["engagement"].map(math.log1p) / math.log1p(1000)).clip(upper=1))
        + question * (W_QUESTION + (df["waiting_hours"] / 72).clip(upper=1))
    )
    df["status"] = df["status"].fillna("a_traiter")
    df["status_label"] = df["status"].map(STATUSES)
    df["_hostile"], df["_negative"], df["_question"] = hostile, negative, question
    if reasons:
        flags = {"hostile": hostile, "negative_visible": negative, "unanswered_question": question}
        keep = pd.Series(False, index=df.index)
        for code in reasons:
            keep |= flags[code]
        df = df[keep]
    if ages:
        keep = pd.Series(False, index=df.index)
        for code in ages:
            _, lo, hi = AGES[code]
            keep |= (df["waiting_hours"] >= lo) & (df["waiting_hours"] < hi)
        df = df[keep]
    if df.empty:
        return _empty_queue(role)
    # message_id breaks ties (same priority and time), which the SQL returns in no set order
    df = df.sort_values(["priority", "created_at", "message_id"], ascending=[False, False, True]).reset_index(drop=True)
    if limit:
        df = df.head(limit)  # French reasons and text for the rows returned only
    df = df.merge(_texts(con, df["message_id"].tolist()), on="message_id", how="left")
    reasons, codes = [], []
    # plain lists: indexing the frame row by row cost more than the SQL at 1 M messages
    for is_h, is_n, is_q, hits, label, p_tox, likes, replies, wait, text in zip(
            df["_hostile"].tolist(), df["_negative"].tolist(), df["_question"].tolist(), df["lexicon_hits"].tolist(),
            df["toxicity_label"].tolist(), df["p_toxic"].tolist(), df["likes"].tolist(), df["replies"].tolist(),
            df["waiting_hours"].tolist(), df["text"].tolist(), strict=True):
        r, c = [], []
        if is_h:
            terms = list(hits) if hits is not None and not isinstance(hits, float) and len(hits) else []
            parts = []
            if terms:
                parts.append("termes : " + ", ".join("« " + as_written(text, h) + " »" for h in terms[:3]))
            if label == "hostile":
                parts.append("annoté par un analyste")
            if not pd.isna(p_tox):
                parts.append(f"probabilité du modèle {fr_pct(p_tox, 0)}")
            r.append("Message hostile ou insultant (" + " ; ".join(parts) + ")")
            c.append("hostile")
        if is_n:
            r.append(f"Message négatif très visible ({fr_int(0 if pd.isna(likes) else likes)} j'aime, "
                     f"{_count(replies, 'réponse', 'réponses')})")
            c.append("negative_visible")
        if is_q:
            r.append(f"Question sans réponse du compte officiel depuis {human_delay(wait)}")
            c.append("unanswered_question")
        reasons.append(" ; ".join(r))
        codes.append(c)
    df = df.assign(reasons=reasons, reason_codes=codes)
    return df[[c for c in QUEUE_COLUMNS if role == "analyst" or c != "author_name"]]


_WORD = re.compile(r"[^\W_]+(?:-[^\W_]+)*")


def as_written(text: str | None, term: str) -> str:
    """A lexicon hit (normalised: no accent, lower case, « cretins ») as the message writes it
    (« crétins »), the hit itself when no run of words of the text normalises to it."""
    if not isinstance(text, str) or not text:
        return term
    words = [m.group(0) for m in _WORD.finditer(text)]
    n = len(term.split())
    for i in range(len(words) - n + 1):
        span = " ".join(words[i:i + n])
        if normalise(span) == term:
            return span.lower()
    return term


def _texts(con: duckdb.DuckDBPyConnection, ids: list[str]) -> pd.DataFrame:
    """Text and author columns of the messages ``ids``."""
    cols = "message_id, text, author_hash, author_name"
    if len(ids) <= 1000:  # a list of constants reaches the scan: a few row groups read, not 1 M texts
        return con.execute(f"SELECT {cols} FROM messages WHERE message_id IN ({', '.join('?' for _ in ids)})"
                           if ids else f"SELECT {cols} FROM messages LIMIT 0", ids).df()
    return con.execute(f"SELECT {cols.replace('message_id', 'x.message_id')} FROM (SELECT unnest(?::VARCHAR[]) AS id) i "
                       "JOIN messages x ON x.message_id = i.id", [ids]).df()


QUEUE_COLUMNS = ["message_id", "created_at", "platform", "kind", "territory_id", "post_id", "account_id", "text",
                 "author_hash", "author_name", "likes", "replies", "engagement", "p_toxic", "hostile",
                 "toxicity_label", "lexicon_hits", "is_question", "sentiment", "first_reply_at", "status",
                 "status_by", "status_at", "assigned_to", "waiting_hours", "priority", "reasons", "reason_codes", "status_label"]


def _empty_queue(role: str) -> pd.DataFrame:
    return pd.DataFrame(columns=[c for c in QUEUE_COLUMNS if role == "analyst" or c != "author_name"])


def queue_summary(q: pd.DataFrame) -> pd.DataFrame:
    """Aggregate view (élu role): number of messages per reason and platform, no text, no author."""
    if q.empty:
        return pd.DataFrame(columns=["Motif", "Plateforme", "Messages"])
    ex = q[["platform", "reason_codes"]].explode("reason_codes")
    out = ex.groupby(["reason_codes", "platform"]).size().reset_index(name="Messages")
    out["Motif"] = out["reason_codes"].map(REASONS)
    return out.rename(columns={"platform": "Plateforme"})[["Motif", "Plateforme", "Messages"]]


def set_status(con: duckdb.DuckDBPyConnection, message_ids: list[str] | str, status: str, by_user: str,
               note: str | None = None, at: datetime | None = None) -> int:
    """Record a moderation decision (who, when) for messages, and log it in ``audit_log``."""
    if status not in STATUSES:
        raise ValueError(f"Statut inconnu « {status} ». Statuts possibles : {', '.join(STATUSES)}")
    ids = _known_ids(con, message_ids, by_user)
    if not ids:
        return 0
    at = at or datetime.now(UTC).replace(tzinfo=None)
    with store.transaction(con):
        store.upsert(con, "moderation_status", pd.DataFrame(
            {"message_id": ids, "status": status, "by_user": by_user, "at": at, "note": note}))
        store.upsert(con, "audit_log", pd.DataFrame([{
            "at": at, "actor": by_user, "action": "moderation_status",
            "detail": json.dumps({"messages": ids, "status": status, "note": note}, ensure_ascii=False)}]))
    return len(ids)


def _known_ids(con: duckdb.DuckDBPyConnection, message_ids: list[str] | str, by_user: str) -> list[str]:
    """The ids as a list, after checking who decides is named and every message exists (French errors)."""
    if not by_user:
        raise ValueError("Indiquez qui prend la décision (--by).")
    ids = [message_ids] if isinstance(message_ids, str) else list(message_ids)
    if not ids:
        return ids
    known = {r[0] for r in con.execute(
        f"SELECT message_id FROM messages WHERE message_id IN ({', '.join('?' for _ in ids)})", ids).fetchall()}
    unknown = [i for i in ids if i not in known]
    if unknown:
        raise ValueError(f"{fr_plural(len(unknown), 'Message inconnu', 'Messages inconnus')} : {', '.join(unknown[:5])}")
    return ids


def assign(con: duckdb.DuckDBPyConnection, message_ids: list[str] | str, assignee: str, by_user: str,
           at: datetime | None = None) -> int:
    """Assign messages to a colleague (``assigned_to``; their status is kept), logged in ``audit_log``
    under ``by_user``. Returns the number of messages assigned."""
    if not assignee:
        raise ValueError("Indiquez à qui confier les messages.")
    ids = _known_ids(con, message_ids, by_user)
    if not ids:
        return 0
    at = at or datetime.now(UTC).replace(tzinfo=None)
    with store.transaction(con):
        store.upsert(con, "moderation_status", pd.DataFrame({"message_id": ids, "assigned_to": assignee}))
        store.upsert(con, "audit_log", pd.DataFrame([{
            "at": at, "actor": by_user, "action": "moderation_assign",
            "detail": json.dumps({"messages": ids, "assigned_to": assignee}, ensure_ascii=False)}]))
    return len(ids)
