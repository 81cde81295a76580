"""`vigie` command: glue only, one module per command group (:mod:`analysis.cli.main` holds the root
app and registers the groups). ``from analysis.cli import app, main`` stays the entry point."""

from analysis.cli.main import EXIT_BUSY, SUBCOMMANDS, app, console, err, main

__all__ = ["EXIT_BUSY", "SUBCOMMANDS", "app", "console", "err", "main"]
