"""Mixtures of objectives: UL2, hybrid CLM+MLM, and rate schedules."""

from keras_objectives.api_export import keras_objectives_export
from keras_objectives.layers.mixture_transform import MixtureTransform
from keras_objectives.objectives import flops
from keras_objectives.objectives.inputs_to_targets import InputsToTargets
from keras_objectives.objectives.registry import as_identifier
from keras_objectives.objectives.registry import bind_vocabulary
from keras_objectives.objectives.registry import get
from keras_objectives.objectives.registry import get_class
from keras_objectives.objectives.registry import register
from keras_objectives.utils import check_int
from keras_objectives.utils import check_rate
from keras_objectives.utils import invalid


def _as_config(identifier):
    try:
        return as_identifier(identifier)
    except ValueError:
        raise invalid("members", identifier,
                      "objective names or {'class_name', 'config'} dicts"
                      ) from None


def _check_rates(argument, rates, count):
    if len(rates) != count:
        raise invalid(argument, rates, f"one rate per member ({count})")
    rates = [check_rate(argument, r) for r in rates]
    if abs(sum(rates) - 1.0) > 1e-6:
        raise invalid(argument, rates, "rates that sum to 1",
                      f"They sum to {sum(rates):g}")
    return rates


@keras_objectives_export("keras_objectives.objectives.Mixture")
@register("mixture")
class Mixture(InputsToTargets):
    """A mixture of objectives, one drawn per example.

    Each example draws its member from `(seed, epoch, example_id)` with
    probabilities `rates` (uniform by default); the member's output is put
    in the shared decoder-body format (`token_ids`, `padding_mask`,
    `prefix_mask`; targets and weights per position), so one prefix-mode
    body and one tied LM head serve every member:

    * prefix LM, span corruption, denoising (decoder forms) keep their
      prefix; causal LM and FIM get an empty prefix (causal);
    * masked LM predicts the original token *in place* at its selected
      positions, with the whole row as prefix (bidirectional).

    `mode_tokens` (for example `"[NLU]"`) are prepended to a member's
    inputs; such a member is built one position shorter so shapes stay
    static. Members receive the first `raw_length` tokens they need of a
    row of `max(raw_length)` tokens.

    Rates may follow a linear schedule from `rates` to `final_rates` over
    the first `schedule_examples` stream positions (a mask rate going from
    0.30 to 0.15, say: two masked-LM members and rates `[1, 0] -> [0, 1]`;
    see `Mixture.linear_schedule`).

    Args:
        special_tokens: `SpecialTokens` of the shared vocabulary.
        sequence_length: int, the model input length.
        seed: int, the data seed.
        members: list of objective names or `{"class_name", "config"}`.
            Encoder-decoder forms are refused.
        rates: list of floats summing to 1, or `None` (uniform).
        mode_tokens: list of token strings (`"[NLU]"`, `"[NLG]"`,
            `"[S2S]"`) or `None` per member, or `None`.
        final_rates: optional end rates of a linear schedule.
        schedule_examples: int, the stream position where they apply.

    Examples:

    >>> from keras_objectives.data.special_tokens import (
    ...     SpecialTokens, reserved_tokens)
    >>> st = SpecialTokens.from_vocabulary(
    ...     reserved_tokens() + [f"w{i}" for i in range(50)])
    >>> hybrid = Mixture(st, sequence_length=16,
    ...                  members=["causal_lm", "masked_lm"],
    ...                  rates=[0.75, 0.25])
    >>> x, y, w = hybrid({"token_ids": tf.range(111, 128)})
    >>> sorted(x)
    ['mixture_ids', 'padding_mask', 'prefix_mask', 'token_ids']
    >>> y.shape
    TensorShape([16])

    Reference:
        - [Tay et al., 2022](https://arxiv.org/abs/2205.05131) (UL2)
        - [Charpentier & Samuel, 2024](https://arxiv.org/abs/2410.24159)
          (GPT-BERT)
    """

    encoder_decoder_backbone = None  # One decoder body serves every member.
    # Hybrid CLM:MLM ratios 1/16, 1/4, 1/2 (members causal_lm, masked_lm).
    search_space = {"rates": [[0.9375, 0.0625], [0.75, 0.25], [0.5, 0.5]]}

    def __init__(self, special_tokens, sequence_length=128, seed=0,
                 members=("causal_lm", "masked_lm"), rates=None,
                 mode_tokens=None, final_rates=None, schedule_examples=None):
        super().__init__(special_tokens, sequence_length, seed, "decoder")
        members = [_as_config(m) for m in members]
        if not members:
            raise invalid("members", members, "at least one objective")
        count = len(members)
        rates = [1.0 / count] * count if rates is None else list(rates)
        self.rates = _check_rates("rates", rates, count)
        self.final_rates = None
        if final_rates is not None:
            self.final_rates = _check_rates("final_rates", final_rates, count)
            check_int("schedule_examples", schedule_examples, minimum=1)
        self.schedule_examples = schedule_examples
        mode_tokens = list(mode_tokens or [None] * count)
        if len(mode_tokens) != count:
            raise invalid("mode_tokens", mode_tokens,
                          f"one entry (or None) per member ({count})")
        self.mode_tokens = mode_tokens
        mode_ids = []
        for token in mode_tokens:
            if token is not None and token not in self.special_tokens.mode_ids:
                raise invalid(
                    "mode_tokens", token,
                    f"one of {sorted(self.special_tokens.mode_ids)}",
                    "The vocabulary must reserve the UL2 mode tokens",
                )
            mode_ids.append(None if token is None
                            else self.special_tokens.mode_ids[token])
        self.members = []
        for member, mode in zip(members, mode_ids, strict=True):
            cls = get_class(member["class_name"])
            if member["config"].get("form") == "encoder_decoder":
                raise invalid(
                    "members", member,
                    "decoder-form members",
                    "A mixture runs on one decoder body; use form='decoder'",
                )
            member = {"class_name": cls.name, "config": {
                **member["config"],
                "special_tokens": self.special_tokens.get_config(),
                "sequence_length": self.sequence_length - (mode is not None),
                "seed": self.seed,
            }}
            self.members.append(member)
        self._objectives = [get(m) for m in self.members]
        self.set_preprocessor(MixtureTransform(
            members=[o.preprocessor for o in self._objectives],
            raw_lengths=[o.raw_length for o in self._objectives],
            rates=self.rates,
            mode_token_ids=mode_ids,
            sequence_length=self.sequence_length,
            final_rates=self.final_rates,
            schedule_examples=self.schedule_examples,
            seed=self.seed,
        ))

    @property
    def raw_length(self):
        return self.preprocessor.raw_length

    @classmethod
    def bind_vocabulary(cls, config, vocabulary):
        """Each member binds its own (`keras_objectives.objectives.
        bind_vocabulary`)."""
        if "members" in config:
            config["members"] = [bind_vocabulary(m, vocabulary)
                                 for m in config["members"]]
        return config

    @classmethod
    def linear_schedule(cls, special_tokens, sequence_length, seed,
                        objective, argument, start, end, schedule_examples,
                        points=4):
        """A schedule of one argument, e.g. a mask rate from 0.30 to 0.15.

        `points` members at evenly spaced values from `start` to `end`; the
        rates move linearly from all-first to all-last, so the expected
        value follows the line.
        """
        points = check_int("points", points, minimum=2)
        values = [start + (end - start) * i / (points - 1)
                  for i in range(points)]
        members = [{"class_name": objective, "config": {argument: v}}
                   for v in values]
        first = [1.0] + [0.0] * (points - 1)
        last = [0.0] * (points - 1) + [1.0]
        return cls(special_tokens, sequence_length, seed, members=members,
                   rates=first, final_rates=last,
                   schedule_examples=schedule_examples)

    def expected_targets_length(self):
        total = 0.0
        for rate, objective in zip(self.rates, self._objectives,
                                   strict=True):
            one = objective.accounting(_UNIT_DIMS, 1)
            total += rate * one["loss_positions_per_step"]
        return total

    def accounting(self, dims, batch_size):
        """One body pass over every position; the softmax at every position."""
        tokens = batch_size * self.sequence_length
        return {
            "tokens_per_step": tokens,
            "loss_positions_per_step": batch_size
            * self.expected_targets_length(),
            "flops_per_step": float(flops.training_flops(
                dims, tokens=tokens, softmax_positions=tokens)),
        }

    def get_config(self):
        config = super().get_config()
        config.pop("form")
        return {
            **config,
            "members": [
                {"class_name": m["class_name"],
                 "config": {k: v for k, v in m["config"].items()
                            if k not in ("special_tokens", "seed",
                                         "sequence_length")}}
                for m in self.members
            ],
            "rates": self.rates,
            "mode_tokens": self.mode_tokens,
            "final_rates": self.final_rates,
            "schedule_examples": self.schedule_examples,
        }


# Accounting of loss positions does not depend on model dims.
_UNIT_DIMS = flops.ModelDims(1, 8, 32, 128, 128, 1000)

# UL2's seven denoisers (Tay et al., 2022; docs/objectives/mixture.md).
UL2_DENOISERS = (
    # (mode token, mean span, corruption rate)
    ("[NLU]", 3.0, 0.15),
    ("[NLU]", 8.0, 0.15),
    ("[NLG]", 3.0, 0.5),
    ("[NLG]", 8.0, 0.5),
    ("[NLG]", 64.0, 0.15),
    ("[NLG]", 64.0, 0.5),
    ("[S2S]", None, 0.25),
)


@keras_objectives_export("keras_objectives.objectives.UL2")
@register("ul2")
class UL2(Mixture):
    """UL2's mixture of denoisers, as a preset of `Mixture`.

    Six span-corruption denoisers (R: mean span 3 or 8 at rate 0.15 with
    `[NLU]`; X: spans 3, 8 or 64 at rate 0.5, and 64 at 0.15, with
    `[NLG]`) and the S-denoiser with `[S2S]`: sequential denoising that
    predicts the last 25% of the row from the rest (a span corruption with
    a single span at the end, which is where T5's non-rolled mask puts
    it). Sampled uniformly unless `rates` are given. All run in decoder
    form on the shared prefix body, padded to one `sequence_length`.

    Args:
        special_tokens, sequence_length, seed: as `Mixture`.
        rates: seven floats summing to 1, or `None` (uniform).

    Reference:
        - [Tay et al., 2022](https://arxiv.org/abs/2205.05131)
    """

    sentence_scoring = "denoising_pll"  # Every denoiser is span corruption.
    search_space = {}

    def __init__(self, special_tokens, sequence_length=128, seed=0,
                 rates=None, **kwargs):
        members, modes = [], []
        for mode, span, rate in UL2_DENOISERS:
            if span is None:  # S: one span covering the last `rate` share.
                span = max(1.0, rate * sequence_length)
            members.append({"class_name": "span_corruption", "config": {
                "noise_density": rate, "mean_noise_span_length": span}})
            modes.append(mode)
        super().__init__(special_tokens, sequence_length, seed,
                         members=members, rates=rates, mode_tokens=modes)

    def get_config(self):
        config = super().get_config()
        for key in ("members", "mode_tokens", "final_rates",
                    "schedule_examples"):
            config.pop(key)
        return config
