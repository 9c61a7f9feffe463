"""`keras-objectives <verb>`: train, compare, report, tune, pretokenize,
export, finetune, predict.

Examples:

    keras-objectives train recipes/masked_lm.py:runlocal --workdir runs/mlm
    keras-objectives train recipes/causal_lm.py --config.training.steps=200
    keras-objectives compare recipes/quickstart.py --workdir runs/quickstart
    keras-objectives report runs/quickstart
    keras-objectives tune recipes/tune_quickstart.py --workdir runs/tune

One error boundary (`main`): an expected failure (a `ValueError` or an
`OSError`: bad input, a missing file) prints one `keras-objectives: error:`
line and exits 2; the traceback only with `--debug` or
`KERAS_OBJECTIVES_DEBUG=1`. Ctrl-C exits 130 with one line saying how to
resume. Anything else is a bug and keeps its traceback. A new verb is one
handler function `_verb(args, overrides) -> exit code` and one
`_add_verb(...)` entry in `build_parser`.
"""

import argparse
import os
import re
import shlex
import sys
import traceback

from keras_objectives import cli_deploy

DEBUG_ENV = "KERAS_OBJECTIVES_DEBUG"


def _setup_environment(debug=False):
    # Must happen before TensorFlow is imported anywhere. Without --debug,
    # TF's C++ start-up lines (among them a "failed call to cuInit: CUDA
    # error" on every machine without a GPU) read as failures: hide them.
    os.environ.setdefault("KERAS_BACKEND", "tensorflow")
    os.environ.setdefault("TF_CPP_MIN_LOG_LEVEL", "0" if debug else "3")
    if not debug and "tensorflow" not in sys.modules:
        _import_quietly()


def _import_quietly():
    """Import TensorFlow with file descriptor 2 pointed at /dev/null.

    Its C++ libraries log as they load, before `TF_CPP_MIN_LOG_LEVEL`
    applies ("All log messages before absl::InitializeLog() ..."). A
    failed import still raises, with its message, once stderr is back.
    """
    sys.stderr.flush()
    saved = os.dup(2)
    try:
        with open(os.devnull, "w") as null:
            os.dup2(null.fileno(), 2)
            import tensorflow  # noqa: F401
    finally:
        os.dup2(saved, 2)
        os.close(saved)


def _default_workdir(recipe):
    path, _, arg = recipe.partition(":")
    name = os.path.splitext(os.path.basename(path))[0]
    arg = re.sub(r"[^\w.=-]+", "_", arg)
    return os.path.join("runs", name + (f"-{arg}" if arg else ""))


def _train(args, overrides):
    from keras_objectives import config as config_lib
    from keras_objectives import training

    config = config_lib.load_recipe(args.recipe)
    config = config_lib.apply_overrides(config, overrides)
    config = config_lib.validate(config)
    workdir = args.workdir or _default_workdir(args.recipe)
    print(f"keras-objectives: training {args.recipe} in {workdir}",
          file=sys.stderr)
    summary = training.train(config, workdir)
    print(
        f"done: {summary['status']} after {summary['steps']} steps; "
        f"held-out loss {summary['held_out_loss']:.4f}; "
        f"{summary['tokens_per_second']:.0f} tokens/s; "
        f"run dir {workdir}"
    )
    return 0 if summary["status"] == "completed" else 1


def _compare(args, overrides):
    from keras_objectives.compare import load_comparison_recipe
    from keras_objectives.compare import run_comparison

    recipe = load_comparison_recipe(args.recipe, overrides)
    workdir = args.workdir or _default_workdir(args.recipe)
    print(f"keras-objectives: comparing {len(recipe['arms'])} arms x "
          f"{len(recipe['seeds'])} seeds from {args.recipe} in {workdir}",
          file=sys.stderr)
    collection = run_comparison(recipe, workdir, progress=not args.quiet)
    counts = {}
    for run in collection["runs"]:
        counts[run["status"]] = counts.get(run["status"], 0) + 1
    shown = ", ".join(f"{n} {status}" for status, n in sorted(counts.items()))
    print(f"done: {shown}; report {os.path.join(workdir, 'report.html')}")
    if not counts.get("completed"):
        # One diverged arm is a result; a grid where nothing trained is an
        # error (the report lists every failure and its reason).
        print("keras-objectives: error: no run completed; the reasons are "
              "in the report's failures table and in each run's log.",
              file=sys.stderr)
        return 1
    return _report_failed_evaluations(collection)


def _report_failed_evaluations(collection):
    """Print every failed evaluation (even with --quiet); 1 if all failed."""
    ran, failed = 0, 0
    for run in collection["runs"]:
        for key, entry in sorted((run.get("evals") or {}).items()):
            ran += 1
            if entry.get("status") == "error":
                failed += 1
                print(f"keras-objectives: evaluation failed: {run['arm']} "
                      f"seed {run['seed']}: {key}: {entry.get('reason')}",
                      file=sys.stderr)
    if ran and failed == ran:
        print(f"keras-objectives: error: every evaluation failed ({failed}"
              "); the report has no scores. Fix the cause above and rerun "
              "the same command: trained runs are kept.", file=sys.stderr)
        return 1
    return 0


def _report(args, overrides):
    from keras_objectives.compare import write_report

    if overrides:
        raise ValueError(
            "`keras-objectives report` takes no --config overrides: it only "
            f"reads run dirs. Received: {overrides}"
        )
    paths = write_report(args.workdir)
    print(f"report: {paths['html']} and {paths['markdown']}; tidy results "
          f"{paths['csv']}")
    return 0


def _tune(args, overrides):
    from keras_objectives.tuner import require_keras_tuner
    from keras_objectives.tuner.recipe import load_tuning_recipe
    from keras_objectives.tuner.search import run_search

    recipe = load_tuning_recipe(args.recipe, overrides)
    try:
        require_keras_tuner()  # The optional [tuner] extra.
    except ImportError as e:
        raise ValueError(str(e)) from None
    workdir = args.workdir or _default_workdir(args.recipe)
    print(f"keras-objectives: tuning {args.recipe} ({recipe['tuner']}) in "
          f"{workdir}", file=sys.stderr)
    result = run_search(recipe, workdir, overwrite=args.overwrite,
                        verbose=0 if args.quiet else 1)
    print(f"done: {result['trials']} trials, {result['trainings']} trained "
          f"now; best probe dev accuracy {result['best_score']} with "
          f"{result['best_hyperparameters']}; report "
          f"{result['report']['html']}")
    return 0


def _pretokenize(args, overrides):
    from keras_objectives import config as config_lib
    from keras_objectives import data
    from keras_objectives import training
    from keras_objectives.utils import check_int

    config = config_lib.load_recipe(args.recipe)
    config = config_lib.apply_overrides(config, overrides)
    config = config_lib.validate(config)
    output = args.output or config["data"]["pretokenized"]
    if not output:
        raise ValueError(
            "`keras-objectives pretokenize` needs a destination. Pass "
            "--output DIR (a local path or gs://bucket/dir), or set "
            "--config.data.pretokenized=DIR."
        )
    # Before tokenizing: the shard count and the destination.
    check_int("num_shards", args.num_shards, minimum=1)
    data.tfrecord.check_output(output, args.overwrite)
    # Always tokenize the recipe's text; `data.pretokenized` is where the
    # recipe reads the result, so it is only the default destination.
    text = {**config, "data": {**config["data"], "pretokenized": None}}
    print(f"keras-objectives: tokenizing {text['data']['source']!r} for "
          f"{args.recipe}", file=sys.stderr)
    corpus = training.prepare_corpus(text)
    objective = training.build_objective(text, corpus)
    length = objective.raw_length  # As `train` packs: raw tokens per row.
    metadata = data.write_shards(
        corpus, output, length, num_shards=args.num_shards,
        overwrite=args.overwrite,
        settings={"recipe": args.recipe, "data": text["data"],
                  "objective": config["objective"],
                  "sequence_length": config["sequence_length"]},
    )
    splits = metadata["splits"]
    print(
        f"done: {splits['train']['rows']} train and "
        f"{splits['validation']['rows']} validation rows of {length} tokens "
        f"({objective.name}, sequence_length={config['sequence_length']}), "
        f"vocabulary {metadata['vocabulary_size']}, in {output}; train "
        f"with --config.data.pretokenized={output}"
    )
    return 0


def _add_verb(verbs, name, handler, help, description, arguments):
    """One verb: its parser entry, its arguments and its handler."""
    parser = verbs.add_parser(name, help=help, description=description)
    for flags, options in arguments:
        parser.add_argument(*flags, **options)
    parser.set_defaults(handler=handler)
    return parser


_WORKDIR = "run directory (default runs/NAME)"


def build_parser():
    parser = argparse.ArgumentParser(
        prog="keras-objectives",
        description="Seeded pre-training objectives for Keras: train one, "
        "or compare several under a controlled budget.",
        epilog="Any verb takes --debug (or KERAS_OBJECTIVES_DEBUG=1): show "
        "tracebacks and TensorFlow's start-up logs.",
    )
    parser.add_argument("--debug", action="store_true",
                        help="tracebacks and TensorFlow's C++ logs")
    verbs = parser.add_subparsers(dest="verb", required=True)
    _add_verb(
        verbs, "train", _train, "pre-train one objective from a recipe",
        "Pre-train from RECIPE (path.py[:args]). Override any field with "
        "--config.FIELD=VALUE, e.g. --config.training.steps=50.",
        [(["recipe"], {"help": "recipe file, optionally :args"}),
         (["--workdir"], {"help": _WORKDIR})])
    _add_verb(
        verbs, "compare", _compare,
        "train and evaluate every arm x seed of a comparison recipe",
        "Run the comparison RECIPE (path.py[:args]): every arm x seed under "
        "one budget, evaluations, then report.md/report.html. Rerunning "
        "resumes. Override recipe fields with --config.FIELD=VALUE (run "
        "fields under base., e.g. --config.base.training.learning_rate="
        "1e-3; --config.budget.flops=1e13).",
        [(["recipe"], {"help": "comparison recipe file, optionally :args"}),
         (["--workdir"], {"help": "comparison directory (default "
                          "runs/NAME)"}),
         (["--quiet"], {"action": "store_true", "help": "no progress lines "
                        "(failed evaluations are still printed)"})])
    _add_verb(
        verbs, "report", _report,
        "rebuild report.md/report.html from a comparison directory",
        "Read the run dirs and cached evaluations in WORKDIR and write "
        "results.csv/json, report.md and report.html. Never trains or "
        "evaluates.",
        [(["workdir"], {"help": "comparison directory"})])
    _add_verb(
        verbs, "tune", _tune,
        "search objectives and their hyperparameters (keras-tuner)",
        "Run the tuning RECIPE (path.py[:args]): a keras-tuner search "
        "scored by the downstream probe, then report.md/report.html. "
        "Rerunning resumes (finished trials are kept). Override fields with "
        "--config.FIELD=VALUE, e.g. --config.max_trials=4.",
        [(["recipe"], {"help": "tuning recipe file, optionally :args"}),
         (["--workdir"], {"help": "search directory (default runs/NAME)"}),
         (["--overwrite"], {"action": "store_true", "help": "delete a "
                            "previous search in --workdir first"}),
         (["--quiet"], {"action": "store_true",
                        "help": "no progress display"})])
    _add_verb(
        verbs, "pretokenize", _pretokenize,
        "tokenize and pack a recipe's text into TFRecord shards",
        "Read RECIPE's data (path.py[:args]; data.source, "
        "data.vocabulary_size, ...), tokenize it, pack rows of the length "
        "its objective consumes (objective.raw_length) and write the train "
        "and validation rows as TFRecord shards plus metadata.json (written "
        "last) to --output, a local path or gs://bucket/dir. Train from "
        "them with --config.data.pretokenized=DIR. Override fields with "
        "--config.FIELD=VALUE, e.g. --config.data.source=path/to/text.",
        [(["recipe"], {"help": "recipe file, optionally :args"}),
         (["--output"], {"help": "destination directory (default: the "
                         "recipe's data.pretokenized)"}),
         (["--num-shards"], {"type": int, "default": 8,
                             "help": "train shards (default 8)"}),
         (["--overwrite"], {"action": "store_true", "help": "replace "
                            "pretokenized data already in --output"})])
    cli_deploy.add_verbs(verbs, _add_verb)
    return parser


def split_overrides(argv):
    """`(overrides, rest)`; `--config.x 5` (a space for `=`) is an error.

    >>> split_overrides(["train", "r.py", "--config.seed=1"])
    (['--config.seed=1'], ['train', 'r.py'])
    """
    overrides, rest = [], []
    for i, item in enumerate(argv):
        if not item.startswith("--config."):
            rest.append(item)
            continue
        following = argv[i + 1] if i + 1 < len(argv) else None
        if "=" not in item and following and not following.startswith("-"):
            raise ValueError(
                f"Invalid override `{item} {following}`. Expected "
                f"`--config.FIELD=VALUE`, with `=` and no space: "
                f"`{item}={following}`."
            )
        overrides.append(item)
    return overrides, rest


def _debug(argv):
    return "--debug" in argv or os.environ.get(DEBUG_ENV, "") not in (
        "", "0", "false", "False")


def _resume_hint(argv):
    command = shlex.join(["keras-objectives", *argv])
    return (f"interrupted. Completed checkpoints are kept: rerun `{command}`"
            " to resume from the last one.")


def main(argv=None):
    argv = list(sys.argv[1:] if argv is None else argv)
    debug = _debug(argv)
    _setup_environment(debug)
    try:
        overrides, rest = split_overrides(argv)
        args = build_parser().parse_args(
            [a for a in rest if a != "--debug"])
        return args.handler(args, overrides)
    except KeyboardInterrupt:
        if debug:
            traceback.print_exc()
        print(f"keras-objectives: {_resume_hint(argv)}", file=sys.stderr)
        return 130
    except (ValueError, OSError) as e:
        if debug:
            traceback.print_exc()
        message = str(e) or type(e).__name__
        if isinstance(e, OSError) and not isinstance(e, FileNotFoundError):
            message = f"{type(e).__name__}: {message}"
        print(f"keras-objectives: error: {message}", file=sys.stderr)
        return 2


if __name__ == "__main__":
    sys.exit(main())
