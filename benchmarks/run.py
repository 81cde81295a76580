"""`make bench`: scaled demo (≥ 1 M messages, ≥ 50 k posts), then one performance table.

Stages (each timed, wall and CPU, with the machine's load average so a loaded run is visible):
1. generate the demo exports at ``--scale`` (4.1 ≈ 1.04 M messages, 50.7 k posts) — real formats;
2. import them through the real importers (rows/s), and read the same files with DuckDB alone
   (``read_csv_auto`` / ``read_json_auto``): the import floor, Vigie's rate as a fraction of it;
3. enrich: sentiment, themes, toxicity, each alone (messages/s);
4. metrics: alert rules evaluated and fired (the derived step after enrichment);
4b. newday: one more day of exports into a copy of the enriched store, each part of the write
   session timed (:mod:`benchmarks.newday`; goal ≤ 3 s end to end);
5. every app page rendered with ``AppTest`` (cold cache), recording every query the page runs
   through ``streamlit_app.data``; each recorded query then replayed ``--repeats`` times (p50/p95);
6. the monthly PDF report of our own territory;
7. baselines in the same run: the same aggregations in straightforward pandas (tables loaded
   into DataFrames, then ``groupby``) vs DuckDB, and vaderSentiment-fr vs Vigie's sentiment
   model on the same sample of messages.

Prints one table and writes ``benchmarks/results/bench_scale<scale>.json`` (a partial run, ``--only``,
``--pages`` or ``--reuse``, writes beside it, its stages in the name). Peak RSS is the
process's high-water mark (``ru_maxrss``), which includes the AppTest runs.
Usage: ``python -m benchmarks.run [--scale 4.1] [--work build/bench] [--repeats 7]``.
"""

from __future__ import annotations

import argparse
import json
import os
import platform
import re
import resource
import shutil
import statistics
import sys
import time
from collections.abc import Callable
from datetime import date
from pathlib import Path
from typing import Any

from analysis import derived_refresh

ROOT = Path(__file__).resolve().parents[1]
RESULTS = ROOT / "benchmarks" / "results"
# issue 19 (Performance II) at 1 M messages on 2 cores
GOALS = {"end_to_end_s": 30.0, "query_p95_ms": 100.0, "peak_rss_mb": 3072.0, "report_s": 2.0, "newday_s": 3.0}
SLICE_ID_OFFSET = 10**11  # native ids of slice k start k × 10^11 higher (not a multiple of the demo's id step)
NEWDAY_STEPS = {"import": "import", "edits": "modifications", "enrich": "enrichissement", "refresh": "agrégats", "checkpoint": "checkpoint",
                "publish": "publication"}


def _rss_mb() -> float:
    return resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024.0


class Clock:
    """Wall and CPU time of a block, plus the 1-minute load average at its end."""

    def __enter__(self) -> Clock:
        self.w0, self.c0 = time.perf_counter(), time.process_time()
        return self

    def __exit__(self, *exc: Any) -> None:
        self.wall = time.perf_counter() - self.w0
        self.cpu = time.process_time() - self.c0
        self.load = os.getloadavg()[0]


def _say(msg: str) -> None:
    print(f"[{time.strftime('%H:%M:%S')}] {msg}", file=sys.stderr, flush=True)


def _pct(xs: list[float], q: float) -> float:
    xs = sorted(xs)
    if len(xs) == 1:
        return xs[0]
    return statistics.quantiles(xs, n=100, method="inclusive")[int(q) - 1]


# ------------------------------------------------------------------------------ stages
def stage_generate(exports: Path, scale: float, out: dict, slices: int = 1) -> list[dict]:
    """The demo exports at ``scale``, in ``slices`` child processes of ``scale / slices`` each (seeds
    42, 43…, native ids moved apart): the simulation holds every message in memory (≈ 1 M messages
    per 4,1 of scale), so ten million are generated as ten worlds of one million. A slice whose
    listing is there already (an interrupted ``make bench-10m``) is kept."""
    import pickle
    import subprocess

    if slices == 1 and exports.exists():
        shutil.rmtree(exports)
    info: dict = {"files": [], "messages": 0, "posts": 0}
    with Clock() as c:
        for k in range(slices):
            target = exports if slices == 1 else exports / f"slice{k}"
            listing = target.with_suffix(".files.pkl")
            if slices > 1 and listing.exists():
                _say(f"tranche {k} déjà générée : {target}")
            else:
                # In a child process: the simulation holds every message in memory, and the peak RSS we
                # report is the pipeline's (import, enrichment, app), not the test-data generator's.
                subprocess.run([sys.executable, "-m", "benchmarks.run", "--generate-only", str(target.resolve()), "--scale",
                                str(scale / slices), "--seed", str(42 + k)], check=True, cwd=ROOT)
            part = pickle.loads(listing.read_bytes())
            info = {"files": info["files"] + part["files"], "messages": info["messages"] + part["messages"],
                    "posts": info["posts"] + part["posts"]}
    if slices > 1:
        exports.with_suffix(".files.pkl").write_bytes(pickle.dumps(info))
    out["generate"] = {"wall_s": c.wall, "load": c.load, "files": len(info["files"]), "slices": slices,
                       "messages": info["messages"], "posts": info["posts"]}
    _say(f"démo générée : {info['messages']} messages, {info['posts']} publications, {c.wall:.0f} s")
    return info["files"]


def _generate_only(exports: Path, scale: float, seed: int = 42) -> None:
    import pickle

    from analysis.demo import build as demo_build

    if seed != 42:  # another slice of a bigger world: its native ids must not meet the first slice's
        from benchmarks.newday import offset_ids

        offset_ids((seed - 42) * SLICE_ID_OFFSET)
    sim, files = demo_build.generate(exports, seed=seed, scale=scale)
    exports.with_suffix(".files.pkl").write_bytes(pickle.dumps(
        {"files": files, "messages": len(sim.messages), "posts": len(sim.posts)}))


def stage_import(files: list[dict], db: Path, out: dict, enrich_too: bool = False) -> None:
    """The import of every file, as one write session. With ``enrich_too``, the path of
    ``vigie import --enrich``: the enrichment runs in the same session, then one rebuild of the derived
    tables and one publish close it (two separate commands close twice). ``out["import"]`` is then the
    import up to the enrichment, ``out["enrich"]`` the pass plus the session's closing steps."""
    from analysis import demo, enrich, store
    from analysis.registry import load_registry

    for p in (db, db.with_name(db.name + ".read"), db.with_name(db.name + ".wal")):
        p.unlink(missing_ok=True)
    kids = resource.getrusage(resource.RUSAGE_CHILDREN)
    closing: dict[str, float] = {}
    marks: dict[str, Any] = {}

    def then(con: Any) -> None:
        store.upsert(con, "campaigns", demo.campaigns_frame())
        if not enrich_too:
            return
        marks["imported"] = (time.perf_counter(), time.process_time(), os.times())
        marks["messages"] = con.execute("SELECT count(*) FROM messages").fetchone()[0]
        tm: dict = {}
        with Clock() as c:
            marks["results"] = enrich.run(con, timings=tm)
        marks["pass"], marks["tm"] = c, tm

    with Clock() as c:
        results = demo.import_files(files, db, load_registry(), _say, then=then, timings=closing)
    after = resource.getrusage(resource.RUSAGE_CHILDREN)  # the parsing processes (ended with the import)
    workers = (after.ru_utime - kids.ru_utime) + (after.ru_stime - kids.ru_stime)
    rows = sum(r.rows_read for r in results)
    errors = [r.error for r in results if r.status == "error"]
    wall, cpu = c.wall, c.cpu
    if enrich_too:  # the import's part: up to the enrichment (its parse workers ended before it)
        t_imp, cpu_imp, times_imp = marks["imported"]
        wall, cpu = t_imp - c.w0, cpu_imp - c.c0
        t1 = os.times()
        children = (t1.children_user - times_imp.children_user) + (t1.children_system - times_imp.children_system)
        workers -= children
    out["import"] = {"wall_s": wall, "cpu_s": cpu + workers, "cpu_writer_s": cpu, "cpu_workers_s": workers,
                     "load": c.load, "rows": rows, "rows_per_s": rows / wall, "files": len(results),
                     "errors": errors[:3]}
    _say(f"import : {rows} lignes en {wall:.0f} s ({rows / wall:.0f} lignes/s)")
    if enrich_too:
        _record_enrich(out, marks["results"], marks["tm"], marks["messages"], session_wall=c.wall - wall,
                       pass_wall=marks["pass"].wall, cpu=c.cpu - cpu + children, children=children, load=c.load,
                       closing=closing, same_session_as_import=True)


def _record_enrich(out: dict, res: dict, tm: dict, n_msgs: int, *, session_wall: float, pass_wall: float,
                   cpu: float, children: float, load: float, closing: dict[str, float],
                   same_session_as_import: bool = False) -> None:
    """``out["enrich"]`` (the pass and its session's closing steps) and ``out["enrich_tasks"]`` (per enricher:
    its scoring CPU and write time from ``enrich.run``'s timings ``tm``, rows and result), and the line said."""
    out["enrich"] = {"passe": {"wall_s": session_wall, "pass_wall_s": pass_wall, "cpu_s": cpu,
                               "cpu_workers_s": children, "load": load, "messages": n_msgs,
                               "messages_per_s": n_msgs / session_wall,
                               "distinct_texts": tm.get("distinct_texts"), "workers": tm.get("workers"),
                               "setup_s": tm.get("setup_s"), "write_s": tm.get("write_s"), "closing_s": closing,
                               **({"same_session_as_import": True} if same_session_as_import else {})}}
    out["enrich_tasks"] = {name: {**tm.get("tasks", {}).get(name, {}), "rows": tm.get("rows", {}).get(name, 0),
                                  "result": {k: v for k, v in (r or {}).items() if isinstance(v, int | str)}}
                           for name, r in res.items()}
    where = "dans la même session (vigie import --enrich)" if same_session_as_import else "(une passe)"
    _say(f"enrichissement {where} : {session_wall:.0f} s de session, dont passe {pass_wall:.0f} s et "
         + ", ".join(f"{k} {v:.1f} s" for k, v in closing.items())
         + f" ({n_msgs / session_wall:.0f} messages/s, CPU {cpu:.0f} s)")


# DuckDB's own readers, for the files they can read alone (the import floor, issue 19 item 7).
FLOOR_READERS = {".csv": "read_csv_auto('{}', ignore_errors = true)",
                 ".jsonl": "read_json_auto('{}', format = 'newline_delimited', ignore_errors = true)",
                 ".ndjson": "read_json_auto('{}', format = 'newline_delimited', ignore_errors = true)",
                 ".json": "read_json_auto('{}', ignore_errors = true)"}


def stage_floor(files: list[dict], out: dict) -> None:
    """The import floor: the same export files read by DuckDB alone (``read_csv_auto`` /
    ``read_json_auto``, ``count(*)``, every thread), no mapping, no check, no write. Workbooks,
    feeds and calendars (no reader without an extension) are left out and counted."""
    import duckdb

    con = duckdb.connect()
    rows = n_read = n_bytes = 0
    left: list[str] = []
    with Clock() as c:
        for f in files:
            path = Path(f["path"])
            reader = FLOOR_READERS.get(path.suffix.lower())
            if reader is None:
                left.append(path.suffix.lower() or path.name)
                continue
            scan = reader.format(str(path).replace("'", "''"))
            try:
                count = "count(*)"
                if path.suffix.lower() != ".csv":  # an API page per line: count the records of its « data » list
                    cols = dict(con.execute(f"SELECT column_name, column_type FROM (DESCRIBE SELECT * FROM {scan})"
                                            ).fetchall())
                    if cols.get("data", "").endswith("[]"):
                        count = "coalesce(sum(len(data)), 0)"
                rows += int(con.execute(f"SELECT {count} FROM {scan}").fetchone()[0])
            except duckdb.Error:
                left.append(path.suffix.lower())
                continue
            n_read += 1
            n_bytes += path.stat().st_size
    con.close()
    out["floor"] = {"wall_s": c.wall, "cpu_s": c.cpu, "load": c.load, "rows": rows, "files": n_read,
                    "bytes": n_bytes, "rows_per_s": rows / c.wall if c.wall else 0.0,
                    "left_out": {k: left.count(k) for k in sorted(set(left))}}
    _say(f"plancher DuckDB : {rows} lignes de {n_read} fichiers en {c.wall:.1f} s ({rows / max(c.wall, 1e-9):.0f} lignes/s)")


def stage_enrich(db: Path, out: dict) -> None:
    """The three text models in one pass (analysis.enrich.one_pass), timed as a whole write session: the
    pass, then the rebuild of the derived tables its new scores call for, the checkpoint and the
    published read copy (``closing_s``; a store is « enriched and aggregated » only then). One total line
    (wall, CPU of this process and of its worker processes) and, per enricher, its scoring CPU and write
    time."""
    from analysis import enrich

    closing: dict[str, float] = {}
    t0 = os.times()
    with Clock() as session:
        with derived_refresh.writer(db, timings=closing) as con:
            n_msgs = con.execute("SELECT count(*) FROM messages").fetchone()[0]
            tm: dict = {}
            with Clock() as c:
                res = enrich.run(con, timings=tm)
    t1 = os.times()
    children = (t1.children_user - t0.children_user) + (t1.children_system - t0.children_system)
    _record_enrich(out, res, tm, n_msgs, session_wall=session.wall, pass_wall=c.wall, cpu=session.cpu + children,
                   children=children, load=session.load, closing=closing)


def stage_metrics(db: Path, out: dict) -> None:
    from analysis.moderation import alerts
    from analysis.registry import load_registry

    with Clock() as c, derived_refresh.writer(db) as con:  # the whole session: its closing steps too
        found, _notes = alerts.evaluate(con, load_registry())
        alerts.fire(con, found)
    out["metrics"] = {"wall_s": c.wall, "cpu_s": c.cpu, "load": c.load, "alerts": len(found)}
    _say(f"alertes : {len(found)} en {c.wall:.1f} s")


def stage_derived_current(db: Path) -> bool:
    """Whether the derived tables are current before the pages and the report are read: stale ones
    (a refresh that failed) make every read compute from the message tables, and the figures that
    follow would not be the app's."""
    from analysis import derived, store

    with store.reader(db) as con:
        ok = derived.current(con)
    if not ok:
        _say("ATTENTION : agrégats dérivés périmés, les pages et le rapport lisent les tables de messages")
    return ok


def _pages() -> list[tuple[str, str]]:
    """(file, title) of the router's PAGES, read without running the app script."""
    import ast

    tree = ast.parse((ROOT / "streamlit_app" / "app.py").read_text(encoding="utf-8"))
    for node in ast.walk(tree):
        if isinstance(node, ast.AnnAssign | ast.Assign):
            target = node.target if isinstance(node, ast.AnnAssign) else node.targets[0]
            if isinstance(target, ast.Name) and target.id == "PAGES":
                return [(f, t) for f, t, *_ in ast.literal_eval(node.value)]
    raise RuntimeError("PAGES introuvable dans streamlit_app/app.py")


def stage_pages(db: Path, out: dict, only: set[str] | None = None) -> list[tuple[str, str, tuple, dict]]:
    """Render every page (or those of ``only``: files or titles) with AppTest (cold cache); return
    the queries they ran."""
    os.environ["VIGIE_DB"] = str(db)
    os.environ.setdefault("VIGIE_AUTH", "demo")
    os.environ.setdefault("VIGIE_PSEUDONYM_KEY", "bench-key-not-secret")
    import streamlit as st
    from streamlit.testing.v1 import AppTest

    import streamlit_app.data as data

    recorded: list[tuple[str, str, tuple, dict]] = []
    page = {"name": ""}
    original = data._resolve

    def recording(target: str) -> Callable:
        fn = original(target)
        if target.startswith("analysis.charts"):  # data.chart: a chart build from frames, not a query
            return fn

        def wrapper(con: Any, *args: Any, **kwargs: Any) -> Any:
            recorded.append((page["name"], target, args, kwargs))
            return fn(con, *args, **kwargs)

        return wrapper

    data._resolve = recording
    out["pages"] = {}
    try:
        for file, title in _pages():
            if not (ROOT / "streamlit_app" / "app_pages" / file).exists():
                continue
            if only and not ({file, file.removesuffix(".py"), title} & only):
                continue
            page["name"] = "_accueil"
            at = AppTest.from_file(str(ROOT / "streamlit_app" / "app.py"), default_timeout=600)
            at.session_state["vigie_role"] = "analyste"
            at.run()  # the home page first, as the page tests do (switching before a first run
            # lands on the home page for some url paths)
            st.cache_data.clear()  # cold: nothing left by the home page or the previous page
            page["name"] = title
            with Clock() as c:  # router, sidebar filters and the page, as a user following a link
                at.switch_page(f"app_pages/{file}").run()
            with Clock() as warm:
                at.run()
            errs = [str(e.value)[:200] for e in at.exception]
            out["pages"][title] = {"cold_s": c.wall, "warm_s": warm.wall, "load": c.load, "errors": errs,
                                   "queries": sum(1 for r in recorded if r[0] == title)}
            _say(f"page {title} : {c.wall:.2f} s à froid, {warm.wall:.2f} s en cache{' — ERREUR' if errs else ''}")
    finally:
        data._resolve = original
    return [r for r in recorded if r[0] != "_accueil"]


def _describe(args: tuple, kwargs: dict) -> str:
    """Short, readable arguments of a recorded call (filters: territories and period)."""
    parts = []
    for a in args:
        if hasattr(a, "territories"):
            parts.append(f"territoires={','.join(a.territories) or 'tous'} {a.start}→{a.end}")
    parts += [f"{k}={v}" for k, v in kwargs.items() if k not in ("start", "end", "territories")]
    return "; ".join(parts)[:120]


def stage_queries(db: Path, recorded: list[tuple[str, str, tuple, dict]], repeats: int, out: dict) -> None:
    from analysis import store
    from streamlit_app.data import _resolve

    seen, rows = set(), []
    with store.reader(db) as con:
        for page, target, args, kwargs in recorded:
            key = (target, repr(args), repr(sorted(kwargs.items())))
            if key in seen:
                continue
            seen.add(key)
            fn = _resolve(target)
            times, cpus = [], []
            for i in range(repeats):
                t0, c0 = time.perf_counter(), time.process_time()
                fn(con, *args, **kwargs)
                times.append(time.perf_counter() - t0)
                cpus.append(time.process_time() - c0)
                if i == 1 and times[-1] > 5:  # a very slow query: two runs say enough
                    break
            # CPU time (all DuckDB threads included) is what the query costs on an idle machine;
            # wall time on this shared 2-core box also counts the other developers' processes.
            rows.append({"page": page, "query": target.split(":")[-1], "module": target.split(":")[0],
                         "args": _describe(args, kwargs), "runs": len(times),
                         "p50_ms": 1000 * _pct(times, 50), "p95_ms": 1000 * _pct(times, 95),
                         "cpu_p50_ms": 1000 * _pct(cpus, 50), "load": os.getloadavg()[0]})
    out["queries"] = rows
    worst = max(rows, key=lambda r: r["p95_ms"]) if rows else None
    if worst:
        _say(f"{len(rows)} requêtes distinctes ; pire p95 {worst['p95_ms']:.0f} ms ({worst['query']})")


def stage_report(db: Path, out: dict) -> None:
    from analysis import store

    try:
        from analysis.reports import render
    except ModuleNotFoundError as e:
        out["report"] = {"skipped": f"analysis.reports absent ({e})"}
        return
    with store.reader(db) as con:
        own = con.execute("SELECT territory_id FROM territories WHERE kind = 'own' LIMIT 1").fetchone()[0]
        period = render.available_periods(con, own)["month"][1]  # last complete month
        # each step timed: what the store's figures cost, and what the PDF engine (WeasyPrint: layout,
        # then the file with its fonts) costs whatever the store
        steps: dict[str, float] = {}
        with Clock() as c:
            pdf = render.generate(con, own, period, fmt="pdf", timings=steps)
    out["report"] = {"wall_s": c.wall, "cpu_s": c.cpu, "load": c.load, "period": period, "bytes": len(pdf),
                     **{f"{k}_s": v for k, v in steps.items()}}
    _say(f"rapport {period} : {c.wall:.1f} s (chiffres {steps['build']:.1f} s, HTML {steps['html']:.2f} s, "
         f"PDF WeasyPrint {steps['pdf']:.1f} s)")


# ------------------------------------------------------------------------------ baselines
# The same aggregations, once in DuckDB SQL on the store, once as a pandas user writes them.
BASELINE_SQL = {
    "volume territoire × plateforme × mois": """
        SELECT territory_id, platform, date_trunc('month', created_at) AS month, count(*) AS n
        FROM messages GROUP BY ALL""",
    "sentiment net territoire × mois": """
        SELECT m.territory_id, date_trunc('month', m.created_at) AS month,
               avg(CASE s.label WHEN 'positive' THEN 1 WHEN 'negative' THEN -1 ELSE 0 END) AS net, count(*) AS n
        FROM messages m JOIN sentiment s ON s.item_id = m.message_id AND s.item_type = 'message'
        WHERE s.label IS NOT NULL GROUP BY ALL""",
    "part des thèmes par territoire": """
        SELECT m.territory_id, t.theme, count(*)::DOUBLE / any_value(tot.n) AS share
        FROM themes t JOIN messages m ON m.message_id = t.item_id AND t.item_type = 'message'
        JOIN (SELECT territory_id, count(*) AS n FROM messages GROUP BY 1) tot USING (territory_id)
        WHERE t.theme <> 'none' GROUP BY ALL""",
    "messages hostiles par territoire × semaine": """
        SELECT m.territory_id, date_trunc('week', m.created_at) AS week, avg((x.p_toxic >= 0.5)::INT) AS share
        FROM messages m JOIN toxicity x USING (message_id) GROUP BY ALL""",
}


def _pandas_aggs() -> dict[str, Callable[[dict], Any]]:
    import numpy as np

    def volume(t: dict) -> Any:
        m = t["messages"]
        return m.groupby([m.territory_id, m.platform, m.created_at.dt.to_period("M")]).size()

    def net(t: dict) -> Any:
        s = t["sentiment"]
        s = s[(s.item_type == "message") & s.label.notna()]
        j = t["messages"].merge(s, left_on="message_id", right_on="item_id")
        j["v"] = j.label.map({"positive": 1, "negative": -1}).fillna(0)
        return j.groupby([j.territory_id, j.created_at.dt.to_period("M")])["v"].agg(["mean", "size"])

    def themes(t: dict) -> Any:
        th = t["themes"]
        th = th[(th.item_type == "message") & (th.theme != "none")]
        j = th.merge(t["messages"], left_on="item_id", right_on="message_id")
        tot = t["messages"].groupby("territory_id").size()
        return j.groupby(["territory_id", "theme"]).size() / tot

    def hostile(t: dict) -> Any:
        j = t["messages"].merge(t["toxicity"], on="message_id")
        j["h"] = (j.p_toxic >= 0.5).astype(np.int64)
        return j.groupby([j.territory_id, j.created_at.dt.to_period("W")])["h"].mean()

    return dict(zip(BASELINE_SQL, (volume, net, themes, hostile), strict=True))


def stage_pandas(db: Path, repeats: int, out: dict) -> None:
    from analysis import store

    with store.reader(db) as con:
        duck = {}
        for name, sql in BASELINE_SQL.items():
            times = []
            for _ in range(repeats):
                t0 = time.perf_counter()
                con.execute(sql).fetchall()
                times.append(time.perf_counter() - t0)
            duck[name] = statistics.median(times)
        with Clock() as load:
            tables = {
                "messages": con.execute("SELECT message_id, territory_id, platform, created_at FROM messages").df(),
                "sentiment": con.execute("SELECT item_id, item_type, label FROM sentiment").df(),
                "themes": con.execute("SELECT item_id, item_type, theme FROM themes").df(),
                "toxicity": con.execute("SELECT message_id, p_toxic FROM toxicity").df(),
            }
    rows = []
    for name, fn in _pandas_aggs().items():
        times = []
        for _ in range(max(3, repeats // 2)):
            t0 = time.perf_counter()
            fn(tables)
            times.append(time.perf_counter() - t0)
        pd_s = statistics.median(times)
        rows.append({"aggregation": name, "duckdb_ms": 1000 * duck[name], "pandas_ms": 1000 * pd_s,
                     "ratio": pd_s / duck[name]})
    out["pandas"] = {"load_s": load.wall, "aggregations": rows}
    _say(f"pandas : chargement {load.wall:.1f} s ; " + ", ".join(f"{r['ratio']:.1f}×" for r in rows))


def stage_vader(db: Path, sample: int, out: dict) -> None:
    import warnings

    from analysis import store
    from analysis.moderation.scoring import score_texts
    from analysis.sentiment import load_model

    warnings.filterwarnings("ignore")
    from vaderSentiment_fr.vaderSentiment import SentimentIntensityAnalyzer

    with store.reader(db) as con:
        texts = [t or "" for (t,) in con.execute(
            "SELECT text FROM messages ORDER BY hash(message_id) LIMIT ?", [sample]).fetchall()]
    sia = SentimentIntensityAnalyzer()
    model = load_model()
    model.score(texts[:100])  # loaded and warm, as VADER's lexicon is once built

    def median_run(fn: Callable[[], Any]) -> Clock:
        """The median of three timed runs: one run of 0,4 s varied by ±40 % on this shared machine."""
        runs = []
        for _ in range(3):
            with Clock() as c:
                fn()
            runs.append(c)
        return sorted(runs, key=lambda c: c.wall)[1]

    v = median_run(lambda: [sia.polarity_scores(t) for t in texts])
    ours = median_run(lambda: model.score(texts))
    tox = median_run(lambda: score_texts(texts))
    out["vader"] = {"sample": len(texts), "vader_msgs_per_s": len(texts) / v.wall,
                    "vigie_msgs_per_s": len(texts) / ours.wall, "ratio": v.wall / ours.wall,
                    "toxicity_msgs_per_s": len(texts) / tox.wall, "load": v.load, "runs": 3}
    _say(f"vaderSentiment-fr {len(texts) / v.wall:.0f} msg/s, Vigie {len(texts) / ours.wall:.0f} msg/s")


# ------------------------------------------------------------------------------ table
def table(res: dict) -> str:
    """The one table (French, fr formatting), goals checked."""
    from analysis.fmt import fr_int, fr_num

    lines: list[tuple[str, str, str]] = []

    def add(what: str, value: str, note: str = "") -> None:
        lines.append((what, value, note))

    g = res.get("generate")
    if g:
        add("Démo générée", f"{fr_int(g['messages'])} messages, {fr_int(g['posts'])} publications",
            f"{fr_num(g.get('wall_s', 0), 0)} s, {g.get('files', 0)} fichiers")
    if "import" in res:
        i = res["import"]
        split = (f" dont écriture {fr_num(i['cpu_writer_s'], 1)} s, lecture en parallèle {fr_num(i['cpu_workers_s'], 1)} s"
                 if i.get("cpu_workers_s") else "")
        add("Import (lignes/s)", fr_int(i["rows_per_s"]),
            f"{fr_int(i['rows'])} lignes en {fr_num(i['wall_s'], 1)} s (CPU {fr_num(i['cpu_s'], 1)} s{split})")
    if "floor" in res:
        fl = res["floor"]
        ratio = ""
        if "import" in res and res["import"]["rows_per_s"]:
            ratio = f" ; Vigie à 1/{fr_num(fl['rows_per_s'] / res['import']['rows_per_s'], 1)} du plancher"
        left = sum(fl["left_out"].values())
        add("Plancher d'import : DuckDB seul (lignes/s)", fr_int(fl["rows_per_s"]),
            f"{fr_int(fl['rows'])} lignes de {fl['files']} fichiers CSV/JSON en {fr_num(fl['wall_s'], 1)} s "
            f"(CPU {fr_num(fl['cpu_s'], 1)} s){ratio}" + (f", {left} classeurs/flux non lus" if left else ""))
    for name, e in res.get("enrich_tasks", {}).items():
        add(f"Enrichissement {name} (CPU de calcul)", f"{fr_num(e.get('score_cpu_s', 0), 1)} s",
            f"{fr_int(e.get('rows', 0))} lignes, écriture {fr_num(e.get('write_s', 0), 1)} s")
    for name, e in res.get("enrich", {}).items():
        what = "une passe" if name == "passe" else name  # (a result file written before the single pass)
        closing = ", ".join(f"{k} {fr_num(v, 1)} s" for k, v in e.get("closing_s", {}).items())
        add(f"Enrichissement {what} (messages/s)", fr_int(e["messages_per_s"]),
            f"{fr_num(e['wall_s'], 1)} s de session"
            + (f" (passe {fr_num(e['pass_wall_s'], 1)} s ; fermeture : {closing})" if "pass_wall_s" in e else "")
            + f" (CPU {fr_num(e['cpu_s'], 1)} s"
            + (f", dont {e['workers']} processus de calcul {fr_num(e['cpu_workers_s'], 1)} s ; "
               f"{fr_int(e['distinct_texts'])} textes distincts)" if "workers" in e else ")"))
    if "metrics" in res:
        add("Alertes (métriques)", f"{fr_num(res['metrics']['wall_s'], 1)} s", f"{res['metrics']['alerts']} alertes")
    if "end_to_end_s" in res:
        ok = res["end_to_end_s"] <= GOALS["end_to_end_s"]
        one = res.get("enrich", {}).get("passe", {}).get("same_session_as_import")
        add("Import + enrichissement + métriques (sessions entières"
            + (" : import --enrich en une, alertes)" if one else ")"), f"{fr_num(res['end_to_end_s'], 0)} s",
            f"CPU {fr_num(res['end_to_end_cpu_s'], 0)} s ; objectif ≤ {fr_num(GOALS['end_to_end_s'], 0)} s : {'oui' if ok else 'NON'}")
    if "newday" in res:
        n = res["newday"]
        ok = n["wall_s"] <= GOALS["newday_s"]
        add("Un jour de plus (import → copie publiée)", f"{fr_num(n['wall_s'], 1)} s",
            f"{fr_int(n['messages'])} messages et {fr_int(n.get('edited', 0))} modifiés ; " + ", ".join(f"{label} {fr_num(n['steps_s'].get(k, 0), 2)} s"
                                                      for k, label in NEWDAY_STEPS.items())
            + f" ; CPU {fr_num(n['cpu_s'], 1)} s ; objectif ≤ 3 s : {'oui' if ok else 'NON'}")
    if "derived_current" in res:
        add("Agrégats dérivés à jour (lus par les pages)", "oui" if res["derived_current"] else "NON",
            "" if res["derived_current"] else "refresh en échec : les mesures suivantes lisent les tables de messages")
    for title, p in res.get("pages", {}).items():
        add(f"Page {title} (AppTest)", f"{fr_num(p['cold_s'], 2)} s",
            f"en cache {fr_num(p['warm_s'], 2)} s, {p['queries']} requêtes" + (" — ERREUR" if p["errors"] else ""))
    for q in res.get("queries", []):
        flag = "" if q["p95_ms"] <= GOALS["query_p95_ms"] else f" > {fr_int(GOALS['query_p95_ms'])} ms"
        add(f"  {q['page']} · {q['query']}", f"p50 {fr_int(q['p50_ms'])} ms / p95 {fr_int(q['p95_ms'])} ms",
            f"CPU p50 {fr_int(q['cpu_p50_ms'])} ms, {q['runs']} exécutions{flag}")
    if "report" in res:
        r = res["report"]
        add("Rapport PDF", f"{fr_num(r['wall_s'], 1)} s" if "wall_s" in r else "—",
            r.get("skipped", f"période {r.get('period')}, objectif ≤ {fr_num(GOALS['report_s'], 0)} s : "
                  f"{'oui' if r.get('wall_s', 1e9) <= GOALS['report_s'] else 'NON'}"
                  + (f" (chiffres {fr_num(r['build_s'], 1)} s, HTML {fr_num(r['html_s'], 2)} s, "
                     f"PDF WeasyPrint {fr_num(r['pdf_s'], 1)} s)" if "pdf_s" in r else "")))
    if "pandas" in res:
        for a in res["pandas"]["aggregations"]:
            add(f"pandas vs DuckDB : {a['aggregation']}", f"{fr_num(a['ratio'], 1)} ×",
                f"DuckDB {fr_int(a['duckdb_ms'])} ms, pandas {fr_int(a['pandas_ms'])} ms "
                f"(+ {fr_num(res['pandas']['load_s'], 1)} s de chargement)")
    if "vader" in res:
        v = res["vader"]
        add("Sentiment Vigie vs vaderSentiment-fr", f"{fr_num(v['ratio'], 1)} ×",
            f"Vigie {fr_int(v['vigie_msgs_per_s'])} msg/s, VADER-fr {fr_int(v['vader_msgs_per_s'])} msg/s")
    after = res.get("peak_rss_after_mb") or {}
    reached = next((k for k, v in after.items() if v >= res.get("peak_rss_mb", 0)), None)
    add("Mémoire (pic RSS)", f"{fr_int(res.get('peak_rss_mb', 0))} Mo",
        "objectif ≤ 3 072 Mo" + (f", atteint pendant l'étape {reached}" if reached else ""))
    add("Charge machine (moyenne 1 min, 2 cœurs)", fr_num(res.get("load_max", 0), 1), "max. observé pendant le banc")
    w1 = max(len(a) for a, _, _ in lines)
    w2 = max(len(b) for _, b, _ in lines)
    out = [f"{'Mesure':<{w1}}  {'Valeur':>{w2}}  Détail", "-" * (w1 + w2 + 40)]
    out += [f"{a:<{w1}}  {b:>{w2}}  {c}" for a, b, c in lines]
    return "\n".join(out)


def results_path(name: str, scale: float, only: str = "", pages: str = "", reuse: bool = False) -> Path:
    """``benchmarks/results/<name>_scale<scale>.json``; a partial run (``only``, ``pages``, ``reuse``) writes
    beside it, its stages in the name, never over it: its figures alone would read as a whole run's."""
    partial = "".join(f"_{k}-" + re.sub(r"[^\w+]+", "-", v.replace(",", "+"))
                      for k, v in (("only", only), ("pages", pages)) if v) + ("_reuse" if reuse else "")
    return RESULTS / f"{name}_scale{scale:g}{partial}.json"


def main(argv: list[str] | None = None) -> int:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--scale", type=float, default=4.1,
                    help="échelle de la démo (4,1 ≈ 1,04 M messages, 50 700 publications)")
    ap.add_argument("--work", type=Path, default=ROOT / "build" / "bench")
    ap.add_argument("--repeats", type=int, default=7)
    ap.add_argument("--sample", type=int, default=20_000, help="messages pour VADER-fr vs Vigie")
    ap.add_argument("--reuse", action="store_true", help="réutiliser le magasin déjà importé et enrichi")
    ap.add_argument("--only", default="", help="étapes (generate,import,floor,enrich,metrics,newday,pages,"
                                               "queries,report,pandas,vader), par défaut toutes")
    ap.add_argument("--pages", default="", help="pages à mesurer (fichiers ou titres, séparés par des "
                                                "virgules), par défaut toutes")
    ap.add_argument("--json", type=Path, default=None, help="fichier de résultats (défaut : benchmarks/results/"
                                                            "bench_scale<échelle>.json ; une exécution partielle "
                                                            "ajoute ses étapes au nom)")
    ap.add_argument("--exports", type=Path, default=None,
                    help="liste des exports déjà générés (exports.files.pkl) : importer sans régénérer "
                         "(défaut : <work>/exports.files.pkl)")
    ap.add_argument("--slices", type=int, default=1,
                    help="générer la démo en N tranches (processus fils, graines 42, 43…) : au-delà de "
                         "l'échelle 4,1, le générateur tient trop de messages en mémoire")
    ap.add_argument("--generate-only", type=Path, default=None, help=argparse.SUPPRESS)
    ap.add_argument("--seed", type=int, default=42, help=argparse.SUPPRESS)
    a = ap.parse_args(argv)
    if a.generate_only:
        _generate_only(a.generate_only, a.scale, a.seed)
        return 0
    a.work.mkdir(parents=True, exist_ok=True)
    db, exports = a.work / "bench.duckdb", a.work / "exports"
    RESULTS.mkdir(parents=True, exist_ok=True)
    res: dict[str, Any] = {"date": date.today().isoformat(), "scale": a.scale, "cpus": os.cpu_count(),
                           "python": platform.python_version()}
    loads: list[float] = []
    stages = set(a.only.split(",")) if a.only else None

    def want(s: str) -> bool:
        return (stages is None or s in stages) and not (a.reuse and s in ("generate", "import", "enrich", "metrics"))

    out_path = a.json or results_path("bench", a.scale, a.only, a.pages, a.reuse)
    res["stages"] = sorted(stages) if stages else "toutes"

    def save(stage: str | None = None) -> None:
        res["peak_rss_mb"] = _rss_mb()
        if stage:  # the high-water mark after each stage: the stage that set the peak
            res.setdefault("peak_rss_after_mb", {})[stage] = res["peak_rss_mb"]
        res["load_max"] = max(loads + [os.getloadavg()[0]])
        out_path.write_text(json.dumps(res, ensure_ascii=False, indent=1, default=str), encoding="utf-8")

    if want("generate"):
        files = stage_generate(exports, a.scale, res, a.slices)
        save("generate")
    listing_path = a.exports or exports.with_suffix(".files.pkl")
    if (want("import") or (want("floor") and listing_path.exists())) and not want("generate"):
        # exports generated by an earlier run (or shared): their listing
        import pickle

        listing = pickle.loads(listing_path.read_bytes())
        files = listing["files"]
        res["generate"] = {"messages": listing["messages"], "posts": listing["posts"], "files": len(files)}
    if want("import"):
        # import and enrichment wanted: one session, as `vigie import --enrich` (one closing, not two)
        stage_import(files, db, res, enrich_too=want("enrich"))
        save("import")
    if want("floor") and "generate" in res:
        stage_floor(files, res)
        save("floor")
    if want("enrich") and "enrich" not in res:
        stage_enrich(db, res)
        save("enrich")
    if want("metrics"):
        stage_metrics(db, res)
    if all(k in res for k in ("import", "enrich", "metrics")):
        res["end_to_end_s"] = (res["import"]["wall_s"] + sum(e["wall_s"] for e in res["enrich"].values())
                               + res["metrics"]["wall_s"])
        res["end_to_end_cpu_s"] = (res["import"]["cpu_s"] + sum(e["cpu_s"] for e in res["enrich"].values())
                                   + res["metrics"]["cpu_s"])
    for k in ("import", "metrics"):
        if k in res:
            loads.append(res[k]["load"])
    save()
    if want("newday"):
        from benchmarks.newday import stage_newday

        stage_newday(db, a.work, a.scale, res, _say)
        loads.append(res["newday"]["load"])
        save("newday")
    if want("pages") or want("queries") or want("report"):
        res["derived_current"] = stage_derived_current(db)
    only_pages = {x.strip() for x in a.pages.split(",") if x.strip()} or None
    recorded = stage_pages(db, res, only_pages) if want("pages") or want("queries") else []
    save("pages" if recorded else None)
    if want("queries"):
        stage_queries(db, recorded, a.repeats, res)
        save("queries")
    if want("report"):
        try:
            stage_report(db, res)
        except Exception as e:  # noqa: BLE001 - the report module is young: keep the other figures
            res["report"] = {"skipped": f"erreur {type(e).__name__}: {e}"[:200]}
        save("report")
    if want("pandas"):
        stage_pandas(db, a.repeats, res)
        save("pandas")
    if want("vader"):
        stage_vader(db, a.sample, res)
    save()
    print(table(res))
    _say(f"résultats : {out_path}")
    return 0


if __name__ == "__main__":
    sys.exit(main())
