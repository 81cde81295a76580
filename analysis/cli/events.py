"""`vigie events …` and `vigie draft …`: glue over :mod:`analysis.events`."""

from __future__ import annotations

import json
from datetime import datetime
from pathlib import Path

import typer
from rich.console import Console
from rich.markup import escape
from rich.table import Table

from analysis import store
from analysis.cli.common import open_reader, parse_date
from analysis.demo.events import coverage
from analysis.events import draft as D
from analysis.events import engagement as E
from analysis.events.evaluation import evaluate_event
from analysis.events.model import events_frame, to_ics
from analysis.fmt import fr_count, fr_int, fr_num, fr_pct
from analysis.ingest import default_context, import_paths

app = typer.Typer(add_completion=False)
events_app = typer.Typer(help="Événements : importer des agendas, lister, exporter en .ics, évaluer leur promotion.",
                         no_args_is_help=True)
draft_app = typer.Typer(help="Avant de publier : vérifier un brouillon, évaluer le modèle d'engagement.",
                        no_args_is_help=True)
app.add_typer(events_app, name="events")
app.add_typer(draft_app, name="draft")
console = Console()
err = Console(stderr=True)


@events_app.command("import")
def import_cmd(paths: list[Path] = typer.Argument(..., help="Agendas : OpenAgenda JSON, DATAtourisme JSON-LD, CSV, .ics."),
               territory: str = typer.Option(None, "--territory", help="Territoire des événements (sinon : d'après le lieu)."),
               keep_going: bool = typer.Option(False, "--keep-going", help="Ignorer les lignes en erreur."),
               force: bool = typer.Option(False, "--force", help="Réimporter un fichier déjà importé.")) -> None:
    """Importer des agendas d'événements (format reconnu d'après le contenu)."""

    ctx = default_context()
    if territory and ctx.registry is not None and territory not in {t.territory_id for t in ctx.registry.territories}:
        raise typer.BadParameter(f"territoire inconnu : {territory}", param_hint="--territory")
    ctx.territory_id = territory
    with store.writer() as con:
        res = import_paths(con, paths, ctx, keep_going=keep_going, force=force)
    t = Table(title="Import d'agendas")
    for c in ("Fichier", "Format", "Lus", "Ajoutés", "Mis à jour", "Statut"):
        t.add_column(c)
    for r in res:
        t.add_row(escape(Path(r.path).name), r.format or "?", fr_int(r.rows_read), fr_int(r.inserted),
                  fr_int(r.updated), r.status)
    console.print(t)
    for r in res:
        for n in ([r.error] if r.error else []) + [n for n in r.notes if not n.endswith(" s")]:
            err.print(f"{escape(Path(r.path).name)} : {escape(n)}")
    if any(r.status == "error" for r in res):
        raise typer.Exit(1)


@events_app.command("list")
def list_cmd(territory: list[str] = typer.Option([], "--territory"), start: str = typer.Option(None, "--from"),
             end: str = typer.Option(None, "--to"), as_json: bool = typer.Option(False, "--json")) -> None:
    """Lister les événements (dates en heure de Paris)."""

    with open_reader() as con:
        ev = events_frame(con, territory, parse_date(start, "--from"), parse_date(end, "--to"))
    if as_json:
        print(ev[["event_id", "territory_id", "title", "start_local", "end_local", "theme_effective"]]
              .to_json(orient="records", force_ascii=False, date_format="iso"))
        return
    t = Table(title=f"Événements ({fr_int(len(ev))})")
    for c in ("Id", "Territoire", "Titre", "Début", "Thème"):
        t.add_column(c)
    for r in ev.itertuples():
        t.add_row(escape(r.event_id), str(r.territory_id), escape(str(r.title)), str(r.start_local)[:16],
                  str(r.theme_effective))
    console.print(t)


@events_app.command("export")
def export_cmd(out: Path = typer.Argument(..., help="Fichier .ics à écrire."),
               territory: list[str] = typer.Option([], "--territory"), start: str = typer.Option(None, "--from"),
               end: str = typer.Option(None, "--to")) -> None:
    """Exporter les événements en iCalendar (.ics), relisible par `vigie events import`."""

    with open_reader() as con:
        ev = events_frame(con, territory, parse_date(start, "--from"), parse_date(end, "--to"))
    out.write_bytes(to_ics(ev))
    console.print(f"{fr_count(len(ev), 'événement écrit', 'événements écrits')} dans {escape(str(out))}")


@events_app.command("evaluate")
def evaluate_cmd(event_id: str = typer.Argument(..., help="Id de l'événement (voir `vigie events list`)."),
                 n_boot: int = typer.Option(2000, "--n-boot"), seed: int = typer.Option(0, "--seed"),
                 as_json: bool = typer.Option(False, "--json")) -> None:
    """Évaluer la promotion d'un événement (effet, intervalle, comparaisons, verdict)."""

    with open_reader() as con:
        try:
            ev = evaluate_event(con, event_id, n_boot=n_boot, seed=seed)
        except (KeyError, ValueError) as e:
            err.print(escape(str(e.args[0])))
            raise typer.Exit(1) from e
    if as_json:
        print(json.dumps({"event_id": event_id, "promo_posts": ev.promo_posts["post_id"].tolist(),
                          "effect": ev.lift.estimate, "low": ev.lift.low, "high": ev.lift.high,
                          "past": ev.past.estimate, "peers": ev.peers.estimate, "verdict": ev.verdict},
                         ensure_ascii=False, indent=1))
        return
    console.print(escape(ev.verdict), soft_wrap=True)


@events_app.command("coverage")
def coverage_cmd(seeds: int = typer.Option(200, "--seeds"), effect: float = typer.Option(0.4, "--effect"),
                 posts: int = typer.Option(6, "--posts")) -> None:
    """Couverture des intervalles de l'évaluation sur des agendas simulés (modèle de la démo)."""

    c = coverage(range(seeds), effect=effect, n_promo=posts)
    console.print(f"{fr_int(c['simulations'])} simulations, effet injecté {fr_pct(effect, 0, signed=True)}, "
                  f"{posts} publications de promotion : l'intervalle à 95 % couvre l'effet dans "
                  f"{fr_pct(c['coverage'], 1)} des cas ; effet nul déclaré significatif dans "
                  f"{fr_pct(c['false_positive_rate'], 1)} des cas.")


@draft_app.command("check")
def check_cmd(text: str = typer.Argument(..., help="Texte du brouillon (« - » : lu sur l'entrée standard)."),
              territory: str = typer.Option(..., "--territory"), platform: str = typer.Option("facebook", "--platform"),
              fmt: str = typer.Option("photo", "--format", help="photo, video, reel, carousel, link, text."),
              at: str = typer.Option(None, "--at", help="Publication prévue, heure de Paris : AAAA-MM-JJ HH:MM."),
              as_json: bool = typer.Option(False, "--json")) -> None:
    """Vérifier un brouillon avant publication : thèmes, ton, lisibilité, hashtags, créneaux, engagement attendu."""
    import sys


    if text == "-":
        text = sys.stdin.read()
    try:
        when = datetime.strptime(at, "%Y-%m-%d %H:%M") if at else datetime.now().replace(second=0, microsecond=0)
    except ValueError as e:
        raise typer.BadParameter("attendu : AAAA-MM-JJ HH:MM", param_hint="--at") from e
    with open_reader() as con:
        try:
            d = D.check(con, territory, text, platform, fmt, when)
        except ValueError as e:
            raise typer.BadParameter(str(e)) from e
    if as_json:
        print(json.dumps(d.as_dict(), ensure_ascii=False, indent=1, default=str))
        return
    for line in D.summary_fr(d):
        console.print(escape(line), soft_wrap=True)


@draft_app.command("evaluate")
def evaluate_model_cmd(territory: list[str] = typer.Option([], "--territory",
                                                           help="Territoires (défaut : chaque compte de la base)."),
                       as_json: bool = typer.Option(False, "--json")) -> None:
    """Évaluer le modèle d'engagement sur un découpage temporel (couverture de l'intervalle à 80 %, erreur vs médiane)."""

    with open_reader() as con:
        evs = [E.evaluate(E.history(con, [t]), t) for t in territory] if territory else E.evaluate_accounts(con)
    rows = [e.as_row() for e in evs]
    if as_json:
        print(json.dumps(rows, ensure_ascii=False, indent=1))
        return
    t = Table(title="Modèle d'engagement : évaluation sur les publications les plus récentes")
    for c in ("Historique", "Publications", "Évaluées", "Couverture 80 %", "IC 95 %", "Erreur modèle", "Erreur médiane"):
        t.add_column(c)
    for r in rows:
        t.add_row(escape(str(r["label"])), fr_int(r["n_posts"]), fr_int(r["n_test"]), fr_pct(r["coverage"], 0),
                  f"{fr_pct(r['coverage_low'], 0)} à {fr_pct(r['coverage_high'], 0)}",
                  fr_num(r["mae_model"]), fr_num(r["mae_median"]))
    console.print(t)
    for r in rows:
        if r["note"]:
            err.print(f"{escape(str(r['label']))} : {escape(r['note'])}")
