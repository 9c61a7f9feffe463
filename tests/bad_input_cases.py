"""The bad-input table: what a new user gets wrong, and what they must see.

Each case is a `keras-objectives` command line with placeholders, an
optional setup that writes files into the case's own directory, the exit
code it must end with and the substrings its message must hold (the
argument or file it names, and the fix). `tests/test_bad_inputs.py` runs
every case in process; `scripts/survey_bad_inputs.py` runs them as
subprocesses with a timeout, against any checkout, and counts outcomes.

Placeholders: `{tiny}` a tiny training recipe (a 2 x 64 body, length 32,
2 steps, a small text corpus), `{compare}` a tiny comparison recipe,
`{recipes}` the project's `recipes/` folder, `{tmp}` the case's directory
and `{workdir}` the run directory inside it (`{tmp}/run`). Every case must
leave `{workdir}` as it found it (absent, or unchanged when a setup made
it).
"""

import dataclasses
import os

from tests import bad_input_setups as s
from tests.bad_input_setups import snapshot  # noqa: F401
from tests.bad_input_setups import write_corpus  # noqa: F401
from tests.bad_input_setups import write_fixtures  # noqa: F401


@dataclasses.dataclass
class Case:
    name: str
    argv: str
    expect: tuple
    setup: object = None
    code: int = 2
    # "early": fails before any data is read; "data": after the corpus is
    # prepared (cached); "model": after the model is built.
    stage: str = "early"


T = "train {tiny} --workdir {workdir} "
C = "--config."
CASES = [
    # --- The run config: values out of range, types, syntax -------------
    Case("eval_batches_zero", T + C + "training.eval_batches=0",
         ("training.eval_batches", ">= 1")),
    Case("eval_batches_negative", T + C + "training.eval_batches=-2",
         ("training.eval_batches", ">= 1")),
    Case("steps_per_checkpoint_zero", T + C +
         "training.steps_per_checkpoint=0",
         ("training.steps_per_checkpoint", ">= 1")),
    Case("steps_per_checkpoint_not_divisor", T + C + "training.steps=5 "
         + C + "training.steps_per_checkpoint=2",
         ("training.steps_per_checkpoint", "divisor")),
    Case("steps_zero", T + C + "training.steps=0",
         ("training.steps", ">= 1")),
    Case("steps_text", T + C + "training.steps=abc",
         ("training.steps", "integer")),
    Case("steps_fraction", T + C + "training.steps=2.5",
         ("training.steps", "integer")),
    Case("learning_rate_negative", T + C + "training.learning_rate=-0.5",
         ("training.learning_rate", "> 0")),
    Case("learning_rate_zero", T + C + "training.learning_rate=0",
         ("training.learning_rate", "> 0")),
    Case("learning_rate_nan", T + C + "training.learning_rate=nan",
         ("training.learning_rate", "finite")),
    Case("learning_rate_inf", T + C + "training.learning_rate=inf",
         ("training.learning_rate", "finite")),
    Case("learning_rate_text", T + C + "training.learning_rate=fast",
         ("training.learning_rate", "number")),
    Case("warmup_negative", T + C + "training.warmup_steps=-1",
         ("training.warmup_steps", ">= 0")),
    Case("weight_decay_negative", T + C + "training.weight_decay=-0.1",
         ("training.weight_decay", ">= 0")),
    Case("clipnorm_zero", T + C + "training.clipnorm=0",
         ("training.clipnorm", "> 0", "None")),
    Case("keep_checkpoints_zero", T + C + "training.keep_checkpoints=0",
         ("training.keep_checkpoints", ">= 1")),
    Case("global_batch_zero", T + C + "training.global_batch_size=0",
         ("training.global_batch_size", ">= 1")),
    Case("global_batch_negative", T + C + "training.global_batch_size=-8",
         ("training.global_batch_size", ">= 1")),
    Case("mixed_precision_float8", T + C + "training.mixed_precision=float8",
         ("training.mixed_precision", "mixed_bfloat16", "mixed_float16")),
    Case("jit_compile_text", T + C + "training.jit_compile=maybe",
         ("training.jit_compile", "True or False")),
    Case("deterministic_number", T + C + "training.deterministic=2",
         ("training.deterministic", "True or False")),
    Case("peak_flops_negative", T + C + "training.peak_flops=-1",
         ("training.peak_flops", "> 0")),
    Case("seed_negative", T + C + "seed=-1", ("seed", ">= 0")),
    Case("seed_text", T + C + "seed=abc", ("seed", "integer")),
    Case("sequence_length_zero", T + C + "sequence_length=0",
         ("sequence_length", ">= 2")),
    Case("sequence_length_over_max", T + C + "sequence_length=512",
         ("sequence_length", "model.max_sequence_length")),
    Case("num_layers_zero", T + C + "model.num_layers=0",
         ("model.num_layers", ">= 1")),
    Case("hidden_not_divisible", T + C + "model.hidden_dim=65",
         ("model.hidden_dim", "model.num_heads")),
    Case("dropout_out_of_range", T + C + "model.dropout=1.5",
         ("model.dropout", ">= 0 and < 1")),
    Case("backbone_unknown", T + C + "model.backbone=nope",
         ("model.backbone", "body")),
    Case("document_masking_text", T + C + "model.document_masking=yes",
         ("model.document_masking", "True or False")),
    Case("strategy_unknown", T + C + "strategy=gpu",
         ("strategy", "mirrored")),
    Case("devices_not_list", T + C + "strategy=mirrored " + C +
         "devices=cpu", ("devices", "list")),
    Case("vocabulary_size_zero", T + C + "data.vocabulary_size=0",
         ("data.vocabulary_size", ">=")),
    Case("data_errors_unknown", T + C + "data.errors=ignore",
         ("data.errors", "replace")),
    Case("data_mode_unknown", T + C + "data.mode=paragraph",
         ("data.mode", "line")),
    Case("lowercase_text", T + C + "data.lowercase=maybe",
         ("data.lowercase", "True or False")),
    Case("pretokenized_number", T + C + "data.pretokenized=3",
         ("data.pretokenized", "pretokenize")),
    Case("unknown_field", T + C + "training.stpes=3",
         ("training.stpes", "did you mean `steps`")),
    Case("unknown_top_field", T + C + "optimizer=adam",
         ("optimizer", "Known fields")),
    Case("override_space_not_equals", T + C + "training.steps 5",
         ("--config.training.steps", "--config.training.steps=5")),
    Case("override_without_value", T + C + "training.steps",
         ("--config.training.steps", "=VALUE")),
    Case("override_dict_field", T + C + "training=5",
         ("training", "dict")),
    # --- The objective and its options ----------------------------------
    Case("objective_unknown", T + C + "objective=nope",
         ("nope", "masked_lm")),
    Case("objective_option_typo", T + C +
         "objective.config.selction_rate=0.2",
         ("selction_rate", "selection_rate")),
    Case("objective_option_unknown", T + C + "objective.config.colour=1",
         ("colour", "masked_lm")),
    Case("selection_rate_out_of_range", T + C +
         "objective.config.selection_rate=1.5",
         ("selection_rate", "1.5")),
    Case("selection_rate_zero", T + C + "objective.config.selection_rate=0",
         ("selection_rate", "loss"), stage="model"),
    Case("objective_form_unknown", T + C + "objective=span_corruption "
         + C + "objective.config.form=sideways", ("form", "decoder")),
    Case("objective_not_a_name", T + C + "objective=[1,2]",
         ("objective", "class_name")),
    # --- Data -------------------------------------------------------------
    Case("data_source_missing", T + C + "data.source={tmp}/nowhere",
         ("nowhere",)),
    Case("data_source_empty_dir", T + C + "data.source={tmp}/empty",
         ("empty",), setup=s.empty_dir),
    Case("data_validation_missing", T + C + "data.validation={tmp}/no.txt",
         ("no.txt",)),
    Case("data_validation_too_small", T + C + "data.validation={tmp}/val.txt",
         ("data.validation", "validation split"), setup=s.small_validation,
         stage="data"),
    Case("vocabulary_too_small", T + C + "data.vocabulary_size=40",
         ("data.vocabulary_size",), stage="data"),
    Case("pretokenized_missing", T + C + "data.pretokenized={tmp}/shards",
         ("shards", "pretokenize")),
    # --- Recipes ------------------------------------------------------------
    Case("recipe_missing", "train {tmp}/nope.py --workdir {workdir}",
         ("recipe", "nope.py", "no such file")),
    Case("recipe_without_py", "train {recipes}/masked_lm --workdir "
         "{workdir}", ("recipe", ".py")),
    Case("recipe_is_directory", "train {recipes} --workdir {workdir}",
         ("recipe", "directory", ".py")),
    Case("recipe_syntax_error", "train {tmp}/recipe.py --workdir {workdir}",
         ("recipe.py", "SyntaxError"), setup=s.recipe("def get_config(:\n")),
    Case("recipe_import_error", "train {tmp}/recipe.py --workdir {workdir}",
         ("recipe.py", "no_such_module"),
         setup=s.recipe("import no_such_module\n")),
    Case("recipe_without_get_config", "train {tmp}/recipe.py --workdir "
         "{workdir}", ("recipe.py", "get_config"), setup=s.recipe("x = 1\n")),
    Case("recipe_returns_list", "train {tmp}/recipe.py --workdir {workdir}",
         ("recipe.py", "dict", "list"),
         setup=s.recipe("def get_config(arg=None):\n    return [1]\n")),
    Case("recipe_raises", "train {tmp}/recipe.py --workdir {workdir}",
         ("recipe.py", "KeyError", "oops"),
         setup=s.recipe("def get_config(arg=None):\n    raise KeyError("
                       "'oops')\n")),
    Case("recipe_arg_unknown", "train {recipes}/masked_lm.py:bogus "
         "--workdir {workdir}", ("bogus", "runlocal=False")),
    Case("recipe_arg_wrong_type", "train {recipes}/masked_lm.py:runlocal=2 "
         "--workdir {workdir}", ("runlocal", "True or False")),
    # --- Workdirs -----------------------------------------------------------
    Case("workdir_is_file", "train {tiny} --workdir {tmp}/afile",
         ("workdir", "afile", "file"), setup=s.file_at("afile")),
    Case("workdir_under_file", "train {tiny} --workdir {tmp}/afile/run",
         ("workdir", "afile", "file"), setup=s.file_at("afile")),
    Case("workdir_url", "train {tiny} --workdir gs://bucket/run",
         ("workdir", "gs://bucket/run", "local")),
    Case("resume_different_config", T + C + "training.steps=4",
         ("training.steps", "8 (saved)", "4 (now)", "--workdir"),
         setup=s.saved_run(s.steps)),
    Case("resume_garbage_config", T, ("config.json", "--workdir"),
         setup=s.garbage_config),
    # --- Compare -----------------------------------------------------------
    Case("compare_task_latin1", "compare {tmp}/compare.py --workdir "
         "{workdir}", ("train.txt", "UTF-8", "train"),
         setup=s.compare_with_task(lambda tmp: s.task_files(
             tmp, train="pos caf\u00e9 good\nneg bad\n" * 4,
             encoding="latin-1"))),
    Case("compare_task_missing", "compare {tmp}/compare.py --workdir "
         "{workdir}", ("missing.txt", "linear_probe"),
         setup=s.compare_with_task(lambda tmp: {
             "train": os.path.join(tmp, "missing.txt")})),
    Case("compare_task_unknown_dev_label", "compare {tmp}/compare.py "
         "--workdir {workdir}", ("dev", "maybe"),
         setup=s.compare_with_task(lambda tmp: s.task_files(
             tmp, dev="maybe so-so\n"))),
    Case("compare_garbage_comparison_json", "compare {tmp}/compare.py "
         "--workdir {workdir}", ("comparison.json", "--workdir"),
         setup=s.garbage_comparison),
    Case("compare_repeated_seed", "compare {tmp}/compare.py --workdir "
         "{workdir} " + C + "seeds=[0,0]", ("seeds", "distinct", "[0, 1, 2]"),
         setup=s.compare_with_task("book_attribution")),
    Case("compare_negative_budget", "compare {tmp}/compare.py --workdir "
         "{workdir} " + C + "budget.steps=-1", ("budget.steps", "positive"),
         setup=s.compare_with_task("book_attribution")),
    Case("compare_unknown_evaluation", "compare {tmp}/compare.py --workdir "
         "{workdir} \"" + C + "evaluations=['nope']\"",
         ("evaluations[0]", "linear_probe"),
         setup=s.compare_with_task("book_attribution")),
    Case("compare_bad_base_value", "compare {tmp}/compare.py --workdir "
         "{workdir} " + C + "base.training.learning_rate=-1",
         ("training.learning_rate", "> 0"),
         setup=s.compare_with_task("book_attribution")),
    Case("compare_arm_option_typo", "compare {tmp}/compare.py --workdir "
         "{workdir} \"" + C + "arms=[{{'name':'a','objective':{{"
         "'class_name':'masked_lm','config':{{'selction_rate':0.2}}}}}},"
         "'causal_lm']\"",
         ("selction_rate", "selection_rate"),
         setup=s.compare_with_task("book_attribution")),
    # --- Other verbs -----------------------------------------------------
    Case("pretokenize_output_is_file", "pretokenize {tiny} --output "
         "{tmp}/out", ("output", "out", "file"), setup=s.pretokenize_file),
    Case("pretokenize_no_output", "pretokenize {tiny}", ("--output",)),
    Case("pretokenize_zero_shards", "pretokenize {tiny} --output {tmp}/o "
         "--num-shards 0", ("num_shards", ">= 1")),
    Case("report_missing_dir", "report {tmp}/nowhere", ("nowhere",)),
    Case("report_not_a_comparison", "report {tmp}/empty",
         ("empty", "comparison"), setup=s.empty_dir),
    Case("tune_unknown_tuner", "tune {recipes}/tune_quickstart.py "
         "--workdir {workdir} " + C + "tuner=grid",
         ("tuner", "RandomSearch")),
    Case("tune_workdir_under_file", "tune {recipes}/tune_quickstart.py:"
         "runlocal --workdir {tmp}/afile/run", ("workdir", "afile", "file"),
         setup=s.file_at("afile")),
    Case("tune_recipe_arg_unknown", "tune {recipes}/tune_quickstart.py:"
         "bogus --workdir {workdir}", ("bogus", "runlocal=False")),
    Case("compare_workdir_is_file", "compare {tmp}/compare.py --workdir "
         "{tmp}/afile", ("workdir", "afile", "file"),
         setup=s.both(s.compare_with_task("book_attribution"),
                      s.file_at("afile"))),
    Case("compare_recipe_arg_unknown", "compare {recipes}/quickstart.py:"
         "bogus --workdir {workdir}", ("bogus", "runlocal=False")),
    Case("compare_seeds_arg_wrong_type", "compare {recipes}/quickstart.py:"
         "seeds=many --workdir {workdir}", ("seeds", "many")),
]
