"""E-reputation: volumes, net sentiment, negative share, peers, change, spikes and telling messages.

Every function takes an open connection (read-only is enough) and a :class:`~analysis.queries.Filters`;
aggregation runs in DuckDB, only per-group counts come back to Python. Formulas live in
:mod:`analysis.metrics` (one function each); this module counts and assembles.

Counting rules (the same everywhere: app, notebook, report, CLI)
- Messages are what users write (comments, replies, mentions, reviews); replies written by the
  official accounts (``is_official``) are our own words and are left out.
- The label of a message is the analyst's correction when there is one (``labels``, task
  ``sentiment``), else the model's (``sentiment``): the logic of ``effective_sentiment``.
- Messages detected as not French (``lang`` ≠ ``fr``: English, other, empty) are *not* scored and
  never enter a share; they are counted apart (``non_french``), as are messages not scored yet
  (``unscored``: ``vigie enrich`` has not run on them). A correction always counts (the analyst read it).
- Intervals (95 % by default): Wilson for the negative share; for (P − N) ÷ (P + N) the Wilson
  interval of P ÷ (P + N) mapped by x ↦ 2x − 1 (an exact transform, not a delta method); for
  (P − N) ÷ (P + N + Neu) the delta-method (multinomial normal) interval; differences (vs the
  previous period, vs peers) by Newcombe's method from the two intervals
  (:func:`analysis.metrics.difference_interval`).

Spike detection (:func:`detect_spikes`, module :mod:`analysis.ereputation.spikes`) is documented on the
function: it is THE negative-spike detector (page, alerts, report, campaigns' crisis warning).

A package since issue 18: ``core`` (counts, metrics, peers, representative messages) and ``spikes``;
every public name (and ``_counts``, ``_base``, ``_local``, ``_COUNTS_SQL``, read by :mod:`analysis.derived_refresh`) is re-exported here, so
``analysis.ereputation.x`` and the notebooks keep working.
"""

from __future__ import annotations

from analysis.ereputation.core import (  # noqa: F401 - re-exported
    _COUNTS_SQL,
    COUNT_COLUMNS,
    DIMENSIONS,
    FREQS,
    METRIC_COLUMNS,
    METRIC_LABELS,
    SENTIMENTS,
    _base,
    _counts,
    _local,
    add_metrics,
    auto_freq,
    by_platform,
    change_vs_previous,
    compare,
    focus,
    focus_change,
    focus_kpis,
    kpis,
    message_sentiment,
    messages_for_review,
    peer_comparison,
    representative_messages,
    sentiment_table,
    trend,
    vs_peers,
)
from analysis.ereputation.spikes import (  # noqa: F401 - re-exported
    EXTEND_ALPHA,
    NEGATIVE_SPIKE,
    Spike,
    SpikeParams,
    detect_spikes,
    distinctive_terms,
    explain_spike,
    explained_spikes,
    focus_negative_series,
    negative_series,
    score_series,
    spike_messages,
    spike_rule_text,
    spike_terms,
    spike_themes,
    spikes_table,
)
from analysis.territories import own_territory, peers_of  # noqa: F401 - re-exported (notebooks)
