"""Charts of the E-réputation page: the net-sentiment trend with its spikes, the weekly negative messages."""

from __future__ import annotations

import altair as alt
import pandas as pd

from analysis.charts import DAY_FORMAT, MONTH_FORMAT, OWN_COLOUR, PALETTE, line_with_band

SPIKE_COLOUR = PALETTE[3]  # vermillion: the spike, distinct from the blue trend
PEERS_LABEL = "Pairs (ensemble)"


def trend(plot: pd.DataFrame, spikes: pd.DataFrame, focus_name: str, title: str, freq: str,
          baseline_weeks: int) -> alt.LayerChart:
    """Net sentiment per period (``period``, ``net``, ``net_lo``, ``net_hi``, ``Série``) of the focus and
    its peers, the spikes (``start``, ``end`` exclusive, ``label``) as shaded zones."""
    line = line_with_band(plot, "period", "net", "net_lo", "net_hi", color="Série",
                          colours={focus_name: OWN_COLOUR, PEERS_LABEL: PALETTE[1]},
                          x_title="", y_title="Sentiment net (points)", color_title="Série",
                          y_format=",.0f", x_format=MONTH_FORMAT if freq == "month" else DAY_FORMAT)
    layers: list[alt.Chart] = [line]
    if len(spikes):
        layers.insert(0, alt.Chart(spikes).mark_rect(opacity=0.15, color=SPIKE_COLOUR).encode(
            x="start:T", x2="end:T", tooltip=[alt.Tooltip("label:N", title="Pic")]))
        layers.append(alt.Chart(spikes).mark_text(align="left", dx=3, dy=-4, baseline="top", y=0,
                                                  color=SPIKE_COLOUR, fontWeight="bold").encode(
            x="start:T", text=alt.value("pic négatif")))
    return alt.layer(*layers).properties(
        title=alt.Title(title, subtitle="Évolution vs période précédente ; bande = IC 95 % ; zones orangées = pics "
                                        "de messages négatifs détectés"),
        width="container", height=320)


def negative_weeks(s_plot: pd.DataFrame, title: str, baseline_weeks: int) -> alt.LayerChart:
    """Negative messages per week (bars), the usual level (dashes) and the anomalous weeks (triangles)."""
    base = alt.Chart(s_plot).encode(x=alt.X("period:T", title="", axis=alt.Axis(format=DAY_FORMAT)))
    bars = base.mark_bar(color=PALETTE[4]).encode(
        y=alt.Y("negative:Q", title="Messages négatifs par semaine"),
        tooltip=[alt.Tooltip("Semaine du:N"), alt.Tooltip("negative:Q", title="Négatifs", format=",.0f"),
                 alt.Tooltip("expected:Q", title="Niveau habituel", format=",.1f")])
    base_line = base.mark_line(color="#323f4b", strokeDash=[4, 3]).encode(y="expected:Q")
    marks = base.transform_filter("datum.anomalous").mark_point(shape="triangle-down", size=70, filled=True,
                                                                 color=SPIKE_COLOUR).encode(y="negative:Q")
    return alt.layer(bars, base_line, marks).properties(
        title=alt.Title(title, subtitle=f"Barres = messages négatifs par semaine ; tirets = niveau habituel "
                                        f"(médiane des {baseline_weeks} semaines précédentes) ; triangles = "
                                        "semaines anormales"),
        width="container", height=260)
