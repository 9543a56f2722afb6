"""The model commands and options: `zoo export`, `zoo models`, and --checkpoint/--model/--step."""

from __future__ import annotations

import json
from collections.abc import Callable
from pathlib import Path
from typing import Any

import click


def model_options(checkpoint_help: str) -> Callable[[Any], Any]:
    """--checkpoint (a run directory or a weights file), --model NAME and --step for a command
    that uses one trained model; ``model_source`` turns them into one source."""

    def apply(command: Any) -> Any:
        for option in reversed(
            [
                click.option(
                    "--checkpoint",
                    "run_dir",
                    type=click.Path(path_type=Path),
                    default=None,
                    help=checkpoint_help,
                ),
                click.option(
                    "--model", "model_name", default=None, help="A registered model (zoo models)."
                ),
                step_option(
                    "With a run directory: best, last or a step number (default: the run's own "
                    "rule, best when its recipe sets checkpoint.best, else last)."
                ),
            ]
        ):
            command = option(command)
        return command

    return apply


def step_option(help: str) -> Callable[[Any], Any]:
    return click.option(
        "--step", callback=lambda ctx, param, value: parse_step(value), default=None, help=help
    )


def parse_step(value: str | None) -> Any:
    """``--step``: best, last or a step number."""
    if value is None or value in ("best", "last"):
        return value
    if value.isdigit():
        return int(value)
    raise click.BadParameter(f"{value!r}: use best, last or a step number.", param_hint="--step")


def model_source(run_dir: Path | None, model_name: str | None, step: Any) -> str | None:
    """The one model source of --checkpoint / --model (never both); --step needs a run."""
    if run_dir is not None and model_name is not None:
        raise click.UsageError("give --checkpoint or --model, not both.")
    if step is not None and run_dir is None:
        raise click.UsageError("--step picks a checkpoint of a run: give --checkpoint RUN_DIR.")
    if run_dir is not None:
        return str(run_dir)
    return model_name


@click.command()
@click.argument("run_dir", type=click.Path(path_type=Path))
@step_option("best, last or a step number (default: the run's own rule).")
@click.option(
    "-o",
    "--output",
    type=click.Path(path_type=Path),
    required=True,
    help="The weights file to write (NAME.zoo); an existing file is replaced atomically.",
)
@click.option(
    "--catalog",
    type=click.Path(path_type=Path),
    default=None,
    help="Also record the file in this models.json (the registration data of a models plugin: "
    "recipe, scale, sha256, parameters, training), under the file's stem.",
)
def export(run_dir: Path, step: Any, output: Path, catalog: Path | None) -> None:
    """Write one checkpoint of RUN_DIR as a single portable weights file: the parameters and
    the resolved recipe, with their SHA-256 digests (checked whenever the file is loaded).

    Example: zoo export runs/ae_x2 -o ae_x2.zoo
    """
    from zoo import upscale as upscale_lib
    from zoo import weights

    if not run_dir.is_dir():
        raise click.BadParameter(f"{run_dir}: no such run directory.", param_hint="RUN_DIR")
    model = upscale_lib.load(run_dir, step)
    digest = model.export(output)
    from zoo.model import count_parameters

    parameters = count_parameters(model.module())
    sha256 = weights.file_sha256(output)
    click.echo(
        f"Wrote {output}: {model.describe()}, x{model.scale}, {parameters:,} parameters.\n"
        f"  parameters sha256 {digest}\n  file sha256       {sha256}"
    )
    if catalog is not None:
        from zoo.models import record_in_catalog

        record_in_catalog(catalog, output.stem, model, output, sha256=sha256, parameters=parameters)
        click.echo(f"Recorded {output.stem!r} in {catalog}.")


@click.command()
@click.argument("names", nargs=-1)
@click.option("--json", "as_json", is_flag=True, help="Print JSON (one record per model).")
@click.option(
    "--table",
    is_flag=True,
    help="Print one Markdown table: parameters, training minutes, Set5 / Set14 PSNR and SSIM, "
    "the paper's numbers and bicubic (docs/models.md is this table).",
)
@click.option(
    "--gallery",
    type=click.Path(path_type=Path),
    default=None,
    help="Write an HTML page (self-contained) of each model beside bicubic on side-by-side "
    "crops of --data, with its numbers.",
)
@click.option(
    "--data",
    default=None,
    help="With --gallery: a folder of images or a dataset name (default: the embedded "
    "photographs' holdout split, which no shipped model trained on).",
)
def models(
    names: tuple[str, ...], as_json: bool, table: bool, gallery: Path | None, data: str | None
) -> None:
    """List the pretrained models that plugins register (or only NAMES), with their measured
    numbers.

    Example: zoo models --gallery models.html
    """
    from zoo.models import format_models, format_models_table, model_records
    from zoo.registry import get_registry

    if sum([as_json, table, gallery is not None]) > 1:
        raise click.UsageError("give one of --json, --table and --gallery.")
    if data is not None and gallery is None:
        raise click.UsageError("--data chooses the gallery's images: give --gallery FILE too.")
    registry = get_registry()
    records = chosen_records(model_records(registry), names)
    if as_json:
        click.echo(json.dumps(records, indent=2))
    elif table:
        click.echo(format_models_table(records))
    elif gallery is not None:
        write_model_gallery(gallery, records, registry, data)
    else:
        click.echo(format_models(records))
        if records:
            click.echo("\nSide-by-side crops of every model: zoo models --gallery models.html")


def chosen_records(records: list[dict[str, Any]], names: tuple[str, ...]) -> list[dict[str, Any]]:
    if not names:
        return records
    by_name = {record["name"]: record for record in records}
    unknown = [name for name in names if name not in by_name]
    if unknown:
        raise click.BadParameter(
            f"no model named {', '.join(unknown)}; registered: {', '.join(by_name) or 'none'}.",
            param_hint="NAMES",
        )
    return [by_name[name] for name in names]


def write_model_gallery(
    path: Path, records: list[dict[str, Any]], registry: Any, data: str | None
) -> None:
    from zoo import gallery

    if not records:
        raise click.UsageError("no models registered: nothing to put in a gallery.")
    split = gallery.DEFAULT_SPLIT if data is None else None  # a folder or dataset: all of it
    gallery.write_gallery(path, records, registry, data or gallery.DEFAULT_DATA, split)
    shown = data or f"the {gallery.DEFAULT_DATA} dataset's {gallery.DEFAULT_SPLIT} split"
    count = f"{len(records)} model" + ("s" if len(records) != 1 else "")
    click.echo(f"Wrote {path}: {count} beside bicubic on {shown}.")
