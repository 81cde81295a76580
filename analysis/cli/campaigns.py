"""`vigie campaigns …` and `vigie benchmark`: glue over :mod:`analysis.campaigns`."""

from __future__ import annotations

import json
from datetime import date, timedelta
from pathlib import Path

import typer
from rich.console import Console
from rich.markup import escape
from rich.table import Table

from analysis import campaigns as camp
from analysis import demo, derived_refresh, metrics, queries, store
from analysis.cli.common import open_reader
from analysis.fmt import (
    fr_count,
    fr_date,
    fr_int,
    fr_num,
    fr_pct,
    fr_period_end_excluded,
    fr_period_end_included,
)
from analysis.territories import own_territory

app = typer.Typer(add_completion=False)
campaigns_app = typer.Typer(help="Campagnes : définir, lister, évaluer.", no_args_is_help=True)
app.add_typer(campaigns_app, name="campaigns")
console = Console()
err = Console(stderr=True)


_reader = open_reader


@campaigns_app.command("list")
def list_cmd(as_json: bool = typer.Option(False, "--json")) -> None:
    """Lister les campagnes définies."""
    with _reader() as con:
        cs = camp.list_campaigns(con)
    if as_json:
        print(json.dumps([{**c.as_row(), "start_date": str(c.start_date), "end_date": str(c.end_date)} for c in cs],
                         ensure_ascii=False, indent=2))
        return
    t = Table(title="Campagnes")
    for col in ("Id", "Nom", "Territoire", "Début", "Fin", "Hashtags", "Mots-clés", "Objectif", "Source"):
        t.add_column(col)
    for c in cs:
        t.add_row(c.campaign_id, c.name, c.territory_id, fr_date(c.start_date), fr_date(c.end_date),
                  " ".join("#" + h for h in c.hashtags), ", ".join(c.keywords), c.objective or "", c.source or "")
    console.print(t)


@campaigns_app.command("import")
def import_cmd(path: Path = typer.Argument(..., help="Fichier TOML ([[campaign]]) ou CSV.")) -> None:
    """Importer des campagnes depuis un fichier TOML ou CSV."""
    try:
        cs = camp.load_campaigns_file(path)
    except (ValueError, OSError) as e:
        err.print(f"[red]{e}[/]")
        raise typer.Exit(1) from e
    with derived_refresh.writer() as con:
        ins, upd = camp.save_campaigns(con, cs)
    console.print(f"{fr_count(len(cs), 'campagne lue', 'campagnes lues')} : {fr_count(ins, 'ajoutée')}, "
                  f"{fr_count(upd, 'mise')} à jour.")


@campaigns_app.command("add")
def add_cmd(
    campaign_id: str = typer.Argument(..., help="Identifiant court (ex. ete-2026)."),
    name: str = typer.Option(..., "--name", help="Nom de la campagne."),
    territory: str = typer.Option(..., "--territory", help="Territoire qui la mène."),
    start: str = typer.Option(..., "--start", help="Premier jour (AAAA-MM-JJ)."),
    end: str = typer.Option(..., "--end", help="Dernier jour (AAAA-MM-JJ)."),
    hashtag: list[str] = typer.Option([], "--hashtag", help="Hashtag (répétable)."),
    keyword: list[str] = typer.Option([], "--keyword", help="Mot-clé (répétable)."),
    post: list[str] = typer.Option([], "--post", help="Identifiant de publication (répétable)."),
    objective: str = typer.Option(None, "--objective"),
    budget: float = typer.Option(None, "--budget"),
) -> None:
    """Définir (ou modifier) une campagne."""
    try:
        c = camp.Campaign(campaign_id, name, territory, start, end, hashtag, keyword, post, objective, budget, "cli")
    except ValueError as e:
        err.print(f"[red]{e}[/]")
        raise typer.Exit(1) from e
    with derived_refresh.writer() as con:
        ins, _ = camp.save_campaigns(con, [c])
        first, last = queries.data_range(con, queries.Filters((c.territory_id,)))
    console.print(f"Campagne « {c.name} » {'ajoutée' if ins else 'mise à jour'}.")
    for w in camp.window_warnings(c.start_date, c.end_date, first, last):  # a campaign of the future: said
        console.print(f"[yellow]Attention : {escape(w)}[/]")


@campaigns_app.command("remove")
def remove_cmd(campaign_id: str = typer.Argument(...)) -> None:
    """Supprimer une campagne."""
    with derived_refresh.writer() as con:
        ok = camp.remove_campaign(con, campaign_id)
    if not ok:
        err.print(f"[red]Campagne inconnue : {campaign_id}[/]")
        raise typer.Exit(1)
    console.print(f"Campagne {campaign_id} supprimée.")


@campaigns_app.command("eval")
def eval_cmd(
    campaign_id: str = typer.Argument(...),
    kpi: list[str] = typer.Option([], "--kpi", help=f"Indicateur (répétable) : {', '.join(camp.KPIS)}."),
    baseline_days: int = typer.Option(None, "--baseline-days", help="Jours de référence avant la campagne."),
    n_boot: int = typer.Option(2000, "--n-boot", help="Tirages bootstrap."),
    seed: int = typer.Option(0, "--seed"),
    exclude: list[str] = typer.Option([], "--exclude", help="Période à écarter de la référence, AAAA-MM-JJ:AAAA-MM-JJ "
                                      "(incluse ; répétable), ex. une crise."),
    as_json: bool = typer.Option(False, "--json"),
) -> None:
    """Évaluer une campagne : avant/après et double différence avec les territoires pairs (IC 95 %)."""
    try:
        excl = [tuple(date.fromisoformat(x) for x in e.split(":", 1)) for e in exclude]
    except ValueError as e:
        err.print(f"[red]--exclude attend AAAA-MM-JJ:AAAA-MM-JJ ({e}).[/]")
        raise typer.Exit(1) from e
    with _reader() as con:
        try:
            ev = camp.evaluate(con, campaign_id, kpi or None, baseline_days=baseline_days, n_boot=n_boot, seed=seed,
                               exclude=excl)
        except KeyError as e:
            err.print(f"[red]{e.args[0]}[/]")
            raise typer.Exit(1) from e
    if as_json:
        print(json.dumps(ev.as_json(), ensure_ascii=False, indent=2, default=str))
        return
    c = ev.campaign
    console.print(f"[bold]{c.name}[/] ({c.territory_id}) {fr_period_end_included(c.start_date, c.end_date)} — "
                  f"{fr_count(ev.matched_posts, 'publication')} de la campagne ; référence "
                  f"{fr_period_end_included(ev.baseline[0], ev.baseline[1])} ; pairs : {', '.join(ev.peers) or 'aucun'}.")
    for w in ev.warnings:  # window beyond the data, crisis inside the campaign
        console.print(f"[yellow]Attention : {escape(w)}[/]")
    for a, b, why in ev.excluded:
        console.print(f"  [dim]Jours écartés {fr_period_end_included(a, b)} : {escape(why)}.[/]")
    t = Table(title=f"Effets estimés (bootstrap par blocs de {ev.block_days} jours, {fr_int(ev.n_boot)} tirages, "
                    f"graine {ev.seed}, métriques v{ev.metrics_version})")
    for col in ("Indicateur", "Réf.", "Campagne", "Avant/après", "Vs pairs (double diff.)"):
        t.add_column(col)
    for r in ev.results:
        t.add_row(r.name, camp.level_text(r.kpi, r.own_pre), camp.level_text(r.kpi, r.own_post), r.before_after.fr(),
                  r.did.fr() if r.did else "—")
    console.print(t)
    for r in ev.results:
        console.print(f"• {escape(r.verdict)}")
        if r.basis:  # the same explanation as the page and the report
            console.print(f"  {escape(r.basis)}")
        console.print(f"  [dim]{escape(r.name)} = {escape(r.formula)}[/]")


@campaigns_app.command("demo-check")
def demo_check_cmd(n_boot: int = typer.Option(2000, "--n-boot"), seed: int = typer.Option(0, "--seed")) -> None:
    """Démo : comparer l'effet estimé de chaque campagne à l'effet injecté (vérité terrain de `vigie demo`)."""

    try:
        truth = demo.ground_truth(store.db_path())
    except (FileNotFoundError, OSError) as e:
        err.print(f"[red]Vérité terrain de la démo introuvable pour {store.db_path()} ({e}).[/]")
        raise typer.Exit(1) from e
    t = Table(title="Effets injectés dans la démo et effets estimés (engagement par publication, vs pairs)")
    for col in ("Campagne", "Injecté", "Estimé (IC 95 %)", "Dans l'IC", "Significatif"):
        t.add_column(col)
    ok = True
    with _reader() as con:
        for c in truth["campaigns"]:
            ev = camp.evaluate(con, c["campaign_id"], ["engagement_per_post"], n_boot=n_boot, seed=seed)
            did = ev.results[0].did
            inside = did.low <= c["injected_effect"] <= did.high
            good = (not did.significant) if c["placebo"] else inside
            ok &= good
            t.add_row(c["name"] + (" (placebo)" if c["placebo"] else ""), fr_pct(c["injected_effect"], 0, signed=True),
                      did.fr(), "oui" if inside else "[red]non[/]", "oui" if did.significant else "non")
    console.print(t)
    if not ok:
        raise typer.Exit(1)


@app.command("benchmark")
def benchmark_cmd(
    territory: str = typer.Option(None, "--territory", help="Territoire de référence (défaut : le nôtre)."),
    period: str = typer.Option(None, "--period", help="AAAA-MM, AAAA-MM-JJ:AAAA-MM-JJ (fin exclue) ou N jours (ex. 90)."),
    metric: str = typer.Option("engagement_per_post", "--rank-by", help=f"Classement : {', '.join(camp.RANK_METRICS)}."),
    as_json: bool = typer.Option(False, "--json"),
) -> None:
    """Comparer le territoire à ses pairs : normalisations, classement avec incertitude, réactivité."""
    with _reader() as con:
        start, end = _period(con, period)
        own = territory or own_territory(con)
        ids = [own, *camp.peers_of(con, own)]
        b = camp.benchmark(con, start, end, ids)
        r = camp.rank_intervals(con, start, end, metric, ids)
    if as_json:
        print(json.dumps({"start": str(start), "end": str(end), "metrics_version": metrics.METRICS_VERSION,
                          "benchmark": json.loads(b.to_json(orient="records", default_handler=str)),
                          "ranking": json.loads(r.to_json(orient="records"))}, ensure_ascii=False, indent=2))
        return
    t = Table(title=f"Benchmark {fr_period_end_excluded(start, end)} (métriques v{metrics.METRICS_VERSION})")
    for col in ("Territoire", "Publ./sem.", "Eng./publ.", "Eng./1 000 ab.", "Eng./1 000 hab.", "Part de voix",
                "Sent. net", "Réponse", "Délai méd."):
        t.add_column(col, justify="left" if col == "Territoire" else "right")
    for x in b.itertuples():
        hours = x.median_response_hours
        t.add_row(f"{x.name} [dim]({x.peer_group})[/]", fr_num(x.posts_per_week), fr_num(x.engagement_per_post),
                  fr_num(x.engagement_per_1000_followers), fr_num(x.engagement_per_1000_inhabitants),
                  fr_pct(x.sov_mentions), fr_num(None if x.net_sentiment is None else 100 * x.net_sentiment, 0),
                  fr_pct(x.response_rate, 0), "—" if hours != hours or hours is None else fr_num(hours) + " h")
    console.print(t)
    t = Table(title=f"Classement : {metric} (IC 95 % par bootstrap sur les jours)")
    for col in ("Rang", "Intervalle de rang", "Territoire", "Valeur", "IC 95 %", "P(1er)"):
        t.add_column(col)
    for x in r.itertuples():
        t.add_row(str(x.rank), f"{x.rank_low}–{x.rank_high}", x.name, fr_num(x.value), f"{fr_num(x.low)} – {fr_num(x.high)}",
                  fr_pct(x.p_first, 0))
    console.print(t)


def _period(con, period: str | None) -> tuple[date, date]:

    if not period:
        return queries.default_period(con, 90)
    if period.isdigit():
        return queries.default_period(con, int(period))
    if ":" in period:
        a, b = period.split(":", 1)
        return date.fromisoformat(a), date.fromisoformat(b)
    if len(period) == 7:
        return queries.month_bounds(period)
    d = date.fromisoformat(period)
    return d, d + timedelta(days=1)
