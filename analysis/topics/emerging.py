"""Emerging subjects: terms and hashtags whose daily count jumps above their own baseline
(:func:`detect_bursts`), grouped into subjects with the messages behind them, no author identities
(:func:`emerging_subjects`)."""

from __future__ import annotations

import re
from collections.abc import Sequence
from dataclasses import dataclass, field
from datetime import date, timedelta
from typing import Any

import numpy as np
import pandas as pd
import scipy.sparse as sp
from pandas.api.indexers import BaseIndexer

from analysis.fmt import fr_date, fr_int, fr_num
from analysis.queries import Filters
from analysis.topics.discovery import subject_label
from analysis.topics.keys import french_only, keys_join, stored_key_matrix
from analysis.topics.lemmas import (
    LONE_GENERIC,
    STOP_WORDS_FR,
    TOKEN_PATTERN,
    LemmaVectorizer,
    _binarize,
    surface_one,
)


def detect_bursts(counts: pd.DataFrame, baseline_days: int = 28, min_history: int = 7, z_threshold: float = 4.0,
                  min_support: int = 5, max_gap: int = 2) -> pd.DataFrame:
    """Bursts of daily counts against each term's own baseline.

    ``counts``: one row per day (DatetimeIndex, complete calendar), one column per term.
    Baseline of day d = mean μ and variance σ² of the ``baseline_days`` days before d (at least
    ``min_history`` of them). z = (c − μ) ÷ √(max(σ², μ) + 0,25) — the Poisson floor keeps a
    quiet term from exploding on a count of 2. A day bursts when z ≥ ``z_threshold`` and
    c ≥ ``min_support``. Burst days of a term separated by at most ``max_gap`` quiet days form
    one episode; once started, an episode goes on while the count stays ≥ ``min_support`` and
    at ``z_threshold``/2 above the baseline of its first day (so the burst, entering the rolling
    window, does not end itself). Returns one row per episode: term, start, end (inclusive), peak, peak_count,
    count (total over the episode), baseline (μ at the start), max_z.
    """
    cols = ["term", "start", "end", "peak", "peak_count", "count", "baseline", "max_z"]
    if counts.empty:
        return pd.DataFrame(columns=cols)
    C = counts.to_numpy(dtype="float64")
    MU, var = _baselines(C, baseline_days, min_history)
    DEN = np.sqrt(np.maximum(var, MU) + 0.25)
    z = (C - MU) / DEN
    with np.errstate(invalid="ignore"):
        hot = (z >= z_threshold) & (C >= min_support)
    rows = []
    days = [d.date() for d in counts.index]  # indexing a DatetimeIndex per episode was slow
    for j in np.flatnonzero(hot.any(axis=0)):
        hj, cj = hot[:, j], C[:, j]
        big = cj >= min_support
        starts = np.flatnonzero(hj)
        p = 0
        while p < len(starts):
            i = int(starts[p])
            # The episode keeps the baseline of its first day: the burst must not raise its own bar.
            mu0, den0 = MU[i, j], DEN[i, j]
            zj = (cj[i:] - mu0) / den0
            # it goes on through the days that burst or stay high, at most max_gap quiet days apart
            last = i
            for k in (np.flatnonzero(hj[i + 1:] | (big[i + 1:] & (zj[1:] >= z_threshold / 2))) + i + 1).tolist():
                if k - last > max_gap + 1:
                    break
                last = k
            # a few days: plain floats (integer counts: the sums are exact in any order)
            cs, zs = cj[i:last + 1].tolist(), zj[:last + 1 - i].tolist()
            peak = max(cs)
            pk = i + cs.index(peak)  # the first day of the highest count, as argmax
            rows.append({"term": counts.columns[j], "start": days[i], "end": days[last],
                         "peak": days[pk], "peak_count": int(peak), "count": int(sum(cs)),
                         "baseline": float(mu0), "max_z": float(max(zs))})
            p = int(np.searchsorted(starts, last + 1))
    return pd.DataFrame(rows, columns=cols).sort_values(["max_z"], ascending=False, kind="stable",
                                                       ignore_index=True)


class _ColumnWindows(BaseIndexer):
    """Windows of ``window_size`` rows over the columns of a matrix laid end to end (column-major):
    a window never reaches into the column before (``n_rows`` rows per column)."""

    def get_window_bounds(self, num_values: int = 0, min_periods: int | None = None, center: bool | None = None,
                          closed: str | None = None, step: int | None = None) -> tuple[np.ndarray, np.ndarray]:
        i = np.arange(num_values, dtype=np.int64)
        return np.maximum(i - self.window_size + 1, i - i % self.n_rows), i + 1


def _baselines(C: np.ndarray, baseline_days: int, min_history: int) -> tuple[np.ndarray, np.ndarray]:
    """Mean and variance (ddof 0) of the ``baseline_days`` rows before each row, per column (NaN with
    fewer than ``min_history``): ``DataFrame(C).shift(1).rolling(baseline_days, min_history)`` computed
    as one rolling pass over the columns laid end to end — the same pandas kernels, hence the same
    floats, without a call per column (a year of a territory has a thousand candidate terms)."""
    n, m = C.shape
    if not n or not m:
        return np.full(C.shape, np.nan), np.full(C.shape, np.nan)
    prev = np.empty_like(C)
    prev[0] = np.nan
    prev[1:] = C[:-1]
    flat = pd.Series(prev.ravel(order="F"))
    r = flat.rolling(_ColumnWindows(window_size=baseline_days, n_rows=n), min_periods=min_history)
    mu = r.mean().to_numpy().reshape((n, m), order="F")
    var = r.var(ddof=0).to_numpy().reshape((n, m), order="F")
    return mu, var


@dataclass
class EmergingSubject:
    """A subject rising above its baseline: terms, hashtags, dates and the messages behind it."""

    label: str
    terms: list[str]
    hashtags: list[str]
    start: date
    end: date
    peak: date
    count: int
    baseline: float
    max_z: float
    messages: pd.DataFrame = field(repr=False)
    # separate bursts between start and end (a week or more of quiet between two): « ligne bus » burst
    # seven times in ten months of the demo, and its dates alone read as one ten-month subject
    episodes: int = 1


def _daily_matrix(pos: np.ndarray, X: sp.csr_matrix, n_days: int) -> np.ndarray:
    """Day × term counts: rows of ``X`` summed per day (``pos`` = day index of each row, −1 = none)."""
    ok = pos >= 0
    D = sp.csr_matrix((np.ones(ok.sum(), dtype=np.float32), (pos[ok], np.flatnonzero(ok))),
                      shape=(n_days, X.shape[0]))
    return (D @ X).toarray()


# A word already in at least this share of the territory's messages of the baseline window is
# background vocabulary (« top », « super », « content », « nouveau », « mairie »…): it rises with
# the volume and names nothing new. Measured on the demo store:
# evaluative and filler words sit at 2–8 % in every territory, subject words (« eau », « navette »,
# « concert », « musée ») below 2 %, and on the real hotel-review stream « chambre », « personnel »,
# « emplacement » sit far above it.
GENERIC_SHARE = 0.02
# A subject named by one lone word needs a word that was rare before (below this share of the
# baseline messages): « colonie » or « canicule » yes, « vieux », « content », « quartier » no.
LONE_SHARE = 0.005
# A subject must be carried by several people: one angry author posting ten times is not a subject.
MIN_AUTHORS = 3
# A term must rise in *share* of the messages, not only in count: a word riding a volume rise
# (summer, a busy post) keeps its share and is not a subject.
MIN_LIFT = 2.0


def generic_words(base_share: dict[str, float], threshold: float = GENERIC_SHARE) -> set[str]:
    """Words whose share of the baseline messages is at least ``threshold`` (background vocabulary)."""
    return {w for w, v in base_share.items() if v >= threshold}


def specific_term(term: str, generic: set[str] | frozenset[str]) -> bool:
    """Whether a term can name a subject on its own: a hashtag, or a uni/bigram with at least one word
    that is not background vocabulary (« eau potable » yes, « beau initiative », « top » no)."""
    if term.startswith("#"):
        return True
    return any(w not in generic for w in term.split())


def distinct_authors(authors: Sequence[Any]) -> int:
    """Distinct authors of messages; a message without author (export without authors) counts as one."""
    known = {a for a in authors if a is not None and a == a and a != ""}
    return len(known) + sum(1 for a in authors if a is None or a != a or a == "")


def _has_authors(authors: Any, docs: set[int], least: int) -> bool:
    """Whether :func:`distinct_authors` of the messages ``docs`` (rows of ``authors``, a pyarrow column)
    reaches ``least``: the authors of the first ``20 × least`` rows are read first (enough for most
    subjects; the count never falls when messages are added), all of them only when those are not."""
    rows = np.fromiter(docs, dtype=np.int64, count=len(docs))
    rows.sort()
    head = rows[:20 * least]
    if distinct_authors(authors.take(head).to_pylist()) >= least:
        return True
    return len(head) < len(rows) and distinct_authors(authors.take(rows).to_pylist()) >= least


def emerging_subjects(con: Any, f: Filters, baseline_days: int = 28, z_threshold: float = 4.0,
                      min_support: int = 5, min_total: int = 10, overlap: float = 0.5, max_subjects: int = 10,
                      max_terms: int = 8, messages_per_subject: int = 20, min_authors: int = MIN_AUTHORS,
                      generic_share: float | None = GENERIC_SHARE, min_lift: float = MIN_LIFT,
                      lone_share: float | None = LONE_SHARE) -> list[EmergingSubject]:
    """Subjects and hashtags bursting inside ``[f.start, f.end)`` against their own baseline.

    Public messages of ``f`` plus the ``baseline_days`` before ``f.start`` are vectorised (lemma
    uni/bigrams and hashtags; numbers and the territory's own name left out), counted per day
    and passed to :func:`detect_bursts`. Episodes that overlap the period are grouped into
    subjects when their messages overlap (share of the smaller set ≥ ``overlap``); a subject
    needs ``min_total`` messages. Terms are ranked by their burst z-score; the label is made of
    the top ones (:func:`topic_label`). Messages carry no author column.

    A subject a human would keep (issue 17): only *specific* terms burst (:func:`specific_term`:
    words in at least ``generic_share`` of the territory's messages of the ``baseline_days``
    before the period are background vocabulary, so « top », « content · mairie » or « beau
    initiative » cannot name a subject; ``None`` switches this off), a term's share of the
    messages of its episode days must be at least ``min_lift`` × its baseline share (a word riding
    a volume rise is not new), a subject named by one lone word (no phrase, no hashtag) needs a
    word below ``lone_share`` of the baseline messages, and a subject needs ``min_authors``
    distinct authors. When nothing
    passes, the list is empty: the page says so.
    """
    if not (f.start and f.end):
        raise ValueError("emerging_subjects a besoin d'une période (début et fin).")
    start = pd.Timestamp(f.start)
    ext = Filters(territories=f.territories, platforms=f.platforms,
                  start=(start - timedelta(days=baseline_days)).date(), end=f.end)
    w, params = ext.where("m")
    where = f"{w} AND m.is_official IS NOT TRUE AND m.text IS NOT NULL"
    # Only the row id, the day (index in the calendar), the author and the stored keys of each message:
    # the other columns are read for the messages shown (converting 80 000 ids and names was a sixth of the time).
    # In no order: only the messages shown need the time order (sorting every row with its keys cost a
    # third of the query).
    cols = ("m.rowid AS rid, date_diff('day', ?::DATE, m.created_at::DATE)::INTEGER AS pos, m.author_hash, "
            "epoch_us(m.created_at) AS ts, m.message_id")
    join = keys_join(con, "m")
    if join is None:  # a store from before the keys table
        join = ("LEFT JOIN (SELECT NULL::VARCHAR AS text, NULL::INTEGER[] AS keys) k ON FALSE", [])
    res = con.sql(f"SELECT {cols}, k.keys FROM messages m {join[0]} WHERE {where}",
                  params=[ext.start, *join[1], *params]).to_arrow_table()
    rid = res.column("rid").to_numpy()
    pos = res.column("pos").to_numpy().astype(np.int64)
    # read as Python strings only for the messages of a subject; in one chunk: a take from the query's
    # dozens of chunks cost 2 ms, from one 0,01 ms (a million rows combined: 2 ms)
    authors = res.column("author_hash").combine_chunks()
    if not len(rid):
        return []
    calendar = pd.date_range(pd.Timestamp(ext.start), pd.Timestamp(f.end) - pd.Timedelta(days=1), freq="D")
    pos[(pos < 0) | (pos >= len(calendar))] = -1
    X, names = _message_keys(con, where, params, rid, res.column("keys"), min_df=min_support, max_df=0.5,
                             exclude=sorted(territory_words(con, f.territories)))
    counts = _daily_matrix(pos, X, len(calendar))
    # A burst needs a day with ≥ min_support messages: other terms cannot burst (same result),
    # and dropping them spares most of the rolling baselines.
    hot = counts.max(axis=0, initial=0) >= min_support
    daily = pd.DataFrame(counts[:, hot], index=calendar, columns=pd.Index(names[hot], dtype=object))
    eps = detect_bursts(daily, baseline_days=baseline_days, z_threshold=z_threshold, min_support=min_support)
    col_of = {n: i for i, n in enumerate(names)}
    day0 = pd.Timestamp(ext.start).date()
    # Background vocabulary and lift, from the baseline window (days before f.start), on its
    # ordinary days only: a crisis there (three times the volume) would dilute every everyday word.
    day_total = np.bincount(pos[pos >= 0], minlength=len(calendar)).astype(float)
    bt = day_total[:baseline_days]
    ordinary = bt <= 1.5 * np.median(bt[bt > 0]) if (bt > 0).any() else bt > 0
    base = (pos >= 0) & (pos < baseline_days)
    base[base] = ordinary[pos[base]]
    eps = eps[pd.to_datetime(eps["end"]) >= start] if len(eps) else eps
    if eps.empty:
        return []
    n_base = int(base.sum())
    base_share = (np.asarray(X[base].sum(axis=0)).ravel() / n_base) if n_base else np.zeros(len(names))
    generic: set[str] = set()
    if generic_share is not None and n_base:
        generic = generic_words({n: float(v) for n, v in zip(names, base_share, strict=True) if " " not in n},
                                generic_share)

    def keep(ep: Any) -> bool:
        if not specific_term(ep.term, generic):
            return False
        if not n_base or min_lift <= 1:
            return True
        a, b = (ep.start - day0).days, (ep.end - day0).days
        share = ep.count / max(day_total[a:b + 1].sum(), 1.0)
        return share >= min_lift * max(base_share[col_of[ep.term]], 1.0 / n_base)

    eps = eps[[keep(ep) for ep in eps.itertuples(index=False)]]
    if eps.empty:
        return []
    groups: list[dict] = []
    # message → groups holding it: an episode is compared only with the groups it shares a
    # message with (the others have no overlap), in group order as before.
    doc_groups: dict[int, set[int]] = {}
    with_term = _column_rows(X, sorted({col_of[t] for t in eps["term"]}))
    for ep in eps.sort_values(["count", "max_z"], ascending=False).itertuples(index=False):
        rows = with_term[col_of[ep.term]]
        docs = rows[(pos[rows] >= (ep.start - day0).days) & (pos[rows] <= (ep.end - day0).days)]
        docset = set(docs.tolist())
        for gi in sorted({gi for d in docset for gi in doc_groups.get(d, ())}):
            g = groups[gi]
            inter = len(g["docs"] & docset)
            if inter and inter / min(len(g["docs"]), len(docset)) >= overlap:
                g["eps"].append(ep)
                for d in docset - g["docs"]:
                    doc_groups.setdefault(d, set()).add(gi)
                g["docs"] |= docset
                break
        else:
            groups.append({"eps": [ep], "docs": docset})
            for d in docset:
                doc_groups.setdefault(d, set()).add(len(groups) - 1)
    # A term bursting in two separate weeks of the period gives two groups with no message in
    # common, hence the same subject listed twice (« ligne bus », « ligne bus »): groups whose
    # label is the same are one subject, their episodes and messages merged (first group's place).
    merged: dict[Any, dict] = {}
    for i, g in enumerate(groups):
        terms, hashtags = _group_terms(g["eps"], max_terms)
        # nothing but generic words: no label (dropped below as unreadable), never merged
        label = subject_label(terms, 3) if terms else hashtags[0] if hashtags else i
        if label in merged:
            merged[label]["eps"] += g["eps"]
            merged[label]["docs"] |= g["docs"]
        else:
            merged[label] = g
    groups = list(merged.values())
    subjects = []
    # Only the max_subjects largest groups are returned (stable sort: ties keep the group order).
    def readable(g: dict) -> bool:
        names_g = {e.term for e in g["eps"]}
        if all(all(w in LONE_GENERIC for w in t.split()) for t in names_g):  # « nouveau », « exactement falloir »
            return False
        if lone_share is None or not n_base or len(names_g) > 1 or any(" " in t or t[0] == "#" for t in names_g):
            return True
        return base_share[col_of[next(iter(names_g))]] < lone_share

    groups = sorted((g for g in groups if len(g["docs"]) >= min_total and readable(g)
                     and _has_authors(authors, g["docs"], min_authors)),
                    key=lambda g: len(g["docs"]), reverse=True)[:max_subjects]
    ts, mids = res.column("ts").combine_chunks(), res.column("message_id").combine_chunks()

    def first_in_time(docs: set[int], k: int) -> list[int]:  # the first k by created_at, then message_id
        if k <= 0:
            return []
        d = np.fromiter(docs, dtype=np.int64, count=len(docs))
        d.sort()
        if len(d) > k:  # only the messages up to the k-th time (ties at it kept) can be among the first k
            t = ts.take(d).to_numpy(zero_copy_only=False)
            d = d[t <= np.partition(t, k - 1)[k - 1]]
        keys = zip(ts.take(d).to_pylist(), mids.take(d).to_pylist(), d.tolist(), strict=True)
        return [i for *_, i in sorted(keys)][:k]

    shown = [first_in_time(g["docs"], messages_per_subject) for g in groups]
    table = _messages_by_rowid(con, rid[sorted({d for docs in shown for d in docs})])  # one scan for all
    for g, docs_shown in zip(groups, shown, strict=True):
        terms, hashtags = _group_terms(g["eps"], max_terms)
        sub = table.loc[rid[docs_shown]]
        eps_g = g["eps"]
        subjects.append(EmergingSubject(
            label=subject_label(terms, 3) if terms else hashtags[0],
            terms=terms, hashtags=hashtags,
            start=min(e.start for e in eps_g), end=max(e.end for e in eps_g),
            peak=max(eps_g, key=lambda e: e.peak_count).peak, count=len(g["docs"]),
            baseline=float(min(e.baseline for e in eps_g)), max_z=float(max(e.max_z for e in eps_g)),
            messages=sub.head(messages_per_subject).reset_index(drop=True), episodes=_episodes(eps_g)))
    subjects.sort(key=lambda s: s.count, reverse=True)
    return subjects[:max_subjects]


# Bursts of a subject's terms less than this apart are one episode of it.
EPISODE_GAP = timedelta(days=7)


def _episodes(eps: list) -> int:
    """How many separate bursts the terms' episodes ``eps`` make: their [start, end] spans merged when
    less than :data:`EPISODE_GAP` apart."""
    n, end = 0, None
    for e in sorted(eps, key=lambda e: e.start):
        if end is None or e.start > end + EPISODE_GAP:
            n += 1
            end = e.end
        else:
            end = max(end, e.end)
    return n


def when_fr(start: date, end: date, episodes: int = 1) -> str:
    """When a subject rose, in French: « du 9 mars 2026 au 23 mars 2026 », or « à 7 reprises entre le … et le … »
    for one that burst several times (its dates alone would read as one long burst)."""
    if episodes <= 1:
        return f"du {fr_date(start)} au {fr_date(end)}"
    return f"à {episodes} reprises entre le {fr_date(start)} et le {fr_date(end)}"


def _message_keys(con: Any, where: str, params: list, rid: np.ndarray, keys: Any, min_df: int, max_df: float,
                  exclude: Sequence[str]) -> tuple[sp.csr_matrix, np.ndarray]:
    """Binary matrix (messages × lemma uni/bigram keys fit to name a subject) of the messages matching
    ``where`` (row ids ``rid``, in that order), and its keys: from the keys stored at enrichment (``keys``,
    see :func:`analysis.topics.keys.stored_key_matrix`), else by tokenising the texts (same result)."""
    got = stored_key_matrix(con, keys, min_df=min_df, max_df=max_df, subject_terms=True, exclude=exclude)
    if got is not None:
        return got
    tx = con.execute(f"SELECT m.rowid AS rid, m.text FROM messages m WHERE {where}", params).fetchnumpy()
    at = np.argsort(np.asarray(tx["rid"]))
    texts = np.asarray(tx["text"], dtype=object)[at[np.searchsorted(np.asarray(tx["rid"])[at], rid)]]
    # One chunk for a territory's year: each distinct text tokenised once (no max_features, so
    # the chunking cannot change the vocabulary).
    vec = LemmaVectorizer(min_df=min_df, max_df=max_df, subject_terms=True, exclude=exclude, chunk_size=200_000)
    X = _binarize(vec.fit_transform(french_only(texts))).tocsr()
    return X, np.asarray(vec.get_feature_names_out(), dtype=object)


def _column_rows(X: sp.csr_matrix, cols: Sequence[int]) -> dict[int, np.ndarray]:
    """Rows (ascending) holding each of ``cols`` in ``X``: ``X.tocsc()`` for a few columns (converting the
    whole matrix cost more than the rest of the grouping)."""
    want = np.zeros(X.shape[1], dtype=bool)
    want[list(cols)] = True
    hit = want[X.indices]
    rows = np.repeat(np.arange(X.shape[0], dtype=np.int64), np.diff(X.indptr))[hit]
    c = X.indices[hit]
    order = np.argsort(c, kind="stable")  # rows stay ascending within a column
    rows, c = rows[order], c[order]
    cuts = np.searchsorted(c, cols, side="left"), np.searchsorted(c, cols, side="right")
    return {int(j): rows[a:b] for j, a, b in zip(cols, *cuts, strict=True)}


def _group_terms(eps: list, max_terms: int) -> tuple[list[str], list[str]]:
    """(terms, hashtags) naming a group of burst episodes, strongest first (a term may burst twice
    in the period: its strongest episode counts)."""
    best: dict[str, Any] = {}
    for e in eps:
        if e.term not in best or e.max_z > best[e.term].max_z:
            best[e.term] = e
    ranked = sorted(best.values(), key=lambda e: (-e.max_z, e.term))
    terms = [e.term for e in ranked if not e.term.startswith("#") and e.term not in LONE_GENERIC][:max_terms]
    hashtags = [e.term for e in ranked if e.term.startswith("#")][:max_terms]
    return terms, hashtags


def _messages_by_rowid(con: Any, rowids: np.ndarray) -> pd.DataFrame:
    """message_id, created_at, platform, territory_id, text of messages, indexed by row id."""
    ids = [int(r) for r in rowids]
    df = con.execute("SELECT m.rowid AS rid, m.message_id, m.created_at, m.platform, m.territory_id, m.text "
                     "FROM messages m WHERE m.rowid IN (SELECT unnest(?::BIGINT[]))", [ids]).df()
    return df.set_index("rid")[["message_id", "created_at", "platform", "territory_id", "text"]]


def territory_words(con: Any, territories: Sequence[str] = ()) -> set[str]:
    """Words of the territories' names and ids (all territories when none given), stop words out.

    They would 'emerge' with any local subject and fill every topic and word cloud.
    """
    if territories:
        rows = con.execute(f"SELECT name, territory_id FROM territories WHERE territory_id IN "
                           f"({', '.join('?' for _ in territories)})", list(territories)).fetchall()
        rows = rows or [(t, t) for t in territories]
    else:
        rows = con.execute("SELECT name, territory_id FROM territories").fetchall()
    return {w for n, tid in rows for w in re.findall(TOKEN_PATTERN, surface_one(f"{n or ''} {tid}"))
            if w not in STOP_WORDS_FR}


def emerging_table(subjects: Sequence[EmergingSubject]) -> pd.DataFrame:
    """One row per subject, French column names, French dates (for tables and reports)."""
    return pd.DataFrame([{
        "Sujet": s.label, "Hashtags": ", ".join(s.hashtags), "Du": fr_date(s.start), "Au": fr_date(s.end),
        "Épisodes": fr_int(s.episodes), "Pic": fr_date(s.peak), "Messages": fr_int(s.count),
        "Niveau habituel (msg/jour)": fr_num(s.baseline), "Écart (z)": fr_num(s.max_z)} for s in subjects],
        columns=["Sujet", "Hashtags", "Du", "Au", "Épisodes", "Pic", "Messages", "Niveau habituel (msg/jour)", "Écart (z)"])
