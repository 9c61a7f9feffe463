"""Full-size Chinese comparison for one GPU: five objectives, 3 seeds.

BERT-base body (12 layers x 768, `config.MODEL_SIZES["base"]`), sequence
length 256, global batch 128, bfloat16, on the embedded Chinese corpus
(4.45 M training tokens; every CJK character a token):

* `char-mlm`: character-level MLM (BERT-Chinese);
* `wwm-mlm`: whole-word MLM (BERT-wwm: jieba words, 80/10/10 per
  character);
* `ngram-mlm`: n-gram MLM (ERNIE / MacBERT: 1-4 whole words at
  40/30/20/10%, same expected rate);
* `clm`: causal LM;
* `t5-span`: T5 span corruption (decoder-only form, characters).

Each run gets 3e16 training FLOPs (about 10 epochs of the corpus for the
MLM arms: the corpus is small, so more budget mostly buys memorisation).
Evaluated along training (3 checkpoints) with the Chinese book-attribution
and CrossWOZ probes, Chinese minimal pairs and held-out bits per character.

Launch on a machine with one GPU (`pip install -e ".[zh]"`):

    keras-objectives compare recipes/zh/compare_gpu.py --workdir runs/zh-gpu

Cost, estimated from FLOPs (not measured here: this project's machines
have no GPU): 15 runs x 3e16 = 4.5e17 FLOPs; at a sustained 100 TFLOP/s
(an A100 at ~30% of its 312 TFLOP/s bf16 peak) that is 75 minutes of
training, plus about 20 minutes of evaluation and one minute of jieba
segmentation: about 1.5 A100-hours (3-4 hours on a T4-class GPU).
`:runlocal` is the CPU quickstart (`recipes/zh/quickstart.py:runlocal`).

Recipe arguments (`RECIPE.py:key=value,...`; an unknown key lists them):

    runlocal   the CPU quickstart instead (default off)
    seeds      pre-training seeds 0..n-1 (default 3)
    budget     training FLOPs per run (default 3e16)
"""

import importlib.util
import os

_spec = importlib.util.spec_from_file_location(
    "keras_objectives_recipe_zh_quickstart",
    os.path.join(os.path.dirname(os.path.abspath(__file__)), "quickstart.py"))
quickstart = importlib.util.module_from_spec(_spec)
_spec.loader.exec_module(quickstart)

# 64 prediction slots a row for every MLM arm (equal head FLOPs): 38.4
# characters are masked on average; n-gram rows vary more (sd ~12).
SLOTS = 64


def mlm(name, **config):
    return {"name": name, "objective": {
        "class_name": "masked_lm",
        "config": {"mask_selection_length": SLOTS, **config}}}


def get_config(arg=None):
    args = quickstart.comparison_args(arg)
    if args["runlocal"]:
        return quickstart.get_config(arg)
    base = quickstart.chinese_base(None)  # "mini" sizes, replaced below
    from keras_objectives.config import set_model_size

    set_model_size(base, "base")
    base["sequence_length"] = 256
    base["training"].update(global_batch_size=128, learning_rate=1e-4,
                            mixed_precision="mixed_bfloat16",
                            eval_batches=16)
    arms = [
        mlm("char-mlm"),
        mlm("wwm-mlm", whole_word=True),
        mlm("ngram-mlm", whole_word=True,
            ngram_probabilities=[0.4, 0.3, 0.2, 0.1]),
        quickstart.ARMS[2],  # clm
        quickstart.ARMS[3],  # t5-span
    ]
    return quickstart.apply_comparison_args({
        "name": "zh-gpu",
        "description": "中文完整对比（单 GPU）：字级、全词、n-gram MLM，"
                       "因果 LM，"
                       "T5 片段破坏。Chinese comparison sized for one GPU.",
        "seeds": [0, 1, 2],
        "budget": {"flops": 3e16},
        "base": base,
        "arms": arms,
        "evaluations": quickstart.EVALUATIONS,
        "checkpoints_for_curves": 3,
        "log_intervals": 10,
    }, args)
