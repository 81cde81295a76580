"""Page « Thématiques » (Streamlit AppTest) on the small hand-built store of test_topics."""

from __future__ import annotations

from pathlib import Path

import pandas as pd
import pytest
from streamlit.testing.v1 import AppTest

from analysis import derived_refresh, store
from analysis import topics as T
from analysis.registry import load_registry, sync_registry
from tests.page_helpers import frame_with, frames, open_page, rendered
from tests.test_topics import _mini_store


@pytest.fixture()
def theme_db(db: Path) -> Path:
    _mini_store(db)
    with derived_refresh.writer(db) as con:
        sync_registry(con, load_registry())
        T.enrich(con)
        # sentiment: the roadworks messages are negative, the pool question neutral
        ids = con.execute("SELECT message_id, text FROM messages WHERE NOT is_official").df()
        label = ids["text"].map(lambda t: "negative" if "travaux" in t or "Eau" in t else "neutral")
        store.upsert(con, "sentiment", pd.DataFrame({"item_id": ids["message_id"], "item_type": "message",
                                                     "model_version": "test", "label": label}))
    return db


def run_page(query: dict[str, str] | None = None) -> AppTest:
    return open_page("thematiques.py", period="12m", query=query)


_frames = frames


_frame_with = frame_with


def test_page_shows_shares_gap_emergence_sentiment_and_cloud(theme_db):
    at = run_page()
    with store.reader(theme_db) as con:
        n_public = con.execute("SELECT count(*) FROM messages WHERE NOT is_official").fetchone()[0]
    m = {x.label: x.value for x in at.metric}
    assert m["Messages publics"] == f"{n_public}"
    assert m["Premier thème"] in {"Mobilité et transports", "Travaux et urbanisme"}
    # titles state the finding, in French
    md = rendered(" ".join(x.value for x in at.markdown))
    assert "a brusquement monté du 20 févr. 2026 au 25 févr. 2026" in md
    emerging = _frame_with(at, "Pic")
    assert emerging["Du"].tolist()[0] == "20 févr. 2026" and "#eausaintaubin" in emerging["Hashtags"].iloc[0]
    gap = _frame_with(at, "Situation")
    row = gap.set_index("Thème").loc["Vie citoyenne"]
    assert row["Situation"] == "Nous en parlons, peu d'écho"
    sent = _frame_with(at, "Part de messages négatifs").set_index("Thème")
    assert sent.loc["Travaux et urbanisme", "Part de messages négatifs"] == pytest.approx(1.0)
    captions = rendered(" ".join(c.value for c in at.caption))
    assert "Part de messages négatifs par thème : Travaux et urbanisme 100,0" in captions
    assert "Mots les plus fréquents" in captions
    assert at.get("image"), "word cloud image missing"
    # no author identities anywhere
    everything = " ".join(str(d.to_dict()) for d in _frames(at))
    assert "h1" not in everything.split("'") and "author" not in everything


def test_word_cloud_selectors_filter_by_theme(theme_db):
    at = run_page()
    at.selectbox(key="thematiques_theme").set_value("travaux_urbanisme").run()
    assert not at.exception
    words = _frame_with(at, "Mot")
    # « travaux » shows inside its phrase « travaux rue », not again alone (issue 22)
    assert any("travaux" in w.split() for w in words["Mot"]) and not any("piscine" in w for w in words["Mot"])


def test_store_without_themes_says_what_to_run(db):
    _mini_store(db)
    at = run_page()
    assert any("vigie topics enrich" in i.value for i in at.info)
