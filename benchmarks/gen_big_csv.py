"""Generate large exports for the memory and kill -9 tests, in several formats.

Formats (``FORMATS``): ``youtube`` (YouTube Data API comment threads, the default),
``exportcomments`` (ExportComments.com Facebook CSV with its banner), ``minet_fb`` (minet fb
comments), ``crowdtangle`` (minet ct posts). Fictional authors and texts, one distinct record per
row. Rows are written in blocks: generating 1 GB needs no more memory than generating 1 MB.
"""

from __future__ import annotations

import csv
import random
from collections.abc import Callable, Iterator
from datetime import datetime, timedelta
from pathlib import Path

HEADER = ["videoId", "textDisplay", "textOriginal", "authorDisplayName", "authorProfileImageUrl",
          "authorChannelUrl", "authorChannelId", "canRate", "viewerRating", "publishedAt", "updatedAt",
          "commentLikeCount", "title", "viewCount", "likeCount", "commentCount", "videoPublishedAt",
          "channelId", "textClean"]
WORDS = ("piscine travaux marché école parking vélo bus concert festival mairie quartier rue place "
         "propreté sécurité bravo merci dommage attente horaires fermeture ouverture nouveau").split()
T0 = datetime(2025, 1, 1)
PAGE = "104857600000001"  # Saint-Aubin's Facebook page (data/territories.toml)


def _text(rnd: random.Random, i: int) -> str:
    return f"Commentaire {i} : " + " ".join(rnd.choice(WORDS) for _ in range(rnd.randint(6, 40)))


def rows(n: int, seed: int = 0, start: int = 0) -> Iterator[list[str]]:
    """``n`` YouTube comment rows, row ``i`` published ``i`` seconds after 1 January 2025 (distinct)."""
    rnd = random.Random(seed)
    for i in range(start, start + n):
        text = _text(rnd, i)
        author = f"UCfan{i % 50000:019d}"
        at = (T0 + timedelta(seconds=i)).strftime("%Y-%m-%dT%H:%M:%SZ")  # 1 GB stays within 16 days
        vid = f"vidSaintA{i % 200:02d}"
        yield [vid, text, text, f"Habitant {i % 50000}", "", f"http://www.youtube.com/channel/{author}", author,
               "True", "none", at, at, str(i % 7), f"Vidéo {i % 200}", "1520", "88", "2",
               "2024-12-31T17:00:00Z", "UCsaintaubin00000000001", text.lower()]


EC_HEAD = [["ExportComments.com"], ["Source URL", f"https://www.facebook.com/{PAGE}_2000000000000001"], [],
           ["(#)", "Name (click to view profile)", "Profile ID", "Date", "Likes", "Comment", "(view source)"]]


def exportcomments_rows(n: int, seed: int = 0, start: int = 0) -> Iterator[list[str]]:
    """ExportComments Facebook comments of one post: ``dd/mm/yy`` dates, comment id in the link."""
    rnd = random.Random(seed)
    for i in range(start, start + n):
        at = (T0 + timedelta(seconds=i)).strftime("%d/%m/%y %H:%M:%S")
        link = f"https://www.facebook.com/{PAGE}_2000000000000001?comment_id={3 * 10**15 + i}"
        yield [str(i + 1), f"Habitant {i % 50000}", f"ID: {700000000 + i % 50000}", at, str(i % 7),
               _text(rnd, i), link]


MINET_FB_HEADER = ["id", "fbid", "depth", "parent_id", "author_name", "author_short_name", "author_gender",
                   "author_url", "author_is_verified", "created_time", "text", "reactions", "replies"]


def minet_fb_rows(n: int, seed: int = 0, start: int = 0) -> Iterator[list[str]]:
    """minet fb comments (new column set); every 5th row answers the row before it."""
    rnd = random.Random(seed)
    t0 = int(T0.timestamp())
    for i in range(start, start + n):
        reply = i % 5 == 4
        yield [f"c{i}", str(4 * 10**15 + i), "1" if reply else "0", f"c{i - 1}" if reply else "",
               f"Habitant {i % 50000}", "H", "", f"https://www.facebook.com/profile.php?id={700000000 + i % 50000}",
               "0", str(t0 + i), _text(rnd, i), str(i % 9), "0"]


CT_HEADER = ["ct_id", "id", "platform_id", "platform", "type", "message", "date", "datetime", "post_url",
             "subscriber_count", "actual_like_count", "actual_share_count", "actual_comment_count",
             "account_name", "account_handle", "account_platform", "account_platform_id"]


def crowdtangle_rows(n: int, seed: int = 0, start: int = 0) -> Iterator[list[str]]:
    """minet ``ct posts``: posts of 500 fictional pages, one post per row."""
    rnd = random.Random(seed)
    for i in range(start, start + n):
        page = 104857700000000 + i % 500
        post = 7 * 10**15 + i
        at = T0 + timedelta(seconds=i)
        yield [f"{page}|{post}", str(i), f"{page}_{post}", "Facebook", "photo", _text(rnd, i),
               at.strftime("%Y-%m-%d %H:%M:%S"), at.strftime("%Y-%m-%dT%H:%M:%S"),
               f"https://www.facebook.com/page{i % 500}/posts/{post}", "8000", str(i % 300), str(i % 11),
               str(i % 17), f"Page fictive {i % 500}", f"page{i % 500}", "Facebook", str(page)]


# format -> (records written before the rows, row generator, --account for the import)
FORMATS: dict[str, tuple[list[list[str]], Callable[..., Iterator[list[str]]], str | None]] = {
    "youtube": ([HEADER], rows, "youtube:UCsaintaubin00000000001"),
    "exportcomments": (EC_HEAD, exportcomments_rows, f"facebook:{PAGE}"),
    "minet_fb": ([MINET_FB_HEADER], minet_fb_rows, f"facebook:{PAGE}"),
    "crowdtangle": ([CT_HEADER], crowdtangle_rows, None),
}


def write(path: str | Path, n: int | None = None, target_bytes: int | None = None, seed: int = 0,
          start: int = 0, fmt: str = "youtube") -> int:
    """Write ``n`` rows (or rows until ``target_bytes``) of ``fmt``; returns the number of rows written."""
    head, gen_rows, _ = FORMATS[fmt]
    p = Path(path)
    written = 0
    with open(p, "w", encoding="utf-8", newline="") as fh:
        w = csv.writer(fh)
        w.writerows(head)
        for r in gen_rows(n if n is not None else 10**10, seed, start):
            w.writerow(r)
            written += 1
            if target_bytes is not None and written % 1000 == 0 and fh.tell() >= target_bytes:
                break
    return written


if __name__ == "__main__":  # python -m benchmarks.gen_big_csv OUT.csv SIZE_MB [FORMAT]
    import sys

    out, mb = sys.argv[1], float(sys.argv[2])
    print(write(out, target_bytes=int(mb * 1024**2), fmt=sys.argv[3] if len(sys.argv) > 3 else "youtube"), "lignes")
