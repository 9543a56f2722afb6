"""The jsonl logger: ``logs/history.jsonl``, one line per logged step, as metrics.json keeps it.

A line holds the step and the history's names (``loss``, ``eval_psnr``) plus the learning rate
and step time: ``train/loss`` is written ``loss`` and ``eval/psnr`` ``eval_psnr``.
"""

from __future__ import annotations

import json
from collections.abc import Mapping
from pathlib import Path

import numpy as np

from zoo.plugin import Logger, write_text

FILE = "history.jsonl"


def history_name(tag: str) -> str:
    group, _, name = tag.partition("/")
    if not name:
        return group
    return name if group == "train" else f"{group}_{name}"


class JsonLines:
    def __init__(self, path: Path, start_step: int) -> None:
        self.path = path
        # A resumed run trains the steps after its checkpoint again: their lines go.
        kept = lines_until(path, start_step) if start_step else []
        write_text(path, "".join(kept))
        self.file = path.open("a", encoding="utf-8")

    def scalars(self, step: int, values: Mapping[str, float]) -> None:
        line = {"step": step, **{history_name(tag): float(v) for tag, v in values.items()}}
        self.file.write(json.dumps(line) + "\n")
        self.file.flush()  # a line per logged step, readable while training (tail -f)

    def images(self, step: int, images: Mapping[str, np.ndarray]) -> None:
        """Images are for the report and TensorBoard; the history holds numbers only."""

    def close(self) -> None:
        self.file.close()


def lines_until(path: Path, step: int) -> list[str]:
    if not path.is_file():
        return []
    kept = []
    for line in path.read_text(encoding="utf-8").splitlines(keepends=True):
        try:
            if json.loads(line)["step"] <= step:
                kept.append(line)
        except (ValueError, KeyError, TypeError):
            break  # a line cut short by a kill: it and anything after it were never whole
    return kept


def factory(*, directory: Path, start_step: int) -> Logger:
    return JsonLines(Path(directory) / FILE, start_step)
