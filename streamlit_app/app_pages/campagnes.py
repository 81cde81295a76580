"""Page « Campagnes » : did a campaign work, with what certainty; what makes a post perform."""

from __future__ import annotations

from datetime import date, timedelta

import pandas as pd
import streamlit as st

import analysis.campaigns
import analysis.topics
from analysis import campaigns as camp
from analysis import metrics
from analysis.charts import campaigns as cc
from analysis.exports import escape_markdown as esc
from analysis.fmt import fr_count, fr_date, fr_int, fr_num, fr_pct, fr_period_end_included
from analysis.metrics import points
from streamlit_app import data, events_ui, ui

ANALYST = ("analyste", "admin")
QP_CAMPAIGN = "campagne"
KPI_LABELS = {"engagement_per_post": "engagement par publication", "engagement_rate": "taux d'engagement (abonnés)",
              "posts": "publications par jour", "messages": "messages reçus par jour", "net_sentiment": "sentiment net",
              "new_followers": "nouveaux abonnés par jour"}

st.title("Campagnes")
st.caption("Une campagne a-t-elle marché ? L'effet est estimé par rapport à la période qui la précède "
           "et, surtout, par rapport aux territoires pairs sur les mêmes semaines : un été dont tout le "
           "monde profite n'est pas attribué à la campagne.")

data.require_store()
f = ui.filters()
role = ui.role()
names = data.territory_names()

campaigns: list[camp.Campaign] = data.call(analysis.campaigns.list_campaigns)

# ------------------------------------------------------------------------------ list
st.header("Campagnes définies")
if not campaigns:
    ui.empty_state("Aucune campagne n'est définie. Un analyste peut en créer une ci-dessous, ou avec "
                   "`vigie campaigns add` / `vigie campaigns import FICHIER`.")
else:
    ui.table(pd.DataFrame([{
        "Campagne": c.name, "Territoire": names.get(c.territory_id, c.territory_id),
        "Du": fr_date(c.start_date), "Au": fr_date(c.end_date), "Jours": c.days,
        "Hashtags": " ".join("#" + h for h in c.hashtags), "Mots-clés": ", ".join(c.keywords),
        "Objectif": c.objective or "—", "Budget (€)": fr_int(c.budget),  # text: Streamlit shows a null as "None"
    } for c in campaigns]), {"Jours": "int"})

# ------------------------------------------------------------------------------ evaluation
if campaigns:
    st.header("Évaluation")
    ids = [c.campaign_id for c in campaigns]
    by_id = {c.campaign_id: c for c in campaigns}
    wanted = st.query_params.get(QP_CAMPAIGN)
    cid = st.selectbox("Campagne à évaluer", ids, placeholder=ui.PICK,
                       index=ids.index(wanted) if wanted in ids else 0,
                       format_func=lambda i: f"{by_id[i].name} ({fr_date(by_id[i].start_date)} → "
                                             f"{fr_date(by_id[i].end_date)})")
    st.query_params[QP_CAMPAIGN] = cid
    c = by_id[cid]
    kpis = st.multiselect("Indicateurs", list(camp.KPIS), placeholder=ui.PICK_MANY,
                          default=["engagement_per_post", "posts", "messages"],
                          format_func=lambda k: KPI_LABELS[k].capitalize())
    with st.expander("Réglages de l'évaluation"):
        baseline_days = st.number_input("Jours de référence avant la campagne", min_value=14, max_value=365,
                                        value=max(c.days, 56), step=7,
                                        help="Par défaut : la durée de la campagne, au moins 8 semaines.")
        excl_on = st.checkbox("Écarter une période de la référence (une crise, un événement exceptionnel)")
        exclude: list[tuple[date, date]] = []
        if excl_on:
            rng = st.date_input("Période à écarter (incluse)", value=(c.start_date - timedelta(days=60),
                                                                      c.start_date - timedelta(days=50)),
                                format="DD/MM/YYYY")
            if isinstance(rng, tuple | list) and len(rng) == 2:
                exclude = [(rng[0], rng[1])]
        st.caption("Les autres campagnes du territoire et ses alertes critiques sont écartées automatiquement.")
    if not kpis:
        ui.empty_state("Choisissez au moins un indicateur.")
    else:
        with st.spinner("Estimation des effets (bootstrap)…"):
            ev: camp.Evaluation = data.call(analysis.campaigns.evaluate, campaign=cid, kpis=list(kpis),
                                            baseline_days=int(baseline_days), exclude=exclude, n_boot=2000, seed=0)
        peers_txt = ", ".join(esc(names.get(p, p)) for p in ev.peers) or "aucun"
        st.markdown(f"**{esc(c.name)}** — {esc(names.get(c.territory_id, c.territory_id))}, du {fr_date(c.start_date)} au "
                    f"{fr_date(c.end_date)} · {fr_count(ev.matched_posts, 'publication')} portant ses hashtags ou "
                    f"mots-clés · référence {fr_period_end_included(ev.baseline[0], ev.baseline[1])} · "
                    f"territoires comparés : {peers_txt}.")
        for a, b, why in ev.excluded:
            st.caption(f"Jours écartés {fr_period_end_included(a, b)} : {esc(why)}.")
        for r in ev.results:
            main = r.did if r.did is not None and r.did.estimate is not None else r.before_after
            verdict = esc(r.verdict)  # names a campaign, a territory: text, never markup
            if main.estimate is None:
                st.warning(verdict, icon=":material/help:")
            elif main.significant and main.estimate > 0:
                st.success(verdict, icon=":material/trending_up:")
            elif main.significant:
                st.error(verdict, icon=":material/trending_down:")
            else:
                st.info(verdict, icon=":material/balance:")
        eff = cc.effects_frame(ev.results)
        rel = eff[eff["relatif"].fillna(False).astype(bool)].drop(columns="relatif")  # object dtype when empty or None
        if not rel.empty:
            ui.chart(cc.effects_chart(rel), rel,
                     "Effet de chaque indicateur avec son intervalle de confiance à 95 % ; un intervalle qui "
                     "traverse la ligne zéro ne permet pas de conclure à un effet.",
                     {"Effet": "pct", "Borne basse": "pct", "Borne haute": "pct"})
        def level(kpi: str, v: float | None) -> str:
            if kpi == "engagement_rate":
                return fr_pct(v, 2)
            if camp.KPIS[kpi].scale == "diff":
                return fr_num(points(v), 0) + ("\u00a0points" if v is not None else "")
            return fr_num(v, 1)

        levels = pd.DataFrame([{
            "Indicateur": r.name, "Référence": level(r.kpi, r.own_pre), "Campagne": level(r.kpi, r.own_post),
            "Pairs (référence)": level(r.kpi, r.peers_pre), "Pairs (campagne)": level(r.kpi, r.peers_post),
            "Avant/après": r.before_after.fr(), "Par rapport aux pairs": r.did.fr() if r.did else "—",
            "Jours (réf. / campagne)": f"{r.n_pre_days} / {r.n_post_days}",
        } for r in ev.results])
        ui.table(levels)
        main_kpi = kpis[0]
        wk = data.call(analysis.campaigns.weekly_series, campaign=cid, kpi=main_kpi,
                       baseline_days=int(baseline_days), exclude=exclude)
        if not wk.empty:
            own_label = names.get(c.territory_id, c.territory_id)
            ui.chart(cc.weekly_index_chart(wk, own_label, camp.KPIS[main_kpi].scale == "log",
                                           title=f"{KPI_LABELS[main_kpi].capitalize()} par semaine"),
                     wk.rename(columns={"group": "Série", "start": "Semaine du", "value": "Valeur",
                                        "index": "Indice", "period": "Période"}).drop(columns="week"),
                     "Indice hebdomadaire du territoire et de ses pairs, base 100 sur la période de référence : "
                     "l'écart qui s'ouvre pendant la campagne est ce que la double différence mesure.")
        with st.expander("Méthode, formules et version des métriques"):
            st.markdown(
                f"- Spécification des métriques **v{ev.metrics_version}** ; bootstrap par blocs de "
                f"{ev.block_days} jours, {fr_int(ev.n_boot)} tirages, graine {ev.seed} (résultat reproductible).\n"
                "- Double différence : (log(campagne ÷ référence) du territoire) − (log(campagne ÷ référence) "
                "des pairs), exprimée en % ; les jours de la référence et de la campagne sont rééchantillonnés "
                "par blocs, les mêmes pour le territoire et ses pairs.\n"
                + "\n".join(f"- {esc(r.name)} = {esc(r.formula)}" for r in ev.results)
                + f"\n- {metrics.formula_text('engagement')}")

    # -------------------------------------------------------------------------- analyst: remove
    if role in ANALYST:
        with st.expander("Supprimer une campagne"):
            victim = st.selectbox("Campagne", ids, placeholder=ui.PICK,
                                  format_func=lambda i: by_id[i].name, key="camp_remove")
            if st.button("Supprimer", key="camp_remove_btn"):
                try:
                    with data.writer(campaigns=[victim]) as con:
                        camp.remove_campaign(con, victim)
                    st.success(f"Campagne « {esc(by_id[victim].name)} » supprimée.")
                    st.rerun()
                except Exception as e:  # the CLI may hold the write lock during an import
                    st.error(f"Suppression impossible : {esc(e)}. Si un import est en cours, réessayez dans un instant.")

# ------------------------------------------------------------------------------ analyst: define
if role in ANALYST:
    st.header("Définir une campagne")
    terr = data.territories()
    with st.form("campaign_add"):
        c1, c2 = st.columns(2)
        name = c1.text_input("Nom", placeholder="Été à Saint-Aubin")
        cid_new = c2.text_input("Identifiant court", placeholder="ete-2026",
                                help="Lettres, chiffres et tirets ; sert dans `vigie campaigns eval`.")
        territory = c1.selectbox("Territoire", data.selectable_territories(), placeholder=ui.PICK,
                                 format_func=lambda t: names.get(t, t))
        dates = c2.date_input("Du … au … (inclus)", value=(date.today(), date.today() + timedelta(days=30)),
                              format="DD/MM/YYYY")
        hashtags = c1.text_input("Hashtags (séparés par des virgules)", placeholder="#EteASaintAubin")
        keywords = c2.text_input("Mots-clés (séparés par des virgules)")
        objective = c1.selectbox("Objectif", ["engagement", "portée", "abonnés", "sentiment", "messages"],
                                 placeholder=ui.PICK)
        budget = c2.number_input("Budget (€)", min_value=0.0, value=0.0, step=100.0)
        if st.form_submit_button("Enregistrer la campagne"):
            try:
                if not name.strip() or not cid_new.strip():
                    raise ValueError("le nom et l'identifiant sont obligatoires")
                if not (isinstance(dates, tuple | list) and len(dates) == 2):
                    raise ValueError("choisissez une date de début et une date de fin")
                new = camp.Campaign(cid_new.strip(), name.strip(), territory, dates[0], dates[1], hashtags, keywords,
                                    [], objective, budget or None, "app")
                with data.writer(campaigns=[new.campaign_id], territories=[territory]) as con:
                    camp.save_campaigns(con, [new])
                st.success(f"Campagne « {esc(new.name)} » enregistrée.")
            except ValueError as e:
                st.error(f"Campagne non enregistrée : {esc(e)}.")
            except Exception as e:  # the CLI may hold the write lock during an import
                st.error(f"Enregistrement impossible : {esc(e)}. Si un import est en cours, réessayez dans un instant.")

# ------------------------------------------------------------------------------ post performance
st.header("Performance des publications")
own_ids = data.territories().query("kind == 'own'")["territory_id"].tolist()
scope = list(f.territories) or own_ids
posts: pd.DataFrame = data.call(analysis.campaigns.post_table, territories=tuple(scope), start=f.start, end=f.end,
                                platforms=tuple(f.platforms))
if posts.empty or posts["rel"].notna().sum() == 0:
    ui.empty_state("Aucune publication avec des interactions pour ces filtres.")
else:
    st.caption("Chaque publication est comparée à l'engagement médian de son propre compte (1 = habituel) : "
               "une publication Facebook d'une grande ville et une publication Instagram d'un village "
               "deviennent comparables.")
    top, bottom = camp.top_bottom_posts(posts, 5)

    def show(d: pd.DataFrame) -> pd.DataFrame:
        return pd.DataFrame({"Date": d["created_at"], "Plateforme": d["platform"].map(lambda p: ui.PLATFORM_LABELS.get(p, p)),
                             "Engagement": d["engagement"], "× médiane": d["rel"], "Pourquoi": d["pourquoi"],
                             "Texte": d["text"].fillna("").str.slice(0, 120)})

    t1, t2 = st.tabs(["Meilleures publications", "Moins bonnes publications"])
    with t1:
        ui.table(show(top), {"Engagement": "int", "× médiane": "num"})
    with t2:
        ui.table(show(bottom), {"Engagement": "int", "× médiane": "num"})
    c1, c2 = st.columns(2)
    for col, by, label in ((c1, "post_type", "Format"), (c2, "theme", "Thème")):
        with col:
            perf = camp.performance_by(posts, by)
            if by == "theme":  # French labels, not taxonomy ids
                perf[by] = perf[by].map(lambda t: data.call(analysis.topics.theme_labels).get(t, t))
            perf = perf.rename(columns={
                by: label, "posts": "Publications", "engagement_per_post": "Engagement par publication",
                "median_rel": "× médiane du compte"})
            st.markdown(f"**Par {label.lower()}**")
            ui.table(perf, {"Publications": "int", "Engagement par publication": "num", "× médiane du compte": "num"})
    heat = camp.best_time_heatmap(posts)
    if not heat.empty:
        best = heat.nlargest(3, "index")
        best_txt = " ; ".join(f"{r.jour} {int(r.hour)} h ({fr_num(r.index, 2)}, {fr_int(r.n)} publ.)"
                              for r in best.itertuples())
        ui.chart(cc.heatmap_chart(heat), heat[["jour", "hour", "n", "raw_index", "index"]].rename(columns={
            "jour": "Jour", "hour": "Heure", "n": "Publications", "raw_index": "Indice brut", "index": "Indice corrigé"}),
            f"Créneaux les plus porteurs après correction des cases peu remplies : {best_txt}.",
            {"Heure": "int", "Publications": "int", "Indice brut": "num", "Indice corrigé": "num"})
    st.caption(f"Taux d'engagement médian (portée) : {fr_pct(posts['er_reach'].median(), 2)} sur "
               f"{fr_int(posts['er_reach'].notna().sum())} publications qui exportent la portée ; "
               f"{metrics.formula_text('er_reach')}.")

events_ui.campaign_events_section(f, names)  # promotion of the territory's events (issue 21)
