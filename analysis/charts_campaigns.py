"""Moved to :mod:`analysis.charts.campaigns` (issue 18: `analysis/charts/`); re-exported so notebooks keep working."""

from analysis.charts.campaigns import *  # noqa: F403
