"""The training state: one pytree of parameters, optimizer state, step and PRNG key.

It is what a checkpoint holds, so training (which updates it), resuming and inference (which
restore it) all shape it here. ``predict`` is the model's deterministic forward pass on it.
"""

from __future__ import annotations

from typing import Any

import jax
import jax.numpy as jnp
import numpy as np
import optax
from flax import nnx

State = dict[str, Any]


def initial_state(
    model: nnx.Module, optimizer: optax.GradientTransformation, seed: int
) -> tuple[nnx.GraphDef, State]:
    """The model's graph and the full training state: parameters, optimizer, step, PRNG key."""
    graphdef, params, rest = nnx.split(model, nnx.Param, ...)  # type: ignore[misc]
    state = {
        "params": params,
        "rest": rest,
        "opt_state": optimizer.init(params),
        "step": jnp.zeros((), jnp.int32),
        # Raw uint32 key data, so checkpoints hold a plain array.
        "key": jax.random.key_data(jax.random.key(seed)),
        # The first step whose loss or gradient was not finite (-1: none yet), and how many
        # such steps were skipped: kept on the device so no step waits for the host to check.
        "first_nonfinite": jnp.full((), -1, jnp.int32),
        "skipped": jnp.zeros((), jnp.int32),
    }
    return graphdef, state


def merge(graphdef: nnx.GraphDef, state: State) -> Any:
    """The model with the state's parameters."""
    return nnx.merge(graphdef, state["params"], state["rest"])


def predict(state: State, lr: jax.Array, *, graphdef: nnx.GraphDef) -> jax.Array:
    """The model's prediction for an NHWC LR batch, deterministic (no dropout), in [0, 1]."""
    return jnp.clip(merge(graphdef, state)(lr), 0.0, 1.0)


def host_all_finite(tree: Any) -> bool:
    """``all_finite`` for arrays already on the host (loaded weights): numpy, no compilation."""
    return all(bool(np.isfinite(np.asarray(leaf)).all()) for leaf in jax.tree.leaves(tree))


def all_finite(tree: Any) -> jax.Array:
    """Whether every element of every leaf is finite (jittable; ``bool()`` it on the host)."""
    leaves = [jnp.all(jnp.isfinite(leaf)) for leaf in jax.tree.leaves(tree)]
    return jnp.all(jnp.stack(leaves)) if leaves else jnp.array(True)
