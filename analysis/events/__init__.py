"""Publier et animer (issue 21): events of the territory, their promotion evaluated, a check of a
draft post before it goes out, and what reaches each audience.

- :mod:`analysis.events.model` — the ``events`` and ``planned_posts`` tables: read, write, the theme
  an event is read under, export to ``.ics`` (the importers are in :mod:`analysis.ingest.agenda`);
- :mod:`analysis.events.evaluation` — the posts that promoted an event, the conversation around
  it, the promotion's effect with an interval, compared with past events and peers' events;
- :mod:`analysis.events.engagement` — the engagement model (prediction intervals, time-split
  evaluation) behind the draft check;
- :mod:`analysis.events.draft` — « Avant de publier »: themes, tone, readability, hashtags, slots
  and the expected engagement of a draft;
- :mod:`analysis.events.audiences` — which themes, formats and slots reach the young and the 40+;
- :mod:`analysis.events.views` — read models of the pages (the CLI: :mod:`analysis.cli.events`); :mod:`analysis.events.report` — the
  report section; :mod:`analysis.demo.events` — the demo agenda with injected promotion effects;
  :mod:`analysis.events.cli` — ``vigie events …`` and ``vigie draft …``.
"""
