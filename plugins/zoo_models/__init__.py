"""Built-in pretrained models: weights files shipped in this package, registered by name.

``models.json`` holds each model's registration (its resolved recipe, scale, SHA-256, size,
training and measured numbers); `zoo export RUN -o plugins/zoo_models/NAME.zoo --catalog
plugins/zoo_models/models.json` writes both, and docs/reuse.md shows the whole publishing path.
"""

from __future__ import annotations

import json
from importlib.resources import files

from zoo.plugin import Register, hookimpl


@hookimpl
def register_models(register: Register) -> None:
    here = files(__package__)
    for name, meta in json.loads((here / "models.json").read_text(encoding="utf-8")).items():
        register(name, weights=here / f"{name}.zoo", **meta)
