"""`keras-objectives <verb>`: train, compare, report, tune.

Examples:

    keras-objectives train recipes/masked_lm.py:runlocal --workdir runs/mlm
    keras-objectives train recipes/causal_lm.py --config.training.steps=200
    keras-objectives compare recipes/quickstart.py --workdir runs/quickstart
    keras-objectives report runs/quickstart
    keras-objectives tune recipes/tune_quickstart.py --workdir runs/tune
"""

import argparse
import os
import sys


def _setup_environment():
    # Must happen before keras is imported anywhere.
    os.environ.setdefault("KERAS_BACKEND", "tensorflow")
    os.environ.setdefault("TF_CPP_MIN_LOG_LEVEL", "2")


def _default_workdir(recipe):
    path, _, arg = recipe.partition(":")
    name = os.path.splitext(os.path.basename(path))[0]
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
    data.tfrecord.check_output(output, args.overwrite)  # Before tokenizing.
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


def _export(args, overrides):
    from keras_objectives.deploy.export import export_run

    if overrides:
        raise ValueError(
            "`keras-objectives export` takes no --config overrides: it "
            f"writes a saved checkpoint as is. Received: {overrides}")
    meta = export_run(args.run_dir, args.output, step=args.step,
                      overwrite=args.overwrite)
    print(f"done: step {meta['step']} of {meta['objective']} "
          f"({meta['backbone']}, {meta['tokens']:,} tokens, "
          f"{meta['flops']:.3g} FLOPs) exported to {args.output}")
    return 0


def _finetune(args, overrides):
    from keras_objectives.deploy.finetune import finetune

    print(f"keras-objectives: fine-tuning {args.source} on {args.task} in "
          f"{args.workdir}", file=sys.stderr)
    scores = finetune(args.source, args.task, args.workdir,
                      overrides=overrides, verbose=2 if args.quiet else "auto")
    shown = ", ".join(f"{k} {scores[k]:.4f}" for k in sorted(scores)
                      if k.startswith(("dev_", "test_")) and k.endswith(
                          ("accuracy", "f1")) and "majority" not in k)
    print(f"done: {shown}; best epoch {scores['best_epoch']} of "
          f"{scores['epochs_run']}; model {args.workdir}/model.keras, "
          f"SavedModel {args.workdir}/saved_model")
    return 0


def _predict(args, overrides):
    import json

    from keras_objectives.deploy.predict import load_predictor
    from keras_objectives.deploy.predict import read_texts
    from keras_objectives.deploy.predict import truncation_warning

    texts = read_texts(args.texts, args.input, overrides)
    records = load_predictor(args.model)(texts)
    for record in records:
        print(json.dumps(record, ensure_ascii=False))
    warning = truncation_warning(records)
    if warning:
        print(f"keras-objectives: warning: {warning}", file=sys.stderr)
    return 0


def build_parser():
    parser = argparse.ArgumentParser(
        prog="keras-objectives",
        description="Seeded pre-training objectives for Keras: train one, "
        "or compare several under a controlled budget.",
    )
    verbs = parser.add_subparsers(dest="verb", required=True)
    train = verbs.add_parser(
        "train",
        help="pre-train one objective from a recipe",
        description="Pre-train from RECIPE (path.py[:arg]). Override any "
        "field with --config.FIELD=VALUE, e.g. --config.training.steps=50.",
    )
    train.add_argument("recipe", help="recipe file, optionally :arg")
    train.add_argument("--workdir", help="run directory (default runs/NAME)")
    train.set_defaults(handler=_train)
    compare = verbs.add_parser(
        "compare",
        help="train and evaluate every arm x seed of a comparison recipe",
        description="Run the comparison RECIPE (path.py[:arg]): every arm x "
        "seed under one budget, evaluations, then report.md/report.html. "
        "Rerunning resumes. Override recipe fields with --config.FIELD="
        "VALUE (run fields under base., e.g. --config.base.training."
        "learning_rate=1e-3; --config.budget.flops=1e13).",
    )
    compare.add_argument("recipe", help="comparison recipe file, optionally "
                         ":arg")
    compare.add_argument("--workdir", help="comparison directory (default "
                         "runs/NAME)")
    compare.add_argument("--quiet", action="store_true",
                         help="no progress lines")
    compare.set_defaults(handler=_compare)
    report = verbs.add_parser(
        "report",
        help="rebuild report.md/report.html from a comparison directory",
        description="Read the run dirs and cached evaluations in WORKDIR "
        "and write results.csv/json, report.md and report.html. Never "
        "trains or evaluates.",
    )
    report.add_argument("workdir", help="comparison directory")
    report.set_defaults(handler=_report)
    tune = verbs.add_parser(
        "tune",
        help="search objectives and their hyperparameters (keras-tuner)",
        description="Run the tuning RECIPE (path.py[:arg]): a keras-tuner "
        "search scored by the downstream probe, then report.md/report.html."
        " Rerunning resumes (finished trials are kept). Override fields "
        "with --config.FIELD=VALUE, e.g. --config.max_trials=4.",
    )
    tune.add_argument("recipe", help="tuning recipe file, optionally :arg")
    tune.add_argument("--workdir", help="search directory (default "
                      "runs/NAME)")
    tune.add_argument("--overwrite", action="store_true",
                      help="delete a previous search in --workdir first")
    tune.add_argument("--quiet", action="store_true",
                      help="no progress display")
    tune.set_defaults(handler=_tune)
    pretokenize = verbs.add_parser(
        "pretokenize",
        help="tokenize and pack a recipe's text into TFRecord shards",
        description="Read RECIPE's data (path.py[:arg]; data.source, "
        "data.vocabulary_size, ...), tokenize it, pack rows of the length "
        "its objective consumes (objective.raw_length) and write the train "
        "and validation rows as TFRecord shards plus metadata.json (written "
        "last) to --output, a local path or gs://bucket/dir. Train from "
        "them with --config.data.pretokenized=DIR. Override fields with "
        "--config.FIELD=VALUE, e.g. --config.data.source=path/to/text.",
    )
    pretokenize.add_argument("recipe", help="recipe file, optionally :arg")
    pretokenize.add_argument("--output", help="destination directory "
                             "(default: the recipe's data.pretokenized)")
    pretokenize.add_argument("--num-shards", type=int, default=8,
                             help="train shards (default 8)")
    pretokenize.add_argument("--overwrite", action="store_true",
                             help="replace pretokenized data already in "
                             "--output")
    pretokenize.set_defaults(handler=_pretokenize)
    export = verbs.add_parser(
        "export",
        help="write a run's checkpoint as a keras-hub preset",
        description="Write checkpoint --step (default: the last) of "
        "RUN_DIR as a keras-hub preset directory: backbone config and "
        "weights, tokenizer and vocabulary, preprocessor, and "
        "metadata.json (objective, run config, seed, step, tokens, FLOPs).",
    )
    export.add_argument("run_dir", help="a run directory (train --workdir)")
    export.add_argument("--output", required=True,
                        help="the preset directory to create")
    export.add_argument("--step", type=int, help="checkpoint step "
                        "(default: the last)")
    export.add_argument("--overwrite", action="store_true",
                        help="replace a non-empty --output")
    export.set_defaults(handler=_export)
    finetune = verbs.add_parser(
        "finetune",
        help="fine-tune a preset or run on a labelled task",
        description="Fine-tune SOURCE (a preset directory, or a run "
        "directory, exported first) on TASK (a folder with train/dev/test "
        "files: label-text, TSV, CSV, JSONL or CoNLL; a training file; or "
        "tfds:NAME). Writes metrics.json, model.keras and a SavedModel "
        "that takes raw strings. Rerunning resumes. Override fields with "
        "--config.FIELD=VALUE, e.g. --config.epochs=3.",
    )
    finetune.add_argument("source", help="preset or run directory")
    finetune.add_argument("--task", required=True, help="task folder, "
                          "file or tfds:NAME")
    finetune.add_argument("--workdir", required=True,
                          help="output directory")
    finetune.add_argument("--quiet", action="store_true",
                          help="one line per epoch, no progress bar")
    finetune.set_defaults(handler=_finetune)
    predict = verbs.add_parser(
        "predict",
        help="label raw texts with a fine-tuned model (JSON lines)",
        description="Print one JSON line per text: the label and "
        "probabilities (classification) or word/tag pairs (tagging). "
        "MODEL is a finetune workdir, a .keras file or a SavedModel dir.",
    )
    predict.add_argument("model", help="finetune workdir, .keras or "
                         "SavedModel directory")
    predict.add_argument("texts", nargs="*", help="texts to label")
    predict.add_argument("--input", help="a file with one text per line "
                         "(- for stdin)")
    predict.set_defaults(handler=_predict)
    return parser


def main(argv=None):
    _setup_environment()
    argv = list(sys.argv[1:] if argv is None else argv)
    overrides = [a for a in argv if a.startswith("--config.")]
    rest = [a for a in argv if not a.startswith("--config.")]
    args = build_parser().parse_args(rest)
    try:
        return args.handler(args, overrides)
    except (ValueError, FileNotFoundError, KeyError) as e:
        message = e.args[0] if e.args else str(e)
        print(f"keras-objectives: error: {message}", file=sys.stderr)
        return 2


if __name__ == "__main__":
    sys.exit(main())
