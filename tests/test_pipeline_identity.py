"""The pipeline writes the same rows however fast it gets (issue 19: « the same rows and the same
enrichment outputs as today »): the test store's digest, table by table, equals the one kept in
``tests/golden/pipeline.json`` (see ``tests/pipeline_digest.py``; ≈ 266 000 messages)."""

import json

import pytest

from tests.pipeline_digest import GOLDEN, store_digest


@pytest.fixture(scope="module")
def digest(demo_db):
    return store_digest(demo_db)


def test_every_table_is_in_the_golden(digest):
    golden = json.loads(GOLDEN.read_text(encoding="utf-8"))
    assert set(digest) == set(golden)
    assert golden["messages"]["rows"] > 50_000  # a sample of at least 50 000 messages, as the issue asks


@pytest.mark.parametrize("table", sorted(json.loads(GOLDEN.read_text(encoding="utf-8"))))
def test_table_content_is_unchanged(digest, table):
    golden = json.loads(GOLDEN.read_text(encoding="utf-8"))[table]
    assert digest[table]["rows"] == golden["rows"], f"{table} : nombre de lignes changé"
    assert digest[table]["hash"] == golden["hash"], (
        f"{table} : contenu changé (même nombre de lignes) — si c'est voulu, régénérer avec "
        "`python -m tests.pipeline_digest` et dire pourquoi")
