"""The task containers every downstream instrument reads."""

import numpy as np

from keras_objectives.api_export import keras_objectives_export
from keras_objectives.utils import invalid


class _Task:
    def __init__(self, name, label_names, splits):
        self.name = name
        self.label_names = list(label_names)
        self.splits = dict(splits)

    @property
    def num_classes(self):
        return len(self.label_names)

    def split(self, name):
        """The `(inputs, labels)` of split `name`, or an error."""
        if name not in self.splits:
            raise invalid("split", name, f"one of {sorted(self.splits)}")
        return self.splits[name]

    def get_config(self):
        return {
            "name": self.name,
            "label_names": self.label_names,
            "splits": {k: [list(a), np.asarray(b).tolist()
                           if not isinstance(b, list) else b]
                       for k, (a, b) in self.splits.items()},
        }

    @classmethod
    def from_config(cls, config):
        splits = {k: (a, np.asarray(b) if cls is ClassificationTask else b)
                  for k, (a, b) in config["splits"].items()}
        return cls(config["name"], config["label_names"], splits)

    def __repr__(self):
        sizes = {k: len(v[1]) for k, v in self.splits.items()}
        return (f"{type(self).__name__}(name={self.name!r}, "
                f"classes={self.num_classes}, splits={sizes})")


@keras_objectives_export("keras_objectives.evaluation.ClassificationTask")
class ClassificationTask(_Task):
    """Texts with integer labels in `train`, `dev` and optional `test`.

    Args:
        name: str.
        label_names: list of str; label `i` is `label_names[i]`.
        splits: dict from split name to `(texts, labels)`.
    """


@keras_objectives_export("keras_objectives.evaluation.TaggingTask")
class TaggingTask(_Task):
    """Sentences of words with one tag per word.

    Args:
        name: str.
        label_names: list of str, every tag of the training split.
        splits: dict from split name to `(sentences, tags)`: lists of word
            lists and of tag-string lists.
    """
