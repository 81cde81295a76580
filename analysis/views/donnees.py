"""Read model of the « Données » page: what the store holds — coverage, gaps, import log, collection,
rejects, table counts, accounts outside the registry — as frames with French columns, titles and
alt texts. Pure functions over what the page reads (``data.call``): no connection here.

Coverage shows **everything stored**: the period of the sidebar does not apply (a file of 2020 must
appear under the default « 12 derniers mois »), only its territories and platforms
(:func:`stored_filters`); « Premier mois » is the data's first month.
"""

from __future__ import annotations

import re
from collections.abc import Mapping
from dataclasses import dataclass, replace
from pathlib import Path
from typing import Any

import duckdb
import pandas as pd

from analysis.charts import coverage_grid
from analysis.exports import escape_markdown
from analysis.fmt import fr_count, fr_date, fr_datetime, fr_int, fr_month
from analysis.ingest.attach import AttachResult, account_example, attach, registry_snippet
from analysis.queries import Filters, coverage_gaps, coverage_summary
from analysis.registry import load_registry, registry_path
from analysis.schema import PLATFORM_LABELS

TITLE = "Données"
INTRO = ("Ce que contient la base : couverture par territoire, plateforme et mois, mois manquants, "
         "journal des imports et lignes rejetées.")
COVERAGE_CAPTION = ("La couverture montre toutes les données enregistrées, quelle que soit la période choisie dans "
                    "le panneau latéral : seuls les filtres de territoires et de plateformes s'appliquent.")
EMPTY_COVERAGE = ("Aucune publication ni aucun message pour ces territoires et plateformes. Élargissez les "
                  "territoires ou les plateformes dans le panneau latéral, ou importez des exports.")
HOST_ONLY = ("Réservé aux administrateurs de l'hébergement : cette partie concerne tous les territoires "
             "du serveur.")
NO_GAP = ("Aucun mois manquant : chaque couple territoire × plateforme a des données chaque mois entre son "
          "premier et son dernier mois.")
ALL_ATTACHED = "Toutes les publications et tous les messages enregistrés sont rattachés à un territoire."
PREVIEW_HELP = "Ce que le rattachement changerait, d'après le registre actuel ; rien n'est écrit."
NO_COLLECT = ("Aucune collecte enregistrée. Déclarez les comptes Bluesky, Mastodon, YouTube, Meta et les flux "
              "de presse des territoires dans le registre, puis planifiez `vigie collect` (README, « Collecte »).")
COLLECT_CAPTION = ("Une ligne par source déclarée : la dernière collecte, ce qu'elle a apporté et son erreur "
                   "éventuelle. `vigie collect status` affiche la même chose dans un terminal.")
AUDIT_CAPTION = ("Qui s'est connecté, a consulté quelle page avec quels filtres, a téléchargé quel fichier ou "
                 "généré quel rapport ; effacements et purges de la base. Conservé selon `[retention] audit` "
                 "(12 mois par défaut), purgé par `vigie purge` ; `vigie audit` l'affiche dans un terminal.")
AUDIT_SCOPED = " Vous voyez les entrées des comptes de vos territoires."
UPLOAD_LABEL = "Fichiers d'export (CSV, XLSX, XLS, JSON, ZIP…)"
UPLOAD_HELP = ("Le format est reconnu d'après le contenu. Chaque fichier s'importe en entier ou pas du tout ; "
               "le fichier envoyé n'est pas conservé. Les comptes absents du registre sont signalés.")
UNATTACHED_LABEL = "Comptes hors registre"  # queries.coverage files them under « (hors registre) »
UPLOAD_ROLES = ("analyste", "admin")
INT = "int"

TABLE_LABELS = {
    "territories": "Territoires", "accounts": "Comptes", "posts": "Publications", "messages": "Messages",
    "audience_followers": "Abonnés (séries)", "audience_demographics": "Démographie des abonnés",
    "page_daily": "Indicateurs quotidiens de page", "ad_results": "Résultats publicitaires",
    "campaigns": "Campagnes", "imports": "Imports", "rejects": "Lignes rejetées",
    "sentiment": "Sentiment (enrichissement)", "themes": "Thèmes (enrichissement)",
    "text_keys": "Mots-clés des textes (enrichissement)", "lemma_keys": "Dictionnaire des mots-clés (enrichissement)",
    "labels": "Annotations des analystes", "toxicity": "Toxicité (modération)",
    "population": "Population de référence (INSEE)", "moderation_status": "Suivi de modération",
    "alerts": "Alertes", "audit_log": "Journal d'audit",
    "daily_sentiment": "Sentiment par jour (calculé)",
    "daily_messages_utc": "Messages par jour UTC (calculé)",
    "daily_themes_utc": "Messages par jour UTC et par thème (calculé)",
    "incoming_messages": "Messages reçus et premières réponses (calculé)",
    "moderation_messages": "Messages des internautes pour la modération (calculé)",
    "derived_state": "État des tables calculées",
    "derived_touched": "Messages modifiés à recompter (calculé)",
    "collect_state": "Collecte : état de chaque source", "collect_runs": "Collecte : journal des exécutions",
    "erased_authors": "Auteurs effacés (pseudonymes seuls)",
    "store_settings": "Réglages de la base (empreinte de la clé de pseudonymisation)",
    "theme_model": "Modèle de thèmes appris sur les textes de la base",
    "enrich_marks": "Où s'est arrêté l'enrichissement (calculé)",
    "events": "Événements (agendas)", "planned_posts": "Publications planifiées (calendrier)",
}
# A rejected value in one of these columns may be a person's name or handle: never displayed.
IDENTITY_COLUMN = re.compile(r"auteur|author|user|utilisateur|name|nom|profil|profile|handle|pseudo|"
                             r"from|screen|channel|commenter", re.IGNORECASE)
STATUS_LABELS = {"ok": "réussi", "error": "échec", "skipped": "ignoré"}
COLLECT_LABELS = {"ok": "réussie", "partial": "partielle (reprendra)", "error": "échec"}

HELP_MARKDOWN = (
    "1. Téléchargez les exports depuis chaque plateforme (Meta Business Suite, CrowdTangle, "
    "X Analytics, LinkedIn, ExportComments, YouTube…), sans les modifier.\n\n"
    "2. Dans un terminal, depuis le dossier du projet :\n\n"
    "   ```\n   .venv/bin/vigie import DOSSIER_DES_EXPORTS/\n   ```\n\n"
    "   Le format est reconnu d'après le contenu, pas le nom du fichier. Options utiles : "
    "`--account facebook:ID` quand l'export ne dit pas de quel compte il s'agit (par exemple des "
    "commentaires ExportComments sans « Source URL » : `vigie import commentaires.xlsx --account "
    "facebook:104857600000001`), `--mapping colonnes.toml` pour un tableur quelconque, `--keep-going` pour "
    "ignorer les lignes en erreur (chacune est listée ci-dessus), `--json` pour un résultat lisible par "
    "un script.\n\n"
    "3. Rechargez cette page : les nouvelles données apparaissent dès la fin de l'import.\n\n"
    "Réimporter un même fichier ne change rien ; un fichier en erreur n'écrit rien. Un compte absent du "
    "registre des territoires est signalé à l'import et ses données sont classées « hors registre » : "
    "déclarez-le sous son territoire dans le registre, puis rattachez ses données (bouton ci-dessus ou "
    "`vigie attach`)."
)


def store_caption(file_name: str, published: Any) -> str:
    """The line under the table counts: which store, when its read copy was published."""
    return (f"Base {file_name} · copie de lecture publiée le {fr_datetime(published)}. "
            "Les tables « calculé » sont refaites à la fin de chaque import, à partir des autres.")


def stored_filters(f: Filters) -> Filters:
    """The page's filters without their period: coverage shows everything stored."""
    return replace(f, start=None, end=None)


def platform_label(p: str) -> str:
    return PLATFORM_LABELS.get(p, p)


def territory_label(t: str, names: Mapping[str, str]) -> str:
    return UNATTACHED_LABEL if t == "(hors registre)" else names.get(t, t)


@dataclass(frozen=True)
class CoverageView:
    """The coverage section: headline counts, per territory × platform summary, monthly grid (the
    chart's table), missing months, the chart's title (its finding) and alt text."""

    kpis: dict[str, int]
    summary: pd.DataFrame
    pivot: pd.DataFrame
    gaps: pd.DataFrame
    finding: str
    alt: str
    labels: dict[str, str]

    @property
    def empty(self) -> bool:
        return self.summary.empty


KPI_HELP = {
    "Publications": "Publications enregistrées des territoires et plateformes filtrés (toutes dates).",
    "Messages": "Commentaires, réponses, mentions et avis enregistrés (toutes dates).",
    "Territoire × plateforme": "Nombre de couples territoire × plateforme ayant au moins une donnée.",
    "Mois manquants": "Mois sans aucune donnée à l'intérieur de la période couverte d'un couple "
                      "territoire × plateforme : probablement un export oublié.",
}


def coverage_view(cov: pd.DataFrame, names: Mapping[str, str]) -> CoverageView:
    """Everything the coverage section shows, from ``queries.coverage`` over :func:`stored_filters`."""
    gaps = coverage_gaps(cov) if not cov.empty else pd.DataFrame(columns=["territory_id", "platform", "month"])
    kpis = {"Publications": int(cov["posts"].sum()) if len(cov) else 0,
            "Messages": int(cov["messages"].sum()) if len(cov) else 0,
            "Territoire × plateforme": int(cov.groupby(["territory_id", "platform"]).ngroups) if len(cov) else 0,
            "Mois manquants": len(gaps)}
    labels = {t: territory_label(t, names) for t in cov["territory_id"].unique()} if len(cov) else {}
    if cov.empty:
        return CoverageView(kpis, coverage_summary(cov), pd.DataFrame(), pd.DataFrame(), "", "", labels)
    summary = coverage_summary(cov)
    summary["Territoire"] = summary["Territoire"].map(labels.get)
    summary["Plateforme"] = summary["Plateforme"].map(platform_label)
    n_gaps = gaps.groupby(["territory_id", "platform"]).size()
    summary["Mois manquants"] = [int(n_gaps.get((t, p), 0))
                                 for t, p in cov.groupby(["territory_id", "platform"]).size().index]
    grid = coverage_grid(cov, labels)
    grid["row"] = grid["territory_id"].map(labels.get) + " · " + grid["platform"].map(platform_label)
    # pivot (not pivot_table): a gap must stay empty, not become 0.
    pivot = grid.pivot(index="row", columns="month", values="items").sort_index(axis=1)
    pivot = pivot.reindex(list(dict.fromkeys(grid["row"])))
    pivot.columns = [fr_month(c) for c in pivot.columns]
    pivot = pivot.reset_index().rename(columns={"row": "Territoire · plateforme"})
    first, last = pd.Timestamp(cov["month"].min()), pd.Timestamp(cov["month"].max())
    alt = (f"Carte de couverture de {fr_int(len(summary))} couple{'s' if len(summary) > 1 else ''} "
           "territoire × plateforme, "
           f"{_from(fr_month(first, long=True))} à {fr_month(last, long=True)} : "
           f"{fr_int(kpis['Publications'])} publications et {fr_int(kpis['Messages'])} "
           f"messages ; {fr_int(len(gaps))} mois sans données à l'intérieur des périodes couvertes.")
    # The title states the finding (what an official should take away).
    finding = ("Aucun mois manquant" if gaps.empty
               else f"{fr_int(len(gaps))} mois manquant{'s' if len(gaps) > 1 else ''} dans les données")
    gaps_fr = pd.DataFrame({"Territoire": gaps["territory_id"].map(labels.get),
                            "Plateforme": gaps["platform"].map(platform_label),
                            "Mois": gaps["month"].map(lambda m: fr_month(m, long=True))})
    return CoverageView(kpis, summary, pivot, gaps_fr, finding, alt, labels)


def _from(month: str) -> str:
    """« de mars 2026 », « d'octobre 2024 » (elision before a vowel)."""
    return f"d'{month}" if month[:1].lower() in "aeiouyé" else f"de {month}"


def import_log_frame(log: pd.DataFrame) -> pd.DataFrame:
    """The import log in French (file name only: full paths can reveal a user's home folder)."""
    return pd.DataFrame({
        "Date": log["finished_at"].map(fr_datetime),
        "Fichier": log["path"].map(lambda p: Path(str(p)).name),
        "Format": log["format"].fillna("?"),
        "Encodage": log["encoding"].fillna("—"),
        "Lues": log["rows_read"], "Ajoutées": log["inserted"], "Mises à jour": log["updated"],
        "Rejetées": log["rejected"],
        "Statut": log["status"].map(lambda s: STATUS_LABELS.get(s, s)),
        "SHA-256": log["sha256"].fillna("").str[:12],
    })


IMPORT_FORMATS = {"Lues": INT, "Ajoutées": INT, "Mises à jour": INT, "Rejetées": INT}
COLLECT_FORMATS = {"Requêtes": INT, "Ajoutées": INT, "Mises à jour": INT, "Supprimées à la source": INT}


def collect_frame(runs: pd.DataFrame, names: Mapping[str, str]) -> pd.DataFrame:
    """Last collection run of every source, in French."""
    return pd.DataFrame({
        "Source": [f"{platform_label(p)} · {k}" for p, k in zip(runs["platform"], runs["key"], strict=True)],
        "Territoire": runs["territory_id"].map(lambda t: names.get(t, t) if isinstance(t, str) else "—"),
        "Dernière collecte": runs["last_run_at"].map(fr_datetime),
        "Statut": runs["status"].map(lambda s: COLLECT_LABELS.get(s, s or "—")),
        "Requêtes": runs["requests"], "Ajoutées": runs["inserted"], "Mises à jour": runs["updated"],
        "Supprimées à la source": runs["deleted"],
        "Donnée la plus récente": runs["newest_at"].map(lambda d: fr_datetime(d) if pd.notna(d) else "—"),
        "Erreur": runs["last_error"].fillna(""),
    })


def rejects_frame(rej: pd.DataFrame, role: str) -> pd.DataFrame:
    """Rejected rows in French; a value in an identity column is masked, and an élu sees no value."""
    shown = pd.DataFrame({
        "Fichier": rej["path"].map(lambda p: Path(str(p)).name),
        "Ligne": rej["line"], "Colonne": rej["column_name"].fillna("—"),
        "Valeur": [("(masquée : identité)" if IDENTITY_COLUMN.search(str(c or "")) else v)
                   for c, v in zip(rej["column_name"], rej["value"], strict=False)],
        "Raison": rej["reason"],
    })
    # Elected officials see why rows were rejected, not the citizens' content itself.
    return shown.drop(columns=["Valeur"]) if role == "elu" else shown


def tables_frame(counts: Mapping[str, int]) -> pd.DataFrame:
    return pd.DataFrame({"Table": [TABLE_LABELS.get(k, k) for k in counts], "Nom technique": list(counts),
                         "Lignes": list(counts.values())})


def progress_text(done: int, total: int) -> str:
    return f"Import : {fr_int(done)} fichier{'s' if done > 1 else ''} sur {fr_int(total)}"


def upload_frame(outcome: list[Any]) -> pd.DataFrame:
    """Per-file result of an upload (``ingest.FileResult``), with its accounts outside the registry."""
    return pd.DataFrame({
        "Fichier": [r.path for r in outcome], "Format": [r.format or "?" for r in outcome],
        "Lues": [r.rows_read for r in outcome], "Ajoutées": [r.inserted for r in outcome],
        "Mises à jour": [r.updated for r in outcome], "Rejetées": [r.rejected for r in outcome],
        "Statut": [STATUS_LABELS.get(r.status, r.status) for r in outcome],
        "Comptes hors registre": [", ".join(_account_text(u) for u in r.unknown_accounts) or "—" for r in outcome],
    })


def upload_warnings(outcome: list[Any]) -> list[tuple[str, str]]:
    """What to do about an upload's accounts outside the registry and its comments without a page:
    ``(markdown text, registry lines or "")`` per warning, file names escaped."""
    out = []
    for r in outcome:
        name = escape_markdown(Path(r.path).name)
        if r.unknown_accounts:
            out.append((f"{name} : {fr_count(len(r.unknown_accounts), 'compte')} hors registre : leurs données sont classées "
                        "« hors registre ». Déclarez-les sous leur territoire dans le registre des territoires "
                        "(lignes ci-dessous), puis rattachez leurs données (« Comptes hors registre » plus haut, "
                        "ou `vigie attach`).", "\n\n".join(registry_snippet(u) for u in r.unknown_accounts)))
        if r.without_account:
            out.append((f"{name} : {fr_count(r.without_account, 'commentaire')} sans compte : le fichier ne dit pas "
                        "sous quelle page ils ont été écrits. Réimportez-le en ligne de commande avec `--account`, "
                        f"par exemple `vigie import FICHIER --account {account_example(r.without_account_platform)} "
                        "--force`.", ""))
    return out


def _account_text(u: Mapping[str, Any]) -> str:
    name = u.get("name") or u.get("handle") or u["account_id"]
    return f"{platform_label(u['platform'])} · {name}"


UNATTACHED_CAPTION = ("Comptes dont les publications ou les messages ne sont rattachés à aucun territoire : pages "
                      "locales, presse, pages imitant un compte officiel, ou comptes d'un territoire absent du registre "
                      "au moment de l'import. Pour un compte d'un territoire suivi, déclarez-le sous ce territoire dans "
                      "le registre (lignes ci-dessous), puis rattachez : ses données déjà importées rejoignent leur "
                      "territoire, sans réimport.")


def unattached_frame(df: pd.DataFrame) -> pd.DataFrame:
    """Accounts outside the registry (``ingest.attach.unattached``) with their volumes, in French."""
    return pd.DataFrame({
        "Plateforme": df["platform"].map(platform_label),
        "Compte": [n if isinstance(n, str) and n else (h if isinstance(h, str) and h else a)
                   for n, h, a in zip(df["name"], df["handle"], df["account_id"], strict=True)],
        "Identifiant": df["account_id"],
        "Publications": df["posts"], "Messages": df["messages"],
        "Première donnée": df["first"].map(fr_date), "Dernière donnée": df["last"].map(fr_date),
    })


UNATTACHED_FORMATS = {"Publications": INT, "Messages": INT}


def registry_lines(df: pd.DataFrame) -> str:
    """The registry lines declaring every unattached account (to paste under their territory)."""
    return "\n\n".join(registry_snippet(r) for r in df.to_dict("records"))


def attach_frame(res: AttachResult, names: Mapping[str, str]) -> pd.DataFrame:
    """What a re-attachment changes (or would change), per account, in French."""
    return pd.DataFrame({
        "Compte": [a.name or a.account_id for a in res.attached],
        "Identifiant": [a.account_id for a in res.attached],
        "Territoire": [names.get(a.territory_id, a.territory_id) for a in res.attached],
        "Publications": [a.posts for a in res.attached], "Messages": [a.messages for a in res.attached],
    })


def registry_stamp() -> int:
    """Modification time of the registry file (ns), 0 when absent: part of the preview's cache key,
    so that a preview follows an edit of the registry."""
    p = registry_path()
    return p.stat().st_mtime_ns if p.exists() else 0


def attach_preview(con: duckdb.DuckDBPyConnection, registry_stamp: int = 0) -> AttachResult:
    """What `vigie attach` would change now (dry run on the published store, registry re-read)."""
    return attach(con, load_registry(), dry_run=True)
