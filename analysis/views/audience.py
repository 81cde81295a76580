"""Read models of the Audience page: French frames, titles, alt texts and charts built from the results
of :mod:`analysis.audience` (the page fetches those through ``data.call``; nothing here reads the store)."""

from __future__ import annotations

from typing import Any

import pandas as pd

from analysis import charts
from analysis.audience import PLATFORM_FR, SEGMENT_RULE_40, segment_shares, split_40_44, under_reached
from analysis.charts import ChartView
from analysis.charts import audience as audience_charts
from analysis.fmt import fr_date, fr_int, fr_num, fr_pct
from analysis.metrics import formula_text, per_1000_inhabitants

NOT_INFERRED = ("Tous les chiffres de cette page viennent des **agrégats fournis par les plateformes** (nombre "
                "d'abonnés, répartitions par âge, genre, ville et pays). Vigie ne déduit jamais l'âge, le genre ou "
                "le lieu d'une personne à partir de son nom, de sa photo ou de ses messages.")
# Countries most often met in the follower breakdowns (ISO codes as exported), the rest stays as a code.
COUNTRY_FR = {"FR": "France", "BE": "Belgique", "CH": "Suisse", "LU": "Luxembourg", "DE": "Allemagne",
              "GB": "Royaume-Uni", "ES": "Espagne", "IT": "Italie", "PT": "Portugal", "NL": "Pays-Bas",
              "US": "États-Unis", "CA": "Canada", "MA": "Maroc", "DZ": "Algérie", "TN": "Tunisie"}
SEGMENTS_FR = {"18-24": "18-24 ans", "25-34": "25-34 ans", "40+": "40 ans et plus", "65+": "65 ans et plus"}
NO_PYRAMID = ("Aucune répartition âge × genre exportée pour ce territoire (exports « Age & gender » de Meta "
              "Business Suite ou « Lifetime Likes by Gender and Age » d'Insights).")
NO_POPULATION = ("Pas de population de référence pour ce territoire : importez-la avec "
                 "`vigie territories population FICHIER_INSEE.csv`.")
INDEX_CAPTION = ("Indice = part d'un segment parmi les abonnés ÷ sa part dans la population de 13 ans et plus "
                 "(les plateformes n'admettent pas les moins de 13 ans). 1 : aussi présent que dans la population.")
PLACES_CAPTION = ("« Dans le territoire » : abonnés dont la ville, accents et tirets ignorés, porte le nom du "
                  "territoire (sans « Ville de », « Agglomération »…) ; une intercommunalité n'est reconnue que par sa "
                  "ville-centre. Les exports ne listent que les principales villes : le reste est compté hors "
                  "territoire.")
FORMULAS = ("net_new_followers", "followers_growth", "followers_cmgr", "per_1000_inhabitants", "representativeness")


def platform_label(p: str) -> str:
    return "Tous réseaux (pondéré par les abonnés)" if p == "all" else PLATFORM_FR.get(p, p)


def growth_cards(r: Any) -> list[dict[str, Any]]:
    """The four growth figures of our territory, all networks (arguments of ``ui.kpi``)."""
    return [
        dict(label="Abonnés (fin de période)", value=int(r["followers_end"]),
             help="Somme des abonnés des comptes officiels dont l'export donne le total (une personne abonnée "
                  "à deux comptes compte deux fois)."),
        dict(label="Nouveaux abonnés nets", value=r["net_new"], decimals=0, help=formula_text("net_new_followers")),
        dict(label="Croissance", value=fr_pct(r["growth_rate"], 1, signed=True),
             help=formula_text("followers_growth") + f". Croissance mensuelle composée : "
                                                     f"{fr_pct(r['cmgr'], 2, signed=True)} ({formula_text('followers_cmgr')})."),
        dict(label="Abonnés pour 1 000 habitants", value=r["per_1000"], help=formula_text("per_1000_inhabitants")),
    ]


def followers_view(m: pd.DataFrame, terr: pd.DataFrame, names: dict[str, str], ids: tuple[str, ...],
                   focus: str) -> ChartView:
    """Followers per 1 000 inhabitants per month, ours and our peers'."""
    pops = dict(zip(terr["territory_id"], terr["population"], strict=False))
    tot = m.groupby(["territory_id", "month"], as_index=False)["followers"].sum()
    tot["Territoire"] = tot["territory_id"].map(names)
    tot["Abonnés pour 1 000 habitants"] = [per_1000_inhabitants(v, pops.get(t))
                                           for t, v in zip(tot["territory_id"], tot["followers"], strict=True)]
    tot = tot.rename(columns={"month": "Mois", "followers": "Abonnés"})
    colours = {names.get(t, t): charts.PALETTE[i % len(charts.PALETTE)] for i, t in enumerate(ids)}
    ch = charts.line_with_band(tot, "Mois", "Abonnés pour 1 000 habitants", color="Territoire",
                               title="Abonnés pour 1 000 habitants, avec les pairs",
                               subtitle="Fin de chaque mois, tous réseaux dont l'export donne le total",
                               color_title="Territoire", x_format=charts.MONTH_FORMAT, y_format=",.0f",
                               colours=colours)
    return ChartView(ch, tot[["Territoire", "Mois", "Abonnés", "Abonnés pour 1 000 habitants"]],
                     f"Abonnés pour 1 000 habitants par mois : {names.get(focus, focus)} et ses pairs.",
                     {"Mois": "month", "Abonnés pour 1 000 habitants": "num"})


def gains_only_notes(go: pd.DataFrame) -> list[str]:
    return [f"{PLATFORM_FR.get(r.platform, r.platform)} : l'export ne donne que les nouveaux abonnés quotidiens "
            f"({fr_int(r.gained)} sur la période), pas le total ; ce compte n'entre pas dans les totaux ni les taux "
            "de croissance." for r in go.itertuples()]


GROWTH_FORMATS = {"Abonnés début": "int", "Abonnés fin": "int", "Nouveaux nets": "int", "Croissance": "pct",
                  "Croissance mensuelle composée": "pct", "Pour 1 000 hab.": "num"}


def growth_table(g: pd.DataFrame) -> pd.DataFrame:
    shown = g.assign(Territoire=g["name"], Réseau=g["platform"].map(PLATFORM_FR))
    return shown[["Territoire", "Réseau", "followers_start", "followers_end", "net_new", "growth_rate", "cmgr",
                  "per_1000"]].rename(columns={
        "followers_start": "Abonnés début", "followers_end": "Abonnés fin", "net_new": "Nouveaux nets",
        "growth_rate": "Croissance", "cmgr": "Croissance mensuelle composée", "per_1000": "Pour 1 000 hab."})


def lacking_note(lack: pd.DataFrame) -> str | None:
    missing = sorted({PLATFORM_FR.get(p, p) for p in lack["platform"]}) if len(lack) else []
    return ("Sans répartition âge × genre dans les exports (non comptés dans la pyramide) : " + ", ".join(missing)
            + ".") if missing else None


def platform_options(pyr: pd.DataFrame) -> list[str]:
    plats = [p for p in pyr["platform"].unique() if p != "all"]
    return (["all"] if len(plats) > 1 else []) + sorted(plats)


def pyramid_view(pyr: pd.DataFrame, pop: pd.DataFrame, choice: str, place: str) -> ChartView:
    """Followers' age × gender pyramid of one network (or all, weighted) against the population."""
    cells = pyr[pyr["platform"] == choice]
    pf = audience_charts.pyramid_frame(cells, pop)
    src = ", ".join(sorted(set(pop["source"])))
    ch = audience_charts.pyramid_chart(
        pf, title=f"Pyramide des abonnés {PLATFORM_FR.get(choice, choice)} et de la population",
        subtitle=f"Barres : abonnés (instantané du {fr_date(cells['date'].max())}) ; traits noirs : population de "
                 f"13 ans et plus ({src})")
    return ChartView(ch, pf, f"Pyramide des âges des abonnés ({PLATFORM_FR.get(choice, choice)}) comparée à celle de "
                             f"la population de {place}, femmes à gauche, hommes à droite.",
                     {"Abonnés": "pct", "Population": "pct"})


def gender_lines(rep: pd.DataFrame, esc: Any) -> list[str]:
    """The gender split alone (e.g. Meta Business Suite FollowerGender), as markdown list items."""
    sub = rep[rep["kind"] == "sex"] if len(rep) else rep
    return [f"- {esc(r.label)} : {fr_pct(r.share_followers)} des abonnés {PLATFORM_FR.get(r.platform, r.platform)}, "
            f"{fr_pct(r.share_population)} de la population (indice {fr_num(r.index, 2)})." for r in sub.itertuples()]


def index_view(rep: pd.DataFrame, choice: str) -> tuple[list[str], ChartView]:
    """The under-reached segments' sentences and the representativeness index chart of one network."""
    mine = rep[rep["platform"] == choice]
    under = under_reached(mine)
    tab = mine[mine["kind"].isin(["age", "sex", "target"])].assign(
        Segment=lambda x: x["label"] + x["approximate"].map({True: " (approx.)", False: ""}))
    tab = tab.rename(columns={"index": "Indice", "share_followers": "Part parmi les abonnés",
                              "share_population": "Part dans la population"})
    ch = audience_charts.index_chart(tab, title="Indice de représentativité par segment",
                                     subtitle="En rouge : moins présents que dans la population")
    return list(under["sentence"]), ChartView(
        ch, tab[["Segment", "Part parmi les abonnés", "Part dans la population", "Indice"]],
        "Indice de représentativité des tranches d'âge, des femmes, des hommes et des 40 ans et plus.",
        {"Part parmi les abonnés": "pct", "Part dans la population": "pct", "Indice": "num"})


def segment_cards(pyr: pd.DataFrame, pop: pd.DataFrame, choice: str) -> list[dict[str, Any]]:
    """Share of each target segment among followers at the last snapshot (arguments of ``ui.kpi``)."""
    cells = pyr[pyr["platform"] == choice]
    bands = (cells.groupby("age_band")["share"].sum() / cells["share"].sum()).to_dict()
    frac, approx = split_40_44(pop) if len(pop) else (0.5, True)
    who = "tous réseaux, pondérés" if choice == "all" else PLATFORM_FR[choice]
    return [dict(label=SEGMENTS_FR[seg] + (" (approx.)" if ap else ""), value=fr_pct(share),
                 help=f"Part des abonnés ({who}) au dernier instantané." + (" " + SEGMENT_RULE_40 if seg == "40+" else ""))
            for seg, (share, ap) in segment_shares(bands, frac, approx).items()]


def segments_history_view(hist: pd.DataFrame, choice: str) -> ChartView | None:
    """The target segments' shares over the snapshots; None with a single snapshot."""
    h = hist if choice == "all" else hist[hist["platform"] == choice]
    if h["date"].nunique() <= 1:
        return None
    h = h.assign(Réseau=h["platform"].map(PLATFORM_FR), Segment=h["segment"].map(SEGMENTS_FR)).rename(
        columns={"date": "Instantané", "share": "Part des abonnés"})
    ch = audience_charts.segments_history(h, list(SEGMENTS_FR.values()),
                                          title="Part des segments cibles parmi les abonnés, par réseau")
    return ChartView(ch, h[["Réseau", "Segment", "Instantané", "Part des abonnés"]],
                     "Évolution de la part des 18-24, 25-34, 40 ans et plus et 65 ans et plus parmi les abonnés de "
                     "chaque réseau, à chaque instantané démographique exporté.", {"Part des abonnés": "pct"})


def rayonnement_view(ray: pd.DataFrame, names: dict[str, str], ids: tuple[str, ...], focus: str) -> ChartView:
    ra = ray[ray["platform"] == "all"].assign(Territoire=lambda x: x["name"])
    ra = ra.rename(columns={"inside": "Dans le territoire", "outside": "Hors territoire", "abroad": "À l'étranger"})
    colours = {names.get(t, t): (charts.OWN_COLOUR if t == focus else charts.PALETTE[4]) for t in ids}
    ch = audience_charts.rayonnement_bar(ra, colours, title="Part des abonnés dans le territoire, avec les pairs")
    return ChartView(ch, ra[["Territoire", "Dans le territoire", "Hors territoire", "À l'étranger"]],
                     "Part des abonnés (tous réseaux, pondérés par les abonnés) habitant la ville du territoire.",
                     {"Dans le territoire": "pct", "Hors territoire": "pct", "À l'étranger": "pct"})


def places_table(df: pd.DataFrame) -> pd.DataFrame:
    d = df[df["platform"] == "all"].sort_values("share", ascending=False).head(10)
    d = d.assign(Lieu=d["key"].replace({"Others": "Autres", **COUNTRY_FR}))
    return d[["Lieu", "share"]].rename(columns={"share": "Part"})


def method_lines(pop: pd.DataFrame, esc: Any) -> list[str]:
    lines = [f"- {formula_text(mid)}" for mid in FORMULAS] + [f"- {SEGMENT_RULE_40}"]
    if not pop.empty:
        lines.append(f"- Population de référence : {esc(', '.join(sorted(set(pop['source']))))} "
                     f"({fr_int(pop['population'].sum())} habitants"
                     + (", tranches approximées par répartition uniforme par âge" if pop["approximate"].any() else "")
                     + ").")
    return lines
