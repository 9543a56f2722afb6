"""`zoo eval`: a dataset or folder, its low-resolution versions and the systems to compare."""

from __future__ import annotations

from pathlib import Path

import numpy as np

from zoo import assemble, data, evaluate
from zoo import progress as progress_lib
from zoo.errors import DataError, PluginError
from zoo.pixels import uint8_to_float
from zoo.recipe import PluginRef
from zoo.registry import Registry, get_registry
from zoo.types import Dataset

DEFAULT_SCALE = 2
DEFAULT_DEGRADATION = "bicubic"


def run_eval(
    *,
    data_spec: str,
    split: str | None,
    scale: int | None,
    degradation: str | None,
    lr_dir: Path | None,
    convention: str,
    upscalers: list[str] | None,
    metrics: list[str],
    model: str | None,
    limit: int | None,
    step: str | int | None = None,
    progress: bool = True,
) -> evaluate.Evaluation:
    """The classic upscalers (and ``model``: a run directory, weights file or model name, at
    ``step`` for a run) scored on ``data_spec``.

    With a run, the scale and the degradation (with its options) are the run's, unless
    ``degradation`` names another, and the model is scored exactly as `zoo run` scored it.
    """
    registry = get_registry()
    if not metrics:
        raise PluginError(f"--metrics is empty. Valid: {', '.join(registry.names('metrics'))}.")
    metric_specs = evaluate.metric_specs(registry, metrics)
    trained = None
    if model is not None:
        from zoo import upscale

        trained = upscale.load(model, step, registry=registry)  # type: ignore[arg-type]
        if scale is not None and scale != trained.scale:
            raise DataError(
                f"--scale {scale} differs from the model's scale {trained.scale} "
                f"({trained.source}); drop --scale or use a x{scale} model."
            )
        scale = trained.scale
    scale = scale or DEFAULT_SCALE
    if degradation is not None:
        degrade = assemble.build_degradation(registry, PluginRef(name=degradation), scale)
    elif trained is not None:
        degrade = trained.degradation()
    else:
        degrade = assemble.build_degradation(registry, PluginRef(name=DEFAULT_DEGRADATION), scale)
    names = evaluate.system_order(upscalers or registry.names("upscalers"))
    systems = evaluate.upscaler_systems(registry, names, scale)
    if trained is not None:
        systems[evaluate.MODEL_SYSTEM] = trained.system
    dataset = assemble.open_dataset(registry, dataset_ref(data_spec, split), default_split=None)
    if lr_dir is not None:
        images = files_eval_set(registry, dataset, lr_dir, scale, limit, data_spec)
        described = f"files in {lr_dir}"
    else:
        images = assemble.eval_set(dataset, degrade, scale, limit=limit, source=data_spec)
        described = str(degrade)
    bar = progress_lib.images_bar(len(images.hr), enabled=progress)
    try:
        evaluation = images.score(
            systems,
            metric_specs,
            scale=scale,
            convention=convention,
            degradation=described,
            progress=lambda done: bar.update(1),
        )
    finally:
        bar.close()
    if trained is not None:
        evaluation.model = trained.describe()
    return evaluation


def dataset_ref(spec: str, split: str | None) -> PluginRef:
    """A folder path becomes the `folder` dataset; anything else is a dataset name."""
    options = {} if split is None else {"split": split}
    if Path(spec).is_dir():
        return PluginRef.model_validate({"name": "folder", "path": str(Path(spec)), **options})
    if Path(spec).exists():
        raise DataError(f"{spec}: --data must be a folder of images or a dataset name.")
    return PluginRef.model_validate({"name": spec, **options})


def files_eval_set(
    registry: Registry,
    dataset: Dataset,
    lr_dir: Path,
    scale: int,
    limit: int | None,
    source: str,
) -> evaluate.EvalSet:
    """HR images with ready-made LR files (the published LR_bicubic folders) in place of a
    degradation."""
    names, hr_uint8 = data.eval_images(dataset, scale, limit=limit, source=source)
    lr = matching_lr(registry, lr_dir, names, hr_uint8, scale)
    hr = [uint8_to_float(image) for image in hr_uint8]
    return evaluate.EvalSet(names, hr, lr, data.single_channel_flags(dataset, len(names)))


def matching_lr(
    registry: Registry, lr_dir: Path, names: list[str], hr: list[np.ndarray], scale: int
) -> list[np.ndarray]:
    """LR files matched to HR names: ``baby`` matches baby.png, babyx2.png or baby_x2.png."""
    dataset = assemble.open_dataset(registry, dataset_ref(str(lr_dir), "all"), default_split=None)
    by_name = {data.image_name(dataset, i): i for i in range(len(dataset))}
    result = []
    for name, image in zip(names, hr, strict=True):
        for candidate in (name, f"{name}x{scale}", f"{name}_x{scale}", f"{name}_X{scale}"):
            if candidate in by_name:
                low = np.asarray(dataset[by_name[candidate]])
                break
        else:
            raise DataError(
                f"{lr_dir}: no LR image for {name!r} (looked for {name}, "
                f"{name}x{scale}, {name}_x{scale} with an image extension)."
            )
        expected = (image.shape[0] // scale, image.shape[1] // scale)
        if low.shape[:2] != expected:
            raise DataError(
                f"{lr_dir}: {name} LR image is {low.shape[1]}x{low.shape[0]}, "
                f"expected {expected[1]}x{expected[0]} for x{scale}."
            )
        result.append(uint8_to_float(low))
    return result
