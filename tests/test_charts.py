"""Chart builders: French locale in the spec and in static exports, gaps marked, palette."""

from __future__ import annotations

import re

import pandas as pd
import pytest

from analysis import charts


@pytest.fixture()
def cov() -> pd.DataFrame:
    # saint-aubin × facebook: Jan, Feb, Apr → March is a gap; port-marel: one month only.
    return pd.DataFrame({
        "territory_id": ["saint-aubin"] * 3 + ["port-marel"],
        "platform": ["facebook"] * 4,
        "month": pd.to_datetime(["2026-01-01", "2026-02-01", "2026-04-01", "2026-03-01"]).date,
        "posts": [1200, 30, 5, 7],
        "messages": [10000, 0, 3, 0],
    })


def svg_texts(svg: str) -> list[str]:
    return re.findall(r">([^<>]+)</text>", svg)


def test_theme_carries_the_french_locale_and_okabe_ito_palette():
    cfg = charts.theme()["config"]
    assert cfg["locale"]["number"]["decimal"] == ","
    assert cfg["locale"]["number"]["thousands"] == "\u202f"
    assert cfg["locale"]["time"]["shortMonths"][:3] == ["janv.", "févr.", "mars"]
    assert cfg["locale"]["time"]["days"][1] == "lundi"
    assert cfg["range"]["category"][:4] == ["#0072B2", "#E69F00", "#009E73", "#D55E00"]


def test_coverage_grid_marks_gaps_as_missing_not_zero(cov):
    grid = charts.coverage_grid(cov, {"saint-aubin": "Saint-Aubin"})
    sa = grid[grid["territory_id"] == "saint-aubin"].set_index("month_label")
    assert list(sa.index) == ["janv. 2026", "févr. 2026", "mars 2026", "avr. 2026"]
    assert sa.loc["janv. 2026", "items"] == 11200
    assert bool(sa.loc["mars 2026", "gap"]) and pd.isna(sa.loc["mars 2026", "items"])
    assert sa["row"].iloc[0] == "Saint-Aubin · facebook"
    assert len(grid[grid["territory_id"] == "port-marel"]) == 1  # outside its range: no cell at all


def test_coverage_months_across_a_year_and_its_gaps_are_the_gaps_listed():
    """Every pair gets every month of its range (across the new year), in order; a month with zero
    posts and messages is a gap as much as a month without a row; coverage_gaps lists those months."""
    from datetime import date

    from analysis.queries import coverage_gaps, coverage_months

    cov = pd.DataFrame({"territory_id": ["b", "a", "a", "a"], "platform": ["x", "y", "y", "y"],
                        "month": [date(2026, 5, 1), date(2025, 11, 1), date(2026, 1, 1), date(2026, 2, 1)],
                        "posts": [3, 2, 0, 1], "messages": [0, 1, 0, 4]})
    g = coverage_months(cov)
    assert list(zip(g["territory_id"], g["month"].dt.strftime("%Y-%m"), strict=True)) == [
        ("a", "2025-11"), ("a", "2025-12"), ("a", "2026-01"), ("a", "2026-02"), ("b", "2026-05")]
    assert g["gap"].tolist() == [False, True, True, False, False]
    assert pd.isna(g["items"][1]) and pd.isna(g["items"][2]) and g["items"][3] == 5
    assert pd.isna(g["posts"][1]) and g["posts"][2] == 0  # no row (NaN) vs a row of zeros
    assert coverage_gaps(cov).to_dict("records") == [{"territory_id": "a", "platform": "y", "month": date(2025, 12, 1)},
                                                     {"territory_id": "a", "platform": "y", "month": date(2026, 1, 1)}]
    assert coverage_months(cov.iloc[:0]).empty and coverage_gaps(cov.iloc[:0]).empty


def test_coverage_heatmap_exports_to_svg_in_french(cov):
    svg = charts.to_svg(charts.coverage_heatmap(cov, {"saint-aubin": "Saint-Aubin"}))
    texts = svg_texts(svg)
    assert "×" in texts  # the gap is marked by a sign, not only by colour
    assert "11\u202f200" in texts  # legend maximum with French thousands separator
    assert {"janv. 2026", "févr. 2026", "mars 2026", "avr. 2026"} <= set(texts)
    assert "Couverture des données" in texts


def test_svg_is_the_same_whatever_was_drawn_before_and_escapes_names(cov):
    """The report embeds charts as SVG: the bytes must not depend on the charts drawn before in the
    process (vl-convert numbers gradients with a process counter), and a name from a platform or a
    user must stay text inside well-formed XML."""
    import xml.etree.ElementTree as ET

    first = charts.to_svg(charts.coverage_heatmap(cov))
    charts.to_svg(charts.coverage_heatmap(cov))  # moves vl-convert's counter on
    assert charts.to_svg(charts.coverage_heatmap(cov)) == first
    assert 'id="gradient_0"' in first and "url(#gradient_0)" in first
    hostile = '<script>alert(1)</script> & "Ville" ]]>'
    svg = charts.to_svg(charts.bar(pd.DataFrame({"k": [hostile, "b"], "v": [1, 2]}), "v", "k"))
    root = ET.fromstring(svg)  # well-formed
    assert not [e for e in root.iter() if e.tag.split("}")[-1] in ("script", "foreignObject")]
    assert any(hostile[:20] in (e.text or "") for e in root.iter())  # the name is text, escaped


def test_to_png_gives_a_png_and_fixes_container_width(cov):
    png = charts.to_png(charts.bar(pd.DataFrame({"k": ["Un", "Deux"], "v": [1234.5, 20.0]}), "v", "k"))
    assert png[:8] == b"\x89PNG\r\n\x1a\n" and len(png) > 1000
    spec = charts._spec(charts.bar(pd.DataFrame({"k": ["a"], "v": [1]}), "v", "k"))
    assert spec["width"] == charts.STATIC_WIDTH and spec["config"]["locale"]["number"]["decimal"] == ","


def test_line_with_band_and_bar_use_french_number_formats():
    df = pd.DataFrame({"d": pd.date_range("2026-01-01", periods=3, freq="MS"), "v": [1500.5, 2500.0, 1800.0],
                       "lo": [1000.0] * 3, "hi": [3000.0] * 3})
    texts = svg_texts(charts.to_svg(charts.line_with_band(df, "d", "v", "lo", "hi", title="Tendance",
                                                          x_format=charts.MONTH_FORMAT)))
    assert "3\u202f000" in texts and "janv. 2026" in texts and "mars 2026" in texts
    layers = charts.line_with_band(df, "d", "v", "lo", "hi").to_dict()["layer"]
    assert [lyr["mark"]["type"] for lyr in layers] == ["area", "line"]
    pct = svg_texts(charts.to_svg(charts.bar(pd.DataFrame({"k": ["a", "b"], "v": [0.123, 0.4]}), "v", "k",
                                             value_format=".0%")))
    assert "40\u00a0%" in pct


def test_territory_colours_keep_our_territory_blue():
    c = charts.territory_colours(["port-marel", "saint-aubin", "bourg"], own="saint-aubin")
    assert c == {"saint-aubin": "#0072B2", "port-marel": "#E69F00", "bourg": "#009E73"}
    assert charts.territory_colours(["a"], own=None) == {"a": "#E69F00"}
