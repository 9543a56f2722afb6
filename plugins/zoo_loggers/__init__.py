"""Built-in training loggers: jsonl (the run's history, always on) and tensorboard."""

from __future__ import annotations

from zoo.plugin import Register, hookimpl


@hookimpl
def register_loggers(register: Register) -> None:
    # Imported here, when zoo asks for loggers, not when it loads the plugin (`zoo --help`).
    from zoo_loggers import jsonl, tensorboard

    register(
        "jsonl",
        jsonl.factory,
        description="logs/history.jsonl: one JSON line per logged step (always on)",
    )
    register(
        "tensorboard",
        tensorboard.factory,
        description="logs/tensorboard: scalars and side-by-side crops for TensorBoard",
    )
