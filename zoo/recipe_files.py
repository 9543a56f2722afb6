"""Where recipe files are: ./recipes, then the recipes shipped with zoo; and their descriptions."""

from __future__ import annotations

import re
from pathlib import Path

from zoo.errors import RecipeError, did_you_mean


def recipe_search_path() -> list[Path]:
    """Where ``zoo run NAME`` looks for NAME.yaml: ./recipes, then the recipes shipped with zoo."""
    package = Path(__file__).resolve().parent
    return [Path.cwd() / "recipes", package / "_recipes", package.parent / "recipes"]


def resolve_path(spec: str | Path) -> Path:
    """A path as given, or the name of a shipped recipe (``ae_x2`` -> recipes/ae_x2.yaml)."""
    path = Path(spec)
    if path.exists():
        return path
    if path.suffix == "" and path.parent == Path("."):
        for folder in recipe_search_path():
            candidate = folder / f"{path.name}.yaml"
            if candidate.is_file():
                return candidate
    known = sorted(
        {
            p.stem
            for folder in recipe_search_path()
            if folder.is_dir()
            for p in folder.glob("*.yaml")
        }
    )
    raise RecipeError(
        f"{spec}: no such recipe file.{did_you_mean(path.stem, known)} "
        f"Shipped recipes: {', '.join(known) or 'none'}."
    )


def shipped_recipes() -> dict[str, Path]:
    """Recipe name -> file, first hit on the search path wins."""
    found: dict[str, Path] = {}
    for folder in recipe_search_path():
        if folder.is_dir():
            for path in sorted(folder.glob("*.yaml")):
                found.setdefault(path.stem, path)
    return found


def description(path: Path) -> str:
    """The first sentence of the recipe's header comment, whole, though it span several lines.

    The header is the first run of non-empty comment lines; its first sentence ends at a full
    stop (or ! or ?) followed by a capital letter or the end, so "1.6 dB" and "dli.yaml" do not
    end it. Only the start of the file is read, so a huge or binary file costs nothing.
    """
    with open(path, encoding="utf-8", errors="replace") as handle:
        head = handle.read(64 * 1024)
    words: list[str] = []
    for line in head.splitlines():
        text = line.strip()
        comment = text.startswith("#")
        text = text.lstrip("#").strip()
        if comment and text:
            words.append(text)
        elif words:
            break
    header = " ".join(words)
    sentence = re.match(r".*?[.!?](?=\s+[A-Z(`\"']|\s*$)", header)
    return sentence.group(0) if sentence else header
