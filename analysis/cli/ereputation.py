"""`vigie ereputation …`: glue over :mod:`analysis.ereputation` (summary and negative spikes)."""

from __future__ import annotations

import json
import time
from datetime import timedelta

import typer
from rich.console import Console
from rich.table import Table

from analysis import ereputation as er
from analysis.cli.common import open_reader, parse_date, parse_until
from analysis.fmt import MINUS, fr_date, fr_int, fr_num, fr_pct, fr_period_end_excluded, fr_signed
from analysis.metrics import points
from analysis.queries import Filters, data_range

app = typer.Typer(help="E-réputation : sentiment net, part négative, comparaison aux pairs, pics négatifs.",
                  no_args_is_help=True, add_completion=False)
console = Console()
err = Console(stderr=True)


_date = parse_date


_reader = open_reader


def _filters(con, territory: list[str] | None, since: str | None, until: str | None, platform: list[str] | None,
             default_days: int | None):

    s, u = _date(since, "--since"), parse_until(until)
    first, last = data_range(con)
    if u is None and last is not None:
        u = last + timedelta(days=1)
    if s is None and default_days is not None and u is not None:
        s = u - timedelta(days=default_days)
    if s is None and first is not None:
        s = first
    known = {r[0] for r in con.execute("SELECT territory_id FROM territories").fetchall()}
    unknown = [t for t in territory or [] if t not in known]
    if unknown:
        raise typer.BadParameter(f"territoire inconnu : {', '.join(unknown)} (voir `vigie territories`)",
                                 param_hint="--territory")
    return Filters(territories=tuple(territory or ()), start=s, end=u, platforms=tuple(platform or ()))


@app.command("spikes")
def spikes_cmd(
    territory: list[str] = typer.Option(None, "--territory", "-t", help="Territoires (défaut : tous)."),
    since: str = typer.Option(None, "--since", help="Début AAAA-MM-JJ (défaut : début des données + 9 semaines de référence)."),
    until: str = typer.Option(None, "--until", help="Dernier jour inclus AAAA-MM-JJ (défaut : dernier jour de données)."),
    platform: list[str] = typer.Option(None, "--platform", "-p", help="Plateformes (défaut : toutes)."),
    freq: str = typer.Option("week", "--freq", help="week (semaines ISO vs les 8 précédentes, dates précisées au jour) "
                             "ou day (chaque jour vs le même jour des 8 semaines précédentes : plus sensible, plus bruité)."),
    explain: bool = typer.Option(True, "--explain/--no-explain", help="Messages, termes et thèmes de chaque pic."),
    as_json: bool = typer.Option(False, "--json", help="Résultat en JSON."),
) -> None:
    """Détecter les pics de messages négatifs (référence saisonnière robuste), expliqués par leurs messages."""

    if freq not in ("day", "week"):
        raise typer.BadParameter("choisir day ou week", param_hint="--freq")
    t0 = time.perf_counter()
    with _reader() as con:
        f = _filters(con, territory, since, until, platform, None)
        spikes = er.detect_spikes(con, f, freq=freq)
        if explain:
            for s in spikes:
                er.explain_spike(con, s, n_messages=3, n_terms=8, platforms=f.platforms)
    elapsed = time.perf_counter() - t0
    if as_json:
        out = []
        for s in spikes:
            d = s.as_dict()
            for k, v in s.details.items():
                d[k] = json.loads(v.to_json(orient="records", date_format="iso", force_ascii=False))
            out.append(d)
        print(json.dumps({"start": f.start.isoformat() if f.start else None,
                          "end": f.end.isoformat() if f.end else None, "spikes": out},
                         ensure_ascii=False, indent=2, default=str))
        return
    period = f"{fr_period_end_excluded(f.start, f.end)}" if f.start and f.end else ""
    if not spikes:
        console.print(f"Aucun pic négatif détecté {period} ({fr_num(elapsed, 1)} s).")
        return
    t = Table(title=f"Pics de messages négatifs {period}")
    for c in ("Territoire", "Du", "Au", "Pic", "Négatifs", "Attendus", "Part négative", "Habituelle", "p min."):
        t.add_column(c, justify="right" if c in ("Négatifs", "Attendus", "Part négative", "Habituelle", "p min.") else "left")
    for s in spikes:
        t.add_row(s.territory_id, fr_date(s.start), fr_date(s.end), fr_date(s.peak), fr_int(s.negative),
                  fr_num(s.expected, 0), fr_pct(s.share), fr_pct(s.baseline_share),
                  f"{s.min_p_value:.1e}".replace(".", ",").replace("-", MINUS))
    console.print(t)
    for s in spikes:
        if not s.details:
            continue
        console.print(f"\n[bold]{s.territory_id} — {fr_date(s.start)} → {fr_date(s.end)}[/]")
        terms = s.details["terms"]
        if len(terms):
            console.print("Termes dominants : " + ", ".join(terms["term"].tolist()))
        themes = s.details["themes"]
        if len(themes):
            console.print("Thèmes : " + ", ".join(f"{r.label} ({fr_pct(r.spike_share, 0)})"
                                                  for r in themes.head(3).itertuples()))
        for r in s.details["most_negative"].itertuples():
            console.print(f"  − {fr_date(r.local_at)} · {r.platform} · {str(r.text)[:110]}")
    err.print(f"({fr_num(elapsed, 1)} s)")


@app.command("summary")
def summary_cmd(
    territory: list[str] = typer.Option(None, "--territory", "-t", help="Territoires (défaut : le nôtre)."),
    since: str = typer.Option(None, "--since", help="Début AAAA-MM-JJ (défaut : 30 derniers jours de données)."),
    until: str = typer.Option(None, "--until", help="Dernier jour inclus AAAA-MM-JJ."),
    platform: list[str] = typer.Option(None, "--platform", "-p", help="Plateformes."),
    as_json: bool = typer.Option(False, "--json"),
) -> None:
    """Indicateurs d'e-réputation de la période, évolution vs période précédente et vs pairs (IC 95 %)."""

    with _reader() as con:
        f = _filters(con, territory, since, until, platform, 30)
        f = f.with_territories(er.focus(con, f))
        k = er.kpis(con, f)
        prev = er.change_vs_previous(con, f)
        peers = er.vs_peers(con, f)
    if as_json:
        print(json.dumps({"filters": {"territories": list(f.territories), "start": str(f.start), "end": str(f.end)},
                          "kpis": k, "vs_previous": prev.to_dict(orient="records"),
                          "vs_peers": peers.to_dict(orient="records")}, ensure_ascii=False, indent=2, default=str))
        return
    t = Table(title=f"E-réputation {', '.join(f.territories)} {fr_period_end_excluded(f.start, f.end)}")
    for c in ("Indicateur", "Valeur", "IC 95 %", "vs période précédente", "vs pairs"):
        t.add_column(c)
    p, q = prev.set_index("metric"), peers.set_index("metric") if len(peers) else None

    def delta(frame, m: str) -> str:
        if frame is None or m not in frame.index or frame.loc[m, "change"] is None or \
                frame.loc[m, "change"] != frame.loc[m, "change"]:
            return "—"
        r = frame.loc[m]
        if m == "messages":
            return fr_pct(r["change"], signed=True)
        return (f"{fr_signed(100 * r['change'], 1, 'pts')} [{fr_signed(100 * r['change_lo'], 1)} ; "
                f"{fr_signed(100 * r['change_hi'], 1)}]" + (" *" if r["significant"] else ""))

    # Volumes of territories of different sizes are not compared (no per-capita basis here).
    t.add_row("Messages reçus", fr_int(k["messages"]), "", delta(p, "messages"), "—")
    for m in ("net_sentiment", "net_sentiment_all", "negative_share"):
        v, lo, hi = k[m], k[f"{m}_lo"], k[f"{m}_hi"]
        t.add_row(er.METRIC_LABELS[m], fr_pct(v) if m == "negative_share" else fr_signed(points(v), 1),
                  "—" if v is None else (f"[{fr_pct(lo)} ; {fr_pct(hi)}]" if m == "negative_share"
                                         else f"[{fr_signed(points(lo), 1)} ; {fr_signed(points(hi), 1)}]"),
                  delta(p, m), delta(q, m))
    console.print(t)
    console.print(f"Messages évalués : {fr_int(k['scored'])} ; hors français : {fr_int(k['non_french'])} ; "
                  f"non évalués : {fr_int(k['unscored'])}. Sentiment net en points (−100 à +100) ; "
                  "* = écart significatif (IC 95 % de Newcombe excluant 0).")
