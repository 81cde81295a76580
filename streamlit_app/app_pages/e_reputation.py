"""Page « E-réputation » : how people feel about the territory, what went wrong, vs before and vs peers."""

from __future__ import annotations

import altair as alt
import duckdb
import pandas as pd
import streamlit as st

import analysis.ereputation
from analysis import charts
from analysis.ereputation import METRIC_LABELS, auto_freq
from analysis.eval.figures import reliability_note
from analysis.exports import escape_markdown as esc
from analysis.fmt import (
    fr_count,
    fr_date,
    fr_datetime,
    fr_int,
    fr_month,
    fr_num,
    fr_pct,
    fr_period_end_excluded,
    fr_period_end_included,
    fr_signed,
)
from analysis.metrics import points
from analysis.privacy import messages_for_role
from streamlit_app import data, ui

ANALYST = ("analyste", "admin")
FREQ_LABELS = {"day": "Jour", "week": "Semaine", "month": "Mois"}
SENTIMENT_FR = {"positive": "positif", "neutral": "neutre", "negative": "négatif"}
SPIKE_COLOUR = charts.PALETTE[3]  # vermillion: the spike, distinct from the blue trend

st.title("E-réputation")
st.caption("Ce que les gens écrivent au territoire et sur lui, et sur quel ton. **Sentiment net** = "
           "(positifs − négatifs) ÷ (positifs + négatifs), de −100 à +100 points ; la variante « avec "
           "neutres » divise par tous les messages évalués. Les messages hors français ne sont pas évalués "
           "et sont comptés à part ; les corrections des analystes remplacent l'étiquette du modèle. "
           "Les fourchettes sont des intervalles de confiance à 95 %. " + reliability_note("sentiment"))

data.require_store()
f = ui.filters()
role = ui.role()
names = data.territory_names()
focus = data.call(analysis.ereputation.focus, f)
if not focus:
    ui.empty_state("Aucun territoire à analyser : choisissez-en un dans les filtres.")
    st.stop()
focus_name = ", ".join(names.get(t, t) for t in focus)
period_text = (f"{fr_period_end_excluded(f.start, f.end)}" if f.start and f.end else "")

k = data.call(analysis.ereputation.focus_kpis, f)
if not k["messages"]:
    ui.empty_state(f"Aucun message reçu pour {esc(focus_name)} {period_text} : élargissez la période ou les plateformes.")
    st.stop()
prev = data.call(analysis.ereputation.focus_change, f).set_index("metric")
peers = data.call(analysis.ereputation.vs_peers, f)
peers = peers.set_index("metric") if len(peers) else None


def ci_text(m: str, lo: float | None, hi: float | None) -> str:
    if lo is None or pd.isna(lo):
        return "non calculable"
    if m == "negative_share":
        return f"{fr_pct(lo)} à {fr_pct(hi)}"
    return f"{fr_signed(points(lo))} à {fr_signed(points(hi))} points"


def change_help(frame: pd.DataFrame | None, m: str, what: str) -> str:
    if frame is None or m not in frame.index or pd.isna(frame.loc[m, "change"]):
        return f"{what} : non calculable."
    r = frame.loc[m]
    scale = 100
    sig = ("écart significatif" if r["significant"] else "écart non significatif (l'intervalle contient 0)")
    return (f"{what} : {fr_signed(scale * r['change'])} points, IC 95 % {fr_signed(scale * r['change_lo'])} à "
            f"{fr_signed(scale * r['change_hi'])} ({sig}).")


# ------------------------------------------------------------------------------ KPIs
st.header(f"{esc(focus_name)} {period_text}")
cols = st.columns(4)
with cols[0]:
    rel = prev.loc["messages", "change"]
    ui.kpi(METRIC_LABELS["messages"], fr_int(k["messages"]), None if pd.isna(rel) else 100 * rel, decimals=0,
           unit="%",
           help=f"Messages des internautes (hors réponses officielles). Évolution vs période précédente : "
                f"{fr_pct(rel, signed=True)}. Évalués : {fr_int(k['scored'])} ; hors français : "
                f"{fr_int(k['non_french'])} ; non évalués : {fr_int(k['unscored'])}.")
for col, m in zip(cols[1:], ("net_sentiment", "net_sentiment_all", "negative_share"), strict=True):
    with col:
        v = k[m]
        # A share reads as "30,0 %" but its change is in percentage points: value passed as text.
        shown = fr_pct(v) if m == "negative_share" else ("—" if v is None else points(v))
        delta = prev.loc[m, "change"]
        ui.kpi(METRIC_LABELS[m], shown, points(delta), decimals=1, unit="pts",
               inverse=(m == "negative_share"),
               help=f"IC 95 % : {ci_text(m, k[m + '_lo'], k[m + '_hi'])}. "
                    + change_help(prev, m, "Vs période précédente") + " "
                    + change_help(peers, m, "Vs pairs (même période)"))

if peers is not None:
    cols = st.columns(4)
    with cols[0]:
        st.markdown("**Écart aux pairs** (nous − pairs)  \nmême période, mêmes plateformes")
    for col, m in zip(cols[1:], ("net_sentiment", "net_sentiment_all", "negative_share"), strict=True):
        with col:
            r = peers.loc[m]
            gap = None if pd.isna(r["change"]) else fr_signed(points(r["change"]), 1, "pts")
            ref = r["reference"]
            ref_text = fr_pct(ref) if m == "negative_share" else f"{fr_signed(points(ref), 1)}\u00a0pts"
            verdict = ("significatif" if r["significant"] else "non significatif") if gap else None
            ui.kpi(f"Écart : {METRIC_LABELS[m].lower()}", gap or "—",
                   f"pairs : {ref_text}" + (f" · {verdict}" if verdict else ""),
                   help="Écart = nous − ensemble des pairs. " + change_help(peers, m, "Écart"))
st.caption(f"{fr_int(k['scored'])} messages évalués, {fr_int(k['non_french'])} hors français (non évalués, "
           f"exclus des parts), {fr_int(k['unscored'])} pas encore évalués (`vigie enrich`). Les écarts sont "
           "en points ; un écart n'est significatif que si son intervalle (info-bulle) exclut 0.")

# ------------------------------------------------------------------------------ trend
st.header("Tendance")
freq_default = auto_freq(f)
freq = st.radio("Granularité", list(FREQ_LABELS), index=list(FREQ_LABELS).index(freq_default),
                format_func=FREQ_LABELS.get, horizontal=True, key="ereputation_freq")
tr = data.call(analysis.ereputation.trend, f, freq=freq)
spikes = data.call(analysis.ereputation.explained_spikes, f)
series_names = {"focus": focus_name, "peers": "Pairs (ensemble)"}
plot = tr[tr["scored"] > 0].copy()
plot["Série"] = plot["series"].map(series_names)
plot["net"] = points(plot["net_sentiment"])
plot["net_lo"] = points(plot["net_sentiment_lo"])
plot["net_hi"] = points(plot["net_sentiment_hi"])
own_plot = plot[plot["series"] == "focus"]
if own_plot.empty:
    ui.empty_state("Aucun message évalué sur la période : lancez `vigie enrich` ou élargissez les filtres.")
else:
    first, last = own_plot.iloc[0], own_plot.iloc[-1]
    low = own_plot.loc[own_plot["net"].idxmin()]
    # The finding: the period's level and its change when significant, then the low point.
    ch = prev.loc["net_sentiment"]
    if pd.isna(ch["change"]):
        trend_word = ""
    elif ch["significant"]:
        trend_word = (f", {'en hausse' if ch['change'] > 0 else 'en baisse'} de "
                      f"{fr_num(abs(points(ch['change'])), 1)}\u00a0pts")
    else:
        trend_word = ", stable"
    title = (f"Sentiment net {fr_signed(points(k['net_sentiment']), 1)}\u00a0pts{trend_word} ; au plus bas "
             f"{'en ' + fr_month(low['period'], long=True) if freq == 'month' else 'le ' + fr_date(low['period'])} "
             f"({fr_signed(low['net'], 0)})")
    x_format = charts.MONTH_FORMAT if freq == "month" else charts.DAY_FORMAT
    line = charts.line_with_band(plot, "period", "net", "net_lo", "net_hi", color="Série",
                                 colours={focus_name: charts.OWN_COLOUR, "Pairs (ensemble)": charts.PALETTE[1]},
                                 x_title="", y_title="Sentiment net (points)", color_title="Série",
                                 y_format=",.0f", x_format=x_format)
    layers = [line]
    if spikes:
        sp = pd.DataFrame([{"start": pd.Timestamp(s.start), "end": pd.Timestamp(s.end) + pd.Timedelta(days=1),
                            "label": f"Pic négatif {fr_date(s.start)} – {fr_date(s.end)}"} for s in spikes])
        layers.insert(0, alt.Chart(sp).mark_rect(opacity=0.15, color=SPIKE_COLOUR).encode(
            x="start:T", x2="end:T", tooltip=[alt.Tooltip("label:N", title="Pic")]))
        layers.append(alt.Chart(sp).mark_text(align="left", dx=3, dy=-4, baseline="top", y=0,
                                              color=SPIKE_COLOUR, fontWeight="bold").encode(
            x="start:T", text=alt.value("pic négatif")))
    chart = alt.layer(*layers).properties(
        title=alt.Title(title, subtitle="Évolution vs période précédente ; bande = IC 95 % ; zones orangées = pics "
                                        "de messages négatifs détectés"),
        width="container", height=320)
    spike_text = (" Pics négatifs : " + "; ".join(f"{fr_period_end_included(s.start, s.end)}" for s in spikes) + "."
                  if spikes else " Aucun pic négatif détecté.")
    alt_text = (f"Courbe du sentiment net par {FREQ_LABELS[freq].lower()} de {focus_name}"
                f"{' et des pairs' if (plot['series'] == 'peers').any() else ''} {period_text}, avec son "
                f"intervalle de confiance : de {fr_signed(first['net'], 1)} à {fr_signed(last['net'], 1)} points, "
                f"minimum {fr_signed(low['net'], 1)} le {fr_date(low['period'])}.{spike_text}")
    table_df = pd.DataFrame({
        "Série": plot["Série"], "Période": plot["period"].map(fr_date), "Messages évalués": plot["scored"],
        "Sentiment net (pts)": plot["net"].round(1), "IC bas": plot["net_lo"].round(1),
        "IC haut": plot["net_hi"].round(1), "Part négative": plot["negative_share"],
        "Hors français": plot["non_french"]})
    ui.chart(chart, table_df, alt_text, {"Part négative": "pct", "Sentiment net (pts)": "num", "IC bas": "num",
                                         "IC haut": "num"})

# ------------------------------------------------------------------------------ spikes
st.header("Pics de messages négatifs")
st.caption("Chaque semaine est comparée aux 8 semaines précédentes (médiane, hors semaines déjà anormales). "
           "Un pic exige au moins 8 messages négatifs, deux fois le niveau habituel, une probabilité sous 1 sur "
           "10 000 de l'observer par hasard (loi de Poisson surdispersée) et une part de négatifs supérieure à "
           "l'habituelle : une publication très commentée ne suffit pas. Les dates du pic sont ensuite précisées "
           "au jour (jours à au moins deux fois le niveau habituel du même jour de la semaine).")
series = data.call(analysis.ereputation.focus_negative_series, f)
if not series.empty and series["expected"].notna().any():
    s_plot = series.groupby("period", as_index=False).agg(negative=("negative", "sum"),
                                                          expected=("expected", "sum"),
                                                          anomalous=("anomalous", "max"))
    s_plot["Semaine du"] = s_plot["period"].map(fr_date)
    peak_txt = ""
    if spikes:
        top = max(spikes, key=lambda s: s.negative)
        peak_txt = (f" : {fr_int(top.negative)} messages négatifs {fr_period_end_included(top.start, top.end)} "
                    f"pour {fr_int(round(top.expected))} attendus")
    s_title = (f"{len(spikes)} pic{'s' if len(spikes) > 1 else ''} négatif{'s' if len(spikes) > 1 else ''}"
               f"{peak_txt}" if spikes else "Aucun pic de messages négatifs sur la période")
    base = alt.Chart(s_plot).encode(x=alt.X("period:T", title="", axis=alt.Axis(format=charts.DAY_FORMAT)))
    bars = base.mark_bar(color=charts.PALETTE[4]).encode(
        y=alt.Y("negative:Q", title="Messages négatifs par semaine"),
        tooltip=[alt.Tooltip("Semaine du:N"), alt.Tooltip("negative:Q", title="Négatifs", format=",.0f"),
                 alt.Tooltip("expected:Q", title="Niveau habituel", format=",.1f")])
    base_line = base.mark_line(color="#323f4b", strokeDash=[4, 3]).encode(y="expected:Q")
    marks = base.transform_filter("datum.anomalous").mark_point(shape="triangle-down", size=70, filled=True,
                                                                 color=SPIKE_COLOUR).encode(y="negative:Q")
    s_chart = alt.layer(bars, base_line, marks).properties(
        title=alt.Title(s_title, subtitle="Barres = messages négatifs par semaine ; tirets = niveau habituel "
                                          "(médiane des 8 semaines précédentes) ; triangles = semaines anormales"),
        width="container", height=260)
    s_alt = (f"Messages négatifs par semaine pour {focus_name} {period_text}, comparés au niveau habituel des 8 "
             f"semaines précédentes. " + (f"{fr_count(len(spikes), 'pic')} : " + "; ".join(
                 f"{fr_period_end_included(s.start, s.end)}, {fr_int(s.negative)} négatifs pour "
                 f"{fr_int(round(s.expected))} attendus" for s in spikes) + "." if spikes else "Aucune semaine anormale."))
    ui.chart(s_chart, pd.DataFrame({"Semaine du": s_plot["Semaine du"], "Messages négatifs": s_plot["negative"],
                                    "Niveau habituel": s_plot["expected"].round(1),
                                    "Anormal": s_plot["anomalous"].map({True: "oui", False: "non"})}),
             s_alt, {"Niveau habituel": "num"})
elif series.empty or not series["expected"].notna().any():
    st.info("Pas assez d'historique (4 semaines au moins avant la période) pour établir un niveau habituel.",
            icon=":material/history:")

for s in spikes:
    with st.expander(f"Pic {fr_period_end_included(s.start, s.end)} — {fr_int(s.negative)} messages négatifs "
                     f"({fr_pct(s.share, 0)} des messages évalués, habituellement {fr_pct(s.baseline_share, 0)})",
                     expanded=len(spikes) == 1):
        terms = s.details.get("terms")
        if terms is not None and len(terms):
            st.markdown("**Termes dominants** (sur-représentés par rapport aux 8 semaines précédentes) : "
                        + ", ".join(f"« {esc(t)} »" for t in terms["term"]))
        themes = s.details.get("themes")
        if themes is not None and len(themes):
            st.markdown("**Thèmes** des messages négatifs : " + ", ".join(
                f"{esc(r.label)} ({fr_pct(r.spike_share, 0)}, habituellement {fr_pct(r.baseline_share, 0)})"
                for r in themes.head(4).itertuples()))
        for key, label in (("most_negative", "Les plus négatifs"), ("most_engaged", "Les plus repris (j'aime + réponses)")):
            msgs = s.details.get(key)
            if msgs is None or msgs.empty:
                continue
            st.markdown(f"**{label}**")
            show = pd.DataFrame({"Date": msgs["local_at"].map(fr_datetime),
                                 "Plateforme": msgs["platform"].map(lambda p: ui.PLATFORM_LABELS.get(p, p)),
                                 "Message": msgs["text"].fillna(""),
                                 # text, so that a count the export lacks reads "—", not "None" or 0
                                 "J'aime": msgs["likes"].map(fr_int), "Réponses": msgs["replies"].map(fr_int)})
            if role in ANALYST:
                show["Id"] = msgs["message_id"]
            ui.table(messages_for_role(show, role))  # an élu reads a few texts, no id

# ------------------------------------------------------------------------------ representative
st.header("Messages représentatifs")
st.caption("Messages dont le ton est net (probabilité du modèle ≥ 60 % ou correction d'un analyste) et qui "
           "ont été le plus repris ; les doublons ne sont montrés qu'une fois. Aucune identité d'auteur.")
ff = f.with_territories(focus)
cols = st.columns(2)
for col, label, heading in ((cols[0], "positive", "Positifs"), (cols[1], "negative", "Négatifs")):
    with col:
        st.markdown(f"**{heading}**")
        rep = data.call(analysis.ereputation.representative_messages, ff, label=label, n=5)
        if rep.empty:
            st.caption("Aucun message net sur la période.")
            continue
        for r in rep.itertuples():
            meta = esc(f"{fr_date(r.local_at)} · {ui.PLATFORM_LABELS.get(r.platform, r.platform)} · "
                    f"{fr_int(r.engagement)} j'aime et réponses"
                    + (" · corrigé par un analyste" if r.corrected else f" · confiance {fr_pct(r.confidence, 0)}")
                    + (f" · {r.message_id}" if role in ANALYST else ""))
            # Citizen text and ids escaped: this markdown allows HTML (<small>), a message must not.
            st.markdown(f"> {esc(str(r.text)[:400])}\n\n<small>{meta}</small>", unsafe_allow_html=True)

# ------------------------------------------------------------------------------ peers and platforms
st.header("Comparaison aux pairs et par plateforme")
pc = data.call(analysis.ereputation.peer_comparison, f)
if pc.empty or (pc["role"] != "focus").sum() == 0:
    st.caption("Aucun territoire pair n'est défini pour la sélection.")
else:
    ui.table(pd.DataFrame({
        "Territoire": pc["name"], "Messages": pc["messages"], "Évalués": pc["scored"],
        "Sentiment net (pts)": points(pc["net_sentiment"]).round(1),
        "IC 95 %": [ci_text("net_sentiment", lo, hi) for lo, hi in zip(pc["net_sentiment_lo"], pc["net_sentiment_hi"], strict=True)],
        "Part négative": pc["negative_share"],
        "Écart de sentiment net (nous − eux, pts)": points(pd.to_numeric(pc["diff_net_sentiment"],
                                                                          errors="coerce")).round(1),
        "IC de l'écart": [ci_text("net_sentiment", lo, hi) if lo is not None and not pd.isna(lo) else "—"
                          for lo, hi in zip(pc["diff_net_sentiment_lo"], pc["diff_net_sentiment_hi"], strict=True)],
    }), {"Part négative": "pct", "Sentiment net (pts)": "num", "Écart de sentiment net (nous − eux, pts)": "num"})
bp = data.call(analysis.ereputation.by_platform, f)
if len(bp):
    ui.table(pd.DataFrame({
        "Plateforme": bp["platform"].map(lambda p: ui.PLATFORM_LABELS.get(p, p)), "Messages": bp["messages"],
        "Évalués": bp["scored"], "Hors français": bp["non_french"],
        "Sentiment net (pts)": points(bp["net_sentiment"]).round(1),
        "IC 95 %": [ci_text("net_sentiment", lo, hi) for lo, hi in zip(bp["net_sentiment_lo"], bp["net_sentiment_hi"], strict=True)],
        "Part négative": bp["negative_share"]}), {"Part négative": "pct", "Sentiment net (pts)": "num"})

# ------------------------------------------------------------------------------ corrections
if role in ANALYST:
    st.header("Corriger une étiquette")
    st.caption("Votre correction remplace l'étiquette du modèle partout (application, carnets, rapports), "
               "est journalisée et sert à évaluer puis réentraîner le modèle. Les messages proposés sont ceux "
               "dont le modèle est le moins sûr.")
    review = data.call(analysis.ereputation.messages_for_review, ff, n=30)
    with st.form("ereputation_correction"):
        options = review["message_id"].tolist()
        by_id = review.set_index("message_id") if len(review) else None
        picked = st.selectbox("Message (le modèle hésite)", options, index=None, key="ereputation_pick",
                              placeholder="Choisir un message…",
                              format_func=lambda i: f"[{SENTIMENT_FR.get(by_id.at[i, 'sentiment'], '?')}, "
                                                    f"{fr_pct(by_id.at[i, 'confidence'], 0)}] "
                                                    f"{str(by_id.at[i, 'text'])[:90]}")
        typed = st.text_input("… ou identifiant du message (ex. facebook:123_456)", key="ereputation_id")
        label = st.radio("Ton correct", list(SENTIMENT_FR), format_func=lambda v: SENTIMENT_FR[v].capitalize(),
                         horizontal=True, key="ereputation_label")
        who = st.text_input("Votre nom", key="ereputation_who")
        if st.form_submit_button("Enregistrer la correction"):
            from analysis.sentiment.corrections import correct

            item = (typed or "").strip() or picked
            if not item or not who.strip():
                st.error("Choisissez un message (ou saisissez son identifiant) et indiquez votre nom.")
            else:
                # App connections are read-only (they open the published copy). A correction needs
                # the writer: DuckDB allows one writing process per file, so this opens a short
                # writer session on the main file, writes one row and its audit line in a single
                # transaction, then publishes a new read copy atomically (store.writer). It cannot
                # corrupt anything: if an import holds the file, opening fails at once with
                # duckdb.IOException before any write and the user is told to retry.
                try:
                    with data.writer(messages=[item]) as con:  # a message of the user's territories only
                        correct(con, item, "message", label, author=who.strip())
                    st.success(f"Correction enregistrée : {esc(item)} est désormais « {SENTIMENT_FR[label]} ». "
                               "Les chiffres de la page en tiennent compte.")
                except duckdb.IOException:
                    st.error("Base occupée : un import ou un enrichissement est en cours. Réessayez dans un "
                             "instant, votre correction n'a pas été enregistrée.")
                except KeyError as e:
                    st.error(f"Message introuvable : {esc(e.args[0] if e.args else item)}")
                except ValueError as e:
                    st.error(f"Correction impossible : {esc(e)}")
