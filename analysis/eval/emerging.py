"""Emerging subjects a human would keep: precision at 5 and 10, before and after the subject rules.

Two streams, each replayed month by month through :func:`analysis.topics.emerging_subjects`:

- **demo** — the demo store's injected events (``ground_truth.json``: the water crisis and the
  campaigns; ``ground_truth_events.json``: the agenda's events with their conversation). A subject
  is relevant when it *names* an injected event of its territory that overlaps its dates (± 3 days):
  one of its terms or hashtags shares a content word with the event's keywords, title or hashtag;
  for a campaign (weeks of posts on one theme, whose comments burst on that theme's subjects on
  purpose), one of its terms has all its words in one of the theme's subjects the ground truth lists.
  Lists read: the months holding an injected event with at least 10 conversation messages (the
  least a subject needs), and, stricter, every territory-month (demo figures are sanity checks).
- **real** — the real dated stream of the shared folder (Booking reviews of one Paris hotel,
  2021–2024, about five a day, mostly French; see :func:`real_stream`), replayed seven times
  faster into an in-memory store as one territory. Relevance of each subject shown was judged
  by reading it: ``data/eval/emerging_real_labels.csv`` (month, subject, 0/1, why) — only the
  subject strings and our judgement, no text.

``before`` is the rule of the earlier release (no background vocabulary, no lift, no author
minimum); ``after`` is the shipped one. Precision at k pools the lists: subjects relevant among
the first min(k, n) of each list ÷ subjects shown there (an empty list shows nothing and counts
nothing; the events found, printed beside it, keep that honest).
"""

from __future__ import annotations

import inspect
import json
from collections.abc import Callable, Iterable, Sequence
from datetime import date, timedelta
from pathlib import Path
from typing import Any

import duckdb
import pandas as pd

from analysis import store
from analysis.eval import data as D
from analysis.fmt import fr_count, fr_date, fr_num
from analysis.queries import Filters
from analysis.text import detect_lang, fold
from analysis.topics import STOP_WORDS_FR, emerging_subjects, lemma_key

REAL_LABELS_PATH = D.EVAL_DIR / "emerging_real_labels.csv"
REAL_TERRITORY = "flux-reel"
REAL_SPEEDUP = 7.0
BEFORE: dict[str, Any] = {"min_authors": 1, "generic_share": None, "min_lift": 0.0, "lone_share": None}
AFTER: dict[str, Any] = {}
SETTINGS = {"before": BEFORE, "after": AFTER}
KS = (5, 10)
# emerging_subjects' min_total (read from its signature, not copied): an event with fewer messages cannot emerge
EVENT_MIN_MESSAGES: int = inspect.signature(emerging_subjects).parameters["min_total"].default


def months(first: date, last: date) -> list[tuple[date, date]]:
    """Calendar months [start, end) from the month of ``first`` to the month of ``last``."""
    out, d = [], date(first.year, first.month, 1)
    while d <= last:
        n = date(d.year + (d.month == 12), d.month % 12 + 1, 1)
        out.append((d, n))
        d = n
    return out


def subject_lists(con: Any, territory: str, periods: Iterable[tuple[date, date]],
                  **kwargs: Any) -> list[dict[str, Any]]:
    """One list per period: {month, subjects: [{label, terms, hashtags, start, end, count}]}."""
    out = []
    for s, e in periods:
        subs = emerging_subjects(con, Filters(territories=(territory,), start=s, end=e), **kwargs)
        out.append({"territory": territory, "month": s.isoformat()[:7],
                    "subjects": [{"label": x.label, "terms": x.terms, "hashtags": x.hashtags, "start": x.start,
                                  "end": x.end, "count": x.count} for x in subs]})
    return out


def precision_at(lists: list[dict], relevant: Callable[[dict, dict], bool | None], k: int) -> dict[str, Any]:
    """Pooled precision at k: relevant ÷ shown among the first min(k, n) subjects of every list.

    ``relevant`` may return None (not judged): such a subject is counted in ``unjudged`` and left out.
    """
    shown = hits = unjudged = 0
    for lst in lists:
        for sub in lst["subjects"][:k]:
            r = relevant(lst, sub)
            if r is None:
                unjudged += 1
                continue
            shown += 1
            hits += bool(r)
    return {"k": k, "precision": hits / shown if shown else None, "relevant": hits, "shown": shown,
            "unjudged": unjudged, "lists": len(lists), "empty_lists": sum(not lst["subjects"] for lst in lists)}


# ------------------------------------------------------------------------------ demo
def _content_words(text: str, drop: set[str]) -> set[str]:
    words = {lemma_key(w) for w in str(text or "").replace("-", " ").replace("'", " ").replace("’", " ").split()
             if len(w) > 2 and w.lower() not in STOP_WORDS_FR}
    return {fold(w) for w in words if w and fold(w) not in drop}


def demo_truth(demo_exports: Path | None) -> dict[str, Any] | None:
    """The demo's ground truth (``ground_truth.json`` of its exports folder), None where there is none."""
    p = Path(demo_exports) / "ground_truth.json" if demo_exports is not None else None
    return json.loads(p.read_text(encoding="utf-8")) if p is not None and p.exists() else None


def demo_events(db: Path, root: Path) -> list[dict[str, Any]]:
    """Injected events of the demo store ``db`` (its exports folder ``root``): territory, dates, name words.

    The caller gives the exports folder (``analysis.demo.exports_dir_for``): the demo is a higher layer.
    """
    truth = demo_truth(root)
    with store.reader(db) as con:
        names = con.execute("SELECT territory_id, name FROM territories").fetchall()
    drop = {fold(w) for tid, n in names for w in f"{tid} {n}".replace("-", " ").lower().split()} | {"saint", "sur"}
    c = truth["crisis"]
    events = [{"key": "crisis", "territory_id": truth.get("own_territory", "saint-aubin"),
               "start": date.fromisoformat(c["start"]), "end": date.fromisoformat(c["end"]),
               "messages": None, "hashtag": "#" + fold(c["hashtag"].lower()),
               "words": set().union(*(_content_words(k, drop) for k in c["keywords"]))}]
    for camp in truth.get("campaigns", []):
        if "subjects" not in camp:  # a store built before campaigns carried their subjects
            continue
        # a campaign pushes its theme's posts for weeks: its comments burst on the theme's subjects,
        # so a subject is right when *all* its words are those of one of them (« vieux pont »), not
        # when it merely shares a word (« conseil municipal jeune » is not « le musée municipal »)
        events.append({"key": camp["campaign_id"], "territory_id": camp["territory_id"],
                       "start": date.fromisoformat(camp["start"]), "end": date.fromisoformat(camp["end"]),
                       "messages": None, "hashtag": "#" + fold(camp["hashtag"].lower()),
                       "words": set(), "phrases": [_content_words(x, drop) for x in camp["subjects"]]})
    ev_path = root / "ground_truth_events.json"
    if ev_path.exists():
        for e in json.loads(ev_path.read_text(encoding="utf-8"))["events"]:
            events.append({"key": e["key"], "territory_id": e["territory_id"],
                           "start": date.fromisoformat(e["start"][:10]), "end": date.fromisoformat(e["end"][:10]),
                           "messages": e.get("conversation_messages"),
                           "hashtag": "#" + fold(e["hashtag"].lower()) if e.get("hashtag") else None,
                           "words": _content_words(e["title"], drop)})
    return events


def names_event(sub: dict, ev: dict, territory: str) -> bool:
    """Whether a subject names an injected event: same territory, dates overlapping ± 3 days, a shared word."""
    if ev["territory_id"] != territory:
        return False
    if sub["end"] < ev["start"] - timedelta(days=3) or sub["start"] > ev["end"] + timedelta(days=3):
        return False
    words = {fold(w) for t in sub["terms"] for w in t.split()}
    if ev.get("phrases") and any(set(t.split()) and {fold(w) for w in t.split()} <= ph
                                 for t in sub["terms"] for ph in ev["phrases"]):
        return True
    return bool(words & ev["words"]) or (ev["hashtag"] is not None and ev["hashtag"] in sub["hashtags"])


def eval_demo(db: Path, exports_dir: Path, settings: dict[str, dict] = SETTINGS) -> dict[str, Any]:
    """P@5 and P@10 on the demo's injected events, per setting; events found; the lists read."""
    events = demo_events(db, exports_dir)
    with store.reader(db) as con:
        lo, hi = con.execute("SELECT min(created_at)::DATE, max(created_at)::DATE FROM messages").fetchone()
        terrs = [r[0] for r in con.execute("SELECT territory_id FROM territories ORDER BY 1").fetchall()]
        first = lo + timedelta(days=28)  # a month needs its 28-day baseline
        big = [e for e in events if e["messages"] is None or e["messages"] >= EVENT_MIN_MESSAGES]
        event_months = sorted({(e["territory_id"], date(d.year, d.month, 1)) for e in big
                               for d in (e["start"], e["end"]) if d >= first})
        out: dict[str, Any] = {"events": [e["key"] for e in big],
                               "event_months": [f"{t} {m.isoformat()[:7]}" for t, m in event_months]}
        for name, kw in settings.items():
            ev_lists = [subject_lists(con, t, [(m, months(m, m)[0][1])], **kw)[0] for t, m in event_months]
            all_lists = [lst for t in terrs for lst in subject_lists(con, t, months(first, hi), **kw)]

            def rel(lst: dict, sub: dict) -> bool:
                return any(names_event(sub, e, lst["territory"]) for e in events)

            found = sum(any(names_event(s, e, lst["territory"]) for lst in ev_lists for s in lst["subjects"][:10])
                        for e in big if date(e["start"].year, e["start"].month, 1) >= first)
            out[name] = {
                "event_months": {f"p{k}": precision_at(ev_lists, rel, k) for k in KS},
                "all_months": {f"p{k}": precision_at(all_lists, rel, k) for k in KS},
                "events_found": found,
                "events_possible": sum(date(e["start"].year, e["start"].month, 1) >= first for e in big),
                "lists": [{"list": f"{lst['territory']} {lst['month']}",
                           "subjects": [s["label"] for s in lst["subjects"]]} for lst in ev_lists]}
    return out


# ------------------------------------------------------------------------------ real stream
def real_stream(root: Path) -> pd.DataFrame:
    """The real dated French-language stream of the shared folder: Booking reviews of one Paris hotel
    (2021–2024, one person each: author = the review). ref, text, created_at, author, platform.

    The other dated samples cannot be replayed with it: the ExportComments comments span four days
    of 2020 and the X archive's French tweets are two; glued before or after, their gap would start
    the stream with an empty baseline (every word a burst). MLMA and TripAdvisor have no date.
    """
    b = D.booking(root)
    df = pd.DataFrame({"ref": b["ref"], "text": b["text"], "created_at": pd.to_datetime(b["created_at"]),
                       "author": b["ref"], "platform": "booking"})
    return df[df["created_at"].notna() & (df["text"].str.strip() != "")].reset_index(drop=True)


def replay_store(df: pd.DataFrame, territory: str = REAL_TERRITORY) -> duckdb.DuckDBPyConnection:
    """An in-memory store holding ``df`` as the public messages of one territory (authors hashed)."""
    import hashlib

    con = duckdb.connect(":memory:")
    con.execute("CREATE TABLE territories (territory_id VARCHAR, name VARCHAR)")
    con.execute("INSERT INTO territories VALUES (?, ?)", [territory, "Flux réel"])
    m = pd.DataFrame({"message_id": df["ref"].astype(str), "created_at": df["created_at"],
                      "platform": df["platform"], "territory_id": territory, "text": df["text"],
                      "is_official": False,
                      "author_hash": [hashlib.sha256(str(a).encode()).hexdigest()[:16] for a in df["author"]]})
    con.register("m_df", m)
    con.execute("CREATE TABLE messages AS SELECT * FROM m_df ORDER BY created_at, message_id")
    con.unregister("m_df")
    return con


def real_labels(path: Path = REAL_LABELS_PATH) -> dict[tuple[str, str], int]:
    """Our judgement of the real-stream subjects: (month, subject) → 1 relevant, 0 not."""
    if not path.exists():
        return {}
    lab = pd.read_csv(path, dtype=str, keep_default_na=False, comment="#")
    return {(r.month, r.subject): int(r.relevant) for r in lab.itertuples(index=False)}


def compress(ts: pd.Series, speedup: float) -> pd.Series:
    """Timestamps replayed ``speedup`` times faster from the first one (one week → one day at 7)."""
    t0 = ts.min()
    return t0 + (ts - t0) / speedup


def eval_real(root: Path, settings: dict[str, dict] = SETTINGS, labels_path: Path = REAL_LABELS_PATH,
              speedup: float = REAL_SPEEDUP) -> dict[str, Any]:
    """P@5 and P@10 of the subjects of the real stream replayed month by month, per setting.

    The Booking reviews come about five a day, too few for a daily burst of five messages: the
    stream is replayed ``speedup`` times faster (a week of reviews in a day, about 35 texts a day,
    the volume of a small commune's comments).
    """
    df = real_stream(root)
    df["created_at"] = compress(df["created_at"], speedup)
    con = replay_store(df)
    lo, hi = df["created_at"].min().date(), df["created_at"].max().date()
    have = set(df["created_at"].dt.strftime("%Y-%m"))
    periods = [p for p in months(lo + timedelta(days=28), hi) if p[0].isoformat()[:7] in have]
    lab = real_labels(labels_path)
    out: dict[str, Any] = {"messages": len(df), "speedup": speedup, "months": len(periods)}
    for name, kw in settings.items():
        lists = subject_lists(con, REAL_TERRITORY, periods, **kw)

        def rel(lst: dict, sub: dict) -> bool | None:
            return lab.get((lst["month"], sub["label"]))

        out[name] = {f"p{k}": precision_at(lists, rel, k) for k in KS}
        out[name]["lists"] = [{"month": lst["month"], "subjects": [s["label"] for s in lst["subjects"]]}
                              for lst in lists if lst["subjects"]]
    return out


# Words of the real stream's reviews whose French reviews are moved, one word at a time, into three days
# (:func:`eval_injected`): every word tried on 8 Dec. 2026 is listed, found or not.
INJECTED_WORDS = ("ascenseur", "bruit", "douche", "chauffage", "travaux", "moquette", "climatisation")
INJECT_DAYS = 3
JUDGED_AFTER = timedelta(weeks=9)  # the detectors' baselines (28 days; 8 weeks + the week judged)


def episode_start(df: pd.DataFrame) -> pd.Timestamp:
    """Midnight of the middle of the judged part of a replayed stream (after :data:`JUDGED_AFTER`)."""
    lo, hi = df["created_at"].min(), df["created_at"].max()
    return (lo + JUDGED_AFTER + (hi - lo - JUDGED_AFTER) / 2).normalize()


def move_into(df: pd.DataFrame, rows: Any, start: pd.Timestamp, days: int = INJECT_DAYS) -> pd.DataFrame:
    """A copy of ``df`` whose ``rows`` (index labels or a mask) are moved into ``days`` days from ``start``
    9 h, spread evenly: a known episode made of real texts (unchanged; the days they came from lose them)."""
    out = df.copy()
    n = int(out.loc[rows].shape[0])
    out.loc[rows, "created_at"] = [start + pd.Timedelta(hours=9) + i * pd.Timedelta(days=days) / max(n, 1)
                                   for i in range(n)]
    return out


def eval_injected(root: Path, words: Sequence[str] = INJECTED_WORDS, days: int = INJECT_DAYS,
                  speedup: float = REAL_SPEEDUP) -> dict[str, Any]:
    """The real stream with one known episode at a time: the French reviews holding ``word`` are moved into
    ``days`` days in the middle of the judged months (texts unchanged; the days they came from lose them),
    and the month's subjects are listed by the shipped rule. A subject is relevant when one of its terms
    holds the word (lemma key); P@5 and P@10 pool the lists; an episode of fewer than ``min_total``
    messages cannot be listed, by design."""
    df = real_stream(root)
    df["created_at"] = compress(df["created_at"], speedup)
    mid = episode_start(df)
    french = (df["text"].map(detect_lang) == "fr").to_numpy()
    month = date(mid.year, mid.month, 1)
    lists, rows = [], []
    for word in words:
        moved = french & df["text"].str.contains(word, case=False, regex=False).to_numpy()
        n = int(moved.sum())
        lst = subject_lists(replay_store(move_into(df, moved, mid, days)), REAL_TERRITORY, months(month, month))[0]
        lst["word"] = lemma_key(word)
        lists.append(lst)
        ranks = [i + 1 for i, sub in enumerate(lst["subjects"]) if _holds(sub, lst["word"])]
        rows.append({"word": word, "moved": n, "rank": ranks[0] if ranks else None,
                     "label": lst["subjects"][ranks[0] - 1]["label"] if ranks else None,
                     "count": lst["subjects"][ranks[0] - 1]["count"] if ranks else None,
                     "others": len(lst["subjects"]) - len(ranks)})
    out: dict[str, Any] = {f"p{k}": precision_at(lists, lambda lst, sub: _holds(sub, lst["word"]), k) for k in KS}
    return {**out, "start": mid.date().isoformat(), "days": days, "min_messages": EVENT_MIN_MESSAGES,
            "episodes": rows}


def fr_date_iso(d: str) -> str:
    return fr_date(date.fromisoformat(d))


def _holds(sub: dict, key: str) -> bool:
    return any(key in t.split() for t in sub["terms"])


def evaluate(root: Path, demo_db: Path | None = None, demo_exports: Path | None = None) -> dict[str, Any]:
    """Both streams; the demo one only when a demo store and its exports folder (ground truth) are given."""
    ok = demo_db is not None and demo_truth(demo_exports) is not None
    return {"demo": eval_demo(Path(demo_db), Path(demo_exports)) if ok else None, "real": eval_real(root),
            "real_injected": eval_injected(root),
            "rule": {"min_authors": _default("min_authors"), "generic_share": _default("generic_share"),
                     "min_lift": _default("min_lift"), "lone_share": _default("lone_share")}}


def _default(name: str) -> Any:
    return inspect.signature(emerging_subjects).parameters[name].default


def render(e: dict) -> str:
    """French Markdown of the figures."""

    def p(x: dict) -> str:
        v = x["precision"]
        return "—" if v is None else f"{fr_num(v, 2)} ({x['relevant']}/{x['shown']})"

    r = e["rule"]
    L = ["### Sujets émergents : précision à 5 et à 10", "",
         f"Règle livrée : termes hors vocabulaire de fond (mot présent dans ≥ {fr_num(100 * r['generic_share'], 0)} % "
         f"des messages des 28 jours précédents), part multipliée par ≥ {fr_num(r['min_lift'], 0)}, mot seul "
         f"sous {fr_num(100 * r['lone_share'], 1)} % avant, ≥ {r['min_authors']} auteurs distincts. « Avant » : sans "
         "ces règles. Démo : pertinent = nomme un événement injecté, ou un sujet du thème d'une campagne en cours "
         "(la campagne fait publier ce thème et ses commentaires, exprès : vérité terrain `campaigns.subjects`) ; "
         "les autres hausses de sujets des modèles de messages sont du hasard, comptées non pertinentes.", "",
         "| Flux | Listes | P@5 avant | P@5 après | P@10 avant | P@10 après |", "|---|---|---|---|---|---|"]
    d = e.get("demo")
    if d:
        for key, title in (("event_months", "Démo, mois des événements injectés"), ("all_months", "Démo, tous les mois")):
            b, a = d["before"][key], d["after"][key]
            L.append(f"| {title} (contrôle) | {b['p5']['lists']} | {p(b['p5'])} | {p(a['p5'])} | {p(b['p10'])} | "
                     f"{p(a['p10'])} |")
    re_ = e["real"]
    b, a = re_["before"], re_["after"]
    L.append(f"| Réel (avis Booking rejoués {fr_num(re_['speedup'], 0)} fois plus vite ; {re_['messages']} textes, "
             f"{re_['months']} mois) | {b['p5']['lists']} "
             f"| {p(b['p5'])} | {p(a['p5'])} | {p(b['p10'])} | {p(a['p10'])} |")
    if d:
        L += ["", f"Événements injectés retrouvés dans les 10 premiers sujets : avant {d['before']['events_found']}, "
              f"après {d['after']['events_found']} sur {d['after']['events_possible']}."]
    inj = e.get("real_injected")
    if inj:
        L += ["", f"Réel avec un épisode connu : les avis français qui contiennent un mot, déplacés dans "
              f"{inj['days']} jours à partir du {fr_date_iso(inj['start'])} (textes inchangés), un mot à la fois ; "
              f"précision à 5 {p(inj['p5'])}, à 10 {p(inj['p10'])} (pertinent : un terme du sujet contient le mot).", "",
              "| Mot | Avis déplacés | Sujet trouvé (rang, messages) | Autres sujets |", "|---|---|---|---|"]
        for r in inj["episodes"]:
            got = f"« {r['label']} » ({r['rank']}, {r['count']})" if r["rank"] else \
                f"non (moins de {inj['min_messages']} messages)" if r["moved"] < inj["min_messages"] else "non"
            L.append(f"| {r['word']} | {r['moved']} | {got} | {r['others']} |")
    unj = sum(re_[s][f"p{k}"]["unjudged"] for s in ("before", "after") for k in KS)
    if unj:
        L.append(f"{fr_count(unj, 'sujet')} du flux réel sans jugement dans `{REAL_LABELS_PATH.name}` : laissés hors du calcul.")
    return "\n".join(L)


__all__ = ["AFTER", "BEFORE", "eval_demo", "eval_real", "evaluate", "precision_at", "real_stream", "render",
           "replay_store", "subject_lists"]
