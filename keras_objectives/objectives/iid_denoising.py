"""T5 iid denoising: independent noise tokens, runs collapsed to sentinels."""

from keras_objectives.api_export import keras_objectives_export
from keras_objectives.objectives.registry import register
from keras_objectives.objectives.span_corruption import SpanCorruption
from keras_objectives.ops import span_lengths


@keras_objectives_export("keras_objectives.objectives.IIDDenoising")
@register("iid_denoising")
class IIDDenoising(SpanCorruption):
    """T5 iid denoising (`t5.data.preprocessors.iid_denoising`).

    Each real token is noise with probability `noise_density=0.15`
    (T5's `iid_noise_mask`); every run of consecutive noise tokens becomes
    one `<extra_id_k>` in the inputs, and the targets are `<extra_id_k>` +
    run `k` for every run, then EOS, exactly as span corruption. T5's own
    `nonnoise_span_to_unique_sentinel` misaligns the sentinels when a row
    starts with noise (the first run comes before any sentinel); here
    sentinel `k` always precedes run `k`.

    The number of runs is random, so lengths are budgeted (see
    `keras_objectives.ops.span_corruption.iid_budget`): the inputs never
    exceed the row plus EOS, and the targets (encoder-decoder form) or the
    number of runs (decoder form) get the mean plus 3 standard deviations.
    Policy when a row exceeds its budget (rare, about 0.1% of rows): the runs
    from the first one that does not fit onward stay uncorrupted in the
    inputs, so the example is still exact and ends with EOS; the objective
    is then slightly less noisy on that row. Runs beyond the 100 sentinels
    are treated the same way.

    Lengths:

    * `form="encoder_decoder"`: inputs `sequence_length`, raw tokens
      `sequence_length - 1`; 128 -> 127 raw tokens and 58 targets.
    * `form="decoder"` (default): the largest raw length whose stream
      (`n + 2 runs + 2`) fits `sequence_length` with the runs at their
      budget: 128 -> 87 raw tokens, 512 -> 380.

    Args:
        special_tokens: `SpecialTokens` of the vocabulary (needs `[PAD]`,
            `[SEP]` and `<extra_id_k>` sentinels).
        sequence_length: int, the stream length (decoder form) or the
            encoder length (encoder-decoder form).
        seed: int, the data seed.
        form: `"decoder"` or `"encoder_decoder"`.
        noise_density: float, the probability that a token is noise.

    Examples:

    >>> from keras_objectives.data.special_tokens import (
    ...     SpecialTokens, reserved_tokens)
    >>> st = SpecialTokens.from_vocabulary(reserved_tokens() + ["a", "b"])
    >>> iid = IIDDenoising(st, sequence_length=128, form="encoder_decoder")
    >>> iid.raw_length, iid.inputs_length, iid.targets_length
    (127, 128, 58)
    >>> IIDDenoising(st, sequence_length=128).raw_length
    87

    Reference:
        - [Raffel et al., 2020](https://arxiv.org/abs/1910.10683), Table 4
    """

    noise_mask = "iid"
    layer_arguments = ("noise_density",)
    search_space = {"noise_density": [0.10, 0.15, 0.25, 0.50]}

    def __init__(
        self,
        special_tokens,
        sequence_length=128,
        seed=0,
        form="decoder",
        noise_density=0.15,
    ):
        super().__init__(special_tokens, sequence_length, seed, form,
                         noise_density=noise_density)

    def budget(self, raw_length):
        return span_lengths.iid_budget(raw_length, self.noise_density)

    def expected_targets_length(self):
        # E[noise tokens] + E[runs] + EOS.
        n, p = self._raw_length, self.noise_density
        return n * p + p + (n - 1) * p * (1 - p) + 1
