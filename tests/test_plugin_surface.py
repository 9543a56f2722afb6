"""Plugins import zoo only through zoo.plugin, and zoo.plugin's contents are listed and documented.

The built-in plugins (plugins/) and the example plugin (examples/) are held to what a third-party
plugin may use, so that the engine's other modules can change without breaking any plugin.
"""

from __future__ import annotations

import ast
import inspect
import re
from pathlib import Path

import pytest

import zoo.plugin

ROOT = Path(__file__).resolve().parents[1]
PLUGIN_ROOTS = ("plugins", "examples")
PUBLIC = "zoo.plugin"
DYNAMIC_IMPORTS = frozenset({"import_module", "__import__"})


def plugin_sources() -> list[Path]:
    """Every .py file under plugins/ and examples/, leaving out build output and hidden folders."""
    files = []
    for top in PLUGIN_ROOTS:
        for path in sorted((ROOT / top).rglob("*.py")):
            parts = path.relative_to(ROOT).parts
            if not any(part == "build" or part.startswith(".") for part in parts):
                files.append(path)
    return files


def is_zoo(module: str) -> bool:
    return module == "zoo" or module.startswith("zoo.")


def is_public(module: str) -> bool:
    return module == PUBLIC or module.startswith(PUBLIC + ".")


def private_imports(source: str) -> list[tuple[int, str]]:
    """``(line, statement)`` for each import of zoo other than zoo.plugin, anywhere in ``source``
    (module level, functions, classes, ``if TYPE_CHECKING``), plus ``importlib.import_module``
    or ``__import__`` calls with such a name as a literal."""
    found = []
    for node in ast.walk(ast.parse(source)):
        if isinstance(node, ast.Import):
            bad = [a.name for a in node.names if is_zoo(a.name) and not is_public(a.name)]
        elif isinstance(node, ast.ImportFrom) and node.level == 0 and node.module:
            if node.module == "zoo":  # `from zoo import plugin` is zoo.plugin itself
                bad = [a.name for a in node.names if a.name != "plugin"]
            else:
                bad = [node.module] if is_zoo(node.module) and not is_public(node.module) else []
        elif isinstance(node, ast.Call) and node.args:
            function = node.func
            name = function.attr if isinstance(function, ast.Attribute) else None
            name = function.id if isinstance(function, ast.Name) else name
            first = node.args[0]
            literal = first.value if isinstance(first, ast.Constant) else None
            bad = (
                [literal]
                if name in DYNAMIC_IMPORTS
                and isinstance(literal, str)
                and is_zoo(literal)
                and not is_public(literal)
                else []
            )
        else:
            continue
        if bad:
            found.append((node.lineno, ast.get_source_segment(source, node) or ", ".join(bad)))
    return found


def test_the_checker_finds_every_form_of_private_import():
    source = (
        "import zoo\n"
        "import zoo.types as t\n"
        "from zoo import hookimpl, plugin\n"
        "from zoo.pixels import to_8bit\n"
        "def f():\n"
        "    from zoo.errors import DataError\n"
        "class C:\n"
        "    import zoo.resize\n"
        "importlib.import_module('zoo.images')\n"
        "import zoo.plugin\n"
        "from zoo.plugin import Images\n"
        "from zoo import plugin\n"
        "from zoo_metrics.batching import checked\n"
        "import zoology\n"
        "from . import layers\n"
    )
    assert [line for line, _ in private_imports(source)] == [1, 2, 3, 4, 6, 8, 9]


def test_plugin_sources_are_found():
    files = plugin_sources()
    packages = {path.parent.name for path in files}
    assert {"zoo_metrics", "zoo_upscalers", "zoo_datasets"} <= packages
    if (ROOT / "examples").is_dir():
        assert "zoo_example" in packages


@pytest.mark.parametrize(
    "path", plugin_sources(), ids=lambda path: path.relative_to(ROOT).as_posix()
)
def test_plugins_import_zoo_only_through_zoo_plugin(path):
    found = private_imports(path.read_text(encoding="utf-8"))
    if "tests" in path.relative_to(ROOT).parts:  # a plugin's tests may use zoo.testing too
        found = [(line, text) for line, text in found if not re.search(r"\bzoo\.testing\b", text)]
    where = path.relative_to(ROOT).as_posix()
    assert not found, "import from zoo.plugin instead:\n" + "\n".join(
        f"{where}:{line}: {statement}" for line, statement in found
    )


def test_every_exported_name_resolves():
    missing = [name for name in zoo.plugin.__all__ if not hasattr(zoo.plugin, name)]
    assert not missing, f"zoo.plugin.__all__ names what the module lacks: {missing}"
    assert len(set(zoo.plugin.__all__)) == len(zoo.plugin.__all__), "duplicates in __all__"


def test_all_lists_every_public_name_the_module_defines():
    defined = set()
    body = ast.parse(inspect.getsource(zoo.plugin)).body
    # Names imported under `if TYPE_CHECKING:` are defined too: zoo.plugin resolves them on
    # first use (PEP 562 __getattr__), as test_every_exported_name_resolves checks.
    for statement in [s for s in body if isinstance(s, ast.If)]:
        if ast.unparse(statement.test).endswith("TYPE_CHECKING"):  # not `if not ...`
            body += statement.body
    for node in body:
        if isinstance(node, ast.ImportFrom) and node.module == "__future__":
            continue
        if isinstance(node, ast.Import | ast.ImportFrom):
            defined.update((a.asname or a.name).split(".")[0] for a in node.names)
        elif isinstance(node, ast.FunctionDef | ast.AsyncFunctionDef | ast.ClassDef):
            defined.add(node.name)
        elif isinstance(node, ast.Assign | ast.AnnAssign | ast.AugAssign):
            targets = node.targets if isinstance(node, ast.Assign) else [node.target]
            for target in targets:
                defined.update(n.id for n in ast.walk(target) if isinstance(n, ast.Name))
    public = {name for name in defined if not name.startswith("_")}
    assert sorted(public - set(zoo.plugin.__all__)) == [], "public but not in __all__"
    assert sorted(set(zoo.plugin.__all__) - public) == [], "in __all__ but not defined"


def documented(text: str) -> set[str]:
    """The identifiers written as code (single or double backticks) in ``text``."""
    return {word for span in re.findall(r"`+([^`]+)`+", text) for word in re.findall(r"\w+", span)}


def test_every_exported_name_is_in_the_module_docstring():
    missing = sorted(set(zoo.plugin.__all__) - documented(zoo.plugin.__doc__ or ""))
    assert not missing, f"zoo.plugin's docstring does not list {missing}"


def test_every_exported_name_is_documented_in_the_plugin_guide():
    guide = ROOT / "docs" / "plugins.md"
    if not guide.is_file():
        pytest.skip("docs/ is not part of this checkout")
    text = guide.read_text(encoding="utf-8")
    heading = "## What a plugin may import"
    assert heading in text, f"docs/plugins.md has no section {heading!r}"
    section = text.split(heading, 1)[1].split("\n## ", 1)[0]
    missing = sorted(set(zoo.plugin.__all__) - documented(section))
    assert not missing, f"docs/plugins.md ({heading!r}) does not mention {missing}"
