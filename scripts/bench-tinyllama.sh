#!/usr/bin/env bash
# The engine benchmark of issue 4: llama-bench-style pp64/tg32 on synthetic TinyLlama-1.1B files, 2 threads.
# Usage: scripts/bench-tinyllama.sh [DIR]   (DIR holds tl1b-f16.gguf; the quantized files are made there if missing)
set -euo pipefail
cd "$(dirname "$0")/.."
dir="${1:-/work/bench}"
f16="$dir/tl1b-f16.gguf"
if [[ ! -f "$f16" ]]; then
  python3 ../shared/tools/synth_gguf.py "$f16" ../shared/tokenizers/ggml-vocab-llama-spm.gguf 2048 22 32 4 5632 2048
fi
for t in Q8_0 Q4_0 Q4_K_M; do
  [[ -f "$dir/tl1b-$t.gguf" ]] || ./quant4j quantize "$f16" "$dir/tl1b-$t.gguf" "$t" 2
done
for f in "$f16" "$dir/tl1b-Q8_0.gguf" "$dir/tl1b-Q4_0.gguf" "$dir/tl1b-Q4_K_M.gguf"; do
  cat "$f" > /dev/null   # into the page cache before timing
  ./quant4j bench -m "$f" -p 64 -n 32 -r 3 -t 2
done
