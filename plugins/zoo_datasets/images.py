"""The object a dataset factory returns: random-access uint8 RGB images and their names."""

from __future__ import annotations

from collections.abc import Callable, Mapping, Sequence
from pathlib import Path
from typing import Any, overload

import numpy as np

from zoo.plugin import DataError, did_you_mean

SPLITS = ("train", "holdout", "all")


def check_split(dataset: str, split: str) -> None:
    """Raise ``DataError`` listing the valid splits unless ``split`` is one of them."""
    if split not in SPLITS:
        raise DataError(
            f"dataset {dataset!r} has no split {split!r}.{did_you_mean(split, SPLITS)} "
            f"Valid splits: {', '.join(SPLITS)}."
        )


class ImageDataset(Sequence[np.ndarray]):
    """Random-access images, sorted by name.

    ``ds[i]`` is a fresh uint8 RGB ``(H, W, 3)`` array named ``ds.names[i]``; a slice is a view.
    ``ds.single_channel[i]`` says whether the source image had one channel (grey): the published
    evaluation protocol scores such images on their grey level rather than their luma.
    """

    def __init__(
        self,
        records: Sequence[Mapping[str, Any]],
        indices: Sequence[int],
        names: Sequence[str],
        label: str,
        location: Path,
        single_channel: Sequence[bool] | None = None,
    ) -> None:
        self._records = records
        self._indices = tuple(indices)
        self.names: tuple[str, ...] = tuple(names)
        self.single_channel: tuple[bool, ...] = (
            tuple(single_channel) if single_channel is not None else (False,) * len(self.names)
        )
        self.label = label
        self.location = location

    def __len__(self) -> int:
        return len(self._indices)

    @overload
    def __getitem__(self, index: int) -> np.ndarray: ...

    @overload
    def __getitem__(self, index: slice) -> ImageDataset: ...

    def __getitem__(self, index: int | slice) -> np.ndarray | ImageDataset:
        if isinstance(index, slice):
            return ImageDataset(
                self._records,
                self._indices[index],
                self.names[index],
                self.label,
                self.location,
                self.single_channel[index],
            )
        position = range(len(self))[index]  # IndexError out of range; negative indices work
        record = self._records[self._indices[position]]
        self._check_name(record["name"], position)
        # TFDS decodes into a read-only buffer; callers expect an array of their own.
        return np.array(record["image"])

    def _check_name(self, stored: bytes | str, position: int) -> None:
        # Cheap insurance that the names listed in the metadata line up with the records.
        name = stored.decode() if isinstance(stored, bytes) else stored
        if name != self.names[position]:
            raise DataError(
                f"{self.label}: the cache at {self.location} holds {name!r} where its index "
                f"lists {self.names[position]!r}; it is damaged. Delete that folder and load "
                "again to rebuild it."
            )

    def __repr__(self) -> str:
        return f"<ImageDataset {self.label}: {len(self)} images>"


def split_view(
    records: Sequence[Mapping[str, Any]],
    names: Sequence[str],
    *,
    split: str,
    in_holdout: Callable[[str], bool],
    label: str,
    location: Path,
    empty_hint: str = "",
    is_single_channel: Callable[[str], bool] = lambda name: False,
) -> ImageDataset:
    """The ``train`` (not holdout), ``holdout`` or ``all`` view of the stored records."""
    wanted = {
        "all": lambda name: True,
        "holdout": in_holdout,
        "train": lambda name: not in_holdout(name),
    }[split]
    indices = [i for i, name in enumerate(names) if wanted(name)]
    if not indices:
        raise DataError(
            f"{label}: split {split!r} has no images (of {len(names)} in all). {empty_hint}".strip()
        )
    chosen = [names[i] for i in indices]
    return ImageDataset(
        records,
        indices,
        chosen,
        f"{label}[{split}]",
        location,
        [is_single_channel(name) for name in chosen],
    )
