"""`vigie collect`: glue between the registry, the credentials, the connectors and the store."""

from __future__ import annotations

import json
import sys
import time
from collections.abc import Iterator
from contextlib import contextmanager
from datetime import datetime
from pathlib import Path

import duckdb
import typer
from rich.console import Console
from rich.table import Table

from analysis import derived_refresh, store
from analysis import enrich as enrich_mod
from analysis.cli.common import open_reader
from analysis.collect.base import Source, SourceResult
from analysis.collect.credentials import load_credentials
from analysis.collect.http import CollectError
from analysis.collect.jetstream import SPOOL_SOURCE, spool_sources
from analysis.collect.jetstream import follow as follow_stream
from analysis.collect.runner import collect, status
from analysis.collect.sources import account_source, declared_sources
from analysis.fmt import fr_count, fr_int, fr_num
from analysis.ingest import default_context
from analysis.registry import load_registry, sync_registry

app = typer.Typer(help="Collecte automatique depuis les API des plateformes (Bluesky, Mastodon, YouTube, "
                       "Meta, flux RSS de la presse locale).", invoke_without_command=True, no_args_is_help=False)
console = Console()
err = Console(stderr=True)

API_HELP = "Racine de l'API à la place de celle par défaut (instance, proxy, serveur de rejeu local)."
SINCE_HELP = "Date (AAAA-MM-JJ) la plus ancienne à collecter (défaut : reprise après la dernière collecte, 90 jours la première fois)."
JSON_HELP = "Résultat en JSON : {\"sources\": [{platform, account, posts, messages, followers, inserted, updated, status, error…}]}."
ENRICH_HELP = "Scorer les nouveaux messages (sentiment, thèmes, modération) après la collecte."


def _since(value: str | None) -> datetime | None:
    if not value:
        return None
    try:
        return datetime.strptime(value, "%Y-%m-%d")
    except ValueError:
        raise typer.BadParameter(f"date attendue au format AAAA-MM-JJ (ex. 2026-11-01), reçu « {value} »",
                                 param_hint="--since") from None


def cli_sources(platform: str, keys: list[str], kind: str = "account") -> list[Source]:
    """Sources named on the command line, attached to their territory when the registry knows them."""

    reg = load_registry()
    out = []
    for key in keys:
        acc = reg.find_account(platform, key) if kind == "account" else None
        if acc is not None:
            t = reg.territory(acc.territory_id)
            s, _ = account_source(t, acc)
            if s is not None and s.platform == platform:
                out.append(Source(s.platform, s.kind, key, s.territory_id, s.role, s.terms, s.options))
                continue
        out.append(Source(platform, kind, key))
    return out


WAIT_FOR_STORE = 300.0  # seconds a scheduled collection waits for another writer (an import) to finish


@contextmanager
def writer_when_free(wait: float = WAIT_FOR_STORE) -> Iterator[duckdb.DuckDBPyConnection]:
    """``derived_refresh.writer()``, waiting up to ``wait`` seconds while another process holds the store
    (DuckDB allows one writer): two timers that meet, or a collection during an import, queue."""
    deadline = time.monotonic() + wait
    while True:
        cm = derived_refresh.writer()
        try:
            con = cm.__enter__()
            break
        except duckdb.IOException as e:
            if "lock" not in str(e).lower() or time.monotonic() >= deadline:
                raise CollectError(f"Base occupée : un autre traitement (import, collecte, enrichissement) écrit "
                                   f"dans {store.db_path()} depuis plus de {int(wait)} s. Rien n'a été collecté ; "
                                   "relancez plus tard.") from None
            time.sleep(min(5.0, max(0.1, deadline - time.monotonic())))
    try:
        yield con
    except BaseException:
        if not cm.__exit__(*sys.exc_info()):
            raise
    else:
        cm.__exit__(None, None, None)


def run_sources(sources: list[Source], *, api: str | None, since: str | None, as_json: bool, enrich: bool,
                notes: list[str] | None = None) -> list[SourceResult]:
    """Collect, enrich what is new, print the result (JSON or a table); exit 1 when a source failed."""

    creds = load_credentials()
    for w in creds.warnings:
        err.print(f"[yellow]![/] {w}")
    ctx = default_context()
    since_dt = _since(since)
    results: list[SourceResult] = []
    try:
        with writer_when_free() as con:
            with store.transaction(con):
                sync_registry(con, ctx.registry)

            def on_source(s: Source, r: SourceResult) -> None:
                if not as_json:
                    mark = {"ok": "[green]✓[/]", "partial": "[yellow]…[/]", "error": "[red]✗[/]"}[r.status]
                    err.print(f"{mark} {s.platform} {s.key} : {fr_count(r.inserted, 'ajouté')}, "
                              f"{fr_int(r.updated)} mis à jour ({fr_count(r.requests, 'requête')}, {fr_num(r.seconds)} s)")

            results = collect(con, sources, ctx, api=api, since=since_dt, credentials=creds, on_source=on_source)
            if enrich and any(r.inserted or r.edited for r in results):  # an edit: its scores were deleted

                enrich_mod.run(con)
    except CollectError as e:
        err.print(f"[red]✗[/] {e}")
        raise typer.Exit(1) from None
    _print(results, as_json, notes or [])
    if any(r.status == "error" for r in results):
        raise typer.Exit(1)
    return results


def _print(results: list[SourceResult], as_json: bool, notes: list[str]) -> None:
    if as_json:
        print(json.dumps({"sources": [r.as_json() for r in results], "notes": notes}, ensure_ascii=False, indent=2))
        return
    t = Table(title="Collecte")
    for c in ("Plateforme", "Source", "Publications", "Messages", "Abonnés", "Ajoutées", "Mises à jour",
              "Supprimées", "Requêtes", "Statut"):
        t.add_column(c, justify="left" if c in ("Plateforme", "Source", "Statut") else "right")
    for r in results:
        status = {"ok": "[green]ok[/]", "partial": "[yellow]partiel[/]", "error": "[red]erreur[/]"}[r.status]
        t.add_row(r.platform, r.account, fr_int(r.posts), fr_int(r.messages),
                  "" if r.followers is None else fr_int(r.followers), fr_int(r.inserted), fr_int(r.updated),
                  fr_int(r.deleted), fr_int(r.requests), status)
    console.print(t)
    for r in results:
        if r.error:
            err.print(f"[red]✗[/] {r.error}")
        for n in r.notes:
            err.print(f"  {r.platform} {r.account} : {n}")
    for n in notes:
        err.print(f"[yellow]![/] {n}")


# ------------------------------------------------------------------------------------ commands
@app.callback()
def collect_cmd(
    ctx: typer.Context,
    since: str = typer.Option(None, "--since", help=SINCE_HELP),
    as_json: bool = typer.Option(False, "--json", help=JSON_HELP),
    only: str = typer.Option(None, "--only", help="own (nos comptes, toutes les 15 min) ou peers (pairs, une fois par jour)."),
    platform: list[str] = typer.Option(None, "--platform", help="Limiter à ces plateformes (bluesky, mastodon, youtube, facebook, instagram, threads, press)."),
    follow: bool = typer.Option(False, "--follow", help="Service continu : suivre le flux Jetstream de Bluesky (mentions des territoires)."),
    api: str = typer.Option(None, "--api", help=API_HELP + " Avec --follow : adresse du serveur Jetstream."),
    enrich: bool = typer.Option(True, "--enrich/--no-enrich", help=ENRICH_HELP),
) -> None:
    """Collecter toutes les sources déclarées dans le registre des territoires (comptes, hashtags, flux)."""
    if ctx.invoked_subcommand:
        return
    if follow:

        try:
            follow_stream(api=api)
        except CollectError as e:
            err.print(f"[red]✗[/] {e}")
            raise typer.Exit(1) from None
        return

    roles = {"own": {"own"}, "peers": {"peer"}, None: None}.get(only)
    if only and roles is None:
        raise typer.BadParameter("own ou peers", param_hint="--only")
    plan = declared_sources(load_registry(), load_credentials(), platforms=set(platform or []) or None, roles=roles)
    plan.sources.extend(spool_sources(set(platform or []) or None))  # what the --follow service spooled
    if not plan.sources:
        err.print("Aucune source à collecter : déclarez des comptes Bluesky, Mastodon, YouTube, Meta ou des flux "
                  "([territory.watch] feeds) dans le registre des territoires (voir README, « Collecte »).")
        for n in plan.notes:
            err.print(f"[yellow]![/] {n}")
        raise typer.Exit(1)
    run_sources(plan.sources, api=api, since=since, as_json=as_json, enrich=enrich, notes=plan.notes)


@app.command("bluesky")
def bluesky_cmd(
    handles: list[str] = typer.Argument(None, help="Comptes (ville.bsky.social) ; ou --search."),
    search: list[str] = typer.Option(None, "--search", help="Requête searchPosts (#hashtag ou mots) ; mot de passe d'application requis."),
    api: str = typer.Option(None, "--api", help=API_HELP),
    since: str = typer.Option(None, "--since", help=SINCE_HELP),
    as_json: bool = typer.Option(False, "--json", help=JSON_HELP),
    enrich: bool = typer.Option(True, "--enrich/--no-enrich", help=ENRICH_HELP),
) -> None:
    """Collecter des comptes Bluesky (profil, publications, réponses) ou une recherche."""
    sources = cli_sources("bluesky", list(handles or [])) + cli_sources("bluesky", list(search or []), "search")
    if not sources:
        raise typer.BadParameter("donnez au moins un compte ou --search", param_hint="HANDLES")
    run_sources(sources, api=api, since=since, as_json=as_json, enrich=enrich)


@app.command("mastodon")
def mastodon_cmd(
    accounts: list[str] = typer.Argument(None, help="Comptes @utilisateur@instance."),
    hashtag: list[str] = typer.Option(None, "--hashtag", help="Fil d'un hashtag : #tag@instance."),
    api: str = typer.Option(None, "--api", help=API_HELP),
    since: str = typer.Option(None, "--since", help=SINCE_HELP),
    as_json: bool = typer.Option(False, "--json", help=JSON_HELP),
    enrich: bool = typer.Option(True, "--enrich/--no-enrich", help=ENRICH_HELP),
) -> None:
    """Collecter des comptes Mastodon (toute instance) ou le fil d'un hashtag."""
    sources = cli_sources("mastodon", list(accounts or [])) + cli_sources("mastodon", list(hashtag or []), "hashtag")
    if not sources:
        raise typer.BadParameter("donnez au moins un compte @utilisateur@instance ou --hashtag", param_hint="ACCOUNTS")
    run_sources(sources, api=api, since=since, as_json=as_json, enrich=enrich)


@app.command("youtube")
def youtube_cmd(
    channels: list[str] = typer.Argument(..., help="Identifiants de chaînes (UC…)."),
    api: str = typer.Option(None, "--api", help=API_HELP),
    since: str = typer.Option(None, "--since", help=SINCE_HELP),
    as_json: bool = typer.Option(False, "--json", help=JSON_HELP),
    enrich: bool = typer.Option(True, "--enrich/--no-enrich", help=ENRICH_HELP),
) -> None:
    """Collecter des chaînes YouTube (statistiques, vidéos, commentaires) ; clé d'API requise."""
    run_sources(cli_sources("youtube", list(channels)), api=api, since=since, as_json=as_json, enrich=enrich)


@app.command("meta")
def meta_cmd(
    page: list[str] = typer.Option(None, "--page", help="Page Facebook (identifiant) dont on a le jeton."),
    instagram: list[str] = typer.Option(None, "--instagram", help="Compte Instagram professionnel (identifiant) du territoire."),
    discover: list[str] = typer.Option(None, "--discover", help="Nom d'utilisateur Instagram d'un pair (business_discovery)."),
    threads: list[str] = typer.Option(None, "--threads", help="Compte Threads du territoire (jeton Threads)."),
    api: str = typer.Option(None, "--api", help=API_HELP),
    since: str = typer.Option(None, "--since", help=SINCE_HELP),
    as_json: bool = typer.Option(False, "--json", help=JSON_HELP),
    enrich: bool = typer.Option(True, "--enrich/--no-enrich", help=ENRICH_HELP),
) -> None:
    """Collecter l'API Graph de Meta : Page Facebook, Instagram (le nôtre et les pairs), Threads."""
    sources = (cli_sources("facebook", list(page or [])) + cli_sources("instagram", list(instagram or []))
               + cli_sources("instagram", list(discover or []), "discovery") + cli_sources("threads", list(threads or [])))
    if not sources:
        raise typer.BadParameter("donnez --page, --instagram, --discover ou --threads", param_hint="--page")
    run_sources(sources, api=api, since=since, as_json=as_json, enrich=enrich)


@app.command("rss")
def rss_cmd(
    urls: list[str] = typer.Argument(..., help="Adresses de flux RSS/Atom (presse locale, alertes)."),
    territory: str = typer.Option(None, "--territory", "-t", help="Territoire dont les articles doivent parler (défaut : tous ceux du registre)."),
    since: str = typer.Option(None, "--since", help=SINCE_HELP),
    as_json: bool = typer.Option(False, "--json", help=JSON_HELP),
    enrich: bool = typer.Option(True, "--enrich/--no-enrich", help=ENRICH_HELP),
) -> None:
    """Collecter des flux RSS/Atom : les articles qui nomment un territoire deviennent des articles de presse."""

    reg = load_registry()
    if territory:
        try:
            terrs = [reg.territory(territory)]
        except KeyError as e:
            raise typer.BadParameter(str(e), param_hint="--territory") from None
    else:
        terrs = reg.territories
    terms = tuple(dict.fromkeys(term for t in terrs for term in t.terms))
    sources = [Source("press", "feed", u, territory, None, terms=terms) for u in urls]
    run_sources(sources, api=None, since=since, as_json=as_json, enrich=enrich)


@app.command("jetstream-spool")
def jetstream_spool_cmd(
    as_json: bool = typer.Option(False, "--json", help=JSON_HELP),
    enrich: bool = typer.Option(True, "--enrich/--no-enrich", help=ENRICH_HELP),
) -> None:
    """Importer maintenant le tampon du service --follow (fichiers horaires fermés) ; « vigie collect » le fait aussi."""

    run_sources([SPOOL_SOURCE], api=None, since=None, as_json=as_json, enrich=enrich)


@app.command("status")
def status_cmd(as_json: bool = typer.Option(False, "--json", help="Résultat en JSON.")) -> None:
    """Dernière collecte de chaque source : quand, ce qu'elle a apporté, son erreur, l'âge de ses données."""

    with open_reader() as con:
        df = status(con)
    if as_json:
        print(df.to_json(orient="records", date_format="iso", force_ascii=False))
        return
    if df.empty:
        err.print("Aucune collecte enregistrée : lancez `vigie collect` (voir README, « Collecte »).")
        return
    t = Table(title=f"Collecte — {Path(str(store.db_path())).name}")
    for c in ("Source", "Dernière collecte", "Statut", "Requêtes", "Ajoutées", "Mises à jour", "Donnée la plus récente",
              "Erreur"):
        t.add_column(c)
    for r in df.itertuples(index=False):
        age = "" if r.cursor_age_hours != r.cursor_age_hours else f"il y a {r.cursor_age_hours:.0f} h"
        # YouTube: the units of the key's daily quota the run spent, beside its requests
        try:
            quota = f" ({fr_int(int(r.quota_units))} u. de quota)"
        except (TypeError, ValueError):  # NULL: not a quota-counted platform
            quota = ""
        t.add_row(f"{r.platform} {r.key}", str(r.last_run_at)[:16], str(r.status or ""), fr_int(r.requests) + quota,
                  fr_int(r.inserted), fr_int(r.updated), age, (r.last_error or "")[:80])
    console.print(t)
