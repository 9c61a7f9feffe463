"""How much of a corpus is Chinese, and which segmenter it gets.

`prepare_corpus(..., segmenter="auto")` measures the share of CJK
ideographs among the non-space characters of the training text. A corpus
that is mostly CJK (at least `CJK_MAJORITY`) is segmented with jieba when
it is installed (the `[zh]` extra); otherwise it has no word boundaries,
and an objective that needs them (`whole_word=True`) raises an error that
names the extra. A segmenter asked for by name on a corpus that is mostly
*not* CJK warns with the share: a Chinese recipe pointed at other text.

Traditional and simplified characters are both CJK ideographs here: no
conversion is done, and mixed text is tokenized and segmented as it is.
"""

import re
import warnings

from keras_objectives.data.segmentation import INSTALL_HINT
from keras_objectives.data.segmentation import get_segmenter
from keras_objectives.data.segmentation import jieba_available

CJK_MAJORITY = 0.5
# The CJK ranges of BERT's tokenizer (and keras-hub's `split_on_cjk`).
_CJK = re.compile(
    "[\u4e00-\u9fff\u3400-\u4dbf\uf900-\ufaff\U00020000-\U0002a6df"
    "\U0002a700-\U0002ceaf\U0002f800-\U0002fa1f]"
)
_SPACE = re.compile(r"\s")


def cjk_share(documents, max_characters=2_000_000):
    """The share of CJK ideographs among non-space characters.

    Reads at most about `max_characters` characters, spread over the
    documents (every k-th one).

    Examples:

    >>> cjk_share(["中文 text"])
    0.333...
    >>> cjk_share(["紅樓夢与红楼梦"])
    1.0
    """
    documents = list(documents)
    total = sum(len(d) for d in documents)
    stride = max(1, -(-total // max(1, max_characters)))
    cjk = chars = 0
    for text in documents[::stride]:
        cjk += len(_CJK.findall(text))
        chars += len(text) - len(_SPACE.findall(text))
    return cjk / chars if chars else 0.0


def resolve_segmenter(segmenter, share):
    """`(Segmenter or None, reason or None)` for a corpus' CJK share.

    Args:
        segmenter: `"auto"`, `None`/`"none"`, or what `get_segmenter`
            takes. A name or object is used as is (jieba missing is then an
            ImportError naming the `[zh]` extra).
        share: the corpus' `cjk_share`.

    Returns:
        The segmenter to use, and, when a mostly-CJK corpus gets none, why.
    """
    mostly_cjk = share >= CJK_MAJORITY
    if segmenter in (None, "none"):
        return None, ("segmenter=None was set" if mostly_cjk else None)
    if segmenter == "auto":
        if not mostly_cjk:
            return None, None
        if not jieba_available():
            return None, (f"jieba is not installed (`{INSTALL_HINT}`)")
        return get_segmenter("jieba"), None
    segmenter = get_segmenter(segmenter)
    if not mostly_cjk:
        warnings.warn(
            f"The corpus is mostly not Chinese: only {share:.1%} of its "
            f"non-space characters are CJK ideographs, but the recipe asks "
            f"for the Chinese segmenter {segmenter.name!r}. Check "
            "`data.source`; words of non-CJK text come from the tokenizer "
            "(WordPiece `##` pieces) without a segmenter "
            "(`data.segmenter=\"auto\"`).",
            stacklevel=3,
        )
    return segmenter, None


def missing_word_boundaries_error(reason, what="whole_word=True"):
    """The ValueError for a Chinese corpus without word boundaries."""
    return ValueError(
        f"Invalid value received for argument `whole_word`: {what} on a "
        "Chinese corpus needs word boundaries from a segmenter, and this "
        f"corpus has none ({reason}). Install the Chinese extra with "
        f"`{INSTALL_HINT}` and keep `data.segmenter=\"auto\"` (or set "
        "\"jieba\"), or use character-level masking (whole_word=False)."
    )


def _needs_words(identifier):
    if isinstance(identifier, str):
        return False
    config = identifier.get("config") or {}
    return bool(config.get("whole_word")) or any(
        _needs_words(m) for m in config.get("members") or ())


def check_word_boundaries(identifier, corpus):
    """Raise when a whole-word objective meets a CJK corpus without words.

    Args:
        identifier: an objective name or `{"class_name", "config"}`.
        corpus: a prepared corpus (`no_word_boundaries_reason` is set when
            a mostly-CJK corpus got no segmenter).
    """
    reason = getattr(corpus, "no_word_boundaries_reason", None)
    if reason and _needs_words(identifier):
        raise missing_word_boundaries_error(reason)
