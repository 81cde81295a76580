"""Shared fixtures: an isolated store per test, the demo store built by `make test`, the real samples."""

from __future__ import annotations

import os
import shutil
import tempfile
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parents[1]
FIXTURES = ROOT / "tests" / "fixtures"
# Real platform exports for acceptance tests live outside the repo (licences, real names): point
# VIGIE_SAMPLES_DIR at them (.ci/run does when they are beside the clone); tests skip otherwise.
SAMPLES_DIR = os.environ.get("VIGIE_SAMPLES_DIR")

# Tests never touch the developer's key or store.
os.environ.setdefault("VIGIE_PSEUDONYM_KEY", "test-key-not-secret")
# …nor the server's login state (failed attempts, locks, revocations): one file per test process.
os.environ.setdefault("VIGIE_AUTH_DB", str(Path(tempfile.mkdtemp(prefix="vigie-auth-")) / "auth.sqlite"))
# Page tests run the app in its explicit demo mode (role selector, seeded through
# session_state["vigie_role"]); tests/test_security_auth.py unsets it to test the login.
os.environ.setdefault("VIGIE_AUTH", "demo")
# The running app skips Altair's schema validation for speed (streamlit_app.ui._unvalidated); every
# chart the page tests draw is validated.
os.environ.setdefault("VIGIE_VALIDATE_CHARTS", "1")
# Connectors are tested against a local replay server: 127.0.0.1 only, never the network.
os.environ.setdefault("PYTEST_HTTPSERVER_HOST", "127.0.0.1")

from tests.api_replay import replay  # noqa: E402,F401 - the `replay` fixture for connector tests


def _scan_component_manifests_once() -> None:
    """Every new ``AppTest`` scans the metadata of every installed package for Streamlit components
    (``BidiComponentManager.discover_and_register_components``): ≈ 0,5 s of CPU each, ≈ 1,5 s on a
    loaded machine, for each of the hundreds of pages the suite opens, where the server does it once
    at its start. The
    packages do not change during a run: the scan's result is kept for the process."""
    from functools import cache

    from streamlit.components.v2 import manifest_scanner

    scan = cache(lambda: tuple(original()))
    original = manifest_scanner.scan_component_manifests
    manifest_scanner.scan_component_manifests = lambda max_workers=None: list(scan())


_scan_component_manifests_once()

# `make test` runs on 3 xdist workers with --dist loadgroup, which hands out work in collection order;
# pytest-randomly shuffles that order, so a long group drawn last ran alone on one worker while the
# others had finished (a tail of one to two minutes, 10 min 05 to 11 min 05 from one run to the next).
# Longest work first: the groups and tests that take over ~10 s (by `--durations` in a `make test` on
# 2 cores) start first, in this order; everything else keeps its shuffled order.
LONG_FIRST = {  # browser groups apart: xdist gives each worker two units at first, run one after the other
    "browser_pages": 120, "demo": 110, "pages_all": 100, "browser_parcours": 90, "scope": 80,
    "security_fuzz": 70, "browser_offline": 65, "reports": 40, "security_app_server": 35, "events": 30,
    "browser_oidc": 25, "derived_incremental": 24, "security_faults": 20,
    "tests/test_derived.py::test_writer_rebuilds_and_findings_are_unchanged": 17,
    "tests/test_collect_youtube.py::test_cli_json_against_local_replay": 10,
    "tests/test_collect_rss.py::test_cli_json_against_local_replay": 8,
    # single tests of 7 to 17 s (`--durations=150`, 7 Dec. 2026, 19 h 30) that were still drawn anywhere:
    # one drawn last ran alone at the end (CI 8 min 47 to 9 min 33 from one run to the next)
    "tests/test_parcours_report.py::test_app_pdf_is_the_cli_pdf_of_the_displayed_command": 11,
    "tests/test_security_store_attacks.py::test_second_import_during_an_import_is_a_clear_busy_error_with_json": 10,
    "tests/test_derived.py::test_incoming_messages_give_the_same_responsiveness": 8,
    "tests/test_collect_jetstream.py::test_cli_follow_sigterm_then_jetstream_spool_import": 8,
    "tests/test_security_app_attacks.py::test_report_is_not_a_media_link_and_only_a_logged_in_session_gets_it": 7,
    "tests/test_security_hosting.py::test_vigie_audit_and_purge_of_the_audit_log": 7,
    "tests/test_parcours_report.py::test_the_monthly_report_is_compact_every_page_full": 7,
}


def _long_first_key(item: pytest.Item) -> float:
    for mark in item.iter_markers("xdist_group"):
        name = mark.args[0] if mark.args else mark.kwargs.get("name")
        return -LONG_FIRST.get(name, 0)
    return -LONG_FIRST.get(item.nodeid.split("[")[0], 0)


@pytest.hookimpl(trylast=True)
def pytest_collection_modifyitems(config: pytest.Config, items: list[pytest.Item]) -> None:
    items.sort(key=_long_first_key)  # stable: equal keys keep pytest-randomly's order


@pytest.fixture()
def db(tmp_path, monkeypatch) -> Path:
    """Path of a fresh, empty store for one test (VIGIE_DB points to it)."""
    p = tmp_path / "vigie.duckdb"
    monkeypatch.setenv("VIGIE_DB", str(p))
    return p


@pytest.fixture(scope="session")
def demo_db() -> Path:
    """The demo store built once by `make test` (VIGIE_TEST_DB). Read-only: copy it to write."""
    p = os.environ.get("VIGIE_TEST_DB")
    if not p or not Path(p).exists():  # a failure, not a skip: a green run without the store tested nothing
        pytest.fail("demo store absent: run through `make test` or `make test-quick` (VIGIE_TEST_DB)", pytrace=False)
    return Path(p)


@pytest.fixture(scope="module")
def demo_env(demo_db):
    """VIGIE_DB on the read-only demo store for the whole module (the app only reads)."""
    mp = pytest.MonkeyPatch()
    mp.setenv("VIGIE_DB", str(demo_db))
    mp.setenv("VIGIE_AUTH", "demo")
    yield demo_db
    mp.undo()


def _copy_store(src: Path, dst: Path) -> Path:
    """``src`` and its read copy copied to ``dst``."""
    shutil.copyfile(src, dst)
    read = src.with_name(src.name + ".read")
    if read.exists():
        shutil.copyfile(read, dst.with_name(dst.name + ".read"))
    return dst


@pytest.fixture()
def demo_db_copy(demo_db, tmp_path, monkeypatch) -> Path:
    """A writable copy of the demo store (and its read copy), VIGIE_DB pointing to it."""
    dst = _copy_store(demo_db, tmp_path / "demo.duckdb")
    monkeypatch.setenv("VIGIE_DB", str(dst))
    return dst


@pytest.fixture(scope="session")
def recent_demo_db(demo_db, tmp_path_factory) -> Path:
    """The demo store's last 90 days of messages (35 700 of 266 000; every post kept), purged by the
    product's own retention (:func:`analysis.retention.purge_older_than`) in a compacting session, built
    once per test process (7 s). For the tests of how the store's tables follow a write, which compare
    an incremental refresh with a full rebuild: each rebuild cost 1,6 s on the whole store. Read-only:
    copy it (``recent_db_copy``) to write."""
    from analysis import derived_refresh, enrich, retention

    dst = _copy_store(demo_db, tmp_path_factory.mktemp("recent") / "demo.duckdb")
    with derived_refresh.writer(dst, compact=True) as con:
        last = con.execute("SELECT max(created_at) FROM messages").fetchone()[0]
        retention.purge_older_than(con, "90d", now=last, actor="tests")
        enrich.run(con)  # nothing to score: the purge leaves the enrichment's marks consistent
    return dst


@pytest.fixture()
def recent_db_copy(recent_demo_db, tmp_path, monkeypatch) -> Path:
    """A writable copy of ``recent_demo_db`` (and its read copy), VIGIE_DB pointing to it."""
    dst = _copy_store(recent_demo_db, tmp_path / "demo.duckdb")
    monkeypatch.setenv("VIGIE_DB", str(dst))
    return dst


@pytest.fixture()
def collect_env(db, monkeypatch) -> Path:
    """An empty store and the collection test registry (accounts on every collected network)."""
    monkeypatch.setenv("VIGIE_REGISTRY", str(FIXTURES / "registry_collect.toml"))
    monkeypatch.setenv("VIGIE_CREDENTIALS", str(db.parent / "absent-credentials.toml"))
    for var in ("VIGIE_BLUESKY_HANDLE", "VIGIE_BLUESKY_APP_PASSWORD", "VIGIE_YOUTUBE_API_KEY",
                "VIGIE_META_PAGE_TOKEN", "VIGIE_INSTAGRAM_USER_ID", "VIGIE_THREADS_TOKEN", "VIGIE_MASTODON_TOKEN"):
        monkeypatch.delenv(var, raising=False)
    return db


@pytest.fixture(scope="session")
def shared_formats() -> Path:
    """The real export samples (``$VIGIE_SAMPLES_DIR``), skipped where absent. Never copied into the repo."""
    if not SAMPLES_DIR or not Path(SAMPLES_DIR).is_dir():
        pytest.skip("real export samples absent: set VIGIE_SAMPLES_DIR")
    return Path(SAMPLES_DIR)
