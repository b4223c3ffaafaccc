#!/usr/bin/env bash
# A long fuzz run in chunks at low CPU priority, resumable (finished chunks are kept):
#   tests/fuzz/run_chunks.sh [TOTAL=20000] [CHUNK=2000] [OUTDIR=fuzz_out] [FIRST_SEED=0]
# then the merged report is OUTDIR/all.json and the summary OUTDIR/summary.txt.
set -euo pipefail
cd "$(dirname "$0")/../.."
total=${1:-20000}; chunk=${2:-2000}; out=${3:-fuzz_out}; first=${4:-0}
mkdir -p "$out"
export PYTHONPATH="$PWD${PYTHONPATH:+:$PYTHONPATH}" OMP_NUM_THREADS=1 OPENBLAS_NUM_THREADS=1
for ((s = first; s < first + total; s += chunk)); do
  n=$(( chunk < first + total - s ? chunk : first + total - s ))
  f="$out/chunk_$s.json"
  [ -f "$f" ] && continue
  rc=3
  while [ "$rc" -eq 3 ]; do  # 3: a seed hung in C code; it is recorded and skipped on retry
    rc=0
    nice -n 19 python -m tests.fuzz --programs "$n" --seed "$s" --examples 1 \
      --report "$f.tmp" > "$out/chunk_$s.txt" 2>&1 || rc=$?
  done
  [ "$rc" -eq 0 ] || { echo "chunk $s failed (status $rc), see $out/chunk_$s.txt"; exit "$rc"; }
  mv "$f.tmp" "$f"
done
python -m tests.fuzz --merge "$out"/chunk_*.json --report "$out/all.json" > "$out/summary.txt"
cat "$out/summary.txt"
