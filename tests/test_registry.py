"""Registry: loading, errors, strict account matching (look-alikes are never official)."""

from __future__ import annotations

import pytest

from analysis.registry import Registry, load_registry


def test_demo_registry_has_one_own_territory_and_its_peers():
    reg = load_registry()
    assert [t.territory_id for t in reg.own()] == ["saint-aubin"]
    assert set(reg.territory("saint-aubin").peers) == {t.territory_id for t in reg.territories if t.kind == "peer"}
    assert reg.territory("saint-aubin").population == 48250


@pytest.mark.parametrize("key,found", [
    ("104857600000001", True), ("villesaintaubin", True), ("@VilleSaintAubin", True),
    ("Ville de Saint-Aubin-sur-Loire", True), ("villesaintaubin_", False), ("ville.saintaubin", False),
    ("Ville de Saint Aubin sur Loire", False), ("VilleSaintAub1n", False),
])
def test_find_account_is_strict(key, found):
    reg = load_registry()
    a = reg.find_account("facebook", key)
    assert (a is not None) == found
    if found:
        assert a.account_id == "facebook:104857600000001" and a.territory_id == "saint-aubin"


def test_registry_errors_name_the_file_and_entry(tmp_path):
    p = tmp_path / "t.toml"
    p.write_text('[[territory]]\nid = "x"\nname = "X"\nkind = "voisin"\n', encoding="utf-8")
    with pytest.raises(ValueError, match="kind doit valoir own ou peer"):
        load_registry(p)
    p.write_text('[[territory]]\nname = "X"\n', encoding="utf-8")
    with pytest.raises(ValueError, match="sans champ « id »"):
        load_registry(p)


def test_an_account_moved_to_another_territory_takes_its_history(db):
    """The registry now files an official account under another territory (a mistake corrected): its
    posts and the messages they received move with it (logged), other accounts' rows stay, the derived
    tables follow; moving it back restores everything."""
    from datetime import datetime

    import pandas as pd

    from analysis import derived, derived_refresh, store
    from analysis.registry import sync_registry

    reg = load_registry()
    acc = next(a for a in reg.accounts if a.territory_id == "saint-aubin" and a.platform == "facebook")
    other = next(a for a in reg.accounts if a.territory_id == "saint-aubin" and a.account_id != acc.account_id)
    t0 = datetime(2026, 3, 1, 12)
    with derived_refresh.writer(db) as con:
        sync_registry(con, reg)
        store.upsert(con, "posts", pd.DataFrame([
            {"post_id": "p1", "platform": acc.platform, "account_id": acc.account_id, "territory_id": "saint-aubin",
             "created_at": t0, "text": "Fête"},
            {"post_id": "p2", "platform": other.platform, "account_id": other.account_id,
             "territory_id": "saint-aubin", "created_at": t0, "text": "Travaux"}]))
        store.upsert(con, "messages", pd.DataFrame([
            {"message_id": m, "platform": acc.platform if p == "p1" else other.platform, "kind": "comment",
             "post_id": p, "account_id": a, "territory_id": "saint-aubin", "created_at": t0, "text": "Bravo",
             "is_official": False}
            for m, p, a in (("m1", "p1", acc.account_id), ("m2", "p1", None), ("m3", "p2", other.account_id))]))

    from dataclasses import replace

    moved = replace(acc, territory_id="port-marel")  # the registry, the account filed under port-marel
    reg2 = Registry([replace(t, accounts=tuple(a for a in t.accounts if a.account_id != acc.account_id)
                             + ((moved,) if t.territory_id == "port-marel" else ())) for t in reg.territories])
    assert next(a for a in reg2.accounts if a.account_id == acc.account_id).territory_id == "port-marel"
    with derived_refresh.writer(db) as con:
        sync_registry(con, reg2)
    with store.reader(db) as con:
        where = dict(con.execute("SELECT post_id, territory_id FROM posts").fetchall())
        assert where == {"p1": "port-marel", "p2": "saint-aubin"}
        where = dict(con.execute("SELECT message_id, territory_id FROM messages").fetchall())
        assert where == {"m1": "port-marel", "m2": "port-marel", "m3": "saint-aubin"}
        assert con.execute("SELECT action FROM audit_log").fetchall() == [("registry.account_moved",)]
        assert derived.current(con)
        assert con.execute("SELECT territory_id FROM incoming_messages WHERE message_id = 'm1'").fetchone() == ("port-marel",)
    with derived_refresh.writer(db) as con:
        sync_registry(con, reg)
        assert dict(con.execute("SELECT message_id, territory_id FROM messages").fetchall())["m2"] == "saint-aubin"
