"""Instruments the comparison runs on every arm's checkpoints.

Each `evaluate_*(model, objective, corpus, task_or_data, seed, **options)`
takes what `keras_objectives.training.load_run` returns and gives a dict of
metrics, whatever objective trained the body. See `docs/evaluation.md`.
"""

from keras_objectives.evaluation.book_attribution import book_attribution_task
from keras_objectives.evaluation.book_attribution import check_no_overlap
from keras_objectives.evaluation.book_attribution import split_book_tail
from keras_objectives.evaluation.chinese import chinese_book_attribution_task
from keras_objectives.evaluation.chinese import crosswoz_domain_task
from keras_objectives.evaluation.chinese import make_chinese_minimal_pairs
from keras_objectives.evaluation.fine_tuning import WarmupLinearDecay
from keras_objectives.evaluation.fine_tuning import build_classifier
from keras_objectives.evaluation.fine_tuning import evaluate_fine_tuning
from keras_objectives.evaluation.language_model import evaluate_language_model
from keras_objectives.evaluation.language_model import token_log_probs
from keras_objectives.evaluation.linear_probe import classification_features
from keras_objectives.evaluation.linear_probe import evaluate_linear_probe
from keras_objectives.evaluation.logistic_regression import LogisticRegression
from keras_objectives.evaluation.metrics import accuracy
from keras_objectives.evaluation.metrics import bio_chunks
from keras_objectives.evaluation.metrics import chunk_f1
from keras_objectives.evaluation.metrics import macro_f1
from keras_objectives.evaluation.metrics import summarize_seeds
from keras_objectives.evaluation.minimal_pairs import evaluate_minimal_pairs
from keras_objectives.evaluation.minimal_pairs import make_minimal_pairs
from keras_objectives.evaluation.pseudo_likelihood import (
    denoising_pseudo_log_likelihood,
)
from keras_objectives.evaluation.pseudo_likelihood import (
    masked_pseudo_log_likelihood,
)
from keras_objectives.evaluation.pseudo_likelihood import (
    reconstruction_pseudo_log_likelihood,
)
from keras_objectives.evaluation.punctuation import punctuation_task
from keras_objectives.evaluation.punctuation import tag_words
from keras_objectives.evaluation.tagging import encode_words
from keras_objectives.evaluation.tagging import evaluate_tagging
from keras_objectives.evaluation.tagging import tag_f1
from keras_objectives.evaluation.task import ClassificationTask
from keras_objectives.evaluation.task import TaggingTask
from keras_objectives.evaluation.tasks import load_classification
from keras_objectives.evaluation.tasks import load_conll
from keras_objectives.evaluation.tasks import load_tfds

__all__ = [
    "ClassificationTask",
    "LogisticRegression",
    "TaggingTask",
    "WarmupLinearDecay",
    "accuracy",
    "bio_chunks",
    "chinese_book_attribution_task",
    "crosswoz_domain_task",
    "make_chinese_minimal_pairs",
    "book_attribution_task",
    "build_classifier",
    "check_no_overlap",
    "chunk_f1",
    "classification_features",
    "denoising_pseudo_log_likelihood",
    "encode_words",
    "evaluate_fine_tuning",
    "evaluate_language_model",
    "evaluate_linear_probe",
    "evaluate_minimal_pairs",
    "evaluate_tagging",
    "load_classification",
    "load_conll",
    "load_tfds",
    "macro_f1",
    "make_minimal_pairs",
    "masked_pseudo_log_likelihood",
    "reconstruction_pseudo_log_likelihood",
    "punctuation_task",
    "split_book_tail",
    "tag_words",
    "summarize_seeds",
    "tag_f1",
    "token_log_probs",
]
