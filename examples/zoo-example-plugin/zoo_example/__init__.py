"""An example zoo plugin: registers the `charbonnier` metric and the `sharp_bicubic` upscaler."""

from __future__ import annotations

from zoo.plugin import Register, hookimpl
from zoo_example.charbonnier import charbonnier
from zoo_example.sharp_bicubic import sharp_bicubic


@hookimpl
def register_metrics(register: Register) -> None:
    register(
        "charbonnier",
        charbonnier,
        higher_is_better=False,
        differentiable=True,
        description="Charbonnier loss sqrt((pred - target)^2 + eps^2), a smooth L1",
    )


@hookimpl
def register_upscalers(register: Register) -> None:
    register(
        "sharp_bicubic",
        sharp_bicubic,
        description="MATLAB bicubic followed by an unsharp mask",
    )
