"""Import throughput of the comment and X adapters on synthetic files (not a timed test).

    .venv/bin/python benchmarks/bench_ingest_comments_x.py [N]   # default N = 200 000 rows per format

Writes a minet ``fb comments`` CSV and twarc2 search pages of N rows each in a temporary
folder, then imports each into a fresh store and prints CPU and wall seconds. CPU time is the
figure to compare on a shared machine.
"""

from __future__ import annotations

import csv
import json
import os
import random
import sys
import tempfile
import time
from pathlib import Path

os.environ.setdefault("VIGIE_PSEUDONYM_KEY", "benchmark-key-not-secret")


def write_minet(path: Path, n: int, rng: random.Random) -> None:
    with open(path, "w", newline="", encoding="utf-8") as f:
        w = csv.writer(f)
        w.writerow(["post_id", "id", "user_id", "user_handle", "user_url", "user_label", "text", "html",
                    "formatted_date", "date", "reactions", "replies", "in_reply_to"])
        for i in range(n):
            u = rng.randint(1, max(1, n // 10))
            w.writerow(["2000000000000001", str(5_000_000_000_000_000 + i), str(700_000_000 + u), f"user{u}",
                        f"https://www.facebook.com/user{u}", f"Nom {u}",
                        f"Commentaire {i} sur la piscine et les travaux", "", "",
                        f"2025-{1 + i % 12:02d}-{1 + i % 28:02d}T{i % 24:02d}:{i % 60:02d}:00", str(i % 7), "0",
                        "" if i % 5 else str(5_000_000_000_000_000 + i - 1)])


def write_twarc(path: Path, n: int, rng: random.Random) -> None:
    with open(path, "w", encoding="utf-8") as f:
        for p in range(0, n, 100):
            data, users = [], {}
            for i in range(p, min(n, p + 100)):
                u = str(555_000_000 + rng.randint(1, max(1, n // 10)))
                data.append({"id": str(1_900_000_000_000_000_000 + i), "author_id": u,
                             "text": f"@SaintAubinLoire question {i} sur les bus",
                             "created_at": f"2025-{1 + i % 12:02d}-{1 + i % 28:02d}T{i % 24:02d}:00:00.000Z",
                             "lang": "fr", "public_metrics": {"retweet_count": 0, "reply_count": 0,
                                                              "like_count": i % 5, "quote_count": 0},
                             "referenced_tweets": [{"type": "replied_to", "id": "1800000000000000001"}],
                             "in_reply_to_user_id": "900000000000000001"})
                users[u] = {"id": u, "username": f"user{u}", "name": f"Nom {u}"}
            f.write(json.dumps({"data": data, "includes": {"users": list(users.values())}, "meta": {},
                                "__twarc": {}}) + "\n")


def main(n: int) -> None:
    from analysis import store
    from analysis.ingest import default_context, import_paths

    rng = random.Random(1)
    with tempfile.TemporaryDirectory() as d:
        files = [Path(d) / "minet_fb_comments.csv", Path(d) / "twarc_search.jsonl"]
        write_minet(files[0], n, rng)
        write_twarc(files[1], n, rng)
        ctx = default_context(account_hint="facebook:104857600000001")
        for f in files:
            con = store.connect(Path(d) / f"{f.stem}.duckdb")
            c0, w0 = time.process_time(), time.perf_counter()
            (r,) = import_paths(con, [f], ctx)
            c1, w1 = time.process_time(), time.perf_counter()
            con.close()
            print(f"{f.name:24} {r.format:18} {r.status} rows={r.rows_read:,} inserted={r.inserted:,} "
                  f"CPU={c1 - c0:.1f}s wall={w1 - w0:.1f}s")


if __name__ == "__main__":
    main(int(sys.argv[1]) if len(sys.argv) > 1 else 200_000)
