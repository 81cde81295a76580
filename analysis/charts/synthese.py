"""Charts of the Synthèse page."""

from __future__ import annotations

import altair as alt
import pandas as pd

from analysis.charts import OWN_COLOUR, bar

OTHERS_COLOUR = "#9aa5b1"


def peers_net_sentiment(ranked: pd.DataFrame, own_label: str, *, title: str, subtitle: str) -> alt.Chart:
    """Net sentiment per territory (ours in blue), one bar per territory named on the axis (no legend)."""
    colours = {t: (OWN_COLOUR if t == own_label else OTHERS_COLOUR) for t in ranked["Territoire"]}
    return bar(ranked, "Sentiment net (points)", "Territoire", color="Territoire", title=title, subtitle=subtitle,
               x_title="Sentiment net (points)", colours=colours).encode(
        color=alt.Color("Territoire:N", legend=None, scale=alt.Scale(domain=list(colours), range=list(colours.values()))),
        x=alt.X("Sentiment net (points):Q", title="Sentiment net (points)", axis=alt.Axis(format=",.0f", tickCount=5)))
