"""MLM vs CLM vs T5 span corruption at equal FLOPs, scored on SST-2.

The quickstart's three arms and tiny shared body (2 layers x 64, the
shipped 8k vocabulary, length 64, lr 2e-3), 3 pre-training seeds, 4e11
training FLOPs per run on the embedded books; then a frozen-feature linear
probe (mean-pooled, 3 probe seeds) on the Stanford Sentiment Treebank
(binary, GLUE's SST-2 sentences). The SST-2 files are not shipped: give
the directory holding `train.txt`, `dev.txt` and `test.txt`, one
`<label> <text>` line per sentence (GLUE's TSV works too, through
`evaluation.load_classification`).

Launch (9 runs; about 25-40 minutes on 2 CPU cores):

    keras-objectives compare recipes/compare_sst2.py:sst2=path/to/sst2 \
        --workdir runs/sst2

Recipe arguments (`RECIPE.py:key=value,...`; an unknown key lists them):

    sst2     the SST-2 directory (required)
    seeds    pre-training seeds 0..n-1 (default 3)
    budget   training FLOPs per run (default 4e11)
"""

import os

from keras_objectives.compare.recipe import apply_comparison_args
from keras_objectives.compare.recipe import comparison_args
from keras_objectives.compare.recipe import comparison_base


def get_config(arg=None):
    args = comparison_args(arg, sst2="")
    if args["runlocal"]:
        raise ValueError(
            "Recipe argument `runlocal` does not apply to compare_sst2.py: "
            "its body is already the tiny one. Drop it."
        )
    if not os.path.isdir(args["sst2"]):
        raise ValueError(
            "Invalid value received for recipe argument `sst2`. Expected "
            "the SST-2 directory (with train.txt, dev.txt, test.txt), as in "
            f"`compare_sst2.py:sst2=path/to/sst2`. Received: "
            f"sst2={args['sst2']!r}."
        )
    # Tiny body, shipped vocabulary.
    base, _ = comparison_base({"runlocal": True})
    base["training"]["learning_rate"] = 2e-3  # As the quickstart (fixed).
    folder = os.path.abspath(args["sst2"])
    task = {split: os.path.join(folder, f"{split}.txt")
            for split in ("train", "dev", "test")}
    return apply_comparison_args({
        "name": "sst2",
        "description": "MLM vs CLM vs span corruption at equal training "
                       "FLOPs, SST-2 linear probe.",
        "seeds": [0, 1, 2],
        "budget": {"flops": 4e11},
        "base": base,
        "arms": [
            {"name": "mlm", "objective": "masked_lm"},
            {"name": "clm", "objective": "causal_lm"},
            {"name": "t5-span", "objective": {
                "class_name": "span_corruption",
                "config": {"form": "decoder", "noise_density": 0.15,
                           "mean_noise_span_length": 3.0}}},
        ],
        "evaluations": [
            {"name": "linear_probe", "task": task},
            "held_out_lm",
        ],
        "checkpoints_for_curves": 0,
        "log_intervals": 10,
    }, args)
