"""Page « Audience » : growth with peers, pyramid followers vs population, representativeness, places.
Layout only: figures from :mod:`analysis.audience`, French frames and charts from :mod:`analysis.views.audience`."""

from __future__ import annotations

import streamlit as st

import analysis.audience
from analysis.audience import SEGMENT_RULE_40
from analysis.exports import escape_markdown as esc
from analysis.views import audience as V
from streamlit_app import data, ui

st.title("Audience")
st.caption("Qui suit le territoire, comment l'audience évolue, et qui nous ne touchons pas par rapport à la "
           "population réelle.")
st.info(V.NOT_INFERRED, icon=":material/privacy_tip:")

data.require_store()
f = ui.filters()
terr = data.territories()
names = data.territory_names()
if terr.empty:
    ui.empty_state("Aucun territoire : importez le registre des territoires.")
    st.stop()
focus = (list(f.territories) or terr.loc[terr["kind"] == "own", "territory_id"].tolist()
         or terr["territory_id"].tolist())[0]
ids = tuple(ui.with_peers([focus], terr))
fp, fo = f.with_territories(ids), f.with_territories((focus,))
st.markdown(f"Territoire suivi : **{esc(names.get(focus, focus))}**, comparé à ses pairs "
            f"({', '.join(esc(names.get(t, t)) for t in ids[1:]) or 'aucun'}).")

# ------------------------------------------------------------------------------ growth
st.header("Croissance des abonnés")
g = data.call(analysis.audience.growth_by_territory, fp)
own = g[(g["territory_id"] == focus) & (g["platform"] == "all")] if len(g) else g
if own.empty:
    ui.empty_state("Aucun total d'abonnés exporté pour ce territoire sur la période.")
else:
    for col, card in zip(st.columns(4), V.growth_cards(own.iloc[0]), strict=True):
        with col:
            ui.kpi(**card)
    m = data.call(analysis.audience.monthly_followers, fp)
    if len(m):
        v = V.followers_view(m, terr, names, ids, focus)
        ui.chart(v.chart, v.table, v.alt_text, v.formats)
    for note in V.gains_only_notes(data.call(analysis.audience.gains_only, fo)):
        st.caption(note)
    ui.table(V.growth_table(g), formats=V.GROWTH_FORMATS)

# ------------------------------------------------------------------------------ pyramid
st.header("Âge et genre : abonnés et population")
pyr = data.call(analysis.audience.pyramid, fo)
note = V.lacking_note(data.call(analysis.audience.lacking_breakdown, fo))
if note:
    st.caption(note)
pop = data.call(analysis.audience.population_reference, territory_ids=(focus,))
rep = data.call(analysis.audience.representativeness, fo)
choice = None
if pyr.empty:
    ui.empty_state(V.NO_PYRAMID)
else:
    choice = st.radio("Réseau", V.platform_options(pyr), horizontal=True, key="audience_platform",
                      format_func=V.platform_label)
    if pop.empty:
        st.warning(V.NO_POPULATION)
    else:
        v = V.pyramid_view(pyr, pop, choice, names.get(focus, focus))
        ui.chart(v.chart, v.table, v.alt_text, v.formats)
        if choice == "all":
            st.caption("Réseaux combinés en pondérant chaque compte par son nombre d'abonnés à la date de "
                       "l'instantané ; une personne abonnée à deux comptes compte deux fois.")

# ------------------------------------------------------------------------------ representativeness
st.header("Représentativité")
st.caption(V.INDEX_CAPTION)
if rep.empty or choice is None:
    lines = V.gender_lines(rep, esc)
    for line in lines:
        st.markdown(line)
    if not lines:
        ui.empty_state("Représentativité non calculable : il faut une répartition des abonnés et une population "
                       "de référence.")
else:
    under, v = V.index_view(rep, choice)
    if under:
        st.markdown("**Segments sous-représentés**")
        for s in under:
            st.markdown(f"- {esc(s)}")
    else:
        st.success("Aucun segment nettement sous-représenté (indice < 0,8) parmi les abonnés.")
    ui.chart(v.chart, v.table, v.alt_text, v.formats)
    st.caption(SEGMENT_RULE_40)

# ------------------------------------------------------------------------------ target segments over time
hist = data.call(analysis.audience.pyramid_history, fo)
if len(hist) and choice is not None:
    st.header("Segments cibles")
    for col, card in zip(st.columns(4), V.segment_cards(pyr, pop, choice), strict=True):
        with col:
            ui.kpi(**card)
    v = V.segments_history_view(hist, choice)
    if v is not None:
        ui.chart(v.chart, v.table, v.alt_text, v.formats)

# ------------------------------------------------------------------------------ places
st.header("Lieux et rayonnement")
st.caption(V.PLACES_CAPTION)
ray = data.call(analysis.audience.rayonnement, fp)
if ray.empty:
    ui.empty_state("Aucune répartition des abonnés par ville dans les exports.")
else:
    v = V.rayonnement_view(ray, names, ids, focus)
    ui.chart(v.chart, v.table, v.alt_text, v.formats)
for col, dim, label in zip(st.columns(2), ("city", "country"), ("Villes", "Pays"), strict=True):
    with col:
        st.markdown(f"**{label}** (tous réseaux, part des abonnés)")
        df = data.call(analysis.audience.places, fo, dimension=dim)
        if df.empty:
            st.caption("Non exporté.")
        else:
            ui.table(V.places_table(df), formats={"Part": "pct"})

with st.expander("Méthode et formules"):
    for line in V.method_lines(pop, esc):
        st.markdown(line)
