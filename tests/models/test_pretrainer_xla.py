"""`model.fit` of a Pretrainer compiled with XLA (`jit_compile=True`)."""

import numpy as np

from tests.helpers import DIMS
from tests.helpers import compile_pretrainer
from tests.helpers import counting_data
from tests.helpers import next_token_pretrainer
from tests.test_case import TestCase


class PretrainerXLATest(TestCase):
    def test_jit_compiled_fit_step(self):
        # The richest mask (prefix body filled causal, per-document masks,
        # reset positions) must compile under XLA. One layer keeps the XLA
        # compile short.
        model = next_token_pretrainer(
            attention_mode="prefix",
            document_masking=True,
            reset_position_ids=True,
            **{**DIMS, "num_layers": 1},
        )
        self.assertIn("document_ids", model.input)
        compile_pretrainer(model, jit_compile=True)
        x, y, w = counting_data(16, documents=True)
        weights = [np.array(v) for v in model.trainable_weights]
        history = model.fit(
            x, y, sample_weight=w, batch_size=8, epochs=1, verbose=0
        )
        self.assertTrue(np.all(np.isfinite(history.history["loss"])))
        changed = [
            not np.array_equal(a, np.array(v))
            for a, v in zip(weights, model.trainable_weights, strict=True)
        ]
        self.assertTrue(all(changed))
