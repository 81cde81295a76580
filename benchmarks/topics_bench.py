"""Themes and topics benchmark: classifier throughput and topic discovery time on N messages.

    .venv/bin/python benchmarks/topics_bench.py --db build/demo.duckdb --n 200000
    .venv/bin/python benchmarks/topics_bench.py --n 200000            # no store: demo text bank

Messages come from the store (most recent first, repeated if the store has fewer than ``--n``)
or, without a store, are drawn from the demo text bank (``analysis/demo/text.py``, seeded).
Prints a Markdown table: seconds for classifying the N messages into themes, for discovering
topics (NMF, k chosen by NPMI) and the coherence of every k tried. With a store, also the adaptation
of the classifier to the store's texts (:func:`analysis.topics.adaptation_sample`, learned once per
doubling of the store: not written back) and the adapted classifier's throughput.
"""

from __future__ import annotations

import argparse
import os
import random
import sys
import time
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))

from analysis import topics as T  # noqa: E402


def synthetic(n: int, seed: int = 0) -> list[str]:
    """N messages from the demo text bank (subject templates × tone frames × territory names)."""
    from analysis.demo import text as D

    rng = random.Random(seed)
    frames = D.POSITIVE + D.NEGATIVE + D.NEUTRAL + D.QUESTIONS
    towns = ["Saint-Aubin", "Port-Marel", "Villeneuve", "Bourg-Lavande", "Montclar"]
    out = []
    for _ in range(n):
        s = rng.choice(D.SUBJECTS[rng.choice(D.THEMES)])
        out.append(rng.choice(frames).format(s=s, S=s[:1].upper() + s[1:], t=rng.choice(towns), e=s))
    return out


def from_store(db: str, n: int) -> list[str]:
    from analysis import store

    with store.reader(db) as con:
        texts = con.execute("SELECT text FROM messages WHERE text IS NOT NULL AND is_official IS NOT TRUE "
                            "ORDER BY created_at DESC LIMIT ?", [n]).df()["text"].tolist()
    if not texts:
        raise SystemExit(f"Aucun message dans {db}")
    while len(texts) < n:
        texts += texts[: n - len(texts)]
    return texts


def territory_words(db: str | None) -> list[str]:
    """Words of the territory names, left out of topics (demo names without a store)."""
    if not db:
        return ["saint", "aubin", "loire", "port", "marel", "villeneuve", "sources", "bourg", "lavande", "montclar"]
    from analysis import store

    with store.reader(db) as con:
        return sorted(T.territory_words(con))


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--db", help="Store to read messages from (default: demo text bank).")
    ap.add_argument("--n", type=int, default=200_000, help="Messages for topic discovery.")
    ap.add_argument("--classify-n", type=int, default=None, help="Messages to classify (default: --n).")
    ap.add_argument("--ks", default="6,8,10,12,15")
    ap.add_argument("--seed", type=int, default=0)
    a = ap.parse_args()
    cn = a.classify_n or a.n
    texts = from_store(a.db, max(a.n, cn)) if a.db else synthetic(max(a.n, cn), a.seed)
    source = a.db or "banque de textes de la démo"

    clf = T.ThemeClassifier().fit()
    clf.predict_proba(texts[:100])  # build the keyword matrix once (not part of throughput)
    t0, c0 = time.perf_counter(), time.process_time()
    labels = clf.predict_labels(texts[:cn])
    t_cls, c_cls = time.perf_counter() - t0, time.process_time() - c0
    themed = sum(1 for x in labels if x) / len(labels)

    adapt_rows = []
    if a.db:
        from analysis import store

        with store.reader(a.db) as con:
            sample = T.adaptation_sample(con)
        t0, c0 = time.perf_counter(), time.process_time()
        adapted = T.adapted_classifier(T.load_taxonomy(), None).adapt(sample)
        t_ad, c_ad = time.perf_counter() - t0, time.process_time() - c0
        adapt_rows.append(f"| Adaptation à la base, {len(sample):,} textes distincts | {t_ad:.1f} s écoulées, "
                          f"{c_ad:.1f} s CPU, {adapted.adapt_examples_:,} textes nommés par un mot-clé |")
        t0, c0 = time.perf_counter(), time.process_time()
        labels_ad = adapted.predict_labels(texts[:cn])
        t_ca, c_ca = time.perf_counter() - t0, time.process_time() - c0
        adapt_rows.append(f"| Classement en thèmes adapté à la base, {cn:,} messages | {t_ca:.1f} s écoulées, "
                          f"{c_ca:.1f} s CPU ({cn / t_ca:,.0f} msg/s), "
                          f"{sum(1 for x in labels_ad if x) / len(labels_ad):.1%} avec au moins un thème |")

    exclude = territory_words(a.db)
    t0, c0 = time.perf_counter(), time.process_time()
    model = T.TopicDiscovery(ks=tuple(int(k) for k in a.ks.split(",")), seed=a.seed,
                             exclude=exclude).fit(texts[: a.n])
    t_topics, c_topics = time.perf_counter() - t0, time.process_time() - c0
    load = os.getloadavg()[0]

    print(f"# Thèmes et sujets — {source}\n")
    print(f"Machine : {os.cpu_count()} cœurs, charge moyenne {load:.1f} pendant la mesure "
          "(temps écoulé et temps CPU du processus).\n")
    print("| Mesure | Valeur |\n|---|---|")
    print(f"| Classement en thèmes, {cn:,} messages | {t_cls:.1f} s écoulées, {c_cls:.1f} s CPU ({cn / t_cls:,.0f} msg/s), "
          f"{themed:.1%} avec au moins un thème |")
    for row in adapt_rows:
        print(row)
    print(f"| Découverte de sujets, {a.n:,} messages | {t_topics:.1f} s écoulées, {c_topics:.1f} s CPU (k retenu = {model.k_}) |")
    print("\n| k | NPMI moyen |\n|---|---|")
    for k, v in model.coherence_.items():
        print(f"| {k}{' ←' if k == model.k_ else ''} | {v:.3f} |")
    print("\n| Sujet | NPMI |\n|---|---|")
    for lab, c in zip(model.labels_, model.topic_coherence_, strict=True):
        print(f"| {lab} | {c:.3f} |")


if __name__ == "__main__":
    main()
