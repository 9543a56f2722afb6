"""The run report: one self-contained HTML page with the table, side-by-side crops and curves."""

from __future__ import annotations

import base64
import datetime
import html
import io
import math
import os
from collections.abc import Iterable, Mapping, Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import TYPE_CHECKING, Any

import numpy as np
import yaml
from PIL import Image

if TYPE_CHECKING:
    from zoo.evaluate import Evaluation, MetricSpec
    from zoo.recipe import Recipe

MODEL = "model"
MAX_IMAGES = 4
CROP = 120  # HR pixels; divisible by 2, 3 and 4 so the LR crop lines up at every usual scale
INSET_FRACTION = 3  # the inset covers a third of the crop's side ...
INSET_ZOOM = 3  # ... magnified back to the crop's size
THUMBNAIL = 240
UNITS = {"psnr": " dB"}
LOG_RATIO = 10.0  # a loss spanning more than this factor is drawn on a log axis

Row = Mapping[str, float]


def write_report(
    workdir: Path,
    recipe: Recipe,
    evaluation: Evaluation,
    history: Sequence[Row],
    lr_images: Sequence[np.ndarray],
    hr_images: Sequence[np.ndarray],
) -> Path:
    """Write ``workdir/report.html``; LR and HR images as float32 HWC in [0, 1]."""
    page = render(recipe, evaluation, history, lr_images, hr_images)
    path = Path(workdir) / "report.html"
    write_atomic(path, page)
    return path


def render(
    recipe: Recipe,
    evaluation: Evaluation,
    history: Sequence[Row],
    lr_images: Sequence[np.ndarray],
    hr_images: Sequence[np.ndarray],
) -> str:
    sections = [
        header(recipe, evaluation),
        metrics_section(evaluation),
        crops_section(evaluation, lr_images, hr_images),
        curves_section(evaluation, history),
        per_image_section(evaluation),
        recipe_section(recipe),
    ]
    body = "\n".join(section for section in sections if section)
    return (
        "<!DOCTYPE html>\n<html lang='en'>\n<head>\n<meta charset='utf-8'>\n"
        "<meta name='viewport' content='width=device-width, initial-scale=1'>\n"
        f"<title>{e(recipe.name)} · zoo report</title>\n<style>{STYLE}</style>\n</head>\n"
        f"<body>\n<main>\n{body}\n</main>\n</body>\n</html>\n"
    )


def write_atomic(path: Path, text: str) -> None:
    """Readers see the old report or the new one, never half of one."""
    # a plain open (not mkstemp) so the report gets the umask's usual permissions
    temporary = path.with_name(f".{path.name}.{os.getpid()}.tmp")
    try:
        temporary.write_text(text, encoding="utf-8")
        os.replace(temporary, path)
    except BaseException:
        temporary.unlink(missing_ok=True)
        raise


def e(value: Any) -> str:
    return html.escape(str(value), quote=True)


# ---------------------------------------------------------------------------------------------
# Header


def header(recipe: Recipe, evaluation: Evaluation) -> str:
    import zoo

    facts = [
        ("scale", f"×{evaluation.scale}"),
        ("degradation", evaluation.degradation),
        ("convention", describe_convention(evaluation.convention)),
        ("model", f"{recipe.model.encoder} → {recipe.model.decoder}"),
        ("steps", f"{recipe.train.steps:,}"),
        ("eval images", str(len(evaluation.names))),
        ("date", datetime.datetime.now().astimezone().strftime("%Y-%m-%d %H:%M %Z")),
        ("zoo", zoo.__version__),
    ]
    items = "".join(f"<div><dt>{e(key)}</dt><dd>{e(value)}</dd></div>" for key, value in facts)
    return (
        f"<header>\n<p class='kicker'>zoo · super-resolution report</p>\n"
        f"<h1>{e(recipe.name)}</h1>\n<dl class='facts'>{items}</dl>\n</header>"
    )


def describe_convention(name: str) -> str:
    # conventions may be absent in a trimmed install; the name alone still identifies it
    try:
        from zoo import conventions

        return f"{name}: {conventions.describe(name)}"
    except (ImportError, AttributeError, LookupError, ValueError):
        return name


# ---------------------------------------------------------------------------------------------
# The metrics table


def metrics_section(evaluation: Evaluation) -> str:
    results = evaluation.results
    if not results:
        return "<section><h2>Results</h2><p class='note'>No systems were evaluated.</p></section>"
    specs = evaluation.metrics
    decimals = {m.name: column_decimals(v[m.name] for v in results.values()) for m in specs}
    best = {m.name: evaluation.best(m) for m in specs}
    head = "".join(
        f"<th scope='col' title='{'higher' if m.higher_is_better else 'lower'} is better'>"
        f"{e(m.name)} {arrow(m)}</th>"
        for m in specs
    )
    rows = []
    for system, values in results.items():
        cells = "".join(
            value_cell(values[m.name], decimals[m.name], best=best[m.name] == system) for m in specs
        )
        rows.append(f"<tr{model_class(system)}><th scope='row'>{e(system)}</th>{cells}</tr>")
    rows.append(delta_row(evaluation, decimals))
    return (
        "<section id='results'>\n<h2>Results</h2>\n"
        f"{headline(evaluation, decimals)}\n"
        f"<table id='metrics-table'>\n<thead><tr><th scope='col'>system</th>{head}</tr></thead>\n"
        f"<tbody>\n{''.join(rows)}\n</tbody>\n</table>\n"
        "<p class='note'><span class='mark'>★</span> best in column · ↑ higher is better · "
        "↓ lower is better · means over "
        f"{len(evaluation.names)} image{'s' if len(evaluation.names) != 1 else ''}</p>\n</section>"
    )


def model_class(system: str) -> str:
    return " class='model'" if system == MODEL else ""


def arrow(metric: MetricSpec) -> str:
    return "↑" if metric.higher_is_better else "↓"


def value_cell(value: float, decimals: int, *, best: bool) -> str:
    text = e(f"{value:.{decimals}f}")
    if best:
        return f"<td class='best'><strong>{text}</strong> <span class='mark'>★</span></td>"
    return f"<td>{text}</td>"


def column_decimals(values: Iterable[float]) -> int:
    """Enough decimals for four significant digits of the column's smallest value."""
    magnitudes = [abs(v) for v in values if math.isfinite(v) and v != 0]
    if not magnitudes:
        return 2
    return min(8, max(2, 3 - math.floor(math.log10(min(magnitudes)))))


def best_classic(evaluation: Evaluation, metric: MetricSpec) -> tuple[str, float] | None:
    """The best upscaler (every system but the model) on ``metric``, if there is one."""
    classics = {s: v[metric.name] for s, v in evaluation.results.items() if s != MODEL}
    if not classics:
        return None
    pick = max if metric.higher_is_better else min
    name = pick(classics, key=classics.__getitem__)
    return name, classics[name]


def model_delta(evaluation: Evaluation, metric: MetricSpec) -> tuple[float, str, bool] | None:
    """(model minus best classic, that upscaler, whether the model is better)."""
    reference = best_classic(evaluation, metric)
    if reference is None or MODEL not in evaluation.results:
        return None
    delta = evaluation.results[MODEL][metric.name] - reference[1]
    better = delta > 0 if metric.higher_is_better else delta < 0
    return delta, reference[0], better


def format_delta(delta: float, metric: str, decimals: int) -> str:
    return f"{delta:+.{decimals}f}{UNITS.get(metric, '')}".replace("-", "−")


def delta_row(evaluation: Evaluation, decimals: Mapping[str, int]) -> str:
    cells = []
    for metric in evaluation.metrics:
        found = model_delta(evaluation, metric)
        if found is None:
            return ""
        delta, reference, better = found
        text = format_delta(delta, metric.name, decimals[metric.name])
        css = "better" if better else "worse" if delta else ""
        cells.append(f"<td class='{css}'>{e(text)}<small>vs {e(reference)}</small></td>")
    return f"<tr class='delta'><th scope='row'>model − best classic</th>{''.join(cells)}</tr>"


def headline_metric(evaluation: Evaluation) -> MetricSpec | None:
    """PSNR where measured, else the first metric: the one number a reader looks for first."""
    fallback = evaluation.metrics[0] if evaluation.metrics else None
    return next((m for m in evaluation.metrics if m.name == "psnr"), fallback)


def headline(evaluation: Evaluation, decimals: Mapping[str, int]) -> str:
    """One sentence on how the model compares with the best classic upscaler."""
    metric = headline_metric(evaluation)
    if metric is None:
        return ""
    found = model_delta(evaluation, metric)
    if found is None:
        return ""
    delta, reference, better = found
    places = decimals[metric.name]
    value = evaluation.results[MODEL][metric.name]
    unit = UNITS.get(metric.name, "")
    verdict = "better than" if better else "behind" if delta else "level with"
    return (
        f"<p class='headline {'better' if better else 'worse'}'>The model scores "
        f"<strong>{value:.{places}f}{unit}</strong> {e(metric.name.upper())}: "
        f"<strong>{e(format_delta(delta, metric.name, places))}</strong>, {verdict} the best "
        f"classic upscaler ({e(reference)}).</p>"
    )


# ---------------------------------------------------------------------------------------------
# Side-by-side crops


@dataclass(frozen=True)
class Window:
    top: int
    left: int
    size: int

    def cut(self, image: np.ndarray) -> np.ndarray:
        return image[self.top : self.top + self.size, self.left : self.left + self.size]

    def box_style(self, height: int, width: int) -> str:
        """CSS placing this window over a picture of a ``height`` x ``width`` image."""
        return (
            f"top:{100 * self.top / height:.3f}%;left:{100 * self.left / width:.3f}%;"
            f"width:{100 * self.size / width:.3f}%;height:{100 * self.size / height:.3f}%"
        )


def gradient_energy(image: np.ndarray) -> np.ndarray:
    gray = image.astype(np.float64).mean(axis=-1) if image.ndim == 3 else image.astype(np.float64)
    energy = np.zeros_like(gray)
    energy[:, :-1] += np.diff(gray, axis=1) ** 2
    energy[:-1, :] += np.diff(gray, axis=0) ** 2
    return energy


def detail_window(image: np.ndarray, size: int, stride: int) -> Window:
    """The ``size`` square (corner on a ``stride`` grid) holding the most gradient energy."""
    energy = gradient_energy(image)
    height, width = energy.shape
    size = min(size, height, width)
    integral = np.pad(energy.cumsum(0).cumsum(1), ((1, 0), (1, 0)))
    tops = np.arange(0, height - size + 1, stride)
    lefts = np.arange(0, width - size + 1, stride)
    sums = (
        integral[np.ix_(tops + size, lefts + size)]
        - integral[np.ix_(tops, lefts + size)]
        - integral[np.ix_(tops + size, lefts)]
        + integral[np.ix_(tops, lefts)]
    )
    row, column = np.unravel_index(int(np.argmax(sums)), sums.shape)
    return Window(int(tops[row]), int(lefts[column]), size)


def as_rgb8(image: np.ndarray) -> np.ndarray:
    """uint8 HWC RGB from float [0, 1] or uint8, grey or colour."""
    array = np.asarray(image)
    if array.dtype != np.uint8:
        array = np.round(np.clip(array.astype(np.float64), 0.0, 1.0) * 255.0).astype(np.uint8)
    if array.ndim == 2:
        array = array[..., None]
    if array.shape[-1] == 1:
        array = np.repeat(array, 3, axis=-1)
    return array[..., :3]


def png_uri(image: np.ndarray) -> str:
    buffer = io.BytesIO()
    Image.fromarray(image).save(buffer, format="PNG")
    return "data:image/png;base64," + base64.b64encode(buffer.getvalue()).decode("ascii")


def nearest(image: np.ndarray, height: int, width: int) -> np.ndarray:
    return np.asarray(Image.fromarray(image).resize((width, height), Image.Resampling.NEAREST))


def thumbnail(image: np.ndarray) -> np.ndarray:
    """The whole image at most THUMBNAIL pixels on a side, for context."""
    picture = Image.fromarray(image)
    picture.thumbnail((THUMBNAIL, THUMBNAIL), Image.Resampling.LANCZOS)
    return np.asarray(picture)


@dataclass(frozen=True)
class Panel:
    label: str
    score: str
    crop: np.ndarray
    css: str = ""


def crops_section(
    evaluation: Evaluation, lr_images: Sequence[np.ndarray], hr_images: Sequence[np.ndarray]
) -> str:
    count = min(MAX_IMAGES, len(hr_images), len(lr_images), len(evaluation.names))
    samples = [
        sample_html(evaluation, index, lr_images[index], hr_images[index]) for index in range(count)
    ]
    samples = [sample for sample in samples if sample]
    if not samples:
        return ""
    shown = (
        f"the first {len(samples)} of {len(evaluation.names)} images"
        if len(evaluation.names) > len(samples)
        else "every evaluation image"
    )
    return (
        "<section id='crops'>\n<h2>Side by side</h2>\n"
        f"<p class='note'>The most detailed square (up to {CROP} pixels) of {shown}, "
        f"from every system; below each, the outlined region magnified ×{INSET_ZOOM}. "
        "LR is enlarged with nearest neighbour so its pixels show.</p>\n"
        + "\n".join(samples)
        + "\n</section>"
    )


def sample_html(evaluation: Evaluation, index: int, lr: np.ndarray, hr: np.ndarray) -> str:
    scale = evaluation.scale
    hr8, lr8 = as_rgb8(hr), as_rgb8(lr)
    height, width = hr8.shape[:2]
    size = min(CROP, height, width) // scale * scale
    if size == 0:
        return ""
    crop = detail_window(hr8, size, scale)
    inset_size = max(scale, size // INSET_FRACTION // scale * scale)
    inset = detail_window(crop.cut(hr8), inset_size, scale)
    panels = [lr_panel(lr8, crop, scale), *system_panels(evaluation, index, crop)]
    panels.append(Panel("HR", "reference", crop.cut(hr8), "hr"))
    name = evaluation.names[index]
    context = (
        "<figure class='panel context'><figcaption><span class='name'>where</span>"
        f"<span class='score'>{width}×{height}</span></figcaption>"
        f"<div class='frame'><img class='px' src='{png_uri(thumbnail(hr8))}' "
        f"alt='{e(name)}, whole image'>"
        f"<div class='box' style='{crop.box_style(height, width)}'></div></div></figure>"
    )
    figures = "".join(panel_html(panel, inset, name) for panel in panels)
    return (
        f"<div class='sample'>\n<h3>{e(name)} <small>crop {size}×{size} at "
        f"({crop.left}, {crop.top})</small></h3>\n<div class='panels'>{context}{figures}</div>\n"
        "</div>"
    )


def lr_panel(lr: np.ndarray, crop: Window, scale: int) -> Panel:
    size = crop.size // scale
    low = lr[
        crop.top // scale : crop.top // scale + size, crop.left // scale : crop.left // scale + size
    ]
    return Panel(f"LR ×{scale}", "input", nearest(low, crop.size, crop.size), "lr")


def system_panels(evaluation: Evaluation, index: int, crop: Window) -> list[Panel]:
    """One panel per system that kept its outputs, labelled with this image's score."""
    metric = headline_metric(evaluation)
    systems = [s for s, outputs in evaluation.outputs.items() if len(outputs) > index]
    # the model goes last, beside HR, where the eye compares it
    systems.sort(key=lambda system: system == MODEL)
    scores: dict[str, float] = {}
    if metric is not None:
        scores = {s: evaluation.per_image[s][metric.name][index] for s in systems}
    pick = max if metric is None or metric.higher_is_better else min
    winner = pick(scores, key=scores.__getitem__) if scores else None
    panels = []
    for system in systems:
        score = ""
        if metric is not None:
            value = f"{scores[system]:.{column_decimals(scores.values())}f}"
            score = value + UNITS.get(metric.name, " " + metric.name)
            score += " ★" if system == winner else ""
        css = "model" if system == MODEL else ""
        panels.append(
            Panel(system, score, crop.cut(as_rgb8(evaluation.outputs[system][index])), css)
        )
    return panels


def panel_html(panel: Panel, inset: Window, image_name: str) -> str:
    size = panel.crop.shape[0]
    zoomed = nearest(inset.cut(panel.crop), inset.size * INSET_ZOOM, inset.size * INSET_ZOOM)
    label = f"{panel.label}, {image_name}"
    return (
        f"<figure class='panel {panel.css}'>"
        f"<figcaption><span class='name'>{e(panel.label)}</span>"
        f"<span class='score'>{e(panel.score)}</span></figcaption>"
        f"<div class='frame'><img class='px' src='{png_uri(panel.crop)}' alt='{e(label)}'>"
        f"<div class='box' style='{inset.box_style(size, size)}'></div></div>"
        f"<img class='px inset' src='{png_uri(zoomed)}' alt='{e(label)}, magnified'>"
        "</figure>"
    )


# ---------------------------------------------------------------------------------------------
# Training curves


@dataclass(frozen=True)
class Series:
    label: str
    points: list[tuple[float, float]]
    css: str
    markers: bool = False


@dataclass(frozen=True)
class Reference:
    label: str
    value: float
    value_text: str


@dataclass(frozen=True)
class Axis:
    """A linear or log10 mapping of [low, high] onto pixels [start, end]."""

    low: float
    high: float
    start: float
    end: float
    log: bool = False

    def __call__(self, value: float) -> float:
        low, high, value = (
            (math.log10(self.low), math.log10(self.high), math.log10(value))
            if self.log
            else (self.low, self.high, value)
        )
        return self.start + (value - low) / (high - low) * (self.end - self.start)

    def ticks(self) -> list[float]:
        return log_ticks(self.low, self.high) if self.log else linear_ticks(self.low, self.high)


def nice_step(span: float, count: int = 5) -> float:
    raw = span / count
    magnitude = 10 ** math.floor(math.log10(raw))
    return next(m * magnitude for m in (1, 2, 5, 10) if raw <= m * magnitude)


def linear_ticks(low: float, high: float, *, minimum_step: float = 0.0) -> list[float]:
    step = max(nice_step(high - low), minimum_step)
    first = math.ceil(low / step - 1e-9)
    last = math.floor(high / step + 1e-9)
    return [round(k * step, 12) for k in range(first, last + 1)]


def log_ticks(low: float, high: float) -> list[float]:
    decades = range(math.floor(math.log10(low)), math.ceil(math.log10(high)) + 1)
    # few decades leave the axis bare; 2 and 5 between them keep it readable
    mantissas = (1,) if len(decades) > 3 else (1, 2, 5)
    ticks = [m * 10.0**d for d in decades for m in mantissas]
    return [t for t in ticks if low * (1 - 1e-9) <= t <= high * (1 + 1e-9)]


def tick_text(value: float) -> str:
    return f"{value:,.0f}" if abs(value) >= 1000 and value == int(value) else f"{value:g}"


def finite_points(history: Sequence[Row], key: str) -> list[tuple[float, float]]:
    points = []
    for row in history:
        x, y = row.get("step"), row.get(key)
        if x is not None and y is not None and math.isfinite(x) and math.isfinite(y):
            points.append((float(x), float(y)))
    return sorted(points)


def smoothed(points: list[tuple[float, float]], weight: float = 0.9) -> list[tuple[float, float]]:
    """An exponential moving average, debiased so it starts at the first value."""
    out, average = [], 0.0
    for count, (x, y) in enumerate(points, start=1):
        average = weight * average + (1 - weight) * y
        out.append((x, average / (1 - weight**count)))
    return out


WIDTH, HEIGHT = 560, 300
LEFT, RIGHT, TOP, BOTTOM = 64, 18, 34, 44


def line_chart(
    title: str,
    series: Sequence[Series],
    references: Sequence[Reference] = (),
    *,
    y_label: str,
    log_allowed: bool = False,
) -> str:
    """An inline SVG line chart with axes, ticks, labels, a legend and hover titles."""
    points = [p for s in series for p in s.points]
    ys = [y for _, y in points] + [r.value for r in references]
    x_axis = Axis(*x_range([x for x, _ in points]), LEFT, WIDTH - RIGHT)
    log = log_allowed and min(ys) > 0 and max(ys) / min(ys) > LOG_RATIO
    y_axis = Axis(*y_range(ys, log=log), HEIGHT - BOTTOM, TOP, log=log)
    parts = [
        f"<svg class='chart-svg' viewBox='0 0 {WIDTH} {HEIGHT}' role='img' "
        f"aria-label='{e(title)}'>",
        f"<text class='title' x='{LEFT}' y='18'>{e(title)}</text>",
        *grid(x_axis, y_axis),
        *(reference_line(r, x_axis, y_axis) for r in references),
        *(series_svg(s, x_axis, y_axis) for s in series),
        *axis_labels(y_label + (" (log scale)" if log else "")),
        legend(series, references),
        "</svg>",
    ]
    return "\n".join(parts)


def x_range(xs: Sequence[float]) -> tuple[float, float]:
    low = min(0.0, *xs)
    high = max(xs)
    return low, high if high > low else low + 1.0


def y_range(ys: Sequence[float], *, log: bool) -> tuple[float, float]:
    low, high = min(ys), max(ys)
    if log:
        return low / 1.15, high * 1.15
    pad = (high - low) * 0.08 or max(abs(low) * 0.05, 1e-6)
    return low - pad, high + pad


def grid(x_axis: Axis, y_axis: Axis) -> list[str]:
    bottom, top = y_axis.start, y_axis.end
    parts = []
    for tick in linear_ticks(x_axis.low, x_axis.high, minimum_step=1.0):
        x = x_axis(tick)
        parts.append(
            f"<line class='tick' x1='{x:.1f}' y1='{bottom}' x2='{x:.1f}' y2='{bottom + 5}'/>"
        )
        parts.append(
            f"<text x='{x:.1f}' y='{bottom + 18}' text-anchor='middle'>{tick_text(tick)}</text>"
        )
    for tick in y_axis.ticks():
        y = y_axis(tick)
        parts.append(
            f"<line class='grid' x1='{x_axis.start}' y1='{y:.1f}' x2='{x_axis.end}' y2='{y:.1f}'/>"
        )
        parts.append(
            f"<text x='{x_axis.start - 8}' y='{y + 4:.1f}' text-anchor='end'>"
            f"{tick_text(tick)}</text>"
        )
    parts.append(f"<path class='axis' d='M{x_axis.start},{top} V{bottom} H{x_axis.end}'/>")
    return parts


def axis_labels(y_label: str) -> list[str]:
    middle_x = (LEFT + WIDTH - RIGHT) / 2
    middle_y = (TOP + HEIGHT - BOTTOM) / 2
    return [
        f"<text class='label' x='{middle_x}' y='{HEIGHT - 6}' text-anchor='middle'>step</text>",
        f"<text class='label' x='14' y='{middle_y}' text-anchor='middle' "
        f"transform='rotate(-90 14 {middle_y})'>{e(y_label)}</text>",
    ]


def series_svg(series: Series, x_axis: Axis, y_axis: Axis) -> str:
    coords = [(x_axis(x), y_axis(y)) for x, y in series.points]
    parts = []
    if len(coords) > 1:
        path = " ".join(
            f"{'M' if i == 0 else 'L'}{x:.1f},{y:.1f}" for i, (x, y) in enumerate(coords)
        )
        parts.append(f"<path class='line {series.css}' d='{path}'/>")
    if series.markers or len(coords) == 1:
        for (x, y), (step, value) in zip(coords, series.points, strict=True):
            parts.append(
                f"<circle class='dot {series.css}' cx='{x:.1f}' cy='{y:.1f}' r='3.5'>"
                f"<title>step {step:g}: {value:.6g}</title></circle>"
            )
    return "\n".join(parts)


def reference_line(reference: Reference, x_axis: Axis, y_axis: Axis) -> str:
    y = y_axis(reference.value)
    return (
        f"<line class='reference' x1='{x_axis.start}' y1='{y:.1f}' x2='{x_axis.end}' y2='{y:.1f}'>"
        f"<title>{e(reference.label)}: {e(reference.value_text)}</title></line>\n"
        f"<text class='reference-label' x='{x_axis.end - 4}' y='{y - 5:.1f}' text-anchor='end'>"
        f"{e(reference.value_text)}</text>"
    )


def legend(series: Sequence[Series], references: Sequence[Reference]) -> str:
    entries = [(s.label, f"line {s.css}") for s in series] + [
        (r.label, "reference") for r in references
    ]
    parts, x = [], WIDTH - RIGHT
    # laid out right to left so the legend hugs the chart's right edge whatever its length
    for label, css in reversed(entries):
        x -= 7 * len(label) + 8
        parts.append(f"<text x='{x}' y='18'>{e(label)}</text>")
        x -= 26
        parts.append(f"<line class='{css}' x1='{x}' y1='14' x2='{x + 20}' y2='14'/>")
        x -= 14
    return "\n".join(parts)


def curves_section(evaluation: Evaluation, history: Sequence[Row]) -> str:
    return (
        "<section id='curves'>\n<h2>Training</h2>\n<div class='charts'>\n"
        f"<div class='chart'>{loss_chart(history)}</div>\n"
        f"<div class='chart'>{eval_chart(evaluation, history)}</div>\n"
        "</div>\n</section>"
    )


def loss_chart(history: Sequence[Row]) -> str:
    points = finite_points(history, "loss")
    if not points:
        return "<p class='note'>No training loss was recorded.</p>"
    series = [Series("loss", points, "s-loss", markers=len(points) <= 20)]
    if len(points) > 20:  # a noisy per-batch loss: fade it and draw its trend on top
        series = [Series("loss", points, "s-raw"), Series("smoothed", smoothed(points), "s-loss")]
    return line_chart("Training loss", series, y_label="loss", log_allowed=True)


def eval_chart(evaluation: Evaluation, history: Sequence[Row]) -> str:
    names = [m.name for m in evaluation.metrics]
    recorded = [n for n in names if any(f"eval_{n}" in row for row in history)]
    metric_name = "psnr" if "psnr" in recorded else recorded[0] if recorded else None
    points = finite_points(history, f"eval_{metric_name}") if metric_name else []
    if not points:
        return (
            "<p class='note'>No evaluation during training was recorded "
            "(set train.eval_every to follow it).</p>"
        )
    metric = next(m for m in evaluation.metrics if m.name == metric_name)
    references = []
    found = best_classic(evaluation, metric)
    if found is not None:
        unit = UNITS.get(metric.name, "")
        name, value = found
        references.append(Reference(f"{name} (best classic)", value, f"{value:.4g}{unit}"))
    label = f"{metric.name}{UNITS.get(metric.name, '')}".replace(" dB", " (dB)")
    series = [Series("model", points, "s-eval", markers=True)]
    return line_chart(
        f"Evaluation {metric.name.upper()} {arrow(metric)}", series, references, y_label=label
    )


# ---------------------------------------------------------------------------------------------
# Per-image values and the recipe


def per_image_section(evaluation: Evaluation) -> str:
    if not evaluation.per_image or not evaluation.metrics:
        return ""
    tables = "\n".join(per_image_table(evaluation, metric) for metric in evaluation.metrics)
    return (
        "<section id='per-image'>\n<details>\n<summary>Per-image values "
        f"({len(evaluation.names)} images × {len(evaluation.per_image)} systems)</summary>\n"
        f"{tables}\n</details>\n</section>"
    )


def per_image_table(evaluation: Evaluation, metric: MetricSpec) -> str:
    systems = list(evaluation.per_image)
    columns = {s: evaluation.per_image[s][metric.name] for s in systems}
    decimals = column_decimals(v for values in columns.values() for v in values)
    pick = max if metric.higher_is_better else min
    head = "".join(f"<th scope='col'{model_class(s)}>{e(s)}</th>" for s in systems)
    rows = []
    for index, name in enumerate(evaluation.names):
        values = {s: columns[s][index] for s in systems}
        winner = pick(values, key=values.__getitem__)
        cells = "".join(value_cell(values[s], decimals, best=s == winner) for s in systems)
        rows.append(f"<tr><th scope='row'>{e(name)}</th>{cells}</tr>")
    means = {s: float(np.mean(columns[s])) for s in systems}
    winner = pick(means, key=means.__getitem__)
    cells = "".join(value_cell(means[s], decimals, best=s == winner) for s in systems)
    rows.append(f"<tr class='mean'><th scope='row'>mean</th>{cells}</tr>")
    return (
        f"<h3>{e(metric.name)} {arrow(metric)}</h3>\n<table class='per-image'>\n"
        f"<thead><tr><th scope='col'>image</th>{head}</tr></thead>\n"
        f"<tbody>{''.join(rows)}</tbody>\n</table>"
    )


def recipe_section(recipe: Recipe) -> str:
    text = yaml.safe_dump(recipe.model_dump(mode="json"), sort_keys=False, allow_unicode=True)
    return (
        "<section id='recipe'>\n<details>\n<summary>Recipe (resolved)</summary>\n"
        f"<pre>{e(text)}</pre>\n</details>\n</section>"
    )


STYLE = """
:root { --fg: #1c2230; --muted: #5d6878; --line: #dfe3ea; --bg: #f5f6f8; --card: #fff;
  --accent: #d9480f; --accent-soft: #fff2e8; --good: #2b8a3e; --bad: #c92a2a; --ref: #6b7280; }
* { box-sizing: border-box; }
body { margin: 0; background: var(--bg); color: var(--fg);
  font: 15px/1.5 system-ui, -apple-system, "Segoe UI", Roboto, sans-serif; }
main { max-width: 1320px; margin: 0 auto; padding: 28px 28px 72px; }
.kicker { margin: 0; color: var(--muted); font-size: 13px; letter-spacing: .06em;
  text-transform: uppercase; }
h1 { margin: 2px 0 0; font-size: 30px; }
h2 { font-size: 20px; margin: 0 0 14px; padding-bottom: 6px; border-bottom: 2px solid var(--line); }
h3 { font-size: 16px; margin: 18px 0 8px; }
h3 small { color: var(--muted); font-weight: normal; margin-left: 8px; }
section { margin-top: 36px; }
.facts { display: grid; grid-template-columns: repeat(auto-fit, minmax(136px, 1fr));
  gap: 10px; margin: 18px 0 0; }
.facts div { background: var(--card); border: 1px solid var(--line); border-radius: 8px;
  padding: 8px 12px; }
.facts dt { color: var(--muted); font-size: 12px; text-transform: uppercase;
  letter-spacing: .05em; }
.facts dd { margin: 0; font-weight: 600; overflow-wrap: anywhere; }
.headline { font-size: 18px; background: var(--card); border: 1px solid var(--line);
  border-left: 5px solid var(--good); border-radius: 6px; padding: 10px 16px; }
.headline.worse { border-left-color: var(--bad); }
.note { color: var(--muted); font-size: 13px; }
table { border-collapse: collapse; background: var(--card); border: 1px solid var(--line);
  font-variant-numeric: tabular-nums; }
th, td { padding: 7px 16px; border-bottom: 1px solid var(--line); text-align: right;
  white-space: nowrap; }
th:first-child { text-align: left; }
thead th { color: var(--muted); font-size: 13px; font-weight: 600; background: #fafbfc; }
tr.model { background: var(--accent-soft); }
tr.model th { color: var(--accent); }
td.best strong { font-weight: 700; }
.mark { color: var(--accent); }
tr.delta { background: #fafbfc; }
tr.delta th { font-weight: 600; color: var(--muted); }
tr.delta small { display: block; font-size: 11px; color: var(--muted); }
td.better { color: var(--good); font-weight: 600; }
td.worse { color: var(--bad); font-weight: 600; }
tr.mean { background: #fafbfc; }
.sample { margin-bottom: 26px; }
.panels { display: grid; grid-template-columns: repeat(auto-fit, minmax(128px, 1fr)); gap: 10px; }
figure.panel { margin: 0; background: var(--card); border: 1px solid var(--line);
  border-radius: 8px; padding: 8px; }
figure.panel.model { border-color: var(--accent); box-shadow: 0 0 0 1px var(--accent); }
figure.panel.model .name { color: var(--accent); }
figure.panel.context { align-self: start; }
figcaption { display: flex; flex-direction: column; font-size: 13px; line-height: 1.3;
  margin-bottom: 6px; overflow-wrap: anywhere; }
figcaption .name { font-weight: 700; }
figcaption .score { color: var(--muted); font-size: 12px; font-variant-numeric: tabular-nums;
  min-height: 1.3em; }
.frame { position: relative; line-height: 0; }
.frame img, img.inset { display: block; width: 100%; height: auto; }
img.px { image-rendering: pixelated; }
.box { position: absolute; border: 2px solid var(--accent); box-shadow: 0 0 0 1px #fff;
  pointer-events: none; }
img.inset { margin-top: 8px; outline: 2px solid var(--accent); outline-offset: -2px; }
.charts { display: grid; grid-template-columns: repeat(auto-fit, minmax(440px, 1fr)); gap: 16px; }
.chart { background: var(--card); border: 1px solid var(--line); border-radius: 8px;
  padding: 10px; }
.chart-svg { width: 100%; height: auto; display: block; }
.chart-svg text { font-size: 11px; fill: var(--muted); }
.chart-svg text.title { font-size: 14px; font-weight: 600; fill: var(--fg); }
.chart-svg text.label { font-size: 12px; fill: var(--fg); }
.chart-svg .grid { stroke: var(--line); }
.chart-svg .tick, .chart-svg .axis { stroke: #98a2b3; fill: none; }
.chart-svg .line { fill: none; stroke-width: 2; stroke-linejoin: round; }
.chart-svg .s-loss, .chart-svg .s-eval { stroke: var(--accent); }
.chart-svg .s-raw { stroke: var(--accent); opacity: .3; stroke-width: 1.2; }
.chart-svg .dot { fill: var(--card); stroke-width: 2; }
.chart-svg .reference { stroke: var(--ref); stroke-width: 1.5; stroke-dasharray: 6 4; }
.chart-svg text.reference-label { fill: var(--ref); }
details { background: var(--card); border: 1px solid var(--line); border-radius: 8px;
  padding: 10px 16px; }
summary { cursor: pointer; font-weight: 600; }
details table { margin-bottom: 8px; }
pre { overflow: auto; font-size: 13px; background: #fafbfc; padding: 12px; border-radius: 6px; }
"""
