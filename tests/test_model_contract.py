"""Issue 18 item 4: the three learned text models follow one scikit-learn contract.

``sklearn.utils.estimator_checks.check_estimator`` feeds numeric arrays; these models take texts,
so the checks that need no data are run as they are (parameters default-constructible, nothing
set in ``__init__``, ``get_params``/``set_params`` invariance, ``clone``), and the data checks
that matter here are redone with texts: ``fit`` returns self and does not touch the parameters,
learned attributes end in ``_`` (``classes_``, ``version_``), ``predict`` is an array, predicting
before ``fit`` raises ``NotFittedError``, ``fit`` is idempotent (same version twice), ``clone``
gives an unfitted copy with the same parameters.
"""

from __future__ import annotations

import numpy as np
import pytest
from sklearn.base import clone
from sklearn.exceptions import NotFittedError
from sklearn.utils import estimator_checks as ec

from analysis.moderation.toxicity import ToxicityClassifier
from analysis.sentiment.model import FrenchSentimentClassifier
from analysis.topics import ThemeClassifier

pytestmark = pytest.mark.xdist_group("contract")

POS = ["Merci pour ce magnifique feu d'artifice", "Bravo à l'équipe, super travail", "Génial, j'adore ce parc",
       "Très bon accueil à la mairie, merci", "Superbe marché de Noël, bravo"] * 3
NEG = ["Bande de connards, vous êtes nuls", "Quelle honte cette gestion, incapables", "Sale arabe rentre chez toi",
       "Vous êtes des escrocs et des menteurs", "Ferme ta gueule abruti"] * 3
NEU = ["La mairie ouvre à 9 heures", "Le conseil municipal se réunit jeudi", "Les travaux commencent lundi",
       "Le bus 12 passe par la gare", "La piscine est au bout de la rue"] * 3


def _cases():
    texts3 = POS + NEG + NEU
    y3 = ["positive"] * len(POS) + ["negative"] * len(NEG) + ["neutral"] * len(NEU)
    texts2 = POS + NEU + NEG
    y2 = [0] * (len(POS) + len(NEU)) + [1] * len(NEG)
    return [
        pytest.param(lambda: FrenchSentimentClassifier(calibrate=False), texts3, y3, id="sentiment"),
        pytest.param(lambda: ToxicityClassifier(max_char_features=2000, max_word_features=500), texts2, y2,
                     id="toxicity"),
        pytest.param(lambda: ThemeClassifier(), texts3, None, id="themes"),
    ]


@pytest.mark.parametrize(("make", "X", "y"), _cases())
def test_estimator_checks_that_need_no_numeric_data(make, X, y):
    est = make()
    name = type(est).__name__
    ec.check_parameters_default_constructible(name, est)
    ec.check_no_attributes_set_in_init(name, est)
    ec.check_get_params_invariance(name, est)
    ec.check_set_params(name, est)
    ec.check_estimator_cloneable(name, est)


@pytest.mark.parametrize(("make", "X", "y"), _cases())
def test_text_contract(make, X, y):
    est = make()
    params = est.get_params(deep=False)
    with pytest.raises(NotFittedError):
        est.predict(X[:2])
    fitted = est.fit(X, y) if y is not None else est.fit()
    assert fitted is est  # fit returns self
    assert est.get_params(deep=False).keys() == params.keys()
    for k, v in params.items():  # fit does not touch the parameters
        assert est.get_params(deep=False)[k] is v, k
    learned = set(vars(est)) - set(params)
    assert learned and all(a.endswith("_") for a in learned), sorted(a for a in learned if not a.endswith("_"))
    assert hasattr(est, "classes_") and len(est.classes_) >= 2
    assert isinstance(est.version_, str) and est.version_
    pred = est.predict(X[:4])
    assert isinstance(pred, np.ndarray) and len(pred) == 4
    v1 = est.version_
    est2 = clone(est)
    assert not any(a.endswith("_") and not a.startswith("__") for a in vars(est2))  # unfitted copy
    assert est2.get_params(deep=False).keys() == params.keys()
    est2 = est2.fit(X, y) if y is not None else est2.fit()
    assert est2.version_ == v1  # idempotent: same data, same parameters, same version
