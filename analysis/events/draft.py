"""« Avant de publier »: what Vigie can tell about a draft post before it goes out.

For a draft text, a platform, a format and a slot (French local time):

- **themes** it will be read under: the theme classifier of :mod:`analysis.topics` (the one that
  files every post and message), with its scores;
- **tone**: the sentiment model's probabilities (negative, neutral, positive);
- **readability** for the general public: sentences, words per sentence, long sentences, long
  words, administrative jargon and acronyms, with FALC-minded hints (« Facile à lire et à
  comprendre »: one idea per sentence, 15 words or fewer, everyday words, acronyms spelled out);
- **hashtags** the audience (messages) and the peers (their official posts) use for the draft's
  theme in the last twelve months;
- **best slots** of this platform for this theme: the median gap of the account's posts to its own
  level per slot (:mod:`analysis.events.engagement`), with the number of posts behind each;
- **expected engagement**: the 80 % prediction interval of :class:`analysis.events.engagement.EngagementModel`
  fitted on the territory's official accounts, and that model's time-split evaluation (coverage of
  its 80 % interval, error vs the account's median) so the reader knows what the interval is worth.
"""

from __future__ import annotations

import math
import re
from collections import Counter
from dataclasses import dataclass, field
from datetime import datetime, timedelta
from typing import Any

import duckdb
import numpy as np
import pandas as pd

from analysis.events import engagement as E
from analysis.events.model import POST_FORMATS, to_utc
from analysis.fmt import fr_count, fr_int, fr_num, fr_pct
from analysis.ingest.agenda import hashtags_in
from analysis.schema import platform_label
from analysis.sentiment import load_model
from analysis.territories import peers_of
from analysis.topics import default_classifier, load_taxonomy, store_adaptation

LONG_SENTENCE = 20  # words: a sentence longer than this is hard to read aloud
FALC_SENTENCE = 15  # FALC: 15 words or fewer per sentence
LONG_WORD = 12  # letters
JARGON = ("conformément", "susvisé", "susmentionné", "ci-après", "nonobstant", "afférent", "délibération",
          "modalités", "dispositif", "prorogation", "en application de", "au titre de", "dans le cadre de",
          "sollicite", "administré", "usagers", "pétitionnaire", "arrêté municipal", "mise en œuvre",
          "opérationnel", "impacter", "optimiser", "mutualisation", "transversal", "périmètre")
_ACRONYM = re.compile(r"\b[A-ZÉÈ]{2,6}s?\b")
_KNOWN_ACRONYMS = frozenset({"OK", "TV", "RDV", "SMS", "WC", "PDF", "UTC", "FALC", "ET", "OU", "LA", "LE", "DE"})
_SENT = re.compile(r"(?<=[.!?…])\s+|\n+")
_WORD = re.compile(r"[A-Za-zÀ-ÖØ-öø-ÿœŒ'-]+")


@dataclass
class Readability:
    sentences: int
    words: int
    words_per_sentence: float
    long_sentences: int
    long_words_share: float
    jargon: list[str]
    acronyms: list[str]
    hints: list[str]


def readability(text: str) -> Readability:
    """Sentence and word counts, jargon and acronyms of ``text``, with FALC-minded hints (French)."""
    body = re.sub(r"https?://\S+|www\.\S+|[#@]\w+", " ", text or "")
    sents = [s for s in (x.strip() for x in _SENT.split(body)) if _WORD.search(s)]
    per = [len(_WORD.findall(s)) for s in sents]
    words = _WORD.findall(body)
    n_words = len(words)
    long_words = [w for w in words if len(w.replace("'", "").replace("-", "")) >= LONG_WORD]
    low = body.lower()
    jargon = [j for j in JARGON if re.search(rf"(?<!\w){re.escape(j)}", low)]
    acr = sorted({a for a in _ACRONYM.findall(body) if a.rstrip("s") not in _KNOWN_ACRONYMS})
    wps = n_words / len(sents) if sents else 0.0
    hints: list[str] = []
    long_s = sum(1 for n in per if n > LONG_SENTENCE)
    if long_s:
        hints.append(f"{fr_count(long_s, 'phrase')} de plus de {LONG_SENTENCE} mots : coupez-les (une idée par phrase).")
    elif sents and wps > FALC_SENTENCE:
        hints.append(f"{round(wps)} mots par phrase en moyenne : visez {FALC_SENTENCE} ou moins (FALC).")
    if jargon:
        hints.append("Mots administratifs à remplacer par des mots de tous les jours : " + ", ".join(jargon) + ".")
    if acr:
        hints.append("Sigles à écrire en entier au moins une fois : " + ", ".join(acr) + ".")
    if n_words and len(long_words) / n_words > 0.15:
        hints.append("Beaucoup de mots longs : préférez des mots courts et connus.")
    if not re.search(r"\b\d{1,2}\s*(?:h|heures?)\b|\b\d{1,2}\s+(?:janv|févr|mars|avr|mai|juin|juil|août|sept|oct|nov|déc)",
                     low) and re.search(r"\b(rendez-vous|rdv|samedi|dimanche|lundi|mardi|mercredi|jeudi|vendredi)\b",
                                        low):
        hints.append("Un jour est cité sans date ni heure : donnez la date et l'heure en chiffres.")
    if not hints and n_words:
        hints.append("Texte court et simple : rien à signaler.")
    return Readability(len(sents), n_words, wps, long_s, len(long_words) / n_words if n_words else 0.0, jargon, acr,
                       hints)


def themes_of(text: str, clf: Any = None) -> list[tuple[str, str, float]]:
    """(theme id, French label, score) the classifier reads in ``text``, best first, above its threshold
    (``clf``: the store's, :func:`analysis.topics.store_adaptation`; the shipped one by default)."""

    tax = load_taxonomy()
    clf = clf if clf is not None else default_classifier(tax)
    p = clf.predict_proba([text or ""])[0]
    order = np.argsort(-p)
    return [(tax.ids[i], tax.label(tax.ids[i]), float(p[i])) for i in order if p[i] >= clf.threshold]


def tone(text: str) -> dict[str, float]:
    """Probabilities of negative / neutral / positive (the sentiment model, scored as French)."""

    p = load_model().predict_proba([text or ""])[0]
    return {"négatif": float(p[0]), "neutre": float(p[1]), "positif": float(p[2])}


def theme_hashtags(con: duckdb.DuckDBPyConnection, territory: str, theme: str | None, peers: list[str],
                   since: datetime, top: int = 8) -> dict[str, list[tuple[str, int]]]:
    """Hashtags of the audience's messages (territory) and of the peers' official posts read under
    ``theme`` since ``since``: {"audience": [(tag, n)], "pairs": [(tag, n)]} (n = items using it)."""
    out: dict[str, list[tuple[str, int]]] = {"audience": [], "pairs": []}
    if not theme:
        return out
    aud = con.execute(
        "SELECT m.text FROM messages m JOIN themes t ON t.item_id = m.message_id AND t.item_type = 'message' "
        "WHERE t.theme = ? AND m.territory_id = ? AND m.created_at >= ? AND NOT coalesce(m.is_official, FALSE)",
        [theme, territory, since]).fetchall()
    out["audience"] = _top_tags([r[0] for r in aud], top)
    if peers:
        ph = ", ".join("?" for _ in peers)
        pp = con.execute(
            f"SELECT p.text FROM posts p JOIN themes t ON t.item_id = p.post_id AND t.item_type = 'post' "
            f"JOIN accounts a ON a.account_id = p.account_id AND a.official "
            f"WHERE t.theme = ? AND p.territory_id IN ({ph}) AND p.created_at >= ?", [theme, *peers, since]).fetchall()
        out["pairs"] = _top_tags([r[0] for r in pp], top)
    return out


def _top_tags(texts: list[str | None], top: int) -> list[tuple[str, int]]:
    c: Counter[str] = Counter()
    for t in texts:
        c.update(set(hashtags_in(t)))
    # a tag that is the start of a more used one is a text cut short (« #portma » of « #portmarel »)
    keep = [(k, n) for k, n in c.most_common() if n >= 2 and not any(o != k and o.startswith(k) and m >= n
                                                                      for o, m in c.items())]
    return keep[:top]


def best_slots(feats: pd.DataFrame, platform: str, theme: str | None, min_posts: int = 8) -> pd.DataFrame:
    """Slots of ``platform`` ranked by the median gap of its posts to the account's level (× factor),
    for the theme when it has posts enough in the slot, else all themes; ``posts`` behind each."""
    d = feats[(feats["platform"] == platform) & np.isfinite(feats["y"]) & np.isfinite(feats["level"])]
    rows = []
    for slot, g in d.groupby("slot"):
        gt = g[g["theme"] == theme] if theme else g.iloc[0:0]
        use, scope = (gt, "ce thème") if len(gt) >= min_posts else (g, "tous thèmes")
        if len(use) < min_posts:
            continue
        gap = (use["y"] - use["level"]).to_numpy()
        rows.append({"slot": slot, "factor": float(np.exp(np.median(gap))), "posts": len(use), "scope": scope})
    return pd.DataFrame(rows, columns=["slot", "factor", "posts", "scope"]).sort_values(
        "factor", ascending=False, ignore_index=True)


@dataclass
class DraftCheck:
    text: str
    territory: str
    platform: str
    post_format: str
    when_local: datetime
    slot: str
    themes: list[tuple[str, str, float]]
    tone: dict[str, float]
    readability: Readability
    hashtags: dict[str, list[tuple[str, int]]]
    slots: pd.DataFrame
    account_id: str | None
    target: str
    expected: dict[str, float] | None
    model_note: str | None
    evaluation: E.Evaluation | None
    notes: list[str] = field(default_factory=list)

    def as_dict(self) -> dict[str, Any]:
        ev = self.evaluation.as_row() if self.evaluation else None
        return {"territory": self.territory, "platform": self.platform, "post_format": self.post_format,
                "when_local": self.when_local.isoformat(), "slot": self.slot,
                "themes": [{"theme": t, "label": lab, "score": round(s, 3)} for t, lab, s in self.themes],
                "tone": {k: round(v, 3) for k, v in self.tone.items()},
                "readability": self.readability.__dict__, "hashtags": self.hashtags,
                "best_slots": self.slots.to_dict("records"), "account_id": self.account_id, "target": self.target,
                "expected": self.expected, "model_note": self.model_note, "evaluation": ev, "notes": self.notes}


_MODELS: dict[tuple[str, str], tuple[Any, pd.DataFrame, pd.DataFrame, str, str | None, E.Evaluation]] = {}


def territory_model(con: duckdb.DuckDBPyConnection, territory: str) -> tuple[Any, pd.DataFrame, pd.DataFrame, str,
                                                                              str | None, E.Evaluation]:
    """(model, history, features, target, note, time-split evaluation) of a territory, cached per
    store state (the posts' count and last time)."""
    key_row = con.execute("SELECT count(*), max(created_at) FROM posts WHERE territory_id = ?", [territory]).fetchone()
    key = (territory, f"{key_row[0]}:{key_row[1]}")
    if key not in _MODELS:
        model, hist, tgt, note = E.fit_territory(con, territory)
        feats = E.features(hist, tgt) if len(hist) else pd.DataFrame(columns=["platform", "y", "level", "slot", "theme"])
        ev = E.evaluate(hist, territory, target=tgt)
        _MODELS.clear()
        _MODELS[key] = (model, hist, feats, tgt, note, ev)
    return _MODELS[key]


def _account(hist: pd.DataFrame, platform: str) -> str | None:
    h = hist[hist["platform"] == platform]
    return None if h.empty else str(h["account_id"].value_counts().index[0])


def check(con: duckdb.DuckDBPyConnection, territory: str, text: str, platform: str, post_format: str,
          when_local: datetime, peers: list[str] | None = None) -> DraftCheck:
    """Check a draft (module docstring). ``when_local``: planned publication, French local time."""
    if post_format not in POST_FORMATS:
        raise ValueError(f"format inconnu : {post_format} (choix : {', '.join(POST_FORMATS)})")
    text = (text or "").strip()
    if not text:
        raise ValueError("le brouillon est vide")
    model, hist, feats, tgt, note, ev = territory_model(con, territory)
    slot = E.slot_of(pd.Timestamp(when_local))
    # the draft is read as the store's posts were (the classifier adapted to its texts): its theme is
    # the one the Thématiques page would give it once published
    clf = store_adaptation(con, load_taxonomy(), refit=False)
    th = themes_of(text, clf)
    theme = th[0][0] if th else None
    if peers is None:

        peers = peers_of(con, [territory])
    when_utc = pd.Timestamp(to_utc(when_local))
    since = (when_utc - pd.Timedelta(days=365)).to_pydatetime()
    notes: list[str] = []
    acc = _account(hist, platform)
    expected = None
    if model is None:
        notes.append(note or "pas de modèle d'engagement pour ce territoire")
    elif acc is None:
        notes.append(f"aucune publication de ce territoire sur {platform_label(platform)} : pas d'historique pour prévoir l'engagement")
    else:
        level = E.level_now(hist, acc, min(when_utc, pd.Timestamp(hist["created_at"].max()) + pd.Timedelta(days=3)), tgt)
        if level is None:
            notes.append("historique du compte trop court (3 publications au moins)")
        else:
            tf = E.text_features(pd.Series([text]), clf=clf)
            row = pd.DataFrame({"platform": [platform], "post_format": [post_format], "slot": [slot],
                                "theme": tf["theme"].to_numpy(), "level": [level],
                                "log_length": tf["log_length"].to_numpy(), "n_hashtags": tf["n_hashtags"].to_numpy(),
                                "has_link": tf["has_link"].to_numpy()})
            iv = model.predict_interval(row).iloc[0]
            expected = {"low": float(iv["low"]), "mid": float(iv["mid"]), "high": float(iv["high"]),
                        "level": float(math.expm1(level))}
        if note:
            notes.append(note)
    if len(hist) and when_utc > pd.Timestamp(hist["created_at"].max()) + pd.Timedelta(days=60):
        notes.append("dernière publication importée il y a plus de deux mois : le niveau du compte est celui de "
                     "ses dernières publications connues")
    return DraftCheck(text, territory, platform, post_format, when_local, slot, th, tone(text), readability(text),
                      theme_hashtags(con, territory, theme, peers, since), best_slots(feats, platform, theme),
                      acc, tgt, expected, note, ev, notes)


def summary_fr(d: DraftCheck) -> list[str]:
    """The check in French sentences (CLI, notebook)."""

    out = []
    out.append("Thèmes : " + (", ".join(f"{lab} ({fr_num(s, 2)})" for _, lab, s in d.themes) or
                              "aucun thème de la taxonomie reconnu"))
    t = max(d.tone, key=d.tone.get)
    out.append(f"Ton : {t} ({fr_pct(d.tone[t], 0)})")
    r = d.readability
    out.append(f"Lisibilité : {fr_count(r.sentences, 'phrase')}, {fr_num(r.words_per_sentence, 0)} mots par phrase en "
               f"moyenne. " + " ".join(r.hints))
    for who, label in (("audience", "le public"), ("pairs", "les pairs")):
        tags = d.hashtags.get(who) or []
        out.append(f"Hashtags utilisés par {label} pour ce thème : "
                   + (", ".join(f"#{k} ({fr_int(n)})" for k, n in tags) or "aucun (données insuffisantes)"))
    if len(d.slots):
        out.append("Meilleurs créneaux sur cette plateforme : " + ", ".join(
            f"{s.slot} (× {fr_num(s.factor, 2)}, {fr_int(s.posts)} publ., {s.scope})" for s in d.slots.head(3).itertuples()))
    if d.expected:
        what = "interactions" if d.target == "engagement" else "réactions"
        out.append(f"Engagement attendu ({d.slot}) : {fr_int(d.expected['mid'])} {what}, intervalle à 80 % : "
                   f"{fr_int(d.expected['low'])} à {fr_int(d.expected['high'])} (niveau récent du compte : "
                   f"{fr_int(d.expected['level'])}).")
    ev = d.evaluation
    if ev is not None and ev.coverage is not None:
        out.append(f"Fiabilité du modèle (évaluation sur les {fr_int(ev.n_test)} publications les plus récentes, "
                   f"modèle entraîné sur les précédentes) : l'intervalle à 80 % a couvert {fr_pct(ev.coverage, 0)} "
                   f"d'entre elles (IC 95 % : {fr_pct(ev.coverage_low, 0)} à {fr_pct(ev.coverage_high, 0)}) ; "
                   f"erreur moyenne {fr_num(ev.mae_model, 1)} contre {fr_num(ev.mae_median, 1)} pour la médiane du "
                   f"compte ({'meilleur' if ev.beats_median else 'pas meilleur'} que la médiane).")
        p = ev.predictions[ev.predictions["platform"] == d.platform]
        if len(p):
            inside = ((p["y"] >= p["low"]) & (p["y"] <= p["high"])).mean()
            out.append(f"Sur {platform_label(d.platform)} seulement : {fr_pct(inside, 0)} de {fr_count(len(p), 'publication évaluée', 'publications évaluées')} "
                       "dans leur intervalle à 80 %.")
    out += d.notes
    return out


def planned_when(day: Any, hour: int, minute: int = 0) -> datetime:
    """A planned local time from a date and an hour."""
    return datetime.combine(pd.Timestamp(day).date(), datetime.min.time()) + timedelta(hours=hour, minutes=minute)
