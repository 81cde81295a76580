"""Altair chart builders shared by the app, the notebooks and the reports.

Builders take a tidy DataFrame and the labels to show (French by default) and return an
*unconfigured* chart, so pages can still layer or concatenate them. French number and date
formatting and the colour-blind-safe palette come from :func:`theme`, applied by
:func:`configure` (or globally with :func:`use_theme` at the edge: app, notebook).
Static export for reports: :func:`to_png` / :func:`to_svg` (vl-convert, no browser, offline).
"""

from __future__ import annotations

import re
from collections.abc import Mapping
from dataclasses import dataclass, field
from typing import Any

import altair as alt
import pandas as pd

from analysis.fmt import MONTHS, MONTHS_ABBR, NBSP, NNBSP, fr_month
from analysis.queries import coverage_months


@dataclass
class ChartView:
    """What a page shows of a chart (``ui.chart``): the chart, its data table in French columns, its
    French text alternative and the formats of the table's columns."""

    chart: alt.TopLevelMixin
    table: pd.DataFrame
    alt_text: str
    formats: dict[str, str] = field(default_factory=dict)


# Okabe & Ito (2008), "Color Universal Design": distinguishable under the common colour-vision
# deficiencies. Ordered so that the first colours have the most contrast on white; yellow last.
PALETTE: tuple[str, ...] = (
    "#0072B2",  # blue
    "#E69F00",  # orange
    "#009E73",  # bluish green
    "#D55E00",  # vermillion
    "#56B4E9",  # sky blue
    "#CC79A7",  # reddish purple
    "#000000",  # black
    "#F0E442",  # yellow
)
# Own territory vs peers: the own one is always blue, peers greys would hide differences,
# so peers take the rest of the palette in order.
OWN_COLOUR = PALETTE[0]
GAP_COLOUR = "#BDBDBD"  # neutral grey for "no data"; a text mark says it too (not colour only)
SEQUENTIAL_SCHEME = "blues"  # single hue, varies in lightness: readable for colour-blind people
FONT = "Source Sans Pro, Segoe UI, DejaVu Sans, Helvetica, Arial, sans-serif"

# d3-format / d3-time-format locale objects (Vega-Lite ``config.locale``).
NUMBER_LOCALE: dict[str, Any] = {
    "decimal": ",",
    "thousands": NNBSP,
    "grouping": [3],
    "currency": ["", NBSP + "€"],
    "percent": NBSP + "%",
    "minus": "\u2212",
}
TIME_LOCALE: dict[str, Any] = {
    "dateTime": "%A %e %B %Y à %X",
    "date": "%d/%m/%Y",
    "time": "%H:%M:%S",
    "periods": ["AM", "PM"],
    "days": ["dimanche", "lundi", "mardi", "mercredi", "jeudi", "vendredi", "samedi"],
    "shortDays": ["dim.", "lun.", "mar.", "mer.", "jeu.", "ven.", "sam."],
    "months": list(MONTHS),
    "shortMonths": list(MONTHS_ABBR),
}
# Axis formats in French: "nov. 2026", "26 nov. 2026".
MONTH_FORMAT = "%b %Y"
DAY_FORMAT = "%e %b %Y"


def territory_colours(territory_ids: list[str] | tuple[str, ...], own: str | None = None) -> dict[str, str]:
    """Stable colour per territory for ``colours=`` arguments: our own territory always blue,
    peers the next Okabe–Ito colours in the given order (the same peer keeps its colour)."""
    rest = [t for t in territory_ids if t != own]
    out = {own: OWN_COLOUR} if own is not None and own in territory_ids else {}
    others = PALETTE[1:]
    out.update({t: others[i % len(others)] for i, t in enumerate(rest)})
    return out


def theme() -> dict[str, Any]:
    """The Vigie Vega-Lite theme: French locale, Okabe–Ito palette, sober axes, readable fonts."""
    return {
        "config": {
            "locale": {"number": NUMBER_LOCALE, "time": TIME_LOCALE},
            "font": FONT,
            "background": "white",
            "view": {"stroke": None},
            "range": {"category": list(PALETTE), "heatmap": {"scheme": SEQUENTIAL_SCHEME}},
            "title": {"fontSize": 15, "fontWeight": 600, "anchor": "start", "color": "#1f2933",
                      "subtitleColor": "#52606d", "subtitleFontSize": 12},
            "axis": {"labelFontSize": 12, "titleFontSize": 12, "titleFontWeight": 500,
                     "labelColor": "#323f4b", "titleColor": "#323f4b", "gridColor": "#e4e7eb",
                     "domainColor": "#9aa5b1", "tickColor": "#9aa5b1"},
            "legend": {"labelFontSize": 12, "titleFontSize": 12, "orient": "bottom"},
            "header": {"labelFontSize": 12, "titleFontSize": 12},
            "mark": {"color": PALETTE[0]},
            "line": {"strokeWidth": 2},
            "numberFormat": ",.0f",
            "timeFormat": DAY_FORMAT,
        }
    }


def configure(chart: alt.TopLevelMixin) -> alt.TopLevelMixin:
    """Apply :func:`theme` to one chart (needed where the global theme is not enabled)."""
    cfg = theme()["config"]
    return chart.configure(**cfg)


_THEME_NAME = "vigie"


def use_theme() -> None:
    """Register and enable the Vigie theme for every chart rendered afterwards (call at the edge)."""
    # alt.theme.names() scans the installed packages' entry points (~50 ms): the app calls this
    # on every run, so the registration is remembered here.
    global _THEME_REGISTERED
    if not _THEME_REGISTERED:
        if _THEME_NAME not in alt.theme.names():
            alt.theme.register(_THEME_NAME, enable=False)(lambda: alt.theme.ThemeConfig(theme()))
        _THEME_REGISTERED = True
    if alt.theme.active != _THEME_NAME:
        alt.theme.enable(_THEME_NAME)


_THEME_REGISTERED = False


STATIC_WIDTH = 680  # px: "container" width has no meaning outside a page (reports, PNG)


def _fixed_width(node: Any) -> Any:
    if isinstance(node, dict):
        return {k: (STATIC_WIDTH if k == "width" and v == "container" else _fixed_width(v))
                for k, v in node.items()}
    if isinstance(node, list):
        return [_fixed_width(v) for v in node]
    return node


# Altair's default theme (300 × 300 continuous view): the report's charts are laid out with it.
_STATIC_VIEW = {"continuousWidth": 300, "continuousHeight": 300}


def _spec(chart: alt.TopLevelMixin) -> dict:
    """The chart's spec for a static render, whatever theme is active in the process: the app enables
    the Vigie theme (:func:`use_theme`), the CLI does not, and ``to_dict`` merges the active theme
    into the config — the same report then differed by its chart pixels (issue 22). The config is
    rebuilt from the chart's own settings only: theme, then the chart's config, the locale last."""
    # no schema validation: it changes nothing in the dict and walked the schema for ~0,1 s a chart
    spec = _fixed_width(chart.to_dict(validate=False))
    own = chart.config.to_dict() if chart.config is not alt.Undefined else {}
    cfg = dict(theme()["config"])
    cfg.update(own)
    cfg["view"] = {**_STATIC_VIEW, **own.get("view", {})}
    cfg["locale"] = theme()["config"]["locale"]
    spec["config"] = cfg
    return spec


def to_png(chart: alt.TopLevelMixin, scale: float = 2.0) -> bytes:
    """Render a chart to PNG bytes for reports (vl-convert: offline, no browser)."""
    import vl_convert as vlc

    return vlc.vegalite_to_png(_spec(chart), scale=scale)


# element ids vl-convert numbers with a counter of the process (gradient_0, gradient_1, clip3…)
_SVG_ID = re.compile(r'(?<=id=")([A-Za-z]+_?)(\d+)(?=")|(?<=url\(#)([A-Za-z]+_?)(\d+)(?=\))')


def to_svg(chart: alt.TopLevelMixin) -> str:
    """Render a chart to SVG text for reports (vector, searchable text).

    vl-convert numbers gradients and clip paths with a counter of the process, so the same chart came
    out with ``gradient_1`` after another chart and ``gradient_0`` before it: the ids are renumbered
    in order of appearance, and the same chart gives the same bytes whatever was drawn before it."""
    import vl_convert as vlc

    svg = vlc.vegalite_to_svg(_spec(chart))
    ids: dict[str, str] = {}

    def renumber(m: re.Match) -> str:
        prefix, n = (m.group(1), m.group(2)) if m.group(1) is not None else (m.group(3), m.group(4))
        return ids.setdefault(prefix + n, f"{prefix}{sum(k.startswith(prefix) for k in ids)}")

    return _SVG_ID.sub(renumber, svg)


def coverage_grid(cov: pd.DataFrame, names: Mapping[str, str] | None = None) -> pd.DataFrame:
    """Complete territory × platform × month grid of a ``queries.coverage`` frame.

    Months with no row between the first and last month of a territory × platform are kept
    with ``items`` = NaN and ``gap`` = True: missing data, not zero.
    """
    cols = ["row", "territory_id", "platform", "month", "month_label", "posts", "messages", "items", "gap"]
    if cov.empty:
        return pd.DataFrame(columns=cols)
    names = names or {}
    grid = coverage_months(cov)
    grid["row"] = [f"{names.get(t, t)} · {p}" for t, p in zip(grid["territory_id"], grid["platform"], strict=True)]
    grid["month_label"] = grid["month"].map(fr_month)
    return grid[cols]


def coverage_heatmap(cov: pd.DataFrame, names: Mapping[str, str] | None = None, *,
                     title: str = "Couverture des données",
                     subtitle: str = "Publications et messages par mois ; × = mois sans données",
                     x_title: str = "Mois", y_title: str = "Territoire · plateforme",
                     value_title: str = "Éléments") -> alt.LayerChart:
    """Heatmap: one row per territory × platform, one column per month, colour = posts + messages.

    ``cov`` is ``queries.coverage`` output; ``names`` maps territory ids to display names.
    The colour scale is logarithmic because peers differ in size by orders of magnitude; gaps
    are grey *and* marked with a cross so colour is never the only cue.
    """
    grid = coverage_grid(cov, names)
    rows = list(dict.fromkeys(grid["row"])) if len(grid) else []
    base = alt.Chart(grid).encode(
        x=alt.X("yearmonth(month):O", title=x_title,
                axis=alt.Axis(format=MONTH_FORMAT, labelAngle=-45, labelOverlap=True)),
        y=alt.Y("row:N", title=y_title, sort=rows),
        tooltip=[alt.Tooltip("row:N", title=y_title), alt.Tooltip("month_label:N", title=x_title),
                 alt.Tooltip("posts:Q", title="Publications", format=",.0f"),
                 alt.Tooltip("messages:Q", title="Messages", format=",.0f")],
    )
    cells = base.transform_filter("!datum.gap").mark_rect(stroke="white", strokeWidth=0.5).encode(
        color=alt.Color("items:Q", title=value_title,
                        scale=alt.Scale(type="log", scheme=SEQUENTIAL_SCHEME),
                        legend=alt.Legend(format=",.0f", orient="right")),
    )
    gaps = base.transform_filter("datum.gap").mark_rect(color=GAP_COLOUR, stroke="white", strokeWidth=0.5)
    crosses = base.transform_filter("datum.gap").mark_text(text="×", fontSize=13, color="#1f2933")
    return alt.layer(cells, gaps, crosses).properties(
        title=alt.Title(title, subtitle=subtitle), height=alt.Step(22), width="container",
    )


def line_with_band(df: pd.DataFrame, x: str, y: str, lo: str | None = None, hi: str | None = None,
                   color: str | None = None, *, title: str = "", subtitle: str | None = None,
                   x_title: str = "", y_title: str = "", color_title: str = "",
                   y_format: str = ",.2~f", x_format: str = DAY_FORMAT,
                   colours: Mapping[str, str] | None = None) -> alt.LayerChart:
    """Trend line with its uncertainty band (``lo``–``hi``, e.g. a 95 % interval).

    ``color`` splits into one line per category; ``colours`` pins a category to a colour
    (e.g. the own territory always blue).
    """
    enc_color: dict[str, Any] = {}
    if color:
        scale = alt.Scale(domain=list(colours), range=list(colours.values())) if colours else alt.Undefined
        enc_color = {"color": alt.Color(f"{color}:N", title=color_title or color, scale=scale)}
    # Monthly data: one tick per month, else d3 puts mid-month ticks that repeat the label.
    ticks = {"interval": "month", "step": 1} if x_format == MONTH_FORMAT else alt.Undefined
    x_enc = alt.X(f"{x}:T", title=x_title,
                  axis=alt.Axis(format=x_format, labelOverlap=True, tickCount=ticks))
    tooltip = [alt.Tooltip(f"{x}:T", title=x_title or x, format=x_format),
               alt.Tooltip(f"{y}:Q", title=y_title or y, format=y_format)]
    if color:
        tooltip.insert(0, alt.Tooltip(f"{color}:N", title=color_title or color))
    layers = []
    if lo and hi:
        tooltip += [alt.Tooltip(f"{lo}:Q", title="Borne basse", format=y_format),
                    alt.Tooltip(f"{hi}:Q", title="Borne haute", format=y_format)]
        layers.append(alt.Chart(df).mark_area(opacity=0.2).encode(
            x=x_enc, y=alt.Y(f"{lo}:Q", title=y_title), y2=alt.Y2(f"{hi}:Q"), **enc_color))
    layers.append(alt.Chart(df).mark_line(point=alt.OverlayMarkDef(size=18)).encode(
        x=x_enc, y=alt.Y(f"{y}:Q", title=y_title, axis=alt.Axis(format=y_format)),
        tooltip=tooltip, **enc_color))
    title_obj = alt.Title(title, subtitle=subtitle) if subtitle else title
    return alt.layer(*layers).properties(title=title_obj, width="container")


def bar(df: pd.DataFrame, x: str, y: str, color: str | None = None, *, horizontal: bool = True,
        title: str = "", subtitle: str | None = None, x_title: str = "", y_title: str = "",
        color_title: str = "", value_format: str = ",.0f", sort: str | list | None = "-x",
        colours: Mapping[str, str] | None = None) -> alt.Chart:
    """Bar chart. ``x`` is the value and ``y`` the category when ``horizontal`` (the readable
    default for long French labels); the other way round otherwise."""
    value, cat = (x, y) if horizontal else (y, x)
    value_title, cat_title = (x_title, y_title) if horizontal else (y_title, x_title)
    if sort == "-x" and not horizontal:
        sort = "-y"
    v = alt.X if horizontal else alt.Y
    c = alt.Y if horizontal else alt.X
    enc: dict[str, Any] = {
        ("x" if horizontal else "y"): v(f"{value}:Q", title=value_title, axis=alt.Axis(format=value_format)),
        ("y" if horizontal else "x"): c(f"{cat}:N", title=cat_title, sort=sort,
                                          axis=alt.Axis(labelLimit=260)),
        "tooltip": [alt.Tooltip(f"{cat}:N", title=cat_title or cat),
                    alt.Tooltip(f"{value}:Q", title=value_title or value, format=value_format)],
    }
    if color:
        scale = alt.Scale(domain=list(colours), range=list(colours.values())) if colours else alt.Undefined
        enc["color"] = alt.Color(f"{color}:N", title=color_title or color, scale=scale)
        enc["tooltip"].insert(0, alt.Tooltip(f"{color}:N", title=color_title or color))
    else:
        enc["color"] = alt.value(PALETTE[0])
    title_obj = alt.Title(title, subtitle=subtitle) if subtitle else title
    return alt.Chart(df).mark_bar().encode(**enc).properties(title=title_obj, width="container")
