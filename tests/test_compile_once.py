"""Building a model compiles one program, and loading weights compiles none.

Counted from JAX's own compile log (``jax.log_compiles``), so no wall times here; the measured
times are in docs/benchmarks.md.
"""

from __future__ import annotations

import logging

import jax
import numpy as np
import pytest
from tiny import tiny_recipe

import zoo
from zoo.assemble import build_model, initialised
from zoo.model import count_parameters
from zoo.registry import get_registry


@pytest.fixture
def compiled(caplog):
    """The names of the programs XLA compiles inside the ``with`` block."""

    class Log:
        def __enter__(self):
            caplog.clear()
            self.flag = jax.log_compiles(True)
            self.flag.__enter__()
            return self

        def __exit__(self, *exc):
            self.flag.__exit__(*exc)

        @property
        def names(self) -> list[str]:
            return [
                r.getMessage().split()[4]
                for r in caplog.records
                if r.getMessage().startswith("Finished XLA compilation of")
            ]

    caplog.set_level(logging.DEBUG, logger="jax")
    return Log()


def test_the_dli_network_builds_in_one_compiled_program(compiled):
    recipe = tiny_recipe(
        "model.encoder={name: dli}", "model.decoder={name: dli}", "model.input=upsampled"
    )
    with compiled:
        model = build_model(recipe, get_registry())
    assert compiled.names == ["jit(parameters)"]
    assert count_parameters(model) == 1_110_403


def test_the_one_program_gives_the_eager_build_s_values_up_to_float_rounding():
    def build():
        from flax import nnx

        return nnx.Conv(3, 8, (3, 3), rngs=nnx.Rngs(5))

    eager, once = build(), initialised(build)
    # the same random bits; the unoptimised program rounds the normal's tail a few ulp apart
    np.testing.assert_allclose(
        np.asarray(once.kernel[...]), np.asarray(eager.kernel[...]), rtol=1e-6
    )
    np.testing.assert_array_equal(np.asarray(once.bias[...]), np.asarray(eager.bias[...]))
    assert np.asarray(once.kernel[...]).std() > 0.05  # random, not a trivially equal constant


def test_loading_a_shipped_model_compiles_nothing(compiled):
    with compiled:
        model = zoo.load("ae_x2")
    assert compiled.names == []
    assert model.scale == 2
