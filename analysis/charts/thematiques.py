"""Charts of the Thématiques page."""

from __future__ import annotations

import altair as alt
import pandas as pd

from analysis.charts import PALETTE

OURS, PUBLIC = "Nos publications", "Conversation publique"


def posts_vs_conversation(long: pd.DataFrame, order: list[str], title: str) -> alt.Chart:
    """Share of our posts and of the public messages per theme (paired horizontal bars); theme names never cut."""
    return alt.Chart(long).mark_bar().encode(
        x=alt.X("Part:Q", title="Part", axis=alt.Axis(format=".0%")),
        y=alt.Y("Thème:N", sort=order, title="", axis=alt.Axis(labelLimit=260)),
        yOffset=alt.YOffset("Source:N"),
        color=alt.Color("Source:N", title="", scale=alt.Scale(domain=[OURS, PUBLIC], range=[PALETTE[0], PALETTE[1]])),
        tooltip=["Thème:N", "Source:N", alt.Tooltip("Part:Q", format=".1%")],
    ).properties(title=alt.Title(title, subtitle="Part de nos publications et des messages publics par thème"),
                 width="container")
