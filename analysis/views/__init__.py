"""Read models of the app's pages, one module per page (issue 18): what a page shows — frames,
French titles, alt texts and chart views (:class:`analysis.charts.ChartView`) — computed here, so that
the page is layout only. :mod:`.synthese` (home page, shared with the report's first page),
:mod:`.e_reputation`, :mod:`.thematiques`, :mod:`.audience` (built from the results of the domain read
models the page fetches through ``data.call``) and :mod:`.moderation` (Modération & veille); the charts
of each page are in ``analysis/charts/<page>.py``."""
