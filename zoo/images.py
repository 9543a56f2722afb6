"""Image files in and out: every format and mode the `folder` dataset reads, 8-bit PNG out."""

from __future__ import annotations

import os
from pathlib import Path

import numpy as np
from PIL import Image, ImageOps, UnidentifiedImageError

from zoo.errors import DataError

EXTENSIONS = (".png", ".jpg", ".jpeg", ".tif", ".tiff", ".bmp")


def is_image_file(path: Path) -> bool:
    return path.suffix.lower() in EXTENSIONS and not path.name.startswith(".")


def list_images(folder: Path, *, recursive: bool = False) -> list[Path]:
    """Image files in a folder, sorted; other files are ignored."""
    pattern = "**/*" if recursive else "*"
    return sorted(p for p in Path(folder).glob(pattern) if p.is_file() and is_image_file(p))


def read_rgb(path: Path) -> np.ndarray:
    """Read an image as uint8 (H, W, 3) RGB: EXIF orientation applied, 16-bit scaled to 8 bits
    with rounding, grey replicated to three channels, palette expanded, alpha dropped."""
    try:
        with Image.open(path) as opened:
            opened.load()
            image = ImageOps.exif_transpose(opened)
    except (UnidentifiedImageError, OSError, SyntaxError, ValueError) as exc:
        raise DataError(f"{path}: cannot read this image ({exc}); replace or remove the file.")
    return to_rgb8(image, path)


def to_rgb8(image: Image.Image, path: Path | str = "<image>") -> np.ndarray:
    mode = image.mode
    if mode in ("I;16", "I;16B", "I;16L", "I", "I;16N"):
        array = np.asarray(image).astype(np.float64)
        peak = 65535.0 if array.max(initial=0) > 255 or mode.startswith("I;16") else 255.0
        grey = np.clip(np.round(array * (255.0 / peak)), 0, 255).astype(np.uint8)
        return np.repeat(grey[:, :, None], 3, axis=2)
    if mode == "F":
        array = np.asarray(image, dtype=np.float64)
        grey = np.clip(np.round(array * (255.0 if array.max(initial=0) <= 1.0 else 1.0)), 0, 255)
        return np.repeat(grey.astype(np.uint8)[:, :, None], 3, axis=2)
    if mode in ("RGB;16", "RGBA;16", "RGBX;16"):
        array = np.asarray(image).astype(np.float64)[..., :3]
        return np.clip(np.round(array * (255.0 / 65535.0)), 0, 255).astype(np.uint8)
    if mode == "P":
        image = image.convert("RGBA" if "transparency" in image.info else "RGB")
    if mode in ("L", "LA", "1"):
        grey = np.asarray(image.convert("L"))
        return np.repeat(grey[:, :, None], 3, axis=2)
    if image.mode != "RGB":
        image = image.convert("RGB")  # drops alpha (RGBA, LA) and converts CMYK/YCbCr
    array = np.asarray(image)
    if array.ndim != 3 or array.shape[2] != 3:
        raise DataError(f"{path}: unsupported image mode {mode}; save it as RGB or grey PNG.")
    return np.ascontiguousarray(array, dtype=np.uint8)


def write_png(path: Path, image: np.ndarray) -> None:
    """Write uint8 HWC RGB as PNG atomically: a half-written file never has the final name."""
    path = Path(path)
    temporary = path.with_name(f".{path.name}.partial")
    Image.fromarray(np.asarray(image, dtype=np.uint8)).save(temporary, format="PNG")
    os.replace(temporary, path)
