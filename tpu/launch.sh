#!/usr/bin/env bash
# Launch a recipe on every worker of a TPU VM.
# Usage: launch.sh TPU_NAME ZONE RECIPE GCS_WORKDIR [--config.x=y ...]
set -euo pipefail
if [ $# -lt 4 ]; then
  echo "usage: $0 TPU_NAME ZONE RECIPE GCS_WORKDIR [--config.FIELD=VALUE ...]" >&2
  exit 2
fi
tpu=$1 zone=$2 recipe=$3 workdir=$4
shift 4
extra=$(printf ' %q' "$@")
gcloud compute tpus tpu-vm ssh "$tpu" --zone="$zone" --worker=all \
    --command="bash ~/keras_objectives/tpu/run.sh $recipe $workdir$extra"
