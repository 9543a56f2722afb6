"""Built-in classic upscalers: nearest, bilinear, bicubic and Lanczos, the baselines."""

from __future__ import annotations

from zoo.plugin import Register, hookimpl
from zoo_upscalers import bicubic, bilinear, lanczos, nearest


@hookimpl
def register_upscalers(register: Register) -> None:
    register("nearest", nearest.factory, description="nearest neighbour (pixel replication)")
    register("bilinear", bilinear.factory, description="bilinear, half-pixel centres")
    register("bicubic", bicubic.factory, description="bicubic, MATLAB imresize compatible")
    register("lanczos", lanczos.factory, description="Lanczos3 (MATLAB or PIL borders)")
