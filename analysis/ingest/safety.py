"""Defences for archives: path traversal and decompression bombs (xlsx and zip are zips).

A bomb is judged on the central directory, before anything is inflated:

- a member inflating more than :data:`MAX_RATIO` times (from :data:`MEMBER_FLOOR` up);
- the whole archive inflating more than :data:`MAX_RATIO` times its size on disk (from
  :data:`ARCHIVE_FLOOR` up): a bomb split into many members, each under the member rule (201 members
  of exactly 10 MiB of zeros passed the old per-member test, ``> 10 MiB``, and inflated to 2 GB),
  is caught here, and padding it with incompressible members costs the attacker as many bytes on
  disk as it buys;
- more than :data:`MAX_UNCOMPRESSED` in total, or more than :data:`MAX_MEMBERS` members.

Real exports stay far below: X archives hold already-compressed media (ratio about 1) and
tweets.js (about 10), workbooks' XML 10 to 50.
"""

from __future__ import annotations

import zipfile
from pathlib import Path, PurePosixPath

from analysis.fmt import fr_int
from analysis.ingest.errors import ImportFailure

MAX_UNCOMPRESSED = 2 * 1024**3  # 2 GiB in total
MAX_RATIO = 200  # uncompressed / compressed, per member and for the whole archive
MEMBER_FLOOR = 1024**2  # the per-member ratio applies from 1 MiB inflated
ARCHIVE_FLOOR = 64 * 1024**2  # the archive's ratio applies from 64 MiB inflated
MAX_MEMBERS = 20000


def _bomb(path: str | Path, what: str, ratio: int) -> ImportFailure:
    return ImportFailure(f"Archive refusée : {what} se décompresse {fr_int(ratio)} fois (bombe de décompression ?) "
                         f"dans {path}")


def check_zip(path: str | Path) -> list[zipfile.ZipInfo]:
    """Refuse archives with absolute or ``..`` member names, too many members or a bomb ratio."""
    try:
        with zipfile.ZipFile(path) as z:
            infos = z.infolist()
    except zipfile.BadZipFile as e:
        raise ImportFailure(f"Archive ZIP corrompue : {path}") from e
    if len(infos) > MAX_MEMBERS:
        raise ImportFailure(f"Archive refusée : {fr_int(len(infos))} fichiers (maximum {fr_int(MAX_MEMBERS)}) dans {path}")
    total = 0
    for info in infos:
        name = PurePosixPath(info.filename.replace("\\", "/"))
        if name.is_absolute() or ".." in name.parts:
            raise ImportFailure(f"Archive refusée : chemin dangereux « {info.filename} » dans {path}")
        total += info.file_size
        ratio = info.file_size // max(info.compress_size, 1)
        if info.file_size >= MEMBER_FLOOR and ratio > MAX_RATIO:
            raise _bomb(path, f"« {info.filename} »", ratio)
    on_disk = max(Path(path).stat().st_size, 1)
    if total >= ARCHIVE_FLOOR and total // on_disk > MAX_RATIO:
        raise _bomb(path, f"l'archive ({fr_int(len(infos))} fichiers, {total / 1024**3:.1f} Gio au total)",
                    total // on_disk)
    if total > MAX_UNCOMPRESSED:
        raise ImportFailure(f"Archive refusée : {total / 1024**3:.1f} Gio une fois décompressée dans {path}")
    return infos
