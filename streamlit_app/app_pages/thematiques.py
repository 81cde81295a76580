"""Page « Thématiques » : what the conversation is about, what is rising, what our posts talk about.

Layout only: every figure comes from :mod:`analysis.topics` through the cached data module, French frames
and charts from :mod:`analysis.views.thematiques`; messages are shown without any author column.
"""

from __future__ import annotations

import streamlit as st

import analysis.topics
from analysis.eval.figures import reliability_note
from analysis.exports import escape_markdown as esc
from analysis.fmt import fr_pct
from analysis.views import thematiques as V
from streamlit_app import data, ui

st.title("Thématiques")
st.caption("De quoi parle la conversation publique, ce qui monte soudainement, et ce dont parlent nos "
           "publications. Un message peut relever de plusieurs thèmes. " + reliability_note("themes"))

data.require_store()
f = ui.filters()
role = ui.role()
names = data.territory_names()
tax_labels = data.call(analysis.topics.theme_labels)

if not data.call(analysis.topics.themes_computed):  # not themes_status: it counts every classified item
    ui.empty_state("Les thèmes n'ont pas encore été calculés pour cette base : lancez "
                   "`vigie topics enrich` (ou `vigie enrich`), puis rechargez la page.")
    st.stop()

# ------------------------------------------------------------------------------ shares over time
st.header("De quoi parle la conversation ?")
total = data.call(analysis.topics.theme_shares, f, freq=None, by=())
monthly = data.call(analysis.topics.theme_shares, f, freq="month", by=())
if total.empty:
    ui.empty_state("Aucun message classé pour ces filtres.")
else:
    top, v = V.shares_view(total, monthly)
    c1, c2, c3 = st.columns(3)
    with c1:
        ui.kpi("Messages publics", int(total["n_total"].iloc[0]))
    with c2:
        ui.kpi("Avec au moins un thème", fr_pct(data.call(analysis.topics.themed_share, f)), help="Part des messages "
               "publics auxquels le classifieur (ou un analyste) attribue au moins un thème de la taxonomie.")
    with c3:
        ui.kpi("Premier thème", esc(top["label"]), help=f"{fr_pct(top['share'])} des messages publics.")
    ui.chart(v.chart, v.table, v.alt_text, v.formats)
    pv = V.by_territory_table(data.call(analysis.topics.theme_shares, f, freq=None, by=("territory_id",)), names)
    if pv is not None:
        st.markdown("**Part des messages par thème et par territoire**")
        ui.table(pv, {c: "pct" for c in pv.columns if c != "Thème"})

# ------------------------------------------------------------------------------ ours vs conversation
st.header("Nos publications face à la conversation")
pvc = data.call(analysis.topics.posts_vs_conversation, f)
if pvc["posts"].sum() == 0 and pvc["messages"].sum() == 0:
    ui.empty_state("Ni publication officielle ni message classé pour ces filtres.")
else:
    v = V.posts_vs_conversation_view(pvc)
    ui.chart(v.chart, v.table, v.alt_text, v.formats, table_label="Détail par thème (situation, engagement)")
    st.caption(V.SITUATION_NOTE)

# ------------------------------------------------------------------------------ emerging
st.header("Sujets émergents")
st.caption(reliability_note("emerging"))
# Emergence is read per territory (its own baseline): the first filtered one, else our own.
ef = f.with_territories(f.territories[:1] or list(names)[:1])
st.markdown(f"Territoire : **{esc(names.get(ef.territories[0], ef.territories[0]))}**" if ef.territories else "")
subjects = data.call(analysis.topics.emerging_view, ef)
if not subjects:
    ui.empty_state(V.no_emerging(f.start, f.end))
else:
    st.markdown(V.emerging_headline(subjects[0], esc))
    ui.table(V.emerging_table(subjects), V.EMERGING_FORMATS)
    for s in subjects:
        label, msgs = V.emerging_messages(s, role, esc)
        with st.expander(label):
            if msgs is not None:
                ui.table(msgs)

# ------------------------------------------------------------------------------ sentiment per theme
st.header("Ce dont les gens se plaignent")
sent = data.call(analysis.topics.sentiment_by_theme, f)
if sent.empty:
    ui.empty_state("Le sentiment n'a pas encore été calculé pour ces messages (`vigie enrich`).")
else:
    v = V.complaints_view(sent)
    ui.chart(v.chart, v.table, v.alt_text, v.formats)

# ------------------------------------------------------------------------------ word cloud
st.header("Nuage de mots")
c1, c2 = st.columns(2)
with c1:
    theme = st.selectbox("Thème", [""] + list(tax_labels), placeholder=ui.PICK, key="thematiques_theme",
                         format_func=lambda t: tax_labels.get(t, "Tous les thèmes"))
with c2:
    tone = st.selectbox("Ton", list(V.TONES), placeholder=ui.PICK,
                        format_func=V.TONES.get, key="thematiques_tone")
cloud = data.call(analysis.topics.word_cloud_view, f, theme=theme or None, tone=tone or None)
if cloud["png"] is None:
    ui.empty_state("Pas assez de messages pour un nuage de mots avec cette sélection.")
else:
    alt_text, caption, table = V.cloud_texts(cloud, esc)
    st.image(cloud["png"], caption=esc(cloud["title"]), alt=alt_text)
    st.caption(caption)
    with st.expander("Données du nuage"):
        ui.table(table)
