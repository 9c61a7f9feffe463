"""BERT-base masked LM (12 x 768), length 512, batch 256, on a v3-8 / v4-8.

BERT's 1M steps x 256 sequences, every step at length 512 (BERT ran 90% of
its steps at 128): 131B tokens. The shared body (bidirectional), dropout
0.1, AdamW at 1e-4 with 10k warmup steps, up to 32768 WordPiece tokens
learned from your text. bfloat16, XLA, `TPUStrategy`; the rows come from
`data.pretokenized` (written once by `pretokenize`), so the TPU host does
not tokenize.

Expected cost, from the project's accounting (`objectives/flops.py`), with
V = 32768 (a smaller learned vocabulary costs less), at an assumed 40% MFU
(`summary.json` reports the measured `mfu`):

    N, non-embedding parameters   = 85,056,000 (12 blocks of 768, ff 3072)
    forward FLOPs per token       = 2 N + 4 L d layers
                                  = 170,112,000 + 4 x 512 x 768 x 12
                                  = 188,986,368
    MLM head, per gathered slot   = 2 d V + 2 d^2 = 51,511,296
                                    (77 slots per row: ceil(0.15 x 512))
    FLOPs per step (x3: backward) = 3 x (188,986,368 x 256 x 512
                                         + 51,511,296 x 256 x 77)
                                  = 7.74e13
    1,000,000 steps               = 7.74e19 FLOPs
    v3-8, 420 TFLOP/s x 0.4       = 7.74e19 / 1.68e14 = 4.6e5 s
                                  = 128 h, 5.3 days (0.46 s/step)
    v4-8, 4 x 275 TFLOP/s x 0.4   = 7.74e19 / 4.40e14 = 1.8e5 s
                                  = 49 h, 2.0 days (0.18 s/step)

The pipeline holds the packed rows in host memory, each array under 2 GB:
at most ~500M tokens, so 131B tokens are 260+ epochs of the largest corpus
it takes. Shorten with `--config.training.steps=...`.

Launch. CPU smoke run (tiny model, 200 steps, the embedded books
tokenized in the process; 50 of its steps took 2.3 min on 2 busy cores,
about 1 CPU-minute, so 5-10 minutes in all):

    keras-objectives train recipes/tpu/bert_base_mlm.py:runlocal \
        --workdir runs/tpu-bert-local

The same smoke run through TFRecord shards, as the TPU reads them:

    keras-objectives pretokenize recipes/tpu/bert_base_mlm.py:runlocal \
        --output /tmp/ko-data/bert_base_mlm
    keras-objectives train recipes/tpu/bert_base_mlm.py:runlocal \
        --workdir runs/tpu-bert-shards \
        --config.data.pretokenized=/tmp/ko-data/bert_base_mlm

Full run: pretokenize once where the text is, then launch on the TPU VM
(see tpu/README.md; on a v4-8 add --config.training.peak_flops=1.1e15):

    keras-objectives pretokenize recipes/tpu/bert_base_mlm.py \
        --config.data.source=/data/my-text \
        --output gs://my-bucket/ko/data/bert_base_mlm
    bash tpu/launch.sh $TPU $ZONE recipes/tpu/bert_base_mlm.py \
        runs/bert_base_mlm \
        --config.data.pretokenized=gs://my-bucket/ko/data/bert_base_mlm

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
        "class_name": "masked_lm",
        "config": {
            "selection_rate": 0.15,  # BERT (Devlin et al., 2019).
            "mask_token_rate": 0.8,
            "random_token_rate": 0.1,
        },
    }
    config["sequence_length"] = 512  # BERT's longest; all steps at 512.
    config["data"].update(
        source="path/to/your/text",  # Read by `pretokenize` only.
        vocabulary_size=32768,  # BERT: 30522.
        pretokenized="gs://YOUR_BUCKET/ko/data/bert_base_mlm",
    )
    set_model_size(config, "base")
    config["model"].update(max_sequence_length=512, dropout=0.1)  # BERT.
    config["training"].update(
        global_batch_size=256,  # BERT; 32 per core on a v3-8.
        steps=1_000_000,  # BERT's step count.
        learning_rate=1e-4,  # BERT.
        warmup_steps=10_000,  # BERT.
        steps_per_checkpoint=5_000,
        eval_batches=20,
        jit_compile=True,
        mixed_precision="mixed_bfloat16",
        peak_flops=TPU_PEAK_FLOPS["v3-8"],
    )
    config["strategy"] = "tpu"
    config["tpu"] = "local"
    return apply_tpu_run_type(config, args)
