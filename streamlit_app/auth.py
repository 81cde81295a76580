"""Login of the app: a French form, the session's user, role and territories (scope), throttling of
failed attempts, sign-in with the organisation's identity provider, idle timeout, sign-out
everywhere, and the audit log of logins and page views.

``VIGIE_AUTH=demo`` is the only way to run without login (explicit banner, role selector).
Otherwise :func:`require_login` is called by the router before any page: without a valid
login nothing reads the store. The logged-in user lives in ``st.session_state["vigie_user"]``
(server side: a browser cannot write it, only the login form or the provider's signed cookie
does): ``{"name", "role", "scope", "via"}``, with a :class:`SessionToken` saying when the session
logged in and was last used.

Two ways in: a local account (``users.toml``, password) or, when ``[oidc]`` is set
(:mod:`analysis.sso`), the identity provider through Streamlit's ``st.login``; its cookie (30 days)
is worth a login only while the provider login it carries is neither idle (across every session:
``Throttle.sso_state``), signed out nor revoked.

A session ends: on « Se déconnecter »; after ``users.idle_timeout_seconds()`` without a page run
(30 minutes by default, ``[session] idle_minutes``), checked at every run and by a small timer
that reloads an idle page onto the login form; when its user's sessions are revoked (« Se
déconnecter partout », `vigie users logout`, a password, role or scope change, a removed account).
A provider session also signs out of the provider's cookie (``st.logout``).
"""

from __future__ import annotations

import logging
import os
import time
from collections.abc import Callable, Sequence
from dataclasses import dataclass

import streamlit as st

from analysis import audit, sso, users
from analysis.exports import escape_markdown
from analysis.fmt import fr_count

K_USER = "vigie_user"
K_TOKEN = "vigie_session"
K_REASON = "vigie_logout_reason"
log = logging.getLogger("vigie.auth")


def demo_mode() -> bool:
    """True only when the operator explicitly asked for the unauthenticated demo."""
    return os.environ.get("VIGIE_AUTH", "").strip().lower() == "demo"


def throttle() -> users.Throttle:
    """The failed-login limiter and session revocations (a SQLite file shared by every browser
    session and every app process, kept across restarts: ``users.auth_db_path()``), one per file."""
    return _throttle(str(users.auth_db_path()))


@st.cache_resource
def _throttle(path: str) -> users.Throttle:
    # keyed by the file: a process whose $VIGIE_AUTH_DB changes (the tests) gets the limiter of that file
    return users.Throttle(path=path)


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
    scope: tuple[str, ...] | None = None
    via: str = "password"
    sso_written: float = 0.0  # last time the provider login's activity was written (auth.sqlite)

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
    """« 30 minutes », or seconds under a minute (a test setting)."""
    return fr_count(int(seconds // 60), "minute") if seconds >= 60 else fr_count(int(seconds), "seconde")


def current_user() -> dict | None:
    """``{"name", "role", "scope", "via"}`` of the logged-in user, or None. ``scope``: the territory
    ids the user may see, None for every territory."""
    u = st.session_state.get(K_USER)
    return u if isinstance(u, dict) and u.get("role") in users.ROLES else None


def _token(u: dict) -> SessionToken:
    tok = st.session_state.get(K_TOKEN)
    if not isinstance(tok, SessionToken) or tok.name != u["name"]:
        # a user set by server-side code without the form (tests): a session starting now
        now = time.time()
        tok = st.session_state[K_TOKEN] = SessionToken(u["name"], u["role"], now, now, scope=u.get("scope"),
                                                       via=u.get("via", "password"))
    return tok


def record(action: str, *, page: str = "", detail: str = "", user: dict | None = None) -> None:
    """One entry of the audit log (:mod:`analysis.audit`) for the logged-in user (or ``user``)."""
    u = user or current_user() or {}
    audit.AuditLog().record(action, user=u.get("name", ""), role=u.get("role", ""), scope=u.get("scope"),
                            via=u.get("via", ""), page=page, detail=detail)


def record_view(page: str, f: object) -> None:
    """Audit a page view: once per page and filters of the session, not every rerun."""
    if demo_mode() or current_user() is None:
        return
    key = (page, repr(f))
    if st.session_state.get("_vigie_audited") == key:
        return
    st.session_state["_vigie_audited"] = key
    terr = ",".join(getattr(f, "territories", ()) or ()) or "(périmètre entier)"
    start, end = getattr(f, "start", None), getattr(f, "end", None)
    plats = ",".join(getattr(f, "platforms", ()) or ()) or "toutes"
    record("page", page=page, detail=f"territoires={terr} ; du {start} au {end} (exclu) ; plateformes={plats}")


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
    typed = {"name": name.strip().lower()[:64], "via": "password"}
    wait, ticket = t.begin(keys)
    if ticket is None:
        log.warning("connexion refusée (trop de tentatives) pour %r", name[:64])
        record("login_locked", user=typed)
        return None, (f"Trop de tentatives échouées. Réessayez dans {fr_count(int(wait // 60) + 1, 'minute')}.")
    u = None
    try:
        u = users.verify(name, password)
    finally:
        t.end(ticket, keys, ok=u is not None)
    if u is None:
        log.warning("échec de connexion pour %r", name[:64])
        record("login_failed", user=typed)
        return None, "Identifiant ou mot de passe incorrect."
    log.info("connexion de %s (%s)", u.name, u.role)
    user = {"name": u.name, "role": u.role, "scope": u.scope, "via": "password"}
    record("login", user=user)
    return user, None


def _start_session(user: dict, login_at: float | None = None) -> None:
    now = time.time()
    st.session_state[K_USER] = user
    st.session_state[K_TOKEN] = SessionToken(user["name"], user["role"], login_at or now, now,
                                             scope=user.get("scope"), via=user.get("via", "password"))


def sso_config() -> sso.SsoConfig | None:
    """The identity provider's settings (``[oidc]``), None when only local accounts exist; an error in
    the settings is shown, not raised (local accounts keep working)."""
    try:
        return sso.load_config()
    except (users.UserError, ValueError) as e:
        st.error(f"Réglages de connexion par la collectivité invalides : {escape_markdown(e)}")
        return None


def _provider_claims() -> dict:
    """The claims of the provider's identity token (``st.user``), empty when not signed in with it."""
    try:
        claims = st.user.to_dict()
    except Exception:  # noqa: BLE001 - no [auth] section: Streamlit's own login is off
        return {}
    return claims if claims.get("is_logged_in") is True else {}


def _provider_logout() -> None:
    """Remove the provider's cookie (and sign out of the provider when it offers it): Streamlit
    sends the browser to ``/auth/logout``."""
    try:
        st.logout()
    except Exception:  # noqa: BLE001 - no provider configured any more
        log.warning("déconnexion du fournisseur d'identité impossible", exc_info=True)


def _registry_ids() -> list[str] | None:
    """Territory ids of the registry (None when it cannot be read: the claims' ids are kept)."""
    from analysis.registry import load_registry

    try:
        return [t.territory_id for t in load_registry().territories]
    except (OSError, ValueError):
        return None


def _sso_login(cfg: sso.SsoConfig) -> str | None:
    """Open a session for the person the provider's cookie names, when it is still worth a login;
    returns why not (French), or None (logged in, or no provider login at all)."""
    claims = _provider_claims()
    if not claims:
        return None
    user, error = sso.map_claims(claims, cfg, _registry_ids())
    if user is None:
        record("login_failed", user={"name": str(claims.get(cfg.user_claim) or claims.get("email") or "")[:64],
                                     "via": "oidc"}, detail=error or "")
        return error
    issued = user.pop("issued") or time.time()
    state = throttle().sso_state(user["name"], issued, users.idle_timeout_seconds())
    if state is None and throttle().revoked_after(user["name"], issued):
        state = "revoked"
    if state is not None:
        reason = {"idle": f"Session fermée après {_duration(users.idle_timeout_seconds())} sans activité.",
                  "ended": "Vous vous êtes déconnecté·e.",
                  "revoked": "Toutes les sessions de ce compte ont été déconnectées."}[state]
        record("logout", user=user, detail=f"cookie du fournisseur refusé : {state}")
        throttle().sso_end(user["name"], issued)
        _provider_logout()
        return reason + " Reconnectez-vous."
    _start_session(user, login_at=issued)
    record("login", user=user)
    log.info("connexion de %s (%s) par le fournisseur d'identité", user["name"], user["role"])
    return None


def login_form(cfg: sso.SsoConfig | None = None, sso_error: str | None = None) -> None:
    """The login page (title, provider button, form, messages); sets the session user on success."""
    st.title("Vigie — connexion")
    reason = st.session_state.pop(K_REASON, None)
    if reason:
        st.info(reason, icon=":material/logout:")
    if cfg is not None:
        if sso_error:
            st.error(escape_markdown(sso_error), icon=":material/lock:")
            if _provider_claims() and st.button("Changer de compte", key="vigie_sso_switch"):
                _provider_logout()
        if st.button(f"Se connecter : {escape_markdown(cfg.label)}", type="primary", key="vigie_sso_login",
                     icon=":material/badge:"):
            try:
                st.login(None if cfg.provider == "default" else cfg.provider)
            except Exception as e:  # noqa: BLE001 - [auth] missing or wrong in .streamlit/secrets.toml
                log.error("connexion par le fournisseur impossible : %s", e)
                st.error("La connexion par le fournisseur d'identité n'est pas configurée sur ce serveur "
                         "(`.streamlit/secrets.toml`, section `[auth]`). Prévenez l'administrateur.")
    try:
        known = users.load_users()
    except users.UserError as e:
        st.error(str(e))
        return
    if not known and cfg is not None:
        return  # provider accounts only
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
            _start_session(user)
            st.rerun()
    idle = users.idle_timeout_seconds()
    st.caption("Accès réservé aux personnes habilitées par la collectivité. "
               "Mot de passe oublié : demandez à un administrateur (`vigie users passwd`)."
               + (f" Une session inactive pendant {_duration(idle)} est fermée." if idle > 0 else ""))


def logout(reason: str | None = None) -> None:
    """End this session: the token is closed (a download prepared by the page is refused), the
    session state emptied; ``reason`` is shown above the login form. A provider session also loses
    the provider's cookie (``st.logout``), else the next page would log in again by itself."""
    tok = st.session_state.get(K_TOKEN)
    u = current_user()
    if isinstance(tok, SessionToken):
        tok.closed = True
        if u is not None:
            record("logout", user=u, detail=reason or "déconnexion")
        if tok.via == "oidc":
            throttle().sso_end(tok.name, tok.login_at)
    for k in list(st.session_state.keys()):
        del st.session_state[k]
    if reason:
        st.session_state[K_REASON] = reason
    if isinstance(tok, SessionToken) and tok.via == "oidc":
        _provider_logout()


def require_login(pages: Sequence[st.Page] = ()) -> None:
    """Stop the run on the login form unless a user is logged in (or the demo mode is on).

    A logged-in session idle for too long, or revoked, is logged out here, before any page.
    ``pages``: the router's pages. The login run declares them (hidden menu, nothing run) so that the
    page the link asked for (« /e-reputation?periode=… ») stays the current page: the rerun after a
    successful login draws it, with the link's filters, instead of the home page."""
    if demo_mode():
        return
    u = current_user()
    if u is not None:
        tok = _token(u)
        problem = tok.problem()
        if problem is None:
            tok.last_seen = time.time()
            if tok.via == "oidc" and tok.last_seen - tok.sso_written > 30:  # the provider login's activity
                throttle().sso_seen(tok.name, tok.login_at)
                tok.sso_written = tok.last_seen
            return
        log.info("session de %s fermée : %s", u["name"], problem)
        logout(problem)  # a provider session: the browser also goes through the provider's sign-out
    cfg = sso_config()
    error = _sso_login(cfg) if cfg is not None else None
    if current_user() is not None:
        return
    if pages:
        st.navigation(list(pages), position="hidden")
    login_form(cfg, error)
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
    st.sidebar.caption(f"Connecté·e : **{escape_markdown(u['name'])}** ({users.ROLE_LABELS[u['role']]})"
                       + (f" · territoires : {escape_markdown(', '.join(u['scope']))}" if u.get("scope") else ""))
    if st.sidebar.button("Se déconnecter", key="vigie_logout"):
        logout()
        _after_logout(u)
    if st.sidebar.button("Se déconnecter partout", key="vigie_logout_all",
                         help="Ferme toutes les sessions ouvertes avec ce compte, sur tous les appareils."):
        throttle().revoke(u["name"])
        logout("Toutes vos sessions ont été fermées.")
        _after_logout(u)


def _after_logout(u: dict) -> None:
    # A provider session: the browser is being sent to the provider's sign-out (st.logout); a rerun now
    # could drop that message from the queue. A local one: back to the login form at once.
    if u.get("via") == "oidc":
        st.stop()
    st.rerun()


def signature() -> str | None:
    """Who a change made from a page is recorded under (sentiment corrections, moderation decisions,
    the audit log): the logged-in user's name, never a name typed in a form; « démonstration » in the
    demo mode (``VIGIE_AUTH=demo``, nobody logs in); None when nobody is logged in."""
    u = current_user()
    if u is not None:
        return u["name"]
    return "démonstration" if demo_mode() else None
