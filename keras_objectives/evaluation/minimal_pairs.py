"""Minimal pairs: the one intrinsic measure every arm gets.

Pairs are made from held-out text (the corpus' validation books): a short
sentence and a corrupted copy of it, by one of three perturbations:

* `swap`: two adjacent, different words trade places;
* `shuffle`: the words are put in a random order (never the original);
* `replace`: one word becomes a random frequent word of the held-out text.

Sentence-final punctuation stays at the end and the capital letter stays on
the first word, so neither gives the corruption away. Generation is
deterministic from the seed (pair `i` depends only on `(seed, i)`).

The model must give the original the higher score: the causal
log-probability for causal and prefix-LM arms (an empty prefix, i.e.
causal), the MLM pseudo-log-likelihood (Salazar et al., 2020) for
bidirectional MLM arms and for ELECTRA through its generator, and the
T5-style pseudo-log-likelihood for span-corruption / denoising arms.
"""

import re
from collections import Counter

import numpy as np

from keras_objectives.api_export import keras_objectives_export
from keras_objectives.data.chinese import CJK_MAJORITY
from keras_objectives.data.chinese import cjk_share
from keras_objectives.evaluation import common
from keras_objectives.evaluation import scoring
from keras_objectives.utils import check_int
from keras_objectives.utils import invalid

PERTURBATIONS = ("swap", "shuffle", "replace")
_SENTENCE_END = re.compile(r"(?<=[.!?])\s+")
_WORD = re.compile(r"^[A-Za-z][A-Za-z'-]*$")


def candidate_sentences(texts, min_words=4, max_words=12):
    """Short prose sentences of `texts`, in order, without duplicates.

    A candidate starts with a letter, ends with `.`, `!` or `?`,
    has `min_words` to `max_words` words and at most one non-alphabetic
    word before the end (no headings, numbers or verse fragments).
    """
    seen, out = set(), []
    for text in texts:
        for sentence in _SENTENCE_END.split(" ".join(text.split())):
            words = sentence.split()
            if not (min_words <= len(words) <= max_words):
                continue
            if not (sentence[0].isalpha() and sentence[-1] in ".!?"):
                continue
            if sentence.isupper() or any(c.isdigit() for c in sentence):
                continue
            core = [w.strip(".,;:!?\"'()") for w in words]
            if sum(not _WORD.match(w) for w in core) > 1:
                continue
            if sentence not in seen:
                seen.add(sentence)
                out.append(sentence)
    return out


def frequent_words(sentences, top_k=100):
    """The `top_k` most frequent lowercase alphabetic words, ties by word."""
    counts = Counter(
        w.strip(".,;:!?\"'()").lower()
        for s in sentences for w in s.split()
    )
    words = [w for w in counts if _WORD.match(w)]
    words.sort(key=lambda w: (-counts[w], w))
    return words[:top_k]


def _recase(words, order, capital):
    """Move the sentence-initial capital along with the words.

    `order[j]` is the original index of the word now at `j`. The word that
    was first loses its capital (unless it is "I" or an acronym) and the
    new first word gains one; no other word changes.
    """
    words = list(words)
    if not capital or order[0] == 0:
        return words
    j = order.index(0)
    if words[j] != "I" and not words[j][1:2].isupper():
        words[j] = words[j][0].lower() + words[j][1:]
    words[0] = words[0][0].upper() + words[0][1:]
    return words


def perturb(sentence, kind, rng, vocabulary):
    """One corrupted copy of `sentence`, or `None` if `kind` cannot apply."""
    end = sentence[-1]
    words = sentence[:-1].split()
    capital = words[0][:1].isupper()
    lowered = [w.lower() for w in words]
    order = list(range(len(words)))
    if kind == "swap":
        places = [i for i in range(len(words) - 1)
                  if lowered[i] != lowered[i + 1]]
        if not places:
            return None
        i = places[rng.integers(len(places))]
        order[i], order[i + 1] = i + 1, i
    elif kind == "shuffle":
        if len(set(lowered)) < 2:
            return None
        order = [int(j) for j in rng.permutation(len(words))]
        if [lowered[j] for j in order] == lowered:
            order = order[1:] + order[:1]
    elif kind == "replace":
        i = int(rng.integers(len(words)))
        core = words[i].strip(".,;:!?\"'()")
        choices = [v for v in vocabulary if v != core.lower()]
        if not core or not choices:
            return None
        words = list(words)
        words[i] = words[i].replace(core, choices[rng.integers(
            len(choices))], 1)
        if i == 0 and capital:
            words[0] = words[0][0].upper() + words[0][1:]
    else:
        raise invalid("kind", kind, f"one of {list(PERTURBATIONS)}")
    new = _recase([words[j] for j in order], order, capital)
    bad = " ".join(new) + end
    return None if bad == sentence else bad


@keras_objectives_export("keras_objectives.evaluation.make_minimal_pairs")
def make_minimal_pairs(texts, num_pairs=300, seed=0, min_words=4,
                       max_words=12, perturbations=PERTURBATIONS):
    """Deterministic minimal pairs from held-out text.

    Args:
        texts: list of str, held-out documents.
        num_pairs: int, pairs to make (fewer if the text runs out).
        seed: int; the sentences and each corruption follow from it.
        min_words, max_words: int, the sentence length range in words.
        perturbations: the kinds to cycle through, from
            `("swap", "shuffle", "replace")`.

    Returns:
        A list of dicts `{"good", "bad", "kind"}`; kinds take turns.

    Examples:

    >>> text = ("The old man sat by the fire. She walked to the town. "
    ...         "We saw a bird in the tree.")
    >>> pairs = make_minimal_pairs([text], num_pairs=3, seed=1)
    >>> [p["kind"] for p in pairs]
    ['swap', 'shuffle', 'replace']
    >>> all(p["good"] != p["bad"] for p in pairs)
    True
    >>> pairs == make_minimal_pairs([text], num_pairs=3, seed=1)
    True
    """
    check_int("num_pairs", num_pairs, minimum=1)
    check_int("seed", seed, minimum=0)
    for kind in perturbations:
        if kind not in PERTURBATIONS:
            raise invalid("perturbations", perturbations,
                          f"a list drawn from {list(PERTURBATIONS)}")
    sentences = candidate_sentences(texts, min_words, max_words)
    vocabulary = frequent_words(sentences)
    return draw_pairs(
        sentences, num_pairs, perturbations, seed,
        lambda index, kind, rng: perturb(sentences[index], kind, rng,
                                         vocabulary))


def draw_pairs(sentences, num_pairs, perturbations, seed, make_bad):
    """Pairs from sentences in a seeded order, the kinds in rotation.

    `make_bad(index, kind, rng)` returns the perturbed sentence, or `None`
    to skip the sentence; `rng` is keyed on `(seed, index)`.
    """
    order = np.random.default_rng(seed).permutation(len(sentences))
    pairs = []
    for index in order:
        if len(pairs) == num_pairs:
            break
        kind = perturbations[len(pairs) % len(perturbations)]
        rng = np.random.default_rng([seed, int(index)])
        bad = make_bad(int(index), kind, rng)
        if bad is not None:
            pairs.append({"good": sentences[index], "bad": bad, "kind": kind})
    return pairs


PAIR_KEYS = ("accuracy",) + tuple(f"accuracy_{k}" for k in PERTURBATIONS)


@keras_objectives_export("keras_objectives.evaluation.evaluate_minimal_pairs")
def evaluate_minimal_pairs(model, objective, corpus, seed=0, num_pairs=300,
                           texts=None, pairs=None, batch_size=64, **options):
    """Accuracy at preferring the original sentence of each minimal pair.

    Args:
        model: the pre-trainer (`load_run(...)[0]`).
        objective: its `Objective`; picks the scoring (module docstring).
        corpus: the prepared corpus (tokenizer, special tokens, held-out
            `validation_texts`).
        seed: int, the pair-generation seed.
        num_pairs: int, pairs to generate (a few hundred keep it fast).
        texts: optional held-out documents instead of the corpus'.
        pairs: optional ready-made pairs (dicts with `good`, `bad`, `kind`).
        batch_size: int.
        **options: `min_words`, `max_words`, `perturbations` for
            `make_minimal_pairs` (for mostly-CJK text,
            `make_chinese_minimal_pairs` and its options).

    Returns:
        A dict: `accuracy` and `accuracy_<kind>` (a tie counts one half),
        `pairs`, `pairs_<kind>`, `ties` and `scoring` (`"causal"`,
        `"masked_pll"` or `"denoising_pll"`). Metrics are `None`, with a
        `reason`, for an arm that has no way to score a sentence.
    """
    kind, reason = scoring.scoring_kind(model, objective)
    if kind is None:
        return common.skipped(reason, PAIR_KEYS)
    if pairs is None:
        texts = texts if texts is not None else common.validation_texts(
            corpus)
        if cjk_share(texts) >= CJK_MAJORITY:  # Chinese: no spaces.
            from keras_objectives.evaluation.chinese import (
                make_chinese_minimal_pairs,
            )

            pairs = make_chinese_minimal_pairs(texts, num_pairs, seed,
                                               **options)
        else:
            pairs = make_minimal_pairs(texts, num_pairs, seed, **options)
    if not pairs:
        raise ValueError(
            "Invalid value received for argument `texts`: no sentence of "
            "the held-out text qualifies for minimal pairs. Received: "
            f"{len(texts or [])} documents. Pass longer prose, or widen "
            "`min_words`/`max_words`."
        )
    sentences = [p["good"] for p in pairs] + [p["bad"] for p in pairs]
    scores = scoring.sentence_scores(model, objective, corpus, sentences,
                                     kind, batch_size)
    good, bad = scores[:len(pairs)], scores[len(pairs):]
    correct = np.where(good > bad, 1.0, np.where(good == bad, 0.5, 0.0))
    kinds = np.array([p["kind"] for p in pairs])
    result = {
        "accuracy": float(correct.mean()),
        "pairs": len(pairs),
        "ties": int((good == bad).sum()),
        "scoring": kind,
    }
    for k in PERTURBATIONS:
        chosen = kinds == k
        result[f"accuracy_{k}"] = (float(correct[chosen].mean())
                                   if chosen.any() else None)
        result[f"pairs_{k}"] = int(chosen.sum())
    return result
