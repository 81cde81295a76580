"""French number, count and period formats (analysis/fmt.py): the true minus sign, a space before « % »,
French plurals instead of « (s) », one-day periods."""

from __future__ import annotations

import ast
import re
from datetime import date
from pathlib import Path

import pytest

from analysis.fmt import (
    MINUS,
    NBSP,
    NNBSP,
    fr_count,
    fr_int,
    fr_num,
    fr_pct,
    fr_period_end_excluded,
    fr_period_end_included,
    fr_plural,
    fr_signed,
)

ROOT = Path(__file__).resolve().parents[1]


def test_negative_numbers_take_the_minus_sign_not_a_hyphen():
    assert fr_num(-1.94) == MINUS + "1,9"
    assert fr_int(-12345) == MINUS + "12" + NNBSP + "345"
    assert fr_pct(-0.0603) == MINUS + "6,0" + NBSP + "%"
    assert fr_pct(-0.18, 0, signed=True) == MINUS + "18" + NBSP + "%"
    assert fr_signed(-1.5, unit="points") == MINUS + "1,5" + NBSP + "points"
    for s in (fr_num(-1.94), fr_int(-7), fr_pct(-0.5), fr_signed(-3)):
        assert "-" not in s, s


def test_a_value_rounding_to_zero_has_no_sign():
    assert fr_num(-0.01) == "0,0" and fr_int(-0.4) == "0"
    assert fr_pct(-0.0001) == "0,0" + NBSP + "%"
    assert fr_signed(0.01) == "0,0" and fr_signed(-0.01) == "0,0"
    assert fr_pct(0.0001, signed=True) == "0,0" + NBSP + "%"


def test_percent_is_separated_from_its_number():
    for v in (0, 0.5, 1, -0.25):
        assert re.search(r"\d%", fr_pct(v)) is None and fr_pct(v).endswith(NBSP + "%")
    assert fr_pct(0, 0) == "0" + NBSP + "%"


@pytest.mark.parametrize(("n", "text"), [(0, "0 réponse"), (1, "1 réponse"), (2, "2 réponses"),
                                         (1234, f"1{NNBSP}234 réponses")])
def test_count_follows_the_french_plural_rule(n, text):
    assert fr_count(n, "réponse") == text


def test_plural_below_two_is_singular():
    assert fr_plural(1.5, "million") == "million" and fr_plural(2, "million") == "millions"
    assert fr_plural(-1, "point") == "point" and fr_plural(-3, "point") == "points"


def test_count_with_an_irregular_or_several_word_plural():
    assert fr_count(1, "compte officiel", "comptes officiels") == "1 compte officiel"
    assert fr_count(3, "compte officiel", "comptes officiels") == "3 comptes officiels"
    assert fr_count(2, "journal", "journaux") == "2 journaux"
    assert fr_count(0, "compte") == "0 compte" and fr_count(3, "compte") == "3 comptes"


def test_one_day_period_reads_le_not_du_au():
    assert fr_period_end_included(date(2026, 10, 5), date(2026, 10, 5)) == "le 5 oct. 2026"
    assert fr_period_end_excluded(date(2026, 10, 5), date(2026, 10, 6)) == "le 5 oct. 2026"
    assert fr_period_end_included(date(2026, 10, 1), date(2026, 10, 31)) == "du 1 oct. 2026 au 31 oct. 2026"
    assert fr_period_end_excluded(date(2026, 10, 1), date(2026, 11, 1)) == "du 1 oct. 2026 au 31 oct. 2026"


# ------------------------------------------------------------------ no « (s) » left in what users read

def _strings(path: Path) -> list[tuple[int, str]]:
    """Literal text of the string constants and f-strings of a module (docstrings and comments aside)."""
    tree = ast.parse(path.read_text(encoding="utf-8"))
    docs = {id(n.body[0].value) for n in ast.walk(tree)
            if isinstance(n, ast.Module | ast.FunctionDef | ast.AsyncFunctionDef | ast.ClassDef)
            and n.body and isinstance(n.body[0], ast.Expr) and isinstance(n.body[0].value, ast.Constant)}
    out = []
    for n in ast.walk(tree):
        if isinstance(n, ast.Constant) and isinstance(n.value, str) and id(n) not in docs:
            out.append((n.lineno, n.value))
    return out


def test_no_parenthesised_plural_in_user_texts():
    """« compte(s) », « message(s) »…: each count says its number with the agreeing word (fr_count)."""
    bad = []
    for folder in ("analysis", "streamlit_app"):
        for path in sorted((ROOT / folder).rglob("*.py")):
            for line, s in _strings(path):
                if re.search(r"[a-zéèêàû]\(s\)", s):
                    bad.append(f"{path.relative_to(ROOT)}:{line}: {s[:70]!r}")
    assert not bad, "\n".join(bad)
