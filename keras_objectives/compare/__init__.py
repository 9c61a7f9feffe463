"""Compare objectives under one budget: recipes, runs, statistics, report.

`run_comparison(recipe, workdir)` trains every arm x seed through
`training.train`, evaluates the checkpoints (cached per run dir), and
writes tidy results and `report.md`/`report.html`; `write_report(workdir)`
rebuilds the report from run dirs without training. See
docs/comparing.md.
"""

from keras_objectives.compare.budget import plan_budget  # noqa: F401
from keras_objectives.compare.claims import get_claim  # noqa: F401
from keras_objectives.compare.claims import match_claims  # noqa: F401
from keras_objectives.compare.recipe import load_comparison_recipe  # noqa: F401
from keras_objectives.compare.recipe import validate_recipe  # noqa: F401
from keras_objectives.compare.report import write_report  # noqa: F401
from keras_objectives.compare.runner import run_comparison  # noqa: F401
from keras_objectives.compare.stats import bootstrap_ci  # noqa: F401
from keras_objectives.compare.stats import decide  # noqa: F401
from keras_objectives.compare.stats import describe  # noqa: F401
from keras_objectives.compare.stats import equivalence  # noqa: F401
from keras_objectives.compare.stats import holm  # noqa: F401
from keras_objectives.compare.stats import minimum_detectable_effect  # noqa: F401
from keras_objectives.compare.stats import paired_comparison  # noqa: F401
from keras_objectives.compare.stats import paired_differences  # noqa: F401
from keras_objectives.compare.stats import power  # noqa: F401
from keras_objectives.compare.stats import seeds_needed  # noqa: F401
from keras_objectives.compare.stats import win  # noqa: F401
from keras_objectives.compare.sweeps import sweep  # noqa: F401
