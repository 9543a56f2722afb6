"""Orbax, imported on its first use: reading a weights file or a shipped model never needs it.

``import orbax.checkpoint`` costs about 0.15 s of a 2 s ``zoo.load`` on a 2-core CPU, and only
run directories (training, resuming, ``--checkpoint RUN``) use it. Type checkers see the module
itself, so annotations such as ``ocp.CheckpointManager`` stay checked.
"""

from __future__ import annotations

import importlib
from typing import TYPE_CHECKING, Any


class _OnFirstUse:
    """A module that is imported when one of its attributes is first read."""

    def __init__(self, name: str) -> None:
        self._name = name

    def __getattr__(self, attribute: str) -> Any:
        return getattr(importlib.import_module(self._name), attribute)  # sys.modules after once


if TYPE_CHECKING:
    import orbax.checkpoint as ocp
    from orbax.checkpoint import checkpoint_managers as policies
else:
    ocp = _OnFirstUse("orbax.checkpoint")
    policies = _OnFirstUse("orbax.checkpoint.checkpoint_managers")

# Orbax's suffix for a step folder still being written (ocp.path.step.TMP_DIR_SUFFIX, which a
# test compares), known without importing Orbax.
TMP_DIR_SUFFIX = ".orbax-checkpoint-tmp"
