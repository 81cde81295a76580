"""Sentiment benchmark on UMSAB-fr val: Vigie's model vs vaderSentiment-fr vs TF-IDF word + LR.

Run: ``.venv/bin/python -m benchmarks.sentiment_bench [--data DIR] [--n-throughput N]``.

Each system runs in its own child process (one BLAS thread) so that its peak RSS is its own.
Throughput is batch scoring with the model already loaded, measured in CPU seconds of the
scoring process (``time.process_time``): on a shared machine wall time mostly measures the
neighbours, CPU time measures the cost on one core. Wall-clock figures are printed too.
vaderSentiment-fr thresholds on the compound score are tuned on train (never on val).
Writes ``benchmarks/results/sentiment_bench.json``.
"""

from __future__ import annotations

import argparse
import json
import os
import platform
import resource
import time
from concurrent.futures import ProcessPoolExecutor
from datetime import UTC, datetime
from multiprocessing import get_context
from pathlib import Path

DEFAULT_DATA = Path(__file__).resolve().parents[2] / "shared" / "data" / "umsab-fr"
RESULTS = Path(__file__).resolve().parent / "results"


def _peak_rss_mb() -> float:
    return resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024


def _throughput(fn, texts: list[str], n: int) -> tuple[float, float]:
    batch = (texts * (n // len(texts) + 1))[:n]
    fn(batch[:100])  # warm caches as a long-running enrichment would be
    c0, w0 = time.process_time(), time.perf_counter()
    fn(batch)
    return n / max(time.process_time() - c0, 1e-9), n / max(time.perf_counter() - w0, 1e-9)


def _vigie(data: str, n: int) -> dict:
    from analysis.sentiment import load_model
    from analysis.sentiment.train import evaluate, read_split

    va = read_split(data, "val")
    m = load_model()
    proba = m.predict_proba(va.texts)
    res = evaluate(va.y, proba.argmax(axis=1), proba)
    res["throughput_cpu"], res["throughput_wall"] = _throughput(m.predict_proba, va.texts, n)
    res["name"] = f"Vigie ({m.version})"
    return res


def _tfidf(data: str, n: int) -> dict:
    from sklearn.feature_extraction.text import TfidfVectorizer
    from sklearn.linear_model import LogisticRegression
    from sklearn.pipeline import make_pipeline

    from analysis.sentiment.train import evaluate, read_split

    tr, va = read_split(data, "train"), read_split(data, "val")
    pipe = make_pipeline(TfidfVectorizer(ngram_range=(1, 2), sublinear_tf=True, min_df=1),
                         LogisticRegression(C=10, max_iter=2000, class_weight="balanced"))
    pipe.fit(tr.texts, tr.y)
    res = evaluate(va.y, pipe.predict(va.texts), pipe.predict_proba(va.texts))
    res["throughput_cpu"], res["throughput_wall"] = _throughput(pipe.predict_proba, va.texts, n)
    res["name"] = "TF-IDF mots (1-2) + régression logistique"
    return res


def _vader(data: str, n: int) -> dict:
    import warnings

    import numpy as np

    warnings.filterwarnings("ignore")
    from vaderSentiment_fr.vaderSentiment import SentimentIntensityAnalyzer

    from analysis.sentiment.train import evaluate, read_split

    tr, va = read_split(data, "train"), read_split(data, "val")
    sia = SentimentIntensityAnalyzer()

    def compound(texts: list[str]) -> np.ndarray:
        return np.array([sia.polarity_scores(t)["compound"] for t in texts])

    c_tr = compound(tr.texts)
    grid = np.round(np.arange(-0.9, 0.91, 0.05), 2)
    best = max(((lo, hi) for lo in grid for hi in grid if hi > lo),
               key=lambda th: evaluate(tr.y, np.digitize(c_tr, th))["macro_f1"])
    res = evaluate(va.y, np.digitize(compound(va.texts), best))
    res["thresholds_tuned_on_train"] = [float(best[0]), float(best[1])]
    res["throughput_cpu"], res["throughput_wall"] = _throughput(compound, va.texts, min(n, 3000))
    res["name"] = "vaderSentiment-fr (seuils réglés sur train)"
    return res


def _child(which: str, data: str, n: int) -> dict:
    os.environ.update(OMP_NUM_THREADS="1", OPENBLAS_NUM_THREADS="1", MKL_NUM_THREADS="1")
    res = {"vigie": _vigie, "tfidf": _tfidf, "vader": _vader}[which](data, n)
    res["peak_rss_mb"] = _peak_rss_mb()
    return res


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--data", default=str(DEFAULT_DATA))
    ap.add_argument("--n-throughput", type=int, default=50_000)
    args = ap.parse_args()
    from analysis.fmt import fr_int, fr_num

    rows = []
    for which in ("vigie", "vader", "tfidf"):
        # a fresh process per system: its peak RSS is its own
        with ProcessPoolExecutor(1, mp_context=get_context("spawn")) as ex:
            rows.append(ex.submit(_child, which, args.data, args.n_throughput).result())
    head = f"{'Système':48s} {'macro-F1':>8s} {'exactitude':>10s} {'msg/s CPU':>10s} {'msg/s mur':>10s} {'RSS Mo':>7s}"
    print(head)
    print("-" * len(head))
    for r in rows:
        print(f"{r['name']:48s} {fr_num(r['macro_f1'], 3):>8s} {fr_num(r['accuracy'], 3):>10s} "
              f"{fr_int(r['throughput_cpu']):>10s} {fr_int(r['throughput_wall']):>10s} {fr_int(r['peak_rss_mb']):>7s}")
    RESULTS.mkdir(exist_ok=True)
    out = RESULTS / "sentiment_bench.json"
    out.write_text(json.dumps({
        "run_at": datetime.now(UTC).isoformat(timespec="seconds"), "data": args.data,
        "n_throughput": args.n_throughput, "machine": platform.platform(), "load_avg": os.getloadavg(),
        "results": rows}, ensure_ascii=False, indent=2))
    print(f"\nRésultats : {out}")


if __name__ == "__main__":
    main()
