"""What to collect, read from the territories registry (accounts and ``[territory.watch]``).

One function decides it, :func:`declared_sources`; ``vigie collect`` with no sub-command runs
what it returns, and ``vigie collect status`` lists the same sources. What cannot be collected
is said, never silently skipped (X's API is paid, LinkedIn's needs a partner programme,
Facebook Pages of peers are no longer readable since CrowdTangle closed).
"""

from __future__ import annotations

from dataclasses import dataclass, field

from analysis.collect.base import Source
from analysis.collect.credentials import Credentials
from analysis.registry import Account, Registry, Territory

NOT_COLLECTED = {
    "x": "X : l'API est payante (offre Basic) ; importez les exports X Analytics ou l'archive.",
    "linkedin": "LinkedIn : l'API des pages exige le programme partenaire « Community Management » ; "
                "importez l'export de la page.",
}
PEER_FACEBOOK = ("Facebook : l'API Graph ne donne plus les publications des Pages des autres depuis la fin de "
                 "CrowdTangle (août 2024) ; suivez ce pair sur Instagram (business_discovery), Bluesky ou "
                 "Mastodon, ou importez ses exports.")
PEER_THREADS = "Threads : l'API ne donne que les publications du compte qui a donné son jeton."


@dataclass
class Plan:
    """Sources to run and what the registry declares that cannot be collected (French notes)."""

    sources: list[Source] = field(default_factory=list)
    notes: list[str] = field(default_factory=list)


def account_source(t: Territory, a: Account) -> tuple[Source | None, str | None]:
    """The source that collects one registry account, or a note saying why there is none."""
    own = t.kind == "own"
    key = a.handle or a.native_id or ""
    if a.platform in NOT_COLLECTED:
        return None, f"{t.name} — {NOT_COLLECTED[a.platform]}"
    if a.platform in ("bluesky", "mastodon"):
        return Source(a.platform, "account", key, t.territory_id, t.kind), None
    if a.platform == "youtube":
        return Source("youtube", "account", a.native_id or key, t.territory_id, t.kind), None
    if a.platform == "facebook":
        if not own:
            return None, f"{t.name} — {PEER_FACEBOOK}"
        return Source("facebook", "account", a.native_id or key, t.territory_id, t.kind), None
    if a.platform == "instagram":
        if own:
            return Source("instagram", "account", a.native_id or key, t.territory_id, t.kind), None
        if not a.handle:
            return None, f"{t.name} — Instagram : business_discovery demande le nom d'utilisateur (handle) du pair."
        return Source("instagram", "discovery", a.handle, t.territory_id, t.kind), None
    if a.platform == "threads":
        if not own:
            return None, f"{t.name} — {PEER_THREADS}"
        return Source("threads", "account", key, t.territory_id, t.kind), None
    return None, f"{t.name} — {a.platform} : pas de connecteur."


def declared_sources(registry: Registry, credentials: Credentials | None = None, *,
                     platforms: set[str] | None = None, roles: set[str] | None = None) -> Plan:
    """Every source the registry declares, in a stable order, with notes on what is left out.

    ``platforms``/``roles`` ({'own', 'peer'}) filter (``vigie collect --only own`` every 15 minutes,
    peers once a day). Bluesky searches need an app password (Bluesky asks that searchPosts not be
    used anonymously for monitoring); without one, hashtags and keywords are followed through the
    Jetstream firehose (``vigie collect --follow``) and Mastodon hashtag timelines only.
    """
    plan = Plan()
    has_bsky_login = bool(credentials and credentials.get("bluesky", "app_password"))
    seen: set[str] = set()

    def add(s: Source) -> None:
        if s.source_id in seen:
            return
        if platforms and s.platform not in platforms:
            return
        seen.add(s.source_id)
        plan.sources.append(s)

    for t in registry.territories:
        if roles and t.kind not in roles:
            continue
        for a in t.accounts:
            s, note = account_source(t, a)
            if s is not None:
                add(s)
            elif note and (not platforms or a.platform in platforms):
                plan.notes.append(note)
        w = t.watch
        for tag in w.hashtags:
            if has_bsky_login:
                add(Source("bluesky", "search", f"#{tag}", t.territory_id, t.kind, terms=t.terms))
            instances = w.mastodon_instances or tuple(
                a.handle.rsplit("@", 1)[1] for a in t.accounts
                if a.platform == "mastodon" and a.handle and a.handle.count("@") >= 1 and "." in a.handle.rsplit("@", 1)[1])
            for inst in instances:
                add(Source("mastodon", "hashtag", f"#{tag}@{inst}", t.territory_id, t.kind, terms=t.terms))
        if has_bsky_login:
            for kw in w.keywords:
                add(Source("bluesky", "search", kw, t.territory_id, t.kind, terms=t.terms))
        elif (w.keywords or w.hashtags) and (not platforms or "bluesky" in platforms):
            plan.notes.append(f"{t.name} — Bluesky : recherche des mentions sans mot de passe d'application ; "
                              "utilisez « vigie collect --follow » (Jetstream) ou ajoutez [bluesky] app_password.")
        for url in w.feeds:
            add(Source("press", "feed", url, t.territory_id, t.kind, terms=t.terms))
    return plan
