#!/usr/bin/env bash
# Install keras_objectives on one TPU VM worker (run on --worker=all).
# The venv sees the image's TensorFlow (built with TPU support), so pip keeps
# it when it satisfies setup.cfg's pin instead of installing the PyPI build.
set -euo pipefail
cd "$(dirname "$0")/.."
python3 -m venv --system-site-packages ~/ko-venv
. ~/ko-venv/bin/activate
pip install --upgrade pip
pip install -e .
python -c "import keras_objectives, tensorflow as tf; print('ok', tf.__version__)"
