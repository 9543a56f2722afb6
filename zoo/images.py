"""Image files in and out: any format, bit depth or channel layout in; 8-bit PNG out."""

from __future__ import annotations

import os
import warnings
from pathlib import Path
from typing import Any

import numpy as np
from PIL import Image, ImageFile, TiffImagePlugin, UnidentifiedImageError

from zoo import atomic
from zoo.errors import DataError
from zoo.pixels import ORIENTATION_TAG, apply_orientation, to_rgb8

# Matched case-insensitively. Other files (READMEs, .txt, .json, ...) are ignored, as are hidden
# ones: macOS leaves "._photo.png" resource files that carry an image extension but no image.
EXTENSIONS = frozenset({".png", ".jpg", ".jpeg", ".tif", ".tiff", ".bmp"})

# Pillow modes numpy reads directly as grey, grey+alpha, RGB or RGBA at 8 or 16 bits.
_DIRECT_MODES = frozenset({"L", "LA", "RGB", "RGBA", "I;16", "I;16L", "I;16B", "I;16N"})
# Modes Pillow converts into a direct one without losing what we keep (alpha is dropped anyway).
_CONVERTED_MODES = {"1": "L", "P": "RGB", "PA": "RGBA", "CMYK": "RGB", "YCbCr": "RGB"}
_BITS_PER_SAMPLE = 258  # TIFF tag

MAX_PIXELS_VARIABLE = "ZOO_MAX_IMAGE_PIXELS"
DEFAULT_MAX_PIXELS = 89_478_485
"""Pillow's own default limit (about 9459 x 9459, 256 MiB as 8-bit RGB). Pillow only warns up
to twice that; zoo refuses anything over the limit, and ``ZOO_MAX_IMAGE_PIXELS`` raises it."""


def max_image_pixels() -> int:
    """The most pixels an image file may claim: ``$ZOO_MAX_IMAGE_PIXELS``, else
    ``DEFAULT_MAX_PIXELS``. Also set as Pillow's ``Image.MAX_IMAGE_PIXELS``, so every
    ``Image.open`` in the process applies it."""
    text = os.environ.get(MAX_PIXELS_VARIABLE, "").strip()
    limit = DEFAULT_MAX_PIXELS
    if text:
        try:
            limit = int(text)
        except ValueError:
            limit = 0
        if limit < 1:
            raise DataError(
                f"{MAX_PIXELS_VARIABLE}={text!r}: expected a whole number of pixels, for example "
                f"{MAX_PIXELS_VARIABLE}=200000000 (unset, the limit is {DEFAULT_MAX_PIXELS:,})."
            )
    Image.MAX_IMAGE_PIXELS = limit
    return limit


def _open_within_limit(path: Path) -> ImageFile.ImageFile:
    """``Image.open`` (which reads only the header), refusing files that claim more pixels than
    ``max_image_pixels()``: a few bytes of PNG can claim 100000 x 100000, a decompression bomb."""
    limit = max_image_pixels()
    try:
        with warnings.catch_warnings():
            warnings.simplefilter("error", Image.DecompressionBombWarning)
            return Image.open(path)
    except (Image.DecompressionBombError, Image.DecompressionBombWarning) as exc:
        header = _unchecked_header(path)
        size = header[0] if header else None
        claimed = f"{size[0]}x{size[1]} pixels ({size[0] * size[1]:,})" if size else "its size"
        needed = size[0] * size[1] if size else 2 * limit
        raise DataError(
            f"{path}: {claimed} is over the limit of {limit:,} pixels that guards against "
            f"decompression bombs. If the image is genuine, raise the limit: "
            f"{MAX_PIXELS_VARIABLE}={needed} (or use a smaller copy of it)."
        ) from exc


def _unchecked_header(path: Path) -> tuple[tuple[int, int], str] | None:
    """The size and mode a file's header claims, read with Pillow's pixel limit off (nothing is
    decoded, so the size costs nothing); None when the file is unreadable."""
    saved = Image.MAX_IMAGE_PIXELS
    Image.MAX_IMAGE_PIXELS = None
    try:
        with Image.open(path) as image:
            return image.size, image.mode
    except Exception:
        return None
    finally:
        Image.MAX_IMAGE_PIXELS = saved


def read_image(path: Path) -> np.ndarray:
    """The image at ``path`` as uint8 RGB ``(H, W, 3)``, turned upright per its EXIF orientation.

    Multi-frame files give their first frame. Raises ``DataError`` naming the file when it cannot
    be opened, is not an image, is truncated or corrupt, has a pixel format with no RGB meaning,
    or claims more pixels than ``max_image_pixels()`` (``$ZOO_MAX_IMAGE_PIXELS``).
    """
    try:
        image = _open_within_limit(path)
    except UnidentifiedImageError:
        raise DataError(
            f"{path}: not an image, although its name ends in {path.suffix!r}. "
            "Remove it from the folder or give it its proper extension."
        ) from None
    except OSError as exc:
        raise DataError(
            f"{path}: cannot open it ({exc}). Check that it exists and is readable."
        ) from exc
    with image:
        try:
            pixels = _pixels(image, path)
            orientation = image.getexif().get(ORIENTATION_TAG, 1)
        except DataError:
            raise
        except Exception as exc:  # whatever the decoder raises, the fault lies in this file
            raise DataError(
                f"{path}: cannot decode it ({type(exc).__name__}: {exc}). The file is damaged "
                "or incomplete: re-export it, or remove it from the folder."
            ) from exc
    try:
        rgb = to_rgb8(pixels)
    except ValueError as exc:
        raise _unsupported(path, str(exc)) from None
    return apply_orientation(rgb, orientation)


def _unsupported(path: Path, what: str) -> DataError:
    return DataError(
        f"{path}: unsupported pixel format ({what}). Convert it to 8- or 16-bit grey, RGB or "
        "RGBA, e.g. with `magick in.tif -depth 16 out.png`."
    )


def _pixels(image: ImageFile.ImageFile, path: Path) -> np.ndarray:
    """8- or 16-bit grey, grey+alpha, RGB or RGBA pixels of the first frame, as decoded."""
    if _is_sixteen_bit_colour_png(image):
        return _sixteen_bit_colour_png(path)
    if _is_sixteen_bit_colour_tiff(image):
        return _sixteen_bit_tiff(path)
    if image.mode == "I" and image.format == "PNG":
        # Older Pillow releases decode 16-bit grey PNG into 32-bit mode "I".
        return np.asarray(image).astype(np.uint16)
    if image.mode not in _DIRECT_MODES | _CONVERTED_MODES.keys():
        raise _unsupported(path, f"Pillow mode {image.mode!r}")
    direct = (
        image.convert(_CONVERTED_MODES[image.mode]) if image.mode in _CONVERTED_MODES else image
    )
    pixels = np.asarray(direct)
    return pixels.astype(np.uint16) if pixels.dtype.itemsize == 2 else pixels


def _is_sixteen_bit_colour_png(image: ImageFile.ImageFile) -> bool:
    # Pillow has no 16-bit colour mode: it keeps only the high byte of each sample (rawmode
    # "RGB;16B", "RGBA;16B" or "LA;16B"), which would floor rather than round to 8 bits.
    return (
        image.format == "PNG"
        and image.mode in ("RGB", "RGBA")
        and str(image.tile[0][3]).endswith(";16B")
    )


def _sixteen_bit_colour_png(path: Path) -> np.ndarray:
    """All 16 bits of a colour or grey+alpha PNG, by decoding its high and low bytes separately."""
    with Image.open(path) as image:
        rawmode = str(image.tile[0][3])
    if rawmode == "LA;16B":
        # Decoding the 32-bit LA pixels as 8-bit RGBA lays out the bytes L-high, L-low, A-high,
        # A-low; the PNG filters still see 4 bytes per pixel, so unfiltering stays correct.
        raw = _decode_with_rawmode(path, "RGBA").astype(np.uint16)
        return raw[..., 0] << 8 | raw[..., 1]
    # The little-endian rawmode takes the other byte of each big-endian sample: the low one.
    high = _decode_with_rawmode(path, rawmode).astype(np.uint16)
    low = _decode_with_rawmode(path, rawmode.replace(";16B", ";16L")).astype(np.uint16)
    return high << 8 | low


def _decode_with_rawmode(path: Path, rawmode: str) -> np.ndarray:
    with Image.open(path) as image:
        image.tile = [_with_rawmode(tile, rawmode) for tile in image.tile]
        return np.asarray(image)


def _with_rawmode(tile: Any, rawmode: str) -> Any:
    # Pillow >= 11 stores tiles as a named tuple, older releases as a plain tuple.
    return tile._replace(args=rawmode) if hasattr(tile, "_replace") else (*tile[:3], rawmode)


def _is_sixteen_bit_colour_tiff(image: ImageFile.ImageFile) -> bool:
    if not isinstance(image, TiffImagePlugin.TiffImageFile) or image.mode.startswith("I;16"):
        return False
    bits = image.tag_v2.get(_BITS_PER_SAMPLE, 8)
    return max(bits if isinstance(bits, tuple) else (bits,)) > 8


def _sixteen_bit_tiff(path: Path) -> np.ndarray:
    """A TIFF's first page read by tifffile, which keeps the 16 bits Pillow would truncate."""
    import tifffile  # a scikit-image dependency; only these rare files need it

    with tifffile.TiffFile(path) as tiff:
        page = tiff.pages[0]
        pixels = page.asarray()
        # Planar TIFFs store one plane per sample ("SYX"); bring samples last like Pillow.
        return np.moveaxis(pixels, 0, -1) if page.axes.startswith("S") else pixels


# Pillow modes of images stored with a single channel (grey, with or without alpha).
SINGLE_CHANNEL_MODES = frozenset({"1", "L", "LA", "I", "I;16", "I;16L", "I;16B", "I;16N", "F"})


def is_single_channel(path: Path) -> bool:
    """Whether the file stores one channel (grey), read from its header without decoding."""
    try:
        with warnings.catch_warnings():
            warnings.simplefilter("ignore", Image.DecompressionBombWarning)
            with Image.open(path) as image:
                return image.mode in SINGLE_CHANNEL_MODES
    except Image.DecompressionBombError:
        # The header is harmless whatever it claims; read_image judges the size (a cached
        # dataset may hold this image from a run with a higher limit).
        header = _unchecked_header(path)
        return header is not None and header[1] in SINGLE_CHANNEL_MODES
    except (OSError, UnidentifiedImageError):
        return False  # read_image reports unreadable files with their name


def is_image_name(filename: str) -> bool:
    return not filename.startswith(".") and Path(filename).suffix.lower() in EXTENSIONS


def list_images(folder: Path) -> list[Path]:
    """The image files directly in ``folder``, sorted by name; other files are ignored."""
    return sorted(p for p in Path(folder).iterdir() if p.is_file() and is_image_name(p.name))


def write_png(path: Path, image: np.ndarray) -> None:
    """Write uint8 HWC RGB as PNG atomically: a half-written file never has the final name."""
    picture = Image.fromarray(np.asarray(image, dtype=np.uint8))
    atomic.write_with(Path(path), lambda handle: picture.save(handle, format="PNG"))
