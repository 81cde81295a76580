"""Shared widgets of the app: sidebar filters kept in the URL, role, KPI, chart, empty state.

Filters live in the URL query string with territory and platform *ids* (``?territoires=
saint-aubin,port-marel&periode=3m``), so a copied link reproduces the view, survives a
territory being renamed, and :func:`page_link` carries the filters to another page. The router
draws the sidebar on every run; pages call :func:`filters` and :func:`role` again and get the
same values without duplicate widgets.
"""

from __future__ import annotations

import contextlib
import json
import os
import re
import threading
from collections.abc import Callable, Iterator, Mapping
from datetime import date, timedelta
from typing import Any, Literal

import altair as alt
import pandas as pd
import streamlit as st

from analysis import schema
from analysis.fmt import (
    fr_date,
    fr_int,
    fr_month,
    fr_num,
    fr_period_end_excluded,
    fr_signed,
)
from analysis.queries import Filters
from streamlit_app import data

Role = Literal["elu", "analyste", "admin"]
# Placeholders of the choice lists (Streamlit's own are « Choose an option », « Choose options »).
PICK = "Choisir…"
PICK_MANY = "Choisir une ou plusieurs valeurs…"
ROLES: dict[str, str] = {"elu": "Élu·e (synthèses, sans identités)", "analyste": "Analyste",
                         "admin": "Administrateur·rice"}

# Query-string keys (French: they are visible in shared links).
QP_TERRITORIES = "territoires"
QP_PERIOD = "periode"
QP_FROM, QP_TO = "du", "au"  # inclusive days, ISO (custom period only)
QP_PLATFORMS = "plateformes"
FILTER_KEYS = (QP_TERRITORIES, QP_PERIOD, QP_FROM, QP_TO, QP_PLATFORMS)

PERIODS: dict[str, str] = {
    "30j": "30 derniers jours",
    "3m": "3 derniers mois",
    "12m": "12 derniers mois",
    "mois-precedent": "Mois précédent",
    "perso": "Personnalisée",
}
DEFAULT_PERIOD = "12m"
PLATFORM_LABELS = schema.PLATFORM_LABELS  # the one French name of each platform


# ------------------------------------------------------------------------------ pure helpers

def period_bounds(preset: str, anchor: date, custom: tuple[date, date] | None = None) -> tuple[date, date]:
    """Half-open period ``[start, end)`` of a preset, counted back from ``anchor`` (last day of data).

    Anchoring on the last day of data rather than today keeps an old or partial store
    readable (the demo, a store imported last month). ``mois-precedent`` is the last
    complete calendar month: the anchor's month when the anchor is its last day.
    """
    end = anchor + timedelta(days=1)
    if preset == "30j":
        return end - timedelta(days=30), end
    if preset in ("3m", "12m"):
        months = 3 if preset == "3m" else 12
        return (pd.Timestamp(end) - pd.DateOffset(months=months)).date(), end
    if preset == "mois-precedent":
        first = anchor.replace(day=1) if end.day == 1 else (anchor.replace(day=1) - timedelta(days=1)).replace(day=1)
        nxt = (pd.Timestamp(first) + pd.offsets.MonthBegin(1)).date()
        return first, nxt
    if preset == "perso" and custom and len(custom) == 2 and custom[0] and custom[1]:
        lo, hi = sorted(custom)
        return lo, hi + timedelta(days=1)
    return period_bounds(DEFAULT_PERIOD, anchor)


def with_peers(selected: list[str], territories: pd.DataFrame) -> list[str]:
    """``selected`` plus the peers of every selected territory (the own one when nothing is selected)."""
    base = list(selected) or territories.loc[territories["kind"] == "own", "territory_id"].tolist()
    known = set(territories["territory_id"])
    out = list(base)
    for _, t in territories[territories["territory_id"].isin(base)].iterrows():
        peers = t.get("peers")
        for p in (list(peers) if peers is not None and not isinstance(peers, float) else []):
            if p in known and p not in out:
                out.append(p)
    return out


# ------------------------------------------------------------------------------ once per run

def _rendered_this_run(widget_key: str) -> bool:
    """Whether a widget with this key was already drawn in the current script run.

    The router draws the sidebar on every page; the page then asks again for the same values.
    Streamlit keeps the set of widget keys of the run on its run context (internal API, so a
    failure only means "not drawn yet").
    """
    try:
        from streamlit.runtime.scriptrunner_utils.script_run_context import get_script_run_ctx

        ctx = get_script_run_ctx()
        return ctx is not None and widget_key in ctx.shared.widget_user_keys_this_run
    except (AttributeError, ImportError):  # pragma: no cover - other Streamlit versions
        return False


# ------------------------------------------------------------------------------ role

def auth_mode() -> str:
    """``demo`` (no authentication, explicit) or ``""`` (login required, see ``streamlit_app.auth``)."""
    return os.environ.get("VIGIE_AUTH", "").strip().lower()


def role() -> Role:
    """Role of the current user: ``"elu"``, ``"analyste"`` or ``"admin"``.

    ``VIGIE_AUTH=demo``: a visible "mode démonstration" banner and a role selector. Otherwise
    the role of the logged-in user (the router shows the login form before any page); the
    least-privileged role (élu) if somehow nobody is logged in: safe by default.
    """
    if auth_mode() != "demo":
        from streamlit_app import auth

        u = auth.current_user()
        return u["role"] if u else "elu"
    if _rendered_this_run(_K_ROLE):
        return st.session_state[_K_ROLE]
    st.sidebar.warning("**Mode démonstration sans authentification.** Ne pas utiliser avec des "
                       "données réelles accessibles en réseau.", icon=":material/lock_open:")
    return st.sidebar.selectbox("Rôle (démonstration)", list(ROLES), placeholder=PICK,
                                format_func=ROLES.get, key=_K_ROLE,
                                help="En production, le rôle vient de la connexion.")


_K_ROLE = "vigie_role"


# Keyboard focus drawn by Streamlit on links is a faint grey background (about 1,1:1 against
# white): a visible outline in the theme's blue on every focusable element reached by keyboard
# (:focus-visible, so mouse clicks do not show it). A chart of fixed width (side-by-side halves
# of a pyramid) scrolls inside its own box on a 390 px phone instead of widening the page.
APP_CSS = """<style>
a:focus-visible, button:focus-visible, summary:focus-visible, input:focus-visible,
[role="button"]:focus-visible, [role="tab"]:focus-visible, [tabindex]:focus-visible {
  outline: 3px solid #0072B2 !important; outline-offset: 2px !important; }
[data-testid="stVegaLiteChart"] { max-width: 100%; overflow-x: auto; }
[data-testid="stMain"] h2 { font-size: 1.5rem; }
/* Streamlit's table and chart toolbar speaks English (« Search », « Fullscreen », « Download as CSV »)
   and cannot be translated; the app's own downloads (ui.download) are the safe, French ones. */
[data-testid="stElementToolbar"] { display: none !important; }
[data-testid="stElementContainer"]:has(#vigie-fr-aria) { display: none; }
</style>"""
# Streamlit speaks English to screen readers and in a few widgets, with no setting to change it in
# 1.67: « Help for <label> » on help icons, « Open » / « Clear value » on choice lists, « Choose
# date » on date fields, « Upload », « Drag and drop a file here » and « 200MB per file » in the file
# uploader. This script, inline (it loads nothing), puts the French in place as those nodes appear
# (mutation records are handled before the browser paints or a screen reader reads the change); it
# runs once per browser tab. Hidden container: no blank space. The tables are the test's
# (tests/test_browser_french.py reads STREAMLIT_FRENCH to know what to look for).
STREAMLIT_FRENCH_LABELS = {
    "Help": "Aide", "Open": "Ouvrir la liste", "Close": "Fermer", "Clear value": "Effacer",
    "Clear all": "Tout effacer", "Selected values": "Valeurs choisies", "Choose date": "Choisir une date",
    "Choose date range": "Choisir une période", "Quick select a date range": "Choix rapide d'une période",
    "Previous month": "Mois précédent", "Next month": "Mois suivant", "Delete": "Supprimer",
    "Running...": "Calcul en cours…", "Stop script": "Arrêter le calcul", "Sidebar": "Barre latérale",
    "App pages": "Pages de l'application", "Main menu": "Menu principal", "Link to heading": "Lien vers ce titre",
    "Markdown content": "Contenu", "Notifications": "Notifications", "Upload": "Choisir un fichier",
    "Previous page": "Page précédente", "Next page": "Page suivante", "Pagination": "Pages",
}
STREAMLIT_FRENCH_PREFIXES = {"Help for ": "Aide : ", "Remove ": "Retirer ", "Upload ": "Téléverser "}
STREAMLIT_FRENCH_TEXTS = {
    "Upload": "Choisir un fichier", "Upload directories": "Choisir des dossiers",
    "Drag and drop a file here": "Glissez-déposez un fichier ici",
    "Drag and drop files here": "Glissez-déposez des fichiers ici",
    "Drag and drop directories here": "Glissez-déposez des dossiers ici",
}
APP_SCRIPT = ("""<span id="vigie-fr-aria" hidden></span><script>
(() => {
  if (window.vigieFrench) return;
  window.vigieFrench = true;
  const LABELS = """ + json.dumps(STREAMLIT_FRENCH_LABELS, ensure_ascii=False) + """;
  const PREFIXES = """ + json.dumps(STREAMLIT_FRENCH_PREFIXES, ensure_ascii=False) + """;
  const TEXTS = """ + json.dumps(STREAMLIT_FRENCH_TEXTS, ensure_ascii=False) + """;
  const UNITS = {B: "o", KB: "ko", MB: "Mo", GB: "Go"};
  const SIZE = /^(\\d+(?:\\.\\d+)?)\\s*(B|KB|MB|GB) per file$/;
  const label = (e) => {
    const a = e.getAttribute("aria-label");
    if (!a) return;
    if (Object.hasOwn(LABELS, a)) { e.setAttribute("aria-label", LABELS[a]); return; }
    for (const [en, fr] of Object.entries(PREFIXES)) {
      if (a.startsWith(en)) { e.setAttribute("aria-label", fr + a.slice(en.length)); return; }
    }
  };
  const text = (n) => {
    const v = n.nodeValue, t = v.trim();
    if (Object.hasOwn(TEXTS, t)) { n.nodeValue = v.replace(t, TEXTS[t]); return; }
    const m = SIZE.exec(t);
    if (m) n.nodeValue = v.replace(t, m[1].replace(".", ",") + "\u00a0" + UNITS[m[2]] + " par fichier");
  };
  const walk = (root) => {
    if (root.nodeType === 3) { text(root); return; }
    if (root.nodeType !== 1) return;
    label(root);
    root.querySelectorAll("[aria-label]").forEach(label);
    const it = document.createTreeWalker(root, NodeFilter.SHOW_TEXT);
    for (let n = it.nextNode(); n; n = it.nextNode()) text(n);
  };
  new MutationObserver((records) => records.forEach((r) => {
    if (r.type === "attributes") label(r.target);
    else if (r.type === "characterData") text(r.target);
    else r.addedNodes.forEach(walk);
  })).observe(document.body, { subtree: true, childList: true, characterData: true, attributes: true,
                               attributeFilter: ["aria-label"] });
  walk(document.body);
})();
</script>""")


def app_style() -> None:
    """Shared CSS of the app (visible keyboard focus, phone-safe charts, no English toolbar) and the
    French names of the help icons, drawn once per run by the router."""
    st.html(APP_CSS)
    st.html(APP_SCRIPT, unsafe_allow_javascript=True)


def sidebar_header() -> None:
    """Name of the tool and the access mode, at the top of the sidebar (drawn by the router)."""
    # bold text, not a heading: the page's h1 must be the first heading (axe heading-order)
    st.sidebar.markdown("**Vigie**  \nObservatoire des réseaux sociaux")
    if auth_mode() != "demo":
        from streamlit_app import auth

        auth.logout_button()


# ------------------------------------------------------------------------------ filters

def filters() -> Filters:
    """Sidebar filters (territories, period, platforms), bound to the URL; returns a ``Filters``."""
    if _rendered_this_run(_K_TERR) and "_vf_result" in st.session_state:
        return st.session_state["_vf_result"]
    f = _render_filters()
    st.session_state["_vf_result"] = f
    return f


# Widget state keys (session) behind each query-string key.
_K_TERR, _K_PERIOD, _K_DATES, _K_PLAT = "_vf_territoires", "_vf_periode", "_vf_dates", "_vf_plateformes"


def remember_url() -> None:
    """Keep the filter parameters of the link that opened the session (called first by the router).

    A menu click during the very first run sends the new page's URL without them, before the
    filters have been read: this snapshot is what the filters are seeded from.
    """
    if "_vf_url" not in st.session_state:
        st.session_state["_vf_url"] = {k: st.query_params.get_all(k) for k in FILTER_KEYS
                                       if k in st.query_params}


def _url_all(key: str) -> list[str]:
    snap = st.session_state.get("_vf_url")
    return list(snap.get(key, [])) if snap is not None else st.query_params.get_all(key)


def _url_values(key: str) -> list[str]:
    """Values of a query parameter, accepting both ``a,b`` and repeated ``k=a&k=b``."""
    return [v for raw in _url_all(key) for v in str(raw).split(",") if v.strip()]


def _url_value(key: str, default: str = "") -> str:
    vals = _url_all(key)
    return vals[-1] if vals else default


def _init_from_url(territory_ids: list[str], platforms: list[str], anchor: date) -> None:
    """Give each filter widget its value before it is drawn, when Streamlit has none for it.

    First choice: the value of the previous run (a shadow copy, because Streamlit forgets a
    widget's state when a run is interrupted, e.g. a menu click while the page loads). Else,
    at the start of a session: the URL (a shared link opens a new session). Afterwards the
    widgets are the truth and are written back to the URL at every run.
    """
    shadow = st.session_state.setdefault("_vf_shadow", {})

    def seed(key: str, from_url: Callable[[], Any]) -> None:
        if key not in st.session_state:
            st.session_state[key] = shadow[key] if key in shadow else from_url()

    def period_from_url() -> str:
        period = _url_value(QP_PERIOD, DEFAULT_PERIOD)
        return period if period in PERIODS else DEFAULT_PERIOD

    def dates_from_url() -> tuple[date, date]:
        try:
            du = date.fromisoformat(_url_value(QP_FROM))
            au = date.fromisoformat(_url_value(QP_TO))
            return min(du, au), max(du, au)
        except ValueError:
            start, end = period_bounds(DEFAULT_PERIOD, anchor)
            return start, end - timedelta(days=1)

    seed(_K_TERR, lambda: [t for t in _url_values(QP_TERRITORIES) if t in territory_ids])
    seed(_K_PERIOD, period_from_url)
    seed(_K_PLAT, lambda: [p for p in _url_values(QP_PLATFORMS) if p in platforms])
    seed(_K_DATES, dates_from_url)


def _write_url(values: dict[str, str | None]) -> None:
    """Set our query parameters (others, owned by pages, are left alone); None removes one.

    Written at every run, even when unchanged: a page switch through the menu drops the
    query string in the browser while the server still holds the old values.
    """
    for k, v in values.items():
        if v in (None, ""):
            if k in st.query_params:
                del st.query_params[k]
        else:
            st.query_params[k] = v


def _render_filters() -> Filters:
    sb = st.sidebar
    terr = data.territories()
    names = dict(zip(terr["territory_id"], terr["name"], strict=False))
    own = set(terr.loc[terr["kind"] == "own", "territory_id"])
    # own first (queries.territories orders them); a user limited to some territories picks among
    # those only: an id of another territory in the link is dropped (and data.call would cut it anyway)
    options = data.selectable_territories()
    everything = data.sees_everything()
    plat_options = data.platforms()
    _, last = data.data_range()
    anchor = last or date.today()
    _init_from_url(options, plat_options, anchor)

    sb.markdown("**Filtres**")

    def add_peers() -> None:
        st.session_state[_K_TERR] = with_peers(st.session_state.get(_K_TERR, []), terr)

    selected = sb.multiselect(
        "Territoires", options, key=_K_TERR,
        format_func=lambda t: f"{names.get(t, t)}{' (nous)' if t in own else ''}",
        placeholder="Tous les territoires" if everything else "Tous vos territoires", select_all=False,
    )
    if everything:  # a scoped user's peers are compared on Synthèse, E-réputation, Benchmark, Audience
        sb.button("\\+ pairs", on_click=add_peers, key="vigie_add_peers",
                  help="Ajouter les territoires pairs de la sélection (ou de notre territoire).")

    preset = sb.selectbox("Période", list(PERIODS), placeholder=PICK, format_func=PERIODS.get, key=_K_PERIOD)
    custom = None
    if preset == "perso":
        picked = sb.date_input("Du … au … (inclus)", value=st.session_state[_K_DATES],
                               key="_vf_dates_widget", format="DD/MM/YYYY")
        if isinstance(picked, tuple | list) and len(picked) == 2:
            st.session_state[_K_DATES] = (picked[0], picked[1])
        # else: only the first day picked so far; keep the previous complete range
        custom = st.session_state[_K_DATES]
    start, end = period_bounds(preset, anchor, custom)
    sb.caption(f"{fr_period_end_excluded(start, end)} · dernière donnée le {fr_date(last)}")

    plats = sb.multiselect("Plateformes", plat_options, key=_K_PLAT,
                           format_func=lambda p: PLATFORM_LABELS.get(p, p),
                           placeholder="Toutes les plateformes", select_all=False)
    st.session_state["_vf_shadow"] = {_K_TERR: list(selected), _K_PERIOD: preset, _K_PLAT: list(plats)}
    _write_url({
        QP_TERRITORIES: ",".join(selected) or None,
        QP_PERIOD: None if preset == DEFAULT_PERIOD else preset,
        QP_FROM: start.isoformat() if preset == "perso" else None,
        QP_TO: (end - timedelta(days=1)).isoformat() if preset == "perso" else None,
        QP_PLATFORMS: ",".join(plats) or None,
    })
    # nothing selected: every territory, i.e. the user's whole scope when they have one
    chosen = tuple(t for t in selected if t in options) or (() if everything else tuple(options))
    return Filters(territories=chosen, start=start, end=end, platforms=tuple(plats))


def filter_params() -> dict[str, str | list[str]]:
    """The current filters as query parameters (for links that keep the view)."""
    out: dict[str, str | list[str]] = {}
    for k in FILTER_KEYS:
        if k in st.query_params:
            vals = st.query_params.get_all(k)
            out[k] = vals if len(vals) > 1 else vals[0]
    return out


def page_link(page: str | st.Page, label: str, icon: str | None = None) -> None:
    """A link to another page that keeps the current filters."""
    st.page_link(page, label=label, icon=icon, query_params=filter_params())


# ------------------------------------------------------------------------------ display

def fmt_value(v: Any, decimals: int = 1) -> str:
    """French display of a number (int → ``12 345``, float → ``1 234,5``); strings unchanged."""
    if isinstance(v, str):
        return v
    if isinstance(v, bool):
        return "oui" if v else "non"
    if isinstance(v, int) or (isinstance(v, float) and float(v).is_integer() and decimals == 0):
        return fr_int(v)
    return fr_num(v, decimals)


def kpi(label: str, value: Any, delta: Any = None, help: str | None = None, *,
        decimals: int = 1, unit: str = "", inverse: bool = False) -> None:
    """A headline figure in French format; ``delta`` (number or text) with its arrow.

    ``inverse=True`` when a rise is bad news (negative share, response time).
    """
    shown = fmt_value(value, decimals) + (f"\u00a0{unit}" if unit and not isinstance(value, str) else "")
    delta_text, arrow, color = None, "auto", "gray"
    if delta is not None and not (isinstance(delta, float) and pd.isna(delta)):
        if isinstance(delta, str):
            delta_text, arrow = delta, "off"
        else:
            delta_text = fr_signed(delta, decimals, unit)
            # fr_signed writes a true minus sign, which Streamlit does not read as "down": direction
            # and colour are set here. Blue / orange rather than green / red: readable by
            # colour-blind people, and the arrow says it too.
            shown_delta = round(float(delta), decimals)  # « 0,0 » (a tiny change) reads as no change
            arrow = "down" if shown_delta < 0 else ("up" if shown_delta > 0 else "off")
            good = (shown_delta > 0) != inverse
            color = "gray" if shown_delta == 0 else ("blue" if good else "orange")
    st.metric(label, shown, delta_text, delta_color=color, help=help, delta_arrow=arrow)


def display(df: pd.DataFrame, formats: Mapping[str, str] | None = None) -> Any:
    """A Styler showing ``df`` in French formats while keeping raw values for sorting.

    ``formats`` maps a column to ``int``, ``num``, ``pct``, ``date``, ``month``; other numeric
    and date columns are guessed from their dtype.
    """
    from analysis.fmt import fr_pct

    fns = {"int": fr_int, "num": fr_num, "pct": fr_pct, "date": fr_date, "month": fr_month}
    spec: dict[str, Callable] = {}
    for c in df.columns:
        kind = (formats or {}).get(c)
        if kind is None:
            s = df[c]
            if pd.api.types.is_bool_dtype(s):
                continue
            if pd.api.types.is_integer_dtype(s):
                kind = "int"
            elif pd.api.types.is_float_dtype(s):
                kind = "int" if s.dropna().map(float.is_integer).all() else "num"
            elif pd.api.types.is_datetime64_any_dtype(s):
                kind = "date"
        if kind:
            fn = fns[kind]
            spec[c] = lambda v, fn=fn: fn(v) if not pd.isna(v) else "—"
    styler = df.style.format(spec, na_rep="—")
    others = [c for c in df.columns if c not in spec]
    if others:  # text columns too: a missing value reads "—", never "None"
        styler = styler.format(None, subset=others, na_rep="—")
    return styler


def table(df: pd.DataFrame, formats: Mapping[str, str] | None = None, *, download_as: str | None = None,
          **kwargs: Any) -> None:
    """``st.dataframe`` in French formats, without the index (short tables shown in full).

    ``download_as``: a file name (``….csv`` or ``….xlsx``) adds Vigie's safe download of the table
    (:func:`download`) below it; Streamlit's own toolbar download is turned off."""
    kwargs.setdefault("height", "content" if len(df) <= 30 else "auto")
    st.dataframe(display(df, formats), hide_index=True, **kwargs)
    if download_as:
        download(df, download_as, key=f"dl_{download_as}")


# Characters per title / subtitle line at the theme's sizes: a 390 px phone, a desktop column.
PHONE_TITLE_CHARS, DESKTOP_TITLE_CHARS = (30, 44), (90, 110)


def is_phone() -> bool:
    """Whether the browser says it is a phone (``Mobi`` in its User-Agent, as MDN recommends)."""
    try:
        return "Mobi" in (st.context.headers.get("User-Agent") or "")
    except Exception:  # no request context (AppTest, bare mode): lay out for a desktop
        return False


def wrap_title(chart: alt.TopLevelMixin, phone: bool | None = None) -> alt.TopLevelMixin:
    """The chart with its title and subtitle broken into lines that fit the screen.

    Vega never wraps a title: on a phone it cuts it with « … », and the title is the finding.
    """
    import textwrap

    t = getattr(chart, "title", alt.Undefined)
    if t is alt.Undefined or t is None:
        return chart
    phone = is_phone() if phone is None else phone
    title_chars, subtitle_chars = PHONE_TITLE_CHARS if phone else DESKTOP_TITLE_CHARS

    def lines(v: Any, width: int) -> Any:
        if not isinstance(v, str) or len(v) <= width:
            return v
        # A date (« 31 oct. 2026 ») and a number with its unit stay on one line.
        v = re.sub(r"(\d{1,2}) ([a-zéû]+\.?) (\d{4})", "\\1\u00a0\\2\u00a0\\3", v)
        v = re.sub(r"(\d) (points|pts|%|messages|abonnés|publications)", "\\1\u00a0\\2", v)
        return textwrap.wrap(v, width, break_on_hyphens=False)

    if isinstance(t, str):
        return chart.properties(title=alt.Title(lines(t, title_chars)))
    if isinstance(t, alt.TitleParams):
        kw = {k: v for k, v in t.to_dict().items() if k not in ("text", "subtitle")}
        sub = t.subtitle if t.subtitle is not alt.Undefined else None
        return chart.properties(title=alt.Title(lines(t.text, title_chars),
                                                **({"subtitle": lines(sub, subtitle_chars)} if sub else {}), **kw))
    return chart


@contextlib.contextmanager
def profiled() -> Iterator[None]:
    """cProfile the block when ``VIGIE_PROFILE`` names a file: runs accumulate in it (pstats format).

    For ``benchmarks/``: a page's server-side cost by function, measured in the real server."""
    path = os.environ.get("VIGIE_PROFILE")
    if not path:
        yield
        return
    import cProfile
    import pstats

    prof = cProfile.Profile()
    prof.enable()
    try:
        yield
    finally:
        prof.disable()
        with _PROFILE_LOCK:
            stats = pstats.Stats(prof)
            if os.path.exists(path):
                stats.add(path)
            stats.dump_stats(path)


_PROFILE_LOCK = threading.Lock()


def _unvalidated(chart: alt.TopLevelMixin) -> alt.TopLevelMixin:
    """The chart, whose ``to_dict`` (called by ``st.altair_chart``) skips Altair's JSON-schema
    validation: a third of a chart's server time (≈ 12 ms of 30, measured), spent on every run
    for charts that ``analysis.charts`` builds the same way each time. The test suite sets
    ``VIGIE_VALIDATE_CHARTS=1`` (``tests/conftest.py``), so every chart a page test draws is
    still validated."""
    if os.environ.get("VIGIE_VALIDATE_CHARTS") == "1":
        return chart
    import functools

    # object.__setattr__: Altair's own __setattr__ would store it as a chart property
    object.__setattr__(chart, "to_dict", functools.partial(type(chart).to_dict, chart, validate=False))
    return chart


def chart(chart: alt.TopLevelMixin, table_df: pd.DataFrame, alt_text: str,
          formats: Mapping[str, str] | None = None, *, table_label: str = "Données du graphique") -> None:
    """An Altair chart, its text alternative (visible and for screen readers) and its data table."""
    from analysis import charts, exports

    charts.use_theme()  # idempotent; French locale and palette even if a page runs on its own
    # The chart's container carries ``alt_text`` (aria-label) and the table below has the data:
    # Vega's own ARIA would add one unlabelled "graphics-symbol" per mark group (an empty layer
    # has no description at all: axe's svg-img-alt), noise for a screen reader.
    phone = is_phone()
    config: dict[str, Any] = {"aria": False, "mark": alt.MarkConfig(aria=False)}
    if phone:  # a one-row legend of five territories runs off a phone's screen
        config["legend"] = alt.LegendConfig(columns=2, labelLimit=150)
    chart = wrap_title(chart, phone).configure(**config)  # one copy of the chart, not three
    st.altair_chart(_unvalidated(chart), theme=None, width="stretch", alt=alt_text)
    st.caption(exports.escape_markdown(alt_text))  # names and words from the data: text, never markup
    with st.expander(table_label):
        table(table_df, formats)


def empty_state(message: str) -> None:
    """What a page shows when the filters select nothing."""
    st.info(message, icon=":material/filter_alt_off:")


# How long the link of a generated download stays valid: the browser fetches it at once; afterwards
# nobody, logged in or not, can open it again (Streamlit serves /media/ files to anyone with the link).
DOWNLOAD_LINK_SECONDS = float(os.environ.get("VIGIE_DOWNLOAD_LINK_SECONDS", "30"))


def _expire_download_links() -> None:
    """Delete the generated download files no page references (Streamlit's own cleanup, which it
    otherwise runs only at the end of some later page run): twice, as the first pass only marks."""
    try:
        from streamlit import runtime

        mgr = runtime.get_instance().media_file_mgr
    except Exception:  # no runtime (bare mode): nothing was stored
        return
    mgr.remove_orphaned_files()
    mgr.remove_orphaned_files()


def _page_title() -> str:
    """Title of the page being run (set by the router, for the audit log)."""
    return str(st.session_state.get("_vigie_page", ""))


def private_download(label: str, make: Callable[[], bytes], file_name: str, mime: str, *,
                     key: str | None = None, icon: str | None = None, type: str = "secondary",
                     audit_detail: str = "") -> None:
    """A download served only to the logged-in session that drew it.

    The file is made when the button is clicked (Streamlit's deferred download), not when the page
    runs: there is no ``/media/…`` link before the click, the file is refused once the session has
    logged out, gone idle or been revoked, and its link is deleted :data:`DOWNLOAD_LINK_SECONDS`
    after it was made (a ``/media/`` link opens without any session)."""
    from streamlit_app import auth

    still_valid = auth.session_check()
    who = auth.current_user()
    page = _page_title()

    def data() -> bytes:
        if not still_valid():
            raise PermissionError("session fermée : reconnectez-vous pour télécharger")
        payload = make()
        if who is not None:  # made on the click: the audit says who took which file
            auth.record("download", user=who, page=page, detail=f"{file_name}{audit_detail}")
        timer = threading.Timer(DOWNLOAD_LINK_SECONDS, _expire_download_links)
        timer.daemon = True
        timer.start()
        return payload

    st.download_button(label, data, file_name=file_name, mime=mime, key=key, icon=icon, type=type,
                       on_click="ignore")


def download(df: pd.DataFrame, filename: str, label: str = "Télécharger (CSV)", *, key: str | None = None) -> None:
    """The one table download of the app: CSV (``;``, UTF-8 BOM) or XLSX by the file name's
    extension, through ``analysis.exports`` so that no cell can run as a spreadsheet formula
    (Streamlit's own table download, which does not neutralise formulas, is turned off:
    ``client.disableDataExport``). Made on click for the logged-in session only (:func:`private_download`)."""
    from analysis import exports

    frame = df.copy()
    if filename.lower().endswith(".xlsx"):
        make = lambda: exports.to_xlsx_bytes(frame)  # noqa: E731
        mime = "application/vnd.openxmlformats-officedocument.spreadsheetml.sheet"
    else:
        make, mime = (lambda: exports.to_csv_bytes(frame)), "text/csv"
    private_download(label, make, filename, mime, key=key, icon=":material/download:",
                     audit_detail=f" ({len(frame)} lignes)")
