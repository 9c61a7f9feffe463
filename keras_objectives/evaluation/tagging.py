"""Token-level tagging probe (CoNLL-style chunking, POS tagging).

The same frozen backbone and attention as the sentence probe
(`common.feature_attention_mode`), read per word instead of pooled: each
sentence becomes `[CLS] pieces of word 1 ... pieces of word n [SEP]` (every
word tokenized on its own with the corpus tokenizer), and a word's feature
is the backbone output at its **first sub-token**. A `LogisticRegression`
is fit on the training words (at most `max_train_words`, whole sentences in
a seeded order) and predicts one tag per word. Causal bodies see only the
left context at that position; that is a property of the arm.

Metrics: token accuracy and `conlleval` chunk precision, recall and F1
(`metrics.chunk_f1`). A word past `sequence_length` gets no feature: it is
left out of training and predicted as the most frequent training tag
(counted in `truncated_words`).
"""

from collections import Counter

import numpy as np

from keras_objectives.api_export import keras_objectives_export
from keras_objectives.evaluation import common
from keras_objectives.evaluation import reuse
from keras_objectives.evaluation.linear_probe import seed_list
from keras_objectives.evaluation.logistic_regression import LogisticRegression
from keras_objectives.evaluation.metrics import chunk_f1
from keras_objectives.evaluation.metrics import summarize_seeds
from keras_objectives.utils import check_choice
from keras_objectives.utils import check_int


@keras_objectives_export("keras_objectives.evaluation.encode_words")
def encode_words(corpus, sentences, sequence_length, word_position="first"):
    """Rows of word pieces and the position each word is read at.

    Args:
        corpus: anything with `tokenizer` and `special_tokens`.
        sentences: list of lists of words.
        sequence_length: int, the static row length.
        word_position: `"first"` (the word's first piece, CoNLL-style) or
            `"last"` (its last piece: where a causal body has seen the
            whole word).

    Returns:
        `(token_ids, padding_mask, positions)`: int32 and bool
        `[N, sequence_length]` arrays, and per sentence a list with the
        position of each word's first (or last) piece, or -1 for a word
        cut off.
    """
    check_choice("word_position", word_position, ("first", "last"))
    special = corpus.special_tokens
    # A word's pieces do not depend on its context: tokenize each once.
    vocabulary = sorted({w for words in sentences for w in words})
    table = dict(zip(vocabulary, reuse.tokenize_cached(
        corpus.tokenizer, vocabulary), strict=True))
    pieces = [table[w] for words in sentences for w in words]
    unknown = special.unk_id if special.unk_id is not None else 0
    token_ids = np.full((len(sentences), sequence_length),
                        special.pad_id or 0, np.int32)
    padding_mask = np.zeros(token_ids.shape, bool)
    positions, k = [], 0
    for i, words in enumerate(sentences):
        row, first = [common.start_id(special)], []
        for _ in words:
            ids = pieces[k] or [unknown]
            k += 1
            at = len(row) + (len(ids) - 1 if word_position == "last" else 0)
            first.append(at if at < sequence_length - 1 else -1)
            row.extend(ids)
        row = row[:sequence_length - 1] + [special.eos_id]
        token_ids[i, :len(row)] = row
        padding_mask[i, :len(row)] = True
        positions.append(first)
    return token_ids, padding_mask, positions


def word_features(model, objective, corpus, sentences, sequence_length,
                  batch_size=32, word_position="first"):
    """Per-word features, with and without context, of the kept words.

    Returns:
        `(features [W, d], no_context [W, d], index [W, 2], positions)`:
        the backbone output and the bare token embedding at each kept
        word's first (or last) piece; `index[w] = (sentence, word)`.
    """
    token_ids, padding_mask, positions = encode_words(
        corpus, sentences, sequence_length, word_position)
    features, index, at = [], [], []
    for start, count, hidden in common.backbone_states(
            model, objective, token_ids, padding_mask, batch_size):
        for j in range(count):
            i = start + j
            kept = [(w, p) for w, p in enumerate(positions[i]) if p >= 0]
            if kept:
                features.append(hidden[j, [p for _, p in kept]])
                index.extend((i, w) for w, _ in kept)
                at.extend((i, p) for _, p in kept)
    if not features:
        empty = np.zeros((0, 0), np.float32)
        return empty, empty, np.zeros((0, 2), int), positions
    at = np.asarray(at)
    no_context = common.token_embeddings(model)[token_ids[at[:, 0],
                                                          at[:, 1]]]
    return (np.concatenate(features), no_context, np.asarray(index),
            positions)


def _training_sentences(sentences, max_words, seed):
    order = np.random.default_rng(seed).permutation(len(sentences))
    chosen, total = [], 0
    for i in order:
        if total >= max_words:
            break
        chosen.append(int(i))
        total += len(sentences[i])
    return sorted(chosen)


def tag_f1(true_sentences, predicted_sentences, outside="O"):
    """Micro precision, recall and F1 over the tags other than `outside`.

    The score of token-level tasks whose tags are not chunks
    (punctuation restoration): a word counts as found when it gets a tag
    other than `outside`, and as correct when that tag is the true one.

    >>> tag_f1([["O", "COMMA", "PERIOD"]], [["COMMA", "COMMA", "O"]])["f1"]
    0.5
    """
    found = correct = gold = 0
    for truth, guess in zip(true_sentences, predicted_sentences, strict=True):
        for t, p in zip(truth, guess, strict=True):
            gold += t != outside
            found += p != outside
            correct += t == p != outside
    precision = correct / found if found else 0.0
    recall = correct / gold if gold else 0.0
    f1 = (2 * precision * recall / (precision + recall)
          if precision + recall else 0.0)
    return {"precision": precision, "recall": recall, "f1": f1}


def _score(task, tags, predicted, prefix):
    """Token accuracy and the task's F1 (`chunk_f1` or `tag_f1`)."""
    flat_true = [t for row in tags for t in row]
    flat_pred = [t for row in predicted for t in row]
    kind = getattr(task, "metric", "chunk_f1")
    scores = (tag_f1 if kind == "tag_f1" else chunk_f1)(tags, predicted)
    name = kind.rsplit("_", 1)[0]
    out = {f"{prefix}token_accuracy": float(np.mean(
        [a == b for a, b in zip(flat_true, flat_pred, strict=True)]))}
    for key in ("f1", "precision", "recall"):
        out[f"{prefix}{name}_{key}"] = scores[key]
    return out


def _predict(task, probe, x, index, sentences, majority):
    predicted = [[majority] * len(words) for words in sentences]
    if len(x):
        for (i, w), c in zip(index, probe.predict(x), strict=True):
            predicted[i][w] = task.label_names[c]
    return predicted


@keras_objectives_export("keras_objectives.evaluation.evaluate_tagging")
def evaluate_tagging(model, objective, corpus, task, seed=0,
                     sequence_length=None, max_train_words=50_000, l2=1e-3,
                     max_iterations=300, batch_size=32, controls=True):
    """Token accuracy and F1 of a per-word linear probe, with controls.

    Args:
        model: the pre-trainer (`load_run(...)[0]`) or a backbone.
        objective: its `Objective` (decides the attention).
        corpus: the prepared corpus (tokenizer and special tokens).
        task: a `TaggingTask` (`load_conll`, `punctuation_task`) with
            `train` and `dev`. Its optional attributes `word_position`
            (`"first"`, the default, or `"last"` piece) and `metric`
            (`"chunk_f1"`, the default, or `"tag_f1"`) choose where a word
            is read and how tags are scored.
        seed: int or list of ints; a seed picks the training sentences
            (when `max_train_words` caps them) and the probe's start.
        sequence_length: int, default the objective's.
        max_train_words: int, the training budget in words.
        l2, max_iterations: the `LogisticRegression` recipe.
        batch_size: int, for feature extraction.
        controls: bool, also fit the no-context control (the same probe on
            the bare token embedding of each word) and report the
            majority-tag line.

    Returns:
        A dict with `dev_token_accuracy` and `dev_<chunk|tag>_f1`,
        `_precision`, `_recall` (and `test_*`), with `no_context_` and
        `majority_` versions when `controls`, their `_sd`, `per_seed`,
        `seeds`, `train_words`, `truncated_words`, `feature_attention`
        and `task`.
    """
    seeds = seed_list(seed)
    check_int("max_train_words", max_train_words, minimum=1)
    length = common.check_sequence_length(sequence_length, model, objective)
    position = getattr(task, "word_position", "first")
    tag_index = {t: i for i, t in enumerate(task.label_names)}
    train_sentences, train_tags = task.split("train")
    chosen = sorted(set().union(*[
        _training_sentences(train_sentences, max_train_words, s)
        for s in seeds]))
    x_all, e_all, index_all, _ = word_features(
        model, objective, corpus, [train_sentences[i] for i in chosen],
        length, batch_size, position)
    row_of = {i: r for r, i in enumerate(chosen)}
    y_all = np.array([tag_index[train_tags[chosen[s]][w]]
                      for s, w in index_all], np.int64)
    majority = Counter(t for tags in train_tags for t in tags).most_common(
        1)[0][0]
    evaluated = {}
    truncated = 0
    for split in ("dev", "test"):
        if split in task.splits:
            sentences, tags = task.splits[split]
            x, e, index, positions = word_features(
                model, objective, corpus, sentences, length, batch_size,
                position)
            truncated += sum(p < 0 for row in positions for p in row)
            evaluated[split] = (x, e, index, sentences, tags)
    kinds = {"": (x_all, 0), "no_context_": (e_all, 1)} if controls else {
        "": (x_all, 0)}
    runs = []
    for s in seeds:
        rows = {row_of[i] for i in _training_sentences(
            train_sentences, max_train_words, s)}
        keep = np.array([r in rows for r in index_all[:, 0]])
        run = {"seed": s, "train_words": int(keep.sum())}
        for prefix, (train_x, column) in kinds.items():
            probe = LogisticRegression(
                l2=l2, max_iterations=max_iterations, seed=s,
                class_weight=getattr(task, "class_weight", None))
            probe.fit(train_x[keep], y_all[keep], num_classes=len(tag_index))
            for split, values in evaluated.items():
                x, index, sentences, tags = (values[column], *values[2:])
                predicted = _predict(task, probe, x, index, sentences,
                                     majority)
                run.update(_score(task, tags, predicted, f"{prefix}{split}_"))
        if controls:
            for split, (_, _, _, sentences, tags) in evaluated.items():
                run.update(_score(task, tags, [[majority] * len(w)
                                               for w in sentences],
                                  f"majority_{split}_"))
        runs.append(run)
    keys = [k for k in runs[0] if k not in ("seed", "train_words")]
    backbone = getattr(model, "backbone", model)
    return {
        **summarize_seeds(runs, keys),
        "per_seed": runs,
        "seeds": seeds,
        "task": task.name,
        "tags": len(tag_index),
        "train_words": runs[0]["train_words"],
        "truncated_words": int(truncated),
        "feature_attention": common.feature_attention_mode(backbone,
                                                           objective),
    }
