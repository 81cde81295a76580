"""Altair charts of campaign evaluation and benchmark (labels in French, theme from :mod:`analysis.charts`)."""

from __future__ import annotations

from collections.abc import Mapping

import altair as alt
import pandas as pd

from analysis.charts import DAY_FORMAT, OWN_COLOUR, PALETTE, SEQUENTIAL_SCHEME
from analysis.fmt import WEEKDAYS

METHOD_LABELS = {"did": "Par rapport aux pairs (double différence)", "ba": "Avant / après (sans pairs)"}


def effects_frame(results: list) -> pd.DataFrame:
    """Tidy frame of :class:`analysis.campaigns.KPIResult` effects (one row per KPI × method)."""
    rows = []
    for r in results:
        for key, eff in (("did", r.did), ("ba", r.before_after)):
            if eff is None or eff.estimate is None:
                continue
            rows.append({"Indicateur": r.name, "Méthode": METHOD_LABELS[key], "Effet": eff.estimate,
                         "Borne basse": eff.low, "Borne haute": eff.high, "relatif": eff.relative,
                         "Significatif": "oui" if eff.significant else "non"})
    return pd.DataFrame(rows, columns=["Indicateur", "Méthode", "Effet", "Borne basse", "Borne haute", "relatif",
                                       "Significatif"])


def effects_chart(df: pd.DataFrame, title: str = "Effets estimés et intervalles de confiance à 95 %") -> alt.LayerChart:
    """Forest plot: each KPI's effect with its 95 % interval, the zero line marking « no effect »."""
    y = alt.Y("Indicateur:N", title="", axis=alt.Axis(labelLimit=260))
    y_off = alt.YOffset("Méthode:N")
    # one legend entry per line, never cut (« Par rapport aux pairs (double différence) » is long)
    legend = alt.Legend(orient="bottom", direction="vertical", labelLimit=0, titleLimit=0)
    colour = alt.Color("Méthode:N", title="", legend=legend,
                       scale=alt.Scale(domain=list(METHOD_LABELS.values()), range=[OWN_COLOUR, PALETTE[1]]))
    x = alt.X("Effet:Q", title="Effet estimé", axis=alt.Axis(format="+.0%"))  # the ticks say « +50 % »
    tooltip = [alt.Tooltip("Indicateur:N"), alt.Tooltip("Méthode:N"), alt.Tooltip("Effet:Q", format="+.0%"),
               alt.Tooltip("Borne basse:Q", format="+.0%"), alt.Tooltip("Borne haute:Q", format="+.0%"),
               alt.Tooltip("Significatif:N")]
    base = alt.Chart(df)
    rule = base.mark_rule(strokeWidth=2).encode(x=alt.X("Borne basse:Q"), x2="Borne haute:Q", y=y, yOffset=y_off,
                                                color=colour)
    pts = base.mark_point(filled=True, size=80).encode(x=x, y=y, yOffset=y_off, color=colour, tooltip=tooltip,
                                                       shape=alt.Shape("Significatif:N", title="Intervalle hors de zéro",
                                                                       legend=legend))
    zero = alt.Chart(pd.DataFrame({"z": [0.0]})).mark_rule(color="#52606d", strokeDash=[4, 3]).encode(x="z:Q")
    return alt.layer(zero, rule, pts).properties(title=title, width="container", height=alt.Step(28))


def weekly_index_chart(df: pd.DataFrame, own_label: str, relative: bool = True,
                       title: str = "Évolution hebdomadaire, base 100 = période de référence") -> alt.LayerChart:
    """Own territory vs pooled peers, weekly, indexed to their own baseline; the campaign shaded."""
    d = df.copy()
    d["Série"] = d["group"].map({"own": own_label, "peers": "Territoires pairs (ensemble)"})
    d["Semaine du"] = pd.to_datetime(d.pop("start"))  # datetime.date is not JSON-serialisable by Altair
    colours = alt.Scale(domain=[own_label, "Territoires pairs (ensemble)"], range=[OWN_COLOUR, PALETTE[1]])
    y_title = "Indice (référence = 100)" if relative else "Écart à la référence (points)"
    camp = d[d["period"] == "campagne"]
    band = alt.Chart(pd.DataFrame({"a": [camp["Semaine du"].min()], "b": [camp["Semaine du"].max()]})).mark_rect(
        color="#e4e7eb", opacity=0.6).encode(x="a:T", x2="b:T")
    line = alt.Chart(d).mark_line(point=True).encode(
        x=alt.X("Semaine du:T", title="", axis=alt.Axis(format=DAY_FORMAT, labelOverlap=True)), y=alt.Y("index:Q", title=y_title, scale=alt.Scale(zero=False)),
        color=alt.Color("Série:N", title="", scale=colours, legend=alt.Legend(labelLimit=0)),  # names never cut
        tooltip=[alt.Tooltip("Série:N"), alt.Tooltip("Semaine du:T", format=DAY_FORMAT), alt.Tooltip("index:Q", title=y_title, format=",.0f")])
    return alt.layer(band, line).properties(title=alt.Title(title, subtitle="Zone grisée : la campagne"),
                                            width="container", height=260)


def heatmap_chart(g: pd.DataFrame, title: str = "Meilleurs moments pour publier") -> alt.LayerChart:
    """Weekday × hour cells coloured by the shrunk performance index, with the number of posts."""
    d = g.copy()
    d["Jour"] = d["weekday"].map(lambda i: WEEKDAYS[int(i)])
    d["Heure"] = d["hour"].astype(int)
    enc = {"x": alt.X("Heure:O", title="Heure (heure de Paris)"),
           "y": alt.Y("Jour:N", title="", sort=list(WEEKDAYS))}
    cells = alt.Chart(d).mark_rect().encode(
        color=alt.Color("index:Q", title="Indice (1 = habituel)", scale=alt.Scale(scheme=SEQUENTIAL_SCHEME),
                        legend=alt.Legend(format=",.1f")),  # the theme's integer format read "1 1 1 1"
        tooltip=[alt.Tooltip("Jour:N"), alt.Tooltip("Heure:O"), alt.Tooltip("n:Q", title="Publications"),
                 alt.Tooltip("index:Q", title="Indice corrigé", format=".2f"),
                 alt.Tooltip("raw_index:Q", title="Indice brut", format=".2f")], **enc)
    text = alt.Chart(d).mark_text(fontSize=9, color="#323f4b").encode(text=alt.Text("n:Q"), **enc)
    return alt.layer(cells, text).properties(
        title=alt.Title(title, subtitle="Indice rapproché de la moyenne quand une case compte peu de publications "
                                        "(chiffre = nombre de publications)"),
        width="container", height=alt.Step(22))


def rank_chart(r: pd.DataFrame, own_id: str | None = None, value_title: str = "Valeur",
               title: str = "Classement avec incertitude") -> alt.LayerChart:
    """Each territory's value with its 95 % bootstrap interval; the rank interval in the tooltip."""
    d = r.copy()
    d["Rang"] = [f"{a}" if a == b else f"{a} à {b}" for a, b in zip(d["rank_low"], d["rank_high"], strict=True)]
    d["Nous"] = d["territory_id"].eq(own_id).map({True: "notre territoire", False: "pair"})
    y = alt.Y("name:N", title="", sort=list(d["name"]), axis=alt.Axis(labelLimit=260))
    colour = alt.Color("Nous:N", title="", scale=alt.Scale(domain=["notre territoire", "pair"],
                                                           range=[OWN_COLOUR, PALETTE[1]]))
    tooltip = [alt.Tooltip("name:N", title="Territoire"), alt.Tooltip("value:Q", title=value_title, format=",.1f"),
               alt.Tooltip("low:Q", title="Borne basse", format=",.1f"),
               alt.Tooltip("high:Q", title="Borne haute", format=",.1f"), alt.Tooltip("Rang:N", title="Rang (IC 95 %)")]
    rule = alt.Chart(d).mark_rule(strokeWidth=2).encode(x=alt.X("low:Q", title=value_title), x2="high:Q", y=y,
                                                        color=colour)
    pts = alt.Chart(d).mark_point(filled=True, size=90).encode(x="value:Q", y=y, color=colour, tooltip=tooltip)
    return alt.layer(rule, pts).properties(title=title, width="container", height=alt.Step(30))


def labelled(df: pd.DataFrame, names: Mapping[str, str]) -> pd.DataFrame:
    """Replace territory ids by their names (for tables)."""
    out = df.copy()
    if "territory_id" in out:
        out["territory_id"] = out["territory_id"].map(lambda t: names.get(t, t))
    return out


def share_of_voice_chart(df: pd.DataFrame, title: str = "Part de voix") -> alt.Chart:
    """Grouped bars (not stacked: the two bases are two different shares) of ``name``, ``Base``, ``Part``."""
    return alt.Chart(df).mark_bar().encode(
        x=alt.X("Part:Q", title="Part parmi les territoires comparés", axis=alt.Axis(format=".0%")),
        y=alt.Y("name:N", title="", sort=list(dict.fromkeys(df["name"])), axis=alt.Axis(labelLimit=260)),
        yOffset=alt.YOffset("Base:N"),
        color=alt.Color("Base:N", title="Base", scale=alt.Scale(domain=["Mentions", "Engagement"],
                                                                range=[OWN_COLOUR, PALETTE[1]])),
        tooltip=[alt.Tooltip("name:N", title="Territoire"), alt.Tooltip("Base:N"),
                 alt.Tooltip("Part:Q", format=".1%")],
    ).properties(title=title, width="container", height=alt.Step(14))
