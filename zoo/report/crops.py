"""Side-by-side crops: the most detailed window of each image, from every system, as PNG URIs."""

from __future__ import annotations

import base64
import io
from collections.abc import Sequence
from dataclasses import dataclass
from typing import TYPE_CHECKING

import numpy as np
from PIL import Image

from zoo.report.page import MODEL, UNITS, column_decimals, e, headline_metric

if TYPE_CHECKING:
    from zoo.evaluate import Evaluation

MAX_IMAGES = 4
CROP = 120  # HR pixels; divisible by 2, 3 and 4 so the LR crop lines up at every usual scale
INSET_FRACTION = 3  # the inset covers a third of the crop's side ...
INSET_ZOOM = 3  # ... magnified back to the crop's size
THUMBNAIL = 240
GAP = 4  # white pixels between the panels of a side-by-side picture


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


@dataclass(frozen=True)
class Panel:
    label: str
    score: str
    crop: np.ndarray
    css: str = ""


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
    """One image's row of panels; empty when the image is smaller than one LR pixel."""
    scale = evaluation.scale
    hr8, lr8 = as_rgb8(hr), as_rgb8(lr)
    size = min(CROP, *hr8.shape[:2]) // scale * scale
    if size == 0:
        return ""
    crop = detail_window(hr8, size, scale)
    inset_size = max(scale, size // INSET_FRACTION // scale * scale)
    inset = detail_window(crop.cut(hr8), inset_size, scale)
    panels = [
        lr_panel(lr8, crop, scale),
        *system_panels(evaluation, index, crop),
        Panel("HR", "reference", crop.cut(hr8), "hr"),
    ]
    name = evaluation.names[index]
    figures = "".join(panel_html(panel, inset, name) for panel in panels)
    return (
        f"<div class='sample'>\n<h3>{e(name)} <small>crop {size}×{size} at "
        f"({crop.left}, {crop.top})</small></h3>\n"
        f"<div class='panels'>{context_html(hr8, crop, name)}{figures}</div>\n</div>"
    )


def context_html(hr: np.ndarray, crop: Window, name: str) -> str:
    """The whole image, small, with the crop outlined: where the panels come from."""
    height, width = hr.shape[:2]
    return (
        "<figure class='panel context'><figcaption><span class='name'>where</span>"
        f"<span class='score'>{width}×{height}</span></figcaption>"
        f"<div class='frame'><img class='px' src='{png_uri(thumbnail(hr))}' "
        f"alt='{e(name)}, whole image'>"
        f"<div class='box' style='{crop.box_style(height, width)}'></div></div></figure>"
    )


def lr_panel(lr: np.ndarray, crop: Window, scale: int) -> Panel:
    low = Window(crop.top // scale, crop.left // scale, crop.size // scale).cut(lr)
    return Panel(f"LR ×{scale}", "input", nearest(low, crop.size, crop.size), "lr")


def system_panels(evaluation: Evaluation, index: int, crop: Window) -> list[Panel]:
    """One panel per system that kept its outputs, labelled with this image's score."""
    systems = [s for s, outputs in evaluation.outputs.items() if len(outputs) > index]
    # the model goes last, beside HR, where the eye compares it
    systems.sort(key=lambda system: system == MODEL)
    scores = score_texts(evaluation, index, systems)
    return [
        Panel(
            system,
            scores.get(system, ""),
            crop.cut(as_rgb8(evaluation.outputs[system][index])),
            "model" if system == MODEL else "",
        )
        for system in systems
    ]


def score_texts(evaluation: Evaluation, index: int, systems: Sequence[str]) -> dict[str, str]:
    """Each system's headline score on image ``index``, the best one starred."""
    metric = headline_metric(evaluation)
    if metric is None or not systems:
        return {}
    values = {s: evaluation.per_image[s][metric.name][index] for s in systems}
    pick = max if metric.higher_is_better else min
    winner = pick(values, key=values.__getitem__)
    decimals = column_decimals(values.values())
    unit = UNITS.get(metric.name, " " + metric.name)
    return {
        s: f"{value:.{decimals}f}{unit}" + (" ★" if s == winner else "")
        for s, value in values.items()
    }


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


def side_by_side(
    evaluation: Evaluation, index: int, lr: np.ndarray, hr: np.ndarray
) -> np.ndarray | None:
    """One picture of the report's row for image ``index``: LR (nearest), each system that
    kept its outputs, HR, left to right; None when the image is smaller than one LR pixel."""
    scale = evaluation.scale
    hr8, lr8 = as_rgb8(hr), as_rgb8(lr)
    size = min(CROP, *hr8.shape[:2]) // scale * scale
    if size == 0:
        return None
    crop = detail_window(hr8, size, scale)
    panels = [lr_panel(lr8, crop, scale).crop]
    panels += [panel.crop for panel in system_panels(evaluation, index, crop)]
    panels.append(crop.cut(hr8))
    gap = np.full((size, GAP, 3), 255, np.uint8)
    pieces = [piece for panel in panels for piece in (panel, gap)][:-1]
    return np.concatenate(pieces, axis=1)
