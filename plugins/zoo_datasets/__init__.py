"""Built-in datasets: scikit-image's photographs and any image folder, stored with TFDS."""

from __future__ import annotations

from zoo.plugin import Register, hookimpl
from zoo_datasets.embedded import embedded_dataset
from zoo_datasets.folder import folder_dataset
from zoo_datasets.images import SPLITS


@hookimpl
def register_datasets(register: Register) -> None:
    register(
        "embedded",
        embedded_dataset,
        splits=SPLITS,
        description="The photographs inside scikit-image (13 train, 4 holdout); no download.",
    )
    register(
        "folder",
        folder_dataset,
        splits=SPLITS,
        description="Any directory of PNG/JPEG/TIFF/BMP images, cached as a TFDS dataset.",
    )
