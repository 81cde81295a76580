"""Deterministic demo data: 5 fictional territories, 24 months, written as real export files.

``build()`` simulates the territories' social-media life (posts, user messages, official
replies, followers, demographics, a crisis, campaigns and a placebo), writes every piece in
the *real* export format of its platform (Meta Business Suite CSVs, X analytics + twarc2
JSONL, minet and ExportComments comments, YouTube API CSV, LinkedIn xlsx, CrowdTangle…),
then imports those files through the real importers. What was injected is saved beside the
exports (``ground_truth.json`` and ``ground_truth_messages.csv.gz``) so that every analysis
can be tested against it.

Same seed → byte-identical files (xlsx zips are written with fixed timestamps).

The package, its modules layered one way (``pyproject.toml``'s contract « analysis.demo: layers point
one way »): :mod:`~analysis.demo.build` (generate, collect, import, enrich) → :mod:`~analysis.demo.events`
(the events agenda drawn from the simulation) → :mod:`~analysis.demo.truth` (the ground truth and its
readers) → :mod:`~analysis.demo.writers` (the export writer, made of :mod:`~analysis.demo.writers_meta`,
:mod:`~analysis.demo.writers_others` and :mod:`~analysis.demo.replay`, over the file shapes of
:mod:`~analysis.demo.files`) → :mod:`~analysis.demo.simulation` (classic platforms) →
:mod:`~analysis.demo.social` (Bluesky, Mastodon, TikTok, press) → :mod:`~analysis.demo.posts` (a post and
its messages) → :mod:`~analysis.demo.model` (parameters, building blocks) → :mod:`~analysis.demo.text`
(the French text bank). The names below are the demo's API, as ``analysis.demo.<name>``.
"""

from __future__ import annotations

from analysis.demo.build import BuildReport, build_report, campaigns_frame, generate, import_files
from analysis.demo.files import MBS_EN, MBS_FR, MBS_IG
from analysis.demo.model import (
    ACCOUNT_START,
    ADDRESSED_SHARE,
    AGE_BANDS,
    CAMPAIGNS,
    COLLECTED,
    COMMENT_MEAN,
    CRISIS,
    DEMO_BLUESKY_LOGIN,
    EN_NAMES,
    END,
    ENGAGEMENT_SIGMA,
    EXPORTCOMMENTS_POSTS,
    FIRST,
    FIXED_ZIP_TIME,
    FOLLOWER_BANDS,
    FOLLOWERS_PER_INHAB,
    FRENCH_HEADERS_TERRITORY,
    HALVES,
    IMPERSONATOR,
    LAST,
    LOCAL_SHARE,
    MASTODON_INSTANCES,
    MENTIONS_PER_DAY,
    N_DAYS,
    NB_DISPERSION,
    NEW_MENTIONS_PER_DAY,
    NEW_PLATFORMS,
    NEW_POOL,
    OWN,
    PARIS,
    PLACES,
    POPULATION_CSV,
    POST_RATE,
    PRESS,
    PRESS_CRISIS_PER_DAY,
    PRESS_FEED_FROM,
    PRESS_OTHER_SHARE,
    PRESS_SAVED,
    PROPENSITY,
    REACTIONS_PER_COMMENT,
    SHARES_PER_COMMENT,
    START,
    TAG_DISPLAY,
    TERRITORY_STYLE,
    TIKTOK_AUDIENCE,
    WOMEN_PROPENSITY,
    YEARS,
    Author,
    FastRng,
    Ids,
    Sim,
    TextMaker,
    campaign_of,
    in_crisis,
    season,
    size_factor,
    snapshot_dates,
)
from analysis.demo.replay import ReplayServer, collect_replay
from analysis.demo.simulation import CT_PAGES, population_table, simulate, write_population_csv
from analysis.demo.truth import exports_dir_for, ground_truth, ground_truth_messages
from analysis.demo.writers import Writer

__all__ = [
    "ACCOUNT_START", "ADDRESSED_SHARE", "AGE_BANDS", "Author", "BuildReport", "CAMPAIGNS", "COLLECTED",
    "COMMENT_MEAN", "CRISIS", "CT_PAGES", "DEMO_BLUESKY_LOGIN", "END", "ENGAGEMENT_SIGMA", "EN_NAMES",
    "EXPORTCOMMENTS_POSTS", "FIRST", "FIXED_ZIP_TIME", "FOLLOWERS_PER_INHAB", "FOLLOWER_BANDS",
    "FRENCH_HEADERS_TERRITORY", "FastRng", "HALVES", "IMPERSONATOR", "Ids", "LAST", "LOCAL_SHARE",
    "MASTODON_INSTANCES", "MBS_EN", "MBS_FR", "MBS_IG", "MENTIONS_PER_DAY", "NB_DISPERSION",
    "NEW_MENTIONS_PER_DAY", "NEW_PLATFORMS", "NEW_POOL", "N_DAYS", "OWN", "PARIS", "PLACES", "POPULATION_CSV",
    "POST_RATE", "PRESS", "PRESS_CRISIS_PER_DAY", "PRESS_FEED_FROM", "PRESS_OTHER_SHARE", "PRESS_SAVED",
    "PROPENSITY", "REACTIONS_PER_COMMENT", "ReplayServer", "SHARES_PER_COMMENT", "START", "Sim", "TAG_DISPLAY",
    "TERRITORY_STYLE", "TIKTOK_AUDIENCE", "TextMaker", "WOMEN_PROPENSITY", "Writer", "YEARS",
    "build_report", "campaign_of", "campaigns_frame", "collect_replay", "exports_dir_for", "generate",
    "ground_truth", "ground_truth_messages", "import_files", "in_crisis", "population_table", "season",
    "simulate", "size_factor", "snapshot_dates", "write_population_csv",
]
