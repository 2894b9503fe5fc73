#!/bin/sh
# What runs that end badly leave behind, model by model (README, Reliability: /dev/shm).
#
#   sudo env PYTHONPATH=$PWD tools/leaks.sh 20 processes-spawn loky dask-processes ...
#
# Per model, in a mount namespace of its own with a fresh tmpfs on /dev/shm (root and
# `unshare -m`), so nothing else on the machine counts: N runs cycling timed out
# (fault-hang, --timeout 3), crashed (fault-segv) and parent SIGKILLed mid-run. Prints what
# is left afterwards: entries in /dev/shm, processes carrying the run's tag, entries in its
# TMPDIR; and /dev/shm's count after each run.
N=$1; shift
PY=${PYTHON:-python3}
for m in "$@"; do
unshare -m sh -c '
mount -t tmpfs none /dev/shm || exit 9
N=$1; m=$2; PY=$3
T=$(mktemp -d /tmp/leaks-XXXX); TAG=leaks$$$m; log=""
for i in $(seq "$N"); do
  case $((i % 3)) in
  0) k=hang; TMPDIR=$T GCTAG=$TAG $PY -m gilcompare run --model "$m" --workload fault-hang --workers 2 --size 1 --tasks 4 --repeat 1 --timeout 3 --quiet >/dev/null 2>&1;;
  1) k=segv; TMPDIR=$T GCTAG=$TAG $PY -m gilcompare run --model "$m" --workload fault-segv --workers 2 --size 1 --tasks 4 --repeat 1 --timeout 20 --quiet >/dev/null 2>&1;;
  2) k=kill; TMPDIR=$T GCTAG=$TAG $PY -m gilcompare run --model "$m" --workload sleep --workers 2 --size 50 --tasks 200 --repeat 3 --timeout 60 --quiet >/dev/null 2>&1 & p=$!; sleep 4; kill -9 $p; wait $p 2>/dev/null; sleep 2;;
  esac
  log="$log $k:$(ls -A /dev/shm | wc -l)"
done
sleep 6
echo "$m runs=$N shm=$(ls -A /dev/shm | wc -l) procs=$(grep -l "GCTAG=$TAG" /proc/[0-9]*/environ 2>/dev/null | wc -l) tmp=$(ls -A "$T" | wc -l) |$log"
rm -rf "$T"' sh "$N" "$m" "$PY"
done
