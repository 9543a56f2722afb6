"""`zoo eval`: JSON and table output, conventions, ready-made LR files, a trained model, Set5.

The folder tests use three small synthetic images of one size, so each system compiles once.
The Set5 test is the acceptance check against the published bicubic numbers.
"""

from __future__ import annotations

import json
import re
from pathlib import Path
from typing import Any

import numpy as np
import pytest
from click.testing import CliRunner
from PIL import Image

from zoo.cli import cli

NAMES = ["alpha", "beta", "gamma"]
HR_SIZE = (33, 41)  # odd: mod-cropped to 32 x 40 at x2
UPSCALERS = ["nearest", "bilinear", "bicubic", "lanczos"]


def smooth_image(seed: int, height: int, width: int) -> np.ndarray:
    """Blocky random colours, lightly noised: something upscalers can tell apart."""
    rng = np.random.default_rng(seed)
    base = rng.random((height // 6 + 2, width // 6 + 2, 3))
    image = np.kron(base, np.ones((6, 6, 1)))[:height, :width] * 0.8 + 0.1
    image += 0.04 * rng.random(image.shape)
    return np.round(np.clip(image, 0, 1) * 255).astype(np.uint8)


@pytest.fixture(scope="module")
def hr_folder(tmp_path_factory: pytest.TempPathFactory) -> Path:
    folder = tmp_path_factory.mktemp("hr")
    for seed, name in enumerate(NAMES):
        Image.fromarray(smooth_image(seed, *HR_SIZE)).save(folder / f"{name}.png")
    (folder / "README.txt").write_text("ignored: not an image")
    return folder


def zoo_eval(*args: str | Path) -> tuple[int, str, str]:
    """Exit code, stdout, and stdout + stderr."""
    result = CliRunner().invoke(cli, ["eval", *map(str, args)])
    return result.exit_code, result.stdout, result.output


def eval_json(*args: str | Path) -> dict[str, Any]:
    code, stdout, output = zoo_eval(*args, "--json")
    assert code == 0, output
    return json.loads(stdout)


def table_rows(stdout: str) -> tuple[list[str], dict[str, list[str]]]:
    """The table's metric names and, per system, its cells as printed."""
    lines = stdout.strip().splitlines()
    header_at = next(i for i, line in enumerate(lines) if line.startswith("system"))
    metrics = re.findall(r"(\w+) [↑↓]", lines[header_at])
    rows = {}
    for line in lines[header_at + 1 :]:
        if line.startswith("*"):
            break
        system, *cells = line.split()
        rows[system] = cells
    return metrics, rows


# ---------------------------------------------------------------------------------------------
# JSON and table


@pytest.fixture(scope="module")
def folder_json(hr_folder) -> dict[str, Any]:
    return eval_json("--data", hr_folder, "--scale", "2", "--metrics", "psnr,ssim,mse")


def test_json_has_every_field_and_means_of_the_per_image_values(folder_json):
    report = folder_json
    assert {"convention", "scale", "degradation", "per_image", "results"} <= set(report)
    assert report["convention"] == "y"
    assert report["scale"] == 2
    assert report["degradation"] == "bicubic"
    assert report["images"] == NAMES  # README.txt is not an image
    assert report["directions"] == {"psnr": "higher", "ssim": "higher", "mse": "lower"}
    assert set(report["results"]) == set(UPSCALERS)
    for system, by_metric in report["results"].items():
        assert set(by_metric) == {"psnr", "ssim", "mse"}
        for metric, mean in by_metric.items():
            values = report["per_image"][system][metric]
            assert list(values) == NAMES
            assert mean == pytest.approx(np.mean(list(values.values())), rel=1e-9, abs=0)
    # Real measurements: finite, in range, and the images differ from one another.
    psnr = report["per_image"]["bicubic"]["psnr"]
    assert all(15 < value < 60 for value in psnr.values())
    assert len(set(psnr.values())) == 3


def test_table_marks_the_best_of_each_column(hr_folder, folder_json):
    code, stdout, output = zoo_eval(
        "--data", hr_folder, "--scale", "2", "--metrics", "psnr,ssim,mse"
    )
    assert code == 0, output
    metrics, rows = table_rows(stdout)
    assert metrics == ["psnr", "ssim", "mse"]
    assert set(rows) == set(UPSCALERS)
    assert "* best in column" in stdout
    results = folder_json["results"]
    for column, metric in enumerate(metrics):
        marked = [system for system, cells in rows.items() if cells[column].endswith("*")]
        pick = min if metric == "mse" else max  # mse: lower is better
        best = pick(results, key=lambda system: results[system][metric])
        assert marked == [best], f"{metric}: marked {marked}, best {best}"
        for system, cells in rows.items():
            assert float(cells[column].rstrip("*")) == pytest.approx(
                results[system][metric], abs=1e-4
            )


def test_convention_is_carried_in_json_and_table(hr_folder, folder_json):
    rgb = eval_json(
        "--data", hr_folder, "--scale", "2", "--metrics", "psnr,ssim,mse", "--convention", "rgb"
    )
    assert rgb["convention"] == "rgb" and folder_json["convention"] == "y"
    assert "DLI" in rgb["convention_description"]
    assert "luma" in folder_json["convention_description"]
    # Different preparations of the same images give different numbers.
    assert rgb["results"]["bicubic"]["psnr"] != pytest.approx(
        folder_json["results"]["bicubic"]["psnr"], abs=1e-3
    )
    for convention in ("rgb", "y"):
        code, stdout, output = zoo_eval(
            "--data",
            hr_folder,
            "--scale",
            "2",
            "--metrics",
            "psnr",
            "--upscalers",
            "bicubic",
            "--convention",
            convention,
        )
        assert code == 0, output
        assert f"convention {convention} (" in stdout.splitlines()[0]


def test_unknown_upscaler_or_metric_names_the_valid_ones(hr_folder):
    code, _, output = zoo_eval("--data", hr_folder, "--upscalers", "bicubc")
    assert code == 2 and "bicubc" in output and "bicubic" in output, output
    code, _, output = zoo_eval("--data", hr_folder, "--metrics", "psnrr")
    assert code == 2 and "psnrr" in output and "psnr" in output, output
    assert "Traceback" not in output


# ---------------------------------------------------------------------------------------------
# Ready-made LR images


@pytest.fixture
def lr_folder(tmp_path) -> Path:
    """LR images named as the published sets name them: `name.png` or `namex2.png`."""
    folder = tmp_path / "lr"
    folder.mkdir()
    lr_size = (HR_SIZE[0] // 2, HR_SIZE[1] // 2)
    for seed, stored in enumerate(["alphax2", "beta", "gamma_x2"]):
        Image.fromarray(smooth_image(100 + seed, *lr_size)).save(folder / f"{stored}.png")
    return folder


def test_lr_folder_is_used_instead_of_degrading(hr_folder, lr_folder):
    report = eval_json(
        "--data",
        hr_folder,
        "--scale",
        "2",
        "--lr",
        lr_folder,
        "--upscalers",
        "nearest",
        "--metrics",
        "mse",
        "--convention",
        "rgb",
    )
    assert str(lr_folder) in report["degradation"]
    # Nearest upscaling replicates pixels, so its error is computable by hand from the files.
    for name, stored in zip(NAMES, ["alphax2", "beta", "gamma_x2"], strict=True):
        hr = np.asarray(Image.open(hr_folder / f"{name}.png"), np.float64)[:32, :40] / 255
        lr = np.asarray(Image.open(lr_folder / f"{stored}.png"), np.float64) / 255
        expected = np.mean((np.kron(lr, np.ones((2, 2, 1))) - hr) ** 2)
        assert report["per_image"]["nearest"]["mse"][name] == pytest.approx(expected, rel=1e-5)


def test_missing_lr_file_is_named(hr_folder, lr_folder):
    (lr_folder / "beta.png").unlink()
    code, _, output = zoo_eval(
        "--data",
        hr_folder,
        "--scale",
        "2",
        "--lr",
        lr_folder,
        "--upscalers",
        "nearest",
        "--metrics",
        "mse",
    )
    assert code == 2, output
    assert "'beta'" in output and str(lr_folder) in output
    assert "Traceback" not in output


def test_lr_file_of_the_wrong_size_is_named(hr_folder, lr_folder):
    Image.fromarray(smooth_image(7, 10, 10)).save(lr_folder / "beta.png")
    code, _, output = zoo_eval(
        "--data",
        hr_folder,
        "--scale",
        "2",
        "--lr",
        lr_folder,
        "--upscalers",
        "nearest",
        "--metrics",
        "mse",
    )
    assert code == 2, output
    assert "beta" in output and "expected 20x16" in output


# ---------------------------------------------------------------------------------------------
# A trained model


def test_checkpoint_adds_a_model_row(hr_folder, trained_tiny):
    """trained_tiny (conftest.py): the shared tiny recipe trained for one step."""
    report = eval_json(
        "--data",
        hr_folder,
        "--checkpoint",
        trained_tiny,
        "--upscalers",
        "bicubic",
        "--metrics",
        "psnr",
    )
    assert set(report["results"]) == {"bicubic", "model"}
    assert report["scale"] == 2  # from the checkpoint
    assert report["degradation"] == "bicubic"  # the model's own
    assert list(report["per_image"]["model"]["psnr"]) == NAMES
    # One step from a bicubic residual: close to bicubic, not garbage.
    assert report["results"]["model"]["psnr"] == pytest.approx(
        report["results"]["bicubic"]["psnr"], abs=5
    )

    code, _, output = zoo_eval("--data", hr_folder, "--checkpoint", trained_tiny, "--scale", "3")
    assert code == 2 and "--scale 3" in output and "scale 2" in output, output


# ---------------------------------------------------------------------------------------------
# The published protocol


SET5_BICUBIC = {2: (33.66, 0.9299), 3: (30.39, 0.8682), 4: (28.42, 0.8104)}


@pytest.mark.shared_data
@pytest.mark.parametrize("scale", sorted(SET5_BICUBIC))
def test_set5_bicubic_matches_the_published_numbers(shared_data, scale):
    report = eval_json(
        "--data",
        shared_data / "Set5" / "HR",
        "--scale",
        str(scale),
        "--degradation",
        "bicubic",
        "--upscalers",
        "bicubic",
        "--convention",
        "y",
        "--metrics",
        "psnr,ssim",
    )
    assert report["images"] == ["baby", "bird", "butterfly", "head", "woman"]
    psnr, ssim = SET5_BICUBIC[scale]
    assert report["results"]["bicubic"]["psnr"] == pytest.approx(psnr, abs=0.03)
    assert report["results"]["bicubic"]["ssim"] == pytest.approx(ssim, abs=0.002)


SET14_BICUBIC_X2 = (30.24, 0.8688)


@pytest.mark.shared_data
def test_set14_bicubic_matches_the_published_numbers_with_its_grey_image(shared_data):
    common = [
        "--data",
        shared_data / "Set14" / "HR",
        "--scale",
        "2",
        "--upscalers",
        "bicubic",
        "--convention",
        "y",
        "--metrics",
        "psnr,ssim",
    ]
    report = eval_json(*common)
    psnr, ssim = SET14_BICUBIC_X2
    assert report["results"]["bicubic"]["psnr"] == pytest.approx(psnr, abs=0.03)
    assert report["results"]["bicubic"]["ssim"] == pytest.approx(ssim, abs=0.002)
    # bridge.png has one channel: scored on its grey level, 20 log10(255 / 219) below its luma.
    bridge = report["per_image"]["bicubic"]["psnr"]["bridge"]
    rgb_copy = shared_data / "Set14" / "HR" / "bridge.png"
    assert Image.open(rgb_copy).mode == "L"
    assert 20 < bridge < 30


@pytest.mark.shared_data
def test_set5_bicubic_degradation_matches_the_matlab_lr_files(shared_data):
    """The degradation reproduces MATLAB imresize: same scores as the reference LR files."""
    common = (
        "--data",
        shared_data / "Set5" / "HR",
        "--scale",
        "2",
        "--upscalers",
        "bicubic",
        "--convention",
        "y",
        "--metrics",
        "psnr",
    )
    degraded = eval_json(*common, "--degradation", "bicubic")
    from_files = eval_json(*common, "--lr", shared_data / "Set5" / "LR_bicubic" / "X2")
    for name, value in from_files["per_image"]["bicubic"]["psnr"].items():
        assert degraded["per_image"]["bicubic"]["psnr"][name] == pytest.approx(value, abs=0.02)
