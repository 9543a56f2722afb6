"""The plugin contract: one hook per plugin kind, each handed a ``register`` callback.

Every hook has the shape ``register_<kind>s(register)``. A plugin calls
``register(name, factory, **meta)`` once per thing it provides. Names are unique across all loaded
plugins within a kind. Factories are called by the engine with the keyword arguments listed below
plus the options a recipe gives (``decoder: {name: dli, width: 32}`` calls the factory with
``width=32``). A factory's own keyword parameters are its options: the engine reads them from the
signature, type-checks recipe values against their annotations and rejects unknown ones, so give
every option a type annotation and a default. Every kind accepts ``description="one line"`` as meta.
"""

from __future__ import annotations

from collections.abc import Callable, Mapping
from dataclasses import dataclass, field
from typing import Any, TypeVar

import pluggy

hookspec = pluggy.HookspecMarker("zoo")

Register = Callable[..., None]
Hook = TypeVar("Hook", bound=Callable[..., Any])


@dataclass(frozen=True)
class Kind:
    """One kind of plugin: the single description everything else (registry, listing, recipe
    checks, error messages) derives from."""

    name: str
    """Plural, as in the hook name: ``register_<name>``."""
    singular: str
    """The word error messages use: "unknown encoder 'x'"."""
    engine_arguments: frozenset[str] = frozenset()
    """Keyword arguments the engine passes to the factory; every other parameter is an option."""
    required_meta: Mapping[str, type] = field(default_factory=dict)
    """Meta keys each registration must give, with their type."""
    has_options: bool = True
    """Whether the factory's own parameters are recipe options (commands have none)."""
    factory_from_meta: str | None = None
    """``module:function`` that makes the entry's factory from its meta, for kinds registered
    without one (``register(name, weights=..., ...)``); it pops what it uses."""

    @property
    def hook(self) -> str:
        return f"register_{self.name}"


KINDS: dict[str, Kind] = {}


def kind(
    singular: str,
    *,
    engine: tuple[str, ...] = (),
    required_meta: Mapping[str, type] | None = None,
    has_options: bool = True,
    factory_from_meta: str | None = None,
) -> Callable[[Hook], Hook]:
    """Declare the hook below as a plugin kind and record it in ``KINDS``."""

    def declare(hook: Hook) -> Hook:
        name = hook.__name__.removeprefix("register_")
        KINDS[name] = Kind(
            name,
            singular,
            frozenset(engine),
            dict(required_meta or {}),
            has_options,
            factory_from_meta,
        )
        return hookspec(hook)

    return declare


@kind("encoder", engine=("in_channels", "rngs"))
def register_encoders(register: Register) -> None:
    """Register encoders: ``register(name, factory, **meta)``.

    ``factory(*, in_channels: int, rngs: flax.nnx.Rngs, **options)`` returns an ``nnx.Module``
    called as ``encoder(x, *, key=None) -> (code, skips)``: ``x`` is NHWC float32, ``code`` an
    array, ``skips`` a tuple of arrays the matching decoder consumes. Randomness (dropout) happens
    only when a PRNG ``key`` is given (training); ``key=None`` is deterministic inference.
    During a training call a module may ``self.sow(zoo.model.Penalty, name, value)`` a scalar
    that the training loss adds (the DLI net's L1 activity regulariser does); decoders may too.
    """


@kind("decoder", engine=("code", "skips", "out_channels", "upscale", "rngs"))
def register_decoders(register: Register) -> None:
    """Register decoders: ``register(name, factory, **meta)``.

    ``factory(*, code, skips, out_channels: int, upscale: int, rngs: flax.nnx.Rngs, **options)``
    receives the encoder's output shapes as ``jax.ShapeDtypeStruct`` (``code``) and a tuple of them
    (``skips``), and returns an ``nnx.Module`` called as ``decoder(code, skips, *, key=None) -> y``
    with ``y`` NHWC float32 of ``upscale`` times the encoder input's height and width and
    ``out_channels`` channels. ``upscale`` is 1 when the model sees the upsampled image
    (``model.input: upsampled``) and the recipe's scale when it sees the low-resolution image.
    A decoder that cannot serve the given shapes raises ``ValueError`` saying why.
    """


@kind("degradation", engine=("scale",))
def register_degradations(register: Register) -> None:
    """Register degradation models: ``register(name, factory, jittable=True, **meta)``.

    ``factory(*, scale: int, **options)`` returns ``degrade(hr, key) -> lr``: ``hr`` NHWC float32
    in [0, 1] with height and width divisible by ``scale``, ``key`` a ``jax.random`` key, ``lr``
    NHWC float32 in [0, 1] of ``1/scale`` the size. The same key gives the same ``lr``. Meta
    ``jittable=False`` declares a degradation that must run on the host (e.g. JPEG).
    """


@kind("metric", required_meta={"higher_is_better": bool, "differentiable": bool})
def register_metrics(register: Register) -> None:
    """Register metrics: ``register(name, factory, higher_is_better=..., differentiable=...)``.

    ``factory(**options)`` returns ``metric(pred, target) -> values``: both NHWC float32 in
    [0, 1], ``values`` float32 of shape ``[N]``, one per image; pure ``jax.numpy``, jittable.
    Both meta keys are required: ``higher_is_better`` (bool) orders results, and
    ``differentiable`` (bool) says whether the metric may appear in a training ``loss``.
    """


@kind("upscaler")
def register_upscalers(register: Register) -> None:
    """Register classic upscalers: ``register(name, factory, **meta)``.

    ``factory(**options)`` returns ``upscale(lr, scale) -> image``: ``lr`` NHWC float32 in [0, 1],
    ``scale`` a Python int, ``image`` NHWC float32 of exactly ``scale`` times the height and width,
    not clipped (callers clip). Jittable with ``scale`` static.
    """


@kind("dataset", engine=("split",))
def register_datasets(register: Register) -> None:
    """Register datasets of high-resolution images: ``register(name, factory, splits=(...))``.

    ``factory(*, split: str, **options)`` returns a random-access sequence: ``len(ds)`` and
    ``ds[i]`` -> ``numpy.ndarray`` uint8 of shape ``(H, W, 3)``, RGB. It may carry ``names``, a
    sequence of per-image names for reports, and ``single_channel``, a sequence of bools saying
    which images were grey at the source (the ``y`` convention scores those on their grey
    level, as the published protocol does). Meta ``splits`` lists the valid split names.
    Errors about the data name the offending file and say what to do.
    """


@kind(
    "model",
    required_meta={"scale": int, "sha256": str},
    has_options=False,
    factory_from_meta="zoo.models:pretrained",
)
def register_models(register: Register) -> None:
    """Register pretrained models: ``register(name, weights=..., recipe=..., **meta)``.

    ``weights`` is a weights file (`zoo export` writes one) shipped inside the package, named
    with ``importlib.resources.files(__package__) / "name.zoo"`` so it is read from an
    installed wheel too; ``recipe`` is its resolved recipe (a mapping, or a JSON file named the
    same way; the file holds one too and the two must agree). Meta ``scale`` (int) and
    ``sha256`` (the file's, as ``sha256sum`` prints it) are required; ``zoo models`` also shows
    ``parameters``, ``metrics`` ({dataset: {psnr, ssim, convention, command}}, ``command`` the
    `zoo eval ... --json` that measured them; more keys, such as ``bicubic_psnr``, are kept),
    ``paper`` (the same shape), ``training`` (how it was trained, for how long),
    ``training_data``, ``licence`` and ``description``. `zoo export --catalog` writes what it
    can of this.
    """


@kind("logger", engine=("directory", "start_step"))
def register_loggers(register: Register) -> None:
    """Register training loggers: ``register(name, factory, **meta)``; a recipe turns them on
    with ``log: [jsonl, tensorboard]``.

    ``factory(*, directory: pathlib.Path, start_step: int, **options)`` returns a ``Logger``:
    ``scalars(step, values)`` with ``values`` a mapping of names (``train/loss``,
    ``train/learning_rate``, ``train/step_time_s``, ``eval/psnr`` or ``val/psnr``) to floats,
    ``images(step, images)`` with ``images`` a mapping of names to uint8 HWC RGB arrays (the
    side-by-side crops of each evaluation), and ``close()``. ``directory`` is the run's
    ``logs`` folder (made already): write under it. ``start_step`` is 0 for a new run, and for
    a resumed one the checkpoint's step: drop what was logged after it, since those steps are
    trained again. Loggers run on process 0 only, outside the compiled step.
    """


@kind("command", has_options=False)
def register_commands(register: Register) -> None:
    """Register extra CLI commands: ``register(name, command)``.

    ``command`` is a ``click.Command``; it appears as ``zoo <name>``. Names of built-in commands
    (run, eval, upscale, plugins, recipes) are reserved.
    """


def hook_names() -> list[str]:
    """The names of every hook in this contract, in declaration order."""
    return [kind.hook for kind in KINDS.values()]
