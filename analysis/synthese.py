"""Moved to :mod:`analysis.views.synthese` (issue 18: one read model per page in `analysis/views/`);
re-exported so notebooks keep working."""

from analysis.views.synthese import *  # noqa: F403
from analysis.views.synthese import SpanPeriod, period_of  # noqa: F401 - used by name in notebooks and tests
