"""Page « Audience » (Streamlit AppTest): a small hand-built store with an INSEE population, and the demo store."""

from __future__ import annotations

from streamlit.testing.v1 import AppTest

from analysis import audience as A
from analysis import derived_refresh
from tests.page_helpers import frames, open_page, rendered
from tests.test_audience import FIX, _small_store


def run_page(query: dict[str, str] | None = None) -> AppTest:
    return open_page("audience.py", period="12m", query=query)


def _text(at: AppTest) -> str:
    return rendered("\n".join([m.value for m in at.markdown] + [c.value for c in at.caption] + [i.value for i in at.info]
                              + [s.value for s in at.header] + [w.value for w in at.warning]))


_frames = frames


def test_page_small_store(db):
    _small_store(db)
    res = A.read_insee_population(FIX / "insee_aged100.csv", {"49901": "saint-aubin"})
    with derived_refresh.writer(db) as con:
        A.store_population(con, res.population)
    at = run_page()
    text = _text(at)
    assert "ne déduit jamais l'âge, le genre ou le lieu" in text
    assert "Sans répartition âge × genre dans les exports" in text and "YouTube" in text
    assert "insee_aged100.csv" in text  # the population reference says where it comes from
    # followers: 2 500 FB (3 000 at the end) + 1 000 IG ; the KPI shows the end total
    assert any(m.value == "4\u202f000" for m in at.metric), [m.value for m in at.metric]
    # representativeness sentences on the weighted pyramid: nobody aged 45-54 among followers
    assert "- Les 45-54 ans sont absents de vos abonnés (réseaux qui donnent l'âge et le sexe) d'après les plateformes." in text
    growth = next(d for d in _frames(at) if "Abonnés fin" in d.columns)
    assert set(growth["Réseau"]) >= {"Facebook", "Instagram", "tous réseaux confondus"}


def test_page_demo_store(demo_db_copy):
    at = run_page()
    text = _text(at)
    assert "Les 65 ans et plus sont" in text and "fois moins présents parmi vos abonnés" in text
    assert "population_demo.csv" in text
    ray = next(d for d in _frames(at) if "Dans le territoire" in d.columns)
    assert len(ray) == 5  # own territory and its 4 peers
    # switching to one platform shows its own sentences
    at.radio(key="audience_platform").set_value("instagram").run()
    assert not at.exception
    assert any("Instagram" in m.value for m in at.markdown)


def test_page_without_demographics(db):
    from analysis.registry import load_registry, sync_registry

    with derived_refresh.writer(db) as con:
        sync_registry(con, load_registry())
    at = run_page()
    text = _text(at)
    assert "Aucune répartition âge × genre exportée" in text
    assert "Aucun total d'abonnés exporté" in text


def _label_limits(spec) -> list:
    """Every ``labelLimit`` of a Vega-Lite spec (axes and legends)."""
    out = []
    if isinstance(spec, dict):
        for k, v in spec.items():
            out += [v] if k == "labelLimit" else _label_limits(v)
    elif isinstance(spec, list):
        for v in spec:
            out += _label_limits(v)
    return out


def test_audience_chart_labels_are_never_cut(demo_db_copy):
    """Issue 22 item 7: the segment, territory and legend labels of the Audience charts are not truncated
    (``labelLimit`` 0 = no limit, instead of Vega's 180 px default or a fixed 220 px)."""
    import json

    at = run_page()
    specs = [json.loads(c.proto.spec) for c in _charts(at._tree)]
    titles = json.dumps([s.get("title") for s in specs], ensure_ascii=False)
    for name in ("Indice de représentativité par segment", "Part des abonnés dans le territoire",
                 "Part des segments cibles"):
        spec = next((s for s in specs if name in " ".join(_title(s))), None), titles
        assert spec[0] is not None, spec[1]
        limits = _label_limits(spec[0])
        assert limits and all(v == 0 for v in limits), (name, limits)


def _title(spec: dict) -> list[str]:
    t = spec.get("title") or {}
    t = t.get("text", "") if isinstance(t, dict) else t
    return t if isinstance(t, list) else [t]


def _charts(node) -> list:
    out = []
    for c in (getattr(node, "children", None) or {}).values():
        if getattr(c, "type", None) in ("vega_lite_chart", "arrow_vega_lite_chart"):
            out.append(c)
        else:
            out += _charts(c)
    return out
