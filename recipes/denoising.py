"""BART denoising on the shared body (decoder-only form, prefix attention).

The paper's setting: 30% of each document's tokens are infilled in
Poisson(3)-length spans (one `[MASK]` per span, a length-0 span inserts
one) and its sentences are permuted; the body reads the corrupted row
bidirectionally and predicts the whole original row causally after it. At
length 128 a row consumes 64 raw tokens: about 52 corrupted + 64 original
positions of the 128; the loss is on the 64 original tokens (50% of
positions), the logits are computed at all 128.

Sentence permutation needs the ids of the tokenizer's ".", "!", "?"
(`sentence_end_ids`); without them each document is one sentence and only
infilling remains. Set them with
`--config.objective.config.sentence_end_ids='[ids]'`.

Launch (CPU smoke run, about 2 minutes on 2 cores):

    keras-objectives train recipes/denoising.py:runlocal --workdir runs/bart

Full run (4 layers x 256, length 128, 10k steps x 32 sequences = 41M
positions, 20M raw tokens, about 1.4e15 training FLOPs, ~2.5 h on 2 CPU
cores, minutes on one GPU):

    keras-objectives train recipes/denoising.py --workdir runs/bart

The encoder-decoder form (`--config.objective.config.form=encoder_decoder`)
needs a `keras_hub.models.BartBackbone` (`--config.model.backbone=` a BART
preset); there `sequence_length=128` is both the encoder and the decoder
length and a row consumes 128 raw tokens.

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
        "class_name": "denoising",
        "config": {
            "form": "decoder",  # Shared body; "encoder_decoder": BART.
            "infill_rate": 0.3,  # BART's final setting (Lewis et al. 5.1).
            "poisson_lambda": 3.0,  # BART: span lengths ~ Poisson(3).
            "permute_sentences_rate": 1.0,  # BART: permute all sentences.
            "mask_rate": 0.0,  # Token masking: off in the final setting.
            "delete_rate": 0.0,  # Token deletion: off.
            "rotate_rate": 0.0,  # Paper: off (fairseq's default is 0.5).
        },
    }
    config["training"]["steps"] = 10_000
    config["training"]["steps_per_checkpoint"] = 500
    return apply_run_type(config, args)
