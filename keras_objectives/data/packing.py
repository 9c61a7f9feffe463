"""Pack tokenized documents into fixed-length rows (NumPy, done once).

Documents are concatenated with an EOS after each one and the stream is cut
into rows of `length`; a document may continue from one row into the next.
This is the "concatenate and chunk" packing of GPT-2, T5 and RoBERTa's
FULL-SENTENCES setting: no token is dropped (unless `drop_remainder`) and
only the last row has padding.

`document_ids` numbers the documents inside each row 0, 1, 2..., adding one
after every EOS, so the EOS belongs to the document it ends. The padding at
the end of the last row follows the final EOS and therefore gets an id of
its own. A row that starts in the middle of a document starts at 0 too:
ids are only compared inside a row (block-diagonal attention masks, position
resets). `padding_mask` is True on real tokens and is set by position, never
by comparing token values, so `pad_id` may equal any other id.
"""

import numpy as np

from keras_objectives.api_export import keras_objectives_export
from keras_objectives.utils import check_int


def _flatten(documents_token_ids):
    """Return (flat int64 token ids, per-document lengths)."""
    if hasattr(documents_token_ids, "flat_values"):  # tf.RaggedTensor
        flat = np.asarray(documents_token_ids.flat_values)
        lengths = np.asarray(documents_token_ids.row_lengths())
        return flat.astype(np.int64), lengths.astype(np.int64)
    docs = []
    for i, doc in enumerate(documents_token_ids):
        doc = np.asarray(doc)
        if doc.ndim != 1 or (doc.size and doc.dtype.kind not in "iu"):
            raise ValueError(
                "Invalid value received for argument `documents_token_ids`. "
                "Expected a list of 1-D integer arrays, one per document. "
                f"Received, at index {i}, an array of shape {doc.shape} and "
                f"dtype {doc.dtype}."
            )
        docs.append(doc.astype(np.int64))
    if not docs:
        return np.zeros([0], np.int64), np.zeros([0], np.int64)
    lengths = np.array([d.size for d in docs], np.int64)
    return np.concatenate(docs), lengths


@keras_objectives_export("keras_objectives.data.pack")
def pack(documents_token_ids, length, eos_id, pad_id, drop_remainder=False,
         word_starts=None):
    """Concatenate documents, an EOS after each, and cut rows of `length`.

    Args:
        documents_token_ids: a list of 1-D integer arrays (one per document,
            without EOS), or a `tf.RaggedTensor` of shape `[docs, None]`.
        length: int >= 2, the row length (`objective.raw_length`).
        eos_id: int, appended after every document (`[SEP]`,
            `special_tokens.eos_id`). Documents must not contain it.
        pad_id: int, fills the end of the last row.
        drop_remainder: bool. If True, drop the last, incomplete row
            instead of padding it.
        word_starts: optional list of 1-D bool arrays aligned with
            `documents_token_ids`, True on the first token of every word
            (`keras_objectives.data.word_boundaries`). They are packed the
            same way into a `word_starts` feature (True on each EOS, False
            on padding).

    Returns:
        A dict of numpy arrays with `N` rows: `token_ids` `[N, length]`
        int32, `padding_mask` `[N, length]` bool and `document_ids`
        `[N, length]` int32 (and `word_starts` `[N, length]` bool, when
        given). `N = ceil(tokens / length)` where `tokens`
        counts one EOS per document (`floor` with `drop_remainder`).

    Examples:

    >>> packed = pack([[7, 8, 9], [5], [6, 6]], length=4, eos_id=3, pad_id=0)
    >>> packed["token_ids"].tolist()
    [[7, 8, 9, 3], [5, 3, 6, 6], [3, 0, 0, 0]]
    >>> packed["document_ids"].tolist()
    [[0, 0, 0, 0], [0, 0, 1, 1], [0, 1, 1, 1]]
    >>> packed["padding_mask"].tolist()[2]
    [True, False, False, False]
    >>> pack([[7, 8, 9]], length=4, eos_id=3, pad_id=0,
    ...      word_starts=[[True, False, True]])["word_starts"].tolist()
    [[True, False, True, True]]
    """
    length = check_int("length", length, minimum=2)
    eos_id = check_int("eos_id", eos_id, minimum=0)
    pad_id = check_int("pad_id", pad_id, minimum=0)
    flat, lengths = _flatten(documents_token_ids)
    if flat.size and (flat.min() < 0 or flat.max() > np.iinfo(np.int32).max):
        raise ValueError(
            "Invalid value received for argument `documents_token_ids`. "
            "Expected non-negative int32 token ids. Received ids in "
            f"[{flat.min()}, {flat.max()}]."
        )
    hits = np.flatnonzero(flat == eos_id)
    if hits.size:
        doc = int(np.searchsorted(np.cumsum(lengths), hits[0], side="right"))
        raise ValueError(
            "Invalid value received for argument `documents_token_ids`. "
            f"Expected documents without the separator eos_id={eos_id}, "
            f"which `pack` appends itself. Received it inside document "
            f"{doc}. Remove it from the documents, or pass the right "
            "`eos_id`."
        )
    num_docs = lengths.size
    total = int(lengths.sum()) + num_docs  # one EOS per document
    ends = np.cumsum(lengths + 1) - 1  # position of each EOS
    is_eos = np.zeros([total], bool)
    is_eos[ends] = True
    stream = np.empty([total], np.int32)
    stream[is_eos] = eos_id
    stream[~is_eos] = flat
    # Global document index: the number of EOS strictly before a position.
    doc_index = np.repeat(np.arange(num_docs, dtype=np.int64), lengths + 1)

    num_rows = total // length if drop_remainder else -(-total // length)
    size = num_rows * length
    token_ids = np.full([size], pad_id, np.int32)
    document_ids = np.full([size], num_docs, np.int64)
    kept = min(size, total)
    token_ids[:kept] = stream[:kept]
    document_ids[:kept] = doc_index[:kept]
    padding_mask = np.arange(size) < kept

    document_ids = document_ids.reshape([num_rows, length])
    document_ids -= document_ids[:, :1]
    out = {
        "token_ids": token_ids.reshape([num_rows, length]),
        "padding_mask": padding_mask.reshape([num_rows, length]),
        "document_ids": document_ids.astype(np.int32),
    }
    if word_starts is not None:
        flags = _flat_word_starts(word_starts, lengths)
        packed = np.zeros([size], bool)
        stream = np.ones([total], bool)
        stream[~is_eos] = flags
        packed[:kept] = stream[:kept]
        out["word_starts"] = packed.reshape([num_rows, length])
    return out


def _flat_word_starts(word_starts, lengths):
    flags = [np.asarray(w, bool).reshape([-1]) for w in word_starts]
    sizes = np.array([f.size for f in flags], np.int64)
    if len(flags) != lengths.size or not np.array_equal(sizes, lengths):
        raise ValueError(
            "Invalid value received for argument `word_starts`. Expected "
            "one bool array per document, as long as its token ids. "
            f"Received {len(flags)} arrays for {lengths.size} documents "
            "(or lengths that differ). Compute them with "
            "`keras_objectives.data.word_boundaries.word_starts`."
        )
    return np.concatenate(flags) if flags else np.zeros([0], bool)


@keras_objectives_export("keras_objectives.data.unpack")
def unpack(packed, eos_id):
    """Rebuild the documents from packed rows: the inverse of `pack`.

    Args:
        packed: a dict with `token_ids` and `padding_mask` (`[N, length]`),
            as returned by `pack`.
        eos_id: int, the separator `pack` used.

    Returns:
        A list of int32 arrays, one per document, without the EOS. With
        `drop_remainder=True` the last document may be cut short.

    Examples:

    >>> packed = pack([[7, 8, 9], [5], [6, 6]], length=4, eos_id=3, pad_id=0)
    >>> [d.tolist() for d in unpack(packed, eos_id=3)]
    [[7, 8, 9], [5], [6, 6]]
    """
    tokens = np.asarray(packed["token_ids"])
    mask = np.asarray(packed["padding_mask"], bool)
    stream = tokens[mask].astype(np.int32)
    ends = np.flatnonzero(stream == eos_id)
    pieces = np.split(stream, ends + 1)
    documents = [piece[:-1] for piece in pieces[:-1]]
    if pieces[-1].size:  # a document cut by drop_remainder
        documents.append(pieces[-1])
    return documents
