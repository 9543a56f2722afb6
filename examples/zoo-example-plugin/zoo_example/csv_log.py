"""A training logger: ``logs/history.csv`` in the run directory, one ``step,tag,value`` row each."""

from __future__ import annotations

import csv
from pathlib import Path

from zoo.plugin import Logger

HEADER = ["step", "tag", "value"]


class CsvLog:
    def __init__(self, path: Path, start_step: int) -> None:
        # A resumed run trains the steps after its checkpoint again: drop their rows.
        kept = []
        if start_step and path.is_file():
            with path.open(newline="") as old:
                kept = [row for row in csv.DictReader(old) if int(row["step"]) <= start_step]
        self.file = path.open("w", newline="")
        self.rows = csv.DictWriter(self.file, HEADER)
        self.rows.writeheader()
        self.rows.writerows(kept)

    def scalars(self, step, values):
        self.rows.writerows({"step": step, "tag": tag, "value": v} for tag, v in values.items())
        self.file.flush()

    def images(self, step, images):
        pass  # a CSV file holds numbers

    def close(self):
        self.file.close()


def csv_log(*, directory: Path, start_step: int) -> Logger:
    return CsvLog(Path(directory) / "history.csv", start_step)
