"""The one HTTP client of every connector: polite, retried, counted, and quiet about secrets.

Why not each platform's SDK (``atproto``, ``mastodon-py``, ``google-api-python-client``)? Three
reasons, each measured against what the connectors must do:

- **One retry policy.** A 429 must wait what ``Retry-After`` says, a 5xx or a timeout must back
  off and retry, an expired token must stop with a French message. The SDKs each have their own
  (or none: the YouTube client retries 429 without reading ``Retry-After``; atproto raises).
- **Raw JSON in, raw JSON saved.** ``vigie import`` reads saved responses of the same endpoints
  (researchers keep JSON dumps): the mapping code must work on the API's JSON, not on SDK objects.
- **One root to replace.** ``--api URL`` points every connector at a proxy, a self-hosted
  instance or the tests' local replay server the same way.

``httpx`` does the HTTP, ``tenacity`` the waiting. Feeds are parsed by ``feedparser`` and the
Jetstream firehose is read with ``websockets``: there the libraries fit as they are.
"""

from __future__ import annotations

import email.utils
import logging
import re
import time
from collections.abc import Callable
from dataclasses import dataclass, field
from datetime import UTC, datetime
from typing import Any

import httpx
from tenacity import RetryCallState, Retrying, retry_if_exception, stop_after_attempt

log = logging.getLogger("vigie.collect")

USER_AGENT = "Vigie/0.1 (observatoire des collectivites; +https://example.invalid/vigie)"
# Parameters and headers whose values never reach a log line, an error message or the store.
SECRET_PARAMS = ("key", "access_token", "token", "password", "client_secret", "app_password")
MAX_WAIT = 120.0  # a Retry-After longer than this stops the source (it resumes at the next run)


class CollectError(Exception):
    """A source could not be collected. The message is French and says what to do."""


class AuthError(CollectError):
    """Token or key missing, refused or expired."""


class NotFound(CollectError):
    """The account, channel or item does not exist (or no longer)."""


class RateLimited(CollectError):
    """The platform asked to wait longer than :data:`MAX_WAIT`; the next run resumes."""


class QuotaExceeded(CollectError):
    """The daily quota of the key is spent (YouTube)."""


class _Retry(Exception):
    """Internal: a response worth another attempt (429 with a short wait, 5xx, timeout)."""

    def __init__(self, message: str, wait: float | None = None) -> None:
        super().__init__(message)
        self.wait = wait


def redact(text: str) -> str:
    """``text`` with the values of secret query parameters and bearer tokens masked."""
    text = re.sub(r"(?i)\b(" + "|".join(SECRET_PARAMS) + r")=([^&\s\"']+)", r"\1=***", text)
    return re.sub(r"(?i)(bearer\s+)[A-Za-z0-9._~+/=-]+", r"\1***", text)


def retry_after(value: str | None, now: float | None = None) -> float | None:
    """Seconds to wait from a ``Retry-After`` header (seconds or an HTTP date), None if absent."""
    if not value:
        return None
    value = value.strip()
    if re.fullmatch(r"\d+(\.\d+)?", value):
        return float(value)
    try:
        when = email.utils.parsedate_to_datetime(value)
    except (TypeError, ValueError):
        return None
    if when.tzinfo is None:
        when = when.replace(tzinfo=UTC)
    return max(0.0, when.timestamp() - (now if now is not None else time.time()))


class _RedactFilter(logging.Filter):
    def filter(self, record: logging.LogRecord) -> bool:
        msg = record.getMessage()
        safe = redact(msg)
        if safe != msg:
            record.msg, record.args = safe, None
        return True


def _redact_httpx_log() -> None:
    """httpx logs every request URL at INFO, query string included: a secret sent as a parameter
    (YouTube's ``key=``, the Graph API's ``access_token=``) would reach any log set to INFO."""
    lg = logging.getLogger("httpx")
    if not any(isinstance(f, _RedactFilter) for f in lg.filters):
        lg.addFilter(_RedactFilter())


@dataclass
class ApiClient:
    """GET JSON from one API root with retries, waits and counts.

    ``platform`` names the service in French errors; ``headers`` carry the token (never logged);
    ``sleep`` is injectable so tests run without waiting; ``label`` says what a 401 means.
    """

    base_url: str
    platform: str
    headers: dict[str, str] = field(default_factory=dict)
    params: dict[str, str] = field(default_factory=dict)  # sent with every request (e.g. key=)
    timeout: float = 20.0
    attempts: int = 5
    backoff: float = 1.0  # first wait after a 5xx or a timeout, doubled each time (max 30 s)
    sleep: Callable[[float], None] = time.sleep
    token_hint: str = "vérifiez le jeton dans ~/.config/vigie/credentials.toml"
    credentials: Any = field(default=None, repr=False)  # the connector's secrets (never printed)
    # A connector's reading of an error response (Graph API codes, YouTube's quotaExceeded): it
    # returns the exception to raise, a float to retry after that many seconds, or None for the
    # default handling below.
    error_hook: Callable[[httpx.Response], Exception | float | None] | None = field(default=None, repr=False)
    requests: int = 0
    waited: float = 0.0
    _http: httpx.Client | None = field(default=None, repr=False)

    def __post_init__(self) -> None:
        self.base_url = self.base_url.rstrip("/")

    @property
    def http(self) -> httpx.Client:
        if self._http is None:
            _redact_httpx_log()
            self._http = httpx.Client(timeout=self.timeout, follow_redirects=True,
                                      headers={"User-Agent": USER_AGENT, "Accept": "application/json",
                                               **self.headers})
        return self._http

    def close(self) -> None:
        if self._http is not None:
            self._http.close()
            self._http = None

    def __enter__(self) -> ApiClient:
        return self

    def __exit__(self, *exc: object) -> None:
        self.close()

    def url(self, path: str) -> str:
        return path if path.startswith(("http://", "https://")) else f"{self.base_url}/{path.lstrip('/')}"

    def get(self, path: str, params: dict[str, Any] | None = None, *, accept_404: bool = False) -> httpx.Response:
        """One GET, retried on 429/5xx/timeouts; raises a French :class:`CollectError` otherwise."""
        return self.request("GET", path, params, accept_404=accept_404)

    def post_json(self, path: str, body: dict[str, Any]) -> Any:
        """One POST of a JSON body (a login), with the same retries; the decoded JSON answer."""
        r = self.request("POST", path, None, json_body=body)
        try:
            return r.json()
        except ValueError:
            raise CollectError(f"{self.platform} : réponse illisible (pas du JSON)") from None

    def request(self, method: str, path: str, params: dict[str, Any] | None = None, *,
                accept_404: bool = False, json_body: dict[str, Any] | None = None) -> httpx.Response:
        """One request, retried on 429/5xx/timeouts; a French :class:`CollectError` otherwise."""
        url, query = _merge_query(self.url(path), {**self.params, **{k: v for k, v in (params or {}).items()
                                                                   if v is not None}})

        def wait(state: RetryCallState) -> float:
            exc = state.outcome.exception() if state.outcome else None
            if isinstance(exc, _Retry) and exc.wait is not None:
                return exc.wait
            return min(30.0, self.backoff * 2 ** (state.attempt_number - 1))

        def before_sleep(state: RetryCallState) -> None:
            w = state.next_action.sleep if state.next_action else 0.0
            self.waited += w
            log.info("%s : nouvel essai dans %.1f s (%s)", self.platform, w,
                     redact(str(state.outcome.exception())) if state.outcome else "")

        retrying = Retrying(stop=stop_after_attempt(self.attempts), wait=wait, sleep=self.sleep,
                            retry=retry_if_exception(lambda e: isinstance(e, _Retry)),
                            before_sleep=before_sleep, reraise=True)
        try:
            for attempt in retrying:
                with attempt:
                    return self._once(method, url, query, accept_404, json_body)
        except _Retry as e:
            raise CollectError(f"{self.platform} : le service ne répond pas correctement après "
                               f"{self.attempts} essais ({e}). Rien n'est perdu : la prochaine collecte "
                               "reprendra au même point.") from None
        raise AssertionError("unreachable")  # pragma: no cover

    def get_json(self, path: str, params: dict[str, Any] | None = None, *, accept_404: bool = False) -> Any:
        """:meth:`get` then the decoded JSON body (None for an accepted 404)."""
        r = self.get(path, params, accept_404=accept_404)
        if r.status_code == 404:
            return None
        try:
            return r.json()
        except ValueError:
            raise CollectError(f"{self.platform} : réponse illisible (pas du JSON) pour "
                               f"{redact(str(r.request.url))[:200]}") from None

    def _once(self, method: str, url: str, query: dict[str, Any], accept_404: bool,
              json_body: dict[str, Any] | None = None) -> httpx.Response:
        self.requests += 1
        try:
            r = self.http.request(method, url, params=query, json=json_body)
        except httpx.TimeoutException as e:
            raise _Retry(f"délai dépassé ({type(e).__name__})") from None
        except httpx.TransportError as e:
            raise _Retry(f"connexion impossible ({type(e).__name__})") from None
        if r.status_code >= 400 and self.error_hook is not None:
            verdict = self.error_hook(r)
            if isinstance(verdict, Exception):
                raise verdict
            if isinstance(verdict, int | float):
                if verdict > MAX_WAIT:
                    raise RateLimited(f"{self.platform} : limite de requêtes atteinte ; reprise dans "
                                      f"{int(verdict)} s au plus tôt, à la prochaine collecte.")
                raise _Retry(f"HTTP {r.status_code}, attente {verdict:.0f} s", wait=float(verdict))
        if r.status_code == 429 or (r.status_code == 503 and "retry-after" in r.headers):
            w = retry_after(r.headers.get("retry-after"))
            w = 5.0 if w is None else w
            if w > MAX_WAIT:
                raise RateLimited(f"{self.platform} : limite de requêtes atteinte ; le service demande "
                                  f"d'attendre {int(w)} s. La prochaine collecte reprendra au même point.")
            raise _Retry(f"HTTP {r.status_code}, attente demandée {w:.0f} s", wait=w)
        if r.status_code >= 500:
            raise _Retry(f"HTTP {r.status_code}")
        if r.status_code in (401, 403):
            raise AuthError(f"{self.platform} : accès refusé (HTTP {r.status_code}) — jeton ou clé absent, "
                            f"invalide ou expiré ; {self.token_hint}. Détail : {_detail(r)}")
        if r.status_code == 404 and accept_404:
            return r
        if r.status_code == 404:
            raise NotFound(f"{self.platform} : introuvable ({redact(str(r.request.url))[:160]}) — {_detail(r)}")
        if r.status_code >= 400:
            raise CollectError(f"{self.platform} : requête refusée (HTTP {r.status_code}) : {_detail(r)}")
        return r


def _merge_query(url: str, params: dict[str, Any]) -> tuple[str, list[tuple[str, Any]] | None]:
    """The URL without its query and every parameter (the URL's own first, repeated keys kept).

    httpx replaces a URL's query string by ``params`` when both are given: the absolute
    ``paging.next`` links of the Graph API and feed URLs with a query would lose theirs."""
    u = httpx.URL(url)
    if not u.query:
        return url, list(params.items()) or None
    own = list(u.params.multi_items())
    names = {k for k, _ in own}
    return str(u.copy_with(query=None)), own + [(k, v) for k, v in params.items() if k not in names]


def _detail(r: httpx.Response) -> str:
    """A short, secret-free excerpt of an error body (the APIs' own message)."""
    try:
        body = r.json()
    except ValueError:
        return redact(r.text[:160].strip()) or "(réponse vide)"
    if isinstance(body, dict):
        for k in ("message", "error_description", "error"):
            v = body.get(k)
            if isinstance(v, dict):
                v = v.get("message") or v.get("code")
            if v:
                return redact(str(v))[:200]
    return redact(str(body))[:160]


def now_utc() -> datetime:
    """Naive UTC now (the store's convention)."""
    return datetime.now(UTC).replace(tzinfo=None)
