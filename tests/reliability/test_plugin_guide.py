"""docs/plugins.md followed literally: the plugin is built from the page's own code blocks,
installed by the page's `pip install` (offline, into a folder of its own), and every command the
page shows is run, its test included; the page's sample error and JSON are what zoo prints.

A code block is a file of the plugin when the line before it is the file's path in backticks and
a colon (`` `zoo_example/charbonnier.py`: ``). The files must be complete (the page shows each
whole) and be examples/zoo-example-plugin/, file for file, so the repository's example is the
page's.
"""

from __future__ import annotations

import contextlib
import json
import os
import re
import shlex
import subprocess
import sys
import tomllib
from collections.abc import Iterator
from pathlib import Path

import pytest
from click.testing import CliRunner, Result

from zoo import plugins
from zoo.cli import cli

REPO = Path(__file__).resolve().parents[2]
GUIDE = REPO / "docs" / "plugins.md"
EXAMPLE = REPO / "examples" / "zoo-example-plugin"
PLUGIN = "zoo-example-plugin"  # the folder the page has the reader make
MODULE = "zoo_example"
CAPTION = re.compile(r"^`([\w./-]+)`:$")
# In the example folder, not on the page: its README, and the pretrained model it ships (the
# weights, their catalog, the recipe that trained them and their tests; docs/reuse.md).
NOT_DOCUMENTED = {
    "README.md",
    "recipes/tiny_charbonnier_x2.yaml",
    f"{MODULE}/models.json",
    f"{MODULE}/tiny_charbonnier_x2.zoo",
    "tests/test_models.py",
}


def blocks() -> list[tuple[str, str, str]]:
    """(language, text, the line before the block) for each fenced block of the guide."""
    found = []
    lines = GUIDE.read_text(encoding="utf-8").splitlines()
    i = 0
    while i < len(lines):
        fence = re.match(r"^(```|~~~)(\w*)\s*$", lines[i])
        if not fence:
            i += 1
            continue
        before = next((line for line in reversed(lines[:i]) if line.strip()), "")
        end = next(j for j in range(i + 1, len(lines)) if lines[j].startswith(fence.group(1)))
        found.append((fence.group(2), "\n".join(lines[i + 1 : end]) + "\n", before.strip()))
        i = end + 1
    return found


def documented_files() -> dict[str, str]:
    files = {}
    for _, text, before in blocks():
        caption = CAPTION.match(before)
        if caption:
            assert caption.group(1) not in files, f"{caption.group(1)} is shown twice"
            files[caption.group(1)] = text
    return files


def documented_commands() -> list[str]:
    """The commands of the guide's bash blocks, continuations joined, comments dropped."""
    commands = []
    for language, text, _ in blocks():
        if language != "bash":
            continue
        for line in text.replace("\\\n", " ").splitlines():
            command = " ".join(re.sub(r"(^|\s)#.*$", "", line).split())
            if command:
                commands.append(command)
    return commands


def block_after(heading_or_text: str, language: str) -> str:
    """The first block of ``language`` after the line containing ``heading_or_text``."""
    text = GUIDE.read_text(encoding="utf-8")
    rest = text.split(heading_or_text, 1)[1]
    match = re.search(rf"^```{language}\n(.*?)^```", rest, flags=re.M | re.S)
    assert match, f"no {language or 'plain'} block after {heading_or_text!r}"
    return match.group(1)


def test_the_guide_shows_every_file_whole_and_they_are_the_example():
    files = documented_files()
    assert {"pyproject.toml", f"{MODULE}/__init__.py", "tests/test_example.py"} <= set(files)
    example = {
        path.relative_to(EXAMPLE).as_posix(): path.read_text(encoding="utf-8")
        for path in EXAMPLE.rglob("*")
        if path.is_file()
        and not any(p.startswith(".") or p in ("build", "__pycache__") for p in path.parts)
        and path.relative_to(EXAMPLE).as_posix() not in NOT_DOCUMENTED
    }
    assert sorted(example) == sorted(files), "the page and the folder differ"
    for path, text in files.items():
        assert text == example[path], f"{path}: the page's copy is not examples/{PLUGIN}/{path}"
        if path.endswith(".py"):
            compile(text, path, "exec")  # whole files, not fragments


def test_the_package_has_a_version_and_a_build_backend():
    pyproject = tomllib.loads(documented_files()["pyproject.toml"])
    assert pyproject["build-system"]["build-backend"] and pyproject["build-system"]["requires"]
    assert pyproject["project"]["name"] == PLUGIN and pyproject["project"]["version"]
    assert pyproject["project"]["entry-points"]["zoo"] == {"example": MODULE}


@pytest.fixture(scope="module")
def installed(tmp_path_factory) -> tuple[Path, Path]:
    """The page's files written to a fresh folder and its `pip install` run, offline, into a
    folder of its own: (the folder holding zoo-example-plugin/, the install folder)."""
    pytest.importorskip("hatchling", reason="the build backend (pyproject's `test` group)")
    work = tmp_path_factory.mktemp("guide")
    for path, text in documented_files().items():
        (work / PLUGIN / path).parent.mkdir(parents=True, exist_ok=True)
        (work / PLUGIN / path).write_text(text, encoding="utf-8")
    (install,) = [c for c in documented_commands() if c.startswith("pip install")]
    site = work / "site"
    offline = ["--quiet", "--no-deps", "--no-index", "--no-build-isolation", "--target", str(site)]
    result = subprocess.run(
        [sys.executable, "-m", *shlex.split(install), *offline],
        cwd=work,
        capture_output=True,
        text=True,
        timeout=300,
    )
    assert result.returncode == 0, result.stdout + result.stderr
    assert (site / MODULE / "__init__.py").is_file()
    return work, site


@contextlib.contextmanager
def plugin_installed(site: Path) -> Iterator[None]:
    """The install folder on sys.path and the plugins loaded afresh; all undone after."""

    def forget() -> None:
        for name in [m for m in sys.modules if m == MODULE or m.startswith(f"{MODULE}.")]:
            del sys.modules[name]
        plugins.reset()

    with pytest.MonkeyPatch.context() as patch:
        patch.syspath_prepend(str(site))
        forget()
        try:
            yield
        finally:
            patch.undo()
            forget()


def zoo(args: list[str], work: Path, site: Path) -> Result:
    """`zoo ARGS` in-process, from ``work``, with the installed plugin."""
    with plugin_installed(site), pytest.MonkeyPatch.context() as patch:
        patch.chdir(work)
        return CliRunner().invoke(cli, args)


def run_pytest(args: list[str], work: Path, site: Path) -> subprocess.CompletedProcess[str]:
    env = {
        **os.environ,
        "PYTHONPATH": os.pathsep.join([str(site), *filter(None, [os.environ.get("PYTHONPATH")])]),
        "JAX_COMPILATION_CACHE_DIR": os.environ.get("ZOO_JAX_CACHE", str(REPO / ".jax_cache")),
        "JAX_PERSISTENT_CACHE_MIN_COMPILE_TIME_SECS": "0.5",
    }
    return subprocess.run(
        [sys.executable, "-m", "pytest", *args, "-p", "no:cacheprovider"],
        cwd=work,
        env=env,
        capture_output=True,
        text=True,
        timeout=600,
    )


def test_the_documented_commands_run(installed):
    work, site = installed
    commands = documented_commands()
    assert len(commands) == 5, commands  # each is checked below: a new one needs its check
    for command in commands:
        words = shlex.split(command)
        if words[:2] == ["pip", "install"]:
            continue  # run by the fixture
        if words[:3] == ["python", "-m", "pytest"]:
            result = run_pytest(words[3:], work, site)
            assert result.returncode == 0, f"{command}\n{result.stdout}\n{result.stderr}"
            assert re.search(r"\b5 passed\b", result.stdout), result.stdout
            continue
        assert words[0] == "zoo", f"the guide shows {command!r}: teach this test to run it"
        output = zoo(words[1:], work, site)
        assert output.exit_code == 0, f"{command}\n{output.output}"
        assert "Traceback" not in output.output and "error" not in output.output.lower()
        if words[1:] == ["plugins"]:
            assert "example  [zoo-example-plugin 0.1.0]" in output.output
            assert "metrics: charbonnier" in output.output
            assert "upscalers: sharp_bicubic" in output.output
        elif words[1:3] == ["recipes", "validate"]:
            assert f"{words[3]}: ok" in output.output
        elif words[1] == "eval":
            rows = {line.split()[0] for line in output.output.splitlines() if line.strip()}
            assert {"bicubic", "sharp_bicubic"} <= rows, output.output
            assert "charbonnier" in output.output
        else:
            raise AssertionError(f"the guide shows {command!r}: say what it must print")


def test_the_documented_option_error_is_what_zoo_prints(installed):
    work, site = installed
    documented = block_after("and a typo gives:", "")
    recipe = documented_files()["recipes/charbonnier_x2.yaml"]
    assert "epsilon: 0.001" in recipe
    (work / "recipe.yaml").write_text(recipe.replace("epsilon: 0.001", "epsilom: 0.001"))
    result = zoo(["recipes", "validate", "recipe.yaml"], work, site)
    assert result.exit_code == 2
    assert " ".join(result.output.split()) == " ".join(documented.split())


def test_the_documented_json_is_what_zoo_plugins_prints(installed):
    work, site = installed
    documented = json.loads(block_after("## The `zoo plugins --json` format", "json"))
    result = zoo(["plugins", "--json"], work, site)
    assert result.exit_code == 0, result.output
    listing = json.loads(result.stdout)
    assert [item for item in listing if item["name"] == "example"] == [documented]
