"""`zoo upscale` on many files: nothing half-written, bad files reported together, reruns resume.

Every case runs the real command (click's CliRunner on zoo.cli.cli) with the session's tiny
trained run (conftest.py's ``trained_tiny``). The images are 12x16, one shape, so the model
compiles once (and the persistent cache keeps it across sessions). docs/reliability.md says what
these tests show.
"""

from __future__ import annotations

import errno
import os
from pathlib import Path

import numpy as np
import pytest
from click.testing import CliRunner, Result
from PIL import Image

from zoo.cli import cli

SIZE = (12, 16)  # LR height, width; the x2 output is 32 wide, 24 high


def photo(path: Path, seed: int = 0) -> Path:
    """A small smooth RGB image, saved in the format its name says."""
    rng = np.random.default_rng(seed)
    base = rng.random((SIZE[0] // 4, SIZE[1] // 4, 3))
    pixels = np.kron(base, np.ones((4, 4, 1))) * 200 + 20
    path.parent.mkdir(parents=True, exist_ok=True)
    Image.fromarray(pixels.astype(np.uint8)).save(path)
    return path


def truncated(path: Path) -> Path:
    photo(path, seed=9)
    path.write_bytes(path.read_bytes()[:-60])
    return path


def upscale(run: Path, *args: str | Path) -> Result:
    return CliRunner().invoke(cli, ["upscale", "--checkpoint", str(run), *map(str, args)])


def error_lines(result: Result) -> list[str]:
    """What stderr says, less the progress bar ("x2: 40%|...")."""
    return [line for line in result.stderr.splitlines() if line.strip() and "image/s" not in line]


def assert_upscaled(path: Path) -> None:
    with Image.open(path) as image:
        assert image.format == "PNG" and image.mode == "RGB"
        assert image.size == (2 * SIZE[1], 2 * SIZE[0])


def names(folder: Path) -> list[str]:
    """Everything in ``folder``, hidden files (temporaries) included."""
    return sorted(p.name for p in folder.iterdir())


# ---------------------------------------------------------------------------------------------
# -o: a file or a folder


def test_o_png_with_one_input_file_writes_that_file(trained_tiny, tmp_path):
    source = photo(tmp_path / "in" / "photo.jpg")
    target = tmp_path / "out" / "big.png"  # its folder is made too
    result = upscale(trained_tiny, source, "-o", target)
    assert result.exit_code == 0, result.output
    assert target.is_file() and names(target.parent) == ["big.png"]
    assert_upscaled(target)
    assert f"Wrote {target}" in result.output
    # Rerun: the file is there and complete, so it is skipped; --force rewrites it.
    target.write_bytes(b"kept")
    result = upscale(trained_tiny, source, "-o", target)
    assert result.exit_code == 0, result.output
    assert "Skipped" in result.output and "--force" in result.output
    assert target.read_bytes() == b"kept"
    assert upscale(trained_tiny, source, "-o", target, "--force").exit_code == 0
    assert_upscaled(target)


@pytest.mark.parametrize("suffix", [".jpg", ".TIF", ".webp"])
def test_o_with_another_image_suffix_is_a_one_line_error(trained_tiny, tmp_path, suffix):
    """zoo writes PNG: a .jpg name would hold a PNG, so it is refused, not obeyed."""
    source = photo(tmp_path / "photo.png")
    result = upscale(trained_tiny, source, "-o", tmp_path / f"out{suffix}")
    assert result.exit_code == 2, result.output
    (line,) = error_lines(result)
    assert "PNG" in line and "out.png" in line and "Traceback" not in result.output
    assert names(tmp_path) == ["photo.png"]  # no folder named out.jpg


def test_o_png_with_several_inputs_or_a_folder_is_a_one_line_error(trained_tiny, tmp_path):
    a, b = photo(tmp_path / "in" / "a.png"), photo(tmp_path / "in" / "b.png", seed=1)
    existing = tmp_path / "existing.png"
    existing.write_bytes(b"precious")
    for inputs in ([a, b], [tmp_path / "in"]):
        for target in (existing, tmp_path / "new.png"):
            result = upscale(trained_tiny, *inputs, "-o", target)
            assert result.exit_code == 2, result.output
            (line,) = error_lines(result)
            assert f"-o {target}" in line and "output folder" in line
            assert "Traceback" not in result.output
    assert existing.read_bytes() == b"precious"
    assert not (tmp_path / "new.png").exists()


def test_o_naming_an_existing_file_that_is_not_an_image_is_a_one_line_error(trained_tiny, tmp_path):
    source = photo(tmp_path / "photo.png")
    notes = tmp_path / "notes.txt"
    notes.write_text("mine")
    result = upscale(trained_tiny, source, "-o", notes)
    assert result.exit_code == 2, result.output
    (line,) = error_lines(result)
    assert "not a folder" in line and "Traceback" not in result.output
    assert notes.read_text() == "mine"


def test_o_may_not_replace_an_input(trained_tiny, tmp_path):
    folder = tmp_path / "in"
    photo(folder / "a.png")
    for args in ([folder, "-o", folder, "--force"], [folder / "a.png", "-o", folder / "a.png"]):
        result = upscale(trained_tiny, *args)
        assert result.exit_code == 2, result.output
        assert "would replace it" in result.output
    with Image.open(folder / "a.png") as image:
        assert image.size == (SIZE[1], SIZE[0])  # the input, untouched


# ---------------------------------------------------------------------------------------------
# Many files: bad ones reported together, reruns resume


@pytest.fixture
def mixed_folder(tmp_path) -> tuple[Path, list[str], list[str]]:
    """A folder of good and bad images: (folder, good stems, bad file names)."""
    folder = tmp_path / "in"
    photo(folder / "a.png")
    photo(folder / "b.jpg", seed=1)
    photo(folder / "e.bmp", seed=2)
    (folder / "c.png").write_text("text with an image's name")
    truncated(folder / "d.png")
    bad = ["c.png", "d.png"]
    if os.geteuid() != 0:  # root reads any file, whatever its permissions
        photo(folder / "f.png", seed=3).chmod(0)
        bad.append("f.png")
    return folder, ["a", "b", "e"], bad


def test_bad_files_are_reported_together_and_the_good_ones_written(
    trained_tiny, tmp_path, mixed_folder
):
    folder, good, bad = mixed_folder
    out = tmp_path / "out"
    result = upscale(trained_tiny, folder, "-o", out)
    assert result.exit_code == 1, result.output  # 1: some inputs failed
    assert "Traceback" not in result.output
    assert names(out) == [f"{stem}.png" for stem in good]  # no temporaries, no partial files
    for stem in good:
        assert_upscaled(out / f"{stem}.png")
    assert f"Wrote {len(good)} image(s) to {out}" in result.stdout
    header, *reasons = error_lines(result)
    assert f"{len(bad)} of {len(good) + len(bad)} inputs failed" in header
    assert len(reasons) == len(bad)  # one line each, naming the file and why
    for name, line in zip(bad, reasons, strict=True):
        assert str(folder / name) in line
    assert "not an image" in reasons[0] and "damaged or incomplete" in reasons[1]


def test_a_rerun_skips_complete_outputs_and_force_rewrites_them(
    trained_tiny, tmp_path, mixed_folder
):
    folder, good, bad = mixed_folder
    out = tmp_path / "out"
    assert upscale(trained_tiny, folder, "-o", out).exit_code == 1
    (out / "a.png").write_bytes(b"kept")  # whatever is there is taken as done
    result = upscale(trained_tiny, folder, "-o", out)
    assert result.exit_code == 1, result.output  # the bad files still fail, and say so again
    assert f"Skipped {len(good)} outputs that already exist in {out}" in result.stdout
    assert "Wrote" not in result.stdout
    assert f"{len(bad)} of {len(good) + len(bad)} inputs failed" in result.stderr
    assert (out / "a.png").read_bytes() == b"kept"

    for name in bad:  # fix the bad inputs: the rerun writes only those
        (folder / name).unlink()
        photo(folder / name, seed=5)
    result = upscale(trained_tiny, folder, "-o", out)
    assert result.exit_code == 0, result.output
    assert f"Wrote {len(bad)} image(s)" in result.stdout
    assert f"Skipped {len(good)} outputs" in result.stdout
    assert (out / "a.png").read_bytes() == b"kept"

    result = upscale(trained_tiny, folder, "-o", out, "--force")
    assert result.exit_code == 0, result.output
    assert f"Wrote {len(good) + len(bad)} image(s)" in result.stdout
    assert "Skipped" not in result.stdout
    assert_upscaled(out / "a.png")


def fail_the_second_save(patch: pytest.MonkeyPatch, fail) -> list:
    """Make the second PNG written call ``fail(file)`` (which raises) instead of saving;
    returns the list of files saves were asked to write."""
    save = Image.Image.save
    calls = []

    def second_fails(self, fp, *args, **kwargs):
        calls.append(fp)
        if len(calls) == 2:
            fail(fp)
        return save(self, fp, *args, **kwargs)

    patch.setattr(Image.Image, "save", second_fails)
    return calls


def test_an_interrupted_batch_leaves_whole_files_and_the_rerun_finishes_it(
    trained_tiny, tmp_path, monkeypatch
):
    """Ctrl-C while the second PNG is being written: the first is whole, the second absent
    (no temporary left behind either), and the rerun writes the rest."""
    folder = tmp_path / "in"
    for seed, stem in enumerate("abc"):
        photo(folder / f"{stem}.png", seed=seed)
    out = tmp_path / "out"

    def interrupt(fp):
        fp.write(b"\x89PNG half")
        raise KeyboardInterrupt

    with monkeypatch.context() as patch:
        fail_the_second_save(patch, interrupt)
        result = upscale(trained_tiny, folder, "-o", out)
    assert result.exit_code != 0, result.output  # click: "Aborted!", exit 1
    assert names(out) == ["a.png"]
    assert_upscaled(out / "a.png")
    result = upscale(trained_tiny, folder, "-o", out)
    assert result.exit_code == 0, result.output
    assert "Wrote 2 image(s)" in result.stdout and "Skipped 1 output that" in result.stdout
    assert names(out) == ["a.png", "b.png", "c.png"]


def test_a_full_disk_stops_the_batch_and_says_what_is_left(trained_tiny, tmp_path, monkeypatch):
    """An output that cannot be written stops the batch (the next would fail alike); exit 1, and
    the rerun, once there is room, finishes it."""
    folder = tmp_path / "in"
    for seed, stem in enumerate("abcd"):
        photo(folder / f"{stem}.png", seed=seed)
    out = tmp_path / "out"

    def full_disk(fp):
        raise OSError(errno.ENOSPC, "No space left on device")

    with monkeypatch.context() as patch:
        calls = fail_the_second_save(patch, full_disk)
        result = upscale(trained_tiny, folder, "-o", out)
    assert result.exit_code == 1, result.output
    assert len(calls) == 2 and names(out) == ["a.png"]  # stopped: c and d not tried
    first, second = error_lines(result)
    assert str(out / "b.png") in first and "No space left on device" in first
    assert "3 inputs not written" in second and "Traceback" not in result.output
    result = upscale(trained_tiny, folder, "-o", out)
    assert result.exit_code == 0, result.output
    assert "Wrote 3 image(s)" in result.stdout and "Skipped 1 output that" in result.stdout


def test_unsupported_files_in_a_folder_are_named_in_one_line(trained_tiny, tmp_path):
    folder = tmp_path / "in"
    photo(folder / "a.png")
    photo(folder / "x.gif", seed=1)
    photo(folder / "y.webp", seed=2)
    (folder / "README.txt").write_text("not an image, and obviously so: not mentioned")
    photo(folder / ".hidden.png", seed=3)  # hidden (macOS '._' files): not mentioned
    out = tmp_path / "out"
    result = upscale(trained_tiny, folder, "-o", out)
    assert result.exit_code == 0, result.output
    assert names(out) == ["a.png"]
    lines = [line for line in result.stdout.splitlines() if "unsupported file" in line]
    assert len(lines) == 1 and lines[0].startswith("Skipped 2 unsupported files: x.gif, y.webp")
    assert "README" not in result.output and "hidden" not in result.output


def test_nothing_can_start_exits_2_and_writes_nothing(trained_tiny, tmp_path):
    source = photo(tmp_path / "photo.png")
    out = tmp_path / "out"
    (out / "x.png").mkdir(parents=True)  # a folder where x.png's output would go
    cases = {
        "missing input": (trained_tiny, source, tmp_path / "nope.png"),
        "missing run": (tmp_path / "no_run", source),
        "colliding names": (trained_tiny, source, photo(tmp_path / "other" / "photo.jpg")),
        "a folder in the way": (trained_tiny, photo(tmp_path / "x.png")),
    }
    for case, (run, *inputs) in cases.items():
        result = upscale(run, *inputs, "-o", out)
        assert result.exit_code == 2, f"{case}: {result.output}"
        assert len(error_lines(result)) == 1 and "Traceback" not in result.output, case
        assert names(out) == ["x.png"], case  # nothing written
