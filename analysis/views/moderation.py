"""Read models of the « Modération & veille » views (app page, notebook, report section).

Each takes ``(con, f)`` plus hashable keyword arguments, so the app can cache them by name.
The territory looked at is the first of ``f.territories``, else the registry's own territory.
"""

from __future__ import annotations

import duckdb
import pandas as pd

from analysis.moderation import alerts as al
from analysis.moderation.contacts import key_contacts
from analysis.moderation.impersonation import is_author, watch
from analysis.moderation.queue import queue, queue_codes, queue_summary, reason_counts
from analysis.moderation.responsiveness import response_by_slot
from analysis.queries import Filters
from analysis.registry import load_registry
from analysis.territories import focus_territory as _focus
from analysis.territories import peers_of


def focus_territory(con: duckdb.DuckDBPyConnection, f: Filters) -> str | None:
    """Territory the moderation views look at (:func:`analysis.territories.focus_territory`)."""
    return _focus(con, f.territories)


def _own_filter(con, f: Filters) -> Filters:
    t = focus_territory(con, f)
    return f.with_territories((t,) if t else ())


def queue_view(con: duckdb.DuckDBPyConnection, f: Filters, role: str = "elu", limit: int = 200) -> pd.DataFrame:
    """The queue of the focus territory; the élu role gets no text or author columns."""
    if role not in ("analyste", "admin", "analyst"):
        return queue_summary(queue_codes(con, _own_filter(con, f)))
    # text and French reasons are built for the rows shown only
    return queue(con, _own_filter(con, f), role="analyst", limit=limit or None).head(limit)


def queue_counts(con: duckdb.DuckDBPyConnection, f: Filters) -> dict[str, int]:
    """Number of queued messages per reason (aggregate, any role)."""
    return reason_counts(con, _own_filter(con, f))


def responsiveness_view(con: duckdb.DuckDBPyConnection, f: Filters, scope: str = "needs_answer") -> pd.DataFrame:
    """Responsiveness of the filtered territories (own and peers), per platform and slot, on the
    messages that call for an answer (questions and negative messages) by default."""
    return response_by_slot(con, f, scope)


def alerts_view(con: duckdb.DuckDBPyConnection, f: Filters) -> pd.DataFrame:
    """Alerts the rules detect on the filtered period (read-only: nothing is fired), plus whether
    each was already fired by `vigie alerts`."""
    reg = load_registry()
    known = {t.territory_id for t in reg.territories}
    terrs = [t for t in (f.territories or [focus_territory(con, f)]) if t in known]
    found, notes = al.evaluate(con, reg, terrs or None, f.start, f.end)
    fired = {r[0] for r in con.execute("SELECT alert_id FROM alerts").fetchall()}
    rows = [{"alert_id": a.alert_id, "rule": a.rule, "rule_label": al.RULES[a.rule], "territory_id": a.territory_id,
             "period_start": a.period_start, "period_end": a.period_end, "severity": al.SEVERITY_FR[a.severity],
             "title": a.title, "already_fired": a.alert_id in fired} for a in found]
    out = pd.DataFrame(rows, columns=["alert_id", "rule", "rule_label", "territory_id", "period_start", "period_end",
                                      "severity", "title", "already_fired"])
    out.attrs["notes"] = notes
    return out.sort_values("period_start", ascending=False).reset_index(drop=True)


def impersonation_view(con: duckdb.DuckDBPyConnection, f: Filters, role: str = "elu") -> pd.DataFrame:
    """Suspected impersonating pages of the focus territory.

    Pages and accounts only for the élu role (and the report): a message *author* flagged for a
    look-alike name (``author:<pseudonym>``, name kept by ``--keep-author-names``) is a person, shown
    to analysts only; ``attrs["hidden_authors"]`` counts them."""
    w = watch(con, load_registry(), focus_territory(con, f))
    if role in ("analyste", "admin", "analyst"):
        w.attrs["hidden_authors"] = 0
        return w
    authors = w["account_id"].map(is_author).astype(bool)  # bool even when empty: a row mask, not columns
    out = w[~authors].reset_index(drop=True)
    out.attrs["hidden_authors"] = int(authors.sum())
    return out


def contacts_view(con: duckdb.DuckDBPyConnection, f: Filters, role: str = "elu", top: int = 30,
                  visible: tuple[str, ...] = ()) -> pd.DataFrame:
    """Key contacts of the focus territory (analyst role only: identities are personal data).

    ``visible``: the territories the reader may see (``analysis.access``): an author's other messages
    are counted over those only (name, locality), so nothing is learnt of their activity elsewhere;
    with one visible territory the locality says nothing and is left empty."""
    if role not in ("analyste", "admin", "analyst"):
        raise PermissionError("Les contacts clés sont réservés au rôle analyste.")
    t = focus_territory(con, f)
    out = key_contacts(con, t, Filters(territories=tuple(visible), start=f.start, end=f.end, platforms=f.platforms),
                       role="analyst", top=top)
    if len(visible) == 1:
        out["locality"] = float("nan")
    return out


def report_section(con: duckdb.DuckDBPyConnection, f: Filters) -> dict:
    """Aggregate-only figures for the periodic report (no message text, no author).

    Keys: ``queue`` (counts per reason), ``responsiveness`` (records of the focus territory and
    its peers per platform and slot), ``alerts`` (rule, severity, French title, start),
    ``impersonation`` (suspected pages: name, platform, score).
    """
    t = focus_territory(con, f)
    terrs = (t, *peers_of(con, t)) if t else (t,)
    r = response_by_slot(con, f.with_territories(terrs), "needs_answer")
    a = alerts_view(con, f.with_territories((t,)))
    imp = impersonation_view(con, f)
    return {
        "territory_id": t,
        "queue": queue_counts(con, f),
        "responsiveness": r.to_dict(orient="records"),
        "alerts": a[["rule", "severity", "title", "period_start"]].to_dict(orient="records"),
        "alert_notes": a.attrs.get("notes", []),
        "impersonation": imp[["name", "handle", "platform", "score", "resembles"]].to_dict(orient="records"),
    }
