"""Campaign evaluation, post performance and benchmark against peer territories.

Campaigns are data (``campaigns`` table, loaded from TOML/CSV, the CLI or the app). A campaign
is evaluated on daily series of the own territory and of its peers:

- *before/after*: the KPI during the campaign against the pre-campaign baseline;
- *difference-in-differences* against the peers over the same days, on the log scale for
  multiplicative KPIs, so a summer every territory enjoys is not credited to the campaign.

Uncertainty comes from a seeded **moving-block bootstrap over days** (blocks of a week by
default): days are resampled in blocks so autocorrelation and weekday patterns are kept, and the
same days are drawn for the own territory and the peers so common shocks cancel out.

The package: :mod:`~analysis.campaigns.model` (definitions, files, storage),
:mod:`~analysis.campaigns.crisis` (days not to trust: other campaigns, alerts, message spikes),
:mod:`~analysis.campaigns.effects` (daily panel, KPIs, bootstrap, evaluation),
:mod:`~analysis.campaigns.posts` (post performance) and :mod:`~analysis.campaigns.benchmark`
(peers, ranking, the report's part). Every public name is re-exported here, so
``import analysis.campaigns`` and the notebooks keep working.
"""

from __future__ import annotations

from analysis.campaigns.benchmark import (
    RANK_METRICS,
    _followers_at,
    benchmark,
    message_totals,
    peer_groups,
    rank_intervals,
    ranking_sentence,
    report_section,
)
from analysis.campaigns.crisis import crisis_warnings, excluded_periods, message_spikes, window_warnings
from analysis.campaigns.effects import (
    KPI,
    KPIS,
    Effect,
    Evaluation,
    KPIResult,
    _block_indices,
    _derive,
    _effect,
    _ratio,
    _stat,
    daily_panel,
    effect_basis,
    estimate_effect,
    evaluate,
    level_text,
    verdict,
    weekly_series,
)
from analysis.campaigns.model import (
    Campaign,
    _has_rows,
    get_campaign,
    list_campaigns,
    load_campaigns_file,
    match_posts,
    remove_campaign,
    save_campaigns,
)
from analysis.campaigns.posts import (
    best_time_heatmap,
    explain_post,
    performance_by,
    post_table,
    top_bottom_posts,
)
from analysis.territories import peers_of

__all__ = [
    "KPI", "KPIS", "RANK_METRICS", "Campaign", "Effect", "Evaluation", "KPIResult", "benchmark", "best_time_heatmap",
    "daily_panel", "estimate_effect", "evaluate", "excluded_periods", "explain_post", "get_campaign", "list_campaigns",
    "load_campaigns_file", "match_posts", "message_spikes", "message_totals", "peer_groups", "peers_of",
    "performance_by", "post_table", "rank_intervals", "ranking_sentence", "remove_campaign", "report_section",
    "save_campaigns", "top_bottom_posts", "verdict", "weekly_series", "crisis_warnings", "window_warnings",
    "effect_basis", "level_text",
    "_block_indices", "_derive", "_effect", "_followers_at", "_has_rows", "_ratio", "_stat",
]
