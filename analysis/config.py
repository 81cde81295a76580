"""Constants every layer may read (bottom layer: imports nothing of Vigie).

- :data:`LOCAL_TZ` — the local timezone of the product: French local days (daily aggregates,
  weekdays, business hours) and the zone of naive timestamps in exports when ``--tz`` is not given.
"""

from __future__ import annotations

from zoneinfo import ZoneInfo

LOCAL_TZ = "Europe/Paris"
LOCAL_ZONE = ZoneInfo(LOCAL_TZ)
