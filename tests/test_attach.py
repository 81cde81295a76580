"""Issue 22 item 2: data of accounts outside the registry is reported at import (CLI, --json), and
re-attached to its territory once the registry declares it (`vigie attach`, dry run first)."""

from __future__ import annotations

import json
from pathlib import Path

import pytest
from typer.testing import CliRunner

from analysis import derived_refresh, queries, store
from analysis.cli import app as vigie
from analysis.ingest import default_context, import_paths
from analysis.ingest.attach import attach, registry_snippet, unattached
from analysis.registry import load_registry

FIX = Path(__file__).parent / "fixtures" / "attach"
POSTS = FIX / "mbs_posts_unknown_page.csv"
COMMENTS = FIX / "minet_comments_no_page.csv"
PAGE = "facebook:104857600000099"


@pytest.fixture()
def before(db, monkeypatch) -> Path:
    monkeypatch.setenv("VIGIE_REGISTRY", str(FIX / "registry_before.toml"))
    return db


def _import(db: Path) -> list:
    with derived_refresh.writer(db) as con:
        return import_paths(con, [POSTS, COMMENTS], default_context(registry=load_registry(FIX / "registry_before.toml")))


def test_import_names_the_accounts_outside_the_registry(before):
    posts, comments = _import(before)
    assert posts.status == "ok"
    [u] = posts.unknown_accounts
    assert (u["account_id"], u["platform"], u["name"], u["posts"], u["messages"]) == (
        PAGE, "facebook", "Ville de Lorvan", 2, 0)
    assert any("hors registre" in n and "vigie attach" in n for n in posts.notes)
    js = posts.as_json()["unknown_accounts"][0]
    assert js["first"].startswith("2025-09-14") and js["last"].startswith("2025-10-02")
    assert 'native_id = "104857600000099"' in js["registry_snippet"]
    assert 'name = "Ville de Lorvan"' in js["registry_snippet"]
    # comments that name no page: the result says to use --account, with an example
    assert comments.without_account == 2
    assert any("--account" in n and "facebook:" in n for n in comments.notes)


def test_cli_import_warns_with_the_registry_lines_and_the_command(before):
    res = CliRunner().invoke(vigie, ["--db", str(before), "import", str(POSTS), str(COMMENTS)], terminal_width=200)
    assert res.exit_code == 0, res.output
    assert "1 compte hors registre" in res.output and PAGE in res.output
    assert "[[territory.account]]" in res.output and "vigie attach --dry-run" in res.output
    assert "2 commentaires sans compte" in res.output and "--account facebook:" in res.output
    res = CliRunner().invoke(vigie, ["--db", str(before), "import", "--json", "--force", str(POSTS)])
    out = json.loads(res.stdout)["files"][0]
    assert out["unknown_accounts"][0]["account_id"] == PAGE and out["unknown_accounts"][0]["posts"] == 2


def test_attach_dry_run_then_apply_keeps_everything(before):
    _import(before)
    after = load_registry(FIX / "registry_after.toml")
    with store.connect(before) as con:
        posts_before = con.execute("SELECT * FROM posts ORDER BY post_id").df()
    with derived_refresh.writer(before) as con:
        dry = attach(con, after, dry_run=True)
        assert [(a.account_id, a.territory_id, a.posts, a.messages) for a in dry.attached] == [(PAGE, "lorvan", 2, 0)]
        assert con.execute("SELECT count(*) FROM posts WHERE territory_id IS NULL").fetchone()[0] == 2  # nothing written
    with derived_refresh.writer(before) as con:
        res = attach(con, after)
        assert res.posts == 2 and not res.dry_run
        assert unattached(con).empty
    with store.connect(before) as con:
        posts_after = con.execute("SELECT * FROM posts ORDER BY post_id").df()
        cov = queries.coverage(con)
        acc = con.execute("SELECT territory_id, official FROM accounts WHERE account_id = ?", [PAGE]).fetchone()
        terr = con.execute("SELECT name FROM territories WHERE territory_id = 'lorvan'").fetchone()
    # only the territory changed: same rows, same texts and metrics
    assert posts_after["territory_id"].tolist() == ["lorvan", "lorvan"]
    cols = [c for c in posts_before.columns if c != "territory_id"]
    assert posts_after[cols].equals(posts_before[cols])
    assert "(hors registre)" not in set(cov.loc[cov["posts"] > 0, "territory_id"])
    assert acc == ("lorvan", True) and terr == ("Lorvan",)
    with derived_refresh.writer(before) as con:  # a second run changes nothing
        assert attach(con, after).attached == []


def test_cli_attach_dry_run_json_then_apply(before, monkeypatch):
    _import(before)
    r = CliRunner()
    res = r.invoke(vigie, ["--db", str(before), "attach", "--dry-run", "--json"])
    assert res.exit_code == 0, res.output
    out = json.loads(res.stdout)
    assert out["dry_run"] is True and out["attached"] == [] and out["unattached"][0]["account_id"] == PAGE
    monkeypatch.setenv("VIGIE_REGISTRY", str(FIX / "registry_after.toml"))
    res = r.invoke(vigie, ["--db", str(before), "attach", "--dry-run"], terminal_width=200)
    assert "1 compte : 2 publications et 0 message seraient rattachés" in res.output
    assert "simulation" in res.output
    with store.connect(before) as con:
        assert con.execute("SELECT count(*) FROM posts WHERE territory_id IS NULL").fetchone()[0] == 2
    res = r.invoke(vigie, ["--db", str(before), "attach", "--json"])
    assert json.loads(res.stdout)["posts"] == 2
    with store.connect(before) as con:
        assert con.execute("SELECT count(*) FROM posts WHERE territory_id = 'lorvan'").fetchone()[0] == 2


def test_registry_snippet_escapes_quotes():
    snip = registry_snippet({"account_id": "x:abc", "platform": "x", "native_id": None, "handle": None,
                             "name": 'La "Voix" de Lorvan'})
    assert 'native_id = "abc"' in snip and 'name = "La \\"Voix\\" de Lorvan"' in snip


@pytest.mark.parametrize(("fixture", "account", "territory"), [
    ("twitter/archive.zip", "x:900000000000000001", "saint-aubin"),  # an X archive
    ("twitter/tweet_activity_2017.csv", "x:SaintAubinLoire", "saint-aubin"),  # matched by @handle
    ("crowdtangle/dashboard_fb_locale_dot.csv", "facebook:104857600000002", "port-marel"),  # a CrowdTangle export
])
def test_other_formats_are_reported_then_attached_by_the_full_registry(before, fixture, account, territory):
    with derived_refresh.writer(before) as con:
        [res] = import_paths(con, [FIX.parent / fixture],
                             default_context(registry=load_registry(FIX / "registry_before.toml")))
        assert res.status == "ok" and account in [u["account_id"] for u in res.unknown_accounts]
        done = attach(con, load_registry(FIX.parents[2] / "data" / "territories.toml"))
        assert [(a.account_id, a.territory_id) for a in done.attached] == [(account, territory)]
        assert con.execute("SELECT count(*) FROM posts WHERE account_id = ? AND territory_id IS NULL",
                           [account]).fetchone()[0] == 0


def test_comments_under_a_stored_post_follow_its_page(before):
    """Comments that name no page but sit under a stored post of a page outside the registry: they are
    that page's (no --account warning) and are re-attached with it."""
    reg = default_context(registry=load_registry(FIX / "registry_before.toml"))
    with derived_refresh.writer(before) as con:
        import_paths(con, [POSTS], reg)
        [res] = import_paths(con, [FIX / "minet_comments_under_post.csv"], reg)
        assert res.without_account == 0
        assert [(u["account_id"], u["posts"], u["messages"]) for u in res.unknown_accounts] == [(PAGE, 2, 2)]
        done = attach(con, load_registry(FIX / "registry_after.toml"))
        assert (done.posts, done.messages) == (2, 2)
        assert con.execute("SELECT territory_id, account_id FROM messages ORDER BY 1").fetchall() == [
            ("lorvan", PAGE), ("lorvan", PAGE)]


def test_cli_attach_without_a_store_says_so_and_creates_nothing(tmp_path):
    missing = tmp_path / "absente.duckdb"
    res = CliRunner().invoke(vigie, ["--db", str(missing), "attach"])
    assert res.exit_code == 1 and not missing.exists()
