"""The optimizer a recipe names: an optax transformation with its schedule and clipping."""

from __future__ import annotations

import optax

from zoo.recipe import Optimizer


def make_schedule(optimizer: Optimizer, steps: int) -> optax.Schedule:
    """The learning rate as a function of the step, over a run of ``steps``."""
    rate, schedule = optimizer.learning_rate, optimizer.schedule
    final = rate * schedule.final_factor
    if schedule.name == "constant":
        if schedule.warmup_steps:
            return optax.linear_schedule(0.0, rate, schedule.warmup_steps)
        return optax.constant_schedule(rate)
    if schedule.name == "cosine":
        return optax.cosine_decay_schedule(rate, steps, alpha=schedule.final_factor)
    if schedule.name == "warmup_cosine":
        return optax.warmup_cosine_decay_schedule(
            0.0, rate, min(schedule.warmup_steps, steps - 1), steps, end_value=final
        )
    every = schedule.decay_every or max(1, steps // 3)
    return optax.exponential_decay(rate, every, schedule.decay_factor, staircase=True)


def make_optimizer(optimizer: Optimizer, steps: int) -> optax.GradientTransformation:
    """An optax optimizer by name with its options, a schedule and optional gradient clipping."""
    factory = getattr(optax, optimizer.name)
    transform = factory(learning_rate=make_schedule(optimizer, steps), **optimizer.options)
    if optimizer.clip_norm is not None:
        transform = optax.chain(optax.clip_by_global_norm(optimizer.clip_norm), transform)
    return transform
