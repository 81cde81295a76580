"""Page « Synthèse » (home): the territory in five minutes — headline figures with their change and
certainty, alerts, peers, and links into every detailed page with the filters kept.

The headlines come from the report's generator (:func:`analysis.reports.findings.findings`, through
:mod:`analysis.views.synthese`), so the first page of the council's report and this page say the same thing.
"""

from __future__ import annotations

import threading
from concurrent.futures import ThreadPoolExecutor

import streamlit as st
from streamlit.runtime.scriptrunner import add_script_run_ctx, get_script_run_ctx

from analysis.exports import escape_markdown as esc
from analysis.views import synthese
from streamlit_app import data, ui

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


# ------------------------------------------------------------------------------ headline figures
st.header("L'essentiel")
with st.expander("Comment lire ces chiffres"):
    st.markdown(synthese.HOW_TO_READ)
found = h["findings"]
for start in range(0, len(found), 3):
    for col, x in zip(st.columns(3), found[start:start + 3], strict=False):
        card = synthese.headline_card(x)
        with col, st.container(border=True):
            st.metric(**card["metric"])
            st.markdown(esc(card["reading"]))
            st.caption(esc(card["certainty"]), help=esc(card["certainty_help"]))
            if card["page"]:
                page_link(card["page"])

# ------------------------------------------------------------------------------ alerts
st.header("À surveiller")
head, lines, more = synthese.alert_lines(alerts, focus_name, f, esc)
if not lines:
    st.success(head, icon=":material/check_circle:")
else:
    st.markdown(head)
    for line in lines:
        st.markdown(line)
    if more:
        st.caption(more)
for note in alerts.attrs.get("notes", []):
    st.caption(esc(note))
page_link("moderation", "Toutes les alertes : Modération & veille")

# ------------------------------------------------------------------------------ peers
st.header("Face aux territoires comparés")
if pt.empty or len(pt) < 2:
    st.caption(f"Aucun territoire pair n'est défini pour {esc(focus_name)} dans le registre.")
else:
    show, view = synthese.peers_view(pt, focus_name, h["period_label"])
    if view is not None:
        ui.chart(view.chart, view.table, view.alt_text, view.formats, table_label="Tableau des territoires comparés")
    else:
        ui.table(show, synthese.PEER_FORMATS)
    st.caption(synthese.PEER_NOTE)
    page_link("benchmark", "Classement avec incertitude : Benchmark")

# ------------------------------------------------------------------------------ links
st.header("Aller plus loin")
st.caption("Chaque lien garde les filtres choisis (territoires, période, plateformes).")
cols = st.columns(2)
for i, (path, (_, title)) in enumerate(PAGES.items()):
    with cols[i % 2]:
        page_link(path, title)
