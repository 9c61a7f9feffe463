#!/usr/bin/env bash
# Run one recipe on this TPU VM worker. Usage: run.sh RECIPE WORKDIR [--config.x=y ...]
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
