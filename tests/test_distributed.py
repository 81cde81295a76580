"""Dask engine = local engine: same imported rows, same enrichment rows (LocalCluster, 2 workers)."""

from __future__ import annotations

import shutil

import numpy as np
import pandas as pd
import pytest

from analysis import derived_refresh, distributed, enrich, privacy, store
from analysis.ingest import default_context, import_paths
from analysis.moderation.scoring import score_texts
from analysis.moderation.toxicity import char_wb_counts, load_model, normalise
from tests.conftest import FIXTURES

pytestmark = pytest.mark.xdist_group("dask")

FOLDERS = [FIXTURES / "comments", FIXTURES / "crowdtangle"]
OPENINGS = ["Bravo à la mairie pour", "Honte à vous pour", "Merci pour", "Quand est prévu", "Encore une fois",
            "Super initiative :", "C'est scandaleux,", "Est-ce que quelqu'un sait pour"]
SUBJECTS = ["le marché de Noël", "les travaux de la rue Pasteur", "la piscine municipale", "le festival d'été",
            "la fermeture de l'école", "les poubelles pas ramassées", "la piste cyclable", "l'eau du robinet"]
ENDINGS = ["!", " ?", " 👍", " bande de nuls", " 😡😡", "... vraiment.", " #SaintAubin", ""]


def _synthetic_messages() -> pd.DataFrame:
    """~500 deterministic French messages (plus English, empty, NULL and repeated texts)."""
    texts = [f"{o} {s}{e}" for o in OPENINGS for s in SUBJECTS for e in ENDINGS[: 1 + (len(o) % 8)]]
    texts += ["Great job, thanks for the update!", "", None, "Merci !", "Merci !", "c0nnard de maire"]
    return pd.DataFrame({
        "message_id": [f"facebook:syn{i:04d}" for i in range(len(texts))], "platform": "facebook",
        "kind": "comment", "territory_id": "saint-aubin", "text": texts,
        "created_at": pd.Timestamp("2026-03-10 12:00") + pd.to_timedelta(np.arange(len(texts)), unit="min"),
    })


@pytest.fixture(scope="session")
def dask_client():
    # processes=False: two in-process workers start in ~1 s; the code path (tasks, scatter,
    # gather, partitions) is the one a remote cluster runs.
    with distributed.client(n_workers=2, processes=False) as c:
        yield c


def _table(con, name: str, drop: tuple[str, ...] = (), where: str = "TRUE") -> pd.DataFrame:
    df = con.execute(f"SELECT * FROM {name} WHERE {where}").df()
    df = df.drop(columns=[c for c in drop if c in df.columns])
    return df.sort_values(list(df.columns[:2])).reset_index(drop=True)


@pytest.fixture(scope="session")
def stores(tmp_path_factory, dask_client):
    """(local store, dask store) imported from the same folders by each engine."""
    root = tmp_path_factory.mktemp("dist")
    local, dask = root / "local.duckdb", root / "dask.duckdb"
    with derived_refresh.writer(local) as con:
        res_local = import_paths(con, FOLDERS, default_context(), keep_going=True)
        # Enough varied texts for the enrichment comparison (the format fixtures are small).
        store.upsert(con, "messages", _synthetic_messages())
    with derived_refresh.writer(dask) as con:
        res_dask = distributed.import_paths(con, FOLDERS, default_context(), keep_going=True, client_=dask_client)
    return local, dask, res_local, res_dask


def test_import_on_workers_gives_the_same_store(stores):
    local, dask, res_local, res_dask = stores
    assert [(r.path, r.status, r.format, r.rows_read, r.inserted, r.rejected) for r in res_local] == \
           [(r.path, r.status, r.format, r.rows_read, r.inserted, r.rejected) for r in res_dask]
    assert sum(r.inserted for r in res_dask) >= 20
    # The corrupt fixtures fail the same way on workers (error raised remotely, reported locally).
    assert {r.path for r in res_dask if r.status == "error"} == {r.path for r in res_local if r.status == "error"}
    with store.reader(local) as a, store.reader(dask) as b:
        for name in ("messages", "posts"):
            imported = "message_id NOT LIKE 'facebook:syn%'" if name == "messages" else "TRUE"
            pd.testing.assert_frame_equal(_table(a, name, ("import_id",), imported), _table(b, name, ("import_id",)))
        assert b.execute("SELECT count(*) FROM messages").fetchone()[0] >= 10


def test_dask_enrichment_equals_local(stores, dask_client, tmp_path, monkeypatch):
    local, _, _, _ = stores
    a, b = tmp_path / "a.duckdb", tmp_path / "b.duckdb"
    shutil.copyfile(local, a)
    shutil.copyfile(local, b)
    # Tiny partitions: every batch is split across both workers and reassembled in order.
    monkeypatch.setattr(distributed, "PARTITION", 37)
    with derived_refresh.writer(a) as con:
        res_a = enrich.run(con)
    with derived_refresh.writer(b) as con:
        res_b = distributed.run(con, client_=dask_client)
    assert {k: v for k, v in res_a.items()} == {k: v for k, v in res_b.items()}
    assert res_b["sentiment"]["messages"] > 300 and res_b["moderation"]["messages"] > 300
    with store.reader(a) as ca, store.reader(b) as cb:
        for name, drop in (("sentiment", ("scored_at",)), ("themes", ()), ("toxicity", ())):
            ta, tb = _table(ca, name, drop), _table(cb, name, drop)
            assert len(ta) > 300
            pd.testing.assert_frame_equal(ta, tb, check_exact=True)
        # Some labels are really produced (not an all-NULL table compared with itself).
        assert cb.execute("SELECT count(DISTINCT label) FROM sentiment WHERE label IS NOT NULL").fetchone()[0] >= 2


def test_enrich_cli_engine_dask_dispatches_to_distributed(stores, dask_client, tmp_path, monkeypatch):
    local, _, _, _ = stores
    db = tmp_path / "c.duckdb"
    shutil.copyfile(local, db)
    seen = {}

    def fake_client(scheduler=None, **kw):
        seen["scheduler"] = scheduler
        from contextlib import nullcontext

        return nullcontext(dask_client)

    monkeypatch.setattr(distributed, "client", fake_client)
    with derived_refresh.writer(db) as con:
        res = enrich.run(con, only=["moderation"], engine="dask", scheduler="tcp://sched:8786")
    assert seen["scheduler"] == "tcp://sched:8786"
    assert set(res) == {"moderation"} and res["moderation"]["messages"] > 300


def test_partitions_cover_every_row_once():
    parts = distributed._partitions(25, size=10, n_workers=2)
    assert [(s.start, s.stop) for s in parts] == [(0, 9), (9, 18), (18, 25)]
    assert [(s.start, s.stop) for s in distributed._partitions(3, size=10, n_workers=2)] == [(0, 2), (2, 3)]
    assert distributed._partitions(0) == []


def test_char_ngrams_per_word_equal_sklearn_transform():
    """The toxicity speed-up (per-word char n-grams) is exact, empty and odd texts included."""
    m = load_model()
    texts = ["Bravo à toute l'équipe !!", "c0nnard de maire", "", None, "   ", "a", "ok ok ok", "éèê ?"]
    norm = [normalise(t) for t in texts]
    fast, ref = char_wb_counts(m.char_, norm), m.char_.transform(norm)
    assert fast.shape == ref.shape and (fast != ref).nnz == 0
    assert ref[6].sum() > 0  # "ok ok ok" really has n-grams counted three times
    assert fast[6].max() == 3


def test_score_texts_dedup_matches_row_by_row():
    texts = ["Merci !", None, "Merci !", "Quand ouvre la piscine ?", ""]
    got = score_texts(texts)
    one_by_one = pd.concat([score_texts([t]) for t in texts], ignore_index=True)
    np.testing.assert_array_equal(got["p_toxic"].to_numpy(), one_by_one["p_toxic"].to_numpy())
    assert got["is_question"].tolist() == [False, False, False, True, False]


def test_parquet_export_partitioned_and_import_round_trip(stores, tmp_path):
    from analysis.cli.parquet import export_parquet, import_parquet

    local, _, _, _ = stores
    out = tmp_path / "pq"
    with store.reader(local) as con:
        counts = export_parquet(con, out, ("territory_id", "month"))
        want = store.snapshot_hash(con)
        n_msgs = con.execute("SELECT count(*) FROM messages").fetchone()[0]
    assert counts["messages"] == n_msgs > 300
    # hive layout a cluster reads directly: territory then month folders
    assert (out / "messages" / "territory_id=saint-aubin" / "month=2026-03").is_dir()
    import duckdb

    direct = duckdb.connect().execute(
        f"SELECT count(*), count(DISTINCT month) FROM read_parquet('{out}/messages/**/*.parquet')").fetchone()
    assert direct[0] == n_msgs and direct[1] >= 2
    db = tmp_path / "back.duckdb"
    with derived_refresh.writer(db) as con:
        res = import_parquet(con, out)
        assert res["messages"] == (n_msgs, 0)
        assert store.snapshot_hash(con) == want  # every canonical table identical, NULLs included
        assert import_parquet(con, out)["messages"] == (0, 0)  # idempotent
        assert privacy.recorded_key_check(con)[0] == privacy.key_check()  # the export's key came with it
    other = tmp_path / "other.duckdb"  # a store whose authors were hashed with another key refuses the export
    with derived_refresh.writer(other) as con:
        con.execute("INSERT INTO store_settings VALUES (?, 'ffffffffffffffff', now()::TIMESTAMP)", [privacy.KEY_CHECK])
    with derived_refresh.writer(other) as con:
        with pytest.raises(privacy.KeyChanged, match="rien n'a été importé"):
            import_parquet(con, out)
        assert con.execute("SELECT count(*) FROM messages").fetchone()[0] == 0
    with pytest.raises(ValueError, match="Partitionnement inconnu"):
        with store.reader(local) as con:
            export_parquet(con, tmp_path / "x", ("platform",))
