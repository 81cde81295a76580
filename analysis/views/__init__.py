"""Read models of the app's pages, one module per page (issue 18): what a page shows — frames,
French titles and texts — computed here, so that the page is layout only. :mod:`.synthese` (home
page, shared with the report's first page) and :mod:`.moderation` (Modération & veille) so far; the
other pages' read models still live in their domain modules (``ereputation.focus_kpis``…)."""
