"""Reading checkpoints back: the preferred step, or the newest intact one past damaged steps."""

from __future__ import annotations

import shutil
import sys
import time
from collections.abc import Callable, Iterable
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import jax

from zoo.checkpoint.lazy_orbax import ocp
from zoo.checkpoint.manager import (
    CheckpointError,
    _reason,
    _warn,
    checkpoint_dir,
    open_manager,
)
from zoo.errors import ZooError
from zoo.provenance import key_name, path_name


@dataclass(frozen=True)
class Loaded:
    """A checkpoint read back: its step, the payload saved beside it, and the state."""

    step: int
    payload: dict[str, Any]
    state: Any
    damaged: tuple[int, ...] = ()
    """Newer steps that could not be read and were passed over."""
    data: dict[str, Any] | None = None
    """The input pipeline's saved position (None in checkpoints written before it was kept)."""


def load(
    run_dir: Path,
    target_for: Callable[[dict[str, Any]], Any] | None = None,
    step: int | None = None,
    *,
    prefer: int | None = None,
) -> Loaded:
    """Read the checkpoint at ``step``; by default ``prefer`` (the best step, say) or else the
    newest one, falling back to the newest intact step when those are damaged.

    ``target_for(payload)`` gives the structure to restore the state into (None: payload only).
    A damaged checkpoint (a truncated or missing file, an empty manifest) is named in one
    warning line and left where it is; a damaged ``step`` asked for by number is an error.
    """

    def read(manager: ocp.CheckpointManager, candidate: int, payload: dict[str, Any]) -> Any:
        if target_for is None:
            return None
        target = target_for(payload)
        return manager.restore(
            candidate, args=ocp.args.Composite(state=ocp.args.StandardRestore(target))
        )["state"]

    return _load_with(run_dir, read, step, prefer)


def load_params(
    run_dir: Path,
    names_for: Callable[[dict[str, Any], dict[str, dict[str, Any]]], Iterable[str]],
    step: int | None = None,
    *,
    prefer: int | None = None,
) -> Loaded:
    """Read only some parameters (Orbax partial restore): ``names_for(payload, saved)`` gets
    the payload and the saved parameters' shapes (read from the checkpoint's metadata, before
    any array) and returns the dotted names to read, or raises a ZooError when they do not fit.
    ``Loaded.state`` is then ``{name: array}``; steps are chosen as in ``load``."""

    def read(manager: ocp.CheckpointManager, candidate: int, payload: dict[str, Any]) -> Any:
        saved = _saved_leaves(manager, candidate)
        wanted = list(names_for(payload, _shapes(saved)))
        target: dict[Any, Any] = {}
        for name in wanted:
            path, meta = saved[name]
            node = target
            for key in path[:-1]:
                node = node.setdefault(key, {})
            node[path[-1]] = jax.ShapeDtypeStruct(tuple(meta.shape), meta.dtype)
        if not target:
            return {}
        restored = manager.restore(
            candidate,
            args=ocp.args.Composite(
                state=ocp.args.PyTreeRestore(
                    item={"params": target},
                    restore_args=ocp.checkpoint_utils.construct_restore_args({"params": target}),
                    partial_restore=True,
                )
            ),
        )["state"]["params"]
        return {
            path_name(path): leaf for path, leaf in jax.tree_util.tree_leaves_with_path(restored)
        }

    return _load_with(run_dir, read, step, prefer)


def _saved_leaves(
    manager: ocp.CheckpointManager, step: int
) -> dict[str, tuple[tuple[Any, ...], Any]]:
    """Dotted parameter name -> (its key path, its Orbax ArrayMetadata), read from metadata."""
    directory = Path(manager.directory) / str(step) / "state"
    tree = ocp.PyTreeCheckpointHandler().metadata(directory).tree
    return {
        path_name(path): (tuple(key_name(k) for k in path), meta)
        for path, meta in jax.tree_util.tree_leaves_with_path(tree["params"])
    }


def saved_params(run_dir: Path, step: int | None = None) -> dict[str, dict[str, Any]]:
    """The saved parameters' names, shapes and dtypes at ``step`` (the newest by default), read
    from the checkpoint's metadata without reading any array."""
    with open_manager(run_dir, read_only=True) as manager:
        step = manager.latest_step() if step is None else step
        if step is None:
            raise CheckpointError(f"{run_dir}: no checkpoint found in {checkpoint_dir(run_dir)}.")
        try:
            leaves = _saved_leaves(manager, step)
        except Exception as exc:
            raise DamagedCheckpoint(
                f"{checkpoint_dir(run_dir) / str(step)} is damaged ({_reason(exc)})."
            ) from None
    return _shapes(leaves)


def _shapes(leaves: dict[str, tuple[tuple[Any, ...], Any]]) -> dict[str, dict[str, Any]]:
    """Name -> {shape, dtype}, as ``provenance.param_shapes`` writes them."""
    return {
        name: {"shape": list(m.shape), "dtype": str(m.dtype)} for name, (_, m) in leaves.items()
    }


Reader = Callable[["ocp.CheckpointManager", int, dict[str, Any]], Any]


def _load_with(run_dir: Path, read: Reader, step: int | None, prefer: int | None) -> Loaded:
    damaged: list[int] = []
    notes: list[str] = []
    try:
        return _load(run_dir, read, step, prefer, damaged, notes)
    finally:
        for note in notes:
            _warn(note)


def _load(
    run_dir: Path,
    read: Reader,
    step: int | None,
    prefer: int | None,
    damaged: list[int],
    notes: list[str],
) -> Loaded:
    with open_manager(run_dir, read_only=True) as manager:
        saved = sorted(manager.all_steps(), reverse=True)
        if not saved:
            missing = f"{run_dir}: no checkpoint found in {checkpoint_dir(run_dir)}; train first"
            raise CheckpointError(
                f"{missing} with zoo.run(recipe, workdir={str(run_dir)!r}).",
                cli=f"{missing} with `zoo run RECIPE --workdir {run_dir}`.",
            )
        if step is not None and step not in saved:
            raise CheckpointError(
                f"{run_dir}: no checkpoint at step {step}; saved steps: "
                f"{', '.join(map(str, sorted(saved)))}."
            )
        order = [step] if step is not None else _preferred_order(saved, prefer)
        for candidate in order:
            try:
                payload = dict(
                    manager.restore(
                        candidate, args=ocp.args.Composite(recipe=ocp.args.JsonRestore())
                    )["recipe"]
                )
                state = read(manager, candidate, payload)
                data = _read_data(manager, candidate)
            except ZooError:
                raise  # the payload's recipe no longer builds: not a damaged file
            except Exception as exc:
                reason = _reason(exc)
                damaged.append(candidate)
                if step is not None:
                    raise DamagedCheckpoint(
                        f"{checkpoint_dir(run_dir) / str(candidate)} is damaged ({reason}); "
                        f"saved steps: {', '.join(map(str, sorted(saved)))}."
                    ) from None
                key = (checkpoint_dir(run_dir), candidate)
                if key not in _warned:  # one line per damaged step per process
                    _warned.add(key)
                    notes.append(
                        f"checkpoint step {candidate} in {checkpoint_dir(run_dir)} is damaged "
                        f"({reason}); passing over it (it is kept as it is)."
                    )
                continue
            return Loaded(candidate, payload, state, tuple(damaged), data)
    raise CheckpointError(
        f"{run_dir}: no intact checkpoint; step(s) {', '.join(map(str, damaged))} in "
        f"{checkpoint_dir(run_dir)} are damaged and were left as they are. Start the run "
        "afresh (force=True, --force on the command line, keeps the old one beside it)."
    )


def _read_data(manager: ocp.CheckpointManager, step: int) -> dict[str, Any] | None:
    if "data" not in manager.item_metadata(step):
        return None
    restored = manager.restore(step, args=ocp.args.Composite(data=ocp.args.JsonRestore()))
    return dict(restored["data"])


def _drop_closed_loop_callbacks(unraisable: Any) -> None:
    """When restoring a damaged checkpoint fails, tensorstore still completes the reads in
    flight and their callbacks find Orbax's event loop closed, each reported as an unraisable
    RuntimeError (tens of tracebacks around the one warning that counts). Drop exactly those."""
    error = unraisable.exc_value
    if (
        unraisable.object is None
        and isinstance(error, RuntimeError)
        and str(error) == "Event loop is closed"
    ):
        return
    _previous_unraisablehook(unraisable)


_previous_unraisablehook = sys.unraisablehook
sys.unraisablehook = _drop_closed_loop_callbacks


class DamagedCheckpoint(CheckpointError):
    """A checkpoint asked for by step number cannot be read."""


def _preferred_order(saved: list[int], prefer: int | None) -> list[int]:
    return ([prefer] if prefer in saved else []) + [s for s in saved if s != prefer]


_warned: set[tuple[Path, int]] = set()


def set_aside(run_dir: Path, steps: Iterable[int]) -> list[Path]:
    """Move damaged steps out of the checkpoint folder (never delete them), so a resumed run
    can save those step numbers again; returns where they went."""
    moved = []
    aside = Path(run_dir).absolute() / "checkpoints.damaged"
    for step in steps:
        source = checkpoint_dir(run_dir) / str(step)
        target = aside / f"{step}.{time.strftime('%Y%m%d-%H%M%S')}"
        aside.mkdir(exist_ok=True)
        shutil.move(source, target)
        _warn(f"moved the damaged checkpoint step {step} to {target}.")
        moved.append(target)
    return moved


def read_recipe(run_dir: Path, step: int | None = None) -> dict[str, Any]:
    """The payload saved with a checkpoint (the newest intact one by default)."""
    return load(run_dir, None, step).payload


def restore(run_dir: Path, target: Any, step: int | None = None) -> tuple[int, Any]:
    """Restore the state saved at ``step`` (newest intact by default) into ``target``'s shape."""
    loaded = load(run_dir, lambda payload: target, step)
    return loaded.step, loaded.state
