"""A deterministic, resumable, shardable tf.data pipeline over packed rows.

The pipeline is a pure function of a global stream index. Position
`g = start_example, start_example + 1, ...` of the stream holds

* `epoch = g // N`, where `N` is the number of packed rows;
* `example_ids = shuffle(g % N)`, the packed row shown there: a stateless
  per-epoch permutation (`tf.random.experimental.index_shuffle` keyed on
  `[seed, epoch]`), with O(1) random access, so every row appears exactly
  once per epoch; or `g % N` without shuffling.

Global batch `k` holds stream positions `[start + k*B, start + (k+1)*B)`.
Nothing depends on iterator state, so resuming after `s` global batches is
`start_example = s * B` and gives exactly the batches an uninterrupted run
would have. The rows are gathered from in-memory tensors (the packed corpus
must fit in memory, and under 2 GB per array).

With a `tf.distribute.InputContext`, `batch_size` is the *global* batch
size `B`. Each replica takes a contiguous slice of `B / replicas` rows of
every global batch, and each input pipeline (worker) yields the slices of its
own replicas in order, as `distribute_datasets_from_function` expects. So the
union over workers of one step is exactly the single-worker global batch,
and no row is read twice within an epoch.
"""

import tensorflow as tf

from keras_objectives.api_export import keras_objectives_export
from keras_objectives.utils import check_int
from keras_objectives.utils import invalid

FEATURES = ("token_ids", "padding_mask", "document_ids", "word_starts")


def _packed_tensors(packed):
    if not isinstance(packed, dict) or not {
        "token_ids", "padding_mask"
    } <= set(packed):
        raise invalid(
            "packed",
            type(packed).__name__,
            "a dict with `token_ids` and `padding_mask` of shape "
            "[rows, length] (and optionally `document_ids`), as returned "
            "by `keras_objectives.data.pack`",
        )
    dtypes = {"token_ids": tf.int32, "padding_mask": tf.bool,
              "document_ids": tf.int32, "word_starts": tf.bool}
    tensors = {
        k: tf.convert_to_tensor(packed[k], dtypes[k])
        for k in FEATURES
        if k in packed
    }
    shape = tensors["token_ids"].shape
    for name, t in tensors.items():
        if t.shape.rank != 2 or t.shape != shape:
            raise ValueError(
                "Invalid value received for argument `packed`. Expected "
                "`token_ids`, `padding_mask`, `document_ids` and "
                "`word_starts` of one "
                f"shape [rows, length]. Received: {name} of shape {t.shape} "
                f"and token_ids of shape {shape}."
            )
    return tensors, int(shape[0]), int(shape[1])


def _layout(batch_size, input_context):
    """(per-replica batch, replicas per worker, this worker's index)."""
    if input_context is None:
        return batch_size, 1, 0
    replicas = input_context.num_replicas_in_sync
    workers = input_context.num_input_pipelines
    if replicas % workers:
        raise ValueError(
            "Invalid value received for argument `input_context`. Expected "
            "`num_replicas_in_sync` to be a multiple of "
            f"`num_input_pipelines`. Received: {replicas} replicas over "
            f"{workers} input pipelines."
        )
    if batch_size % replicas:
        raise invalid(
            "batch_size",
            batch_size,
            f"a global batch size divisible by the {replicas} replicas "
            f"in sync ({workers} input pipelines)",
            f"Use a multiple of {replicas}, for example "
            f"{max(1, batch_size // replicas) * replicas}",
        )
    return (
        batch_size // replicas,
        replicas // workers,
        input_context.input_pipeline_id,
    )


@keras_objectives_export("keras_objectives.data.make_dataset")
def make_dataset(
    packed,
    batch_size,
    seed,
    start_example=0,
    num_epochs=None,
    shuffle=True,
    input_context=None,
    transform=None,
    num_parallel_calls=tf.data.AUTOTUNE,
):
    """Batched packed features with deterministic order, resume and sharding.

    Args:
        packed: the dict of `[N, length]` arrays returned by `pack`.
        batch_size: int. The global batch size when `input_context` is
            given; otherwise the size of every batch (any per-replica
            arithmetic is then the caller's).
        seed: int, the run seed; it fixes the order of every epoch.
        start_example: int, the first global stream position to produce.
            Resume after `s` global batches with `s * batch_size`.
        num_epochs: int or `None` (repeat forever). The stream stops at
            position `num_epochs * N`, counted from the start of epoch 0,
            whatever `start_example` is; a final incomplete global batch is
            dropped.
        shuffle: bool, permute the rows afresh every epoch.
        input_context: a `tf.distribute.InputContext` or `None`.
        transform: a callable mapped over the batched features, typically
            `objective.preprocessor`, or `None`.
        num_parallel_calls: for the `map` calls. Never changes the output.

    Returns:
        A `tf.data.Dataset` of dicts with static shapes `[b, length]`:
        `token_ids` (int32), `padding_mask` (bool), `document_ids` (int32,
        when `packed` has it), `word_starts` (bool, when `packed` has it:
        segmented Chinese), and `[b]`: `example_ids` (int64, the row of
        `packed`, the same row every epoch), `epoch` (int64) and
        `stream_index` (int64, the global stream position `g`, which a
        scheduled `keras_objectives.objectives.Mixture` reads). Here `b`
        is `batch_size`, or `batch_size / num_replicas_in_sync` with an
        `input_context`. With `transform`, the dataset yields its output.

    Examples:

    >>> from keras_objectives.data.packing import pack
    >>> packed = pack([[11, 12, 13]] * 4, length=4, eos_id=3, pad_id=0)
    >>> ds = make_dataset(packed, batch_size=2, seed=1, num_epochs=2)
    >>> [b["example_ids"].numpy().tolist() for b in ds]
    [[0, 3], [1, 2], [0, 3], [2, 1]]
    >>> resumed = make_dataset(packed, 2, seed=1, start_example=4,
    ...                        num_epochs=2)
    >>> [b["epoch"].numpy().tolist() for b in resumed]
    [[1, 1], [1, 1]]
    >>> [b["stream_index"].numpy().tolist() for b in resumed]
    [[4, 5], [6, 7]]
    """
    tensors, num_rows, _ = _packed_tensors(packed)
    batch_size = check_int("batch_size", batch_size, minimum=1)
    seed = check_int("seed", seed, minimum=0)
    start = check_int("start_example", start_example, minimum=0)
    num_epochs = check_int("num_epochs", num_epochs, minimum=1,
                           allow_none=True)
    if num_rows < batch_size:
        raise ValueError(
            f"The packed corpus has {num_rows} rows, fewer than one batch "
            f"(batch_size={batch_size}). Use a smaller `batch_size`, a "
            "shorter sequence length, or more text."
        )
    per_replica, replicas_per_worker, worker = _layout(
        batch_size, input_context
    )
    if num_epochs is None:
        indices = tf.data.Dataset.counter()
    else:
        end = num_epochs * num_rows
        steps = (end - start) // batch_size
        if steps <= 0:
            raise ValueError(
                f"Invalid value received for argument `start_example`. "
                f"Expected a position at least one batch before the end of "
                f"the stream ({num_epochs} epochs x {num_rows} rows = {end}"
                f"). Received: start_example={start}. Raise `num_epochs` "
                "or lower `start_example`."
            )
        indices = tf.data.Dataset.range(steps * replicas_per_worker)

    n = tf.constant(num_rows, tf.int64)
    max_index = tf.constant(num_rows - 1, tf.int64)

    def rows(i):
        step = i // replicas_per_worker
        slot = worker * replicas_per_worker + i % replicas_per_worker
        first = start + step * batch_size + slot * per_replica
        position = first + tf.range(per_replica, dtype=tf.int64)
        epoch = position // n
        index = position % n
        if shuffle:
            # A batch spans at most two epochs, since per_replica <= N.
            first_epoch = first // n
            seeds = [tf.stack([tf.constant(seed, tf.int64), e])
                     for e in (first_epoch, first_epoch + 1)]
            index = tf.where(
                epoch == first_epoch,
                tf.random.experimental.index_shuffle(index, seeds[0],
                                                     max_index),
                tf.random.experimental.index_shuffle(index, seeds[1],
                                                     max_index),
            )
        features = {k: tf.gather(t, index) for k, t in tensors.items()}
        features["example_ids"] = index
        features["epoch"] = epoch
        features["stream_index"] = position
        return features

    dataset = indices.map(
        rows, num_parallel_calls=num_parallel_calls, deterministic=True
    )
    if transform is not None:
        dataset = dataset.map(
            transform, num_parallel_calls=num_parallel_calls,
            deterministic=True,
        )
    options = tf.data.Options()
    options.deterministic = True
    return dataset.with_options(options).prefetch(tf.data.AUTOTUNE)
