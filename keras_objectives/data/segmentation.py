"""Word segmenters for text without spaces (Chinese), behind one interface.

A segmenter maps a string to its words, in order. `get_segmenter` builds
one from a name (`"jieba"`, `"char"`), a `Segmenter`, or any callable
`text -> list of words` (for example `pkuseg.pkuseg().cut` or LAC's
`run`), so alternatives plug in without code here. `segment` checks the
words: they must be the text's characters in order, except whitespace a
segmenter may drop; anything else is an error that names the segmenter.

jieba is the `[zh]` extra (`pip install "keras-objectives[zh]"`); it is
imported only when a jieba segmenter is built.

Segmentation runs once per corpus, when it is prepared (`prepare_corpus`),
and is cached with the token ids (`keras_objectives.data.word_boundaries`).
"""

import logging

from keras_objectives.api_export import keras_objectives_export

INSTALL_HINT = 'pip install "keras-objectives[zh]"'
SEGMENTERS = ("jieba", "char")


def require_jieba(purpose="Chinese word segmentation"):
    """Import jieba, or raise an ImportError naming the `[zh]` extra."""
    try:
        import jieba
    except ImportError:
        raise ImportError(
            f"{purpose} needs jieba, which is not installed. Install the "
            f"Chinese extra with `{INSTALL_HINT}` (or `pip install "
            "jieba`)."
        ) from None
    jieba.setLogLevel(logging.WARNING)
    return jieba


def jieba_available():
    """True when jieba can be imported."""
    try:
        require_jieba()
    except ImportError:
        return False
    return True


class Segmenter:
    """Base class: `cut(text)` returns the words of `text`, in order.

    Attributes:
        name: str, names the segmenter in errors, stats and cache keys.
    """

    name = "segmenter"

    def cut(self, text):
        raise NotImplementedError

    def get_config(self):
        """JSON settings that determine the output (part of cache keys)."""
        return {"name": self.name}

    def __call__(self, text):
        return self.cut(text)

    def __repr__(self):
        return f"{type(self).__name__}({self.get_config()})"


class JiebaSegmenter(Segmenter):
    """jieba's default ("accurate") mode, with its HMM for unknown words.

    Args:
        hmm: bool, find words missing from jieba's dictionary with its HMM.
    """

    name = "jieba"

    def __init__(self, hmm=True):
        self._jieba = require_jieba()
        self.hmm = bool(hmm)
        self._tokenizer = self._jieba.Tokenizer()

    def cut(self, text):
        return self._tokenizer.lcut(text, HMM=self.hmm)

    def get_config(self):
        return {"name": self.name, "version": self._jieba.__version__,
                "hmm": self.hmm}


class CharacterSegmenter(Segmenter):
    """Every character is a word (BERT-Chinese's units; a baseline)."""

    name = "char"

    def cut(self, text):
        return list(text)


class FunctionSegmenter(Segmenter):
    """Wraps a callable `text -> list of words` (pkuseg, LAC, your own)."""

    def __init__(self, function, name=None):
        self.function = function
        self.name = name or getattr(function, "__name__", None) or (
            type(function).__name__)

    def cut(self, text):
        return list(self.function(text))


@keras_objectives_export("keras_objectives.data.get_segmenter")
def get_segmenter(segmenter):
    """A `Segmenter` from a name, a `Segmenter` or a callable.

    Args:
        segmenter: `"jieba"` (needs the `[zh]` extra), `"char"`, a
            `Segmenter`, or a callable returning a list of words.

    Examples:

    >>> get_segmenter("char")("中文")
    ['中', '文']
    >>> get_segmenter(lambda text: text.split("|")).name
    '<lambda>'
    """
    if isinstance(segmenter, Segmenter):
        return segmenter
    if segmenter == "jieba":
        return JiebaSegmenter()
    if segmenter == "char":
        return CharacterSegmenter()
    if callable(segmenter):
        return FunctionSegmenter(segmenter)
    raise ValueError(
        "Invalid value received for argument `segmenter`. Expected one of "
        f"{list(SEGMENTERS)}, a `keras_objectives.data.segmentation."
        "Segmenter` or a callable returning a list of words. Received: "
        f"segmenter={segmenter!r}"
    )


def _uncovered(text, words):
    """`(position, word)` of the first word that breaks the coverage."""
    position = 0
    for word in words:
        if not isinstance(word, str):
            return position, word
        found = text.startswith(word, position)
        while not found and position < len(text) and text[position].isspace():
            position += 1
            found = text.startswith(word, position)
        if not found or (not word and position < len(text)):
            return position, word
        position += len(word)
    if text[position:].strip():
        return position, None
    return None


@keras_objectives_export("keras_objectives.data.segment")
def segment(segmenter, text):
    """Character offsets where each word of `text` starts.

    Args:
        segmenter: a `Segmenter` (see `get_segmenter`).
        text: str.

    Returns:
        A list of ints, ascending: the start of every word. Whitespace a
        segmenter dropped belongs to no word.

    Raises:
        ValueError: naming the segmenter, when its words are not the text's
            characters in order.

    Examples:

    >>> segment(get_segmenter(lambda t: ["我们", "爱", "书"]), "我们爱书")
    [0, 2, 3]
    >>> segment(get_segmenter(lambda t: ["a", "b"]), "a b")
    [0, 2]
    """
    words = segmenter.cut(text)
    broken = _uncovered(text, words)
    if broken is not None:
        position, word = broken
        what = (f"the word {word!r} where the text has "
                f"{text[position:position + 10]!r}" if word is not None
                else f"no word for {text[position:position + 10]!r}")
        raise ValueError(
            f"The segmenter {segmenter.name!r} returned words that do not "
            f"cover the text: at character {position} it gave {what} "
            f"(text starts {text[:20]!r}). A segmenter must return the "
            "text's own characters, in order (it may drop whitespace). Fix "
            "the segmenter or use `segmenter=\"jieba\"`."
        )
    starts, position = [], 0
    for word in words:
        while not text.startswith(word, position):
            position += 1
        if word:
            starts.append(position)
        position += len(word)
    return starts
