"""Login of the app: a French form, the session's user and role, throttling of failed attempts.

``VIGIE_AUTH=demo`` is the only way to run without login (explicit banner, role selector).
Otherwise :func:`require_login` is called by the router before any page: without a valid
login nothing reads the store. The logged-in user lives in ``st.session_state["vigie_user"]``
(server side: a browser cannot write it, only the login form does).
"""

from __future__ import annotations

import logging
import os

import streamlit as st

from analysis import users

K_USER = "vigie_user"
log = logging.getLogger("vigie.auth")


def demo_mode() -> bool:
    """True only when the operator explicitly asked for the unauthenticated demo."""
    return os.environ.get("VIGIE_AUTH", "").strip().lower() == "demo"


@st.cache_resource
def throttle() -> users.Throttle:
    """One failed-login limiter for the whole app process (shared by every browser session)."""
    return users.Throttle()


def current_user() -> dict | None:
    """``{"name", "role"}`` of the logged-in user, or None."""
    u = st.session_state.get(K_USER)
    return u if isinstance(u, dict) and u.get("role") in users.ROLES else None


def _session_key() -> str:
    try:
        from streamlit.runtime.scriptrunner_utils.script_run_context import get_script_run_ctx

        ctx = get_script_run_ctx()
        return "session:" + (ctx.session_id if ctx else "?")
    except (AttributeError, ImportError):  # pragma: no cover - other Streamlit versions
        return "session:?"


def attempt(name: str, password: str) -> tuple[dict | None, str | None]:
    """Check a login; returns (user, None) or (None, French error message). Throttled per user
    name and per browser session, so neither one account nor one session can be brute-forced."""
    t = throttle()
    keys = ["user:" + name.strip().lower(), _session_key()]
    wait = max(t.locked_for(k) for k in keys)
    if wait > 0:
        return None, (f"Trop de tentatives échouées. Réessayez dans {int(wait // 60) + 1} minute(s).")
    u = users.verify(name, password)
    if u is None:
        for k in keys:
            t.failure(k)
        log.warning("échec de connexion pour %r", name[:64])
        return None, "Identifiant ou mot de passe incorrect."
    for k in keys:
        t.success(k)
    log.info("connexion de %s (%s)", u.name, u.role)
    return {"name": u.name, "role": u.role}, None


def login_form() -> None:
    """The login page (title, form, messages); sets the session user on success."""
    st.title("Vigie — connexion")
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
            st.session_state[K_USER] = user
            st.rerun()
    st.caption("Accès réservé aux personnes habilitées par la collectivité. "
               "Mot de passe oublié : demandez à un administrateur (`vigie users passwd`).")


def require_login() -> None:
    """Stop the run on the login form unless a user is logged in (or the demo mode is on)."""
    if demo_mode() or current_user() is not None:
        return
    login_form()
    st.stop()


def logout_button() -> None:
    """Who is logged in, and a button to log out (sidebar)."""
    u = current_user()
    if u is None:
        return
    labels = {"elu": "élu·e", "analyste": "analyste", "admin": "administrateur·rice"}
    shown = u["name"].replace("_", "\\_")  # names are [a-z0-9._-]; "_" would turn italic in markdown
    st.sidebar.caption(f"Connecté·e : **{shown}** ({labels[u['role']]})")
    if st.sidebar.button("Se déconnecter", key="vigie_logout"):
        for k in list(st.session_state.keys()):
            del st.session_state[k]
        st.rerun()
