"""`vigie` command: glue only. Every command calls the library; long work shows progress.

The root app; each command group is a module of :mod:`analysis.cli` (``analysis/cli/<group>.py``),
registered in :data:`SUBCOMMANDS`.
"""

from __future__ import annotations

import importlib
import json
import os
import sys
from functools import partial
from pathlib import Path

import typer
from rich.console import Console
from rich.markup import escape
from rich.progress import BarColumn, MofNCompleteColumn, Progress, TextColumn, TimeElapsedColumn
from rich.table import Table
from typer.core import TyperGroup

from analysis import derived_refresh, privacy, queries, store
from analysis import enrich as enrich_mod
from analysis.cli.audience import import_population
from analysis.cli.common import french_cli, open_reader
from analysis.cli.enrich import say_results
from analysis.demo import build as demo_build
from analysis.distributed import import_paths as dask_import_paths
from analysis.fmt import fr_count, fr_int
from analysis.ingest import adapters, default_context, expand_paths, import_paths
from analysis.ingest.attach import account_example, registry_snippet
from analysis.privacy import KeyRefused
from analysis.registry import load_registry, registry_path

# Exit code of a command refused because another writer holds the store (sysexits' EX_TEMPFAIL:
# try again later).
EXIT_BUSY = 75
console = Console()
err = Console(stderr=True)


class _VigieGroup(TyperGroup):
    """The `vigie` command group: errors a user can meet on any command end in a French message and
    a non-zero exit code, never a traceback (a store held by another writer, a refused key)."""

    def invoke(self, ctx):  # noqa: ANN001, ANN201 - click's signature

        try:
            return super().invoke(ctx)
        except store.StoreBusy as e:
            err.print(f"[red]✗[/] {escape(str(e))}", soft_wrap=True)
            raise typer.Exit(EXIT_BUSY) from e
        except KeyRefused as e:
            err.print(f"[red]✗[/] {escape(str(e))}", soft_wrap=True)
            raise typer.Exit(1) from e


french_cli()  # Typer's own texts (help, usage, errors) in French, for every command
app = typer.Typer(
    cls=_VigieGroup,
    help="Vigie — observatoire des réseaux sociaux pour les collectivités.",
    no_args_is_help=True,
    add_completion=False,
    pretty_exceptions_enable=False,
)


@app.callback()
def _main(db: str = typer.Option(None, "--db", help="Base DuckDB (défaut : $VIGIE_DB ou data/vigie.duckdb).")) -> None:
    if db:
        os.environ["VIGIE_DB"] = str(Path(db).resolve())


# ------------------------------------------------------------------------------ import
@app.command("import")
def import_cmd(
    paths: list[Path] = typer.Argument(..., help="Fichiers ou dossiers d'exports."),
    keep_going: bool = typer.Option(False, "--keep-going", help="Ignorer les lignes en erreur (chacune est signalée)."),
    as_json: bool = typer.Option(False, "--json", help="Résultat en JSON."),
    account: str = typer.Option(None, "--account", help="Compte concerné pour les exports qui ne le disent pas (commentaires ExportComments sans "
                               "« Source URL », Insights…), ex. --account facebook:104857600000001."),
    fmt: str = typer.Option(None, "--format", help="Forcer un format (voir `vigie formats`)."),
    mapping: Path = typer.Option(None, "--mapping", help="Fichier TOML de correspondance de colonnes (CSV/XLSX quelconque)."),
    tz: str = typer.Option(None, "--tz", help="Fuseau des horodatages sans fuseau (défaut Europe/Paris)."),
    keep_names: bool = typer.Option(False, "--keep-author-names", help="Conserver les noms affichés des auteurs (opt-in)."),
    export_date: str = typer.Option(None, "--date-export", help="Jour où les exports ont été téléchargés (AAAA-MM-JJ) : "
                                    "complète les dates sans année (TikTok, Meta) et date les instantanés démographiques."),
    force: bool = typer.Option(False, "--force", help="Réanalyser même un fichier déjà importé."),
    engine: str = typer.Option("local", "--engine", help="local ou dask (fichiers analysés sur les workers)."),
    scheduler: str = typer.Option(None, "--scheduler", help="Adresse du scheduler dask (défaut : cluster local)."),
    enrich: bool = typer.Option(False, "--enrich", help="Enrichir aussitôt ce qui est nouveau (sentiment, thèmes, "
                                "modération), dans la même session : un démarrage et une mise à jour des agrégats "
                                "au lieu de deux avec `vigie enrich` ensuite."),
) -> None:
    """Importer des exports (format reconnu d'après le contenu). Tout ou rien par fichier."""
    run_imports = import_paths
    if engine == "dask":
        run_imports = partial(dask_import_paths, scheduler=scheduler)  # same signature
    elif engine != "local":
        err.print(f"[red]Moteur inconnu : {engine!r} (attendu : local ou dask)[/]")
        raise typer.Exit(2)

    snapshot = None
    if export_date:
        from datetime import date

        try:
            snapshot = date.fromisoformat(export_date)
        except ValueError:
            err.print(f"[red]--date-export « {export_date} » : date attendue au format AAAA-MM-JJ[/]")
            raise typer.Exit(2) from None
    mapping_data = None
    if mapping:
        import tomllib

        mapping_data = tomllib.loads(mapping.read_text(encoding="utf-8"))
    ctx = default_context(account_hint=account, keep_author_names=keep_names, mapping=mapping_data,
                          source_tz=tz, snapshot_date=snapshot)
    files = expand_paths(paths)
    results = []
    enriched: dict = {}  # nothing new: nothing to enrich

    def refused(e: Exception, code: int) -> None:
        """A refusal before any file was read: the French message, and the JSON a script expects."""
        err.print(f"[red]✗[/] {escape(str(e))}", soft_wrap=True)
        if as_json:
            print(json.dumps({"files": [], "error": str(e)}, ensure_ascii=False, indent=2))
        raise typer.Exit(code)

    try:  # the key first: an empty or short key must stop the import before anything is written
        privacy.get_key()
    except privacy.KeyRefused as e:
        refused(e, 1)
    for w in privacy.key_warnings():
        err.print(f"[yellow]![/] {escape(w)}", soft_wrap=True)
    try:
        with derived_refresh.writer() as con:
            if as_json:
                results = run_imports(con, files, ctx, keep_going=keep_going, force=force, fmt=fmt)
            else:
                with Progress(TextColumn("{task.description}"), BarColumn(), MofNCompleteColumn(),
                              TimeElapsedColumn(), console=err, transient=True) as prog:
                    task = prog.add_task("Import", total=len(files))

                    def on_file(f, r):
                        prog.update(task, advance=1, description=f"Import {f.name[:40]}")

                    results = run_imports(con, files, ctx, keep_going=keep_going, force=force, fmt=fmt,
                                           on_file=on_file)
            if enrich and any(r.status == "ok" and (r.inserted or r.updated) for r in results):
                enriched = enrich_mod.run(con, progress=None if as_json else err)
    except store.StoreBusy as e:
        refused(e, EXIT_BUSY)
    if as_json:
        out = {"files": [r.as_json() for r in results]}
        if enrich:
            out["enrich"] = enriched
        print(json.dumps(out, ensure_ascii=False, indent=2))
    else:
        t = Table(title="Import")
        for c in ("Fichier", "Format", "Lues", "Ajoutées", "Mises à jour", "Rejetées", "Statut"):
            t.add_column(c, justify="right" if c in ("Lues", "Ajoutées", "Mises à jour", "Rejetées") else "left")
        for r in results:
            status = {"ok": "[green]ok[/]", "error": "[red]erreur[/]", "skipped": "[yellow]ignoré[/]"}[r.status]
            t.add_row(Path(r.path).name, r.format or "?", fr_int(r.rows_read), fr_int(r.inserted),
                      fr_int(r.updated), fr_int(r.rejected), status)
        console.print(t)
        if enriched:
            say_results(enriched)
        for r in results:
            if r.error:
                err.print(f"[red]✗[/] {r.error}")
            elif r.rejected:
                err.print(f"[yellow]![/] {r.path} : {fr_count(r.rejected, 'ligne rejetée', 'lignes rejetées')}, voir `vigie status --rejects`.")
            _print_unattached(r)
    if any(r.status == "error" for r in results):
        raise typer.Exit(1)


def _print_unattached(r) -> None:
    """Warn about a file's accounts outside the registry, with the registry lines and the command."""
    if r.unknown_accounts:
        err.print(f"[yellow]![/] {escape(Path(r.path).name)} : {fr_count(len(r.unknown_accounts), 'compte')} hors registre "
                  "(leurs données sont classées « hors registre », sans territoire) :", soft_wrap=True)
        for u in r.unknown_accounts:
            err.print(f"  - {u['platform']} · {escape(str(u['name'] or u['handle'] or u['account_id']))} "
                      f"({escape(u['account_id'])}) : {fr_count(u['posts'], 'publication')}, "
                      f"{fr_count(u['messages'], 'message')}", soft_wrap=True)
        err.print("  Pour les rattacher : ajoutez sous le [[territory]] concerné de votre registre "
                  f"({escape(str(registry_path()))}) :", soft_wrap=True)
        for u in r.unknown_accounts:
            err.print(escape(registry_snippet(u)), highlight=False, soft_wrap=True)
        err.print("  puis lancez `vigie attach --dry-run` (aperçu) et `vigie attach`.", soft_wrap=True)
    if r.without_account:
        err.print(f"[yellow]![/] {escape(Path(r.path).name)} : {fr_count(r.without_account, 'commentaire')} sans "
                  "compte : le fichier ne dit pas sous quelle page ils ont été écrits. Réimportez-le avec "
                  f"--account, par exemple : vigie import {escape(Path(r.path).name)} --account "
                  f"{account_example(r.without_account_platform)} --force", soft_wrap=True)


@app.command("formats")
def formats_cmd() -> None:
    """Lister les formats d'export reconnus."""

    t = Table(title="Formats reconnus")
    t.add_column("Nom")
    t.add_column("Plateforme")
    t.add_column("Description")
    for a in adapters():
        t.add_row(a.name, a.platform, a.label)
    console.print(t)


# ------------------------------------------------------------------------------ territories
territories_app = typer.Typer(help="Registre des territoires.", invoke_without_command=True)
app.add_typer(territories_app, name="territories")


@territories_app.callback()
def territories_cmd(ctx: typer.Context, registry: Path = typer.Option(None, "--registry", help="Fichier TOML.")) -> None:
    """Afficher le registre : territoires, population, pairs, comptes officiels."""
    if ctx.invoked_subcommand:
        return

    reg = load_registry(registry)
    t = Table(title=f"Territoires ({reg.path})")
    for c in ("Id", "Nom", "INSEE", "Population", "Rôle", "Comptes officiels"):
        t.add_column(c)
    for ter in reg.territories:
        accs = ", ".join(f"{a.platform}:{a.handle or a.native_id}" for a in ter.accounts)
        t.add_row(ter.territory_id, ter.name, ter.insee_code or "", fr_int(ter.population),
                  "nous" if ter.kind == "own" else "pair", accs)
    console.print(t)


@territories_app.command("population")
def territories_population_cmd(
    file: Path = typer.Argument(..., help="CSV INSEE « population par sexe et âge » (séparateur « ; »)."),
    territory: str = typer.Option(None, "--territory", "-t", help="Tout attribuer à ce territoire (ex. EPCI)."),
    registry: Path = typer.Option(None, "--registry", help="Fichier TOML."),
) -> None:
    """Importer la population par sexe et âge d'un fichier INSEE (référence de représentativité)."""

    import_population(file, territory, registry)


# ------------------------------------------------------------------------------ status
@app.command("status")
def status_cmd(
    rejects: bool = typer.Option(False, "--rejects", help="Afficher les lignes rejetées."),
    as_json: bool = typer.Option(False, "--json"),
) -> None:
    """Couverture des données par territoire, plateforme et mois ; journal des imports."""

    with open_reader() as con:
        counts = store.table_counts(con)
        cov = queries.coverage(con)
        log = queries.import_log(con, limit=20)
        rej = queries.rejects(con, limit=50) if rejects else None
    if as_json:
        print(json.dumps({"counts": counts, "coverage": json.loads(cov.to_json(orient="records", date_format="iso")),
                          "imports": json.loads(log.to_json(orient="records", date_format="iso"))},
                         ensure_ascii=False, indent=2))
        return
    t = Table(title=f"Base {store.db_path()}")
    t.add_column("Table")
    t.add_column("Lignes", justify="right")
    for k, v in counts.items():
        t.add_row(k, fr_int(v))
    console.print(t)
    summary = queries.coverage_summary(cov)
    t = Table(title="Couverture par territoire et plateforme")
    for c in summary.columns:
        t.add_column(str(c))
    for row in summary.itertuples(index=False):
        t.add_row(*[fr_int(v) if isinstance(v, int | float) and not isinstance(v, bool) else str(v) for v in row])
    console.print(t)
    t = Table(title="Derniers imports")
    for c in ("Date", "Fichier", "Format", "Lues", "Ajoutées", "Mises à jour", "Rejetées"):
        t.add_column(c)
    for r in log.itertuples(index=False):
        t.add_row(str(r.finished_at)[:16], Path(r.path).name, r.format, fr_int(r.rows_read), fr_int(r.inserted),
                  fr_int(r.updated), fr_int(r.rejected))
    console.print(t)
    if rej is not None:
        t = Table(title="Lignes rejetées")
        for c in ("Fichier", "Ligne", "Colonne", "Valeur", "Raison"):
            t.add_column(c)
        for r in rej.itertuples(index=False):
            t.add_row(Path(r.path).name, str(r.line), str(r.column_name), str(r.value), r.reason)
        console.print(t)


# ------------------------------------------------------------------------------ demo
@app.command("demo")
def demo_cmd(
    out: Path = typer.Option(None, "--exports", help="Dossier où écrire les exports de démonstration."),
    seed: int = typer.Option(42, "--seed"),
    scale: float = typer.Option(1.0, "--scale", help="Taille relative (1.0 = ~10 000 posts, ~200 000 messages)."),
    enrich: bool = typer.Option(True, "--enrich/--no-enrich", help="Enrichir (sentiment, thèmes) après l'import."),
) -> None:
    """Générer les exports de démonstration (5 territoires fictifs, 24 mois) et les importer."""

    dbp = store.db_path()
    exports = out or dbp.parent / (dbp.stem + "_exports")
    summary = demo_build.build(exports_dir=exports, db=dbp, seed=seed, scale=scale, enrich=enrich,
                         progress=lambda msg: err.print(msg))
    console.print(summary)


# ------------------------------------------------------------------------------ sub-commands
SUBCOMMANDS = [
    # (module, attribute, name)
    ("analysis.cli.sentiment", "app", "sentiment"),
    ("analysis.cli.ereputation", "app", "ereputation"),
    ("analysis.cli.enrich", "app", None),
    ("analysis.cli.topics", "app", "topics"),
    ("analysis.cli.audience", "app", None),
    ("analysis.cli.campaigns", "app", None),
    ("analysis.cli.events", "app", None),  # vigie events …, vigie draft … (issue 21)
    ("analysis.cli.moderation", "app", None),
    ("analysis.cli.report", "app", None),
    ("analysis.cli.privacy", "app", None),
    ("analysis.cli.parquet", "app", None),
    ("analysis.cli.collect", "app", "collect"),
    ("analysis.cli.eval", "app", None),
    ("analysis.cli.attach", "app", None),  # vigie attach (issue 22 item 2)
]


def _register() -> None:
    for mod, attr, name in SUBCOMMANDS:
        try:
            m = importlib.import_module(mod)
        except ModuleNotFoundError as e:
            if e.name and mod.startswith(e.name):
                continue
            raise
        sub = getattr(m, attr)
        if name:
            app.add_typer(sub, name=name)
        else:
            # a Typer whose commands are merged at top level
            for cmd in sub.registered_commands:
                app.registered_commands.append(cmd)
            for grp in sub.registered_groups:
                app.registered_groups.append(grp)


_register()


def main() -> None:
    app()


if __name__ == "__main__":  # pragma: no cover
    sys.exit(main())
