"""One figure everywhere: the « fiabilité » sentences quoted by the pages, the report annex and the
README come from ``data/eval/results.json``, written by a full ``vigie eval`` on real labelled
texts (never from the demo). Without that file, the sentence says the figure is not measured."""

from __future__ import annotations

import json
from functools import lru_cache

from analysis.eval.data import EVAL_DIR
from analysis.fmt import fr_pct

RESULTS_PATH = EVAL_DIR / "results.json"
NOT_MEASURED = "Fiabilité : pas encore mesurée sur des textes réels (`vigie eval`)."


@lru_cache(maxsize=1)
def results() -> dict:
    try:
        return json.loads(RESULTS_PATH.read_text(encoding="utf-8"))
    except (OSError, ValueError):
        return {}


def _pct(v: float | None) -> str:
    return fr_pct(v, 0)


def _int(v: int) -> str:
    return f"{v:,}".replace(",", "\u202f")


def _count(n: int, one: str, many: str) -> str:
    return "aucun " + one if n == 0 else f"{_int(n)} {one if n == 1 else many}"


def _num(v: float | None, d: int = 2) -> str:
    return "—" if v is None else f"{v:.{d}f}".replace(".", ",")


def _ci_pct(x: dict) -> str:
    return f"{_pct(x['value'])} (IC 95 % {_pct(x['low'])} – {_pct(x['high'])})"


def _ci(x: dict) -> str:
    return f"{_num(x['value'])} (IC 95 % {_num(x['low'])} – {_num(x['high'])})"


def reliability_note(model: str) -> str:
    """A French sentence with the real-data figure of ``model`` (themes, sentiment, hostility, emerging
    subjects, spikes)."""
    r = results().get(model)
    if not r:
        return NOT_MEASURED
    if model == "emerging":
        real, inj = r.get("real") or {}, r.get("real_injected")
        if not inj or "after" not in real:
            return NOT_MEASURED
        least = inj.get("min_messages", 10)
        first = sum(e["rank"] == 1 for e in inj["episodes"])
        big = sum(e["moved"] >= least for e in inj["episodes"])
        quiet = real["after"]["p10"]["shown"]
        return (f"Fiabilité, mesurée sur un flux réel ({_int(real['messages'])} avis d'un hôtel rejoués comme un fil "
                f"de commentaires, {real['months']} mois) : {_count(quiet, 'sujet montré', 'sujets montrés')} là "
                f"où il ne se passait rien ; les avis d'un même sujet regroupés en trois jours sont le premier sujet "
                f"du mois dans {first} cas sur {big} ({least} messages au moins ; "
                "en dessous, aucun sujet n'est montré). Des textes réels, mais un événement simulé : la précision sur "
                "un vrai événement n'est pas mesurée.")
    if model == "spikes":
        real = r.get("real") or {}
        inj = real.get("injected")
        if not inj:
            return NOT_MEASURED
        return (f"Fiabilité, mesurée sur un flux réel ({_int(real['messages'])} avis d'un hôtel rejoués comme un fil "
                f"de commentaires) : {_count(len(real['as_is']), 'pic', 'pics')} là où il ne se passait rien ; "
                f"{inj['moved']} de ses vrais avis négatifs regroupés en trois jours : "
                + ("pic trouvé" + (f", et {_count(inj['others'], 'autre pic', 'autres pics')}" if inj["others"] else "")
                   if inj["found"] else "pic non trouvé") + ".")
    if model == "themes":
        # the classifier adapted to each source's texts (no label read), its floor chosen on the other two
        cv = r["cv_adapt_floor"]["pooled"]
        note = (f"Fiabilité, mesurée sur {_int(r['n'])} textes civiques réels courts (chaque source lue comme une "
                "base à elle seule : le classifieur s'adapte à ses textes sans en lire les catégories, son seuil "
                f"choisi sur les deux autres) : bon thème en tête pour {_ci_pct(cv['top1'])}, aucun thème pour "
                f"{_pct(cv['no_theme']['value'])}.")
        false = r.get("comments", {}).get("false_theme")
        if false:  # the shares count every message: a theme given to a message about nothing inflates them
            note += (f" Sur {_int(false['n'])} commentaires réels qui ne parlent d'aucun de ces thèmes, un thème est "
                     f"quand même donné à {_pct(false['value'])} d'entre eux : les parts par thème sont plutôt surestimées.")
        themed = r.get("comments", {}).get("themed")
        if themed:
            note += (f" Sur nos commentaires réels étiquetés, le classifieur voit un thème dans {_pct(themed['predicted'])} "
                     f"des messages, nos lecteurs dans {_pct(themed['labelled'])}.")
        return note
    if model == "sentiment":
        v = r["val"]
        note = (f"Fiabilité, mesurée sur {_int(v['n'])} tweets français réels jamais vus à l'entraînement : macro-F1 "
                f"{_ci(v['macro_f1'])}, soit environ {_pct(v['accuracy']['value'])} de messages bien classés ; "
                "l'ironie est lue au premier degré.")
        trip = [b for b in r.get("long", {}).get("tripadvisor", []) if "negative_share" in b]
        if trip:  # the share the pages show, on real reviews: by the authors' ratings and by the model
            n = sum(b["n"] for b in trip)
            true = sum(b["negative_share"] * b["n"] for b in trip) / n
            pred = sum(b["negative_share_predicted"] * b["n"] for b in trip) / n
            verdict = ("surestimée" if pred > 1.2 * true else "sous-estimée" if pred < true / 1.2 else "proche")
            note += (f" Sur {_int(n)} avis TripAdvisor réels, la part d'avis négatifs est de {_pct(true)} selon la "
                     f"note des auteurs et de {_pct(pred)} selon le modèle : sur des avis, la part de messages "
                     f"négatifs est {verdict}.")
        return note
    if model == "hostility":
        h = r.get("holdout", {}).get("decision")
        if h:  # texts read as a moderator means « hostile »: MLMA's own labels are another notion (model card)
            wrong = 1 - h["precision"]["value"]
            return (f"Fiabilité, mesurée sur {_int(h['n'])} textes réels jamais vus (avis, tweets), lus comme un "
                    f"modérateur : précision {_ci_pct(h['precision'])}, rappel {_pct(h['recall']['value'])} — "
                    f"environ {_pct(wrong)} des messages signalés ne l'auraient pas été par un modérateur ; une aide "
                    "au tri, pas une décision.")
        d = r["mlma_test"]["decision"]
        return (f"Fiabilité, mesurée sur {_int(d['n'])} tweets français réels jamais vus : précision "
                f"{_ci_pct(d['precision'])}, rappel {_pct(d['recall']['value'])} — une aide au tri, "
                "pas une décision.")
    raise ValueError(model)
