"""The embedded and folder datasets: formats, splits, the TFDS cache and errors naming files."""

from __future__ import annotations

import os
import struct
import zlib
from pathlib import Path

import numpy as np
import pytest
import tifffile
from PIL import Image, ImageOps

from zoo import plugins
from zoo.errors import DataError, PluginError
from zoo.images import read_image
from zoo.pixels import ORIENTATION_TAG, apply_orientation
from zoo.registry import get_registry
from zoo_datasets import builder, folder
from zoo_datasets.cache import ENV_DATA_DIR
from zoo_datasets.embedded import HOLDOUT, PHOTOS, embedded_dataset
from zoo_datasets.folder import folder_dataset

RNG = np.random.default_rng(0)
RGB8 = RNG.integers(0, 256, (6, 8, 3), dtype=np.uint8)
GREY8 = RNG.integers(0, 256, (6, 8), dtype=np.uint8)
ALPHA8 = RNG.integers(0, 256, (6, 8), dtype=np.uint8)
RGBA16 = RNG.integers(0, 65536, (6, 8, 4), dtype=np.uint16)


def rounded(pixels16: np.ndarray) -> np.ndarray:
    """The documented 16 -> 8 bit rule, in floating point as a cross-check."""
    return np.round(pixels16 / 257.0).astype(np.uint8)


def grey_rgb(grey: np.ndarray) -> np.ndarray:
    return np.repeat(grey[..., None], 3, axis=-1)


def write_png16(path: Path, pixels: np.ndarray) -> None:
    """A 16-bit PNG (grey+alpha, RGB or RGBA), which Pillow cannot write."""
    height, width, channels = pixels.shape
    colour_type = {2: 4, 3: 2, 4: 6}[channels]
    rows = b"".join(b"\x00" + row.astype(">u2").tobytes() for row in pixels)

    def chunk(kind: bytes, data: bytes) -> bytes:
        return (
            struct.pack(">I", len(data)) + kind + data + struct.pack(">I", zlib.crc32(kind + data))
        )

    header = struct.pack(">IIBBBBB", width, height, 16, colour_type, 0, 0, 0)
    path.write_bytes(
        b"\x89PNG\r\n\x1a\n"
        + chunk(b"IHDR", header)
        + chunk(b"IDAT", zlib.compress(rows))
        + chunk(b"IEND", b"")
    )


def save(path: Path, image: Image.Image, **options) -> Path:
    image.save(path, **options)
    return path


def with_orientation(orientation: int) -> Image.Exif:
    exif = Image.Exif()
    exif[ORIENTATION_TAG] = orientation
    return exif


def pillow_rgb(path: Path) -> np.ndarray:
    """What Pillow itself decodes (for lossy formats, whose pixels are not the ones saved)."""
    with Image.open(path) as image:
        return np.asarray(ImageOps.exif_transpose(image).convert("RGB"))


def write_every_format(root: Path) -> dict[str, np.ndarray]:
    """One file per supported format, mode and bit depth; returns name -> expected uint8 RGB."""
    root.mkdir(parents=True, exist_ok=True)
    grey16 = RGBA16[..., 0]
    palette = RNG.integers(0, 256, (256, 3), dtype=np.uint8)
    indices = RNG.integers(0, 16, (6, 8), dtype=np.uint8)
    paletted = Image.fromarray(indices, "P")
    paletted.putpalette(palette.tobytes())
    expected = {
        "grey": (save(root / "grey.png", Image.fromarray(GREY8)), grey_rgb(GREY8)),
        "grey_alpha": (
            save(root / "grey_alpha.png", Image.fromarray(np.dstack([GREY8, ALPHA8]), "LA")),
            grey_rgb(GREY8),
        ),
        "rgb": (save(root / "rgb.png", Image.fromarray(RGB8)), RGB8),
        "rgba": (save(root / "rgba.png", Image.fromarray(np.dstack([RGB8, ALPHA8]))), RGB8),
        "palette": (save(root / "palette.png", paletted), palette[indices]),
        "palette_transparent": (
            save(root / "palette_transparent.png", paletted, transparency=3),
            palette[indices],
        ),
        "bilevel": (
            save(root / "bilevel.png", Image.fromarray(GREY8 > 127)),
            grey_rgb(np.where(GREY8 > 127, 255, 0).astype(np.uint8)),
        ),
        "grey16": (save(root / "grey16.png", Image.fromarray(grey16)), grey_rgb(rounded(grey16))),
        "grey16_tiff": (
            save(root / "grey16_tiff.tif", Image.fromarray(grey16)),
            grey_rgb(rounded(grey16)),
        ),
        "rgb_tiff": (save(root / "rgb_tiff.tiff", Image.fromarray(RGB8)), RGB8),
        "rgb_bmp": (save(root / "rgb_bmp.bmp", Image.fromarray(RGB8)), RGB8),
        "grey_bmp": (save(root / "grey_bmp.BMP", Image.fromarray(GREY8)), grey_rgb(GREY8)),
    }
    write_png16(root / "rgb16.png", RGBA16[..., :3])
    write_png16(root / "rgba16.png", RGBA16)
    write_png16(root / "grey_alpha16.png", RGBA16[..., :2])
    tifffile.imwrite(root / "rgb16_tiff.tif", RGBA16[..., :3], photometric="rgb")
    tifffile.imwrite(
        root / "rgb16_planar.tif",
        RGBA16[..., :3].transpose(2, 0, 1),
        photometric="rgb",
        planarconfig="separate",
    )
    expected |= {
        "rgb16": (root / "rgb16.png", rounded(RGBA16[..., :3])),
        "rgba16": (root / "rgba16.png", rounded(RGBA16[..., :3])),
        "grey_alpha16": (root / "grey_alpha16.png", grey_rgb(rounded(grey16))),
        "rgb16_tiff": (root / "rgb16_tiff.tif", rounded(RGBA16[..., :3])),
        "rgb16_planar": (root / "rgb16_planar.tif", rounded(RGBA16[..., :3])),
    }
    jpeg = save(root / "photo.jpg", Image.fromarray(RGB8), quality=95)
    cmyk = save(root / "cmyk.jpeg", Image.fromarray(RGB8).convert("CMYK"))
    rotated = save(root / "rotated.JPG", Image.fromarray(RGB8), exif=with_orientation(6))
    expected |= {
        "photo": (jpeg, pillow_rgb(jpeg)),
        "cmyk": (cmyk, pillow_rgb(cmyk)),
        "rotated": (rotated, pillow_rgb(rotated)),
    }
    return {name: pixels for name, (_, pixels) in expected.items()}


@pytest.fixture
def data_dir(tmp_path, monkeypatch) -> Path:
    """An empty cache root for this test."""
    root = tmp_path / "cache"
    monkeypatch.setenv(ENV_DATA_DIR, str(root))
    return root


@pytest.fixture(scope="module")
def embedded_cache(tmp_path_factory) -> Path:
    """One embedded cache shared by this module's tests: preparing it takes about a second."""
    return tmp_path_factory.mktemp("embedded_cache")


@pytest.fixture
def with_embedded_cache(embedded_cache, monkeypatch) -> Path:
    monkeypatch.setenv(ENV_DATA_DIR, str(embedded_cache))
    return embedded_cache


@pytest.fixture(scope="module")
def every_format(tmp_path_factory):
    """A folder holding every supported format, loaded once: (dataset, expected pixels)."""
    root = tmp_path_factory.mktemp("formats")
    expected = write_every_format(root / "images")
    with pytest.MonkeyPatch.context() as patch:
        patch.setenv(ENV_DATA_DIR, str(root / "cache"))
        return folder_dataset(split="all", path=str(root / "images")), expected


@pytest.fixture
def only_datasets_plugin(monkeypatch):
    """The registry with just this plugin loaded, so the test does not hang on the others."""
    monkeypatch.setenv(plugins.ENV_SELECT, "datasets")
    plugins.reset()
    yield
    plugins.reset()


def cache_entries(root: Path) -> list[Path]:
    """Every directory under the cache's per-dataset folders, temporaries included."""
    return sorted(p for p in root.glob("*/*") if p.is_dir())


# --- embedded -------------------------------------------------------------------------------


def test_embedded_split_counts_and_names(with_embedded_cache):
    train = embedded_dataset(split="train")
    holdout = embedded_dataset(split="holdout")
    everything = embedded_dataset(split="all")

    assert (len(train), len(holdout), len(everything)) == (13, 4, 17)
    assert set(holdout.names) == HOLDOUT == {"astronaut", "chelsea", "coffee", "rocket"}
    assert sorted(train.names + holdout.names) == list(everything.names) == list(PHOTOS)
    assert list(train.names) == sorted(train.names)


def test_embedded_images_are_uint8_rgb(with_embedded_cache):
    ds = embedded_dataset(split="all")
    for name, image in zip(ds.names, ds, strict=True):
        assert image.dtype == np.uint8 and image.ndim == 3 and image.shape[-1] == 3, name
        assert min(image.shape[:2]) >= 128, name
        assert image.flags.writeable, name
    camera = ds[ds.names.index("camera")]
    assert (camera[..., 0] == camera[..., 1]).all() and (camera[..., 1] == camera[..., 2]).all()


def test_embedded_pixels_are_skimage_pixels(with_embedded_cache):
    import skimage.data

    ds = embedded_dataset(split="holdout")
    np.testing.assert_array_equal(ds[ds.names.index("coffee")], skimage.data.coffee())
    train = embedded_dataset(split="train")
    np.testing.assert_array_equal(train[train.names.index("brick")], grey_rgb(skimage.data.brick()))


def test_embedded_second_load_reads_the_cache(with_embedded_cache, monkeypatch):
    embedded_dataset(split="all")

    def no_preparing(*args, **kwargs):
        raise AssertionError("prepared again although the cache was there")

    monkeypatch.setattr(builder, "write", no_preparing)
    assert len(embedded_dataset(split="train")) == 13
    assert len(cache_entries(with_embedded_cache)) == 1


def test_unknown_split_lists_the_valid_ones(with_embedded_cache):
    with pytest.raises(DataError, match=r"no split 'trian'.*train.*Valid splits: train, holdout"):
        embedded_dataset(split="trian")


def test_negative_index_and_slices(with_embedded_cache):
    ds = embedded_dataset(split="holdout")
    np.testing.assert_array_equal(ds[-1], ds[3])
    assert ds[1:3].names == ds.names[1:3]
    with pytest.raises(IndexError):
        ds[4]


# --- folder: formats --------------------------------------------------------------------------


FORMAT_CASES = [
    "grey", "grey_alpha", "rgb", "rgba", "palette", "palette_transparent", "bilevel", "grey16",
    "grey16_tiff", "rgb_tiff", "rgb_bmp", "grey_bmp", "rgb16", "rgba16", "grey_alpha16",
    "rgb16_tiff", "rgb16_planar", "photo", "cmyk", "rotated",
]  # fmt: skip


@pytest.mark.parametrize("name", FORMAT_CASES)
def test_folder_reads_every_format(every_format, name):
    ds, expected = every_format
    image = ds[ds.names.index(name)]
    assert image.dtype == np.uint8 and image.shape == expected[name].shape
    np.testing.assert_array_equal(image, expected[name])


def test_folder_lists_every_case_sorted(every_format):
    ds, expected = every_format
    assert sorted(expected) == sorted(FORMAT_CASES)
    assert set(ds.names) == set(FORMAT_CASES)
    assert list(ds.names) == sorted(ds.names)


def test_exif_rotated_jpeg_is_turned_upright(every_format):
    ds, _ = every_format
    assert ds[ds.names.index("rotated")].shape == (8, 6, 3)  # stored 6 high, 8 wide


@pytest.mark.parametrize("orientation", range(1, 9))
def test_orientation_matches_pillow_exif_transpose(tmp_path, orientation):
    path = save(tmp_path / "o.png", Image.fromarray(RGB8), exif=with_orientation(orientation))
    with Image.open(path) as image:
        upright = np.asarray(ImageOps.exif_transpose(image))
    np.testing.assert_array_equal(read_image(path), upright)
    np.testing.assert_array_equal(apply_orientation(RGB8, orientation), upright)


def test_sixteen_bit_rounds_rather_than_truncates(tmp_path):
    # 0x00FF is 0.99 of an 8-bit step: rounding gives 1 where taking the high byte gives 0.
    pixels = np.full((2, 2, 3), 0x00FF, dtype=np.uint16)
    write_png16(tmp_path / "low.png", pixels)
    assert (read_image(tmp_path / "low.png") == 1).all()


# --- folder: cache ----------------------------------------------------------------------------


def small_folder(root: Path, count: int = 3) -> Path:
    root.mkdir(parents=True, exist_ok=True)
    for index in range(count):
        Image.fromarray(np.roll(RGB8, index, axis=1)).save(root / f"img{index}.png")
    return root


def test_folder_second_load_reads_the_cache(tmp_path, data_dir, monkeypatch):
    images = small_folder(tmp_path / "images")
    first = folder_dataset(split="all", path=str(images))

    def no_reading(path):
        raise AssertionError(f"read {path} although the cache was there")

    monkeypatch.setattr(folder, "read_image", no_reading)
    second = folder_dataset(split="all", path=str(images))
    assert second.names == first.names == ("img0", "img1", "img2")
    np.testing.assert_array_equal(second[2], np.roll(RGB8, 2, axis=1))
    assert len(cache_entries(data_dir)) == 1


def test_folder_change_makes_a_new_cache_entry(tmp_path, data_dir):
    images = small_folder(tmp_path / "images")
    assert len(folder_dataset(split="all", path=str(images))) == 3
    Image.fromarray(GREY8).save(images / "new.png")
    assert len(folder_dataset(split="all", path=str(images))) == 4
    os.utime(images / "img0.png", ns=(0, 10**18))
    assert len(folder_dataset(split="all", path=str(images))) == 4
    assert len(cache_entries(data_dir)) == 3


@pytest.mark.parametrize("failure", [DataError, KeyboardInterrupt])
def test_failure_midway_leaves_no_cache_entry(tmp_path, data_dir, monkeypatch, failure):
    images = small_folder(tmp_path / "images", count=4)
    calls = []

    def fail_on_third(path):
        calls.append(path)
        if len(calls) == 3:
            raise failure(f"{path}: simulated failure")
        return read_image(path)

    monkeypatch.setattr(folder, "read_image", fail_on_third)
    with pytest.raises(failure, match=r"img2\.png"):
        folder_dataset(split="all", path=str(images))
    assert cache_entries(data_dir) == []

    monkeypatch.undo()
    monkeypatch.setenv(ENV_DATA_DIR, str(data_dir))
    assert len(folder_dataset(split="all", path=str(images))) == 4


def test_corrupt_image_midway_leaves_no_cache_entry(tmp_path, data_dir):
    images = small_folder(tmp_path / "images")
    data = (images / "img1.png").read_bytes()
    (images / "img1.png").write_bytes(data[: len(data) * 6 // 10])
    with pytest.raises(DataError, match=r"img1\.png: cannot decode it"):
        folder_dataset(split="all", path=str(images))
    assert cache_entries(data_dir) == []


# --- folder: errors ---------------------------------------------------------------------------


def test_missing_folder(tmp_path, data_dir):
    with pytest.raises(DataError, match=r"nowhere does not exist"):
        folder_dataset(split="all", path=str(tmp_path / "nowhere"))


def test_folder_path_that_is_a_file(tmp_path, data_dir):
    path = save(tmp_path / "one.png", Image.fromarray(RGB8))
    with pytest.raises(DataError, match=r"one\.png is a file, not a directory"):
        folder_dataset(split="all", path=str(path))


def test_folder_without_images(tmp_path, data_dir):
    (tmp_path / "empty").mkdir()
    (tmp_path / "empty" / "notes.txt").write_text("not an image")
    small_folder(tmp_path / "empty" / "sub")
    with pytest.raises(DataError, match=r"empty has no images directly in it.*recursive: true"):
        folder_dataset(split="all", path=str(tmp_path / "empty"))


def test_text_file_with_an_image_extension(tmp_path, data_dir):
    images = small_folder(tmp_path / "images")
    (images / "fake.png").write_text("this is not a PNG")
    with pytest.raises(DataError, match=r"fake\.png: not an image.*Remove it"):
        folder_dataset(split="all", path=str(images))


def test_truncated_jpeg(tmp_path, data_dir):
    images = small_folder(tmp_path / "images")
    jpeg = save(images / "cut.jpg", Image.fromarray(RGB8))
    jpeg.write_bytes(jpeg.read_bytes()[:-40])
    with pytest.raises(DataError, match=r"cut\.jpg: cannot decode it.*re-export it"):
        folder_dataset(split="all", path=str(images))


def test_unsupported_pixel_format(tmp_path, data_dir):
    images = small_folder(tmp_path / "images")
    save(images / "float.tif", Image.fromarray(np.zeros((4, 4), np.float32)))
    with pytest.raises(DataError, match=r"float\.tif: unsupported pixel format"):
        folder_dataset(split="all", path=str(images))


def test_unwritable_cache(tmp_path, monkeypatch):
    images = small_folder(tmp_path / "images")
    (tmp_path / "a_file").write_text("")
    monkeypatch.setenv(ENV_DATA_DIR, str(tmp_path / "a_file" / "cache"))
    with pytest.raises(DataError, match=r"cannot write the dataset cache.*ZOO_DATA_DIR"):
        folder_dataset(split="all", path=str(images))


def test_bad_holdout_percent(tmp_path, data_dir):
    with pytest.raises(DataError, match="holdout_percent must be 0 to 100"):
        folder_dataset(split="all", path=str(tmp_path), holdout_percent=120)


# --- folder: listing and splits ---------------------------------------------------------------


def test_other_and_hidden_files_are_ignored(tmp_path, data_dir):
    images = small_folder(tmp_path / "images", count=2)
    (images / "README.md").write_text("# photos")
    (images / "._img0.png").write_bytes(b"macOS resource fork")
    assert folder_dataset(split="all", path=str(images)).names == ("img0", "img1")


def test_recursive_and_clashing_names(tmp_path, data_dir):
    images = small_folder(tmp_path / "images", count=1)
    small_folder(images / "sub", count=1)
    small_folder(images / ".hidden", count=1)
    save(images / "img0.jpg", Image.fromarray(RGB8))
    assert folder_dataset(split="all", path=str(images)).names == ("img0.jpg", "img0.png")
    nested = folder_dataset(split="all", path=str(images), recursive=True)
    assert nested.names == ("img0.jpg", "img0.png", "sub/img0")


def test_folder_splits_partition_all(tmp_path, data_dir):
    images = small_folder(tmp_path / "images", count=30)
    everything = folder_dataset(split="all", path=str(images), holdout_percent=30)
    train = folder_dataset(split="train", path=str(images), holdout_percent=30)
    holdout = folder_dataset(split="holdout", path=str(images), holdout_percent=30)
    assert sorted(train.names + holdout.names) == sorted(everything.names)
    assert not set(train.names) & set(holdout.names)
    assert 0 < len(holdout) < len(train)
    assert set(holdout.names) == {n for n in everything.names if folder.in_holdout(n, 30)}


def test_empty_split_says_what_to_do(tmp_path, data_dir):
    images = small_folder(tmp_path / "images")
    with pytest.raises(DataError, match=r"split 'holdout' has no images.*holdout_percent"):
        folder_dataset(split="holdout", path=str(images), holdout_percent=0)
    assert len(folder_dataset(split="holdout", path=str(images), holdout_percent=100)) == 3


# --- through the registry, and on real benchmark images ---------------------------------------


def test_through_the_registry(tmp_path, data_dir, only_datasets_plugin):
    images = small_folder(tmp_path / "images")
    registry = get_registry()
    ds = registry.build("datasets", "folder", {"path": str(images)}, split="all")
    assert len(ds) == 3 and ds[0].shape == (6, 8, 3)
    assert registry.get("datasets", "folder").meta["splits"] == ("train", "holdout", "all")
    assert registry.get("datasets", "embedded").meta["splits"] == ("train", "holdout", "all")
    with pytest.raises(PluginError, match="holdout_percent"):
        registry.build("datasets", "folder", {"path": str(images), "holdout": 5}, split="all")


@pytest.mark.shared_data
def test_set14(shared_data, data_dir):
    hr = shared_data / "Set14" / "HR"
    ds = folder_dataset(split="all", path=str(hr))
    assert len(ds) == 14 and "bridge" in ds.names and list(ds.names) == sorted(ds.names)
    for name, image in zip(ds.names, ds, strict=True):
        with Image.open(hr / f"{name}.png") as original:
            assert image.shape == (original.height, original.width, 3), name
    bridge = ds[ds.names.index("bridge")]
    assert (bridge[..., 0] == bridge[..., 1]).all() and (bridge[..., 0] == bridge[..., 2]).all()


def test_single_channel_flags_follow_the_source_files(tmp_path, monkeypatch):
    monkeypatch.setenv("ZOO_DATA_DIR", str(tmp_path / "cache"))
    folder = tmp_path / "mixed"
    folder.mkdir()
    pixels = np.random.default_rng(0).integers(0, 256, (8, 8), dtype=np.uint8)
    Image.fromarray(pixels).save(folder / "grey.png")
    Image.fromarray(np.repeat(pixels[..., None], 3, axis=2)).save(folder / "grey_as_rgb.png")
    from zoo.registry import get_registry

    dataset = get_registry().build("datasets", "folder", {"path": str(folder)}, split="all")
    assert dict(zip(dataset.names, dataset.single_channel, strict=True)) == {
        "grey": True,
        "grey_as_rgb": False,
    }
    assert dataset[0:1].single_channel == (True,)


def test_embedded_marks_its_grey_photographs(tmp_path, monkeypatch):
    monkeypatch.setenv("ZOO_DATA_DIR", str(tmp_path / "cache"))
    from zoo.registry import get_registry

    dataset = get_registry().build("datasets", "embedded", split="all")
    flags = dict(zip(dataset.names, dataset.single_channel, strict=True))
    assert flags["camera"] and flags["moon"] and not flags["astronaut"]
