"""Built-in datasets: scikit-image's photographs and any image folder, stored with TFDS."""

from __future__ import annotations

from zoo.plugin import Register, hookimpl


@hookimpl
def register_datasets(register: Register) -> None:
    # Imported here, when zoo asks for datasets, not when it loads the plugin (`zoo --help`).
    from zoo_datasets.embedded import embedded_dataset
    from zoo_datasets.folder import folder_dataset
    from zoo_datasets.images import SPLITS

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
