"""`export`: keras-hub presets that round trip, and clear refusals."""

import json
import os
import subprocess
import sys

import keras_hub
import numpy as np
import pytest

from keras_objectives import checkpointing
from keras_objectives import training
from keras_objectives.cli import main as cli_main
from keras_objectives.deploy import export_run
from keras_objectives.models import BodyTextClassifier
from keras_objectives.models import BodyTextClassifierPreprocessor
from keras_objectives.models import BodyTokenizer


def _inputs(vocabulary_size, length=12):
    rng = np.random.default_rng(0)
    token_ids = rng.integers(111, vocabulary_size, (2, length), np.int32)
    padding_mask = np.ones((2, length), np.int32)
    padding_mask[1, 8:] = 0
    return {"token_ids": token_ids, "padding_mask": padding_mask,
            "segment_ids": np.zeros((2, length), np.int32)}


def _outputs(backbone, inputs):
    from keras_objectives.models.backbones import backbone_outputs

    mode = "causal" if isinstance(
        backbone, keras_hub.models.GPT2Backbone) else "bidirectional"
    return np.asarray(backbone_outputs(backbone, inputs, mode))


def _round_trip(run_dir, output, step=None):
    meta = export_run(run_dir, output, step=step)
    model, *_ = training.load_run(run_dir, step)
    loaded = keras_hub.models.Backbone.from_preset(output)
    x = _inputs(model.backbone.vocabulary_size)
    np.testing.assert_allclose(_outputs(loaded, x),
                               _outputs(model.backbone, x), atol=1e-5)
    return meta, loaded


def test_body_preset_round_trips_and_loads_as_a_text_classifier(
        body_run, tmp_path):
    output = str(tmp_path / "preset")
    meta, loaded = _round_trip(body_run, output)
    assert sorted(os.listdir(output)) == [
        "assets", "config.json", "metadata.json", "model.weights.h5",
        "preprocessor.json", "tokenizer.json"]
    with open(os.path.join(output, "metadata.json")) as f:
        written = json.load(f)
    assert written["keras_objectives"] == meta
    assert "TextClassifier" in written["tasks"]  # keras-hub's own key.
    assert meta["objective"] == "masked_lm" and meta["step"] == 4
    assert meta["seed"] == 0 and meta["backbone"] == "body"
    assert meta["tokens"] == 4 * 8 * 32
    with open(os.path.join(body_run, "summary.json")) as f:
        summary = json.load(f)
    assert meta["flops"] == pytest.approx(summary["training_flops"])
    assert meta["run_config"]["training"]["steps"] == 4
    tokenizer = keras_hub.tokenizers.Tokenizer.from_preset(output)
    assert isinstance(tokenizer, BodyTokenizer)
    assert tokenizer.vocabulary_size() == loaded.vocabulary_size
    classifier = keras_hub.models.TextClassifier.from_preset(
        output, num_classes=3)
    assert isinstance(classifier, BodyTextClassifier)
    assert isinstance(classifier.preprocessor,
                      BodyTextClassifierPreprocessor)
    assert classifier.preprocessor.sequence_length == 32
    assert classifier.predict(["a short text", ""], verbose=0).shape == (
        2, 3)


def test_step_picks_a_checkpoint(body_run, tmp_path):
    meta, loaded = _round_trip(body_run, str(tmp_path / "p2"), step=2)
    assert meta["step"] == 2 and meta["tokens"] == 2 * 8 * 32
    last = keras_hub.models.Backbone.from_preset(
        export_run(body_run, str(tmp_path / "p4")) and str(tmp_path / "p4"))
    x = _inputs(loaded.vocabulary_size)
    assert not np.allclose(_outputs(loaded, x), _outputs(last, x))


def test_step_zero_exports_the_untrained_reference(body_run, tmp_path):
    """`--step 0`: the run's initial weights, to fine-tune as a control."""
    meta, untrained = _round_trip(body_run, str(tmp_path / "p0"), step=0)
    assert meta["step"] == 0 and meta["tokens"] == 0 and meta["flops"] == 0
    assert meta["metrics_at_step"] == {}
    trained = keras_hub.models.Backbone.from_preset(
        export_run(body_run, str(tmp_path / "p4")) and str(tmp_path / "p4"))
    x = _inputs(untrained.vocabulary_size)
    assert not np.allclose(_outputs(untrained, x), _outputs(trained, x))
    with pytest.raises(ValueError, match=r"or 0 \(the initial weights\)"):
        export_run(body_run, str(tmp_path / "p3"), step=3)


PLAIN = """
import json, sys
import numpy as np
import keras_hub
for preset, kind, expected in json.loads(sys.argv[1]):
    expected = json.load(open(expected))
    x = {k: np.asarray(v, "int32") for k, v in expected["inputs"].items()}
    backbone = keras_hub.models.Backbone.from_preset(preset)
    if kind == "bert":
        out = backbone(x)["sequence_output"]
        task = keras_hub.models.BertTextClassifier.from_preset(
            preset, num_classes=2)
        shape = (2, 2)
    else:
        out = backbone({k: x[k] for k in ("token_ids", "padding_mask")})
        task = keras_hub.models.GPT2CausalLM.from_preset(preset)
        shape = (2, 32, backbone.vocabulary_size)
    assert task.predict(["a plain preset", ""], verbose=0).shape == shape
    assert np.abs(np.asarray(out) - np.asarray(expected["outputs"])).max(
        ) < 1e-5
    print("ok", kind, type(task).__name__)
assert not [m for m in sys.modules if m.startswith("keras_objectives")]
"""


def test_stock_backbones_export_plain_keras_hub_presets(
        bert_run, gpt2_run, tmp_path):
    """BERT and GPT-2 runs: round trip here, then load in a process that
    never imports keras_objectives."""
    jobs = []
    for kind, run in (("bert", bert_run), ("gpt2", gpt2_run)):
        output = str(tmp_path / kind)
        _, loaded = _round_trip(run, output)
        x = _inputs(loaded.vocabulary_size)
        expected = tmp_path / f"{kind}.json"
        expected.write_text(json.dumps({
            "inputs": {k: v.tolist() for k, v in x.items()},
            "outputs": _outputs(loaded, x).tolist()}))
        jobs.append([output, kind, str(expected)])
    script = tmp_path / "plain.py"
    script.write_text(PLAIN)
    env = {k: v for k, v in os.environ.items() if k != "PYTHONPATH"}
    result = subprocess.run(
        [sys.executable, str(script), json.dumps(jobs)],
        capture_output=True, text=True, env=env, cwd=str(tmp_path))
    assert result.returncode == 0, result.stderr[-3000:]
    assert result.stdout.split("\n")[:2] == [
        "ok bert BertTextClassifier", "ok gpt2 GPT2CausalLM"]


def _cli(args, capsys):
    code = cli_main(args)
    return code, capsys.readouterr().err


def test_bad_inputs_exit_non_zero_and_write_nothing(body_run, tmp_path,
                                                    capsys):
    output = tmp_path / "out"
    empty_run = tmp_path / "empty"
    empty_run.mkdir()
    with open(os.path.join(body_run, "config.json")) as f:
        (empty_run / "config.json").write_text(f.read())
    code, err = _cli(["export", str(empty_run), "--output", str(output)],
                     capsys)
    assert code == 2 and "at least one complete checkpoint" in err
    code, err = _cli(["export", body_run, "--output", str(output),
                      "--step", "3"], capsys)
    assert code == 2 and "step=3" in err and "[2, 4]" in err
    assert not output.exists()
    output.mkdir()
    (output / "notes.txt").write_text("keep me")
    code, err = _cli(["export", body_run, "--output", str(output)], capsys)
    assert code == 2 and "--overwrite" in err
    assert os.listdir(output) == ["notes.txt"]
    assert not [n for n in os.listdir(tmp_path) if n.startswith(".")]
    code, _ = _cli(["export", body_run, "--output", str(output),
                    "--overwrite"], capsys)
    assert code == 0 and "notes.txt" not in os.listdir(output)
    assert not [n for n in os.listdir(tmp_path) if n.startswith(".")]


def test_a_failed_export_leaves_no_half_written_preset(
        body_run, tmp_path, monkeypatch):
    output = tmp_path / "out"

    def broken(self, preset_dir):
        raise RuntimeError("disk full")

    monkeypatch.setattr(BodyTokenizer, "save_to_preset", broken)
    with pytest.raises(RuntimeError, match="disk full"):
        export_run(body_run, str(output))
    assert sorted(os.listdir(tmp_path)) == []
    assert checkpointing.latest_step(body_run) == 4

