"""Report model and rendering: one Jinja2 template, a self-contained HTML and a PDF of the same HTML.

Reproducible: the model holds no wall-clock time. The date printed and written in the PDF
metadata is the store's last import; the PDF identifier derives from the store snapshot hash,
so two runs on the same snapshot give identical bytes (HTML and PDF).
"""

from __future__ import annotations

import base64
import contextlib
import gc
import hashlib
import mimetypes
import threading
import time
from collections.abc import Callable
from concurrent.futures import ThreadPoolExecutor
from dataclasses import dataclass, replace
from datetime import datetime
from pathlib import Path
from typing import Any

import duckdb
import pandas as pd
from jinja2 import Environment, FileSystemLoader, select_autoescape

from analysis import metrics, store
from analysis.eval.figures import reliability_note
from analysis.fmt import fr_date, fr_datetime, fr_int, fr_period_end_included
from analysis.reports import findings as findings_mod
from analysis.reports.period import Period, parse_period
from analysis.reports.sections import ReportContext, sections
from analysis.schema import platform_label
from analysis.territories import peers_of

TEMPLATES = Path(__file__).resolve().parent / "templates"
SECTION_THREADS = 3  # sections built side by side (report build time on two cores)
REPORT_VERSION = "1"  # layout/content version of the report itself, printed with the metric version


class ReportError(RuntimeError):
    """A report that cannot be produced (French message for the user)."""


@dataclass
class Report:
    """The report model (everything the template shows) and its identity."""

    model: dict[str, Any]

    @property
    def title(self) -> str:
        return self.model["title"]


def _period_counts(con: duckdb.DuckDBPyConnection, territory: str, period: Period) -> tuple[int, int]:
    params = [territory, period.start, period.end]
    posts = con.execute("SELECT count(*) FROM posts WHERE territory_id = ? AND created_at >= ? AND created_at < ?",
                        params).fetchone()[0]
    msgs = con.execute("SELECT count(*) FROM messages WHERE territory_id = ? AND created_at >= ? AND created_at < ?",
                       params).fetchone()[0]
    return int(posts), int(msgs)


def model_versions(con: duckdb.DuckDBPyConnection) -> list[dict[str, str]]:
    """Model versions found in the store (sentiment, themes, toxicity) with the number of items each
    and the model's figure on real labelled texts (``vigie eval``, :mod:`analysis.eval.figures`)."""

    out = []
    for table, label, key in (("sentiment", "Sentiment (français)", "sentiment"), ("themes", "Thèmes", "themes"),
                              ("toxicity", "Toxicité", "hostility")):
        try:
            rows = con.execute(f"SELECT model_version, count(*) FROM {table} GROUP BY 1 ORDER BY 1").fetchall()
        except duckdb.CatalogException:
            continue
        for v, n in rows:
            out.append({"model": label, "version": str(v) if v else "—", "count": fr_int(n),
                        "reliability": reliability_note(key)})
    return out


def _last_import(con: duckdb.DuckDBPyConnection) -> datetime | None:
    r = con.execute("SELECT max(finished_at) FROM imports").fetchone()
    return pd.Timestamp(r[0]).to_pydatetime() if r and r[0] is not None else None


def _logo_uri(logo: str | Path | None) -> str | None:
    if not logo:
        return None
    p = Path(logo)
    if not p.is_file():
        raise ReportError(f"Logo introuvable : {p}. Donnez le chemin d'un fichier PNG, JPEG ou SVG.")
    mime = mimetypes.guess_type(p.name)[0] or "image/png"
    return f"data:{mime};base64," + base64.b64encode(p.read_bytes()).decode("ascii")


class _GcPaused(contextlib.ContextDecorator):
    """Python's cyclic garbage collector paused while a report is computed or laid out, then left to run
    again: both phases allocate millions of small objects (frames, WeasyPrint's boxes) and few cycles,
    and the collector kept walking them — 8 % of the report's time at 1 M messages (4,4–4,8 → 3,8–4,4 s
    in runs alternated with and without the pause, same peak memory). Nested and concurrent reports (the
    app's sessions) share one pause: the last one out restores the collector as the first one in found it."""

    _lock = threading.Lock()
    _depth = 0
    _was_enabled = True

    def __enter__(self) -> _GcPaused:
        with _GcPaused._lock:
            if _GcPaused._depth == 0:
                _GcPaused._was_enabled = gc.isenabled()
                gc.disable()
            _GcPaused._depth += 1
        return self

    def __exit__(self, *exc: object) -> None:
        with _GcPaused._lock:
            _GcPaused._depth -= 1
            if _GcPaused._depth == 0 and _GcPaused._was_enabled:
                gc.enable()


@_GcPaused()
def build_report(con: duckdb.DuckDBPyConnection, territory: str, period: Period, compare: str = "previous",
                 logo: str | Path | None = None, platforms: tuple[str, ...] = (),
                 visible: tuple[str, ...] = ()) -> Report:
    """Compute every figure of the report (findings, KPIs, sections, methods, coverage) into a model.

    ``visible``: the territories its reader may see (a user limited to some territories, through
    ``analysis.access``): the territory and its peers; empty for every territory.

    Raises :class:`ReportError` (French) for an unknown territory or a period without data.
    """
    platforms = tuple(sorted(dict.fromkeys(platforms)))  # the app's and the CLI's order alike
    ter = con.execute("SELECT territory_id, name, logo FROM territories WHERE territory_id = ?", [territory]).fetchone()
    if ter is None:
        known = ", ".join(r[0] for r in con.execute("SELECT territory_id FROM territories ORDER BY 1").fetchall())
        raise ReportError(f"Territoire inconnu : « {territory} ». Territoires de la base : {known or 'aucun'}.")
    name = ter[1] or territory
    posts, msgs = _period_counts(con, territory, period)
    if posts + msgs == 0:
        first, last = con.execute("SELECT min(created_at), max(created_at) FROM (SELECT created_at FROM posts WHERE "
                                  "territory_id = ? UNION ALL SELECT created_at FROM messages WHERE territory_id = ?)",
                                  [territory, territory]).fetchone()
        have = (f"La base couvre {name} {fr_period_end_included(first, last)}." if first else
                f"La base ne contient aucune donnée pour {name}.")
        raise ReportError(f"Aucune donnée pour {name} en {period.label} : pas de publication ni de message. {have} "
                          "Importez les exports de la période (`vigie import`) ou choisissez une autre période.")
    names = dict(con.execute("SELECT territory_id, coalesce(name, territory_id) FROM territories").fetchall())
    peers = peers_of(con, territory)
    ctx = ReportContext(con, territory, name, period, compare, peers, names, tuple(platforms), visible=tuple(visible))

    secs = sections()
    # the findings and the store's hash are computed beside the sections, on cursors of their own too
    *datas, found, snapshot = _side_by_side(con, [
        *((lambda cur, s=s: s.build(replace(ctx, con=cur))) for s in secs),
        lambda cur: findings_mod.findings(cur, territory, period, compare, platforms),
        store.snapshot_hash])
    built = []
    caveats: list[str] = []
    for s, data in zip(secs, datas, strict=True):
        if data is None:
            continue
        caveats += data.get("caveats", [])
        built.append({"id": s.id, "title": s.title, "template": s.template, "data": data})

    as_of = _last_import(con)
    formulas = [{"name": f.name, "formula": f.formula, "unit": f.unit, "version": f.version}
                for f in metrics.FORMULAS.values()]
    formulas += [{"name": k, "formula": v, "unit": "", "version": REPORT_VERSION}
                 for k, v in (("Évolution d'un volume", findings_mod.FORMULAS_FR["volume_change"]),
                              ("Écart de moyennes", findings_mod.FORMULAS_FR["mean_difference"]),
                              ("Écart de proportions", findings_mod.FORMULAS_FR["proportion_difference"]),
                              ("Taux de réponse (constats)", findings_mod.FORMULAS_FR["response_rate"]),
                              ("Règle d'annonce", findings_mod.FORMULAS_FR["claim_rule"]))]
    # « comparé à septembre 2026 » / « comparé aux territoires comparés (…) »
    ref = (f"à {period.previous().label}" if compare == "previous"
           else "aux territoires comparés (" + ", ".join(names.get(p, p) for p in peers) + ")")
    title = f"Rapport {period.label} — {name}"
    model = {
        "title": title,
        "territory": {"id": territory, "name": name},
        "period": {"code": period.code, "label": period.label, "start": fr_date(period.start),
                   "end": fr_date(pd.Timestamp(period.end) - pd.Timedelta(days=1))},
        "compare": compare, "reference": ref,
        "peers": [names.get(p, p) for p in peers],
        "findings": [f.as_dict() for f in found],
        "certainty_fr": findings_mod.CERTAINTY_FR,
        "sections": built,
        "caveats": caveats,
        "counts": {"posts": fr_int(posts), "messages": fr_int(msgs)},
        "methods": {"formulas": formulas, "metrics_version": metrics.METRICS_VERSION,
                    "report_version": REPORT_VERSION, "models": model_versions(con),
                    # the report's detectors (no model of their own): their figure on a real stream too
                    "detectors": [{"name": "Sujets émergents", "reliability": reliability_note("emerging")},
                                  {"name": "Pics de messages négatifs", "reliability": reliability_note("spikes")}]},
        "snapshot": snapshot,
        "as_of": fr_datetime(as_of) if as_of else "—",
        "as_of_iso": as_of.strftime("%Y-%m-%dT%H:%M:%SZ") if as_of else "2000-01-01T00:00:00Z",
        "logo": _logo_uri(logo or ter[2]) if (logo or (ter[2] and Path(ter[2]).is_file())) else None,
        "platforms": list(platforms),
        "platform_labels": [platform_label(p) for p in platforms],
        "command": command_line(territory, period.code, compare, None, platforms),
    }
    return Report(model)


def _side_by_side(con: duckdb.DuckDBPyConnection, jobs: list[Callable[[duckdb.DuckDBPyConnection], Any]]) -> list[Any]:
    """``job(cursor)`` of each job, run side by side (threads, each on a cursor of its own: DuckDB and
    the chart renderer release the GIL), returned in the jobs' order: the same results as one after
    the other."""

    def run(job: Callable[[duckdb.DuckDBPyConnection], Any]) -> Any:
        cur = con.cursor()
        try:
            return job(cur)
        finally:
            cur.close()

    with ThreadPoolExecutor(max_workers=SECTION_THREADS) as pool:
        return list(pool.map(run, jobs))


def _env() -> Environment:
    env = Environment(loader=FileSystemLoader(str(TEMPLATES)), autoescape=select_autoescape(["html", "j2"]),
                      trim_blocks=True, lstrip_blocks=True, keep_trailing_newline=True)
    return env


def render_html(report: Report) -> str:
    """The self-contained HTML (CSS inline, images as data URIs, no external request)."""
    env = _env()
    css = (TEMPLATES / "report.css").read_text(encoding="utf-8")
    return env.get_template("report.html.j2").render(r=report.model, css=css)


def render_pdf(report: Report, html: str | None = None) -> bytes:
    """The tagged PDF of the same HTML (WeasyPrint): language ``fr``, title, fixed dates and identifier.

    Dates come from the store's last import (``dcterms.created``/``modified`` in the HTML head);
    the file identifier is derived from the snapshot hash and the period, so the bytes only change
    when the data or the code change.
    """
    return html_to_pdf(html if html is not None else render_html(report), pdf_identifier(report))


def pdf_identifier(report: Report) -> str:
    """The PDF's file identifier: a hash of the snapshot, territory, period, comparison and platforms."""
    key = (f"{report.model['snapshot']}|{report.model['territory']['id']}|{report.model['period']['code']}|"
           f"{report.model['compare']}")
    if report.model["platforms"]:  # a report limited to some platforms is another document
        key += "|" + ",".join(report.model["platforms"])
    return hashlib.sha256(key.encode()).hexdigest()[:32]


@_GcPaused()
def html_to_pdf(html: str | bytes, identifier: str) -> bytes:
    """The PDF of a report's HTML (:func:`render_html`) with its :func:`pdf_identifier`: the app makes it
    only when the file is downloaded, the same bytes as ``vigie report``."""
    from weasyprint import HTML

    html = html.decode("utf-8") if isinstance(html, bytes) else html
    # pdf_tags: a tagged PDF (headings, tables, image alt text) that screen readers can navigate.
    return HTML(string=html, base_url=str(TEMPLATES)).write_pdf(pdf_identifier=identifier.encode("ascii"), pdf_tags=True)


def file_name(territory: str, period: str, fmt: str = "pdf", platforms: tuple[str, ...] | list[str] = ()) -> str:
    """« rapport-<territoire>-<période>[-<plateforme>…].<format> »: the default file of ``vigie report``
    and the app's download, so a report limited to some platforms never takes the all-platforms name."""
    return "-".join(["rapport", territory, period, *sorted(dict.fromkeys(platforms))]) + f".{fmt}"


def command_line(territory: str, period: str, compare: str = "previous", fmt: str | None = "pdf",
                 platforms: tuple[str, ...] | list[str] = ()) -> str:
    """The ``vigie report`` command that produces the same file (every filter the app applies);
    without ``fmt``, the command without its output options (the report's own reproducibility line)."""
    plats = "".join(f" --platform {p}" for p in sorted(dict.fromkeys(platforms)))
    cmd = f"vigie report --territory {territory} --period {period} --compare {compare}{plats}"
    return cmd if fmt is None else f"{cmd} --format {fmt} --out {file_name(territory, period, fmt, platforms)}"


def write(report: Report, fmt: str, out: str | Path) -> Path:
    """Render ``report`` as ``html`` or ``pdf`` into ``out`` (parent folders created)."""
    out = Path(out)
    out.parent.mkdir(parents=True, exist_ok=True)
    html = render_html(report)
    if fmt == "html":
        out.write_text(html, encoding="utf-8")
    elif fmt == "pdf":
        out.write_bytes(render_pdf(report, html))
    else:
        raise ReportError(f"Format inconnu : « {fmt} » (attendu : html ou pdf).")
    return out


def generate(con: duckdb.DuckDBPyConnection, territory: str, period: str, compare: str = "previous",
             fmt: str = "pdf", platforms: tuple[str, ...] = (), timings: dict[str, float] | None = None) -> bytes:
    """The report as bytes (``fmt`` html or pdf) for a period code such as ``2026-10`` (app downloads).
    ``timings`` (optional dict) receives the seconds of each step: ``build`` (the figures), ``html``,
    ``pdf`` (WeasyPrint)."""
    t = timings if timings is not None else {}
    t0 = time.perf_counter()
    rep = build_report(con, territory, parse_period(period), compare, platforms=tuple(platforms))
    t1 = time.perf_counter()
    html = render_html(rep)
    t2 = time.perf_counter()
    out = html.encode("utf-8") if fmt == "html" else render_pdf(rep, html)
    t.update(build=t1 - t0, html=t2 - t1, pdf=time.perf_counter() - t2 if fmt != "html" else 0.0)
    return out


def available_periods(con: duckdb.DuckDBPyConnection, territory: str) -> dict[str, list[str]]:
    """Period codes with data for ``territory``, newest first: ``{"month": [...], "quarter": [...], "year": [...]}``."""
    rows = con.execute(
        "SELECT DISTINCT date_trunc('month', created_at)::DATE AS m FROM (SELECT created_at FROM posts WHERE "
        "territory_id = ? UNION ALL SELECT created_at FROM messages WHERE territory_id = ?) ORDER BY m DESC",
        [territory, territory]).fetchall()
    months = [pd.Timestamp(r[0]) for r in rows if r[0] is not None]
    out: dict[str, list[str]] = {"month": [], "quarter": [], "year": []}
    for m in months:
        for kind, code in (("month", f"{m.year}-{m.month:02d}"), ("quarter", f"{m.year}-Q{(m.month - 1) // 3 + 1}"),
                           ("year", str(m.year))):
            if code not in out[kind]:
                out[kind].append(code)
    return out


def generate_files(con: duckdb.DuckDBPyConnection, territory: str, period: str, compare: str = "previous",
                   platforms: tuple[str, ...] = (), visible: tuple[str, ...] = ()) -> dict[str, Any]:
    """One report build for the app page: its HTML, its findings and what :func:`html_to_pdf` needs to make
    the PDF (``pdf_id``). The PDF itself (WeasyPrint, about half the time of a report) is made only when
    it is downloaded: the page shows the findings as soon as the figures are computed."""

    rep = build_report(con, territory, parse_period(period), compare, platforms=tuple(platforms), visible=visible)
    return {"html": render_html(rep).encode("utf-8"), "pdf_id": pdf_identifier(rep), "findings": rep.model["findings"],
            "snapshot": rep.model["snapshot"], "title": rep.title}
