"""The run report: one self-contained HTML page with the table, side-by-side crops and curves."""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from importlib.resources import files
from pathlib import Path
from typing import TYPE_CHECKING, Any

import numpy as np

from zoo.atomic import write_text
from zoo.report import page
from zoo.report.charts import Row, curves_section
from zoo.report.crops import crops_section

if TYPE_CHECKING:
    from zoo.evaluate import Evaluation
    from zoo.recipe import Recipe

__all__ = ["render", "write_report"]


def write_report(
    workdir: Path,
    recipe: Recipe,
    evaluation: Evaluation,
    history: Sequence[Row],
    lr_images: Sequence[np.ndarray],
    hr_images: Sequence[np.ndarray],
    *,
    step: int | None = None,
    selected: str | None = None,
    init_from: Mapping[str, Any] | None = None,
) -> Path:
    """Write ``workdir/report.html``; LR and HR images as float32 HWC in [0, 1]. ``step`` and
    ``selected``: the step the model row scored and how it was chosen (``best by val_psnr``);
    ``init_from``: the run's record of the weights it started from (recipe.json)."""
    path = Path(workdir) / "report.html"
    text = render(
        recipe,
        evaluation,
        history,
        lr_images,
        hr_images,
        step=step,
        selected=selected,
        init_from=init_from,
    )
    write_text(path, text)
    return path


def render(
    recipe: Recipe,
    evaluation: Evaluation,
    history: Sequence[Row],
    lr_images: Sequence[np.ndarray],
    hr_images: Sequence[np.ndarray],
    *,
    step: int | None = None,
    selected: str | None = None,
    init_from: Mapping[str, Any] | None = None,
) -> str:
    sections = [
        page.header(recipe, evaluation, step=step, selected=selected, init_from=init_from),
        page.metrics_section(evaluation),
        crops_section(evaluation, lr_images, hr_images),
        curves_section(evaluation, history),
        page.per_image_section(evaluation),
        page.recipe_section(recipe),
    ]
    body = "\n".join(section for section in sections if section)
    return page.document(recipe.name, style(), body)


def style() -> str:
    # read through the package's resources, not a path beside this file, so an installed wheel
    # (or a zipped one) finds it too
    return files("zoo.report").joinpath("style.css").read_text(encoding="utf-8")
