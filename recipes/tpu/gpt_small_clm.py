"""GPT-small causal LM (12 x 768), length 1024, batch 128, on a v3-8 / v4-8.

GPT-2 small's shape (12 x 768, length 1024) on the shared body with causal
attention: 300k steps x 128 rows = 39B tokens, AdamW at 6e-4 with 2k
warmup steps and weight decay 0.1 (GPT-3 Small), no dropout, up to 32768
WordPiece tokens learned from your text. bfloat16, XLA, `TPUStrategy`; the
rows (1025 raw tokens each: inputs and shifted targets) come from
`data.pretokenized`.

Expected cost, from the project's accounting (`objectives/flops.py`), with
V = 32768, at an assumed 40% MFU (a causal mask is counted as full
attention, as PaLM does):

    N, non-embedding parameters   = 85,056,000 (12 blocks of 768, ff 3072)
    forward FLOPs per token       = 2 N + 4 L d layers + 2 d V
                                  = 170,112,000 + 4 x 1024 x 768 x 12
                                    + 2 x 768 x 32768
                                  = 207,860,736 + 50,331,648
    FLOPs per step (x3: backward) = 3 x 258,192,384 x 128 x 1024
                                  = 1.02e14
    300,000 steps                 = 3.05e19 FLOPs
    v3-8, 420 TFLOP/s x 0.4       = 3.05e19 / 1.68e14 = 1.8e5 s
                                  = 50 h, 2.1 days (0.60 s/step)
    v4-8, 4 x 275 TFLOP/s x 0.4   = 3.05e19 / 4.40e14 = 6.9e4 s
                                  = 19 h, 0.8 days (0.23 s/step)

The pipeline holds the packed rows in host memory, each array under 2 GB
(at most ~500M tokens); 39B tokens are 75+ epochs of the largest corpus it
takes.

Launch. CPU smoke run (tiny model, 200 steps, length 128, the embedded
books tokenized in the process; 10.5 min measured on 2 busy cores at load
5, 4.2 CPU-minutes):

    keras-objectives train recipes/tpu/gpt_small_clm.py:runlocal \
        --workdir runs/tpu-gpt-local

The same smoke run through TFRecord shards, as the TPU reads them:

    keras-objectives pretokenize recipes/tpu/gpt_small_clm.py:runlocal \
        --output /tmp/ko-data/gpt_small_clm
    keras-objectives train recipes/tpu/gpt_small_clm.py:runlocal \
        --workdir runs/tpu-gpt-shards \
        --config.data.pretokenized=/tmp/ko-data/gpt_small_clm

Full run: pretokenize once where the text is, then launch on the TPU VM
(see tpu/README.md; on a v4-8 add --config.training.peak_flops=1.1e15):

    keras-objectives pretokenize recipes/tpu/gpt_small_clm.py \
        --config.data.source=/data/my-text \
        --output gs://my-bucket/ko/data/gpt_small_clm
    bash tpu/launch.sh $TPU $ZONE recipes/tpu/gpt_small_clm.py \
        runs/gpt_small_clm \
        --config.data.pretokenized=gs://my-bucket/ko/data/gpt_small_clm

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
    config["objective"] = "causal_lm"
    config["sequence_length"] = 1024  # GPT-2; rows hold 1025 raw tokens.
    config["data"].update(
        source="path/to/your/text",  # Read by `pretokenize` only.
        vocabulary_size=32768,  # GPT-2: 50257 (byte-level BPE).
        pretokenized="gs://YOUR_BUCKET/ko/data/gpt_small_clm",
    )
    set_model_size(config, "base")
    config["model"].update(max_sequence_length=1024, dropout=0.0)
    config["training"].update(
        global_batch_size=128,  # 131k tokens per step.
        steps=300_000,  # 39B tokens.
        learning_rate=6e-4,  # GPT-3 Small (125M).
        warmup_steps=2_000,  # GPT-3: 375M tokens.
        weight_decay=0.1,  # GPT-3.
        steps_per_checkpoint=5_000,
        eval_batches=20,
        jit_compile=True,
        mixed_precision="mixed_bfloat16",
        peak_flops=TPU_PEAK_FLOPS["v3-8"],
    )
    config["strategy"] = "tpu"
    config["tpu"] = "local"
    return apply_tpu_run_type(config, args)
