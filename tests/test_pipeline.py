"""The Grain input pipeline: shares of a batch, host degradation keys, saved positions, workers."""

from __future__ import annotations

import numpy as np
import pytest
from tiny import tiny_recipe, train_tiny

from zoo import checkpoint, pipeline
from zoo.checkpoint.restore import load_params
from zoo.data import PatchSampler
from zoo.recipe import PluginRef
from zoo.train import train_and_evaluate

JPEG = PluginRef.model_validate({"name": "blur_noise_jpeg", "jpeg_quality": [30, 40]})


def sampler(batch: int = 4) -> PatchSampler:
    rng = np.random.default_rng(0)
    images = [rng.integers(0, 256, (24 + 4 * i, 20 + 2 * i, 3), dtype=np.uint8) for i in range(3)]
    return PatchSampler(images, patch=8, batch=batch, seed=3)


def test_a_share_of_a_batch_is_those_rows_of_the_whole_batch():
    whole = sampler().batch_at(5)
    np.testing.assert_array_equal(sampler().batch_at(5, (0, 1)), whole[:2])
    np.testing.assert_array_equal(sampler().batch_at(5, (2, 3)), whole[2:])
    np.testing.assert_array_equal(sampler().batch_at(5, (3,)), whole[3:])


class Sharding:
    """Stands in for a NamedSharding seen from one process of a job."""

    def __init__(self, *slices: slice) -> None:
        self.slices = slices

    def addressable_devices_indices_map(self, shape):
        return {
            f"device {i}": (s,) + (slice(None),) * (len(shape) - 1)
            for i, s in enumerate(self.slices)
        }


def test_a_process_cuts_the_rows_its_devices_hold():
    assert pipeline.process_rows(Sharding(slice(0, 2), slice(2, 4)), (4, 8, 8, 3)) == (0, 1, 2, 3)
    assert pipeline.process_rows(Sharding(slice(4, 6), slice(6, 8)), (8,)) == (4, 5, 6, 7)
    assert pipeline.process_rows(Sharding(slice(2, 3)), (4,)) == (2,)


def test_host_degradation_keys_each_row_by_its_place_in_the_batch():
    degrade = pipeline.HostDegradation(JPEG, scale=2, seed=1)
    hr = sampler().batch_at(2)
    whole = degrade(hr, 2, (0, 1, 2, 3))
    assert whole.shape == (4, 4, 4, 3)
    # Two processes with two rows each spoil them exactly as one process does all four.
    shares = np.concatenate([degrade(hr[:2], 2, (0, 1)), degrade(hr[2:], 2, (2, 3))])
    np.testing.assert_array_equal(shares, whole)
    assert not np.array_equal(degrade(hr, 3, (0, 1, 2, 3)), whole)  # another step, other keys


def batch_at(degrade: pipeline.HostDegradation | None = None) -> pipeline.BatchAt:
    return pipeline.BatchAt(sampler(), (0, 1, 2, 3), degrade)


def take(batches: pipeline.Batches, count: int) -> list[dict[str, np.ndarray]]:
    try:
        return [next(batches) for _ in range(count)]
    finally:
        batches.close()


def assert_same_batches(ours, theirs):
    assert len(ours) == len(theirs)
    for mine, other in zip(ours, theirs, strict=True):
        assert mine.keys() == other.keys()
        for key in mine:
            np.testing.assert_array_equal(mine[key], other[key])


def test_the_pipeline_yields_the_sampler_batches_in_step_order():
    got = take(pipeline.Batches(batch_at(), pipeline.Options(steps=6), step=0), 6)
    assert_same_batches(got, [{"hr": sampler().batch_at(s)} for s in range(6)])


def test_a_saved_position_continues_where_it_stopped():
    options = pipeline.Options(steps=8)
    straight = take(pipeline.Batches(batch_at(), options, step=0), 8)
    first = pipeline.Batches(batch_at(), options, step=0)
    take(first, 3)
    saved = first.state()
    assert saved == {"start": 0, "workers": 0, "iterator": {"next_index": 3}}
    resumed = pipeline.Batches(batch_at(), options, step=3, saved=saved)
    assert_same_batches(take(resumed, 5), straight[3:])
    # A resumed run saves a position that a second resume continues from.
    again = pipeline.Batches(batch_at(), options, step=3, saved=saved)
    take(again, 2)
    later = pipeline.Batches(batch_at(), options, step=5, saved=again.state())
    assert_same_batches(take(later, 3), straight[5:])


def test_worker_processes_give_the_same_batches_and_resume_from_their_state():
    degrade = pipeline.HostDegradation(JPEG, scale=2, seed=1)
    threads = take(pipeline.Batches(batch_at(degrade), pipeline.Options(steps=5), step=0), 5)
    assert "lr" in threads[0]
    workers = pipeline.Options(steps=5, workers=2)
    first = pipeline.Batches(batch_at(degrade), workers, step=0)
    assert_same_batches(take(first, 3), threads[:3])
    resumed = pipeline.Batches(batch_at(degrade), workers, step=3, saved=first.state())
    assert_same_batches(take(resumed, 2), threads[3:])


@pytest.fixture(scope="module")
def jpeg_runs(tmp_path_factory):
    """A host-degraded run straight through, and the same run interrupted at step 2 and
    resumed with two worker processes (a resumable change)."""
    root = tmp_path_factory.mktemp("jpeg_pipeline")
    common = (
        "degradation={name: blur_noise_jpeg, jpeg_quality: [30, 40]}",
        "train.checkpoint_every=2",
    )
    straight = train_tiny(root / "straight", "train.steps=4", *common)
    split = train_tiny(root / "split", "train.steps=2", *common)
    return straight, split, common


def final_params(run):
    loaded = load_params(run, lambda payload, saved: list(saved), step=4)
    return {name: np.asarray(value) for name, value in loaded.state.items()}


def test_a_host_degraded_run_resumes_bit_exact_with_its_saved_position(jpeg_runs):
    straight, split, common = jpeg_runs
    assert checkpoint.load(split).data == {"start": 0, "workers": 0, "iterator": {"next_index": 2}}
    recipe = tiny_recipe("train.steps=4", "data.workers=2", *common)
    train_and_evaluate(recipe, split, resume=True, progress=False)
    ours, theirs = final_params(split), final_params(straight)
    assert ours.keys() == theirs.keys()
    for name in theirs:
        np.testing.assert_array_equal(ours[name], theirs[name], err_msg=name)
