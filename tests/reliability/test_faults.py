"""Faults during and after training: divergence, damaged checkpoints, lost outputs, two runs.

Each test makes its own tiny run (tests/tiny.py) in seconds. What a user sees is checked through
the CLI (click's CliRunner) as well as through the Python API, whose errors speak Python.
"""

from __future__ import annotations

import json
import os
import shutil
import signal
import subprocess
import sys
import time
from pathlib import Path

import jax.numpy as jnp
import numpy as np
import pytest
from click.testing import CliRunner
from flax import nnx
from tiny import tiny_dict, tiny_recipe, write_recipe

import zoo
from zoo import assemble, checkpoint, hookimpl, workdir
from zoo.cli import cli
from zoo.errors import ZooError
from zoo.registry import get_registry
from zoo.train import Diverged

DIVERGING = ("optimizer.learning_rate=1e8", "train.log_every=1", "train.steps=6")


def run(path: Path, *overrides: str, **kwargs):
    return zoo.run(tiny_dict(*overrides), workdir=path, progress=False, **kwargs)


def test_a_diverging_run_stops_keeps_the_last_good_checkpoint_and_writes_no_nan(tmp_path):
    with pytest.raises(Diverged) as caught:
        run(tmp_path / "run", *DIVERGING, "train.checkpoint_every=2")
    message = str(caught.value)
    assert "not finite at step 3" in message
    assert "last finite loss" in message and "at step 2" in message
    assert "optimizer.learning_rate" in message and "train.on_nonfinite: skip" in message
    assert checkpoint.latest_step(tmp_path / "run") == 2
    state = zoo.load(tmp_path / "run").state
    assert all(np.all(np.isfinite(np.asarray(x))) for x in jax_leaves(state["params"]))
    assert not (tmp_path / "run" / "metrics.json").exists()


def test_a_diverging_run_exits_non_zero_from_the_cli(tmp_path):
    recipe = write_recipe(tmp_path / "diverge.yaml", tiny_dict(*DIVERGING))
    result = CliRunner().invoke(cli, ["run", str(recipe), "--workdir", str(tmp_path / "run")])
    assert result.exit_code == Diverged.exit_code == 3, result.output
    assert "Error: training diverged" in result.output
    assert "Traceback" not in result.output


class InfiniteLoss:
    """A temporary plugin: a metric that is infinite on every batch, so every step is skipped."""

    @hookimpl
    def register_metrics(self, register):
        def infinite(pred, target):
            # Its gradient is not finite either: an applied step would turn parameters to NaN.
            return jnp.mean((pred - target) ** 2, axis=(1, 2, 3)) * jnp.inf

        register("infinite", lambda: infinite, higher_is_better=False, differentiable=True)


def test_skipping_non_finite_steps_trains_on_and_counts_them(tmp_path, register_plugin):
    register_plugin(InfiniteLoss(), name="infinite_loss")
    result = run(
        tmp_path / "run", "loss={infinite: 1.0}", "train.steps=6", "train.on_nonfinite=skip"
    )
    assert result.skipped == 6
    metrics = json.loads((tmp_path / "run" / "metrics.json").read_text())
    assert metrics["skipped_steps"] == 6
    # Every step was skipped, so the parameters are still the initial ones, bit for bit.
    recipe = tiny_recipe("loss={infinite: 1.0}")
    initial = nnx.state(assemble.build_model(recipe, get_registry()), nnx.Param)
    trained = zoo.load(tmp_path / "run").state["params"]
    for start, end in zip(jax_leaves(initial), jax_leaves(trained), strict=True):
        np.testing.assert_array_equal(np.asarray(start), np.asarray(end))


def jax_leaves(tree):
    import jax

    return jax.tree.leaves(tree)


# ---------------------------------------------------------------------------------------------
# Damaged checkpoints: the newest intact step is used, the damaged one is named and kept


def damage(step_dir: Path, kind: str) -> None:
    state = step_dir / "state"
    if kind == "truncated data":
        for data in state.rglob("d/*"):
            data.write_bytes(data.read_bytes()[:10])
    elif kind == "missing manifest":
        for manifest in state.rglob("manifest.ocdbt"):
            manifest.unlink()
    elif kind == "missing state":
        shutil.rmtree(state)
    elif kind == "empty metadata":
        (state / "_METADATA").write_text("")


@pytest.fixture(scope="module")
def two_checkpoints(tmp_path_factory) -> Path:
    path = tmp_path_factory.mktemp("two_checkpoints") / "run"
    zoo.run(tiny_dict("train.steps=4", "train.checkpoint_every=2"), workdir=path, progress=False)
    return path


DAMAGE = ["truncated data", "missing manifest", "missing state", "empty metadata"]


@pytest.mark.parametrize("kind", DAMAGE)
def test_a_damaged_latest_checkpoint_falls_back_to_the_previous_one(
    two_checkpoints, tmp_path, kind, capfd
):
    path = tmp_path / "run"
    shutil.copytree(two_checkpoints, path)
    damage(path / "checkpoints" / "4", kind)
    capfd.readouterr()
    model = zoo.load(path)
    assert model.step == 2
    err = capfd.readouterr().err
    warnings = [line for line in err.splitlines() if line.strip()]
    assert len(warnings) == 1, err
    assert warnings[0].startswith("warning: checkpoint step 4 in ") and "damaged" in warnings[0]
    assert (path / "checkpoints" / "4").is_dir()  # named and kept, never deleted


def test_eval_and_upscale_use_the_intact_checkpoint(two_checkpoints, tmp_path):
    path = tmp_path / "run"
    shutil.copytree(two_checkpoints, path)
    damage(path / "checkpoints" / "4", "truncated data")
    runner = CliRunner()
    args = ["--checkpoint", str(path), "--data", "embedded", "--split", "holdout", "--limit", "1"]
    result = runner.invoke(cli, ["eval", *args, "--upscalers", "bicubic", "--json"])
    assert result.exit_code == 0, result.output
    assert "Traceback" not in result.output
    image = tmp_path / "in.png"
    from zoo.images import write_png

    write_png(image, np.zeros((12, 12, 3), np.uint8))
    result = runner.invoke(
        cli, ["upscale", "--checkpoint", str(path), str(image), "-o", str(tmp_path / "out")]
    )
    assert result.exit_code == 0, result.output
    assert "step 2" in result.output


def test_resume_past_a_damaged_checkpoint_sets_it_aside_and_trains_on(two_checkpoints, tmp_path):
    path = tmp_path / "run"
    shutil.copytree(two_checkpoints, path)
    damage(path / "checkpoints" / "4", "missing manifest")
    result = run(path, "train.steps=6", "train.checkpoint_every=2", resume=True)
    assert result.steps == 6
    assert sorted(os.listdir(path / "checkpoints"))[:3] == ["2", "4", "6"]
    aside = list((path / "checkpoints.damaged").iterdir())
    assert len(aside) == 1 and aside[0].name.startswith("4.")


def test_no_intact_checkpoint_is_a_one_line_error(two_checkpoints, tmp_path):
    path = tmp_path / "run"
    shutil.copytree(two_checkpoints, path)
    for step in ("2", "4"):
        damage(path / "checkpoints" / step, "missing state")
    with pytest.raises(checkpoint.CheckpointError, match="no intact checkpoint; step"):
        zoo.load(path)


def test_a_damaged_step_asked_for_by_number_is_an_error(two_checkpoints, tmp_path):
    path = tmp_path / "run"
    shutil.copytree(two_checkpoints, path)
    damage(path / "checkpoints" / "4", "empty metadata")
    with pytest.raises(checkpoint.DamagedCheckpoint, match="4 is damaged"):
        zoo.load(path, step=4)


# ---------------------------------------------------------------------------------------------
# Lost outputs, and the lock


def test_resume_completes_a_run_that_lost_its_outputs(two_checkpoints, tmp_path):
    # kill -9 between the final checkpoint and metrics.json / report.html leaves exactly this.
    path = tmp_path / "run"
    shutil.copytree(two_checkpoints, path)
    before = json.loads((path / "metrics.json").read_text())["results"]
    for name in ("metrics.json", "report.html"):
        (path / name).unlink()
    result = run(path, "train.steps=4", "train.checkpoint_every=2", resume=True)
    assert result.steps == 4
    assert json.loads((path / "metrics.json").read_text())["results"] == before
    assert (path / "report.html").is_file()
    with pytest.raises(ZooError, match="already reached step 4"):
        run(path, "train.steps=4", "train.checkpoint_every=2", resume=True)


def test_a_second_run_on_a_locked_directory_fails_at_once_naming_the_holder(tmp_path):
    path = tmp_path / "run"
    recipe = write_recipe(tmp_path / "tiny.yaml")
    with workdir.locked(path):
        result = CliRunner().invoke(cli, ["run", str(recipe), "--workdir", str(path)])
    assert result.exit_code == 2, result.output
    assert f"{path} is in use by pid {os.getpid()}" in result.output
    assert not (path / "checkpoints").exists()


def test_a_killed_holder_releases_the_lock(tmp_path):
    path = tmp_path / "run"
    holder = subprocess.Popen(
        [
            sys.executable,
            "-c",
            "import sys, time; from zoo import workdir\n"
            f"with workdir.locked({str(path)!r}):\n"
            "    print('locked', flush=True); time.sleep(60)",
        ],
        stdout=subprocess.PIPE,
        text=True,
    )
    assert holder.stdout is not None and holder.stdout.readline().strip() == "locked"
    with pytest.raises(workdir.RunDirectoryBusy, match=f"pid {holder.pid}"), workdir.locked(path):
        pass
    holder.send_signal(signal.SIGKILL)
    holder.wait()
    holder.stdout.close()
    with workdir.locked(path):
        pass  # free again: the OS released the dead holder's lock


def test_python_errors_speak_python_and_the_cli_speaks_flags(tmp_path):
    path = tmp_path / "run"
    run(path)
    with pytest.raises(ZooError) as caught:
        run(path)
    assert "resume=True" in str(caught.value) and "--resume" not in str(caught.value)
    recipe = write_recipe(tmp_path / "tiny.yaml")
    result = CliRunner().invoke(cli, ["run", str(recipe), "--workdir", str(path)])
    assert result.exit_code == 2
    assert "--resume" in result.output and "resume=True" not in result.output


def test_kill_9_mid_run_then_resume_matches_an_uninterrupted_run(tmp_path):
    overrides = ("train.steps=40", "train.checkpoint_every=5", "train.log_every=5")
    recipe = write_recipe(tmp_path / "tiny.yaml", tiny_dict(*overrides))
    killed = tmp_path / "killed"
    process = subprocess.Popen(
        [sys.executable, "-m", "zoo", "run", str(recipe), "--workdir", str(killed)],
        stdout=subprocess.DEVNULL,
        stderr=subprocess.DEVNULL,
    )
    try:
        deadline = time.monotonic() + 120
        while not (killed / "checkpoints" / "10").is_dir():
            assert process.poll() is None, "the run ended before it could be killed"
            assert time.monotonic() < deadline, "no checkpoint appeared"
            time.sleep(0.05)
    finally:
        process.send_signal(signal.SIGKILL)
        process.wait()
    assert not (killed / "metrics.json").exists()
    run(killed, *overrides, resume=True)
    straight = run(tmp_path / "straight", *overrides)
    resumed = json.loads((killed / "metrics.json").read_text())
    assert resumed["results"] == straight.evaluation.to_json()["results"]


def full_state(payload):
    """The whole training state a checkpoint holds, as shapes, for its saved recipe."""
    from zoo import assemble, reuse
    from zoo.registry import get_registry
    from zoo.state import initial_state

    recipe = reuse.recipe_of(payload, "checkpoint")
    model = assemble.build_model(recipe, get_registry(), abstract=True)
    return initial_state(model, assemble.build_optimizer(recipe), recipe.train.seed)[1]


def test_a_checkpoint_with_non_finite_parameters_is_refused(two_checkpoints, tmp_path):
    # Runs from before the guard could save NaN; upscaling from one wrote an all-black image.
    import jax

    path = tmp_path / "nan_run"
    loaded = checkpoint.load(two_checkpoints, full_state)
    poisoned = dict(loaded.state)
    poisoned["params"] = jax.tree.map(
        lambda x: np.full_like(np.asarray(x), np.nan), loaded.state["params"]
    )
    manager = checkpoint.open_manager(path, checkpoint.Policy(async_save=False))
    checkpoint.save(manager, 5, poisoned, loaded.payload)
    checkpoint.finish(manager)
    with pytest.raises(checkpoint.CheckpointError, match="not all finite"):
        zoo.load(path)
    image = tmp_path / "in.png"
    from zoo.images import write_png

    write_png(image, np.zeros((12, 12, 3), np.uint8))
    result = CliRunner().invoke(
        cli, ["upscale", "--checkpoint", str(path), str(image), "-o", str(tmp_path / "out")]
    )
    assert result.exit_code == 2, result.output
    assert "not all finite" in result.output and "Traceback" not in result.output
    assert not (tmp_path / "out").exists() or not any((tmp_path / "out").iterdir())
