"""The deploy verbs of `keras-objectives`: export, finetune, predict.

Handlers import their modules lazily: parsing a command line never
imports TensorFlow. See `docs/deploy.md`.
"""

import json
import sys


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


def add_verbs(verbs, add_verb):
    """Register the deploy verbs on `verbs` with `cli._add_verb`."""
    add_verb(
        verbs, "export", _export,
        "write a run's checkpoint as a keras-hub preset",
        "Write checkpoint --step (default: the last) of RUN_DIR as a "
        "keras-hub preset directory: backbone config and weights, tokenizer "
        "and vocabulary, preprocessor, and metadata.json (objective, run "
        "config, seed, step, tokens, FLOPs).",
        [(["run_dir"], {"help": "a run directory (train --workdir)"}),
         (["--output"], {"required": True,
                         "help": "the preset directory to create"}),
         (["--step"], {"type": int,
                       "help": "checkpoint step (default: the last; 0: the "
                                "untrained initial weights, if saved)"}),
         (["--overwrite"], {"action": "store_true",
                            "help": "replace a non-empty --output"})])
    add_verb(
        verbs, "finetune", _finetune,
        "fine-tune a preset or run on a labelled task",
        "Fine-tune SOURCE (a preset directory, or a run directory, exported "
        "first) on TASK (a folder with train/dev/test files: label-text, "
        "TSV, CSV, JSONL or CoNLL; a training file; tfds:NAME; or "
        "builtin:book_attribution). Writes "
        "metrics.json, model.keras and a SavedModel that takes raw strings. "
        "Rerunning resumes. Override fields with --config.FIELD=VALUE, e.g. "
        "--config.epochs=3.",
        [(["source"], {"help": "preset or run directory"}),
         (["--task"], {"required": True,
                       "help": "task folder, file, tfds:NAME or "
                       "builtin:book_attribution"}),
         (["--workdir"], {"required": True, "help": "output directory"}),
         (["--quiet"], {"action": "store_true",
                        "help": "one line per epoch, no progress bar"})])
    add_verb(
        verbs, "predict", _predict,
        "label raw texts with a fine-tuned model (JSON lines)",
        "Print one JSON line per text: the label and probabilities "
        "(classification) or word/tag pairs (tagging). MODEL is a finetune "
        "workdir, a .keras file or a SavedModel dir.",
        [(["model"], {"help": "finetune workdir, .keras or SavedModel "
                      "directory"}),
         (["texts"], {"nargs": "*", "help": "texts to label"}),
         (["--input"], {"help": "a file with one text per line (- for "
                        "stdin)"})])
