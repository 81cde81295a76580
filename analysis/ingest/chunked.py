"""Large CSV files in bounded memory: split a file into chunk files of N records, each parsed
by the same adapter inside the file's one transaction (still all or nothing).

Only for adapters that declare ``streamable = True``: their rows are independent of each other
(one comment per row), the header is the first record, and nothing in a row refers to another
row of the file. Parsing then costs the memory of one chunk instead of the whole file.
"""

from __future__ import annotations

import csv
import tempfile
from collections.abc import Iterator
from pathlib import Path

from analysis.ingest.base import ImportFailure
from analysis.ingest.sniff import Probe

STREAM_THRESHOLD = 64 * 1024**2  # files above this size are imported in chunks
ROWS_PER_CHUNK = 20_000


def wants_chunks(adapter: object, p: Probe, threshold: int | None = None) -> bool:
    """True when the file is big, a plain CSV (no ``sep=`` line) and the adapter is streamable."""
    limit = STREAM_THRESHOLD if threshold is None else threshold
    if not getattr(adapter, "streamable", False) or p.kind != "csv" or p.size <= limit:
        return False
    return not (p.text_head or "").lstrip("\ufeff").lower().startswith("sep=")


def csv_chunks(p: Probe, rows_per_chunk: int | None = None) -> Iterator[tuple[Path, int]]:
    """Yield ``(chunk file, line offset)``: each chunk is the header plus up to ``rows_per_chunk``
    records, written as UTF-8; ``offset`` turns a chunk's line numbers back into the file's.

    The source is decoded and parsed as a stream (``csv.reader`` over the open file), so
    quoted fields spanning lines stay whole; one chunk is on disk at a time.
    """
    rows_per_chunk = rows_per_chunk or ROWS_PER_CHUNK
    delim = p.delimiter or ","
    enc = p.encoding or "utf-8"
    with tempfile.TemporaryDirectory(prefix="vigie-chunks-") as tmp, \
            open(p.path, encoding=enc, errors="strict", newline="") as src:
        reader = csv.reader(src, delimiter=delim)
        try:
            header = next(reader)
        except StopIteration:
            return
        except (csv.Error, UnicodeDecodeError) as e:
            raise ImportFailure(f"CSV mal formé : {e}", line=1) from e
        k = 0
        done = False
        while not done:
            path = Path(tmp) / f"chunk_{k:05d}.csv"
            first_line = reader.line_num + 1  # physical line of the chunk's first record
            n = 0
            with open(path, "w", encoding="utf-8", newline="") as out:
                w = csv.writer(out, delimiter=delim, lineterminator="\n")
                w.writerow(header)
                try:
                    for row in reader:
                        w.writerow(row)
                        n += 1
                        if n >= rows_per_chunk:
                            break
                    else:
                        done = True
                except (csv.Error, UnicodeDecodeError) as e:
                    raise ImportFailure(f"CSV mal formé : {e}", line=reader.line_num) from e
            if n:
                # the chunk's first record is on its line 2 (after a one-line header)
                yield path, first_line - 2
            path.unlink()
            k += 1
