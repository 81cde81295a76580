"""Page « Rapports » : generate the periodic report (HTML and PDF) for the selected territory and period.

The same library call as ``vigie report`` (:func:`analysis.reports.render.generate`), so the file
downloaded here is byte-identical to the one cron produces from the same store snapshot.
"""

from __future__ import annotations

import streamlit as st

import analysis.reports.render
from analysis.exports import escape_markdown as esc
from analysis.reports import render
from analysis.reports.period import parse_period
from streamlit_app import data, ui

KINDS = {"month": "Mois", "quarter": "Trimestre", "year": "Année"}
COMPARE = {"previous": "la période précédente", "peers": "les territoires comparés (pairs)"}

st.title("Rapports")
st.caption("Le rapport périodique du conseil : une première page de constats en français clair, les indicateurs "
           "et leur évolution, une partie par analyse, les méthodes et les limites. Mêmes chiffres que "
           "l'application ; regénéré sur les mêmes données, il est identique à l'octet près.")

data.require_store()
f = ui.filters()
terr = data.territories()
names = data.territory_names()
ids = data.selectable_territories()  # a user limited to some territories: those only
if not ids:
    ui.empty_state("Aucun territoire à présenter : importez des exports d'abord.")
    st.stop()
default = f.territories[0] if f.territories else (terr.loc[terr["kind"] == "own", "territory_id"].tolist() or ids)[0]

c1, c2, c3 = st.columns(3)
with c1:
    territory = st.selectbox("Territoire", ids, placeholder=ui.PICK,
                             index=ids.index(default) if default in ids else 0,
                             format_func=lambda t: names.get(t, t))
periods = data.call(analysis.reports.render.available_periods, territory=territory)
with c2:
    kind = st.radio("Durée", list(KINDS), format_func=KINDS.get, horizontal=True)
    options = periods[kind]
with c3:
    compare = st.radio("Comparer à", list(COMPARE), format_func=COMPARE.get)
if not options:
    ui.empty_state(f"Aucune donnée pour {esc(names.get(territory, territory))} : importez des exports d'abord.")
    st.stop()
code = st.selectbox("Période", options, placeholder=ui.PICK, format_func=lambda c: parse_period(c).label)
plats = tuple(f.platforms)
st.caption("Commande équivalente (par exemple dans une tâche cron ; même fichier à l'octet près) : "
           f"`{render.command_line(territory, code, compare, 'pdf', plats)}`")

if st.button("Générer le rapport", type="primary"):
    from analysis.reports.render import ReportError

    try:
        with st.spinner("Calcul des indicateurs et mise en page…"):
            files = data.call(analysis.reports.render.generate_files, territory=territory, period=code,
                              compare=compare, platforms=plats)
    except ReportError as e:
        st.error(esc(e), icon=":material/error:")
        st.stop()
    st.session_state["rapport"] = (territory, code, compare, plats, files)

if st.session_state.get("rapport"):
    t, c, cmp_, p, files = st.session_state["rapport"]
    st.success(f"Rapport prêt : {esc(names.get(t, t))}, {parse_period(c).label}, comparé à {COMPARE[cmp_]} "
               f"(instantané de la base {files['snapshot']}).", icon=":material/check_circle:")
    # Served to this logged-in session only, made on click: never a /media/ link that opens without a
    # session (ui.private_download).
    d1, d2 = st.columns(2)
    with d1:
        # the PDF is made on the click (WeasyPrint): the findings below show as soon as the figures are ready
        ui.private_download("Télécharger le PDF", lambda: data.report_pdf(files["html"], files["pdf_id"]),
                            render.file_name(t, c, "pdf", p), "application/pdf",
                            key="rapport_pdf", icon=":material/picture_as_pdf:")
    with d2:
        ui.private_download("Télécharger la page HTML", lambda: files["html"], render.file_name(t, c, "html", p), "text/html",
                            key="rapport_html", icon=":material/code:")
    st.header("L'essentiel (première page du rapport)")
    for x in files["findings"]:
        st.markdown(f"- {esc(x['reading'])}")
