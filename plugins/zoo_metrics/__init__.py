"""Built-in zoo metrics plugin: MSE, PSNR, SSIM and its DLI variant, HFENN and HFEN.

Every factory returns a ``jax.jit``-wrapped function: eager calls then compile once per shape
instead of dispatching the filter loops op by op, and it still composes with jit, grad and vmap.
"""

from __future__ import annotations

from zoo.plugin import Register, hookimpl


@hookimpl
def register_metrics(register: Register) -> None:
    # Imported here, when zoo asks for metrics, not when it loads the plugin (`zoo --help`).
    from zoo_metrics.hfen import hfen, hfen_relative
    from zoo_metrics.hfenn import hfenn
    from zoo_metrics.mae import mae
    from zoo_metrics.mse import mse
    from zoo_metrics.psnr import psnr
    from zoo_metrics.ssim import ssim
    from zoo_metrics.ssim_dli import ssim_dli

    register(
        "mse",
        mse,
        higher_is_better=False,
        differentiable=True,
        description="mean squared error per image",
    )
    register(
        "mae",
        mae,
        higher_is_better=False,
        differentiable=True,
        description="mean absolute error per image (the L1 loss EDSR trains with)",
    )
    register(
        "psnr",
        psnr,
        higher_is_better=True,
        differentiable=True,
        description="peak signal-to-noise ratio in dB, 10 log10(R^2 / MSE)",
    )
    register(
        "ssim",
        ssim,
        higher_is_better=True,
        differentiable=True,
        description="SSIM (Wang et al. 2004): 11x11 Gaussian sigma 1.5, valid, per channel",
    )
    register(
        "ssim_dli",
        ssim_dli,
        higher_is_better=True,
        differentiable=True,
        description="the DLI notebook's SSIM: skimage 0.14 3-D blur across colours, no crop",
    )
    register(
        "hfenn",
        hfenn,
        higher_is_better=False,
        differentiable=True,
        description="DLI HFENN: 1e4 * mean((LoG sigma 1.5 * (pred - target))^2), per channel",
    )
    register(
        "hfen",
        hfen,
        higher_is_better=False,
        differentiable=True,
        description="HFEN (Ravishankar & Bresler 2011): ||LoG 15x15 s1.5 * (pred - target)||_2",
    )
    register(
        "hfen_relative",
        hfen_relative,
        higher_is_better=False,
        differentiable=True,
        description="relative HFEN: ||LoG * (pred - target)||_2 / ||LoG * target||_2",
    )
