"""One assembly path: the loss honours metric directions, `zoo eval --checkpoint` scores on the
run's own degradation and options and reproduces the run's numbers, inference needs no training
code."""

from __future__ import annotations

import json
import subprocess
import sys
from pathlib import Path

import jax
import numpy as np
import pytest
from click.testing import CliRunner
from tiny import tiny_dict, tiny_recipe

import zoo
from zoo import assemble
from zoo import recipe as recipe_lib
from zoo.cli import cli
from zoo.registry import get_registry
from zoo.train import compile_steps


def test_a_higher_is_better_metric_enters_the_loss_as_its_negative():
    parts = assemble.validate(tiny_recipe("loss={ssim: 1.0, mse: 2.0}"), get_registry(), source="s")
    assert [(t.name, t.sign, t.weight) for t in parts.loss.terms] == [
        ("ssim", -1.0, 1.0),
        ("mse", 1.0, 2.0),
    ]
    assert str(parts.loss) == "-ssim + 2 * mse"


def test_training_on_ssim_improves_ssim():
    recipe = tiny_recipe(
        "loss={ssim: 1.0}",
        "optimizer.learning_rate=0.003",
        "data.patch=32",
        "data.batch=4",
        "model.residual=false",
    )
    parts = assemble.assemble(recipe, get_registry(), source="smoke.yaml")
    steps = compile_steps(
        parts.model, parts.optimizer, parts.loss, parts.degradation.fn, seed=0, mesh=parts.mesh
    )
    hr = np.random.default_rng(0).integers(0, 256, (4, 32, 32, 3), dtype=np.uint8)
    hr = np.asarray(jax.image.resize(hr.astype(np.float32), (4, 32, 32, 3), "linear"))
    hr = np.clip(hr, 0, 255).astype(np.uint8)
    target = hr.astype(np.float32) / 255.0
    lr = parts.degradation.fn(target, jax.random.key(0))
    ssim = get_registry().build("metrics", "ssim")

    def mean_ssim(state) -> float:
        return float(np.mean(ssim(steps.predict(state, lr), target)))

    state = steps.init()
    before = mean_ssim(state)
    for _ in range(12):
        state, _loss = steps.train(state, hr)
    after = mean_ssim(state)
    assert after > before + 0.01, (before, after)


# ---------------------------------------------------------------------------------------------
# zoo eval --checkpoint scores exactly as the run did

DEGRADATION = {"name": "blur_noise_jpeg", "noise_sigma": [20.0, 30.0], "jpeg_quality": [30, 40]}


@pytest.fixture(scope="module")
def jpeg_run(tmp_path_factory: pytest.TempPathFactory) -> Path:
    workdir = tmp_path_factory.mktemp("jpeg_run")
    recipe = tiny_dict("train.steps=2", "data.eval_crop=null", "eval.metrics=[psnr, ssim, mse]")
    zoo.run(dict(recipe, degradation=DEGRADATION), workdir=workdir, progress=False)
    return workdir


def eval_json(*arguments: str) -> dict:
    result = CliRunner().invoke(cli, ["eval", *arguments, "--json"])
    assert result.exit_code == 0, result.output
    return json.loads(result.output)


def test_eval_checkpoint_uses_the_runs_degradation_with_its_options(jpeg_run):
    run_metrics = json.loads((jpeg_run / "metrics.json").read_text())
    common = ["--data", "embedded", "--split", "holdout", "--limit", "1", "--convention", "rgb"]
    common += ["--upscalers", "bicubic", "--metrics", "psnr,ssim,mse"]
    scored = eval_json("--checkpoint", str(jpeg_run), *common)
    assert scored["degradation"] == run_metrics["degradation"]
    assert "noise_sigma=[20.0, 30.0]" in scored["degradation"]
    # The same model on the same images gives the same number: bit for bit, every system.
    assert scored["results"] == run_metrics["results"]
    defaults = eval_json("--checkpoint", str(jpeg_run), "--degradation", "blur_noise_jpeg", *common)
    assert defaults["degradation"] == "blur_noise_jpeg"
    gap = abs(defaults["results"]["bicubic"]["psnr"] - scored["results"]["bicubic"]["psnr"])
    assert gap > 0.1, "the options changed nothing: the test would not tell them apart"


def test_the_loaded_model_degrades_as_it_was_trained(jpeg_run):
    model = zoo.load(jpeg_run)
    assert str(model.degradation()) == str(recipe_lib.PluginRef(**DEGRADATION))
    assert repr(model).startswith("<TrainedModel tiny x2, step 2")


def test_inference_imports_nothing_from_training(jpeg_run):
    program = (
        "import sys, numpy as np, zoo\n"
        f"model = zoo.load({str(jpeg_run)!r})\n"
        "model.upscale(np.zeros((8, 8, 3), np.uint8))\n"
        "import zoo.compare\n"
        "leaked = sorted(m for m in sys.modules if m in ('zoo.train', 'zoo.workdir', "
        "'zoo.interrupt', 'zoo.report'))\n"
        "print(leaked)\n"
    )
    result = subprocess.run(
        [sys.executable, "-c", program], capture_output=True, text=True, check=True
    )
    assert result.stdout.strip().splitlines()[-1] == "[]"
