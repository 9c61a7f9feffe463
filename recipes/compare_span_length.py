"""T5 span corruption by mean span length: iid/2/3/5/10 at 15% noise
(T5 Table 7: GLUE 83.28 / 83.54 / 83.49 / 83.40 / 82.85, flat).

Needs the `span_corruption` objective (decoder-only form on the shared
body).

Launch (3 seeds, 4 x 256 body, equal tokens: about 12 h on 2 CPU cores):

    keras-objectives compare recipes/compare_span_length.py --workdir runs/span_length

CPU smoke run:

    keras-objectives compare recipes/compare_span_length.py:runlocal
"""

from keras_objectives.compare import sweeps
from keras_objectives.compare.recipe import comparison_base


def get_config(arg=None):
    base, local = comparison_base(arg)
    return {
        "name": "span_length",
        "description": "Span corruption mean span length at equal tokens.",
        "seeds": [0, 1] if local else [0, 1, 2],
        "budget": {"tokens": 2e6 if local else 2e8},
        "base": base,
        "arms": sweeps.span_length_sweep(["iid", 2, 3, 5, 10]),
        "evaluations": [
            {"name": "linear_probe", "task": "book_attribution"},
            "minimal_pairs",
        ],
    }
