import numpy as np
import pytest
import tensorflow as tf

from keras_objectives.data.packing import pack
from keras_objectives.data.pipeline import make_dataset
from tests.test_case import two_cpus

LENGTH = 8


def _packed(num_rows=37, seed=0):
    """Packed rows whose first token encodes the row index (100 + row)."""
    rng = np.random.default_rng(seed)
    docs = []
    for row in range(num_rows):
        cut = int(rng.integers(1, LENGTH - 2))
        docs.append(np.concatenate([[100 + row], rng.integers(5, 99, cut)]))
        docs.append(rng.integers(5, 99, LENGTH - 3 - cut))
    packed = pack(docs, LENGTH, eos_id=3, pad_id=0)
    assert packed["token_ids"].shape == (num_rows, LENGTH)
    return packed


def _take(ds, n=None):
    batches = ds if n is None else ds.take(n)
    return [{k: v.numpy() for k, v in b.items()} for b in batches]


def _ids(batches):
    return np.concatenate([b["example_ids"] for b in batches])


def test_features_dtypes_static_shapes_and_gathered_rows():
    packed = _packed()
    ds = make_dataset(packed, batch_size=5, seed=3, num_epochs=1)
    spec = ds.element_spec
    assert set(spec) == {"token_ids", "padding_mask", "document_ids",
                         "example_ids", "epoch", "stream_index"}
    for name, dtype, shape in [
        ("token_ids", tf.int32, [5, LENGTH]),
        ("padding_mask", tf.bool, [5, LENGTH]),
        ("document_ids", tf.int32, [5, LENGTH]),
        ("example_ids", tf.int64, [5]),
        ("epoch", tf.int64, [5]),
        ("stream_index", tf.int64, [5]),
    ]:
        assert spec[name].dtype == dtype
        assert spec[name].shape.as_list() == shape
    assert ds.cardinality().numpy() == 37 // 5
    for batch in _take(ds):
        rows = batch["example_ids"]
        for key in ("token_ids", "padding_mask", "document_ids"):
            np.testing.assert_array_equal(batch[key], packed[key][rows])
        np.testing.assert_array_equal(batch["token_ids"][:, 0], 100 + rows)


def test_same_seed_same_batches_other_seed_differs():
    packed = _packed()
    a = _ids(_take(make_dataset(packed, 4, seed=7), 20))
    b = _ids(_take(make_dataset(packed, 4, seed=7, num_parallel_calls=1), 20))
    c = _ids(_take(make_dataset(packed, 4, seed=8), 20))
    np.testing.assert_array_equal(a, b)
    assert not np.array_equal(a, c)


def test_every_epoch_is_a_new_permutation():
    n = 37
    packed = _packed(n)
    batches = _take(make_dataset(packed, 5, seed=11, num_epochs=4))
    ids, epochs = _ids(batches), np.concatenate([b["epoch"] for b in batches])
    assert len(ids) == (4 * n // 5) * 5  # the incomplete batch is dropped
    np.testing.assert_array_equal(epochs, np.arange(len(ids)) // n)
    orders = [ids[epochs == e] for e in range(3)]
    for order in orders:
        assert sorted(order) == list(range(n))
    assert not np.array_equal(orders[0], orders[1])
    assert not np.array_equal(orders[0], np.arange(n))


@pytest.mark.parametrize("n", [1, 2, 3, 17, 256, 1000])
def test_index_shuffle_is_a_bijection(n):
    packed = {"token_ids": np.zeros([n, 2], np.int32),
              "padding_mask": np.ones([n, 2], bool)}
    for seed in (0, 12345):
        ds = make_dataset(packed, batch_size=n, seed=seed, num_epochs=2)
        for batch in _take(ds):
            assert sorted(batch["example_ids"]) == list(range(n))
            assert "document_ids" not in batch


def test_no_shuffle_is_the_stream_order():
    packed = _packed(10)
    ids = _ids(_take(make_dataset(packed, 4, seed=0, shuffle=False,
                                  start_example=6), 3))
    np.testing.assert_array_equal(ids, np.arange(6, 18) % 10)


@pytest.mark.parametrize("num_epochs", [None, 3])
def test_resume_gives_the_same_batches(num_epochs):
    packed = _packed()
    batch = 6
    full = _take(make_dataset(packed, batch, seed=5, num_epochs=num_epochs),
                 15)
    for step in (1, 6, 13):
        resumed = _take(
            make_dataset(packed, batch, seed=5, start_example=step * batch,
                         num_epochs=num_epochs),
            15 - step,
        )
        assert len(resumed) == 15 - step
        for x, y in zip(full[step:], resumed, strict=False):
            for key in x:
                np.testing.assert_array_equal(x[key], y[key])


def _context(workers, worker, replicas):
    return tf.distribute.InputContext(
        num_input_pipelines=workers, input_pipeline_id=worker,
        num_replicas_in_sync=replicas,
    )


def test_two_workers_split_every_global_batch():
    packed = _packed()
    batch = 6
    single = _take(make_dataset(packed, batch, seed=9, num_epochs=2))
    shards = [
        _take(make_dataset(packed, batch, seed=9, num_epochs=2,
                           input_context=_context(2, w, 2)))
        for w in range(2)
    ]
    assert len(shards[0]) == len(shards[1]) == len(single)
    for step, whole in enumerate(single):
        first, second = shards[0][step], shards[1][step]
        assert first["token_ids"].shape == (3, LENGTH)
        for key in whole:
            np.testing.assert_array_equal(
                np.concatenate([first[key], second[key]]), whole[key]
            )
    # Disjoint within an epoch: no row is read by both workers.
    epoch0 = [
        set(_ids(shard)[np.concatenate([b["epoch"] for b in shard]) == 0])
        for shard in shards
    ]
    assert epoch0[0].isdisjoint(epoch0[1])
    assert len(epoch0[0] | epoch0[1]) == 37  # all of epoch 0 was read


def test_one_worker_two_replicas_yields_replica_slices():
    packed = _packed()
    single = _take(make_dataset(packed, 6, seed=2), 4)
    slices = _take(make_dataset(packed, 6, seed=2,
                                input_context=_context(1, 0, 2)), 8)
    for step, whole in enumerate(single):
        np.testing.assert_array_equal(
            np.concatenate([slices[2 * step]["example_ids"],
                            slices[2 * step + 1]["example_ids"]]),
            whole["example_ids"],
        )


def test_mirrored_strategy_distributes_the_global_batch():
    strategy = two_cpus()
    packed = _packed()
    dist = strategy.distribute_datasets_from_function(
        lambda ctx: make_dataset(packed, 6, seed=4, input_context=ctx)
    )
    step = next(iter(dist))
    per_replica = strategy.experimental_local_results(step["example_ids"])
    assert [x.shape[0] for x in per_replica] == [3, 3]
    whole = _take(make_dataset(packed, 6, seed=4), 1)[0]
    np.testing.assert_array_equal(np.concatenate(per_replica),
                                  whole["example_ids"])


def test_transform_is_mapped():
    packed = _packed()

    def transform(features):
        return features["token_ids"][:, 1:], features["example_ids"]

    ds = make_dataset(packed, 4, seed=1, transform=transform)
    x, ids = next(iter(ds))
    assert x.shape == (4, LENGTH - 1)
    np.testing.assert_array_equal(x.numpy(),
                                  packed["token_ids"][ids.numpy()][:, 1:])


def test_errors():
    packed = _packed(10)
    with pytest.raises(ValueError, match="10 rows, fewer than one batch"):
        make_dataset(packed, 11, seed=0)
    with pytest.raises(ValueError, match="batch_size.*divisible by the 4"):
        make_dataset(packed, 6, seed=0, input_context=_context(2, 0, 4))
    with pytest.raises(ValueError, match="start_example"):
        make_dataset(packed, 4, seed=0, num_epochs=1, start_example=8)
    with pytest.raises(ValueError, match="seed"):
        make_dataset(packed, 4, seed=-1)
    with pytest.raises(ValueError, match="num_epochs"):
        make_dataset(packed, 4, seed=0, num_epochs=0)
    with pytest.raises(ValueError, match="packed"):
        make_dataset({"token_ids": packed["token_ids"]}, 4, seed=0)
    with pytest.raises(ValueError, match="document_ids of shape"):
        make_dataset(dict(packed, document_ids=np.zeros([10, 3])), 4, seed=0)


def test_stream_index_is_the_global_position_after_a_resume():
    packed = _packed()
    batches = _take(make_dataset(packed, 4, seed=1, start_example=8), 3)
    np.testing.assert_array_equal(
        np.concatenate([b["stream_index"] for b in batches]),
        np.arange(8, 20))
    for b in batches:  # epoch and row follow from the position.
        np.testing.assert_array_equal(b["epoch"], b["stream_index"] // 37)
