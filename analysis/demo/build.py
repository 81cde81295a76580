"""Build the demo: simulate (:mod:`analysis.demo.simulation`), add the events agenda (:mod:`analysis.demo.events`),
write every export file and the ground truth, collect the replayed APIs, import, enrich.

Apart from the simulation so that the simulation does not import what draws from it: the events
agenda uses the simulation's accounts, authors and engagement model, and this module calls both.
"""

from __future__ import annotations

import gzip
import io
import json
import os
import time
import tomllib
from collections.abc import Callable
from dataclasses import dataclass, field
from pathlib import Path

import duckdb
import numpy as np
import pandas as pd

from analysis import derived_refresh, store
from analysis import enrich as enrich_mod
from analysis.demo import events
from analysis.demo.model import CAMPAIGNS, OWN, Sim
from analysis.demo.replay import collect_replay
from analysis.demo.simulation import simulate
from analysis.demo.truth import _ground_truth, _messages_truth
from analysis.demo.writers import Writer
from analysis.fmt import fr_count, fr_int, fr_num
from analysis.ingest import default_context, expand_paths, import_jobs
from analysis.registry import Registry, load_registry


@dataclass
class BuildReport:
    """What a demo build did: files and their import results, counts and timings (wall and CPU)."""

    exports_dir: Path
    files: list[dict]
    results: list
    n_posts_generated: int
    n_messages_generated: int
    n_posts_store: int
    n_messages_store: int
    timings: dict[str, float]
    enriched: bool
    collected: list = field(default_factory=list)  # SourceResult of each collected source

    @property
    def collect_errors(self) -> list:
        return [r for r in self.collected if r.status != "ok"]

    @property
    def errors(self) -> list:
        return [r for r in self.results if r.status == "error"]

    def summary(self) -> str:
        """French summary printed by ``vigie demo``."""

        t = self.timings
        lines = [
            f"Démo Vigie : {fr_int(len(self.files))} fichiers d'export dans {self.exports_dir}",
            f"  génération : {fr_int(self.n_posts_generated)} publications, {fr_int(self.n_messages_generated)} "
            f"messages en {fr_num(t['generate_wall'], 1)} s (CPU {fr_num(t['generate_cpu'], 1)} s)",
            f"  import : {fr_num(t['import_wall'], 1)} s (CPU {fr_num(t['import_cpu'], 1)} s) ; la base contient "
            f"{fr_int(self.n_posts_store)} publications et {fr_int(self.n_messages_store)} messages",
        ]
        if self.collected:
            c = self.collected
            lines.append(f"  collecte (Bluesky, Mastodon, presse ; serveur local de rejeu) : {fr_int(len(c))} sources, "
                         f"{fr_int(sum(r.requests for r in c))} requêtes, {fr_int(sum(r.inserted for r in c))} "
                         f"lignes ajoutées en {fr_num(t.get('collect_wall', 0.0), 1)} s")
        lines.append(f"  enrichissement : {fr_num(t['enrich_wall'], 1)} s" if self.enriched else "  pas d'enrichissement")
        if self.collect_errors:
            lines.append(f"  {fr_count(len(self.collect_errors), 'source collectée', 'sources collectées')} en erreur, première : "
                         f"{self.collect_errors[0].error}")
        if self.errors:
            lines.append(f"  {fr_count(len(self.errors), 'fichier')} en erreur, premier : {self.errors[0].error}")
        return "\n".join(lines)


def generate(exports_dir: str | os.PathLike, seed: int = 42, scale: float = 1.0,
             registry: Registry | None = None) -> tuple[Sim, list[dict]]:
    """Simulate and write every export file plus the ground truth; return the simulation and the files."""
    registry = registry or load_registry()
    root = Path(exports_dir)
    sim = simulate(registry, seed, scale)
    events.inject(sim, seed)  # the events agenda and its promotion (analysis.demo.events)
    root.mkdir(parents=True, exist_ok=True)
    writer = Writer(sim, root, np.random.default_rng(seed + 1))
    writer.write_all()
    events.write(writer)
    truth = _ground_truth(sim, writer, seed, scale)
    (root / "ground_truth.json").write_text(json.dumps(truth, ensure_ascii=False, indent=1, sort_keys=True),
                                            encoding="utf-8")
    buf = io.BytesIO()
    # mtime=0: same seed, same bytes; level 1: 0,5 s where the default 9 took 2,3 s (12 MB instead of 8,8)
    with gzip.GzipFile(fileobj=buf, mode="wb", mtime=0, compresslevel=1) as gz:
        gz.write(_messages_truth(sim).to_csv(index=False).encode("utf-8"))
    (root / "ground_truth_messages.csv.gz").write_bytes(buf.getvalue())
    return sim, writer.files


def build_report(exports_dir: str | os.PathLike, db: str | os.PathLike, seed: int = 42, scale: float = 1.0,
                 enrich: bool = True, progress: Callable[[str], None] | None = None) -> BuildReport:
    """Generate the demo exports, import them through the real importers, collect the recorded API
    responses through the real connectors (a local server), enrich; report what happened."""
    say = progress or (lambda s: None)
    registry = load_registry()
    w0, c0 = time.perf_counter(), time.process_time()
    sim, files = generate(exports_dir, seed, scale, registry)
    timings = {"generate_wall": time.perf_counter() - w0, "generate_cpu": time.process_time() - c0}
    say(f"Exports écrits : {len(files)} fichiers, {len(sim.posts)} publications, {len(sim.messages)} messages "
        f"({timings['generate_wall']:.1f} s)")
    # Collected before the exports are imported: every batch of a collection is one upsert per table,
    # whose cost grows with the table (3 s against an empty store, 10 s more after the imports).
    w0, c0 = time.perf_counter(), time.process_time()
    with derived_refresh.writer(db) as con:
        collected = collect_replay(exports_dir, con, registry)
    timings.update(collect_wall=time.perf_counter() - w0, collect_cpu=time.process_time() - c0)
    say(f"Collecte : {len(collected)} sources, {sum(r.requests for r in collected)} requêtes, "
        f"{sum(r.inserted for r in collected)} lignes ajoutées ({timings['collect_wall']:.1f} s)")
    w0, c0 = time.perf_counter(), time.process_time()
    results = import_files(files, db, registry, say)
    timings.update(import_wall=time.perf_counter() - w0, import_cpu=time.process_time() - c0)
    enriched = False
    with derived_refresh.writer(db) as con:
        w0 = time.perf_counter()
        store.upsert(con, "campaigns", campaigns_frame())
        if enrich:
            say("Enrichissement (sentiment, thèmes)…")
            enrich_mod.run(con)
            enriched = True
        n_posts = con.execute("SELECT count(*) FROM posts").fetchone()[0]
        n_msgs = con.execute("SELECT count(*) FROM messages").fetchone()[0]
    timings["enrich_wall"] = time.perf_counter() - w0
    return BuildReport(Path(exports_dir), files, results, len(sim.posts), len(sim.messages), n_posts, n_msgs,
                       timings, enriched, collected)


def build(exports_dir: str | os.PathLike, db: str | os.PathLike, seed: int = 42, scale: float = 1.0,
          enrich: bool = True, progress: Callable[[str], None] | None = None) -> str:
    """Generate the demo exports, import them, enrich; return a French summary (``vigie demo``)."""
    return build_report(exports_dir, db, seed, scale, enrich, progress).summary()


def import_files(files: list[dict], db: str | os.PathLike, registry: Registry,
                 say: Callable[[str], None],
                 then: Callable[[duckdb.DuckDBPyConnection], None] | None = None,
                 timings: dict[str, float] | None = None) -> list:
    """Import the written files through the real pipeline, with the hints each one needs;
    ``then(con)`` writes more in the same session (one rebuild of the derived tables and one
    publish, not two). ``timings`` receives the session's closing steps (``derived_refresh.writer``)."""

    groups: dict[tuple, list[Path]] = {}
    for f in files:  # files of the same context together, in the order of the listing
        key = (f["hint"], f["snapshot"], str(f["mapping"] or ""), f["fmt"])
        groups.setdefault(key, []).append(f["path"])
    jobs = []
    for (hint, snap, mapping_path, fmt), paths in groups.items():
        mapping = tomllib.loads(Path(mapping_path).read_text(encoding="utf-8")) if mapping_path else None
        ctx = default_context(registry=registry, account_hint=hint, mapping=mapping, snapshot_date=snap)
        jobs += [(p, ctx, fmt) for p in expand_paths(paths)]
    with derived_refresh.writer(db, timings=timings) as con:
        # one call for every file: parsed on both cores while this process writes (ingest.import_jobs)
        results = import_jobs(con, jobs)
        if then is not None:
            then(con)
    bad = [r for r in results if r.status == "error"]
    say(f"Import : {len(results)} fichiers, {len(bad)} en erreur")
    return results


def campaigns_frame() -> pd.DataFrame:
    """The demo campaigns (the placebo included) as rows of the ``campaigns`` table."""
    return pd.DataFrame([{
        "campaign_id": c["campaign_id"], "name": c["name"], "territory_id": OWN, "start_date": c["start"],
        "end_date": c["end"], "hashtags": [c["hashtag"].lower()], "keywords": [], "post_ids": [],
        "objective": "engagement", "budget": c["budget"], "source": "demo"} for c in CAMPAIGNS])
