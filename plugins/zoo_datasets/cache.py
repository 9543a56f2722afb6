"""The on-disk cache of prepared datasets: where it lives, and entries that appear atomically."""

from __future__ import annotations

import os
import shutil
import tempfile
import time
from collections.abc import Callable, Sequence
from pathlib import Path
from typing import Any

from zoo.plugin import DataError

ENV_DATA_DIR = "ZOO_DATA_DIR"
DEFAULT_DATA_DIR = "~/.cache/zoo/tfds"
TEMPORARY_PREFIX = ".tmp-"
# Temporaries this old belong to a process that died mid-preparation; younger ones may be live.
_STALE_SECONDS = 24 * 3600


def data_root() -> Path:
    """``$ZOO_DATA_DIR``, else ``~/.cache/zoo/tfds``."""
    return Path(os.environ.get(ENV_DATA_DIR) or DEFAULT_DATA_DIR).expanduser()


def open_cached(
    dataset: str, key: str, items: Callable[[], Sequence[Any]], description: str
) -> tuple[Sequence[Any], tuple[str, ...], Path]:
    """The records and names of cache entry ``<root>/<dataset>/<key>``, preparing it if absent.

    ``items()`` (only called to prepare) lists ``(name, load)`` pairs; ``load()`` returns the
    uint8 RGB image. Returns the random-access records, the stored names and the entry directory.
    """
    # TFDS takes ~0.4 s to import: pay it when data is used, not whenever plugins are listed.
    from zoo_datasets import builder

    def prepare(directory: Path) -> None:
        builder.write(directory, items(), description)

    entry = ensure(data_root() / dataset / key, prepare)
    records, names = builder.read(entry)
    return records, names, entry


def ensure(entry: Path, prepare: Callable[[Path], None]) -> Path:
    """``entry``, first made by ``prepare(directory)`` when it does not exist.

    ``prepare`` writes into a fresh temporary sibling that is renamed to ``entry`` only once it
    has finished, so an entry is complete or absent: an error, Ctrl-C or crash midway leaves no
    entry and the next call prepares again. Of two processes racing, the first rename wins.
    """
    if entry.is_dir():
        return entry
    temporary = _temporary_sibling(entry)
    try:
        prepare(temporary)
        _rename(temporary, entry)
    finally:
        shutil.rmtree(temporary, ignore_errors=True)
    return entry


def _temporary_sibling(entry: Path) -> Path:
    try:
        entry.parent.mkdir(parents=True, exist_ok=True)
        _sweep_stale_temporaries(entry.parent)
        return Path(tempfile.mkdtemp(prefix=f"{TEMPORARY_PREFIX}{entry.name}-", dir=entry.parent))
    except OSError as exc:
        raise DataError(
            f"cannot write the dataset cache in {entry.parent} ({exc}). Set {ENV_DATA_DIR} to a "
            "writable directory."
        ) from exc


def _rename(source: Path, target: Path) -> None:
    try:
        os.rename(source, target)  # atomic within one filesystem, which a sibling guarantees
    except OSError:
        if not target.is_dir():  # anything but another process having finished first
            raise


def _sweep_stale_temporaries(parent: Path) -> None:
    cutoff = time.time() - _STALE_SECONDS
    for path in parent.glob(f"{TEMPORARY_PREFIX}*"):
        try:
            if path.stat().st_mtime < cutoff:
                shutil.rmtree(path, ignore_errors=True)
        except OSError:
            continue  # another process swept it first
