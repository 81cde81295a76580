"""`vigie enrich`: score new messages and posts (sentiment, themes, moderation) incrementally."""

from __future__ import annotations

import json

import typer
from rich.console import Console

from analysis import derived_refresh, enrich
from analysis.fmt import fr_int

app = typer.Typer()
err = Console(stderr=True)


@app.command("enrich")
def enrich_cmd(
    only: list[str] = typer.Option(None, "--only", help="Limiter à un enrichissement (sentiment, topics…)."),
    engine: str = typer.Option("local", "--engine", help="local ou dask."),
    scheduler: str = typer.Option(None, "--scheduler", help="Adresse du scheduler dask."),
    as_json: bool = typer.Option(False, "--json"),
) -> None:
    """Enrichir les nouveaux messages et posts ; ré-évaluer ce qu'un ancien modèle a produit."""

    try:
        with derived_refresh.writer() as con:
            res = enrich.run(con, only=only or None, engine=engine, progress=err, scheduler=scheduler)
    except (ValueError, enrich.EngineUnavailable) as e:
        err.print(f"[red]{e}[/]")
        raise typer.Exit(2) from e
    if as_json:
        print(json.dumps(res, ensure_ascii=False, indent=2))
        return
    say_results(res)


def say_results(res: dict) -> None:
    """One line per enricher: what it scored (``vigie enrich``, ``vigie import --enrich``)."""
    for name, r in res.items():
        if "skipped" in r:
            err.print(f"{name} : ignoré ({r['skipped']})")
            continue
        counts = ", ".join(f"{k} {fr_int(v)}" for k, v in r.items() if isinstance(v, int))
        extra = f" — modèle {r['model_version']}" if "model_version" in r else ""
        err.print(f"{name} : {counts}{extra}")
