import keras_hub

from keras_objectives.models import TransformerBody
from keras_objectives.objectives.flops import ModelDims
from keras_objectives.objectives.flops import forward_flops
from keras_objectives.objectives.flops import forward_flops_per_token
from keras_objectives.objectives.flops import softmax_flops
from keras_objectives.objectives.flops import training_flops
from tests.test_case import TestCase

V, D, F, LAYERS, MAX_LEN = 100, 32, 64, 2, 16
# The arguments of every backbone below (ours, BERT, GPT-2).
BACKBONE = dict(vocabulary_size=V, num_layers=LAYERS, num_heads=2,
                hidden_dim=D, intermediate_dim=F, max_sequence_length=MAX_LEN)


def _block_params(d, f):
    attention = 4 * (d * d + d)  # q, k, v, output projections with bias
    feedforward = d * f + f + f * d + d
    norms = 2 * 2 * d  # two layer norms, gamma and beta
    return attention + feedforward + norms


class FlopsTest(TestCase):
    def test_body_dims_by_hand(self):
        body = TransformerBody(**BACKBONE)
        dims = ModelDims.from_backbone(body, sequence_length=12)
        # Blocks plus the final layer norm; embeddings excluded.
        n = LAYERS * _block_params(D, F) + 2 * D
        self.assertEqual(dims, ModelDims(LAYERS, D, F, V, 12, n))
        self.assertEqual(
            dims.non_embedding_params, body.count_params() - V * D - MAX_LEN * D
        )

    def test_bert_and_gpt2_dims(self):
        dims = BACKBONE
        gpt2 = ModelDims.from_backbone(
            keras_hub.models.GPT2Backbone(**dims), 16
        )
        self.assertEqual(
            gpt2.non_embedding_params, LAYERS * _block_params(D, F) + 2 * D
        )
        bert = ModelDims.from_backbone(
            keras_hub.models.BertBackbone(**dims), 16
        )
        # Embedding layer norm and the pooler, no final layer norm.
        self.assertEqual(
            bert.non_embedding_params,
            LAYERS * _block_params(D, F) + 2 * D + D * D + D,
        )

    def test_formulas_by_hand(self):
        dims = ModelDims(
            num_layers=2,
            hidden_dim=32,
            intermediate_dim=64,
            vocabulary_size=100,
            sequence_length=16,
            non_embedding_params=1000,
        )
        # 2 * 1000 + 2 * 2 * 16 * 32 * 2
        self.assertEqual(forward_flops_per_token(dims), 2000 + 4096)
        self.assertEqual(softmax_flops(dims, 5), 5 * 2 * 32 * 100)
        self.assertEqual(
            forward_flops(dims, tokens=64, softmax_positions=10),
            64 * 6096 + 10 * 6400,
        )
        self.assertEqual(
            training_flops(dims, tokens=64, softmax_positions=10),
            3 * (64 * 6096 + 10 * 6400),
        )
        self.assertEqual(
            training_flops(dims, 64, 10, extra_params=50),
            3 * (64 * 6096 + 10 * 6400 + 2 * 50 * 10),
        )
        self.assertEqual(ModelDims.from_config(dims.get_config()), dims)
