"""The `zoo` command line: run, eval, upscale, plugins, recipes, plus commands plugins add."""

from __future__ import annotations

import json
import shlex
import sys
from pathlib import Path
from typing import Any

import click

import zoo
from zoo.cli_launch import job_options, launch
from zoo.cli_models import export, model_options, model_source, models
from zoo.errors import ZooError

BUILTIN_COMMANDS = (
    "run", "eval", "upscale", "export", "models", "launch", "plugins", "recipes"
)  # fmt: skip


class ZooGroup(click.Group):
    """A group that adds plugin commands on demand and prints ZooErrors without a traceback."""

    def list_commands(self, ctx: click.Context) -> list[str]:
        return sorted(set(super().list_commands(ctx)) | set(_plugin_commands()))

    def get_command(self, ctx: click.Context, name: str) -> click.Command | None:
        command = super().get_command(ctx, name)
        if command is None:
            command = _plugin_commands().get(name)
        return command

    def format_epilog(self, ctx: click.Context, formatter: click.HelpFormatter) -> None:
        super().format_epilog(ctx, formatter)
        broken = _broken_plugins()
        if broken:
            formatter.write_paragraph()
            formatter.write_text(
                f"Broken plugins: {', '.join(broken)}. `zoo plugins` says what is wrong; "
                "commands that use plugins stop until that is fixed."
            )

    def invoke(self, ctx: click.Context) -> Any:
        """Run the command; a ZooError, or an OSError about a file (or a full disk), ends in a
        one-line message and its exit code (docs/reliability.md). ``ZOO_DEBUG=1`` prints the
        traceback before the message."""
        import errno
        import os
        import traceback

        from zoo.errors import describe_os_error

        try:
            return super().invoke(ctx)
        except (ZooError, OSError) as exc:
            if isinstance(exc, ZooError):
                message, code = exc.cli_message, exc.exit_code
            elif exc.filename is not None or exc.errno in (errno.ENOSPC, errno.EDQUOT):
                where = f"{exc.filename}: " if exc.filename is not None else ""
                message, code = f"{where}{describe_os_error(exc)}", 1
            else:
                raise  # an OSError that names no file is a bug to report, with its traceback
            if os.environ.get("ZOO_DEBUG", "").strip() not in ("", "0"):
                traceback.print_exc()
            click.secho(f"Error: {message}", fg="red", err=True)
            sys.exit(code)


def _plugin_commands() -> dict[str, click.Command]:
    """The commands plugins add. Only ``register_commands`` hooks run (no other plugin code, no
    JAX), and a broken plugin never breaks `zoo --help`: it adds no command, and every command
    that uses plugins names it (``registry.get_registry``)."""
    from zoo.registry import get_registry

    try:
        table = get_registry(check=False).tables["commands"]
    except ZooError:  # ZOO_LOAD_PLUGINS names no installed plugin; `zoo plugins` says so
        return {}
    return {name: entry.factory for name, entry in table.items() if name not in BUILTIN_COMMANDS}


def _broken_plugins() -> list[str]:
    """The plugins known broken without running any hook but ``register_commands``: those that
    failed to load or misspell a hook (`zoo plugins` finds the rest)."""
    from zoo import plugins
    from zoo.registry import get_registry

    try:
        registry = get_registry(check=False)
    except ZooError:
        return []
    found = [*plugins.problems(registry.manager), *registry.problems]
    return sorted({problem.plugin for problem in found})


@click.group(cls=ZooGroup, context_settings={"help_option_names": ["-h", "--help"]})
@click.version_option(zoo.__version__, "--version", prog_name="zoo")
def cli() -> None:
    """zoo: image super-resolution with autoencoders, assembled from plugins by YAML recipes.

    Start with `zoo run ae_x2` (trains on the embedded photographs, about 3 minutes on a 2-core
    CPU), `zoo recipes list`, or `zoo plugins --all`.
    """


def main() -> None:
    cli(prog_name="zoo")


# ---------------------------------------------------------------------------------------------
# zoo run


@cli.command()
@click.argument("recipe")
@click.argument("overrides", nargs=-1)
@click.option(
    "--workdir",
    type=click.Path(path_type=Path),
    default=None,
    help="Run directory (default runs/<recipe name>).",
)
@click.option(
    "--dry-run", is_flag=True, help="Validate, build every part, print the plan; no training."
)
@click.option(
    "--resume", is_flag=True, help="Continue from the latest checkpoint in the run directory."
)
@click.option(
    "--force", is_flag=True, help="Start afresh even if the run directory has checkpoints."
)
@job_options
def run(
    recipe: str,
    overrides: tuple[str, ...],
    workdir: Path | None,
    dry_run: bool,
    resume: bool,
    force: bool,
    coordinator: str | None,
    num_processes: int | None,
    process_id: int | None,
    join_timeout: int,
) -> None:
    """Train and evaluate RECIPE (a file, or a shipped recipe's name) with field=value OVERRIDES.

    Example: zoo run recipes/ae_x2.yaml train.steps=200 data.patch=48

    With --coordinator, --num-processes and --process-id (or under SLURM, Open MPI, Kubernetes
    or a Cloud TPU slice) the run is one process of a data-parallel job (docs/scale.md).
    """
    from zoo import assemble, checkpoint, distributed, evaluate, train
    from zoo import recipe as recipes
    from zoo.registry import get_registry

    job = distributed.requested(coordinator, num_processes, process_id)
    if job is not None and not dry_run:  # before anything touches a JAX device
        distributed.join(job, timeout=join_timeout)
    resolved = recipes.load(recipe, overrides)
    source = str(recipes.resolve_path(recipe))
    workdir = workdir or Path("runs") / resolved.name
    if dry_run:
        from zoo.plan import describe_plan

        parts = assemble.validate(resolved, get_registry(), source=source)
        click.echo(describe_plan(parts, workdir))
        return
    try:
        result = train.train_and_evaluate(
            resolved, workdir, resume=resume, force=force, source=source
        )
    except train.Interrupted as exc:
        again = shlex.join(["zoo", "run", recipe, *overrides, "--workdir", str(workdir)])
        message = str(exc).split(";")[0]
        raise train.Interrupted(f"{message}. Continue with: {again} --resume") from None
    if not distributed.is_main():
        return  # process 0 reports for the job
    click.echo(evaluate.format_table(result.evaluation))
    if result.skipped:
        click.echo(
            f"\n{result.skipped} step(s) had a non-finite loss or gradient and were skipped."
        )
    click.echo(
        f"\nWrote {workdir / 'report.html'}, {workdir / 'metrics.json'} and checkpoints in "
        f"{checkpoint.checkpoint_dir(workdir)}."
    )


# ---------------------------------------------------------------------------------------------
# zoo plugins


@cli.command()
@click.option("--all", "show_all", is_flag=True, help="Include the built-in plugins.")
@click.option("--json", "as_json", is_flag=True, help="Print JSON (format in docs/plugins.md).")
def plugins(show_all: bool, as_json: bool) -> None:
    """List installed plugins, their distribution, hooks and the names they register."""
    from zoo import plugins as plugin_lib
    from zoo.listing import plugin_listing

    everything = plugin_listing()
    listing = [i for i in everything if show_all or not i["builtin"] or i["error"] is not None]
    if as_json:
        click.echo(json.dumps(listing, indent=2))
    elif not listing:
        click.echo("No third-party plugins installed. `zoo plugins --all` shows the built-ins.")
    else:
        for item in listing:
            where = f"{item['distribution']} {item['version']}" if item["distribution"] else ""
            builtin = " (built-in)" if item["builtin"] else ""
            click.echo(f"{item['name']}{builtin}  [{where or 'runtime'}]")
            for kind, names in item["registers"].items():
                click.echo(f"  {kind}: {', '.join(names)}")
            if item["error"] is not None:
                click.secho(f"  error: {item['error']}", fg="red")
    broken = [item["name"] for item in everything if item["error"] is not None]
    if broken:  # listed, not fatal: every other command stops with this advice
        they = "it is" if len(broken) == 1 else "they are"
        click.secho(
            f"Broken: {', '.join(broken)}. Commands that use plugins stop until {they} fixed. "
            f"{plugin_lib.way_around(broken)}",
            fg="red",
            err=True,
        )


# ---------------------------------------------------------------------------------------------
# zoo recipes


@cli.group()
def recipes() -> None:
    """List, validate and show recipes."""


@recipes.command("list")
def recipes_list() -> None:
    """The shipped recipes and the first sentence of each one's description."""
    from zoo import recipe as recipe_module

    for name, path in recipe_module.shipped_recipes().items():
        click.echo(f"{name:<14} {recipe_module.description(path)}  ({path})")


@recipes.command("validate")
@click.argument("files", nargs=-1, required=True)
def recipes_validate(files: tuple[str, ...]) -> None:
    """Check FILES: schema, plugin names, and every part built (the model as shapes only), so a
    plugin that rejects its options fails here; exit 2 if any file has a problem."""
    from zoo import assemble
    from zoo import recipe as recipe_module
    from zoo.registry import get_registry

    get_registry()  # a broken plugin: one error, not one per file
    failed = False
    for spec in files:
        try:
            resolved = recipe_module.load(spec)
            source = str(recipe_module.resolve_path(spec))
            assemble.validate(resolved, get_registry(), source=source)
        except ZooError as exc:
            click.secho(f"Error: {exc}", fg="red", err=True)
            failed = True
        else:
            click.echo(f"{spec}: ok")
    if failed:
        sys.exit(2)


@recipes.command("show")
@click.argument("file")
@click.argument("overrides", nargs=-1)
def recipes_show(file: str, overrides: tuple[str, ...]) -> None:
    """Print the resolved recipe (defaults filled in, OVERRIDES applied) as YAML."""
    import yaml

    from zoo import recipe as recipe_module

    resolved = recipe_module.load(file, overrides)
    click.echo(yaml.safe_dump(resolved.model_dump(mode="json"), sort_keys=False).rstrip())


# ---------------------------------------------------------------------------------------------
# zoo eval


def _names(value: str | None) -> list[str] | None:
    return [part.strip() for part in value.split(",") if part.strip()] if value else None


@cli.command("eval")
@click.option(
    "--data",
    "data_spec",
    required=True,
    help="A folder of HR images, or a registered dataset name.",
)
@click.option("--split", default=None, help="Dataset split (default: all, or the first split).")
@click.option(
    "--scale",
    type=click.IntRange(min=1),
    default=None,
    help="Upscaling factor (default: the checkpoint's, else 2).",
)
@click.option(
    "--degradation",
    default=None,
    help="How LR images are made (default: the checkpoint's, else bicubic).",
)
@click.option(
    "--lr",
    "lr_dir",
    type=click.Path(path_type=Path),
    default=None,
    help="Use ready-made LR images from this folder (matched by name) instead.",
)
@click.option(
    "--convention",
    type=click.Choice(["y", "rgb"]),
    default="y",
    show_default=True,
    help="y: published protocol (8-bit, BT.601 luma, shave scale); rgb: DLI course.",
)
@click.option("--upscalers", default=None, help="Comma-separated (default: every registered).")
@click.option("--metrics", default="psnr,ssim", show_default=True, help="Comma-separated.")
@model_options("A run directory or a weights file (zoo export): adds its model to the comparison.")
@click.option("--limit", type=click.IntRange(min=1), default=None, help="Use the first N images.")
@click.option("--json", "as_json", is_flag=True, help="Print JSON instead of a table.")
def eval_command(
    data_spec: str,
    split: str | None,
    scale: int | None,
    degradation: str | None,
    lr_dir: Path | None,
    convention: str,
    upscalers: str | None,
    metrics: str,
    run_dir: Path | None,
    model_name: str | None,
    step: Any,
    limit: int | None,
    as_json: bool,
) -> None:
    """Compare classic upscalers (and optionally a trained model) on a set of HR images.

    Example: zoo eval --data ../shared/data/Set5/HR --scale 2 --degradation bicubic
    """
    from zoo import compare
    from zoo.atomic import strict_json

    evaluation = compare.run_eval(
        data_spec=data_spec,
        split=split,
        scale=scale,
        degradation=degradation,
        lr_dir=lr_dir,
        convention=convention,
        upscalers=_names(upscalers),
        metrics=_names(metrics) or [],
        model=model_source(run_dir, model_name, step),
        step=step,
        limit=limit,
        progress=not as_json,
    )
    if as_json:
        click.echo(json.dumps(strict_json(evaluation.to_json()), indent=2, allow_nan=False))
    else:
        from zoo.evaluate import format_table

        click.echo(format_table(evaluation))


# ---------------------------------------------------------------------------------------------
# zoo upscale


@cli.command()
@model_options("A run directory or a weights file (zoo export).")
@click.argument("inputs", nargs=-1, required=True, type=click.Path(path_type=Path))
@click.option(
    "-o",
    "--output",
    type=click.Path(path_type=Path),
    required=True,
    help="Output folder (created if missing), or a .png file name for a single input file.",
)
@click.option(
    "--tile",
    type=click.IntRange(min=0),
    default=512,
    show_default=True,
    help="Process in tiles of this many LR pixels: memory is bounded by the tile, not the "
    "image. 0: the whole image at once.",
)
@click.option(
    "--overlap",
    type=click.IntRange(min=0),
    default=None,
    help="Margin in LR pixels each tile borrows from its neighbours (default: the model's "
    "measured receptive field, at least 24).",
)
@click.option("--force", is_flag=True, help="Rewrite outputs that already exist.")
def upscale(
    run_dir: Path | None,
    model_name: str | None,
    step: Any,
    inputs: tuple[Path, ...],
    output: Path,
    tile: int | None,
    overlap: int | None,
    force: bool,
) -> None:
    """Upscale images (files or folders) with a trained model, writing 8-bit PNGs to OUTPUT.

    Outputs that already exist are skipped (each PNG is written whole or not at all), so a
    rerun finishes an interrupted batch; --force rewrites them. A file that cannot be read does
    not stop the others: each is named at the end. Files in a folder with an image extension
    zoo does not read (.gif, .webp, ...) are listed. Exit code 0: every output is there; 1:
    some inputs failed; 2: nothing could start (a missing input, an unusable -o, no model).

    Example: zoo upscale --model ae_x2 photos/ -o upscaled/
    """
    from functools import partial

    from zoo import batch
    from zoo import upscale as upscale_lib

    source = model_source(run_dir, model_name, step)
    if source is None:
        raise click.UsageError("give the model: --checkpoint RUN_DIR|FILE or --model NAME.")
    work = batch.plan(inputs, output, force=force)
    model = upscale_lib.load(source, step)
    outcome = batch.run(
        work, partial(model.upscale, tile=tile or None, overlap=overlap), desc=f"x{model.scale}"
    )
    lines, errors = batch.report(work, outcome, model=f"{model.describe()}, x{model.scale}")
    for line in lines:
        click.echo(line)
    for line in errors:
        click.secho(line, fg="red", err=True)
    if outcome.exit_code:
        sys.exit(outcome.exit_code)


cli.add_command(export)
cli.add_command(models)
cli.add_command(launch)
