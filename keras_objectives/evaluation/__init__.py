"""Instruments the comparison runs on every arm's checkpoints.

Each `evaluate_*(model, objective, corpus, task_or_data, seed, **options)`
takes what `keras_objectives.training.load_run` returns and gives a dict of
metrics, whatever objective trained the body. See `docs/evaluation.md`.
"""

from keras_objectives.evaluation.book_attribution import (  # noqa: F401
    book_attribution_task,
    check_no_overlap,
    split_book_tail,
)
from keras_objectives.evaluation.fine_tuning import (  # noqa: F401
    build_classifier,
    evaluate_fine_tuning,
)
from keras_objectives.evaluation.language_model import (  # noqa: F401
    evaluate_language_model,
    token_log_probs,
)
from keras_objectives.evaluation.linear_probe import (  # noqa: F401
    classification_features,
    evaluate_linear_probe,
)
from keras_objectives.evaluation.logistic_regression import (  # noqa: F401
    LogisticRegression,
)
from keras_objectives.evaluation.metrics import (  # noqa: F401
    accuracy,
    bio_chunks,
    chunk_f1,
    macro_f1,
    summarize_seeds,
)
from keras_objectives.evaluation.minimal_pairs import (  # noqa: F401
    evaluate_minimal_pairs,
    make_minimal_pairs,
)
from keras_objectives.evaluation.pseudo_likelihood import (  # noqa: F401
    denoising_pseudo_log_likelihood,
    masked_pseudo_log_likelihood,
)
from keras_objectives.evaluation.tagging import (  # noqa: F401
    encode_words,
    evaluate_tagging,
)
from keras_objectives.evaluation.tasks import (  # noqa: F401
    ClassificationTask,
    TaggingTask,
    load_classification,
    load_conll,
    load_tfds,
)
