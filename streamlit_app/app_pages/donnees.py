"""Page « Données » : what the store holds — coverage, gaps, import log, rejects, accounts outside the
registry, table counts. Layout only: the read model is :mod:`analysis.views.donnees`."""

from __future__ import annotations

from datetime import datetime

import streamlit as st

import analysis.ingest.attach as attach_
import analysis.views.donnees as v
from analysis.charts.donnees import coverage_chart
from analysis.exports import escape_markdown as esc
from analysis.queries import coverage
from analysis.registry import load_registry
from analysis.store import StoreBusy
from streamlit_app import data, ui

st.title(v.TITLE)
st.caption(v.INTRO)

stamp = data.require_store()
f = ui.filters()
role = ui.role()
names = data.territory_names()
host = data.sees_everything()  # a user limited to some territories: their coverage and sources only
cov = data.call(coverage, v.stored_filters(f))  # everything stored: the period does not apply here
view = v.coverage_view(cov, names)

for col, (label, value) in zip(st.columns(4), view.kpis.items(), strict=True):
    with col:
        ui.kpi(label, value, help=v.KPI_HELP[label])

st.header("Couverture")
st.caption(v.COVERAGE_CAPTION)
if view.empty:
    ui.empty_state(v.EMPTY_COVERAGE)
else:
    ui.chart(data.chart(coverage_chart, cov, view.labels, view.finding), view.pivot, view.alt,
             table_label="Tableau mensuel (publications + messages)")
    st.markdown("**Par territoire et plateforme**")
    ui.table(view.summary, download_as="couverture.csv")
    st.markdown("**Mois manquants**")
    if view.gaps.empty:
        st.success(v.NO_GAP, icon=":material/check_circle:")
    else:
        ui.table(view.gaps)

st.header("Comptes hors registre")
free = data.call(attach_.unattached) if host else None
if free is None:
    st.caption(v.HOST_ONLY)
elif free.empty:
    st.success(v.ALL_ATTACHED, icon=":material/check_circle:")
else:
    st.caption(v.UNATTACHED_CAPTION)
    ui.table(v.unattached_frame(free), v.UNATTACHED_FORMATS)
    with st.expander("Lignes à ajouter au registre des territoires"):
        st.code(v.registry_lines(free), language="toml")
    if role in v.UPLOAD_ROLES:
        if st.button("Aperçu du rattachement", key="attach_preview", help=v.PREVIEW_HELP):
            st.session_state["_attach_preview"] = True
        if st.session_state.get("_attach_preview"):
            preview = data.call(v.attach_preview, registry_stamp=v.registry_stamp())
            st.info(attach_.describe(preview), icon=":material/preview:")
            if preview.attached:
                ui.table(v.attach_frame(preview, names), v.UNATTACHED_FORMATS)
                if st.button("Rattacher", type="primary", key="attach_apply"):
                    try:
                        with data.writer() as con:
                            done = attach_.attach(con, load_registry())
                    except StoreBusy:
                        st.error(v.BUSY)
                    else:
                        st.session_state.pop("_attach_preview", None)
                        st.session_state["_attach_done"] = attach_.describe(done)
                        st.rerun()
if msg := st.session_state.pop("_attach_done", None):
    st.success(msg, icon=":material/link:")

st.header("Journal des imports")
log = data.import_log(limit=200) if host else None
if log is None:
    st.caption(v.HOST_ONLY)
elif log.empty:
    ui.empty_state("Aucun import enregistré.")
else:
    ui.table(v.import_log_frame(log), formats=v.IMPORT_FORMATS)

st.header("Collecte automatique")
runs = data.collect_status()
if runs.empty:
    st.caption(v.NO_COLLECT)
else:
    ui.table(v.collect_frame(runs, names), formats=v.COLLECT_FORMATS)
    st.caption(v.COLLECT_CAPTION)

st.header("Lignes rejetées")
rej = data.rejects(limit=500) if host else None
if rej is None:
    st.caption(v.HOST_ONLY)
elif rej.empty:
    st.success("Aucune ligne rejetée.", icon=":material/check_circle:")
else:
    ui.table(v.rejects_frame(rej, role), formats={"Ligne": "int"})

st.header("Tables")
if host:
    ui.table(v.tables_frame(data.table_counts()), formats={"Lignes": "int"})
else:
    st.caption(v.HOST_ONLY)
st.caption(v.store_caption(esc(data.store_file().name), datetime.fromtimestamp(stamp[1] / 1e9)))

if role == "admin":
    st.header("Journal d'audit")
    st.caption(v.AUDIT_CAPTION + ("" if host else v.AUDIT_SCOPED))
    ui.table(data.audit_entries(limit=300), download_as="journal-audit.csv")

if role in v.UPLOAD_ROLES and host:
    st.header("Importer des exports")
    with st.form("upload", clear_on_submit=True):
        files = st.file_uploader(v.UPLOAD_LABEL, accept_multiple_files=True, help=v.UPLOAD_HELP)
        keep_going = st.checkbox("Ignorer les lignes en erreur (chacune est listée dans « Lignes rejetées »)")
        sent = st.form_submit_button("Importer")
    if sent and files:
        bar, seen = st.progress(0.0, text="Import…"), []
        outcome = data.import_uploads([(u.name, u.getvalue()) for u in files], keep_going=keep_going, on_file=lambda p, r: (
            seen.append(p), bar.progress(len(seen) / len(files), text=v.progress_text(len(seen), len(files)))))
        bar.empty()
        if isinstance(outcome, str):
            st.error(outcome)
        else:
            ui.table(v.upload_frame(outcome), formats=v.IMPORT_FORMATS)
            for error in (r.error for r in outcome if r.error):
                st.error(error)
            for text, lines in v.upload_warnings(outcome):
                st.warning(text, icon=":material/link_off:")
                if lines:
                    st.code(lines, language="toml")
            if any(r.status == "ok" for r in outcome):
                st.success("Import terminé : rechargez la page pour voir les nouvelles données.")

with st.expander("Comment importer vos exports"):
    st.markdown(v.HELP_MARKDOWN)
    fm = data.formats()
    if fm.empty:
        st.caption("Aucun format d'import n'est encore installé.")
    else:
        ui.table(fm.assign(Plateforme=fm["Plateforme"].map(v.platform_label)))
