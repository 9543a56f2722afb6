"""Training logs as plugins: the jsonl history, TensorBoard event files read back, a third-party
logger, resume, and the recipe's `log` field."""

from __future__ import annotations

import io
import json
import struct
from pathlib import Path

import numpy as np
import pytest
from click.testing import CliRunner
from PIL import Image
from tensorboardX.proto import event_pb2
from tiny import tiny_recipe, train_tiny

from zoo.cli import cli
from zoo.errors import RecipeError
from zoo.plugin import hookimpl
from zoo.recipe import from_dict
from zoo.train import train_and_evaluate

LOGGED = ("train.steps=4", "train.eval_every=2", "train.log_every=1", "train.checkpoint_every=2")


def events(folder: Path) -> list[event_pb2.Event]:
    """Every event of every file in ``folder``: TFRecord framing (length, CRC, data, CRC)."""
    found = []
    for path in sorted(folder.glob("events.out.tfevents.*")):
        data = path.read_bytes()
        offset = 0
        while offset < len(data):
            (length,) = struct.unpack("<Q", data[offset : offset + 8])
            payload = data[offset + 12 : offset + 12 + length]
            found.append(event_pb2.Event.FromString(payload))
            offset += 12 + length + 4
    return found


def scalars(folder: Path) -> dict[str, dict[int, float]]:
    out: dict[str, dict[int, float]] = {}
    for event in events(folder):
        for value in event.summary.value:
            if value.HasField("simple_value"):
                out.setdefault(value.tag, {})[event.step] = value.simple_value
    return out


def pictures(folder: Path) -> dict[str, dict[int, np.ndarray]]:
    out: dict[str, dict[int, np.ndarray]] = {}
    for event in events(folder):
        for value in event.summary.value:
            if value.HasField("image"):
                picture = Image.open(io.BytesIO(value.image.encoded_image_string))
                out.setdefault(value.tag, {})[event.step] = np.asarray(picture)
    return out


def history_lines(run: Path) -> list[dict]:
    return [json.loads(line) for line in (run / "logs" / "history.jsonl").read_text().splitlines()]


@pytest.fixture(scope="module")
def logged_run(tmp_path_factory) -> Path:
    run = tmp_path_factory.mktemp("logged") / "run"
    return train_tiny(run, *LOGGED, "log=[jsonl, tensorboard]")


def test_jsonl_holds_the_history_of_metrics_json(logged_run):
    history = json.loads((logged_run / "metrics.json").read_text())["history"]
    lines = history_lines(logged_run)
    assert [line["step"] for line in lines] == [entry["step"] for entry in history] == [1, 2, 3, 4]
    for entry, line in zip(history, lines, strict=True):
        assert {key: line[key] for key in entry} == entry  # every number of the history
        assert line["learning_rate"] > 0 and line["step_time_s"] > 0
    assert "eval_psnr" in lines[1] and "eval_psnr" in lines[3]  # periodic and final evaluation


def test_tensorboard_event_files_hold_the_scalars(logged_run):
    history = json.loads((logged_run / "metrics.json").read_text())["history"]
    found = scalars(logged_run / "logs" / "tensorboard")
    losses = {entry["step"]: entry["loss"] for entry in history}
    assert found["train/loss"] == pytest.approx(losses, rel=1e-6)
    assert set(found["train/learning_rate"]) == set(found["train/step_time_s"]) == {1, 2, 3, 4}
    psnr = {entry["step"]: entry["eval_psnr"] for entry in history if "eval_psnr" in entry}
    assert found["eval/psnr"] == pytest.approx(psnr, rel=1e-6)
    assert sorted(psnr) == [2, 4]


def test_tensorboard_shows_the_side_by_side_crops_at_each_evaluation(logged_run):
    found = pictures(logged_run / "logs" / "tensorboard")
    assert found, "no image in the event files"
    for by_step in found.values():
        assert sorted(by_step) == [2, 4]
        picture = by_step[2]
        # LR, the model, HR: three square panels with two white gaps, in RGB
        assert picture.ndim == 3 and picture.shape[2] == 3
        side = picture.shape[0]
        assert picture.shape[1] == 3 * side + 2 * 4
    # At the end every compared system stands beside the model.
    final = next(iter(found.values()))[4]
    assert final.shape[1] > next(iter(found.values()))[2].shape[1]


def test_a_resumed_run_logs_each_step_once(tmp_path):
    run = tmp_path / "run"
    train_tiny(
        run, *LOGGED[:-1], "train.checkpoint_every=2", "log=[jsonl, tensorboard]", "train.steps=2"
    )
    # A line after the checkpoint, as a run killed after logging step 3 leaves it.
    with (run / "logs" / "history.jsonl").open("a") as log:
        log.write(json.dumps({"step": 3, "loss": 1.0}) + "\n")
    recipe = tiny_recipe(*LOGGED, "log=[jsonl, tensorboard]")
    train_and_evaluate(recipe, run, resume=True, progress=False)
    lines = history_lines(run)
    assert [line["step"] for line in lines] == [1, 2, 3, 4]
    assert lines[2]["loss"] != 1.0
    files = sorted((run / "logs" / "tensorboard").glob("events.out.tfevents.*"))
    assert len(files) == 2  # one per session; the second tells TensorBoard to drop steps > 2
    purges = [e.step for e in events(run / "logs" / "tensorboard") if e.session_log.status == 1]
    assert purges == [3]


class Recording:
    """A third-party logger that keeps what it is given."""

    def __init__(self, directory: Path, start_step: int) -> None:
        self.directory, self.start_step = directory, start_step
        self.scalars_seen: list[tuple[int, dict]] = []
        self.images_seen: list[tuple[int, list[str]]] = []
        self.closed = False
        Recording.last = self

    def scalars(self, step, values):
        self.scalars_seen.append((step, dict(values)))

    def images(self, step, images):
        self.images_seen.append((step, sorted(images)))

    def close(self):
        self.closed = True


class RecordingPlugin:
    @hookimpl
    def register_loggers(self, register):
        def factory(*, directory: Path, start_step: int, label: str = "x"):
            return Recording(directory, start_step)

        register("recording", factory, description="keeps what it is given, for a test")


def test_a_plugin_logger_gets_every_logged_step(tmp_path, register_plugin):
    register_plugin(RecordingPlugin(), name="recording_plugin")
    listed = CliRunner().invoke(cli, ["plugins", "--all"])
    assert "recording" in listed.output and "jsonl" in listed.output
    run = train_tiny(tmp_path / "run", *LOGGED, "log=[{name: recording, label: y}]")
    logger = Recording.last
    assert logger.directory == run / "logs" and logger.start_step == 0 and logger.closed
    assert [step for step, _ in logger.scalars_seen] == [1, 2, 3, 4]
    assert "train/loss" in logger.scalars_seen[0][1]
    assert "eval/psnr" in logger.scalars_seen[3][1]
    assert [step for step, _ in logger.images_seen] == [2, 4]
    assert (run / "logs" / "history.jsonl").is_file()  # jsonl is on without being named


def test_jsonl_is_always_on_and_comes_first():
    assert [ref.name for ref in tiny_recipe().log] == ["jsonl"]
    assert [ref.name for ref in tiny_recipe("log=[tensorboard]").log] == ["jsonl", "tensorboard"]
    assert [ref.name for ref in tiny_recipe("log=[tensorboard, jsonl]").log] == [
        "tensorboard",
        "jsonl",
    ]


@pytest.mark.parametrize(
    ("override", "message"),
    [
        (
            "log=[tensorbord]",
            r"log\[1\]: unknown logger 'tensorbord'\. Did you mean \"tensorboard\"\? "
            r"Valid: jsonl, tensorboard\.",
        ),
        ("log=[jsonl, jsonl]", r"log.*names jsonl more than once"),
        ("log=[{name: tensorboard, flush_sec: 5}]", r"log\[1\].*has no option 'flush_sec'"),
    ],
)
def test_a_bad_log_entry_is_named_before_any_compute(tmp_path, override, message):
    from tiny import TINY

    with pytest.raises(RecipeError, match=message):
        from_dict(TINY, [override], source="tiny.yaml")
