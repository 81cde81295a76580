"""`vigie attach`: file the stored data of accounts outside the registry under the territory the
registry now gives them (:func:`analysis.ingest.attach.attach`), after a territory or an account was
added to ``data/territories.toml``; ``--dry-run`` says what would change and writes nothing."""

from __future__ import annotations

import json
from pathlib import Path

import typer
from rich.console import Console
from rich.markup import escape
from rich.table import Table

from analysis import derived_refresh, store
from analysis.fmt import fr_count, fr_date, fr_int
from analysis.ingest.attach import attach, describe, registry_snippet, unattached
from analysis.registry import load_registry

app = typer.Typer()
console = Console()
err = Console(stderr=True)


@app.command("attach")
def attach_cmd(
    dry_run: bool = typer.Option(False, "--dry-run", help="Afficher ce qui serait rattaché, sans rien écrire."),
    registry: Path = typer.Option(None, "--registry", help="Registre des territoires (défaut : VIGIE_REGISTRY ou "
                                  "data/territories.toml)."),
    as_json: bool = typer.Option(False, "--json", help="Résultat en JSON."),
) -> None:
    """Rattacher aux territoires du registre les données déjà importées de comptes hors registre."""
    try:
        reg = load_registry(registry)
    except (FileNotFoundError, ValueError) as e:
        err.print(f"[red]✗[/] {escape(str(e))}")
        raise typer.Exit(1) from e
    try:
        with store.connect(read_only=True) as con:  # a missing store stops here (never created empty)
            res = attach(con, reg, dry_run=True)
            left = unattached(con)
        if not dry_run and res.attached:
            with derived_refresh.writer() as con:
                res = attach(con, reg)
                left = unattached(con)
    except store.StoreMissing as e:
        err.print(f"[red]✗[/] {escape(str(e))}")
        raise typer.Exit(1) from e
    except store.StoreBusy as e:
        err.print(f"[red]✗[/] {escape(str(e))}")
        raise typer.Exit(3) from e
    if as_json:
        out = res.as_json()
        out["dry_run"] = dry_run
        out["unattached"] = [{"account_id": r["account_id"], "platform": r["platform"], "name": r["name"],
                              "posts": int(r["posts"]), "messages": int(r["messages"]),
                              "first": r["first"].isoformat(), "last": r["last"].isoformat(),
                              "registry_snippet": registry_snippet(r)} for r in left.to_dict("records")]
        print(json.dumps(out, ensure_ascii=False, indent=2, default=str))
        return
    if res.attached:
        t = Table(title="Rattachement" + (" (simulation)" if dry_run else ""))
        for c in ("Compte", "Nom", "Territoire", "Publications", "Messages"):
            t.add_column(c, justify="right" if c in ("Publications", "Messages") else "left")
        for a in res.attached:
            t.add_row(escape(a.account_id), escape(a.name or "—"), a.territory_id, fr_int(a.posts), fr_int(a.messages))
        console.print(t)
    console.print(describe(res))
    if len(left):
        console.print("Comptes encore hors registre (à déclarer dans le registre, sous leur territoire, puis "
                      "relancer `vigie attach`) :")
        for r in left.to_dict("records"):
            console.print(f"- {escape(r['account_id'])} ({escape(str(r['name'] or '—'))}) : "
                          f"{fr_count(r['posts'], 'publication')}, {fr_count(r['messages'], 'message')}, du {fr_date(r['first'])} "
                          f"au {fr_date(r['last'])}")
            console.print(escape(registry_snippet(r)), highlight=False)
