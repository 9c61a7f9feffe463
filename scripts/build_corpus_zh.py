"""Build the embedded Chinese corpus and task shipped in the package.

From a folder laid out as the project's Chinese data (`corpus/*.txt`, one
paragraph per line, simplified script; `tasks/crosswoz_domain/{train,dev,
test}.txt`; `LICENSES/`), the script writes

* `keras_objectives/data/corpus/chinese.jsonl.xz`: one JSON object per
  work, `{"name", "title", "author", "date", "licence", "text"}`, sorted by
  name (the text is the file's, byte for byte, LF line endings);
* `keras_objectives/data/corpus/SOURCES-zh`: titles, authors, sources and
  licences, and how the file was made;
* `keras_objectives/data/corpus/LICENSES/*.txt`: the licence notices that
  travel with the texts and the task;
* `keras_objectives/data/tasks/crosswoz_domain/{train,dev,test}.txt.xz`:
  the CrossWOZ domain task, `<label> <text>` lines, as given.

Usage (the exact command that built the shipped files):

```
python scripts/build_corpus_zh.py --source /path/to/zh --vocabulary
```

`--vocabulary` also trains the default Chinese vocabulary
(`train_cjk_vocabulary`: every CJK character its own token, WordPiece for
the rest;
`embedded-zh` train split, 8192 tokens, lowercase) and ships it as
`vocab-<key>.txt.xz`, found by the same content hash as the English one.
The output is byte-for-byte reproducible.
"""

import argparse
import glob
import io
import json
import lzma
import os
import shutil
import sys

ROOT = os.path.dirname(os.path.dirname(os.path.abspath(__file__)))
PACKAGE_DATA = os.path.join(ROOT, "keras_objectives", "data")
CORPUS_FILE = "chinese.jsonl.xz"
PG = "Public domain in the US (Project Gutenberg); author died by 1936"
POETRY = "MIT (chinese-poetry/chinese-poetry, (c) 2016 JackeyGao)"

# name: (title, author, date, Project Gutenberg ebook or None, licence)
WORKS = {
    "ershinian_mudu": ("二十年目睹之怪现状", "吴趼人", "1903-1910", 24099, PG),
    "guwen_guanzhi": ("古文观止", "吴楚材、吴调侯 编", "1694", None, POETRY),
    "hongloumeng": ("红楼梦", "曹雪芹、高鹗", "1791", 24264, PG),
    "jinghuayuan": ("镜花缘", "李汝珍", "1827", 23818, PG),
    "laocan_youji": ("老残游记", "刘鹗", "1903-1907", 25124, PG),
    "lunyu": ("论语", "孔子弟子及再传弟子", "c. 5th-4th c. BCE", None,
              POETRY),
    "nahan": ("呐喊", "鲁迅", "1923", 27166, PG),
    "niehaihua": ("孽海花", "曾朴", "1905-1931", 25128, PG),
    "rulin_waishi": ("儒林外史", "吴敬梓", "c. 1750", 24032, PG),
    "sanguo_yanyi": ("三国演义", "罗贯中", "14th c.", 23950, PG),
    "sanxia_wuyi": ("三侠五义", "石玉昆", "1879", 25376, PG),
    "shuihuzhuan": ("水浒传", "施耐庵", "14th c.", 23863, PG),
    "sishu_daxue_zhongyong_mengzi": ("大学・中庸・孟子", "曾子、子思、孟子",
                                     "Warring States", None, POETRY),
    "tangshi_sanbaishou": ("唐诗三百首", "孙洙 编", "1763", None, POETRY),
    "xiyouji": ("西游记", "吴承恩", "1592", 23962, PG),
    "youmengying": ("幽梦影", "张潮", "c. 1698", None, POETRY),
}

NOTE = """\
Embedded Chinese corpus: chinese.jsonl.xz

Sixteen works in Chinese, converted to simplified script with OpenCC 1.4.2
`t2s` (no other conversion is done by keras_objectives), one paragraph per
line:

* eleven novels and story collections from Project Gutenberg's own GitHub
  mirror (github.com/gutenbergbooks/<ebook>). Each repository's LICENSE.txt
  confirms the eBook is in the PUBLIC DOMAIN IN THE UNITED STATES (copied
  to LICENSES/ProjectGutenberg-LICENSE.txt); every author died in 1936 or
  earlier. The trailing "End of the Project Gutenberg EBook" line was
  removed; no Project Gutenberg trademark is used or implied. In 呐喊 the
  modern editorial annotations were removed.
* five classical texts from chinese-poetry/chinese-poetry (commit
  99ebbef7e1345c0985c44b9fd96a3f9e776f117b), MIT License, Copyright (c)
  2016 JackeyGao (LICENSES/chinese-poetry-MIT.txt). The texts are pre-1800.

The task data/tasks/crosswoz_domain (6-way domain classification of user
turns) comes from thu-coai/CrossWOZ (commit
df82c9fdff91b9b130f2d6b89110d3870ba6260e), Apache License 2.0
(LICENSES/CrossWOZ-Apache-2.0.txt); Zhu et al., "CrossWOZ", TACL 2020. The
labels map the single non-General domain of a turn's dialogue acts
(景点 attraction, 餐馆 restaurant, 酒店 hotel, 地铁 metro, 出租 taxi; all
General: general); dialogues were split 80/10/10 and exact duplicates
removed.

Rebuild with: python scripts/build_corpus_zh.py --source <zh data> \
--vocabulary

name | title | author | date | Project Gutenberg eBook | characters
"""


def read_works(source):
    works = []
    for name, (title, author, date, ebook, licence) in sorted(WORKS.items()):
        path = os.path.join(source, "corpus", name + ".txt")
        with open(path, encoding="utf-8") as f:
            text = f.read()
        if text.startswith("\ufeff"):
            text = text[1:]
        text = text.replace("\r\n", "\n").replace("\r", "\n")
        works.append({"name": name, "title": title, "author": author,
                      "date": date, "ebook": ebook, "licence": licence,
                      "text": text.rstrip("\n") + "\n"})
    found = {os.path.basename(p)[:-4]
             for p in glob.glob(os.path.join(source, "corpus", "*.txt"))}
    if found != set(WORKS):
        raise ValueError(f"Expected the works {sorted(WORKS)}; found "
                         f"{sorted(found)}")
    return works


def _xz(data):
    return lzma.compress(data, format=lzma.FORMAT_XZ,
                         check=lzma.CHECK_CRC64,
                         preset=9 | lzma.PRESET_EXTREME)


def write(works, source, output):
    corpus_dir = os.path.join(output, "corpus")
    buffer = io.StringIO()
    for work in works:
        buffer.write(json.dumps(work, ensure_ascii=False, sort_keys=True))
        buffer.write("\n")
    data = _xz(buffer.getvalue().encode("utf-8"))
    with open(os.path.join(corpus_dir, CORPUS_FILE), "wb") as f:
        f.write(data)
    lines = [NOTE.rstrip("\n")]
    for w in works:
        lines.append(f"{w['name']} | {w['title']} | {w['author']} | "
                     f"{w['date']} | {w['ebook'] or 'n/a'} | "
                     f"{len(w['text'])}")
    with open(os.path.join(corpus_dir, "SOURCES-zh"), "w",
              encoding="utf-8") as f:
        f.write("\n".join(lines) + "\n")
    licences = os.path.join(corpus_dir, "LICENSES")
    os.makedirs(licences, exist_ok=True)
    for path in sorted(glob.glob(os.path.join(source, "LICENSES", "*"))):
        shutil.copyfile(path, os.path.join(licences, os.path.basename(path)))
    task_dir = os.path.join(output, "tasks", "crosswoz_domain")
    os.makedirs(task_dir, exist_ok=True)
    for split in ("train", "dev", "test"):
        path = os.path.join(source, "tasks", "crosswoz_domain", split + ".txt")
        with open(path, "rb") as f:
            raw = f.read()
        with open(os.path.join(task_dir, split + ".txt.xz"), "wb") as f:
            f.write(_xz(raw))
    return len(data)


def build_default_vocabulary(output):
    """Train the default Chinese vocabulary; ship it as `vocab-<key>`."""
    sys.path.insert(0, ROOT)
    os.environ.setdefault("KERAS_BACKEND", "tensorflow")
    from keras_objectives.data import embedded_zh
    from keras_objectives.data import vocabulary as vocab_lib
    from keras_objectives.data import vocabulary_zh

    documents = embedded_zh.embedded_zh_corpus("train")
    vocabulary = vocabulary_zh.train_cjk_vocabulary(documents, 8192,
                                                    lowercase=True)
    key = vocabulary_zh.cjk_vocabulary_key(documents, 8192, True, 2)
    path = vocab_lib.shipped_vocabulary_path(key)
    data = "".join(token + "\n" for token in vocabulary).encode("utf-8")
    with open(path, "wb") as f:
        f.write(_xz(data))
    with open(os.path.join(output, "corpus", "SOURCES-zh"), "a",
              encoding="utf-8") as f:
        f.write(f"\n{os.path.basename(path)}:\nthe default Chinese "
                f"vocabulary ({len(vocabulary)} tokens, lowercase; every CJK "
                "character its own token),\ntrained on the embedded-zh "
                "train split by keras_objectives.data.train_cjk_vocabulary.\n")
    print(f"{len(vocabulary)} tokens -> {path}")


def main(argv=None):
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--source", required=True,
                        help="the folder with corpus/, tasks/, LICENSES/")
    parser.add_argument("--output-dir", default=PACKAGE_DATA)
    parser.add_argument("--vocabulary", action="store_true")
    args = parser.parse_args(argv)
    works = read_works(args.source)
    size = write(works, args.source, args.output_dir)
    chars = sum(len(w["text"]) for w in works)
    print(f"{len(works)} works, {chars} characters, {size} bytes compressed")
    if args.vocabulary:
        build_default_vocabulary(args.output_dir)


if __name__ == "__main__":
    sys.exit(main())
