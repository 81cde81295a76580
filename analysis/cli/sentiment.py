"""`vigie sentiment …`: train, evaluate and apply the French sentiment model (thin shell)."""

from __future__ import annotations

import json
import sys
from pathlib import Path

import typer
from rich.console import Console
from rich.table import Table

from analysis import derived_refresh, store
from analysis.eval.stats import N_BOOT, macro_f1_ci
from analysis.fmt import fr_int, fr_num, fr_pct
from analysis.sentiment import LABELS, MODEL_PATH, load_model
from analysis.sentiment.corrections import correct, corrected_dataset, store_eval_caveat
from analysis.sentiment.model import _as_codes
from analysis.sentiment.train import evaluate, read_lines, train

app = typer.Typer(help="Modèle de sentiment français : entraîner, évaluer, prédire.", no_args_is_help=True)
console = Console()
err = Console(stderr=True)

_FR_LABELS = {"negative": "négatif", "neutral": "neutre", "positive": "positif"}


@app.command("train")
def train_cmd(
    data: Path = typer.Option(..., "--data", help="Dossier UMSAB : train_text.txt, train_labels.txt (val_* facultatif)."),
    extra: list[Path] = typer.Option([], "--extra", help="Corpus étiqueté supplémentaire (répétable)."),
    out: Path = typer.Option(None, "--out", help="Fichier .npz du modèle (défaut : le modèle livré)."),
    seed: int = typer.Option(0, "--seed", help="Graine (plis de calibration)."),
    c: float = typer.Option(3.0, "--C", help="Inverse de la régularisation L2 (3 : choisi par `vigie eval`)."),
    embedding_weight: float = typer.Option(
        1.0, "--embedding-weight", help="Poids du bloc de vecteurs de mots fastText (0 : sans ; 1 : choisi par `vigie eval`)."),
    with_store_corrections: bool = typer.Option(
        False, "--with-store-corrections", help="Ajouter les corrections des analystes de la base."),
) -> None:
    """Entraîner le modèle (reproductible : mêmes données + même graine = même version)."""

    corrections = None
    if with_store_corrections:

        with store.reader() as con:
            corrections = corrected_dataset(con)
        err.print(f"Corrections d'analystes ajoutées : {fr_int(len(corrections.texts))}")
    model, report = train(data, extra=extra, seed=seed, C=c, corrections=corrections,
                          embedding_weight=embedding_weight)
    path = model.save(out or MODEL_PATH, meta={"training": report})
    console.print(f"Modèle {model.version_} écrit dans {path} ({fr_num(path.stat().st_size / 1e6, 2)} Mo), "
                  f"entraîné en {fr_num(report['fit_seconds'], 1)} s.")
    if "val" in report:
        _print_eval(report["val"], "Validation")


@app.command("eval")
def eval_cmd(
    texts: Path = typer.Option(None, "--texts", help="Un texte par ligne."),
    labels: Path = typer.Option(None, "--labels", help="Une étiquette par ligne : 0/1/2 ou negative/neutral/positive."),
    from_store: bool = typer.Option(False, "--from-store", help="Évaluer contre les corrections des analystes."),
    model: Path = typer.Option(None, "--model", help="Modèle .npz (défaut : le modèle livré)."),
    as_json: bool = typer.Option(False, "--json"),
) -> None:
    """Macro-F1, exactitude, F1 par classe et matrice de confusion."""

    m = load_model(model)
    if from_store:

        with store.reader() as con:
            ds = corrected_dataset(con)
        if not ds.texts:
            err.print("Aucune correction de sentiment dans la base : rien à évaluer.")
            raise typer.Exit(1)
        xs, ys = ds.texts, list(ds.y)
    else:
        if texts is None or labels is None:
            err.print("Indiquez --texts et --labels, ou --from-store.")
            raise typer.Exit(2)
        xs, ys = read_lines(texts), read_lines(labels)
        if len(xs) != len(ys):
            err.print(f"{texts} a {len(xs)} lignes mais {labels} en a {len(ys)} : une étiquette par texte.")
            raise typer.Exit(2)
    proba = m.predict_proba(xs)
    try:
        res = evaluate(ys, proba.argmax(axis=1), proba)
    except ValueError as e:
        err.print(str(e))
        raise typer.Exit(2) from e
    res["model_version"] = m.version
    if from_store:  # a small sample chosen among doubtful messages: the interval and the caveat with the figure
        ci = macro_f1_ci(list(ys), list(proba.argmax(axis=1)), labels=(0, 1, 2))
        res["macro_f1_interval"] = {"low": ci["low"], "high": ci["high"], "level": 0.95,
                                    "method": f"bootstrap (percentiles, {fr_int(N_BOOT)} tirages)"}
        res["caveat"] = store_eval_caveat(res["n"], ci["low"], ci["high"])
    if as_json:
        print(json.dumps(res, ensure_ascii=False, indent=2))
        return
    _print_eval(res, f"Évaluation ({m.version})")
    if "caveat" in res:
        console.print(res["caveat"])


@app.command("predict")
def predict_cmd(
    as_json: bool = typer.Option(False, "--json", help="Une ligne JSON par texte, avec langue et probabilités."),
    model: Path = typer.Option(None, "--model", help="Modèle .npz (défaut : le modèle livré)."),
) -> None:
    """Lire des textes sur l'entrée standard (un par ligne) et écrire leur sentiment."""

    m = load_model(model)
    lines = [line.rstrip("\n") for line in sys.stdin]
    langs, labels, proba = m.score(lines)
    for text, lang, label, p in zip(lines, langs, labels, proba, strict=True):
        if as_json:
            probs = None if label is None else {k: round(float(v), 4) for k, v in zip(LABELS, p, strict=True)}
            print(json.dumps({"text": text, "lang": lang, "label": label, "proba": probs}, ensure_ascii=False))
        else:
            print(label if label is not None else f"non-évalué ({lang})")


def _print_eval(res: dict, title: str) -> None:
    console.print(f"[bold]{title}[/] — {fr_int(res['n'])} textes : macro-F1 {fr_num(res['macro_f1'], 3)}, "
                  f"exactitude {fr_pct(res['accuracy'])}"
                  + (f", Brier {fr_num(res['brier'], 3)}, ECE {fr_num(res['ece'], 3)}" if "brier" in res else ""))
    t = Table(title="Par classe")
    for c in ("Classe", "Précision", "Rappel", "F1", "Effectif"):
        t.add_column(c, justify="left" if c == "Classe" else "right")
    for name, v in res["per_class"].items():
        t.add_row(_FR_LABELS[name], fr_num(v["precision"], 3), fr_num(v["recall"], 3), fr_num(v["f1"], 3),
                  fr_int(v["support"]))
    console.print(t)
    t = Table(title="Matrice de confusion (lignes : vérité, colonnes : prédiction)")
    t.add_column("")
    for name in _FR_LABELS.values():
        t.add_column(name, justify="right")
    for name, row in zip(_FR_LABELS.values(), res["confusion"], strict=True):
        t.add_row(name, *[fr_int(v) for v in row])
    console.print(t)


@app.command("correct")
def correct_cmd(
    item_id: str = typer.Argument(..., help="Identifiant du message ou du post (ex. facebook:123)."),
    label: str = typer.Argument(..., help="negative, neutral, positive (ou 0/1/2)."),
    item_type: str = typer.Option("message", "--type", help="message ou post."),
    author: str = typer.Option(..., "--author", help="Analyste qui corrige (journalisé)."),
) -> None:
    """Corriger le sentiment d'un message ou d'un post (prioritaire sur le modèle, journalisé)."""

    try:
        with derived_refresh.writer() as con:
            correct(con, item_id, item_type, label, author=author)
    except (KeyError, ValueError) as e:
        err.print(f"[red]{e.args[0] if e.args else e}[/]")
        raise typer.Exit(2) from e
    err.print(f"Correction enregistrée : {item_type} {item_id} → {_FR_LABELS[_canonical(label)]}.")


def _canonical(label: str) -> str:

    return LABELS[int(_as_codes([label])[0])]
