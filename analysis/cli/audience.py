"""`vigie audience summary` and `vigie territories population FILE` (glue over analysis.audience)."""

from __future__ import annotations

import json
from pathlib import Path

import typer
from rich.console import Console
from rich.table import Table

from analysis import audience as A
from analysis import derived_refresh
from analysis.cli.common import open_reader
from analysis.fmt import fr_count, fr_date, fr_int, fr_num, fr_pct, fr_signed
from analysis.registry import load_registry
from analysis.territories import focus_territory

app = typer.Typer()
audience_app = typer.Typer(help="Audience : croissance, démographie, représentativité, rayonnement.")
app.add_typer(audience_app, name="audience")
console = Console()
err = Console(stderr=True)


def _own(con) -> str | None:
    return focus_territory(con)


@audience_app.command("summary")
def summary_cmd(
    territory: str = typer.Option(None, "--territory", "-t", help="Territoire (défaut : le nôtre)."),
    as_json: bool = typer.Option(False, "--json", help="Sortie JSON (valeurs brutes)."),
) -> None:
    """Croissance avec les pairs, pyramide vs population, segments sous-représentés, rayonnement."""
    with open_reader() as con:
        tid = territory or _own(con)
        known = {r[0]: r[1] for r in con.execute("SELECT territory_id, name FROM territories").fetchall()}
        if tid not in known:
            err.print(f"[red]Territoire inconnu : {tid}. Territoires : {', '.join(sorted(known))}.[/]")
            raise typer.Exit(1)
        s = A.summary(con, tid)
    if as_json:
        print(json.dumps({k: json.loads(v.to_json(orient="records", date_format="iso")) for k, v in s.items()},
                         ensure_ascii=False, indent=2))
        return
    g = s["growth"]
    t = Table(title=f"Croissance des abonnés — {known[tid]} et ses pairs (période disponible)")
    for c in ("Territoire", "Réseau", "Abonnés début", "Abonnés fin", "Nouveaux nets", "Croissance",
              "Croissance mensuelle composée", "Pour 1 000 hab."):
        t.add_column(c, justify="left" if c in ("Territoire", "Réseau") else "right")
    for r in g.itertuples(index=False):
        t.add_row(r.name, A.PLATFORM_FR.get(r.platform, r.platform), fr_int(r.followers_start), fr_int(r.followers_end),
                  fr_signed(r.net_new, 0), fr_pct(r.growth_rate, 1, signed=True), fr_pct(r.cmgr, 2, signed=True),
                  fr_num(r.per_1000, 1))
    console.print(t)

    rep = s["representativeness"]
    if rep.empty:
        console.print("Pas de ventilation âge × genre ou pas de population de référence pour ce territoire.")
    else:
        x = rep[rep["kind"].isin(["age", "sex"]) | (rep["segment"] == "40+")]
        t = Table(title="Représentativité (part parmi les abonnés ÷ part dans la population de 13 ans et plus)")
        for c in ("Réseau", "Segment", "Abonnés", "Population", "Indice"):
            t.add_column(c, justify="left" if c in ("Réseau", "Segment") else "right")
        for r in x.itertuples(index=False):
            t.add_row(A.PLATFORM_FR.get(r.platform, r.platform), r.label + (" (approx.)" if r.approximate else ""),
                      fr_pct(r.share_followers), fr_pct(r.share_population), fr_num(r.index, 2))
        console.print(t)
        for r in s["under_reached"].itertuples(index=False):
            console.print(f"• {r.sentence}")
    lack = s["lacking"]
    if len(lack):
        console.print("Sans ventilation âge × genre dans les exports : "
                      + ", ".join(sorted({A.PLATFORM_FR.get(p, p) for p in lack["platform"]})) + ".")
    ray = s["rayonnement"]
    if len(ray):
        t = Table(title="Rayonnement : part des abonnés dans la ville du territoire (villes nommées comme lui)")
        for c in ("Territoire", "Réseau", "Dans le territoire", "Hors territoire", "À l'étranger"):
            t.add_column(c, justify="left" if c in ("Territoire", "Réseau") else "right")
        for r in ray.itertuples(index=False):
            t.add_row(r.name, A.PLATFORM_FR.get(r.platform, r.platform), fr_pct(r.inside), fr_pct(r.outside),
                      fr_pct(r.abroad))
        console.print(t)
    h = s["history"]
    if len(h) and h["date"].nunique() > 1:
        t = Table(title="Évolution des segments cibles (part des abonnés)")
        for c in ("Réseau", "Instantané", "18-24", "25-34", "40+", "65+"):
            t.add_column(c)
        piv = h.pivot_table(index=["platform", "date"], columns="segment", values="share").reset_index()
        for rec in piv.to_dict("records"):
            t.add_row(A.PLATFORM_FR.get(rec["platform"], rec["platform"]), fr_date(rec["date"]),
                      *[fr_pct(rec.get(seg)) for seg in ("18-24", "25-34", "40+", "65+")])
        console.print(t)


def import_population(file: Path, territory: str | None = None, registry: Path | None = None) -> None:
    """Read an INSEE population CSV and store it as the population reference (called by the CLI)."""

    reg = load_registry(registry)
    if territory and territory not in {t.territory_id for t in reg.territories}:
        err.print(f"[red]Territoire inconnu : {territory}.[/]")
        raise typer.Exit(1)
    codes = {t.insee_code: t.territory_id for t in reg.territories if t.insee_code}
    try:
        res = A.read_insee_population(file, codes, territory)
    except (A.PopulationFileError, OSError) as e:
        err.print(f"[red]{e}[/]")
        raise typer.Exit(1) from e
    with derived_refresh.writer() as con:
        n = A.store_population(con, res.population)
    p = res.population
    t = Table(title=f"Population importée depuis {file.name} (colonne d'âge {res.age_column})")
    for c in ("Territoire", "Femmes", "Hommes", "13 ans et plus", "Total", "Tranches approximées"):
        t.add_column(c)
    for tid, x in p.groupby("territory_id"):
        t.add_row(tid, fr_int(x.loc[x.sex == "F", "population"].sum()), fr_int(x.loc[x.sex == "M", "population"].sum()),
                  fr_int(x.loc[x.age_band != "0-12", "population"].sum()), fr_int(x["population"].sum()),
                  ", ".join(sorted(set(x.loc[x.approximate, "age_band"]))) or "aucune")
    console.print(t)
    console.print(f"{fr_int(res.rows_read)} lignes lues, {fr_int(n)} lignes de population enregistrées.")
    if res.unmatched_codes:
        console.print(f"[yellow]{fr_count(len(res.unmatched_codes), 'code commune hors registre ignoré', 'codes commune hors registre ignorés')}[/] "
                      f"(ex. {', '.join(res.unmatched_codes[:5])}).")
