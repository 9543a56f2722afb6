"""Files that appear whole or not at all: write a sibling temporary, flush it to disk, rename."""

from __future__ import annotations

import contextlib
import json
import math
import os
from collections.abc import Callable
from pathlib import Path
from typing import Any, BinaryIO

from zoo.errors import WriteError


def write_with(path: Path, write: Callable[[BinaryIO], object]) -> None:
    """Replace ``path`` with what ``write(handle)`` writes: a reader, or a crash, sees the old
    file or the new one, never part of one.

    The temporary sits beside the target, so the rename stays on one filesystem, and it is
    removed when writing fails (a full disk, Ctrl-C), so nothing half-written is left behind.
    An ``OSError`` (no space, no permission, a read-only filesystem) becomes a ``WriteError``
    naming ``path`` and the reason; it is still an ``OSError``.
    """
    path = Path(path)
    # A plain open (not mkstemp) so the file gets the umask's usual permissions.
    temporary = path.with_name(f".{path.name}.{os.getpid()}.tmp")
    try:
        with open(temporary, "wb") as handle:
            write(handle)
            handle.flush()
            os.fsync(handle.fileno())
        os.replace(temporary, path)
    except BaseException as exc:
        with contextlib.suppress(OSError):  # the folder may refuse this too; the cause matters
            temporary.unlink(missing_ok=True)
        if isinstance(exc, OSError) and not isinstance(exc, WriteError):
            raise WriteError(path, exc) from exc
        raise


def write_text(path: Path, text: str) -> None:
    """Replace ``path`` with ``text`` (UTF-8), atomically."""
    data = text.encode("utf-8")
    write_with(path, lambda handle: handle.write(data))


def write_json(path: Path, payload: Any) -> None:
    """``payload`` as indented strict JSON (non-finite floats become null), written atomically."""
    text = json.dumps(strict_json(payload), indent=2, default=float, allow_nan=False)
    write_text(path, text + "\n")


def strict_json(payload: Any) -> Any:
    """``payload`` with non-finite floats as null: strict JSON has no Infinity (PSNR of an exact
    copy) or NaN, and tools such as jq reject them."""
    if isinstance(payload, float):
        return payload if math.isfinite(payload) else None
    if isinstance(payload, dict):
        return {key: strict_json(value) for key, value in payload.items()}
    if isinstance(payload, list | tuple):
        return [strict_json(value) for value in payload]
    return payload
