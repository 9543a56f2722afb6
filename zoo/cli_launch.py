"""The multi-process side of the command line: `zoo run`'s job options and `zoo launch`."""

from __future__ import annotations

import sys
from collections.abc import Callable
from pathlib import Path
from typing import Any

import click

from zoo.distributed import DEFAULT_JOIN_TIMEOUT


def job_options(command: Callable[..., Any]) -> Callable[..., Any]:
    """--coordinator, --num-processes, --process-id and --join-timeout (docs/scale.md)."""
    options = [
        click.option(
            "--coordinator",
            metavar="HOST:PORT",
            default=None,
            help="Join a multi-process job: process 0's address and a free port on it "
            "(without it, JAX's SLURM, Open MPI, Kubernetes or Cloud TPU detection decides).",
        ),
        click.option(
            "--num-processes",
            type=click.IntRange(min=1),
            default=None,
            help="Processes in the job.",
        ),
        click.option(
            "--process-id", type=click.IntRange(min=0), default=None, help="This one, 0 to N-1."
        ),
        click.option(
            "--join-timeout",
            type=click.IntRange(min=1),
            default=DEFAULT_JOIN_TIMEOUT,
            show_default=True,
            help="Seconds to wait for every process of the job to join.",
        ),
    ]
    for option in reversed(options):
        command = option(command)
    return command


@click.command(context_settings={"ignore_unknown_options": False})
@click.option(
    "--local",
    "count",
    type=click.IntRange(min=1),
    required=True,
    help="Start this many processes on this machine, one CPU device each.",
)
@click.argument("recipe")
@click.argument("overrides", nargs=-1)
@click.option("--workdir", type=click.Path(path_type=Path), default=None, help="Run directory.")
@click.option("--resume", is_flag=True, help="Continue the job's latest checkpoint.")
@click.option("--force", is_flag=True, help="Start afresh (the old run is kept beside it).")
@click.option(
    "--join-timeout",
    type=click.IntRange(min=1),
    default=120,
    show_default=True,
    help="Seconds each process waits for the others to join.",
)
def launch(
    count: int,
    recipe: str,
    overrides: tuple[str, ...],
    workdir: Path | None,
    resume: bool,
    force: bool,
    join_timeout: int,
) -> None:
    """Run RECIPE as a job of N local processes (one CPU device each), to try multi-process
    training: the same data-parallel run as N devices in one process, within float tolerance.

    Exits with the worst of the processes' exit codes. Example:
    zoo launch --local 2 recipes/smoke.yaml --workdir runs/smoke_2p
    """
    from zoo import launch as launch_lib

    run_args = [recipe, *overrides]
    if workdir is not None:
        run_args += ["--workdir", str(workdir)]
    run_args += ["--resume"] * resume + ["--force"] * force
    sys.exit(launch_lib.run_local(count, run_args, join_timeout=join_timeout))
