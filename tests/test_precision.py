"""train.precision: bf16 computes the step's layers in bfloat16, everything kept stays float32."""

from __future__ import annotations

import json

import jax
import jax.numpy as jnp
import numpy as np
import pytest
from tiny import tiny_recipe, train_tiny

from zoo import workdir as workdir_lib
from zoo.assemble import assemble
from zoo.precision import compute_in
from zoo.registry import get_registry
from zoo.train import compile_steps

STEPS = 4


def losses(run) -> list[float]:
    history = json.loads((run / "metrics.json").read_text())["history"]
    return [entry["loss"] for entry in history]


def built_steps(precision: str):
    recipe = tiny_recipe("train.precision=" + precision)
    parts = assemble(recipe, get_registry())
    return parts, compile_steps(
        parts.model,
        parts.optimizer,
        parts.loss,
        parts.degradation.fn,
        seed=0,
        mesh=parts.mesh,
        precision=precision,
    )


def conv_dtypes(precision: str) -> set[str]:
    """The operand dtypes of every convolution in the lowered train step."""
    _, steps = built_steps(precision)
    state = steps.init()
    hr = jnp.zeros((2, 16, 16, 3), jnp.uint8)
    text = steps.train.lower(state, hr).as_text()
    found = set()
    for line in text.splitlines():
        if "stablehlo.convolution" in line:
            found.update(dtype for dtype in ("bf16", "f32") if f"x{dtype}>" in line)
    return found


def test_bf16_convolves_in_bfloat16_and_float32_does_not():
    assert conv_dtypes("bf16") == {"bf16"}
    assert conv_dtypes("float32") == {"f32"}


def test_parameters_and_optimizer_state_stay_float32_under_bf16():
    _, steps = built_steps("bf16")
    state, loss = steps.train(steps.init(), jnp.full((2, 16, 16, 3), 128, jnp.uint8))
    assert loss.dtype == jnp.float32
    kept = jax.tree.leaves((state["params"], state["opt_state"]))
    floats = {leaf.dtype for leaf in kept if jnp.issubdtype(leaf.dtype, jnp.floating)}
    assert floats == {jnp.dtype(jnp.float32)}


def test_a_bf16_run_follows_the_float32_loss_within_two_percent(tmp_path):
    common = (f"train.steps={STEPS}", "train.log_every=1")
    exact = losses(train_tiny(tmp_path / "f32", *common))
    mixed = losses(train_tiny(tmp_path / "bf16", *common, "train.precision=bf16"))
    assert len(mixed) == STEPS
    # bfloat16 keeps 8 bits of mantissa: each loss within 2%, and not bit-identical (else the
    # option would not be doing anything)
    np.testing.assert_allclose(mixed, exact, rtol=2e-2)
    assert mixed != exact
    evaluated = json.loads((tmp_path / "bf16" / "metrics.json").read_text())
    assert np.isfinite(evaluated["results"]["model"]["psnr"])


def test_compute_in_leaves_a_float32_model_alone():
    parts, _ = built_steps("float32")
    assert compute_in(parts.model, "float32") is parts.model
    with pytest.raises(KeyError):
        compute_in(parts.model, "fp8")


def test_a_run_saved_before_a_new_field_existed_still_resumes():
    current = tiny_recipe().model_dump(mode="json")
    older = json.loads(json.dumps(current))
    del older["train"]["precision"]
    assert workdir_lib.recipe_differences(older, current) == ["train.precision: None -> 'float32'"]
    assert workdir_lib.recipe_differences(workdir_lib.with_defaults(older), current) == []
    changed = tiny_recipe("train.precision=bf16").model_dump(mode="json")
    assert workdir_lib.recipe_differences(workdir_lib.with_defaults(older), changed) == [
        "train.precision: 'float32' -> 'bf16'"
    ]
