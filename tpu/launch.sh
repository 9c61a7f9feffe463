#!/usr/bin/env bash
# Start a recipe on every worker of a TPU VM, detached from the SSH session.
# Usage: launch.sh TPU_NAME ZONE RECIPE WORKDIR [--config.FIELD=VALUE ...]
# Each worker runs tpu/run.sh under nohup and logs to ~/ko-train.log; follow
# it with: gcloud compute tpus tpu-vm ssh TPU --zone=ZONE --worker=0 \
#     --command="tail -f ~/ko-train.log"
set -euo pipefail
if [ $# -lt 4 ]; then
  echo "usage: $0 TPU_NAME ZONE RECIPE WORKDIR [--config.FIELD=VALUE ...]" >&2
  exit 2
fi
tpu=$1 zone=$2 recipe=$3 workdir=$4
shift 4
args=$(printf ' %q' "$recipe" "$workdir" "$@")
gcloud compute tpus tpu-vm ssh "$tpu" --zone="$zone" --worker=all \
    --command="nohup bash ~/keras_objectives/tpu/run.sh$args \
> ~/ko-train.log 2>&1 < /dev/null &"
echo "started $recipe on $tpu; log: ~/ko-train.log on each worker"
