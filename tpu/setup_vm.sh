#!/usr/bin/env bash
# Install keras_objectives on one TPU VM worker (run on --worker=all).
set -euo pipefail
cd "$(dirname "$0")/.."
python3 -m venv ~/ko-venv
. ~/ko-venv/bin/activate
pip install --upgrade pip
pip install -e .
python -c "import keras_objectives, tensorflow as tf; print('ok', tf.__version__)"
