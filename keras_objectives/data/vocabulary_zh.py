"""A CJK-aware vocabulary: every CJK character its own token (BERT-Chinese).

The WordPiece learner keeps at most 1,000 distinct characters, so on
Chinese text it drops most of the ~6,000 characters a novel uses and
leaves them `[UNK]`. `train_cjk_vocabulary` instead takes every CJK
character seen at least `min_count` times as a token, most frequent first,
and learns WordPiece tokens for the rest of the text (Latin words, digits,
punctuation) with the learner on the text with its CJK characters removed:
the vocabulary of BERT-Chinese (`bert-base-chinese`). The tokenizer is the
usual `make_tokenizer`, which splits every CJK character into a pre-token.

Characters are counted after the tokenizer's normalization (NFKC case
folding with `lowercase=True`, so a full-width `，` is `,`). Traditional and
simplified forms are distinct characters: nothing is converted.

Vocabularies are cached by content hash, like `train_vocabulary`; the one
of the default Chinese setting (`embedded-zh`, 8192, lowercase) ships in
the package.
"""

import collections
import logging
import lzma
import os

from keras_objectives.api_export import keras_objectives_export
from keras_objectives.data import _cache
from keras_objectives.data.chinese import _CJK
from keras_objectives.data.special_tokens import reserved_tokens
from keras_objectives.data.vocabulary import VOCABULARY_FORMAT
from keras_objectives.data.vocabulary import _as_documents
from keras_objectives.data.vocabulary import load_vocabulary
from keras_objectives.data.vocabulary import save_vocabulary
from keras_objectives.data.vocabulary import shipped_vocabulary_path
from keras_objectives.data.vocabulary import train_vocabulary
from keras_objectives.utils import check_int

logger = logging.getLogger(__name__)


def _normalize(text, lowercase):
    if not lowercase:
        return text
    from keras_hub.src.tokenizers.word_piece_tokenizer import casefold_utf8

    return casefold_utf8(text)


def cjk_vocabulary_key(documents, vocabulary_size, lowercase, min_count):
    header = {
        "format": VOCABULARY_FORMAT,
        "kind": "cjk_characters+wordpiece",
        "vocabulary_size": int(vocabulary_size),
        "lowercase": bool(lowercase),
        "min_count": int(min_count),
        "reserved_tokens": reserved_tokens(),
    }
    return _cache.content_hash(header, documents)


@keras_objectives_export("keras_objectives.data.train_cjk_vocabulary")
def train_cjk_vocabulary(documents, vocabulary_size=8192, lowercase=True,
                         cache_dir=None, min_count=2):
    """Train (or fetch) a BERT-Chinese style vocabulary.

    Args:
        documents: an iterable of strings.
        vocabulary_size: int, the most tokens, reserved tokens included.
        lowercase: bool, as the tokenizer (`make_tokenizer`).
        cache_dir: as `train_vocabulary`.
        min_count: int, the fewest occurrences that make a CJK character a
            token (rarer ones stay `[UNK]`).

    Returns:
        A list of tokens: the reserved tokens, the WordPiece tokens of the
        non-CJK text, then CJK characters by decreasing count (ties by code
        point) while the size allows.

    Examples:

    >>> vocab = train_cjk_vocabulary(["我爱读书，书爱我。"] * 3,
    ...                              vocabulary_size=200, cache_dir=False)
    >>> vocab[:2], [t for t in vocab if t in "我爱读书"]
    (['[PAD]', '[UNK]'], ['书', '我', '爱', '读'])
    """
    documents = _as_documents(documents)
    reserved = reserved_tokens()
    vocabulary_size = check_int("vocabulary_size", vocabulary_size,
                                minimum=len(reserved) + 1)
    min_count = check_int("min_count", min_count, minimum=1)
    key = cjk_vocabulary_key(documents, vocabulary_size, lowercase,
                             min_count)
    path = _cache.cache_path(cache_dir, "vocab", key, ".txt")
    if path is not None and os.path.exists(path):
        return load_vocabulary(path)
    shipped = shipped_vocabulary_path(key)
    if path is not None and os.path.exists(shipped):
        with lzma.open(shipped, "rt", encoding="utf-8") as f:
            return f.read().splitlines()

    counts = collections.Counter()
    rest = []
    for text in documents:
        text = _normalize(text, lowercase)
        counts.update(_CJK.findall(text))
        rest.append(_CJK.sub(" ", text))
    characters = sorted((c for c, n in counts.items() if n >= min_count),
                        key=lambda c: (-counts[c], c))
    budget = max(len(reserved) + 1,
                 vocabulary_size - len(characters))
    logger.info("CJK vocabulary: %d characters seen %d+ times; learning "
                "WordPiece for the rest (%d tokens).", len(characters),
                min_count, budget)
    if any(t.strip() for t in rest):
        pieces = train_vocabulary(rest, budget, lowercase=lowercase,
                                  cache_dir=False)
    else:
        pieces = list(reserved)
    seen = set(pieces)
    vocabulary = pieces + [c for c in characters if c not in seen]
    vocabulary = vocabulary[:vocabulary_size]
    if path is not None:
        save_vocabulary(vocabulary, path)
    return vocabulary
