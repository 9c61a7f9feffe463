"""`keras-objectives compare` / `report`: recipes load, errors exit
non-zero with a clear message, `report` rebuilds from run dirs."""

import glob
import os

import pytest

from keras_objectives import cli
from keras_objectives.compare.recipe import load_comparison_recipe

ROOT = os.path.dirname(os.path.dirname(os.path.dirname(
    os.path.abspath(__file__))))
# compare_sst2.py needs the user's SST-2 directory: tested on its own.
SST2 = os.path.join(ROOT, "recipes", "compare_sst2.py")
RECIPES = sorted(set(glob.glob(os.path.join(ROOT, "recipes", "compare_*.py"))
                     + [os.path.join(ROOT, "recipes", "quickstart.py")])
                 - {SST2})


@pytest.mark.parametrize("path", RECIPES, ids=os.path.basename)
@pytest.mark.parametrize("arg", ["", ":runlocal"])
def test_every_comparison_recipe_validates(path, arg):
    recipe = load_comparison_recipe(path + arg)
    assert len(recipe["seeds"]) >= 2 and len(recipe["arms"]) >= 2
    # The docstring holds the exact launch command.
    with open(path) as f:
        assert f"keras-objectives compare recipes/{os.path.basename(path)}" \
            in f.read()


def test_the_sst2_recipe_needs_the_users_directory(tmp_path):
    with pytest.raises(ValueError, match="SST-2 directory"):
        load_comparison_recipe(SST2)
    recipe = load_comparison_recipe(f"{SST2}:sst2={tmp_path}")
    assert recipe["seeds"] == [0, 1, 2]
    assert [a["name"] for a in recipe["arms"]] == ["mlm", "clm", "t5-span"]
    task = recipe["evaluations"][0]["task"]
    assert task["dev"] == os.path.join(str(tmp_path), "dev.txt")


def test_compare_exits_non_zero_when_no_run_completed(tmp_path, capsys,
                                                      monkeypatch):
    from keras_objectives import compare

    runs = [{"status": "failed"}, {"status": "diverged"}]
    monkeypatch.setattr(compare, "run_comparison",
                        lambda *a, **k: {"runs": runs})
    path = os.path.join(ROOT, "recipes", "quickstart.py:runlocal")
    assert cli.main(["compare", path, "--workdir", str(tmp_path)]) == 1
    assert "no run completed" in capsys.readouterr().err
    runs[0]["status"] = "completed"
    assert cli.main(["compare", path, "--workdir", str(tmp_path)]) == 0


def test_quickstart_arms():
    recipe = load_comparison_recipe(os.path.join(ROOT, "recipes",
                                                 "quickstart.py"))
    names = [a["name"] for a in recipe["arms"]]
    assert names[:2] == ["mlm", "clm"]
    assert next(iter(recipe["budget"])) == "flops"
    assert {e["name"] for e in recipe["evaluations"]} >= {
        "linear_probe", "minimal_pairs"}


def test_compare_errors_exit_non_zero(tmp_path, capsys):
    assert cli.main(["compare", str(tmp_path / "nope.py")]) == 2
    assert "no such file" in capsys.readouterr().err
    bad = tmp_path / "bad.py"
    bad.write_text("def get_config(arg=None):\n    return {'name': 'x'}\n")
    assert cli.main(["compare", str(bad)]) == 2
    assert "lacks the field(s)" in capsys.readouterr().err
    path = os.path.join(ROOT, "recipes", "quickstart.py")
    assert cli.main(["compare", path, "--config.budget.flops=-5",
                     "--workdir", str(tmp_path / "w")]) == 2
    assert "budget.flops" in capsys.readouterr().err


def test_report_errors_exit_non_zero(tmp_path, capsys):
    assert cli.main(["report", str(tmp_path / "missing")]) == 2
    assert "existing comparison directory" in capsys.readouterr().err
    assert cli.main(["report", str(tmp_path)]) == 2
    assert "comparison.json" in capsys.readouterr().err
    assert cli.main(["report", str(tmp_path), "--config.x=1"]) == 2


def test_report_rebuilds_from_run_dirs(tmp_path, capsys):
    run = tmp_path / "runs" / "a" / "seed-0"
    run.mkdir(parents=True)
    (run / "summary.json").write_text(
        '{"status": "completed", "objective": "masked_lm", "steps": 10, '
        '"tokens_seen": 100, "training_flops": 1e9}')
    (run / "metrics.csv").write_text("step,tokens,flops,loss\n10,100,1e9,"
                                     "3.5\n")
    assert cli.main(["report", str(tmp_path)]) == 0
    assert "report.html" in capsys.readouterr().out
    assert (tmp_path / "report.html").stat().st_size > 1000
    assert "3.5" in (tmp_path / "results.csv").read_text()
