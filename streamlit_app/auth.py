"""Login of the app: a French form, the session's user and role, throttling of failed attempts,
idle timeout and sign-out everywhere.

``VIGIE_AUTH=demo`` is the only way to run without login (explicit banner, role selector).
Otherwise :func:`require_login` is called by the router before any page: without a valid
login nothing reads the store. The logged-in user lives in ``st.session_state["vigie_user"]``
(server side: a browser cannot write it, only the login form does), with a :class:`SessionToken`
saying when the session logged in and was last used.

A session ends: on « Se déconnecter »; after ``users.idle_timeout_seconds()`` without a page run
(30 minutes by default, ``[session] idle_minutes``), checked at every run and by a small timer
that reloads an idle page onto the login form; when its user's sessions are revoked (« Se
déconnecter partout », `vigie users logout`, a password change, a removed account).
"""

from __future__ import annotations

import logging
import os
import time
from collections.abc import Callable
from dataclasses import dataclass

import streamlit as st

from analysis import users
from analysis.exports import escape_markdown

K_USER = "vigie_user"
K_TOKEN = "vigie_session"
K_REASON = "vigie_logout_reason"
log = logging.getLogger("vigie.auth")


def demo_mode() -> bool:
    """True only when the operator explicitly asked for the unauthenticated demo."""
    return os.environ.get("VIGIE_AUTH", "").strip().lower() == "demo"


@st.cache_resource
def throttle() -> users.Throttle:
    """The failed-login limiter and session revocations (a SQLite file shared by every browser
    session and every app process, kept across restarts: ``users.auth_db_path()``)."""
    return users.Throttle()


@dataclass
class SessionToken:
    """One logged-in browser session: who, since when, last page run. A plain object kept in the
    session state, so that work done outside a page run (a download generated on click) can ask
    whether the session is still valid."""

    name: str
    role: str
    login_at: float
    last_seen: float
    closed: bool = False

    def problem(self, now: float | None = None) -> str | None:
        """Why this session may no longer be used (French), or None while it is valid."""
        now = time.time() if now is None else now
        if self.closed:
            return "Vous êtes déconnecté·e."
        idle = users.idle_timeout_seconds()
        if idle > 0 and now - self.last_seen > idle:
            return f"Session fermée après {_duration(idle)} sans activité. Reconnectez-vous."
        if throttle().revoked_after(self.name, self.login_at):
            return ("Session fermée : toutes les sessions de ce compte ont été déconnectées (déconnexion "
                    "partout, mot de passe changé ou compte supprimé). Reconnectez-vous.")
        return None


def _duration(seconds: float) -> str:
    """« 30 minute(s) », or seconds under a minute (a test setting)."""
    return f"{int(seconds // 60)} minute(s)" if seconds >= 60 else f"{int(seconds)} seconde(s)"


def current_user() -> dict | None:
    """``{"name", "role"}`` of the logged-in user, or None."""
    u = st.session_state.get(K_USER)
    return u if isinstance(u, dict) and u.get("role") in users.ROLES else None


def _token(u: dict) -> SessionToken:
    tok = st.session_state.get(K_TOKEN)
    if not isinstance(tok, SessionToken) or tok.name != u["name"]:
        # a user set by server-side code without the form (tests): a session starting now
        now = time.time()
        tok = st.session_state[K_TOKEN] = SessionToken(u["name"], u["role"], now, now)
    return tok


def session_check() -> Callable[[], bool]:
    """A check, usable outside the page run (a download generated on click), that the session which
    drew the page is still logged in and neither idle nor revoked (always true in the demo mode)."""
    if demo_mode():
        return lambda: True
    u = current_user()
    tok = _token(u) if u else None
    return lambda: tok is not None and tok.problem() is None


def _session_key() -> str:
    try:
        from streamlit.runtime.scriptrunner_utils.script_run_context import get_script_run_ctx

        ctx = get_script_run_ctx()
        return "session:" + (ctx.session_id if ctx else "?")
    except (AttributeError, ImportError):  # pragma: no cover - other Streamlit versions
        return "session:?"


def attempt(name: str, password: str) -> tuple[dict | None, str | None]:
    """Check a login; returns (user, None) or (None, French error message). Throttled per user
    name and per browser session, so neither one account nor one session can be brute-forced.

    The attempt is recorded before the password is checked, atomically with the lock check
    (``Throttle.begin``): simultaneous submissions cannot all slip in before the first failure."""
    t = throttle()
    keys = ["user:" + name.strip().lower(), _session_key()]
    wait, ticket = t.begin(keys)
    if ticket is None:
        log.warning("connexion refusée (trop de tentatives) pour %r", name[:64])
        return None, (f"Trop de tentatives échouées. Réessayez dans {int(wait // 60) + 1} minute(s).")
    u = None
    try:
        u = users.verify(name, password)
    finally:
        t.end(ticket, keys, ok=u is not None)
    if u is None:
        log.warning("échec de connexion pour %r", name[:64])
        return None, "Identifiant ou mot de passe incorrect."
    log.info("connexion de %s (%s)", u.name, u.role)
    return {"name": u.name, "role": u.role}, None


def login_form() -> None:
    """The login page (title, form, messages); sets the session user on success."""
    st.title("Vigie — connexion")
    reason = st.session_state.pop(K_REASON, None)
    if reason:
        st.info(reason, icon=":material/logout:")
    try:
        known = users.load_users()
    except users.UserError as e:
        st.error(str(e))
        return
    if not known:
        st.warning(
            "Aucun compte n'est configuré sur ce serveur. Un administrateur crée le premier compte "
            "dans un terminal : `vigie users add NOM --role admin` (fichier "
            f"`{users.users_path()}`).", icon=":material/person_off:")
        return
    with st.form("vigie_login"):
        name = st.text_input("Identifiant", key="login_name", autocomplete="username")
        password = st.text_input("Mot de passe", type="password", key="login_password",
                                 autocomplete="current-password")
        submitted = st.form_submit_button("Se connecter", type="primary")
    if submitted:
        user, error = attempt(name or "", password or "")
        if user is None:
            st.error(error, icon=":material/lock:")
        else:
            now = time.time()
            st.session_state[K_USER] = user
            st.session_state[K_TOKEN] = SessionToken(user["name"], user["role"], now, now)
            st.rerun()
    idle = users.idle_timeout_seconds()
    st.caption("Accès réservé aux personnes habilitées par la collectivité. "
               "Mot de passe oublié : demandez à un administrateur (`vigie users passwd`)."
               + (f" Une session inactive pendant {_duration(idle)} est fermée." if idle > 0 else ""))


def logout(reason: str | None = None) -> None:
    """End this session: the token is closed (a download prepared by the page is refused), the
    session state emptied; ``reason`` is shown above the login form."""
    tok = st.session_state.get(K_TOKEN)
    if isinstance(tok, SessionToken):
        tok.closed = True
    for k in list(st.session_state.keys()):
        del st.session_state[k]
    if reason:
        st.session_state[K_REASON] = reason


def require_login() -> None:
    """Stop the run on the login form unless a user is logged in (or the demo mode is on).

    A logged-in session idle for too long, or revoked, is logged out here, before any page."""
    if demo_mode():
        return
    u = current_user()
    if u is not None:
        tok = _token(u)
        problem = tok.problem()
        if problem is None:
            tok.last_seen = time.time()
            return
        log.info("session de %s fermée : %s", u["name"], problem)
        logout(problem)
    login_form()
    st.stop()


def _idle_watch(idle: float) -> None:
    tok = st.session_state.get(K_TOKEN)
    if isinstance(tok, SessionToken) and tok.problem() is not None:
        st.rerun(scope="app")  # the full run logs the session out and draws the login form


def idle_watch() -> None:
    """A timer (fragment rerun) that brings an idle page back to the login form, so that a screen
    left open does not keep showing data. Its runs are not activity: only page runs are."""
    idle = users.idle_timeout_seconds()
    if demo_mode() or idle <= 0 or current_user() is None:
        return
    st.fragment(run_every=max(5.0, min(60.0, idle / 4)))(_idle_watch)(idle)


def logout_button() -> None:
    """Who is logged in, and buttons to log out of this session or of all of them (sidebar)."""
    u = current_user()
    if u is None:
        return
    labels = {"elu": "élu·e", "analyste": "analyste", "admin": "administrateur·rice"}
    st.sidebar.caption(f"Connecté·e : **{escape_markdown(u['name'])}** ({labels[u['role']]})")
    if st.sidebar.button("Se déconnecter", key="vigie_logout"):
        logout()
        st.rerun()
    if st.sidebar.button("Se déconnecter partout", key="vigie_logout_all",
                         help="Ferme toutes les sessions ouvertes avec ce compte, sur tous les appareils."):
        throttle().revoke(u["name"])
        logout("Toutes vos sessions ont été fermées.")
        st.rerun()
