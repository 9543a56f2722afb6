"""Checkpoints: the only package that imports Orbax.

A checkpoint holds the full training state (model parameters, optimizer state, step, PRNG key,
data position) and, beside it, the resolved recipe with the plugin versions, so a run directory
alone is enough to resume training or rebuild the model for inference. Orbax writes each step
into a temporary directory and renames it when complete, so an interrupted save never leaves a
checkpoint that looks whole. ``manager`` opens and lists, and says which step ``best``, ``last``
or a number means (``select_step``); ``save`` writes (a refused write is one
``CheckpointWriteError``), ``restore`` reads back (damaged steps are passed over).
"""

from __future__ import annotations

from zoo.checkpoint.manager import (
    CheckpointError,
    Policy,
    StepRule,
    best_step,
    checkpoint_dir,
    default_step_rule,
    latest_step,
    open_manager,
    policy_for,
    select_step,
)
from zoo.checkpoint.restore import (
    DamagedCheckpoint,
    Loaded,
    load,
    read_recipe,
    restore,
    set_aside,
)
from zoo.checkpoint.save import (
    CheckpointWriteError,
    _QuietFailedSave,
    _Unreadable,
    _write_failure,
    finish,
    save,
    wait,
)

__all__ = [
    "CheckpointError",
    "CheckpointWriteError",
    "DamagedCheckpoint",
    "Loaded",
    "Policy",
    "StepRule",
    "_QuietFailedSave",
    "_Unreadable",
    "_write_failure",
    "best_step",
    "checkpoint_dir",
    "default_step_rule",
    "finish",
    "latest_step",
    "load",
    "open_manager",
    "policy_for",
    "read_recipe",
    "restore",
    "save",
    "select_step",
    "set_aside",
    "wait",
]
