"""Read models of the Thématiques page: French frames, titles, alt texts and charts built from the
results of :mod:`analysis.topics` (the page fetches those through ``data.call``; nothing here reads the store)."""

from __future__ import annotations

from typing import Any

import pandas as pd

from analysis import charts
from analysis.charts import ChartView
from analysis.charts import thematiques as theme_charts
from analysis.fmt import fr_date, fr_int, fr_num, fr_pct, fr_plural
from analysis.metrics import points
from analysis.privacy import ANALYST_ROLES, ELU_MESSAGES_PER_BLOCK, messages_for_role
from analysis.schema import PLATFORM_LABELS
from analysis.topics.emerging import when_fr

TONES = {"": "Tous les tons", "negative": "Négatif", "neutral": "Neutre", "positive": "Positif"}
# Below this gap between the share of a theme in the conversation and in our posts, the two profiles are alike.
GAP_RULE = 0.03
SITUATION_NOTE = ("Situation : « Nous en parlons, peu d'écho » = thème plus présent dans nos publications que "
                  "dans la conversation et engagement par publication sous la médiane des thèmes ; « Le public "
                  "en parle, nous peu » = thème au moins 1,5 fois plus présent dans la conversation.")


def shares_view(total: pd.DataFrame, monthly: pd.DataFrame) -> tuple[pd.Series, ChartView]:
    """The first theme and the monthly shares of the 6 first themes."""
    total = total.sort_values("share", ascending=False)
    top = total.iloc[0]
    m = monthly[monthly["theme"].isin(total.head(6)["theme"])].rename(
        columns={"label": "Thème", "period": "Mois", "share": "Part des messages"})
    ch = charts.line_with_band(m, "Mois", "Part des messages", color="Thème",
                               title=f"« {top['label']} » porte la conversation : {fr_pct(top['share'])} des messages",
                               subtitle="Part mensuelle des messages publics par thème (6 premiers thèmes)",
                               y_title="Part des messages", y_format=".0%", x_format=charts.MONTH_FORMAT)
    alt_text = ("Part des messages par thème sur la période : " + " ; ".join(
        f"{r.label} {fr_pct(r.share)}" for r in total.head(6).itertuples()) + ".")
    table = m[["Mois", "Thème", "n_items", "n_total", "Part des messages"]].rename(
        columns={"n_items": "Messages du thème", "n_total": "Messages du mois"})
    return top, ChartView(ch, table, alt_text, {"Mois": "month", "Part des messages": "pct"})


def by_territory_table(by_terr: pd.DataFrame, names: dict[str, str]) -> pd.DataFrame | None:
    """Share of each theme per territory (None with a single territory)."""
    if by_terr["territory_id"].nunique() <= 1:
        return None
    pv = by_terr.assign(Territoire=by_terr["territory_id"].map(lambda t: names.get(t, t))).pivot_table(
        index="label", columns="Territoire", values="share", aggfunc="sum").reset_index()
    return pv.rename(columns={"label": "Thème"}).sort_values(pv.columns[1], ascending=False)


def posts_vs_conversation_view(pvc: pd.DataFrame) -> ChartView:
    """Our posts' themes against the conversation's, titled by the widest gap (≥ :data:`GAP_RULE`)."""
    gap = (pvc["message_share"] - pvc["post_share"]).fillna(0)
    silent, loud = pvc.loc[gap.idxmax()], pvc.loc[gap.idxmin()]
    if gap.max() >= GAP_RULE:
        title = (f"Le public parle de « {silent['label']} » ({fr_pct(silent['message_share'])} des messages), "
                 f"nous moins ({fr_pct(silent['post_share'])} de nos publications)")
    elif -gap.min() >= GAP_RULE:
        title = (f"Nos publications insistent sur « {loud['label']} » ({fr_pct(loud['post_share'])}) "
                 f"plus que le public ({fr_pct(loud['message_share'])} des messages)")
    else:
        title = (f"Nos publications suivent les sujets de la conversation (écarts de moins de "
                 f"{fr_num(points(GAP_RULE), 0)} points)")
    long = pd.concat([
        pd.DataFrame({"Thème": pvc["label"], "Source": theme_charts.OURS, "Part": pvc["post_share"]}),
        pd.DataFrame({"Thème": pvc["label"], "Source": theme_charts.PUBLIC, "Part": pvc["message_share"]}),
    ])
    order = pvc.sort_values("message_share", ascending=False)["label"].tolist()
    alt_text = (f"Écart le plus fort côté public : {silent['label']} ({fr_pct(silent['message_share'])} des "
                f"messages contre {fr_pct(silent['post_share'])} de nos publications). Côté publications : "
                f"{loud['label']} ({fr_pct(loud['post_share'])} de nos publications contre "
                f"{fr_pct(loud['message_share'])} des messages).")
    show = pd.DataFrame({
        "Thème": pvc["label"], "Nos publications": pvc["posts"], "Part de nos publications": pvc["post_share"],
        "Messages publics": pvc["messages"], "Part des messages": pvc["message_share"],
        "Engagement moyen par publication": pvc["engagement_per_post"], "Situation": pvc["situation"]})
    return ChartView(theme_charts.posts_vs_conversation(long, order, title), show, alt_text,
                     {"Part de nos publications": "pct", "Part des messages": "pct",
                      "Engagement moyen par publication": "num"})


def no_emerging(start: Any, end: Any) -> str:
    return (f"Aucun sujet ne sort de son niveau habituel {fr_date(start)} – {fr_date(end)} "
            "(au moins 5 messages par jour et un écart z ≥ 4 à la normale des 28 jours précédents).")


def emerging_headline(s0: dict, esc: Any) -> str:
    return (f"**« {esc(s0['label'])} » a brusquement monté {when_fr(s0['start'], s0['end'], s0['episodes'])}** "
            f"({fr_int(s0['count'])} messages, pic le {fr_date(s0['peak'])}, contre "
            f"{fr_num(s0['baseline'])} {fr_plural(s0['baseline'], 'message')} par jour d'habitude).")


EMERGING_FORMATS = {"Niveau habituel (msg/jour)": "num", "Écart à la normale (z)": "num"}


def emerging_table(subjects: list[dict]) -> pd.DataFrame:
    return pd.DataFrame({
        "Sujet": [s["label"] for s in subjects], "Hashtags": [", ".join(s["hashtags"]) for s in subjects],
        "Du": [fr_date(s["start"]) for s in subjects], "Au": [fr_date(s["end"]) for s in subjects],
        "Épisodes": [s["episodes"] for s in subjects],  # separate bursts between these dates
        "Pic": [fr_date(s["peak"]) for s in subjects], "Messages": [s["count"] for s in subjects],
        "Niveau habituel (msg/jour)": [s["baseline"] for s in subjects],
        "Écart à la normale (z)": [s["max_z"] for s in subjects]})


def emerging_messages(s: dict, role: str, esc: Any) -> tuple[str, pd.DataFrame | None]:
    """An emerging subject's expander label and its messages (an élu reads a few, not a list; no author)."""
    what = "Messages" if role in ANALYST_ROLES else f"Exemples de messages (au plus {ELU_MESSAGES_PER_BLOCK})"
    label = f"{what} : {esc(s['label'])} ({fr_date(s['start'])} – {fr_date(s['end'])})"
    msgs = messages_for_role(pd.DataFrame(s["messages"]), role)
    if not len(msgs):
        return label, None
    return label, pd.DataFrame({"Date": msgs["created_at"].map(fr_date),
                                "Plateforme": msgs["platform"].map(lambda p: PLATFORM_LABELS.get(p, p)),
                                "Message": msgs["text"]})


def complaints_view(sent: pd.DataFrame) -> ChartView:
    """Share of negative messages per theme, titled by the worst."""
    worst = sent.iloc[0]
    chart_df = sent.rename(columns={"label": "Thème", "negative_share": "Part de messages négatifs",
                                    "n": "Messages", "net_sentiment": "Sentiment net"})
    ch = charts.bar(chart_df, "Part de messages négatifs", "Thème",
                    title=f"« {worst['label']} » concentre la colère : {fr_pct(worst['negative_share'])} de messages "
                          "négatifs",
                    subtitle="Part des messages négatifs par thème (messages publics avec sentiment)",
                    x_title="Part de messages négatifs", value_format=".0%")
    alt_text = "Part de messages négatifs par thème : " + " ; ".join(
        f"{r.label} {fr_pct(r.negative_share)}" for r in sent.itertuples()) + "."
    return ChartView(ch, chart_df[["Thème", "Messages", "Part de messages négatifs", "Sentiment net"]], alt_text,
                     {"Part de messages négatifs": "pct", "Sentiment net": "num"})


def cloud_texts(cloud: dict, esc: Any) -> tuple[str, str, pd.DataFrame]:
    """The word cloud's alt text, its caption (15 most frequent words) and its data table."""
    words = list(cloud["frequencies"].items())
    alt_text = f"Nuage de mots, {cloud['title']} : " + ", ".join(w for w, _ in words[:15]) + "."
    caption = ("Mots les plus fréquents : " + ", ".join(f"{esc(w)} ({fr_int(n)})" for w, n in words[:15]) + "."
               + (f" Comptés sur un échantillon de {fr_int(cloud['n_messages'])} messages répartis sur la "
                  "période." if cloud.get("sampled") else ""))
    return alt_text, caption, pd.DataFrame(words[:50], columns=["Mot", "Messages"])
