"""Generate large comment exports (YouTube Data API CSV layout) for the memory and kill -9 tests.

Fictional authors and texts, one distinct comment per row (so every row is a message). Rows
are written in blocks: generating 1 GB needs no more memory than generating 1 MB.
"""

from __future__ import annotations

import csv
import random
from datetime import datetime, timedelta
from pathlib import Path

HEADER = ["videoId", "textDisplay", "textOriginal", "authorDisplayName", "authorProfileImageUrl",
          "authorChannelUrl", "authorChannelId", "canRate", "viewerRating", "publishedAt", "updatedAt",
          "commentLikeCount", "title", "viewCount", "likeCount", "commentCount", "videoPublishedAt",
          "channelId", "textClean"]
WORDS = ("piscine travaux marché école parking vélo bus concert festival mairie quartier rue place "
         "propreté sécurité bravo merci dommage attente horaires fermeture ouverture nouveau").split()
T0 = datetime(2025, 1, 1)


def rows(n: int, seed: int = 0, start: int = 0):
    """``n`` comment rows, row ``i`` published ``i`` seconds after 1 January 2025 (distinct)."""
    rnd = random.Random(seed)
    for i in range(start, start + n):
        words = " ".join(rnd.choice(WORDS) for _ in range(rnd.randint(6, 40)))
        text = f"Commentaire {i} : {words}"
        author = f"UCfan{i % 50000:019d}"
        at = (T0 + timedelta(seconds=i)).strftime("%Y-%m-%dT%H:%M:%SZ")  # 1 GB stays within 16 days
        vid = f"vidSaintA{i % 200:02d}"
        yield [vid, text, text, f"Habitant {i % 50000}", "", f"http://www.youtube.com/channel/{author}", author,
               "True", "none", at, at, str(i % 7), f"Vidéo {i % 200}", "1520", "88", "2",
               "2024-12-31T17:00:00Z", "UCsaintaubin00000000001", text.lower()]


def write(path: str | Path, n: int | None = None, target_bytes: int | None = None, seed: int = 0,
          start: int = 0) -> int:
    """Write ``n`` rows (or rows until ``target_bytes``); returns the number of rows written."""
    p = Path(path)
    written = 0
    with open(p, "w", encoding="utf-8", newline="") as fh:
        w = csv.writer(fh)
        w.writerow(HEADER)
        gen = rows(n if n is not None else 10**10, seed, start)
        for r in gen:
            w.writerow(r)
            written += 1
            if target_bytes is not None and written % 1000 == 0 and fh.tell() >= target_bytes:
                break
    return written


if __name__ == "__main__":  # python -m benchmarks.gen_big_csv OUT.csv SIZE_MB
    import sys

    out, mb = sys.argv[1], float(sys.argv[2])
    print(write(out, target_bytes=int(mb * 1024**2)), "lignes")
