"""Page « Thématiques » : what the conversation is about, what is rising, what our posts talk about.

Every figure comes from :mod:`analysis.topics` through the cached data module; messages are
shown without any author column.
"""

from __future__ import annotations

import altair as alt
import pandas as pd
import streamlit as st

import analysis.topics
from analysis import charts
from analysis.eval.figures import reliability_note
from analysis.exports import escape_markdown as esc
from analysis.fmt import fr_date, fr_int, fr_num, fr_pct, fr_plural
from analysis.privacy import ANALYST_ROLES, ELU_MESSAGES_PER_BLOCK, messages_for_role
from streamlit_app import data, ui

TONES = {"": "Tous les tons", "negative": "Négatif", "neutral": "Neutre", "positive": "Positif"}

st.title("Thématiques")
st.caption("De quoi parle la conversation publique, ce qui monte soudainement, et ce dont parlent nos "
           "publications. Un message peut relever de plusieurs thèmes. " + reliability_note("themes"))

data.require_store()
f = ui.filters()
role = ui.role()
names = data.territory_names()
tax_labels = data.call(analysis.topics.theme_labels)

status = data.call(analysis.topics.themes_status)
if status["classified"] == 0:
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
    total = total.sort_values("share", ascending=False)
    top = total.iloc[0]
    n_msgs = int(total["n_total"].iloc[0])
    c1, c2, c3 = st.columns(3)
    with c1:
        ui.kpi("Messages publics", n_msgs)
    with c2:
        ui.kpi("Avec au moins un thème", fr_pct(data.call(analysis.topics.themed_share, f)), help="Part des messages publics auxquels le "
               "classifieur (ou un analyste) attribue au moins un thème de la taxonomie.")
    with c3:
        ui.kpi("Premier thème", esc(top["label"]), help=f"{fr_pct(top['share'])} des messages publics.")
    top_ids = total.head(6)["theme"].tolist()
    m = monthly[monthly["theme"].isin(top_ids)].rename(columns={"label": "Thème", "period": "Mois",
                                                                 "share": "Part des messages"})
    title = f"« {top['label']} » porte la conversation : {fr_pct(top['share'])} des messages"
    ch = charts.line_with_band(m, "Mois", "Part des messages", color="Thème", title=title,
                               subtitle="Part mensuelle des messages publics par thème (6 premiers thèmes)",
                               y_title="Part des messages", y_format=".0%", x_format=charts.MONTH_FORMAT)
    alt_text = ("Part des messages par thème sur la période : " + " ; ".join(
        f"{r.label} {fr_pct(r.share)}" for r in total.head(6).itertuples()) + ".")
    ui.chart(ch, m[["Mois", "Thème", "n_items", "n_total", "Part des messages"]].rename(
        columns={"n_items": "Messages du thème", "n_total": "Messages du mois"}), alt_text,
        {"Mois": "month", "Part des messages": "pct"})

    by_terr = data.call(analysis.topics.theme_shares, f, freq=None, by=("territory_id",))
    if by_terr["territory_id"].nunique() > 1:
        pv = by_terr.assign(Territoire=by_terr["territory_id"].map(lambda t: names.get(t, t))).pivot_table(
            index="label", columns="Territoire", values="share", aggfunc="sum").reset_index()
        pv = pv.rename(columns={"label": "Thème"}).sort_values(pv.columns[1], ascending=False)
        st.markdown("**Part des messages par thème et par territoire**")
        ui.table(pv, {c: "pct" for c in pv.columns if c != "Thème"})

# ------------------------------------------------------------------------------ ours vs conversation
st.header("Nos publications face à la conversation")
pvc = data.call(analysis.topics.posts_vs_conversation, f)
if pvc["posts"].sum() == 0 and pvc["messages"].sum() == 0:
    ui.empty_state("Ni publication officielle ni message classé pour ces filtres.")
else:
    gap = (pvc["message_share"] - pvc["post_share"]).fillna(0)
    silent = pvc.loc[gap.idxmax()]
    loud = pvc.loc[gap.idxmin()]
    if gap.max() >= 0.03:  # three points: below that the two profiles are alike
        title = (f"Le public parle de « {silent['label']} » ({fr_pct(silent['message_share'])} des messages), "
                 f"nous moins ({fr_pct(silent['post_share'])} de nos publications)")
    elif -gap.min() >= 0.03:
        title = (f"Nos publications insistent sur « {loud['label']} » ({fr_pct(loud['post_share'])}) "
                 f"plus que le public ({fr_pct(loud['message_share'])} des messages)")
    else:
        title = "Nos publications suivent les sujets de la conversation (écarts de moins de 3 points)"
    long = pd.concat([
        pd.DataFrame({"Thème": pvc["label"], "Source": "Nos publications", "Part": pvc["post_share"]}),
        pd.DataFrame({"Thème": pvc["label"], "Source": "Conversation publique", "Part": pvc["message_share"]}),
    ])
    order = pvc.sort_values("message_share", ascending=False)["label"].tolist()
    ch = alt.Chart(long).mark_bar().encode(
        x=alt.X("Part:Q", title="Part", axis=alt.Axis(format=".0%")),
        y=alt.Y("Thème:N", sort=order, title="", axis=alt.Axis(labelLimit=260)),
        yOffset=alt.YOffset("Source:N"),
        color=alt.Color("Source:N", title="", scale=alt.Scale(domain=["Nos publications", "Conversation publique"],
                                                              range=[charts.PALETTE[0], charts.PALETTE[1]])),
        tooltip=["Thème:N", "Source:N", alt.Tooltip("Part:Q", format=".1%")],
    ).properties(title=alt.Title(title, subtitle="Part de nos publications et des messages publics par thème"),
                 width="container")
    alt_text = (f"Écart le plus fort côté public : {silent['label']} ({fr_pct(silent['message_share'])} des "
                f"messages contre {fr_pct(silent['post_share'])} de nos publications). Côté publications : "
                f"{loud['label']} ({fr_pct(loud['post_share'])} de nos publications contre "
                f"{fr_pct(loud['message_share'])} des messages).")
    show = pd.DataFrame({
        "Thème": pvc["label"], "Nos publications": pvc["posts"], "Part de nos publications": pvc["post_share"],
        "Messages publics": pvc["messages"], "Part des messages": pvc["message_share"],
        "Engagement moyen par publication": pvc["engagement_per_post"], "Situation": pvc["situation"]})
    ui.chart(ch, show, alt_text, {"Part de nos publications": "pct", "Part des messages": "pct",
                                  "Engagement moyen par publication": "num"},
             table_label="Détail par thème (situation, engagement)")
    st.caption("Situation : « Nous en parlons, peu d'écho » = thème plus présent dans nos publications que "
               "dans la conversation et engagement par publication sous la médiane des thèmes ; « Le public "
               "en parle, nous peu » = thème au moins 1,5 fois plus présent dans la conversation.")

# ------------------------------------------------------------------------------ emerging
st.header("Sujets émergents")
# Emergence is read per territory (its own baseline): the first filtered one, else our own.
ef = f.with_territories(f.territories[:1] or list(names)[:1])
st.markdown(f"Territoire : **{esc(names.get(ef.territories[0], ef.territories[0]))}**" if ef.territories else "")
subjects = data.call(analysis.topics.emerging_view, ef)
if not subjects:
    ui.empty_state(f"Aucun sujet ne sort de son niveau habituel {fr_date(f.start)} – {fr_date(f.end)} "
                   "(au moins 5 messages par jour et un écart z ≥ 4 à la normale des 28 jours précédents).")
else:
    s0 = subjects[0]
    st.markdown(f"**« {esc(s0['label'])} » a brusquement monté du {fr_date(s0['start'])} au {fr_date(s0['end'])}** "
                f"({fr_int(s0['count'])} messages, pic le {fr_date(s0['peak'])}, contre "
                f"{fr_num(s0['baseline'])} {fr_plural(s0['baseline'], 'message')} par jour d'habitude).")
    ui.table(pd.DataFrame({
        "Sujet": [s["label"] for s in subjects], "Hashtags": [", ".join(s["hashtags"]) for s in subjects],
        "Du": [fr_date(s["start"]) for s in subjects], "Au": [fr_date(s["end"]) for s in subjects],
        "Pic": [fr_date(s["peak"]) for s in subjects], "Messages": [s["count"] for s in subjects],
        "Niveau habituel (msg/jour)": [s["baseline"] for s in subjects],
        "Écart à la normale (z)": [s["max_z"] for s in subjects]}),
        {"Niveau habituel (msg/jour)": "num", "Écart à la normale (z)": "num"})
    analyst = role in ANALYST_ROLES
    for s in subjects:
        what = "Messages" if analyst else f"Exemples de messages (au plus {ELU_MESSAGES_PER_BLOCK})"
        with st.expander(f"{what} : {esc(s['label'])} ({fr_date(s['start'])} – {fr_date(s['end'])})"):
            msgs = messages_for_role(pd.DataFrame(s["messages"]), role)  # an élu reads a few, not a list
            if len(msgs):
                ui.table(pd.DataFrame({"Date": msgs["created_at"].map(fr_date),
                                       "Plateforme": msgs["platform"].map(lambda p: ui.PLATFORM_LABELS.get(p, p)),
                                       "Message": msgs["text"]}))

# ------------------------------------------------------------------------------ sentiment per theme
st.header("Ce dont les gens se plaignent")
sent = data.call(analysis.topics.sentiment_by_theme, f)
if sent.empty:
    ui.empty_state("Le sentiment n'a pas encore été calculé pour ces messages (`vigie enrich`).")
else:
    worst = sent.iloc[0]
    title = f"« {worst['label']} » concentre la colère : {fr_pct(worst['negative_share'])} de messages négatifs"
    chart_df = sent.rename(columns={"label": "Thème", "negative_share": "Part de messages négatifs",
                                    "n": "Messages", "net_sentiment": "Sentiment net"})
    ch = charts.bar(chart_df, "Part de messages négatifs", "Thème", title=title,
                    subtitle="Part des messages négatifs par thème (messages publics avec sentiment)",
                    x_title="Part de messages négatifs", value_format=".0%")
    alt_text = "Part de messages négatifs par thème : " + " ; ".join(
        f"{r.label} {fr_pct(r.negative_share)}" for r in sent.itertuples()) + "."
    ui.chart(ch, chart_df[["Thème", "Messages", "Part de messages négatifs", "Sentiment net"]], alt_text,
             {"Part de messages négatifs": "pct", "Sentiment net": "num"})

# ------------------------------------------------------------------------------ word cloud
st.header("Nuage de mots")
c1, c2 = st.columns(2)
with c1:
    theme = st.selectbox("Thème", [""] + list(tax_labels), placeholder=ui.PICK, key="thematiques_theme",
                         format_func=lambda t: tax_labels.get(t, "Tous les thèmes"))
with c2:
    tone = st.selectbox("Ton", list(TONES), placeholder=ui.PICK,
                        format_func=TONES.get, key="thematiques_tone")
cloud = data.call(analysis.topics.word_cloud_view, f, theme=theme or None, tone=tone or None)
if cloud["png"] is None:
    ui.empty_state("Pas assez de messages pour un nuage de mots avec cette sélection.")
else:
    words = list(cloud["frequencies"].items())
    st.image(cloud["png"], caption=esc(cloud["title"]),
             alt=f"Nuage de mots, {cloud['title']} : " + ", ".join(w for w, _ in words[:15]) + ".")
    st.caption("Mots les plus fréquents : " + ", ".join(f"{esc(w)} ({fr_int(n)})" for w, n in words[:15]) + "."
               + (f" Comptés sur un échantillon de {fr_int(cloud['n_messages'])} messages répartis sur la "
                  "période." if cloud.get("sampled") else ""))
    with st.expander("Données du nuage"):
        ui.table(pd.DataFrame(words[:50], columns=["Mot", "Messages"]))
