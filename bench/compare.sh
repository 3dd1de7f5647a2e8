#!/bin/sh
# Our engine against PyTorch 1.13 on the same cases, side by side.
#
#   bench/compare.sh [BUILD_DIR] [ROUNDS]      (defaults: build-bench, 3)
#   STEPS=3 WARMUP=2 THREADS=2 CASES="contrastive:525 ..." bench/compare.sh
#
# Each round runs every case once in ours, then in torch, each in a process
# of its own (so ru_maxrss is that case's peak), interleaved: ours, torch,
# ours, torch... A machine shared with other work drifts in speed, so
# interleaving lets both sides see the same load. The summary gives, per
# case, the median images/s of each side over the rounds, their ratio, and
# the median of the per-round ratios (ours / torch; above 1 is faster).
set -eu

here=$(cd "$(dirname "$0")" && pwd)
build=${1:-build-bench}
rounds=${2:-3}
steps=${STEPS:-3}
warmup=${WARMUP:-2}
threads=${THREADS:-2}
cases=${CASES:-"contrastive:128 supervised:128 contrastive:525 supervised:525"}
python=/usr/bin/python3 # Debian's python3-torch lives there

ours="$build/bench/simclr-bench"
if [ ! -x "$ours" ]; then
  echo "compare.sh: $ours not found; build it with ninja -C $build" >&2
  exit 1
fi
log=$(mktemp)
trap 'rm -f "$log"' EXIT

echo "load before: $(uptime)"
for round in $(seq 1 "$rounds"); do
  for c in $cases; do
    name=${c%%:*}
    batch=${c##*:}
    common="--case $name --batch $batch --steps $steps --warmup $warmup --threads $threads"
    # shellcheck disable=SC2086 # common is a word list on purpose
    "$ours" $common | sed "s/^{/{\"round\": $round, /" | tee -a "$log"
    # shellcheck disable=SC2086
    "$python" "$here/torch_simclr_bench.py" $common \
      | sed "s/^{/{\"round\": $round, /" | tee -a "$log"
  done
done
echo "load after: $(uptime)"

"$python" - "$log" <<'EOF'
import json, statistics, sys
runs = [json.loads(line) for line in open(sys.argv[1]) if line.startswith("{")]
keys = sorted({(r["case"], r["batch"]) for r in runs}, key=lambda k: (k[1], k[0]))
print(f"{'case':<12} {'B':>4} {'ours img/s':>11} {'torch img/s':>12} {'ratio':>6} "
      f"{'paired':>7} {'ours MiB':>9} {'torch MiB':>10}")
for case, batch in keys:
    sel = lambda impl: [r for r in runs
                        if r["case"] == case and r["batch"] == batch and r["impl"] == impl]
    ours, torch = sel("ours"), sel("torch")
    if not ours or not torch:
        continue
    o = statistics.median(r["images_per_s"] for r in ours)
    t = statistics.median(r["images_per_s"] for r in torch)
    by_round = {r["round"]: r["images_per_s"] for r in torch}
    paired = statistics.median(r["images_per_s"] / by_round[r["round"]]
                               for r in ours if r["round"] in by_round)
    om = statistics.median(r["peak_rss_mib"] for r in ours)
    tm = statistics.median(r["peak_rss_mib"] for r in torch)
    print(f"{case:<12} {batch:>4} {o:>11.1f} {t:>12.1f} {o / t:>6.2f} {paired:>7.2f} "
          f"{om:>9.0f} {tm:>10.0f}")
EOF
