"""The tensorboard logger: event files under ``logs/tensorboard`` through tensorboardX.

tensorboardX writes TensorBoard's event format without TensorFlow; reading them needs only
``pip install tensorboard`` and ``tensorboard --logdir RUN/logs/tensorboard``.
"""

from __future__ import annotations

from collections.abc import Mapping
from pathlib import Path

import numpy as np

from zoo.plugin import Logger

FOLDER = "tensorboard"


class TensorBoard:
    def __init__(self, folder: Path, start_step: int, images: bool, flush_secs: int) -> None:
        from tensorboardX import SummaryWriter

        # purge_step hides events a resumed run logs again (those after its checkpoint).
        purge = start_step + 1 if start_step else None
        self.writer = SummaryWriter(str(folder), purge_step=purge, flush_secs=flush_secs)
        self.keep_images = images

    def scalars(self, step: int, values: Mapping[str, float]) -> None:
        for tag, value in values.items():
            self.writer.add_scalar(tag, float(value), step)

    def images(self, step: int, images: Mapping[str, np.ndarray]) -> None:
        if not self.keep_images:
            return
        for tag, image in images.items():
            self.writer.add_image(tag, np.asarray(image, np.uint8), step, dataformats="HWC")

    def close(self) -> None:
        self.writer.close()


def factory(
    *, directory: Path, start_step: int, images: bool = True, flush_secs: int = 30
) -> Logger:
    """``images``: also write the side-by-side crops of each evaluation; ``flush_secs``: how
    often events reach the disk while training (all of them when the run ends)."""
    if flush_secs < 1:
        raise ValueError(f"flush_secs must be at least 1 second, got {flush_secs}.")
    return TensorBoard(Path(directory) / FOLDER, start_step, images, flush_secs)
