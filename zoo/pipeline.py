"""The training input pipeline on Grain: step -> this process's rows of the HR (and host LR) batch.

The source is random-access by step (``grain.MapDataset.range``): step ``s`` maps to the patches
``data.PatchSampler`` cuts for ``s``, so a process cuts only the rows its own devices hold, and a
host-side degradation (JPEG) spoils each row with a key of (seed, step, row), the same whichever
process does it. Grain runs the map ahead of the step in threads, or in ``data.workers`` worker
processes, and its iterator state is what a checkpoint saves (``state``/``restore_state``).
"""

from __future__ import annotations

import gc
import threading
from collections.abc import Iterator, Sequence
from dataclasses import dataclass, field
from typing import Any

import grain
import jax
import jax.numpy as jnp
import numpy as np
from absl import flags
from jax.sharding import NamedSharding

from zoo.data import PatchSampler
from zoo.recipe import PluginRef

Batch = dict[str, np.ndarray]
_building = threading.Lock()


def process_rows(sharding: NamedSharding, shape: Sequence[int]) -> tuple[int, ...]:
    """The batch rows (first axis) that this process's devices hold under ``sharding``."""
    rows: set[int] = set()
    for index in sharding.addressable_devices_indices_map(tuple(shape)).values():
        rows.update(range(shape[0])[index[0]] if index is not None else range(shape[0]))
    return tuple(sorted(rows))


@dataclass
class HostDegradation:
    """A degradation that runs outside the compiled step, rebuilt from its recipe entry where
    it runs: a worker process gets the name and options (picklable), not the built function."""

    ref: PluginRef
    scale: int
    seed: int
    _fn: Any = field(default=None, repr=False, compare=False)

    def __getstate__(self) -> dict[str, Any]:
        return {"ref": self.ref, "scale": self.scale, "seed": self.seed, "_fn": None}

    def fn(self) -> Any:
        with _building:  # Grain's threads share this object
            if self._fn is None:
                from zoo.assemble import build_degradation
                from zoo.registry import get_registry

                self._fn = build_degradation(get_registry(), self.ref, self.scale).fn
        return self._fn

    def __call__(self, hr: np.ndarray, step: int, rows: Sequence[int]) -> np.ndarray:
        """LR rows for uint8 HR rows of ``step``, each row keyed by its place in the batch."""
        degrade = self.fn()
        step_key = jax.random.fold_in(jax.random.key(self.seed), step)
        out = [
            np.asarray(degrade(jnp.asarray(row[None], jnp.float32) / 255.0, row_key(step_key, r)))
            for row, r in zip(hr, rows, strict=True)
        ]
        return np.concatenate(out)


def row_key(step_key: jax.Array, row: int) -> jax.Array:
    return jax.random.fold_in(step_key, row)


@dataclass
class BatchAt:
    """Grain's map transform: step -> {"hr": rows [, "lr": rows]} (picklable for workers)."""

    sampler: PatchSampler
    rows: tuple[int, ...]
    degrade: HostDegradation | None = None

    def __call__(self, step: int) -> Batch:
        hr = self.sampler.batch_at(int(step), self.rows)
        if self.degrade is None:
            return {"hr": hr}
        return {"hr": hr, "lr": self.degrade(hr, int(step), self.rows)}


@dataclass(frozen=True)
class Options:
    steps: int
    """Steps in the run: the source's length."""
    workers: int = 0
    """Worker processes for the map; 0: threads in this process."""
    prefetch: int = 2
    """Batches prepared ahead of the step."""


def dataset(batch_at: BatchAt, options: Options, start: int = 0) -> grain.IterDataset:
    """The steps ``start .. steps-1`` mapped to batches, prepared ahead of the consumer."""
    source = grain.MapDataset.range(start, max(start, options.steps)).map(batch_at)
    if not options.workers:
        threads = grain.ReadOptions(
            num_threads=options.prefetch, prefetch_buffer_size=options.prefetch
        )
        return source.to_iter_dataset(threads)
    # Grain reads absl flags in its worker processes; a library caller has parsed none.
    if not flags.FLAGS.is_parsed():
        flags.FLAGS.mark_as_parsed()
    in_worker = grain.ReadOptions(num_threads=0, prefetch_buffer_size=0)
    workers = grain.MultiprocessingOptions(
        num_workers=options.workers, per_worker_buffer_size=options.prefetch
    )
    return source.to_iter_dataset(in_worker).mp_prefetch(workers)


class Batches:
    """The run's batches in step order, and the iterator state a checkpoint keeps.

    The state is the same on every process (it counts steps; rows do not enter it), so one copy
    is saved, and it restores with another number of processes. A state saved under another
    ``data.workers`` (threads and worker processes keep different states) is not reused: the
    pipeline starts afresh at the checkpoint's step, which yields the same batches."""

    def __init__(
        self, batch_at: BatchAt, options: Options, step: int, saved: dict[str, Any] | None = None
    ) -> None:
        usable = saved is not None and saved.get("workers") == options.workers
        self.start = int(saved["start"]) if usable and saved else step
        self.batch_at = batch_at
        self.next_step = step
        """The step whose batch ``next`` hands out."""
        self.options = options
        self._iterator: Any = iter(dataset(batch_at, options, self.start))
        self._closed_at: Any = None
        if usable and saved:
            self._iterator.set_state(saved["iterator"])

    def __iter__(self) -> Iterator[Batch]:
        return self

    def __next__(self) -> Batch:
        # Worker processes hand batches over in shared memory that Grain unmaps when the array
        # is freed; the step may still read a buffer it was given (JAX on the CPU can alias
        # host memory), so the step gets a plain copy (a batch is small next to a step).
        batch = {name: np.array(rows) for name, rows in next(self._iterator).items()}
        self.next_step += 1
        return batch

    def state(self) -> dict[str, Any]:
        """What a checkpoint saves (JSON) to continue exactly here."""
        return {
            "start": self.start,
            "workers": self.options.workers,
            "iterator": self._closed_at if self._iterator is None else self._iterator.get_state(),
        }

    def close(self) -> None:
        # Stops Grain's threads or worker processes now rather than at interpreter exit,
        # where their teardown prints errors.
        if self._iterator is None:
            return
        self._closed_at = self._iterator.get_state()
        self._iterator.close()
        if self.options.workers:
            # The worker pool's semaphores are freed by the garbage collector; collected later
            # (inside TFDS's lazy-import block, say) their finalizers fail to import.
            self._iterator = None
            gc.collect()
