"""The report's events section (discovered by :func:`analysis.reports.sections.discover`).

Events of the territory that took place in the period: their promotion evaluated
(:func:`analysis.events.evaluation.evaluate_event`: effect with its 95 % interval, compared with
past events and peers' events, verdict), and the events of the month after the period, so the
next month's promotion can be planned. Titles are the agendas' (public events), never a person.
"""

from __future__ import annotations

from datetime import timedelta
from typing import Any

import pandas as pd

from analysis.events.evaluation import describe_dates, evaluate_events, scoped_events
from analysis.events.model import in_window
from analysis.fmt import fr_int, fr_pct
from analysis.reports.sections import ReportContext, section, table

N_BOOT = 1000


def _pct(v: Any) -> str:
    return "—" if v is None or pd.isna(v) else fr_pct(v, 0, signed=True).replace("-", "−")


@section("events", "Événements et leur promotion", order=60)
def events_section(ctx: ReportContext) -> dict[str, Any] | None:
    scoped = scoped_events(ctx.con, ctx.territory, ctx.visible)  # its peers' events too: read once
    ev = in_window(scoped[1], [ctx.territory], ctx.period.start, ctx.period.end)
    nxt_end = ctx.period.end + timedelta(days=31)
    upcoming = in_window(scoped[1], [ctx.territory], ctx.period.end, nxt_end)
    upcoming = upcoming[upcoming["start_at"] >= pd.Timestamp(ctx.period.end)]
    if ev.empty and upcoming.empty:
        return None
    out: dict[str, Any] = {"findings": [], "tables": [], "notes": [], "caveats": []}
    rows = []
    evals = evaluate_events(ctx.con, ctx.territory, ev["event_id"].tolist(), n_boot=N_BOOT, seed=0,
                            with_conversation=True, visible=ctx.visible, scoped=scoped)
    for (_, x), r in zip(ev.iterrows(), evals, strict=True):
        out["findings"].append(r.verdict)
        conv = r.conversation or {}
        vc = conv.get("volume_change")
        rows.append({"title": x["title"], "dates": describe_dates(x["start_local"], x["end_local"]),
                     "posts": len(r.promo_posts), "effect": r.lift.fr(), "past": _pct(r.vs_past[0] if r.vs_past else None),
                     "peers": _pct(r.vs_peers[0] if r.vs_peers else None), "messages": conv.get("messages"),
                     "volume": "—" if vc is None else f"{_pct(vc[0])} ({_pct(vc[1])} à {_pct(vc[2])})"})
    if rows:
        out["tables"].append(table(pd.DataFrame(rows), f"Promotion des événements, {ctx.period.label}", {
            "title": "Événement", "dates": "Dates", "posts": "Publications de promotion",
            "effect": "Effet sur l'engagement (IC 95 %)", "past": "Écart aux événements passés",
            "peers": "Écart aux événements des pairs", "messages": "Messages qui en parlent",
            "volume": "Messages par jour pendant / avant (IC 95 %)"}, {"posts": fr_int, "messages": fr_int},
            numeric=("posts", "messages")))
    else:
        out["findings"].append("Aucun événement du territoire pendant la période.")
    if len(upcoming):
        out["notes"].append("À venir le mois suivant : " + " ; ".join(
            f"{x.title} ({describe_dates(x.start_local, x.end_local)})" for x in upcoming.itertuples()) + ".")
    out["caveats"].append(
        "Effet d'une promotion : engagement de ses publications rapporté à celui des autres publications des mêmes "
        "comptes les mêmes semaines (intervalle à 95 % par rééchantillonnage) ; une campagne qui commence ou "
        "s'arrête pendant ces semaines n'est pas séparée de la promotion. Les publications sont reconnues à leurs "
        "hashtags, mots-clés ou liens : une promotion qui n'en porte aucun n'est pas comptée.")
    return out
