"""The Campagnes page's events section: each event's promotion evaluated (analysis.events.views)."""

from __future__ import annotations

import pandas as pd
import streamlit as st

import analysis.events.views
from analysis.events.evaluation import describe_dates
from analysis.exports import escape_markdown as esc
from analysis.fmt import fr_count, fr_int, fr_pct
from analysis.queries import Filters
from streamlit_app import data, ui


def _pct(v: object) -> str:
    return "—" if v is None or pd.isna(v) else fr_pct(v, 0, signed=True).replace("-", "−")


def campaign_events_section(f: Filters, names: dict[str, str]) -> None:
    """Events of the period: the promotion of each, with its interval and verdict; one in detail."""
    st.header("Promotion des événements")
    mine = [t for t in (f.territories or data.selectable_territories()) if t in data.selectable_territories()]
    if not mine:
        ui.empty_state("Choisissez un territoire dans les filtres.")
        return
    t = mine[0]
    s = data.call(analysis.events.views.event_evaluations, territory=t, start=f.start, end=f.end)
    if s.empty:
        ui.empty_state(f"Aucun événement de {esc(names.get(t, t))} sur la période (agendas : page Données, "
                       "saisie : page Calendrier).")
        return
    st.caption(f"{esc(names.get(t, t))} : effet de la promotion = engagement des publications qui nomment "
               "l'événement (hashtags, mots-clés, liens) ÷ celui des autres publications des mêmes comptes les "
               "mêmes semaines, intervalle à 95 % ; comparé aux événements passés du même thème et à ceux des pairs.")
    ui.table(pd.DataFrame({"Événement": s["title"], "Dates": [describe_dates(a, b) for a, b in zip(s["start"], s["end"],
                                                                                                 strict=True)],
                           "Publications": s["promo_posts"], "Effet (IC 95 %)": s["effect_fr"],
                           "Écart aux passés": [_pct(x) for x in s["vs_past"]],
                           "Écart aux pairs": [_pct(x) for x in s["vs_peers"]]}), {"Publications": "int"})
    ids = s["event_id"].tolist()
    eid = st.selectbox("Événement à détailler", ids, placeholder=ui.PICK,
                       format_func=lambda i: s.set_index("event_id").loc[i, "title"])
    d = data.call(analysis.events.views.event_detail, territory=t, event_id=eid)
    ev = d.get("evaluation")
    if ev is None:
        return
    st.markdown(esc(ev.verdict))
    conv = ev.conversation or {}
    ph = conv.get("phases")
    if ph is not None and len(ph):
        ui.table(pd.DataFrame({"Phase": ph["phase"], "Jours": ph["days"], "Messages": ph["messages"],
                               "Par jour": ph["per_day"], "Sentiment net": ph["net_sentiment"]}),
                 {"Jours": "int", "Messages": "int", "Par jour": "num", "Sentiment net": "num"})
    if ev.reach_known:
        st.caption(f"Portée cumulée des publications de promotion qui l'exportent : {fr_int(ev.reach_total)} "
                   f"({fr_count(ev.reach_known, 'publication')} sur {fr_int(len(ev.promo_posts))} ; la portée manquante "
                   "n'est pas comptée comme nulle).")
    else:
        st.caption("Aucun export ne donne la portée de ces publications.")
    p = d["posts"]
    with st.expander(f"Les {fr_int(len(p))} publications de promotion"):
        ui.table(pd.DataFrame({"Publiée le": p["created_at"], "Réseau": p["platform"], "Interactions": p["engagement"],
                               "Texte": p["text"].fillna("").str.slice(0, 140)}), {"Interactions": "int"})
