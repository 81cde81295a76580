"""Page « E-réputation » : how people feel about the territory, what went wrong, vs before and vs peers.
Layout only: figures from :mod:`analysis.ereputation`, French frames and charts from
:mod:`analysis.views.e_reputation`."""

from __future__ import annotations

import streamlit as st

import analysis.ereputation
from analysis.ereputation import auto_freq
from analysis.eval.figures import reliability_note
from analysis.exports import escape_markdown as esc
from analysis.fmt import fr_period_end_excluded
from analysis.sentiment.corrections import correct
from analysis.views import e_reputation as V
from streamlit_app import data, ui

st.title("E-réputation")
st.caption("Ce que les gens écrivent au territoire et sur lui, et sur quel ton. **Sentiment net** = "
           "(positifs − négatifs) ÷ (positifs + négatifs), de −100 à +100 points ; la variante « avec "
           "neutres » divise par tous les messages évalués. Les messages hors français ne sont pas évalués "
           "et sont comptés à part ; les corrections des analystes remplacent l'étiquette du modèle. "
           "Les fourchettes sont des intervalles de confiance à 95 %. " + reliability_note("sentiment"))

data.require_store()
f = ui.filters()
role = ui.role()
names = data.territory_names()
focus = data.call(analysis.ereputation.focus, f)
if not focus:
    ui.empty_state("Aucun territoire à analyser : choisissez-en un dans les filtres.")
    st.stop()
focus_name = ", ".join(names.get(t, t) for t in focus)
period_text = fr_period_end_excluded(f.start, f.end) if f.start and f.end else ""

k = data.call(analysis.ereputation.focus_kpis, f)
if not k["messages"]:
    ui.empty_state(f"Aucun message reçu pour {esc(focus_name)} {period_text} : élargissez la période ou les plateformes.")
    st.stop()
prev = data.call(analysis.ereputation.focus_change, f).set_index("metric")
peers = data.call(analysis.ereputation.vs_peers, f)
peers = peers.set_index("metric") if len(peers) else None

# ------------------------------------------------------------------------------ KPIs
st.header(f"{esc(focus_name)} {period_text}")
for col, card in zip(st.columns(4), V.kpi_cards(k, prev, peers), strict=True):
    with col:
        ui.kpi(**card)
if peers is not None:
    cols = st.columns(4)
    with cols[0]:
        st.markdown("**Écart aux pairs** (nous − pairs)  \nmême période, mêmes plateformes")
    for col, card in zip(cols[1:], V.peer_gap_cards(peers), strict=True):
        with col:
            ui.kpi(**card)
st.caption(V.counts_caption(k))

# ------------------------------------------------------------------------------ trend
st.header("Tendance")
freq = st.radio("Granularité", list(V.FREQ_LABELS), index=list(V.FREQ_LABELS).index(auto_freq(f)),
                format_func=V.FREQ_LABELS.get, horizontal=True, key="ereputation_freq")
tr = data.call(analysis.ereputation.trend, f, freq=freq)
spikes = data.call(analysis.ereputation.explained_spikes, f)
trend = V.trend_view(tr, spikes, k, prev, freq, focus_name, period_text)
if trend is None:
    ui.empty_state("Aucun message évalué sur la période : lancez `vigie enrich` ou élargissez les filtres.")
else:
    ui.chart(trend.chart, trend.table, trend.alt_text, trend.formats)

# ------------------------------------------------------------------------------ spikes
st.header("Pics de messages négatifs")
st.caption(V.SPIKE_CAPTION + " " + reliability_note("spikes"))
weekly = V.spike_view(data.call(analysis.ereputation.focus_negative_series, f), spikes, focus_name, period_text)
if weekly is None:
    st.info(V.NO_HISTORY, icon=":material/history:")
else:
    ui.chart(weekly.chart, weekly.table, weekly.alt_text, weekly.formats)
for s in spikes:
    with st.expander(V.spike_heading(s), expanded=len(spikes) == 1):
        for line in V.spike_explanations(s, esc):
            st.markdown(line)
        for label, table in V.spike_message_tables(s, role):
            st.markdown(f"**{label}**")
            ui.table(table)  # an élu reads a few texts, no id

# ------------------------------------------------------------------------------ representative
st.header("Messages représentatifs")
st.caption("Messages dont le ton est net (probabilité du modèle ≥ 60 % ou correction d'un analyste) et qui "
           "ont été le plus repris ; les doublons ne sont montrés qu'une fois. Aucune identité d'auteur.")
ff = f.with_territories(focus)
for col, label, heading in zip(st.columns(2), ("positive", "negative"), ("Positifs", "Négatifs"), strict=True):
    with col:
        st.markdown(f"**{heading}**")
        lines = V.representative_lines(data.call(analysis.ereputation.representative_messages, ff, label=label, n=5),
                                       role, esc)
        if not lines:
            st.caption("Aucun message net sur la période.")
        for line in lines:  # citizen text and ids escaped: this markdown allows HTML (<small>)
            st.markdown(line, unsafe_allow_html=True)

# ------------------------------------------------------------------------------ peers and platforms
st.header("Comparaison aux pairs et par plateforme")
pc = data.call(analysis.ereputation.peer_comparison, f)
if pc.empty or (pc["role"] != "focus").sum() == 0:
    st.caption("Aucun territoire pair n'est défini pour la sélection.")
else:
    ui.table(V.peer_table(pc), {"Part négative": "pct"})
    st.caption(V.PEER_TABLE_NOTE)
bp = data.call(analysis.ereputation.by_platform, f)
if len(bp):
    ui.table(V.platform_table(bp), {"Part négative": "pct"})

# ------------------------------------------------------------------------------ corrections
if role in V.ANALYST:
    st.header("Corriger une étiquette")
    st.caption("Votre correction remplace l'étiquette du modèle partout (application, carnets, rapports), "
               "est journalisée à votre nom et sert à évaluer puis réentraîner le modèle. Les messages proposés "
               "sont ceux dont le modèle est le moins sûr.")
    review = data.call(analysis.ereputation.messages_for_review, ff, n=30)
    with st.form("ereputation_correction"):
        by_id = review.set_index("message_id") if len(review) else None
        picked = st.selectbox("Message (le modèle hésite)", review["message_id"].tolist(), index=None,
                              key="ereputation_pick", placeholder="Choisir un message…",
                              format_func=lambda i: V.review_label(by_id, i))
        typed = st.text_input("… ou identifiant du message (ex. facebook:123_456)", key="ereputation_id")
        label = st.radio("Ton correct", list(V.SENTIMENT_FR), format_func=lambda v: V.SENTIMENT_FR[v].capitalize(),
                         horizontal=True, key="ereputation_label")
        if st.form_submit_button("Enregistrer la correction"):
            item = (typed or "").strip() or picked
            if not item:
                st.error("Choisissez un message (ou saisissez son identifiant).")
            else:  # a message of the user's territories only, signed by the logged-in user
                data.write(lambda con, who: correct(con, item, "message", label, author=who), messages=[item],
                           success=f"Correction enregistrée : {esc(item)} est désormais « {V.SENTIMENT_FR[label]} ». "
                                   "Les chiffres de la page en tiennent compte.")
