"""Built-in classic upscalers: nearest, bilinear, bicubic and Lanczos, the baselines."""

from __future__ import annotations

from zoo.plugin import Register, hookimpl


@hookimpl
def register_upscalers(register: Register) -> None:
    # Imported here, when zoo asks for upscalers, not when it loads the plugin (`zoo --help`).
    from zoo_upscalers import bicubic, bilinear, lanczos, nearest

    register("nearest", nearest.factory, description="nearest neighbour (pixel replication)")
    register("bilinear", bilinear.factory, description="bilinear, half-pixel centres")
    register("bicubic", bicubic.factory, description="bicubic, MATLAB imresize compatible")
    register("lanczos", lanczos.factory, description="Lanczos3 (MATLAB or PIL borders)")
