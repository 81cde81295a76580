"""Audience: growth formulas, representativeness on a hand-computed example, INSEE reader, demo truth,
real legacy Insights / MBS demographics end to end."""

from __future__ import annotations

from datetime import date
from pathlib import Path

import pandas as pd
import pytest

from analysis import audience as A
from analysis import derived_refresh, store
from analysis.audience import core as audience_core
from analysis.ingest import default_context, import_paths
from analysis.queries import Filters

FIX = Path(__file__).resolve().parent / "fixtures" / "audience"
OWN_FB = "facebook:104857600000001"  # Saint-Aubin-sur-Loire's page in data/territories.toml


# ------------------------------------------------------------------------------ formulas
def test_growth_formulas():
    assert A.net_new_followers(1000, 1100) == 100
    assert A.growth_rate(1000, 1100) == pytest.approx(0.1)
    # 21 % over two mean months = 10 % a month compounded
    assert A.compound_monthly_growth_rate(1000, 1210, 2 * A.AVG_MONTH_DAYS) == pytest.approx(0.1)
    assert A.compound_monthly_growth_rate(1000, 1100, 365.2425) == pytest.approx(1.1 ** (1 / 12) - 1)
    assert A.per_1000_inhabitants(4825, 48250) == pytest.approx(100.0)
    # missing is not zero
    assert A.growth_rate(None, 1100) is None and A.growth_rate(0, 10) is None
    assert A.compound_monthly_growth_rate(1000, 1100, 0) is None
    assert A.per_1000_inhabitants(10, None) is None
    assert A.net_new_followers(float("nan"), 3) is None


def test_combine_weighted_by_followers():
    comb = A.combine_weighted({"a": {"x": 0.5, "y": 0.5}, "b": {"x": 1.0}, "c": {"y": 1.0}},
                              {"a": 100, "b": 300, "c": None})
    assert comb == pytest.approx({"x": 0.875, "y": 0.125})  # c has no weight: left out


# ------------------------------------------------------------------------------ representativeness
def _hand_example() -> tuple[pd.DataFrame, pd.DataFrame]:
    fol = pd.DataFrame([("F", "18-24", 0.2), ("M", "18-24", 0.2), ("F", "45-54", 0.2), ("M", "45-54", 0.2),
                        ("F", "65+", 0.1), ("M", "65+", 0.1)], columns=["gender", "age_band", "share"])
    pop = pd.DataFrame([("t", "F", "0-12", 100), ("t", "M", "0-12", 100), ("t", "F", "18-24", 50),
                        ("t", "M", "18-24", 50), ("t", "F", "45-54", 100), ("t", "M", "45-54", 100),
                        ("t", "F", "65+", 150), ("t", "M", "65+", 50)],
                       columns=["territory_id", "sex", "age_band", "population"]).assign(approximate=False)
    return fol, pop


def test_representativeness_hand_computed():
    fol, pop = _hand_example()
    full = A.representativeness_table(fol, pop)
    t = full[full["kind"] != "target"].set_index("segment")
    # 13+ population = 500 (the 200 children are outside the base): 18-24 20 %, 45-54 40 %, 65+ 40 %
    assert t.loc["18-24", "share_population"] == pytest.approx(0.2)
    assert t.loc["18-24", "index"] == pytest.approx(2.0)
    assert t.loc["45-54", "index"] == pytest.approx(1.0)
    assert t.loc["65+", "index"] == pytest.approx(0.5)
    assert t.loc["F", "index"] == pytest.approx(0.5 / 0.6) and t.loc["M", "index"] == pytest.approx(1.25)
    assert t.loc["F.65+", "index"] == pytest.approx(0.1 / 0.3)
    assert pd.isna(t.loc["25-34", "index"])  # nobody of that age in the population: undefined, not 0
    # 40+: no 35-39/40-44 split in this population → half of 35-44, flagged approximate
    row = full[full["kind"] == "target"].set_index("segment").loc["40+"]
    assert (row["share_followers"], row["share_population"]) == pytest.approx((0.6, 0.8))
    assert row["index"] == pytest.approx(0.75) and bool(row["approximate"])
    rep = A.representativeness_table(fol, pop).assign(territory_id="t", platform="facebook")
    under = A.under_reached(rep)
    assert list(under["segment"]) == ["65+", "40+"]
    assert under["sentence"].iloc[0] == ("Les 65 ans et plus sont 2,0 fois moins présents parmi vos abonnés "
                                         "Facebook que dans la population.")
    assert under["sentence"].iloc[1] == ("Les 40 ans et plus sont 25\u00a0% moins présents parmi vos abonnés "
                                         "Facebook que dans la population.")
    assert A.sentence("Les femmes", 1 / 2.3, "all").startswith("Les femmes sont 2,3 fois moins présentes")


def test_40_plus_uses_census_split():
    fol = pd.DataFrame([("F", "35-44", 0.5), ("F", "45-54", 0.5)], columns=["gender", "age_band", "share"])
    pop = pd.DataFrame([("t", "F", "35-39", 30.0, False), ("t", "F", "40-44", 10.0, False),
                        ("t", "F", "45-54", 60.0, False)],
                       columns=["territory_id", "sex", "age_band", "population", "approximate"])
    t = A.representativeness_table(fol, pop)
    row = t[(t["kind"] == "target") & (t["segment"] == "40+")].iloc[0]
    # followers: 10/40 of their 35-44 are counted 40-44 → 0.125 + 0.5 ; population: (10 + 60) / 100
    assert row["share_followers"] == pytest.approx(0.625) and row["share_population"] == pytest.approx(0.7)
    assert not row["approximate"]
    assert t[t["kind"] == "age"].set_index("segment").loc["35-44", "share_population"] == pytest.approx(0.4)


# ------------------------------------------------------------------------------ INSEE reader
def test_insee_single_year_cp1252_comma_decimals():
    res = A.read_insee_population(FIX / "insee_aged100.csv", {"49901": "saint-aubin"})
    assert res.unmatched_codes == ["99999"] and res.rows_read == 14 and res.age_column == "AGED100"
    p = res.population.set_index(["sex", "age_band"])["population"].to_dict()
    assert p == {("M", "0-12"): 10, ("M", "13-17"): 20, ("F", "13-17"): 5.5, ("M", "18-24"): 30,
                 ("F", "18-24"): 10, ("M", "25-34"): 40.25, ("F", "35-39"): 15, ("F", "40-44"): 25,
                 ("M", "45-54"): 12, ("F", "55-64"): 8, ("M", "65+"): 7, ("F", "65+"): 3}
    assert not res.population["approximate"].any()
    assert set(res.population["source"]) == {"insee_aged100.csv"}


def test_insee_five_year_bands_split_uniformly():
    res = A.read_insee_population(FIX / "insee_ageq80.csv", territory="port-marel")
    p = res.population.set_index(["sex", "age_band"])
    # 10-14 → 3 years 0-12, 2 years 13-17 ; 15-19 → 3 years 13-17, 2 years 18-24 ; 80 = 80 and over
    assert p.loc[("F", "0-12"), "population"] == pytest.approx(60)
    assert p.loc[("F", "13-17"), "population"] == pytest.approx(40 + 30)
    assert p.loc[("F", "18-24"), "population"] == pytest.approx(20)
    assert p.loc[("M", "35-39"), "population"] == 20 and not p.loc[("M", "35-39"), "approximate"]
    assert p.loc[("M", "65+"), "population"] == 9
    assert p.loc[("F", "13-17"), "approximate"] and p.loc[("F", "18-24"), "approximate"]


def test_insee_text_bands_and_errors(tmp_path):
    assert A._age_interval("AGE", "15 à 19 ans", None) == (15, 19)
    assert A._age_interval("AGE", "Y15T19", None) == (15, 19)
    assert A._age_interval("AGE", "80 ans ou plus", None) == (80, 200)
    assert A._age_interval("AGE", "Y_GE95", None) == (95, 200)
    bad = tmp_path / "bad.csv"
    bad.write_text("CODGEO;SEXE;NB\n49901;1;3\n", encoding="utf-8")
    with pytest.raises(A.PopulationFileError, match="âge"):
        A.read_insee_population(bad, {"49901": "saint-aubin"})
    bad.write_text("CODGEO;SEXE;AGED100;NB\n49901;7;3;1\n", encoding="utf-8")
    with pytest.raises(A.PopulationFileError, match="ligne 2, colonne SEXE"):
        A.read_insee_population(bad, {"49901": "saint-aubin"})


def test_store_population_replaces_and_is_read_first(db):
    res = A.read_insee_population(FIX / "insee_aged100.csv", {"49901": "saint-aubin"})
    with derived_refresh.writer(db) as con:
        store.migrate(con)
        assert A.store_population(con, res.population) == 12
        assert A.store_population(con, res.population) == 12  # replaced, not duplicated
        ref = A.population_reference(con, ["saint-aubin", "port-marel"])
    own = ref[ref["territory_id"] == "saint-aubin"]
    assert own["population"].sum() == pytest.approx(185.75) and set(own["source"]) == {"insee_aged100.csv"}
    # peers without an INSEE import keep the shipped demo reference
    assert ref.loc[ref["territory_id"] == "port-marel", "population"].sum() == 31400
    assert A.split_40_44(own) == (pytest.approx(25 / 40), False)


def test_cli_territories_population(db):
    from typer.testing import CliRunner

    from analysis.cli import app

    r = CliRunner().invoke(app, ["territories", "population", str(FIX / "insee_aged100.csv")])
    assert r.exit_code == 0, r.output
    assert "1 code commune hors registre ignoré" in r.output
    with store.reader(db) as con:
        assert con.execute("SELECT sum(population) FROM population").fetchone()[0] == pytest.approx(185.75)
    assert CliRunner().invoke(app, ["territories"]).exit_code == 0  # the listing still works


# ------------------------------------------------------------------------------ small store
def _small_store(db: Path) -> None:
    """Two Saint-Aubin accounts with followers and shares; weights 3 000 and 1 000 followers."""
    from analysis.registry import load_registry, sync_registry

    with derived_refresh.writer(db) as con:
        store.migrate(con)
        sync_registry(con, load_registry())
        fol = pd.DataFrame({"account_id": [OWN_FB] * 3 + ["instagram:178414000000001"] * 2,
                            "date": [date(2026, 1, 1), date(2026, 2, 1), date(2026, 3, 2), date(2026, 1, 1),
                                     date(2026, 3, 2)],
                            "followers": [2000, 2500, 3000, 1000, 1000], "new_followers": [None, 600, 600, None, None],
                            "lost_followers": [None, 100, 100, None, None]})
        store.upsert(con, "audience_followers", fol)
        rows = []
        for aid, cells in ((OWN_FB, {"F.65+": 0.5, "M.25-34": 0.5}), ("instagram:178414000000001", {"F.18-24": 1.0})):
            for k, v in cells.items():
                rows.append({"account_id": aid, "date": date(2026, 3, 1), "dimension": "age_gender", "key": k,
                             "gender": k[0], "age_band": k[2:], "value": v, "unit": "share"})
            rows.append({"account_id": aid, "date": date(2026, 3, 1), "dimension": "city",
                         "key": "Saint Aubin sur Loire, Pays de la Loire, France" if aid == OWN_FB else "Angers",
                         "gender": None, "age_band": None, "value": 0.4, "unit": "share"})
        store.upsert(con, "audience_demographics", pd.DataFrame(rows))


def test_small_store_growth_pyramid_places(db):
    _small_store(db)
    with store.reader(db) as con:
        g = A.growth(con).set_index("account_id")
        fb = g.loc[OWN_FB]
        assert (fb["followers_start"], fb["followers_end"], fb["net_new"]) == (2000, 3000, 1000)
        assert fb["growth_rate"] == pytest.approx(0.5)
        assert fb["cmgr"] == pytest.approx(1.5 ** (A.AVG_MONTH_DAYS / 60) - 1)
        assert (fb["gained"], fb["lost"]) == (1200, 200)
        assert pd.isna(g.loc["instagram:178414000000001", "gained"])  # not exported: missing, not 0
        assert fb["per_1000"] == pytest.approx(3000 / 48.25)
        pyr = A.pyramid(con, Filters(territories=("saint-aubin",)))
        allp = pyr[pyr["platform"] == "all"].set_index(["gender", "age_band"])["share"]
        # weights = followers on the snapshot day (last day before it): 2 500 (FB) and 1 000 (IG)
        assert allp[("F", "65+")] == pytest.approx(0.5 * 2500 / 3500)
        assert allp[("F", "18-24")] == pytest.approx(1000 / 3500)
        lack = A.lacking_breakdown(con, Filters(territories=("saint-aubin",)))
        assert set(lack["platform"]) == {"x", "linkedin", "youtube", "bluesky", "mastodon", "tiktok"}
        ray = A.rayonnement(con, Filters(territories=("saint-aubin",))).set_index("platform")
        assert ray.loc["facebook", "inside"] == pytest.approx(0.4)  # hyphens/accents folded
        assert ray.loc["instagram", "inside"] == 0
        assert ray.loc["all", "inside"] == pytest.approx(0.4 * 2500 / 3500)
        assert pd.isna(ray.loc["all", "abroad"])  # no country breakdown exported


def test_snapshot_weights_each_rule(db):
    """The weight of a snapshot: followers on its day or the last day before, else the first day after;
    without follower rows, the breakdown's counts when it gives counts, else none."""
    _small_store(db)
    day = pd.Timestamp
    snaps = pd.DataFrame({
        "account_id": [OWN_FB, OWN_FB, OWN_FB, "x:1", "x:1", "tiktok:2"],
        "date": [day("2026-02-01"), day("2026-02-20"), day("2025-12-01"), day("2026-03-01"), day("2026-03-01"),
                 day("2026-03-01")],
        "unit": ["share", "share", "share", None, "count", "share"],
        "value": [0.5, 0.5, 1.0, 3.0, 5.0, 0.4]})
    with store.reader(db) as con:
        w = audience_core._weights(con, snaps)
    got = {(r.account_id, r.date.date().isoformat()): (None if pd.isna(r.weight) else r.weight,
                                                       None if pd.isna(r.weight_source) else r.weight_source)
           for r in w.itertuples()}
    assert got == {
        (OWN_FB, "2025-12-01"): (2000.0, "abonnés"),  # before every follower row: the first one
        (OWN_FB, "2026-02-01"): (2500.0, "abonnés"),  # on the day
        (OWN_FB, "2026-02-20"): (2500.0, "abonnés"),  # the last day before
        ("tiktok:2", "2026-03-01"): (None, None),  # shares and no followers: no weight
        ("x:1", "2026-03-01"): (8.0, "effectifs de la ventilation"),  # the first unit given; 3 + 5
    }
    assert list(w["account_id"]) == sorted(w["account_id"])


def test_city_matching_rule():
    assert A.city_in_territory("Saint-Aubin-sur-Loire, Pays de la Loire, France", "Saint-Aubin-sur-Loire")
    assert A.city_in_territory("St Aubin sur Loire", "Saint-Aubin-sur-Loire")
    assert A.city_in_territory("Montclar, Occitanie, France", "Montclar Agglomération")
    assert A.city_in_territory("Villeneuve les Sources", "Ville de Villeneuve-les-Sources")
    assert not A.city_in_territory("Angers, Pays de la Loire, France", "Saint-Aubin-sur-Loire")
    assert not A.city_in_territory("Others", "Port-Marel")


# ------------------------------------------------------------------------------ demo store truth
def test_demo_matches_injected_demographics(demo_db):
    from analysis.demo import ground_truth

    truth = ground_truth(demo_db)["demographics"]
    with store.reader(demo_db) as con:
        pyr = A.pyramid(con)
        hist = A.pyramid_history(con)
        cities = A.places(con, dimension="city")
        fol = con.execute("SELECT account_id, date, followers FROM audience_followers WHERE followers IS NOT NULL").df()
    checked = 0
    for aid, snaps in truth.items():
        if not snaps or "age_gender" not in next(iter(snaps.values())):
            continue
        last = max(snaps)
        got = pyr[pyr["account_id"] == aid]
        assert str(got["date"].iloc[0])[:10] == last
        got = dict(zip(got["gender"] + "." + got["age_band"], got["share"], strict=True))
        # exports carry 4 decimals: equal to the injected share rounded as written
        assert got == {k: pytest.approx(round(v, 4), abs=1e-12) for k, v in snaps[last]["age_gender"].items()}
        c = cities[cities["account_id"] == aid]
        assert dict(zip(c["key"], c["share"], strict=True)) == {
            k: pytest.approx(round(v, 4), abs=1e-12) for k, v in snaps[last]["city"].items()}
        # history: one row per snapshot, 65+ share as injected
        h = hist[(hist["account_id"] == aid) & (hist["segment"] == "65+")]
        assert len(h) == len(snaps)
        for d, sh in zip(h["date"], h["share"], strict=True):
            ag = snaps[str(d)[:10]]["age_gender"]
            assert sh == pytest.approx(round(ag["F.65+"], 4) + round(ag["M.65+"], 4), abs=1e-12)
        checked += 1
    assert checked >= 10  # facebook + instagram of 5 territories
    # the combined pyramid is the follower-weighted mean of the platforms, from the injected shares
    own = pyr[(pyr["territory_id"] == "saint-aubin")]
    accs = [a for a in own["account_id"].dropna().unique()]
    snap = max(truth[accs[0]])
    w = {}
    for a in accs:
        s = fol[(fol["account_id"] == a) & (fol["date"] <= pd.Timestamp(snap))]
        w[a] = float(s.sort_values("date")["followers"].iloc[-1])
    exp = sum(w[a] * round(truth[a][snap]["age_gender"]["F.25-34"], 4) for a in accs) / sum(w.values())
    got = own[(own["platform"] == "all") & (own["gender"] == "F") & (own["age_band"] == "25-34")]["share"].iloc[0]
    assert got == pytest.approx(exp, abs=1e-12)


def test_demo_representativeness_and_rayonnement(demo_db):
    from analysis.demo import PLACES, ground_truth

    truth = ground_truth(demo_db)["demographics"]
    with store.reader(demo_db) as con:
        s = A.summary(con, "saint-aubin")
    rep = s["representativeness"].set_index(["platform", "segment"])
    pop = pd.read_csv(A.DEMO_POPULATION_CSV)
    pop = pop[(pop["territory_id"] == "saint-aubin") & (pop["age_band"] != "0-12")]
    share_pop_65 = pop.loc[pop["age_band"] == "65+", "population"].sum() / pop["population"].sum()
    fb = next(a for a in truth if a.startswith("facebook:1048576") and a.endswith("01"))
    ag = truth[fb][max(truth[fb])]["age_gender"]
    share_fb_65 = (round(ag["F.65+"], 4) + round(ag["M.65+"], 4)) / sum(round(v, 4) for v in ag.values())
    assert rep.loc[("facebook", "65+"), "index"] == pytest.approx(share_fb_65 / share_pop_65, abs=1e-12)
    assert rep.loc[("facebook", "65+"), "index"] < 0.5  # injected propensity 0,4
    assert any("65 ans et plus" in x and "Facebook" in x for x in s["under_reached"]["sentence"])
    ray = s["rayonnement"].set_index(["territory_id", "platform"])
    for tid, (city, _, region) in PLACES.items():
        acc = next(a for a in truth if a.startswith("facebook:") and ray.index.isin([(tid, "facebook")]).any()
                   and truth[a] and f"{city}, {region}, France" in next(iter(truth[a].values()))["city"])
        assert ray.loc[(tid, "facebook"), "inside"] == pytest.approx(
            round(truth[acc][max(truth[acc])]["city"][f"{city}, {region}, France"], 4), abs=1e-12)
    assert set(s["lacking"]["platform"]) == {"x", "linkedin", "youtube", "bluesky", "mastodon", "tiktok"}
    with store.reader(demo_db) as con:
        go = A.gains_only(con, Filters(territories=("saint-aubin",)))
    assert list(go["platform"]) == ["linkedin"]  # daily follows only: outside totals and rates
    g = s["growth"].set_index(["territory_id", "platform"])
    assert g.loc[("saint-aubin", "all"), "followers_end"] == sum(
        g.loc[("saint-aubin", p), "followers_end"] for p in ("facebook", "instagram", "bluesky", "mastodon", "tiktok"))


# ------------------------------------------------------------------------------ real samples
LEGACY = "Facebook Insights Data Export - Visualization Studio VIC - 2015-08-19 - 2016-02-15.csv"


def test_real_legacy_insights_feed_pyramid(db, shared_formats):
    path = shared_formats / "facebook_insights_legacy_vicvisual" / LEGACY
    with derived_refresh.writer(db) as con:
        res = import_paths(con, [path], default_context(account_hint=OWN_FB))
        assert res[0].status == "ok", res[0].error
    # expected shares straight from the file: last row carrying the age × gender breakdown
    raw = pd.read_csv(path, encoding="cp1252", skiprows=[1], low_memory=False)
    cols = [c for c in raw.columns if c.startswith("Lifetime Likes by Gender and Age - ")]
    last = raw[raw[cols].notna().any(axis=1)].iloc[-1]
    counts = {c.split(" - ", 1)[1]: float(last[c]) for c in cols if pd.notna(last[c])}
    with store.reader(db) as con:
        pyr = A.pyramid(con, Filters(territories=("saint-aubin",)))
        rep = A.representativeness(con, Filters(territories=("saint-aubin",)))
    fb = pyr[pyr["platform"] == "facebook"]
    got = dict(zip(fb["gender"] + "." + fb["age_band"], fb["share"], strict=True))
    total = sum(counts.values())
    assert got == {k: pytest.approx(v / total) for k, v in counts.items()}
    assert fb["weight"].iloc[0] > 0  # weighted by the page's lifetime likes of that day
    r = rep[rep["platform"] == "facebook"].set_index("segment")
    assert set(A.BANDS) <= set(r.index) and r.loc["F", "share_followers"] + r.loc["M", "share_followers"] == \
        pytest.approx(1.0)


def test_real_mbs_gender_and_territories(db, shared_formats):
    folder = shared_formats / "meta_business_suite_en_pcm" / "Demographics"
    with derived_refresh.writer(db) as con:
        res = import_paths(con, [folder / "FollowerGender.csv", folder / "FollowerTopTerritories.csv"],
                           default_context(account_hint=OWN_FB, snapshot_date=date(2025, 9, 30)))
        assert all(r.status == "ok" for r in res), [r.error for r in res]
    f = Filters(territories=("saint-aubin",))
    with store.reader(db) as con:
        gen = A.gender_split(con, f)
        rep = A.representativeness(con, f).set_index(["platform", "segment"])
        countries = A.places(con, f, "country")
        ray = A.rayonnement(con, f)
        assert A.pyramid(con, f).empty  # no age × gender in these files: no pyramid, said so
        cov = A.breakdown_coverage(con, f).set_index("account_id")
    g = gen[gen["platform"] == "facebook"].set_index("gender")["share"]
    assert (g["M"], g["F"], g["U"]) == pytest.approx((0.75, 0.24, 0.01))
    assert rep.loc[("facebook", "M"), "share_followers"] == pytest.approx(0.75 / 0.99)
    assert rep.loc[("facebook", "F"), "index"] == pytest.approx((0.24 / 0.99) / rep.loc[("facebook", "F"),
                                                                                         "share_population"])
    c = countries[countries["platform"] == "facebook"].set_index("key")["share"]
    assert c["PH"] == pytest.approx(0.704) and c["Others"] == pytest.approx(0.185)
    assert ray.empty  # no city breakdown: no « rayonnement » invented
    assert bool(cov.loc[OWN_FB, "gender"]) and not bool(cov.loc[OWN_FB, "age_gender"])


def test_cli_audience_summary(db):
    from typer.testing import CliRunner

    from analysis.cli import app

    _small_store(db)
    r = CliRunner().invoke(app, ["audience", "summary", "--territory", "saint-aubin"], env={"COLUMNS": "200"})
    assert r.exit_code == 0, r.output
    assert "Croissance des abonnés — Saint-Aubin-sur-Loire" in r.output
    assert "+50,0\u00a0%" in r.output  # Facebook 2 000 → 3 000
    assert "Les 45-54 ans sont absents de vos abonnés (réseaux qui donnent l'âge et le sexe) d'après les plateformes." in \
        " ".join(r.output.split())
    assert ("Sans ventilation âge × genre dans les exports : Bluesky, LinkedIn, Mastodon, TikTok, X (Twitter), "
            "YouTube.") in " ".join(r.output.split())
    bad = CliRunner().invoke(app, ["audience", "summary", "--territory", "nulle-part"])
    assert bad.exit_code == 1 and "Territoire inconnu : nulle-part" in bad.output
