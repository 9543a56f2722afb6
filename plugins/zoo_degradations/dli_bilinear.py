"""The DLI course's low-resolution step: bilinear, no antialiasing, zero outside the image.

The course called scikit-image ``rescale(img, 1/scale, order=1, mode="constant",
anti_aliasing=False)``. scikit-image maps that to ``scipy.ndimage.zoom(..., grid_mode=True,
mode="grid-constant")``: half-pixel centres and zeros beyond the border. For an integer downscale
every sample lies inside the image, so the zeros never contribute and the value range never needs
clipping; the matching upsampling is the ``bilinear`` upscaler with ``border="zero"``.
"""

from __future__ import annotations

import jax

from zoo.plugin import Array, Degradation, Images, check_scale, imresize_scale
from zoo_degradations.checks import check_hr


def downscale(hr: Images, scale: int) -> Images:
    """Bilinear ``1/scale`` resampling without antialiasing, as the course's scikit-image call."""
    return imresize_scale(hr, 1 / scale, "linear", antialias=False, border="zero")


def factory(*, scale: int) -> Degradation:
    """Bilinear downscale without antialiasing (NVIDIA DLI course, scikit-image order=1)."""
    scale = check_scale(scale)
    shrink = jax.jit(downscale, static_argnums=1)

    def degrade(hr: Images, key: Array) -> Images:
        del key  # deterministic: the same for every key
        check_hr(hr, scale)
        return shrink(hr, scale)

    return degrade
