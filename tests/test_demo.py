"""The demo data set: deterministic real-format exports, imported cleanly, ground truth consistent."""

from __future__ import annotations

import hashlib
import json
from datetime import date
from pathlib import Path

import pandas as pd
import pytest

from analysis import demo, store
from analysis.registry import load_registry

# module fixtures are expensive: keep this file on one xdist worker so they are built once
pytestmark = pytest.mark.xdist_group("demo")

SCALE = 0.05


def _hashes(root: Path) -> dict[str, str]:
    return {str(p.relative_to(root)): hashlib.sha256(p.read_bytes()).hexdigest()
            for p in sorted(root.rglob("*")) if p.is_file()}


@pytest.fixture(scope="module")
def built(tmp_path_factory) -> demo.BuildReport:
    """One small build for the whole module (import is the slow part: ~230 files)."""
    root = tmp_path_factory.mktemp("demo")
    db = root / "demo.duckdb"
    return demo.build_report(exports_dir=demo.exports_dir_for(db), db=db, seed=7, scale=SCALE, enrich=False)


@pytest.fixture(scope="module")
def db(built) -> Path:
    return built.exports_dir.parent / "demo.duckdb"


def q(db: Path, sql: str, params: list | None = None) -> list[tuple]:
    with store.reader(db) as con:
        return con.execute(sql, params or []).fetchall()


def test_same_seed_same_files_other_seed_differs(tmp_path):
    demo.generate(tmp_path / "a", seed=3, scale=0.01)
    demo.generate(tmp_path / "b", seed=3, scale=0.01)
    demo.generate(tmp_path / "c", seed=4, scale=0.01)
    a, b, c = _hashes(tmp_path / "a"), _hashes(tmp_path / "b"), _hashes(tmp_path / "c")
    assert len(a) > 150 and a == b
    assert a != c
    # xlsx files are zips: their bytes are fixed too (no save-time timestamps)
    assert any(k.endswith(".xlsx") for k in a)


def test_volumes_scale_with_scale():
    reg = load_registry()
    small, big = demo.simulate(reg, 5, 0.02), demo.simulate(reg, 5, 0.06)
    ratio_posts = len(big.posts) / len(small.posts)
    ratio_msgs = len(big.messages) / len(small.messages)
    assert 2.4 < ratio_posts < 3.6
    assert 2.4 < ratio_msgs < 3.6
    # full scale would give >= 10 000 posts and >= 200 000 messages
    assert len(big.posts) / 0.06 > 10_000
    assert len(big.messages) / 0.06 > 200_000


def test_every_file_imports_ok(built, db):
    assert len(built.results) == len(built.files)
    bad = [(r.path, r.error) for r in built.results if r.status != "ok"]
    assert bad == []
    assert all(r.rejected == 0 for r in built.results)
    formats = {r.format for r in built.results}
    assert {"meta_posts", "meta_demographics", "x_tweet_activity", "x_api_v2", "generic_mapping",
            "exportcomments", "linkedin_page", "meta_ads", "crowdtangle_dashboard"} <= formats
    # byte-identical files (e.g. two empty LinkedIn years at tiny scale) are imported once
    distinct = {hashlib.sha256(Path(f["path"]).read_bytes()).hexdigest() for f in built.files}
    n_ok = q(db, "SELECT count(*) FROM imports WHERE status = 'ok'")[0][0]
    assert n_ok == len(distinct) > 200
    assert built.n_posts_store >= built.n_posts_generated  # + CrowdTangle pages' posts
    assert built.n_messages_store == built.n_messages_generated


def test_official_accounts_and_impersonator(built, db):
    gt = demo.ground_truth(db)
    reg = load_registry()
    official = {r[0] for r in q(db, "SELECT account_id FROM accounts WHERE official")}
    assert {a.account_id for a in reg.accounts} <= official
    imp = gt["impersonator"]
    row = q(db, "SELECT name, official, territory_id FROM accounts WHERE account_id = ?", [imp["account_id"]])
    assert row == [(imp["name"], False, None)]
    assert q(db, "SELECT count(*) FROM posts WHERE account_id = ?", [imp["account_id"]])[0][0] >= 1
    # every official account has posts
    per_acc = dict(q(db, "SELECT account_id, count(*) FROM posts WHERE territory_id IS NOT NULL GROUP BY 1"))
    assert set(per_acc) == {a.account_id for a in reg.accounts}


def test_campaigns_table_matches_ground_truth(built, db):
    gt = demo.ground_truth(db)
    rows = q(db, "SELECT campaign_id, territory_id, start_date, end_date, hashtags, source FROM campaigns ORDER BY 1")
    truth = sorted(gt["campaigns"], key=lambda c: c["campaign_id"])
    assert [(r[0], r[1], r[2].isoformat(), r[3].isoformat(), r[4], r[5]) for r in rows] == [
        (c["campaign_id"], "saint-aubin", c["start"], c["end"], [c["hashtag"].lower()], "demo") for c in truth]
    assert {c["campaign_id"]: c["injected_effect"] for c in truth} == {
        "ete-a-saint-aubin-2025": 0.5, "saint-aubin-a-velo-2026": 0.3, "journees-du-patrimoine-2025": 0.0}
    # the campaign hashtag is used by own posts in the window
    n = q(db, "SELECT count(*) FROM posts WHERE territory_id = 'saint-aubin' AND text ILIKE '%#EteASaintAubin%' "
              "AND created_at BETWEEN '2025-06-14' AND '2025-09-01'")[0][0]
    assert n >= 1


def test_crisis_volume_in_store(built, db):
    gt = demo.ground_truth(db)["crisis"]
    s, e = date.fromisoformat(gt["start"]), date.fromisoformat(gt["end"])
    days = (e - s).days + 1
    during = q(db, "SELECT count(*) FROM messages WHERE territory_id = 'saint-aubin' AND NOT is_official "
                   "AND created_at >= ? AND created_at < ?::DATE + 1", [s, e])[0][0]
    before = q(db, "SELECT count(*) FROM messages WHERE territory_id = 'saint-aubin' AND NOT is_official "
                   "AND created_at >= ?::DATE - 28 AND created_at < ?", [s, s])[0][0]
    ratio = (during / days) / (before / 28)
    assert 2.0 < ratio < 4.5
    tag = q(db, "SELECT min(created_at), count(*) FROM messages WHERE text LIKE '%#EauSaintAubin%'")[0]
    assert tag[0].date() >= s and tag[1] > 10  # the hashtag emerges with the crisis


def test_demographics_shares(built, db):
    gt = demo.ground_truth(db)["demographics"]
    for acc, snaps in gt.items():
        for snap, dims in snaps.items():
            for dim in ("age_gender", "gender", "city", "country"):
                if dim in dims:
                    assert sum(dims[dim].values()) == pytest.approx(1.0, abs=1e-9), (acc, snap, dim)
    rows = q(db, "SELECT account_id, date, sum(value) FROM audience_demographics "
                 "WHERE dimension = 'age_gender' AND unit = 'share' GROUP BY 1, 2")
    assert len(rows) >= 10
    assert all(abs(r[2] - 1) < 0.01 for r in rows)
    # Facebook followers: 25-44 over-represented, 65+ under-represented against the population
    pop = demo.population_table(load_registry())
    p = pop[pop.territory_id == "saint-aubin"]
    adult = p[p.age_band != "0-12"].population.sum()
    share_pop = lambda bands: p[p.age_band.isin(bands)].population.sum() / adult  # noqa: E731
    fb = gt["facebook:104857600000001"]["2026-11-01"]["age_gender"]
    share_fb = lambda bands: sum(v for k, v in fb.items() if k.split(".", 1)[1] in bands)  # noqa: E731
    assert share_fb(["25-34", "35-44"]) > 1.3 * share_pop(["25-34", "35-44"])
    assert share_fb(["65+"]) < 0.6 * share_pop(["65+"])
    assert share_fb(["13-17"]) < 0.5 * share_pop(["13-17"])


def test_population_csv_committed_and_exact():
    reg = load_registry()
    committed = pd.read_csv(demo.POPULATION_CSV)
    assert committed.equals(demo.population_table(reg))
    totals = committed.groupby("territory_id").population.sum().to_dict()
    assert totals == {t.territory_id: t.population for t in reg.territories}
    assert set(committed.age_band) == set(demo.AGE_BANDS) and set(committed.sex) == {"F", "M"}


def test_messages_ground_truth_resolves_to_store(built, db):
    gt = demo.ground_truth_messages(db)
    assert len(gt) == built.n_messages_generated
    assert gt.message_id.notna().mean() > 0.99
    ids = {r[0] for r in q(db, "SELECT message_id FROM messages")}
    assert gt.message_id.dropna().isin(ids).all()
    users = gt[~gt.is_official]
    assert 0.005 < users.is_hostile.mean() < 0.03
    assert 0.01 < (users.lang == "en").mean() < 0.04
    assert set(users.tone) == {"negative", "neutral", "positive"}
    assert users.is_question.mean() > 0.05
    # most user messages name a subject of their theme; generic ones ("Partagé 👍") are flagged
    assert 0.6 < users.theme_explicit.mean() < 0.95
    assert not users.text.str.contains(r"\b[dD]e les?\b ", regex=True).any()  # "du", "des"
    truth = json.loads((built.exports_dir / "ground_truth.json").read_text())
    roles = {a["role"] for a in truth["key_authors"]}
    assert roles == {"ambassador", "critic"}
    # ambassadors are mostly positive, critics mostly negative
    amb = users[users.author_role == "ambassador"].tone.value_counts(normalize=True)
    cri = users[users.author_role == "critic"].tone.value_counts(normalize=True)
    assert amb.get("positive", 0) > 0.6 and cri.get("negative", 0) > 0.55


def test_official_replies_faster_in_business_hours(built, db):
    rows = q(db, """
        SELECT p.created_at, r.created_at FROM messages r JOIN messages p ON r.parent_id = p.message_id
        WHERE r.is_official AND NOT p.is_official""")
    assert len(rows) > 20
    df = pd.DataFrame(rows, columns=["asked", "answered"])
    local = df.asked.dt.tz_localize("UTC").dt.tz_convert("Europe/Paris")
    bh = (local.dt.day_of_week < 5) & (local.dt.hour >= 9) & (local.dt.hour < 18)
    delay = (df.answered - df.asked).dt.total_seconds() / 3600
    assert delay[bh].median() < delay[~bh].median()


def test_rerun_changes_nothing(built, db):
    with store.reader(db) as con:
        before = store.snapshot_hash(con)
    again = demo.build_report(exports_dir=built.exports_dir, db=db, seed=7, scale=SCALE, enrich=False)
    assert again.errors == []
    assert sum(r.inserted + r.updated for r in again.results) == 0
    with store.reader(db) as con:
        after = store.snapshot_hash(con)
    assert before == after
