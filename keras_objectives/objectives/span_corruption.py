"""T5 span corruption: predict the spans hidden behind unique sentinels."""

from keras_objectives.api_export import keras_objectives_export
from keras_objectives.layers.span_corruptor import SpanCorruptor
from keras_objectives.objectives.inputs_to_targets import InputsToTargets
from keras_objectives.objectives.registry import register
from keras_objectives.ops import span_corruption as sc
from keras_objectives.ops import span_lengths
from keras_objectives.utils import invalid


def largest_fitting(budget, key, limit, high):
    """The largest raw length `n <= high` with `budget(n)[key] <= limit`.

    `budget(n)[key]` is non-decreasing in `n` (a maximum over shorter
    rows), so a bisection finds it.
    """
    low = 2
    if budget(low)[key] > limit:
        return None
    while low < high:
        middle = (low + high + 1) // 2
        if budget(middle)[key] <= limit:
            low = middle
        else:
            high = middle - 1
    return low


@keras_objectives_export("keras_objectives.objectives.SpanCorruption")
@register("span_corruption")
class SpanCorruption(InputsToTargets):
    """T5 span corruption (`t5.data.preprocessors.span_corruption`).

    `noise_density=0.15` of each row's real tokens, in spans of mean length
    `mean_noise_span_length=3.0`, are noise: `num_noise = round(n *
    density)` clipped to `[1, n - 1]`, `num_spans = max(1, round(num_noise
    / mean))`, span lengths a uniform random partition of the noise and
    non-noise counts, interleaved starting with non-noise (noise always ends
    the row unless `random_roll`). Inputs replace noise span `k` with
    `<extra_id_k>` (ids counting down from the last reserved id), then EOS;
    targets are `<extra_id_k>` + span `k` for every span, then EOS. See
    `keras_objectives.layers.SpanCorruptor` and
    `keras_objectives.ops.span_corruption`.

    Lengths (the raw tokens cut per example are `raw_length`):

    * `form="encoder_decoder"`: inputs `sequence_length` long, raw and
      targets lengths from T5's `random_spans_helper`: 128 -> 141 raw
      tokens and 29 targets, 512 -> 568 and 114, 1024 -> 1137 and 229.
    * `form="decoder"` (default): `inputs ++ targets` must fit in
      `sequence_length`; the raw length is the largest whose stream fits
      (`n + 2 num_spans + 2`): 128 -> 114 raw tokens, 512 -> 464, 1024
      -> 929.

    A packed row is one stream: spans may cross document boundaries and
    cover `[SEP]`, as T5 corrupts concatenated documents. Padding (by
    `padding_mask`) is never corrupted; a short row is corrupted as a
    row of its real length. Document masking is not supported.

    Args:
        special_tokens: `SpecialTokens` of the vocabulary (needs `[PAD]`,
            `[SEP]` and enough `<extra_id_k>` sentinels).
        sequence_length: int, the stream length (decoder form) or the
            encoder length (encoder-decoder form).
        seed: int, the data seed (noise is keyed per example and epoch).
        form: `"decoder"` or `"encoder_decoder"`.
        noise_density: float, the share of corrupted tokens.
        mean_noise_span_length: float, the mean span length.
        random_roll: bool, roll each mask by a uniform offset (one more
            span when a span wraps around; budgeted).

    Examples:

    >>> from keras_objectives.data.special_tokens import (
    ...     SpecialTokens, reserved_tokens)
    >>> st = SpecialTokens.from_vocabulary(reserved_tokens() + ["a", "b"])
    >>> t5 = SpanCorruption(st, sequence_length=128, form="encoder_decoder")
    >>> t5.raw_length, t5.inputs_length, t5.targets_length
    (141, 128, 29)
    >>> SpanCorruption(st, sequence_length=128).raw_length
    114

    Reference:
        - [Raffel et al., 2020](https://arxiv.org/abs/1910.10683)
    """

    noise_mask = "random_spans"
    layer_arguments = ("noise_density", "mean_noise_span_length",
                       "random_roll")
    sentence_scoring = "denoising_pll"  # T5-style PLL, both forms.
    # T5 Tables 7-8: corruption rate and mean span length.
    search_space = {
        "noise_density": [0.10, 0.15, 0.25, 0.50],
        "mean_noise_span_length": [2.0, 3.0, 5.0, 10.0],
    }

    def __init__(
        self,
        special_tokens,
        sequence_length=128,
        seed=0,
        form="decoder",
        noise_density=0.15,
        mean_noise_span_length=3.0,
        random_roll=False,
    ):
        super().__init__(special_tokens, sequence_length, seed, form)
        self.noise_density = float(noise_density)
        self.mean_noise_span_length = float(mean_noise_span_length)
        self.random_roll = bool(random_roll)
        if not self.special_tokens.sentinel_ids:
            raise invalid(
                "special_tokens", self.special_tokens,
                "a vocabulary with `<extra_id_k>` sentinel tokens",
                "Train the vocabulary with `keras_objectives.data`, which "
                "reserves 100 sentinels",
            )
        self._raw_length, need = self._fit()
        decoder = self.form == "decoder"
        self.inputs_length = need["inputs_length"]
        if not decoder:
            self.inputs_length = self.sequence_length
        self.targets_length = need["targets_length"]
        self.set_preprocessor(SpanCorruptor(
            sentinel_ids=self.special_tokens.sentinel_ids,
            eos_token_id=self.eos_id,
            pad_token_id=self.pad_id,
            noise_mask=self.noise_mask,
            noise_density=noise_density,
            mean_noise_span_length=mean_noise_span_length,
            random_roll=random_roll,
            form=self.form,
            inputs_length=None if decoder else self.inputs_length,
            targets_length=None if decoder else self.targets_length,
            sequence_length=self.sequence_length if decoder else None,
            seed=self.seed,
        ))
        # Every budget check (sentinels included) before training.
        self.preprocessor.budget(self._raw_length)

    def budget(self, raw_length):
        """Static lengths of rows of `raw_length` tokens (see `ops`)."""
        return span_lengths.span_budget(raw_length, self.noise_density,
                              self.mean_noise_span_length, self.random_roll)

    def _fit(self):
        key = "total_length" if self.form == "decoder" else "inputs_length"
        high = int(self.sequence_length / (1.0 - self.noise_density)) + 2
        raw = largest_fitting(self.budget, key, self.sequence_length, high)
        if raw is None:
            raise invalid(
                "sequence_length", self.sequence_length,
                f"a length that holds the {key.split('_')[0]} of a "
                f"{self.name} example of at least 2 raw tokens",
                "Raise `sequence_length`",
            )
        return raw, self.budget(raw)

    @property
    def raw_length(self):
        return self._raw_length

    def expected_targets_length(self):
        n = self._raw_length
        _, num_noise, num_spans = sc.span_counts(
            [n], self.noise_density, self.mean_noise_span_length
        )
        num_noise, num_spans = int(num_noise[0]), int(num_spans[0])
        # A rolled mask splits a span when the offset lands inside one.
        wrap = (num_noise - num_spans) / n if self.random_roll else 0.0
        return num_noise + num_spans + 1 + wrap

