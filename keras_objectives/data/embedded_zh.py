"""The embedded Chinese corpus: 16 public-domain works shipped compressed.

Eleven Project Gutenberg novels (红楼梦, 西游记, 三国演义, 水浒传, ...), 鲁迅's
呐喊 and five classical texts from the MIT-licensed chinese-poetry
collection, in simplified script, one paragraph per line: 5.2 M characters
stored as `corpus/chinese.jsonl.xz` (built by `scripts/build_corpus_zh.py`).
Titles, sources and licences are in `corpus/SOURCES-zh` and the notices in
`corpus/LICENSES/`. `prepare_corpus("embedded-zh")` reads it.
"""

import os

from keras_objectives.api_export import keras_objectives_export
from keras_objectives.data.embedded import CORPUS_DIR
from keras_objectives.data.embedded import TAIL_FRACTION
from keras_objectives.data.embedded import read_books
from keras_objectives.data.embedded import split_documents
from keras_objectives.data.embedded import split_tail
from keras_objectives.utils import check_choice
from keras_objectives.utils import check_int

ZH_CORPUS_FILE = os.path.join(CORPUS_DIR, "chinese.jsonl.xz")

ZH_BOOKS = (
    "ershinian_mudu",
    "guwen_guanzhi",
    "hongloumeng",
    "jinghuayuan",
    "laocan_youji",
    "lunyu",
    "nahan",
    "niehaihua",
    "rulin_waishi",
    "sanguo_yanyi",
    "sanxia_wuyi",
    "shuihuzhuan",
    "sishu_daxue_zhongyong_mengzi",
    "tangshi_sanbaishou",
    "xiyouji",
    "youmengying",
)
# Two prose works (老残游记, 呐喊), 3.7% of the characters, held out whole.
ZH_VALIDATION_BOOKS = ("laocan_youji", "nahan")


@keras_objectives_export("keras_objectives.data.embedded_zh_books")
def embedded_zh_books():
    """The embedded Chinese works, with their metadata.

    Returns:
        A list of dicts with keys `name`, `title`, `author`, `date`,
        `ebook` (Project Gutenberg number or `None`), `licence` and `text`
        (one paragraph per line), one per work of `ZH_BOOKS`, in order.

    Examples:

    >>> books = embedded_zh_books()
    >>> len(books), books[2]["name"], books[2]["title"]
    (16, 'hongloumeng', '红楼梦')
    """
    return [dict(book) for book in read_books(ZH_CORPUS_FILE)]


def _chunk_lines(text, chunk_characters):
    """Join paragraphs (lines) into documents of >= `chunk_characters`."""
    chunks, current, size = [], [], 0
    for line in text.split("\n"):
        if not line.strip():
            continue
        current.append(line)
        size += len(line)
        if size >= chunk_characters:
            chunks.append("\n".join(current))
            current, size = [], 0
    if current:
        chunks.append("\n".join(current))
    return chunks


def check_books(argument, names):
    """`names` as a tuple of `ZH_BOOKS` names, or a clear error."""
    if isinstance(names, str):
        names = (names,)
    unknown = sorted(set(names) - set(ZH_BOOKS))
    if unknown:
        raise ValueError(
            f"Invalid value received for argument `{argument}`. Expected "
            f"names from ZH_BOOKS {list(ZH_BOOKS)}. Received unknown names: "
            f"{unknown}"
        )
    return tuple(names)


@keras_objectives_export("keras_objectives.data.embedded_zh_corpus")
def embedded_zh_corpus(
    split="train",
    validation_books=ZH_VALIDATION_BOOKS,
    chunk_characters=1500,
    tail_fraction=TAIL_FRACTION,
):
    """Documents from the 16 Chinese works shipped with the package.

    The same splits as `embedded_corpus`: whole works are held out for
    validation, and the train split leaves out the last `tail_fraction` of
    every training work (cut at a paragraph break by `split_tail`), which
    the Chinese book-attribution probe uses. Documents join whole
    paragraphs until they have at least `chunk_characters` characters
    (1500 characters is about 1500 tokens: one CJK character is one token).

    Args:
        split: `"train"`, `"validation"` or `"all"` (every work, whole).
        validation_books: names from `ZH_BOOKS` held out for validation.
            Defaults to `ZH_VALIDATION_BOOKS` (老残游记 and 呐喊).
        chunk_characters: int, the minimum document size, or `None` for one
            document per work.
        tail_fraction: float in [0, 1), the share at the end of each
            training work left out of `"train"`.

    Returns:
        A list of strings, in work order then text order.

    Examples:

    >>> train = embedded_zh_corpus("train")
    >>> validation = embedded_zh_corpus("validation")
    >>> len(train), len(validation)
    (2665, 118)
    >>> validation[0][:11]
    '老残游记/刘鄂\\n第一回'
    """
    check_choice("split", split, ("train", "validation", "all"))
    split_tail("", tail_fraction)  # validates it
    check_int("chunk_characters", chunk_characters, minimum=1, allow_none=True)
    held_out = set(check_books("validation_books", validation_books))
    return split_documents(read_books(ZH_CORPUS_FILE), split, held_out,
                           tail_fraction, chunk_characters, _chunk_lines,
                           whole=lambda text: text.strip("\n"))
