"""Read models of the « Synthèse » home page: headlines, alerts and peers for the app's filters.

The headlines are those of the report's first page (:func:`analysis.reports.findings.findings`,
one generator): this module only turns the app's filters (any half-open period, not only a
calendar month) into the generator's :class:`~analysis.reports.period.Period`, and gathers the
alerts of the Modération page and the columns of the Benchmark page's table it shows (from the
same library functions), so the home page shows the same numbers as the detailed pages.
"""

from __future__ import annotations

from dataclasses import dataclass, replace
from datetime import date, timedelta
from typing import Any

import duckdb
import pandas as pd

from analysis import metrics
from analysis.campaigns import message_totals
from analysis.charts import ChartView
from analysis.charts.synthese import peers_net_sentiment
from analysis.fmt import fr_int, fr_period_end_excluded, fr_signed
from analysis.queries import Filters, previous_period
from analysis.reports.findings import CERTAINTY_FR, findings
from analysis.reports.period import Period
from analysis.territories import focus_territory as _focus
from analysis.territories import peers_of
from analysis.views.moderation import alerts_view

# Where each headline is explained in detail (url path of the app page).
DETAIL_PAGE: dict[str, str] = {
    "net_sentiment": "e-reputation",
    "messages": "e-reputation",
    "negative_share": "e-reputation",
    "engagement_per_post": "benchmark",
    "response_rate": "moderation",
    "followers": "audience",
}

# Short words for the certainty badge next to each change (the long form is CERTAINTY_FR).
CERTAINTY_SHORT: dict[str, str] = {
    "significant": "évolution certaine",
    "stable": "pas d'évolution nette",
    "exact": "compté exactement",
    "unknown": "non mesurable",
}


@dataclass(frozen=True)
class SpanPeriod(Period):
    """Any half-open period ``[start, end)``; the one before it has the same length.

    The app's presets (« 12 derniers mois » ending on the last day of data, a custom range)
    are rarely calendar months: the findings then compare with the span of equal length just
    before, and say which dates that is.
    """

    @property
    def code(self) -> str:
        return f"{self.start.isoformat()}_{(self.end - timedelta(days=1)).isoformat()}"

    @property
    def label(self) -> str:
        return fr_period_end_excluded(self.start, self.end)

    @property
    def short_label(self) -> str:
        # Repeated in every headline: the dates are stated once, by :func:`headlines`' reference_label.
        return "la période précédente"

    def previous(self) -> SpanPeriod:
        start, end = previous_period(self.start, self.end)
        return SpanPeriod(start, end, "span")


def period_of(start: date, end: date) -> Period:
    """The report period of ``[start, end)``: a calendar month, quarter or year when it is one
    (so the home page reads « par rapport à septembre » like the report), else a :class:`SpanPeriod`."""
    if start.day == 1 and end.day == 1:
        months = (end.year - start.year) * 12 + end.month - start.month
        if months == 1:
            return Period(start, end, "month")
        if months == 3 and start.month in (1, 4, 7, 10):
            return Period(start, end, "quarter")
        if months == 12 and start.month == 1:
            return Period(start, end, "year")
    return SpanPeriod(start, end, "span")


def focus_territory(con: duckdb.DuckDBPyConnection, f: Filters) -> str | None:
    """The territory the home page is about (:func:`analysis.territories.focus_territory`)."""
    return _focus(con, f.territories)


def headlines(con: duckdb.DuckDBPyConnection, f: Filters) -> dict[str, Any]:
    """Findings of the focus territory over the filters' period vs the period before, as plain data.

    Keys: ``territory_id``, ``period_label``, ``reference_label`` (what the changes compare
    with), ``findings`` (records of :class:`~analysis.reports.findings.Finding` plus ``page``,
    ``certainty_fr`` and ``certainty_short``), ``peers`` (peer territory ids).
    """

    t = focus_territory(con, f)
    if t is None or f.start is None or f.end is None:
        return {"territory_id": t, "period_label": "", "reference_label": "", "findings": [], "peers": []}
    p = period_of(f.start, f.end)
    out = []
    for x in findings(con, t, p, "previous", tuple(f.platforms)):
        d = x.as_dict()
        d["page"] = DETAIL_PAGE.get(x.kpi, "")
        d["certainty_fr"] = CERTAINTY_FR.get(x.certainty, x.certainty)
        d["certainty_short"] = CERTAINTY_SHORT.get(x.certainty, x.certainty)
        out.append(d)
    ref = p.previous()
    reference = (f"la période précédente de même durée ({ref.label})" if isinstance(ref, SpanPeriod)
                 else ref.short_label)
    return {"territory_id": t, "period_label": p.label, "reference_label": reference,
            "findings": out, "peers": peers_of(con, t)}


# Columns of the home page's peer table: those of the Benchmark page's table it shows.
PEER_COLUMNS = ("territory_id", "name", "kind", "population", "peer_group", "posts", "engagement",
                "engagement_per_post", "engagement_per_1000_inhabitants", "messages", "net_sentiment")


def peer_table(con: duckdb.DuckDBPyConnection, f: Filters) -> pd.DataFrame:
    """The focus territory and its peers over the period, own territory first: the columns of
    :data:`PEER_COLUMNS` plus ``is_focus``, equal to those of :func:`analysis.campaigns.benchmark`
    (the Benchmark page's table).

    Built from the same library functions as ``benchmark`` (:func:`analysis.metrics.territory_kpis`
    for posts and engagement, ``campaigns.message_totals`` for messages and their sentiment, on
    the filter's platforms, the same formulas), without the columns the home page does not show:
    the responsiveness of every territory alone cost two thirds of ``benchmark`` at 1 M messages.
    """

    t = focus_territory(con, f)
    if t is None or f.start is None or f.end is None:
        return pd.DataFrame()
    ids = [t, *peers_of(con, t)]
    ter = con.execute(
        f"SELECT territory_id, name, kind, population, peer_group FROM territories "
        f"WHERE territory_id IN ({', '.join('?' for _ in ids)})", ids).df()
    if ter.empty:
        return pd.DataFrame(columns=[*PEER_COLUMNS, "is_focus"])
    ids = ter["territory_id"].tolist()
    k = metrics.territory_kpis(con, f.start, f.end, ids, tuple(f.platforms))
    agg = message_totals(con, ids, f.start, f.end, tuple(f.platforms))
    df = ter.merge(k, on="territory_id", how="left").merge(agg, on="territory_id", how="left")
    df["engagement_per_1000_inhabitants"] = [metrics.per_1000(e, p)
                                             for e, p in zip(df["engagement"], df["population"], strict=True)]
    df["net_sentiment"] = [metrics.net_sentiment(p, n) if (p or 0) + (n or 0) > 0 else None
                           for p, n in zip(df["pos"], df["neg"], strict=True)]
    df["is_focus"] = df["territory_id"] == t
    # benchmark's order (own territory, then by name), then the focus territory first
    df = df.sort_values(["kind", "name"], key=lambda s: s.map({"own": 0}).fillna(1) if s.name == "kind" else s)
    df = df.sort_values("is_focus", ascending=False, kind="stable").reset_index(drop=True)
    return df[[*PEER_COLUMNS, "is_focus"]]


CURRENT_DAYS = 30  # "current" alerts: those of the last 30 days of the period


def alerts(con: duckdb.DuckDBPyConnection, f: Filters, days: int = CURRENT_DAYS) -> pd.DataFrame:
    """Current alerts of the focus territory: detected over the last ``days`` days of the period,
    newest first (the Modération page's view on that window, which lists the whole period).

    An official opening the home page needs what is happening now; evaluating 30 days rather
    than a year also keeps the first visit fast. ``attrs["window"]`` holds the (start, end) used.
    """

    t = focus_territory(con, f)
    if t is None or f.end is None:
        return pd.DataFrame()
    start = f.end - timedelta(days=days)
    if f.start is not None and f.start > start:
        start = f.start
    out = alerts_view(con, replace(f, territories=(t,), start=start))
    out.attrs["window"] = (start, f.end)
    return out


# ------------------------------------------------------------------------------ what the page shows
# Unit appended to each headline value (units always stated).
UNITS = {"net_sentiment": "points", "messages": "messages", "engagement_per_post": "interactions",
         "followers": "abonnés"}
# One-line definitions shown on hover.
DEFINITIONS = {
    "net_sentiment": "Sentiment net = (messages positifs − négatifs) ÷ (positifs + négatifs), de −100 à +100 "
                     "points. Messages en français évalués par le modèle de Vigie (ou corrigés par un analyste).",
    "messages": "Commentaires, réponses, mentions et avis des internautes reçus sur la période (hors réponses "
                "officielles).",
    "negative_share": "Part des messages évalués dont le ton est négatif.",
    "engagement_per_post": "Interactions (réactions, commentaires, partages) par publication officielle, là où "
                           "l'export les donne.",
    "response_rate": "Part des questions et messages négatifs reçus auxquels un compte officiel a répondu.",
    "followers": "Abonnés des comptes officiels en fin de période, d'après les compteurs exportés par les "
                 "plateformes (une personne abonnée à deux comptes compte deux fois).",
}
DELTA_COLOUR = {"good": "blue", "bad": "orange"}  # colour-blind safe; the arrow and the words say it too
ARROW = {"up": "up", "down": "down"}
PEER_POSITION = {"above": "au-dessus des pairs", "below": "en dessous des pairs", "level": "au niveau des pairs"}
SEVERITY_ICON = {"critique": ":material/error:", "attention": ":material/warning:",
                 "information": ":material/info:"}
HOW_TO_READ = (
    "- **Flèche et couleur** : une évolution n'est annoncée que si son intervalle de confiance à 95 % "
    "exclut zéro (« évolution certaine ») ; sinon elle est dite stable, sans flèche. Bleu = bonne "
    "nouvelle pour le territoire, orange = mauvaise, gris = sans jugement (le volume de messages).\n"
    "- **Fourchette** : l'intervalle à 95 % de l'évolution ; les abonnés sont comptés par les "
    "plateformes, sans marge d'échantillonnage.\n"
    "- **Pairs** : les territoires comparables du registre, sur la même période et les mêmes plateformes.\n"
    "- Les mêmes phrases ouvrent le rapport mensuel du conseil (page « Rapports »).")
PEER_FORMATS = {"Population": "int", "Messages reçus": "int", "Sentiment net (points)": "num",
                "Engagement par publication": "num", "Engagement pour 1 000 habitants": "num"}
PEER_NOTE = ("Mêmes chiffres que la page Benchmark, même période et mêmes plateformes ; « — » : donnée absente "
             "des exports (jamais comptée comme zéro). Engagement = réactions, commentaires et partages des "
             "publications officielles.")


def headline_card(x: dict[str, Any]) -> dict[str, Any]:
    """One finding as the page shows it: ``st.metric`` arguments and the certainty line."""
    unit = UNITS.get(x["kpi"])
    value = f"{x['value_fr']}\u00a0{unit}" if unit and x["value_fr"] != "—" else x["value_fr"]
    bits = [x["certainty_short"].capitalize()]
    if x["interval_fr"] not in ("—", ""):
        bits.append(f"IC 95 % {x['interval_fr']}")
    if x["peers_position"] and x["peers_value_fr"] not in ("—", ""):
        bits.append(f"pairs : {x['peers_value_fr']} ({PEER_POSITION[x['peers_position']]})")
    return {"metric": dict(label=x["label"], value=value,
                           delta=None if x["change_fr"] in ("—", "") else x["change_fr"],
                           delta_color=DELTA_COLOUR.get(x["tone"], "gray"), delta_arrow=ARROW.get(x["direction"], "off"),
                           help=DEFINITIONS.get(x["kpi"])),
            "reading": x["reading"], "certainty": " · ".join(bits), "certainty_help": x["certainty_fr"],
            "page": x["page"]}


def alert_lines(alerts_df: pd.DataFrame, focus_name: str, f: Filters, esc: Any) -> tuple[str, list[str], str | None]:
    """The alerts block: its headline (or the all-clear), up to 5 lines, the « … et N autres » note."""
    w_start, w_end = alerts_df.attrs.get("window", (f.start, f.end))
    window = fr_period_end_excluded(w_start, w_end)
    n = len(alerts_df)
    if not n:
        return (f"Aucune alerte pour {esc(focus_name)} {window} (pics de messages négatifs, de volume, thème négatif "
                "émergent, vague hostile, page usurpant l'identité du territoire)."), [], None
    head = (f"**{fr_int(n)} alerte{'s' if n > 1 else ''}** {window} (les 30 derniers jours de la période), "
            "les plus récentes en premier :")
    # the title states the rule, territory, days and evidence (names escaped)
    lines = [f"{SEVERITY_ICON.get(a.severity, ':material/info:')} **{str(a.severity).capitalize()}** — {esc(a.title)}"
             for a in alerts_df.head(5).itertuples()]
    more = f"… et {fr_int(n - 5)} autre{'s' if n - 5 > 1 else ''}." if n > 5 else None
    return head, lines, more


def peers_view(pt: pd.DataFrame, focus_name: str, period_label: str) -> tuple[pd.DataFrame, ChartView | None]:
    """The peers' table and, when our territory is ranked, its net-sentiment chart view (else None)."""
    show = pd.DataFrame({
        "Territoire": pt["name"] + pt["is_focus"].map({True: " (nous)", False: ""}),
        "Population": pt["population"], "Messages reçus": pt["messages"],
        "Sentiment net (points)": pt["net_sentiment"].map(metrics.points),
        "Engagement par publication": pt["engagement_per_post"],
        "Engagement pour 1 000 habitants": pt["engagement_per_1000_inhabitants"],
    })
    ranked = show.dropna(subset=["Sentiment net (points)"]).sort_values("Sentiment net (points)", ascending=False)
    own_label = show["Territoire"].iloc[0]
    if not len(ranked) or own_label not in set(ranked["Territoire"]):
        return show, None
    rank = list(ranked["Territoire"]).index(own_label) + 1
    title = (f"{focus_name} : {'meilleur' if rank == 1 else f'{rank}e'} sentiment net sur {len(ranked)} territoires "
             f"comparés ({fr_signed(ranked.iloc[rank - 1]['Sentiment net (points)'], 0)} points)")
    ch = peers_net_sentiment(ranked, own_label, title=title,
                             subtitle=f"Sentiment net des messages reçus, {period_label} (de −100 à +100)")
    alt_text = ("Sentiment net par territoire, " + period_label + " : " + " ; ".join(
        f"{r['Territoire']} {fr_signed(r['Sentiment net (points)'], 0)} points" for _, r in ranked.iterrows()) + ".")
    return show, ChartView(ch, show, alt_text, PEER_FORMATS)
