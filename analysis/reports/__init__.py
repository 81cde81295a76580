"""Periodic reports for the council: one report model, one Jinja2 template, HTML and PDF.

- :mod:`.period` parses ``2026-10``, ``2026-Q3``, ``2026``, ``last-month``;
- :mod:`.findings` turns figures into plain-French headlines (reused by the Synthèse page);
- :mod:`.sections` is the section registry: an analysis plugs in with ``@section(...)``;
- :mod:`.render` builds the report model and renders it (self-contained HTML, PDF via WeasyPrint);
- :mod:`analysis.cli.report` is the ``vigie report`` command.
"""
