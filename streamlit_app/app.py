"""Vigie — Streamlit router. Run with ``make demo`` (or ``streamlit run streamlit_app/app.py``).

Pages are files in ``streamlit_app/app_pages/``; a page is listed only once its file exists,
so adding one is one line in :data:`PAGES`.

Why not ``pages/``: when a folder named ``pages`` sits next to the main script, Streamlit
1.67 runs in its legacy multipage mode (``PagesManager.uses_pages_directory``): it builds the
menu from file names and runs a page *without* this router (no titles, no layout, no shared
sidebar). ``tests/test_app.py`` fails if such a folder reappears.
"""

from __future__ import annotations

import sys
from pathlib import Path

import streamlit as st

APP_DIR = Path(__file__).resolve().parent
# `streamlit run` puts only this folder on sys.path; pages import `streamlit_app.*`.
if str(APP_DIR.parent) not in sys.path:
    sys.path.insert(0, str(APP_DIR.parent))

from analysis import charts  # noqa: E402
from streamlit_app import auth, data, ui  # noqa: E402

PAGES_DIR = APP_DIR / "app_pages"
ICON = APP_DIR / "assets" / "vigie.png"
# (file in app_pages/, French title, Material icon, URL path). Order = menu order; first = home.
PAGES: list[tuple[str, str, str, str]] = [
    ("synthese.py", "Synthèse", ":material/dashboard:", "synthese"),
    ("e_reputation.py", "E-réputation", ":material/sentiment_satisfied:", "e-reputation"),
    ("thematiques.py", "Thématiques", ":material/category:", "thematiques"),
    ("audience.py", "Audience", ":material/groups:", "audience"),
    ("campagnes.py", "Campagnes", ":material/campaign:", "campagnes"),
    ("calendrier.py", "Calendrier", ":material/calendar_month:", "calendrier"),
    ("avant_de_publier.py", "Avant de publier", ":material/edit_note:", "avant-de-publier"),
    ("benchmark.py", "Benchmark", ":material/leaderboard:", "benchmark"),
    ("moderation.py", "Modération & veille", ":material/shield:", "moderation"),
    ("rapports.py", "Rapports", ":material/description:", "rapports"),
    ("donnees.py", "Données", ":material/database:", "donnees"),
]


def pages() -> list[st.Page]:
    """The pages whose file exists, the first one being the home page.

    Streamlit serves the default page at « / » and only there: its own path (« /synthese », used by
    links and bookmarks) opened the « Page not found » dialog. The home page is therefore also
    registered under its path as a hidden page (same file, not in the menu); the default page keeps
    « / » and reserves another path, « /<path>-accueil », that nothing links to."""
    found = [p for p in PAGES if (PAGES_DIR / p[0]).exists()]
    out = []
    for n, (f, t, i, u) in enumerate(found):
        if n == 0:
            out.append(st.Page(PAGES_DIR / f, title=t, icon=i, url_path=f"{u}-accueil", default=True))
            out.append(st.Page(PAGES_DIR / f, title=t, icon=i, url_path=u, visibility="hidden"))
        else:
            out.append(st.Page(PAGES_DIR / f, title=t, icon=i, url_path=u))
    return out


# The page icon is a file served by the app itself: a ":material/…:" icon makes every browser fetch
# it from fonts.gstatic.com (Streamlit's favicon code), and nothing may leave for the Internet.
st.set_page_config(page_title="Vigie", page_icon=str(ICON), layout="wide",
                   initial_sidebar_state="auto")  # collapsed on a phone, open on a desktop
# Streamlit's own « Download as CSV » of every table does not neutralise spreadsheet formulas:
# off (also in .streamlit/config.toml, read before the first run); ui.download is the safe one.
st.set_option("client.disableDataExport", True)
ui.remember_url()  # before anything slow: a click during this first run must keep the link's filters
auth.require_login(pages())  # no page, no data without a login (unless VIGIE_AUTH=demo); the asked page kept
auth.idle_watch()  # an idle page goes back to the login form by itself
charts.use_theme()
nav = st.navigation(pages())
ui.app_style()  # visible keyboard focus on every page
ui.sidebar_header()
# Drawn here so that every page shows them at the same place and they persist across pages;
# pages call ui.role() / ui.filters() again and get the same values.
ui.role()
st.session_state["_vigie_page"] = nav.title
if data.available():
    auth.record_view(nav.title, ui.filters())  # the audit log: a page and its filters, once per change
with ui.profiled():  # VIGIE_PROFILE=file.pstats: accumulate a cProfile of the page runs (benchmarks)
    nav.run()
