"""`zoo upscale` on many files: plan the outputs, upscale each input, report what happened.

The guarantees (docs/reliability.md):

- Nothing half-written: each PNG is written atomically (``images.write_png``), so an output
  that exists is complete, and a rerun skips it (``--force`` rewrites it).
- Bad inputs do not stop the batch: each one that cannot be read (not an image, truncated,
  unreadable) is reported at the end, one line each, and the good ones are written. An output
  that cannot be written (a full disk, no permission) does stop it, since the next would fail
  alike, and says how many inputs were left.
- Nothing skipped without a word: outputs that already exist are counted, and files in a folder
  whose extension zoo does not read (``.gif``, ``.webp``...) are named in one line.

Exit codes: 0, every output is there; 1 (``EXIT_SOME_FAILED``), some inputs failed (the rest
were written or already there) or an output could not be written; 2 (a ``ZooError``), the
command could not start (a missing input, an impossible ``-o``, no model) and nothing was
written.
"""

from __future__ import annotations

from collections.abc import Callable, Sequence
from dataclasses import dataclass, field
from pathlib import Path

import numpy as np

from zoo import images
from zoo.errors import DataError, ZooError

EXIT_SOME_FAILED = 1
OUTPUT_SUFFIX = ".png"  # what zoo writes
# Image formats that zoo does not read from a folder: named, not skipped in silence. Together
# with images.EXTENSIONS they make an "image name" for -o.
OTHER_IMAGE_EXTENSIONS = frozenset(
    {
        ".gif", ".webp", ".avif", ".heic", ".heif", ".jxl", ".jp2", ".j2k", ".jfif", ".jpe",
        ".apng", ".ico", ".psd", ".tga", ".ppm", ".pgm", ".pbm", ".pnm", ".pcx", ".qoi",
        ".exr", ".hdr", ".dng", ".cr2", ".nef", ".arw", ".raw", ".svg",
    }
)  # fmt: skip


@dataclass(frozen=True)
class Job:
    source: Path
    target: Path


@dataclass
class Plan:
    """What one `zoo upscale` will do, decided before the model is loaded."""

    jobs: list[Job]  # outputs to write
    existing: list[Job]  # outputs already there, left alone (without --force)
    unsupported: list[Path]  # files in the input folders with an image extension zoo does not read
    destination: Path  # the output folder, or the output file when -o names one
    single_file: bool  # -o names the output file

    @property
    def folder(self) -> Path:
        """The folder the outputs go to (created when missing)."""
        return self.destination.parent if self.single_file else self.destination


@dataclass(frozen=True)
class Failure:
    source: Path
    reason: str  # one line that names the file


@dataclass
class Outcome:
    written: list[Path] = field(default_factory=list)
    failed: list[Failure] = field(default_factory=list)  # inputs that could not be read
    stopped: str | None = None  # why the batch stopped early: an output could not be written
    not_attempted: int = 0  # inputs left when it stopped

    @property
    def exit_code(self) -> int:
        return EXIT_SOME_FAILED if self.failed or self.stopped else 0


def is_image_name(path: Path) -> bool:
    suffix = path.suffix.lower()
    return suffix in images.EXTENSIONS or suffix in OTHER_IMAGE_EXTENSIONS


def plan(inputs: Sequence[Path], output: Path, *, force: bool = False) -> Plan:
    """Which input goes to which output; ``DataError`` (nothing can start) for a missing input,
    an ``-o`` that cannot hold the outputs, or two inputs that would write one output.

    Files named on the command line are tried whatever their extension; folders give the files
    ``images.list_images`` reads (sorted), and the other image files in them are listed in
    ``unsupported``. ``-o x.png`` with one input file writes that file; any other ``-o`` is a
    folder, created when missing.
    """
    sources: list[Path] = []
    unsupported: list[Path] = []
    for item in inputs:
        if item.is_dir():
            found = images.list_images(item)
            others = _unsupported_in(item)
            if not found:
                looked = ", ".join(sorted(images.EXTENSIONS))
                held = ", ".join(path.name for path in others)
                also = f"; it holds {held}, which zoo does not read: convert them" if others else ""
                raise DataError(f"{item}: no images here (looked for {looked}){also}.")
            sources += found
            unsupported += others
        elif item.is_file():
            sources.append(item)
        else:
            raise DataError(f"{item}: no such file or folder.")
    sources = list({path.resolve(): path for path in sources}.values())  # a file given twice
    single_file = _names_a_file(output, inputs, len(sources))
    if single_file:
        targets = [output]
    else:
        targets = [output / f"{path.stem}{OUTPUT_SUFFIX}" for path in sources]
    _check_targets(sources, targets)
    for target in targets:
        if target.exists() and not target.is_file():
            raise DataError(f"{target}: is in the way of an output (a folder); move it away.")
    pairs = [Job(source, target) for source, target in zip(sources, targets, strict=True)]
    existing = [] if force else [job for job in pairs if job.target.is_file()]
    jobs = [job for job in pairs if job not in existing]
    return Plan(jobs, existing, unsupported, output, single_file)


def _names_a_file(output: Path, inputs: Sequence[Path], count: int) -> bool:
    """Whether ``-o`` names the output file; ``DataError`` when it can be neither."""
    if output.is_dir():
        return False
    suffix = output.suffix.lower()
    if suffix == OUTPUT_SUFFIX:
        if len(inputs) == 1 and count == 1 and not inputs[0].is_dir():
            return True
        raise DataError(
            f"-o {output}: names one output file, which takes exactly one input file; for a "
            f"folder or several files give an output folder (e.g. -o {output.with_suffix('')}/)."
        )
    if is_image_name(output):
        raise DataError(
            f"-o {output}: zoo writes PNG files only; name the output "
            f"{output.with_suffix(OUTPUT_SUFFIX)} or give an output folder."
        )
    if output.exists():
        raise DataError(
            f"-o {output}: exists and is not a folder; give an output folder "
            f"(created if missing){' or a .png file name' if count == 1 else ''}."
        )
    return False


def _check_targets(sources: list[Path], targets: list[Path]) -> None:
    by_target: dict[Path, Path] = {}
    for source, target in zip(sources, targets, strict=True):
        if target.resolve() == source.resolve():
            raise DataError(
                f"{source}: its output would replace it; choose another -o (or rename the input)."
            )
        if target in by_target:
            raise DataError(
                f"{by_target[target]} and {source} would both be written to {target}; "
                "upscale them into separate -o folders."
            )
        by_target[target] = source


def _unsupported_in(folder: Path) -> list[Path]:
    """Image files in ``folder`` that zoo does not read (not hidden ones: macOS '._' files)."""
    return sorted(
        path
        for path in folder.iterdir()
        if path.suffix.lower() in OTHER_IMAGE_EXTENSIONS
        and not path.name.startswith(".")
        and path.is_file()
    )


def _unsupported_line(paths: Sequence[Path]) -> str:
    names = ", ".join(path.name for path in paths)
    reads = " ".join(sorted(images.EXTENSIONS))
    return (
        f"skipped {_count(len(paths), 'unsupported file')}: {names} (zoo reads {reads} from "
        "a folder; convert them, or name one as an input to try it)"
    )


def _count(n: int, noun: str) -> str:
    return f"{n} {noun}{'' if n == 1 else 's'}"


def run(
    work: Plan,
    upscale: Callable[[np.ndarray], np.ndarray],
    *,
    progress: bool = True,
    desc: str = "upscale",
) -> Outcome:
    """Upscale and write each planned job. An input that cannot be read becomes a ``Failure``
    and the batch goes on; an output that cannot be written (a full disk, no permission) stops
    it, since the next one would fail alike. ``DataError`` when the output folder cannot be
    made."""
    from tqdm.auto import tqdm

    outcome = Outcome()
    if work.jobs:
        try:
            work.folder.mkdir(parents=True, exist_ok=True)
        except OSError as exc:
            raise DataError(f"-o {work.folder}: cannot create the folder ({exc}).") from exc
    bar = tqdm(work.jobs, unit="image", desc=desc, disable=not (progress and work.jobs))
    for done, job in enumerate(bar):
        try:
            image = images.read_image(job.source)
        except DataError as exc:
            outcome.failed.append(Failure(job.source, str(exc)))
            continue
        high = upscale(image)
        try:
            images.write_png(job.target, high)
        except OSError as exc:  # zoo.atomic names the file in its error; a plain one does not
            named = isinstance(exc, ZooError)
            outcome.stopped = str(exc) if named else f"{job.target}: cannot write it ({exc})."
            outcome.not_attempted = len(work.jobs) - done
            break
        outcome.written.append(job.target)
    bar.close()
    return outcome


def report(work: Plan, outcome: Outcome, *, model: str) -> tuple[list[str], list[str]]:
    """The lines to print: what was done (stdout) and the failures, if any (stderr)."""
    where = work.destination
    lines = []
    if work.single_file:
        if outcome.written:
            lines.append(f"Wrote {where} ({model}).")
        if work.existing:
            lines.append(f"Skipped {where}: it already exists (--force rewrites it).")
    else:
        if outcome.written or not work.existing:
            lines.append(f"Wrote {len(outcome.written)} image(s) to {where} ({model}).")
        if work.existing:
            many = len(work.existing) != 1
            lines.append(
                f"Skipped {_count(len(work.existing), 'output')} that already "
                f"exist{'' if many else 's'} in {where} (--force rewrites "
                f"{'them' if many else 'it'})."
            )
    if work.unsupported:
        line = _unsupported_line(work.unsupported)
        lines.append(f"{line[0].upper()}{line[1:]}.")
    errors = []
    total = len(work.jobs) + len(work.existing)
    if len(outcome.failed) == 1 and total == 1:
        errors.append(f"Error: {outcome.failed[0].reason}")
    elif outcome.failed:
        errors.append(
            f"Error: {len(outcome.failed)} of {_count(total, 'input')} failed; the others are "
            "done, and a rerun after fixing these skips them:"
        )
        errors += [f"  {failure.reason}" for failure in outcome.failed]
    if outcome.stopped:
        errors.append(f"Error: {outcome.stopped}")
        errors.append(
            f"Stopped there: {_count(outcome.not_attempted, 'input')} not written. Once that "
            "is fixed, the same command finishes the batch (finished outputs are skipped)."
        )
    return lines, errors
