"""The HTML report: self-contained, the right cells marked, decodable images and drawn curves."""

from __future__ import annotations

import base64
import importlib.resources
import io
import re
from html.parser import HTMLParser
from pathlib import Path

import numpy as np
import pytest
from PIL import Image

from zoo import recipe as recipe_lib
from zoo import report
from zoo.evaluate import Evaluation, MetricSpec
from zoo.report.crops import Window, detail_window

SIZE = 32
SCALE = 2
NAMES = ["baby", "<b>&odd"]  # the second one must come out escaped
PER_IMAGE = {
    "nearest": {"psnr": [25.0, 26.0], "mse": [0.004, 0.005]},
    "bicubic": {"psnr": [27.0, 28.0], "mse": [0.002, 0.0022]},
    "model": {"psnr": [28.0, 28.64], "mse": [0.003, 0.0025]},
}
HISTORY = [
    {"step": 10, "loss": 0.05},
    {"step": 20, "loss": 0.02, "eval_psnr": 27.9, "eval_mse": 0.003},
    {"step": 30, "loss": 0.01, "eval_psnr": 28.32, "eval_mse": 0.00275},
]
# per image: the context thumbnail, then LR, each system and HR as a crop plus a magnified inset
PNGS_PER_IMAGE = 1 + (1 + len(PER_IMAGE) + 1) * 2


def never_called(pred, target):
    raise AssertionError("the report reads stored values; it never recomputes a metric")


class Page(HTMLParser):
    """Every tag with its attributes, and the metrics table's rows as (class, cells)."""

    def __init__(self, text: str) -> None:
        super().__init__()
        self.tags: list[tuple[str, dict[str, str | None]]] = []
        self.rows: list[tuple[str, list[tuple[str, str]]]] = []
        self.in_table = False
        self.cell: list[str] | None = None
        self.feed(text)

    def handle_starttag(self, tag, attrs):
        attributes = dict(attrs)
        self.tags.append((tag, attributes))
        if tag == "table":
            self.in_table = attributes.get("id") == "metrics-table"
        elif self.in_table and tag == "tr":
            self.rows.append((attributes.get("class") or "", []))
        elif self.in_table and tag in ("td", "th") and self.rows:
            self.cell = [attributes.get("class") or "", ""]

    def handle_endtag(self, tag):
        if tag == "table":
            self.in_table = False
        elif tag in ("td", "th") and self.cell is not None:
            self.rows[-1][1].append((self.cell[0], self.cell[1].strip()))
            self.cell = None

    def handle_data(self, data):
        if self.cell is not None:
            self.cell[1] += data

    def row(self, system: str) -> tuple[str, list[tuple[str, str]]]:
        return next(row for row in self.rows if row[1] and row[1][0][1] == system)


@pytest.fixture
def recipe():
    return recipe_lib.from_dict(
        {
            "name": "tiny_x2",
            "scale": SCALE,
            "degradation": "bicubic",
            "model": {"encoder": "dli", "decoder": "dli"},
            "train": {"steps": 30},
        },
        check_plugins=False,
    )


@pytest.fixture
def images():
    rng = np.random.default_rng(0)
    ramp = np.linspace(0.0, 1.0, SIZE, dtype=np.float32)
    hr = []
    for _ in NAMES:
        image = np.repeat(np.tile(ramp, (SIZE, 1))[..., None], 3, axis=-1)
        image[8:24, 16:32] = rng.random((16, 16, 3), dtype=np.float32)
        hr.append(image)
    lr = [image[::SCALE, ::SCALE] for image in hr]
    return lr, hr


@pytest.fixture
def evaluation(images):
    _, hr = images
    rng = np.random.default_rng(1)
    metrics = [MetricSpec("psnr", never_called, True), MetricSpec("mse", never_called, False)]
    result = Evaluation("rgb", SCALE, "bicubic", list(NAMES), metrics)
    for system, values in PER_IMAGE.items():
        result.per_image[system] = {name: list(v) for name, v in values.items()}
        result.outputs[system] = [rng.integers(0, 256, image.shape, dtype=np.uint8) for image in hr]
    return result


def write(tmp_path: Path, recipe, evaluation, images, history=HISTORY) -> str:
    lr, hr = images
    path = report.write_report(tmp_path, recipe, evaluation, history, lr, hr)
    assert path == tmp_path / "report.html"
    return path.read_text(encoding="utf-8")


def test_one_self_contained_file(tmp_path, recipe, evaluation, images):
    text = write(tmp_path, recipe, evaluation, images)
    assert [p.name for p in tmp_path.iterdir()] == ["report.html"]  # no temporary left behind
    assert "<script" not in text.lower()
    assert "http://" not in text and "https://" not in text
    page = Page(text)
    assert not [tag for tag, _ in page.tags if tag in ("link", "iframe", "object", "embed")]
    for _, attributes in page.tags:
        for key in ("src", "href"):
            assert attributes.get(key) is None or attributes[key].startswith(("data:", "#"))


def test_header_names_the_run(tmp_path, recipe, evaluation, images):
    text = write(tmp_path, recipe, evaluation, images)
    assert "<h1>tiny_x2</h1>" in text
    for fact in ("×2", "bicubic", "rgb", "dli → dli"):
        assert fact in text
    assert "&lt;b&gt;&amp;odd" in text and "<b>&odd" not in text


def facts(text: str) -> dict[str, str]:
    return dict(re.findall(r"<div><dt>([^<]*)</dt><dd>([^<]*)</dd></div>", text))


def test_header_names_the_scored_step_and_how_it_was_chosen(tmp_path, recipe, evaluation, images):
    lr, hr = images
    text = report.render(
        recipe, evaluation, HISTORY, lr, hr, step=1500, selected="best by val_psnr"
    )
    assert facts(text)["scored step"] == "1,500 (best by val_psnr)"
    assert facts(text)["validation"] == "none; the last step is reported"
    assert "start" not in facts(text)  # no init_from record: no line
    held = recipe_lib.from_dict(
        {**recipe.model_dump(mode="json"), "data": {"val": {"images": 2}}}, check_plugins=False
    )
    text = report.render(held, evaluation, HISTORY, lr, hr, step=30, selected="last")
    assert facts(text)["scored step"] == "30 (last)"
    assert facts(text)["validation"] == (
        "the last 2 images of data.train; watched only, the last step is reported"
    )


def test_header_names_the_weights_the_run_started_from(tmp_path, recipe, evaluation, images):
    lr, hr = images
    record = {
        "source": "/runs/<old>",
        "kind": "run",
        "step": 3000,
        "digest": "0123456789abcdef" * 4,
        "parts": ["encoder"],
        "copied": 18,
        "skipped": [],
    }
    text = report.render(recipe, evaluation, HISTORY, lr, hr, step=30, init_from=record)
    assert facts(text)["start"] == (
        "initialised from /runs/&lt;old&gt; (step 3000, sha256 0123456789ab)"
    )
    weights_file = {**record, "kind": "file", "step": None}
    text = report.render(recipe, evaluation, HISTORY, lr, hr, init_from=weights_file)
    assert facts(text)["start"] == "initialised from /runs/&lt;old&gt; (sha256 0123456789ab)"


def test_the_init_from_record_is_read_from_recipe_json(tmp_path):
    from zoo import workdir

    assert workdir.init_from_record(tmp_path) is None  # no recipe.json
    (tmp_path / "recipe.json").write_text('{"recipe": {}}', encoding="utf-8")
    assert workdir.init_from_record(tmp_path) is None
    (tmp_path / "recipe.json").write_text('{"init_from": {"source": "ae_x2"}}', encoding="utf-8")
    assert workdir.init_from_record(tmp_path) == {"source": "ae_x2"}
    (tmp_path / "recipe.json").write_text("{not json", encoding="utf-8")
    assert workdir.init_from_record(tmp_path) is None


def test_validation_curve_has_no_eval_set_reference(tmp_path, recipe, evaluation, images):
    history = [
        {"step": 10, "loss": 0.05, "val_psnr": 27.5},
        {"step": 20, "loss": 0.02, "val_psnr": 27.9, "val_mse": 0.003},
    ]
    text = write(tmp_path, recipe, evaluation, images, history)
    psnr = re.findall(r"<svg.*?</svg>", text, flags=re.S)[1]
    assert "Validation PSNR" in psnr and "model on data.val" in psnr
    assert psnr.count("<circle") == 2
    # bicubic was scored on data.eval, not on the validation images: no line to compare with
    assert "best classic" not in psnr


def test_best_value_marked_in_each_column(tmp_path, recipe, evaluation, images):
    page = Page(write(tmp_path, recipe, evaluation, images))
    model_class, model_cells = page.row("model")
    assert model_class == "model"
    _, bicubic_cells = page.row("bicubic")
    _, nearest_cells = page.row("nearest")
    # cells: [system, psnr, mse]; the model has the best PSNR, bicubic the lowest MSE
    assert model_cells[1][0] == "best" and "★" in model_cells[1][1]
    assert bicubic_cells[2][0] == "best" and "★" in bicubic_cells[2][1]
    for cls, _ in [bicubic_cells[1], nearest_cells[1], model_cells[2], nearest_cells[2]]:
        assert cls != "best"


def test_model_delta_against_the_best_classic(tmp_path, recipe, evaluation, images):
    page = Page(write(tmp_path, recipe, evaluation, images))
    delta_class, cells = next(row for row in page.rows if row[0] == "delta")
    assert delta_class == "delta"
    psnr, mse = cells[1], cells[2]
    assert psnr == ("better", "+0.82 dBvs bicubic")
    assert mse[0] == "worse" and mse[1].startswith("+0.000650")


def test_inline_pngs_decode(tmp_path, recipe, evaluation, images):
    page = Page(write(tmp_path, recipe, evaluation, images))
    sources = [a["src"] for tag, a in page.tags if tag == "img"]
    assert len(sources) == len(NAMES) * PNGS_PER_IMAGE
    sizes = set()
    for source in sources:
        assert source.startswith("data:image/png;base64,")
        decoded = Image.open(io.BytesIO(base64.b64decode(source.split(",", 1)[1])))
        decoded.load()
        assert decoded.format == "PNG" and decoded.mode == "RGB"
        sizes.add(decoded.size)
    # crops and LR are SIZE square; insets a third of it, magnified x3
    assert (SIZE, SIZE) in sizes and (30, 30) in sizes


def test_panels_labelled_with_the_images_score(tmp_path, recipe, evaluation, images):
    text = write(tmp_path, recipe, evaluation, images)
    captions = re.findall(
        r"<span class='name'>([^<]*)</span><span class='score'>([^<]*)</span>", text
    )
    first = captions[: len(PER_IMAGE) + 3]  # where, LR, the systems, HR
    assert [name for name, _ in first] == ["where", "LR ×2", "nearest", "bicubic", "model", "HR"]
    scores = dict(first)
    assert scores["model"] == "28.00 dB ★"
    assert scores["bicubic"] == "27.00 dB" and scores["nearest"] == "25.00 dB"
    assert scores["HR"] == "reference"


def test_training_curves_drawn(tmp_path, recipe, evaluation, images):
    text = write(tmp_path, recipe, evaluation, images)
    svgs = re.findall(r"<svg.*?</svg>", text, flags=re.S)
    assert len(svgs) == 2
    loss, psnr = svgs
    assert "Training loss" in loss and "<path class='line s-loss'" in loss
    assert "Evaluation PSNR" in psnr and psnr.count("<circle") == 2
    assert "class='reference'" in psnr and "bicubic (best classic)" in psnr and ">27.5 dB<" in psnr


@pytest.mark.parametrize(
    ("history", "charts", "notes"),
    [
        ([{"step": 10, "loss": 0.5}, {"step": 20, "loss": 0.4}], 1, ["No evaluation"]),
        ([{"step": 30, "loss": 0.1, "eval_psnr": 28.0}], 2, []),
        ([{"step": 30, "loss": float("nan"), "eval_psnr": 28.0}], 1, ["No training loss"]),
        ([], 0, ["No training loss", "No evaluation"]),
    ],
)
def test_sparse_histories(tmp_path, recipe, evaluation, images, history, charts, notes):
    text = write(tmp_path, recipe, evaluation, images, history)
    assert text.count("<svg") == charts
    for note in notes:
        assert note in text


def test_wide_loss_range_uses_a_log_axis(tmp_path, recipe, evaluation, images):
    history = [{"step": s, "loss": 10.0 ** (-s / 10)} for s in range(10, 60, 10)]
    text = write(tmp_path, recipe, evaluation, images, history)
    loss = re.search(r"<svg.*?</svg>", text, flags=re.S).group(0)
    assert "(log scale)" in loss
    assert ">0.001<" in loss and ">0.1<" in loss


def test_long_loss_history_is_smoothed(tmp_path, recipe, evaluation, images):
    history = [{"step": s, "loss": 1.0 + (s % 3) * 0.1} for s in range(1, 101)]
    text = write(tmp_path, recipe, evaluation, images, history)
    assert "class='line s-raw'" in text and "class='line s-loss'" in text


def test_per_image_table_and_recipe(tmp_path, recipe, evaluation, images):
    text = write(tmp_path, recipe, evaluation, images)
    details = re.findall(r"<details>.*?</details>", text, flags=re.S)
    assert len(details) == 2
    per_image, resolved = details
    assert "28.64" in per_image and "0.002200" in per_image
    assert per_image.count("class='per-image'") == 2
    assert "name: tiny_x2" in resolved and "steps: 30" in resolved


def test_report_without_kept_outputs(tmp_path, recipe, evaluation, images):
    evaluation.outputs = {}
    page = Page(write(tmp_path, recipe, evaluation, images))
    # context, then LR and HR alone
    assert len([tag for tag, _ in page.tags if tag == "img"]) == len(NAMES) * 5


def test_detail_window_finds_the_texture():
    image = np.zeros((64, 64, 3), np.float32)
    image[40:56, 8:24] = np.random.default_rng(2).random((16, 16, 3))
    assert detail_window(image, 16, 2) == Window(40, 8, 16)
    assert detail_window(image, 100, 2) == Window(0, 0, 64)


def test_overwrites_the_previous_report(tmp_path, recipe, evaluation, images):
    write(tmp_path, recipe, evaluation, images)
    text = write(tmp_path, recipe, evaluation, images, [])
    assert "No training loss" in text
    assert [p.name for p in tmp_path.iterdir()] == ["report.html"]


def test_style_ships_with_the_package_and_is_inlined(tmp_path, recipe, evaluation, images):
    # read as a package resource, as an installed wheel would serve it, not as a source path
    css = importlib.resources.files("zoo.report").joinpath("style.css")
    assert css.is_file()
    style = css.read_text(encoding="utf-8")
    assert ".chart-svg" in style
    text = write(tmp_path, recipe, evaluation, images)
    assert f"<style>\n{style}</style>" in text
