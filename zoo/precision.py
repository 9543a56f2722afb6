"""Mixed precision: float32 parameters and optimizer state, the training arithmetic in bfloat16."""

from __future__ import annotations

from typing import TypeVar

import jax.numpy as jnp
from flax import nnx

# train.precision -> the dtype layers compute in (None: as their parameters are stored).
COMPUTE_DTYPES = {"float32": None, "bf16": jnp.bfloat16}
M = TypeVar("M", bound=nnx.Module)


def compute_in(model: M, precision: str) -> M:
    """``model`` with every layer that has a compute dtype (nnx.Conv, ConvTranspose, Linear and
    any module built like them) computing in ``precision``; the parameters stay float32, so the
    gradients and the optimizer update do too. Meant for the copy merged inside a traced step."""
    dtype = COMPUTE_DTYPES[precision]
    if dtype is None:
        return model
    for _, module in nnx.iter_modules(model):
        if hasattr(module, "promote_dtype") and hasattr(module, "dtype"):
            module.dtype = dtype
    return model
