"""`zoo eval`: a dataset or folder, its low-resolution versions and the systems to compare."""

from __future__ import annotations

from pathlib import Path
from typing import Any

import jax
import jax.numpy as jnp
import numpy as np

from zoo import data, evaluate
from zoo.errors import DataError, PluginError
from zoo.registry import Registry, get_registry


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
    run_dir: Path | None,
    limit: int | None,
    progress: bool = True,
) -> evaluate.Evaluation:
    registry = get_registry()
    model = None
    if run_dir is not None:
        from zoo import upscale

        model = upscale.load(run_dir)
        if scale is not None and scale != model.scale:
            raise DataError(
                f"--scale {scale} differs from the model's scale {model.scale} "
                f"({run_dir}); drop --scale or use a x{scale} model."
            )
        scale = model.scale
        degradation = degradation or model.recipe.degradation.name
    scale = scale or 2
    degradation = degradation or "bicubic"
    if not metrics:
        raise PluginError(f"--metrics is empty. Valid: {', '.join(registry.names('metrics'))}.")
    metric_specs = evaluate.metric_specs(registry, metrics)
    systems: dict[str, evaluate.System] = dict(
        evaluate.upscaler_systems(registry, upscalers or registry.names("upscalers"), scale)
    )
    if model is not None:
        systems["model"] = lambda lr: jnp.asarray(model.upscale(np.asarray(lr[0])))[None]
    dataset = open_dataset(registry, data_spec, split)
    names, hr_uint8 = data.eval_images(dataset, scale, limit=limit, source=data_spec)
    hr = [data.to_float(image) for image in hr_uint8]
    if lr_dir is not None:
        lr = matching_lr(registry, lr_dir, names, hr_uint8, scale)
        degradation = f"files in {lr_dir}"
    else:
        lr = degrade_all(registry, degradation, scale, hr)
    bar = _bar(len(hr), progress)
    try:
        return evaluate.evaluate(
            hr,
            lr,
            systems,
            metric_specs,
            names=names,
            scale=scale,
            convention=convention,
            degradation=degradation,
            single_channel=data.single_channel_flags(dataset, len(names)),
            progress=lambda done: bar.update(1),
        )
    finally:
        bar.close()


def _bar(total: int, enabled: bool) -> Any:
    from tqdm.auto import tqdm

    return tqdm(total=total, unit="image", desc="eval", disable=not enabled, leave=False)


def open_dataset(registry: Registry, spec: str, split: str | None) -> Any:
    """A folder path becomes the `folder` dataset; anything else is a dataset name."""
    if Path(spec).is_dir():
        return registry.build("datasets", "folder", {"path": str(Path(spec))}, split=split or "all")
    if Path(spec).exists():
        raise DataError(f"{spec}: --data must be a folder of images or a dataset name.")
    entry = registry.get("datasets", spec)
    splits = tuple(entry.meta.get("splits", ()))
    chosen = split or ("all" if "all" in splits or not splits else splits[0])
    if splits and chosen not in splits:
        raise PluginError(f"dataset {spec!r} has no split {chosen!r}. Valid: {', '.join(splits)}.")
    return entry.build(split=chosen)


def degrade_all(
    registry: Registry, name: str, scale: int, hr: list[np.ndarray]
) -> list[np.ndarray]:
    """LR images rounded to 8 bits, as the LR files of the published protocol are."""
    degrade = registry.build("degradations", name, scale=scale)
    key = jax.random.key(0)
    low = [
        degrade(jnp.asarray(image)[None], jax.random.fold_in(key, index))[0]
        for index, image in enumerate(hr)
    ]
    return [data.to_float(evaluate.to_uint8(image)) for image in low]


def matching_lr(
    registry: Registry, lr_dir: Path, names: list[str], hr: list[np.ndarray], scale: int
) -> list[np.ndarray]:
    """LR files matched to HR names: ``baby`` matches baby.png, babyx2.png or baby_x2.png."""
    dataset = open_dataset(registry, str(lr_dir), "all")
    by_name = {str(dataset.names[i]): i for i in range(len(dataset))}
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
        result.append(data.to_float(low))
    return result
