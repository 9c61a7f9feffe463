"""T5-base span corruption (encoder-decoder, T5Backbone), 512 / 114, batch 128.

T5's pre-training schedule: 2^19 steps x 128 rows, encoder length 512,
decoder length 114 (a row consumes 568 raw tokens; T5's
`random_spans_helper`), 15% noise in spans of mean length 3. The
encoder-decoder form on `keras_hub.models.T5Backbone` (12 + 12 blocks of
768, gated feedforward 2048: T5.1.1-base, 223M parameters at V = 32768), no
dropout, AdamW at 1e-4 with 10k warmup steps. bfloat16, XLA,
`TPUStrategy`; the rows come from `data.pretokenized`.

Expected cost, from the project's accounting (`objectives/flops.py`,
`InputsToTargets.accounting`), with V = 32768, at an assumed 40% MFU:

    N, non-embedding parameters   = 198,229,248 (both stacks)
    decoder's cross-attention     = 12 x (4 d^2 + d) = 28,320,768
    encoder, N_e                  = (198,229,248 - 28,320,768) / 2
                                  = 84,954,240
    decoder, N_d                  = N_e + 28,320,768 = 113,275,008
    encoder FLOPs per token       = 2 N_e + 4 x 512 x 768 x 12
                                  = 188,782,848 (x 128 x 512 tokens)
    decoder FLOPs per token       = 2 N_d + 4 x 114 x 768 x 12
                                    + cross 4 x 512 x 768 x 12
                                    + softmax 2 d V
                                  = 230,752,512 + 18,874,368 + 50,331,648
                                    (x 128 x 114 tokens)
    FLOPs per step (x3: backward) = 5.02e13
    524,288 steps                 = 2.63e19 FLOPs (34B input tokens)
    v3-8, 420 TFLOP/s x 0.4       = 2.63e19 / 1.68e14 = 1.6e5 s
                                  = 44 h, 1.8 days (0.30 s/step)
    v4-8, 4 x 275 TFLOP/s x 0.4   = 2.63e19 / 4.40e14 = 6.0e4 s
                                  = 17 h, 0.7 days (0.11 s/step)

The pipeline holds the packed rows in host memory, each array under 2 GB
(at most ~500M tokens); 2^19 x 128 x 568 = 38B raw tokens are 70+ epochs
of the largest corpus it takes.

Launch. CPU smoke run (tiny T5, 200 steps, length 128 -> 141 raw tokens
and 29 targets, the embedded books tokenized in the process; 20 of its
steps took 1.2 min on 2 busy cores, so 5-10 minutes in all):

    keras-objectives train recipes/tpu/t5_base_span_corruption.py:runlocal \
        --workdir runs/tpu-t5-local

The same smoke run through TFRecord shards, as the TPU reads them:

    keras-objectives pretokenize \
        recipes/tpu/t5_base_span_corruption.py:runlocal \
        --output /tmp/ko-data/t5_base_span_corruption
    keras-objectives train recipes/tpu/t5_base_span_corruption.py:runlocal \
        --workdir runs/tpu-t5-shards \
        --config.data.pretokenized=/tmp/ko-data/t5_base_span_corruption

Full run: pretokenize once where the text is, then launch on the TPU VM
(see tpu/README.md; on a v4-8 add --config.training.peak_flops=1.1e15):

    keras-objectives pretokenize recipes/tpu/t5_base_span_corruption.py \
        --config.data.source=/data/my-text \
        --output gs://my-bucket/ko/data/t5_base_span_corruption
    bash tpu/launch.sh $TPU $ZONE recipes/tpu/t5_base_span_corruption.py \
        runs/t5_base_span_corruption \
        --config.data.pretokenized=gs://my-bucket/ko/data/t5_base_span_corruption

Recipe arguments (`RECIPE.py:key=value,...`; an unknown key lists them):

    runlocal   the CPU smoke run above (default off)
"""

from keras_objectives.config import TPU_PEAK_FLOPS
from keras_objectives.config import apply_tpu_run_type
from keras_objectives.config import base_config
from keras_objectives.config import recipe_args
from keras_objectives.config import set_model_size


def get_config(arg=None):
    args = recipe_args(arg, runlocal=False)
    config = base_config()
    config["seed"] = 0
    config["objective"] = {
        "class_name": "span_corruption",
        "config": {
            "form": "encoder_decoder",  # Inputs 512, targets 114.
            "noise_density": 0.15,  # T5's default (Raffel et al., Table 7).
            "mean_noise_span_length": 3.0,  # T5's default (Table 8).
            "random_roll": False,
        },
    }
    config["sequence_length"] = 512  # T5's encoder length.
    config["data"].update(
        source="path/to/your/text",  # Read by `pretokenize` only.
        vocabulary_size=32768,  # T5: 32128.
        pretokenized="gs://YOUR_BUCKET/ko/data/t5_base_span_corruption",
    )
    set_model_size(config, "base")
    config["model"].update(
        backbone="t5",  # keras_hub T5Backbone: 12 encoder + 12 decoder.
        # T5Backbone's feedforward is gated (3 matrices): 2048 gives
        # T5.1.1-base, the parameters of T5-base's 3072 ReLU (2 matrices).
        intermediate_dim=2048,
        dropout=0.0,  # T5.1.1: no dropout in pre-training.
    )
    config["training"].update(
        global_batch_size=128,  # T5: 128 x 512.
        steps=524_288,  # T5: 2^19 steps.
        learning_rate=1e-4,  # AdamW (T5 used Adafactor at 1e-2).
        warmup_steps=10_000,  # T5: 10^4.
        steps_per_checkpoint=4_096,
        eval_batches=20,
        jit_compile=True,
        mixed_precision="mixed_bfloat16",
        peak_flops=TPU_PEAK_FLOPS["v3-8"],
    )
    config["strategy"] = "tpu"
    config["tpu"] = "local"
    return apply_tpu_run_type(config, args)
