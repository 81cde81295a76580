"""`vigie …` run in this process (Typer's CliRunner) with the result shaped like ``subprocess.run``'s.

The collection tests run the CLI once as a real process (entry point, exit code, environment) and
then repeat it here: each extra interpreter start costs about 3 s of CPU (sklearn, altair…)."""

from __future__ import annotations

import subprocess
import sys
from collections.abc import Mapping, Sequence

from typer.testing import CliRunner


def run_cli(cmd: Sequence[str], env: Mapping[str, str] | None = None, **_: object) -> subprocess.CompletedProcess:
    """``cmd`` as given to subprocess (``[sys.executable, "-m", "analysis", …]``) or the bare arguments."""
    from analysis.cli import app

    args = list(cmd)
    if args[:3] == [sys.executable, "-m", "analysis"]:
        args = args[3:]
    r = CliRunner().invoke(app, args, env=dict(env) if env is not None else None, catch_exceptions=False)
    return subprocess.CompletedProcess(args, r.exit_code, r.stdout, r.stderr)
