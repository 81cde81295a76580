"""Negative spikes a human would keep (issue 17): THE detector of the E-réputation page, the alerts
and the report (:func:`analysis.ereputation.detect_spikes`), read on two streams.

- **Demo**: every weekly spike of every territory over the store's period; relevant = it overlaps the
  injected crisis (ground truth). A control: the demo's texts come from our templates.
- **Real**: the dated real stream of :mod:`analysis.eval.emerging` (a Paris hotel's Booking.com reviews,
  replayed 7 times faster, about 35 a day), scored by the shipped sentiment model through the product's
  own enrichment (a non-French review gets no label, as in a store). As it is, nothing happens in it that
  a human would call a crisis: each spike shown is a false alarm. Then with a known episode: the
  :data:`INJECT_N` French reviews whose authors rated the stay ≤ 4/10 that are nearest the middle of the
  judged weeks are moved into :data:`analysis.eval.emerging.INJECT_DAYS` days there (texts unchanged; the days they came from
  lose them): is the spike found, and on which dates?
"""

from __future__ import annotations

import tempfile
from datetime import date, timedelta
from pathlib import Path
from typing import Any

import pandas as pd

from analysis import derived_refresh, enrich, store
from analysis.ereputation import Spike, detect_spikes
from analysis.eval import data as D
from analysis.eval import emerging as E
from analysis.fmt import fr_count, fr_int, fr_num
from analysis.queries import Filters
from analysis.text import detect_lang

INJECT_N = 30


def _as_dict(s: Spike) -> dict[str, Any]:
    return {"start": s.start.isoformat(), "end": s.end.isoformat(), "negative": int(s.negative),
            "expected": round(float(s.expected), 1)}


def replay_spikes(df: pd.DataFrame, territory: str = E.REAL_TERRITORY) -> tuple[list[Spike], dict[str, int]]:
    """Weekly negative spikes of ``df`` (ref, text, created_at) stored as one territory's public comments in a
    temporary store, sentiment scored by the shipped enrichment, judged from nine weeks after the
    first day (:data:`analysis.eval.emerging.JUDGED_AFTER`); and the counts of messages and of scored ones."""
    with tempfile.TemporaryDirectory() as d:
        db = Path(d) / "flux.duckdb"
        with derived_refresh.writer(db) as con:
            store.upsert(con, "territories", pd.DataFrame([{"territory_id": territory, "kind": "own",
                                                            "name": "Flux réel", "peers": []}]))
            store.upsert(con, "messages", pd.DataFrame({
                "message_id": "booking:" + df["ref"].astype(str), "platform": "booking", "kind": "comment",
                "post_id": None, "account_id": None, "territory_id": territory,
                "author_hash": df["ref"].astype(str), "author_name": None, "is_official": False,
                "created_at": df["created_at"], "text": df["text"], "likes": None, "replies": None}))
            enrich.run(con, only=["sentiment"])
        with store.reader(db) as con:
            lo, hi = con.execute("SELECT min(created_at)::DATE, max(created_at)::DATE FROM messages").fetchone()
            f = Filters(territories=(territory,), start=lo + E.JUDGED_AFTER, end=hi + timedelta(days=1))
            spikes = detect_spikes(con, f)
            n, scored = con.execute("SELECT count(*), count(s.label) FROM messages m LEFT JOIN sentiment s "
                                    "ON s.item_id = m.message_id").fetchone()
    return spikes, {"messages": int(n), "scored": int(scored)}


def inject(df: pd.DataFrame, scores: pd.Series, n: int = INJECT_N,
           days: int = E.INJECT_DAYS) -> tuple[pd.DataFrame, date, date, int]:
    """``df`` with the ``n`` French reviews rated ≤ 4/10 nearest the middle of the judged weeks moved into
    ``days`` days there (spread evenly); the window and the number moved."""
    mid = E.episode_start(df)
    bad = df[(scores.reindex(df.index) <= 4).to_numpy() & (df["text"].map(detect_lang) == "fr").to_numpy()]
    pick = bad.iloc[(bad["created_at"] - mid).abs().argsort()[:n]].index
    return E.move_into(df, pick, mid, days), mid.date(), (mid + pd.Timedelta(days=days - 1)).date(), len(pick)


def eval_real(root: Path) -> dict[str, Any]:
    """The real stream as it is (false alarms) and with one injected episode (found, dates)."""
    b = D.booking(root)
    df = E.real_stream(root)
    scores = b.set_index("ref")["score"].reindex(df["ref"]).set_axis(df.index)
    df["created_at"] = E.compress(df["created_at"], E.REAL_SPEEDUP)
    spikes, counts = replay_spikes(df)
    inj, start, end, moved = inject(df, scores)
    found, _ = replay_spikes(inj)
    hits = [s for s in found if s.start <= end and s.end >= start]
    return {**counts, "speedup": E.REAL_SPEEDUP, "as_is": [_as_dict(s) for s in spikes],
            "injected": {"start": start.isoformat(), "end": end.isoformat(), "moved": moved,
                         "spikes": [_as_dict(s) for s in found], "found": len(hits),
                         "others": len(found) - len(hits)}}


def eval_demo(demo_db: Path, demo_exports: Path) -> dict[str, Any]:
    """Every territory's weekly spikes over the demo store (after the first baseline weeks) against the
    injected crisis."""
    crisis = E.demo_truth(demo_exports)["crisis"]
    c0, c1 = date.fromisoformat(crisis["start"]), date.fromisoformat(crisis["end"])
    with store.reader(demo_db) as con:
        lo, hi = con.execute("SELECT min(created_at)::DATE, max(created_at)::DATE FROM messages").fetchone()
        spikes = detect_spikes(con, Filters(start=lo + E.JUDGED_AFTER, end=hi + timedelta(days=1)))
    rel = [s.territory_id == crisis["territory_id"] and s.start <= c1 and s.end >= c0 for s in spikes]
    return {"shown": len(spikes), "relevant": int(sum(rel)), "crisis": {"start": c0.isoformat(), "end": c1.isoformat()},
            "spikes": [{**_as_dict(s), "territory_id": s.territory_id} for s in spikes]}


def evaluate(root: Path, demo_db: Path | None = None, demo_exports: Path | None = None) -> dict[str, Any]:
    ok = demo_db is not None and E.demo_truth(demo_exports) is not None
    return {"demo": eval_demo(Path(demo_db), Path(demo_exports)) if ok else None, "real": eval_real(root)}


def render(s: dict) -> str:
    """French Markdown of the figures."""

    def dates(x: dict) -> str:
        return f"du {E.fr_date_iso(x['start'])} au {E.fr_date_iso(x['end'])}"

    L = ["### Pics de messages négatifs (le détecteur de la page E-réputation, des alertes et du rapport)", ""]
    d = s.get("demo")
    if d:
        L.append(f"- Démo (contrôle), tous les territoires, toute la période : {fr_count(d['shown'], 'pic montré', 'pics montrés')}, "
                 f"dont {fr_int(d['relevant'])} sur la crise injectée ({dates(d['crisis'])}).")
    r, i = s["real"], s["real"]["injected"]
    L.append(f"- Réel : avis Booking.com d'un hôtel rejoués {fr_int(r['speedup'])} fois plus vite "
             f"({fr_int(r['messages'])} textes, {fr_int(r['scored'])} notés en français) — tels quels, rien qu'un "
             f"humain appellerait une crise : {fr_count(len(r['as_is']), 'pic montré', 'pics montrés')}"
             + (" (" + " ; ".join(dates(x) for x in r["as_is"]) + ")" if r["as_is"] else "") + ".")
    got = [x for x in i["spikes"] if x["start"] <= i["end"] and x["end"] >= i["start"]]
    L.append(f"- Réel avec un épisode injecté : {i['moved']} avis français notés 4/10 ou moins par leurs auteurs, "
             f"déplacés {dates(i)} (textes inchangés) : "
             + (f"trouvé, {dates(got[0])} ({fr_int(got[0]['negative'])} négatifs pour {fr_num(got[0]['expected'], 1)} "
                "attendus)" if got else "non trouvé")
             + (f" ; {fr_count(i['others'], 'autre pic', 'autres pics')}" if i["others"] else " ; aucun autre pic")
             + ".")
    return "\n".join(L)
