"""Collection from the platforms' APIs, over the importers' pipeline (``vigie collect``).

- :mod:`~analysis.collect.http` — the one HTTP client (retries, ``Retry-After``, French errors).
- :mod:`~analysis.collect.base` — sources, batches, results.
- :mod:`~analysis.collect.sources` — what the registry asks to collect.
- :mod:`~analysis.collect.runner` — runs connectors, writes each batch with its cursor.
- one module per platform: :mod:`~analysis.collect.bluesky`, ``mastodon``, ``youtube``,
  ``meta`` (Facebook, Instagram, Threads), ``rss``; ``jetstream`` for ``--follow``.
"""
