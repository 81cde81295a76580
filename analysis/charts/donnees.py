"""Chart of the « Données » page: the coverage heatmap with French platform and territory labels
(:func:`analysis.charts.coverage_heatmap`, shared with the report)."""

from __future__ import annotations

from collections.abc import Mapping

import altair as alt
import pandas as pd

from analysis.charts import coverage_heatmap
from analysis.schema import PLATFORM_LABELS


def coverage_chart(cov: pd.DataFrame, labels: Mapping[str, str], title: str) -> alt.LayerChart:
    """Heatmap of ``queries.coverage`` rows: territories by ``labels``, platforms by their French name,
    ``title`` the finding (« Aucun mois manquant », « 3 mois manquants dans les données »)."""
    cov = cov.assign(platform=cov["platform"].map(lambda p: PLATFORM_LABELS.get(p, p)))
    return coverage_heatmap(cov, dict(labels), title=title)
