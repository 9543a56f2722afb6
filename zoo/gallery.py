"""The models' side-by-side crops: each registered model beside bicubic on a few images."""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import numpy as np

from zoo import assemble, compare, evaluate, upscale
from zoo.atomic import write_text
from zoo.errors import DataError
from zoo.models import numbers_text
from zoo.report import page, style
from zoo.report.crops import MAX_IMAGES, sample_html

# The embedded photographs that no shipped model trained on: a gallery that needs no download.
DEFAULT_DATA = "embedded"
DEFAULT_SPLIT = "holdout"


@dataclass(frozen=True)
class Samples:
    """One model's outputs on the chosen images, with the LR and HR they came from."""

    name: str
    scale: int
    evaluation: evaluate.Evaluation
    lr: list[np.ndarray]
    hr: list[np.ndarray]


def model_samples(
    name: str,
    registry: Any,
    data: str = DEFAULT_DATA,
    split: str | None = DEFAULT_SPLIT,
    *,
    images: Sequence[str] | None = None,
    limit: int = MAX_IMAGES,
) -> Samples:
    """Model ``name`` and bicubic on ``images`` of ``data`` (a folder or a dataset name), or
    on its first ``limit`` images; inputs degraded as the model's own evaluation degrades them
    (its recipe's degradation, rounded to 8 bits), scored under the published protocol (Y)."""
    trained = upscale.load(name, registry=registry)
    dataset = assemble.open_dataset(registry, compare.dataset_ref(data, split), default_split=None)
    every = assemble.eval_set(dataset, trained.degradation(), trained.scale, source=data)
    chosen = chosen_indices(every.names, images, limit, data)
    systems = evaluate.upscaler_systems(registry, ["bicubic"], trained.scale)
    systems[evaluate.MODEL_SYSTEM] = trained.system
    evaluation = evaluate.evaluate(
        [every.hr[i] for i in chosen],
        [every.lr[i] for i in chosen],
        systems,
        evaluate.metric_specs(registry, ["psnr"]),
        names=[every.names[i] for i in chosen],
        scale=trained.scale,
        convention="y",
        degradation=str(trained.degradation()),
        single_channel=[every.single_channel[i] for i in chosen],
        keep_outputs=True,
    )
    return Samples(
        name,
        trained.scale,
        evaluation,
        [every.lr[i] for i in chosen],
        [every.hr[i] for i in chosen],
    )


def chosen_indices(
    names: Sequence[str], images: Sequence[str] | None, limit: int, data: str
) -> list[int]:
    if images is None:
        return list(range(min(limit, len(names))))
    missing = [image for image in images if image not in names]
    if missing:
        raise DataError(f"{data}: no image named {', '.join(missing)}; it has {', '.join(names)}.")
    return [list(names).index(image) for image in images]


def gallery_page(records: Sequence[dict[str, Any]], samples: Sequence[Samples], data: str) -> str:
    """A self-contained HTML page: per model, its recorded numbers and the report's rows of
    crops (where each crop is, LR, bicubic, the model, HR, and a magnified inset)."""
    sections = [
        "<header><h1>zoo models, side by side</h1>"
        f"<p class='note'>Every registered model beside bicubic on {page.e(data)}: the most "
        "detailed square of each image, scored under the published protocol (Y channel, "
        "<code>scale</code> pixels shaved). The numbers under each name are the catalog's, "
        "measured by <code>zoo eval</code> on the benchmark sets.</p></header>"
    ]
    for record, sample in zip(records, samples, strict=True):
        rows = [
            sample_html(sample.evaluation, index, sample.lr[index], sample.hr[index])
            for index in range(len(sample.hr))
        ]
        sections.append(
            f"<section id='{page.e(sample.name)}'>\n<h2>{page.e(sample.name)} "
            f"<small>×{sample.scale}</small></h2>\n{record_note(record)}\n"
            + "\n".join(row for row in rows if row)
            + "\n</section>"
        )
    return page.document("zoo models", style(), "\n".join(sections))


def record_note(record: dict[str, Any]) -> str:
    lines = [record["description"]] if record.get("description") else []
    lines += [f"{s}: {numbers_text(v)}" for s, v in (record.get("metrics") or {}).items()]
    return "<p class='note'>" + "<br>".join(map(page.e, lines)) + "</p>" if lines else ""


def write_gallery(
    path: Path,
    records: Sequence[dict[str, Any]],
    registry: Any,
    data: str = DEFAULT_DATA,
    split: str | None = DEFAULT_SPLIT,
) -> Path:
    samples = [model_samples(record["name"], registry, data, split) for record in records]
    write_text(path, gallery_page(records, samples, data))
    return path
