"""Time the jitted zoo metrics against scikit-image / scipy computing the same per-image values.

    python benchmarks/metrics.py                      # psnr, ssim, hfenn on 16 x 256 x 256 x 3
    python benchmarks/metrics.py --metrics ssim --batch 4 --size 128 --repeats 3

Both sides get the same float32 images; ``--peer-dtype float64`` hands the peers float64 copies,
what ``skimage.img_as_float`` would give them. zoo times one jitted call on the whole batch
(compile and first run excluded, ``block_until_ready``); the peer loops over the images. Each
time is the median of ``--repeats`` runs. The script measures and prints; it asserts nothing
about speed.
"""

from __future__ import annotations

import argparse
import json
import os
import platform
import statistics
import sys
import time
from collections.abc import Callable

import jax
import numpy as np
from scipy.ndimage import gaussian_filter, gaussian_laplace
from skimage.metrics import mean_squared_error, peak_signal_noise_ratio, structural_similarity

from zoo.registry import get_registry

PerImage = Callable[[np.ndarray, np.ndarray], float]


def peer_ssim_dli(pred: np.ndarray, target: np.ndarray) -> float:
    """scikit-image 0.14 compare_ssim(win_size=1, multichannel=False, gaussian_weights=True,
    use_sample_covariance=False): a 3-D Gaussian blur and no border crop."""
    blur = lambda a: gaussian_filter(a, 1.5)
    ux, uy = blur(pred), blur(target)
    vx, vy = blur(pred * pred) - ux * ux, blur(target * target) - uy * uy
    covariance = blur(pred * target) - ux * uy
    c1, c2 = 0.01**2, 0.03**2
    s = (2 * ux * uy + c1) * (2 * covariance + c2) / ((ux**2 + uy**2 + c1) * (vx + vy + c2))
    return float(s.mean())


def peer_hfenn(pred: np.ndarray, target: np.ndarray) -> float:
    difference = pred - target
    filtered = [gaussian_laplace(difference[..., c], 1.5) for c in range(difference.shape[-1])]
    return 1e4 * float(np.mean(np.square(filtered)))


# The scikit-image / scipy computation each zoo metric is compared with.
PEERS: dict[str, tuple[str, PerImage]] = {
    "mse": ("skimage mean_squared_error", lambda p, t: mean_squared_error(t, p)),
    "psnr": (
        "skimage peak_signal_noise_ratio",
        lambda p, t: peak_signal_noise_ratio(t, p, data_range=1.0),
    ),
    "ssim": (
        "skimage structural_similarity",
        lambda p, t: structural_similarity(
            p,
            t,
            gaussian_weights=True,
            sigma=1.5,
            use_sample_covariance=False,
            data_range=1.0,
            channel_axis=-1,
        ),
    ),
    "ssim_dli": ("scipy gaussian_filter (3-D)", peer_ssim_dli),
    "hfenn": ("scipy gaussian_laplace", peer_hfenn),
}


def median_seconds(run: Callable[[], object], repeats: int) -> float:
    times = []
    for _ in range(repeats):
        start = time.perf_counter()
        run()
        times.append(time.perf_counter() - start)
    return statistics.median(times)


def time_zoo(name: str, pred: jax.Array, target: jax.Array, repeats: int):
    metric = jax.jit(get_registry().build("metrics", name))
    values = metric(pred, target).block_until_ready()  # compile and warm up, not timed
    seconds = median_seconds(lambda: metric(pred, target).block_until_ready(), repeats)
    return seconds, np.asarray(values, np.float64)


def time_peer(peer: PerImage, pred: np.ndarray, target: np.ndarray, repeats: int):
    def run() -> list[float]:
        return [peer(p, t) for p, t in zip(pred, target, strict=True)]

    values = run()  # warm-up, not timed
    return median_seconds(run, repeats), np.asarray(values, np.float64)


def images(batch: int, size: int, seed: int) -> tuple[np.ndarray, np.ndarray]:
    """A random target and a noisy prediction of it, float32 NHWC in [0, 1]."""
    rng = np.random.default_rng(seed)
    target = rng.random((batch, size, size, 3), dtype=np.float32)
    noise = rng.normal(0.0, 0.05, target.shape).astype(np.float32)
    return np.clip(target + noise, 0.0, 1.0), target


def main(argv: list[str] | None = None) -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--metrics", default="psnr,ssim,hfenn", help=f"from {', '.join(PEERS)}")
    parser.add_argument("--batch", type=int, default=16)
    parser.add_argument("--size", type=int, default=256)
    parser.add_argument("--repeats", type=int, default=5)
    parser.add_argument("--seed", type=int, default=0)
    parser.add_argument("--peer-dtype", choices=("float32", "float64"), default="float32")
    parser.add_argument("--json", action="store_true", help="print one JSON object instead")
    # `nox -s bench -- ARGS` hands every benchmark the same ARGS: report the others, go on
    args, ignored = parser.parse_known_args(sys.argv[1:] if argv is None else argv)
    if ignored:
        print(f"metrics.py: ignoring {' '.join(ignored)}", file=sys.stderr)
    names = [name.strip() for name in args.metrics.split(",") if name.strip()]
    unknown = [name for name in names if name not in PEERS]
    if unknown:
        parser.error(f"no peer for {', '.join(unknown)}; choose from {', '.join(PEERS)}")

    pred, target = images(args.batch, args.size, args.seed)
    device = jax.devices()[0]
    host = platform.processor() or platform.machine()
    pred_device, target_device = jax.device_put(pred), jax.device_put(target)
    rows = []
    for name in names:
        description, peer = PEERS[name]
        zoo_seconds, zoo_values = time_zoo(name, pred_device, target_device, args.repeats)
        peer_seconds, peer_values = time_peer(
            peer, pred.astype(args.peer_dtype), target.astype(args.peer_dtype), args.repeats
        )
        rows.append(
            {
                "metric": name,
                "zoo_seconds": zoo_seconds,
                "peer_seconds": peer_seconds,
                "peer": description,
                "max_abs_difference": float(np.max(np.abs(zoo_values - peer_values))),
            }
        )
    result = {
        "benchmark": "metrics",
        "images": [args.batch, args.size, args.size, 3],
        "peer_dtype": args.peer_dtype,
        "repeats": args.repeats,
        "device": f"{device.platform} ({device.device_kind})",
        "rows": rows,
    }
    if args.json:
        print(json.dumps(result, indent=2))
        return
    print(
        f"{args.batch} x {args.size} x {args.size} x 3 float32 (peers {args.peer_dtype}), median "
        f"of {args.repeats}; zoo on {result['device']}, peers on {host}, {os.cpu_count()} CPUs"
    )
    header = f"{'metric':<9} {'zoo ms':>9} {'peer ms':>9} {'speed-up':>9} {'max |diff|':>11}  peer"
    print(header)
    print("-" * len(header))
    for row in rows:
        print(
            f"{row['metric']:<9} {row['zoo_seconds'] * 1e3:>9.2f} "
            f"{row['peer_seconds'] * 1e3:>9.2f} "
            f"{row['peer_seconds'] / row['zoo_seconds']:>8.1f}x "
            f"{row['max_abs_difference']:>11.2e}  {row['peer']}"
        )


if __name__ == "__main__":
    main()
