"""The test run itself: what `make test` relies on to be fast and correct."""

from __future__ import annotations

import pytest

pytestmark = pytest.mark.xdist_group("suite")


def test_xdist_groups_are_honoured(request):
    """`--dist loadgroup` keeps a module's expensive fixtures on one worker only through the
    ``@group`` suffix xdist gives node ids; pytest 9.2 silently dropped it (pytest-xdist#1386) and every
    module fixture was built on both workers. Run without xdist, there is nothing to check."""
    if not getattr(request.config.option, "loadgroup", False):
        pytest.skip("not run with --dist loadgroup")
    assert request.node.nodeid.endswith("@suite"), request.node.nodeid
