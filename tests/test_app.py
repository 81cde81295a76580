"""The app shell and the « Données » page (Streamlit AppTest) on a small hand-built store.

AppTest quirk (Streamlit 1.67): on a *rerun* it executes only the current page, not the
router, so every scenario starts a fresh AppTest with its URL / session state set up front —
which is also how a shared link opens.
"""

from __future__ import annotations

import os
from datetime import date
from pathlib import Path

import pandas as pd
import pytest
from streamlit.testing.v1 import AppTest

from analysis import derived_refresh
from tests import app_store
from tests.page_helpers import linked_page, router_pages

APP = Path(__file__).resolve().parents[1] / "streamlit_app" / "app.py"
PAGES_DIR = APP.parent / "app_pages"


@pytest.fixture()
def small_db(db: Path) -> Path:
    """The small store of tests/app_store.py at the test's VIGIE_DB."""
    return app_store.build(db)


def run_app(query: dict[str, str] | None = None, state: dict | None = None) -> AppTest:
    at = linked_page("donnees", query, timeout=60)
    for k, v in (state or {}).items():
        at.session_state[k] = v
    at.run()
    assert not at.exception, [e.value for e in at.exception]
    return at


def metrics(at: AppTest) -> dict[str, str]:
    return {m.label: m.value for m in at.metric}


def frame_with(at: AppTest, *columns: str) -> pd.DataFrame:
    """The first table that has ``columns`` (exactly these when more than one is given)."""
    for d in at.dataframe:
        cols = list(d.value.columns)
        if (len(columns) == 1 and columns[0] in cols) or cols == list(columns):
            return d.value
    raise AssertionError(f"no table with columns {columns!r}")


def test_router_lists_every_page_file_with_a_french_title():
    pages = router_pages()
    titles = [p[1] for p in pages]
    assert titles == ["Synthèse", "E-réputation", "Thématiques", "Audience", "Campagnes", "Calendrier",
                      "Avant de publier", "Benchmark",
                      "Modération & veille", "Rapports", "Données"]
    listed = {p[0] for p in pages}
    on_disk = {p.name for p in PAGES_DIR.glob("*.py") if not p.name.startswith("_")}
    assert on_disk <= listed, f"page files missing from PAGES: {on_disk - listed}"


def test_no_pages_folder_next_to_the_router():
    assert not (APP.parent / "pages").exists(), (
        "streamlit_app/pages/ makes Streamlit bypass the st.navigation router (legacy multipage "
        "mode): put pages in streamlit_app/app_pages/ and list them in PAGES of app.py")


def test_donnees_page_shows_the_coverage_of_the_store(small_db):
    at = run_app()
    assert at.title[0].value == "Données"
    # Default period: 12 months back from the last day of data (10 Apr 2026) covers everything.
    assert metrics(at) == {"Publications": "13", "Messages": "12", "Territoire × plateforme": "3",
                           "Mois manquants": "1"}
    summary = frame_with(at, "Premier mois").set_index(["Territoire", "Plateforme"])
    row = summary.loc[("Saint-Aubin-sur-Loire", "Facebook")]
    assert (row["Premier mois"], row["Dernier mois"], row["Mois"]) == ("janv. 2026", "avr. 2026", 3)
    assert (row["Publications"], row["Messages"], row["Mois manquants"]) == (6, 11, 1)
    assert summary.loc[("Port-Marel", "Facebook"), "Publications"] == 3
    gaps = frame_with(at, "Territoire", "Plateforme", "Mois")
    assert gaps.to_dict("records") == [{"Territoire": "Saint-Aubin-sur-Loire", "Plateforme": "Facebook",
                                        "Mois": "mars 2026"}]
    # The chart's data table: months as columns, a gap stays empty (not 0).
    monthly = frame_with(at, "Territoire · plateforme").set_index("Territoire · plateforme")
    assert list(monthly.columns) == ["janv. 2026", "févr. 2026", "mars 2026", "avr. 2026"]
    assert monthly.loc["Saint-Aubin-sur-Loire · Facebook", "janv. 2026"] == 8
    assert pd.isna(monthly.loc["Saint-Aubin-sur-Loire · Facebook", "mars 2026"])
    # Text alternative of the heatmap.
    assert any("3 couples territoire × plateforme, de janvier 2026 à avril 2026" in c.value for c in at.caption)


def test_import_log_and_rejects_never_show_identities(small_db):
    at = run_app()
    log = frame_with(at, "SHA-256")
    rec = log.iloc[0]
    assert rec["Fichier"] == "commentaires_mars.csv"  # not the user's home path
    assert (rec["Lues"], rec["Ajoutées"], rec["Rejetées"], rec["SHA-256"]) == (15, 14, 2, "abababababab")
    rej = frame_with(at, "Raison")
    assert rej["Ligne"].tolist() == [7, 9]
    assert "Valeur" not in rej.columns  # élu (default role): no citizen content at all
    everything = " ".join(str(d.value.to_dict()) for d in at.dataframe)
    assert "Paulette" not in everything and "jeanne.martin" not in everything


def test_analyst_sees_rejected_values_but_not_names(small_db, monkeypatch):
    monkeypatch.setenv("VIGIE_AUTH", "demo")
    at = run_app(state={"vigie_role": "analyste"})
    assert any("Mode démonstration sans authentification" in w.value for w in at.sidebar.warning)
    rej = frame_with(at, "Raison")
    assert rej["Valeur"].tolist() == ["31/02/2026", "(masquée : identité)"]


@pytest.mark.parametrize(("query", "expected", "url"), [
    ({"territoires": "port-marel"}, ("3", "1"), None),
    # unknown ids in a link are dropped, from the view and from the URL
    ({"territoires": "port-marel,inconnu"}, ("3", "1"), {"territoires": "port-marel"}),
    ({"plateformes": "instagram"}, ("4", "0"), None),
    # « Données » shows everything stored: a period in the link is kept (URL, sidebar) but does not
    # cut its counts (issue 22 item 10); territories and platforms do
    ({"periode": "mois-precedent"}, ("13", "12"), None),
    ({"periode": "perso", "du": "2026-02-01", "au": "2026-02-28"}, ("13", "12"), None),
    ({"periode": "30j", "territoires": "saint-aubin"}, ("10", "11"), None),
    # the default period is not written in the URL (clean links)
    ({"periode": "12m"}, ("13", "12"), {}),
])
def test_filters_in_the_url_are_applied(small_db, query, expected, url):
    at = run_app(query)
    m = metrics(at)
    assert (m["Publications"], m["Messages"]) == expected
    assert at.session_state["_vf_periode"] == query.get("periode", "12m")
    # The URL keeps the view, so that the link reproduces it.
    assert {k: at.query_params[k] for k in at.query_params} == (query if url is None else url)


def test_plus_peers_adds_the_peers_of_our_territory(small_db):
    at = run_app()
    at.sidebar.button(key="vigie_add_peers").click()
    at.run()
    assert at.session_state["_vf_territoires"] == ["saint-aubin", "port-marel"]
    assert at.query_params["territoires"] in ("saint-aubin,port-marel", ["saint-aubin,port-marel"])


def test_missing_store_gives_a_french_message_not_a_traceback(tmp_path, monkeypatch):
    monkeypatch.setenv("VIGIE_DB", str(tmp_path / "absent.duckdb"))
    at = linked_page("donnees", timeout=60).run()
    assert not at.exception
    assert any("Aucune base de données Vigie" in i.value and "make demo" in i.value for i in at.info)


def test_demo_store_page_matches_the_store(demo_db, monkeypatch):
    monkeypatch.setenv("VIGIE_DB", str(demo_db))
    from analysis import queries, store

    at = run_app({"periode": "12m"})
    with store.reader(demo_db) as con:  # everything stored: the period filter does not apply (issue 22 item 10)
        cov = queries.coverage(con, queries.Filters())
    assert metrics(at)["Publications"] == f"{int(cov['posts'].sum()):,}".replace(",", "\u202f")


# ------------------------------------------------------------------------------ pure helpers

def test_period_presets_count_back_from_the_last_day_of_data():
    from streamlit_app.ui import period_bounds

    anchor = date(2026, 4, 10)
    assert period_bounds("30j", anchor) == (date(2026, 3, 12), date(2026, 4, 11))
    assert period_bounds("3m", anchor) == (date(2026, 1, 11), date(2026, 4, 11))
    assert period_bounds("12m", anchor) == (date(2025, 4, 11), date(2026, 4, 11))
    assert period_bounds("mois-precedent", anchor) == (date(2026, 3, 1), date(2026, 4, 1))
    # data complete to the end of the month: that month is the last complete one
    assert period_bounds("mois-precedent", date(2026, 4, 30)) == (date(2026, 4, 1), date(2026, 5, 1))
    assert period_bounds("perso", anchor, (date(2026, 2, 28), date(2026, 2, 1))) == (
        date(2026, 2, 1), date(2026, 3, 1))
    assert period_bounds("perso", anchor, None) == period_bounds("12m", anchor)


def test_with_peers():
    from streamlit_app.ui import with_peers

    terr = pd.DataFrame({"territory_id": ["a", "b", "c"], "kind": ["own", "peer", "peer"],
                         "peers": [["b", "c", "zz"], [], ["a"]]})
    assert with_peers([], terr) == ["a", "b", "c"]
    assert with_peers(["c"], terr) == ["c", "a"]


def test_display_formats_french_numbers_and_dates():
    from streamlit_app.ui import display

    df = pd.DataFrame({"n": [12345, 7], "x": [1234.5, float("nan")], "d": pd.to_datetime(["2026-11-26", None])})
    html = display(df).to_html()
    assert "12\u202f345" in html and "1\u202f234,5" in html and "26 nov. 2026" in html and "—" in html


def test_a_new_import_shows_up_without_restarting_the_app(small_db):
    from analysis import store

    at = run_app()
    assert metrics(at)["Publications"] == "13"
    with derived_refresh.writer(small_db) as con:  # what `vigie import` does: write, then publish the read copy
        store.upsert(con, "posts", pd.DataFrame([{
            "post_id": "facebook:new-1", "platform": "facebook", "territory_id": "port-marel",
            "created_at": app_store.LAST_DAY}]))
    at.run()
    assert metrics(at)["Publications"] == "14"


def test_store_from_an_older_schema_gets_a_french_message(small_db):
    import duckdb

    from analysis import store

    con = duckdb.connect(str(store.read_path(small_db)))
    con.execute("DROP TABLE population")  # a table added to the schema after the store was built
    con.close()
    at = linked_page("donnees", timeout=60).run()
    assert not at.exception
    assert any("ne correspond pas à cette version de Vigie" in e.value for e in at.error)


def test_kpi_formats_values_and_deltas_in_french():
    def page():
        from streamlit_app import ui

        ui.kpi("Abonnés", 12345, 250)
        ui.kpi("Sentiment net", -0.25, -1.5, unit="points", inverse=True)
        ui.kpi("Taux", "12,3\u00a0%", "stable")

    at = AppTest.from_function(page).run()
    assert not at.exception
    from streamlit.proto.Metric_pb2 import Metric

    up, down = Metric.MetricDirection.UP, Metric.MetricDirection.DOWN
    good, bad = Metric.MetricColor.BLUE, Metric.MetricColor.ORANGE
    m = at.metric
    assert (m[0].value, m[0].proto.delta, m[0].proto.direction, m[0].proto.color) == (
        "12\u202f345", "+250,0", up, good)
    # a fall of a "lower is better" figure is good news, arrow down
    assert (m[1].value, m[1].proto.delta, m[1].proto.direction, m[1].proto.color) == (
        "\u22120,2\u00a0points", "\u22121,5\u00a0points", down, good)
    assert m[0].proto.color != bad
    assert m[2].value == "12,3\u00a0%" and m[2].proto.delta == "stable"


def test_filter_params_carry_only_the_filters_to_other_pages():
    def page():
        import streamlit as st

        from streamlit_app import ui

        st.write(repr(ui.filter_params()))

    at = AppTest.from_function(page)
    at.query_params["territoires"] = "saint-aubin,port-marel"
    at.query_params["periode"] = "3m"
    at.query_params["message"] = "facebook:123"  # a page's own parameter is not carried
    at.run()
    assert at.markdown[0].value == repr({"territoires": "saint-aubin,port-marel", "periode": "3m"})


def test_read_connections_are_reused_per_published_copy(tmp_path, monkeypatch):
    """Cache misses share one read-only instance per published copy; a new publish is read at once,
    and an older copy's instance is closed when no page reads it any more."""
    from analysis import store
    from streamlit_app import data

    path = tmp_path / "pool.duckdb"
    monkeypatch.setenv("VIGIE_DB", str(path))
    monkeypatch.setattr(data, "_POOL", {})

    def publish(n: int) -> tuple[str, int]:
        with derived_refresh.writer(path) as con:
            con.execute("CREATE TABLE IF NOT EXISTS t (x INTEGER)")
            con.execute("INSERT INTO t VALUES (?)", [n])
        os.utime(store.read_path(path), ns=(n * 10**9, n * 10**9))  # distinct stamps even within a tick
        return data.store_stamp()

    s1 = publish(1)
    with data._read_connection(s1) as a, data._read_connection(s1) as b:
        assert a.execute("SELECT count(*) FROM t").fetchone()[0] == 1
        assert b.execute("SELECT max(x) FROM t").fetchone()[0] == 1
        assert data._POOL[s1].active == 2  # two cursors of one instance
        first = data._POOL[s1]
    with data._read_connection(s1) as c:
        assert data._POOL[s1] is first and c.execute("SELECT 1").fetchone() == (1,)
    slow_page = data._read_connection(s1)  # a page still reading the first copy…
    old = slow_page.__enter__()
    s2 = publish(2)  # …while an import publishes a second one, written through the main file
    with data._read_connection(s2) as new:
        assert new.execute("SELECT count(*) FROM t").fetchone()[0] == 2
        assert old.execute("SELECT count(*) FROM t").fetchone()[0] == 1  # still answers
    assert list(data._POOL) == [s1, s2] and data._POOL[s1].retired
    slow_page.__exit__(None, None, None)
    assert list(data._POOL) == [s2]  # closed once nobody reads it
    s3 = publish(3)
    with data._read_connection(s3) as new:
        assert new.execute("SELECT count(*) FROM t").fetchone()[0] == 3
        # a read model may open its own cursor (parallel queries): it sees the same copy
        assert new.cursor().execute("SELECT count(*) FROM t").fetchone()[0] == 3
    assert list(data._POOL) == [s3]


def test_the_app_skips_chart_validation_but_draws_the_same_spec(monkeypatch):
    import altair as alt

    from analysis import charts
    from streamlit_app import ui

    df = pd.DataFrame({"t": pd.date_range("2026-01-05", periods=8, freq="W"), "v": range(8), "g": ["a", "b"] * 4})
    built = charts.line_with_band(df, "t", "v", color="g", title="Titre", subtitle="Sous-titre")
    expected = built.to_dict()  # validated
    monkeypatch.delenv("VIGIE_VALIDATE_CHARTS")
    fast = ui._unvalidated(built.copy())
    assert fast.to_dict() == expected
    bad = alt.Chart(df).mark_line().encode(x={"field": "t", "type": "penché"})
    ui._unvalidated(bad).to_dict()  # not validated: no error raised here…
    monkeypatch.setenv("VIGIE_VALIDATE_CHARTS", "1")
    with pytest.raises(Exception, match="penché"):  # …while the test suite's setting validates
        ui._unvalidated(bad.copy()).to_dict()


def test_server_settings_that_the_load_figures_depend_on():
    """`.streamlit/config.toml` keeps the two runner settings measured under load: no forced full
    garbage collection after each page run (57 % of the server's samples under 20 sessions, py-spy)
    and no magic (the pages call st.* explicitly). Streamlit's defaults are the opposite."""
    import tomllib

    from streamlit import config as st_config

    cfg = tomllib.loads((APP.parents[1] / ".streamlit" / "config.toml").read_text(encoding="utf-8"))
    assert cfg["runner"]["postScriptGC"] is False
    assert cfg["runner"]["magicEnabled"] is False
    # both are real Streamlit options (a renamed option would be ignored silently)
    options = st_config.get_config_options()
    assert options["runner.postScriptGC"].default_val is True
    assert options["runner.magicEnabled"].default_val is True
