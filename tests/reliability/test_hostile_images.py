"""Images that claim more pixels than zoo will decode (decompression bombs): one line naming the
file, its size, the limit and how to raise it (ZOO_MAX_IMAGE_PIXELS); exit code 2, no traceback.

The bombs are PNG headers of a few dozen bytes that claim huge sizes; nothing is decoded, so no
large array is ever made.
"""

from __future__ import annotations

import struct
import zlib
from pathlib import Path

import numpy as np
import pytest
from PIL import Image

from zoo import images
from zoo.errors import DataError


def chunk(kind: bytes, data: bytes) -> bytes:
    return struct.pack(">I", len(data)) + kind + data + struct.pack(">I", zlib.crc32(kind + data))


def png_header(path: Path, width: int, height: int, *, grey: bool = False) -> Path:
    """A PNG file that claims ``width`` x ``height`` 8-bit pixels and holds none of them."""
    header = struct.pack(">IIBBBBB", width, height, 8, 0 if grey else 2, 0, 0, 0)
    path.parent.mkdir(parents=True, exist_ok=True)
    path.write_bytes(
        b"\x89PNG\r\n\x1a\n"
        + chunk(b"IHDR", header)
        + chunk(b"IDAT", zlib.compress(b""))
        + chunk(b"IEND", b"")
    )
    return path


def photo(path: Path, side: int = 16) -> Path:
    path.parent.mkdir(parents=True, exist_ok=True)
    pixels = np.random.default_rng(0).integers(0, 256, (side, side, 3), dtype=np.uint8)
    Image.fromarray(pixels).save(path)
    return path


@pytest.fixture(autouse=True)
def pillow_limit():
    """Put back Pillow's pixel limit, which read_image sets from the environment."""
    saved = Image.MAX_IMAGE_PIXELS
    yield
    Image.MAX_IMAGE_PIXELS = saved


def zoo_eval(zoo_cli, folder: Path, tmp_path: Path, **env: str):
    env = {"ZOO_DATA_DIR": str(tmp_path / "cache"), **env}
    return zoo_cli("eval", "--data", str(folder), "--scale", "2", "--upscalers", "nearest", env=env)


def test_a_png_claiming_ten_billion_pixels_is_refused_by_zoo_eval(zoo_cli, refused, tmp_path):
    photo(tmp_path / "hr" / "a.png")
    bomb = png_header(tmp_path / "hr" / "bomb.png", 100_000, 100_000)  # Pillow's bomb *error*
    refused(
        zoo_eval(zoo_cli, tmp_path / "hr", tmp_path),
        2,
        f"{bomb}: 100000x100000 pixels (10,000,000,000) is over the limit of 89,478,485 pixels",
        "decompression bombs",
        "ZOO_MAX_IMAGE_PIXELS=10000000000",
    )


def test_an_image_just_over_the_limit_is_refused_not_warned_about(tmp_path):
    # 10000 x 10000 is past the limit but under twice it, where Pillow only warns.
    bomb = png_header(tmp_path / "big.png", 10_000, 10_000)
    with pytest.raises(DataError, match=r"big.png: 10000x10000 pixels \(100,000,000\) is over"):
        images.read_image(bomb)


def test_a_lowered_limit_applies_and_the_message_says_how_to_raise_it(zoo_cli, refused, tmp_path):
    photo(tmp_path / "hr" / "a.png", side=16)
    refused(
        zoo_eval(zoo_cli, tmp_path / "hr", tmp_path, ZOO_MAX_IMAGE_PIXELS="100"),
        2,
        "a.png: 16x16 pixels (256) is over the limit of 100 pixels",
        "ZOO_MAX_IMAGE_PIXELS=256",
    )


def test_raising_the_limit_lets_the_image_through(tmp_path, monkeypatch):
    path = photo(tmp_path / "a.png", side=16)
    monkeypatch.setenv("ZOO_MAX_IMAGE_PIXELS", "256")
    assert images.read_image(path).shape == (16, 16, 3)
    assert Image.MAX_IMAGE_PIXELS == 256  # applied to Pillow itself


@pytest.mark.parametrize("value", ["lots", "0", "-5", "1e9"])
def test_a_bad_limit_value_is_named(tmp_path, monkeypatch, value):
    path = photo(tmp_path / "a.png")
    monkeypatch.setenv("ZOO_MAX_IMAGE_PIXELS", value)
    with pytest.raises(DataError, match=rf"ZOO_MAX_IMAGE_PIXELS='{value}': expected a whole"):
        images.read_image(path)


def test_the_grey_check_reads_a_bomb_header_without_failing(tmp_path):
    assert images.is_single_channel(png_header(tmp_path / "g.png", 100_000, 100_000, grey=True))
    assert not images.is_single_channel(png_header(tmp_path / "c.png", 100_000, 100_000))
