"""Large CSV files in bounded memory: split a file into chunk files of N records, each parsed
by the same adapter inside the file's one transaction (still all or nothing).

Only for adapters that declare ``streamable = True``: their rows are independent of each other
(one record per row) and nothing in a row refers to another row of the file. The header is the
first record, unless the adapter has a ``stream_header(probe, ctx) -> int | None`` method: it
returns the index of the header record (the banner records above it are copied at the top of
every chunk, so each chunk reads like a small export of the same file), or None when this file
(or this context) needs the whole file at once. Parsing then costs the memory of one chunk.
"""

from __future__ import annotations

import csv
import io
import tempfile
from collections.abc import Iterator
from pathlib import Path

from analysis.ingest.base import ImportFailure
from analysis.ingest.sniff import Probe

STREAM_THRESHOLD = 64 * 1024**2  # files above this size are imported in chunks
ROWS_PER_CHUNK = 20_000


def header_index(adapter: object, p: Probe, ctx: object = None) -> int | None:
    """Index of the header record of ``p`` for chunking, None when ``adapter`` cannot stream it."""
    if not getattr(adapter, "streamable", False):
        return None
    hook = getattr(adapter, "stream_header", None)
    return 0 if hook is None else hook(p, ctx)


def wants_chunks(adapter: object, p: Probe, threshold: int | None = None, ctx: object = None) -> bool:
    """True when the file is big, a plain CSV (no ``sep=`` line) and the adapter can stream it."""
    limit = STREAM_THRESHOLD if threshold is None else threshold
    if p.kind != "csv" or p.size <= limit:
        return False
    if (p.text_head or "").lstrip("\ufeff").lower().startswith("sep="):
        return False
    return header_index(adapter, p, ctx) is not None


def csv_chunks(p: Probe, rows_per_chunk: int | None = None, header_at: int = 0) -> Iterator[tuple[Path, int]]:
    """Yield ``(chunk file, line offset)``: each chunk is the file's first ``header_at + 1``
    records (banner and header) plus up to ``rows_per_chunk`` records, written as UTF-8;
    ``offset`` turns a chunk's line numbers back into the file's.

    The source is decoded and parsed as a stream (``csv.reader`` over the open file), so
    quoted fields spanning lines stay whole; one chunk is on disk at a time.
    """
    rows_per_chunk = rows_per_chunk or ROWS_PER_CHUNK
    delim = p.delimiter or ","
    enc = p.encoding or "utf-8"
    with tempfile.TemporaryDirectory(prefix="vigie-chunks-") as tmp, \
            open(p.path, encoding=enc, errors="strict", newline="") as src:
        reader = csv.reader(src, delimiter=delim)
        head: list[list[str]] = []
        try:
            for _ in range(header_at + 1):
                head.append(next(reader))
        except StopIteration:
            return
        except (csv.Error, UnicodeDecodeError) as e:
            raise ImportFailure(f"CSV mal formé : {e}", line=reader.line_num or 1) from e
        buf = io.StringIO()
        csv.writer(buf, delimiter=delim, lineterminator="\n").writerows(head)
        head_text = buf.getvalue()
        head_lines = head_text.count("\n")  # physical lines of banner + header in a chunk
        k = 0
        done = False
        while not done:
            path = Path(tmp) / f"chunk_{k:05d}.csv"
            first_line = reader.line_num + 1  # physical line of the chunk's first record
            n = 0
            with open(path, "w", encoding="utf-8", newline="") as out:
                out.write(head_text)
                w = csv.writer(out, delimiter=delim, lineterminator="\n")
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
                # the chunk's first record is on its line head_lines + 1
                yield path, first_line - head_lines - 1
            path.unlink()
            k += 1
