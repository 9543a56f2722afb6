"""Joining a multi-process job with jax.distributed, and the few collective decisions zoo makes.

zoo adds no runtime of its own: ``join`` calls ``jax.distributed.initialize`` (JAX's cluster
detection for SLURM, Open MPI, Kubernetes and Cloud TPU, or an explicit coordinator), and the
rest are small agreements over JAX's collectives: the same recipe everywhere, one process that
prepares the run directory while the others wait for its verdict, a stop that every process
takes at the same step. What JAX would do on a failure to join (abort the process at its
timeout) becomes one clear error before it.
"""

from __future__ import annotations

import contextlib
import errno
import hashlib
import os
import socket
import sys
import threading
from collections.abc import Callable, Iterator
from dataclasses import dataclass
from typing import TypeVar

import numpy as np

from zoo.errors import ZooError

T = TypeVar("T")

DEFAULT_JOIN_TIMEOUT = 300  # seconds, JAX's own initialisation default
EXIT_NOT_JOINED = 4
# JAX's own abort comes this much after zoo's message, so zoo always speaks first.
_JAX_GRACE = 30


class DistributedError(ZooError):
    """A multi-process job could not be formed or its processes disagree."""


@dataclass(frozen=True)
class Job:
    """Where and how this process joins: explicit (``--coordinator``) or detected."""

    coordinator: str | None
    num_processes: int | None
    process_id: int | None
    detected: str | None = None  # the cluster environment JAX detected (slurm, ompi, ...)

    def describe(self) -> str:
        where = self.coordinator or "the coordinator JAX detects"
        if self.process_id is None or self.num_processes is None:
            return f"{self.detected} job at {where}"
        return f"process {self.process_id} of {self.num_processes} at {where}"


def requested(
    coordinator: str | None, num_processes: int | None, process_id: int | None
) -> Job | None:
    """The job the options or the environment ask for; None for a plain single process.

    The three options go together; without them a job is joined when ``JAX_COORDINATOR_ADDRESS``
    is set or one of JAX's cluster environments reports more than one process."""
    given = {
        "--coordinator": coordinator,
        "--num-processes": num_processes,
        "--process-id": process_id,
    }
    if any(value is not None for value in given.values()):
        missing = [name for name, value in given.items() if value is None]
        if missing:
            raise DistributedError(
                f"{', '.join(missing)} missing: a multi-process run needs --coordinator "
                "HOST:PORT, --num-processes N and --process-id I together (or none of them, "
                "to let JAX detect a SLURM, Open MPI, Kubernetes or Cloud TPU job)."
            )
        assert coordinator is not None and num_processes is not None and process_id is not None
        check_job(coordinator, num_processes, process_id)
        return Job(coordinator, num_processes, process_id)
    if os.environ.get("JAX_COORDINATOR_ADDRESS"):
        return Job(None, None, None, detected="JAX_COORDINATOR_ADDRESS")
    cluster = detected_cluster()
    return Job(None, None, None, detected=cluster) if cluster else None


def check_job(coordinator: str, num_processes: int, process_id: int) -> None:
    host, _, port = coordinator.rpartition(":")
    if not host or not port.isdigit() or not 0 < int(port) < 65536:
        raise DistributedError(
            f"--coordinator {coordinator}: give HOST:PORT, the address of process 0 and a free "
            "port on it (e.g. --coordinator 10.0.0.1:23456)."
        )
    if num_processes < 1:
        raise DistributedError(f"--num-processes {num_processes}: must be at least 1.")
    if not 0 <= process_id < num_processes:
        raise DistributedError(
            f"--process-id {process_id}: must be from 0 to {num_processes - 1} "
            f"(--num-processes {num_processes})."
        )


def detected_cluster() -> str | None:
    """The name of the cluster environment JAX would detect with more than one process."""
    try:
        from jax._src import clusters
    except ImportError:  # a JAX that moved its detection: only the explicit options remain
        return None
    for env in getattr(clusters.ClusterEnv, "_cluster_types", []):
        with contextlib.suppress(Exception):  # a half-configured environment is no job
            if not env.opt_in_only_method and env.is_env_present():
                return str(env.name) if env.get_process_count() > 1 else None
    return None


def join(job: Job, *, timeout: int = DEFAULT_JOIN_TIMEOUT) -> None:
    """``jax.distributed.initialize`` for ``job``, before any JAX computation.

    A port already in use on process 0 is refused at once; a process that cannot form the job
    within ``timeout`` seconds (a missing peer, a wrong address) exits with a message naming
    what it waited for, exit code 4, instead of JAX's abort."""
    import jax

    if job.process_id == 0 and job.coordinator is not None:
        check_port_free(job.coordinator)
    with watchdog(timeout, waiting_message(job, timeout)):
        jax.distributed.initialize(
            coordinator_address=job.coordinator,
            num_processes=job.num_processes,
            process_id=job.process_id,
            initialization_timeout=timeout + _JAX_GRACE,
        )


def waiting_message(job: Job, timeout: int) -> str:
    if job.process_id == 0:
        return (
            f"Error: process 0 waited {timeout} s at {job.coordinator} for the other "
            f"{(job.num_processes or 1) - 1} process(es) of the job, and not all of them joined. "
            "Start every process with the same --coordinator and --num-processes (process ids "
            "0 to N-1), or give them more time with --join-timeout."
        )
    return (
        f"Error: {job.describe()} could not join the job within {timeout} s. Check that "
        "process 0 is running and reachable at that address (same --coordinator and "
        "--num-processes everywhere), or give it more time with --join-timeout."
    )


@contextlib.contextmanager
def watchdog(seconds: int, message: str) -> Iterator[None]:
    """Exit the process with ``message`` if the block has not finished after ``seconds``.

    JAX's coordination client aborts the whole process (SIGABRT) when a job does not form, which
    no ``try`` can catch, so the only clear answer is to speak and exit first."""
    done = threading.Event()

    def expire() -> None:
        if not done.wait(seconds):
            print(message, file=sys.stderr, flush=True)
            os._exit(EXIT_NOT_JOINED)

    thread = threading.Thread(target=expire, name="zoo-join-watchdog", daemon=True)
    thread.start()
    try:
        yield
    finally:
        done.set()


def check_port_free(coordinator: str) -> None:
    """Refuse a coordinator port something already listens on (JAX would abort on it)."""
    port = int(coordinator.rpartition(":")[2])
    with socket.socket(socket.AF_INET6 if socket.has_ipv6 else socket.AF_INET) as probe:
        try:
            probe.bind(("", port))
        except OSError as exc:
            if exc.errno != errno.EADDRINUSE:
                return  # not ours to judge (no IPv6 here, ...): JAX reports what it finds
            raise DistributedError(
                f"--coordinator {coordinator}: port {port} is already in use on this machine "
                "(another job, or an earlier one still running); choose another port for "
                "every process."
            ) from None


def free_port() -> int:
    """A TCP port nothing listens on now (for ``zoo launch --local``)."""
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        return int(probe.getsockname()[1])


# ---------------------------------------------------------------------------------------------
# Agreements across the processes of a job


def process_count() -> int:
    import jax

    return jax.process_count()


def is_main() -> bool:
    """Whether this process writes the run's files (metrics, report, logs): process 0."""
    import jax

    return jax.process_index() == 0


def _gather(values: np.ndarray) -> np.ndarray:
    from jax.experimental import multihost_utils

    return np.asarray(multihost_utils.process_allgather(values))


def check_same_recipe(text: str) -> None:
    """Every process runs the same resolved recipe; ``DistributedError`` on all of them if not."""
    if process_count() == 1:
        return
    digest = np.frombuffer(hashlib.sha256(text.encode()).digest(), dtype=np.uint32)
    everyone = _gather(digest).reshape(process_count(), -1)
    differ = [i for i, row in enumerate(everyone) if not np.array_equal(row, everyone[0])]
    if differ:
        import jax

        raise DistributedError(
            f"process {jax.process_index()}: the processes were given different recipes "
            f"(process(es) {', '.join(map(str, differ))} differ from process 0: the recipe "
            "file, its overrides or an installed plugin's defaults). Start every process "
            "with the same recipe and overrides and the same installed packages."
        )


def on_main(action: Callable[[], T]) -> T | None:
    """Run ``action`` on process 0 only; the others wait for it, and when it raises every
    process raises (process 0 its own error, the others one that points to it)."""
    if process_count() == 1:
        return action()
    result: T | None = None
    failure: BaseException | None = None
    if is_main():
        try:
            result = action()
        except BaseException as exc:  # re-raised below, once the others know
            failure = exc
    failed = _gather(np.array([failure is not None], dtype=np.int32))
    if failure is not None:
        raise failure
    if failed.any():
        import jax

        raise DistributedError(
            f"process {jax.process_index()}: process 0 stopped (its output says why); "
            "this process stops with it."
        )
    return result


def agree_to_stop(stop: bool) -> bool:
    """Whether any process wants to stop (Ctrl-C reaches processes at different steps)."""
    if process_count() == 1:
        return stop
    return bool(_gather(np.array([stop], dtype=np.int32)).any())
