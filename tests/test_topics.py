"""Themes and topics: taxonomy classifier, learning from labels, topic discovery, bursts, word clouds."""

from __future__ import annotations

import io
import json
from datetime import date, datetime, timedelta
from pathlib import Path

import numpy as np
import pandas as pd
import pytest

from analysis import access, derived_refresh, store
from analysis import topics as T
from analysis.queries import Filters
from analysis.topics import classifier

# module fixtures are expensive: keep this file on one xdist worker so they are built once
pytestmark = pytest.mark.xdist_group("topics")


@pytest.fixture(scope="module")
def tax() -> T.Taxonomy:
    return T.load_taxonomy()


# ------------------------------------------------------------------------------ package
def test_topics_is_a_package_of_small_modules_that_re_exports_its_names():
    """Issue 18 item 6: one module per concern, each well under 800 lines; the package keeps every
    name callers use, and the pages' read models are classified under the module they live in
    (``analysis.access`` finds them by ``module:qualname`` without a search)."""
    root = Path(T.__file__).parent
    assert Path(T.__file__).name == "__init__.py"
    sizes = {f.name: len(f.read_text(encoding="utf-8").splitlines()) for f in root.glob("*.py")}
    assert len(sizes) >= 8 and max(sizes.values()) < 800, sizes
    for name in ("ThemeClassifier", "LemmaVectorizer", "load_taxonomy", "emerging_subjects", "word_cloud_html",
                 "enrich", "report_section", "_count_vectorizer", "_keyword_parts", "STOP_WORDS_FR", "NO_THEME"):
        assert hasattr(T, name), name
    read_models = [k for k in access.READ_MODELS if k.startswith("analysis.topics")]
    assert len(read_models) == 8
    for key in read_models:
        fn = access.resolve(key)
        assert f"{fn.__module__}:{fn.__qualname__}" == key
        assert getattr(T, fn.__name__) is fn and access.target_name(fn) == key


# ------------------------------------------------------------------------------ taxonomy
def test_taxonomy_has_the_twelve_themes_with_rich_vocabulary(tax):
    assert tax.ids == [
        "economie_emploi", "tourisme_patrimoine", "culture_evenements", "cadre_de_vie_environnement",
        "mobilite_transports", "travaux_urbanisme", "services_publics_demarches", "sport_loisirs",
        "jeunesse_education", "solidarite_sante", "securite_tranquillite", "vie_citoyenne"]
    for t in tax.themes:
        assert len(t.keywords) + len(t.hashtags) >= 40, t.id
        assert t.label and t.description
    assert tax.label("culture_evenements") == "Culture et événements"


def test_taxonomy_errors_name_the_theme_and_keyword(tmp_path):
    p = tmp_path / "t.toml"
    p.write_text('[[theme]]\nid = "x"\nlabel = "X"\nkeywords = ["eau potable du robinet"]\n', encoding="utf-8")
    with pytest.raises(ValueError, match="« x ».*eau potable du robinet.*deux mots"):
        T.load_taxonomy(p)
    p.write_text('[[theme]]\nid = "x"\nkeywords = ["parc"]\n[[theme]]\nid = "x"\nkeywords = ["stade"]\n', encoding="utf-8")
    with pytest.raises(ValueError, match="double"):
        T.load_taxonomy(p)


def test_keyword_normalisation_matches_text_normalisation():
    assert T.phrase_key("office de tourisme") == "office tourisme"
    assert T.phrase_key("Pistes cyclables") == "piste cyclable"
    assert T.phrase_key("#FeteDeLaMusique") == "#fetedelamusique"
    s = T.surface(["L'eau du robinet #EauSaintAubin https://ville.fr @mairie"]).iloc[0]
    assert "#eausaintaubin" in s and "eau saint aubin" in s
    assert "http" not in s and "mairie" not in s and "l'" not in s


# Texts with every quirk the array tokeniser must reproduce exactly (CountVectorizer on surface()).
QUIRKS = [
    "L'eau du robinet #EauSaintAubin https://ville.fr/eau?x=1 @mairie_officielle", "Suuuuper!!! WWW.Site.fr/a hhhttp://a",
    "aaa_bbb foo_ bar #x_y #a 12 zone 30 vide-grenier", "C’est l´été `à` Saint-Aubin ÉÉÉté ﬀﬀﬀ", "", None,
    "a\x00b texte avec un NUL", "eau potable eau potable", "L'eau du robinet #EauSaintAubin https://ville.fr/eau?x=1 @mairie_officielle",
    "Merci !", "#FeteDeLaMusique2026 concert 🎶 ce soir", "İstanbul ΣΊΣΥΦΟΣ straße", "le la les de",
]


@pytest.mark.parametrize("ngram_range", [(1, 1), (1, 2), (2, 2)])
@pytest.mark.parametrize("binary", [False, True])
def test_surface_counts_equal_count_vectorizer(ngram_range, binary):
    cv = T._count_vectorizer(ngram_range, binary=binary)
    want = cv.fit_transform(T.surface(QUIRKS)).tocsr()
    X, terms = T.surface_counts(QUIRKS, ngram_range, binary=binary)
    assert terms == list(cv.get_feature_names_out())
    assert X.dtype == np.float32 and X.shape == want.shape and (X != want).nnz == 0
    if ngram_range == (1, 2):
        assert "#eausaintaubin" in terms and "eau saint" in terms and "robinet" in terms and "super" in terms
        assert not any("_" in w and not w.startswith("#") for t in terms for w in t.split())  # 'aaa_bbb': no token
        assert X[:, terms.index("eau potable")].toarray().ravel().tolist()[7] == (1 if binary else 2)


def _corpus_tokens_reference(texts):
    toks = T.lemmas._WORD_OR_SEP_RE.findall(" \x00 ".join(T.surface(texts)))
    codes, uniq = pd.factorize(pd.Series(toks, dtype=object))
    return codes, list(uniq)


NASTY = ["Aaaah AAaa aAAA ÉÉé éééé İİİ ##tag #a# #é bon\u00a0jour «oui» … l’été l´été `x` x\ud800y \u2028l \x0bv \x1cw",
         "KKK \u212a\u212ak ﬀﬀﬀ straße 🎶🎶 x\u0307y 3³ ½ a_b #x_y", "#", "…", "", "a'Σ. ΣΑΣ Σ"]


@pytest.mark.parametrize("extra", [[], NASTY[:-1], NASTY])
def test_corpus_tokens_are_the_surface_tokens_text_by_text(extra):
    # the bytes-and-pieces tokeniser gives the tokens, codes and first-appearance order of the regex over
    # the surface of each text (NASTY's last text holds a capital sigma: the whole-surface path)
    rng = np.random.default_rng(0)
    alphabet = [chr(c) for c in rng.integers(1, 0x2FFFF, 200)] + list("aAeEéÉ'’´`. #@_-\n\t\u00a0«»…!?İß0123")
    fuzz = ["".join(rng.choice(alphabet, rng.integers(0, 40))) for _ in range(300)]
    texts = [t for t in QUIRKS if t and "\x00" not in t] + extra + [t for t in fuzz if "\x00" not in t and "Σ" not in t]
    codes, uniq = T.lemmas._corpus_tokens(T.lemmas._cleaned_joined(texts))
    want_codes, want_uniq = _corpus_tokens_reference(texts)
    assert list(uniq) == want_uniq and np.array_equal(codes, want_codes)


def test_plurals_whose_lemma_is_another_word_keep_their_own_key(tax):
    # simplemma reads « travaux » as « travail » and « devoirs » as the verb « devoir »
    assert T.lemma_key("travaux") == "travaux" and T.lemma_key("devoirs") == "devoirs"
    assert T.phrase_key("Travaux de voirie") == "travaux voirie" and T.lemma_key("travail") == "travail"
    clf = T.default_classifier(tax)
    top = clf.predict_top(["Merci pour votre travail", "Je dois partir tôt", "Travaux rue Nationale",
                           "L'aide aux devoirs reprend"]).tolist()
    # (« travail » may read as the economy by similarity: no longer as roadworks)
    assert top[0] != "travaux_urbanisme" and top[1] != "jeunesse_education"
    assert top[2:] == ["travaux_urbanisme", "jeunesse_education"]


def test_lemma_counts_sum_the_surface_terms_of_a_key():
    X, terms = T.surface_counts(QUIRKS, (1, 2))
    K, keys = T.lemma_counts(QUIRKS, (1, 2))
    col = {k: i for i, k in enumerate(keys)}
    want = np.zeros(K.shape, dtype=np.float32)
    for j, t in enumerate(terms):
        want[:, col[T.lemma_key(t)]] += X[:, j].toarray().ravel()
    assert np.array_equal(K.toarray(), want)
    assert "eau potable" in keys and "#eausaintaubin" in keys and "vide grenier" in keys and "super" in keys
    # ordered: keys in order of first appearance among the sorted surface terms
    _, ordered = T.lemma_counts(QUIRKS, (1, 2), ordered=True)
    assert ordered == list(dict.fromkeys(T.lemma_key(t) for t in terms))


def test_subject_terms_mask_is_subject_term_on_many_terms():
    terms = ["eau", "eau potable", "#eausaintaubin", "#a b", "zone 30", "2026", "saint aubin", "sport",
             "#saintaubin", "villeneuveles", "", "piste cyclable"]
    excl = {"saint", "aubin", "villeneuve", "port"}
    assert T.subject_terms_mask(terms, excl).tolist() == [T.subject_term(t, excl) for t in terms]


# ------------------------------------------------------------------------------ classifier
CLEAR = {
    "Le forum de l'emploi a réuni 40 entreprises qui recrutent": {"economie_emploi"},
    "Visite guidée du château avec l'office de tourisme": {"tourisme_patrimoine"},
    "Super concert pour la fête de la musique 🎶": {"culture_evenements"},
    "Les poubelles débordent, la collecte des déchets n'est pas passée": {"cadre_de_vie_environnement"},
    "Les nouvelles pistes cyclables jusqu'à la gare sont top": {"mobilite_transports"},
    "Encore un chantier, la chaussée est défoncée": {"travaux_urbanisme"},
    "Impossible d'avoir un rdv pour ma carte d'identité": {"services_publics_demarches"},
    "Bravo au club de rugby pour le championnat !": {"sport_loisirs"},
    "La cantine de l'école maternelle est trop chère": {"jeunesse_education"},
    "Le CCAS organise le portage de repas pour les seniors": {"solidarite_sante"},
    "Encore des cambriolages, la police municipale ne fait rien": {"securite_tranquillite"},
    "Le conseil municipal vote le budget participatif": {"vie_citoyenne"},
}


def test_clear_examples_out_of_the_box(tax):
    clf = T.ThemeClassifier(tax).fit()
    pred = clf.predict_labels(list(CLEAR))
    for (text, want), got in zip(CLEAR.items(), pred, strict=True):
        assert set(got) == want, (text, got)
    assert clf.predict_labels(["Merci !", "", None]) == [(), (), ()]


def test_similarity_is_computed_only_for_texts_without_keyword(tax):
    """seed_scores skips the vectors of texts a keyword already decided: the scores of computing
    the similarity of every text and adding it only where no keyword matched."""
    from analysis.topics.classifier import SIMILARITY_CAP
    from analysis.topics.lemmas import _binarize

    clf = T.ThemeClassifier(tax).fit()
    texts = ["Encore un bouchon sur la rocade", "Bravo aux bénévoles du club", "natation le dimanche ?",
             "les élèves de l'école", "Merci !", "", None, "horaires de la médiathèque", "poubelles pleines"]
    B = _binarize(clf.seed_vectorizer_.transform(texts))
    K = B[:, : clf.n_keyword_keys_]
    s = np.clip((K @ clf.seed_pos_).toarray() - (K @ clf.seed_neg_).toarray(), 0, None)
    W = np.asarray(B @ clf.word_vectors_)
    S = np.asarray(B @ clf.word_centroid_sims_) / np.maximum(np.linalg.norm(W, axis=1), 1e-9)[:, None]
    j = S.argmax(axis=1)
    e = clf.similarity_weight * np.clip((S[np.arange(len(S)), j] - clf.similarity_floor)
                                        / (1 - clf.similarity_floor), 0, None)
    e[s.max(axis=1) > 0] = 0
    s[np.arange(len(s)), j] += np.minimum(e, SIMILARITY_CAP)
    got = clf.seed_scores(texts)
    np.testing.assert_allclose(got, s, rtol=1e-6, atol=1e-9)
    assert (got[:4] > 0).any(axis=1).all()  # keyword or similarity: a theme each


def test_multi_label_hashtags_and_negatives(tax):
    clf = T.ThemeClassifier(tax).fit()
    texts = ["Les travaux de la rue Nationale ont supprimé l'arrêt de bus",
             "Quel bouchon ce matin ! #Travaux",
             "Magnifique feu d'artifice hier soir",
             "Le #MarcheDeNoel ouvre samedi"]
    got = [set(x) for x in clf.predict_labels(texts)]
    assert got[0] == {"travaux_urbanisme", "mobilite_transports"}
    assert got[1] == {"travaux_urbanisme", "mobilite_transports"}
    # 'feu' alone is a security keyword; 'feu d'artifice' is its negative
    assert got[2] == {"culture_evenements"}
    assert got[3] == {"culture_evenements"}
    s = clf.seed_scores(texts)
    assert s.shape == (4, 12) and s[0, tax.ids.index("travaux_urbanisme")] == 1
    assert s[0, tax.ids.index("mobilite_transports")] == 2  # "bus" and "arrêt de bus"


def test_labels_improve_a_class(tax):
    # 'ressourcerie' and 'repair café' are not in the taxonomy: the seed misses them
    base = ["Super ressourcerie rue Pasteur, on y trouve de tout", "Le repair café de samedi était génial",
            "La ressourcerie récupère vos meubles", "Atelier repair café à la ressourcerie"]
    test = ["Nouvelle ressourcerie ouverte le mercredi", "Repair café ce dimanche : venez réparer"]
    clf = T.ThemeClassifier(tax).fit()
    j = tax.ids.index("cadre_de_vie_environnement")
    assert clf.predict(test)[:, j].tolist() == [0, 0]
    unlabelled = list(CLEAR) * 3 + ["Le parc est très propre", "Trop de déchets au bord de l'étang",
                                    "Bus en retard", "Match ce soir au stade"] * 3
    y = [["cadre_de_vie_environnement"]] * len(base) + [None] * len(unlabelled)
    fitted = T.ThemeClassifier(tax).fit(base + unlabelled, y)
    assert fitted is not clf and "cadre_de_vie_environnement" in fitted.models_
    assert fitted.n_labelled_ == 4
    assert fitted.predict(test)[:, j].tolist() == [1, 1]
    # the clear examples still come out right for the other themes
    got = fitted.predict_labels(list(CLEAR))
    assert got[list(CLEAR).index("Bravo au club de rugby pour le championnat !")] == ("sport_loisirs",)


def test_evaluate_precision_recall_f1():
    ids = ["a", "b"]
    ev = T.evaluate([["a"], ["a", "b"], ["b"], []], [["a"], ["a"], ["a"], ["b"]], ids).set_index("theme")
    assert ev.loc["a", "precision"] == pytest.approx(2 / 3) and ev.loc["a", "recall"] == 1.0
    assert ev.loc["b", "precision"] == 0.0 and ev.loc["b", "recall"] == 0.0
    assert ev.loc["micro", "precision"] == pytest.approx(2 / 4)
    assert ev.loc["micro", "recall"] == pytest.approx(2 / 4)
    assert ev.loc["macro", "f1"] == pytest.approx((0.8 + 0.0) / 2)
    assert T.parse_labels("a, b;c") == ["a", "b", "c"] and T.parse_labels("") == [] and T.parse_labels(None) is None


# ------------------------------------------------------------------------------ topic discovery
def _topic_corpus(n: int = 600, seed: int = 1) -> list[str]:
    rng = np.random.default_rng(seed)
    groups = [
        ["piscine", "bassin", "natation", "maillot", "plongeoir", "nageur"],
        ["bus", "arrêt", "ligne", "chauffeur", "horaire", "retard"],
        ["marché", "fromage", "légumes", "producteur", "étal", "primeur"],
        ["concert", "guitare", "scène", "chanteur", "festival", "musique"],
    ]
    out = []
    for i in range(n):
        words = rng.choice(groups[i % 4], size=4, replace=False)
        out.append(" ".join(words) + " aujourd'hui")
    return out


def test_topic_discovery_is_deterministic_and_coherence_picks_k():
    texts = _topic_corpus()
    a = T.TopicDiscovery(ks=(2, 4, 6), seed=3, min_df=2, max_df=0.5, top_n=6).fit(texts)
    b = T.TopicDiscovery(ks=(2, 4, 6), seed=3, min_df=2, max_df=0.5, top_n=6).fit(texts)
    assert a.k_ == 4  # the four planted subjects
    assert set(a.coherence_) == {2, 4, 6}
    assert a.coherence_[4] > a.coherence_[2] and a.coherence_[4] > a.coherence_[6]
    assert a.top_terms_ == b.top_terms_ and np.allclose(a.components_, b.components_)
    tops = [set(t) for t in a.top_terms_]
    assert any({"piscine", "bassin", "natation"} <= t for t in tops)
    assert any({"concert", "scene", "festival"} <= t for t in tops)
    assert all(" · " in lab for lab in a.labels_)
    dom = a.dominant_topic(["le chauffeur du bus était en retard", "zzz"])
    assert dom[1] == -1 and "bus" in a.top_terms_[dom[0]]


def test_npmi_coherence_values():
    import scipy.sparse as sp

    B = sp.csr_matrix(np.array([[1, 1, 0], [1, 1, 0], [0, 0, 1], [0, 0, 1]], dtype=np.float32))
    c = T.npmi_coherence(B, [[0, 1], [0, 2]])
    assert c[0] == pytest.approx(1.0) and c[1] == -1.0


def test_topic_label_hides_words_of_a_bigram():
    assert T.topic_label(["eau potable", "eau", "potable", "bouteille", "gymnase"]) == "eau potable · bouteille · gymnase"


# ------------------------------------------------------------------------------ bursts
def test_burst_detection_on_a_synthetic_series():
    days = pd.date_range("2026-01-01", periods=60, freq="D")
    rng = np.random.default_rng(0)
    steady = rng.poisson(6, 60).astype(float)
    crisis = rng.poisson(0.3, 60).astype(float)
    crisis[40:47] = [25, 40, 38, 30, 20, 12, 9]
    weekly = np.where(np.arange(60) % 7 == 5, 12.0, 2.0)  # a weekly market: rises every 7 days, no burst
    counts = pd.DataFrame({"stade": steady, "eau potable": crisis, "marché": weekly}, index=days)
    eps = T.detect_bursts(counts, baseline_days=28, z_threshold=4, min_support=5)
    assert eps["term"].tolist() == ["eau potable"]
    ep = eps.iloc[0]
    assert ep["start"] == date(2026, 2, 10) and ep["peak"] == date(2026, 2, 11)
    assert ep["peak_count"] == 40 and ep["end"] >= date(2026, 2, 14)
    assert ep["baseline"] < 1
    # minimum support: the same jump with tiny counts is not an emergence
    small = pd.DataFrame({"x": np.r_[np.zeros(40), [3, 4, 3], np.zeros(17)]}, index=days)
    assert T.detect_bursts(small, min_support=5).empty


# ------------------------------------------------------------------------------ word clouds
def test_word_frequencies_remove_stop_words_and_prefer_bigrams():
    freq = T.word_frequencies(["L'eau non potable, encore !", "Eau non potable à Saint-Aubin", "eau potable ?"],
                              exclude=["saint", "aubin"])
    assert "le" not in freq and "encore" not in freq and "à" not in freq and "saint" not in freq
    # the phrases are shown, their words not again on their own (issue 22: « standard » beside « standard mairie »)
    assert freq["non potable"] == 2 and freq["eau non"] == 2 and "eau" not in freq and "potable" not in freq


def test_word_cloud_is_a_png_with_escaped_html():
    from PIL import Image

    png = T.word_cloud_png({"eau potable": 30, "bouteilles": 12, "gymnase": 8, "mairie": 5},
                           title="Cadre de vie — mars 2026", width=400, height=260)
    assert png[:8] == b"\x89PNG\r\n\x1a\n"
    img = Image.open(io.BytesIO(png))
    assert img.size == (400, 260)
    # the palette is dark enough to print: no drawn pixel lighter than the palette's lightest
    html = T.word_cloud_html(png, 'Avis <script>alert("x")</script>')
    assert "<script>" not in html and "&lt;script&gt;" in html
    with pytest.raises(ValueError, match="Aucun mot"):
        T.word_cloud_png({})


# ------------------------------------------------------------------------------ store: enricher and reads
def _mini_store(path) -> None:
    """A tiny store: 1 territory, 6 official posts, public messages over 70 days with a crisis."""
    start = datetime(2026, 1, 1, 9)
    posts = []
    for i, (text, react) in enumerate([
        ("Visite guidée du château ce samedi #patrimoine", 120), ("Le musée rouvre", 80),
        ("Nouvelle exposition au musée", 90), ("Travaux rue Nationale du 3 au 21", 5),
        ("Conseil municipal jeudi", 4), ("Festival d'été : le programme", 200),
    ]):
        posts.append({"post_id": f"facebook:p{i}", "platform": "facebook", "account_id": "facebook:1",
                      "territory_id": "saint-aubin", "created_at": start + timedelta(days=i * 10), "text": text,
                      "reactions": react, "comments": 3, "shares": 1})
    msgs = []
    n = 0
    rng = np.random.default_rng(5)
    for d in range(70):
        day = start + timedelta(days=d)
        for _ in range(int(rng.integers(4, 7))):
            text = ["Les travaux de la rue bloquent tout", "La piscine est fermée le lundi ?",
                    "Encore des bouchons", "Le stationnement en centre-ville est impossible"][n % 4]
            msgs.append({"message_id": f"facebook:m{n}", "platform": "facebook", "kind": "comment",
                         "territory_id": "saint-aubin", "author_hash": f"h{n % 17}", "is_official": False,
                         "created_at": day + timedelta(minutes=n % 300), "text": text})
            n += 1
        if 50 <= d < 56:  # crisis: tap water not drinkable
            for k in range(12):
                msgs.append({"message_id": f"facebook:c{n}", "platform": "facebook", "kind": "comment",
                             "territory_id": "saint-aubin", "author_hash": f"h{k}", "is_official": False,
                             "created_at": day + timedelta(hours=k),
                             "text": "Eau non potable et aucune info #EauSaintAubin"})
                n += 1
    msgs.append({"message_id": "facebook:r1", "platform": "facebook", "kind": "reply", "territory_id": "saint-aubin",
                 "is_official": True, "created_at": start, "text": "Merci !"})
    with derived_refresh.writer(path) as con:
        store.upsert(con, "posts", pd.DataFrame(posts))
        store.upsert(con, "messages", pd.DataFrame(msgs))


@pytest.fixture()
def mini(db):
    _mini_store(db)
    return db


def test_enrich_is_incremental_and_labels_override(mini):
    with derived_refresh.writer(mini) as con:
        r1 = T.enrich(con)
        assert r1["messages_classified"] == con.execute("SELECT count(*) FROM messages").fetchone()[0]
        assert r1["posts_classified"] == 6
        assert r1["model_version"].startswith(f"{classifier.MODEL_FAMILY}-") and r1["model_version"].endswith("-seed")
        r2 = T.enrich(con)
        assert r2["messages_classified"] == 0 and r2["posts_classified"] == 0
        got = con.execute("SELECT theme FROM themes WHERE item_id = 'facebook:m0' ORDER BY theme").fetchall()
        assert [g[0] for g in got] == ["travaux_urbanisme"]
        none = con.execute("SELECT theme, score FROM themes WHERE item_id = 'facebook:r1'").fetchall()
        assert none == [("none", 0.0)]
        T.store_label(con, "facebook:m0", ["travaux_urbanisme", "mobilite_transports"], author="analyste")
        with pytest.raises(ValueError, match="inconnu"):
            T.store_label(con, "facebook:m0", ["pas_un_theme"])
        r3 = T.enrich(con)
        # a label changes the model version: everything is re-classified, the label wins
        assert r3["model_version"] != r1["model_version"] and "-l" in r3["model_version"]
        assert r3["messages_classified"] == r1["messages_classified"]
        got = con.execute("SELECT theme, score FROM themes WHERE item_id = 'facebook:m0' ORDER BY theme").fetchall()
        assert got == [("mobilite_transports", 1.0), ("travaux_urbanisme", 1.0)]
        assert con.execute("SELECT count(DISTINCT model_version) FROM themes").fetchone()[0] == 1


def test_a_label_whose_themes_left_the_taxonomy_is_no_label(mini):
    """A theme renamed or removed from data/themes.toml: an analyst's label naming only it counts as
    no label (the model decides), never as « no theme », and no row gets the unknown id; a label that
    still names a known theme keeps it; an explicit « no theme » label stays one."""
    from analysis.topics import enricher as E

    assert E.known_labels("mobilite_transports, ancien_theme", ["mobilite_transports"]) == ["mobilite_transports"]
    assert E.known_labels("ancien_theme", ["mobilite_transports"]) is None
    assert E.known_labels("", ["mobilite_transports"]) == [] and E.known_labels(None, ["x"]) is None
    with derived_refresh.writer(mini) as con:
        T.enrich(con)
        model = con.execute("SELECT theme FROM themes WHERE item_id = 'facebook:m0' ORDER BY 1").fetchall()
        # what an analyst stored when « ancien_theme » was still in the file
        con.execute("INSERT INTO labels VALUES ('facebook:m0', 'message', 'theme', 'ancien_theme', 'analyste', now())")
        con.execute("INSERT INTO labels VALUES ('facebook:m1', 'message', 'theme', '', 'analyste', now())")
        clf = E.classifier_from_store(con)
        assert clf.n_labelled_ == 1  # only the explicit « no theme »
        T.enrich(con)
        assert con.execute("SELECT theme FROM themes WHERE item_id = 'facebook:m0' ORDER BY 1").fetchall() == model
        assert con.execute("SELECT theme FROM themes WHERE item_id = 'facebook:m1'").fetchall() == [("none",)]
        assert con.execute("SELECT count(*) FROM themes WHERE theme = 'ancien_theme'").fetchone()[0] == 0


def test_reads_shares_posts_vs_conversation_and_emergence(mini, tax):
    with derived_refresh.writer(mini) as con:
        T.enrich(con)
    with store.reader(mini) as con:
        f = Filters(territories=("saint-aubin",), start=date(2026, 1, 1), end=date(2026, 3, 12))
        sh = T.theme_shares(con, f, freq="month")
        jan = sh[(sh["period"] == pd.Timestamp("2026-01-01")) & (sh["theme"] == "travaux_urbanisme")].iloc[0]
        n_jan = con.execute("SELECT count(*) FROM messages WHERE created_at < '2026-02-01' "
                            "AND NOT is_official").fetchone()[0]
        assert jan["n_total"] == n_jan
        assert jan["share"] == pytest.approx(jan["n_items"] / n_jan)
        assert jan["label"] == "Travaux et urbanisme"

        pvc = T.posts_vs_conversation(con, f).set_index("theme")
        assert pvc.loc["tourisme_patrimoine", "posts"] == 3  # château + 2 × musée
        assert pvc.loc["tourisme_patrimoine", "post_share"] == pytest.approx(3 / 6)
        assert pvc.loc["tourisme_patrimoine", "message_share"] == 0
        assert pvc.loc["tourisme_patrimoine", "engagement_per_post"] == pytest.approx((124 + 84 + 94) / 3)
        assert pvc.loc["mobilite_transports", "situation"] == "Le public en parle, nous peu"
        assert pvc.loc["vie_citoyenne", "situation"] == "Nous en parlons, peu d'écho"
        assert pvc.loc["tourisme_patrimoine", "situation"] == "Nous en parlons, avec de l'écho"
        assert pvc.loc["travaux_urbanisme", "situation"] == "Équilibré"

        crisis = Filters(territories=("saint-aubin",), start=date(2026, 2, 15), end=date(2026, 3, 12))
        subj = T.emerging_subjects(con, crisis, baseline_days=28, min_support=5)
        assert len(subj) == 1
        s = subj[0]
        assert s.start == date(2026, 2, 20) and s.end == date(2026, 2, 25)
        assert "#eausaintaubin" in s.hashtags and any("potable" in t for t in s.terms)
        assert s.count == 72 and len(s.messages) == 20
        assert "author_hash" not in s.messages.columns and "author_name" not in s.messages.columns
        table = T.emerging_table(subj)
        assert table.iloc[0]["Du"] == "20 févr. 2026"

        msgs = T.themed_messages(con, f, theme="travaux_urbanisme")
        assert len(msgs) > 0 and "author_hash" not in msgs.columns
        assert T.sentiment_by_theme(con, f).empty  # no sentiment rows in this store


# ------------------------------------------------------------------------------ demo store
def _ground_truth(demo_db) -> pd.DataFrame:
    demo = pytest.importorskip("analysis.demo")
    fn = getattr(demo, "ground_truth_messages", None)
    if fn is None:
        pytest.skip("analysis.demo.ground_truth_messages absent")
    try:
        return fn(demo_db)
    except TypeError:
        return fn()


def test_classifier_on_demo_truth(demo_db):
    gt = _ground_truth(demo_db)
    col = "themes" if "themes" in gt.columns else "theme"
    public = ~gt["is_official"].astype(str).str.lower().isin(["true", "1"])
    gt = gt[public & gt[col].notna() & gt["text"].notna()].head(20_000)
    y_true = [T.parse_labels(v) for v in gt[col]]
    pred = T.ThemeClassifier().fit().predict_labels(gt["text"])
    ev = T.evaluate(y_true, pred, T.load_taxonomy().ids).set_index("theme")
    assert ev.loc["micro", "precision"] >= 0.75
    assert ev.loc["micro", "recall"] >= 0.6


def test_demo_crisis_emerges_on_the_right_dates(demo_db):
    with store.reader(demo_db) as con:
        assert con.execute("SELECT count(*) FROM themes").fetchone()[0] > 0, "the demo store is enriched"
        f = Filters(territories=("saint-aubin",), start=date(2026, 3, 1), end=date(2026, 4, 1))
        subj = T.emerging_subjects(con, f)
    crisis = [s for s in subj if "#eausaintaubin" in s.hashtags]
    assert crisis, [s.label for s in subj]
    s = crisis[0]
    assert date(2026, 3, 8) <= s.start <= date(2026, 3, 11)
    assert date(2026, 3, 9) <= s.peak <= date(2026, 3, 22)


# ------------------------------------------------------------------------------ CLI
def _run(*args: str):
    from typer.testing import CliRunner

    from analysis.cli import app

    return CliRunner().invoke(app, ["topics", *args])


def test_cli_themes_lists_the_no_theme_expressions_as_written():
    r = _run("themes")
    assert r.exit_code == 0, r.output
    # « [sans_theme] » printed as is (not read as Rich markup), with the expressions of the file
    assert "[sans_theme]" in r.output and "« condoléances »" in r.output and "« RIP »" in r.output


def test_cli_eval_on_a_french_spreadsheet_csv():
    from tests.conftest import FIXTURES

    csv = FIXTURES / "topics" / "echantillon_cp1252.csv"
    r = _run("eval", "--csv", str(csv), "--text-col", "texte", "--labels-col", "thèmes attendus", "--json")
    assert r.exit_code == 0, r.output
    out = json.loads(r.output)
    m = {x["theme"]: x for x in out["metrics"]}
    assert out["n"] == 8
    # 9 expected labels, 8 found; the only miss is 'vie_citoyenne' on the brocante message
    assert m["micro"]["support"] == 9 and m["micro"]["recall"] == pytest.approx(8 / 9)
    assert m["micro"]["precision"] == pytest.approx(1.0)
    assert m["vie_citoyenne"]["recall"] == 0.0
    r = _run("eval", "--csv", str(csv))
    assert r.exit_code == 2 and "texte" in r.output  # the error lists the real columns


def test_cli_label_enrich_emerging_and_sample(mini, tmp_path):
    r = _run("enrich")
    assert r.exit_code == 0, r.output
    r = _run("label", "facebook:m1", "sport_loisirs")
    assert r.exit_code == 0 and "1 étiquette" in r.output
    r = _run("label", "facebook:inconnu", "sport_loisirs")
    assert r.exit_code == 1 and "introuvable" in r.output
    r = _run("emerging", "--territory", "saint-aubin", "--start", "2026-02-15", "--end", "2026-03-12", "--json")
    assert r.exit_code == 0, r.output
    subj = json.loads(r.output)
    assert subj[0]["start"] == "2026-02-20" and "#eausaintaubin" in subj[0]["hashtags"]
    out = tmp_path / "s.csv"
    r = _run("sample", "--n", "10", "--out", str(out), "--seed", "1")
    assert r.exit_code == 0, r.output
    df = pd.read_csv(out, sep=";", encoding="utf-8-sig", keep_default_na=False)
    assert list(df.columns) == ["item_id", "date", "platform", "text", "themes"] and len(df) == 10


def test_topic_shares_per_period_and_territory(mini):
    with store.reader(mini) as con:
        texts = con.execute("SELECT text FROM messages WHERE NOT is_official").df()["text"]
        model = T.TopicDiscovery(ks=(4,), min_df=2, max_df=0.6, top_n=4, seed=0, exclude=["saint", "aubin"]).fit(texts)
        sh = T.topic_shares(con, model, Filters(territories=("saint-aubin",)), freq="month")
        n_feb = con.execute("SELECT count(*) FROM messages WHERE NOT is_official AND created_at >= '2026-02-01' "
                            "AND created_at < '2026-03-01'").fetchone()[0]
    feb = sh[sh["period"] == pd.Timestamp("2026-02-01")]
    assert feb["n_items"].sum() == n_feb and (feb["n_total"] == n_feb).all()
    assert feb["share"].sum() == pytest.approx(1.0)
    assert set(feb["territory_id"]) == {"saint-aubin"}
    # the 72 crisis messages (20-25 Feb, same text) share one dominant topic
    water = int(model.dominant_topic(["Eau non potable et aucune info #EauSaintAubin"])[0])
    assert water >= 0 and feb.set_index("topic").loc[water, "n_items"] >= 72
    assert feb.set_index("topic").loc[water, "label"] == model.labels_[water]


def test_report_section_states_the_findings_in_french(mini):
    with derived_refresh.writer(mini) as con:
        T.enrich(con)
    with store.reader(mini) as con:
        sec = T.report_section(con, Filters(territories=("saint-aubin",), start=date(2026, 1, 1),
                                            end=date(2026, 3, 12)))
    text = " ".join(sec["findings"])
    assert "Sujet émergent : « eau" in text and "du 20 févr. 2026 au 25 févr. 2026 (72 messages" in text
    assert "Le public parle de « Mobilité et transports »" in text
    assert list(sec["tables"]) == ["Thèmes de la conversation", "Nos publications face à la conversation",
                                   "Sujets émergents"]
    assert sec["figures"]["Nuage de mots"][:4] == b"\x89PNG" and "Mots les plus fréquents" in sec["alt"]["Nuage de mots"]


# ------------------------------------------------------------------------------ subjects a human would keep (issue 17 item 5)
# Words the demo listed as « subjects » beside the crisis before the rules: filler and evaluative words.
NOISE_WORDS = {"top", "nouveau", "content", "vieux", "beau", "exactement", "falloir", "quartier", "equipe",
               "super", "moment", "passe", "initiative", "reussite", "franchement", "mairie", "info"}


def _noise_only(label: str) -> bool:
    """A label part made of noise words only ('top', 'beau initiative', 'content · mairie' → True)."""
    return any(set(part.split()) <= NOISE_WORDS for part in label.split(" · "))


def test_demo_crisis_first_and_no_noise_subject(demo_db):
    with store.reader(demo_db) as con:
        march = T.emerging_subjects(con, Filters(territories=("saint-aubin",), start=date(2026, 3, 1),
                                                 end=date(2026, 4, 1)))
        assert march and "#eausaintaubin" in march[0].hashtags and "potable" in march[0].label, \
            [s.label for s in march]
        # the months where the earlier rule listed « top », « content · mairie », « exactement falloir ·
        # beau initiative », « nouveau », « quartier », « equipe », « vieux » (before: 19 such labels)
        noisy, noisy_before = [], []
        # June 2025: « exactement falloir · beau initiative » passed the rules until the phrases made only of
        # agreement adverbs and praise formulas were read as reactions too
        for terr, m in [("saint-aubin", (2025, 6)), ("saint-aubin", (2025, 7)), ("saint-aubin", (2025, 12)),
                        ("saint-aubin", (2026, 3)),
                        ("saint-aubin", (2026, 4)), ("saint-aubin", (2026, 7)), ("villeneuve-les-sources", (2025, 7)),
                        ("villeneuve-les-sources", (2025, 12)), ("port-marel", (2025, 12))]:
            s = date(*m, 1)
            f = Filters(territories=(terr,), start=s, end=date(s.year + (s.month == 12), s.month % 12 + 1, 1))
            noisy += [(terr, m, x.label) for x in T.emerging_subjects(con, f) if _noise_only(x.label)]
            before = T.emerging_subjects(con, f, min_authors=1, generic_share=None, min_lift=0.0, lone_share=None)
            noisy_before += [x.label for x in before if _noise_only(x.label)]
    assert noisy == []
    assert len(noisy_before) >= 10  # the rules, not the store, removed them


def _replay(rows: list[tuple[str, str, str]]):
    from analysis.eval.emerging import replay_store

    df = pd.DataFrame(rows, columns=["created_at", "author", "text"])
    df["ref"] = [f"r{i}" for i in range(len(df))]
    df["created_at"] = pd.to_datetime(df["created_at"])
    df["platform"] = "facebook"
    return replay_store(df, territory="t")


def _background(n_days: int = 35) -> list[tuple[str, str, str]]:
    """Forty ordinary messages a day for ``n_days`` from 1 March: 'top' in one in ten (background)."""
    rows = []
    for d in range(n_days):
        day = (pd.Timestamp("2026-03-01") + pd.Timedelta(days=d)).strftime("%Y-%m-%d 10:00")
        for i in range(40):
            rows.append((day, f"a{(d * 40 + i) % 300}", "top la fête" if i % 10 == 0 else f"message ordinaire {i}"))
    return rows


def test_rules_authors_background_and_lone_words():
    assert T.specific_term("#eausaintaubin", {"eau"}) and T.specific_term("eau potable", {"eau"})
    assert not T.specific_term("beau initiative", {"beau", "initiative"}) and not T.specific_term("top", {"top"})
    assert T.generic_words({"top": 0.05, "eau": 0.009, "content": 0.02}) == {"top", "content"}
    assert T.distinct_authors(["a", "a", "b", None, ""]) == 4  # unknown authors count one each
    assert T.subject_label(["vieux", "vieux pont", "concert"]) == "vieux pont · concert"
    assert T.subject_label(["eau", "potable", "eau non", "non potable"]) == "eau non potable"
    f = Filters(territories=("t",), start=date(2026, 4, 1), end=date(2026, 4, 5))
    burst = [("2026-04-02 12:00", f"b{i}", "coupure d'électricité rue Haute") for i in range(12)]
    con = _replay(_background() + burst)
    subj = T.emerging_subjects(con, f)
    assert [s.label for s in subj] and "coupure" in subj[0].label
    # the same burst by one author (twelve posts) is no subject
    con = _replay(_background() + [(t, "b0", x) for t, _, x in burst])
    assert T.emerging_subjects(con, f) == []
    assert T.emerging_subjects(con, f, min_authors=1) != []
    # a background word doubling with the volume ('top') is no subject; without the rules it was one
    more = [("2026-04-02 15:00", f"c{i}", "top la fête") for i in range(40)] + \
           [("2026-04-02 16:00", f"d{i}", f"message ordinaire {i}") for i in range(400)]
    con = _replay(_background() + more)
    assert T.emerging_subjects(con, f) == []
    assert [s.label for s in T.emerging_subjects(con, f, generic_share=None, min_lift=0.0, lone_share=None)]


# ------------------------------------------------------------------------------ adaptation to the store's texts
def _adaptation_texts(n: int = 150) -> list[str]:
    """Texts a keyword names (« piste cyclable » → mobility, « concert » → culture), each beside words
    that are no keyword (« guidon », « pneu » ; « guitare », « violon »)."""
    return ([f"Piste cyclable : guidon et pneu neufs, sortie {i}" for i in range(n)]
            + [f"Concert : guitare et violon, soirée {i}" for i in range(n)]
            + [f"Match de foot : maillot et crampons, saison {i}" for i in range(n)])


def test_adaptation_learns_the_words_that_go_with_a_keyword(tax):
    """Without any label, the texts a keyword names teach the classifier the other words of their theme;
    a text holding only those words then gets that theme. The learned model reads back from its bytes
    into the same scores and version; one learned for another taxonomy is refused."""
    bare = ["Mon guidon et mon pneu sont à changer", "Guitare et violon ce soir", "Merci !", "👍👍", ""]
    clf = T.ThemeClassifier(tax).fit().adapt(_adaptation_texts())
    assert clf.adapt_examples_ == 450 and "-a" in clf.version
    assert clf.predict_top(bare).tolist() == ["mobilite_transports", "culture_evenements"] + 3 * [T.NO_THEME]
    # a keyword still decides, and an adapted theme scores below one keyword's evidence
    P = clf.predict_proba(["Piste cyclable fermée", bare[0]])
    assert P[0].max() > P[1].max() >= clf.threshold
    again = T.ThemeClassifier(tax, adaptation=clf.adaptation_).fit()
    assert again.version == clf.version
    np.testing.assert_array_equal(again.predict_proba(bare), clf.predict_proba(bare))
    other = T.Taxonomy(tax.themes[:-1], "autre", None)
    with pytest.raises(ValueError, match="autre taxonomie"):
        T.ThemeClassifier(other, adaptation=clf.adaptation_).fit()
    # too few named texts: nothing learned, the similarity rule stays
    small = T.ThemeClassifier(tax).fit().adapt(_adaptation_texts(60)[:150])
    assert small.adaptation_ is None and "-a" not in small.version
    assert small.version == T.default_classifier(tax).version


def test_a_no_theme_expression_keeps_a_text_without_keyword_out_of_the_adapted_model(tax, tmp_path):
    """« [sans_theme] » of data/themes.toml: condolences stay without a theme even when the adapted model
    reads a theme in their other words (here « guidon », learned as mobility); each expression is a negative
    keyword of every theme (« sympathies aux parents » is no youth), two keywords still decide."""
    assert "sympathies" in tax.no_theme and "condoléances" in tax.no_theme
    clf = T.ThemeClassifier(tax).fit().adapt(_adaptation_texts())
    texts = ["Mon guidon et mon pneu", "Sincères condoléances, son guidon et son pneu", "Mes sympathies, guidon"]
    assert clf.predict_top(texts).tolist() == ["mobilite_transports", T.NO_THEME, T.NO_THEME]
    plain = T.default_classifier(tax)
    assert plain.predict_top(["Mes sympathies aux parents", "Sympathies aux parents d'élèves du collège",
                              "Condoléances. La piste cyclable et le vélo"]).tolist() == \
        [T.NO_THEME, "jeunesse_education", "mobilite_transports"]
    without = T.Taxonomy(tax.themes, tax.version, None)  # no expression: the model decides
    assert T.ThemeClassifier(without).fit().adapt(_adaptation_texts()).predict_top(texts[1:3]).tolist() == \
        2 * ["mobilite_transports"]
    p = tmp_path / "t.toml"
    p.write_text('[[theme]]\nid = "x"\nkeywords = ["parc"]\n[sans_theme]\nexpressions = ["de la"]\n', encoding="utf-8")
    with pytest.raises(ValueError, match=r"\[sans_theme\], expression « de la ».*mots-outils"):
        T.load_taxonomy(p)
    p.write_text('[[theme]]\nid = "x"\nkeywords = ["parc"]\n[sans_theme]\nexpressions = "rip"\n', encoding="utf-8")
    with pytest.raises(ValueError, match="liste"):
        T.load_taxonomy(p)


def test_the_store_keeps_its_adaptation_until_it_doubles(db):
    """The enricher's classifier is adapted to the store's texts and keeps the same model (the same
    version: nothing reclassified) until the store holds twice the items it held then; a read-only
    session never learns."""
    from analysis.topics import enricher as E

    def add(texts: list[str], start: int) -> None:
        with derived_refresh.writer(db) as con:
            store.upsert(con, "messages", pd.DataFrame([
                {"message_id": f"facebook:a{start + i}", "platform": "facebook", "kind": "comment",
                 "territory_id": "saint-aubin", "author_hash": f"h{i % 7}", "is_official": False,
                 "created_at": datetime(2026, 3, 1) + timedelta(minutes=start + i), "text": t}
                for i, t in enumerate(texts)]))

    add(_adaptation_texts(40), 0)
    with derived_refresh.writer(db) as con:  # too few named texts: no model, and the row says so
        assert "-a" not in E.classifier_from_store(con).version
        assert con.execute("SELECT items, examples, model FROM theme_model").fetchall() == [(120, 120, None)]
    full = _adaptation_texts(150)
    add(full[40:150] + full[190:300] + full[340:], 1000)
    with store.reader(db) as con:  # read-only: what is stored (nothing yet), never learned
        assert "-a" not in E.classifier_from_store(con, refit=False).version
    with store.reader(db) as con:  # what `vigie topics themes` tells the analyst
        state = T.adaptation_state(con)
        assert state["current"] and not state["learned"] and state["examples"] == 120 and state["relearn_at"] == 240
    with derived_refresh.writer(db) as con:
        first = E.classifier_from_store(con)
        assert "-a" in first.version and first.adapt_examples_ == 450
        assert T.adaptation_state(con)["learned"] and T.adaptation_state(con)["relearn_at"] == 900
        T.enrich(con)
        assert con.execute("SELECT DISTINCT model_version FROM themes").fetchall() == [(first.version,)]
    add([f"Piste cyclable {i}" for i in range(200)], 5000)  # 650 items: less than twice 450
    with derived_refresh.writer(db) as con:
        assert E.classifier_from_store(con).version == first.version
    with store.reader(db) as con:
        assert E.classifier_from_store(con, refit=False).version == first.version
    add([f"Concert {i}" for i in range(300)], 9000)  # 950 items: learned again
    with derived_refresh.writer(db) as con:
        assert E.classifier_from_store(con).version != first.version
        assert con.execute("SELECT items FROM theme_model").fetchone()[0] == 950
        # a damaged model (edited by hand, imported from elsewhere) is learned again, not a crash
        con.execute("UPDATE theme_model SET model = 'pas un modele'::BLOB")
        assert "-a" in E.classifier_from_store(con).version
        assert con.execute("SELECT octet_length(model) > 1000 FROM theme_model").fetchone()[0]
        # analysts' labels are learned on top of the adapted model; they still override it
        T.store_label(con, "facebook:a1000", ["sport_loisirs"])
        labelled = E.classifier_from_store(con)
        assert "-a" in labelled.version and "-l" in labelled.version
        T.enrich(con)
        assert con.execute("SELECT theme FROM themes WHERE item_id = 'facebook:a1000'").fetchall() == [("sport_loisirs",)]


def test_the_analyst_is_told_whether_the_classifier_adapted():
    from analysis.cli.topics import adaptation_sentence

    assert "pas encore adapté" in adaptation_sentence(None)
    base = {"current": True, "learned": True, "examples": 17642, "items": 279919, "relearn_at": 559838,
            "fitted_at": "2026-12-06 20:55:01", "min_examples": 200}
    said = adaptation_sentence(base)
    assert "adapté à ses textes le 2026-12-06 20:55" in said and "17\u202f642" in said and "559\u202f838" in said
    assert "il en faut 200" in adaptation_sentence({**base, "learned": False, "examples": 80})
    assert "la méthode d'adaptation a changé" in adaptation_sentence({**base, "current": False})


def test_a_subject_that_burst_several_times_says_how_many():
    """A subject's terms burst at several times (« ligne bus » in the demo: 7 bursts in ten months): the
    page says « à N reprises » instead of dates that read as one long burst; bursts less than a week
    apart are one episode."""
    from types import SimpleNamespace as E

    from analysis.topics.emerging import _episodes
    from analysis.views.thematiques import emerging_headline

    d = date
    assert _episodes([E(start=d(2026, 3, 9), end=d(2026, 3, 23))]) == 1
    assert _episodes([E(start=d(2026, 3, 20), end=d(2026, 3, 30)), E(start=d(2026, 3, 9), end=d(2026, 3, 23)),
                      E(start=d(2026, 4, 5), end=d(2026, 4, 6))]) == 1  # overlapping, then 6 quiet days
    assert _episodes([E(start=d(2026, 1, 2), end=d(2026, 1, 3)), E(start=d(2026, 5, 1), end=d(2026, 5, 2)),
                      E(start=d(2026, 1, 11), end=d(2026, 1, 12))]) == 3  # 8 quiet days apart: two episodes
    s = {"label": "ligne bus", "start": d(2025, 12, 31), "end": d(2026, 10, 20), "peak": d(2026, 5, 27), "count": 83,
         "baseline": 0.4, "episodes": 7}
    assert "à 7 reprises entre le 31 déc. 2025 et le 20 oct. 2026" in emerging_headline(s, str)
    assert "du 31 déc. 2025 au 20 oct. 2026" in emerging_headline({**s, "episodes": 1}, str)


def test_reactions_without_keyword_get_no_theme(monkeypatch):
    """A message of reaction words only (« Exceptionnel », « Très agréable », « Bravo, magnifique »: review
    titles, comments) has no subject: its vector no longer names a theme, where similarity gave tourism; a
    keyword alone still does, and a word that can name a subject is still read by its vector."""
    clf = T.ThemeClassifier(T.load_taxonomy()).fit()
    words = ["Exceptionnel", "Très agréable", "Bravo, magnifique"]
    assert list(clf.predict_top(words)) == [classifier.NO_THEME] * 3
    assert clf.predict_top(["Piscine"])[0] == "sport_loisirs"
    assert clf.predict_top(["Fabuleux spectacle"])[0] == "culture_evenements"
    clf.subject_keys_ = np.ones(len(clf.seed_vectorizer_.vocabulary_))  # the rule is what leaves them without
    assert all(t != classifier.NO_THEME for t in clf.predict_top(words))
