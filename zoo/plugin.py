"""The public surface for plugin authors: everything a plugin may import from zoo, in one place.

A plugin package imports from here and nowhere else in zoo, so the engine's modules can change
without breaking it (a test holds the built-in plugins and the example plugin to that)::

    from zoo.plugin import Images, Upscaler, check_scale, hookimpl, imresize_scale

Contents, by what they are for:

- The hook contract: ``hookimpl`` (decorate ``register_<kind>s``), ``Register`` (its argument's
  type) and ``KINDS`` (a ``Kind`` per kind: its engine arguments and required meta; see
  ``zoo.hookspecs``).
- Array conventions: ``Array``, ``Images`` (NHWC float32 in [0, 1]), ``PerImage`` (shape [N]),
  ``check_scale``, and the protocol each kind implements: ``Encoder``, ``Decoder``,
  ``Degradation``, ``Upscaler``, ``Metric``, ``Dataset``, ``Logger``.
- Modules: ``Penalty``, the scalar loss term a module may sow in a training call.
- Resampling: ``resize`` (any kernel, MATLAB-compatible antialiasing) and ``imresize_scale``
  (MATLAB ``imresize(image, scale)``, bit-exact in ``uint8`` mode).
- Pixels and image files: ``to_rgb8``, ``to_8bit``, ``float_to_uint8``, ``uint8_to_float``,
  ``apply_orientation``, ``ORIENTATION_TAG``; ``read_image``, ``write_png``, ``list_images``,
  ``is_image_name``, ``is_single_channel``, ``IMAGE_EXTENSIONS``.
- Files: ``write_text`` and ``write_json``, atomic.
- Errors the CLI prints without a traceback: ``ZooError``, ``DataError``, ``PluginError``, and
  ``did_you_mean`` for their suggestions.
"""

from __future__ import annotations

import importlib as _importlib
import typing as _typing

from zoo import hookimpl
from zoo.atomic import write_json, write_text
from zoo.errors import DataError, PluginError, ZooError, did_you_mean
from zoo.hookspecs import KINDS, Kind, Register

if _typing.TYPE_CHECKING:
    from zoo.images import EXTENSIONS as IMAGE_EXTENSIONS
    from zoo.images import is_image_name, is_single_channel, list_images, read_image, write_png
    from zoo.model import Penalty
    from zoo.pixels import (
        ORIENTATION_TAG,
        apply_orientation,
        float_to_uint8,
        to_8bit,
        to_rgb8,
        uint8_to_float,
    )
    from zoo.resize import imresize_scale, resize
    from zoo.types import (
        Array,
        Dataset,
        Decoder,
        Degradation,
        Encoder,
        Images,
        Logger,
        Metric,
        PerImage,
        Upscaler,
        check_scale,
    )

# The names that need numpy, JAX, flax or PIL, and where each lives. They are imported on first
# use (PEP 562), so that a plugin's `from zoo.plugin import Register, hookimpl` costs no JAX and
# `zoo --help` stays fast; type checkers read the imports above.
_LAZY: dict[str, tuple[str, str]] = {
    "IMAGE_EXTENSIONS": ("zoo.images", "EXTENSIONS"),
    **{name: ("zoo.images", name) for name in ("is_image_name", "is_single_channel")},
    **{name: ("zoo.images", name) for name in ("list_images", "read_image", "write_png")},
    "Penalty": ("zoo.model", "Penalty"),
    **{
        name: ("zoo.pixels", name)
        for name in (
            "ORIENTATION_TAG",
            "apply_orientation",
            "float_to_uint8",
            "to_8bit",
            "to_rgb8",
            "uint8_to_float",
        )
    },
    **{name: ("zoo.resize", name) for name in ("imresize_scale", "resize")},
    **{
        name: ("zoo.types", name)
        for name in (
            "Array",
            "Dataset",
            "Decoder",
            "Degradation",
            "Encoder",
            "Images",
            "Logger",
            "Metric",
            "PerImage",
            "Upscaler",
            "check_scale",
        )
    },
}

if not _typing.TYPE_CHECKING:  # at run time only: type checkers see every name imported above

    def __getattr__(name: str) -> _typing.Any:
        if name not in _LAZY:
            raise AttributeError(f"module {__name__!r} has no attribute {name!r}")
        module, attribute = _LAZY[name]
        value = getattr(_importlib.import_module(module), attribute)
        globals()[name] = value  # later lookups are plain attribute reads
        return value

    def __dir__() -> list[str]:
        return sorted({*globals(), *_LAZY})


__all__ = [
    "IMAGE_EXTENSIONS",
    "KINDS",
    "ORIENTATION_TAG",
    "Array",
    "DataError",
    "Dataset",
    "Decoder",
    "Degradation",
    "Encoder",
    "Images",
    "Kind",
    "Logger",
    "Metric",
    "Penalty",
    "PerImage",
    "PluginError",
    "Register",
    "Upscaler",
    "ZooError",
    "apply_orientation",
    "check_scale",
    "did_you_mean",
    "float_to_uint8",
    "hookimpl",
    "imresize_scale",
    "is_image_name",
    "is_single_channel",
    "list_images",
    "read_image",
    "resize",
    "to_8bit",
    "to_rgb8",
    "uint8_to_float",
    "write_json",
    "write_png",
    "write_text",
]
