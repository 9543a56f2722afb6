"""The one tiny recipe the tests train (zoo.testing's), and helpers to vary it, validate it and
write it out.

Every run made from it is cheap on a two-core CPU: an 8-wide resnet with one block on the LR
image and a pixel-shuffle decoder, 16-pixel patches in batches of 2, one optimizer step, and one
32-pixel evaluation crop scored by PSNR against bicubic. A test that needs something else derives
its variant with dotted overrides (``tiny_dict("train.steps=4", "eval.metrics=[psnr, mse]")``),
read as YAML exactly as ``zoo run`` reads them, so there is one definition to change.

``conftest.py`` puts this folder on ``sys.path``, so ``from tiny import ...`` works whatever
folder pytest starts in and whichever import mode it uses.
"""

from __future__ import annotations

import copy
from pathlib import Path
from typing import Any

import yaml

from zoo import recipe as recipe_lib
from zoo.testing import tiny_recipe_dict

# The one definition, shipped with zoo for plugin authors' tests too (zoo.testing).
TINY: dict[str, Any] = tiny_recipe_dict()


def set_field(raw: dict[str, Any], dotted: str, value: Any) -> dict[str, Any]:
    """Set ``raw[a][b][c] = value`` for ``a.b.c`` in place (any value, valid or not); ``raw``.

    A plugin given by name alone (``decoder: pixelshuffle``) becomes ``{name: pixelshuffle}``
    when one of its options is set, as a command-line override does.
    """
    *parents, last = dotted.split(".")
    node = raw
    for part in parents:
        child = node.get(part)
        if isinstance(child, str):
            child = {"name": child}
        elif not isinstance(child, dict):
            child = {}
        node[part] = child
        node = child
    node[last] = copy.deepcopy(value)
    return raw


def tiny_dict(*overrides: str, base: dict[str, Any] | None = None) -> dict[str, Any]:
    """A fresh copy of ``base`` (default TINY) with ``field.path=value`` overrides applied.

    Values are YAML (``train.eval_every=null``, ``model.encoder={name: dli, width: 4}``). Not
    validated: the result may be deliberately wrong; see ``tiny_recipe`` for a checked one.
    """
    raw = copy.deepcopy(TINY if base is None else base)
    for text in overrides:
        dotted, sep, value = text.partition("=")
        if not sep or not dotted:
            raise ValueError(f"override {text!r} must look like field.path=value")
        set_field(raw, dotted.strip(), yaml.safe_load(value))
    return raw


def tiny_recipe(*overrides: str, base: dict[str, Any] | None = None) -> recipe_lib.Recipe:
    """The validated Recipe of ``base`` (default TINY), overrides applied by zoo itself."""
    return recipe_lib.from_dict(copy.deepcopy(TINY if base is None else base), list(overrides))


def write_recipe(path: Path, raw: dict[str, Any] | None = None) -> Path:
    """Write ``raw`` (default TINY) to ``path`` as YAML; return ``path``."""
    path.parent.mkdir(parents=True, exist_ok=True)
    path.write_text(yaml.safe_dump(TINY if raw is None else raw, sort_keys=False), encoding="utf-8")
    return path


def train_tiny(workdir: Path, *overrides: str, base: dict[str, Any] | None = None) -> Path:
    """Train ``tiny_recipe(*overrides)`` into ``workdir`` (no progress bar); return ``workdir``."""
    from zoo.train import train_and_evaluate

    train_and_evaluate(tiny_recipe(*overrides, base=base), workdir, progress=False)
    return workdir
