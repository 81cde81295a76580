"""Load test of the app: N concurrent sessions for D seconds on the demo store, loopback only.

Each session is a real Streamlit websocket client (the browser's protocol: ``BackMsg``
protobufs on ``/_stcore/stream``) that opens every page in turn, as a person clicking
through the menu, and reads each page for a random time between ``--think`` MIN and MAX
seconds before the next click (default 5–20 s: an elected official or an analyst reading a
dashboard; ``--think 0.5 2`` is a stress test, a robot clicking without reading). Sessions use
three filter sets (the default 12 months; our territory over 30 days; 3 months of Facebook).
By default the server has been running (one warm-up session opens every page with each filter
set) and people arrive within the first MIN seconds; ``--cold`` is the worst case: only the
default filters warmed and all sessions starting in the same instant.

A page's time runs from the request to the server's ``script_finished`` message: the
server-side cost a browser waits for (charts are then drawn by the browser, not measured). The
RSS of the Streamlit process is sampled every 2 s. Bounded: the run stops after D seconds
whatever happens.

    .venv/bin/python -m benchmarks.load_app --db build/demo.duckdb --sessions 20 --duration 120

Prints a table (per page: count, errors, p50, p95, max), the throughput and the memory samples.
"""

from __future__ import annotations

import argparse
import asyncio
import os
import random
import socket
import statistics
import subprocess
import sys
import time
from pathlib import Path

import psutil
from streamlit.proto.BackMsg_pb2 import BackMsg
from streamlit.proto.ForwardMsg_pb2 import ForwardMsg
from tornado.websocket import websocket_connect

ROOT = Path(__file__).resolve().parents[1]


def app_pages() -> list[str]:
    """URL paths of the router's pages whose file exists (as the menu shows them)."""
    import ast

    app = ROOT / "streamlit_app" / "app.py"
    for node in ast.walk(ast.parse(app.read_text(encoding="utf-8"))):
        if isinstance(node, ast.AnnAssign) and getattr(node.target, "id", None) == "PAGES":
            found = [u for f, _t, _i, u in ast.literal_eval(node.value) if (app.parent / "app_pages" / f).exists()]
            return found
    raise SystemExit("PAGES introuvable dans streamlit_app/app.py")


PAGES = app_pages()


def free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


async def page_run(ws, page: str, query: str, timeout: float) -> tuple[float, str | None]:
    """Ask for ``page`` and wait for the end of its script run; (seconds, error or None)."""
    msg = BackMsg()
    msg.rerun_script.query_string = query
    # the first page is the home page: st.navigation serves it at "/" (empty page name)
    msg.rerun_script.page_name = "" if page == PAGES[0] else page
    t0 = time.perf_counter()
    await ws.write_message(msg.SerializeToString(), binary=True)
    error = None
    while True:
        left = timeout - (time.perf_counter() - t0)
        if left <= 0:
            return time.perf_counter() - t0, "délai dépassé"
        raw = await asyncio.wait_for(ws.read_message(), left)
        if raw is None:
            return time.perf_counter() - t0, "connexion fermée"
        fm = ForwardMsg()
        fm.ParseFromString(raw)
        kind = fm.WhichOneof("type")
        if kind == "delta" and fm.delta.WhichOneof("type") == "new_element" \
                and fm.delta.new_element.WhichOneof("type") == "exception":
            error = "exception : " + fm.delta.new_element.exception.message[:80]
        if kind == "page_not_found":
            error = "page introuvable"
        if kind == "script_finished":
            status = ForwardMsg.ScriptFinishedStatus.Name(fm.script_finished)
            if status in ("FINISHED_SUCCESSFULLY", "FINISHED_FRAGMENT_RUN_SUCCESSFULLY"):
                return time.perf_counter() - t0, error
            if status == "FINISHED_EARLY_FOR_RERUN":
                continue
            return time.perf_counter() - t0, error or status


QUERIES = ("periode=12m", "territoires=saint-aubin&periode=30j", "periode=3m&plateformes=facebook")


async def session(n: int, url: str, stop_at: float, results: list, timeout: float,
                  think: tuple[float, float], stagger: bool = True) -> None:
    rnd = random.Random(n)
    query = QUERIES[n % len(QUERIES)]
    try:
        ws = await websocket_connect(url, subprotocols=["streamlit"])
    except Exception as e:  # noqa: BLE001 - recorded as an error of the run
        results.append(("connexion", 0.0, f"{type(e).__name__}: {e}"))
        return
    order = PAGES[n % len(PAGES):] + PAGES[:n % len(PAGES)]  # sessions start on different pages
    i = 0
    if stagger:  # people open the app within a few seconds of each other, not in the same millisecond
        await asyncio.sleep(rnd.uniform(0, think[0]))
    try:
        while time.monotonic() < stop_at:
            page = order[i % len(order)]
            i += 1
            try:
                dt, err = await page_run(ws, page, query, timeout)
            except TimeoutError:
                dt, err = timeout, "délai dépassé"
            results.append((page, dt, err))
            if err == "connexion fermée":
                return
            await asyncio.sleep(rnd.uniform(*think))
    finally:
        ws.close()


async def sample_memory(proc: psutil.Process, stop_at: float, samples: list) -> None:
    while time.monotonic() < stop_at:
        try:
            rss = proc.memory_info().rss + sum(c.memory_info().rss for c in proc.children(recursive=True))
        except psutil.NoSuchProcess:
            return
        samples.append((time.monotonic(), rss))
        await asyncio.sleep(2.0)


def pct(values: list[float], q: float) -> float:
    v = sorted(values)
    return v[min(len(v) - 1, int(round(q * (len(v) - 1))))] if v else float("nan")


def main() -> int:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--db", required=True, help="Base Vigie (la démo : vigie --db … demo).")
    ap.add_argument("--sessions", type=int, default=20)
    ap.add_argument("--duration", type=float, default=120.0, help="Secondes de charge.")
    ap.add_argument("--timeout", type=float, default=60.0, help="Délai maximal d'une page.")
    ap.add_argument("--think", type=float, nargs=2, default=(5.0, 20.0), metavar=("MIN", "MAX"),
                    help="Temps de lecture d'une page avant le clic suivant, en secondes (défaut 5 20 ; "
                         "0.5 2 = test de stress).")
    ap.add_argument("--cold", action="store_true",
                    help="Pire cas : cache chauffé pour le seul filtre par défaut et toutes les sessions "
                         "démarrent au même instant.")
    args = ap.parse_args()

    port = free_port()
    env = {**os.environ, "VIGIE_DB": str(Path(args.db).resolve()), "VIGIE_AUTH": "demo"}
    server = subprocess.Popen(
        [sys.executable, "-m", "streamlit", "run", str(ROOT / "streamlit_app" / "app.py"),
         "--server.port", str(port), "--server.address", "127.0.0.1", "--server.headless", "true",
         "--browser.gatherUsageStats", "false",
         # production setting: no file watcher (in development it unloads modules that are
         # being edited, which makes concurrent sessions fail with KeyError)
         "--server.fileWatcherType", "none", "--server.runOnSave", "false"], env=env, cwd=ROOT,
        stdout=subprocess.DEVNULL, stderr=subprocess.PIPE)
    try:
        deadline = time.monotonic() + 60
        while True:  # wait for the health endpoint
            try:
                socket.create_connection(("127.0.0.1", port), timeout=1).close()
                break
            except OSError:
                if time.monotonic() > deadline or server.poll() is not None:
                    print("Le serveur Streamlit n'a pas démarré.", file=sys.stderr)
                    return 1
                time.sleep(0.3)
        url = f"ws://127.0.0.1:{port}/_stcore/stream"
        proc = psutil.Process(server.pid)

        async def run() -> tuple[list, list, list]:
            # warm-up, not measured: one session through every page with each filter set (first
            # imports, caches), as in a server that has been running — unless --cold
            warm: list = []
            warm_ws = await websocket_connect(url, subprotocols=["streamlit"])
            for q in QUERIES[:1] if args.cold else QUERIES:
                for p in PAGES:
                    warm.append((p, *(await page_run(warm_ws, p, q, 180.0))))
            warm_ws.close()
            results: list = []
            samples: list = []
            stop_at = time.monotonic() + args.duration
            await asyncio.gather(sample_memory(proc, stop_at, samples),
                                 *(session(n, url, stop_at, results, args.timeout, tuple(args.think), not args.cold)
                                   for n in range(args.sessions)))
            return warm, results, samples

        load_before = os.getloadavg()[0]
        warm, results, samples = asyncio.run(run())
        load_after = os.getloadavg()[0]
    finally:
        server.terminate()
        try:
            server.wait(10)
        except subprocess.TimeoutExpired:
            server.kill()

    print(f"Charge : {args.sessions} sessions simultanées pendant {args.duration:.0f} s, base {args.db} ; "
          f"{os.cpu_count()} cœurs, charge système {load_before:.1f} avant, {load_after:.1f} après")
    print(f"Lecture de chaque page : {args.think[0]:g} à {args.think[1]:g} s ; filtres : " + " | ".join(QUERIES))
    print(f"Préchauffage (1 session, {'filtre par défaut' if args.cold else 'chaque jeu de filtres'}) : "
          + ", ".join(f"{p} {dt:.1f} s" + (f" [{e}]" if e else "") for p, dt, e in warm[:len(PAGES)])
          + ("" if args.cold else f" … ({len(warm)} pages)"))
    print("Départs : " + ("simultanés" if args.cold else f"étalés sur {args.think[0]:g} s"))
    print(f"{'Page':<14}{'pages':>7}{'erreurs':>9}{'p50 (s)':>9}{'p95 (s)':>9}{'max (s)':>9}")
    allt = []
    for p in PAGES + ["connexion"]:
        rows = [r for r in results if r[0] == p]
        if not rows:
            continue
        ts = [r[1] for r in rows if r[2] is None]
        allt += ts
        errs = [r[2] for r in rows if r[2] is not None]
        print(f"{p:<14}{len(rows):>7}{len(errs):>9}{pct(ts, .5):>9.2f}{pct(ts, .95):>9.2f}{max(ts, default=0):>9.2f}")
        for e in sorted(set(errs))[:3]:
            print(f"    {e}")
    n_err = sum(1 for r in results if r[2] is not None)
    print(f"{'TOUTES':<14}{len(results):>7}{n_err:>9}{pct(allt, .5):>9.2f}{pct(allt, .95):>9.2f}{max(allt, default=0):>9.2f}")
    print(f"Débit servi : {len(results) / args.duration:.2f} pages/s ; temps serveur cumulé "
          f"{sum(allt):.0f} s pour {args.duration:.0f} s de charge")
    if samples:
        mb = [s[1] / 1024**2 for s in samples]
        third = max(1, len(mb) // 3)
        print(f"Mémoire du serveur (RSS) : début {mb[0]:.0f} Mo, max {max(mb):.0f} Mo, fin {mb[-1]:.0f} Mo ; "
              f"moyenne du 2e tiers {statistics.mean(mb[third:2 * third] or mb):.0f} Mo, "
              f"du dernier tiers {statistics.mean(mb[2 * third:] or mb):.0f} Mo ({len(mb)} relevés)")
    ok = pct(allt, .95) <= 3.0 and n_err == 0
    print("Objectif p95 ≤ 3 s sans erreur : " + ("atteint" if ok else "NON atteint"))
    return 0 if ok else 2


if __name__ == "__main__":
    sys.exit(main())
