"""Moved to :mod:`analysis.views.moderation` (issue 18); re-exported so notebooks keep working.
(A module of the moderation package importing the views layer: ignored in the layer contract.)"""

from analysis.views.moderation import *  # noqa: F403
