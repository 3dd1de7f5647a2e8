#!/bin/sh
# Builds the readers' libFuzzer targets with clang and runs each for a while
# from a small generated seed corpus. Exits non-zero on any crash, leak or
# broken invariant; the input that caused it is left in BUILD/fuzz-artifacts.
# BUILD/fuzz-results.json gets one line per target in the form of meson's
# test log ({"name": ..., "result": "OK" or "FAIL"}), which tools/run-tests
# counts with the tests.
#
#   tests/fuzz/run-fuzzers.sh [BUILD-DIR [SECONDS-PER-TARGET]]   (build-fuzz, 30)
set -eu
build=${1:-build-fuzz}
seconds=${2:-30}
src=$(cd "$(dirname "$0")/../.." && pwd)
cd "$src"
results="$src/$build/fuzz-results.json"
rm -f "$results"

if [ ! -f "$build/build.ninja" ]; then
  CC=clang meson setup "$build" -Dfuzzers=true -Dgui=disabled -Dcuda=disabled
fi
targets="stl10 cifar10 idx class-names"
ninja -C "$build" $(for t in $targets; do printf 'tests/fuzz/fuzz-%s ' "$t"; done)

work=$(mktemp -d)
trap 'rm -rf "$work"' EXIT
artifacts="$src/$build/fuzz-artifacts"
mkdir -p "$artifacts"
: > "$results.part"

# zeros N: N zero bytes.
zeros() { head -c "$1" /dev/zero; }
# le16 N: N as two little-endian bytes (the length prefix of two-part inputs).
le16() { printf "\\$(printf %03o $(($1 % 256)))\\$(printf %03o $(($1 / 256)))"; }

# STL-10: labels 01 0A 05, then three zero records.
mkdir -p "$work/stl10"
{ le16 3; printf '\001\012\005'; zeros 82944; } > "$work/stl10/three"
{ le16 1; printf '\013'; zeros 27648; } > "$work/stl10/bad-label"

# CIFAR-10: two batch files of one record each (labels 3 and 9).
mkdir -p "$work/cifar10"
{ le16 3073; printf '\003'; zeros 3072; printf '\011'; zeros 3072; } > "$work/cifar10/two"

# IDX: 2 images of 4x4 and 2 labels; raw, and with gzip.
mkdir -p "$work/idx"
printf '\000\000\010\003\000\000\000\002\000\000\000\004\000\000\000\004' > "$work/img"
zeros 32 >> "$work/img"
printf '\000\000\010\001\000\000\000\002\001\011' > "$work/lab"
gzip -9 -n -c "$work/img" > "$work/img.gz"
gzip -9 -n -c "$work/lab" > "$work/lab.gz"
size() { wc -c < "$1" | tr -d ' '; }
{ le16 "$(size "$work/img")"; cat "$work/img" "$work/lab"; } > "$work/idx/raw"
{ le16 "$(size "$work/img.gz")"; cat "$work/img.gz" "$work/lab"; } > "$work/idx/gzip-images"
{ le16 "$(size "$work/img.gz")"; cat "$work/img.gz" "$work/lab.gz"; } > "$work/idx/gzip-both"

# Class names: the first byte asks for 10 names.
mkdir -p "$work/class-names"
printf '\012airplane\r\nbird\r\ncar \r\ncat\ndeer\ndog\nhorse\nmonkey\nship\ntruck\n\n' \
  > "$work/class-names/stl10"

status=0
start=$(date +%s)
for t in $targets; do
  case $t in
    stl10) max_len=90000 ;;
    *) max_len=8192 ;;
  esac
  echo "== fuzz-$t: $seconds s"
  # Criticals from g_return_if_fail are bugs too.
  if ! G_DEBUG=fatal-criticals "$build/tests/fuzz/fuzz-$t" "$work/$t" \
      -max_total_time="$seconds" -max_len="$max_len" -rss_limit_mb=2048 \
      -artifact_prefix="$artifacts/$t-" -print_final_stats=1 2> "$work/$t.log"; then
    status=1
    tail -40 "$work/$t.log"
    echo "fuzz-$t FAILED (artifacts in $artifacts)"
    result=FAIL
  else
    grep -E 'stat::number_of_executed_units|cov:' "$work/$t.log" | tail -2
    result=OK
  fi
  printf '{"name": "fuzz-%s", "result": "%s"}\n' "$t" "$result" >> "$results.part"
done
mv "$results.part" "$results"
echo "fuzzers ran $(( $(date +%s) - start )) s in all"
exit $status
