"""Page « Campagnes » : did a campaign work, with what certainty; what makes a post perform."""

from __future__ import annotations

from datetime import date, timedelta

import streamlit as st

import analysis.campaigns
import analysis.topics
from analysis import campaigns as camp
from analysis.charts import campaigns as cc
from analysis.exports import escape_markdown as esc
from analysis.views import campagnes as v
from streamlit_app import data, events_ui, ui

ANALYST = ("analyste", "admin")
QP_CAMPAIGN = "campagne"
ICONS = {"success": ":material/trending_up:", "error": ":material/trending_down:", "info": ":material/balance:", "warning": ":material/help:"}

st.title("Campagnes")
st.caption(v.INTRO)

data.require_store()
f, role, names = ui.filters(), ui.role(), data.territory_names()
campaigns: list[camp.Campaign] = data.call(analysis.campaigns.list_campaigns)

st.header("Campagnes définies")
if not campaigns:
    ui.empty_state("Aucune campagne n'est définie. Un analyste peut en créer une ci-dessous, ou avec "
                   "`vigie campaigns add` / `vigie campaigns import FICHIER`.")
else:
    ui.table(v.campaigns_frame(campaigns, names), {"Jours": "int"})

if campaigns:
    st.header("Évaluation")
    ids = [c.campaign_id for c in campaigns]
    by_id = {c.campaign_id: c for c in campaigns}
    wanted = st.query_params.get(QP_CAMPAIGN)
    cid = st.selectbox("Campagne à évaluer", ids, placeholder=ui.PICK,
                       index=ids.index(wanted) if wanted in ids else 0,
                       format_func=lambda i: v.campaign_option(by_id[i]))
    st.query_params[QP_CAMPAIGN] = cid
    c = by_id[cid]
    kpis = st.multiselect("Indicateurs", list(camp.KPIS), placeholder=ui.PICK_MANY, select_all=False,
                          default=["engagement_per_post", "posts", "messages"],
                          format_func=lambda k: v.KPI_LABELS[k].capitalize())
    with st.expander("Réglages de l'évaluation"):
        baseline_days = st.number_input("Jours de référence avant la campagne", min_value=14, max_value=365,
                                        value=max(c.days, 56), step=7,
                                        help="Par défaut : la durée de la campagne, au moins 8 semaines.")
        exclude: list[tuple[date, date]] = []
        if st.checkbox("Écarter une période de la référence (une crise, un événement exceptionnel)"):
            rng = st.date_input("Période à écarter (incluse)", format="DD/MM/YYYY",
                                value=(c.start_date - timedelta(days=60), c.start_date - timedelta(days=50)))
            if isinstance(rng, tuple | list) and len(rng) == 2:
                exclude = [(rng[0], rng[1])]
        st.caption("Les autres campagnes du territoire et ses alertes critiques sont écartées automatiquement.")
    if not kpis:
        ui.empty_state("Choisissez au moins un indicateur.")
    else:
        with st.spinner("Estimation des effets (bootstrap)…"):
            ev: camp.Evaluation = data.call(analysis.campaigns.evaluate, campaign=cid, kpis=list(kpis),
                                            baseline_days=int(baseline_days), exclude=exclude, n_boot=2000, seed=0)
        st.markdown(v.evaluation_header(ev, names))
        for w in ev.warnings:  # window beyond the data, crisis inside the campaign
            st.warning(esc(w), icon=":material/warning:")
        for line in v.excluded_lines(ev):  # days left out of the reference
            st.caption(line)
        for r in ev.results:
            kind = v.verdict_kind(r)
            getattr(st, kind)(esc(r.verdict), icon=ICONS[kind])  # names a campaign, a territory: text, never markup
            if r.basis:
                st.caption(esc(r.basis))
        rel = v.relative_effects(ev)
        if not rel.empty:
            ui.chart(cc.effects_chart(rel), rel, v.EFFECTS_ALT, {"Effet": "pct", "Borne basse": "pct", "Borne haute": "pct"})
        ui.table(v.levels_frame(ev))
        wk = data.call(analysis.campaigns.weekly_series, campaign=cid, kpi=kpis[0],
                       baseline_days=int(baseline_days), exclude=exclude)
        if not wk.empty:
            ui.chart(cc.weekly_index_chart(wk, names.get(c.territory_id, c.territory_id),
                                           camp.KPIS[kpis[0]].scale == "log",
                                           title=f"{v.KPI_LABELS[kpis[0]].capitalize()} par semaine"),
                     v.weekly_frame(wk), v.WEEKLY_ALT)
        with st.expander("Méthode, formules et version des métriques"):
            st.markdown(v.method_markdown(ev))

    if role in ANALYST:
        with st.expander("Supprimer une campagne"):
            victim = st.selectbox("Campagne", ids, placeholder=ui.PICK,
                                  format_func=lambda i: by_id[i].name, key="camp_remove")
            if st.button("Supprimer", key="camp_remove_btn"):
                data.write(lambda con, _who: camp.remove_campaign(con, victim), campaigns=[victim],
                           success=f"Campagne « {esc(by_id[victim].name)} » supprimée.")

if role in ANALYST:
    st.header("Définir une campagne")
    first_day, last_day = data.data_range()
    with st.form("campaign_add"):
        c1, c2 = st.columns(2)
        name = c1.text_input("Nom", placeholder="Été à Saint-Aubin")
        cid_new = c2.text_input("Identifiant court", placeholder="ete-2026",
                                help="Lettres, chiffres et tirets ; sert dans `vigie campaigns eval`.")
        territory = c1.selectbox("Territoire", data.selectable_territories(), placeholder=ui.PICK,
                                 format_func=lambda t: names.get(t, t))
        dates = c2.date_input("Du … au … (inclus)", value=v.form_defaults(last_day), format="DD/MM/YYYY",
                              help=v.dates_help(last_day))
        hashtags = c1.text_input("Hashtags (séparés par des virgules)", placeholder="#EteASaintAubin")
        keywords = c2.text_input("Mots-clés (séparés par des virgules)")
        objective = c1.selectbox("Objectif", v.OBJECTIVES, placeholder=ui.PICK)
        budget_txt = c2.text_input("Budget (€)", placeholder="1 500", help="En euros, par exemple 1 500 ou 1 500,50.")
        if st.form_submit_button("Enregistrer la campagne"):
            try:
                new = v.new_campaign(cid_new, name, territory, dates, hashtags, keywords, objective, budget_txt)
            except ValueError as e:
                st.error(f"Campagne non enregistrée : {esc(e)}.")
            else:
                warned = camp.window_warnings(new.start_date, new.end_date, first_day, last_day)
                data.write(lambda con, _who: camp.save_campaigns(con, [new]),
                           campaigns=[new.campaign_id], territories=[territory],
                           success="  \n".join([f"Campagne « {esc(new.name)} » enregistrée.",
                                                *(f"⚠ {esc(w)}" for w in warned)]))

st.header("Performance des publications")
own_ids = data.territories().query("kind == 'own'")["territory_id"].tolist()
posts = data.call(analysis.campaigns.post_table, territories=tuple(f.territories or own_ids),
                  start=f.start, end=f.end, platforms=tuple(f.platforms))
if posts.empty or posts["rel"].notna().sum() == 0:
    ui.empty_state("Aucune publication avec des interactions pour ces filtres.")
else:
    st.caption(v.POSTS_INTRO)
    top, bottom = camp.top_bottom_posts(posts, 5)
    for tab, d in zip(st.tabs(["Meilleures publications", "Moins bonnes publications"]), (top, bottom), strict=True):
        with tab:
            ui.table(v.posts_frame(d), {"Engagement": "int", "× médiane": "num"})
    for col, by, label in zip(st.columns(2), ("post_type", "theme"), ("Format", "Thème"), strict=True):
        with col:
            st.markdown(f"**Par {label.lower()}**")
            ui.table(v.performance_frame(posts, by, label, data.call(analysis.topics.theme_labels)),
                     {"Publications": "int", "Engagement par publication": "num", "× médiane du compte": "num"})
    heat = camp.best_time_heatmap(posts)
    if not heat.empty:
        ui.chart(cc.heatmap_chart(heat), v.heatmap_frame(heat), v.heatmap_caption(heat),
                 {"Heure": "int", "Publications": "int", "Indice brut": "num", "Indice corrigé": "num"})
    st.caption(v.reach_caption(posts))

events_ui.campaign_events_section(f, names)  # promotion of the territory's events (issue 21)
