"""Hostile recipes and overrides: each is refused with one line naming the file, the field or the
line, and what to do; exit code 2, no traceback (docs/reliability.md, "Bad input")."""

from __future__ import annotations

import tracemalloc
from pathlib import Path

import pytest
import yaml
from tiny import TINY, tiny_dict, write_recipe

from zoo import recipe as recipe_lib
from zoo import recipe_yaml

TINY_YAML = yaml.safe_dump(TINY, sort_keys=False)

BILLION_LAUGHS = """\
a: &a ["lol", "lol", "lol", "lol", "lol", "lol", "lol", "lol", "lol"]
b: &b [*a, *a, *a, *a, *a, *a, *a, *a, *a]
c: &c [*b, *b, *b, *b, *b, *b, *b, *b, *b]
d: &d [*c, *c, *c, *c, *c, *c, *c, *c, *c]
e: &e [*d, *d, *d, *d, *d, *d, *d, *d, *d]
f: &f [*e, *e, *e, *e, *e, *e, *e, *e, *e]
g: &g [*f, *f, *f, *f, *f, *f, *f, *f, *f]
h: &h [*g, *g, *g, *g, *g, *g, *g, *g, *g]
i: &i [*h, *h, *h, *h, *h, *h, *h, *h, *h]
"""


def write(tmp_path: Path, text: str) -> Path:
    path = tmp_path / "recipe.yaml"
    path.write_text(text, encoding="utf-8")
    return path


def test_the_tiny_recipe_passes(zoo_cli, tmp_path):
    result = zoo_cli("recipes", "validate", str(write_recipe(tmp_path / "tiny.yaml")))
    assert result.exit_code == 0, result.output


def test_a_file_over_the_size_limit_is_refused_unread(zoo_cli, refused, tmp_path, monkeypatch):
    path = write(tmp_path, TINY_YAML + "#" * recipe_yaml.MAX_RECIPE_BYTES + "\n")
    monkeypatch.setattr(recipe_lib, "load_yaml", lambda text: pytest.fail("parsed"))
    refused(zoo_cli("recipes", "validate", str(path)), 2, str(path), "bytes, over the 1 MiB")


def test_an_alias_bomb_is_refused_fast_in_bounded_memory(zoo_cli, refused, tmp_path):
    path = write(tmp_path, TINY_YAML + BILLION_LAUGHS)  # 10**9 strings once expanded
    tracemalloc.start()
    result = zoo_cli("recipes", "validate", str(path))
    peak = tracemalloc.get_traced_memory()[1]
    tracemalloc.stop()
    refused(result, 2, str(path), "line ", "expands to more than 10,000 values")
    # Bounded memory, not a stopwatch: expanding the bomb would take gigabytes.
    assert peak < 20 * 2**20, f"peak {peak / 2**20:.1f} MiB"


def test_an_alias_inside_its_own_anchor_is_refused(zoo_cli, refused, tmp_path):
    path = write(tmp_path, TINY_YAML + "loop: &loop [1, *loop]\n")
    refused(zoo_cli("recipes", "validate", str(path)), 2, str(path), "*loop", "expand forever")


def test_nesting_past_the_depth_limit_is_refused(zoo_cli, refused, tmp_path):
    depth = recipe_yaml.MAX_RECIPE_DEPTH + 1
    path = write(tmp_path, TINY_YAML + "deep: " + "[" * depth + "]" * depth + "\n")
    refused(zoo_cli("recipes", "validate", str(path)), 2, str(path), "nested more than 32 levels")


def test_a_duplicate_key_names_the_key_and_both_lines(zoo_cli, refused, tmp_path):
    lines = TINY_YAML.splitlines()
    train = lines.index("train:")
    lines.insert(train + 2, "  steps: 5")  # after "  steps: 1"
    path = write(tmp_path, "\n".join(lines) + "\n")
    refused(
        zoo_cli("recipes", "validate", str(path)),
        2,
        f"{path}: line {train + 3}: duplicate key 'train.steps' (first on line {train + 2})",
    )


def test_a_misspelled_required_key_is_an_unknown_field_with_a_suggestion(
    zoo_cli, refused, tmp_path
):
    raw = tiny_dict()
    raw = {("scael" if key == "scale" else key): value for key, value in raw.items()}
    path = write_recipe(tmp_path / "recipe.yaml", raw)
    output = refused(
        zoo_cli("recipes", "validate", str(path)),
        2,
        "scael: unknown field",
        'Did you mean "scale"?',
    )
    assert "this field is required" not in output and "more problem" not in output


@pytest.mark.parametrize("seed", [2**70, -1])
def test_a_seed_out_of_range_states_the_range(zoo_cli, refused, tmp_path, seed):
    path = write_recipe(tmp_path / "recipe.yaml", tiny_dict(f"train.seed={seed}"))
    refused(
        zoo_cli("recipes", "validate", str(path)),
        2,
        "train.seed",
        str(seed),
        "Valid: 0 to 4294967295.",
    )


@pytest.mark.parametrize(
    ("override", "fragments"),
    [
        pytest.param(
            "train.seed=1180591620717411303424",
            (
                "train.seed (from override 'train.seed=1180591620717411303424')",
                "Valid: 0 to 4294967295.",
            ),
            id="seed",
        ),
        pytest.param(
            "train.steps=4294967296", ("train.steps", "Valid: 1 to 2147483647."), id="count"
        ),
        pytest.param(
            "optimizer.learning_rate=.inf",
            ("optimizer.learning_rate", "finite number"),
            id="non-finite-rate",
        ),
        pytest.param(
            "name=../elsewhere",
            ("name (from override 'name=../elsewhere')", "folder name"),
            id="run-name",
        ),
    ],
)
def test_an_override_out_of_range_states_the_rule(zoo_cli, refused, tmp_path, override, fragments):
    path = write_recipe(tmp_path / "tiny.yaml")
    refused(zoo_cli("recipes", "show", str(path), override), 2, *fragments)


@pytest.mark.parametrize("name", [".", "..", ".hidden", "a/b", "a\\b", "", "x" * 129])
def test_the_run_name_must_be_one_safe_folder_name(zoo_cli, refused, tmp_path, name):
    path = write_recipe(tmp_path / "recipe.yaml", tiny_dict(f"name={name!r}"))
    refused(
        zoo_cli("recipes", "validate", str(path)), 2, f"{path}: name:", "does not start with '.'"
    )


def test_an_override_value_gets_the_alias_limit(zoo_cli, refused, tmp_path):
    path = write_recipe(tmp_path / "tiny.yaml")
    bomb = "[" + ", ".join(f"&l{i} [" + ", ".join([f"*l{i - 1}"] * 9) + "]" for i in range(1, 9))
    override = "train.seed=[&l0 [lol, lol, lol, lol, lol, lol, lol, lol, lol], " + bomb[1:] + "]"
    refused(zoo_cli("recipes", "show", str(path), override), 2, "override", "expands to more than")


def test_a_key_json_cannot_hold_is_refused(zoo_cli, refused, tmp_path):
    path = write(tmp_path, TINY_YAML + "2024-01-01: new year\n")
    refused(zoo_cli("recipes", "validate", str(path)), 2, str(path), "strings, numbers, lists")


def test_zoo_debug_shows_the_traceback(zoo_cli, tmp_path):
    path = write(tmp_path, TINY_YAML + "name: again\n")
    result = zoo_cli("recipes", "show", str(path), env={"ZOO_DEBUG": "1"})
    assert result.exit_code == 2, result.output
    assert "Traceback (most recent call last)" in result.output
    assert result.output.strip().splitlines()[-1].startswith("Error: ")
    assert "duplicate key 'name'" in result.output


def test_recipes_list_shows_the_whole_first_sentence(zoo_cli, tmp_path, monkeypatch):
    folder = tmp_path / "recipes"
    folder.mkdir()
    header = (
        "# A recipe whose first sentence runs over two lines, with 1.5 dB and dli.yaml in it,\n"
        "# and ends here. The second sentence is not shown.\n"
        "#\n# Run: zoo run multi\n"
    )
    (folder / "multi.yaml").write_text(header + TINY_YAML, encoding="utf-8")
    monkeypatch.chdir(tmp_path)  # ./recipes comes first on the search path
    result = zoo_cli("recipes", "list")
    assert result.exit_code == 0, result.output
    line = next(line for line in result.output.splitlines() if line.startswith("multi "))
    assert "1.5 dB and dli.yaml in it, and ends here.  (" in line
    assert "second sentence" not in line
    dli = next(line for line in result.output.splitlines() if line.startswith("dli "))
    assert "batches of 10.  (" in dli  # the shipped dli.yaml's sentence spans four lines
