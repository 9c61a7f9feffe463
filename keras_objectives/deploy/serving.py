"""A SavedModel that serves raw strings, and calling it.

The signature `serving_default` takes `text`, a `[batch]` string tensor,
and runs tokenization (TF-Text ops), packing, the model and the softmax in
one graph. A classifier returns

| output          | shape          | meaning                                   |
|-----------------|----------------|-------------------------------------------|
| `label`         | `[B]` string   | the most probable label name              |
| `probabilities` | `[B, k]` float | per class, in the order of `classes`      |
| `classes`       | `[B, k]` string| the label names                           |
| `truncated`     | `[B]` bool     | the text was cut to the sequence length   |

and a tagger returns `words` `[B, W]` (`""` padding), `tags` `[B, W]`
(`""` for padding and for words cut off), `probabilities` `[B, W, k]` and
`truncated_words` `[B]`. Loading it needs TensorFlow and `tensorflow_text`
(for its ops), not this package; TF Serving serves it as is.
"""

import keras
import tensorflow as tf

from keras_objectives.deploy.files import atomic_directory

SIGNATURE = "serving_default"


def export_saved_model(model, problem, label_names, path):
    """Write the string-in, labels-out SavedModel of a fine-tuned task.

    The directory is written under a temporary name and renamed into place.
    """
    if not model.preprocessor.built:
        model.preprocessor.build(None)
    archive = keras.export.ExportArchive()
    archive.track(model)
    archive.add_endpoint(
        SIGNATURE, problem.serve(model, list(label_names)),
        input_signature=[tf.TensorSpec([None], tf.string, name="text")])
    with atomic_directory(path) as tmp:
        archive.write_out(tmp, verbose=False)
    return path


def load_signature(path):
    """The `serving_default` function of a SavedModel directory.

    Returns:
        `call(texts)`: a list of strings in, the signature's dict of
        tensors out.
    """
    import tensorflow_text  # noqa: F401  (registers the tokenizer ops)

    loaded = tf.saved_model.load(path)
    signature = loaded.signatures[SIGNATURE]

    def call(text):
        # `loaded` stays referenced: its variables live as long as `call`.
        return signature(text=tf.constant(list(text), tf.string)) if (
            loaded is not None) else None

    return call
