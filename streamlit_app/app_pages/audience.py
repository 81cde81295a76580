"""Page « Audience » : growth with peers, pyramid followers vs population, representativeness, places."""

from __future__ import annotations

import altair as alt
import streamlit as st

import analysis.audience
import analysis.charts
import analysis.charts.audience
from analysis import charts
from analysis.audience import PLATFORM_FR, SEGMENT_RULE_40, segment_shares, split_40_44, under_reached
from analysis.charts.audience import pyramid_frame
from analysis.exports import escape_markdown as esc
from analysis.fmt import fr_date, fr_int, fr_num, fr_pct
from analysis.metrics import formula_text, per_1000_inhabitants
from streamlit_app import data, ui

NOT_INFERRED = ("Tous les chiffres de cette page viennent des **agrégats fournis par les plateformes** (nombre "
                "d'abonnés, répartitions par âge, genre, ville et pays). Vigie ne déduit jamais l'âge, le genre ou "
                "le lieu d'une personne à partir de son nom, de sa photo ou de ses messages.")

# Countries most often met in the follower breakdowns (ISO codes as exported), the rest stays as a code.
COUNTRY_FR = {"FR": "France", "BE": "Belgique", "CH": "Suisse", "LU": "Luxembourg", "DE": "Allemagne",
              "GB": "Royaume-Uni", "ES": "Espagne", "IT": "Italie", "PT": "Portugal", "NL": "Pays-Bas",
              "US": "États-Unis", "CA": "Canada", "MA": "Maroc", "DZ": "Algérie", "TN": "Tunisie"}

st.title("Audience")
st.caption("Qui suit le territoire, comment l'audience évolue, et qui nous ne touchons pas par rapport à la "
           "population réelle.")
st.info(NOT_INFERRED, icon=":material/privacy_tip:")

data.require_store()
f = ui.filters()
terr = data.territories()
names = data.territory_names()
if terr.empty:
    ui.empty_state("Aucun territoire : importez le registre des territoires.")
    st.stop()
focus = (list(f.territories) or terr.loc[terr["kind"] == "own", "territory_id"].tolist()
         or terr["territory_id"].tolist())[0]
ids = tuple(ui.with_peers([focus], terr))
fp = f.with_territories(ids)
fo = f.with_territories((focus,))
st.markdown(f"Territoire suivi : **{esc(names.get(focus, focus))}**, comparé à ses pairs "
            f"({', '.join(esc(names.get(t, t)) for t in ids[1:]) or 'aucun'}).")

# ------------------------------------------------------------------------------ growth
st.header("Croissance des abonnés")
g = data.call(analysis.audience.growth_by_territory, fp)
own = g[(g["territory_id"] == focus) & (g["platform"] == "all")] if len(g) else g
if own.empty:
    ui.empty_state("Aucun total d'abonnés exporté pour ce territoire sur la période.")
else:
    r = own.iloc[0]
    c1, c2, c3, c4 = st.columns(4)
    with c1:
        ui.kpi("Abonnés (fin de période)", int(r["followers_end"]),
               help="Somme des abonnés des comptes officiels dont l'export donne le total (une personne abonnée "
                    "à deux comptes compte deux fois).")
    with c2:
        ui.kpi("Nouveaux abonnés nets", r["net_new"], decimals=0, help=formula_text("net_new_followers"))
    with c3:
        ui.kpi("Croissance", fr_pct(r["growth_rate"], 1, signed=True),
               help=formula_text("followers_growth") + f". Croissance mensuelle composée : "
                                                       f"{fr_pct(r['cmgr'], 2, signed=True)} ({formula_text('followers_cmgr')}).")
    with c4:
        ui.kpi("Abonnés pour 1 000 habitants", r["per_1000"], help=formula_text("per_1000_inhabitants"))
    m = data.call(analysis.audience.monthly_followers, fp)
    if len(m):
        pops = dict(zip(terr["territory_id"], terr["population"], strict=False))
        tot = m.groupby(["territory_id", "month"], as_index=False)["followers"].sum()
        tot["Territoire"] = tot["territory_id"].map(names)
        tot["Abonnés pour 1 000 habitants"] = [per_1000_inhabitants(v, pops.get(t))
                                               for t, v in zip(tot["territory_id"], tot["followers"], strict=True)]
        tot = tot.rename(columns={"month": "Mois", "followers": "Abonnés"})
        colours = {names.get(t, t): charts.PALETTE[i % len(charts.PALETTE)] for i, t in enumerate(ids)}
        ch = data.chart(analysis.charts.line_with_band, tot, "Mois", "Abonnés pour 1 000 habitants", color="Territoire",
                                   title="Abonnés pour 1 000 habitants, avec les pairs",
                                   subtitle="Fin de chaque mois, tous réseaux dont l'export donne le total",
                                   color_title="Territoire", x_format=charts.MONTH_FORMAT, y_format=",.0f",
                                   colours=colours)
        ui.chart(ch, tot[["Territoire", "Mois", "Abonnés", "Abonnés pour 1 000 habitants"]],
                 f"Abonnés pour 1 000 habitants par mois : {names.get(focus, focus)} et ses pairs.",
                 formats={"Mois": "month", "Abonnés pour 1 000 habitants": "num"})
    go = data.call(analysis.audience.gains_only, fo)
    for r in go.itertuples():
        st.caption(f"{PLATFORM_FR.get(r.platform, r.platform)} : l'export ne donne que les nouveaux abonnés "
                   f"quotidiens ({fr_int(r.gained)} sur la période), pas le total ; ce compte n'entre pas dans les "
                   "totaux ni les taux de croissance.")
    shown = g.assign(Territoire=g["name"], Réseau=g["platform"].map(PLATFORM_FR))
    ui.table(shown[["Territoire", "Réseau", "followers_start", "followers_end", "net_new", "growth_rate", "cmgr",
                    "per_1000"]].rename(columns={
        "followers_start": "Abonnés début", "followers_end": "Abonnés fin", "net_new": "Nouveaux nets",
        "growth_rate": "Croissance", "cmgr": "Croissance mensuelle composée", "per_1000": "Pour 1 000 hab."}),
        formats={"Abonnés début": "int", "Abonnés fin": "int", "Nouveaux nets": "int", "Croissance": "pct",
                 "Croissance mensuelle composée": "pct", "Pour 1 000 hab.": "num"})

# ------------------------------------------------------------------------------ pyramid
st.header("Âge et genre : abonnés et population")
pyr = data.call(analysis.audience.pyramid, fo)
lack = data.call(analysis.audience.lacking_breakdown, fo)
missing = sorted({PLATFORM_FR.get(p, p) for p in lack["platform"]}) if len(lack) else []
if missing:
    st.caption("Sans répartition âge × genre dans les exports (non comptés dans la pyramide) : "
               + ", ".join(missing) + ".")
pop = data.call(analysis.audience.population_reference, territory_ids=(focus,))
rep = data.call(analysis.audience.representativeness, fo)
if pyr.empty:
    ui.empty_state("Aucune répartition âge × genre exportée pour ce territoire (exports « Age & gender » de Meta "
                   "Business Suite ou « Lifetime Likes by Gender and Age » d'Insights).")
    choice = None
else:
    plats = [p for p in pyr["platform"].unique() if p != "all"]
    options = (["all"] if len(plats) > 1 else []) + sorted(plats)
    choice = st.radio("Réseau", options, horizontal=True, key="audience_platform",
                      format_func=lambda p: "Tous réseaux (pondéré par les abonnés)" if p == "all"
                      else PLATFORM_FR.get(p, p))
    cells = pyr[pyr["platform"] == choice]
    snap = fr_date(cells["date"].max())
    if pop.empty:
        st.warning("Pas de population de référence pour ce territoire : importez-la avec "
                   "`vigie territories population FICHIER_INSEE.csv`.")
    else:
        pf = pyramid_frame(cells, pop)
        src = ", ".join(sorted(set(pop["source"])))
        ch = data.chart(analysis.charts.audience.pyramid_chart, pf, title=f"Pyramide des abonnés {PLATFORM_FR.get(choice, choice)} et de la population",
                           subtitle=f"Barres : abonnés (instantané du {snap}) ; traits noirs : population de 13 ans "
                                    f"et plus ({src})")
        ui.chart(ch, pf, f"Pyramide des âges des abonnés ({PLATFORM_FR.get(choice, choice)}) comparée à celle de "
                         f"la population de {names.get(focus, focus)}, femmes à gauche, hommes à droite.",
                 formats={"Abonnés": "pct", "Population": "pct"})
        if choice == "all":
            st.caption("Réseaux combinés en pondérant chaque compte par son nombre d'abonnés à la date de "
                       "l'instantané ; une personne abonnée à deux comptes compte deux fois.")

# ------------------------------------------------------------------------------ representativeness
st.header("Représentativité")
st.caption("Indice = part d'un segment parmi les abonnés ÷ sa part dans la population de 13 ans et plus "
           "(les plateformes n'admettent pas les moins de 13 ans). 1 : aussi présent que dans la population.")
if rep.empty or choice is None:
    sub = rep[rep["kind"] == "sex"] if len(rep) else rep
    if len(sub):  # gender split only (e.g. Meta Business Suite FollowerGender)
        for r in sub.itertuples():
            st.markdown(f"- {esc(r.label)} : {fr_pct(r.share_followers)} des abonnés "
                        f"{PLATFORM_FR.get(r.platform, r.platform)}, {fr_pct(r.share_population)} de la "
                        f"population (indice {fr_num(r.index, 2)}).")
    else:
        ui.empty_state("Représentativité non calculable : il faut une répartition des abonnés et une population "
                       "de référence.")
else:
    mine = rep[rep["platform"] == choice]
    under = under_reached(mine)  # pure function on the cached frame: no store access
    if len(under):
        st.markdown("**Segments sous-représentés**")
        for s in under["sentence"]:
            st.markdown(f"- {esc(s)}")
    else:
        st.success("Aucun segment nettement sous-représenté (indice < 0,8) parmi les abonnés.")
    tab = mine[mine["kind"].isin(["age", "sex", "target"])].assign(
        Segment=lambda x: x["label"] + x["approximate"].map({True: " (approx.)", False: ""}))
    tab = tab.rename(columns={"index": "Indice", "share_followers": "Part parmi les abonnés",
                              "share_population": "Part dans la population"})
    ui.chart(data.chart(analysis.charts.audience.index_chart, tab, title="Indice de représentativité par segment",
                        subtitle="En rouge : moins présents que dans la population"),
             tab[["Segment", "Part parmi les abonnés", "Part dans la population", "Indice"]],
             "Indice de représentativité des tranches d'âge, des femmes, des hommes et des 40 ans et plus.",
             formats={"Part parmi les abonnés": "pct", "Part dans la population": "pct", "Indice": "num"})
    st.caption(SEGMENT_RULE_40)

# ------------------------------------------------------------------------------ target segments over time
hist = data.call(analysis.audience.pyramid_history, fo)
if len(hist) and choice is not None:
    st.header("Segments cibles")
    seg_fr = {"18-24": "18-24 ans", "25-34": "25-34 ans", "40+": "40 ans et plus", "65+": "65 ans et plus"}
    cells = pyr[pyr["platform"] == choice]
    bands = (cells.groupby("age_band")["share"].sum() / cells["share"].sum()).to_dict()
    frac, approx = split_40_44(pop) if len(pop) else (0.5, True)
    cols = st.columns(4)
    for col, (seg, (share, ap)) in zip(cols, segment_shares(bands, frac, approx).items(), strict=True):
        with col:
            ui.kpi(seg_fr[seg] + (" (approx.)" if ap else ""), fr_pct(share),
                   help=f"Part des abonnés ({'tous réseaux, pondérés' if choice == 'all' else PLATFORM_FR[choice]}) "
                        "au dernier instantané." + (" " + SEGMENT_RULE_40 if seg == "40+" else ""))
    h = hist if choice == "all" else hist[hist["platform"] == choice]
    if h["date"].nunique() > 1:
        h = h.assign(Réseau=h["platform"].map(PLATFORM_FR), Segment=h["segment"].map(seg_fr)).rename(
            columns={"date": "Instantané", "share": "Part des abonnés"})
        ch = alt.Chart(h).mark_line(point=True).encode(
            x=alt.X("Instantané:T", title="Instantané", axis=alt.Axis(format=charts.DAY_FORMAT)),
            y=alt.Y("Part des abonnés:Q", axis=alt.Axis(format=".0%")),
            color=alt.Color("Segment:N", sort=list(seg_fr.values())),
            strokeDash=alt.StrokeDash("Réseau:N"),
            tooltip=["Réseau:N", "Segment:N", alt.Tooltip("Instantané:T", format=charts.DAY_FORMAT),
                     alt.Tooltip("Part des abonnés:Q", format=".1%")],
        ).properties(title="Part des segments cibles parmi les abonnés, par réseau", width="container")
        ui.chart(ch, h[["Réseau", "Segment", "Instantané", "Part des abonnés"]],
                 "Évolution de la part des 18-24, 25-34, 40 ans et plus et 65 ans et plus parmi les abonnés de "
                 "chaque réseau, à chaque instantané démographique exporté.", formats={"Part des abonnés": "pct"})

# ------------------------------------------------------------------------------ places
st.header("Lieux et rayonnement")
st.caption("« Dans le territoire » : abonnés dont la ville, accents et tirets ignorés, porte le nom du "
           "territoire (sans « Ville de », « Agglomération »…) ; une intercommunalité n'est reconnue que par sa "
           "ville-centre. Les exports ne listent que les principales villes : le reste est compté hors territoire.")
ray = data.call(analysis.audience.rayonnement, fp)
if ray.empty:
    ui.empty_state("Aucune répartition des abonnés par ville dans les exports.")
else:
    ra = ray[ray["platform"] == "all"].assign(Territoire=lambda x: x["name"])
    ra = ra.rename(columns={"inside": "Dans le territoire", "outside": "Hors territoire", "abroad": "À l'étranger"})
    colours = {names.get(t, t): (charts.OWN_COLOUR if t == focus else charts.PALETTE[4]) for t in ids}
    ch = charts.bar(ra, "Dans le territoire", "Territoire", color="Territoire", colours=colours,
                    title="Part des abonnés dans le territoire, avec les pairs", value_format=".0%",
                    x_title="Part des abonnés", y_title="")
    ui.chart(ch.encode(color=alt.Color("Territoire:N", legend=None,
                                       scale=alt.Scale(domain=list(colours), range=list(colours.values())))),
             ra[["Territoire", "Dans le territoire", "Hors territoire", "À l'étranger"]],
             "Part des abonnés (tous réseaux, pondérés par les abonnés) habitant la ville du territoire.",
             formats={"Dans le territoire": "pct", "Hors territoire": "pct", "À l'étranger": "pct"})
cities = data.call(analysis.audience.places, fo, dimension="city")
countries = data.call(analysis.audience.places, fo, dimension="country")
c1, c2 = st.columns(2)
for col, df, label in ((c1, cities, "Villes"), (c2, countries, "Pays")):
    with col:
        st.markdown(f"**{label}** (tous réseaux, part des abonnés)")
        if df.empty:
            st.caption("Non exporté.")
            continue
        d = df[df["platform"] == "all"].sort_values("share", ascending=False).head(10)
        d = d.assign(Lieu=d["key"].replace({"Others": "Autres", **COUNTRY_FR}))
        ui.table(d[["Lieu", "share"]].rename(columns={"share": "Part"}), formats={"Part": "pct"})

with st.expander("Méthode et formules"):
    for mid in ("net_new_followers", "followers_growth", "followers_cmgr", "per_1000_inhabitants",
                "representativeness"):
        st.markdown(f"- {formula_text(mid)}")
    st.markdown(f"- {SEGMENT_RULE_40}")
    if not pop.empty:
        st.markdown(f"- Population de référence : {esc(', '.join(sorted(set(pop['source']))))} "
                    f"({fr_int(pop['population'].sum())} habitants"
                    + (", tranches approximées par répartition uniforme par âge" if pop["approximate"].any() else "")
                    + ").")
