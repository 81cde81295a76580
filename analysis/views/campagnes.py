"""Read models of the « Campagnes » page: tables, texts and form rules, French and escaped.

Every figure comes from :mod:`analysis.campaigns` (evaluation, warnings, the explanation of each
effect); this module only shapes them for the page, so the page keeps the layout alone.
"""

from __future__ import annotations

from collections.abc import Mapping
from datetime import date, timedelta

import pandas as pd

from analysis import campaigns as camp
from analysis import metrics
from analysis.charts import campaigns as cc
from analysis.exports import escape_markdown as esc
from analysis.fmt import fr_count, fr_date, fr_int, fr_num, fr_pct, fr_period_end_included
from analysis.ingest.base import parse_number
from analysis.schema import platform_label

KPI_LABELS = {"engagement_per_post": "engagement par publication", "engagement_rate": "taux d'engagement (abonnés)",
              "posts": "publications par jour", "messages": "messages reçus par jour", "net_sentiment": "sentiment net",
              "new_followers": "nouveaux abonnés par jour"}
OBJECTIVES = ["engagement", "portée", "abonnés", "sentiment", "messages"]
DEFAULT_DAYS = 28  # four whole weeks: what a bootstrap in weekly blocks needs at least
INTRO = ("Une campagne a-t-elle marché ? L'effet est estimé par rapport à la période qui la précède et, surtout, "
         "par rapport aux territoires pairs sur les mêmes semaines : un été dont tout le monde profite n'est pas "
         "attribué à la campagne.")
EFFECTS_ALT = ("Effet de chaque indicateur avec son intervalle de confiance à 95 % ; un intervalle qui traverse la "
               "ligne zéro ne permet pas de conclure à un effet.")
WEEKLY_ALT = ("Indice hebdomadaire du territoire et de ses pairs, base 100 sur la période de référence : l'écart qui "
              "s'ouvre pendant la campagne est ce que la double différence mesure.")
POSTS_INTRO = ("Chaque publication est comparée à l'engagement médian de son propre compte (1 = habituel) : une "
               "publication Facebook d'une grande ville et une publication Instagram d'un village deviennent "
               "comparables.")


def campaigns_frame(campaigns: list[camp.Campaign], names: Mapping[str, str]) -> pd.DataFrame:
    """The « Campagnes définies » table (budget in whole euros, French; « — » when none)."""
    return pd.DataFrame([{
        "Campagne": c.name, "Territoire": names.get(c.territory_id, c.territory_id),
        "Du": fr_date(c.start_date), "Au": fr_date(c.end_date), "Jours": c.days,
        "Hashtags": " ".join("#" + h for h in c.hashtags), "Mots-clés": ", ".join(c.keywords),
        "Objectif": c.objective or "—", "Budget (€)": fr_int(c.budget),  # text: Streamlit shows a null as "None"
    } for c in campaigns])


def campaign_option(c: camp.Campaign) -> str:
    """« Été à Saint-Aubin (15 juin 2025 → 31 août 2025) » for the campaign selector."""
    return f"{c.name} ({fr_date(c.start_date)} → {fr_date(c.end_date)})"


def dates_help(last_day: date | None) -> str | None:
    return f"Par défaut : les quatre dernières semaines de données (jusqu'au {fr_date(last_day)})." if last_day else None


def form_defaults(last_day: date | None, today: date | None = None) -> tuple[date, date]:
    """Default dates of a new campaign: the last four weeks of the data (ending on its last day),
    never a window after it — a campaign of the future has nothing to evaluate yet."""
    end = last_day or today or date.today()
    return end - timedelta(days=DEFAULT_DAYS - 1), end


def parse_budget(text: str | None) -> float | None:
    """A budget typed in French (« 1 500 », « 1 500,50 € ») → euros; None when empty.

    Raises ValueError (French) for text that is no amount or a negative one."""
    t = (text or "").replace("€", "").strip()
    if not t:
        return None
    try:
        v = parse_number(t, decimal=",")
    except ValueError as e:
        raise ValueError(f"budget illisible : « {text} » (exemple : 1 500 ou 1 500,50)") from e
    if v is None or v < 0:
        raise ValueError(f"budget illisible : « {text} » (un montant positif en euros)")
    return v


def new_campaign(campaign_id: str, name: str, territory: str, dates: object, hashtags: str, keywords: str,
                 objective: str | None, budget: str | None) -> camp.Campaign:
    """The campaign the form describes; ValueError (French) for a missing name, id or date, or a bad budget."""
    if not name.strip() or not campaign_id.strip():
        raise ValueError("le nom et l'identifiant sont obligatoires")
    if not (isinstance(dates, tuple | list) and len(dates) == 2):
        raise ValueError("choisissez une date de début et une date de fin")
    return camp.Campaign(campaign_id.strip(), name.strip(), territory, dates[0], dates[1], hashtags, keywords, [],
                         objective, parse_budget(budget), "app")


def verdict_kind(r: camp.KPIResult) -> str:
    """How the page shows a verdict: ``success`` (net rise), ``error`` (net fall), ``info`` (no
    demonstrated effect) or ``warning`` (not enough data)."""
    main = r.did if r.did is not None and r.did.estimate is not None else r.before_after
    if main.estimate is None:
        return "warning"
    if main.significant:
        return "success" if main.estimate > 0 else "error"
    return "info"


def evaluation_header(ev: camp.Evaluation, names: Mapping[str, str]) -> str:
    """One line: campaign, territory, dates, matched posts, reference and compared territories (escaped)."""
    c = ev.campaign
    peers = ", ".join(esc(names.get(p, p)) for p in ev.peers) or "aucun"
    return (f"**{esc(c.name)}** — {esc(names.get(c.territory_id, c.territory_id))}, du {fr_date(c.start_date)} au "
            f"{fr_date(c.end_date)} · {fr_count(ev.matched_posts, 'publication')} portant ses hashtags ou mots-clés · "
            f"référence {fr_period_end_included(ev.baseline[0], ev.baseline[1])} · territoires comparés : {peers}.")


def excluded_lines(ev: camp.Evaluation) -> list[str]:
    return [f"Jours écartés {fr_period_end_included(a, b)} : {esc(why)}." for a, b, why in ev.excluded]


def levels_frame(ev: camp.Evaluation) -> pd.DataFrame:
    """Levels and effects per KPI; the main effect's explanation is given beside each verdict."""
    lv = camp.level_text
    return pd.DataFrame([{
        "Indicateur": r.name, "Référence": lv(r.kpi, r.own_pre), "Campagne": lv(r.kpi, r.own_post),
        "Pairs (référence)": lv(r.kpi, r.peers_pre), "Pairs (campagne)": lv(r.kpi, r.peers_post),
        "Avant/après": r.before_after.fr(), "Par rapport aux pairs": r.did.fr() if r.did else "—",
        "Jours (réf. / campagne)": f"{r.n_pre_days} / {r.n_post_days}",
    } for r in ev.results])


def relative_effects(ev: camp.Evaluation) -> pd.DataFrame:
    """The forest plot's rows: effects in % (the KPIs in points have their own scale)."""
    eff = cc.effects_frame(ev.results)
    return eff[eff["relatif"].fillna(False).astype(bool)].drop(columns="relatif")  # object dtype when empty


def weekly_frame(wk: pd.DataFrame) -> pd.DataFrame:
    return wk.rename(columns={"group": "Série", "start": "Semaine du", "value": "Valeur", "index": "Indice",
                              "period": "Période"}).drop(columns="week")


def method_markdown(ev: camp.Evaluation) -> str:
    return (f"- Spécification des métriques **v{ev.metrics_version}** ; bootstrap par blocs de {ev.block_days} jours, "
            f"{fr_int(ev.n_boot)} tirages, graine {ev.seed} (résultat reproductible).\n"
            "- Double différence : (log(campagne ÷ référence) du territoire) − (log(campagne ÷ référence) des pairs), "
            "exprimée en % ; les jours de la référence et de la campagne sont rééchantillonnés par blocs, les mêmes "
            "pour le territoire et ses pairs.\n"
            + "\n".join(f"- {esc(r.name)} = {esc(r.formula)}" for r in ev.results)
            + f"\n- {metrics.formula_text('engagement')}")


def posts_frame(d: pd.DataFrame) -> pd.DataFrame:
    """Best or worst posts: date, platform (French name), engagement, × median, why, text."""
    return pd.DataFrame({"Date": d["created_at"], "Plateforme": d["platform"].map(platform_label),
                         "Engagement": d["engagement"], "× médiane": d["rel"], "Pourquoi": d["pourquoi"],
                         "Texte": d["text"].fillna("").str.slice(0, 120)})


def performance_frame(posts: pd.DataFrame, by: str, label: str, theme_labels: Mapping[str, str]) -> pd.DataFrame:
    perf = camp.performance_by(posts, by)
    if by == "theme":  # French labels, not taxonomy ids
        perf[by] = perf[by].map(lambda t: theme_labels.get(t, t))
    return perf.rename(columns={by: label, "posts": "Publications", "engagement_per_post": "Engagement par publication",
                                "median_rel": "× médiane du compte"})


def heatmap_frame(heat: pd.DataFrame) -> pd.DataFrame:
    return heat[["jour", "hour", "n", "raw_index", "index"]].rename(columns={
        "jour": "Jour", "hour": "Heure", "n": "Publications", "raw_index": "Indice brut", "index": "Indice corrigé"})


def heatmap_caption(heat: pd.DataFrame) -> str:
    best = heat.nlargest(3, "index")
    return "Créneaux les plus porteurs après correction des cases peu remplies : " + " ; ".join(
        f"{r.jour} {int(r.hour)} h ({fr_num(r.index, 2)}, {fr_int(r.n)} publ.)" for r in best.itertuples()) + "."


def reach_caption(posts: pd.DataFrame) -> str:
    return (f"Taux d'engagement médian (portée) : {fr_pct(posts['er_reach'].median(), 2)} sur "
            f"{fr_int(posts['er_reach'].notna().sum())} publications qui exportent la portée ; "
            f"{metrics.formula_text('er_reach')}.")
