"""``python -m analysis.eval`` = ``vigie eval``."""

from analysis.eval.cli import app

app()
