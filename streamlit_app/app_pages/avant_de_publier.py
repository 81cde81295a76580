"""Page « Avant de publier » : check a draft (analyste) and what works per audience.
Read models: :mod:`analysis.events.views` (draft check, audiences)."""

from __future__ import annotations

from datetime import date, time

import pandas as pd
import streamlit as st

import analysis.events.views
from analysis.events.model import POST_FORMATS, save_planned, to_utc
from analysis.exports import escape_markdown as esc
from analysis.fmt import fr_int, fr_pct
from analysis.schema import platform_label
from streamlit_app import data, ui

ANALYST = ("analyste", "admin")

st.title("Avant de publier")
st.caption("Collez un brouillon : Vigie dit sous quels thèmes il sera lu, son ton, sa lisibilité, les hashtags "
           "du public et des pairs, les meilleurs créneaux et l'engagement à attendre d'après l'historique du "
           "compte, avec un intervalle à 80 % dont la fiabilité mesurée est affichée.")

data.require_store()
f = ui.filters()
role = ui.role()
names = data.territory_names()
mine = [t for t in (f.territories or data.selectable_territories()) if t in data.selectable_territories()]
if not mine:
    ui.empty_state("Choisissez un territoire dans les filtres.")
    st.stop()
territory = st.selectbox("Territoire", mine, placeholder=ui.PICK, format_func=lambda x: names.get(x, x))

# ------------------------------------------------------------------------------ draft check
st.header("Vérifier un brouillon")
if role not in ANALYST:
    st.info("La vérification d'un brouillon est réservée au profil analyste.", icon=":material/lock:")
else:
    plats = data.call(analysis.events.views.draft_platforms, territory=territory) or ["facebook"]
    with st.form("draft_form"):
        text = st.text_area("Texte du brouillon", height=140, max_chars=5000)
        a, b, c, d = st.columns(4)
        platform = a.selectbox("Plateforme", plats, placeholder=ui.PICK, format_func=platform_label)
        fmt = b.selectbox("Format", list(POST_FORMATS), placeholder=ui.PICK, format_func=POST_FORMATS.get)
        day = c.date_input("Jour", value=date.today(), format="DD/MM/YYYY")
        hour = d.time_input("Heure", value=time(18, 0), step=1800)
        go = st.form_submit_button("Vérifier", type="primary")
    if go and text.strip():
        when = pd.Timestamp.combine(day, hour)
        st.session_state["_draft"] = (territory, text, platform, fmt, when)
    if "_draft" in st.session_state and st.session_state["_draft"][0] == territory:
        t, text, platform, fmt, when = st.session_state["_draft"]
        r = data.call(analysis.events.views.draft_check, territory=t, text=text, platform=platform, post_format=fmt,
                      when_local=when)
        chk = r["check"]
        if chk.expected:
            k1, k2, k3 = st.columns(3)
            k1.metric("Engagement attendu (médiane)", fr_int(chk.expected["mid"]))
            k2.metric("Intervalle à 80 %", f"{fr_int(chk.expected['low'])} à {fr_int(chk.expected['high'])}")
            k3.metric("Niveau récent du compte", fr_int(chk.expected["level"]))
        for line in r["lines"]:
            st.markdown("- " + esc(line))
        if len(chk.slots):
            ui.table(chk.slots.rename(columns={"slot": "Créneau", "factor": "× niveau du compte", "posts": "Publications",
                                               "scope": "Calculé sur"}), {"× niveau du compte": "num",
                                                                          "Publications": "int"})
        if st.button("Enregistrer comme publication planifiée", icon=":material/event_available:"):
            ex = chk.expected or {}
            data.write(lambda con, _who: save_planned(con, {"territory_id": t, "platform": platform, "post_format": fmt,
                                   "planned_at": to_utc(when.to_pydatetime()), "text": text, "status": "planifie",
                                   "expected_low": ex.get("low"), "expected_mid": ex.get("mid"),
                                   "expected_high": ex.get("high"), "model_version": "engagement-ridge-conformal-1"}),
                       territories=[t], success="Publication planifiée : elle apparaît sur la page Calendrier.")

# ------------------------------------------------------------------------------ audiences
st.header("Ce qui marche, par public")
w = data.call(analysis.events.views.audience_works, territory=territory)
for s in w.get("sentences", []):
    st.markdown("- " + esc(s))
sh = w["shares"]
if len(sh):
    ui.table(pd.DataFrame({"Plateforme": sh["platform"], "Abonnés": [fr_int(x) for x in sh["followers"]],
                           "Part 18–24 ans": [fr_pct(x, 0) for x in sh["jeunes"]],
                           "Part 40 ans et plus": [fr_pct(x, 0) for x in sh["40_plus"]]}))
st.caption("Les exports donnent l'âge des abonnés par plateforme (Facebook, Instagram, TikTok), jamais l'âge de "
           "ceux qui ont réagi à une publication : « ce qui marche » pour un public est lu à travers les "
           "plateformes où il se trouve (performance = engagement ÷ niveau habituel du compte, médiane pondérée, "
           "IC 90 % par rééchantillonnage). « 40 ans et plus » compte la moitié de la tranche 35–44 ans. "
           "Seuil : 8 publications par ligne.")
