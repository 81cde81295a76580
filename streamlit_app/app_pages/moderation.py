"""Page « Modération & veille » : worklist (analyst), responsiveness, alerts, impersonation, contacts.

The élu role sees aggregates only: counts per reason, response rates, alerts and suspicious
pages, never a message text nor an author. Logic and French tables: ``analysis.views.moderation``.
"""

from __future__ import annotations

import streamlit as st

import analysis.views.moderation as vm
from analysis.exports import escape_markdown as esc
from analysis.fmt import fr_int
from analysis.moderation.queue import AGES, REASONS, overlap_note
from analysis.schema import PLATFORM_LABELS
from streamlit_app import auth, data, ui

K_IDS, K_MSG = "moderation_ids", "moderation_message"


def _decide(action: str) -> None:
    """Button callback: the decision is written before the page runs again, so the counters and the
    list already follow it; recorded under the logged-in user (``auth.signature``), never a typed name."""
    ss, ids = st.session_state, list(st.session_state.get(K_IDS) or [])
    done, error = data.attempt(lambda con, who: vm.decide(con, ids, who, action, note=ss.get("moderation_note"),
                                                          assignee=ss.get("moderation_assignee")),
                               messages=ids)  # messages of the user's territories only
    ss[K_MSG] = ("error", error) if error else ("success", done)
    if not error:
        ss[K_IDS] = []


st.title("Modération & veille")
st.caption("Messages à traiter, réactivité des comptes officiels, alertes, pages usurpant l'identité du "
           "territoire et contacts clés.")

data.require_store()
f = ui.filters()
role = ui.role()
names = data.territory_names()
focus = data.call(vm.focus_territory, f)
if focus is None:
    ui.empty_state("Aucun territoire à suivre : importez le registre des territoires.")
    st.stop()
st.markdown(f"Territoire suivi : **{esc(names.get(focus, focus))}** (le premier des territoires filtrés).")

# ------------------------------------------------------------------------------ KPIs
counts = data.call(vm.queue_counts, f)
resp = data.call(vm.responsiveness_view, f)
for col, (label, value, help_text) in zip(st.columns(4), vm.kpis(counts, resp, focus), strict=True):
    with col:
        ui.kpi(label, value, help=help_text)
if note := overlap_note(counts):  # the reasons overlap: the sum of the three counts is not the total
    st.caption(note)

# ------------------------------------------------------------------------------ worklist
st.header("File de modération")
if role in vm.ANALYST_ROLES:
    if msg := st.session_state.pop(K_MSG, None):
        (st.success if msg[0] == "success" else st.error)(esc(msg[1]))
    c1, c2, c3 = st.columns(3)
    reasons = c1.multiselect("Motif", list(REASONS), format_func=REASONS.get, key="moderation_reasons",
                             placeholder="Tous les motifs", select_all=False)
    plats = c2.multiselect("Plateforme", list(f.platforms or data.platforms()), key="moderation_platforms",
                           format_func=lambda p: PLATFORM_LABELS.get(p, p), placeholder="Toutes les plateformes",
                           select_all=False)
    ages = c3.multiselect("Attente", list(AGES), format_func=lambda a: AGES[a][0], key="moderation_ages",
                          placeholder="Toutes les durées", select_all=False)
    q = data.call(vm.queue_view, f, role=role, reasons=tuple(reasons), ages=tuple(ages), platforms=tuple(plats))
    if q.empty:
        ui.empty_state("Rien à traiter pour ces filtres.")
    else:
        work = vm.worklist_table(q)  # the reasons first and wide; every one in full below for the chosen messages
        ui.table(work, {"Priorité": "num"}, column_config={"Motifs": st.column_config.TextColumn(width=560),
                                                          "Message": st.column_config.TextColumn(width="medium")},
                 download_as="file-de-moderation.csv")
        ui.download(work, "file-de-moderation.xlsx", "Télécharger (Excel)", key="dl_moderation_xlsx")
        choice = vm.message_choice(q)
        st.session_state[K_IDS] = [i for i in st.session_state.get(K_IDS) or [] if i in choice]
        ids = st.multiselect("Messages choisis", list(choice), format_func=choice.get, key=K_IDS,
                             placeholder="Choisissez un ou plusieurs messages", select_all=False)
        for r in q[q["message_id"].isin(ids)].itertuples(index=False):  # the full reasons, never cut
            st.markdown(f"- « {esc((r.text or '')[:200])} » — {esc(r.reasons)}")
        st.text_input("Note (facultatif)", key="moderation_note")
        for col, (code, label) in zip(st.columns(len(vm.ACTIONS)), vm.ACTIONS.items(), strict=True):
            col.button(label, key=f"moderation_{code}", disabled=not ids, on_click=_decide, args=(code,),
                       use_container_width=True)
        mates = vm.colleagues(focus)
        a1, a2 = st.columns([3, 1], vertical_alignment="bottom")
        mate = a1.selectbox("Confier à un·e collègue", mates, index=None, key="moderation_assignee",
                            placeholder="Choisissez un·e collègue" if mates else "Aucun compte analyste enregistré")
        a2.button("Confier", key="moderation_assign", disabled=not ids or not mate, on_click=_decide, args=("assign",),
                  use_container_width=True)
        st.caption(f"Décisions enregistrées au nom de **{esc(auth.signature() or '—')}** (l'utilisateur connecté) "
                   "et tracées dans le journal d'audit. « Escaladé » laisse le message dans la file.")
else:
    summary = data.call(vm.queue_view, f, role="elu")
    if summary.empty:
        ui.empty_state("Rien à traiter pour ces filtres.")
    else:
        ui.table(summary)
    st.caption("Le détail des messages est réservé aux analystes.")

# ------------------------------------------------------------------------------ responsiveness
st.header("Réactivité")
if resp.empty:
    ui.empty_state("Aucun message reçu par les comptes officiels sur la période.")
else:
    ui.table(vm.responsiveness_table(resp, names))
    st.caption(vm.RESPONSIVENESS_NOTE)

# ------------------------------------------------------------------------------ alerts
st.header("Alertes")
alerts = data.call(vm.alerts_view, f)
if alerts.empty:
    ui.empty_state("Aucune alerte sur la période.")
else:
    ui.table(vm.alerts_table(alerts))
for n in alerts.attrs.get("notes", []):
    st.caption(esc(n))

# ------------------------------------------------------------------------------ impersonation
st.header("Pages usurpant l'identité du territoire")
# An élu sees the pages and accounts, not the message authors flagged for a look-alike name (persons).
imp = data.call(vm.impersonation_view, f, role=role)
hidden = imp.attrs.get("hidden_authors", 0)
if imp.empty and not hidden:
    ui.empty_state("Aucune page ni aucun compte ne ressemble à nos comptes officiels.")
if len(imp):
    ui.table(vm.impersonation_table(imp))
if hidden:
    st.caption(f"{fr_int(hidden)} auteur{'s' if hidden > 1 else ''} de messages dont le nom imite nos comptes : "
               "identités réservées aux analystes.")

# ------------------------------------------------------------------------------ contacts
st.header("Contacts clés")
if role in vm.ANALYST_ROLES:
    contacts = data.call(vm.contacts_view, f, role=role)
    if contacts.empty:
        ui.empty_state("Aucun auteur sur la période.")
    else:
        ui.table(vm.contacts_table(contacts), {"Centralité (‰)": "num"})
        st.caption(vm.CONTACTS_NOTE)
else:
    st.caption("Réservé aux analystes (données personnelles).")
