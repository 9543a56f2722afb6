"""Built-in degradations: the DLI course's bilinear, MATLAB bicubic, and blur / noise / JPEG."""

from __future__ import annotations

from zoo.plugin import Register, hookimpl


@hookimpl
def register_degradations(register: Register) -> None:
    # Imported here, when zoo asks for degradations, not when it loads the plugin (`zoo --help`).
    from zoo_degradations import bicubic, blur_noise_jpeg, dli_bilinear

    register(
        "dli_bilinear",
        dli_bilinear.factory,
        jittable=True,
        description="bilinear downscale, no antialiasing, zero border (NVIDIA DLI course)",
    )
    register(
        "bicubic",
        bicubic.factory,
        jittable=True,
        description="MATLAB imresize bicubic downscale, antialiased (SR benchmark protocol)",
    )
    register(
        "blur_noise_jpeg",
        blur_noise_jpeg.factory,
        jittable=False,
        description="random Gaussian blur, bicubic downscale, Gaussian noise, JPEG (host)",
    )
