"""An example zoo plugin: registers the `charbonnier` metric and the `sharp_bicubic` upscaler."""

from __future__ import annotations

from zoo.plugin import Register, hookimpl

# zoo imports this module to list the commands of `zoo --help`, so it imports nothing heavy:
# each hook imports its factory (and JAX with it) when zoo asks for that kind of plugin.


@hookimpl
def register_metrics(register: Register) -> None:
    from zoo_example.charbonnier import charbonnier

    register(
        "charbonnier",
        charbonnier,
        higher_is_better=False,
        differentiable=True,
        description="Charbonnier loss sqrt((pred - target)^2 + eps^2), a smooth L1",
    )


@hookimpl
def register_upscalers(register: Register) -> None:
    from zoo_example.sharp_bicubic import sharp_bicubic

    register(
        "sharp_bicubic",
        sharp_bicubic,
        description="MATLAB bicubic followed by an unsharp mask",
    )
