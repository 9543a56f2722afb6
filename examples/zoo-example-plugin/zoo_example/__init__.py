"""An example zoo plugin: registers the `charbonnier` metric, the `sharp_bicubic` upscaler, the
`csv` training logger and one small pretrained model, `tiny_charbonnier_x2` (its weights and
catalog ship in this package)."""

from __future__ import annotations

import json
from importlib.resources import files

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


@hookimpl
def register_loggers(register: Register) -> None:
    from zoo_example.csv_log import csv_log

    register("csv", csv_log, description="logs/history.csv: one step,tag,value row per scalar")


@hookimpl
def register_models(register: Register) -> None:
    # models.json (written by `zoo export RUN -o zoo_example/NAME.zoo --catalog
    # zoo_example/models.json`, the measured numbers added from `zoo eval --json`) holds each
    # model's registration; its weights file NAME.zoo lies beside it. Both are package data read
    # through importlib.resources, so an installed wheel works too, and zoo reads the weights only
    # when the model is used. A copy of this package made from docs/plugins.md alone has no
    # model files, and so registers no model.
    catalog = files(__package__) / "models.json"
    if not catalog.is_file():
        return
    for name, meta in json.loads(catalog.read_text(encoding="utf-8")).items():
        register(name, weights=files(__package__) / f"{name}.zoo", **meta)
