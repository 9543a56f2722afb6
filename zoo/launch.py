"""`zoo launch --local N`: N processes of one `zoo run` job on this machine, one CPU device each.

For trying multi-process training without a cluster: the processes join through JAX's own
runtime (``--coordinator 127.0.0.1:PORT``) exactly as they would across hosts. Process 0 speaks
on the terminal; the others' lines are prefixed with their id. When one process fails the others
are given ``grace`` seconds and then stopped, since a job missing a member can only wait.
"""

from __future__ import annotations

import os
import signal
import subprocess
import sys
import threading
import time
from collections.abc import Sequence
from typing import IO

from zoo.distributed import free_port

FORCED_DEVICES = "--xla_force_host_platform_device_count"


def child_environment(base: dict[str, str] | None = None) -> dict[str, str]:
    """The environment of each local process: the CPU, one device (a forced device count in
    XLA_FLAGS would multiply the devices of every process)."""
    env = dict(os.environ if base is None else base)
    env["JAX_PLATFORMS"] = "cpu"
    flags = [
        flag for flag in env.get("XLA_FLAGS", "").split() if not flag.startswith(FORCED_DEVICES)
    ]
    env["XLA_FLAGS"] = " ".join(flags)
    return env


def commands(
    count: int, run_args: Sequence[str], *, port: int, join_timeout: int
) -> list[list[str]]:
    """The `zoo run` command line of each process."""
    return [
        [
            sys.executable,
            "-m",
            "zoo",
            "run",
            *run_args,
            "--coordinator",
            f"127.0.0.1:{port}",
            "--num-processes",
            str(count),
            "--process-id",
            str(index),
            "--join-timeout",
            str(join_timeout),
        ]
        for index in range(count)
    ]


def exit_status(code: int) -> int:
    """A shell's view of a child's return code: a signal N is 128 + N."""
    return 128 - code if code < 0 else code


def run_local(
    count: int, run_args: Sequence[str], *, join_timeout: int = 120, grace: float = 10.0
) -> int:
    """Start ``count`` processes of `zoo run RUN_ARGS`, wait for all, return the worst status."""
    env = child_environment()
    lines = commands(count, run_args, port=free_port(), join_timeout=join_timeout)
    processes: list[subprocess.Popen[bytes]] = []
    pumps: list[threading.Thread] = []
    for index, command in enumerate(lines):
        quiet = index > 0
        # Their own session: a Ctrl-C on the terminal reaches launch alone, which passes it on
        # once, so every process takes the same (first) interrupt.
        process = subprocess.Popen(
            command,
            env=env,
            stdout=subprocess.PIPE if quiet else None,
            stderr=subprocess.STDOUT if quiet else None,
            start_new_session=True,
        )
        processes.append(process)
        if quiet:
            assert process.stdout is not None
            pump = threading.Thread(target=_prefix, args=(process.stdout, index), daemon=True)
            pump.start()
            pumps.append(pump)
    previous = signal.signal(signal.SIGINT, lambda *_: _signal_all(processes, signal.SIGINT))
    try:
        codes = _wait_all(processes, grace)
    finally:
        signal.signal(signal.SIGINT, previous)
        for pump in pumps:
            pump.join(timeout=5)
    return max(exit_status(code) for code in codes)


def _prefix(stream: IO[bytes], index: int) -> None:
    for line in iter(stream.readline, b""):
        sys.stderr.write(f"[process {index}] {line.decode(errors='replace')}")
        sys.stderr.flush()


def _signal_all(processes: Sequence[subprocess.Popen[bytes]], sig: int) -> None:
    for process in processes:
        if process.poll() is None:
            process.send_signal(sig)


def _wait_all(processes: Sequence[subprocess.Popen[bytes]], grace: float) -> list[int]:
    """Every return code; after the first failure the rest get ``grace`` seconds to finish."""
    deadline: float | None = None
    while True:
        codes = [process.poll() for process in processes]
        if all(code is not None for code in codes):
            return [code for code in codes if code is not None]
        if deadline is None and any(code not in (None, 0) for code in codes):
            deadline = time.monotonic() + grace
        if deadline is not None and time.monotonic() > deadline:
            failed = [i for i, code in enumerate(codes) if code not in (None, 0)]
            waiting = [i for i, code in enumerate(codes) if code is None]
            print(
                f"zoo launch: process {failed[0]} failed; stopping process(es) "
                f"{', '.join(map(str, waiting))}, which cannot go on without it.",
                file=sys.stderr,
            )
            _signal_all(processes, signal.SIGTERM)
            for process in processes:
                try:
                    process.wait(timeout=grace)
                except subprocess.TimeoutExpired:
                    process.kill()
            deadline = float("inf")
        time.sleep(0.2)
