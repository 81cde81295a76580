"""Page « Calendrier » : events, planned posts and campaigns together (month or week); an analyst
enters an event; export to .ics. Read models: :mod:`analysis.events.views`."""

from __future__ import annotations

from datetime import date, time, timedelta

import pandas as pd
import streamlit as st

import analysis.events.views
import analysis.topics
from analysis.events import views
from analysis.events.model import AUDIENCES, Event, save_events, to_ics
from analysis.exports import escape_markdown as esc
from analysis.fmt import fr_count, fr_date, fr_int, fr_period_end_excluded
from streamlit_app import data, ui

ANALYST = ("analyste", "admin")

st.title("Calendrier")
st.caption("Événements du territoire (agendas importés ou saisis ici), publications planifiées et campagnes, "
           "sur un même calendrier. Les agendas OpenAgenda, DATAtourisme, CSV open data et iCalendar (.ics) "
           "s'importent sur la page Données ; leurs dates sont affichées en heure de Paris.")

data.require_store()
f = ui.filters()
role = ui.role()
names = data.territory_names()

c1, c2 = st.columns([1, 2])
with c1:
    mode = st.radio("Vue", ["mois", "semaine"], horizontal=True, format_func=str.capitalize)
with c2:
    default = (f.end - timedelta(days=1)) if f.end else date.today()
    anchor = st.date_input("Afficher la période qui contient le", value=default, format="DD/MM/YYYY")
start, end = views.month_bounds(anchor, mode)
items: pd.DataFrame = data.call(analysis.events.views.calendar_items, f, start=start, end=end)

label = f"{mode} {fr_period_end_excluded(start, end)}"
st.header(f"Calendrier : {label}")
counts = items["kind"].value_counts() if len(items) else pd.Series(dtype=int)
st.caption(" · ".join(f"{lab} : {fr_int(counts.get(k, 0))}" for k, lab in views.KINDS_PLURAL.items())
           + " — couleurs : bleu événement, jaune publication planifiée, vert campagne.")
if items.empty:
    ui.empty_state("Rien au calendrier sur cette période pour les territoires choisis.")
else:
    st.html(views.calendar_html(items, start, end, names))
    with st.expander("Le calendrier en tableau"):
        ui.table(pd.DataFrame({
            "Type": items["kind"].map(views.KINDS), "Territoire": items["territory_id"].map(lambda t: names.get(t, t)),
            "Titre": items["title"], "Début": [fr_date(x) for x in items["start"]],
            "Fin": [fr_date(x) for x in items["end"]], "Détail": items["detail"]}))

# ------------------------------------------------------------------------------ export
events: pd.DataFrame = data.call(analysis.events.views.events_table, f, start=start, end=end)
if len(events):
    ui.private_download(f"Exporter {fr_count(len(events), 'événement')} en .ics", lambda: to_ics(events),
                        file_name=f"evenements_{start.isoformat()}.ics", mime="text/calendar",
                        icon=":material/event:")

# ------------------------------------------------------------------------------ entry (analyste)
st.header("Ajouter un événement")
mine = [t for t in (f.territories or data.selectable_territories()) if t in data.selectable_territories()]
if role not in ANALYST:
    st.info("La saisie d'un événement est réservée au profil analyste.", icon=":material/lock:")
elif not mine:
    ui.empty_state("Choisissez un territoire dans les filtres.")
else:
    themes = data.call(analysis.topics.theme_labels)
    with st.form("event_form", clear_on_submit=True):
        title = st.text_input("Titre", max_chars=200)
        t = st.selectbox("Territoire", mine, placeholder=ui.PICK, format_func=lambda x: names.get(x, x))
        a, b = st.columns(2)
        d0 = a.date_input("Début", value=anchor, format="DD/MM/YYYY")
        h0 = a.time_input("Heure de début (vide : toute la journée)", value=None, step=900)
        d1 = b.date_input("Fin", value=anchor, format="DD/MM/YYYY")
        h1 = b.time_input("Heure de fin", value=None, step=900)
        place = st.text_input("Lieu", max_chars=200)
        theme = st.selectbox("Thème", [None, *themes], placeholder=ui.PICK,
                             format_func=lambda x: "Selon le titre" if x is None else themes[x])
        auds = st.multiselect("Publics visés", list(AUDIENCES), placeholder=ui.PICK_MANY, select_all=False,
                              format_func=AUDIENCES.get)
        tags = st.text_input("Hashtags de sa promotion (séparés par des virgules)")
        link = st.text_input("Lien de la page de l'événement")
        sent = st.form_submit_button("Enregistrer l'événement", type="primary")
    if sent:
        try:
            s = pd.Timestamp.combine(d0, h0).to_pydatetime() if h0 else d0
            e = pd.Timestamp.combine(d1, h1 or time(23, 59)).to_pydatetime() if h0 else d1
            ev = Event.entered(title, t, s, e, place=place or None, theme=theme, audiences=auds, hashtags=tags,
                               links=[link] if link else [])
        except ValueError as err:
            st.warning(esc(str(err)).capitalize())
        else:
            data.write(lambda con, _who: save_events(con, [ev]), territories=[t],
                       success=f"Événement « {esc(ev.title)} » enregistré.")
