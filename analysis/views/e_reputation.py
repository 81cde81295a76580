"""Read models of the E-réputation page: French frames, titles, alt texts and charts built from the
results of :mod:`analysis.ereputation` (the page fetches those through ``data.call`` and lays out
what these functions return; nothing here touches the store)."""

from __future__ import annotations

from collections.abc import Sequence
from typing import Any

import pandas as pd

from analysis.charts import ChartView
from analysis.charts import e_reputation as charts
from analysis.ereputation import METRIC_LABELS, NEGATIVE_SPIKE, Spike, spike_rule_text
from analysis.fmt import (
    fr_count,
    fr_date,
    fr_datetime,
    fr_int,
    fr_month,
    fr_num,
    fr_pct,
    fr_period_end_included,
    fr_signed,
)
from analysis.metrics import points
from analysis.privacy import messages_for_role
from analysis.schema import PLATFORM_LABELS

FREQ_LABELS = {"day": "Jour", "week": "Semaine", "month": "Mois"}
SENTIMENT_FR = {"positive": "positif", "neutral": "neutre", "negative": "négatif"}
ANALYST = ("analyste", "admin")
RATES = ("net_sentiment", "net_sentiment_all", "negative_share")
SPIKE_CAPTION = spike_rule_text(NEGATIVE_SPIKE)
PEER_TABLE_NOTE = ("« référence » : notre territoire, à qui les pairs sont comparés (pas d'écart avec lui-même) ; "
                   "« n.d. » : non disponible, trop peu de messages évalués pour calculer un sentiment net.")


def ci_text(m: str, lo: float | None, hi: float | None) -> str:
    """A 95 % interval in French: a share in %, a net sentiment in points."""
    if lo is None or pd.isna(lo):
        return "non calculable"
    if m == "negative_share":
        return f"{fr_pct(lo)} à {fr_pct(hi)}"
    return f"{fr_signed(points(lo))} à {fr_signed(points(hi))} points"


def change_help(frame: pd.DataFrame | None, m: str, what: str) -> str:
    """The tooltip of a change (vs before, vs peers): value, interval, significance."""
    if frame is None or m not in frame.index or pd.isna(frame.loc[m, "change"]):
        return f"{what} : non calculable."
    r = frame.loc[m]
    sig = "écart significatif" if r["significant"] else "écart non significatif (l'intervalle contient 0)"
    return (f"{what} : {fr_signed(points(r['change']))} points, IC 95 % {fr_signed(points(r['change_lo']))} à "
            f"{fr_signed(points(r['change_hi']))} ({sig}).")


def kpi_cards(k: dict[str, Any], prev: pd.DataFrame, peers: pd.DataFrame | None) -> list[dict[str, Any]]:
    """The four headline figures (arguments of ``ui.kpi``)."""
    rel = prev.loc["messages", "change"]
    cards = [dict(label=METRIC_LABELS["messages"], value=fr_int(k["messages"]),
                  delta=None if pd.isna(rel) else 100 * rel, decimals=0, unit="%",
                  help=f"Messages des internautes (hors réponses officielles). Évolution vs période précédente : "
                       f"{fr_pct(rel, signed=True)}. Évalués : {fr_int(k['scored'])} ; hors français : "
                       f"{fr_int(k['non_french'])} ; non évalués : {fr_int(k['unscored'])}.")]
    for m in RATES:
        v = k[m]
        # A share reads as "30,0 %" but its change is in percentage points.
        shown = fr_pct(v) if m == "negative_share" else fr_signed(points(v), 1, "pts")
        cards.append(dict(label=METRIC_LABELS[m], value=shown, delta=points(prev.loc[m, "change"]), unit="pts",
                          decimals=1,
                          inverse=m == "negative_share",
                          help=f"IC 95 % : {ci_text(m, k[m + '_lo'], k[m + '_hi'])}. "
                               + change_help(prev, m, "Vs période précédente") + " "
                               + change_help(peers, m, "Vs pairs (même période)")))
    return cards


def peer_gap_cards(peers: pd.DataFrame) -> list[dict[str, Any]]:
    """« Écart aux pairs » figures (nous − pairs), one per rate."""
    out = []
    for m in RATES:
        r = peers.loc[m]
        gap = None if pd.isna(r["change"]) else fr_signed(points(r["change"]), 1, "pts")
        ref = fr_pct(r["reference"]) if m == "negative_share" else fr_signed(points(r["reference"]), 1, "pts")
        verdict = ("significatif" if r["significant"] else "non significatif") if gap else None
        out.append(dict(label=f"Écart : {METRIC_LABELS[m].lower()}", value=gap or "n.d.",
                        delta=f"pairs : {ref}" + (f" · {verdict}" if verdict else ""),
                        help="Écart = nous − ensemble des pairs. " + change_help(peers, m, "Écart")))
    return out


def counts_caption(k: dict[str, Any]) -> str:
    return (f"{fr_int(k['scored'])} messages évalués, {fr_int(k['non_french'])} hors français (non évalués, "
            f"exclus des parts), {fr_int(k['unscored'])} pas encore évalués (`vigie enrich`). Les écarts sont "
            "en points ; un écart n'est significatif que si son intervalle (info-bulle) exclut 0.")


def trend_view(tr: pd.DataFrame, spikes: Sequence[Spike], k: dict[str, Any], prev: pd.DataFrame, freq: str,
               focus_name: str, period_text: str) -> ChartView | None:
    """Net sentiment per period of the focus and its peers, spikes shaded; None when nothing is scored."""
    plot = tr[tr["scored"] > 0].copy()
    plot["Série"] = plot["series"].map({"focus": focus_name, "peers": charts.PEERS_LABEL})
    for c, src in (("net", "net_sentiment"), ("net_lo", "net_sentiment_lo"), ("net_hi", "net_sentiment_hi")):
        plot[c] = points(plot[src])
    own = plot[plot["series"] == "focus"]
    if own.empty:
        return None
    first, last, low = own.iloc[0], own.iloc[-1], own.loc[own["net"].idxmin()]
    ch = prev.loc["net_sentiment"]
    if pd.isna(ch["change"]):
        trend_word = ""
    elif ch["significant"]:
        trend_word = (f", {'en hausse' if ch['change'] > 0 else 'en baisse'} de "
                      f"{fr_num(abs(points(ch['change'])), 1)}\u00a0pts")
    else:
        trend_word = ", stable"
    when = "en " + fr_month(low["period"], long=True) if freq == "month" else "le " + fr_date(low["period"])
    title = (f"Sentiment net {fr_signed(points(k['net_sentiment']), 1)}\u00a0pts{trend_word} ; au plus bas "
             f"{when} ({fr_signed(low['net'], 0)})")
    sp = pd.DataFrame([{"start": pd.Timestamp(s.start), "end": pd.Timestamp(s.end) + pd.Timedelta(days=1),
                        "label": f"Pic négatif {fr_date(s.start)} – {fr_date(s.end)}"} for s in spikes],
                      columns=["start", "end", "label"])
    spike_text = (" Pics négatifs : " + "; ".join(fr_period_end_included(s.start, s.end) for s in spikes) + "."
                  if spikes else " Aucun pic négatif détecté.")
    alt_text = (f"Courbe du sentiment net par {FREQ_LABELS[freq].lower()} de {focus_name}"
                f"{' et des pairs' if (plot['series'] == 'peers').any() else ''} {period_text}, avec son "
                f"intervalle de confiance : de {fr_signed(first['net'], 1)} à {fr_signed(last['net'], 1)} points, "
                f"minimum {fr_signed(low['net'], 1)} le {fr_date(low['period'])}.{spike_text}")
    table = pd.DataFrame({
        "Série": plot["Série"], "Période": plot["period"].map(fr_date), "Messages évalués": plot["scored"],
        "Sentiment net (pts)": plot["net"].round(1), "IC bas": plot["net_lo"].round(1),
        "IC haut": plot["net_hi"].round(1), "Part négative": plot["negative_share"],
        "Hors français": plot["non_french"]})
    return ChartView(charts.trend(plot, sp, focus_name, title, freq, NEGATIVE_SPIKE.baseline_weeks), table, alt_text,
                     {"Part négative": "pct", "Sentiment net (pts)": "num", "IC bas": "num", "IC haut": "num"})


def spike_view(series: pd.DataFrame, spikes: Sequence[Spike], focus_name: str, period_text: str) -> ChartView | None:
    """Negative messages per week against their usual level; None without enough history."""
    if series.empty or not series["expected"].notna().any():
        return None
    weeks = NEGATIVE_SPIKE.baseline_weeks
    s_plot = series.groupby("period", as_index=False).agg(negative=("negative", "sum"), expected=("expected", "sum"),
                                                          anomalous=("anomalous", "max"))
    s_plot["Semaine du"] = s_plot["period"].map(fr_date)
    n = len(spikes)
    if spikes:
        top = max(spikes, key=lambda s: s.negative)
        title = (f"{n} pic{'s' if n > 1 else ''} négatif{'s' if n > 1 else ''} : {fr_int(top.negative)} messages "
                 f"négatifs {fr_period_end_included(top.start, top.end)} pour {fr_int(round(top.expected))} attendus")
    else:
        title = "Aucun pic de messages négatifs sur la période"
    alt_text = (f"Messages négatifs par semaine pour {focus_name} {period_text}, comparés au niveau habituel des "
                f"{weeks} semaines précédentes. " + (f"{fr_count(n, 'pic')} : " + "; ".join(
                    f"{fr_period_end_included(s.start, s.end)}, {fr_int(s.negative)} négatifs pour "
                    f"{fr_int(round(s.expected))} attendus" for s in spikes) + "." if spikes else "Aucune semaine anormale."))
    table = pd.DataFrame({"Semaine du": s_plot["Semaine du"], "Messages négatifs": s_plot["negative"],
                          "Niveau habituel": s_plot["expected"].round(1),
                          "Anormal": s_plot["anomalous"].map({True: "oui", False: "non"})})
    return ChartView(charts.negative_weeks(s_plot, title, weeks), table, alt_text, {"Niveau habituel": "num"})


NO_HISTORY = (f"Pas assez d'historique ({NEGATIVE_SPIKE.min_support} semaines au moins avant la période) pour "
              "établir un niveau habituel.")


def spike_heading(s: Spike) -> str:
    return (f"Pic {fr_period_end_included(s.start, s.end)} — {fr_int(s.negative)} messages négatifs "
            f"({fr_pct(s.share, 0)} des messages évalués, habituellement {fr_pct(s.baseline_share, 0)})")


def spike_explanations(s: Spike, esc: Any) -> list[str]:
    """The markdown lines explaining a spike (its terms, its themes); ``esc`` escapes user text."""
    out = []
    terms = s.details.get("terms")
    if terms is not None and len(terms):
        out.append(f"**Termes dominants** (sur-représentés par rapport aux {NEGATIVE_SPIKE.baseline_weeks} semaines "
                   "précédentes) : " + ", ".join(f"« {esc(t)} »" for t in terms["term"]))
    themes = s.details.get("themes")
    if themes is not None and len(themes):
        out.append("**Thèmes** des messages négatifs : " + ", ".join(
            f"{esc(r.label)} ({fr_pct(r.spike_share, 0)}, habituellement {fr_pct(r.baseline_share, 0)})"
            for r in themes.head(4).itertuples()))
    return out


def spike_message_tables(s: Spike, role: str) -> list[tuple[str, pd.DataFrame]]:
    """The messages behind a spike (most negative, most engaged) as French tables; ids for analysts,
    no author ever (``messages_for_role``)."""
    out = []
    for key, label in (("most_negative", "Les plus négatifs"), ("most_engaged", "Les plus repris (j'aime + réponses)")):
        msgs = s.details.get(key)
        if msgs is None or msgs.empty:
            continue
        show = pd.DataFrame({"Date": msgs["local_at"].map(fr_datetime),
                             "Plateforme": msgs["platform"].map(lambda p: PLATFORM_LABELS.get(p, p)),
                             "Message": msgs["text"].fillna(""),
                             # text, so that a count the export lacks reads "—", not "None" or 0
                             "J'aime": msgs["likes"].map(fr_int), "Réponses": msgs["replies"].map(fr_int)})
        if role in ANALYST:
            show["Id"] = msgs["message_id"]
        out.append((label, messages_for_role(show, role)))
    return out


def representative_lines(rep: pd.DataFrame, role: str, esc: Any) -> list[str]:
    """Each representative message as markdown (text and meta escaped: the markdown allows <small>)."""
    out = []
    for r in rep.itertuples():
        meta = esc(f"{fr_date(r.local_at)} · {PLATFORM_LABELS.get(r.platform, r.platform)} · "
                   f"{fr_int(r.engagement)} j'aime et réponses"
                   + (" · corrigé par un analyste" if r.corrected else f" · confiance {fr_pct(r.confidence, 0)}")
                   + (f" · {r.message_id}" if role in ANALYST else ""))
        out.append(f"> {esc(str(r.text)[:400])}\n\n<small>{meta}</small>")
    return out


def _gap(v: Any, role: str) -> str:
    if role == "focus":
        return "référence"
    return "n.d." if v is None or pd.isna(v) else fr_signed(points(v), 1)


def peer_table(pc: pd.DataFrame) -> pd.DataFrame:
    """Each peer vs us: messages, net sentiment and its interval, negative share, the gap (nous − eux).
    Never « None »: « référence » on our row, « n.d. » where a figure cannot be computed."""
    diff = pd.to_numeric(pc["diff_net_sentiment"], errors="coerce")
    return pd.DataFrame({
        "Territoire": pc["name"], "Messages": pc["messages"], "Évalués": pc["scored"],
        "Sentiment net (pts)": [fr_signed(points(v), 1) for v in pc["net_sentiment"]],
        "IC 95 %": [ci_text("net_sentiment", lo, hi) for lo, hi in zip(pc["net_sentiment_lo"], pc["net_sentiment_hi"],
                                                                       strict=True)],
        "Part négative": pc["negative_share"],
        "Écart de sentiment net (nous − eux, pts)": [_gap(v, r) for v, r in zip(diff, pc["role"], strict=True)],
        "IC de l'écart": ["référence" if r == "focus" else ci_text("net_sentiment", lo, hi)
                          for lo, hi, r in zip(pc["diff_net_sentiment_lo"], pc["diff_net_sentiment_hi"], pc["role"],
                                               strict=True)],
    })


def platform_table(bp: pd.DataFrame) -> pd.DataFrame:
    return pd.DataFrame({
        "Plateforme": bp["platform"].map(lambda p: PLATFORM_LABELS.get(p, p)), "Messages": bp["messages"],
        "Évalués": bp["scored"], "Hors français": bp["non_french"],
        "Sentiment net (pts)": [fr_signed(points(v), 1) for v in bp["net_sentiment"]],
        "IC 95 %": [ci_text("net_sentiment", lo, hi) for lo, hi in zip(bp["net_sentiment_lo"], bp["net_sentiment_hi"],
                                                                       strict=True)],
        "Part négative": bp["negative_share"]})


def review_label(by_id: pd.DataFrame, i: str) -> str:
    """A message proposed for correction: model label, confidence, start of its text."""
    return (f"[{SENTIMENT_FR.get(by_id.at[i, 'sentiment'], '?')}, {fr_pct(by_id.at[i, 'confidence'], 0)}] "
            f"{str(by_id.at[i, 'text'])[:90]}")
