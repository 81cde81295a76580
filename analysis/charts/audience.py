"""Altair builders of the audience views (pyramid vs population, representativeness index, places).

Like :mod:`analysis.charts`: tidy frame in, unconfigured chart out, French labels passed in.
"""

from __future__ import annotations

import altair as alt
import pandas as pd

from analysis.audience import BANDS
from analysis.charts import DAY_FORMAT, PALETTE

SEX_FR = {"F": "Femmes", "M": "Hommes"}
FOLLOWERS_COLOUR = PALETTE[0]
POPULATION_COLOUR = PALETTE[6]


def pyramid_frame(cells: pd.DataFrame, population: pd.DataFrame) -> pd.DataFrame:
    """Tidy frame for :func:`pyramid_chart`: sex, age band, share among followers and in the population.

    Both shares are of people with a known sex and an age of 13 or more, so the two pyramids have
    the same area; followers of unknown gender ('U') are left out here.
    """
    fol = cells[cells["gender"].isin(list(SEX_FR))]
    ft = fol["share"].sum()
    pop = population.assign(age_band=population["age_band"].replace({"35-39": "35-44", "40-44": "35-44"}))
    pop = pop[pop["age_band"].isin(BANDS) & pop["sex"].isin(list(SEX_FR))]
    pt = pop["population"].sum()
    rows = []
    for g in SEX_FR:
        for b in BANDS:
            sf = fol.loc[(fol["gender"] == g) & (fol["age_band"] == b), "share"].sum() / ft if ft else None
            sp = pop.loc[(pop["sex"] == g) & (pop["age_band"] == b), "population"].sum() / pt if pt else None
            rows.append({"Sexe": SEX_FR[g], "Âge": b, "Abonnés": sf, "Population": sp})
    return pd.DataFrame(rows)


def pyramid_chart(df: pd.DataFrame, *, title: str = "", subtitle: str | None = None) -> alt.HConcatChart:
    """Two half-pyramids (women left, men right): bars = followers, black ticks = population."""
    order = list(reversed(BANDS))
    top = float(max(df["Abonnés"].max(skipna=True) or 0, df["Population"].max(skipna=True) or 0)) * 1.1 or 0.1
    halves = []
    for sex, reverse in (("Femmes", True), ("Hommes", False)):
        d = df[df["Sexe"] == sex]
        x = alt.X("Abonnés:Q", title=f"{sex} (part)", scale=alt.Scale(domain=[0, top], reverse=reverse),
                  axis=alt.Axis(format=".0%"))
        y = alt.Y("Âge:N", sort=order, title=None if reverse else "Âge",
                  axis=alt.Axis(orient="right" if reverse else "left", labels=not reverse))
        tip = [alt.Tooltip("Sexe:N"), alt.Tooltip("Âge:N"), alt.Tooltip("Abonnés:Q", format=".1%"),
               alt.Tooltip("Population:Q", format=".1%")]
        bars = alt.Chart(d).mark_bar(color=FOLLOWERS_COLOUR, opacity=0.85).encode(x=x, y=y, tooltip=tip)
        ticks = alt.Chart(d).mark_tick(color=POPULATION_COLOUR, thickness=3, size=18).encode(
            x=alt.X("Population:Q", scale=alt.Scale(domain=[0, top], reverse=reverse)), y=y, tooltip=tip)
        halves.append(alt.layer(bars, ticks).properties(width=260, height=alt.Step(24)))
    t = alt.Title(title, subtitle=subtitle) if subtitle else title
    return alt.hconcat(*halves, spacing=4).properties(title=t).resolve_scale(y="shared")


def index_chart(rep: pd.DataFrame, *, title: str = "", subtitle: str | None = None) -> alt.LayerChart:
    """Representativeness index per segment (horizontal bars, reference line at 1 = as in the population)."""
    d = rep.dropna(subset=["Indice"])
    base = alt.Chart(d).encode(y=alt.Y("Segment:N", sort=None, title=None, axis=alt.Axis(labelLimit=0)))  # labels never cut
    bars = base.mark_bar().encode(
        x=alt.X("Indice:Q", title="Indice de représentativité (1 = comme dans la population)",
                axis=alt.Axis(format=",.1f")),
        color=alt.condition(alt.datum["Indice"] < 1, alt.value(PALETTE[3]), alt.value(PALETTE[0])),
        tooltip=[alt.Tooltip("Segment:N"), alt.Tooltip("Indice:Q", format=",.2f"),
                 alt.Tooltip("Part parmi les abonnés:Q", format=".1%"),
                 alt.Tooltip("Part dans la population:Q", format=".1%")])
    rule = alt.Chart(pd.DataFrame({"x": [1.0]})).mark_rule(color=POPULATION_COLOUR, strokeDash=[4, 3]).encode(x="x:Q")
    t = alt.Title(title, subtitle=subtitle) if subtitle else title
    return alt.layer(bars, rule).properties(title=t, width="container")


def segments_history(h: pd.DataFrame, segments: list[str], *, title: str) -> alt.Chart:
    """Share of the target segments among followers at each snapshot, one dash per network; legend
    labels never cut (``labelLimit=0``)."""
    return alt.Chart(h).mark_line(point=True).encode(
        x=alt.X("Instantané:T", title="Instantané", axis=alt.Axis(format=DAY_FORMAT)),
        y=alt.Y("Part des abonnés:Q", axis=alt.Axis(format=".0%")),
        color=alt.Color("Segment:N", sort=segments, legend=alt.Legend(labelLimit=0)),
        strokeDash=alt.StrokeDash("Réseau:N", legend=alt.Legend(labelLimit=0)),
        tooltip=["Réseau:N", "Segment:N", alt.Tooltip("Instantané:T", format=DAY_FORMAT),
                 alt.Tooltip("Part des abonnés:Q", format=".1%")],
    ).properties(title=title, width="container")


def rayonnement_bar(ra: pd.DataFrame, colours: dict[str, str], *, title: str) -> alt.Chart:
    """Share of followers inside the territory, per territory (ours in blue); names never cut."""
    return alt.Chart(ra).mark_bar().encode(
        x=alt.X("Dans le territoire:Q", title="Part des abonnés", axis=alt.Axis(format=".0%")),
        y=alt.Y("Territoire:N", title="", sort="-x", axis=alt.Axis(labelLimit=0)),
        color=alt.Color("Territoire:N", legend=None, scale=alt.Scale(domain=list(colours), range=list(colours.values()))),
        tooltip=[alt.Tooltip("Territoire:N"), alt.Tooltip("Dans le territoire:Q", format=".1%")],
    ).properties(title=title, width="container")
