"""Base class of the layers that turn a row into (inputs, targets)."""

from keras_objectives.api_export import keras_objectives_export
from keras_objectives.layers.seeded_transform import SeededTransform
from keras_objectives.ops import prefix_lm
from keras_objectives.utils import check_choice
from keras_objectives.utils import check_int


@keras_objectives_export("keras_objectives.layers.InputsTargetsTransform")
class InputsTargetsTransform(SeededTransform):
    """A seeded transform whose example is an (inputs, targets) pair.

    Prefix LM, T5 span corruption and BART denoising all cut or corrupt a
    row into inputs and targets, and emit them in one of three forms
    (`keras_objectives.ops.prefix_lm.format_example`):

    * `"features"`: T5's dict of `inputs`, `targets` and their padding
      masks;
    * `"encoder_decoder"`: `(x, y, sample_weight)` for an encoder-decoder
      backbone (`encoder_*` and `decoder_*` features, the targets shifted
      right behind the decoder start token);
    * `"decoder"`: `(x, y, sample_weight)` for a prefix-attention decoder:
      the stream `inputs ++ targets` shifted right, `prefix_mask` over the
      start token and the inputs, loss weight on the targets.

    Subclasses compute the padded inputs and targets and their lengths in
    `transform` and return `self.format_example(...)`.

    Args:
        pad_token_id: int, the fill value (and the default decoder start).
        form: `"features"`, `"encoder_decoder"` or `"decoder"`.
        decoder_start_token_id: int or `None` (the pad id, as T5 and seqio).
        **kwargs: `seed`, `dupe_factor` and `keras.layers.Layer` arguments.
    """

    def __init__(self, pad_token_id=0, form="features",
                 decoder_start_token_id=None, **kwargs):
        super().__init__(**kwargs)
        self.pad_token_id = check_int("pad_token_id", pad_token_id, minimum=0)
        self.form = check_choice("form", form, prefix_lm.FORMS)
        self.decoder_start_token_id = check_int(
            "decoder_start_token_id", decoder_start_token_id, minimum=0,
            allow_none=True,
        )

    @property
    def start_id(self):
        """The decoder start token: `decoder_start_token_id` or the pad."""
        start = self.decoder_start_token_id
        return self.pad_token_id if start is None else start

    def format_example(self, inputs, inputs_lengths, targets, targets_lengths,
                       sequence_length=None):
        """The output in `self.form` from padded inputs and targets."""
        return prefix_lm.format_example(
            self.form, inputs, inputs_lengths, targets, targets_lengths,
            sequence_length=sequence_length, start_id=self.start_id,
            pad_id=self.pad_token_id,
        )

    def get_config(self):
        return {
            **super().get_config(),
            "pad_token_id": self.pad_token_id,
            "form": self.form,
            "decoder_start_token_id": self.decoder_start_token_id,
        }
