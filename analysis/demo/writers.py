"""The demo's export writer: every simulated piece in the real export format of its platform."""

from __future__ import annotations

from datetime import date
from pathlib import Path

import numpy as np

from analysis.demo.model import Sim
from analysis.demo.replay import ReplayExports
from analysis.demo.writers_meta import MetaExports
from analysis.demo.writers_others import OtherExports


class Writer(MetaExports, OtherExports, ReplayExports):
    """Writes the simulated world as export files under ``root``; records each file's import context."""

    def __init__(self, sim: Sim, root: Path, rng: np.random.Generator) -> None:
        self.sim, self.root, self.rng = sim, root, rng
        self.files: list[dict] = []  # {"path", "hint", "snapshot", "mapping", "fmt"}

    def add(self, path: Path, hint: str | None = None, snapshot: date | None = None, mapping: Path | None = None,
            fmt: str | None = None) -> None:
        self.files.append({"path": path, "hint": hint, "snapshot": snapshot, "mapping": mapping, "fmt": fmt})

    def write_all(self) -> None:
        # Bluesky, Mastodon, TikTok and the press first: they are imported first, while the tables
        # are small (each file's upsert costs more as the tables grow). They use no random draw, so
        # the other files are the same with or without them.
        self._index_threads()
        self.tiktok()
        self.social_profiles()
        self.press_saved()
        self.replay()
        self.mbs_posts()
        self.mbs_daily()
        self.mbs_demographics()
        self.x_analytics()
        self.x_twarc()
        self.fb_comments()
        self.ig_comments()
        self.youtube()
        self.linkedin()
        self.ads()
        self.crowdtangle()
