"""T5 span corruption on the shared body (decoder-only form, prefix attention).

15% of each row's tokens, in spans of mean length 3, are replaced by unique
sentinels; the body reads the corrupted inputs bidirectionally and predicts
`<extra_id_k> span_k ... [SEP]` causally after them (seqio's
`PrefixLMFeatureConverter`). At length 128 a row consumes 114 raw tokens:
104 inputs + 24 targets fill the 128 positions exactly; the loss is on the
24 targets (19% of positions), the logits are computed at all 128.

Launch (CPU smoke run, about 2 minutes on 2 cores):

    keras-objectives train recipes/span_corruption.py:runlocal --workdir runs/t5

Full run (4 layers x 256, length 128, 10k steps x 32 sequences = 41M
positions, 36M raw tokens, about 1.4e15 training FLOPs, ~2.5 h on 2 CPU
cores, minutes on one GPU):

    keras-objectives train recipes/span_corruption.py --workdir runs/t5

The encoder-decoder form (`--config.objective.config.form=encoder_decoder`)
needs a `keras_hub.models.T5Backbone` (`--config.model.backbone=` a T5
preset); there `sequence_length=128` is the encoder length and a row
consumes 141 raw tokens with 29 targets (T5's `random_spans_helper`).

Recipe arguments (`RECIPE.py:key=value,...`; an unknown key lists them):

    runlocal   CPU smoke run: tiny model, 200 steps (default off)
"""

from keras_objectives.config import apply_run_type
from keras_objectives.config import base_config
from keras_objectives.config import recipe_args


def get_config(arg=None):
    args = recipe_args(arg, runlocal=False)
    config = base_config()
    config["seed"] = 0
    config["objective"] = {
        "class_name": "span_corruption",
        "config": {
            "form": "decoder",  # Shared body; "encoder_decoder": T5Backbone.
            "noise_density": 0.15,  # T5's default (Raffel et al., Table 7).
            "mean_noise_span_length": 3.0,  # T5's default (Table 8).
            "random_roll": False,  # T5: noise always ends the row (#905).
        },
    }
    config["training"]["steps"] = 10_000
    config["training"]["steps_per_checkpoint"] = 500
    return apply_run_type(config, args)
