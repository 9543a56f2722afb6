"""zoo: a plugin-based JAX model zoo for image super-resolution with autoencoders."""

from importlib.metadata import PackageNotFoundError, version

import pluggy

try:
    __version__ = version("zoo-sr")
except PackageNotFoundError:  # running from a source tree that was never installed
    __version__ = "0.0.0+unknown"

hookimpl = pluggy.HookimplMarker("zoo")

__all__ = ["__version__", "hookimpl"]
