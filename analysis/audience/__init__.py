"""Audience: growth, age × gender pyramid, representativeness against the population, geography.

Everything here is computed **only from the aggregates the platforms export** (follower counts,
age × gender, city and country breakdowns). Nothing is ever inferred from names, faces or texts.

Definitions (one function each, formulas in the docstrings and in ``metrics.FORMULAS``):

- growth: :func:`net_new_followers`, :func:`growth_rate`, :func:`compound_monthly_growth_rate`,
  :func:`per_1000_inhabitants`;
- demographics: the share of a cell is the platform's share as exported (``unit='share'``) or
  ``count ÷ Σ counts`` of the snapshot (``unit='count'``); several platforms are combined with
  :func:`combine_weighted` (weights = followers of each account at the snapshot);
- representativeness: :func:`representativeness_index` = share among followers ÷ share in the
  population **aged 13 and over** (platforms do not admit younger users, so 0-12 is left out of the
  base);
- geography: a follower city is "inside" the territory when its name, accents and case folded,
  equals the territory name stripped of generic words (« Ville de », « Agglomération »…), see
  :func:`city_in_territory`.

A package since issue 18: ``core`` (the figures) and ``insee`` (reading INSEE population files);
every public name is re-exported here (``analysis.audience.x`` and the notebooks keep working).
"""

from __future__ import annotations

from analysis.audience.core import (  # noqa: F401 - re-exported
    AVG_MONTH_DAYS,
    BANDS,
    DEMO_POPULATION_CSV,
    GENDERS,
    OVER_REACHED,
    PLATFORM_FR,
    POP_BANDS,
    SEGMENT_FR,
    SEGMENT_RULE_40,
    SEGMENTS,
    UNDER_REACHED,
    breakdown_coverage,
    city_in_territory,
    combine_weighted,
    compound_monthly_growth_rate,
    followers_series,
    gains_only,
    gender_split,
    growth,
    growth_by_territory,
    growth_rate,
    lacking_breakdown,
    monthly_followers,
    net_new_followers,
    per_1000_inhabitants,
    place_key,
    places,
    platform_bands,
    population_reference,
    pyramid,
    pyramid_history,
    rayonnement,
    representativeness,
    representativeness_index,
    representativeness_table,
    segment_shares,
    sentence,
    split_40_44,
    summary,
    territory_core_name,
    under_reached,
)
from analysis.audience.insee import (  # noqa: F401 - re-exported
    CODE_COLUMNS,
    COUNT_COLUMNS,
    PopulationFileError,
    PopulationRead,
    _age_interval,
    read_insee_population,
    store_population,
)
