"""View models of the « Thématiques » page and report section (what ``data.call`` and the
periodic report fetch): labels, status, shares, emerging subjects and word clouds as plain values."""

from __future__ import annotations

from typing import Any

import pandas as pd

from analysis import derived
from analysis.fmt import fr_count, fr_date, fr_int, fr_num, fr_pct
from analysis.queries import Filters
from analysis.topics.clouds import WORD_CLOUD_SAMPLE, word_cloud_png, word_frequencies
from analysis.topics.emerging import emerging_subjects, emerging_table, territory_words, when_fr
from analysis.topics.reads import posts_vs_conversation, sentiment_by_theme, theme_shares, themed_messages
from analysis.topics.taxonomy import NO_THEME, load_taxonomy


def theme_labels(con: Any = None) -> dict[str, str]:
    """theme id → French label, taxonomy order (``con`` unused: uniform signature for the app)."""
    return load_taxonomy().labels


def themes_status(con: Any) -> dict[str, Any]:
    """How far theme enrichment went: items classified and model versions in the store."""
    r = con.execute("SELECT count(DISTINCT (item_id, item_type)), list(DISTINCT model_version) FROM themes").fetchone()
    return {"classified": int(r[0] or 0), "model_versions": sorted(v for v in (r[1] or []) if v)}


def themes_computed(con: Any) -> bool:
    """Whether theme enrichment classified anything (:func:`themes_status` says how far, at the cost of
    counting every classified item)."""
    return bool(con.execute("SELECT EXISTS (SELECT 1 FROM themes)").fetchone()[0])


def themed_share(con: Any, f: Filters | None = None, derived_ok: bool = True) -> float | None:
    """Share of public messages with at least one theme = messages with a theme ÷ classified messages.
    Over whole days, summed from ``daily_themes_utc`` (each message once: ``first_theme``) unless
    ``derived_ok`` is False: the same figure."""
    f = f or Filters()
    if derived_ok and derived.usable(con, f, "daily_themes_utc", "first_theme"):
        w, params = f.where("d", ts="day")
        r = con.execute(
            f"""SELECT sum(first_theme) FILTER (WHERE theme <> '{NO_THEME}'), sum(first_theme)
                FROM daily_themes_utc d WHERE {w}""", params).fetchone()
    else:
        w, params = f.where("m")
        r = con.execute(
            f"""SELECT count(DISTINCT t.item_id) FILTER (WHERE t.theme <> '{NO_THEME}'), count(DISTINCT t.item_id)
                FROM messages m JOIN themes t ON t.item_id = m.message_id AND t.item_type = 'message'
                WHERE {w} AND m.is_official IS NOT TRUE""", params).fetchone()
    return int(r[0] or 0) / int(r[1]) if r[1] else None


def emerging_view(con: Any, f: Filters, **kwargs: Any) -> list[dict[str, Any]]:
    """:func:`emerging_subjects` as plain dicts (cacheable), messages as records without author."""
    out = []
    for s in emerging_subjects(con, f, **kwargs):
        d = {k: getattr(s, k) for k in ("label", "terms", "hashtags", "start", "end", "peak", "count", "baseline",
                                        "max_z", "episodes")}
        d["messages"] = s.messages[["created_at", "platform", "text"]].to_dict("records")
        out.append(d)
    return out


def word_cloud_view(con: Any, f: Filters | None = None, theme: str | None = None, tone: str | None = None,
                    limit: int = WORD_CLOUD_SAMPLE, top: int = 100) -> dict[str, Any]:
    """Word cloud of public messages for a theme/tone within the filters: PNG, title, frequencies.

    Territory names are removed (they would dominate every cloud). ``png`` is None when there are
    no words. Beyond ``limit`` messages the words are counted on a sample of ``limit`` messages
    spread over the period (``sampled`` True): on the demo store 13 of its 15 and 48 of its 50
    most frequent words are those of the full year, and tokenising every message of a year took
    over a second. ``top`` words are drawn.
    """
    f = f or Filters()
    msgs = themed_messages(con, f, theme=theme, tone=tone, limit=limit, spread=True)
    freq = word_frequencies(msgs["text"], top=top, exclude=territory_words(con))
    label = load_taxonomy().label(theme) if theme else "Tous les thèmes"
    tone_fr = {"negative": "messages négatifs", "neutral": "messages neutres", "positive": "messages positifs"}
    title = f"{label} — {tone_fr.get(tone or '', 'tous les messages')}"
    if f.start and f.end:
        title += f" ({fr_period_short(f.start, f.end)})"
    png = word_cloud_png(freq, title=title) if freq else None
    return {"png": png, "title": title, "frequencies": freq, "n_messages": len(msgs),
            "sampled": bool(limit) and len(msgs) >= limit}


def fr_period_short(start: Any, end_exclusive: Any) -> str:
    """'1 mars 2026 – 31 mars 2026' from a half-open period."""
    return f"{fr_date(start)} – {fr_date(pd.Timestamp(end_exclusive) - pd.Timedelta(days=1))}"


def report_section(con: Any, f: Filters, top: int = 5) -> dict[str, Any]:
    """The « Thématiques » section of the periodic report, ready to render (French text).

    ``findings``: sentences stating the main facts (leading theme, gap between our posts and
    the conversation, emerging subjects, most criticised theme); ``tables``: French-formatted
    DataFrames; ``figures``: PNG word cloud of the negative messages of the most criticised
    theme (or of all messages); ``alt``: text alternatives of the figures.
    """
    findings: list[str] = []
    tables: dict[str, pd.DataFrame] = {}
    total = theme_shares(con, f, freq=None, by=())
    if len(total):
        total = total.sort_values("share", ascending=False)
        lead = total.iloc[0]
        findings.append(f"« {lead['label']} » est le premier sujet de la conversation : {fr_pct(lead['share'])} "
                        f"des {fr_int(lead['n_total'])} messages publics.")
        tables["Thèmes de la conversation"] = pd.DataFrame({
            "Thème": total["label"], "Messages": total["n_items"].map(fr_int),
            "Part des messages": total["share"].map(fr_pct)}).head(top)
    pvc = posts_vs_conversation(con, f)
    if pvc["messages"].sum() or pvc["posts"].sum():
        gap = (pvc["message_share"] - pvc["post_share"]).fillna(0)
        s = pvc.loc[gap.idxmax()]
        if gap.max() >= 0.03:  # three points: below that the two profiles are alike
            findings.append(f"Le public parle de « {s['label']} » ({fr_pct(s['message_share'])} des messages) "
                            f"bien plus que nos publications ({fr_pct(s['post_share'])}).")
        tables["Nos publications face à la conversation"] = pd.DataFrame({
            "Thème": pvc["label"], "Part de nos publications": pvc["post_share"].map(fr_pct),
            "Part des messages": pvc["message_share"].map(fr_pct),
            "Engagement moyen par publication": pvc["engagement_per_post"].map(fr_num),
            "Situation": pvc["situation"]})
    subjects = emerging_subjects(con, f) if f.territories else []
    for sub in subjects[:3]:
        findings.append(f"Sujet émergent : « {sub.label} » {when_fr(sub.start, sub.end, sub.episodes)} "
                        f"({fr_count(sub.count, 'message')}, pic le {fr_date(sub.peak)}).")
    if subjects:
        tables["Sujets émergents"] = emerging_table(subjects)
    sent = sentiment_by_theme(con, f)
    theme = None
    if len(sent):
        worst = sent.iloc[0]
        theme = worst["theme"]
        findings.append(f"« {worst['label']} » concentre les critiques : {fr_pct(worst['negative_share'])} "
                        f"de messages négatifs.")
        tables["Sentiment par thème"] = pd.DataFrame({
            "Thème": sent["label"], "Messages": sent["n"].map(fr_int),
            "Part négative": sent["negative_share"].map(fr_pct), "Sentiment net": sent["net_sentiment"].map(fr_num)})
    cloud = word_cloud_view(con, f, theme=theme, tone="negative" if theme else None)
    figures, alt = {}, {}
    if cloud["png"] is not None:
        figures["Nuage de mots"] = cloud["png"]
        alt["Nuage de mots"] = (f"{cloud['title']}. Mots les plus fréquents : "
                                + ", ".join(list(cloud["frequencies"])[:10]) + ".")
    # ``sentiment``: the frame behind « Sentiment par thème », for the report to format it without reading it again
    return {"title": "Thématiques", "findings": findings, "tables": tables, "figures": figures, "alt": alt,
            "sentiment": sent}
