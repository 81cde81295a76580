"""`vigie eval`: the statistics, the card writer, and a fast subset on the real shared data."""

from __future__ import annotations

import os

import numpy as np
import pytest

from analysis.eval import data as D
from analysis.eval import run as R
from analysis.eval import stats

pytestmark = pytest.mark.xdist_group("eval")


def _shared():
    """The labelled real sets, only where the person running the tests points to them (like
    ``VIGIE_SAMPLES_DIR`` for the real exports): the tests never look for a folder beside the repo."""
    path = os.environ.get("VIGIE_SHARED")
    if not path:
        pytest.skip("données partagées absentes : définissez VIGIE_SHARED")
    try:
        return D.shared_root(path)
    except D.SharedDataMissing:
        pytest.skip(f"données partagées absentes de {path}")


def test_bootstrap_interval_brackets_the_value():
    x = np.r_[np.ones(70), np.zeros(30)]
    m = stats.mean_ci(x)
    assert m["low"] < 0.7 < m["high"] and m["value"] == pytest.approx(0.7)
    assert 0.55 < m["low"] and m["high"] < 0.85


def test_kappa_and_ece():
    assert stats.cohen_kappa(list("aabb"), list("aabb")) == 1.0
    assert stats.cohen_kappa(list("abab"), list("baba")) < 0
    proba = np.array([[0.9, 0.1], [0.8, 0.2]])
    assert stats.ece(np.array([0, 1]), proba) == pytest.approx(0.5 * 0.1 + 0.5 * 0.8)


def test_mlma_scheme_maps_only_abuse_to_hostile():
    assert D.mlma_target("offensive") == 1 and D.mlma_target("abusive_hateful") == 1
    assert D.mlma_target("fearful") == 0 and D.mlma_target("disrespectful") == 0 and D.mlma_target("normal") == 0
    assert D.mlma_target("abusive_normal") is None


def test_umsab_test_split_is_never_read(tmp_path):
    with pytest.raises(ValueError):
        D.umsab(tmp_path, "test")


def test_card_section_is_replaced_not_duplicated(tmp_path):
    card = tmp_path / "CARD.md"
    card.write_text("# Fiche\n\ntexte écrit à la main\n", encoding="utf-8")
    R.write_card(card, "première")
    R.write_card(card, "seconde")
    text = card.read_text(encoding="utf-8")
    assert text.count(R.START) == 1 and "seconde" in text and "première" not in text
    assert text.startswith("# Fiche\n\ntexte écrit à la main")


def test_fast_subset_on_real_data():
    root = _shared()
    res = R.run(root, fast=True, only=("labels", "hostility"))
    lab = res["labels"]
    assert lab["n"] >= 400 and lab["sources"]["exportcomments"] > 0
    h = res["hostility"]
    assert set(h["issue_22"]) == {"Super le guichet unique 👏", "Je transmets à ma mère pour le budget participatif"}
    d = h["mlma_test"]["decision"]
    assert d["precision"]["low"] <= d["precision"]["value"] <= d["precision"]["high"]
    text = R.render(res)
    assert "Hostilité" in text and "MLMA" in text
    with pytest.raises(ValueError):
        R.save(res)  # the fast subset never writes the cards


def test_shipped_threshold_is_the_one_chosen_by_cross_validation():
    from analysis.moderation import toxicity as tox
    from analysis.moderation.queue import HOSTILE_THRESHOLD

    m = tox.load_model()
    assert m.meta_["threshold"] == tox.HOSTILE_THRESHOLD == HOSTILE_THRESHOLD
    assert m.meta_["cv"]["min_fold_precision"] >= 0.82
    # the lexicon file's ambiguous terms are the ones the cross-validation chose
    lex = tox.default_lexicon()
    assert sorted(t for c, t in lex.terms if c == tox.AMBIGUOUS) == m.meta_["ambiguous"]


def test_ambiguous_terms_are_chosen_by_their_share_of_hostile_tweets():
    from analysis.eval import hostility as H

    terms = [["attarde*"]] * 10 + [["connard*"]] * 5 + [["rare"]] * 2
    y = np.r_[np.ones(7), np.zeros(3), np.ones(5), np.zeros(2)].astype(int)
    assert H.ambiguous_terms(terms, y, 0.8) == {"attarde*"}  # 70 % < 80 %; « rare » has 2 < 5 tweets
    assert H.ambiguous_terms(terms, y, 0.7) == set()


def test_issue_22_messages_are_not_hostile():
    from analysis.eval import hostility as H
    from analysis.moderation import toxicity as tox

    for t, v in H.issue_22(tox.load_model(), tox.HOSTILE_THRESHOLD).items():
        assert not v["flagged"], t


def test_one_figure_everywhere():
    """README, cards and « fiabilité » notes quote the figures of the last full `vigie eval`."""
    from analysis.eval import figures
    from analysis.store import REPO_ROOT

    r = figures.results()
    if not r:
        pytest.skip("data/eval/results.json absent")
    readme = (REPO_ROOT / "README.md").read_text(encoding="utf-8")
    val = R.num(r["sentiment"]["val"]["macro_f1"]["value"])
    prec = R.num(r["hostility"]["mlma_test"]["decision"]["precision"]["value"])
    # the classifier adapted to each source's texts, its floor chosen on the other two
    top1 = f"{100 * r['themes']['cv_adapt_floor']['pooled']['top1']['value']:.0f} %"
    assert val in readme and prec in readme and top1 in readme
    assert val in R.CARDS["sentiment"].read_text(encoding="utf-8")
    assert prec in R.CARDS["hostility"].read_text(encoding="utf-8")
    assert top1.replace(" %", "") in R.CARDS["themes"].read_text(encoding="utf-8")
    assert top1.replace(" ", "\u00a0") in figures.reliability_note("themes")
    trip = r["sentiment"]["long"]["tripadvisor"]
    n = sum(b["n"] for b in trip)
    assert f"Sur {n} avis TripAdvisor réels" in figures.reliability_note("sentiment")
    # emerging subjects (Thématiques) and negative spikes (E-réputation): the real stream's figures
    inj = r["emerging"]["real_injected"]["episodes"]
    first = sum(e["rank"] == 1 for e in inj)
    assert f"dans {first} cas sur {sum(e['moved'] >= 10 for e in inj)}" in figures.reliability_note("emerging")
    sp = r["spikes"]["real"]
    note = figures.reliability_note("spikes")
    assert f"{sp['injected']['moved']} de ses vrais avis négatifs" in note
    assert ("pic trouvé" in note) == bool(sp["injected"]["found"]) and "pic(s)" not in note


def test_an_ordinary_question_is_not_a_visible_negative_message():
    """Issue 22: the sentiment model leans negative on questions; the queue lists a question for
    being unanswered, never as « message négatif très visible »."""
    import pandas as pd

    from analysis.moderation.queue import _reasons

    df = pd.DataFrame({"p90": [5, 5], "engagement": [50, 50], "hostile": [False, False],
                       "sentiment": ["negative", "negative"], "is_question": [True, False],
                       "first_reply_at": [pd.NaT, pd.NaT]})
    hostile, negative, question = _reasons(df, 3)
    assert negative.tolist() == [False, True] and question.tolist() == [True, False]


def test_emerging_precision_at_k_and_real_labels():
    from analysis.eval import emerging as E

    lists = [{"month": "m1", "subjects": [{"label": x} for x in "abcdefg"]}, {"month": "m2", "subjects": []}]
    p = E.precision_at(lists, lambda lst, s: s["label"] in "ab" if s["label"] != "g" else None, 5)
    assert p["precision"] == pytest.approx(2 / 5) and p["empty_lists"] == 1
    p10 = E.precision_at(lists, lambda lst, s: s["label"] in "ab" if s["label"] != "g" else None, 10)
    assert p10["shown"] == 6 and p10["unjudged"] == 1
    lab = E.real_labels()
    assert lab and set(lab.values()) <= {0, 1}


def test_emerging_real_stream_every_subject_judged():
    from analysis.eval import emerging as E

    res = E.eval_real(_shared())
    for s in ("before", "after"):
        assert res[s]["p5"]["unjudged"] == 0 and res[s]["p10"]["unjudged"] == 0, res[s]["lists"]
    # a hotel's reviews hold no subject a human would keep: the shipped rule shows none (the earlier rule
    # showed « exceptionnel » twice until that word joined the reaction words both read)
    assert res["after"]["p10"]["shown"] == 0 and res["after"]["p10"]["shown"] <= res["before"]["p10"]["shown"]


def test_campaign_subjects_are_right_only_when_every_word_names_one():
    """The demo's campaigns push their theme's posts on purpose: a subject naming one of the theme's
    subjects (ground truth ``campaigns.subjects``) is right; a subject sharing one generic word is not."""
    from datetime import date

    from analysis.eval import emerging as E

    ev = {"key": "ete", "territory_id": "t", "start": date(2025, 6, 15), "end": date(2025, 8, 31), "messages": None,
          "hashtag": "#ete", "words": set(),
          "phrases": [E._content_words(x, set()) for x in ("le vieux pont", "le musée municipal")]}

    def sub(*terms):
        return {"terms": list(terms), "hashtags": [], "start": date(2025, 7, 1), "end": date(2025, 7, 3)}

    assert E.names_event(sub("vieux pont"), ev, "t") and E.names_event(sub("musee municipal"), ev, "t")
    assert not E.names_event(sub("municipal jeune"), ev, "t")
    assert not E.names_event(sub("vieux pont"), ev, "autre")
    late = sub("vieux pont") | {"start": date(2025, 10, 1), "end": date(2025, 10, 2)}
    assert not E.names_event(late, ev, "t")


def test_demo_truth_lists_each_campaign_theme_subjects(demo_db):
    from analysis.demo import ground_truth

    for c in ground_truth(demo_db)["campaigns"]:
        assert c["theme"] and len(c["subjects"]) >= 5, c


def test_a_subject_bursting_twice_in_a_month_is_listed_once(demo_db):
    """« ligne bus » burst in three separate weeks of May 2026 (the cycling campaign): one subject."""
    from datetime import date

    from analysis.eval import emerging as E
    from analysis.store import reader

    with reader(demo_db) as con:
        lst = E.subject_lists(con, "saint-aubin", [(date(2026, 5, 1), date(2026, 6, 1))])[0]
    labels = [s["label"] for s in lst["subjects"]]
    assert labels and len(labels) == len(set(labels)), labels


def test_retraining_rewrites_only_the_ambiguous_category_of_the_lexicon(tmp_path):
    from analysis.eval import hostility as H

    p = tmp_path / "lex.txt"
    p.write_text("# commentaire\ninsulte\tattardé*\nambigu\tcon\ninsulte\tconnard*\nexception\ts attarde*\n",
                 encoding="utf-8")
    H.mark_ambiguous(["attarde*"], p)
    assert p.read_text(encoding="utf-8") == ("# commentaire\nambigu\tattardé*\ninsulte\tcon\ninsulte\tconnard*\n"
                                            "exception\ts attarde*\n")


def test_length_bands_give_the_negative_share_labelled_and_predicted():
    """by_band reads what the pages show (the share of negative messages) beside macro-F1."""
    import pandas as pd

    from analysis.eval import sentiment as S

    class Fixed:  # predicts « negative » for every text with « nul », else « positive »
        def predict(self, texts):
            return ["negative" if "nul" in t else "positive" for t in texts]

    df = pd.DataFrame({"text": ["nul", "super", "nul nul", "x" * 300 + " nul", "x" * 300],
                       "label": ["negative", "negative", "positive", "neutral", "positive"]})
    rows = S.by_band(Fixed(), df, bands=(0, 280, 1000))
    short, long_ = rows
    assert (short["n"], long_["n"]) == (3, 2)
    assert short["negative_share"] == pytest.approx(2 / 3) and short["negative_share_predicted"] == pytest.approx(2 / 3)
    assert short["positive_called_negative"]["value"] == 1.0  # « nul nul », labelled positive
    assert long_["negative_share"] == 0.0 and long_["negative_share_predicted"] == 0.5
    line = R._band_rows(rows)[0]
    assert line.startswith("| 0–280 | 3 |") and line.endswith("| 67 % → 67 % |")


def test_the_held_out_batch_is_new_well_formed_and_read_apart():
    """The held-out labels: refs never labelled before (else its figures would not be independent), every
    label in the guide's sets, themes of the taxonomy; without the shared texts, nothing else is read."""
    import pandas as pd

    from analysis.topics import load_taxonomy

    hold = pd.read_csv(D.HOLDOUT_PATH, dtype=str, keep_default_na=False, comment="#")
    first = pd.read_csv(D.LABELS_PATH, dtype=str, keep_default_na=False, comment="#")
    assert len(hold) == 90 and hold["ref"].is_unique
    assert not set(hold["ref"]) & set(first["ref"])
    assert set(hold["lang"]) <= {"fr", "other"} and set(hold["sentiment"]) <= {"negative", "neutral", "positive"}
    assert set(hold["hostile"]) <= {"0", "1"} and set(hold["question"]) <= {"0", "1"}
    ids = set(load_taxonomy().ids)
    assert {t for v in hold["themes"] for t in v.split("|") if t} <= ids
    # MLMA tweets only from the quarter the hostility model never trained on
    mlma = [r for r in hold["ref"] if r.startswith("mlma:")]
    assert len(mlma) == 30 and all(D.hash_split(r, 0.25) == "test" for r in mlma)
    # the second batch: texts new to every earlier file, labelled blind by a second annotator, who also labelled
    # the first batch again (the agreement on held-out texts)
    second = pd.read_csv(D.HOLDOUT2_PATH, dtype=str, keep_default_na=False, comment="#")
    again = pd.read_csv(D.HOLDOUT_SECOND_PASS_PATH, dtype=str, keep_default_na=False, comment="#")
    earlier = pd.read_csv(D.SECOND_PASS_PATH, dtype=str, keep_default_na=False, comment="#")
    assert len(second) == 150 and second["ref"].is_unique
    assert not set(second["ref"]) & (set(first["ref"]) | set(hold["ref"]) | set(earlier["ref"]))
    assert sorted(again["ref"]) == sorted(hold["ref"])
    for lab in (second, again):
        assert list(lab.columns) == list(hold.columns)
        assert set(lab["lang"]) <= {"fr", "other"} and set(lab["sentiment"]) <= {"negative", "neutral", "positive"}
        assert set(lab["hostile"]) <= {"0", "1"} and set(lab["question"]) <= {"0", "1"}
        assert {t for v in lab["themes"] for t in v.split("|") if t} <= ids
    mlma2 = [r for r in second["ref"] if r.startswith("mlma:")]
    assert len(mlma2) == 50 and all(D.hash_split(r, 0.25) == "test" for r in mlma2)


def test_moderator_labels_of_mlma_training_tweets_are_new_and_from_the_training_quarters():
    """The MLMA tweets read as a moderator would (the operating point is chosen on them): training quarters
    only, never in another labelled file (the test quarter and the held-out batches stay unseen)."""
    import pandas as pd

    mod = D.mlma_moderator()
    assert len(mod) == 400 and mod["ref"].is_unique and mod["ref"].str.startswith("mlma:").all()
    assert all(D.hash_split(r, 0.25) == "train" for r in mod["ref"])
    assert set(mod["lang"]) <= {"fr", "other"} and set(mod["hostile"]) <= {0, 1}
    others = set()
    for p in (D.LABELS_PATH, D.HOLDOUT_PATH, D.HOLDOUT2_PATH, D.SECOND_PASS_PATH):
        others |= set(pd.read_csv(p, dtype=str, comment="#")["ref"])
    assert not set(mod["ref"]) & others


def test_spikes_on_the_real_stream_false_alarms_and_an_injected_episode():
    """The negative-spike detector on a hotel's real reviews replayed as a stream: nothing a human would
    call a crisis, no spike; 30 of its real negative reviews moved into three days, one spike on them,
    nothing else. The section renders in French."""
    from analysis.eval import spikes as P

    res = P.eval_real(_shared())
    assert res["scored"] > 2000 and res["as_is"] == []
    inj = res["injected"]
    assert inj["moved"] == P.INJECT_N and inj["found"] == 1 and inj["others"] == 0, inj
    hit = inj["spikes"][0]
    assert hit["start"] <= inj["start"] and hit["end"] >= inj["end"] and hit["negative"] >= P.INJECT_N
    text = P.render({"demo": None, "real": res})
    assert "0 pic montré" in text and "trouvé, du" in text and "pic(s)" not in text


def test_emerging_real_stream_with_known_episodes():
    """Real reviews holding a word, moved into three days of the real stream one word at a time: an episode
    of at least 10 messages is the month's first subject and the only one; a smaller one is not listed
    (min_total, by design)."""
    from analysis.eval import emerging as E

    res = E.eval_injected(_shared())
    for r in res["episodes"]:
        if r["moved"] >= E.EVENT_MIN_MESSAGES:
            assert r["rank"] == 1 and r["others"] == 0, r
        else:
            assert r["rank"] is None, r
    assert res["p5"]["precision"] == 1.0 and res["p5"]["shown"] >= 3
