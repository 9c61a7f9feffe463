#!/usr/bin/env bash
# Copy a run directory from TPU worker 0 to Cloud Storage (safe to repeat,
# also while training: only changed files are copied).
# Usage: collect.sh TPU_NAME ZONE WORKDIR GCS_DESTINATION
set -euo pipefail
if [ $# -ne 4 ]; then
  echo "usage: $0 TPU_NAME ZONE WORKDIR GCS_DESTINATION" >&2
  exit 2
fi
tpu=$1 zone=$2 workdir=$3 destination=$4
args=$(printf ' %q' "$workdir" "$destination")
gcloud compute tpus tpu-vm ssh "$tpu" --zone="$zone" --worker=0 \
    --command="cd ~/keras_objectives && gsutil -m rsync -r$args"
