"""Every command the documentation shows is exercised, and the table below says how.

The commands are read from the fenced code blocks (bash, sh, shell, console and plain) of
README.md, docs/*.md and examples/*/README.md: backslash continuations joined, `&&` chains
split, `# comments` and `$ ` prompts stripped, a `for ... done` loop kept whole, and lines of a
plain or console block that are not commands (output, file trees, messages) skipped.

COMMANDS maps each command, exactly as extracted, to one of three kinds:

- ``Literal``: run as shown, in-process (click's CliRunner on ``zoo.cli.cli``) from the
  repository root, so relative paths resolve as they do for a reader of the docs.
- ``Adapted``: run the same way with what the entry states appended (cheap overrides, a
  temporary ``--workdir``) and/or placeholders replaced (a generated image for ``photo.jpg``,
  a short run of the same recipe for ``runs/ae_x2``).
- ``Elsewhere``: run by something else, named: a nox session in noxfile.py (whose body must
  contain the stated text), the CI script .ci/run, or test functions in other files (which must
  exist).

A command that a doc shows but the table lacks fails, naming the file and line: add it to the
table. A table entry that no doc shows any more fails too: remove it. Commands that read
``../shared/data`` skip, saying why, when the benchmark images are absent.
"""

from __future__ import annotations

import ast
import json
import re
import shlex
import shutil
from collections.abc import Callable
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import numpy as np
import pytest
from click.testing import CliRunner, Result
from PIL import Image

import zoo
from zoo.cli import cli

REPO = Path(__file__).resolve().parents[1]
DOCS = sorted([REPO / "README.md", *REPO.glob("docs/*.md"), *REPO.glob("examples/*/README.md")])
SHELL_BLOCKS = {"bash", "sh", "shell", "console", ""}
# In a plain or console block a line is a command only if it starts with one of these (or a
# `$ ` prompt, or VAR=value); every line of a bash/sh/shell block is a command.
COMMAND_WORDS = {"zoo", "python", "python3", "pip", "nox", ".", "source", "for", "cd", "export"}
SHARED_DATA_IN_DOCS = "../shared/data"


# ---------------------------------------------------------------------------------------------
# Extraction


@dataclass(frozen=True)
class Shown:
    """One command as a doc shows it, and where."""

    command: str
    file: str
    line: int

    def __str__(self) -> str:
        return f"{self.file}:{self.line}: {self.command}"


def strip_comment(line: str) -> str:
    """The line without a shell comment (a `#` at the start or after a blank, not quoted)."""
    quote = None
    for i, char in enumerate(line):
        if quote:
            quote = None if char == quote else quote
        elif char in "'\"":
            quote = char
        elif char == "#" and (i == 0 or line[i - 1].isspace()):
            return line[:i].rstrip()
    return line.rstrip()


def split_and(command: str) -> list[str]:
    """`a && b` -> [a, b], outside quotes."""
    parts, quote, start = [], None, 0
    for i, char in enumerate(command):
        if quote:
            quote = None if char == quote else quote
        elif char in "'\"":
            quote = char
        elif command.startswith("&&", i) and i >= start:
            parts.append(command[start:i])
            start = i + 2
    parts.append(command[start:])
    return [" ".join(part.split()) for part in parts if part.strip()]


def looks_like_a_command(text: str) -> bool:
    first = text.split()[0]
    return first in COMMAND_WORDS or re.match(r"[A-Z_][A-Z0-9_]*=", first) is not None


def loop_depth(text: str) -> int:
    words = text.replace(";", " ").split()
    opened = sum(word in ("for", "while", "until", "if") for word in words)
    return opened - sum(word in ("done", "fi") for word in words)


def commands_in_block(block: list[tuple[int, str]], language: str, file: str) -> list[Shown]:
    found: list[Shown] = []
    loop: tuple[int, str] | None = None  # (first line, text so far) of an unfinished loop
    depth = 0
    lines = iter(block)
    for number, raw in lines:
        text = raw.strip()
        prompted = text.startswith("$ ")
        text = text[2:] if prompted else text
        if not text:
            continue
        is_output = language == "console" or (language == "" and not looks_like_a_command(text))
        if loop is None and not prompted and is_output:
            continue  # output, not a command
        text = strip_comment(text)
        while text.endswith("\\"):
            text = text[:-1] + " " + strip_comment(next(lines, (0, ""))[1].strip())
        text = " ".join(text.split())
        if not text:
            continue
        if loop is not None or loop_depth(text) > 0:
            if loop is None:
                loop = (number, text)
            else:
                glue = " " if loop[1].endswith(("do", "then", ";")) else "; "
                loop = (loop[0], loop[1] + glue + text)
            depth += loop_depth(text)
            if depth <= 0:
                found.append(Shown(loop[1], file, loop[0]))
                loop, depth = None, 0
            continue
        found += [Shown(part, file, number) for part in split_and(text)]
    return found


def commands_in(path: Path) -> list[Shown]:
    """Every command in the shell code blocks of one Markdown file."""
    file = str(path.relative_to(REPO) if path.is_relative_to(REPO) else path)
    found: list[Shown] = []
    block: list[tuple[int, str]] | None = None
    fence = language = ""
    for number, line in enumerate(path.read_text(encoding="utf-8").splitlines(), start=1):
        opening = re.match(r"\s*(```+|~~~+)\s*([\w+-]*)", line)
        if block is None:
            if opening:
                fence, language, block = opening.group(1), opening.group(2).lower(), []
        elif line.strip().startswith(fence) and not line.strip()[len(fence) :].strip():
            if language in SHELL_BLOCKS:
                found += commands_in_block(block, language, file)
            block = None
        else:
            block.append((number, line))
    return found


def shown_commands() -> list[Shown]:
    return [shown for path in DOCS for shown in commands_in(path)]


# ---------------------------------------------------------------------------------------------
# The table


@dataclass(frozen=True)
class Literal:
    """(a) Run exactly as shown; ``expect``: text the output must contain."""

    expect: tuple[str, ...] = ()
    needs: tuple[str, ...] = ()  # fixtures: shared_data, example_plugin
    check: Callable[[Result, dict[str, Any]], None] | None = None


@dataclass(frozen=True)
class Adapted:
    """(b) Run with ``append`` added and each ``replace`` token swapped for what it names.

    ``{tmp}`` is the test's temporary folder; ``{ae_x2_run}`` the 2-step run of
    recipes/ae_x2.yaml that the ``zoo run recipes/ae_x2.yaml`` entry makes (once per module);
    ``{photo}`` a generated 20x24 JPEG; ``{more_photos}`` a folder holding one generated PNG.
    ``{shared_data}``: the benchmark images' folder (../shared/data, or ZOO_SHARED_DATA).
    ``resumes_ae_x2_run``: a copy of {ae_x2_run} is put at {tmp}/run first, to be continued.
    """

    append: tuple[str, ...] = ()
    replace: dict[str, str] = field(default_factory=dict)
    expect: tuple[str, ...] = ()
    needs: tuple[str, ...] = ()
    resumes_ae_x2_run: bool = False
    check: Callable[[Result, dict[str, Any]], None] | None = None


@dataclass(frozen=True)
class Elsewhere:
    """(c) Exercised by something named: a nox session, the CI script, or tests elsewhere."""

    why: str
    session: str | None = None  # a nox session in noxfile.py ...
    session_runs: tuple[str, ...] = ()  # ... whose function's source contains each of these
    ci_runs: tuple[str, ...] = ()  # text .ci/run contains
    tests: tuple[str, ...] = ()  # "test_file.py::test_name", each defined in tests/
    options_of: str | None = None  # a script whose argparse defines every --option shown
    table_runs: tuple[str, ...] = ()  # text benchmarks/table.py (the bench session's) contains


BENCH_TABLE = ('"benchmarks/table.py"',)  # the bench session runs every benchmark through it


# Cheap settings for a real training run: two steps, evaluation and checkpoint at the end only,
# one 48-pixel evaluation crop; the run goes to a temporary folder instead of runs/<name>.
CHEAP = (
    "train.steps=2",
    "train.eval_every=null",
    "train.checkpoint_every=null",
    "data.eval_images=1",
    "data.eval_crop=48",
)
# The DLI recipes train on whole images resized to 256x256 in batches of 10 (25 s a step on
# this CPU): the same recipe on 32x32 images in batches of 2, one step.
CHEAP_DLI = (
    "train.steps=1",
    "train.eval_every=null",
    "train.checkpoint_every=null",
    "data.resize=32",
    "data.patch=32",
    "data.batch=2",
    "data.eval_images=1",
    "data.eval_crop=32",
)


def read_json(path: Path) -> Any:
    return json.loads(path.read_text(encoding="utf-8"))


def trained(steps: int, **fields: Any) -> Callable[[Result, dict[str, Any]], None]:
    """The run in {tmp}/run finished ``steps`` steps and wrote its metrics, report, checkpoints."""

    def check(result: Result, resources: dict[str, Any]) -> None:
        run = resources["tmp"] / "run"
        assert {"metrics.json", "recipe.json", "report.html", "checkpoints"} <= {
            p.name for p in run.iterdir()
        }
        assert read_json(run / "metrics.json")["steps"] == steps
        recipe = read_json(run / "recipe.json")["recipe"]
        for dotted, value in fields.items():
            node = recipe
            for part in dotted.split("__"):
                node = node[part]
            assert node == value, f"{dotted}: {node!r} != {value!r}"

    return check


def logged_for_tensorboard(result: Result, resources: dict[str, Any]) -> None:
    """The smoke run finished and wrote its jsonl history and TensorBoard event files."""
    trained(4, name="smoke")(result, resources)
    logs = resources["tmp"] / "run" / "logs"
    assert len((logs / "history.jsonl").read_text(encoding="utf-8").splitlines()) == 4
    assert list((logs / "tensorboard").glob("events.out.tfevents.*"))


def upscaled_one_file(result: Result, resources: dict[str, Any]) -> None:
    with Image.open(resources["tmp"] / "photo_x2.png") as image:
        assert image.format == "PNG" and image.size == (48, 40)  # the 24x20 photo, x2


def gallery_shows_every_model(page: Path) -> None:
    from zoo.models import model_records
    from zoo.registry import get_registry

    text = page.read_text(encoding="utf-8")
    for record in model_records(get_registry()):
        assert f"<section id='{record['name']}'>" in text
    assert "<span class='name'>bicubic</span>" in text


def upscaled_two_images(result: Result, resources: dict[str, Any]) -> None:
    out = resources["tmp"] / "upscaled"
    assert sorted(p.name for p in out.iterdir()) == ["more.png", "photo.png"]
    with Image.open(out / "photo.png") as image:
        assert image.size == (48, 40)  # the 24x20 photo, x2


def initialised_from(source: str | None, kind: str) -> Callable[[Result, dict[str, Any]], None]:
    """The run in {tmp}/run started from ``source`` (None: any) of ``kind``, as recorded."""

    def check(result: Result, resources: dict[str, Any]) -> None:
        record = read_json(resources["tmp"] / "run" / "recipe.json")["init_from"]
        assert record["kind"] == kind and (source is None or record["source"] == source)
        assert record["copied"] > 0 and len(record["digest"]) == 64

    return check


def catalogued(name: str) -> Callable[[Result, dict[str, Any]], None]:
    """{tmp}/models.json registers ``name`` with the SHA-256 of {tmp}/NAME.zoo."""

    def check(result: Result, resources: dict[str, Any]) -> None:
        import hashlib

        entry = read_json(resources["tmp"] / "models.json")[name]
        weights = (resources["tmp"] / f"{name}.zoo").read_bytes()
        assert entry["sha256"] == hashlib.sha256(weights).hexdigest()
        assert entry["scale"] == 2 and entry["recipe"]["name"] == "ae_x2"

    return check


def zoo_version(result: Result, resources: dict[str, Any]) -> None:
    assert result.output.strip() == f"zoo, version {zoo.__version__}"


def table_has(*systems: str) -> Callable[[Result, dict[str, Any]], None]:
    """The `zoo eval` table has a row for each system."""

    def check(result: Result, resources: dict[str, Any]) -> None:
        rows = {line.split()[0] for line in result.output.splitlines() if line.strip()}
        missing = [system for system in systems if system not in rows]
        assert not missing, f"no row for {missing} in:\n{result.output}"

    return check


NOX_TESTS = "nox's `tests` session makes a fresh virtual environment and runs `pip install .`"
GUIDE = "the guide's test writes the page's files to a temporary folder, installs and runs them"
GUIDE_TEST = "reliability/test_plugin_guide.py::test_the_documented_commands_run"
INSTALL = ('session.install(".")',)
COMMANDS: dict[str, Literal | Adapted | Elsewhere] = {
    # README.md and docs/index.md: set up
    "python3 -m venv .venv": Elsewhere(NOX_TESTS, session="tests", session_runs=INSTALL),
    ". .venv/bin/activate": Elsewhere(NOX_TESTS, session="tests", session_runs=INSTALL),
    "pip install .": Elsewhere(NOX_TESTS, session="tests", session_runs=INSTALL),
    "python3 -m pip install nox": Elsewhere(
        "the CI script installs nox this way", ci_runs=("python3 -m pip install",)
    ),
    "nox -s tests": Elsewhere("the CI script runs it", session="tests", ci_runs=("nox -s tests",)),
    "zoo --version": Literal(check=zoo_version),
    # Training
    "zoo run recipes/ae_x2.yaml": Adapted(
        append=(*CHEAP, "--workdir", "{tmp}/run"),
        check=trained(2, name="ae_x2", train__steps=2, data__patch=64),
    ),
    "zoo run recipes/ae_x2.yaml train.steps=200 data.patch=48 --workdir runs/short": Adapted(
        append=(*CHEAP, "--workdir", "{tmp}/run"),  # the later train.steps and --workdir win
        check=trained(2, data__patch=48),
    ),
    # The zoo's models at x2, x3 and x4: one recipe design, the same checks at every scale.
    **{
        f"zoo run recipes/resnet_x{scale}.yaml --workdir runs/resnet_x{scale}": Adapted(
            # The recipe names ../shared/data; the overrides follow ZOO_SHARED_DATA where set.
            append=(
                *CHEAP,
                "data.train.path={shared_data}/Sun80",
                "data.eval.path={shared_data}/Set5/HR",
                "--workdir",
                "{tmp}/run",
            ),
            needs=("shared_data",),
            check=trained(
                2,
                name=f"resnet_x{scale}",
                scale=scale,
                data__patch=32 * scale,
                model__encoder__blocks=16,
                eval__convention="y",
            ),
        )
        for scale in (2, 3, 4)
    },
    **{
        f"zoo eval --model resnet_x{scale} --data ../shared/data/{dataset}/HR --convention y "
        "--json": Adapted(
            append=("--limit", "1"),
            needs=("shared_data",),
            expect=('"convention": "y"', f'"scale": {scale}'),
        )
        for scale in (2, 3, 4)
        for dataset in ("Set5", "Set14")
    },
    # The classic networks: one recipe per design and scale, measured, not shipped.
    "zoo run recipes/fsrcnn_x3.yaml --workdir runs/fsrcnn_x3": Adapted(
        append=(
            *CHEAP,
            "data.train.path={shared_data}/Sun80",
            "data.eval.path={shared_data}/Set5/HR",
            "--workdir",
            "{tmp}/run",
        ),
        needs=("shared_data",),
        check=trained(
            2, name="fsrcnn_x3", scale=3, model__encoder__name="fsrcnn", eval__convention="y"
        ),
    ),
    "python tools/measure_recipe.py recipes/fsrcnn_x3.yaml": Elsewhere(
        "it trains the recipe for minutes and rewrites it; what it writes is tested with the "
        "measurements given",
        tests=(
            "test_measure_recipe.py::test_the_time_and_reach_blocks_are_replaced_and_the_rest_kept",
            "test_measure_recipe.py::test_rewriting_twice_gives_the_same_file",
        ),
        options_of="tools/measure_recipe.py",
    ),
    # The DLI course's network at x2, trained on patches (the shipped dli_x2).
    "zoo run recipes/dli_x2.yaml --workdir runs/dli_x2": Adapted(
        append=(
            *CHEAP,
            "data.train.path={shared_data}/Sun80",
            "data.eval.path={shared_data}/Set5/HR",
            "--workdir",
            "{tmp}/run",
        ),
        needs=("shared_data",),
        check=trained(2, name="dli_x2", data__patch=48, model__input="upsampled"),
    ),
    **{
        f"zoo eval --model dli_x2 --data ../shared/data/{dataset}/HR --convention y "
        "--json": Adapted(
            append=("--limit", "1"),
            needs=("shared_data",),
            expect=('"convention": "y"', '"scale": 2'),
        )
        for dataset in ("Set5", "Set14")
    },
    "python tools/measure_recipe.py recipes/resnet_x4.yaml": Elsewhere(
        "it trains for most of an hour and rewrites the recipe; what it writes is tested with "
        "the measurements given",
        tests=(
            "test_measure_recipe.py::test_the_time_and_reach_blocks_are_replaced_and_the_rest_kept",
            "test_measure_recipe.py::test_rewriting_twice_gives_the_same_file",
        ),
        options_of="tools/measure_recipe.py",
    ),
    "zoo models --table": Literal(expect=("| model | network | scale |", "`resnet_x2`")),
    "zoo run recipes/ae_x2.yaml --dry-run": Literal(
        expect=("recipe ae_x2: x2 super-resolution, run directory runs/ae_x2", "161,580 parameters")
    ),
    "zoo run recipes/ae_x2.yaml --resume": Adapted(
        resumes_ae_x2_run=True,
        append=(*CHEAP, "train.steps=3", "--workdir", "{tmp}/run"),
        check=trained(3),
    ),
    "zoo run recipes/dli.yaml train.steps=40 train.eval_every=20 train.checkpoint_every=20": (
        Adapted(append=(*CHEAP_DLI, "--workdir", "{tmp}/run"), check=trained(1, name="dli"))
    ),
    "zoo run recipes/dli_hfenn.yaml": Adapted(
        append=(*CHEAP_DLI, "--workdir", "{tmp}/run"),
        check=trained(1, name="dli_hfenn", loss__hfenn__weight=10.0),
    ),
    "zoo run recipes/smoke.yaml": Adapted(
        append=("--workdir", "{tmp}/run"), check=trained(4, name="smoke")
    ),
    # TensorBoard on a run (docs/training.md)
    "zoo run recipes/smoke.yaml log=[jsonl,tensorboard] --workdir runs/tb": Adapted(
        append=("--workdir", "{tmp}/run"), check=logged_for_tensorboard
    ),
    "pip install tensorboard": Elsewhere(
        "TensorBoard is a program of its own; the tests read back the event files it shows",
        tests=("test_loggers.py::test_tensorboard_event_files_hold_the_scalars",),
    ),
    "tensorboard --logdir runs/tb/logs/tensorboard": Elsewhere(
        "a web server; the tests read the scalars and crops from that folder's event files",
        tests=(
            "test_loggers.py::test_tensorboard_event_files_hold_the_scalars",
            "test_loggers.py::test_tensorboard_shows_the_side_by_side_crops_at_each_evaluation",
        ),
    ),
    # Beyond one process (docs/scale.md)
    "zoo launch --local 2 recipes/smoke.yaml --workdir runs/smoke_2p": Adapted(
        append=("--workdir", "{tmp}/run"), check=trained(4, name="smoke")
    ),
    "zoo launch --local 2 recipes/smoke.yaml train.steps=8 --workdir runs/smoke_2p --resume": (
        Elsewhere(
            "a two-process run resumed with more steps",
            tests=(
                "test_distributed.py::"
                "test_two_processes_match_one_process_with_two_devices_and_resume",
            ),
        )
    ),
    # Using a trained model
    "zoo upscale --checkpoint runs/ae_x2 photo.jpg more_photos/ -o upscaled/ --tile 256": Adapted(
        replace={
            "runs/ae_x2": "{ae_x2_run}",
            "photo.jpg": "{photo}",
            "more_photos/": "{more_photos}",
            "upscaled/": "{tmp}/upscaled",
        },
        expect=("Wrote 2 image(s)",),
        check=upscaled_two_images,
    ),
    "zoo upscale --checkpoint runs/ae_x2 photo.jpg -o photo_x2.png": Adapted(
        replace={
            "runs/ae_x2": "{ae_x2_run}",
            "photo.jpg": "{photo}",
            "photo_x2.png": "{tmp}/photo_x2.png",
        },
        check=upscaled_one_file,
    ),
    "zoo eval --checkpoint runs/ae_x2 --data ../shared/data/Set5/HR --convention y": Adapted(
        replace={"runs/ae_x2": "{ae_x2_run}"},
        append=("--limit", "1"),
        needs=("shared_data",),
        expect=("convention y (",),
        check=table_has("model", "bicubic", "lanczos"),
    ),
    "zoo eval --checkpoint runs/ae_x2 --data ../shared/data/Set14/HR --convention y": Adapted(
        replace={"runs/ae_x2": "{ae_x2_run}"},
        append=("--limit", "1"),
        needs=("shared_data",),
        expect=("convention y (",),
        check=table_has("model", "bicubic", "lanczos"),
    ),
    # Comparing classic upscalers
    "zoo eval --data ../shared/data/Set5/HR --scale 2 --degradation bicubic --convention y": (
        Literal(
            needs=("shared_data",), check=table_has("nearest", "bilinear", "bicubic", "lanczos")
        )
    ),
    (
        "for s in 2 3 4; do for set in Set5 Set14; do zoo eval --data ../shared/data/$set/HR"
        " --scale $s --degradation bicubic --convention y"
        " --upscalers nearest,bilinear,bicubic,lanczos --metrics psnr,ssim; done; done"
    ): Elsewhere(
        "the bicubic column of its table is held to the published numbers by these tests",
        tests=(
            "test_eval_cli.py::test_set5_bicubic_matches_the_published_numbers",
            "test_eval_cli.py::test_set14_bicubic_matches_the_published_numbers_with_its_grey_image",
        ),
    ),
    # The example plugin
    "pip install ./examples/zoo-example-plugin": Elsewhere(
        "nox's example_plugin session installs it into a fresh virtual environment",
        session="example_plugin",
        session_runs=('session.install("./examples/zoo-example-plugin")',),
    ),
    "zoo plugins": Literal(
        needs=("example_plugin",),
        expect=("example  [", "metrics: charbonnier", "upscalers: sharp_bicubic"),
    ),
    # docs/plugins.md: the reader's own zoo-example-plugin/, built from the page's code blocks
    "pip install ./zoo-example-plugin": Elsewhere(GUIDE, tests=(GUIDE_TEST,)),
    "zoo recipes validate zoo-example-plugin/recipes/charbonnier_x2.yaml": Elsewhere(
        GUIDE, tests=(GUIDE_TEST,)
    ),
    "python -m pytest zoo-example-plugin/tests": Elsewhere(GUIDE, tests=(GUIDE_TEST,)),
    (
        "zoo eval --data embedded --split holdout --scale 2 --convention rgb"
        " --upscalers bicubic,sharp_bicubic --metrics psnr,charbonnier"
    ): Literal(
        needs=("example_plugin",),
        expect=("convention rgb (", "charbonnier"),
        check=table_has("bicubic", "sharp_bicubic"),
    ),
    "zoo run examples/zoo-example-plugin/recipes/charbonnier_x2.yaml": Adapted(
        append=(*CHEAP, "data.patch=32", "data.batch=2", "--workdir", "{tmp}/run"),
        needs=("example_plugin",),
        check=trained(2, name="charbonnier_x2"),
    ),
    # docs/reuse.md: shipped models, fine-tuning, transfer, export, publishing
    "zoo models": Literal(expect=("ae_x2", "x2", "Set5: PSNR")),
    "zoo models --gallery models.html": Adapted(
        replace={"models.html": "{tmp}/models.html"},
        expect=("models beside bicubic on the embedded dataset's holdout split",),
        check=lambda result, resources: gallery_shows_every_model(resources["tmp"] / "models.html"),
    ),
    "zoo models resnet_x2 --gallery resnet_x2.html --data ../shared/data/Set14/HR": Adapted(
        replace={"resnet_x2.html": "{tmp}/resnet_x2.html"},
        needs=("shared_data",),
        expect=("Wrote", "1 model beside bicubic on"),
    ),
    "zoo upscale --model ae_x2 photo.jpg -o photo_x2.png": Adapted(
        replace={"photo.jpg": "{photo}", "photo_x2.png": "{tmp}/photo_x2.png"},
        expect=("model 'ae_x2', x2",),
        check=upscaled_one_file,
    ),
    "zoo eval --model ae_x2 --data ../shared/data/Set5/HR --convention y": Adapted(
        append=("--limit", "1"),
        needs=("shared_data",),
        expect=("model: model 'ae_x2'",),
        check=table_has("model", "bicubic", "lanczos"),
    ),
    (
        'zoo run recipes/ae_x2.yaml init_from.source=ae_x2 "data.train={name: folder, path: '
        'my_photos}" train.steps=500 --workdir runs/ae_x2_mine'
    ): Adapted(
        replace={
            "data.train={name: folder, path: my_photos}": (
                "data.train={{name: folder, path: {more_photos}}}"
            )
        },
        append=(*CHEAP, "data.patch=12", "data.batch=2", "--workdir", "{tmp}/run"),
        check=initialised_from("ae_x2", "model"),
    ),
    (
        'zoo run recipes/ae_x2.yaml scale=4 "init_from={source: runs/ae_x2, parts: [encoder]}" '
        "--workdir runs/ae_x4_from_x2"
    ): Adapted(
        replace={
            "init_from={source: runs/ae_x2, parts: [encoder]}": (
                "init_from={{source: {ae_x2_run}, parts: [encoder]}}"
            )
        },
        append=(*CHEAP, "--workdir", "{tmp}/run"),
        check=initialised_from(None, "run"),
    ),
    "zoo export runs/ae_x2 --step last -o ae_x2.zoo": Adapted(
        replace={"runs/ae_x2": "{ae_x2_run}", "ae_x2.zoo": "{tmp}/ae_x2.zoo"},
        expect=("parameters sha256 ", "file sha256 "),
    ),
    "zoo upscale --checkpoint ae_x2.zoo photo.jpg -o photo_x2.png": Adapted(
        replace={
            "ae_x2.zoo": "plugins/zoo_models/ae_x2.zoo",
            "photo.jpg": "{photo}",
            "photo_x2.png": "{tmp}/photo_x2.png",
        },
        check=upscaled_one_file,
    ),
    "zoo export runs/mine --step last -o my_models/mine_x2.zoo --catalog my_models/models.json": (
        Adapted(
            replace={
                "runs/mine": "{ae_x2_run}",
                "my_models/mine_x2.zoo": "{tmp}/mine_x2.zoo",
                "my_models/models.json": "{tmp}/models.json",
            },
            expect=("Recorded 'mine_x2' in ",),
            check=catalogued("mine_x2"),
        )
    ),
    # examples/zoo-example-plugin/README.md: shipping a pretrained model
    (
        "zoo run examples/zoo-example-plugin/recipes/tiny_charbonnier_x2.yaml "
        "--workdir /tmp/example_run"
    ): Adapted(
        append=(*CHEAP, "data.patch=32", "data.batch=2", "--workdir", "{tmp}/run"),
        needs=("example_plugin",),
        check=trained(2, name="tiny_charbonnier_x2"),
    ),
    (
        "zoo export /tmp/example_run -o examples/zoo-example-plugin/zoo_example/"
        "tiny_charbonnier_x2.zoo --catalog examples/zoo-example-plugin/zoo_example/models.json"
    ): Adapted(
        # Any run will do; what is written goes to the temporary folder, not the example's.
        replace={
            "/tmp/example_run": "{ae_x2_run}",
            "examples/zoo-example-plugin/zoo_example/tiny_charbonnier_x2.zoo": (
                "{tmp}/tiny_charbonnier_x2.zoo"
            ),
            "examples/zoo-example-plugin/zoo_example/models.json": "{tmp}/models.json",
        },
        expect=("Recorded 'tiny_charbonnier_x2' in ",),
        check=catalogued("tiny_charbonnier_x2"),
    ),
    (
        "zoo eval --model tiny_charbonnier_x2 --data embedded --split holdout --convention rgb "
        "--upscalers bicubic --json"
    ): Literal(needs=("example_plugin",), expect=('"model": "model \'tiny_charbonnier_x2\'"',)),
    "zoo eval --model tiny_charbonnier_x2 --data ../shared/data/Set5/HR --convention y --json": (
        Literal(needs=("example_plugin", "shared_data"), expect=('"convention": "y"',))
    ),
    # Benchmarks (need PyTorch: the bench session installs it)
    "nox -s bench": Elsewhere("the nox session itself", session="bench"),
    "python benchmarks/train_step.py": Elsewhere(
        "nox's bench session runs it",
        session="bench",
        session_runs=BENCH_TABLE,
        table_runs=('"train_step.py"',),
    ),
    (
        "python benchmarks/train_step.py [--batch 16] [--size 64] [--steps 3] [--repeats 5]"
        " [--threads N] [--json]"
    ): Elsewhere(
        "a synopsis: nox's bench session runs the script, and each option shown is defined",
        session="bench",
        session_runs=BENCH_TABLE,
        table_runs=('"train_step.py"',),
        options_of="benchmarks/train_step.py",
    ),
    **{
        f"python benchmarks/table.py {options}": Elsewhere(
            "nox's bench session runs the script, and each option shown is defined",
            session="bench",
            session_runs=BENCH_TABLE,
            options_of="benchmarks/table.py",
        )
        for options in ("--only train_step_dli --only conv_layers_course", "--json bench.json")
    },
    **{
        f"python benchmarks/train_step.py {options}": Elsewhere(
            "nox's bench session runs the script, and each option shown is defined",
            session="bench",
            session_runs=BENCH_TABLE,
            table_runs=('"train_step.py"',),
            options_of="benchmarks/train_step.py",
        )
        for options in ("--network ae_x2", "--batch 10 --size 256 --repeats 3 --steps 1")
    },
    "python benchmarks/startup.py": Elsewhere(
        "nox's bench session runs it",
        session="bench",
        session_runs=BENCH_TABLE,
        table_runs=('"startup.py"',),
    ),
    "python benchmarks/conv_layers.py": Elsewhere(
        "nox's bench session runs it",
        session="bench",
        session_runs=BENCH_TABLE,
        table_runs=('"conv_layers.py"',),
    ),
    "python benchmarks/conv_layers.py --batch 10 --size 256 --lax": Elsewhere(
        "nox's bench session runs the script, and each option shown is defined",
        session="bench",
        session_runs=BENCH_TABLE,
        table_runs=('"conv_layers.py"',),
        options_of="benchmarks/conv_layers.py",
    ),
    "python benchmarks/metrics.py": Elsewhere(
        "nox's bench session runs it",
        session="bench",
        session_runs=BENCH_TABLE,
        table_runs=('"metrics.py"',),
    ),
    "python docs/gen_models.py": Elsewhere(
        "the docs session regenerates the page; a test fails when docs/models.md is stale",
        session="docs",
        session_runs=('"docs/gen_models.py"',),
        tests=("test_models_table.py::test_docs_models_md_is_the_generated_page",),
    ),
    "python docs/gen_gallery.py": Elsewhere(
        "it rewrites the gallery's pictures; a test checks the page shows every shipped model",
        tests=(
            "test_models_table.py::"
            "test_the_gallery_shows_every_shipped_model_with_pictures_that_exist",
        ),
    ),
    "python tools/record_metrics.py resnet_x2": Elsewhere(
        "it rewrites the shipped catalog; its recording is tested with the measurement faked, and "
        "the numbers it recorded are reproduced by the shipped-model tests",
        tests=(
            "test_record_metrics.py::test_it_records_each_set_with_the_command_that_measured_it",
            "test_shipped_models.py::test_a_shipped_model_reproduces_its_recorded_numbers",
        ),
    ),
    "python benchmarks/pipeline.py": Elsewhere(
        "nox's bench session runs it",
        session="bench",
        session_runs=BENCH_TABLE,
        table_runs=('"pipeline.py"',),
    ),
    **{
        f"python benchmarks/pipeline.py {options}": Elsewhere(
            "nox's bench session runs the script, and each option shown is defined",
            session="bench",
            session_runs=BENCH_TABLE,
            table_runs=('"pipeline.py"',),
            options_of="benchmarks/pipeline.py",
        )
        for options in ("--workers 2", "--degradation bicubic")
    },
    "python benchmarks/precision.py --repeats 3": Elsewhere(
        "nox's bench session runs the script, and the option is defined",
        session="bench",
        session_runs=BENCH_TABLE,
        table_runs=('"precision.py"',),
        options_of="benchmarks/precision.py",
    ),
    "python benchmarks/upscale_memory.py": Elsewhere(
        "nox's bench session runs it (minutes: a 6000x4000 photograph)",
        session="bench",
        session_runs=BENCH_TABLE,
        table_runs=('"upscale_memory.py"',),
    ),
    "python benchmarks/upscale_memory.py --tile 0": Elsewhere(
        "nox's bench session runs the script (about 17 GB at --tile 0), and the option is defined",
        session="bench",
        session_runs=BENCH_TABLE,
        table_runs=('"upscale_memory.py"',),
        options_of="benchmarks/upscale_memory.py",
    ),
}


# ---------------------------------------------------------------------------------------------
# The table and the docs agree


def test_the_extraction_reads_blocks_continuations_chains_and_loops():
    shown = {s.command for s in shown_commands()}
    assert "pip install ." in shown  # from `python3 -m venv .venv && ... && pip install .`
    assert "zoo plugins" in shown  # its `# comment` stripped
    assert any(command.startswith("for s in 2 3 4; do") for command in shown)
    assert not any(command.startswith(("<data dir>", "Error:", "zoo-example")) for command in shown)


def test_the_extraction_skips_output_and_other_languages(tmp_path):
    page = tmp_path / "page.md"
    page.write_text(
        "Text `zoo inline` is not a block.\n"
        "```console\n$ zoo plugins --all   # a comment\nexample  [runtime]\n```\n"
        "```\nError: recipe.yaml: no such file\nzoo recipes list\n```\n"
        "~~~sh\nzoo eval --data d \\\n    --scale 3 && zoo --version\n~~~\n"
        "```python\nzoo.run('ae_x2')\n```\n",
        encoding="utf-8",
    )
    assert [(s.command, s.line) for s in commands_in(page)] == [
        ("zoo plugins --all", 3),
        ("zoo recipes list", 8),
        ("zoo eval --data d --scale 3", 11),
        ("zoo --version", 11),
    ]


def test_every_command_a_doc_shows_is_in_the_table():
    missing = [str(shown) for shown in shown_commands() if shown.command not in COMMANDS]
    assert not missing, (
        "commands the docs show but COMMANDS in tests/test_docs_commands.py does not list; "
        "add each with how it is exercised:\n" + "\n".join(missing)
    )


def test_every_table_entry_is_still_shown_by_a_doc():
    shown = {shown.command for shown in shown_commands()}
    stale = [command for command in COMMANDS if command not in shown]
    assert not stale, "COMMANDS lists commands no doc shows any more; remove:\n" + "\n".join(stale)


# ---------------------------------------------------------------------------------------------
# Elsewhere: what is named exists and does what is claimed


def nox_sessions() -> dict[str, str]:
    """Session name -> the source of its function, from noxfile.py."""
    source = (REPO / "noxfile.py").read_text(encoding="utf-8")
    sessions = {}
    for node in ast.parse(source).body:
        if isinstance(node, ast.FunctionDef) and any(
            "session" in ast.unparse(decorator) for decorator in node.decorator_list
        ):
            sessions[node.name] = ast.get_source_segment(source, node) or ""
    return sessions


ELSEWHERE = {command: how for command, how in COMMANDS.items() if isinstance(how, Elsewhere)}


@pytest.mark.parametrize(("command", "how"), ELSEWHERE.items(), ids=list(ELSEWHERE))
def test_elsewhere(command, how):
    assert how.session or how.ci_runs or how.tests, f"{command!r}: say what exercises it"
    if how.session:
        sessions = nox_sessions()
        assert how.session in sessions, f"no nox session {how.session!r}: {sorted(sessions)}"
        for text in how.session_runs:
            assert text in sessions[how.session], f"nox -s {how.session} does not run {text!r}"
    if how.ci_runs:
        script = (REPO / ".ci" / "run").read_text(encoding="utf-8")
        for text in how.ci_runs:
            assert text in script, f".ci/run does not contain {text!r}"
    for test in how.tests:
        file, _, name = test.partition("::")
        source = (REPO / "tests" / file).read_text(encoding="utf-8")
        assert re.search(rf"^def {re.escape(name)}\(", source, flags=re.M), f"no test {test}"
    if how.table_runs:
        table = (REPO / "benchmarks" / "table.py").read_text(encoding="utf-8")
        for text in how.table_runs:
            assert text in table, f"benchmarks/table.py does not run {text}"
    if how.options_of:
        script = (REPO / how.options_of).read_text(encoding="utf-8")
        for option in re.findall(r"--[\w-]+", command):
            assert f'"{option}"' in script, f"{how.options_of} defines no option {option}"


# ---------------------------------------------------------------------------------------------
# Literal and Adapted: run them


RUNS = {command: how for command, how in COMMANDS.items() if not isinstance(how, Elsewhere)}
AE_X2 = "zoo run recipes/ae_x2.yaml"  # its adapted run is {ae_x2_run} for the entries after it


class Resources(dict):
    """The ``{name}`` values of the table, each made on first use."""

    def __init__(self, request: pytest.FixtureRequest, tmp: Path) -> None:
        super().__init__(tmp=tmp)
        self.request = request

    def __missing__(self, key: str) -> Any:
        tmp = self["tmp"]
        rng = np.random.default_rng(0)
        if key == "ae_x2_run":
            value = self.request.getfixturevalue("ae_x2")[1]["tmp"] / "run"
        elif key == "shared_data":
            value = self.request.getfixturevalue("shared_data")
        elif key == "photo":
            value = tmp / "photo.jpg"
            Image.fromarray(rng.integers(0, 256, (20, 24, 3), np.uint8)).save(value, quality=95)
        elif key == "more_photos":
            value = tmp / "more_photos"
            value.mkdir()
            Image.fromarray(rng.integers(0, 256, (16, 12, 3), np.uint8)).save(value / "more.png")
        else:
            raise KeyError(key)
        self[key] = value
        return value


def runs_in_repo() -> set[Path]:
    return set((REPO / "runs").iterdir()) if (REPO / "runs").is_dir() else set()


def execute(command: str, how: Literal | Adapted, resources: Resources) -> Result:
    """Run the table entry from the repository root; check the exit code and ``expect``."""
    for fixture in how.needs:
        value = resources.request.getfixturevalue(fixture)
        if fixture == "shared_data" and value.resolve() != (REPO / SHARED_DATA_IN_DOCS).resolve():
            command = command.replace(SHARED_DATA_IN_DOCS, str(value))  # ZOO_SHARED_DATA
    args = shlex.split(command)
    if isinstance(how, Adapted):
        args = [
            how.replace[arg].format_map(resources) if arg in how.replace else arg for arg in args
        ]
        args += [arg.format_map(resources) for arg in how.append]
        if how.resumes_ae_x2_run:
            shutil.copytree(resources["ae_x2_run"], resources["tmp"] / "run")
    assert args[0] == "zoo", args
    before = runs_in_repo()
    with pytest.MonkeyPatch.context() as patch:
        patch.chdir(REPO)
        result = CliRunner().invoke(cli, args[1:])
    assert result.exit_code == 0, f"{shlex.join(args)}\n{result.output}"
    assert "Traceback" not in result.output
    for text in how.expect:
        assert text in result.output, f"{text!r} not in the output:\n{result.output}"
    assert runs_in_repo() == before, f"wrote into the repository: {runs_in_repo() - before}"
    return result


@pytest.fixture(scope="module")
def ae_x2(request, tmp_path_factory) -> tuple[Result, Resources]:
    """The adapted `zoo run recipes/ae_x2.yaml`, run once: a 2-step run of the recipe."""
    resources = Resources(request, tmp_path_factory.mktemp("ae_x2"))
    return execute(AE_X2, COMMANDS[AE_X2], resources), resources


@pytest.mark.parametrize(("command", "how"), RUNS.items(), ids=list(RUNS))
def test_run(command, how, request, tmp_path):
    if command == AE_X2:
        result, resources = request.getfixturevalue("ae_x2")
    else:
        resources = Resources(request, tmp_path)
        result = execute(command, how, resources)
    if how.check:
        how.check(result, resources)
