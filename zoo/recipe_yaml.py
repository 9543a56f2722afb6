"""Recipe files as YAML that cannot hurt: safe loading, bounded size, no duplicate keys.

A recipe is a few kilobytes; anything far larger, or whose aliases expand past a few thousand
values, is not a recipe and is refused before it can cost time or memory (docs/reliability.md).
"""

from __future__ import annotations

from pathlib import Path
from typing import Any

import yaml

from zoo.errors import RecipeError

# Limits on what a recipe may be (docs/reliability.md). The shipped recipes are under 3 KiB and
# about 100 YAML values, nested 4 deep, so these only stop files that are not recipes.
MAX_RECIPE_BYTES = 1024 * 1024
"""A larger recipe file is refused unread."""
MAX_RECIPE_NODES = 10_000
"""YAML values (scalars, lists, mappings) in a recipe, each alias counted as all it stands for."""
MAX_RECIPE_DEPTH = 32
"""Levels of nesting in a recipe."""


class YamlRefused(Exception):
    """Well-formed YAML that no recipe is: too large once aliases are expanded, nested too deep,
    an alias inside its own anchor, or a key given twice in one mapping."""

    def __init__(self, line: int, message: str) -> None:
        super().__init__(message)
        self.line = line
        self.message = message


class RecipeLoader(yaml.SafeLoader):
    """``yaml.SafeLoader`` that bounds what a document expands to and refuses duplicate keys.

    Composing (text to node graph) costs what the text does, since an alias is its anchor's node
    itself; but constructing, JSON and pydantic walk the tree with every alias expanded, which
    nested aliases make exponentially large (the "billion laughs"). So as each node is composed
    its expanded size is counted, memoised per node (an alias adds its anchor's size), and the
    document is refused once the running total passes ``MAX_RECIPE_NODES``: time and memory stay
    bounded by the limit, whatever the aliases say.
    """

    def __init__(self, stream: str) -> None:
        super().__init__(stream)
        self._sizes: dict[int, int] = {}  # id(node) -> its expanded size; the nodes stay alive
        self._expanded = 0
        self._path: list[str] = []  # where the node being composed is: "train", ".steps", "[0]"

    def compose_node(self, parent: yaml.Node | None, index: Any) -> yaml.Node | None:
        event = self.peek_event()
        line = event.start_mark.line + 1
        if isinstance(event, yaml.AliasEvent):
            node = super().compose_node(parent, index)
            size = self._sizes.get(id(node))
            if size is None:  # its anchor's node is still being composed: it contains the alias
                raise YamlRefused(
                    line,
                    f"the alias *{event.anchor} is inside the node it names, so it would expand "
                    "forever; remove the alias.",
                )
            self._count(size, line)
            return node
        if len(self._path) >= MAX_RECIPE_DEPTH:
            raise YamlRefused(
                line,
                f"nested more than {MAX_RECIPE_DEPTH} levels deep; a recipe needs a handful.",
            )
        self._count(1, line)
        if isinstance(index, yaml.ScalarNode):
            self._path.append(f".{index.value}")
        elif isinstance(index, int):
            self._path.append(f"[{index}]")
        else:
            self._path.append("")  # the document, or a mapping key
        node = super().compose_node(parent, index)
        if isinstance(node, yaml.MappingNode):
            self._check_keys(node)
            children = [item for pair in node.value for item in pair]
        else:
            children = node.value if isinstance(node, yaml.SequenceNode) else []
        self._sizes[id(node)] = 1 + sum(self._sizes[id(child)] for child in children)
        self._path.pop()
        return node

    def _count(self, size: int, line: int) -> None:
        self._expanded += size
        if self._expanded > MAX_RECIPE_NODES:
            raise YamlRefused(
                line,
                f"the YAML expands to more than {MAX_RECIPE_NODES:,} values (each alias counted "
                "as all it stands for); a recipe has a few hundred. Is this the file you meant?",
            )

    def _check_keys(self, node: yaml.MappingNode) -> None:
        first: dict[str, int] = {}
        for key, _ in node.value:
            if not isinstance(key, yaml.ScalarNode) or key.tag == "tag:yaml.org,2002:merge":
                continue  # a merge (<<) may be overridden by the mapping's own keys
            line = key.start_mark.line + 1
            if key.value in first:
                dotted = "".join([*self._path, f".{key.value}"]).lstrip(".")
                raise YamlRefused(
                    line,
                    f"duplicate key {dotted!r} (first on line {first[key.value]}); a key may "
                    "appear once in a mapping: keep the one you mean.",
                )
            first[key.value] = line


def load_yaml(text: str) -> Any:
    """``text`` as safe YAML within the recipe limits; raises ``YamlRefused`` or ``YAMLError``."""
    return yaml.load(text, Loader=RecipeLoader)  # a SafeLoader subclass: safe


def read_text(path: Path) -> str:
    """The recipe file's text, refused unread when it is larger than ``MAX_RECIPE_BYTES``."""
    limit = f"{MAX_RECIPE_BYTES // 1024 // 1024} MiB"
    try:
        size = path.stat().st_size
        if size > MAX_RECIPE_BYTES:
            raise RecipeError(
                f"{path}: the file is {size:,} bytes, over the {limit} a recipe may be; "
                "is this the recipe you meant?"
            )
        with open(path, "rb") as handle:  # a pipe or device reports no size: read at most that
            data = handle.read(MAX_RECIPE_BYTES + 1)
        if len(data) > MAX_RECIPE_BYTES:
            raise RecipeError(f"{path}: over the {limit} a recipe may be; is this the recipe?")
        return data.decode("utf-8")
    except (OSError, UnicodeDecodeError) as exc:
        raise RecipeError(f"{path}: cannot read the recipe ({exc}).") from None
