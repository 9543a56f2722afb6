"""Multi-process runs (jax.distributed over local CPU processes): the same numbers as one process
with as many devices, resume, and clear errors instead of hangs.

Each test starts real processes (`zoo launch --local`, `zoo run --coordinator ...`), so they
are among the slower ones; the recipe is the tiny one with a few steps.
"""

from __future__ import annotations

import json
import os
import socket
import subprocess
import sys
from pathlib import Path

import numpy as np
import pytest
import yaml
from tiny import tiny_dict

from zoo import checkpoint
from zoo.checkpoint.restore import load_params
from zoo.distributed import EXIT_NOT_JOINED

STEPS = 3


def write_recipe(tmp_path: Path, *overrides: str) -> Path:
    path = tmp_path / "tiny.yaml"
    raw = tiny_dict(
        f"train.steps={STEPS}",
        "train.log_every=1",
        "train.checkpoint_every=1",
        "data.batch=4",
        *overrides,
    )
    path.write_text(yaml.safe_dump(raw))
    return path


def environment(devices: int) -> dict[str, str]:
    env = dict(os.environ, JAX_PLATFORMS="cpu")
    env["XLA_FLAGS"] = f"--xla_force_host_platform_device_count={devices}"
    return env


def zoo(*args: str, devices: int = 1, timeout: int = 300) -> subprocess.CompletedProcess[str]:
    return subprocess.run(
        [sys.executable, "-m", "zoo", *args],
        env=environment(devices),
        capture_output=True,
        text=True,
        timeout=timeout,
    )


def history(run: Path) -> list[dict[str, float]]:
    return json.loads((run / "metrics.json").read_text())["history"]  # type: ignore[no-any-return]


def final_params(run: Path, step: int) -> dict[str, np.ndarray]:
    loaded = load_params(run, lambda payload, saved: list(saved), step=step)
    return {name: np.asarray(value) for name, value in loaded.state.items()}


def free_port() -> int:
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        return int(probe.getsockname()[1])


def test_two_processes_match_one_process_with_two_devices_and_resume(tmp_path):
    recipe = write_recipe(tmp_path)
    single, double = tmp_path / "one", tmp_path / "two"
    one = zoo("run", str(recipe), "--workdir", str(single), devices=2)
    assert one.returncode == 0, one.stderr
    two = zoo("launch", "--local", "2", str(recipe), "--workdir", str(double))
    assert two.returncode == 0, two.stdout + two.stderr

    ours, theirs = history(double), history(single)
    assert [h["step"] for h in ours] == [h["step"] for h in theirs] == list(range(1, STEPS + 1))
    np.testing.assert_allclose(
        [h["loss"] for h in ours], [h["loss"] for h in theirs], rtol=0, atol=1e-5
    )
    mine, reference = final_params(double, STEPS), final_params(single, STEPS)
    assert mine.keys() == reference.keys()
    for name in reference:
        np.testing.assert_allclose(mine[name], reference[name], rtol=0, atol=1e-5, err_msg=name)
    # Process 0 alone writes the run's files: one report, one metrics.json.
    assert sorted(p.name for p in double.iterdir() if p.is_file()) == sorted(
        p.name for p in single.iterdir() if p.is_file()
    )
    assert logged_steps(double) == list(range(1, STEPS + 1))  # one history line per step

    longer = zoo(
        "launch",
        "--local",
        "2",
        str(recipe),
        f"train.steps={STEPS + 2}",
        "--workdir",
        str(double),
        "--resume",
    )
    assert longer.returncode == 0, longer.stdout + longer.stderr
    resumed = history(double)
    assert [h["step"] for h in resumed] == list(range(1, STEPS + 3))
    assert resumed[: STEPS - 1] == ours[: STEPS - 1]  # the steps before the resumed one stay
    assert checkpoint.latest_step(double) == STEPS + 2
    assert logged_steps(double) == list(range(1, STEPS + 3))
    # Every checkpoint holds the input pipeline's position, once for both processes.
    assert checkpoint.load(double).data["iterator"] == {"next_index": STEPS + 2}


def logged_steps(run: Path) -> list[int]:
    lines = (run / "logs" / "history.jsonl").read_text(encoding="utf-8").splitlines()
    return [json.loads(line)["step"] for line in lines]


def slurm_job_id_with_a_free_port() -> int:
    """A SLURM_JOB_ID whose coordinator port (JAX: 61440 + id % 4096) is free here now."""
    for job_id in range(4096):
        with socket.socket() as probe:
            try:
                probe.bind(("127.0.0.1", 61440 + job_id))
            except OSError:
                continue
            return job_id
    pytest.skip("no free port in 61440-65535 for a simulated SLURM job")


def test_a_slurm_job_is_joined_from_its_environment(tmp_path):
    """What `srun zoo run ...` gives each task (docs/scale.md), simulated with two local tasks:
    no job options, JAX's SLURM detection forms the job."""
    recipe = write_recipe(tmp_path)
    job_id = slurm_job_id_with_a_free_port()
    tasks = []
    for task in range(2):
        env = environment(1) | {
            "SLURM_JOB_ID": str(job_id),
            "SLURM_STEP_NODELIST": "localhost",
            "SLURM_NTASKS": "2",
            "SLURM_PROCID": str(task),
            "SLURM_LOCALID": str(task),
        }
        command = [
            sys.executable,
            "-m",
            "zoo",
            "run",
            str(recipe),
            "--workdir",
            str(tmp_path / "run"),
        ]
        tasks.append(
            subprocess.Popen(
                command, env=env, stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True
            )
        )
    outputs = [task.communicate(timeout=300) for task in tasks]
    for task, (_, err) in zip(tasks, outputs, strict=True):
        assert task.returncode == 0, err
    assert [h["step"] for h in history(tmp_path / "run")] == list(range(1, STEPS + 1))
    assert "Wrote" in outputs[0][1] + outputs[0][0] and "Wrote" not in outputs[1][1] + outputs[1][0]


def test_missing_peer_is_a_clear_error_within_the_join_timeout(tmp_path):
    recipe = write_recipe(tmp_path)
    alone = zoo(
        "run",
        str(recipe),
        "--workdir",
        str(tmp_path / "run"),
        "--coordinator",
        f"127.0.0.1:{free_port()}",
        "--num-processes",
        "2",
        "--process-id",
        "0",
        "--join-timeout",
        "5",
    )
    assert alone.returncode == EXIT_NOT_JOINED, alone.stderr
    assert "1 of 2 processes" in alone.stderr or "process(es)" in alone.stderr, alone.stderr
    assert "5 s" in alone.stderr, alone.stderr
    assert not (tmp_path / "run" / "metrics.json").exists()


def test_coordinator_port_in_use_is_a_clear_error(tmp_path):
    recipe = write_recipe(tmp_path)
    with socket.socket() as taken:
        taken.bind(("127.0.0.1", 0))
        taken.listen()
        port = taken.getsockname()[1]
        result = zoo(
            "run",
            str(recipe),
            "--workdir",
            str(tmp_path / "run"),
            "--coordinator",
            f"127.0.0.1:{port}",
            "--num-processes",
            "2",
            "--process-id",
            "0",
            "--join-timeout",
            "5",
        )
    assert result.returncode != 0
    assert f"127.0.0.1:{port}" in result.stderr and "in use" in result.stderr, result.stderr


def test_processes_given_different_recipes_all_stop_with_a_clear_error(tmp_path):
    recipe = write_recipe(tmp_path)
    port = free_port()
    started = [
        subprocess.Popen(
            [
                sys.executable,
                "-m",
                "zoo",
                "run",
                str(recipe),
                f"train.seed={seed}",
                "--workdir",
                str(tmp_path / "run"),
                "--coordinator",
                f"127.0.0.1:{port}",
                "--num-processes",
                "2",
                "--process-id",
                str(index),
                "--join-timeout",
                "60",
            ],
            env=environment(1),
            stdout=subprocess.PIPE,
            stderr=subprocess.PIPE,
            text=True,
        )
        for index, seed in enumerate([0, 1])
    ]
    outputs = [process.communicate(timeout=200) for process in started]
    for process, (_, err) in zip(started, outputs, strict=True):
        assert process.returncode != 0
        assert "different recipes" in err, err
    assert not (tmp_path / "run" / "metrics.json").exists()


def test_launch_exits_with_the_worst_exit_status(tmp_path):
    recipe = write_recipe(tmp_path)
    bad = zoo("launch", "--local", "2", str(recipe), "train.steps=-1", "--workdir", str(tmp_path))
    assert bad.returncode == 2, bad.stdout + bad.stderr
    assert "train.steps" in bad.stderr


def test_a_partial_job_description_names_what_is_missing(tmp_path):
    recipe = write_recipe(tmp_path)
    result = zoo("run", str(recipe), "--num-processes", "2", "--workdir", str(tmp_path / "r"))
    assert result.returncode == 2
    assert "--coordinator" in result.stderr and "--process-id" in result.stderr, result.stderr


@pytest.mark.parametrize("status, expected", [(0, 0), (3, 3), (-9, 137), (-15, 143)])
def test_exit_status_reads_signals_as_a_shell_does(status, expected):
    from zoo.launch import exit_status

    assert exit_status(status) == expected
