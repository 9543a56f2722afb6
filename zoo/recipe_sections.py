"""The recipe's sections: the pydantic models of data, model, loss, optimizer, training,
evaluation, checkpoints and init_from, with the field types they share."""

from __future__ import annotations

import re
from collections.abc import Mapping
from typing import Annotated, Any, Literal

from pydantic import (
    AfterValidator,
    BaseModel,
    BeforeValidator,
    ConfigDict,
    Field,
    Strict,
    model_validator,
)
from pydantic_core import PydanticCustomError

MAX_INT = 2**31 - 1
"""The largest count a recipe field takes: JAX's default integer is 32-bit."""
MAX_SEED = 2**32 - 1
"""Seeds are 0 to 2**32 - 1: a JAX key holds 32 bits of seed (larger seeds would repeat smaller
ones) and numpy's generator takes no negative seed."""

PositiveInt = Annotated[int, Strict(), Field(ge=1, le=MAX_INT)]
NonNegativeInt = Annotated[int, Strict(), Field(ge=0, le=MAX_INT)]
PositiveFloat = Annotated[float, Field(gt=0, allow_inf_nan=False)]
Seed = Annotated[int, Strict(), Field(ge=0, le=MAX_SEED)]

_RUN_NAME = re.compile(r"[A-Za-z0-9_-][A-Za-z0-9_.-]{0,127}")


def _run_name(value: str) -> str:
    if not _RUN_NAME.fullmatch(value):
        raise PydanticCustomError(
            "run_name",
            "the run name becomes a folder name, so it takes letters, digits, '_', '-' and '.', "
            "at most 128 of them, and does not start with '.'",
        )
    return value


RunName = Annotated[str, AfterValidator(_run_name)]


class Section(BaseModel):
    """A recipe section: unknown keys are errors."""

    model_config = ConfigDict(extra="forbid", validate_default=True, use_attribute_docstrings=True)


class PluginRef(BaseModel):
    """A registered name plus that plugin's options: ``{name: dli, width: 32}`` or just ``dli``."""

    model_config = ConfigDict(extra="allow")

    name: str

    @model_validator(mode="before")
    @classmethod
    def _from_name(cls, value: Any) -> Any:
        return {"name": value} if isinstance(value, str) else value

    @property
    def options(self) -> dict[str, Any]:
        return dict(self.model_extra or {})

    def __str__(self) -> str:
        if not self.options:
            return self.name
        options = ", ".join(f"{key}={value!r}" for key, value in self.options.items())
        return f"{self.name}({options})"


def ref(name: str, **options: Any) -> Any:
    """A default PluginRef for a field."""
    return Field(default_factory=lambda: PluginRef(name=name, **options))


class HeldOut(Section):
    """``data.val: {images: N}``: the last N images of data.train validate instead of training."""

    images: PositiveInt
    """How many images, the last by index, data.train gives up to validation."""


def _validation_form(value: Any) -> Any:
    """``{images: N}`` is a HeldOut; a name or ``{name: ..., options}`` a dataset reference;
    anything else is one message naming both forms (not two unions' worth of errors)."""
    if value is None or isinstance(value, HeldOut | PluginRef):
        return value
    if isinstance(value, Mapping) and "images" in value:
        others = sorted(str(key) for key in value if key != "images")
        if others:
            raise PydanticCustomError(
                "validation_set",
                f"{{images: N}} holds out training images and takes no other key (got "
                f"{', '.join(others)}); a dataset is {{name: DATASET, options}} without images",
            )
        return HeldOut.model_validate(value)
    if isinstance(value, str) or (isinstance(value, Mapping) and "name" in value):
        return PluginRef.model_validate(value)
    raise PydanticCustomError(
        "validation_set",
        "expected {images: N} (the last N images of data.train, held out of training) or a "
        "dataset: a name, or {name: folder, path: DIR}",
    )


class Data(Section):
    """Where HR images come from and how training patches are cut."""

    train: PluginRef = ref("embedded", split="train")
    """Training dataset; `split` picks one of the dataset's splits."""
    eval: PluginRef = ref("embedded", split="holdout")
    """Evaluation dataset; whole images, mod-cropped to the scale. The final comparison and
    the report score it once, on the selected checkpoint, so it stays unseen."""
    val: Annotated[PluginRef | HeldOut | None, BeforeValidator(_validation_form)] = None
    """Validation set, scored every `train.eval_every` steps and at the last step as
    `val_<metric>`, and what `checkpoint.best` chooses by: `{images: N}` holds the last N images
    (by index) of `data.train` out of training; or a dataset like `data.eval` (a name or
    `{name: folder, path: DIR}`; no `split`: `all` where the dataset has it). Its images are made
    as the evaluation images are (mod-crop, degradation, fixed seed), `data.eval_images` and
    `data.eval_crop` included. Null: none; periodic evaluation then scores `data.eval`, for
    watching only."""
    patch: PositiveInt = 64
    """HR patch side in pixels; a multiple of `scale`."""
    batch: PositiveInt = 16
    """Patches per step; divisible by the number of devices."""
    augment: bool = True
    """Random flips and 90-degree turns of each patch."""
    workers: NonNegativeInt = 0
    """Worker processes that cut patches and run a host-side degradation (JPEG) ahead of the
    step; 0: threads in the training process. The batches are the same either way."""
    prefetch: PositiveInt = 2
    """Batches prepared ahead of the step (threads, or per worker process)."""
    resize: PositiveInt | None = None
    """Resize each whole training image to this square size before cutting patches (the DLI
    course resized to 256x256; null: keep the images' own size)."""
    eval_images: PositiveInt | None = None
    """Evaluate (and validate) on the first N images only (null: all)."""
    eval_crop: PositiveInt | None = None
    """Centre-crop evaluation (and validation) images to this side (null: whole images)."""


class Model(Section):
    """The autoencoder: an encoder and a decoder from the registry, and how they see the input."""

    encoder: PluginRef
    """Encoder name and options (`zoo plugins --all` lists them)."""
    decoder: PluginRef
    """Decoder name and options; checked against the encoder's shapes before training."""
    input: Literal["lr", "upsampled"] = "upsampled"
    """`upsampled`: the encoder sees the LR image upscaled by `upsample` (the DLI course);
    `lr`: it sees the LR image and the decoder upscales."""
    upsample: PluginRef = ref("bicubic")
    """Classic upscaler for the `upsampled` input and the global residual."""
    residual: bool = False
    """Add the upsampled image to the decoder output (the net learns the difference)."""


class LossTerm(BaseModel):
    """A weighted metric in the loss; extra keys are the metric's options."""

    model_config = ConfigDict(extra="allow", use_attribute_docstrings=True)

    weight: PositiveFloat
    """Weight of this metric in the sum."""

    @model_validator(mode="before")
    @classmethod
    def _from_weight(cls, value: Any) -> Any:
        return {"weight": value} if isinstance(value, int | float) else value

    @property
    def options(self) -> dict[str, Any]:
        return dict(self.model_extra or {})


class Schedule(Section):
    """The learning-rate schedule over `train.steps`."""

    name: Literal["constant", "cosine", "warmup_cosine", "step"] = "constant"
    """`constant` (optionally after a linear warmup), `cosine`, `warmup_cosine` or `step`."""
    warmup_steps: NonNegativeInt = 0
    """Linear warmup from 0 (constant and warmup_cosine)."""
    final_factor: Annotated[float, Field(ge=0, le=1)] = 0.0
    """Final learning rate as a fraction of the peak (cosine, warmup_cosine)."""
    decay_every: PositiveInt | None = None
    """Steps between decays for `step` (null: a third of the run)."""
    decay_factor: Annotated[float, Field(gt=0, le=1)] = 0.5
    """Multiplier at each decay for `step`."""


class Optimizer(BaseModel):
    """An optax optimizer by name; extra keys are that optimizer's own arguments."""

    model_config = ConfigDict(extra="allow", use_attribute_docstrings=True)

    name: Literal["adam", "adamw", "adadelta", "sgd", "rmsprop", "lamb"] = "adam"
    """The optax function (the DLI course used adadelta with learning_rate 1.0)."""
    learning_rate: PositiveFloat = 1e-3
    """Peak learning rate."""
    schedule: Schedule = Field(default_factory=Schedule)
    """Learning-rate schedule."""
    clip_norm: PositiveFloat | None = None
    """Clip gradients to this global norm (null: no clipping)."""

    @property
    def options(self) -> dict[str, Any]:
        return dict(self.model_extra or {})


class Train(Section):
    """Length of training and how often to evaluate, log and checkpoint."""

    steps: PositiveInt
    """Optimizer steps."""
    eval_every: PositiveInt | None = None
    """Evaluate the model on the eval set every N steps (null: only at the end)."""
    checkpoint_every: PositiveInt | None = None
    """Save a checkpoint every N steps (null: only at the end)."""
    log_every: PositiveInt = 10
    """Record the training loss every N steps."""
    on_nonfinite: Literal["stop", "skip"] = "stop"
    """A step whose loss or gradient is NaN or infinite never changes the parameters. `stop`:
    the run ends with an error at the next logged step, keeping the last good checkpoint;
    `skip`: such steps are skipped and counted, and training goes on."""
    precision: Literal["float32", "bf16"] = "float32"
    """What the training step computes in: `bf16` runs the layers (convolutions, dense) in
    bfloat16 while parameters, optimizer state, gradients and the loss stay float32; evaluation
    is always float32. Faster where the hardware has bfloat16 units (TPU, recent GPUs); on a
    CPU without them it is not (docs/benchmarks.md)."""
    seed: Seed = 0
    """Seeds initialisation, patch sampling, degradation and dropout: 0 to 4294967295
    (2**32 - 1)."""


class Eval(Section):
    """The final comparison against the classic upscalers."""

    metrics: list[str] = Field(
        default_factory=lambda: ["psnr", "ssim", "hfenn", "mse"], min_length=1
    )
    """Metric names (`zoo plugins --all`)."""
    convention: Literal["rgb", "y"] = "rgb"
    """`rgb`: all channels in [0, 1], no crop (the DLI course); `y`: the published protocol
    (8-bit, BT.601 luma, `scale` pixels shaved)."""
    upscalers: list[str] = Field(
        default_factory=lambda: ["nearest", "bilinear", "bicubic", "lanczos"]
    )
    """Classic upscalers compared with the model."""


class Checkpoint(Section):
    """Which checkpoints are kept."""

    keep: PositiveInt = 3
    """Keep the last N checkpoints..."""
    best: str | None = None
    """...and the best by this metric on `data.val` (one of eval.metrics), which the run then
    reports and `zoo.load` restores (null: the last step). Needs `data.val`: chosen on
    `data.eval`, the numbers reported there would be inflated. The best is chosen among the
    validated steps (every `train.eval_every` steps, each saved, and always the last), so
    without `train.eval_every` it is the last step."""
    async_save: bool = True
    """Write checkpoints in the background while training goes on."""


PartName = Literal["encoder", "decoder"]
ALL_PARTS: tuple[PartName, ...] = ("encoder", "decoder")


class InitFrom(Section):
    """Start training from another model's weights, with a fresh optimizer."""

    source: str
    """A run directory, a weights file written by `zoo export`, or a model name (`zoo models`)."""
    step: Literal["last", "best"] | NonNegativeInt | None = None
    """Which checkpoint of a run directory: `last`, `best` or a step number (null: the run's
    default, the best when its recipe sets checkpoint.best, else the last)."""
    parts: list[PartName] = Field(default_factory=lambda: list(ALL_PARTS), min_length=1)
    """The parts whose parameters are copied: `encoder`, `decoder` or both."""
    strict: bool = True
    """Every parameter of `parts` must be in the source with the same shape; false copies those
    that fit and names the rest in one warning line."""

    @model_validator(mode="after")
    def _parts_once(self) -> InitFrom:
        if len(set(self.parts)) != len(self.parts):
            raise ValueError(f"init_from.parts names a part twice: {self.parts}")
        return self
