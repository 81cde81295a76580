"""Who may read what: a user's territories (scope) and the one place every read applies them.

A server hosted by a département or an intercommunalité serves several territories; each team sees
its own (the user's **scope**, ``users.toml`` or the identity provider's claims) and, for
comparison, its peers' **aggregates**; never another territory's messages, authors, post texts,
moderation queue, campaigns or rows to download. A user without scope (the host's administrators)
sees every territory.

Every read of the app (``streamlit_app/data.py``), of a notebook (:class:`Reader`) and of a report
generated for a user (``vigie report --as-user``) goes through :func:`read`, which looks the read
model up in :data:`READ_MODELS` and applies its rule:

- ``own``: the territories asked for (the filters' ``territories``, a ``territory`` argument, a
  campaign) are cut to the scope (nothing asked: the whole scope); whatever comes back is the
  scope's only (rows of other territories are dropped). Messages, authors, texts, queues,
  campaigns, alerts, coverage — and aggregates of the scope itself.
- ``compare``: asked as ``own``; the read model adds the registry's peers of the scope itself, and
  returns only **aggregates** for them (counts, shares, rates, intervals, rankings).
- ``peers``: the caller names the peers (Benchmark, Audience): territories are cut to the scope and
  its peers; the read model returns aggregates only.
- ``public``: nothing territorial (theme names, import formats).
- ``host``: for users without scope only (the import log, rejected rows, table counts, the store's
  audit log); refused to a scoped user.

A read model absent from the table is refused to scoped users: a new one must be classified here
(``tests/test_security_hosting.py`` checks that every read the pages make is). Peers are those the
registry declares for the scope's territories (``peers = [...]``); a territory with none is compared
with nobody.
"""

from __future__ import annotations

import importlib
from collections.abc import Callable, Iterable, Sequence
from dataclasses import dataclass, replace
from typing import Any

import duckdb
import pandas as pd

from analysis import store, users
from analysis.queries import Filters
from analysis.territories import peers_of


class OutOfScope(PermissionError):
    """A read or a write about a territory outside the user's scope (French message)."""


# ------------------------------------------------------------------------------ scope
@dataclass(frozen=True)
class Scope:
    """The territories a user may see, in the order given; ``None``: every territory."""

    territories: tuple[str, ...] | None = None

    @classmethod
    def of(cls, ids: Iterable[str] | None) -> Scope:
        return cls(None if ids is None else tuple(dict.fromkeys(ids)))

    @property
    def everything(self) -> bool:
        return self.territories is None

    def allows(self, territory_id: str | None) -> bool:
        return self.territories is None or territory_id in self.territories

    def key(self) -> tuple[str, ...] | None:
        """Hashable form (cache keys)."""
        return self.territories

    def label(self, names: dict[str, str] | None = None) -> str:
        """« tous les territoires » or the names, for a French sentence."""
        if self.territories is None:
            return "tous les territoires"
        return ", ".join((names or {}).get(t, t) for t in self.territories) or "aucun territoire"


EVERYTHING = Scope(None)
NOTHING = Scope(())


def peers_of_scope(con: duckdb.DuckDBPyConnection, scope: Scope) -> tuple[str, ...]:
    """The registry's peers of the scope's territories (the scope excluded): whose aggregates the user
    may compare with (:func:`analysis.territories.peers_of`, the one definition)."""

    return () if scope.everything else tuple(peers_of(con, list(scope.territories)))


# ------------------------------------------------------------------------------ rules
OWN, COMPARE, PEERS, PUBLIC, HOST = "own", "compare", "peers", "public", "host"


@dataclass(frozen=True)
class Rule:
    """How a read model is cut to a scope.

    ``kind``: :data:`OWN`, :data:`COMPARE`, :data:`PEERS`, :data:`PUBLIC` or :data:`HOST`;
    ``territory_args``: keyword arguments naming territories (an id, or a list of ids);
    ``campaign_arg``: keyword argument naming a campaign (its territory must be in the scope);
    ``visible_arg``: keyword argument the ids the rule may show are passed in (the scope, and its peers
    for ``compare``/``peers``): the read model counts over them;
    ``filters``: the read model takes a :class:`Filters` (given as ``Filters()`` when absent);
    ``what``: what it returns, in French (the documentation of what a scoped user sees).
    """

    kind: str
    what: str = ""
    territory_args: tuple[str, ...] = ()
    campaign_arg: str | None = None
    visible_arg: str | None = None
    filters: bool = True


def _own(what: str, **kw: Any) -> Rule:
    return Rule(OWN, what, **kw)


def _compare(what: str, **kw: Any) -> Rule:
    return Rule(COMPARE, what, **kw)


def _peers(what: str, **kw: Any) -> Rule:
    return Rule(PEERS, what, **kw)


READ_MODELS: dict[str, Rule] = {
    # registry and store
    "analysis.queries:territories": _compare("registre : le périmètre et ses pairs (noms, population)",
                                             filters=False),
    "analysis.queries:platforms": _own("plateformes présentes dans les données du périmètre"),
    "analysis.queries:data_range": _own("première et dernière date des données du périmètre"),
    "analysis.queries:coverage": _own("publications et messages par territoire, plateforme et mois"),
    "analysis.queries:import_log": Rule(HOST, "journal des imports (fichiers de tous les territoires)", filters=False),
    "analysis.queries:rejects": Rule(HOST, "lignes rejetées (valeurs de tous les territoires)", filters=False),
    "analysis.store:table_counts": Rule(HOST, "nombre de lignes de chaque table (tous territoires)", filters=False),
    "analysis.ingest.attach:unattached": Rule(HOST, "comptes hors registre (aucun territoire)", filters=False),
    "analysis.views.donnees:attach_preview": Rule(HOST, "rattachement des comptes hors registre (simulation)",
                                                  filters=False),
    "analysis.audit:store_entries": Rule(HOST, "journal d'audit de la base", filters=False),
    "analysis.collect.runner:status": _own("état de la collecte des sources du périmètre", filters=False),
    # Synthèse
    "analysis.views.synthese:headlines": _compare("chiffres clés du territoire, valeur des pairs"),
    "analysis.views.synthese:alerts": _own("alertes du territoire"),
    "analysis.views.synthese:peer_table": _compare("tableau des pairs : population, messages, sentiment net, engagement"),
    # E-réputation
    "analysis.ereputation:focus": _own("territoires étudiés"),
    "analysis.ereputation:focus_kpis": _own("indicateurs du territoire"),
    "analysis.ereputation:focus_change": _own("évolution du territoire"),
    "analysis.ereputation:vs_peers": _compare("écart aux pairs regroupés (sentiment net, part négative)"),
    "analysis.ereputation:trend": _compare("courbe du territoire et des pairs regroupés"),
    "analysis.ereputation:explained_spikes": _own("pics négatifs avec leurs messages, termes et thèmes"),
    "analysis.ereputation:focus_negative_series": _own("messages négatifs par semaine"),
    "analysis.ereputation:representative_messages": _own("messages représentatifs"),
    "analysis.ereputation:peer_comparison": _compare("messages, sentiment net et part négative de chaque pair"),
    "analysis.ereputation:by_platform": _own("sentiment par plateforme"),
    "analysis.ereputation:messages_for_review": _own("messages à corriger"),
    # Thématiques
    "analysis.topics.views:theme_labels": Rule(PUBLIC, "noms des thèmes", filters=False),
    "analysis.topics.views:themes_computed": Rule(PUBLIC, "thèmes calculés ou non", filters=False),
    "analysis.topics.reads:theme_shares": _own("part des thèmes"),
    "analysis.topics.views:themed_share": _own("part des messages avec un thème"),
    "analysis.topics.reads:posts_vs_conversation": _own("thèmes de nos publications et de la conversation"),
    "analysis.topics.views:emerging_view": _own("sujets émergents et leurs messages"),
    "analysis.topics.reads:sentiment_by_theme": _own("sentiment par thème"),
    "analysis.topics.views:word_cloud_view": _own("nuage de mots des messages"),
    # Audience (platform aggregates, no person): the territory followed; its peers' growth and reach
    "analysis.audience:growth_by_territory": _peers("croissance des abonnés du territoire et des pairs"),
    "analysis.audience:monthly_followers": _peers("abonnés par mois du territoire et des pairs"),
    "analysis.audience:gains_only": _own("gains d'abonnés"),
    "analysis.audience:pyramid": _own("pyramide âge × sexe des abonnés"),
    "analysis.audience:lacking_breakdown": _own("plateformes sans répartition âge × sexe"),
    "analysis.audience:population_reference": _peers("population de référence (INSEE)", filters=False,
                                                     territory_args=("territory_ids",)),
    "analysis.audience:representativeness": _own("indice de représentativité"),
    "analysis.audience:pyramid_history": _own("historique de la pyramide"),
    "analysis.audience:rayonnement": _peers("abonnés dans ou hors du territoire, du territoire et des pairs"),
    "analysis.audience:places": _own("villes et pays des abonnés"),
    # Campagnes et benchmark
    "analysis.campaigns:list_campaigns": _own("campagnes du territoire", filters=False),
    "analysis.campaigns:evaluate": _compare("effet d'une campagne, contre les pairs regroupés", filters=False,
                                            campaign_arg="campaign"),
    "analysis.campaigns:weekly_series": _compare("série hebdomadaire d'une campagne et des pairs regroupés",
                                                 filters=False, campaign_arg="campaign"),
    "analysis.campaigns:post_table": _own("publications du territoire (textes)", filters=False,
                                          territory_args=("territories",)),
    "analysis.campaigns:benchmark": _peers("indicateurs normalisés du territoire et des pairs", filters=False,
                                           territory_args=("territories",)),
    "analysis.campaigns:rank_intervals": _peers("classement avec incertitude du territoire et des pairs",
                                                filters=False, territory_args=("territories",)),
    # Modération et veille
    "analysis.views.moderation:focus_territory": _own("territoire suivi"),
    "analysis.views.moderation:queue_counts": _own("messages à traiter par motif"),
    "analysis.views.moderation:queue_view": _own("file de modération"),
    "analysis.views.moderation:responsiveness_view": _own("réactivité"),
    "analysis.views.moderation:alerts_view": _own("alertes"),
    "analysis.views.moderation:impersonation_view": _own("pages usurpant l'identité du territoire"),
    "analysis.views.moderation:contacts_view": _own("contacts clés (auteurs)", visible_arg="visible"),
    # Rapports
    "analysis.reports.render:available_periods": _own("périodes couvertes", filters=False,
                                                      territory_args=("territory",)),
    "analysis.reports.render:build_report": _compare("rapport du territoire, valeurs des pairs (vigie report "
                                                     "--as-user)", filters=False, territory_args=("territory",),
                                                     visible_arg="visible"),
    "analysis.reports.render:generate_files": _compare("rapport du territoire, valeurs des pairs", filters=False,
                                                       territory_args=("territory",), visible_arg="visible"),
    # Calendrier, Avant de publier, événements de la page Campagnes (analysis.events, issue 21)
    **{f"analysis.events.views:{k}": r for k, r in {
        "calendar_items": _own("événements, publications planifiées (textes) et campagnes du territoire"),
        "events_table": _own("événements du territoire"),
        "event_evaluations": _compare("promotion des événements du territoire, comparée aux événements des pairs "
                                      "(effets agrégés)", filters=False, territory_args=("territory",),
                                      visible_arg="visible"),
        "event_detail": _compare("un événement du territoire : ses publications, la conversation, comparaisons aux "
                                 "pairs (agrégées)", filters=False, territory_args=("territory",), visible_arg="visible"),
        "draft_check": _compare("vérification d'un brouillon : modèle du territoire, hashtags des pairs (comptages)",
                                filters=False, territory_args=("territory",), visible_arg="visible"),
        "draft_platforms": _own("plateformes où publie le territoire", filters=False, territory_args=("territory",)),
        "audience_works": _own("ce qui marche par public (agrégats du territoire)", filters=False,
                               territory_args=("territory",)),
    }.items()},
}


def target_name(target: str | Callable[..., Any]) -> str:
    """The qualified name ``module:function`` of a read model given as the function itself (what the
    pages pass to ``data.call``) or already as its name. A function re-exported by another module is
    named as :data:`READ_MODELS` classifies it."""
    if isinstance(target, str):
        return target
    name = f"{target.__module__}:{target.__qualname__}"
    if name in READ_MODELS:
        return name
    for key in READ_MODELS:
        try:
            if resolve(key) is target:
                return key
        except (ImportError, AttributeError):
            continue
    return name


def rule_for(target: str | Callable[..., Any]) -> Rule:
    """The rule of a read model; :class:`OutOfScope` when it has none (refused to scoped users)."""
    target = target_name(target)
    rule = READ_MODELS.get(target)
    if rule is None:
        raise OutOfScope(f"Lecture non classée pour les utilisateurs limités à des territoires : {target}.")
    return rule


def resolve(target: str) -> Any:
    """The function named ``module:function``."""
    mod, _, name = target.partition(":")
    obj: Any = importlib.import_module(mod)
    for part in name.split("."):
        obj = getattr(obj, part)
    return obj


# ------------------------------------------------------------------------------ applying a rule
def _cut(ids: Sequence[str], allowed: Sequence[str], default: Sequence[str]) -> tuple[str, ...]:
    kept = tuple(t for t in dict.fromkeys(ids) if t in allowed)
    return kept or tuple(default)


def _outside(what: str) -> OutOfScope:
    return OutOfScope(f"{what} hors de votre périmètre : demandez l'accès à un administrateur de Vigie.")


def _keep_rows(out: Any, allowed: set[str], pooled: bool) -> Any:
    """Drop what concerns another territory from a read model's result: rows of a frame with a
    ``territory_id`` column, objects with a ``territory_id`` attribute, a dict about one territory.
    ``pooled``: pseudo territories such as « (pairs) » (an aggregate of the peers) are kept."""
    def ok(t: Any) -> bool:
        return isinstance(t, str) and (t in allowed or (pooled and t.startswith("(")))

    if isinstance(out, pd.DataFrame) and "territory_id" in out.columns:
        kept = out.loc[out["territory_id"].map(ok).astype(bool)]  # a row mask, even on an empty frame
        if len(kept) != len(out):
            kept = kept.reset_index(drop=True)
            kept.attrs = dict(out.attrs)
        return kept
    if isinstance(out, list) and out and all(hasattr(x, "territory_id") for x in out):
        return [x for x in out if ok(x.territory_id)]
    if isinstance(out, dict) and isinstance(out.get("territory_id"), str) and not ok(out["territory_id"]):
        raise _outside("Territoire")
    return out


def _registry_view(out: pd.DataFrame, scope: Scope) -> pd.DataFrame:
    """The registry as a scoped user sees it: their territories are « ours » (``kind = 'own'``, first),
    the others their peers, whose own peer lists are not shown."""
    out = out.copy()
    mine = out["territory_id"].isin(scope.territories)
    out["kind"] = ["own" if m else "peer" for m in mine]
    if "peers" in out.columns:
        known = set(out["territory_id"])
        out["peers"] = [[p for p in (list(v) if v is not None and not isinstance(v, float) else []) if p in known]
                        if m else [] for v, m in zip(out["peers"], mine, strict=True)]
    order = {t: i for i, t in enumerate(scope.territories)}
    out["_o"] = [order.get(t, len(order)) for t in out["territory_id"]]
    return out.sort_values(["_o", "name"]).drop(columns="_o").reset_index(drop=True)


def read(con: duckdb.DuckDBPyConnection, scope: Scope, target: str | Callable[..., Any], f: Filters | None = None,
         resolver: Any = None, /, **kwargs: Any) -> Any:
    """Run the read model ``module:function(con[, f], **kwargs)`` for a user of ``scope``.

    Without scope (the host's administrators, the CLI) the call is left as it is. Otherwise the rule
    of :data:`READ_MODELS` applies (see the module docstring); :class:`OutOfScope` for a read
    model not classified, a ``host`` one, or a territory or a campaign outside the scope asked by name.
    ``resolver``: how ``target`` becomes a function (:func:`resolve`; benchmarks record the calls).
    """
    target = target_name(target)  # a function or its « module:function »: classified by that name
    fn = (resolver or resolve)(target)
    if scope.everything:
        return fn(con, f, **kwargs) if f is not None else fn(con, **kwargs)
    rule = rule_for(target)
    if rule.kind == HOST:
        raise _outside("Information de l'hébergement (tous territoires)")
    if rule.kind == PUBLIC:
        return fn(con, f, **kwargs) if f is not None else fn(con, **kwargs)
    mine = scope.territories
    peers = peers_of_scope(con, scope)
    asked_from = mine + peers if rule.kind == PEERS else mine
    shown = set(mine) | (set(peers) if rule.kind in (COMPARE, PEERS) else set())
    kwargs = dict(kwargs)
    if rule.filters:
        f = f or Filters()
        f = replace(f, territories=_cut(f.territories, asked_from, mine))
    for arg in rule.territory_args:
        value = kwargs.get(arg)
        if isinstance(value, str) or (value is None and not arg.endswith("s")):  # one territory: asked by name
            if value not in asked_from:
                raise _outside("Territoire")
        else:
            kwargs[arg] = type(value)(_cut(value, asked_from, mine)) if value else tuple(mine)
    if rule.campaign_arg and kwargs.get(rule.campaign_arg) is not None:
        row = con.execute("SELECT territory_id FROM campaigns WHERE campaign_id = ?",
                          [kwargs[rule.campaign_arg]]).fetchone()
        if row is None or row[0] not in mine:
            raise _outside("Campagne")
    if rule.visible_arg:  # the read model counts over what the rule may show
        kwargs[rule.visible_arg] = tuple(mine) if rule.kind == OWN else tuple(mine) + peers
    out = fn(con, f, **kwargs) if rule.filters else fn(con, **kwargs)
    if target == "analysis.queries:territories":
        return _registry_view(_keep_rows(out, shown, pooled=False), scope)
    return _keep_rows(out, shown, pooled=rule.kind != OWN)


# ------------------------------------------------------------------------------ writes
def check_write(con: duckdb.DuckDBPyConnection, scope: Scope, *, messages: Iterable[str] = (),
                campaigns: Iterable[str] = (), territories: Iterable[str] = ()) -> None:
    """Refuse a write from the app about something outside the scope, before anything is written:
    a message (``KeyError``, the same answer as an unknown id: no hint that it exists elsewhere), a
    campaign of another territory (an existing id belonging to another territory included), a
    territory (:class:`OutOfScope`)."""
    if scope.everything:
        return
    for t in territories:
        if not scope.allows(t):
            raise _outside("Territoire")
    ids = list(dict.fromkeys(messages))
    if ids:
        found = dict(con.execute(
            f"SELECT message_id, territory_id FROM messages WHERE message_id IN ({', '.join('?' for _ in ids)})",
            ids).fetchall())
        for m in ids:
            if not scope.allows(found.get(m, "\0")):
                raise KeyError(m)
    for c in dict.fromkeys(campaigns):
        row = con.execute("SELECT territory_id FROM campaigns WHERE campaign_id = ?", [c]).fetchone()
        if row is not None and not scope.allows(row[0]):
            raise _outside("Campagne")


# ------------------------------------------------------------------------------ notebooks
class Reader:
    """What a notebook reads as an app user: the same rule as the app's pages.

    >>> lire = Reader.for_user("camille")          # scope of camille (users.toml)
    >>> lire("analysis.ereputation:focus_kpis", Filters(start=..., end=...))

    A convenience for analysts who prepare figures for a territory's team: whoever runs a notebook
    on the server can open the store itself, so this is no barrier against them (SECURITY.md)."""

    def __init__(self, scope: Scope = EVERYTHING, db: str | None = None) -> None:
        self.scope, self.db = scope, db

    @classmethod
    def for_user(cls, name: str, db: str | None = None) -> Reader:

        u = users.load_users().get(name.strip().lower())
        if u is None:
            raise users.UserError(f"Utilisateur inconnu « {name} ».")
        return cls(Scope.of(u.scope), db)

    def __call__(self, target: str | Callable[..., Any], f: Filters | None = None, /, **kwargs: Any) -> Any:

        with store.reader(self.db) as con:
            return read(con, self.scope, target, f, None, **kwargs)
