"""The example plugin's tests, with the fixtures and helpers that zoo ships (zoo.testing)."""

import jax.numpy as jnp
import pytest

import zoo_example
from zoo.plugin import PluginError
from zoo.testing import build, train_tiny


@pytest.fixture(autouse=True)
def example(register_zoo_plugin):
    """The plugin under test, by the name its entry point gives it: once it is installed, zoo
    has loaded it already and that is used; in a checkout it is registered for each test."""
    return register_zoo_plugin(zoo_example, name="example")


def test_charbonnier_takes_its_option():
    metric = build("metrics", "charbonnier", {"epsilon": 0.5})
    zeros = jnp.zeros((2, 8, 8, 3))
    assert metric(zeros, zeros).tolist() == pytest.approx([0.5, 0.5])


def test_a_misspelled_option_names_the_plugin():
    with pytest.raises(PluginError, match=r"\(plugin example\) has no option 'epsilom'"):
        build("metrics", "charbonnier", {"epsilom": 0.5})


def test_sharp_bicubic_doubles_the_size():
    upscale = build("upscalers", "sharp_bicubic", {"amount": 0.5})
    assert upscale(jnp.zeros((1, 8, 8, 3)), 2).shape == (1, 16, 16, 3)


def test_charbonnier_trains_a_tiny_model(tmp_path):
    result = train_tiny(
        tmp_path / "run", "loss={charbonnier: 1.0}", "eval.metrics=[psnr, charbonnier]"
    )
    assert result.steps == 1
    assert result.evaluation.results["model"]["charbonnier"] > 0


def test_the_csv_logger_writes_every_logged_step(tmp_path):
    run = tmp_path / "run"
    train_tiny(run, "train.steps=2", "train.log_every=1", "log=[csv]")
    rows = (run / "logs" / "history.csv").read_text().splitlines()
    assert rows[0] == "step,tag,value"
    assert [row.split(",")[:2] for row in rows[1:] if ",train/loss," in row] == [
        ["1", "train/loss"],
        ["2", "train/loss"],
    ]
