"""Page « Synthèse » (home): the territory in five minutes — headline figures with their change and
certainty, alerts, peers, and links into every detailed page with the filters kept.

The headlines come from the report's generator (:func:`analysis.reports.findings.findings`, through
:mod:`analysis.views.synthese`), so the first page of the council's report and this page say the same thing.
"""

from __future__ import annotations

import threading
from concurrent.futures import ThreadPoolExecutor

import altair as alt
import pandas as pd
import streamlit as st
from streamlit.runtime.scriptrunner import add_script_run_ctx, get_script_run_ctx

from analysis import charts
from analysis.exports import escape_markdown as esc
from analysis.fmt import fr_int, fr_period_end_excluded, fr_signed
from analysis.metrics import points
from analysis.views import synthese
from streamlit_app import data, ui

# Unit appended to each headline value (units always stated).
UNITS = {"net_sentiment": "points", "messages": "messages", "engagement_per_post": "interactions",
         "followers": "abonnés"}
# One-line definitions shown on hover.
DEFINITIONS = {
    "net_sentiment": "Sentiment net = (messages positifs − négatifs) ÷ (positifs + négatifs), de −100 à +100 "
                     "points. Messages en français évalués par le modèle de Vigie (ou corrigés par un analyste).",
    "messages": "Commentaires, réponses, mentions et avis des internautes reçus sur la période (hors réponses "
                "officielles).",
    "negative_share": "Part des messages évalués dont le ton est négatif.",
    "engagement_per_post": "Interactions (réactions, commentaires, partages) par publication officielle, là où "
                           "l'export les donne.",
    "response_rate": "Part des questions et messages négatifs reçus auxquels un compte officiel a répondu.",
    "followers": "Abonnés des comptes officiels en fin de période, d'après les compteurs exportés par les "
                 "plateformes (une personne abonnée à deux comptes compte deux fois).",
}
PAGES = {  # url path → (file, French title) of the detailed pages
    "e-reputation": ("app_pages/e_reputation.py", "E-réputation"),
    "thematiques": ("app_pages/thematiques.py", "Thématiques"),
    "audience": ("app_pages/audience.py", "Audience"),
    "campagnes": ("app_pages/campagnes.py", "Campagnes"),
    "benchmark": ("app_pages/benchmark.py", "Benchmark"),
    "moderation": ("app_pages/moderation.py", "Modération & veille"),
    "rapports": ("app_pages/rapports.py", "Rapports"),
    "donnees": ("app_pages/donnees.py", "Données"),
}
DELTA_COLOUR = {"good": "blue", "bad": "orange"}  # colour-blind safe; the arrow and the words say it too
ARROW = {"up": "up", "down": "down"}
PEER_POSITION = {"above": "au-dessus des pairs", "below": "en dessous des pairs", "level": "au niveau des pairs"}
SEVERITY_ICON = {"critique": ":material/error:", "attention": ":material/warning:",
                 "information": ":material/info:"}

st.title("Synthèse")
data.require_store()
f = ui.filters()
ui.role()
names = data.territory_names()


def fetch_all(targets: list) -> list:
    """The page's read models computed side by side (DuckDB releases the GIL while it runs a query):
    a first visit costs the slowest of them rather than their sum."""
    ctx = get_script_run_ctx()

    def one(target):
        add_script_run_ctx(threading.current_thread(), ctx)  # cache and messages of this session
        return data.call(target, f)

    with ThreadPoolExecutor(max_workers=len(targets)) as pool:
        return list(pool.map(one, targets))


h, alerts, pt = fetch_all([synthese.headlines, synthese.alerts, synthese.peer_table])
focus = h["territory_id"]
if focus is None or not h["findings"]:
    ui.empty_state("Aucun territoire ni aucune période à résumer : importez des exports ou élargissez les filtres.")
    st.stop()
focus_name = names.get(focus, focus)
peer_names = [names.get(p, p) for p in h["peers"]]
st.markdown(f"**{esc(focus_name)}**, {esc(h['period_label'])}. Évolutions par rapport à {esc(h['reference_label'])}"
            + (f" ; pairs : {', '.join(esc(p) for p in peer_names)}." if peer_names else "."))
if len(f.territories) > 1:
    st.caption(f"Plusieurs territoires sont filtrés : la synthèse porte sur le premier ({esc(focus_name)}), comparé "
               "à ses pairs du registre.")


def page_link(path: str, label: str | None = None) -> None:
    file, title = PAGES[path]
    ui.page_link(file, label or f"Détail : {title}", icon=":material/arrow_forward:")


def value_text(x: dict) -> str:
    unit = UNITS.get(x["kpi"])
    return f"{x['value_fr']}\u00a0{unit}" if unit and x["value_fr"] != "—" else x["value_fr"]


# ------------------------------------------------------------------------------ headline figures
st.header("L'essentiel")
with st.expander("Comment lire ces chiffres"):
    st.markdown(
        "- **Flèche et couleur** : une évolution n'est annoncée que si son intervalle de confiance à 95 % "
        "exclut zéro (« évolution certaine ») ; sinon elle est dite stable, sans flèche. Bleu = bonne "
        "nouvelle pour le territoire, orange = mauvaise, gris = sans jugement (le volume de messages).\n"
        "- **Fourchette** : l'intervalle à 95 % de l'évolution ; les abonnés sont comptés par les "
        "plateformes, sans marge d'échantillonnage.\n"
        "- **Pairs** : les territoires comparables du registre, sur la même période et les mêmes plateformes.\n"
        "- Les mêmes phrases ouvrent le rapport mensuel du conseil (page « Rapports »).")
found = h["findings"]
for start in range(0, len(found), 3):
    cols = st.columns(3)
    for col, x in zip(cols, found[start:start + 3], strict=False):
        with col, st.container(border=True):
            delta = None if x["change_fr"] in ("—", "") else x["change_fr"]
            st.metric(x["label"], value_text(x), delta,
                      delta_color=DELTA_COLOUR.get(x["tone"], "gray"),
                      delta_arrow=ARROW.get(x["direction"], "off"),
                      help=DEFINITIONS.get(x["kpi"]))
            st.markdown(esc(x["reading"]))
            bits = [x["certainty_short"].capitalize()]
            if x["interval_fr"] not in ("—", ""):
                bits.append(f"IC 95 % {x['interval_fr']}")
            if x["peers_position"] and x["peers_value_fr"] not in ("—", ""):
                bits.append(f"pairs : {x['peers_value_fr']} ({PEER_POSITION[x['peers_position']]})")
            st.caption(esc(" · ".join(bits)), help=esc(x["certainty_fr"]))
            if x["page"]:
                page_link(x["page"])

# ------------------------------------------------------------------------------ alerts
st.header("À surveiller")
w_start, w_end = alerts.attrs.get("window", (f.start, f.end))
window = f"{fr_period_end_excluded(w_start, w_end)}"
if alerts.empty:
    st.success(f"Aucune alerte pour {esc(focus_name)} {window} (pics de messages négatifs, de volume, thème négatif "
               "émergent, vague hostile, page usurpant l'identité du territoire).", icon=":material/check_circle:")
else:
    n = len(alerts)
    st.markdown(f"**{fr_int(n)} alerte{'s' if n > 1 else ''}** {window} (les 30 derniers jours de la période), "
                "les plus récentes en premier :")
    for a in alerts.head(5).itertuples():
        st.markdown(f"{SEVERITY_ICON.get(a.severity, ':material/info:')} **{str(a.severity).capitalize()}** — "
                    f"{esc(a.title)}")  # the title states the rule, territory, days and evidence (names escaped)
    if n > 5:
        st.caption(f"… et {fr_int(n - 5)} autre{'s' if n - 5 > 1 else ''}.")
for note in alerts.attrs.get("notes", []):
    st.caption(esc(note))
page_link("moderation", "Toutes les alertes : Modération & veille")

# ------------------------------------------------------------------------------ peers
st.header("Face aux territoires comparés")
if pt.empty or len(pt) < 2:
    st.caption(f"Aucun territoire pair n'est défini pour {esc(focus_name)} dans le registre.")
else:
    net = pt["net_sentiment"].map(points)
    show = pd.DataFrame({
        "Territoire": pt["name"] + pt["is_focus"].map({True: " (nous)", False: ""}),
        "Population": pt["population"], "Messages reçus": pt["messages"],
        "Sentiment net (points)": net,
        "Engagement par publication": pt["engagement_per_post"],
        "Engagement pour 1 000 habitants": pt["engagement_per_1000_inhabitants"],
    })
    ranked = show.dropna(subset=["Sentiment net (points)"]).sort_values("Sentiment net (points)", ascending=False)
    own_label = show["Territoire"].iloc[0]
    if len(ranked) and own_label in set(ranked["Territoire"]):
        rank = list(ranked["Territoire"]).index(own_label) + 1
        title = (f"{focus_name} : {'meilleur' if rank == 1 else f'{rank}e'} sentiment net sur "
                 f"{len(ranked)} territoires comparés ({fr_signed(ranked.iloc[rank - 1]['Sentiment net (points)'], 0)} points)")
        colours = {t: (charts.OWN_COLOUR if t == own_label else "#9aa5b1") for t in ranked["Territoire"]}
        ch = charts.bar(ranked, "Sentiment net (points)", "Territoire", color="Territoire", title=title,
                        subtitle=f"Sentiment net des messages reçus, {h['period_label']} (de −100 à +100)",
                        x_title="Sentiment net (points)", colours=colours).encode(
            # one bar per territory, named on the axis: a legend would repeat it
            color=alt.Color("Territoire:N", legend=None,
                            scale=alt.Scale(domain=list(colours), range=list(colours.values()))),
            x=alt.X("Sentiment net (points):Q", title="Sentiment net (points)",
                    axis=alt.Axis(format=",.0f", tickCount=5)))
        alt_text = ("Sentiment net par territoire, " + h["period_label"] + " : " + " ; ".join(
            f"{r['Territoire']} {fr_signed(r['Sentiment net (points)'], 0)} points" for _, r in ranked.iterrows()) + ".")
        ui.chart(ch, show, alt_text, {"Population": "int", "Messages reçus": "int", "Sentiment net (points)": "num",
                                      "Engagement par publication": "num",
                                      "Engagement pour 1 000 habitants": "num"},
                 table_label="Tableau des territoires comparés")
    else:
        ui.table(show, {"Population": "int", "Messages reçus": "int", "Sentiment net (points)": "num",
                        "Engagement par publication": "num", "Engagement pour 1 000 habitants": "num"})
    st.caption("Mêmes chiffres que la page Benchmark, même période et mêmes plateformes ; « — » : donnée absente "
               "des exports (jamais comptée comme zéro). Engagement = réactions, commentaires et partages des "
               "publications officielles.")
    page_link("benchmark", "Classement avec incertitude : Benchmark")

# ------------------------------------------------------------------------------ links
st.header("Aller plus loin")
st.caption("Chaque lien garde les filtres choisis (territoires, période, plateformes).")
cols = st.columns(2)
for i, (path, (_, title)) in enumerate(PAGES.items()):
    with cols[i % 2]:
        page_link(path, title)
