"""Nox sessions: tests (default), lint, typecheck, docs, example_plugin, bench."""

from __future__ import annotations

import os
from pathlib import Path

import nox

nox.options.sessions = ["tests"]
nox.options.default_venv_backend = "venv"

ROOT = Path(__file__).parent
PYPROJECT = nox.project.load_toml("pyproject.toml")
CACHE_ENV = {
    "JAX_PLATFORMS": "cpu",
    "ZOO_JAX_CACHE": str(ROOT / ".jax_cache"),
    "ZOO_DATA_DIR": str(ROOT / ".zoo_data"),
}


def install_group(session: nox.Session, *groups: str) -> None:
    for group in groups:
        session.install(*nox.project.dependency_groups(PYPROJECT, group))


@nox.session
def tests(session: nox.Session) -> None:
    """Install zoo as a user would (pip install .) and run the test suite on the CPU."""
    session.install(".")
    install_group(session, "test")
    session.chdir(ROOT / "tests")  # so `import zoo` finds the installed package, not ./zoo
    session.run("pytest", *(session.posargs or ["-q", "--durations=15"]), env=CACHE_ENV)


@nox.session
def lint(session: nox.Session) -> None:
    """Run ruff check and ruff format --check over the whole tree."""
    install_group(session, "lint")
    session.run("ruff", "check", ".")
    session.run("ruff", "format", "--check", ".")


@nox.session
def typecheck(session: nox.Session) -> None:
    """Type-check the engine, the built-in plugins and the example plugin with mypy."""
    session.install(".")
    install_group(session, "typecheck")
    session.run("mypy")  # what to check is [tool.mypy] files in pyproject.toml


@nox.session
def docs(session: nox.Session) -> None:
    """Build the documentation site with mkdocs --strict (generated pages regenerated first)."""
    session.install(".")
    install_group(session, "docs")
    session.run("python", "docs/gen_recipe_reference.py")
    session.run("python", "docs/gen_models.py")
    session.run("mkdocs", "build", "--strict")


@nox.session
def example_plugin(session: nox.Session) -> None:
    """Install zoo and examples/zoo-example-plugin in a fresh venv; list, use and test it."""
    session.install(".")
    session.install("./examples/zoo-example-plugin")
    session.run("zoo", "plugins")
    listing = session.run("zoo", "plugins", "--json", silent=True)
    if "zoo-example-plugin" not in (listing or ""):
        session.error("`zoo plugins` does not list zoo-example-plugin")
    session.run(
        "zoo",
        "recipes",
        "validate",
        "examples/zoo-example-plugin/recipes/charbonnier_x2.yaml",
        "examples/zoo-example-plugin/recipes/tiny_charbonnier_x2.yaml",
        env=CACHE_ENV,
    )
    session.run("zoo", "models")  # the wheel's weights and catalog: the example's model is listed
    models = session.run("zoo", "models", "--json", silent=True)
    if '"tiny_charbonnier_x2"' not in (models or ""):
        session.error("`zoo models` does not list tiny_charbonnier_x2 from zoo-example-plugin")
    session.run(
        "zoo",
        "eval",
        "--data",
        "embedded",
        "--split",
        "holdout",
        "--scale",
        "2",
        "--upscalers",
        "bicubic,sharp_bicubic",
        "--metrics",
        "psnr,charbonnier",
        "--convention",
        "rgb",
        env=CACHE_ENV,
    )
    session.install("pytest")  # the plugin's own tests, with zoo.testing's fixtures
    session.run("pytest", "-q", "examples/zoo-example-plugin/tests", env=CACHE_ENV)


@nox.session
def bench(session: nox.Session) -> None:
    """Every benchmark against its peer (scikit-image, scipy, PyTorch CPU) as one table."""
    session.install(".")
    install_group(session, "bench")
    env = {**CACHE_ENV, "OMP_NUM_THREADS": os.environ.get("OMP_NUM_THREADS", "2")}
    session.run("python", "benchmarks/table.py", *session.posargs, env=env)
