"""Constants every layer may read (bottom layer: imports nothing of Vigie).

- :data:`LOCAL_TZ` — the local timezone of the product: French local days (daily aggregates,
  weekdays, business hours) and the zone of naive timestamps in exports when ``--tz`` is not given.
- :func:`worker_processes` — how many processes the import and the enrichment may fork.
- :func:`cache_dir` — where files Vigie derives from its packages, and can rebuild at any time, are kept.
"""

from __future__ import annotations

import os
import threading
from pathlib import Path
from zoneinfo import ZoneInfo

LOCAL_TZ = "Europe/Paris"
LOCAL_ZONE = ZoneInfo(LOCAL_TZ)


def worker_processes(env_var: str) -> int:
    """Processes a parallel step (import: ``VIGIE_IMPORT_WORKERS``, enrichment:
    ``VIGIE_ENRICH_WORKERS``) may fork: ``$env_var`` when set to a number, else one per core this
    process may use — except in a process running threads of its own (the app's server): a fork
    copies only the calling thread, and a lock another thread held stays taken in the child."""
    try:
        return max(1, int(os.environ[env_var]))
    except (KeyError, ValueError):
        pass
    if threading.active_count() > 1:
        return 1
    try:
        return max(len(os.sched_getaffinity(0)), 1)
    except AttributeError:  # not on Linux
        return max(os.cpu_count() or 1, 1)


def cache_dir() -> Path:
    """Folder of files derived from installed packages, rebuilt when missing (not created here):
    ``$VIGIE_CACHE_DIR``, else ``$XDG_CACHE_HOME/vigie``, else ``~/.cache/vigie``. Deleting it loses
    nothing but the time to rebuild them."""
    if os.environ.get("VIGIE_CACHE_DIR"):
        return Path(os.environ["VIGIE_CACHE_DIR"])
    base = os.environ.get("XDG_CACHE_HOME") or str(Path.home() / ".cache")
    return Path(base) / "vigie"
