"""Training curves as inline SVG line charts: axes, ticks, series, reference lines and a legend."""

from __future__ import annotations

import math
from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from typing import TYPE_CHECKING

from zoo.report.page import UNITS, arrow, best_classic, e

if TYPE_CHECKING:
    from zoo.evaluate import Evaluation, MetricSpec

LOG_RATIO = 10.0  # a loss spanning more than this factor is drawn on a log axis
WIDTH, HEIGHT = 560, 300
LEFT, RIGHT, TOP, BOTTOM = 64, 18, 34, 44

Row = Mapping[str, float]


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
    """Ticks, grid lines and the axes: everything drawn behind the data."""
    bottom, top = y_axis.start, y_axis.end
    return [
        *x_ticks(x_axis, bottom),
        *y_grid(x_axis, y_axis),
        f"<path class='axis' d='M{x_axis.start},{top} V{bottom} H{x_axis.end}'/>",
    ]


def x_ticks(x_axis: Axis, bottom: float) -> list[str]:
    """Tick marks and step numbers below the plot; steps are whole, so never a fractional tick."""
    parts = []
    for tick in linear_ticks(x_axis.low, x_axis.high, minimum_step=1.0):
        x = x_axis(tick)
        parts.append(
            f"<line class='tick' x1='{x:.1f}' y1='{bottom}' x2='{x:.1f}' y2='{bottom + 5}'/>"
        )
        parts.append(
            f"<text x='{x:.1f}' y='{bottom + 18}' text-anchor='middle'>{tick_text(tick)}</text>"
        )
    return parts


def y_grid(x_axis: Axis, y_axis: Axis) -> list[str]:
    """Horizontal grid lines across the plot, each labelled at the left."""
    parts = []
    for tick in y_axis.ticks():
        y = y_axis(tick)
        parts.append(
            f"<line class='grid' x1='{x_axis.start}' y1='{y:.1f}' x2='{x_axis.end}' y2='{y:.1f}'/>"
        )
        parts.append(
            f"<text x='{x_axis.start - 8}' y='{y + 4:.1f}' text-anchor='end'>"
            f"{tick_text(tick)}</text>"
        )
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
    # a lone point draws no line, so it needs its dot to show at all
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
    """The metric recorded during training: on data.val (``val_psnr``) when the run had one,
    else on data.eval. The best classic upscaler's line is drawn only over data.eval's curve:
    it was measured on those images, not on the validation ones."""
    prefix = "val" if any(key.startswith("val_") for row in history for key in row) else "eval"
    metric = recorded_metric(evaluation, history, prefix)
    points = finite_points(history, f"{prefix}_{metric.name}") if metric else []
    if metric is None or not points:
        return (
            "<p class='note'>No evaluation during training was recorded "
            "(set train.eval_every to follow it).</p>"
        )
    label = f"{metric.name}{UNITS.get(metric.name, '')}".replace(" dB", " (dB)")
    if prefix == "val":
        series = [Series("model on data.val", points, "s-eval", markers=True)]
        title, references = f"Validation {metric.name.upper()} {arrow(metric)}", []
    else:
        series = [Series("model", points, "s-eval", markers=True)]
        title = f"Evaluation {metric.name.upper()} {arrow(metric)}"
        references = classic_reference(evaluation, metric)
    return line_chart(title, series, references, y_label=label)


def recorded_metric(
    evaluation: Evaluation, history: Sequence[Row], prefix: str = "eval"
) -> MetricSpec | None:
    """PSNR if it was recorded during training (``eval_psnr``, or ``val_psnr`` with
    ``prefix="val"``), else the first metric that was."""
    recorded = [
        m for m in evaluation.metrics if any(f"{prefix}_{m.name}" in row for row in history)
    ]
    return next((m for m in recorded if m.name == "psnr"), recorded[0] if recorded else None)


def classic_reference(evaluation: Evaluation, metric: MetricSpec) -> list[Reference]:
    """The best classic upscaler's final score, the bar the model's curve has to clear."""
    found = best_classic(evaluation, metric)
    if found is None:
        return []
    name, value = found
    return [Reference(f"{name} (best classic)", value, f"{value:.4g}{UNITS.get(metric.name, '')}")]
