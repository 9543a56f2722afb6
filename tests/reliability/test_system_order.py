"""One order of systems in every table: nearest, bilinear, bicubic, lanczos, the other upscalers
alphabetically, then the model (zoo.evaluate.system_order, the one place that decides it).

`zoo eval` used to list the upscalers alphabetically while `zoo run`'s report kept the recipe's
order; both go through zoo.evaluate.evaluate now, which orders the systems.
"""

from __future__ import annotations

import json
import re
from pathlib import Path

import jax.numpy as jnp
import numpy as np
import pytest
from click.testing import CliRunner
from PIL import Image
from tiny import train_tiny

from zoo import evaluate
from zoo.cli import cli

CLASSIC = ["nearest", "bilinear", "bicubic", "lanczos"]


def test_system_order_is_classic_then_alphabetical_then_the_model():
    shuffled = ["model", "zebra", "lanczos", "nearest", "sharp_bicubic", "bicubic", "bilinear"]
    assert evaluate.system_order(shuffled) == [*CLASSIC, "sharp_bicubic", "zebra", "model"]
    assert evaluate.system_order(["model", "bicubic", "bicubic"]) == ["bicubic", "model"]
    assert evaluate.system_order([]) == []


def test_evaluate_lists_systems_in_that_order_whatever_order_it_is_given():
    hr = [np.full((8, 8, 3), 0.5, np.float32)]
    lr = [np.full((4, 4, 3), 0.5, np.float32)]

    def double(x):
        return jnp.repeat(jnp.repeat(x, 2, axis=1), 2, axis=2)

    systems = dict.fromkeys(["model", "lanczos", "extra", "nearest"], double)
    mse = evaluate.MetricSpec("mse", lambda a, b: jnp.mean((a - b) ** 2, axis=(1, 2, 3)), False)
    result = evaluate.evaluate(
        hr, lr, systems, [mse], names=["flat"], scale=2, convention="rgb", degradation="test"
    )
    expected = ["nearest", "lanczos", "extra", "model"]
    assert list(result.per_image) == list(result.results) == expected
    assert list(result.to_json()["results"]) == expected
    assert table_systems(evaluate.format_table(result)) == expected


def table_systems(table: str) -> list[str]:
    lines = table.splitlines()
    start = next(i for i, line in enumerate(lines) if line.startswith("system")) + 1
    return [line.split()[0] for line in lines[start:] if not line.startswith("*")]


@pytest.fixture(scope="module")
def hr_folder(tmp_path_factory: pytest.TempPathFactory) -> Path:
    folder = tmp_path_factory.mktemp("hr")
    rng = np.random.default_rng(0)
    for name in ("a", "b"):
        image = np.kron(rng.random((6, 7, 3)), np.ones((6, 6, 1)))[:32, :40] * 200 + 20
        Image.fromarray(image.astype(np.uint8)).save(folder / f"{name}.png")
    return folder


def zoo_eval(*args: str | Path) -> str:
    result = CliRunner().invoke(cli, ["eval", *map(str, args)])
    assert result.exit_code == 0, result.output
    return result.stdout


def test_zoo_eval_tables_and_json_use_the_order(trained_tiny, hr_folder):
    args = ("--data", hr_folder, "--metrics", "psnr", "--checkpoint", trained_tiny)
    given = ("--upscalers", "lanczos,bicubic,nearest,bilinear")
    expected = [*CLASSIC, "model"]
    assert table_systems(zoo_eval(*args, *given)) == expected
    assert list(json.loads(zoo_eval(*args, *given, "--json"))["results"]) == expected


def test_zoo_eval_default_upscalers_put_a_plugins_upscaler_after_the_classic_ones(
    example_plugin, hr_folder
):
    stdout = zoo_eval("--data", hr_folder, "--scale", "2", "--metrics", "psnr")
    assert table_systems(stdout) == [*CLASSIC, "sharp_bicubic"]


def test_the_run_report_and_metrics_json_use_the_order(tmp_path):
    run = train_tiny(tmp_path / "run", "eval.upscalers=[lanczos, bicubic, nearest]")
    results = json.loads((run / "metrics.json").read_text(encoding="utf-8"))["results"]
    expected = ["nearest", "bicubic", "lanczos", "model"]
    assert list(results) == expected
    html = (run / "report.html").read_text(encoding="utf-8")
    table = html[html.index("id='metrics-table'") :]
    table = table[: table.index("</table>")]
    rows = re.findall(r"<th scope='row'>([^<]+)</th>", table)
    assert rows[: len(expected)] == expected
