"""``vigie report``: a periodic report as HTML or PDF, suited to cron (non-zero exit, French message)."""

from __future__ import annotations

import time
from pathlib import Path

import typer
from rich.console import Console

from analysis import access, audit, store, users
from analysis.fmt import fr_num
from analysis.reports.period import PeriodError, parse_period
from analysis.reports.render import ReportError, file_name, write
from analysis.territories import own_territory

app = typer.Typer(add_completion=False)
err = Console(stderr=True)


@app.command("report")
def report_cmd(
    territory: str = typer.Option(None, "--territory", "-t", help="Territoire (défaut : le nôtre, kind = own)."),
    period: str = typer.Option("last-month", "--period", "-p",
                               help="2026-10 (mois), 2026-Q3 (trimestre), 2026 (année) ou last-month."),
    compare: str = typer.Option("previous", "--compare", help="previous (période précédente) ou peers (pairs)."),
    fmt: str = typer.Option("pdf", "--format", "-f", help="html ou pdf."),
    out: Path = typer.Option(None, "--out", "-o", help="Fichier de sortie (défaut : rapport-<territoire>-<période>[-<plateforme>].<format>)."),
    logo: Path = typer.Option(None, "--logo", help="Logo (PNG, JPEG ou SVG) en tête du rapport."),
    platform: list[str] = typer.Option(None, "--platform", help="Limiter à une plateforme (répétable)."),
    as_user: str = typer.Option(None, "--as-user", help="Produire le rapport qu'un compte de l'application "
                                "obtiendrait : territoire dans son périmètre, pairs déclarés seulement (journalisé)."),
) -> None:
    """Produire le rapport périodique d'un territoire (HTML autonome ou PDF)."""

    if fmt not in ("html", "pdf"):
        err.print(f"[red]Format inconnu : « {fmt} » (attendu : html ou pdf).[/]")
        raise typer.Exit(2)
    if compare not in ("previous", "peers"):
        err.print(f"[red]Comparaison inconnue : « {compare} » (attendu : previous ou peers).[/]")
        raise typer.Exit(2)
    try:
        per = parse_period(period)
    except PeriodError as e:
        err.print(f"[red]{e}[/]")
        raise typer.Exit(2) from e
    scope, who = access.EVERYTHING, None
    if as_user:
        who = users.load_users().get(as_user.strip().lower())
        if who is None:
            err.print(f"[red]Utilisateur inconnu « {as_user} » (`vigie users list`).[/]")
            raise typer.Exit(1)
        scope = access.Scope.of(who.scope)
    t0 = time.perf_counter()
    try:
        with store.reader() as con:
            tid = territory or (scope.territories[0] if not scope.everything else own_territory(con))
            if tid is None:
                err.print("[red]Aucun territoire « own » dans la base : précisez --territory.[/]")
                raise typer.Exit(1)
            # through the same rule as the app's Rapports page (analysis.access)
            rep = access.read(con, scope, "analysis.reports.render:build_report", None, None, territory=tid,
                              period=per, compare=compare, logo=logo, platforms=tuple(platform or ()))
        path = write(rep, fmt, out or Path(file_name(tid, per.code, fmt, tuple(platform or ()))))
        if who is not None:
            audit.AuditLog().record("report", user=who.name, role=who.role, scope=who.scope, via="ligne de commande",
                                    detail=f"territory={tid}, period={per.code}, compare={compare}, "
                                           f"fichier={path.name}, par {audit.operator()}")
    except access.OutOfScope as e:
        err.print(f"[red]{e} ({as_user} : {scope.label()}).[/]")
        raise typer.Exit(1) from e
    except store.StoreMissing as e:
        err.print(f"[red]{e}[/]")
        raise typer.Exit(1) from e
    except ReportError as e:
        err.print(f"[red]{e}[/]")
        raise typer.Exit(1) from e
    err.print(f"Rapport écrit : {path} (instantané {rep.model['snapshot']}, {fr_num(time.perf_counter() - t0, 1)} s).")
