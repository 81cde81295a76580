"""`vigie alerts` and `vigie moderation …`: glue over :mod:`analysis.moderation`."""

from __future__ import annotations

import json
import sys
from pathlib import Path

import typer
from rich.console import Console
from rich.table import Table

from analysis import derived_refresh
from analysis.cli.common import open_reader, parse_date, parse_until
from analysis.exports import to_csv_bytes, write_csv
from analysis.fmt import fr_count, fr_datetime, fr_int, fr_num, fr_pct
from analysis.moderation import alerts as al
from analysis.moderation import toxicity as tox
from analysis.moderation.contacts import key_contacts
from analysis.moderation.impersonation import watch
from analysis.moderation.queue import AGES, REASONS, STATUSES, assign, queue, set_status
from analysis.moderation.responsiveness import SCOPES, french_table, response_by_slot
from analysis.moderation.scoring import enrich
from analysis.queries import Filters
from analysis.registry import load_registry
from analysis.territories import own_territory, peers_of
from analysis.views.moderation import worklist_table

app = typer.Typer(add_completion=False)
moderation = typer.Typer(help="Modération : file à traiter, statuts, réactivité, usurpations, contacts clés.",
                         no_args_is_help=True)
app.add_typer(moderation, name="moderation")
console = Console()
err = Console(stderr=True)


_date = parse_date


def _registry():
    return load_registry()


def _own(territory: str | None) -> str:
    reg = _registry()
    if territory:
        reg.territory(territory)  # raises a French KeyError if unknown
        return territory
    with _reader() as con:  # the store's registry, as every view (analysis.territories)
        own = own_territory(con)
    if not own:
        raise typer.BadParameter("aucun territoire « own » dans le registre : précisez --territory")
    return own


_reader = open_reader


def _json(df) -> str:
    return json.dumps(json.loads(df.to_json(orient="records", date_format="iso", force_ascii=False)),
                      ensure_ascii=False, indent=2)


# ------------------------------------------------------------------------------ alerts
@app.command("alerts")
def alerts_cmd(
    territory: list[str] = typer.Option(None, "--territory", "-t", help="Territoires (défaut : tous)."),
    since: str = typer.Option(None, "--since", help="Début de la fenêtre évaluée AAAA-MM-JJ (défaut : 14 derniers jours de données)."),
    until: str = typer.Option(None, "--until", help="Dernier jour inclus AAAA-MM-JJ (défaut : dernier jour de données)."),
    fmt: str = typer.Option("text", "--format", help="text, json ou html."),
    out: Path = typer.Option(None, "--out", help="Écrire le résumé dans ce fichier."),
    dry_run: bool = typer.Option(False, "--dry-run", help="Évaluer sans enregistrer (les alertes pourront être émises plus tard)."),
) -> None:
    """Évaluer les règles d'alerte ; chaque alerte n'est émise qu'une fois (adapté à cron)."""

    if fmt not in ("text", "json", "html"):
        raise typer.BadParameter("choisir text, json ou html", param_hint="--format")
    s, u = _date(since, "--since"), parse_until(until)
    reg = _registry()
    for t in territory or []:
        reg.territory(t)
    if dry_run:
        with _reader() as con:
            found, notes = al.evaluate(con, reg, territory or None, s, u)
            known = {r[0] for r in con.execute("SELECT alert_id FROM alerts").fetchall()}
        new = [a for a in found if a.alert_id not in known]
    else:
        with derived_refresh.writer() as con:
            found, notes = al.evaluate(con, reg, territory or None, s, u)
            new = al.fire(con, found)
    text = {"text": al.digest_text, "json": al.digest_json, "html": al.digest_html}[fmt](new, notes)
    if out:
        out.parent.mkdir(parents=True, exist_ok=True)
        out.write_text(text, encoding="utf-8")
        err.print(f"{fr_count(len(new), 'nouvelle alerte', 'nouvelles alertes')} → {out}")
    else:
        print(text, end="")


# ------------------------------------------------------------------------------ moderation
@moderation.command("train-toxicity")
def train_cmd(
    data: Path = typer.Option(..., "--data", help="CSV MLMA français (fr_dataset.csv)."),
    seed: int = typer.Option(42, "--seed"),
    test_size: float = typer.Option(0.2, "--test-size", help="Part tenue à l'écart pour l'évaluation."),
    out: Path = typer.Option(None, "--out", help="Modèle produit (défaut : data/models/toxicity_fr.json.gz)."),
    metrics: Path = typer.Option(None, "--metrics", help="Fichier JSON des mesures (défaut : data/models/toxicity_metrics.json)."),
) -> None:
    """Entraîner le classifieur de toxicité (partage stratifié, mesures sur la partie tenue à l'écart)."""

    if not data.exists():
        err.print(f"[red]Fichier introuvable : {data}[/]")
        raise typer.Exit(1)
    m = tox.train(data, seed=seed, test_size=test_size, out=out or tox.MODEL_PATH,
                  metrics_out=metrics or tox.MODEL_PATH.with_name("toxicity_metrics.json"), progress=err.print)
    h, b = m["held_out"], m["baselines"]
    t = Table(title=f"Toxicité — partie tenue à l'écart ({fr_int(m['n_test'])} messages sur {fr_int(m['n'])}, graine {seed})")
    for c in ("Classe", "Précision", "Rappel", "F1"):
        t.add_column(c)
    t.add_row("hostile", fr_num(h["precision_hostile"], 3), fr_num(h["recall_hostile"], 3), fr_num(h["f1_hostile"], 3))
    t.add_row("normal", fr_num(h["precision_normal"], 3), fr_num(h["recall_normal"], 3), fr_num(h["f1_normal"], 3))
    lx = b["lexicon_only"]
    t.add_row("hostile (lexique seul)", fr_num(lx["precision_hostile"], 3), fr_num(lx["recall_hostile"], 3),
              fr_num(lx["f1_hostile"], 3))
    console.print(t)
    console.print(f"F1 macro {fr_num(h['f1_macro'], 3)} (classe majoritaire : {fr_num(b['majority_f1_macro'], 3)}), "
                  f"AUC {fr_num(h['roc_auc'], 3)}, précision moyenne {fr_num(h['average_precision'], 3)} ; "
                  f"part hostile {fr_pct(m['positive_share'])}.")
    console.print(f"Modèle : {m.get('artifact')}")


@moderation.command("score")
def score_cmd(force: bool = typer.Option(False, "--force", help="Tout recalculer.")) -> None:
    """Calculer la toxicité et la détection de questions des messages (incrémental)."""
    from rich.progress import Progress


    with derived_refresh.writer() as con, Progress(console=err, transient=True) as prog:
        task = prog.add_task("Toxicité", total=None)
        n = enrich(con, progress=lambda done, total: prog.update(task, completed=done, total=total), force=force)
    console.print(f"{fr_count(n, 'message évalué', 'messages évalués')}.")


@moderation.command("queue")
def queue_cmd(
    territory: str = typer.Option(None, "--territory", "-t", help="Territoire (défaut : le nôtre)."),
    since: str = typer.Option(None, "--since"),
    until: str = typer.Option(None, "--until", help="Dernier jour inclus AAAA-MM-JJ."),
    platform: list[str] = typer.Option(None, "--platform"),
    limit: int = typer.Option(30, "--limit"),
    include_done: bool = typer.Option(False, "--all", help="Inclure les messages déjà traités."),
    reason: list[str] = typer.Option(None, "--reason", help=f"Motifs : {', '.join(REASONS)}."),
    age: list[str] = typer.Option(None, "--age", help=f"Attente : {', '.join(AGES)}."),
    fmt: str = typer.Option("text", "--format", help="text, json ou csv (colonnes en français, « ; »)."),
    csv_out: Path = typer.Option(None, "--csv", help="Écrire la file dans ce fichier CSV (tableur, formules neutralisées)."),
    as_json: bool = typer.Option(False, "--json", help="Comme --format json."),
) -> None:
    """File de modération : messages à traiter, par priorité, avec leur motif."""

    if fmt not in ("text", "json", "csv"):
        raise typer.BadParameter("choisir text, json ou csv", param_hint="--format")
    for value, known, hint in ((reason, REASONS, "--reason"), (age, AGES, "--age")):
        if bad := [v for v in value or () if v not in known]:
            raise typer.BadParameter(f"« {bad[0]} » inconnu : choisir parmi {', '.join(known)}", param_hint=hint)
    f = Filters(territories=(_own(territory),), start=_date(since, "--since"), end=parse_until(until),
                platforms=tuple(platform or ()))
    with _reader() as con:
        q = queue(con, f, include_done=include_done, limit=limit, reasons=tuple(reason or ()), ages=tuple(age or ()))
    if csv_out or fmt == "csv":
        table = worklist_table(q)
        if csv_out:
            write_csv(table, csv_out)
            err.print(f"{fr_count(len(table), 'message')} → {csv_out}")
        else:
            sys.stdout.buffer.write(to_csv_bytes(table))
        return
    if as_json or fmt == "json":
        print(_json(q.drop(columns=["lexicon_hits"]).assign(lexicon_hits=q["lexicon_hits"].map(
            lambda v: list(v) if v is not None else []))))
        return
    t = Table(title=f"File de modération — {fr_count(len(q), 'message')}")
    for c in ("Id", "Date", "Plateforme", "Message", "Motif", "Statut"):
        t.add_column(c, overflow="fold")
    for r in q.itertuples(index=False):
        t.add_row(r.message_id, fr_datetime(r.created_at), r.platform, (r.text or "")[:120], r.reasons, r.status_label)
    console.print(t)


@moderation.command("status")
def status_cmd(
    message_ids: list[str] = typer.Argument(..., help="Identifiants des messages."),
    status: str = typer.Option(..., "--status", help="a_traiter, repondu, masque, ignore ou escalade."),
    by: str = typer.Option(..., "--by", help="Qui prend la décision."),
    note: str = typer.Option(None, "--note"),
) -> None:
    """Enregistrer un statut de modération (qui, quand), tracé dans le journal d'audit."""

    try:
        with derived_refresh.writer() as con:
            n = set_status(con, message_ids, status, by, note)
    except ValueError as e:
        err.print(f"[red]{e}[/]")
        raise typer.Exit(1) from e
    console.print(f"{fr_count(n, 'message marqué', 'messages marqués')} « {STATUSES[status]} » par {by}.")


@moderation.command("assign")
def assign_cmd(
    message_ids: list[str] = typer.Argument(..., help="Identifiants des messages."),
    to: str = typer.Option(..., "--to", help="Collègue à qui confier les messages."),
    by: str = typer.Option(..., "--by", help="Qui les confie."),
) -> None:
    """Confier des messages de la file à un·e collègue (tracé dans le journal d'audit)."""

    try:
        with derived_refresh.writer() as con:
            n = assign(con, message_ids, to, by)
    except ValueError as e:
        err.print(f"[red]{e}[/]")
        raise typer.Exit(1) from e
    console.print(f"{fr_count(n, 'message confié', 'messages confiés')} à {to} par {by}.")


@moderation.command("responsiveness")
def responsiveness_cmd(
    territory: list[str] = typer.Option(None, "--territory", "-t", help="Territoires (défaut : le nôtre et ses pairs)."),
    since: str = typer.Option(None, "--since"),
    until: str = typer.Option(None, "--until", help="Dernier jour inclus AAAA-MM-JJ."),
    scope: str = typer.Option("needs_answer", "--scope",
                              help="all (tous les messages reçus), needs_answer (questions et messages négatifs) "
                                   "ou questions."),
    as_json: bool = typer.Option(False, "--json"),
) -> None:
    """Taux de réponse et délai médian de première réponse, heures ouvrées / soirs et week-ends."""

    if scope not in SCOPES:
        raise typer.BadParameter(f"choisir parmi {', '.join(SCOPES)}", param_hint="--scope")
    if not territory:
        own = _own(None)
        with _reader() as con:
            territory = [own, *peers_of(con, own)]
    f = Filters(territories=tuple(territory), start=_date(since, "--since"), end=parse_until(until))
    with _reader() as con:
        r = response_by_slot(con, f, scope)
    if as_json:
        print(_json(r))
        return
    tab = french_table(r, {t.territory_id: t.name for t in _registry().territories})
    t = Table(title=f"Réactivité des comptes officiels — {SCOPES[scope]}")
    for c in tab.columns:
        t.add_column(c)
    for row in tab.itertuples(index=False):
        t.add_row(*[fr_int(v) if isinstance(v, int) else str(v) for v in row])
    console.print(t)


@moderation.command("impersonation")
def impersonation_cmd(
    territory: str = typer.Option(None, "--territory", "-t", help="Territoire (défaut : le nôtre)."),
    threshold: float = typer.Option(85.0, "--threshold", help="Score minimal (0–100)."),
    as_json: bool = typer.Option(False, "--json"),
) -> None:
    """Pages et comptes qui imitent un compte officiel du territoire sans être au registre."""

    with _reader() as con:
        w = watch(con, _registry(), _own(territory), threshold)
    if as_json:
        print(_json(w))
        return
    t = Table(title=f"Usurpations possibles — {fr_int(len(w))}")
    for c in ("Compte", "Nom", "Ressemble à", "Score", "Éléments"):
        t.add_column(c, overflow="fold")
    for r in w.itertuples(index=False):
        t.add_row(r.account_id, str(r.name or r.handle), r.resembles, fr_int(r.score), r.evidence)
    console.print(t)


@moderation.command("contacts")
def contacts_cmd(
    territory: str = typer.Option(None, "--territory", "-t", help="Territoire (défaut : le nôtre)."),
    since: str = typer.Option(None, "--since"),
    until: str = typer.Option(None, "--until", help="Dernier jour inclus AAAA-MM-JJ."),
    top: int = typer.Option(20, "--top"),
    role: str = typer.Option("analyst", "--role", help="analyst (identités si conservées) ou elu (aucune identité)."),
    as_json: bool = typer.Option(False, "--json"),
) -> None:
    """Contacts clés : auteurs les plus engagés, ambassadeurs, critiques récurrents, centralité, ancrage local."""

    f = Filters(start=_date(since, "--since"), end=parse_until(until))
    with _reader() as con:
        k = key_contacts(con, _own(territory), f, role=role, top=top)
    if as_json:
        print(_json(k))
        return
    t = Table(title="Contacts clés")
    for c in ("Auteur", "Messages", "J'aime reçus", "Positifs", "Négatifs", "Ancrage local", "Centralité", "Profil"):
        t.add_column(c)
    for r in k.itertuples(index=False):
        who = getattr(r, "author_name", None) or r.author_hash
        t.add_row(str(who), fr_int(r.messages), fr_int(r.likes_received), fr_pct(r.positive_share, 0),
                  fr_pct(r.negative_share, 0), fr_pct(r.locality, 0), fr_num(1000 * r.centrality, 1), r.profile)
    console.print(t)
