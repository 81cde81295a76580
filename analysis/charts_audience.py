"""Moved to :mod:`analysis.charts.audience` (issue 18: `analysis/charts/`); re-exported so notebooks keep working."""

from analysis.charts.audience import *  # noqa: F403
