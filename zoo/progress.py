"""Progress bars for training steps and evaluated images (tqdm, silent when disabled)."""

from __future__ import annotations

from typing import Any


def steps_bar(total: int, start: int, *, enabled: bool) -> Any:
    """The training bar: step count, the last logged loss, rate and time left."""
    from tqdm.auto import tqdm

    return tqdm(
        total=total,
        initial=start,
        disable=not enabled,
        unit="step",
        dynamic_ncols=True,
        desc="train",
        bar_format="{desc} {n_fmt}/{total_fmt} |{bar}| {postfix} [{rate_fmt}, {remaining} left]",
    )


def images_bar(total: int, *, enabled: bool) -> Any:
    """The evaluation bar, cleared when done so the results table stands alone."""
    from tqdm.auto import tqdm

    return tqdm(total=total, unit="image", desc="eval", disable=not enabled, leave=False)
