"""Page « Données » : what the store holds — coverage, gaps, import log, rejects, table counts."""

from __future__ import annotations

import re
from datetime import datetime
from pathlib import Path

import pandas as pd
import streamlit as st

from analysis.exports import escape_markdown as esc
from analysis.fmt import fr_count, fr_datetime, fr_int, fr_month
from analysis.queries import coverage_gaps, coverage_summary
from streamlit_app import data, ui

TABLE_LABELS = {
    "territories": "Territoires", "accounts": "Comptes", "posts": "Publications", "messages": "Messages",
    "audience_followers": "Abonnés (séries)", "audience_demographics": "Démographie des abonnés",
    "page_daily": "Indicateurs quotidiens de page", "ad_results": "Résultats publicitaires",
    "campaigns": "Campagnes", "imports": "Imports", "rejects": "Lignes rejetées",
    "sentiment": "Sentiment (enrichissement)", "themes": "Thèmes (enrichissement)",
    "labels": "Annotations des analystes", "toxicity": "Toxicité (modération)",
    "population": "Population de référence (INSEE)", "moderation_status": "Suivi de modération",
    "alerts": "Alertes", "audit_log": "Journal d'audit",
    "daily_sentiment": "Sentiment par jour (calculé)",
    "incoming_messages": "Messages reçus et premières réponses (calculé)",
    "derived_state": "État des tables calculées",
    "collect_state": "Collecte : état de chaque source", "collect_runs": "Collecte : journal des exécutions",
    "erased_authors": "Auteurs effacés (pseudonymes seuls)",
    "events": "Événements (agendas)", "planned_posts": "Publications planifiées (calendrier)",
}
# A rejected value in one of these columns may be a person's name or handle: never displayed.
IDENTITY_COLUMN = re.compile(r"auteur|author|user|utilisateur|name|nom|profil|profile|handle|pseudo|"
                             r"from|screen|channel|commenter", re.IGNORECASE)
STATUS_LABELS = {"ok": "réussi", "error": "échec", "skipped": "ignoré"}
COLLECT_LABELS = {"ok": "réussie", "partial": "partielle (reprendra)", "error": "échec"}
UPLOAD_ROLES = ("analyste", "admin")

st.title("Données")
st.caption("Ce que contient la base : couverture par territoire, plateforme et mois, mois manquants, "
           "journal des imports et lignes rejetées.")

stamp = data.require_store()
f = ui.filters()
role = ui.role()
names = data.territory_names()
host = data.sees_everything()  # a user limited to some territories: their coverage and sources only
HOST_ONLY = ("Réservé aux administrateurs de l'hébergement : cette partie concerne tous les territoires "
             "du serveur.")
published = datetime.fromtimestamp(stamp[1] / 1e9)

cov = data.coverage(f)
gaps = coverage_gaps(cov) if not cov.empty else pd.DataFrame(columns=["territory_id", "platform", "month"])


def platform_label(p: str) -> str:
    return ui.PLATFORM_LABELS.get(p, p)


def territory_label(t: str) -> str:
    # queries.coverage files posts of accounts outside the registry under "(hors registre)".
    return "Comptes hors registre" if t == "(hors registre)" else names.get(t, t)


c1, c2, c3, c4 = st.columns(4)
with c1:
    ui.kpi("Publications", int(cov["posts"].sum()) if len(cov) else 0,
           help="Publications des comptes suivis sur la période et les territoires filtrés.")
with c2:
    ui.kpi("Messages", int(cov["messages"].sum()) if len(cov) else 0,
           help="Commentaires, réponses, mentions et avis reçus sur la période filtrée.")
with c3:
    ui.kpi("Territoire × plateforme", int(cov.groupby(["territory_id", "platform"]).ngroups) if len(cov) else 0,
           help="Nombre de couples territoire × plateforme ayant au moins une donnée.")
with c4:
    ui.kpi("Mois manquants", len(gaps),
           help="Mois sans aucune donnée à l'intérieur de la période couverte d'un couple "
                "territoire × plateforme : probablement un export oublié.")

# ------------------------------------------------------------------------------ coverage
st.header("Couverture")
if cov.empty:
    ui.empty_state("Aucune publication ni aucun message pour ces filtres. Élargissez la période, "
                   "les territoires ou les plateformes dans le panneau latéral.")
else:
    summary = coverage_summary(cov)
    summary["Territoire"] = summary["Territoire"].map(territory_label)
    summary["Plateforme"] = summary["Plateforme"].map(platform_label)
    n_gaps = gaps.groupby(["territory_id", "platform"]).size()
    summary["Mois manquants"] = [
        int(n_gaps.get((t, p), 0))
        for t, p in cov.groupby(["territory_id", "platform"]).size().index
    ]
    labels = {t: territory_label(t) for t in cov["territory_id"].unique()}
    grid = data.coverage_grid(f, labels)
    grid["row"] = grid["territory_id"].map(territory_label) + " · " + grid["platform"].map(platform_label)
    # pivot (not pivot_table): a gap must stay empty, not become 0.
    pivot = grid.pivot(index="row", columns="month", values="items").sort_index(axis=1)
    pivot = pivot.reindex(list(dict.fromkeys(grid["row"])))
    pivot.columns = [fr_month(c) for c in pivot.columns]
    pivot = pivot.reset_index().rename(columns={"row": "Territoire · plateforme"})

    first, last = pd.Timestamp(cov["month"].min()), pd.Timestamp(cov["month"].max())
    alt_text = (f"Carte de couverture de {fr_int(len(summary))} couples territoire × plateforme, "
                f"de {fr_month(first, long=True)} à {fr_month(last, long=True)} : "
                f"{fr_int(int(cov['posts'].sum()))} publications et {fr_int(int(cov['messages'].sum()))} "
                f"messages ; {fr_int(len(gaps))} mois sans données à l'intérieur des périodes couvertes.")
    # The title states the finding (what an official should take away), the subtitle the reading.
    finding = ("Aucun mois manquant" if gaps.empty
               else f"{fr_int(len(gaps))} mois manquant{'s' if len(gaps) > 1 else ''} dans les données")
    ui.chart(data.coverage_heatmap(f, labels, ui.PLATFORM_LABELS, title=finding), pivot, alt_text,
             table_label="Tableau mensuel (publications + messages)")
    st.markdown("**Par territoire et plateforme**")
    ui.table(summary, download_as="couverture.csv")

    st.markdown("**Mois manquants**")
    if gaps.empty:
        st.success("Aucun mois manquant : chaque couple territoire × plateforme a des données chaque mois "
                   "entre son premier et son dernier mois.", icon=":material/check_circle:")
    else:
        ui.table(pd.DataFrame({
            "Territoire": gaps["territory_id"].map(territory_label),
            "Plateforme": gaps["platform"].map(platform_label),
            "Mois": gaps["month"].map(lambda m: fr_month(m, long=True)),
        }))

# ------------------------------------------------------------------------------ imports
st.header("Journal des imports")
log = data.import_log(limit=200) if host else None
if log is None:
    st.caption(HOST_ONLY)
elif log.empty:
    ui.empty_state("Aucun import enregistré.")
else:
    ui.table(pd.DataFrame({
        "Date": log["finished_at"].map(fr_datetime),
        # File name only: full paths can reveal a user's home folder.
        "Fichier": log["path"].map(lambda p: Path(str(p)).name),
        "Format": log["format"].fillna("?"),
        "Encodage": log["encoding"].fillna("—"),
        "Lues": log["rows_read"], "Ajoutées": log["inserted"], "Mises à jour": log["updated"],
        "Rejetées": log["rejected"],
        "Statut": log["status"].map(lambda s: STATUS_LABELS.get(s, s)),
        "SHA-256": log["sha256"].fillna("").str[:12],
    }), formats={"Lues": "int", "Ajoutées": "int", "Mises à jour": "int", "Rejetées": "int"})

# ------------------------------------------------------------------------------ collection
st.header("Collecte automatique")
runs = data.collect_status()
if runs.empty:
    st.caption("Aucune collecte enregistrée. Déclarez les comptes Bluesky, Mastodon, YouTube, Meta et les flux "
               "de presse des territoires dans le registre, puis planifiez `vigie collect` (README, « Collecte »).")
else:
    ui.table(pd.DataFrame({
        "Source": [f"{platform_label(p)} · {k}" for p, k in zip(runs["platform"], runs["key"], strict=True)],
        "Territoire": runs["territory_id"].map(lambda t: names.get(t, t) if isinstance(t, str) else "—"),
        "Dernière collecte": runs["last_run_at"].map(fr_datetime),
        "Statut": runs["status"].map(lambda s: COLLECT_LABELS.get(s, s or "—")),
        "Requêtes": runs["requests"], "Ajoutées": runs["inserted"], "Mises à jour": runs["updated"],
        "Supprimées à la source": runs["deleted"],
        "Donnée la plus récente": runs["newest_at"].map(lambda d: fr_datetime(d) if pd.notna(d) else "—"),
        "Erreur": runs["last_error"].fillna(""),
    }), formats={"Requêtes": "int", "Ajoutées": "int", "Mises à jour": "int", "Supprimées à la source": "int"})
    st.caption("Une ligne par source déclarée : la dernière collecte, ce qu'elle a apporté et son erreur éventuelle. "
               "`vigie collect status` affiche la même chose dans un terminal.")

st.header("Lignes rejetées")
rej = data.rejects(limit=500) if host else None
if rej is None:
    st.caption(HOST_ONLY)
elif rej.empty:
    st.success("Aucune ligne rejetée.", icon=":material/check_circle:")
else:
    shown = pd.DataFrame({
        "Fichier": rej["path"].map(lambda p: Path(str(p)).name),
        "Ligne": rej["line"], "Colonne": rej["column_name"].fillna("—"),
        "Valeur": [("(masquée : identité)" if IDENTITY_COLUMN.search(str(c or "")) else v)
                   for c, v in zip(rej["column_name"], rej["value"], strict=False)],
        "Raison": rej["reason"],
    })
    if role == "elu":
        # Elected officials see why rows were rejected, not the citizens' content itself.
        shown = shown.drop(columns=["Valeur"])
    ui.table(shown, formats={"Ligne": "int"})

st.header("Tables")
if host:
    counts = data.table_counts()
    ui.table(pd.DataFrame({"Table": [TABLE_LABELS.get(k, k) for k in counts], "Nom technique": list(counts),
                           "Lignes": list(counts.values())}), formats={"Lignes": "int"})
else:
    st.caption(HOST_ONLY)
st.caption(f"Base {esc(data.store_file().name)} · copie de lecture publiée le {fr_datetime(published)}. "
           "Les tables « calculé » sont refaites à la fin de chaque import, à partir des autres.")

# ------------------------------------------------------------------------------ upload
# ------------------------------------------------------------------------------ audit (administrators)
if role == "admin":
    st.header("Journal d'audit")
    st.caption("Qui s'est connecté, a consulté quelle page avec quels filtres, a téléchargé quel fichier ou "
               "généré quel rapport ; effacements et purges de la base. Conservé selon `[retention] audit` "
               "(12 mois par défaut), purgé par `vigie purge` ; `vigie audit` l'affiche dans un terminal."
               + ("" if host else " Vous voyez les entrées des comptes de vos territoires."))
    ui.table(data.audit_entries(limit=300), download_as="journal-audit.csv")

if role in UPLOAD_ROLES and host:
    st.header("Importer des exports")
    with st.form("upload", clear_on_submit=True):
        files = st.file_uploader("Fichiers d'export (CSV, XLSX, XLS, JSON, ZIP…)", accept_multiple_files=True,
                                 help="Le format est reconnu d'après le contenu. Chaque fichier s'importe en entier "
                                      "ou pas du tout ; le fichier envoyé n'est pas conservé.")
        keep_going = st.checkbox("Ignorer les lignes en erreur (chacune est listée dans « Lignes rejetées »)")
        sent = st.form_submit_button("Importer")
    if sent and files:
        bar = st.progress(0.0, text="Import…")
        done: list[str] = []

        def _progress(path: Path, res: object) -> None:
            done.append(path.name)
            bar.progress(len(done) / len(files), text=f"Import : {fr_count(len(done), 'fichier')} sur {len(files)}")

        outcome = data.import_uploads([(f.name, f.getvalue()) for f in files], keep_going=keep_going,
                                      on_file=_progress)
        bar.empty()
        if isinstance(outcome, str):
            st.error(outcome)
        else:
            ui.table(pd.DataFrame({
                "Fichier": [r.path for r in outcome], "Format": [r.format or "?" for r in outcome],
                "Lues": [r.rows_read for r in outcome], "Ajoutées": [r.inserted for r in outcome],
                "Mises à jour": [r.updated for r in outcome], "Rejetées": [r.rejected for r in outcome],
                "Statut": [STATUS_LABELS.get(r.status, r.status) for r in outcome],
            }), formats={"Lues": "int", "Ajoutées": "int", "Mises à jour": "int", "Rejetées": "int"})
            for r in outcome:
                if r.error:
                    st.error(r.error)
            if any(r.status == "ok" for r in outcome):
                st.success("Import terminé : rechargez la page pour voir les nouvelles données.")

with st.expander("Comment importer vos exports"):
    st.markdown(
        "1. Téléchargez les exports depuis chaque plateforme (Meta Business Suite, CrowdTangle, "
        "X Analytics, LinkedIn, ExportComments, YouTube…), sans les modifier.\n"
        "2. Dans un terminal, depuis le dossier du projet :\n\n"
        "```\n.venv/bin/vigie import DOSSIER_DES_EXPORTS/\n```\n"
        "Le format est reconnu d'après le contenu, pas le nom du fichier. Options utiles : "
        "`--account facebook:ID` quand l'export ne dit pas de quel compte il s'agit, "
        "`--mapping colonnes.toml` pour un tableur quelconque, `--keep-going` pour ignorer les "
        "lignes en erreur (chacune est listée ci-dessus), `--json` pour un résultat lisible par "
        "un script.\n"
        "3. Rechargez cette page : les nouvelles données apparaissent dès la fin de l'import.\n\n"
        "Réimporter un même fichier ne change rien ; un fichier en erreur n'écrit rien."
    )
    fm = data.formats()
    if fm.empty:
        st.caption("Aucun format d'import n'est encore installé.")
    else:
        fm["Plateforme"] = fm["Plateforme"].map(platform_label)
        ui.table(fm)
