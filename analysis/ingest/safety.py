"""Defences for archives: path traversal and decompression bombs (xlsx and zip are zips)."""

from __future__ import annotations

import zipfile
from pathlib import Path, PurePosixPath

from analysis.fmt import fr_int
from analysis.ingest.base import ImportFailure

MAX_UNCOMPRESSED = 2 * 1024**3  # 2 GiB in total
MAX_RATIO = 200  # uncompressed / compressed, per member
MAX_MEMBERS = 20000


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
        if info.compress_size and info.file_size / max(info.compress_size, 1) > MAX_RATIO and info.file_size > 10 * 1024**2:
            raise ImportFailure(
                f"Archive refusée : « {info.filename} » se décompresse {fr_int(info.file_size // max(info.compress_size, 1))} fois "
                f"(bombe de décompression ?) dans {path}"
            )
    if total > MAX_UNCOMPRESSED:
        raise ImportFailure(f"Archive refusée : {total / 1024**3:.1f} Gio une fois décompressée dans {path}")
    return infos
