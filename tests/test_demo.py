"""The demo data set: deterministic real-format exports, imported cleanly, ground truth consistent."""

from __future__ import annotations

import hashlib
import json
from datetime import date
from pathlib import Path

import pandas as pd
import pytest

from analysis import demo, store
from analysis.demo import build as demo_build
from analysis.registry import load_registry

# module fixtures are expensive: keep this file on one xdist worker so they are built once
pytestmark = pytest.mark.xdist_group("demo")

SCALE = 0.05


def _hashes(root: Path) -> dict[str, str]:
    return {str(p.relative_to(root)): hashlib.sha256(p.read_bytes()).hexdigest()
            for p in sorted(root.rglob("*")) if p.is_file()}


@pytest.fixture(scope="session")
def built(tmp_path_factory) -> demo_build.BuildReport:
    """One small build for the whole module (import is the slow part: ~230 files)."""
    root = tmp_path_factory.mktemp("demo")
    db = root / "demo.duckdb"
    return demo_build.build_report(exports_dir=demo.exports_dir_for(db), db=db, seed=7, scale=SCALE, enrich=False)


@pytest.fixture(scope="session")
def db(built) -> Path:
    return built.exports_dir.parent / "demo.duckdb"


def q(db: Path, sql: str, params: list | None = None) -> list[tuple]:
    with store.reader(db) as con:
        return con.execute(sql, params or []).fetchall()


def test_same_seed_same_files_other_seed_differs(tmp_path):
    demo_build.generate(tmp_path / "a", seed=3, scale=0.01)
    demo_build.generate(tmp_path / "b", seed=3, scale=0.01)
    demo_build.generate(tmp_path / "c", seed=4, scale=0.01)
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
            "exportcomments", "linkedin_page", "meta_ads", "crowdtangle_dashboard", "tiktok_overview",
            "tiktok_content", "tiktok_follower_history", "tiktok_demographics", "bluesky_api", "mastodon_api",
            "rss_feed"} <= formats
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
    again = demo_build.build_report(exports_dir=built.exports_dir, db=db, seed=7, scale=SCALE, enrich=False)
    assert again.errors == []
    assert sum(r.inserted + r.updated for r in again.results) == 0
    # the collection again: every source read, nothing new (feeds answer 304, threads unchanged)
    assert [r.status for r in again.collected] == ["ok"] * len(built.collected)
    assert sum(r.inserted + r.updated + r.deleted + r.edited for r in again.collected) == 0
    assert sum(r.requests for r in again.collected) < sum(r.requests for r in built.collected) / 2
    with store.reader(db) as con:
        after = store.snapshot_hash(con)
    assert before == after


# ------------------------------------------------------------------------------ Bluesky, Mastodon, TikTok, press
NEW = ("bluesky", "mastodon", "tiktok", "press")


def test_new_platforms_generated_equals_stored(built, db):
    """Every message of the new platforms is in the store, with its kind, territory and time."""
    gt = demo.ground_truth_messages(db)
    gt = gt[gt.platform.isin(NEW)]
    assert set(gt.platform) == set(NEW)
    stored = pd.DataFrame(q(db, "SELECT message_id, kind, territory_id, created_at, is_official FROM messages "
                                "WHERE platform IN ('bluesky', 'mastodon', 'tiktok', 'press')"),
                          columns=["message_id", "kind_s", "territory_s", "created_s", "official_s"])
    assert len(stored) == len(gt)
    m = gt.merge(stored, on="message_id", how="left")
    assert m.kind_s.notna().all()
    assert (m.kind == m.kind_s).all() and (m.territory_id == m.territory_s).all()
    assert (pd.to_datetime(m.created_at) == m.created_s).all()
    # 4CAT's TikTok comments do not say which author is the town: unknown, never « false »
    assert (m.is_official == m.official_s.astype(object).where(m.platform != "tiktok", False)).all()
    assert q(db, "SELECT count(*) FROM messages WHERE platform = 'tiktok' AND is_official IS NOT NULL")[0][0] == 0
    kinds = set(zip(m.platform, m.kind, m.is_official, strict=True))
    assert {("bluesky", "reply", False), ("bluesky", "reply", True), ("bluesky", "mention", False),
            ("mastodon", "reply", False), ("mastodon", "reply", True), ("mastodon", "mention", False),
            ("tiktok", "comment", False), ("press", "article", False)} <= kinds
    # TikTok comments (a 4CAT export) hang under the videos of the Studio export
    assert q(db, "SELECT count(*) FROM messages m LEFT JOIN posts p USING (post_id) WHERE m.platform = 'tiktok' "
                 "AND p.post_id IS NULL")[0][0] == 0
    # official replies are threaded (response times), press articles are addressed to no account
    assert q(db, "SELECT count(*) FROM messages WHERE platform IN ('bluesky', 'mastodon') AND is_official "
                 "AND parent_id IS NULL")[0][0] == 0
    assert q(db, "SELECT count(*) FROM messages WHERE platform = 'press' AND account_id IS NOT NULL")[0][0] == 0
    # a mention that @-mentions the town is addressed to its account (the moderation queue needs it)
    addressed = q(db, "SELECT count(*) FILTER (WHERE account_id IS NOT NULL), count(*) FROM messages "
                      "WHERE platform = 'bluesky' AND kind = 'mention' AND text LIKE '@saintaubinsurloire%'")[0]
    assert addressed[1] > 0 and addressed[0] == addressed[1]


def test_new_platforms_posts_and_followers(built, db):
    truth = demo.ground_truth(db)["new_platforms"]
    posts = dict(q(db, "SELECT platform, count(*) FROM posts WHERE platform IN ('bluesky', 'mastodon', 'tiktok') "
                       "GROUP BY 1"))
    assert posts == {p: n for p, n in truth["posts"].items() if n}
    assert set(posts) == {"bluesky", "mastodon", "tiktok"}
    # the towns joined Bluesky when they left X (20 January 2025 at the earliest): nothing before
    first = q(db, "SELECT min(created_at) FROM posts WHERE platform = 'bluesky'")[0][0]
    assert first.date() >= date(2025, 1, 20)
    assert q(db, "SELECT min(created_at) FROM messages WHERE platform = 'bluesky'")[0][0].date() >= date(2025, 1, 20)
    # followers grow; the last count is the one the replayed collection read, dated the day after
    # the period like the last quarterly snapshot (same value: one row)
    for acc, end in truth["followers_end"].items():
        series = q(db, "SELECT date, followers FROM audience_followers WHERE account_id = ? ORDER BY date", [acc])
        assert len(series) >= 7, acc  # a snapshot a quarter (Bluesky, Mastodon) or a day (TikTok)
        # collected (Bluesky, Mastodon): the day after the period; TikTok's export: its last day
        last_day = date(2026, 10, 31) if acc.startswith("tiktok:") else date(2026, 11, 1)
        assert series[-1][0] == last_day, acc
        assert series[-1][1] == end and series[0][1] < end, acc
    # TikTok: few videos, many views; a young audience (Studio's gender, age and territories)
    views, likes = q(db, "SELECT sum(video_views), sum(likes) FROM posts WHERE platform = 'tiktok'")[0]
    assert views > 10 * likes > 0
    age = dict(q(db, "SELECT key, value FROM audience_demographics WHERE account_id = 'tiktok:villesaintaubin' "
                     "AND dimension = 'age' AND date = '2026-11-01'"))
    assert age["18-24"] + age["25-34"] > 0.6
    dims = {r[0] for r in q(db, "SELECT DISTINCT dimension FROM audience_demographics WHERE account_id LIKE 'tiktok:%'")}
    assert dims == {"gender", "age", "country"}


def test_press_articles(built, db):
    """Articles naming a territory are stored; items of the feeds that name none are left out."""
    truth = demo.ground_truth(db)
    gt = demo.ground_truth_messages(db)
    crisis = gt[(gt.platform == "press") & gt.crisis.astype(bool)]
    assert len(crisis) >= 2 and set(crisis.territory_id) == {"saint-aubin"}
    assert truth["new_platforms"]["press_items_not_naming_a_territory"] > 0
    kept = q(db, "SELECT count(*) FROM messages WHERE platform = 'press'")[0][0]
    assert kept == truth["new_platforms"]["messages"]["press"]
    # the outlet is known by its site, never a journalist's name
    assert q(db, "SELECT count(*) FROM messages WHERE platform = 'press' AND author_name IS NOT NULL")[0][0] == 0
    names = {r[0] for r in q(db, "SELECT name FROM accounts WHERE platform = 'press'")}
    assert names == {"Le Courrier de la Loire", "L'Écho du Golfe", "Midi Littoral"}


def test_press_volumes_and_crisis():
    """2–4 articles a week on our territory, more and mostly negative during the water crisis."""
    scale = 0.3
    sim = demo.simulate(load_registry(), 11, scale)
    press = pd.DataFrame([m for m in sim.messages if m["platform"] == "press" and m["territory_id"] == "saint-aubin"])
    day = press.created_utc.dt.date
    crisis = press[press.crisis]
    before = press[(day < demo.CRISIS["start"]) & ~press.crisis]
    weeks = (demo.CRISIS["start"] - demo.START).days / 7
    assert 2 * scale <= len(before) / weeks <= 4 * scale
    crisis_days = (demo.CRISIS["end"] - demo.CRISIS["start"]).days + 1
    during = press[(day >= demo.CRISIS["start"]) & (day <= demo.CRISIS["end"])]
    assert len(during) / crisis_days > 3 * len(before) / (weeks * 7)  # about 7 times in expectation
    assert (crisis.tone == "negative").mean() > 0.5
    assert not press[~press.crisis].text.str.contains("Eau non potable").any()


def test_crisis_reaches_bluesky_and_mastodon(built, db):
    gt = demo.ground_truth(db)["crisis"]
    for plat in ("bluesky", "mastodon"):
        first = q(db, "SELECT min(created_at), count(*) FROM messages WHERE platform = ? "
                      "AND text LIKE '%#EauSaintAubin%'", [plat])[0]
        assert first[1] >= 1 and first[0].date() >= date.fromisoformat(gt["start"]), plat


def test_collection_runs_recorded(built, db):
    """Each declared Bluesky, Mastodon and press source was collected from the local server."""
    from analysis.collect.credentials import Credentials
    from analysis.collect.sources import declared_sources

    plan = declared_sources(load_registry(), Credentials(values=dict(demo.DEMO_BLUESKY_LOGIN)),
                            platforms=set(demo.COLLECTED))
    assert [r.source_id for r in built.collected] == [s.source_id for s in plan.sources]
    assert all(r.status == "ok" and r.error is None for r in built.collected)
    # the build's run of each source (test_rerun_changes_nothing may have added a second one)
    runs = q(db, "SELECT source_id, status, requests, inserted, followers FROM collect_runs "
                 "QUALIFY row_number() OVER (PARTITION BY source_id ORDER BY started_at) = 1")
    first = {r[0]: r for r in runs}
    assert set(first) == {s.source_id for s in plan.sources}
    kinds = {s.source_id: s.kind for s in plan.sources}
    for sid, row in first.items():
        assert row[1] == "ok" and row[2] >= 1, sid
        if kinds[sid] == "account":
            assert row[3] > 0 and row[4] > 0, sid  # rows stored, followers read
    state = q(db, "SELECT count(*), count(last_ok_at), count(newest_at) FROM collect_state")[0]
    assert state[0] == state[1] == len(plan.sources)
    assert state[2] >= sum(s.kind == "account" for s in plan.sources)  # a search may find nothing at this scale
    # the server is gone once the build is over
    import threading
    assert not [t for t in threading.enumerate() if t.name == "vigie-demo-replay"]


def test_replay_server_routes_and_shutdown(tmp_path):
    import httpx

    lines = [{"method": "GET", "path": "/x", "query": {"actor": "a"}, "status": 200, "headers": {}, "json": {"p": 1}},
             {"method": "GET", "path": "/x", "query": {"actor": "a", "cursor": "c"}, "status": 200, "headers": {},
              "json": {"p": 2}},
             {"method": "GET", "path": "/feed.xml", "query": {}, "status": 200,
              "headers": {"Content-Type": "application/rss+xml", "ETag": '"v1"'}, "text": "<rss/>"}]
    manifest = tmp_path / "r.jsonl"
    manifest.write_text("\n".join(json.dumps(x) for x in lines) + "\n", encoding="utf-8")
    with pytest.raises(RuntimeError):
        with demo.ReplayServer([manifest]) as srv:
            url = srv.url
            assert url.startswith("http://127.0.0.1:")
            with httpx.Client() as c:
                assert c.get(f"{url}/x", params={"actor": "a", "limit": 100}).json() == {"p": 1}
                assert c.get(f"{url}/x", params={"actor": "a", "cursor": "c"}).json() == {"p": 2}
                assert c.get(f"{url}/x", params={"actor": "b"}).status_code == 404
                assert c.get(f"{url}/feed.xml").text == "<rss/>"
                assert c.get(f"{url}/feed.xml", headers={"If-None-Match": '"v1"'}).status_code == 304
            raise RuntimeError("a failure in the middle of a collection")
    with pytest.raises(httpx.ConnectError):  # shut down whatever happened
        httpx.get(f"{url}/x", params={"actor": "a"}, timeout=2)
