#!/usr/bin/env bash
# Before/after engine benchmark: runs `bench -p 64 -n 32 -r 3 -t 2` on the synthetic TinyLlama files with two
# built checkouts by turns (A, B, A, B per file), so drift on this shared machine hits both sides alike.
# Usage: scripts/bench-ab.sh CHECKOUT_A CHECKOUT_B [DIR]   (DIR as for bench-tinyllama.sh; default /work/bench)
set -euo pipefail
a="$1"
b="$2"
dir="${3:-/work/bench}"
for f in tl1b-f16 tl1b-Q8_0 tl1b-Q4_0 tl1b-Q4_K_M; do
  cat "$dir/$f.gguf" > /dev/null   # into the page cache before timing
  for d in "$a" "$b" "$a" "$b"; do
    echo "== $d $f"
    "$d/quant4j" bench -m "$dir/$f.gguf" -p 64 -n 32 -r 3 -t 2 2>&1 | grep -E 'pp64|tg32|peak'
  done
done
