"""The training loss: a weighted sum of metric plugins, each turned so that lower is better."""

from __future__ import annotations

import functools
from collections.abc import Callable
from dataclasses import dataclass

import jax
import jax.numpy as jnp

from zoo.errors import PluginError
from zoo.recipe import LossTerm
from zoo.registry import Registry

MetricFn = Callable[[jax.Array, jax.Array], jax.Array]


@dataclass(frozen=True)
class Term:
    """One metric in the loss. ``sign`` is -1 for a higher-is-better metric (SSIM, PSNR): the
    optimizer minimises, so such a metric enters as its negative and training improves it."""

    name: str
    weight: float
    sign: float
    metric: MetricFn

    def __str__(self) -> str:
        weight = "" if self.weight == 1 else f"{self.weight:g} * "
        return f"{'-' if self.sign < 0 else ''}{weight}{self.name}"


@dataclass(frozen=True)
class Loss:
    """``loss(pred, target)``: the scalar the train step minimises (each metric batch-averaged)."""

    terms: tuple[Term, ...]

    def __call__(self, pred: jax.Array, target: jax.Array) -> jax.Array:
        values = [t.sign * t.weight * jnp.mean(t.metric(pred, target)) for t in self.terms]
        return functools.reduce(jnp.add, values)

    def __str__(self) -> str:
        text = " + ".join(str(term) for term in self.terms)
        return text.replace("+ -", "- ")


def build_term(registry: Registry, name: str, term: LossTerm) -> Term:
    """One loss term. A metric that is not differentiable is refused: its gradient would be
    zero or undefined, so training would silently go nowhere."""
    entry = registry.get("metrics", name)
    if not entry.meta.get("differentiable"):
        usable = [n for n in registry.names("metrics") if _differentiable(registry, n)]
        raise PluginError(
            f"metric {name!r} is not differentiable, so it cannot be a loss. "
            f"Differentiable: {', '.join(usable)}."
        )
    sign = -1.0 if entry.meta["higher_is_better"] else 1.0
    return Term(name, float(term.weight), sign, entry.build(term.options))


def _differentiable(registry: Registry, name: str) -> bool:
    return bool(registry.get("metrics", name).meta.get("differentiable"))
