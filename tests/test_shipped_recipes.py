"""Every shipped recipe validates and builds: `zoo recipes validate FILE`, `zoo run FILE --dry-run`.

The files are found by glob (recipes/*.yaml, examples/*/recipes/*.yaml), so a new recipe is
covered without touching this file. An example's recipes need that example's plugin, which is
registered for the test from its source folder (conftest.py's ``example_plugin``). The commands
run in-process through click's CliRunner, from the repository root as a user types them.
"""

from __future__ import annotations

import re
from pathlib import Path

import pytest
from click.testing import CliRunner

from zoo.cli import cli

REPO = Path(__file__).resolve().parents[1]
RECIPES = sorted(
    path.relative_to(REPO)
    for pattern in ("recipes/*.yaml", "examples/*/recipes/*.yaml")
    for path in REPO.glob(pattern)
)
SHARED_DATA = "../shared/data"
# examples/<folder>/recipes/*.yaml -> the fixture that registers that example's plugin
EXAMPLE_FIXTURES = {"zoo-example-plugin": "example_plugin"}


def test_the_glob_finds_the_recipes():
    assert Path("recipes/ae_x2.yaml") in RECIPES
    assert Path("examples/zoo-example-plugin/recipes/charbonnier_x2.yaml") in RECIPES


@pytest.fixture
def in_repo(request, monkeypatch) -> Path:
    """cwd = the repository root, with the plugin the recipe's example folder needs."""
    recipe: Path = request.param
    if recipe.parts[0] == "examples":
        folder = recipe.parts[1]
        assert folder in EXAMPLE_FIXTURES, (
            f"{recipe}: add the fixture that registers {folder}'s plugin to EXAMPLE_FIXTURES"
        )
        request.getfixturevalue(EXAMPLE_FIXTURES[folder])
    if SHARED_DATA in (REPO / recipe).read_text(encoding="utf-8"):
        # The recipe reads the benchmark images by their path beside the repository.
        found = request.getfixturevalue("shared_data")  # skips, saying why, when absent
        if found.resolve() != (REPO / SHARED_DATA).resolve():
            pytest.skip(f"{recipe} reads {SHARED_DATA}; the benchmark images are at {found}")
    monkeypatch.chdir(REPO)
    return recipe


def invoke(*args: str):
    result = CliRunner().invoke(cli, list(args))
    assert "Traceback" not in result.output, result.output
    return result


@pytest.mark.parametrize("in_repo", RECIPES, ids=str, indirect=True)
def test_recipe_validates(in_repo):
    result = invoke("recipes", "validate", str(in_repo))
    assert result.exit_code == 0, result.output
    assert result.output.strip() == f"{in_repo}: ok"


@pytest.mark.parametrize("in_repo", RECIPES, ids=str, indirect=True)
def test_recipe_dry_run_prints_the_plan(in_repo):
    text = in_repo.read_text(encoding="utf-8")
    name = re.search(r"^name:\s*(\S+)", text, flags=re.M).group(1)
    workdir = Path("runs") / name
    existed = workdir.exists()
    result = invoke("run", str(in_repo), "--dry-run")
    assert result.exit_code == 0, result.output
    plan = result.output
    assert plan.startswith(f"recipe {name}: x"), plan
    for part in ("train data", "eval data", "degradation", "model", "loss", "optimizer"):
        assert f"  {part} " in plan, f"{part!r} missing from the plan:\n{plan}"
    assert f"run directory {workdir}" in plan
    assert workdir.exists() == existed, f"--dry-run wrote {workdir}"
    # Where the recipe's header states the model's size, the built model has that size.
    stated = re.findall(r"^#.*?([\d,]{4,}) parameters", text, flags=re.M)
    built = re.search(r"; ([\d,]+) parameters", plan).group(1)
    for count in stated:
        assert count == built, f"{in_repo} says {count} parameters; the model has {built}"
