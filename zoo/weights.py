"""The portable weights file: one msgpack file with a model's parameters and its resolved recipe.

What `zoo export` writes and shipped models are: the parameters only (no optimizer state), the
self-describing payload of ``zoo.provenance`` (the resolved recipe, the plugins behind each
part, every parameter's shape) and two SHA-256 digests, of the parameters and of the payload,
checked at every load. A truncated or altered file is a ``WeightsError`` naming the file, never
a crash or a silently different model. ``flax.serialization`` writes the arrays (msgpack,
already a dependency of Flax); the file's own SHA-256 (``sha256sum FILE``) is what a model
registration records.
"""

from __future__ import annotations

import hashlib
import json
from collections.abc import Mapping
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import jax
import msgpack
import numpy as np
from flax import serialization

from zoo import atomic
from zoo.errors import ZooError
from zoo.provenance import param_shapes, path_name

FORMAT = "zoo-weights"
VERSION = 1
SUFFIX = ".zoo"
"""The suffix `zoo export` suggests; any name is read by content, not by suffix."""


class WeightsError(ZooError):
    """A weights file that cannot be used: not one, truncated, altered, or a newer version."""


@dataclass(frozen=True)
class WeightsFile:
    """A weights file read and checked: its payload, the parameter bytes and their digest."""

    path: str
    payload: dict[str, Any]
    digest: str
    """SHA-256 of the serialised parameters (the same for the run step it was exported from)."""
    _params: bytes

    def arrays(self) -> dict[str, np.ndarray]:
        """Dotted parameter path -> array."""
        try:
            flat = serialization.msgpack_restore(self._params)
        except Exception as exc:
            raise WeightsError(f"{self.path}: the parameters cannot be decoded ({exc}).") from None
        return {str(name): np.asarray(value) for name, value in flat.items()}


def flat_arrays(params: Any) -> dict[str, np.ndarray]:
    """Dotted parameter path -> array (on the host), sorted by path."""
    flat = {
        path_name(path): np.asarray(leaf)
        for path, leaf in jax.tree_util.tree_leaves_with_path(params)
    }
    return dict(sorted(flat.items()))


def params_bytes(params: Any) -> bytes:
    """The canonical serialisation of a parameter tree: dotted path -> array, sorted."""
    return serialization.msgpack_serialize(flat_arrays(params))


def digest_of(params: Any) -> str:
    """The SHA-256 that a weights file of these parameters records (``params_sha256``)."""
    return hashlib.sha256(params_bytes(params)).hexdigest()


def file_sha256(path: str | Path) -> str:
    """The SHA-256 of the whole file, as ``sha256sum`` prints it."""
    digest = hashlib.sha256()
    with open(path, "rb") as handle:
        for block in iter(lambda: handle.read(1 << 20), b""):
            digest.update(block)
    return digest.hexdigest()


def write(path: str | Path, payload: Mapping[str, Any], params: Any) -> str:
    """Write ``params`` and ``payload`` to ``path`` atomically; returns the parameters' digest."""
    blob = params_bytes(params)
    text = json.dumps(dict(payload, params=param_shapes(params)), sort_keys=True, allow_nan=False)
    digest = hashlib.sha256(blob).hexdigest()
    content = msgpack.packb(
        {
            "format": FORMAT,
            "version": VERSION,
            "payload": text,
            "payload_sha256": hashlib.sha256(text.encode()).hexdigest(),
            "params": blob,
            "params_sha256": digest,
        },
        use_bin_type=True,
    )
    atomic.write_with(Path(path), lambda handle: handle.write(content))
    return digest


def read(path: str | Path, *, data: bytes | None = None) -> WeightsFile:
    """Read and check a weights file (or its bytes, ``data``, named ``path`` in errors)."""
    where = str(path)
    if data is None:
        data = Path(path).read_bytes()
    try:
        outer = msgpack.unpackb(data, raw=False)
    except Exception:
        outer = None
    if not isinstance(outer, dict) or outer.get("format") != FORMAT:
        raise WeightsError(
            f"{where}: not a zoo weights file, or a truncated one (it does not decode as one); "
            "write it again with `zoo export RUN -o FILE`."
        )
    if outer.get("version") != VERSION:
        raise WeightsError(
            f"{where}: weights file version {outer.get('version')!r}; this zoo reads version "
            f"{VERSION}. Upgrade zoo (pip install -U zoo-sr) to read it."
        )
    text, blob = outer.get("payload"), outer.get("params")
    if not isinstance(text, str) or not isinstance(blob, bytes):
        raise WeightsError(f"{where}: the weights file lacks its payload or its parameters.")
    digest = hashlib.sha256(blob).hexdigest()
    if digest != outer.get("params_sha256"):
        raise WeightsError(
            f"{where}: the parameters do not match their SHA-256 (the file was altered or "
            "damaged); get the file again."
        )
    if hashlib.sha256(text.encode()).hexdigest() != outer.get("payload_sha256"):
        raise WeightsError(
            f"{where}: the recipe inside does not match its SHA-256 (the file was altered or "
            "damaged); get the file again."
        )
    return WeightsFile(where, json.loads(text), digest, blob)


def is_weights_file(path: str | Path) -> bool:
    """Whether ``path`` is a file that starts like a weights file (a msgpack map)."""
    candidate = Path(path)
    if not candidate.is_file():
        return False
    with open(candidate, "rb") as handle:
        head = handle.read(1)
    return bool(head) and (head[0] & 0xF0 == 0x80 or head[0] in (0xDE, 0xDF))
