"""Sentiment model, CLI, incremental enrichment and analyst corrections (committed model)."""

from __future__ import annotations

import json
from datetime import datetime
from pathlib import Path

import numpy as np
import pandas as pd
import pytest
from typer.testing import CliRunner

from analysis import enrich, store
from analysis.sentiment import LABELS, SentimentModel, load_model
from analysis.sentiment.corrections import correct, corrected_dataset, effective_sentiment
from analysis.sentiment.enrich import enrich as enrich_sentiment
from analysis.sentiment.train import evaluate, expected_calibration_error
from analysis.text import language_rules_version

# module fixtures are expensive: keep this file on one xdist worker so they are built once
pytestmark = pytest.mark.xdist_group("sentiment")

FIX = Path(__file__).parent / "fixtures" / "sentiment"


@pytest.fixture(scope="module")
def model() -> SentimentModel:
    return load_model()


def test_model_is_small_and_versioned(model):
    from analysis.sentiment import MODEL_PATH

    assert MODEL_PATH.stat().st_size < 20e6
    assert model.version.startswith("fr-lr-") and len(model.version) == 16
    assert model.estimator.meta_["training"]["val"]["macro_f1"] >= 0.63


def test_negation_flips_polarity(model):
    pred = model.predict(["je suis satisfait", "je ne suis pas satisfait", "j'aime", "je n'aime pas",
                          "c'est pas génial"])
    assert pred == ["positive", "negative", "positive", "negative", "negative"]
    p = model.predict_proba(["c'est génial", "c'est pas génial"])
    assert p[0, 2] > p[1, 2] and p[1, 0] > p[0, 0]


def test_clear_messages(model):
    texts = ["Merci à la mairie pour ce magnifique feu d'artifice, bravo !",
             "Les travaux bloquent tout depuis des semaines, c'est une honte.",
             "La réunion publique aura lieu lundi"]
    assert model.predict(texts) == ["positive", "negative", "neutral"]


def test_probabilities_sum_to_one(model):
    p = model.predict_proba(["super", "nul", "", "😍😍😍", "RAS LE BOL"])
    assert p.shape == (5, 3)
    np.testing.assert_allclose(p.sum(axis=1), 1.0, atol=1e-9)
    assert (p >= 0).all()


def test_english_is_marked_and_not_scored(model):
    langs, labels, proba = model.score(["I really love this city and the people are great",
                                        "Merci pour votre aide"])
    assert langs == ["en", "fr"] and labels[0] is None and labels[1] == "positive"
    assert np.isnan(proba[0]).all() and abs(proba[1].sum() - 1) < 1e-9


def test_evaluate_figures():
    res = evaluate([0, 1, 2, 2], ["negative", "neutral", "neutral", "positive"])
    assert res["accuracy"] == 0.75
    assert res["confusion"] == [[1, 0, 0], [0, 1, 0], [0, 1, 1]]
    assert res["per_class"]["neutral"]["f1"] == pytest.approx(2 / 3)
    assert res["macro_f1"] == pytest.approx((1 + 2 / 3 + 2 / 3) / 3)
    # perfectly confident and right: ECE 0; confident and wrong half the time: ECE 0.5
    assert expected_calibration_error(np.array([0, 1]), np.array([[1.0, 0, 0], [0, 1.0, 0]])) == 0
    assert expected_calibration_error(np.array([0, 0]), np.array([[1.0, 0, 0], [0, 1.0, 0]])) == 0.5


def test_eval_cli_on_tiny_file():
    from analysis.cli.sentiment import app

    r = CliRunner().invoke(app, ["eval", "--texts", str(FIX / "texts.txt"), "--labels", str(FIX / "labels.txt"),
                                 "--json"])
    assert r.exit_code == 0, r.output
    res = json.loads(r.output)
    # the last text is labelled wrong on purpose (a cheerful text marked negative): one error to count
    assert res["n"] == 5 and res["accuracy"] == 0.8
    assert res["confusion"] == [[1, 0, 1], [0, 1, 0], [0, 0, 2]]
    r = CliRunner().invoke(app, ["eval", "--texts", str(FIX / "texts.txt"), "--labels", str(FIX / "labels.txt")])
    assert "macro-F1 0,822" in r.output and "exactitude 80,0\u00a0%" in r.output


def test_predict_cli_json():
    from analysis.cli.sentiment import app

    r = CliRunner().invoke(app, ["predict", "--json"],
                           input="Quelle honte ce service\nThe weather is nice and we are happy\n")
    rows = [json.loads(line) for line in r.output.splitlines()]
    assert rows[0]["label"] == "negative" and rows[0]["lang"] == "fr"
    assert abs(sum(rows[0]["proba"].values()) - 1) < 1e-3
    assert rows[1] == {"text": "The weather is nice and we are happy", "lang": "en", "label": None, "proba": None}


def _seed_store(path: Path) -> None:
    con = store.connect(path)
    now = datetime(2026, 11, 1, 12)
    store.upsert(con, "messages", pd.DataFrame([
        {"message_id": "facebook:1", "platform": "facebook", "kind": "comment", "created_at": now,
         "text": "Merci pour votre aide"},
        {"message_id": "facebook:2", "platform": "facebook", "kind": "comment", "created_at": now,
         "text": "Quelle honte ce service"},
        {"message_id": "facebook:3", "platform": "facebook", "kind": "comment", "created_at": now,
         "text": "I really love this city and the people are great"},
        {"message_id": "facebook:4", "platform": "facebook", "kind": "comment", "created_at": now, "text": None},
    ]))
    store.upsert(con, "posts", pd.DataFrame([
        {"post_id": "facebook:p1", "platform": "facebook", "created_at": now,
         "text": "La réunion publique aura lieu lundi"}]))
    con.close()


def test_enrich_is_incremental_and_rescoring_on_new_version(db, model):
    _seed_store(db)
    con = store.connect(db)
    res = enrich.run(con, only="sentiment")
    stamp = f"{model.version}-g{language_rules_version()}"  # the model and the language rules
    assert res["sentiment"] == {"model_version": stamp, "messages": 4, "posts": 1}
    rows = dict(con.execute("SELECT item_id, label FROM sentiment").fetchall())
    assert rows == {"facebook:1": "positive", "facebook:2": "negative", "facebook:3": None,
                    "facebook:4": None, "facebook:p1": "neutral"}
    langs = dict(con.execute("SELECT item_id, lang FROM sentiment").fetchall())
    assert langs["facebook:3"] == "en" and langs["facebook:4"] == "und" and langs["facebook:1"] == "fr"
    # second run: nothing new
    assert enrich.run(con, only=["sentiment"])["sentiment"]["messages"] == 0
    # a different model version re-scores everything, and back again
    other = SentimentModel(model.estimator, "fr-lr-test000000")
    assert enrich_sentiment(con, model=other)["messages"] == 4
    assert con.execute("SELECT DISTINCT model_version FROM sentiment").fetchall() == \
        [(f"fr-lr-test000000-g{language_rules_version()}",)]
    assert enrich.run(con)["sentiment"]["posts"] == 1
    assert con.execute("SELECT count(*) FROM sentiment").fetchone()[0] == 5
    con.close()


def test_new_language_rules_rescore_sentiment_and_keys(db, model, monkeypatch):
    """A text read as foreign gets no sentiment label and no lemma keys: a change of the language rules
    (a threshold, a word list, py3langid) changes both stamps, so every item is decided again."""
    from analysis import text
    from analysis.topics import keys

    _seed_store(db)
    con = store.connect(db)
    enrich.run(con, only=["sentiment", "keys"])
    before = (language_rules_version(), keys.keys_version())
    monkeypatch.setattr(text, "LANGID_MIN_PROBABILITY", 0.95)
    text.language_rules_version.cache_clear()
    keys.keys_version.cache_clear()
    try:
        assert language_rules_version() != before[0] and keys.keys_version() != before[1]
        res = enrich.run(con, only=["sentiment", "keys"])
        assert res["sentiment"]["messages"] == 4 and res["sentiment"]["posts"] == 1 and res["keys"]["texts"] > 0
    finally:
        monkeypatch.undo()
        text.language_rules_version.cache_clear()
        keys.keys_version.cache_clear()
    con.close()


def test_enrich_rejects_unknown_enricher_and_engine(db):
    # The dask engine exists now (analysis/distributed.py, tested in test_distributed.py).
    _seed_store(db)
    con = store.connect(db)
    with pytest.raises(ValueError, match="inconnu"):
        enrich.run(con, only="nope")
    with pytest.raises(ValueError, match="Moteur inconnu"):
        enrich.run(con, engine="spark")
    con.close()


def test_corrections_override_and_feed_evaluation(db):
    _seed_store(db)
    con = store.connect(db)
    enrich.run(con, only="sentiment")
    correct(con, "facebook:1", "message", "negative", author="analyste@mairie")
    correct(con, "facebook:p1", "post", 2, author="analyste@mairie")
    eff = effective_sentiment(con).set_index("item_id")
    assert eff.loc["facebook:1", "label"] == "negative" and eff.loc["facebook:1", "model_label"] == "positive"
    assert bool(eff.loc["facebook:1", "corrected"]) and not bool(eff.loc["facebook:2", "corrected"])
    assert con.execute("SELECT label FROM effective_sentiment WHERE item_id = 'facebook:p1'").fetchone()[0] == "positive"
    # correcting again replaces the label and is audited twice
    correct(con, "facebook:1", "message", "neutral", author="analyste@mairie")
    assert con.execute("SELECT value FROM labels WHERE item_id = 'facebook:1'").fetchone()[0] == "neutral"
    audit = [json.loads(d) for (d,) in con.execute(
        "SELECT detail FROM audit_log WHERE action = 'label.sentiment' ORDER BY \"at\", rowid").fetchall()]
    assert len(audit) == 3 and audit[-1]["previous"] == "negative"
    ds = corrected_dataset(con)
    assert sorted(zip(ds.texts, ds.y.tolist(), strict=True)) == [("La réunion publique aura lieu lundi", 2),
                                                    ("Merci pour votre aide", 1)]
    with pytest.raises(KeyError):
        correct(con, "facebook:999", "message", "negative", author="x")
    with pytest.raises(ValueError):
        correct(con, "facebook:1", "message", "furieux", author="x")
    con.close()


def test_labels_constant():
    assert LABELS == ("negative", "neutral", "positive")


def test_correct_and_eval_from_store_cli(db):
    from analysis.cli.sentiment import app

    _seed_store(db)
    runner = CliRunner()
    r = runner.invoke(app, ["correct", "facebook:2", "positive", "--author", "ana"])
    assert r.exit_code == 0, r.output
    r = runner.invoke(app, ["correct", "facebook:1", "2", "--author", "ana"])
    assert r.exit_code == 0, r.output
    r = runner.invoke(app, ["eval", "--from-store", "--json"])
    res = json.loads(r.output)
    # the model says negative for "Quelle honte ce service": the analyst disagreed
    assert res["n"] == 2 and res["accuracy"] == 0.5 and res["confusion"][2] == [1, 0, 1]
    r = runner.invoke(app, ["correct", "facebook:404", "positive", "--author", "ana"])
    assert r.exit_code == 2 and "absent de la base" in r.output


def test_the_shipped_model_uses_the_committed_word_table(model):
    """The fastText block is on (chosen by `vigie eval`) and tied to the committed table's version."""
    from analysis.embeddings import load_table

    est = model.estimator
    assert est.embedding_weight == 1.0
    assert est.embeddings_version_ == load_table().version_
    assert est.embeddings_version_.startswith("ft-")


def test_decision_with_the_dense_block_equals_the_stacked_features(model):
    """_decision multiplies the dense pretrained block apart: the same scores as the stacked matrix."""
    from analysis.sentiment.model import tokens

    est = model.estimator
    texts = ["Merci pour la piscine", "Les incivilités en centre-ville, ça suffit", "", "RAS", "pas terrible du tout"]
    F = est._features([tokens(t) for t in texts])
    np.testing.assert_allclose(est._decision(texts), np.asarray(F @ est.coef_.T) + est.intercept_, rtol=1e-10,
                               atol=1e-10)


def test_a_text_gets_the_same_probabilities_in_any_batch(model):
    """Enrichment batches and workers must not change a label: the same bits alone, in a batch of
    7 or of all (the pretrained block is computed with sparse products, not a BLAS product)."""
    texts = ["Merci pour la piscine", "Les incivilités en centre-ville, ça suffit", "", "RAS",
             "pas terrible du tout", "Super marché de Noël 😍", "Horaires de la mairie ?"] * 5
    est = model.estimator
    whole = est.predict_proba(texts)
    assert np.array_equal(whole, np.vstack([est.predict_proba(texts[i:i + 7]) for i in range(0, len(texts), 7)]))
    assert np.array_equal(whole[:7], np.vstack([est.predict_proba([t]) for t in texts[:7]]))
