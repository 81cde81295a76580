"""Read models of the « Modération & veille » views (app page, notebook, report section).

Each takes ``(con, f)`` plus hashable keyword arguments, so the app can cache them by name.
The territory looked at is the first of ``f.territories``, else the registry's own territory.
"""

from __future__ import annotations

from dataclasses import replace

import duckdb
import pandas as pd

from analysis.eval.figures import reliability_note
from analysis.fmt import fr_date, fr_datetime, fr_int, fr_num, fr_pct
from analysis.moderation import alerts as al
from analysis.moderation.contacts import key_contacts
from analysis.moderation.impersonation import is_author, watch
from analysis.moderation.queue import (
    HOSTILE_THRESHOLD,
    QUEUE_COLUMNS,
    REASONS,
    STATUSES,
    assign,
    human_delay,
    queue,
    queue_codes,
    queue_summary,
    reason_counts,
    set_status,
)
from analysis.moderation.responsiveness import SLOTS, response_by_slot
from analysis.queries import Filters
from analysis.registry import load_registry
from analysis.schema import PLATFORM_LABELS
from analysis.territories import focus_territory as _focus
from analysis.territories import peers_of
from analysis.users import load_users

ANALYST_ROLES = ("analyste", "admin", "analyst")
# One click on the selected messages of the worklist: status code → button label.
ACTIONS = {"repondu": "Traité (répondu)", "masque": "Masqué", "ignore": "Ignoré", "escalade": "Escaladé"}


def focus_territory(con: duckdb.DuckDBPyConnection, f: Filters) -> str | None:
    """Territory the moderation views look at (:func:`analysis.territories.focus_territory`)."""
    return _focus(con, f.territories)


def _own_filter(con, f: Filters) -> Filters:
    t = focus_territory(con, f)
    return f.with_territories((t,) if t else ())


def queue_view(con: duckdb.DuckDBPyConnection, f: Filters, role: str = "elu", limit: int = 200,
               reasons: tuple[str, ...] = (), ages: tuple[str, ...] = (),
               platforms: tuple[str, ...] = ()) -> pd.DataFrame:
    """The queue of the focus territory; the élu role gets no text or author columns (counts per
    reason and platform, French labels). The analyst's worklist may be narrowed to some reasons
    (codes of ``REASONS``), waiting times (codes of ``AGES``) and platforms."""
    own = _own_filter(con, f)
    if role not in ANALYST_ROLES:
        out = queue_summary(queue_codes(con, own))
        out["Plateforme"] = out["Plateforme"].map(lambda p: PLATFORM_LABELS.get(p, p))
        return out
    if platforms:  # within the sidebar's platforms, never beyond
        own = replace(own, platforms=tuple(p for p in platforms if not own.platforms or p in own.platforms))
        if not own.platforms:
            return pd.DataFrame(columns=QUEUE_COLUMNS)
    # text and French reasons are built for the rows shown only
    return queue(con, own, role="analyst", limit=limit or None, reasons=reasons, ages=ages).head(limit)


def worklist_table(q: pd.DataFrame) -> pd.DataFrame:
    """The analyst's worklist in French: every reason as a full sentence, waiting time, status and
    the colleague it is assigned to (the table shown, and the file downloaded)."""
    return pd.DataFrame({
        "Priorité": q["priority"].astype(float).round(2), "Date": q["created_at"].map(fr_datetime),
        "Plateforme": q["platform"].map(lambda p: PLATFORM_LABELS.get(p, p)),
        "Attente": q["waiting_hours"].map(human_delay),
        "Motifs": q["reasons"], "Message": q["text"].fillna(""), "Statut": q["status_label"],
        "Confié à": q["assigned_to"].fillna(""), "Id": q["message_id"],
    })


def message_choice(q: pd.DataFrame) -> dict[str, str]:
    """Message id → what the selector shows: start of the text and the reasons in short."""
    return {r.message_id: f"{(r.text or '')[:60]} — {', '.join(REASONS[c] for c in r.reason_codes)}"
            for r in q.itertuples(index=False)}


def decide(con: duckdb.DuckDBPyConnection, ids: list[str], who: str | None, action: str, note: str | None = None,
           assignee: str | None = None) -> str:
    """Record one worklist decision on messages ``ids`` under ``who`` (the logged-in user): a status
    of :data:`ACTIONS`, or ``assign`` to ``assignee``; returns the French confirmation. ``ValueError``
    (French) when no message is chosen, nobody is logged in or nobody is chosen to assign to."""
    if not ids:
        raise ValueError("choisissez au moins un message.")
    if not who:
        raise ValueError("aucun utilisateur connecté : la décision ne peut être signée.")
    if action == "assign":
        n, done = assign(con, ids, assignee or "", who), f"confié{'s' if len(ids) > 1 else ''} à {assignee}"
    else:
        n = set_status(con, ids, action, who, (note or "").strip() or None)
        done = f"marqué{'s' if len(ids) > 1 else ''} « {STATUSES[action]} »"
    return f"{fr_int(n)} message{'s' if n > 1 else ''} {done} par {who}."


def colleagues(territory: str | None) -> list[str]:
    """App users a queued message may be assigned to: analysts and administrators who may see the
    territory (no scope, or a scope holding it), by name."""
    return sorted(n for n, u in load_users().items()
                  if u.role in ("analyste", "admin") and (u.scope is None or territory in u.scope))


def kpis(counts: dict[str, int], resp: pd.DataFrame, focus: str) -> list[tuple[str, str, str]]:
    """(title, figure, help) of the page's four indicators: queued messages, hostile ones, unanswered
    questions (after every decision recorded) and the response rate of the focus territory's accounts."""
    own = resp[(resp["territory_id"] == focus) & (resp["slot"] == "all")] if len(resp) else resp
    rate = (own["answered"].sum() / own["incoming"].sum()
            if len(own) and own["visible"].any() and own["incoming"].sum() else None)
    return [
        ("Messages à traiter", fr_int(counts["total"]), "Messages hostiles, négatifs très visibles ou questions "
         "sans réponse, non encore marqués répondu, masqué ou ignoré (un message escaladé reste à traiter)."),
        ("Hostiles ou insultants", fr_int(counts["hostile"]), "Un terme du lexique d'hostilité, ou une probabilité "
         f"de toxicité ≥ {fr_pct(HOSTILE_THRESHOLD, 0)} (modèle français entraîné sur MLMA, voir la fiche du "
         "modèle), ou l'annotation d'un analyste. " + reliability_note("hostility")),
        ("Questions sans réponse", fr_int(counts["unanswered_question"]),
         "Questions ou demandes sans réponse du compte officiel dans les données."),
        ("Taux de réponse", fr_pct(rate, 0) if rate is not None else "non visible", "Questions et messages négatifs "
         "reçus par nos comptes auxquels le compte officiel a répondu (réponse liée au message ; sans lien dans "
         "l'export, la réponse officielle suivante sous la même publication est attribuée au dernier message qui "
         "la précède)."),
    ]


RESPONSIVENESS_NOTE = (
    "Sur les questions et les messages négatifs reçus (ceux qui appellent une réponse). Heures ouvrées : du lundi "
    "au vendredi, 9 h – 18 h (heure de Paris), selon l'heure du message reçu. « non visible » : les exports de ce "
    "territoire ne contiennent aucune réponse officielle, le taux est inconnu (pas nul).")
CONTACTS_NOTE = ("Auteurs pseudonymisés ; le nom n'apparaît que s'il a été conservé à l'import (option explicite). "
                 "Ancrage local : part de leurs messages qui concernent ce territoire.")


def responsiveness_table(r: pd.DataFrame, names: dict[str, str]) -> pd.DataFrame:
    """:func:`responsiveness_view` in French (territory names, platform and slot labels)."""
    slot_names = {**SLOTS, "all": "toutes heures"}
    return pd.DataFrame({
        "Territoire": r["territory_id"].map(lambda t: names.get(t, t)),
        "Plateforme": r["platform"].map(lambda p: PLATFORM_LABELS.get(p, p)),
        "Créneau": r["slot"].map(slot_names),
        "Messages reçus": r["incoming"].astype(int), "Réponses": r["answered"].astype(int),
        "Taux de réponse": r["response_rate"].map(lambda v: fr_pct(v, 0, missing="non visible")),
        "Délai médian (h)": r["median_hours"].map(lambda v: fr_num(v, 1)),
    })


def alerts_table(a: pd.DataFrame) -> pd.DataFrame:
    """:func:`alerts_view` in French."""
    return pd.DataFrame({
        "Gravité": a["severity"], "Règle": a["rule_label"], "Alerte": a["title"],
        "Début": a["period_start"].map(fr_date), "Déjà envoyée": a["already_fired"].map({True: "oui", False: "non"}),
    })


def impersonation_table(imp: pd.DataFrame) -> pd.DataFrame:
    """:func:`impersonation_view` in French."""
    return pd.DataFrame({
        "Compte": imp["account_id"], "Nom": imp["name"].fillna(imp["handle"]), "Ressemble à": imp["resembles"],
        "Score": imp["score"].astype(int), "Éléments": imp["evidence"],
    })


def contacts_table(k: pd.DataFrame) -> pd.DataFrame:
    """:func:`contacts_view` in French (shares as « 12 % », centrality per thousand)."""
    return pd.DataFrame({
        "Auteur": k["author_name"].fillna(k["author_hash"]), "Messages": k["messages"].astype(int),
        "J'aime reçus": k["likes_received"].fillna(0).astype(int),
        "Positifs": k["positive_share"].map(lambda v: fr_pct(v, 0)),
        "Négatifs": k["negative_share"].map(lambda v: fr_pct(v, 0)),
        "Ancrage local": k["locality"].map(lambda v: fr_pct(v, 0)),
        "Centralité (‰)": (1000 * k["centrality"]).round(1), "Profil": k["profile"],
    })


def queue_counts(con: duckdb.DuckDBPyConnection, f: Filters) -> dict[str, int]:
    """Number of queued messages per reason (aggregate, any role)."""
    return reason_counts(con, _own_filter(con, f))


def responsiveness_view(con: duckdb.DuckDBPyConnection, f: Filters, scope: str = "needs_answer") -> pd.DataFrame:
    """Responsiveness of the filtered territories (own and peers), per platform and slot, on the
    messages that call for an answer (questions and negative messages) by default."""
    return response_by_slot(con, f, scope)


def alerts_view(con: duckdb.DuckDBPyConnection, f: Filters) -> pd.DataFrame:
    """Alerts the rules detect on the filtered period (read-only: nothing is fired), plus whether
    each was already fired by `vigie alerts`."""
    reg = load_registry()
    known = {t.territory_id for t in reg.territories}
    terrs = [t for t in (f.territories or [focus_territory(con, f)]) if t in known]
    found, notes = al.evaluate(con, reg, terrs or None, f.start, f.end)
    fired = {r[0] for r in con.execute("SELECT alert_id FROM alerts").fetchall()}
    rows = [{"alert_id": a.alert_id, "rule": a.rule, "rule_label": al.RULES[a.rule], "territory_id": a.territory_id,
             "period_start": a.period_start, "period_end": a.period_end, "severity": al.SEVERITY_FR[a.severity],
             "title": a.title, "already_fired": a.alert_id in fired} for a in found]
    out = pd.DataFrame(rows, columns=["alert_id", "rule", "rule_label", "territory_id", "period_start", "period_end",
                                      "severity", "title", "already_fired"])
    out.attrs["notes"] = notes
    return out.sort_values("period_start", ascending=False).reset_index(drop=True)


def impersonation_view(con: duckdb.DuckDBPyConnection, f: Filters, role: str = "elu") -> pd.DataFrame:
    """Suspected impersonating pages of the focus territory.

    Pages and accounts only for the élu role (and the report): a message *author* flagged for a
    look-alike name (``author:<pseudonym>``, name kept by ``--keep-author-names``) is a person, shown
    to analysts only; ``attrs["hidden_authors"]`` counts them."""
    w = watch(con, load_registry(), focus_territory(con, f))
    if role in ("analyste", "admin", "analyst"):
        w.attrs["hidden_authors"] = 0
        return w
    authors = w["account_id"].map(is_author).astype(bool)  # bool even when empty: a row mask, not columns
    out = w[~authors].reset_index(drop=True)
    out.attrs["hidden_authors"] = int(authors.sum())
    return out


def contacts_view(con: duckdb.DuckDBPyConnection, f: Filters, role: str = "elu", top: int = 30,
                  visible: tuple[str, ...] = ()) -> pd.DataFrame:
    """Key contacts of the focus territory (analyst role only: identities are personal data).

    ``visible``: the territories the reader may see (``analysis.access``): an author's other messages
    are counted over those only (name, locality), so nothing is learnt of their activity elsewhere;
    with one visible territory the locality says nothing and is left empty."""
    if role not in ("analyste", "admin", "analyst"):
        raise PermissionError("Les contacts clés sont réservés au rôle analyste.")
    t = focus_territory(con, f)
    out = key_contacts(con, t, Filters(territories=tuple(visible), start=f.start, end=f.end, platforms=f.platforms),
                       role="analyst", top=top)
    if len(visible) == 1:
        out["locality"] = float("nan")
    return out


def report_section(con: duckdb.DuckDBPyConnection, f: Filters) -> dict:
    """Aggregate-only figures for the periodic report (no message text, no author).

    Keys: ``queue`` (counts per reason), ``responsiveness`` (records of the focus territory and
    its peers per platform and slot), ``alerts`` (rule, severity, French title, start),
    ``impersonation`` (suspected pages: name, platform, score).
    """
    t = focus_territory(con, f)
    terrs = (t, *peers_of(con, t)) if t else (t,)
    r = response_by_slot(con, f.with_territories(terrs), "needs_answer")
    a = alerts_view(con, f.with_territories((t,)))
    imp = impersonation_view(con, f)
    return {
        "territory_id": t,
        "queue": queue_counts(con, f),
        "responsiveness": r.to_dict(orient="records"),
        "alerts": a[["rule", "severity", "title", "period_start"]].to_dict(orient="records"),
        "alert_notes": a.attrs.get("notes", []),
        "impersonation": imp[["name", "handle", "platform", "score", "resembles"]].to_dict(orient="records"),
    }
