"""Page « Modération & veille » : queue (analyst), responsiveness, alerts, impersonation, contacts.

The élu role sees aggregates only: counts per reason, response rates, alerts and suspicious
pages, never a message text nor an author.
"""

from __future__ import annotations

import pandas as pd
import streamlit as st

import analysis.views.moderation
from analysis.eval.figures import reliability_note
from analysis.exports import escape_markdown as esc
from analysis.fmt import fr_count, fr_date, fr_datetime, fr_int, fr_num, fr_pct
from analysis.moderation.queue import HOSTILE_THRESHOLD, STATUSES, overlap_note
from analysis.moderation.responsiveness import SLOTS
from streamlit_app import data, ui

ANALYST = ("analyste", "admin")
REASON_LABELS = {"hostile": "Hostile ou insultant", "negative_visible": "Négatif très visible",
                 "unanswered_question": "Question sans réponse"}

st.title("Modération & veille")
st.caption("Messages à traiter, réactivité des comptes officiels, alertes, pages usurpant l'identité du "
           "territoire et contacts clés.")

data.require_store()
f = ui.filters()
role = ui.role()
names = data.territory_names()
focus = data.call(analysis.views.moderation.focus_territory, f)
if focus is None:
    ui.empty_state("Aucun territoire à suivre : importez le registre des territoires.")
    st.stop()
st.markdown(f"Territoire suivi : **{esc(names.get(focus, focus))}** (le premier des territoires filtrés).")

# ------------------------------------------------------------------------------ KPIs
counts = data.call(analysis.views.moderation.queue_counts, f)
resp = data.call(analysis.views.moderation.responsiveness_view, f)
own_all = resp[(resp["territory_id"] == focus) & (resp["slot"] == "all")] if len(resp) else resp
rate = (own_all["answered"].sum() / own_all["incoming"].sum()
        if len(own_all) and own_all["visible"].any() and own_all["incoming"].sum() else None)
c1, c2, c3, c4 = st.columns(4)
with c1:
    ui.kpi("Messages à traiter", counts["total"], help="Messages hostiles, négatifs très visibles ou questions "
           "sans réponse, non encore marqués répondu, masqué ou ignoré.")
with c2:
    ui.kpi("Hostiles ou insultants", counts["hostile"], help="Un terme du lexique d'hostilité, ou une probabilité de "
           f"toxicité ≥ {fr_pct(HOSTILE_THRESHOLD, 0)} (modèle français entraîné sur MLMA, voir la fiche du modèle), "
           "ou l'annotation d'un analyste. " + reliability_note("hostility"))
with c3:
    ui.kpi("Questions sans réponse", counts["unanswered_question"],
           help="Questions ou demandes sans réponse du compte officiel dans les données.")
with c4:
    ui.kpi("Taux de réponse", fr_pct(rate, 0) if rate is not None else "non visible",
           help="Questions et messages négatifs reçus par nos comptes auxquels le compte officiel a "
                "répondu (réponse liée au message ; sans lien dans l'export, la réponse officielle suivante "
                "sous la même publication est attribuée au dernier message qui la précède).")

if note := overlap_note(counts):  # the reasons overlap: the sum of the three counts is not the total
    st.caption(note)

# ------------------------------------------------------------------------------ queue
st.header("File de modération")
if role in ANALYST:
    q = data.call(analysis.views.moderation.queue_view, f, role=role)
    if q.empty:
        ui.empty_state("Rien à traiter pour ces filtres.")
    else:
        show = pd.DataFrame({
            "Priorité": q["priority"].round(2), "Date": q["created_at"].map(fr_datetime),
            "Plateforme": q["platform"].map(lambda p: ui.PLATFORM_LABELS.get(p, p)),
            "Message": q["text"].fillna(""), "Motif": q["reasons"], "Statut": q["status_label"],
            "Id": q["message_id"],
        })
        ui.table(show, {"Priorité": "num"}, download_as="file-de-moderation.csv")
        with st.form("moderation_status"):
            st.markdown("**Marquer des messages**")
            ids = st.multiselect("Messages", q["message_id"].tolist(), placeholder=ui.PICK_MANY,
                                 key="moderation_ids",
                                 format_func=lambda i: f"{i} — {(q.set_index('message_id').at[i, 'text'] or '')[:60]}")
            status = st.radio("Nouveau statut", list(STATUSES), format_func=STATUSES.get, horizontal=True,
                              key="moderation_status")
            who = st.text_input("Votre nom", key="moderation_who")
            note = st.text_input("Note (facultatif)")
            if st.form_submit_button("Enregistrer"):
                from analysis.moderation.queue import set_status

                if not ids or not who.strip():
                    st.error("Choisissez au moins un message et indiquez votre nom.")
                else:
                    try:
                        with data.writer(messages=ids) as con:  # messages of the user's territories only
                            n = set_status(con, ids, status, who.strip(), note or None)
                        st.success(f"{fr_count(n, 'message marqué', 'messages marqués')} « {STATUSES[status]} ».")
                    except Exception as e:  # the CLI may hold the write lock during an import
                        st.error(f"Enregistrement impossible : {esc(e)}. Si un import est en cours, réessayez "
                                 "dans un instant.")
else:
    summary = data.call(analysis.views.moderation.queue_view, f, role="elu")
    if summary.empty:
        ui.empty_state("Rien à traiter pour ces filtres.")
    else:
        summary["Plateforme"] = summary["Plateforme"].map(lambda p: ui.PLATFORM_LABELS.get(p, p))
        ui.table(summary)
    st.caption("Le détail des messages est réservé aux analystes.")

# ------------------------------------------------------------------------------ responsiveness
st.header("Réactivité")
if resp.empty:
    ui.empty_state("Aucun message reçu par les comptes officiels sur la période.")
else:
    slot_names = {**SLOTS, "all": "toutes heures"}
    r = resp.copy()
    tab = pd.DataFrame({
        "Territoire": r["territory_id"].map(lambda t: names.get(t, t)),
        "Plateforme": r["platform"].map(lambda p: ui.PLATFORM_LABELS.get(p, p)),
        "Créneau": r["slot"].map(slot_names),
        "Messages reçus": r["incoming"].astype(int), "Réponses": r["answered"].astype(int),
        "Taux de réponse": r["response_rate"].map(lambda v: fr_pct(v, 0, missing="non visible")),
        "Délai médian (h)": r["median_hours"].map(lambda v: fr_num(v, 1)),
    })
    ui.table(tab)
    st.caption("Sur les questions et les messages négatifs reçus (ceux qui appellent une réponse). "
               "Heures ouvrées : du lundi au vendredi, 9 h – 18 h (heure de Paris), selon l'heure du message "
               "reçu. « non visible » : les exports de ce territoire ne contiennent aucune réponse officielle, "
               "le taux est inconnu (pas nul).")

# ------------------------------------------------------------------------------ alerts
st.header("Alertes")
alerts = data.call(analysis.views.moderation.alerts_view, f)
if alerts.empty:
    ui.empty_state("Aucune alerte sur la période.")
else:
    ui.table(pd.DataFrame({
        "Gravité": alerts["severity"], "Règle": alerts["rule_label"], "Alerte": alerts["title"],
        "Début": alerts["period_start"].map(fr_date),
        "Déjà envoyée": alerts["already_fired"].map({True: "oui", False: "non"}),
    }))
for n in alerts.attrs.get("notes", []):
    st.caption(esc(n))

# ------------------------------------------------------------------------------ impersonation
st.header("Pages usurpant l'identité du territoire")
# An élu sees the pages and accounts, not the message authors flagged for a look-alike name (persons).
imp = data.call(analysis.views.moderation.impersonation_view, f, role=role)
hidden = imp.attrs.get("hidden_authors", 0)
if imp.empty and not hidden:
    ui.empty_state("Aucune page ni aucun compte ne ressemble à nos comptes officiels.")
if len(imp):
    ui.table(pd.DataFrame({
        "Compte": imp["account_id"], "Nom": imp["name"].fillna(imp["handle"]),
        "Ressemble à": imp["resembles"], "Score": imp["score"].astype(int), "Éléments": imp["evidence"],
    }))
if hidden:
    st.caption(f"{fr_int(hidden)} auteur{'s' if hidden > 1 else ''} de messages dont le nom imite nos comptes : "
               "identités réservées aux analystes.")

# ------------------------------------------------------------------------------ contacts
st.header("Contacts clés")
if role in ANALYST:
    k = data.call(analysis.views.moderation.contacts_view, f, role=role)
    if k.empty:
        ui.empty_state("Aucun auteur sur la période.")
    else:
        ui.table(pd.DataFrame({
            "Auteur": k["author_name"].fillna(k["author_hash"]), "Messages": k["messages"].astype(int),
            "J'aime reçus": k["likes_received"].fillna(0).astype(int),
            "Positifs": k["positive_share"].map(lambda v: fr_pct(v, 0)),
            "Négatifs": k["negative_share"].map(lambda v: fr_pct(v, 0)),
            "Ancrage local": k["locality"].map(lambda v: fr_pct(v, 0)),
            "Centralité (‰)": (1000 * k["centrality"]).round(1), "Profil": k["profile"],
        }), {"Centralité (‰)": "num"})
        st.caption("Auteurs pseudonymisés ; le nom n'apparaît que s'il a été conservé à l'import (option "
                   "explicite). Ancrage local : part de leurs messages qui concernent ce territoire.")
else:
    st.caption("Réservé aux analystes (données personnelles).")
