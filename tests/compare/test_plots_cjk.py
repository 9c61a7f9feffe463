"""Plots fall back to an installed CJK font: Chinese labels get no boxes."""

import warnings

import pytest

from keras_objectives.compare import plots


def _cjk_installed():
    from matplotlib import font_manager

    names = {f.name for f in font_manager.fontManager.ttflist}
    return any(name in names for name in plots.CJK_FONTS)


def test_chinese_labels_render_without_missing_glyphs(tmp_path):
    plt = plots._pyplot()
    if not _cjk_installed():
        pytest.skip("no CJK font (apt-get install fonts-noto-cjk)")
    assert plt.rcParams["font.family"][1] in plots.CJK_FONTS
    figure, axis = plt.subplots()
    axis.bar(["字级-mlm", "全词-mlm", "clm"], [1, 2, 3])
    axis.set_title("中文 title")
    with warnings.catch_warnings(record=True) as caught:
        warnings.simplefilter("always")
        figure.savefig(tmp_path / "zh.png")
    plt.close(figure)
    missing = [str(w.message) for w in caught if "missing" in str(w.message)]
    assert not missing, missing
