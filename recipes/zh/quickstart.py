"""Chinese quickstart: character MLM vs whole-word MLM vs CLM vs T5 spans.

Four objectives on one tiny shared body (2 layers x 64), one tokenizer
(every CJK character its own token, the vocabulary that ships with the
package), one data order per seed and one FLOPs budget (each objective gets
its own step count), 2 pre-training seeds, on the embedded Chinese corpus
(`embedded-zh`: 红楼梦, 西游记, 三国演义, ... 5.2 M characters):

* `char-mlm`: BERT-Chinese masking, single characters, 80/10/10;
* `wwm-mlm`: Chinese whole-word masking (BERT-wwm): jieba words, all their
  characters or none, 80/10/10 per character, the same 15% of characters;
* `clm`: causal LM;
* `t5-span`: T5 span corruption over characters (decoder-only form).

Evaluated with the built-in Chinese book-attribution probe (held-out tails
of the 14 training works), the CrossWOZ dialogue-domain probe, Chinese
minimal pairs from the held-out works, and, for the arms that define it,
held-out bits per character and per byte.

Needs jieba: `pip install -e ".[zh]"`. Launch (5 min 42 s measured on 2
idle cores from a clean clone, jieba segmentation included; see
docs/zh/quickstart.md; then open runs/zh-quickstart/report.html):

    keras-objectives compare recipes/zh/quickstart.py:runlocal \
        --workdir runs/zh-quickstart

Without `:runlocal` the budget is 2.5x larger (about 15 CPU-minutes).

Recipe arguments (`RECIPE.py:key=value,...`; an unknown key lists them):

    runlocal   the quickstart budget (default off: 2.5x larger)
    seeds      pre-training seeds 0..n-1 (default 2)
    budget     training FLOPs per run (default 3e11; 1.2e11 with runlocal)
"""

from keras_objectives.compare.recipe import apply_comparison_args
from keras_objectives.compare.recipe import comparison_args
from keras_objectives.compare.recipe import comparison_base


def chinese_base(arg):
    """The shared run config of the `recipes/zh/` comparisons."""
    base, _ = comparison_base(arg)
    base["data"].update(source="embedded-zh", segmenter="jieba",
                        vocabulary_size=8192)
    return base


# Both MLM arms predict at 14 slots a row of 64: the whole-word count varies
# by at most one word (9.6 + a word), and equal slots mean equal head
# FLOPs, so equal steps under the FLOPs budget.
SLOTS = 14
ARMS = [
    {"name": "char-mlm", "objective": {
        "class_name": "masked_lm",
        "config": {"mask_selection_length": SLOTS}}},
    {"name": "wwm-mlm", "objective": {
        "class_name": "masked_lm",
        "config": {"whole_word": True, "mask_selection_length": SLOTS}}},
    {"name": "clm", "objective": "causal_lm"},
    {"name": "t5-span", "objective": {
        "class_name": "span_corruption",
        "config": {"form": "decoder", "noise_density": 0.15,
                   "mean_noise_span_length": 3.0}}},
]

EVALUATIONS = [
    {"name": "linear_probe", "task": "book_attribution"},
    {"name": "linear_probe", "task": "crosswoz_domain"},
    {"name": "minimal_pairs", "num_pairs": 200, "along_training": False},
    "held_out_lm",
]


def get_config(arg=None):
    args = comparison_args(arg)
    base = chinese_base({"runlocal": True})  # Tiny body either way.
    # As the English quickstart: a 2 x 64 body needs a larger rate.
    base["training"]["learning_rate"] = 2e-3
    smoke = args["runlocal"]
    return apply_comparison_args({
        "name": "zh-quickstart",
        "description": "中文快速对比：字级 MLM、全词掩码 MLM"
                       "（jieba 分词）、因果 LM 与 T5 片段破坏，"
                       "内置中文语料，等训练 FLOPs。"
                       " Character MLM vs whole-word MLM vs CLM vs T5 span "
                       "corruption on the embedded Chinese corpus.",
        "seeds": [0, 1],
        "budget": {"flops": 1.2e11 if smoke else 3e11},
        "base": base,
        "arms": ARMS,
        "evaluations": EVALUATIONS,
        "checkpoints_for_curves": 0,
        "log_intervals": 5,
    }, args)
