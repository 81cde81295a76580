"""Page « Benchmark » : our territory and its peers side by side, normalised, ranked with uncertainty."""

from __future__ import annotations

import pandas as pd
import streamlit as st

import analysis.campaigns
from analysis import campaigns as camp
from analysis import metrics
from analysis.charts import campaigns as cc
from analysis.exports import escape_markdown as esc
from analysis.fmt import fr_int, fr_pct
from analysis.metrics import points
from streamlit_app import data, ui

RANK_LABELS = {
    "engagement_per_post": "Engagement par publication",
    "engagement_per_1000_followers": "Engagement pour 1 000 abonnés",
    "engagement_per_1000_inhabitants": "Engagement pour 1 000 habitants",
    "posts_per_week": "Publications par semaine",
}

st.title("Benchmark")
st.caption("Notre territoire et ses pairs côte à côte, sur la même période, ramenés à la publication, "
           "à 1 000 abonnés et à 1 000 habitants ; le classement dit aussi ce qu'il a d'incertain.")

data.require_store()
f = ui.filters()
ui.role()
terr = data.territories()
names = data.territory_names()
own_rows = terr[terr["kind"] == "own"]
own_id = own_rows["territory_id"].iloc[0] if len(own_rows) else None

# A benchmark of one territory says nothing (« 1er sur 1 », 100 % of the voice): a single selected
# territory comes with its peers, as on the Synthèse page; two or more are compared as chosen.
ids = list(f.territories) if len(f.territories) > 1 else ui.with_peers(list(f.territories), terr)
same_group = st.toggle("Seulement les territoires de la même taille que le nôtre", value=False,
                       help="Groupes de pairs par taille (population), tels que déclarés dans le registre.")
if same_group and own_id is not None:
    group = own_rows["peer_group"].iloc[0]
    ids = [t for t in ids if terr.set_index("territory_id").loc[t, "peer_group"] == group]
if not ids or f.start is None or f.end is None:
    ui.empty_state("Choisissez au moins un territoire et une période.")
    st.stop()

b: pd.DataFrame = data.call(analysis.campaigns.benchmark, start=f.start, end=f.end, territories=list(ids),
                            platforms=tuple(f.platforms))
no_posts = b.empty or b["posts"].fillna(0).sum() == 0
if b.empty or (no_posts and b["messages"].fillna(0).sum() == 0):
    ui.empty_state("Aucune publication ni aucun message des territoires sélectionnés sur cette période.")
    st.stop()
if no_posts:  # the local press: articles naming each territory, no publication of ours
    st.info("Aucune publication des comptes officiels sur ces plateformes (la presse locale n'en a pas) : seuls "
            "la part de voix et le sentiment des messages sont comparés.", icon=":material/info:")

# ------------------------------------------------------------------------------ headline
if own_id in set(b["territory_id"]):
    o = b.set_index("territory_id").loc[own_id]
    c1, c2, c3, c4 = st.columns(4)
    with c1:
        ui.kpi("Engagement par publication", o["engagement_per_post"], help=metrics.formula_text("engagement_per_post"))
    with c2:
        ui.kpi("Engagement / 1 000 habitants", o["engagement_per_1000_inhabitants"],
               help=metrics.formula_text("per_1000_inhabitants"))
    with c3:
        ui.kpi("Part de voix (mentions)", fr_pct(o["sov_mentions"]), help=metrics.formula_text("sov_mentions"))
    with c4:
        ui.kpi("Taux de réponse", fr_pct(o["response_rate"], 0), help=metrics.formula_text("response_rate"))

# ------------------------------------------------------------------------------ side by side
st.header("Côte à côte")
side = pd.DataFrame({
    "Territoire": b["name"], "Groupe de taille": b["peer_group"], "Population": b["population"],
    "Abonnés": b["followers"], "Publications": b["posts"], "Publications / semaine": b["posts_per_week"],
    "Engagement": b["engagement"], "Engagement / publication": b["engagement_per_post"],
    "Engagement / 1 000 abonnés": b["engagement_per_1000_followers"],
    "Engagement / 1 000 habitants": b["engagement_per_1000_inhabitants"],
    "Taux d'engagement (portée)": b["er_reach"], "Part de voix (mentions)": b["sov_mentions"],
    "Part de voix (engagement)": b["sov_engagement"],
    "Sentiment net": b["net_sentiment"].map(points),
})
ui.table(side, {"Population": "int", "Abonnés": "int", "Publications": "int", "Engagement": "int",
                "Publications / semaine": "num", "Engagement / publication": "num",
                "Engagement / 1 000 abonnés": "num", "Engagement / 1 000 habitants": "num",
                "Taux d'engagement (portée)": "pct", "Part de voix (mentions)": "pct",
                "Part de voix (engagement)": "pct", "Sentiment net": "num"}, download_as="benchmark.csv")
st.caption("« — » : donnée absente des exports (jamais comptée comme zéro). Abonnés : dernier total connu "
           "avant la fin de la période, tous comptes officiels confondus.")
sov = b[["name", "sov_mentions", "sov_engagement"]].melt("name", var_name="Base", value_name="Part")
sov["Base"] = sov["Base"].map({"sov_mentions": "Mentions", "sov_engagement": "Engagement"})
sov = sov.dropna()
if not sov.empty:
    ui.chart(cc.share_of_voice_chart(sov), sov.rename(columns={"name": "Territoire"}),
             "Part de voix de chaque territoire parmi ceux comparés, sur les mentions et sur l'engagement.",
             {"Part": "pct"})

# ------------------------------------------------------------------------------ ranking
if no_posts:  # ranks and responsiveness are about the official accounts' publications and replies
    st.stop()
st.header("Classement avec incertitude")
metric = st.selectbox("Classer selon", list(RANK_LABELS), placeholder=ui.PICK, format_func=RANK_LABELS.get)
r: pd.DataFrame = data.call(analysis.campaigns.rank_intervals, start=f.start, end=f.end, metric=metric,
                            territories=list(ids), n_boot=1000, seed=0)
r["name"] = r["territory_id"].map(lambda t: names.get(t, t))
ui.chart(cc.rank_chart(r, own_id, RANK_LABELS[metric], title=RANK_LABELS[metric]),
         pd.DataFrame({"Rang": r["rank"], "Rang (IC 95 %)": [f"{a} à {b}" if a != b else str(a)
                                                            for a, b in zip(r["rank_low"], r["rank_high"], strict=True)],
                       "Territoire": r["name"], "Valeur": r["value"], "Borne basse": r["low"],
                       "Borne haute": r["high"], "Probabilité d'être 1er": r["p_first"]}),
         "Valeur de chaque territoire et son intervalle de confiance à 95 % (jours rééchantillonnés par "
         "semaines) ; deux territoires dont les intervalles de rang se chevauchent ne sont pas départagés.",
         {"Rang": "int", "Valeur": "num", "Borne basse": "num", "Borne haute": "num", "Probabilité d'être 1er": "pct"})
if own_id in set(r["territory_id"]):
    st.markdown("**" + esc(camp.ranking_sentence(r, own_id, names, RANK_LABELS[metric].lower())) + "**")

# ------------------------------------------------------------------------------ responsiveness
st.header("Réactivité visible")
resp = b[["name", "questions", "answered", "response_rate", "median_response_hours"]].rename(columns={
    "name": "Territoire", "questions": "Messages à traiter reçus", "answered": "Avec réponse officielle",
    "response_rate": "Taux de réponse", "median_response_hours": "Délai médian de première réponse (h)"})
ui.table(resp, {"Messages à traiter reçus": "int", "Avec réponse officielle": "int", "Taux de réponse": "pct",
                "Délai médian de première réponse (h)": "num"})
st.caption("Messages à traiter : questions et messages négatifs des internautes (même définition que la page "
           "Modération et le rapport). Réponse : premier message officiel en réponse. "
           "« — » quand les exports d'un territoire ne contiennent pas ses réponses.")

# ------------------------------------------------------------------------------ peer groups
with st.expander("Groupes de pairs par taille"):
    groups = terr[["peer_group", "name", "population", "kind"]].rename(columns={
        "peer_group": "Groupe", "name": "Territoire", "population": "Population", "kind": "Rôle"})
    groups["Rôle"] = groups["Rôle"].map({"own": "notre territoire", "peer": "pair"})
    ui.table(groups.sort_values(["Groupe", "Population"]), {"Population": "int"})
with st.expander("Formules (spécification des métriques v" + metrics.METRICS_VERSION + ")"):
    for k in ("engagement", "engagement_per_post", "per_1000_followers", "per_1000_inhabitants", "er_reach",
              "sov_mentions", "sov_engagement", "posting_frequency", "response_rate", "net_sentiment"):
        st.markdown(f"- {metrics.formula_text(k)}")
    st.caption(f"{fr_int(len(b))} territoires comparés.")
