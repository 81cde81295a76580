"""Golden outputs of the demo store (issue 18): what every page shows, the report's text and every
``--json`` output of the CLI, captured before the code base was restructured, so that the
restructuring is seen to change no figure — and that a fix which must change one says which.

- **Pages**: each page of the app (AppTest) for both roles (élu·e, analyste) and a few filter sets:
  the elements of its main area in order — titles, headers, markdown, captions, boxes, metrics
  (label, value, change, help), tables (columns and values), charts (title, marks, data), widgets
  and expanders (labels) —, the layout (columns, containers) flattened.
- **Report**: ``vigie report`` of our territory for October 2026 (HTML), as text.
- **CLI**: every command with ``--json`` (and ``alerts --format json``) that reads the demo store,
  plus an import and an enrichment of fixture files into an empty store.

What changes from one build of the demo store to the next is normalised away: times of the build
(imports, collection, enrichment: any time on or after the build day), the store's path and the
snapshot hash. Floats are rounded to 9 significant digits (DuckDB sums in parallel).

Regenerate after a deliberate change (and say in the commit which figures changed and why)::

    VIGIE_TEST_DB=build/demo-test.duckdb .venv/bin/python -m tests.golden            # every file
    VIGIE_TEST_DB=build/demo-test.duckdb .venv/bin/python -m tests.golden pages/synthese  # some

``tests/test_golden.py`` compares the same captures with the files of ``tests/golden/``.
"""

from __future__ import annotations

import json
import math
import os
import re
import shutil
import sys
import tempfile
from collections.abc import Iterator
from contextlib import contextmanager
from datetime import date, datetime
from pathlib import Path
from typing import Any

ROOT = Path(__file__).resolve().parents[1]
GOLDEN = ROOT / "tests" / "golden"
APP = ROOT / "streamlit_app" / "app.py"
FIXTURES = ROOT / "tests" / "fixtures"

PAGES = ["synthese", "e_reputation", "thematiques", "audience", "campagnes", "benchmark", "moderation",
         "rapports", "donnees"]
ROLES = ["elu", "analyste"]
ALL_TERRITORIES = "saint-aubin,port-marel,villeneuve-les-sources,bourg-lavande,montclar-agglo"
# Filter sets: between them every territory set and period preset of the app, and four platforms.
FILTER_SETS: dict[str, dict[str, str]] = {
    "tous-12m": {},  # the default view: every territory, the 12 last months, every platform
    "nous-30j-facebook": {"territoires": "saint-aubin", "periode": "30j", "plateformes": "facebook"},
    "pair-mois-precedent-instagram": {"territoires": "port-marel", "periode": "mois-precedent",
                                      "plateformes": "instagram"},
    "nous+pairs-3m": {"territoires": ALL_TERRITORIES, "periode": "3m"},
    "nous-crise-mars-x": {"territoires": "saint-aubin", "periode": "perso", "du": "2026-03-01", "au": "2026-03-31",
                          "plateformes": "x"},
}

# (name, arguments): every `--json` read of the demo store; « fixtures-* » run on an empty store.
CLI: dict[str, list[str]] = {
    "status": ["status", "--json"],
    "benchmark": ["benchmark", "--json"],
    "benchmark-2026-10": ["benchmark", "--period", "2026-10", "--json"],
    "alerts": ["alerts", "--dry-run", "--format", "json"],
    "alerts-octobre": ["alerts", "--dry-run", "--format", "json", "--territory", "saint-aubin",
                       "--since", "2026-10-01", "--until", "2026-10-31"],
    "audit": ["audit", "--json"],
    "sentiment-eval": ["sentiment", "eval", "--texts", str(FIXTURES / "sentiment" / "texts.txt"),
                       "--labels", str(FIXTURES / "sentiment" / "labels.txt"), "--json"],
    "sentiment-predict": ["sentiment", "predict", "--json"],
    "topics-eval": ["topics", "eval", "--csv", str(FIXTURES / "topics" / "echantillon_cp1252.csv"), "--text-col",
                    "texte", "--labels-col", "thèmes attendus", "--json"],
    "ereputation-summary": ["ereputation", "summary", "--json"],
    "ereputation-summary-octobre": ["ereputation", "summary", "--since", "2026-10-01", "--until", "2026-10-31",
                                    "--json"],
    "ereputation-spikes": ["ereputation", "spikes", "--territory", "saint-aubin", "--json"],
    "ereputation-spikes-day": ["ereputation", "spikes", "--territory", "saint-aubin", "--freq", "day",
                               "--no-explain", "--since", "2026-01-01", "--until", "2026-06-30", "--json"],
    "topics-discover": ["topics", "discover", "--territory", "saint-aubin", "--month", "2026-03", "--json"],
    "topics-emerging": ["topics", "emerging", "--territory", "saint-aubin", "--month", "2026-03", "--json"],
    "audience-summary": ["audience", "summary", "--json"],
    "audience-summary-pair": ["audience", "summary", "--territory", "port-marel", "--json"],
    "campaigns-list": ["campaigns", "list", "--json"],
    "moderation-queue": ["moderation", "queue", "--json"],
    "moderation-queue-octobre": ["moderation", "queue", "--since", "2026-10-01", "--until", "2026-10-31",
                                 "--limit", "10", "--json"],
    "moderation-responsiveness": ["moderation", "responsiveness", "--json"],
    "moderation-responsiveness-octobre": ["moderation", "responsiveness", "--since", "2026-10-01",
                                          "--until", "2026-10-31", "--json"],
    "moderation-impersonation": ["moderation", "impersonation", "--json"],
    "moderation-contacts": ["moderation", "contacts", "--json"],
    "collect-status": ["collect", "status", "--json"],
}
# What `sentiment predict` reads on its standard input.
PREDICT_STDIN = ("Merci pour la fête de la musique, super ambiance !\nLes travaux du pont, c'est n'importe quoi.\n"
                 "Horaires de la piscine ?\nThe weather is nice today.\n")
# Commands whose argument comes from the store (the first campaign).
CLI_CAMPAIGN = "campaigns-eval"
# Writes: an import and an enrichment of fixture files into an empty store.
FIXTURE_FILES = [FIXTURES / "meta" / "posts_fr_semicolon.csv", FIXTURES / "comments" / "exportcomments_youtube.csv",
                 FIXTURES / "twitter" / "tweet_activity_2017.csv", FIXTURES / "linkedin" / "ville-de-saint-aubin-sur-loire_content_1771372800000.xlsx"]

REPORT = ["report", "--territory", "saint-aubin", "--period", "2026-10", "--format", "html"]


# ------------------------------------------------------------------------------ normalisation
MONTHS_FR = ["janv.", "févr.", "mars", "avr.", "mai", "juin", "juil.", "août", "sept.", "oct.", "nov.", "déc."]
_ISO = re.compile(r"\b(\d{4})-(\d{2})-(\d{2})(?:[T ](\d{2}):(\d{2})(?::\d{2}(?:\.\d+)?)?(?:Z|[+-]\d{2}:?\d{2})?)?")
_FR = re.compile(r"\b(\d{1,2})(?:er)?[\s\u00a0\u202f](" + "|".join(re.escape(m) for m in MONTHS_FR)
                 + r"|janvier|février|avril|juillet|septembre|octobre|novembre|décembre)[\s\u00a0\u202f](\d{4})"
                 r"(?:[\s\u00a0\u202f](?:à[\s\u00a0\u202f])?\d{1,2}(?:[:h]\d{2})(?::\d{2})?)?")
_LONG_MONTHS = ["janvier", "février", "mars", "avril", "mai", "juin", "juillet", "août", "septembre", "octobre",
                "novembre", "décembre"]
STAMP = "<horodatage>"
TIMING_KEYS = ("_age_hours", "seconds", "elapsed", "duration")


class Normaliser:
    """Replaces what differs between two builds of the same demo store (see the module docstring)."""

    def __init__(self, build_day: date, paths: dict[str, str]) -> None:
        self.build_day = build_day
        self.paths = sorted(paths.items(), key=lambda kv: -len(kv[0]))

    def _late(self, y: int, m: int, d: int) -> bool:
        try:
            return date(y, m, d) >= self.build_day
        except ValueError:
            return False

    def text(self, s: str) -> str:
        for p, name in self.paths:
            s = s.replace(p, name)

        def iso(mt: re.Match) -> str:
            return STAMP if self._late(int(mt[1]), int(mt[2]), int(mt[3])) else mt[0]

        def fr(mt: re.Match) -> str:
            mon = mt[2]
            m = (MONTHS_FR.index(mon) if mon in MONTHS_FR else _LONG_MONTHS.index(mon)) + 1
            return STAMP if self._late(int(mt[3]), m, int(mt[1])) else mt[0]

        s = _ISO.sub(iso, s)
        s = _FR.sub(fr, s)
        # the store's snapshot hash (content of imports and enrichment runs) and elapsed times
        s = re.sub(r"(instantané de la base|instantané|snapshot)([\s\u00a0\"':=]+)[0-9a-f]{12,}", r"\1\2<empreinte>", s)
        # the time of day of a build time written « 26 nov. 2026 à 14 h 05 » (fr_datetime)
        s = re.sub(re.escape(STAMP) + r"[\s\u00a0\u202f]à[\s\u00a0\u202f]\d{1,2}[\s\u00a0\u202f]h[\s\u00a0\u202f]\d{2}",
                   STAMP, s)
        s = re.sub(r"\b\d+(?:[.,]\d+)?[\s\u00a0]?s\)", "<durée> s)", s)
        return re.sub(r"^\d+(?:[.,]\d+)?[\s\u00a0]?s$", "<durée> s", s)

    def value(self, v: Any) -> Any:
        import numpy as np
        import pandas as pd

        if v is None or isinstance(v, bool):
            return v
        if isinstance(v, str):
            return self.text(v)
        if isinstance(v, np.bool_):
            return bool(v)
        if isinstance(v, int | np.integer):
            return int(v)
        if isinstance(v, float | np.floating):
            f = float(v)
            if math.isnan(f):
                return None
            if math.isinf(f):
                return "inf" if f > 0 else "-inf"
            return float(f"{f:.9g}")
        if isinstance(v, pd.Timestamp | datetime | date):
            if pd.isna(v):
                return None
            d = pd.Timestamp(v)
            return STAMP if d.date() >= self.build_day else d.isoformat()
        if isinstance(v, dict):  # durations measured now (a cursor's age, an elapsed time) are not data
            return {str(k): ("<durée>" if str(k).endswith(TIMING_KEYS) and x is not None else self.value(x))
                    for k, x in v.items()}
        if isinstance(v, list | tuple | set | frozenset | np.ndarray):
            return [self.value(x) for x in (sorted(v, key=str) if isinstance(v, set | frozenset) else v)]
        if v is pd.NaT or v is pd.NA:
            return None
        try:
            if pd.isna(v):
                return None
        except (TypeError, ValueError):
            pass
        return self.text(str(v))

    def frame(self, df: Any) -> dict[str, Any]:
        df = df.data if hasattr(df, "data") and not hasattr(df, "columns") else df  # a Styler
        return {"columns": [self.text(str(c)) for c in df.columns],
                "rows": [[self.value(x) for x in row] for row in df.itertuples(index=False, name=None)]}


def build_day(db: Path) -> date:
    """The first day of the demo store's build (its first import): every time on or after it is the build's."""
    import duckdb

    rp = Path(str(db) + ".read")
    con = duckdb.connect(str(rp if rp.exists() else db), read_only=True)
    try:
        d = con.execute("SELECT min(started_at) FROM imports").fetchone()[0]
    finally:
        con.close()
    return (d.date() if d is not None else date.today())


def normaliser(db: Path) -> Normaliser:
    exports = db.parent / (db.stem + "_exports")
    paths = {str(exports): "<exports>", str(db): "<base>", str(db.parent): "<build>", str(ROOT): "<racine>",
             tempfile.gettempdir(): "<tmp>"}
    return Normaliser(build_day(db), paths)


# ------------------------------------------------------------------------------ pages
def _chart(node: Any, n: Normaliser) -> dict[str, Any]:
    """Title, marks and data of a Vega-Lite chart (datasets decoded from Arrow, in order of use)."""
    import pyarrow as pa

    p = node.proto
    spec = json.loads(p.spec)
    data = {d.name: pa.ipc.open_stream(d.data.data).read_all().to_pandas() for d in p.datasets}
    order: list[str] = []

    def visit(x: Any) -> None:
        if isinstance(x, dict):
            d = x.get("data")
            if isinstance(d, dict) and isinstance(d.get("name"), str) and d["name"] not in order:
                order.append(d["name"])
            for v in x.values():
                visit(v)
        elif isinstance(x, list):
            for v in x:
                visit(v)

    visit(spec)
    order += [k for k in data if k not in order]

    def marks(s: dict) -> list:
        out = []
        for layer in s.get("layer", []) or s.get("hconcat", []) or s.get("vconcat", []) or []:
            out += marks(layer)
        if "mark" in s:
            m = s["mark"]
            out.append(m if isinstance(m, str) else m.get("type"))
        if "spec" in s:
            out += marks(s["spec"])
        return out

    def encodings(s: dict) -> list:
        out = []
        for layer in s.get("layer", []) or s.get("hconcat", []) or s.get("vconcat", []) or []:
            out += encodings(layer)
        if "spec" in s:
            out += encodings(s["spec"])
        enc = s.get("encoding")
        if isinstance(enc, dict):
            out.append({k: v.get("field") if isinstance(v, dict) else v for k, v in sorted(enc.items())
                        if isinstance(v, dict) and "field" in v})
        return out

    return {"type": "chart", "title": n.value(spec.get("title")), "marks": marks(spec),
            "fields": encodings(spec), "alt": n.text(p.alt) if getattr(p, "alt", "") else None,
            "data": [n.frame(data[k]) for k in order if k in data]}


_TEXT = {"title", "header", "subheader", "markdown", "caption", "text", "code", "latex", "info", "success",
         "warning", "error", "exception", "json", "toast"}
_WIDGETS = {"radio", "selectbox", "multiselect", "toggle", "checkbox", "button", "text_input", "text_area",
            "date_input", "number_input", "slider", "select_slider", "download_button", "form_submit_button",
            "page_link", "color_picker", "time_input", "chat_input", "camera_input", "file_uploader",
            "button_group"}
_SKIP = {"html", "empty", "balloons", "snow", "spinner", "skeleton"}


def _label(node: Any) -> str | None:
    for attr in ("label",):
        try:
            return str(getattr(node, attr))
        except Exception:  # noqa: BLE001 - AppTest raises on absent attributes of some elements
            pass
    return None


def snapshot(block: Any, n: Normaliser) -> list[dict[str, Any]]:
    """The elements of an AppTest block in order, layout blocks flattened (see the module docstring)."""
    out: list[dict[str, Any]] = []
    kids = getattr(block, "children", None) or {}
    for k in sorted(kids):
        node = kids[k]
        t = getattr(node, "type", None)
        if t in ("expander", "tab", "form", "popover", "dialog", "status", "chat_message"):
            out.append({"type": t, "label": n.text(_label(node) or ""), "children": snapshot(node, n)})
        elif t == "tabs" or isinstance(getattr(node, "children", None), dict) and t not in _TEXT | _WIDGETS:
            if t in ("vega_lite_chart", "arrow_vega_lite_chart"):
                out.append(_chart(node, n))
            else:
                out += snapshot(node, n)
        elif t in _TEXT:
            out.append({"type": t, "text": n.text(str(node.value))})
        elif t == "metric":
            pr = node.proto
            out.append({"type": "metric", "label": n.text(pr.label), "value": n.text(pr.body),
                        "delta": n.text(pr.delta), "help": n.text(pr.help)})
        elif t in ("dataframe", "table"):
            out.append({"type": t, **n.frame(node.value)})
        elif t in ("vega_lite_chart", "arrow_vega_lite_chart"):
            out.append(_chart(node, n))
        elif t in _WIDGETS:
            item: dict[str, Any] = {"type": t, "label": n.text(_label(node) or "")}
            try:
                opts = node.options
                item["options"] = [n.text(str(o)) for o in opts]
            except Exception:  # noqa: BLE001 - widgets without options
                pass
            if t not in ("button", "download_button", "form_submit_button", "page_link"):
                try:
                    item["value"] = n.value(node.value)
                except Exception:  # noqa: BLE001 - a widget whose value AppTest cannot read
                    pass
            out.append(item)
        elif t in _SKIP or t is None:
            continue
        else:
            out.append({"type": str(t)})
    return out


def run_page(page: str, query: dict[str, str], role: str, timeout: float = 180) -> Any:
    """The page opened from a link with ``query`` for ``role`` (its first run draws that page only)."""
    from tests.page_helpers import linked_page

    return linked_page(page, query, role, timeout).run()


def capture_page(page: str, filter_set: str, role: str, n: Normaliser) -> list[dict[str, Any]]:
    at = run_page(page, FILTER_SETS[filter_set], role)
    if at.exception:
        raise AssertionError(f"{page} {filter_set} {role}: {[e.value for e in at.exception]}")
    return snapshot(at.main, n)


def page_cases() -> list[tuple[str, str, str]]:
    return [(p, s, r) for p in PAGES for s in FILTER_SETS for r in ROLES]


def page_file(page: str, filter_set: str, role: str) -> Path:
    return GOLDEN / "pages" / page / f"{filter_set}__{role}.json"


# ------------------------------------------------------------------------------ CLI and report
@contextmanager
def _env(**values: str | None) -> Iterator[None]:
    old = {k: os.environ.get(k) for k in values}
    try:
        for k, v in values.items():
            if v is None:
                os.environ.pop(k, None)
            else:
                os.environ[k] = v
        yield
    finally:
        for k, v in old.items():
            if v is None:
                os.environ.pop(k, None)
            else:
                os.environ[k] = v


def run_cli(args: list[str], db: Path, stdin: str | None = None) -> tuple[int, str]:
    """``vigie --db <db> <args>`` in this process: (exit code, standard output)."""
    from typer.testing import CliRunner

    from analysis.cli import app

    # The app's audit entries live in VIGIE_AUTH_DB, shared by the tests of one worker: `vigie audit`
    # reads a fresh one, so its output is the store's entries only, whatever ran before.
    with tempfile.TemporaryDirectory(prefix="vigie-golden-auth-") as auth, \
            _env(VIGIE_DB=str(db), VIGIE_AUTH_DB=str(Path(auth) / "auth.sqlite")):
        res = CliRunner().invoke(app, ["--db", str(db), *args], input=stdin)
    if res.exception and not isinstance(res.exception, SystemExit):
        raise res.exception
    return res.exit_code, res.stdout


def _json_out(code: int, out: str, n: Normaliser) -> dict[str, Any]:
    try:
        parsed: Any = json.loads(out)
    except json.JSONDecodeError:  # one JSON document per line
        parsed = [json.loads(line) for line in out.splitlines() if line.strip()]
    return {"exit_code": code, "output": n.value(parsed)}


def first_campaign(db: Path) -> str:
    code, out = run_cli(["campaigns", "list", "--json"], db)
    return json.loads(out)[0]["campaign_id"]


def capture_cli(name: str, db: Path, n: Normaliser) -> dict[str, Any]:
    if name == CLI_CAMPAIGN:
        args = ["campaigns", "eval", first_campaign(db), "--n-boot", "300", "--json"]
        return {"args": args[:2] + ["<première campagne>"] + args[3:], **_json_out(*run_cli(args, db), n)}
    if name in ("fixtures-import", "fixtures-enrich"):
        return capture_fixtures(n)[name]
    stdin = PREDICT_STDIN if name == "sentiment-predict" else None
    return {"args": [n.text(a) for a in CLI[name]], **_json_out(*run_cli(CLI[name], db, stdin), n)}


def capture_fixtures(n: Normaliser) -> dict[str, dict[str, Any]]:
    """Import of fixture files into an empty store, then its enrichment (both ``--json``)."""
    tmp = Path(tempfile.mkdtemp(prefix="vigie-golden-"))
    try:
        db = tmp / "fixtures.duckdb"
        nn = Normaliser(n.build_day, {**dict(n.paths), str(tmp): "<tmp>", str(FIXTURES): "<fixtures>"})
        args = ["import", *map(str, FIXTURE_FILES), "--json"]
        imp = {"args": ["import", *(f"<fixtures>/{p.relative_to(FIXTURES)}" for p in FIXTURE_FILES), "--json"],
               **_json_out(*run_cli(args, db), nn)}
        enr = {"args": ["enrich", "--json"], **_json_out(*run_cli(["enrich", "--json"], db), nn)}
        return {"fixtures-import": imp, "fixtures-enrich": enr}
    finally:
        shutil.rmtree(tmp, ignore_errors=True)


def cli_cases() -> list[str]:
    return [*CLI, CLI_CAMPAIGN, "fixtures-import", "fixtures-enrich"]


def cli_file(name: str) -> Path:
    return GOLDEN / "cli" / f"{name}.json"


def html_text(html: str) -> str:
    """What a reader sees of the report: block elements on their own lines, images by their alt text."""
    from lxml import html as lh

    doc = lh.fromstring(html)
    for bad in doc.xpath("//style|//script|//head"):
        bad.drop_tree()
    for el in doc.iter():  # the source's own line breaks are not the reader's
        if el.text:
            el.text = re.sub(r"\s+", " ", el.text)
        if el.tail:
            el.tail = re.sub(r"\s+", " ", el.tail)
    for img in doc.xpath("//img"):
        img.tail = f"[image : {img.get('alt', '')}]" + (img.tail or "")
    blocks = {"p", "div", "h1", "h2", "h3", "h4", "h5", "h6", "li", "tr", "table", "section", "header", "footer",
              "figure", "figcaption", "caption", "dt", "dd", "br", "ul", "ol", "thead", "tbody", "aside", "nav"}
    for el in doc.iter():
        if isinstance(el.tag, str) and el.tag in blocks and not any(
                a.tag in ("td", "th") for a in el.iterancestors()):
            el.tail = "\n" + (el.tail or "")
            if el.text is not None or len(el):
                el.text = "\n" + (el.text or "")
        elif isinstance(el.tag, str) and el.tag in ("td", "th"):
            el.tail = " | " + (el.tail or "")
    lines = [re.sub(r"[ \t\u00a0]+", " ", line).strip() for line in doc.text_content().splitlines()]
    return "\n".join(line for line in lines if line) + "\n"


def capture_report(db: Path, n: Normaliser) -> str:
    tmp = Path(tempfile.mkdtemp(prefix="vigie-golden-"))
    try:
        out = tmp / "rapport.html"
        code, _ = run_cli([*REPORT, "--out", str(out)], db)
        assert code == 0, f"vigie report: exit {code}"
        return n.text(html_text(out.read_text(encoding="utf-8")))
    finally:
        shutil.rmtree(tmp, ignore_errors=True)


REPORT_FILE = GOLDEN / "report" / "saint-aubin-2026-10.txt"


# ------------------------------------------------------------------------------ files
def dump(obj: Any) -> str:
    return json.dumps(obj, ensure_ascii=False, indent=1, sort_keys=True) + "\n"


def demo_db() -> Path:
    p = os.environ.get("VIGIE_TEST_DB")
    if not p or not Path(p).exists():
        raise SystemExit("VIGIE_TEST_DB : base de démonstration de test absente (make test-db).")
    return Path(p).resolve()


def main(argv: list[str]) -> None:
    """Rewrite the golden files (all, or those whose path under tests/golden/ starts with an argument)."""
    os.environ.setdefault("VIGIE_PSEUDONYM_KEY", "test-key-not-secret")
    os.environ.setdefault("VIGIE_AUTH", "demo")
    os.environ.setdefault("VIGIE_AUTH_DB", str(Path(tempfile.mkdtemp(prefix="vigie-auth-")) / "auth.sqlite"))
    os.environ.setdefault("VIGIE_VALIDATE_CHARTS", "1")
    db = demo_db()
    os.environ["VIGIE_DB"] = str(db)
    n = normaliser(db)

    def wanted(path: Path) -> bool:
        rel = str(path.relative_to(GOLDEN))
        return not argv or any(rel.startswith(a) for a in argv)

    written = 0
    for page, fs, role in page_cases():
        path = page_file(page, fs, role)
        if wanted(path):
            path.parent.mkdir(parents=True, exist_ok=True)
            path.write_text(dump(capture_page(page, fs, role, n)), encoding="utf-8")
            written += 1
    fixtures = None
    for name in cli_cases():
        path = cli_file(name)
        if wanted(path):
            path.parent.mkdir(parents=True, exist_ok=True)
            if name.startswith("fixtures-"):
                fixtures = fixtures or capture_fixtures(n)
                out = fixtures[name]
            else:
                out = capture_cli(name, db, n)
            path.write_text(dump(out), encoding="utf-8")
            written += 1
    if wanted(REPORT_FILE):
        REPORT_FILE.parent.mkdir(parents=True, exist_ok=True)
        REPORT_FILE.write_text(capture_report(db, n), encoding="utf-8")
        written += 1
    print(f"{written} fichiers écrits dans {GOLDEN}")


if __name__ == "__main__":
    main(sys.argv[1:])
