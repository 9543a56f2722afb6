"""The report's text: header, metrics table with best marks and deltas, per-image tables, recipe."""

from __future__ import annotations

import datetime
import html
import math
from collections.abc import Iterable, Mapping
from typing import TYPE_CHECKING, Any

import numpy as np
import yaml

import zoo
from zoo.evaluate import MODEL_SYSTEM

if TYPE_CHECKING:
    from zoo.evaluate import Evaluation, MetricSpec
    from zoo.recipe import Recipe

MODEL = MODEL_SYSTEM
UNITS = {"psnr": " dB"}


def e(value: Any) -> str:
    return html.escape(str(value), quote=True)


def document(title: str, style: str, body: str) -> str:
    """The whole page: ``style`` inlined so the file needs nothing beside it."""
    return (
        "<!DOCTYPE html>\n<html lang='en'>\n<head>\n<meta charset='utf-8'>\n"
        "<meta name='viewport' content='width=device-width, initial-scale=1'>\n"
        f"<title>{e(title)} · zoo report</title>\n<style>\n{style}</style>\n</head>\n"
        f"<body>\n<main>\n{body}\n</main>\n</body>\n</html>\n"
    )


def header(
    recipe: Recipe,
    evaluation: Evaluation,
    *,
    step: int | None = None,
    selected: str | None = None,
    init_from: Mapping[str, Any] | None = None,
) -> str:
    facts = [
        ("scale", f"×{evaluation.scale}"),
        ("degradation", evaluation.degradation),
        ("convention", describe_convention(evaluation.convention)),
        ("model", f"{recipe.model.encoder} → {recipe.model.decoder}"),
        ("steps", f"{recipe.train.steps:,}"),
        *([("scored step", scored_step(step, selected))] if step is not None else []),
        ("validation", describe_validation(recipe)),
        *([("start", initialised_from(init_from))] if init_from else []),
        ("eval images", str(len(evaluation.names))),
        ("date", datetime.datetime.now().astimezone().strftime("%Y-%m-%d %H:%M %Z")),
        ("zoo", zoo.__version__),
    ]
    items = "".join(f"<div><dt>{e(key)}</dt><dd>{e(value)}</dd></div>" for key, value in facts)
    return (
        f"<header>\n<p class='kicker'>zoo · super-resolution report</p>\n"
        f"<h1>{e(recipe.name)}</h1>\n<dl class='facts'>{items}</dl>\n</header>"
    )


def scored_step(step: int, selected: str | None) -> str:
    """``1,500 (best by val_psnr)``: the step the model row is, and how it was chosen."""
    return f"{step:,} ({selected})" if selected else f"{step:,}"


def describe_validation(recipe: Recipe) -> str:
    """What chose the checkpoint (data.val), or that nothing did."""
    val = getattr(recipe.data, "val", None)
    if val is None:
        return "none; the last step is reported"
    what = f"the last {val.images} images of data.train" if hasattr(val, "images") else str(val)
    best = recipe.checkpoint.best
    how = f"chooses the best by {best}" if best else "watched only, the last step is reported"
    return f"{what}; {how}"


def initialised_from(record: Mapping[str, Any]) -> str:
    """``initialised from SOURCE (step S, sha256 DIGEST[:12])``, from recipe.json's init_from."""
    details = []
    if record.get("step") is not None:
        details.append(f"step {record['step']}")
    if record.get("digest"):
        details.append(f"sha256 {str(record['digest'])[:12]}")
    source = record.get("source", "?")
    return f"initialised from {source}" + (f" ({', '.join(details)})" if details else "")


def describe_convention(name: str) -> str:
    # conventions may be absent in a trimmed install; the name alone still identifies it
    try:
        from zoo import conventions

        return f"{name}: {conventions.describe(name)}"
    except (ImportError, AttributeError, LookupError, ValueError):
        return name


def metrics_section(evaluation: Evaluation) -> str:
    if not evaluation.results:
        return "<section><h2>Results</h2><p class='note'>No systems were evaluated.</p></section>"
    decimals = {
        m.name: column_decimals(v[m.name] for v in evaluation.results.values())
        for m in evaluation.metrics
    }
    rows = [*system_rows(evaluation, decimals), delta_row(evaluation, decimals)]
    return (
        "<section id='results'>\n<h2>Results</h2>\n"
        f"{headline(evaluation, decimals)}\n"
        f"<table id='metrics-table'>\n<thead><tr><th scope='col'>system</th>"
        f"{metrics_head(evaluation.metrics)}</tr></thead>\n"
        f"<tbody>\n{''.join(rows)}\n</tbody>\n</table>\n"
        f"{metrics_note(len(evaluation.names))}\n</section>"
    )


def metrics_head(metrics: Iterable[MetricSpec]) -> str:
    return "".join(
        f"<th scope='col' title='{'higher' if m.higher_is_better else 'lower'} is better'>"
        f"{e(m.name)} {arrow(m)}</th>"
        for m in metrics
    )


def system_rows(evaluation: Evaluation, decimals: Mapping[str, int]) -> list[str]:
    """One row of mean values per system, the best in each column starred."""
    best = {m.name: evaluation.best(m) for m in evaluation.metrics}
    rows = []
    for system, values in evaluation.results.items():
        cells = "".join(
            value_cell(values[m.name], decimals[m.name], best=best[m.name] == system)
            for m in evaluation.metrics
        )
        rows.append(f"<tr{model_class(system)}><th scope='row'>{e(system)}</th>{cells}</tr>")
    return rows


def metrics_note(images: int) -> str:
    return (
        "<p class='note'><span class='mark'>★</span> best in column · ↑ higher is better · "
        f"↓ lower is better · means over {images} image{'s' if images != 1 else ''}</p>"
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
    rows = []
    for index, name in enumerate(evaluation.names):
        cells = starred_cells({s: columns[s][index] for s in systems}, metric, decimals)
        rows.append(f"<tr><th scope='row'>{e(name)}</th>{cells}</tr>")
    means = starred_cells({s: float(np.mean(columns[s])) for s in systems}, metric, decimals)
    rows.append(f"<tr class='mean'><th scope='row'>mean</th>{means}</tr>")
    head = "".join(f"<th scope='col'{model_class(s)}>{e(s)}</th>" for s in systems)
    return (
        f"<h3>{e(metric.name)} {arrow(metric)}</h3>\n<table class='per-image'>\n"
        f"<thead><tr><th scope='col'>image</th>{head}</tr></thead>\n"
        f"<tbody>{''.join(rows)}</tbody>\n</table>"
    )


def starred_cells(values: Mapping[str, float], metric: MetricSpec, decimals: int) -> str:
    """One cell per system, the best value on ``metric`` starred."""
    pick = max if metric.higher_is_better else min
    winner = pick(values, key=values.__getitem__)
    return "".join(value_cell(value, decimals, best=s == winner) for s, value in values.items())


def recipe_section(recipe: Recipe) -> str:
    text = yaml.safe_dump(recipe.model_dump(mode="json"), sort_keys=False, allow_unicode=True)
    return (
        "<section id='recipe'>\n<details>\n<summary>Recipe (resolved)</summary>\n"
        f"<pre>{e(text)}</pre>\n</details>\n</section>"
    )
