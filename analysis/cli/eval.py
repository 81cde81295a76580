"""`vigie eval`: the text models on real labelled French texts (see :mod:`analysis.eval.run`)."""

from __future__ import annotations

import json
import os
from pathlib import Path

import typer

from analysis.demo import exports_dir_for
from analysis.eval import run as R

app = typer.Typer(add_completion=False)


@app.command("eval")
def eval_cmd(
    shared: Path = typer.Option(None, "--shared", help="Dossier des données partagées (défaut : $VIGIE_SHARED ou ../shared)."),
    fast: bool = typer.Option(False, "--fast", help="Sous-ensemble rapide (quelques secondes), sans écrire les fiches."),
    only: list[str] = typer.Option([], "--only", help="themes, sentiment, hostility, labels, emerging ou spikes (répétable)."),
    demo_db: Path = typer.Option(None, "--demo-db", help="Base de démonstration pour les sujets émergents (défaut : "
                                 "$VIGIE_TEST_DB ou $VIGIE_DB si sa vérité terrain existe)."),
    write: bool = typer.Option(True, "--write/--no-write", help="Écrire les figures dans les fiches des modèles."),
    json_out: Path = typer.Option(None, "--json", help="Écrire aussi toutes les figures en JSON ici."),
) -> None:
    """Évalue les modèles de texte sur des textes français réels étiquetés (intervalles bootstrap 95 %)."""

    db = demo_db or next((Path(v) for v in (os.environ.get("VIGIE_TEST_DB"), os.environ.get("VIGIE_DB"))
                          if v and Path(v).exists()), None)
    if db is None and not fast and (not only or {"emerging", "spikes"} & set(only)):
        typer.echo("Sujets émergents et pics sur la démo : non mesurés, aucune base de démonstration (`make test-db` puis "
                   "`make eval`, ou --demo-db) ; results.json n'aura pas ces chiffres.", err=True)
    res = R.run(shared, fast=fast, only=tuple(only), progress=lambda s: typer.echo(f"… {s}", err=True),
                demo_db=db, demo_exports=exports_dir_for(db) if db else None)
    typer.echo(R.render(res))
    if json_out:
        json_out.write_text(json.dumps(R._jsonable(res), ensure_ascii=False, indent=1), encoding="utf-8")
    if write and not fast:
        R.save(res)
        typer.echo("Fiches mises à jour : " + ", ".join(str(p.relative_to(R.REPO_ROOT)) for p in R.CARDS.values()), err=True)
