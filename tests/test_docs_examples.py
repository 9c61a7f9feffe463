"""Every fenced code block of `README.md` and `docs/` runs.

* `python` blocks run as written, each page's blocks in order in one
  namespace (a page may build on its earlier blocks), in a temporary
  working directory.
* `bash`, `sh`, `shell` and `console` blocks run command by command. Setup
  lines (`python3 -m venv`, `. .venv/bin/activate`, `pip install`) and the
  test suite itself (`python -m pytest`) are skipped. Every
  `keras-objectives train|compare|tune|pretokenize` command gets tiny
  overrides appended (a 1-layer body, 2 steps, a short length) and its
  `--workdir`/`--output` in a temporary directory, and runs in-process
  through `keras_objectives.cli.main`; `finetune` runs one epoch, and
  `export`, `finetune` and `predict` read the directories earlier
  commands of the block wrote. Any other command runs in a shell from the
  repository root.
* A block preceded by `<!-- notest: reason -->` is skipped; the reason is
  required. Blocks in other languages (`text`, none) are prose.

Comparisons and searches train many runs: their blocks are `large`.
"""

import dataclasses
import glob
import os
import re
import shlex
import subprocess

import pytest

ROOT = os.path.dirname(os.path.dirname(os.path.abspath(__file__)))
PAGES = ["README.md"] + sorted(
    os.path.relpath(p, ROOT)
    for p in glob.glob(os.path.join(ROOT, "docs", "**", "*.md"),
                       recursive=True))
FENCE = re.compile(r"^```([\w-]*)[^\n]*\n(.*?)^```", re.M | re.S)
NOTEST = re.compile(r"^<!--\s*notest:(.*?)-->\s*$")
PYTHON = ("python", "py")
SHELL = ("bash", "sh", "shell", "console")
SETUP = ("python3 -m venv", "python -m venv", ". ", "source ",
         "pip install", "python -m pip install")
SUITE = ("python -m pytest", "pytest")
LARGE_VERBS = ("compare", "tune")
TRAINING_VERBS = ("train", "compare", "tune", "pretokenize")

TINY_RUN = {
    "sequence_length": 32,
    "model.num_layers": 1, "model.num_heads": 1, "model.hidden_dim": 16,
    "model.intermediate_dim": 32, "model.max_sequence_length": 64,
    "training.steps": 2, "training.steps_per_checkpoint": 2,
    "training.warmup_steps": 0, "training.global_batch_size": 4,
    "training.eval_batches": 1,
}


@dataclasses.dataclass
class Block:
    page: str
    line: int
    language: str
    code: str
    notest: str | None  # The reason, when the block opts out.

    @property
    def id(self):
        return f"{self.page}:{self.line}"


def page_blocks(page):
    with open(os.path.join(ROOT, page), encoding="utf-8") as f:
        text = f.read()
    for match in FENCE.finditer(text):
        before = text[:match.start()].rstrip("\n").split("\n")[-1]
        marker = NOTEST.match(before.strip())
        yield Block(page, text[:match.start()].count("\n") + 1,
                    match.group(1).lower(), match.group(2),
                    marker.group(1).strip() if marker else None)


BLOCKS = [b for page in PAGES for b in page_blocks(page)]


# --- shell ---------------------------------------------------------------
def _logical_lines(code):
    """The words of each line; a quote left open continues on the next."""
    pending = ""
    for line in code.splitlines():
        pending += line
        try:
            words = shlex.split(pending, comments=True)
        except ValueError:  # No closing quotation: the string goes on.
            pending += "\n"
            continue
        pending = ""
        yield words
    if pending:
        yield shlex.split(pending, comments=True)


def commands(code):
    """`(env, argv)` per command: continuations joined, comments dropped,
    split on `&&`, `;` and lines."""
    code = code.replace("\\\n", " ")
    out = []
    for words in _logical_lines(code):
        current = []
        for word in words + ["&&"]:
            if word in ("&&", ";"):
                if current:
                    out.append(current)
                current = []
            else:
                current.append(word)
    parsed = []
    for words in out:
        env = {}
        while words and re.match(r"^[A-Z_][A-Z0-9_]*=", words[0]):
            key, _, value = words.pop(0).partition("=")
            env[key] = value
        parsed.append((env, words))
    return parsed


def skipped(argv):
    text = " ".join(argv)
    return (text.startswith(SETUP) or argv[:1] == ["."]
            or text.startswith(SUITE))


def tiny(argv, tmp, renamed=None):
    """A `keras-objectives` argv with tiny overrides and temporary dirs.

    `renamed` maps the block's directories to their temporary ones, so a
    later command of the block reads what an earlier one wrote.
    """
    renamed = {} if renamed is None else renamed
    verb, argv = argv[1], list(argv[2:])
    for flag in ("--workdir", "--output"):
        if flag in argv:
            i = argv.index(flag)
            renamed[argv[i + 1]] = os.path.join(tmp, f"{verb}-{flag[2:]}")
            argv[i + 1] = renamed[argv[i + 1]]
        elif flag == "--workdir" and verb in ("train", "compare", "tune"):
            argv += [flag, os.path.join(tmp, flag[2:])]
        elif flag == "--output" and verb == "pretokenize":
            argv += [flag, os.path.join(tmp, flag[2:])]
    for old, new in renamed.items():
        argv = [a.replace(f"={old}", f"={new}") for a in argv]
        argv = [new + a[len(old):] if a == old or a.startswith(old + "/")
                else a for a in argv]  # A path an earlier command wrote.
    if verb == "finetune":
        return [verb, *argv, "--config.epochs=1"]
    if verb not in TRAINING_VERBS:  # export, predict, report: as written.
        return [verb, *argv]
    prefix = "--config.base." if verb in LARGE_VERBS else "--config."
    argv += [f"{prefix}{k}={v}" for k, v in TINY_RUN.items()]
    if verb in LARGE_VERBS:
        argv += ["--config.budget={'steps': 2}", "--config.seeds=[0, 1]"]
    if verb == "tune":
        argv += ["--config.max_trials=1"]
    return [verb, *argv]


def run_shell(block, tmp):
    from keras_objectives import cli

    ran, renamed = 0, {}
    for env, argv in commands(block.code):
        if not argv or skipped(argv):
            continue
        if argv[0] == "keras-objectives":
            cwd = os.getcwd()
            os.chdir(ROOT)
            try:
                assert cli.main(tiny(argv, tmp, renamed)) == 0, (block.id, argv)
            finally:
                os.chdir(cwd)
        else:
            result = subprocess.run(
                shlex.join(argv), shell=True, cwd=ROOT,
                env={**os.environ, **env}, capture_output=True, text=True)
            assert result.returncode == 0, (block.id, result.stderr[-2000:])
        ran += 1
    return ran


def _large(block):
    return any(argv[:1] == ["keras-objectives"] and argv[1:2]
               and argv[1] in LARGE_VERBS
               for _, argv in commands(block.code))


SHELL_BLOCKS = [b for b in BLOCKS if b.language in SHELL]
PYTHON_PAGES = sorted({b.page for b in BLOCKS if b.language in PYTHON})


@pytest.mark.parametrize("block", [
    pytest.param(b, id=b.id, marks=[pytest.mark.large] if _large(b) else [])
    for b in SHELL_BLOCKS])
def test_shell_block_runs(block, tmp_path):
    if block.notest is not None:
        pytest.skip(f"notest: {block.notest}")
    run_shell(block, str(tmp_path))


# --- python --------------------------------------------------------------
@pytest.mark.parametrize("page", PYTHON_PAGES)
def test_python_blocks_run(page, tmp_path, monkeypatch):
    monkeypatch.chdir(tmp_path)
    namespace = {"__name__": "docs_" + re.sub(r"\W", "_", page)}
    ran = 0
    for block in BLOCKS:
        if block.page != page or block.language not in PYTHON:
            continue
        if block.notest is None:
            exec(compile(block.code, block.id, "exec"), namespace)
            ran += 1
    if not ran:
        pytest.skip(f"every python block of {page} is notest")


# --- the rules -----------------------------------------------------------
def test_every_notest_marker_gives_a_reason():
    for block in BLOCKS:
        if block.notest is not None:
            assert len(block.notest) > 3, block.id


def test_the_parser_finds_blocks_markers_and_commands(tmp_path):
    page = tmp_path / "page.md"
    page.write_text("text\n\n<!-- notest: needs a TPU -->\n```bash\n"
                    "X=1 keras-objectives train r.py:runlocal \\\n"
                    "    --workdir runs/a  # comment\n```\n\n```python\n"
                    "x = 1\n```\n")
    blocks = list(page_blocks(str(page)))
    assert [(b.language, b.notest) for b in blocks] == [
        ("bash", "needs a TPU"), ("python", None)]
    [(env, argv)] = commands(blocks[0].code)
    assert env == {"X": "1"}
    assert argv == ["keras-objectives", "train", "r.py:runlocal",
                    "--workdir", "runs/a"]
    argv = tiny(argv, "/tmp/t")
    assert argv[:4] == ["train", "r.py:runlocal", "--workdir",
                        "/tmp/t/train-workdir"]
    assert "--config.training.steps=2" in argv
    [(env, argv)] = commands("A='{\"x\":\n 1}' keras-objectives train r.py")
    assert env == {"A": '{"x":\n 1}'} and argv[1:] == ["train", "r.py"]
    assert skipped(["pip", "install", "-e", "."])
    assert skipped(["python", "-m", "pytest"])
