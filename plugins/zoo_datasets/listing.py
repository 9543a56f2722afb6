"""Which files of a folder are images, what they are called, and the folder's content key."""

from __future__ import annotations

import hashlib
import os
from collections import Counter
from collections.abc import Sequence
from pathlib import Path

from zoo.plugin import IMAGE_EXTENSIONS, is_image_name

__all__ = ["IMAGE_EXTENSIONS", "content_key", "find_images", "image_names", "is_image_name"]

# Bump when the stored pixels for the same files would change (decoding, naming), which
# invalidates every folder cache.
FORMAT = 1


def find_images(root: Path, recursive: bool) -> list[Path]:
    """Image files in ``root`` (and its subfolders when ``recursive``), by relative path."""
    found = []
    for directory, subdirectories, files in os.walk(root):
        # Pruning in place stops os.walk from descending; hidden folders are skipped too.
        subdirectories[:] = (
            sorted(d for d in subdirectories if not d.startswith(".")) if recursive else []
        )
        found += [Path(directory, f) for f in files if is_image_name(f)]
    return sorted((p for p in found if p.is_file()), key=lambda p: p.relative_to(root).as_posix())


def image_names(root: Path, files: Sequence[Path]) -> list[str]:
    """Relative paths without their extension (``baboon``, ``sub/x``), the extension kept only
    where two files would otherwise share a name (``x.png``, ``x.jpg``)."""
    stems = [f.relative_to(root).with_suffix("").as_posix() for f in files]
    counts = Counter(stems)
    return [
        stem if counts[stem] == 1 else f.relative_to(root).as_posix()
        for stem, f in zip(stems, files, strict=True)
    ]


def content_key(root: Path, files: Sequence[Path]) -> str:
    """A hash of each image's relative path, size and modification time (ns).

    Stat data, not file bytes: hashing the bytes of a large folder (DIV2K is 3.5 GB) would cost
    seconds to minutes on every load, stat costs milliseconds. The price is that a file rewritten
    in place with the same size and the same mtime goes unnoticed (as with make or rsync);
    touching the file fixes that.
    """
    digest = hashlib.sha256(f"zoo folder format {FORMAT}\n".encode())
    for path in files:
        stat = path.stat()
        relative = path.relative_to(root).as_posix()
        digest.update(f"{relative}\t{stat.st_size}\t{stat.st_mtime_ns}\n".encode())
    return digest.hexdigest()[:16]
