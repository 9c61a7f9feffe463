"""Bad inputs through the CLI, in process: one clear message, no traces.

Every case of `tests/bad_input_cases.py` must exit with its code, print no
traceback, name the argument or file and the fix, and leave the workdir as
it found it. Most fail before any data is read; the rest reuse one tiny
corpus (tokenized once, then cached). A seeded fuzz test throws random
overrides and recipe arguments at `config.validate`, `load_recipe` and
`recipe_args`: each must give a valid config or a `ValueError`.
"""

import os
import random
import shlex
import signal
import string

import pytest

from keras_objectives import config as config_lib
from keras_objectives import overrides as overrides_lib
from keras_objectives.cli import main as cli_main
from tests.bad_input_cases import CASES
from tests.bad_input_cases import snapshot
from tests.bad_input_cases import write_corpus
from tests.bad_input_cases import write_fixtures


@pytest.fixture(scope="module")
def places(tmp_path_factory):
    folder = str(tmp_path_factory.mktemp("bad-inputs"))
    return write_fixtures(folder, write_corpus(os.path.join(folder, "c")))


def run_cli(argv, capsys):
    try:
        code = cli_main(argv)
    except SystemExit as e:  # argparse's own usage errors.
        code = e.code
    captured = capsys.readouterr()
    return code, captured.out + captured.err


def test_the_table_is_large_and_distinct():
    names = [case.name for case in CASES]
    assert len(names) >= 60
    assert len(set(names)) == len(names)


@pytest.mark.parametrize("case", CASES, ids=[c.name for c in CASES])
def test_bad_input(case, places, tmp_path, capsys):
    values = {**places, "tmp": str(tmp_path),
              "workdir": str(tmp_path / "run")}
    if case.setup:
        case.setup(str(tmp_path), values)
    argv = [a.format(**values) for a in shlex.split(case.argv)]
    before = snapshot(values["workdir"])
    code, text = run_cli(argv, capsys)
    assert code == case.code, text
    assert "Traceback" not in text, text
    for expected in case.expect:
        assert expected.lower() in text.lower(), (expected, text)
    errors = [line for line in text.splitlines() if "error:" in line]
    assert len(errors) == 1, text  # One message.
    assert snapshot(values["workdir"]) == before, "the workdir changed"


# --- Fuzz: random overrides and recipe arguments ------------------------

TRICKY = ["0", "-1", "1", "2.5", "1e309", "-1e-9", "nan", "inf", "-inf",
          "None", "null", "True", "false", "''", "'x'", "[]", "[1, 2]",
          "{}", "{'a': 1}", "[", "{", "'", '"', "()", "(1,)", "1j",
          "masked_lm", "causal_lm", "nope", "/nonexistent", "gs://b/x",
          "[[[[[[[[[[1]]]]]]]]]]", "9" * 400, "\u00e9\u00e8", "a=b", ":",
          ",", "mixed_bfloat16", "float8", "{'class_name': 'masked_lm'}",
          "{'class_name': 'masked_lm', 'config': {'selection_rate': 2}}"]


def _fields():
    out = []

    def walk(node, prefix):
        for key, value in node.items():
            out.append(prefix + key)
            if isinstance(value, dict):
                walk(value, prefix + key + ".")

    walk(config_lib.base_config(), "")
    return out + ["objective.config.selection_rate", "objective.class_name",
                  "objective.config", "objective.config.form", "nope",
                  "training.nope", "data..source", ".", "training."]


def _random_text(rng, n):
    return "".join(rng.choice(string.printable) for _ in range(n))


def _accept(call):
    """Run `call`; only a result or a ValueError with a message may come."""
    try:
        return call()
    except ValueError as e:
        assert str(e).strip(), "a ValueError without a message"
        return None


@pytest.fixture
def deadline():
    """Fail instead of hanging: the whole fuzz run gets 120 s."""

    def expire(signum, frame):
        raise TimeoutError("the fuzz test hung")

    previous = signal.signal(signal.SIGALRM, expire)
    signal.alarm(120)
    yield
    signal.alarm(0)
    signal.signal(signal.SIGALRM, previous)


def test_fuzz_overrides_and_validate(deadline):
    rng = random.Random(1234)
    fields, valid = _fields(), 0
    for _ in range(1500):
        items = []
        for _ in range(rng.randint(1, 3)):
            field = rng.choice(fields)
            value = rng.choice(TRICKY) if rng.random() < 0.8 else (
                _random_text(rng, rng.randint(0, 12)))
            items.append(rng.choice([
                f"--config.{field}={value}", f"{field}={value}",
                f"--config.{field}", f"--config.{value}={field}"]))
        config = _accept(lambda items=items: config_lib.validate(
            overrides_lib.apply_overrides(config_lib.base_config(), items)))
        if config is not None:
            valid += 1
            assert isinstance(config, dict)
            assert config_lib.validate(config) == config  # A fixed point.
    assert 20 < valid < 1500  # Both outcomes were exercised.


def test_fuzz_recipe_args_and_load_recipe(deadline, tmp_path):
    recipes = os.path.join(os.path.dirname(os.path.dirname(
        os.path.abspath(__file__))), "recipes")
    rng = random.Random(99)
    for _ in range(400):
        arg = ",".join(rng.choice(["runlocal", "seeds=5", "budget=1e13",
                                   "seeds", "", "=", "seeds=abc", "x=1",
                                   "runlocal=False", "budget=nan", "[",
                                   _random_text(rng, 5)])
                       for _ in range(rng.randint(1, 3)))
        args = _accept(lambda arg=arg: config_lib.recipe_args(
            arg, runlocal=False, seeds=3, budget=None))
        if args is not None:
            assert set(args) == {"runlocal", "seeds", "budget"}
        name = rng.choice(["masked_lm.py", "causal_lm.py", "masked_lm",
                           "", "nope.py", "tpu"])
        spec = os.path.join(recipes, name) + rng.choice(["", ":"]) + arg
        config = _accept(lambda spec=spec: config_lib.validate(
            config_lib.load_recipe(spec)))
        assert config is None or config["training"]["steps"] >= 1


@pytest.mark.parametrize("kind", ["comparison", "tuning"])
def test_fuzz_comparison_and_tuning_overrides(kind, deadline):
    from keras_objectives.compare import recipe as compare_recipe
    from keras_objectives.tuner import recipe as tuning_recipe

    module = compare_recipe if kind == "comparison" else tuning_recipe
    check = (compare_recipe.validate_recipe if kind == "comparison"
             else tuning_recipe.validate_tuning_recipe)
    base = config_lib.load_recipe(os.path.join(
        os.path.dirname(os.path.dirname(os.path.abspath(__file__))),
        "recipes", "quickstart.py" if kind == "comparison"
        else "tune_quickstart.py"))
    fields = sorted(module.KNOWN) + ["budget.flops", "budget.steps",
                                     "base.training.steps", "base.seed",
                                     "space.learning_rate", "arms.x"]
    rng = random.Random(7)
    for _ in range(300):
        items = [f"--config.{rng.choice(fields)}={rng.choice(TRICKY)}"
                 for _ in range(rng.randint(1, 2))]
        result = _accept(lambda items=items: check(
            overrides_lib.apply_overrides(base, items, module.OVERRIDES)))
        assert result is None or isinstance(result, dict)
