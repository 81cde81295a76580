"""French to the last label (issue 22, item 7): the `vigie` help and usage errors, and the Streamlit
widgets' own texts (placeholders of the choice lists), with no English boilerplate left.

The rendered pages are checked in a browser by ``tests/test_browser_french.py``.
"""

from __future__ import annotations

import ast
from pathlib import Path

import pytest
import typer
from typer.testing import CliRunner

from analysis.cli import app
from analysis.cli.common import french_message

ROOT = Path(__file__).resolve().parents[1]

# What Typer and Click print in English when left alone.
CLI_ENGLISH = ["Show this message", "Usage:", "Commands", "Error", "Missing ", "Try '", "for help",
               "[default:", "[required]", "No such", "Invalid value", "Aborted", "COMMAND [ARGS]",
               "Got unexpected", "requires an argument", "is not a valid", "install-completion",
               "show-completion", "Input should",
               "<str", "<int", "<bool", "<float", "list[", "<Path", "<path"]


def _commands() -> list[list[str]]:
    """Every command and sub-command path of `vigie` (``[]`` is the root)."""
    root = typer.main.get_command(app)
    out: list[list[str]] = []

    def walk(cmd, path: list[str]) -> None:  # noqa: ANN001
        out.append(path)
        ctx = typer.Context(cmd, info_name="vigie")
        for name in getattr(cmd, "list_commands", lambda _c: [])(ctx):
            walk(cmd.get_command(ctx, name), [*path, name])

    walk(root, [])
    return out


COMMANDS = _commands()


def test_the_walk_finds_the_command_groups():
    names = {" ".join(c) for c in COMMANDS}
    assert len(COMMANDS) > 40, len(COMMANDS)
    assert {"", "import", "moderation", "moderation queue", "collect", "sentiment"} <= names


@pytest.mark.parametrize("path", COMMANDS, ids=lambda p: " ".join(p) or "vigie")
def test_every_help_is_french(path):
    r = CliRunner().invoke(app, [*path, "--help"], prog_name="vigie", env={"COLUMNS": "200"})
    assert r.exit_code == 0, r.output
    assert "Utilisation : vigie" in r.output and "Afficher cette aide et quitter." in r.output
    left = [w for w in CLI_ENGLISH if w in r.output]
    assert not left, f"vigie {' '.join(path)} --help: {left}\n{r.output}"


@pytest.mark.parametrize(("args", "french"), [
    (["import"], "Argument manquant : 'paths'."),
    (["moderation", "queue", "--bad"], "Option inconnue : --bad"),
    (["nope"], "Commande inconnue : 'nope'"),
    (["import", "x.csv", "--format"], "L'option '--format' attend une valeur."),
    (["moderation", "queue", "--limit", "dix"], "Valeur invalide pour '--limit' : nombre entier attendu."),
])
def test_usage_errors_are_french(args, french):
    r = CliRunner().invoke(app, args, prog_name="vigie", env={"COLUMNS": "200"})
    assert r.exit_code == 2, r.output
    assert french in r.output, r.output
    left = [w for w in CLI_ENGLISH if w in r.output]
    assert not left, f"{left}\n{r.output}"


def test_unknown_messages_pass_through_unchanged():
    assert french_message("date attendue au format AAAA-MM-JJ") == "date attendue au format AAAA-MM-JJ"


# ------------------------------------------------------------------ Streamlit choice lists

CHOICE_WIDGETS = {"selectbox", "multiselect"}


def _choice_calls() -> list[tuple[str, int, bool]]:
    """(file, line, has a placeholder) of every st.selectbox / st.multiselect call of the app."""
    out = []
    for path in sorted((ROOT / "streamlit_app").rglob("*.py")):
        for n in ast.walk(ast.parse(path.read_text(encoding="utf-8"))):
            if isinstance(n, ast.Call) and isinstance(n.func, ast.Attribute) and n.func.attr in CHOICE_WIDGETS:
                out.append((str(path.relative_to(ROOT)), n.lineno,
                            any(k.arg == "placeholder" for k in n.keywords)))
    return out


def test_every_choice_list_has_a_french_placeholder():
    """Without ``placeholder=``, Streamlit writes « Choose an option » / « Choose options » (and « No
    options to select » on an empty list) in the empty field."""
    calls = _choice_calls()
    assert len(calls) > 10, calls
    missing = [f"{f}:{line}" for f, line, ok in calls if not ok]
    assert not missing, "st.selectbox/st.multiselect without placeholder=: " + ", ".join(missing)


def test_no_multiselect_offers_the_english_select_all():
    """Streamlit 1.67 adds an English « Select all » first option to a multiselect (``select_all``): off
    everywhere (on the queue's « Messages choisis » it would also decide for every message in one click)."""
    bad = []
    for path in sorted((ROOT / "streamlit_app").rglob("*.py")):
        for n in ast.walk(ast.parse(path.read_text(encoding="utf-8"))):
            if isinstance(n, ast.Call) and isinstance(n.func, ast.Attribute) and n.func.attr == "multiselect":
                kw = {k.arg: k.value for k in n.keywords}
                if not (isinstance(kw.get("select_all"), ast.Constant) and kw["select_all"].value is False):
                    bad.append(f"{path.relative_to(ROOT)}:{n.lineno}")
    assert not bad, "multiselect without select_all=False: " + ", ".join(bad)


def test_headline_figures_use_the_minus_sign_and_a_tiny_change_reads_as_none():
    """ui.kpi: « −0,2 points » (minus sign); a change that rounds to « 0,0 » has no arrow and no colour."""
    from streamlit.proto.Metric_pb2 import Metric
    from streamlit.testing.v1 import AppTest

    def page():
        from streamlit_app import ui

        ui.kpi("Sentiment net", -0.25, -1.5, unit="points", inverse=True)
        ui.kpi("Taux", 12, 0.01)

    at = AppTest.from_function(page).run()
    assert not at.exception
    m = at.metric
    assert m[0].value == "\u22120,2\u00a0points" and m[0].proto.delta == "\u22121,5\u00a0points"
    assert (m[1].proto.delta, m[1].proto.direction, m[1].proto.color) == (
        "0,0", Metric.MetricDirection.NONE, Metric.MetricColor.GRAY)
