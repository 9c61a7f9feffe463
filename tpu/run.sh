#!/usr/bin/env bash
# Run one recipe on this TPU VM worker, in the foreground.
# Usage: run.sh RECIPE WORKDIR [--config.FIELD=VALUE ...]
# RECIPE and a relative WORKDIR are relative to the project checkout
# (~/keras_objectives); WORKDIR must be on this VM's disk.
set -euo pipefail
if [ $# -lt 2 ]; then
  echo "usage: $0 RECIPE WORKDIR [--config.FIELD=VALUE ...]" >&2
  exit 2
fi
recipe=$1 workdir=$2
shift 2
cd "$(dirname "$0")/.."
. ~/ko-venv/bin/activate
exec keras-objectives train "$recipe" --workdir "$workdir" \
    --config.strategy=tpu --config.tpu=local "$@"
