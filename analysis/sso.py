"""Sign-in with the organisation's identity provider (OpenID Connect: Keycloak, Microsoft Entra…).

Streamlit does the protocol (``st.login``, Authlib; the provider's settings are in
``.streamlit/secrets.toml``, ``[auth]`` and ``[auth.<provider>]``). Vigie decides who the person is
for the app, from the claims of their identity token, with the ``[oidc]`` section of its settings
file (``~/.config/vigie/config.toml`` or ``$VIGIE_CONFIG``)::

    [oidc]
    provider = "collectivite"          # the [auth.collectivite] section of secrets.toml
    label = "Compte de la collectivité"
    user_claim = "preferred_username"  # the name shown and audited (else email, else sub)
    role_claim = "groups"              # a list or a string; dotted path: "realm_access.roles"
    scope_claim = "territoires"        # absent: every territory (a server for one territory)

    [oidc.roles]                       # claim value → role (any spelling: « élu », « élu·e »…)
    "vigie-elus" = "élu·e"
    "vigie-analystes" = "analyste"
    "vigie-admins" = "admin"

    [oidc.territories]                 # claim value → territory ids, or "*" for every territory
    "/communes/port-marel" = ["port-marel"]
    "/hebergeur" = "*"

Without a ``[oidc.roles]`` table the claim values are role names themselves, and without
``[oidc.territories]`` territory ids. A person whose claims give no role, or (when ``scope_claim`` is
set) no territory, is refused: nothing defaults to more rights. When several roles are mapped, the
most privileged one applies (group memberships add rights).
"""

from __future__ import annotations

import tomllib
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from analysis import users
from analysis.retention import config_path


@dataclass(frozen=True)
class SsoConfig:
    provider: str
    label: str = "Compte de la collectivité"
    user_claim: str = "preferred_username"
    role_claim: str = "roles"
    scope_claim: str = ""
    roles: dict[str, str] = field(default_factory=dict)
    territories: dict[str, Any] = field(default_factory=dict)


def load_config(path: Path | None = None) -> SsoConfig | None:
    """The ``[oidc]`` settings, or None when sign-in with a provider is not set up."""

    p = path or config_path()
    if not p.exists():
        return None
    raw = tomllib.loads(p.read_text(encoding="utf-8")).get("oidc") or {}
    provider = str(raw.get("provider") or "").strip()
    if not provider:
        return None
    roles = {str(k): users.normalize_role(str(v)) for k, v in (raw.get("roles") or {}).items()}
    return SsoConfig(provider=provider, label=str(raw.get("label") or SsoConfig.label),
                     user_claim=str(raw.get("user_claim") or SsoConfig.user_claim),
                     role_claim=str(raw.get("role_claim") or SsoConfig.role_claim),
                     scope_claim=str(raw.get("scope_claim") or ""), roles=roles,
                     territories=dict(raw.get("territories") or {}))


def claim_values(claims: dict[str, Any], path: str) -> list[str]:
    """The values of a claim (``a.b`` for nested ones): a list, or a string split on commas."""
    value: Any = claims
    for part in path.split("."):
        value = value.get(part) if isinstance(value, dict) else None
    if value is None:
        return []
    items = value if isinstance(value, list | tuple) else str(value).split(",")
    return [str(v).strip() for v in items if str(v).strip()]


def map_claims(claims: dict[str, Any], cfg: SsoConfig,
               known: list[str] | None = None) -> tuple[dict[str, Any] | None, str | None]:
    """``({"name", "role", "scope", "via", "issued"}, None)`` for the person of an identity token, or
    ``(None, French reason)`` when their claims give no role or no territory (``known``: the registry's
    territory ids; others are dropped)."""
    name = next((str(claims[c]).strip().lower() for c in (cfg.user_claim, "email", "sub")
                 if claims.get(c) and str(claims[c]).strip()), "")
    if not name:
        return None, "Le fournisseur d'identité n'a pas donné d'identifiant pour ce compte."
    roles = []
    for v in claim_values(claims, cfg.role_claim):
        mapped = cfg.roles.get(v) if cfg.roles else v
        try:
            if mapped:
                roles.append(users.normalize_role(mapped))
        except users.UserError:
            continue
    if not roles:
        return None, (f"Le compte « {name} » n'a pas de rôle dans Vigie (revendication « {cfg.role_claim} » du "
                      "fournisseur d'identité). Demandez à l'administrateur de la collectivité.")
    role = max(roles, key=users.ROLES.index)
    scope: tuple[str, ...] | None = None
    if cfg.scope_claim:
        ids: list[str] = []
        every = False
        for v in claim_values(claims, cfg.scope_claim):
            mapped = cfg.territories.get(v) if cfg.territories else v
            for t in ([mapped] if isinstance(mapped, str) else list(mapped or [])):
                every = every or t.strip() == "*"
                ids.append(t)
        scope = None if every else users.parse_scope([t for t in ids if known is None or t.strip().lower() in known])
        if not every and scope is None:
            return None, (f"Le compte « {name} » n'a aucun territoire dans Vigie (revendication « {cfg.scope_claim} » "
                          "du fournisseur d'identité). Demandez à l'administrateur de la collectivité.")
    issued = claims.get("iat") or claims.get("auth_time")
    try:
        issued = float(issued) if issued is not None else None
    except (TypeError, ValueError):
        issued = None
    return {"name": name, "role": role, "scope": scope, "via": "oidc", "issued": issued}, None
