"""Stopping a run whose loss or gradient stopped being finite, with what to do about it."""

from __future__ import annotations

import math
from typing import Any

from zoo.errors import ZooError
from zoo.recipe import Recipe
from zoo.state import State


class Diverged(ZooError):
    """The loss or a gradient stopped being finite (``train.on_nonfinite: stop``)."""

    exit_code = 3


def check_finite(
    state: State, recipe: Recipe, history: list[dict[str, float]], manager: Any
) -> None:
    """Stop with a clear message once a step was not finite, unless the recipe skips them."""
    first = int(state["first_nonfinite"])
    if first < 0 or recipe.train.on_nonfinite == "skip":
        return
    finite = [h for h in history if h["step"] < first and math.isfinite(h["loss"])]
    last = (
        f"last finite loss {finite[-1]['loss']:.6g} at step {finite[-1]['step']}"
        if finite
        else "no finite loss was logged"
    )
    kept = manager.latest_step()
    saved = (
        f"the latest checkpoint, step {kept}, holds the parameters from before it"
        if kept is not None
        else "no checkpoint was written"
    )
    raise Diverged(
        f"training diverged: the loss or a gradient was not finite at step {first} ({last}). "
        f"That step did not change the parameters and {saved}. Lower optimizer.learning_rate, "
        "set optimizer.clip_norm, check the loss weights and options, or set "
        "train.on_nonfinite: skip to skip such steps."
    )
