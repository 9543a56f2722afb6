"""Training logs: the recipe's loggers (plugins, ``log:``), opened on process 0 and fed by the loop.

The loop hands over each logged history entry (``loss``, ``eval_psnr``) with the learning rate
and the step time; loggers get them as TensorBoard-style tags (``train/loss``, ``eval/psnr``)
and, at each evaluation, the side-by-side crops of the first images as pictures.
"""

from __future__ import annotations

import contextlib
import time
from collections.abc import Iterator, Mapping
from pathlib import Path
from typing import Any

import numpy as np

from zoo import distributed
from zoo.assemble import Parts
from zoo.errors import RecipeError
from zoo.evaluate import EvalSet, Evaluation
from zoo.types import Logger

FOLDER = "logs"
IMAGES = 2
"""Evaluation images whose crops are logged at each evaluation."""


def tags(entry: Mapping[str, float]) -> dict[str, float]:
    """History names -> logger tags: ``loss`` -> ``train/loss``, ``val_psnr`` -> ``val/psnr``."""
    out = {}
    for name, value in entry.items():
        if name == "step":
            continue
        group, _, metric = name.partition("_")
        out[f"{group}/{metric}" if group in ("eval", "val") and metric else f"train/{name}"] = value
    return out


class Logs:
    """Every logger of the run; the last step's entry waits for the final evaluation."""

    def __init__(self, loggers: list[Logger]) -> None:
        self.loggers = loggers
        self._held: tuple[dict[str, Any], dict[str, float]] | None = None

    def entry(
        self, entry: Mapping[str, Any], extra: Mapping[str, float], *, hold: bool = False
    ) -> None:
        """Log one history entry; ``extra`` are more train/ scalars (``learning_rate``)."""
        if hold:
            self._held = (dict(entry), dict(extra))
            return
        values = {**tags(entry), **{f"train/{name}": value for name, value in extra.items()}}
        for logger in self.loggers:
            logger.scalars(int(entry["step"]), values)

    def finish(self, final: Mapping[str, float]) -> None:
        """The held last step, with the final evaluation's numbers."""
        if self._held is not None:
            entry, extra = self._held
            self._held = None
            self.entry({**entry, **final}, extra)

    def images(self, step: int, images: Mapping[str, np.ndarray]) -> None:
        for logger in self.loggers:
            logger.images(step, images)

    def close(self) -> None:
        for logger in self.loggers:
            logger.close()


def open_logs(parts: Parts, workdir: Path, start_step: int) -> Logs:
    """The recipe's loggers under ``workdir/logs`` on process 0; none on the others."""
    if not distributed.is_main():
        return Logs([])
    directory = Path(workdir) / FOLDER
    directory.mkdir(parents=True, exist_ok=True)
    loggers = []
    for index, reference in enumerate(parts.recipe.log):
        try:
            loggers.append(
                parts.registry.build(
                    "loggers",
                    reference.name,
                    reference.options,
                    directory=directory,
                    start_step=start_step,
                )
            )
        except ValueError as exc:
            for logger in loggers:
                logger.close()
            raise RecipeError(f"log[{index}] ({reference.name}): {exc}") from None
    return Logs(loggers)


class StepClock:
    """Seconds per step between logged steps (the loop reads the loss there, so the steps
    before it have finished); the first interval includes compiling the step."""

    def __init__(self, step: int) -> None:
        self.step = step
        self.time = time.perf_counter()

    @contextlib.contextmanager
    def paused(self) -> Iterator[None]:
        """Time spent here (a periodic evaluation) is not step time."""
        start = time.perf_counter()
        try:
            yield
        finally:
            self.time += time.perf_counter() - start

    def seconds_per_step(self, step: int) -> float:
        now = time.perf_counter()
        seconds = (now - self.time) / max(1, step - self.step)
        self.step, self.time = step, now
        return seconds


def pictures(evaluation: Evaluation, images: EvalSet, prefix: str) -> dict[str, np.ndarray]:
    """The side-by-side crops of the first evaluation images, by tag (``eval/baby.png``)."""
    from zoo.report.crops import side_by_side

    out = {}
    for index in range(min(IMAGES, len(images.names))):
        picture = side_by_side(evaluation, index, images.lr[index], images.hr[index])
        if picture is not None:
            out[f"{prefix}/{images.names[index]}"] = picture
    return out
