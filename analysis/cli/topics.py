"""`vigie topics …`: evaluate the theme classifier, build a labelling sample, store labels,
discover topics, list emerging subjects, (re)classify themes. Glue only: logic is in
:mod:`analysis.topics`.

How an analyst measures the classifier on their own data:

1. ``vigie topics sample --n 300 --out echantillon.csv`` exports 300 random public messages
   (identifier and text only, no author) with an empty ``themes`` column;
2. open it in a spreadsheet and write, for every message, the theme ids that apply separated by
   commas (``vigie topics themes`` lists them; leave empty when no theme applies);
3. ``vigie topics eval --csv echantillon.csv`` prints precision, recall and F1 per theme;
4. optionally ``vigie topics label --csv echantillon.csv`` stores these labels: the next
   ``vigie topics enrich`` learns from them (evaluate on a *different* sample afterwards).
"""

from __future__ import annotations

import json
from datetime import date
from pathlib import Path

import pandas as pd
import typer
from rich.console import Console
from rich.table import Table

from analysis import derived_refresh, store
from analysis import topics as T
from analysis.cli.common import open_reader
from analysis.demo import ground_truth_messages
from analysis.exports import write_csv
from analysis.fmt import (
    fr_count,
    fr_date,
    fr_int,
    fr_num,
    fr_pct,
    fr_period_end_excluded,
    fr_period_end_included,
    fr_plural,
)
from analysis.ingest.sniff import read_user_csv
from analysis.queries import Filters, default_period, month_bounds

app = typer.Typer(help="Thématiques : classifieur de thèmes, sujets, sujets émergents.", no_args_is_help=True)
console = Console()
err = Console(stderr=True)


_reader = open_reader


def _period(start: str | None, end: str | None, month: str | None) -> tuple[date | None, date | None]:
    try:
        if month:
            return month_bounds(month)
        return (date.fromisoformat(start) if start else None, date.fromisoformat(end) if end else None)
    except ValueError as e:
        err.print(f"[red]Date invalide ({e}) : utilisez AAAA-MM-JJ pour --start/--end et AAAA-MM pour --month.[/]")
        raise typer.Exit(2) from e


_read_csv = read_user_csv


@app.command("themes")
def themes_cmd() -> None:
    """Lister les thèmes de la taxonomie (identifiant, libellé, nombre de mots-clés)."""
    tax = T.load_taxonomy()
    t = Table(title=f"Thèmes ({tax.path}, version {tax.version})")
    for c in ("Identifiant", "Libellé", "Mots-clés", "Description"):
        t.add_column(c)
    for th in tax.themes:
        t.add_row(th.id, th.label, fr_int(len(th.keywords) + len(th.hashtags)), th.description)
    console.print(t)
    if tax.no_theme:  # words of a user's file: printed as they are, never as Rich markup
        console.print("Sans mot-clé d'un thème, restent sans thème les messages qui contiennent ([sans_theme]) : "
                      + " · ".join(f"« {e} »" for e in tax.no_theme), markup=False, soft_wrap=True)
    try:
        con = store.connect(read_only=True)
    except store.StoreMissing:
        return  # the taxonomy alone: no store yet
    with con:
        state = T.adaptation_state(con, tax)
    console.print(adaptation_sentence(state), soft_wrap=True)


def adaptation_sentence(state: dict | None) -> str:
    """French: whether the store's classifier is adapted to its texts (:func:`analysis.topics.adaptation_state`)."""
    if state is None:
        return "Dans cette base : le classifieur ne s'est pas encore adapté à ses textes (à la prochaine écriture)."
    if not state["current"]:
        return ("Dans cette base : la taxonomie, la table de mots ou la méthode d'adaptation a changé depuis "
                "l'adaptation du classifieur à ses textes ; il s'adaptera de nouveau à la prochaine écriture "
                "(`vigie enrich`).")
    when = str(state["fitted_at"])[:16]
    if not state["learned"]:
        return (f"Dans cette base : pas d'adaptation ({fr_int(state['examples'])} textes nommés par un mot-clé le "
                f"{when}, il en faut {fr_int(state['min_examples'])}) ; les textes sans mot-clé reçoivent le thème le "
                f"plus proche. Nouvel essai quand la base atteindra {fr_int(state['relearn_at'])} messages et "
                "publications.")
    return (f"Dans cette base : classifieur adapté à ses textes le {when}, à partir de {fr_int(state['examples'])} "
            f"textes nommés par un mot-clé ; réappris quand la base atteindra {fr_int(state['relearn_at'])} messages "
            "et publications.")


EVAL_HELP = (
    "Précision, rappel et F1 par thème (et micro/macro) sur un échantillon étiqueté.\n\n"
    "Construire un échantillon : `vigie topics sample --n 300 --out echantillon.csv`, écrire dans la colonne "
    "`themes` les identifiants qui s'appliquent (`vigie topics themes`), puis `vigie topics eval --csv "
    "echantillon.csv`.\n\nPrécision = part des thèmes prédits qui sont justes ; rappel = part des thèmes "
    "attendus qui sont trouvés ; F1 = moyenne harmonique des deux."
)


@app.command("eval", help=EVAL_HELP)
def eval_cmd(
    csv: Path = typer.Option(None, "--csv", help="CSV étiqueté : une colonne de texte, une colonne de thèmes "
                             "(identifiants séparés par des virgules ; vide = aucun thème)."),
    text_col: str = typer.Option("text", "--text-col", help="Colonne du texte."),
    labels_col: str = typer.Option("themes", "--labels-col", help="Colonne des thèmes attendus."),
    demo: bool = typer.Option(False, "--demo", help="Évaluer sur la vérité terrain de la base de démonstration."),
    limit: int = typer.Option(0, "--limit", help="N'évaluer que les N premières lignes (0 = toutes)."),
    use_labels: bool = typer.Option(False, "--with-store-labels", help="Utiliser le modèle appris sur les "
                                    "étiquettes de la base (sinon : la taxonomie seule)."),
    lang: str = typer.Option(None, "--lang", help="Ne garder que cette langue (colonne `lang`, ex. fr)."),
    adapt: bool = typer.Option(True, "--adapt/--no-adapt", help="Adapter le classifieur aux textes du fichier, "
                               "sans lire leurs étiquettes, comme il s'adapte à ceux d'une base (défaut)."),
    as_json: bool = typer.Option(False, "--json", help="Résultat en JSON."),
) -> None:
    if demo:

        try:
            df = ground_truth_messages(store.db_path())
        except FileNotFoundError as e:
            err.print(f"[red]{e}[/]")
            raise typer.Exit(1) from e
        df = df[~df["is_official"].astype(str).str.lower().isin(["true", "1"])]
        text_col, labels_col = "text", "themes"
        source = "vérité terrain de la démo"
    elif csv:
        df = _read_csv(csv)
        source = str(csv)
    else:
        err.print("[red]Donnez --csv FICHIER (ou --demo).[/]")
        raise typer.Exit(2)
    missing = [c for c in (text_col, labels_col) if c not in df.columns]
    if missing:
        err.print(f"[red]{fr_plural(len(missing), 'Colonne absente', 'Colonnes absentes')} de {source} : {', '.join(missing)}. Colonnes : "
                  f"{', '.join(map(str, df.columns))}. Utilisez --text-col / --labels-col.[/]")
        raise typer.Exit(2)
    if lang:
        if "lang" not in df.columns:
            err.print(f"[red]--lang : pas de colonne « lang » dans {source}.[/]")
            raise typer.Exit(2)
        df = df[df["lang"] == lang]
        source += f", langue {lang}"
    if limit:
        df = df.head(limit)
    tax = T.load_taxonomy()
    y_true = [T.parse_labels(v) or [] for v in df[labels_col].fillna("")]
    unknown = sorted({t for y in y_true for t in y if t not in tax.ids})
    if unknown:
        err.print(f"[red]{fr_plural(len(unknown), 'Thème inconnu', 'Thèmes inconnus')} dans {labels_col} : {', '.join(unknown)}. "
                  f"Voir `vigie topics themes`.[/]")
        raise typer.Exit(2)
    if use_labels:
        with _reader() as con:
            clf = T.classifier_from_store(con, tax, refit=False)
    else:
        clf = T.ThemeClassifier(tax).fit()
        if adapt:  # as in a store: the file's own texts teach their vocabulary (no label read)
            clf.adapt(df[text_col].dropna().astype(str).tolist())
    pred = clf.predict_labels(df[text_col].fillna(""))
    ev = T.evaluate(y_true, pred, tax.ids)
    if as_json:
        print(json.dumps({"source": source, "n": len(df), "model_version": clf.version,
                          "metrics": json.loads(ev.to_json(orient="records"))}, ensure_ascii=False, indent=2))
        return
    t = Table(title=f"Classifieur de thèmes ({clf.version}) sur {fr_int(len(df))} textes — {source}")
    for c in ("Thème", "Précision", "Rappel", "F1", "Attendus", "Prédits"):
        t.add_column(c, justify="left" if c == "Thème" else "right")
    for r in ev.itertuples(index=False):
        name = {"micro": "[b]Micro (tous thèmes)[/]", "macro": "[b]Macro (moyenne des thèmes)[/]"}.get(
            r.theme, tax.label(r.theme))
        t.add_row(name, fr_pct(r.precision), fr_pct(r.recall), fr_num(r.f1, 2), fr_int(r.support), fr_int(r.predicted))
    console.print(t)


@app.command("sample")
def sample_cmd(
    out: Path = typer.Option(..., "--out", help="CSV à écrire (séparateur ';', UTF-8 avec BOM pour les tableurs)."),
    n: int = typer.Option(300, "--n", help="Nombre de messages tirés au hasard."),
    territory: list[str] = typer.Option([], "--territory", help="Territoires."),
    start: str = typer.Option(None, "--start"), end: str = typer.Option(None, "--end"),
    seed: int = typer.Option(0, "--seed", help="Graine du tirage (même graine = même échantillon)."),
) -> None:
    """Exporter N messages publics au hasard à étiqueter (identifiant, date, texte ; jamais l'auteur)."""
    s, e = _period(start, end, None)
    f = Filters(territories=tuple(territory), start=s, end=e)
    w, params = f.where("m")
    with _reader() as con:
        df = con.execute(
            f"SELECT message_id AS item_id, created_at::DATE AS date, platform, text FROM messages m "
            f"WHERE {w} AND m.is_official IS NOT TRUE AND m.text IS NOT NULL "
            f"ORDER BY hash(message_id || ?::VARCHAR) LIMIT ?", params + [seed, n]).df()
    df["themes"] = ""

    write_csv(df, out)  # formulas in citizens' texts neutralised (CSV injection)
    console.print(f"{fr_int(len(df))} messages écrits dans {out}. Remplissez la colonne « themes » "
                  f"(identifiants séparés par des virgules, voir `vigie topics themes`), puis "
                  f"`vigie topics eval --csv {out}`.")


@app.command("label")
def label_cmd(
    item_id: str = typer.Argument(None, help="Identifiant du message ou de la publication (ex. facebook:123_456)."),
    themes: str = typer.Argument(None, help="Thèmes séparés par des virgules ('' = aucun thème)."),
    csv: Path = typer.Option(None, "--csv", help="Stocker toutes les lignes d'un CSV étiqueté (colonnes item_id, themes)."),
    author: str = typer.Option(None, "--author", help="Analyste (facultatif)."),
) -> None:
    """Stocker l'étiquette de thème d'un élément (elle prime sur le modèle et l'entraîne)."""
    if csv:
        df = _read_csv(csv)
        if not {"item_id", "themes"} <= set(df.columns):
            err.print(f"[red]{csv} doit avoir les colonnes item_id et themes.[/]")
            raise typer.Exit(2)
        rows = [(r.item_id, T.parse_labels(r.themes) or []) for r in df.itertuples(index=False)]
    elif item_id is not None and themes is not None:
        rows = [(item_id, T.parse_labels(themes) or [])]
    else:
        err.print("[red]Donnez ITEM_ID THEMES, ou --csv FICHIER.[/]")
        raise typer.Exit(2)
    with derived_refresh.writer() as con:
        try:
            for i, ths in rows:
                T.store_label(con, i, ths, author=author)
        except ValueError as e:
            err.print(f"[red]{e}[/]")
            raise typer.Exit(1) from e
    console.print(f"{fr_count(len(rows), 'étiquette de thème enregistrée', 'étiquettes de thème enregistrées')}. `vigie topics enrich` en tiendra compte.")


@app.command("enrich")
def enrich_cmd() -> None:
    """Classer en thèmes les messages et publications qui ne le sont pas encore (incrémental)."""
    with derived_refresh.writer() as con:
        r = T.enrich(con, progress=err)
    console.print(f"Thèmes ({r['model_version']}) : {fr_int(r['messages_classified'])} messages et "
                  f"{fr_int(r['posts_classified'])} publications classés ; {fr_int(r['messages_themed'])} messages "
                  f"et {fr_int(r['posts_themed'])} publications ont au moins un thème.")


@app.command("discover")
def discover_cmd(
    territory: list[str] = typer.Option([], "--territory", help="Territoires."),
    start: str = typer.Option(None, "--start"), end: str = typer.Option(None, "--end"),
    month: str = typer.Option(None, "--month", help="Mois AAAA-MM (remplace --start/--end)."),
    ks: str = typer.Option("6,8,10,12,15", "--ks", help="Nombres de sujets essayés."),
    seed: int = typer.Option(0, "--seed"),
    limit: int = typer.Option(200_000, "--limit", help="Messages au plus (les plus récents)."),
    as_json: bool = typer.Option(False, "--json"),
) -> None:
    """Découvrir les sujets (NMF sur TF-IDF) ; le nombre de sujets est choisi par la cohérence NPMI."""
    import time

    s, e = _period(start, end, month)
    f = Filters(territories=tuple(territory), start=s, end=e)
    w, params = f.where("m")
    with _reader() as con:
        texts = con.execute(f"SELECT text FROM messages m WHERE {w} AND m.is_official IS NOT TRUE AND text IS NOT NULL "
                            f"ORDER BY created_at DESC LIMIT ?", params + [limit]).df()["text"]
        exclude = sorted(T.territory_words(con))
    t0 = time.perf_counter()
    try:
        model = T.TopicDiscovery(ks=tuple(int(k) for k in ks.split(",")), seed=seed, exclude=exclude).fit(texts)
    except ValueError as ex:
        err.print(f"[red]{ex}[/]")
        raise typer.Exit(1) from ex
    dt = time.perf_counter() - t0
    dom = model.dominant_topic(texts)
    shares = pd.Series(dom[dom >= 0]).value_counts(normalize=True)
    if as_json:
        print(json.dumps({"n": len(texts), "seconds": dt, "k": model.k_,
                          "coherence": {str(k): v for k, v in model.coherence_.items()},
                          "topics": [{"label": lab, "terms": terms, "npmi": c, "share": float(shares.get(i, 0.0))}
                                     for i, (lab, terms, c) in enumerate(zip(model.labels_, model.top_terms_,
                                                                             model.topic_coherence_, strict=True))]},
                         ensure_ascii=False, indent=2))
        return
    t = Table(title=f"Cohérence NPMI par nombre de sujets ({fr_int(len(texts))} messages, {fr_num(dt, 1)} s)")
    t.add_column("k", justify="right")
    t.add_column("NPMI moyen", justify="right")
    t.add_column("")
    for k, v in model.coherence_.items():
        t.add_row(str(k), fr_num(v, 3), "← retenu" if k == model.k_ else "")
    console.print(t)
    t = Table(title=f"{model.k_} sujets")
    for c in ("Sujet", "Termes principaux", "NPMI", "Part des messages"):
        t.add_column(c, justify="right" if c in ("NPMI", "Part des messages") else "left")
    for i, (lab, terms, c) in enumerate(zip(model.labels_, model.top_terms_, model.topic_coherence_, strict=True)):
        t.add_row(lab, ", ".join(terms), fr_num(c, 3), fr_pct(shares.get(i, 0.0)))
    console.print(t)


@app.command("emerging")
def emerging_cmd(
    territory: list[str] = typer.Option([], "--territory", help="Territoires (défaut : tous)."),
    start: str = typer.Option(None, "--start"), end: str = typer.Option(None, "--end", help="Fin exclue."),
    month: str = typer.Option(None, "--month", help="Mois AAAA-MM (remplace --start/--end)."),
    baseline_days: int = typer.Option(28, "--baseline-days", help="Jours de référence avant chaque jour."),
    min_support: int = typer.Option(5, "--min-support", help="Messages par jour au moins pour signaler."),
    z: float = typer.Option(4.0, "--z", help="Seuil d'écart à la normale (z)."),
    examples: int = typer.Option(3, "--examples", help="Messages affichés par sujet."),
    as_json: bool = typer.Option(False, "--json"),
) -> None:
    """Sujets et hashtags en forte hausse sur la période, par rapport à leur propre niveau habituel."""
    s, e = _period(start, end, month)
    with _reader() as con:
        if not (s and e):

            s, e = default_period(con, 30)
        f = Filters(territories=tuple(territory), start=s, end=e)
        subjects = T.emerging_subjects(con, f, baseline_days=baseline_days, z_threshold=z, min_support=min_support)
    if as_json:
        print(json.dumps([{"label": x.label, "terms": x.terms, "hashtags": x.hashtags, "start": x.start.isoformat(),
                           "end": x.end.isoformat(), "peak": x.peak.isoformat(), "messages": x.count,
                           "baseline": x.baseline, "max_z": x.max_z, "episodes": x.episodes,
                           "examples": x.messages["text"].head(examples).tolist()} for x in subjects],
                         ensure_ascii=False, indent=2))
        return
    if not subjects:
        console.print(f"Aucun sujet émergent {fr_period_end_included(s, e)} (seuil z {fr_num(z)}, "
                      f"{min_support} messages par jour au moins).")
        return
    t = Table(title=f"Sujets émergents {fr_period_end_excluded(s, e)}")
    for c in T.emerging_table(subjects).columns:
        t.add_column(c)
    for row in T.emerging_table(subjects).itertuples(index=False):
        t.add_row(*map(str, row))
    console.print(t)
    for x in subjects:
        console.print(f"[b]{x.label}[/] — exemples :")
        for m in x.messages.head(examples).itertuples(index=False):
            console.print(f"  {fr_date(m.created_at)} · {m.platform} · {m.text}", highlight=False, markup=False)
