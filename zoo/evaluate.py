"""Evaluation: every metric for every system (classic upscalers, a trained model) side by side.

Metrics give one value per image; this module is the one place that averages them over a set.
Every result carries the name of the convention it was measured under.
"""

from __future__ import annotations

from collections.abc import Callable, Iterable, Mapping, Sequence
from dataclasses import dataclass, field
from functools import partial
from typing import Any

import jax
import jax.numpy as jnp
import numpy as np

from zoo import conventions
from zoo.pixels import float_to_uint8
from zoo.registry import Registry

System = Callable[[jax.Array], jax.Array]  # lr [1, h, w, 3] -> prediction [1, H, W, 3]

# The order of systems in every table (`zoo eval`, `zoo run`'s report and metrics.json): the
# classic upscalers from the crudest to the sharpest, then any other upscaler alphabetically,
# then the trained model, last, beside the best of the rest.
CLASSIC_UPSCALERS = ("nearest", "bilinear", "bicubic", "lanczos")
MODEL_SYSTEM = "model"


def system_order(names: Iterable[str]) -> list[str]:
    """``names`` in table order: nearest, bilinear, bicubic, lanczos, the other upscalers
    alphabetically, then ``model``. The one place that orders systems."""

    def key(name: str) -> tuple[int, int, str]:
        if name == MODEL_SYSTEM:
            return (2, 0, name)
        if name in CLASSIC_UPSCALERS:
            return (0, CLASSIC_UPSCALERS.index(name), name)
        return (1, 0, name)

    return sorted(dict.fromkeys(names), key=key)


@dataclass(frozen=True)
class MetricSpec:
    name: str
    fn: Callable[[jax.Array, jax.Array], jax.Array]
    higher_is_better: bool


@dataclass
class Evaluation:
    """Per-image values and set means: ``results[system][metric]``."""

    convention: str
    scale: int
    degradation: str
    names: list[str]
    metrics: list[MetricSpec]
    per_image: dict[str, dict[str, list[float]]] = field(default_factory=dict)
    outputs: dict[str, list[np.ndarray]] = field(default_factory=dict)
    model: str | None = None
    """Which weights the model row used: ``runs/ae_x2 step 3000 (last)``, ``model 'ae_x2'``."""

    @property
    def results(self) -> dict[str, dict[str, float]]:
        return {
            system: {metric: float(np.mean(values)) for metric, values in by_metric.items()}
            for system, by_metric in self.per_image.items()
        }

    def best(self, metric: MetricSpec) -> str:
        """The system with the best mean for ``metric``."""
        means = {system: values[metric.name] for system, values in self.results.items()}
        pick = max if metric.higher_is_better else min
        return pick(means, key=means.__getitem__)

    def to_json(self) -> dict[str, Any]:
        return {
            "convention": self.convention,
            "convention_description": conventions.describe(self.convention),
            "scale": self.scale,
            "degradation": self.degradation,
            **({"model": self.model} if self.model is not None else {}),
            "images": self.names,
            "directions": {
                m.name: "higher" if m.higher_is_better else "lower" for m in self.metrics
            },
            "results": self.results,
            "per_image": {
                system: {
                    name: dict(zip(self.names, values, strict=True))
                    for name, values in by_metric.items()
                }
                for system, by_metric in self.per_image.items()
            },
        }


def metric_specs(registry: Registry, names: Sequence[str]) -> list[MetricSpec]:
    specs = []
    for name in names:
        entry = registry.get("metrics", name)
        specs.append(MetricSpec(name, jax.jit(entry.build()), bool(entry.meta["higher_is_better"])))
    return specs


def upscaler_systems(registry: Registry, names: Sequence[str], scale: int) -> dict[str, System]:
    systems: dict[str, System] = {}
    for name in names:
        upscale = registry.build("upscalers", name)
        systems[name] = jax.jit(partial(upscale, scale=scale))
    return systems


@dataclass
class EvalSet:
    """Evaluation images: HR and their LR versions, float32 HWC in [0, 1], with their names.

    ``single_channel`` marks images that were grey at the source (see zoo.conventions).
    """

    names: list[str]
    hr: list[np.ndarray]
    lr: list[np.ndarray]
    single_channel: list[bool]

    def score(
        self,
        systems: Mapping[str, System],
        metrics: Sequence[MetricSpec],
        *,
        scale: int,
        convention: str,
        degradation: str,
        keep_outputs: bool = False,
        progress: Callable[[int], None] | None = None,
    ) -> Evaluation:
        """Every metric for every system on these images."""
        return evaluate(
            self.hr,
            self.lr,
            systems,
            metrics,
            names=self.names,
            scale=scale,
            convention=convention,
            degradation=degradation,
            single_channel=self.single_channel,
            keep_outputs=keep_outputs,
            progress=progress,
        )


@partial(jax.jit, static_argnames=("convention", "scale"))
def prepare(
    pred: jax.Array,
    target: jax.Array,
    convention: str,
    scale: int,
    single_channel: jax.Array | None = None,
) -> tuple[jax.Array, jax.Array]:
    return conventions.apply(convention, jnp.clip(pred, 0.0, 1.0), target, scale, single_channel)


def evaluate(
    hr_images: Sequence[np.ndarray],
    lr_images: Sequence[np.ndarray],
    systems: Mapping[str, System],
    metrics: Sequence[MetricSpec],
    *,
    names: Sequence[str],
    scale: int,
    convention: str,
    degradation: str,
    single_channel: Sequence[bool] | None = None,
    keep_outputs: bool = False,
    progress: Callable[[int], None] | None = None,
) -> Evaluation:
    """Score each system's output on every image; HR and LR as float32 HWC in [0, 1].

    ``single_channel`` marks images that were grey at the source (see zoo.conventions). The
    results list the systems in ``system_order``, whatever order ``systems`` has.
    """
    evaluation = Evaluation(convention, scale, degradation, list(names), list(metrics))
    systems = {name: systems[name] for name in system_order(systems)}
    for system in systems:
        evaluation.per_image[system] = {m.name: [] for m in metrics}
        evaluation.outputs[system] = []
    for index, (hr, lr) in enumerate(zip(hr_images, lr_images, strict=True)):
        target = jnp.asarray(hr)[None]
        low = jnp.asarray(lr)[None]
        grey = None if single_channel is None else jnp.asarray([single_channel[index]])
        for system, upscale in systems.items():
            pred = upscale(low)
            if pred.shape != target.shape:
                raise ValueError(
                    f"{system} produced {pred.shape[1:3]} for {names[index]}, "
                    f"expected {target.shape[1:3]}"
                )
            scored_pred, scored_target = prepare(pred, target, convention, scale, grey)
            for metric in metrics:
                value = float(metric.fn(scored_pred, scored_target)[0])
                evaluation.per_image[system][metric.name].append(value)
            if keep_outputs:
                evaluation.outputs[system].append(float_to_uint8(pred[0]))
        if progress is not None:
            progress(index + 1)
    return evaluation


def format_table(evaluation: Evaluation) -> str:
    """A plain-text table, best value per column marked with '*'."""
    metric_names = [m.name for m in evaluation.metrics]
    best = {m.name: evaluation.best(m) for m in evaluation.metrics}
    arrows = {m.name: "↑" if m.higher_is_better else "↓" for m in evaluation.metrics}
    header = ["system", *[f"{name} {arrows[name]}" for name in metric_names]]
    rows = []
    for system, values in evaluation.results.items():
        cells = [system]
        for name in metric_names:
            mark = "*" if best[name] == system else " "
            cells.append(f"{values[name]:.4f}{mark}")
        rows.append(cells)
    widths = [max(len(row[i]) for row in [header, *rows]) for i in range(len(header))]
    lines = [
        f"{len(evaluation.names)} images, x{evaluation.scale}, degradation "
        f"{evaluation.degradation}, convention {evaluation.convention} "
        f"({conventions.describe(evaluation.convention)})",
        *([f"model: {evaluation.model}"] if evaluation.model is not None else []),
        "  ".join(cell.ljust(width) for cell, width in zip(header, widths, strict=True)),
    ]
    lines += [
        "  ".join(
            cell.rjust(width) if i else cell.ljust(width)
            for i, (cell, width) in enumerate(zip(row, widths, strict=True))
        )
        for row in rows
    ]
    lines.append("* best in column")
    return "\n".join(lines)
