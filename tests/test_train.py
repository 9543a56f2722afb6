"""Training end to end: outputs, determinism, sharding, resume, Ctrl-C, retention, early errors.

Every run here is tiny (16-pixel patches, batches of 2, a few steps of an 8-wide resnet, one
32-pixel evaluation image), so the file stays fast on a two-core CPU. Tests that only read a run
share the module's `tiny_run`.
"""

from __future__ import annotations

import json
import shutil
import signal
from pathlib import Path
from typing import Any

import jax
import numpy as np
import pytest
from click.testing import CliRunner
from PIL import Image
from tiny import tiny_dict, tiny_recipe, write_recipe

import zoo
from zoo import assemble, checkpoint, pipeline
from zoo import recipe as recipe_lib
from zoo.cli import cli
from zoo.errors import RecipeError, ZooError
from zoo.registry import get_registry
from zoo.train import Interrupted, compile_steps, score, train_and_evaluate
from zoo.train_input import patch_sampler

STEPS = 4
# The shared tiny recipe (tests/tiny.py), trained for a few steps with evaluation, logging and
# checkpoints along the way, so resume, retention and the history have something to show.
TRAIN_OVERRIDES = (
    f"train={{steps: {STEPS}, eval_every: 2, checkpoint_every: 2, log_every: 1}}",
    "eval.metrics=[psnr, mse]",
    "eval.upscalers=[nearest, bicubic]",
    "checkpoint.keep=2",
)
TRAIN_TINY: dict[str, Any] = tiny_dict(*TRAIN_OVERRIDES)


def make_recipe(*overrides: str) -> recipe_lib.Recipe:
    return tiny_recipe(*overrides, base=TRAIN_TINY)


def run(workdir: Path, *overrides: str, **kwargs: Any) -> zoo.train.RunResult:
    return train_and_evaluate(make_recipe(*overrides), workdir, progress=False, **kwargs)


def read_json(path: Path) -> Any:
    return json.loads(path.read_text(encoding="utf-8"))


def params_at(run_dir: Path, step: int) -> list[np.ndarray]:
    """The parameters saved at ``step``, restored from the run directory alone."""
    return [np.asarray(leaf) for leaf in jax.tree.leaves(zoo.load(run_dir, step).state["params"])]


def assert_same_params(a: list[np.ndarray], b: list[np.ndarray], atol: float) -> None:
    assert len(a) == len(b) and a
    for left, right in zip(a, b, strict=True):
        assert left.shape == right.shape
        np.testing.assert_allclose(left, right, rtol=0, atol=atol)


def saved_steps(run_dir: Path) -> list[int]:
    return sorted(int(p.name) for p in (run_dir / "checkpoints").iterdir() if p.name.isdigit())


@pytest.fixture(scope="module")
def tiny_run(tmp_path_factory: pytest.TempPathFactory) -> tuple[Path, zoo.train.RunResult]:
    """One uninterrupted 4-step run on all (two) devices; tests only read it."""
    workdir = tmp_path_factory.mktemp("train") / "tiny"
    return workdir, run(workdir)


# ---------------------------------------------------------------------------------------------
# Outputs


def test_run_writes_recipe_metrics_report_and_checkpoints(tiny_run):
    workdir, result = tiny_run
    assert sorted(p.name for p in workdir.iterdir()) == [
        "checkpoints",
        "logs",
        "metrics.json",
        "recipe.json",
        "report.html",
    ]

    saved = read_json(workdir / "recipe.json")
    assert saved["recipe"] == make_recipe().model_dump(mode="json")
    assert saved["zoo_version"] == zoo.__version__
    # Every plugin that built a part, by entry-point name, with its distribution and version.
    for name in ("autoencoder", "datasets", "degradations", "metrics", "upscalers"):
        assert saved["plugins"][name] == {"distribution": "zoo-sr", "version": zoo.__version__}
    # The recipe inside the checkpoint is the same resolved recipe.
    assert checkpoint.read_recipe(workdir)["recipe"] == saved["recipe"]

    metrics = read_json(workdir / "metrics.json")
    assert metrics["convention"] == "rgb"
    assert metrics["scale"] == 2
    assert metrics["steps"] == STEPS
    assert set(metrics["results"]) == {"model", "nearest", "bicubic"}
    (image,) = metrics["images"]
    for system, values in metrics["results"].items():
        assert set(values) == {"psnr", "mse"}
        for metric, mean in values.items():
            assert np.isfinite(mean)
            assert metrics["per_image"][system][metric][image] == pytest.approx(mean)
    # The bicubic baseline is a real measurement, not a placeholder.
    assert 20 < metrics["results"]["bicubic"]["psnr"] < 50

    # Without data.val nothing chooses a checkpoint: the last step is the model, and periodic
    # evaluation on data.eval is only watched.
    assert (metrics["step"], metrics["selected"]) == (STEPS, "last")
    assert (result.step, result.selected) == (STEPS, "last")

    history = metrics["history"]
    assert [entry["step"] for entry in history] == [1, 2, 3, 4]
    assert all(np.isfinite(entry["loss"]) and entry["loss"] > 0 for entry in history)
    assert "eval_psnr" in history[1] and "eval_psnr" not in history[0]
    assert not any(key.startswith("val_") for entry in history for key in entry)
    final = history[-1]
    assert final["eval_psnr"] == pytest.approx(metrics["results"]["model"]["psnr"])
    assert final["eval_mse"] == pytest.approx(metrics["results"]["model"]["mse"])
    assert result.history == history

    html = (workdir / "report.html").read_text(encoding="utf-8")
    assert html.lstrip().lower().startswith("<!doctype html")
    assert "bicubic" in html and "nearest" in html

    assert saved_steps(workdir) == [2, 4]


def test_select_step_names_each_step_and_refuses_what_the_run_lacks(tiny_run, tmp_path):
    workdir, _ = tiny_run
    recipe = make_recipe()
    policy = checkpoint.policy_for(recipe, get_registry())
    assert checkpoint.default_step_rule(recipe) == "last"
    assert checkpoint.select_step(workdir, None, policy) == (STEPS, "last")
    assert checkpoint.select_step(workdir, "last", policy) == (STEPS, "last")
    assert checkpoint.select_step(workdir, 2, policy) == (2, "step 2")
    with pytest.raises(checkpoint.CheckpointError, match="saved steps: 2, 4"):
        checkpoint.select_step(workdir, 3, policy)
    with pytest.raises(checkpoint.CheckpointError, match=r"has no checkpoint\.best"):
        checkpoint.select_step(workdir, "best", policy)
    assert checkpoint.select_step(tmp_path / "nothing", None, policy) == (None, "last")


def test_same_recipe_and_seed_give_identical_metrics(tiny_run, tmp_path):
    workdir, _ = tiny_run
    again = run(tmp_path / "again")
    first = read_json(workdir / "metrics.json")
    second = read_json(tmp_path / "again" / "metrics.json")
    assert second["per_image"] == first["per_image"]
    assert second["history"] == first["history"]
    assert_same_params(params_at(tmp_path / "again", STEPS), params_at(workdir, STEPS), atol=0)
    assert again.evaluation.results == first["results"]


def test_one_device_and_two_devices_train_alike(tiny_run, tmp_path):
    devices = jax.devices()
    if len(devices) != 2:
        pytest.skip(f"needs exactly 2 devices (XLA_FLAGS forces 2 host devices); have {devices}")
    workdir, two = tiny_run  # trained on both devices: the default
    one = run(tmp_path / "one", devices=devices[:1])
    assert one.history[0]["loss"] == pytest.approx(two.history[0]["loss"], abs=1e-5, rel=0)
    assert_same_params(params_at(tmp_path / "one", STEPS), params_at(workdir, STEPS), atol=1e-5)


# ---------------------------------------------------------------------------------------------
# Resume


def test_resumed_run_matches_an_uninterrupted_one(tiny_run, tmp_path):
    workdir, straight = tiny_run
    half = tmp_path / "half"
    run(half, f"train.steps={STEPS // 2}")
    assert saved_steps(half) == [STEPS // 2]
    resumed = run(half, resume=True)
    assert resumed.steps == STEPS
    assert saved_steps(half) == [STEPS // 2, STEPS]
    assert_same_params(params_at(half, STEPS), params_at(workdir, STEPS), atol=1e-6)
    # The history carries on from the checkpoint: no step twice, none missing.
    assert [entry["step"] for entry in resumed.history] == [1, 2, 3, 4]
    for entry, expected in zip(resumed.history, straight.history, strict=True):
        assert entry == pytest.approx(expected, rel=1e-5, abs=1e-6)


def test_resume_with_a_changed_recipe_names_the_difference(tiny_run):
    workdir, _ = tiny_run
    before = saved_steps(workdir)
    with pytest.raises(RecipeError) as caught:
        run(workdir, "optimizer.learning_rate=0.01", "train.steps=6", resume=True)
    message = str(caught.value)
    assert "optimizer.learning_rate" in message
    assert "0.001" in message and "0.01" in message
    assert saved_steps(workdir) == before


def test_resume_past_the_end_or_without_checkpoints_is_an_error(tiny_run, tmp_path):
    workdir, _ = tiny_run
    with pytest.raises(ZooError, match="already reached step 4"):
        run(workdir, resume=True)
    with pytest.raises(ZooError, match="nothing to resume"):
        run(tmp_path / "empty", resume=True)


def test_fresh_run_into_a_used_workdir_is_refused(tiny_run):
    workdir, _ = tiny_run
    before = {p.relative_to(workdir): p.stat().st_mtime_ns for p in workdir.rglob("*")}
    with pytest.raises(ZooError) as caught:
        run(workdir)
    # The Python API speaks Python; the zoo command says --resume / --force (cli_message).
    assert "resume=True" in str(caught.value) and "force=True" in str(caught.value)
    assert "--resume" in caught.value.cli_message and "--force" in caught.value.cli_message
    after = {p.relative_to(workdir): p.stat().st_mtime_ns for p in workdir.rglob("*")}
    assert after == before


def test_force_moves_the_old_run_aside(tiny_run, tmp_path):
    source, _ = tiny_run
    workdir = tmp_path / "tiny"
    shutil.copytree(source, workdir)
    old_metrics = (workdir / "metrics.json").read_bytes()
    run(workdir, "train.steps=2", force=True)
    moved = [p for p in tmp_path.iterdir() if p.name.startswith("tiny.")]
    assert len(moved) == 1, list(tmp_path.iterdir())
    backup = moved[0]
    assert (backup / "metrics.json").read_bytes() == old_metrics
    assert saved_steps(backup) == [2, 4]
    assert zoo.load(backup, STEPS).step == STEPS
    assert saved_steps(workdir) == [2]
    assert read_json(workdir / "metrics.json")["steps"] == 2


# ---------------------------------------------------------------------------------------------
# Ctrl-C


@pytest.fixture
def ctrl_c_before(monkeypatch):
    """Send a real SIGINT to this process when the training loop takes a given step's batch
    (the pipeline cuts batches ahead of the step, in threads: the loop is where it is)."""

    def arm(step: int) -> None:
        original = pipeline.Batches.__next__

        def take(self):
            if self.next_step == step:
                signal.raise_signal(signal.SIGINT)
            return original(self)

        monkeypatch.setattr(pipeline.Batches, "__next__", take)

    return arm


@pytest.mark.parametrize(
    "interrupted_step",
    [
        pytest.param(1, id="between-checkpoints"),
        pytest.param(2, id="on-a-checkpoint-step"),  # the periodic save and the stop save meet
    ],
)
def test_ctrl_c_saves_exits_130_and_resume_finishes(
    tiny_run, tmp_path, ctrl_c_before, monkeypatch, interrupted_step
):
    workdir, _ = tiny_run
    (tmp_path / "recipes").mkdir()
    write_recipe(tmp_path / "recipes" / "tiny.yaml", TRAIN_TINY)
    monkeypatch.chdir(tmp_path)  # so `zoo run tiny`, as the message suggests, finds the recipe
    target = tmp_path / "run"
    handler = signal.getsignal(signal.SIGINT)
    # The signal arrives while the batch for step N is prepared: step N completes, then it stops.
    # Only the first run reaches that index; the resumed one starts after it.
    ctrl_c_before(interrupted_step - 1)
    runner = CliRunner()
    result = runner.invoke(cli, ["run", "tiny", "--workdir", str(target)])
    assert result.exit_code == Interrupted.exit_code == 130, result.output
    assert f"interrupted at step {interrupted_step}" in result.output
    assert f"zoo run tiny --workdir {target} --resume" in result.output
    assert "Traceback" not in result.output
    assert signal.getsignal(signal.SIGINT) is handler  # the handler is put back
    assert saved_steps(target) == [interrupted_step]
    assert not (target / "metrics.json").exists()

    resumed = runner.invoke(cli, ["run", "tiny", "--workdir", str(target), "--resume"])
    assert resumed.exit_code == 0, resumed.output
    assert read_json(target / "metrics.json")["steps"] == STEPS
    assert_same_params(params_at(target, STEPS), params_at(workdir, STEPS), atol=1e-6)


def test_ctrl_c_during_the_last_step_finishes_the_run(tmp_path, ctrl_c_before):
    ctrl_c_before(STEPS - 1)
    result = run(tmp_path / "run", f"train.steps={STEPS}")
    assert result.steps == STEPS
    assert (tmp_path / "run" / "metrics.json").is_file()
    assert saved_steps(tmp_path / "run")[-1] == STEPS


def test_interrupted_is_a_zoo_error_with_exit_code_130():
    assert issubclass(Interrupted, ZooError)
    assert Interrupted.exit_code == 130


# ---------------------------------------------------------------------------------------------
# Retention


def test_keep_one_and_best_psnr_leaves_the_latest_and_the_best(tmp_path):
    workdir = tmp_path / "run"
    # A large learning rate makes the model worse after its first step, so best != latest.
    retention = (
        "train.eval_every=1",
        "train.checkpoint_every=null",  # with checkpoint.best every validated step is saved
        "optimizer.learning_rate=0.05",
        "checkpoint.keep=1",
        "checkpoint.best=psnr",
        "data.val={images: 1}",
    )
    first = run(workdir, "train.steps=3", *retention)
    scored = {entry["step"]: entry["val_psnr"] for entry in first.history}
    assert sorted(scored) == [1, 2, 3]
    # Periodic evaluation scores data.val only: data.eval is scored once, at the end.
    assert not any("eval_psnr" in entry for entry in first.history)
    best = max(scored, key=scored.__getitem__)
    assert best != 3, f"the test needs a best step before the last one: {scored}"
    assert saved_steps(workdir) == [best, 3]
    assert_reports_the_selected_step(workdir, first, best)
    assert zoo.load(workdir).step == best  # the best by default, found from the files alone

    # The best survives a resume: the new manager reads the saved steps' metrics back.
    second = run(workdir, "train.steps=6", *retention, resume=True)
    scored = {entry["step"]: entry["val_psnr"] for entry in second.history}
    assert sorted(scored) == [1, 2, 3, 4, 5, 6]
    best = max(scored, key=scored.__getitem__)
    assert saved_steps(workdir) == sorted({best, 6})
    assert_reports_the_selected_step(workdir, second, best)
    assert zoo.load(workdir).step == best
    assert zoo.load(workdir, 6).step == 6


def assert_reports_the_selected_step(workdir: Path, result: zoo.train.RunResult, best: int) -> None:
    """metrics.json, the report and the result name the step select_step gives, and their
    numbers are that checkpoint's, scored on data.eval."""
    recipe = recipe_lib.Recipe.model_validate(read_json(workdir / "recipe.json")["recipe"])
    registry = get_registry()
    policy = checkpoint.policy_for(recipe, registry)
    assert checkpoint.select_step(workdir, None, policy) == (best, "best by val_psnr")
    metrics = read_json(workdir / "metrics.json")
    assert (metrics["step"], metrics["selected"]) == (best, "best by val_psnr")
    assert (result.step, result.selected) == (best, "best by val_psnr")
    assert metrics["steps"] == recipe.train.steps
    assert f"{best:,} (best by val_psnr)" in (workdir / "report.html").read_text(encoding="utf-8")
    # Score the checkpoint of that step afresh: the same numbers, bit for bit.
    parts = assemble.assemble(recipe, registry)
    steps = compile_steps(
        parts.model, parts.optimizer, parts.loss, parts.degradation.fn, seed=0, mesh=parts.mesh
    )
    state = steps.init()
    restored = checkpoint.load(workdir, lambda payload: state, step=best).state
    images = assemble.eval_set(
        parts.eval_dataset,
        parts.degradation,
        recipe.scale,
        limit=recipe.data.eval_images,
        crop=recipe.data.eval_crop,
    )
    model = {"model": assemble.model_system(steps.lr_predict(restored), recipe.scale)}
    again = score(images, model, parts).results["model"]
    assert again == metrics["results"]["model"] == result.evaluation.results["model"]


def test_held_out_images_leave_training():
    held = assemble.validate(make_recipe("data.val={images: 2}"), get_registry(), source="s")
    whole = assemble.validate(make_recipe(), get_registry(), source="s")
    names = list(whole.train_dataset.names)
    assert len(names) > 3
    assert list(held.train_dataset.names) == names[:-2]
    assert list(held.val_dataset.names) == names[-2:]
    assert whole.val_dataset is None
    assert len(patch_sampler(held).images) == len(names) - 2


def test_a_validation_dataset_chooses_the_checkpoint(tmp_path):
    folder = tmp_path / "val"
    folder.mkdir()
    rng = np.random.default_rng(0)
    Image.fromarray(rng.integers(0, 256, (40, 40, 3), np.uint8)).save(folder / "a.png")
    workdir = tmp_path / "run"
    result = run(
        workdir,
        f"data.val={{name: folder, path: {folder}}}",  # no split: the folder's `all`
        "checkpoint.best=psnr",
        "train.steps=2",
        "train.eval_every=1",
        "train.checkpoint_every=null",
    )
    assert [sorted(k for k in entry if k.startswith("val_")) for entry in result.history] == [
        ["val_mse", "val_psnr"],
        ["val_mse", "val_psnr"],
    ]
    scored = {entry["step"]: entry["val_psnr"] for entry in result.history}
    best = max(scored, key=scored.__getitem__)
    assert (result.step, result.selected) == (best, "best by val_psnr")
    assert read_json(workdir / "metrics.json")["step"] == best
    assert "folder(path=" in (workdir / "report.html").read_text(encoding="utf-8")


# ---------------------------------------------------------------------------------------------
# Errors before anything is written


def test_batch_not_divisible_by_devices_fails_before_writing(tmp_path):
    if len(jax.devices()) != 2:
        pytest.skip(
            f"needs exactly 2 devices (XLA_FLAGS forces 2 host devices); have {jax.devices()}"
        )
    workdir = tmp_path / "run"
    with pytest.raises(RecipeError, match=r"data\.batch \(3\).*2"):
        run(workdir, "data.batch=3")
    assert not workdir.exists()

    result = CliRunner().invoke(
        cli,
        [
            "run",
            str(write_recipe(tmp_path / "tiny.yaml", TRAIN_TINY)),
            "data.batch=3",
            "--workdir",
            str(workdir),
        ],
    )
    assert result.exit_code == 2, result.output
    assert "data.batch" in result.output and "Traceback" not in result.output
    assert not workdir.exists()


def test_a_pooling_model_evaluates_image_sizes_its_pooling_does_not_divide(tmp_path):
    """The DLI net pools twice; a 30-pixel eval image (15 LR pixels) is padded, then cropped."""
    result = run(
        tmp_path / "dli",
        "model.encoder={name: dli, width: 4}",
        "model.decoder=dli",
        "model.input=upsampled",
        "model.residual=false",
        "data.eval_crop=30",
        "train.steps=1",
    )
    assert result.evaluation.outputs["model"][0].shape == (30, 30, 3)
    assert np.isfinite(result.evaluation.results["model"]["psnr"])


def test_python_api_runs_a_recipe_with_keyword_overrides(tmp_path):
    result = zoo.run(
        tiny_dict(base=TRAIN_TINY),
        workdir=tmp_path / "api",
        progress=False,
        train__steps=1,
        data__eval_crop=16,
    )
    assert result.steps == 1
    assert (
        json.loads((tmp_path / "api" / "recipe.json").read_text())["recipe"]["train"]["steps"] == 1
    )
    model = zoo.load(tmp_path / "api")
    low = np.zeros((5, 7, 3), np.uint8)
    assert model.upscale(low).shape == (10, 14, 3)
    with pytest.raises(RecipeError, match="train has no field 'stepz'"):
        zoo.run(tiny_dict(base=TRAIN_TINY), workdir=tmp_path / "bad", train__stepz=1)
    assert not (tmp_path / "bad").exists()
