"""Synthetic batches shared by the benchmarks: Zipf ids, BOS/EOS, padding."""

import numpy as np


def zipf_features(rows, length, vocabulary_size, first_id, bos_id, eos_id,
                  pad_id, seed=0):
    """`[BOS] ... [EOS]` rows of Zipf ids over `[first_id, vocabulary_size)`.

    A quarter of the rows are shorter than `length` (half to full length)
    and padded with `pad_id`. Returns numpy `token_ids` (int32),
    `padding_mask` (bool) and `example_ids` (int64, the row index).
    """
    rng = np.random.default_rng(seed)
    ranks = np.arange(1, vocabulary_size - first_id + 1)
    probs = 1.0 / ranks
    token_ids = rng.choice(ranks, size=(rows, length), p=probs / probs.sum())
    token_ids = (token_ids + first_id - 1).astype(np.int32)
    valid = np.where(rng.random(rows) < 0.25,
                     rng.integers(length // 2, length, rows), length)
    position = np.arange(length)[None, :]
    token_ids[:, 0] = bos_id
    token_ids[position == valid[:, None] - 1] = eos_id
    padding_mask = position < valid[:, None]
    token_ids[~padding_mask] = pad_id
    return {
        "token_ids": token_ids,
        "padding_mask": padding_mask,
        "example_ids": np.arange(rows, dtype=np.int64),
    }
