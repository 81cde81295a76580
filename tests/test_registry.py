"""Registry: loading, errors, strict account matching (look-alikes are never official)."""

from __future__ import annotations

import pytest

from analysis.registry import load_registry


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
