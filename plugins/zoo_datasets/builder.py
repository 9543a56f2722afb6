"""The TFDS builder that stores named images as zlib-compressed uint8 tensors in array_record."""

from __future__ import annotations

import contextlib
import io
from collections.abc import Callable, Iterator, Sequence
from pathlib import Path
from typing import Any, ClassVar

import numpy as np
import tensorflow_datasets as tfds

# The one stored split. Zoo splits (train, holdout, all) are views of it chosen by name, so a
# changed split rule needs no rebuild; and TFDS reserves the split name "all" for itself.
SPLIT = "images"
FILE_FORMAT = "array_record"

Item = tuple[str, Callable[[], np.ndarray]]


# skip_registration keeps TFDS's global catalog free of this internal builder.
class ZooImages(tfds.core.GeneratorBasedBuilder, skip_registration=True):  # type: ignore[call-arg]
    """Named uint8 RGB images of any size, stored in the order given; names also in metadata."""

    VERSION = tfds.core.Version("1.0.0")
    RELEASE_NOTES: ClassVar[dict[str, str]] = {
        "1.0.0": "Images as zlib-compressed uint8 (H, W, 3) tensors, with names.",
    }
    # TFDS looks for a checksums file beside the builder's code, and on Python >= 3.9 that lookup
    # needs the `importlib_resources` backport TFDS forgets to require (tensorflow/datasets#11212).
    # Nothing here downloads, so there is no checksums file to find: skip the lookup.
    code_path = None

    def __init__(self, *, data_dir: Path, items: Sequence[Item] = (), description: str = ""):
        self._items = items
        self._description = description
        super().__init__(data_dir=str(data_dir), file_format=FILE_FORMAT)

    def _info(self) -> tfds.core.DatasetInfo:
        return tfds.core.DatasetInfo(
            builder=self,
            description=self._description,
            features=tfds.features.FeaturesDict(
                {
                    "image": tfds.features.Tensor(
                        shape=(None, None, 3),
                        dtype=np.uint8,
                        encoding=tfds.features.Encoding.ZLIB,
                    ),
                    "name": tfds.features.Text(),
                }
            ),
            # Keep the order given (sorted by name) instead of TFDS's hash-of-key order.
            disable_shuffling=True,
            # Names in metadata.json let a reader list and split the images without decoding any.
            metadata=tfds.core.MetadataDict(),
        )

    def _split_generators(self, dl_manager: Any) -> dict[str, Iterator[tuple[int, dict]]]:
        self.info.metadata["names"] = [name for name, _ in self._items]
        return {SPLIT: self._generate_examples()}

    def _generate_examples(self) -> Iterator[tuple[int, dict]]:
        for index, (name, load) in enumerate(self._items):
            yield index, {"image": load(), "name": name}


def write(data_dir: Path, items: Sequence[Item], description: str) -> None:
    """Prepare ``items`` (at least one) as a TFDS dataset under ``data_dir``."""
    builder = ZooImages(data_dir=data_dir, items=items, description=description)
    # TFDS prints "Downloading and preparing dataset ..." to stdout although nothing downloads,
    # and its shuffling bars name temporary paths; zoo shows its own progress instead.
    tfds.disable_progress_bar()
    with contextlib.redirect_stdout(io.StringIO()):
        builder.download_and_prepare(
            download_config=tfds.download.DownloadConfig(try_download_gcs=False)
        )


def read(data_dir: Path) -> tuple[Sequence[dict[str, Any]], tuple[str, ...]]:
    """The random-access records (``{"image", "name"}``) and names prepared under ``data_dir``."""
    builder = ZooImages(data_dir=data_dir)
    return builder.as_data_source(SPLIT), tuple(builder.info.metadata["names"])
