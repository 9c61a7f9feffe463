"""T5 span corruption and iid denoising as a seeded preprocessing layer."""

import tensorflow as tf

from keras_objectives.api_export import keras_objectives_export
from keras_objectives.layers.inputs_targets_transform import (
    InputsTargetsTransform,
)
from keras_objectives.layers.seeded_transform import padding_mask_of
from keras_objectives.ops import span_corruption as sc
from keras_objectives.ops import span_lengths
from keras_objectives.utils import check_choice
from keras_objectives.utils import check_int
from keras_objectives.utils import invalid

NOISE_MASKS = ("random_spans", "iid")


@keras_objectives_export("keras_objectives.layers.SpanCorruptor")
class SpanCorruptor(InputsTargetsTransform):
    """Replace noise spans with unique sentinels; predict the spans (T5).

    T5's `span_corruption` (`noise_mask="random_spans"`) and
    `iid_denoising` (`noise_mask="iid"`): a noise mask is drawn over the
    real tokens of each row (the unpadded prefix given by `padding_mask`;
    a packed row is one stream, spans may cross document boundaries as in
    T5). The inputs keep the non-noise tokens and replace noise span `k`
    with `<extra_id_k>` (`sentinel_ids[k]`, ids counting down), then EOS;
    the targets are `<extra_id_k>` followed by span `k`, for every span,
    then EOS.

    Lengths are static. With `"random_spans"` the needed lengths follow
    from the raw row width (`keras_objectives.ops.span_corruption.
    span_budget`; a width of 141 gives inputs 128 and targets 29, as T5's
    `random_spans_helper`); budgets that cannot hold every row raise an
    error when the layer is first called. With `"iid"` the span count is
    random: spans that would overflow the targets budget, the sentinels or
    the decoder length are left uncorrupted (`limit_noise_spans`), so every
    example stays recoverable and ends with EOS.

    Args:
        sentinel_ids: list of ints, `sentinel_ids[k]` is `<extra_id_k>`
            (`SpecialTokens.sentinel_ids`).
        eos_token_id: int, appended to inputs and targets.
        pad_token_id: int, the fill value (and the default decoder start).
        noise_mask: `"random_spans"` (T5 span corruption) or `"iid"`.
        noise_density: float in `[0, 1)`, the share of noise tokens.
        mean_noise_span_length: float >= 1 (`"random_spans"` only).
        random_roll: bool, roll the random-spans mask by a uniform offset so
            that noise is not always at the row end (T5 issue #905).
        form: `"features"` (T5's dict: `inputs`, `targets` and their
            padding masks), `"encoder_decoder"` (`(x, y, sample_weight)` for
            `keras_hub.models.T5Backbone`) or `"decoder"` (`(x, y,
            sample_weight)` for a prefix-attention decoder: the stream
            `inputs ++ targets` shifted right, `prefix_mask` over the start
            token and the inputs, loss weight on the targets).
        inputs_length: int or `None` (the least that always fits).
        targets_length: int or `None` (idem; for `"iid"` mean + 3 sigma).
        sequence_length: int or `None`, the `"decoder"` stream length.
        decoder_start_token_id: int or `None` (the pad id, as T5 and seqio).
        seed: int, the run seed.

    Call arguments:
        inputs: a `token_ids` tensor or a dict of packed features
            (`token_ids`, `padding_mask`, `example_ids`, `epoch`), batched
            or not.

    Examples:

    >>> layer = SpanCorruptor(sentinel_ids=[110, 109, 108], eos_token_id=3,
    ...                       noise_density=0.3, mean_noise_span_length=2.0,
    ...                       seed=1)
    >>> out = layer({"token_ids": tf.range(120, 132),
    ...              "padding_mask": tf.ones([12], "bool")})
    >>> out["inputs"].numpy().tolist()
    [120, 121, 122, 110, 126, 127, 128, 129, 130, 109, 3]
    >>> out["targets"].numpy().tolist()
    [110, 123, 124, 125, 109, 131, 3]

    Reference:
        - [Raffel et al., 2020](https://arxiv.org/abs/1910.10683)
    """

    def __init__(
        self,
        sentinel_ids,
        eos_token_id,
        pad_token_id=0,
        noise_mask="random_spans",
        noise_density=0.15,
        mean_noise_span_length=3.0,
        random_roll=False,
        form="features",
        inputs_length=None,
        targets_length=None,
        sequence_length=None,
        decoder_start_token_id=None,
        **kwargs,
    ):
        super().__init__(pad_token_id=pad_token_id, form=form,
                         decoder_start_token_id=decoder_start_token_id,
                         **kwargs)
        self.sentinel_ids = [int(i) for i in (sentinel_ids or [])]
        if not self.sentinel_ids:
            raise invalid(
                "sentinel_ids", sentinel_ids, "a non-empty list of ids",
                "Use a vocabulary with `<extra_id_k>` tokens "
                "(`keras_objectives.data.special_tokens.reserved_tokens`)",
            )
        self.eos_token_id = check_int("eos_token_id", eos_token_id, minimum=0)
        self.noise_mask = check_choice("noise_mask", noise_mask, NOISE_MASKS)
        if not 0.0 <= float(noise_density) < 1.0:
            raise invalid("noise_density", noise_density, "a float in [0, 1)")
        self.noise_density = float(noise_density)
        if float(mean_noise_span_length) < 1.0:
            raise invalid("mean_noise_span_length", mean_noise_span_length,
                          "a float >= 1")
        self.mean_noise_span_length = float(mean_noise_span_length)
        self.random_roll = bool(random_roll)
        self.inputs_length = check_int("inputs_length", inputs_length,
                                       minimum=2, allow_none=True)
        self.targets_length = check_int("targets_length", targets_length,
                                        minimum=1, allow_none=True)
        self.sequence_length = check_int("sequence_length", sequence_length,
                                         minimum=3, allow_none=True)

    def budget(self, raw_length):
        """Static `(inputs_length, targets_length, sequence_length)`.

        Raises if a given length cannot hold rows of `raw_length` tokens.
        """
        if raw_length < 2:
            raise invalid(
                "token_ids", f"rows of {raw_length} token(s)",
                "rows of at least 2 tokens",
                "Pack longer rows (see `objective.raw_length`)",
            )
        iid = self.noise_mask == "iid"
        if iid:
            need = span_lengths.iid_budget(raw_length, self.noise_density)
        else:
            need = span_lengths.span_budget(raw_length, self.noise_density,
                                  self.mean_noise_span_length,
                                  self.random_roll)
        if not iid and need["num_spans"] > len(self.sentinel_ids):
            raise ValueError(
                "Invalid value received for argument `sentinel_ids`: "
                f"{len(self.sentinel_ids)} sentinels, but rows of "
                f"{raw_length} tokens at noise_density={self.noise_density}"
                " and mean_noise_span_length="
                f"{self.mean_noise_span_length} have up to "
                f"{need['num_spans']} noise spans, one sentinel each. "
                "Reserve more `<extra_id_k>` tokens, cut shorter rows or "
                "use longer spans."
            )
        if self.form == "decoder":
            minimum = raw_length + 2 if iid else need["total_length"]
            sequence_length = self.sequence_length or need["total_length"]
            if sequence_length < minimum:
                raise invalid(
                    "sequence_length", sequence_length,
                    f"at least {minimum} (inputs plus targets) for rows of "
                    f"{raw_length} raw tokens",
                    "Raise it, or cut shorter rows (see the objective's "
                    "`raw_length`)",
                )
            # iid: the targets may use whatever the inputs leave free.
            targets_length = sequence_length if iid else need[
                "targets_length"]
            return need["inputs_length"], targets_length, sequence_length
        lengths = []
        # iid: a short targets budget only leaves trailing spans clean.
        names = ("inputs_length",) if iid else ("inputs_length",
                                                "targets_length")
        for name in names:
            given = getattr(self, name)
            if given is not None and given < need[name]:
                raise invalid(
                    name, given,
                    f"at least {need[name]} for rows of {raw_length} raw "
                    f"tokens at noise_density={self.noise_density}"
                    + ("" if iid else " and mean_noise_span_length="
                       f"{self.mean_noise_span_length}"),
                    "Raise it, or cut rows to `random_spans_helper("
                    "inputs_length, ...)[0]` tokens (see the objective's "
                    "`raw_length`)",
                )
            lengths.append(given or need[name])
        if iid:
            lengths.append(self.targets_length or need["targets_length"])
        return lengths[0], lengths[1], None

    def transform(self, features, keys):
        token_ids = features["token_ids"]
        raw_length = int(token_ids.shape[-1])
        inputs_length, targets_length, sequence_length = self.budget(
            raw_length
        )
        mask = padding_mask_of(features, self.pad_token_id)
        lengths = tf.reduce_sum(tf.cast(mask, "int32"), axis=1)
        if self.noise_mask == "iid":
            noise = sc.iid_noise_mask(keys, lengths, raw_length,
                                      self.noise_density)
        else:
            noise = sc.random_spans_noise_mask(
                keys, lengths, raw_length, self.noise_density,
                self.mean_noise_span_length, self.random_roll,
            )
        max_spans = len(self.sentinel_ids)
        if self.form == "decoder":
            max_spans = tf.minimum(
                max_spans, (sequence_length - lengths - 2) // 2
            )
        noise = sc.limit_noise_spans(noise, max_spans, targets_length)
        outputs = sc.noise_spans_to_sentinels(
            token_ids, noise, lengths, self.sentinel_ids, self.eos_token_id,
            self.pad_token_id, inputs_length, targets_length,
        )
        return self.format_example(*outputs, sequence_length=sequence_length)

    def get_config(self):
        return {
            **super().get_config(),
            "sentinel_ids": self.sentinel_ids,
            "eos_token_id": self.eos_token_id,
            "noise_mask": self.noise_mask,
            "noise_density": self.noise_density,
            "mean_noise_span_length": self.mean_noise_span_length,
            "random_roll": self.random_roll,
            "inputs_length": self.inputs_length,
            "targets_length": self.targets_length,
            "sequence_length": self.sequence_length,
        }
