"""Section registry of the periodic report: an analysis plugs in without touching the core.

A section is ``Section(id, title, build, template, order)``; ``build(ctx)`` returns a dict the
template renders. The default template (``sections/generic.html.j2``) renders the common shape::

    {"intro": str, "findings": [str], "figures": [Figure.as_dict()], "tables": [table(...)],
     "notes": [str], "caveats": [str]}

so most sections only return data. Register with the decorator::

    @section("ma_section", "Mon analyse", order=55)
    def build(ctx: ReportContext) -> dict: ...

``build`` returning ``None`` drops the section (nothing to say for the period); its ``caveats``
are gathered in the report's coverage chapter. No section may show an author identity: messages
are never listed, only aggregates.
"""

from __future__ import annotations

import base64
import math
import re
from collections.abc import Callable, Mapping, Sequence
from dataclasses import dataclass, field
from datetime import date
from typing import Any

import duckdb
import pandas as pd

import analysis
from analysis import audience, campaigns, charts, ereputation, queries, topics
from analysis.charts.campaigns import rank_chart
from analysis.fmt import fr_count, fr_date, fr_int, fr_month, fr_num, fr_pct, fr_signed
from analysis.metrics import points
from analysis.moderation.queue import overlap_note
from analysis.queries import Filters
from analysis.reports.period import Period
from analysis.schema import platform_label
from analysis.topics import theme_labels
from analysis.views.moderation import report_section


# ------------------------------------------------------------------------------ context
@dataclass
class ReportContext:
    """What every section builder receives: an open read connection and the report's scope."""

    con: duckdb.DuckDBPyConnection
    territory: str
    name: str
    period: Period
    compare: str
    peers: list[str]
    names: dict[str, str]
    platforms: tuple[str, ...] = ()
    cache: dict[str, Any] = field(default_factory=dict)  # shared results between sections (same numbers)
    visible: tuple[str, ...] = ()  # territories the reader may see (analysis.access); empty: every one

    @property
    def filters(self) -> Filters:
        """The territory over the period."""
        return Filters((self.territory,), self.period.start, self.period.end, self.platforms)

    @property
    def previous(self) -> Filters:
        p = self.period.previous()
        return Filters((self.territory,), p.start, p.end, self.platforms)

    @property
    def with_peers(self) -> Filters:
        """The territory and its peers over the period."""
        return Filters((self.territory, *self.peers), self.period.start, self.period.end, self.platforms)

    def trailing(self, months: int = 12) -> Filters:
        """The territory over the ``months`` months ending with the period (trend charts)."""
        start = (pd.Timestamp(self.period.end) - pd.DateOffset(months=max(months, 1))).date()
        return Filters((self.territory,), min(start, self.period.start), self.period.end, self.platforms)


@dataclass(frozen=True)
class Section:
    """A report section: stable id, French title, builder, Jinja2 template, position."""

    id: str
    title: str
    build: Callable[[ReportContext], dict[str, Any] | None]
    template: str = "sections/generic.html.j2"
    order: int = 100


SECTIONS: list[Section] = []


def section(id: str, title: str, template: str = "sections/generic.html.j2",
            order: int = 100) -> Callable[[Callable[[ReportContext], dict | None]], Callable[[ReportContext], dict | None]]:
    """Decorator registering a builder as a section (re-registering an id replaces it)."""
    def deco(fn: Callable[[ReportContext], dict | None]) -> Callable[[ReportContext], dict | None]:
        register(Section(id, title, fn, template, order))
        return fn
    return deco


def register(s: Section) -> None:
    """Add or replace a section in :data:`SECTIONS`."""
    SECTIONS[:] = [x for x in SECTIONS if x.id != s.id] + [s]


def discover() -> list[str]:
    """Import the plug-in section modules: ``analysis/<x>_report.py`` and ``analysis/<pkg>/report.py``.

    Their ``@section`` decorators register them; the report core never lists them.
    """
    import importlib
    import os
    import pkgutil

    found = []
    for m in pkgutil.iter_modules(analysis.__path__):
        if m.name.endswith("_report"):
            found.append(f"analysis.{m.name}")
        elif m.ispkg and m.name not in ("reports", "cli"):  # cli/report.py is `vigie report`, no section
            # the package's folder is listed, not imported: importlib.util.find_spec imported every
            # package to look inside (the CLI, the demo generator…: 0,3 s of each first report)
            inside = pkgutil.iter_modules([os.path.join(m.module_finder.path, m.name)])
            if any(x.name == "report" for x in inside):
                found.append(f"analysis.{m.name}.report")
    for name in found:
        importlib.import_module(name)
    return found


def sections() -> list[Section]:
    """Registered sections (plug-ins discovered) in report order."""
    discover()
    return sorted(SECTIONS, key=lambda s: (s.order, s.id))


# ------------------------------------------------------------------------------ helpers
@dataclass
class Figure:
    """A static chart with its alternative text and the table of the data behind it: ``image`` is
    SVG (``mime`` image/svg+xml) for the charts, PNG for images made elsewhere (the word cloud)."""

    image: bytes
    alt: str
    caption: str
    table: dict[str, Any] | None = None
    mime: str = "image/png"

    def as_dict(self) -> dict[str, Any]:
        return {"src": f"data:{self.mime};base64," + base64.b64encode(self.image).decode("ascii"), "alt": self.alt,
                "caption": self.caption, "table": self.table}


def figure(chart: Any, alt: str, caption: str, data: dict[str, Any] | None = None) -> dict[str, Any]:
    """Render an Altair chart from :mod:`analysis.charts` to SVG (vl-convert, theme and French locale
    merged by :func:`analysis.charts.to_svg`) as a figure dict. Vector rather than a PNG at twice the
    size: sharp at any zoom, a quarter of the bytes, and a report built and printed ≈ 0,8 s faster
    (vl-convert skips rasterising; WeasyPrint draws the shapes instead of re-encoding large images)."""
    return Figure(charts.to_svg(chart).encode("utf-8"), alt, caption, data, mime="image/svg+xml").as_dict()


def image_figure(png: bytes, alt: str, caption: str, data: dict[str, Any] | None = None) -> dict[str, Any]:
    """A PNG produced elsewhere (e.g. a word cloud) as a figure dict."""
    return Figure(png, alt, caption, data).as_dict()


def _missing(v: Any) -> bool:
    return v is None or (isinstance(v, float) and math.isnan(v)) or v is pd.NA or v is pd.NaT


def table(df: pd.DataFrame, caption: str, columns: Mapping[str, str] | None = None,
          formats: Mapping[str, Callable[[Any], str]] | None = None, numeric: Sequence[str] = ()) -> dict[str, Any]:
    """A table for the template: French headers, values formatted (``formats`` per source column,
    else strings as they are), right-aligned numeric columns."""
    columns = dict(columns) if columns else {c: c for c in df.columns}
    formats = formats or {}
    rows = []
    for rec in df[list(columns)].to_dict(orient="records"):
        row = []
        for c in columns:
            v = rec[c]
            if c in formats:
                row.append(formats[c](v))
            elif _missing(v):
                row.append("—")
            elif isinstance(v, float):
                row.append(fr_num(v, 1))
            elif isinstance(v, int):
                row.append(fr_int(v))
            elif isinstance(v, (date, pd.Timestamp)):
                row.append(fr_date(v))
            else:
                row.append(str(v))
        rows.append(row)
    num = [c in numeric or c in formats or pd.api.types.is_numeric_dtype(df[c]) for c in columns]
    return {"caption": caption, "columns": list(columns.values()), "rows": rows, "numeric": num}


def frame_table(df: pd.DataFrame, caption: str) -> dict[str, Any]:
    """A table from an already French-formatted DataFrame (all cells strings)."""
    return table(df.astype(object).where(df.notna(), None), caption,
                 numeric=[c for c in df.columns if df[c].astype(str).str.match(NUMERIC_CELL).all()])


# a French-formatted number cell: sign, digits with NNBSP thousands, comma decimals, optional « % »
NUMERIC_CELL = r"^[−+\-]?[\d\u202f\u00a0 ,]+(\u00a0?%)?$|^—$"


def pct0(v: Any) -> str:
    return fr_pct(v, 0)


def pct1(v: Any) -> str:
    return fr_pct(v, 1)


def points_text(v: Any) -> str:
    """A net sentiment in [−1, 1] as signed points (:func:`analysis.metrics.points`)."""
    return "—" if _missing(v) else fr_signed(points(v), 0)


# ------------------------------------------------------------------------------ built-in sections
@section("ereputation", "E-réputation", order=10)
def ereputation_section(ctx: ReportContext) -> dict[str, Any] | None:
    """Monthly net sentiment with its interval, territory vs peers, negative spikes of the period."""

    trend = ereputation.sentiment_table(ctx.con, ctx.trailing(12), by=(), freq="month")
    if trend.empty or trend["messages"].sum() == 0:
        return None
    d = trend.assign(Mois=trend["period"], net=points(trend["net_sentiment"]), lo=points(trend["net_sentiment_lo"]),
                     hi=points(trend["net_sentiment_hi"]))
    ch = charts.line_with_band(d, "Mois", "net", "lo", "hi", title="Sentiment net par mois",
                               subtitle="Points de −100 à +100, bande : intervalle de confiance à 95 %",
                               y_title="Sentiment net (points)", y_format="+,.0f", x_format=charts.MONTH_FORMAT)
    cur = trend.iloc[-1]
    best, worst = d.loc[d["net"].idxmax()], d.loc[d["net"].idxmin()]
    alt = (f"Courbe du sentiment net mensuel de {ctx.name} sur {len(d)} mois, de {fr_month(d['Mois'].iloc[0])} à "
           f"{fr_month(d['Mois'].iloc[-1])} : le plus haut en {fr_month(best['Mois'])} ({points_text(best['net'] / 100)} "
           f"points), le plus bas en {fr_month(worst['Mois'])} ({points_text(worst['net'] / 100)} points) ; "
           f"{points_text(cur['net_sentiment'])} points sur le dernier mois.")
    data = table(d, "Données du graphique : sentiment net par mois",
                 {"Mois": "Mois", "messages": "Messages", "positive": "Positifs", "neutral": "Neutres",
                  "negative": "Négatifs", "net_sentiment": "Sentiment net (points)", "net_sentiment_lo": "Borne basse",
                  "net_sentiment_hi": "Borne haute"},
                 {"Mois": fr_month, "messages": fr_int, "positive": fr_int, "neutral": fr_int, "negative": fr_int,
                  "net_sentiment": points_text, "net_sentiment_lo": points_text, "net_sentiment_hi": points_text})
    out: dict[str, Any] = {
        "intro": ("Tonalité des messages reçus (commentaires, réponses, mentions, avis), hors réponses des comptes "
                  "officiels. Les messages non français ou pas encore analysés ne comptent dans aucune part."),
        "figures": [figure(ch, alt, "Sentiment net mensuel et son intervalle de confiance à 95 %", data)],
        "tables": [], "findings": [], "caveats": []}
    peers = ereputation.peer_comparison(ctx.con, ctx.filters)
    if len(peers):
        peers = peers.assign(diff=[
            "—" if _missing(d) else f"{points_text(d)} (de {points_text(lo)} à {points_text(hi)})"
            for d, lo, hi in zip(peers["diff_net_sentiment"], peers["diff_net_sentiment_lo"],
                                 peers["diff_net_sentiment_hi"], strict=True)])
        out["tables"].append(table(peers, f"{ctx.name} et les territoires comparés, {ctx.period.label}",
                                   {"name": "Territoire", "messages": "Messages", "net_sentiment": "Sentiment net (points)",
                                    "negative_share": "Part négative", "diff": "Écart de sentiment net (IC 95 %)"},
                                   {"messages": fr_int, "net_sentiment": points_text, "negative_share": pct1,
                                    "diff": str}))
        out["notes"] = ["Écart = notre territoire − la ligne, en points, avec son intervalle à 95 % (méthode de "
                        "Newcombe) : un écart dont l'intervalle contient zéro n'est pas une différence établie."]
    cur_k = ereputation.kpis(ctx.con, ctx.filters)
    if cur_k["non_french"] or cur_k["unscored"]:
        out["caveats"].append(f"E-réputation : {fr_count(cur_k['non_french'], 'message non français', 'messages non français')} et "
                              f"{fr_count(cur_k['unscored'], 'message non analysé', 'messages non analysés')} sont exclus des parts.")
    spikes = ereputation.detect_spikes(ctx.con, ctx.filters)
    if spikes:
        st = ereputation.spikes_table(spikes)
        out["findings"].append(f"{len(spikes)} pic{'s' if len(spikes) > 1 else ''} de messages négatifs "
                               f"détecté{'s' if len(spikes) > 1 else ''} sur la période.")
        out["tables"].append(table(st, "Pics de messages négatifs détectés sur la période",
                                   {"start": "Début", "end": "Fin", "peak": "Pic", "negative": "Messages négatifs",
                                    "expected": "Attendus", "share": "Part négative",
                                    "baseline_share": "Part habituelle"},
                                   {"start": fr_date, "end": fr_date, "peak": fr_date, "negative": fr_int,
                                    "expected": lambda v: fr_num(v, 0), "share": pct1, "baseline_share": pct1}))
    return out


@section("themes", "Thématiques", order=20)
def themes_section(ctx: ReportContext) -> dict[str, Any] | None:
    """The themes section model of :func:`analysis.topics.report_section` (findings, tables, word cloud)."""

    if not topics.themes_computed(ctx.con):
        return {"findings": [], "figures": [], "tables": [],
                "caveats": ["Thématiques : les thèmes n'ont pas été calculés (lancer `vigie enrich`)."]}
    s = topics.report_section(ctx.con, ctx.filters)
    figs = []
    for name, png in s.get("figures", {}).items():
        alt = s.get("alt", {}).get(name, name)
        figs.append(image_figure(png, alt, name))
    # The word list behind the cloud is in the alternative text; tables are already French strings,
    # except sentiment by theme, rebuilt from the same function in points like the rest of the report.
    tables = [frame_table(df, cap) for cap, df in s.get("tables", {}).items() if cap != "Sentiment par thème"]
    sent = s["sentiment"]  # topics.sentiment_by_theme(ctx.con, ctx.filters), read once
    if len(sent):
        tables.append(table(sent, "Sentiment par thème", {"label": "Thème", "n": "Messages",
                                                          "negative_share": "Part négative",
                                                          "net_sentiment": "Sentiment net (points)"},
                            {"n": fr_int, "negative_share": pct1, "net_sentiment": points_text}))
    return {"findings": s.get("findings", []), "figures": figs, "tables": tables}


@section("audience", "Audience", order=30)
def audience_section(ctx: ReportContext) -> dict[str, Any] | None:
    """Follower growth vs peers and who we do not reach compared with the population (audience.summary)."""

    s = audience.summary(ctx.con, ctx.territory, ctx.filters)
    g = s["growth"]
    if g.empty:
        return {"findings": [], "figures": [], "tables": [],
                "caveats": ["Audience : aucun export d'abonnés ne couvre la période."]}
    out: dict[str, Any] = {"findings": [], "figures": [], "tables": [], "caveats": []}
    allp = g[g["platform"] == "all"].copy()
    allp["Territoire"] = allp["name"].fillna(allp["territory_id"])
    ch = charts.bar(allp, "per_1000", "Territoire", title="Abonnés pour 1 000 habitants",
                    subtitle=f"Fin de période ({ctx.period.label}), toutes plateformes", x_title="Abonnés pour 1 000 habitants",
                    y_title="", value_format=",.0f")
    alt = "Abonnés pour 1 000 habitants en fin de période : " + " ; ".join(
        f"{r.Territoire} {fr_int(r.per_1000)}" for r in allp.sort_values("per_1000", ascending=False).itertuples()) + "."
    data = table(allp, "Données du graphique : croissance des abonnés par territoire",
                 {"Territoire": "Territoire", "followers_start": "Abonnés début", "followers_end": "Abonnés fin",
                  "net_new": "Nouveaux abonnés nets", "growth_rate": "Croissance", "per_1000": "Pour 1 000 habitants"},
                 {"followers_start": fr_int, "followers_end": fr_int, "net_new": lambda v: fr_signed(v, 0),
                  "growth_rate": lambda v: fr_pct(v, 1, signed=True), "per_1000": lambda v: fr_num(v, 0)})
    out["figures"].append(figure(ch, alt, "Abonnés pour 1 000 habitants, notre territoire et ses pairs", data))
    own = g[(g["territory_id"] == ctx.territory) & (g["platform"] != "all")]
    if len(own):
        out["tables"].append(table(own, f"Abonnés de {ctx.name} par plateforme",
                                   {"platform": "Plateforme", "followers_start": "Début", "followers_end": "Fin",
                                    "net_new": "Nets", "growth_rate": "Croissance", "cmgr": "Croissance mensuelle"},
                                   {"platform": platform_label, "followers_start": fr_int, "followers_end": fr_int,
                                    "net_new": lambda v: fr_signed(v, 0), "growth_rate": lambda v: fr_pct(v, 1, signed=True),
                                    "cmgr": lambda v: fr_pct(v, 2, signed=True)}))
    ur = s["under_reached"]
    if len(ur):
        col = "sentence" if "sentence" in ur.columns else None
        if col:
            out["findings"] += [str(x) for x in ur[ur["platform"] == "all"][col].head(4)] or \
                [str(x) for x in ur[col].head(4)]
    rep = s["representativeness"]
    rep = rep[(rep["platform"] == "all") & rep["kind"].isin(["age", "sex", "target"])] if len(rep) else rep
    if len(rep):
        out["tables"].append(table(rep, "Représentativité des abonnés par rapport à la population (13 ans et plus)",
                                   {"label": "Segment", "share_followers": "Part des abonnés",
                                    "share_population": "Part de la population", "index": "Indice"},
                                   {"share_followers": pct1, "share_population": pct1,
                                    "index": lambda v: fr_num(v, 2)}))
        out["notes"] = ["Indice = part du segment parmi les abonnés ÷ part dans la population ; 1 = aussi présent "
                        "que dans la population, moins de 1 = sous-représenté."]
    if len(s["lacking"]):
        out["caveats"].append(f"Audience : {fr_count(len(s['lacking']), 'compte')} sans répartition âge × sexe dans leurs "
                              "exports (exclus de la pyramide).")
    return out


@section("campaigns", "Campagnes et benchmark", order=40)
def campaigns_section(ctx: ReportContext) -> dict[str, Any] | None:
    """Campaigns of the period and the peer benchmark of :func:`analysis.campaigns.report_section`."""

    s = ctx.cache.get("campaigns") or campaigns.report_section(ctx.con, ctx.filters, ctx.visible)
    out: dict[str, Any] = {"findings": [], "figures": [], "tables": [], "caveats": []}
    for c in s["campaigns"]:
        what = "par rapport aux pairs" if c["vs_peers"] else "avant / après, sans pairs"
        out["findings"].append(f"Campagne « {c['name']} » ({fr_date(c['start'])} – {fr_date(c['end'])}"
                               f"{', en cours' if c['ongoing'] else ''}) : {c['verdict']} — effet sur l'engagement "
                               f"par publication {c['effect_fr']} ({what}). Lecture : {c['basis']}")
        out["caveats"] += [f"Campagne « {c['name']} » : {w}" for w in c["warnings"]]
    if s["ranking"]:
        r = pd.DataFrame(s["ranking"])
        ch = rank_chart(r, ctx.territory, value_title="Engagement pour 1 000 habitants",
                        title="Engagement pour 1 000 habitants et son intervalle à 95 %")
        alt = "Classement par engagement pour 1 000 habitants : " + " ; ".join(
            f"{x.name} {fr_num(x.value, 1)} (de {fr_num(x.low, 1)} à {fr_num(x.high, 1)})" for x in r.itertuples()) + "."
        data = table(r, "Données du graphique : classement avec incertitude",
                     {"name": "Territoire", "value": "Valeur", "low": "Borne basse", "high": "Borne haute",
                      "rank": "Rang", "rank_low": "Rang au mieux", "rank_high": "Rang au pire"},
                     {"value": lambda v: fr_num(v, 1), "low": lambda v: fr_num(v, 1), "high": lambda v: fr_num(v, 1),
                      "rank": fr_int, "rank_low": fr_int, "rank_high": fr_int})
        out["figures"].append(figure(ch, alt, "Classement des territoires comparés", data))
        if s["ranking_sentence"]:
            out["findings"].append(s["ranking_sentence"])
    if s["benchmark"]:
        b = pd.DataFrame(s["benchmark"])
        out["tables"].append(table(b, f"Benchmark, {ctx.period.label}",
                                   {"name": "Territoire", "posts": "Publications", "engagement_per_post": "Engagement / publication",
                                    "engagement_per_1000_inhabitants": "Engagement / 1 000 hab.",
                                    "sov_mentions": "Part de voix (mentions)", "net_sentiment": "Sentiment net (points)"},
                                   {"posts": fr_int, "engagement_per_post": lambda v: fr_num(v, 1),
                                    "engagement_per_1000_inhabitants": lambda v: fr_num(v, 1), "sov_mentions": pct1,
                                    "net_sentiment": points_text}))
        # Responsiveness is reported once, in the moderation section (questions and negative messages).
    if not (s["campaigns"] or s["benchmark"]):
        return None
    if not s["campaigns"]:
        out["findings"].insert(0, "Aucune campagne enregistrée ne recouvre la période.")
    return out


MAX_ALERTS = 8  # a council report lists the latest ones; the app has the full list


@section("moderation", "Modération et veille", order=50)
def moderation_section(ctx: ReportContext) -> dict[str, Any] | None:
    """Aggregates of :func:`analysis.views.moderation.report_section`: no message, no author, no page name."""

    s = report_section(ctx.con, ctx.filters)
    out: dict[str, Any] = {"findings": [], "figures": [], "tables": [], "caveats": []}
    q = s["queue"]
    labels = {"total": "Messages à traiter (total)", "hostile": "Hostiles ou injurieux",
              "negative_visible": "Négatifs très visibles", "unanswered_question": "Questions sans réponse"}
    note = overlap_note(q)  # the reasons overlap: said beside the table, as on the page
    out["tables"].append({"caption": "File de modération (messages en attente, par motif)" + (f". {note}" if note else ""),
                          "columns": ["Motif", "Messages"],
                          "rows": [[labels.get(k, k.replace("_", " ")), fr_int(v)] for k, v in q.items()],
                          "numeric": [False, True]})
    r = pd.DataFrame(s["responsiveness"])
    if len(r):
        r = r[r["slot"] == "all"].copy()
        r["Territoire"] = r["territory_id"].map(lambda t: ctx.names.get(t, t))
        out["tables"].append(table(r, "Réactivité aux messages appelant une réponse, par plateforme",
                                   {"Territoire": "Territoire", "platform": "Plateforme", "incoming": "Messages",
                                    "answered": "Réponses", "response_rate": "Taux de réponse",
                                    "median_hours": "Délai médian (h)"},
                                   {"platform": platform_label, "incoming": fr_int, "answered": fr_int,
                                    "response_rate": lambda v: fr_pct(v, 0, missing="non visible"),
                                    "median_hours": lambda v: fr_num(v, 1)}))
    every = pd.DataFrame(s["alerts"])
    a = every
    if len(every):
        # Every alert the rules detect on the period, as the home page and the Modération page count
        # them (an impersonating page first seen before the period still counts: it is live, and
        # critical); impersonation alerts name a page: counted here, described below, not listed.
        a = every[every["rule"] != "impersonation"]
    if len(every):
        crit = int((every["severity"] == "critique").sum())
        n_imp_alerts = int((every["rule"] == "impersonation").sum())
        imp_txt = (f" ({n_imp_alerts} pour usurpation d'identité, décrite{'s' if n_imp_alerts > 1 else ''} plus bas)"
                   if n_imp_alerts else "")
        out["findings"].append(f"{len(every)} alerte{'s' if len(every) > 1 else ''} sur la période, dont {crit} "
                               f"critique{'s' if crit > 1 else ''}{imp_txt}.")
    if len(a):
        # Alert titles quote theme ids (« sport_loisirs »): the reader gets the taxonomy label.
        labels = theme_labels()
        a = a.assign(title=[re.sub(r"« ([a-z_]+) »", lambda m: f"« {labels.get(m[1], m[1])} »", t) for t in a["title"]])
        shown = a.head(MAX_ALERTS)
        cap = "Alertes de la période" + (f" (les {MAX_ALERTS} plus récentes sur {len(a)} ; liste complète dans "
                                         "l'application)" if len(a) > MAX_ALERTS else "")
        out["tables"].append(table(shown, cap, {"period_start": "Début", "severity": "Gravité", "title": "Alerte"},
                                   {"period_start": fr_date}))
    n_imp = len(s["impersonation"])
    if n_imp:
        plats = sorted({platform_label(x["platform"]) for x in s["impersonation"]})
        out["findings"].append(f"{n_imp} page{'s' if n_imp > 1 else ''} susceptible{'s' if n_imp > 1 else ''} "
                               f"d'usurper l'identité du territoire ({', '.join(plats)}) : détail dans l'application, "
                               "page « Modération & veille ».")
    out["notes"] = list(s.get("alert_notes", []))
    return out


@section("coverage", "Couverture des données et limites", order=90)
def coverage_section(ctx: ReportContext) -> dict[str, Any]:
    """Posts and messages per platform and month (territory and peers), missing months, caveats."""

    f = Filters((ctx.territory, *ctx.peers), ctx.trailing(12).start, ctx.period.end, ctx.platforms)
    cov = queries.coverage(ctx.con, f)
    cov["platform"] = cov["platform"].map(platform_label)  # « Facebook », never the id (issue 22)
    gaps = queries.coverage_gaps(cov)
    out: dict[str, Any] = {"intro": ("Ce que contient la base pour le territoire et ses pairs sur les 12 mois "
                                     "qui se terminent avec la période. Un mois vide au milieu d'une série signale "
                                     "très probablement un export manquant, pas une absence d'activité."),
                           "findings": [], "figures": [], "tables": [], "caveats": []}
    if len(cov):
        ch = charts.coverage_heatmap(cov, ctx.names)
        own = cov[cov["territory_id"] == ctx.territory].groupby("platform")[["posts", "messages"]].sum()
        alt = (f"Grille de couverture par territoire, plateforme et mois ({fr_count(len(gaps), 'mois manquant', 'mois manquants')}). Pour "
               f"{ctx.name} : " + " ; ".join(f"{p} {fr_count(r.posts, 'publication')} et {fr_count(r.messages, 'message')}"
                                              for p, r in own.iterrows()) + ".")
        summ = queries.coverage_summary(cov)
        summ["Territoire"] = summ["Territoire"].map(lambda t: ctx.names.get(t, t))
        out["figures"].append(figure(ch, alt, "Couverture des données", frame_table(
            summ, "Données du graphique : couverture par territoire et plateforme")))
    in_period = gaps[(pd.to_datetime(gaps["month"]) >= pd.Timestamp(ctx.period.start))
                     & (pd.to_datetime(gaps["month"]) < pd.Timestamp(ctx.period.end))] if len(gaps) else gaps
    if len(gaps):
        g = gaps.assign(Territoire=gaps["territory_id"].map(lambda t: ctx.names.get(t, t)))
        out["tables"].append(table(g, "Mois sans données à l'intérieur de la période couverte (exports probablement "
                                      "manquants)", {"Territoire": "Territoire", "platform": "Plateforme",
                                                     "month": "Mois"}, {"month": fr_month}))
    if len(in_period):
        out["caveats"].append(f"{fr_count(len(in_period), 'combinaison')} territoire × plateforme sans aucune donnée pendant "
                              "la période : les comparaisons correspondantes sont incomplètes.")
    first = ctx.con.execute("SELECT min(created_at) FROM (SELECT created_at FROM posts WHERE territory_id = ? "
                            "UNION ALL SELECT created_at FROM messages WHERE territory_id = ?)",
                            [ctx.territory, ctx.territory]).fetchone()[0]
    prev = ctx.period.previous()
    if ctx.compare == "previous" and first is not None and pd.Timestamp(first) >= pd.Timestamp(prev.end):
        out["caveats"].append(f"La période de comparaison ({prev.label}) précède les premières données "
                              f"({fr_date(first)}) : aucune évolution n'est calculable.")
    elif ctx.compare == "previous" and first is not None and pd.Timestamp(first) > pd.Timestamp(prev.start):
        out["caveats"].append(f"La période de comparaison ({prev.label}) n'est couverte qu'à partir du "
                              f"{fr_date(first)} : les évolutions par rapport à elle sont à lire avec prudence.")
    own_plats = set(cov.loc[cov["territory_id"] == ctx.territory, "platform"]) if len(cov) else set()
    cur = cov[(cov["territory_id"] == ctx.territory) & (pd.to_datetime(cov["month"]) >= pd.Timestamp(ctx.period.start))
              & (pd.to_datetime(cov["month"]) < pd.Timestamp(ctx.period.end))] if len(cov) else cov
    missing = sorted(own_plats - set(cur["platform"]))
    if missing:
        out["caveats"].append(f"Plateformes sans données pour {ctx.name} sur la période : {', '.join(missing)}.")
    return out
