#!/usr/bin/env bash
# Rebuilds the stories260K quantization table of BENCHMARKS.md: GPTQ / RTN checkpoints written by `quant4j gptq`
# (all 35 projections, --pad-unaligned since the MLP's 172 features are not multiples of 32) and bitsandbytes-style
# models quantized at load, each scored with the GPTQ perplexity protocol (512-token windows) on wikitext2 (first
# 100 windows) and on the TinyStories sample (all windows). Usage: scripts/gptq-stories-table.sh [ROW...]
set -euo pipefail
cd "$(dirname "${BASH_SOURCE[0]}")/.."
shared=${QUANT4J_SHARED:-../shared}
hf="$shared/models/stories260K/hf"
work=${WORK:-target/gptq-table}
threads=${THREADS:-2}
mkdir -p "$work"
q4j=${Q4J:-./quant4j}
calib=(--calib c4 --nsamples 128 --seqlen 512 --data-dir "$shared/data" --pad-unaligned -t "$threads")

ppl() { # model, extra flags... -> "wiki stories"
  local m=$1; shift
  local w s
  w=$($q4j perplexity -m "$m" "$@" --protocol gptq --dataset wikitext2 --data-dir "$shared/data" -c 512 --chunks 100 -t "$threads" 2>/dev/null | sed -n 's/^Final estimate: PPL = \([0-9.]*\).*/\1/p')
  s=$($q4j perplexity -m "$m" "$@" --protocol gptq -f "$shared/data/TinyStories-sample-30KB.txt" -c 512 -t "$threads" 2>/dev/null | sed -n 's/^Final estimate: PPL = \([0-9.]*\).*/\1/p')
  echo "$w $s"
}

row() { # label, bpw note, model, flags...
  local label=$1 note=$2 m=$3; shift 3
  read -r w s < <(ppl "$m" "$@")
  printf '| %s | %s | %s | %s |\n' "$label" "$note" "$w" "$s" | tee -a "$work/table.md"
}

gptq() { # name, gptq flags...
  local name=$1; shift
  [[ -d "$work/$name" ]] || $q4j gptq -m "$hf" "${calib[@]}" "$@" -o "$work/$name" 2> "$work/$name.log" >/dev/null
  echo "$work/$name"
}

rows=("$@")
[[ ${#rows[@]} -gt 0 ]] || rows=(f32 rtn8 gptq8 rtn4 gptq4 gptq4ao rtn3 gptq3 int8 nf4 nf4dq fp4)
for r in "${rows[@]}"; do
  case $r in
    f32) row "F32" "32" "$hf" ;;
    rtn8) row "RTN 8-bit g64" "8.3" "$(gptq rtn8 --method rtn --bits 8 --group-size 64)" ;;
    gptq8) row "GPTQ 8-bit g64" "8.3" "$(gptq gptq8 --bits 8 --group-size 64)" ;;
    rtn4) row "RTN 4-bit g64" "4.3" "$(gptq rtn4 --method rtn --bits 4 --group-size 64)" ;;
    gptq4) row "GPTQ 4-bit g64" "4.3" "$(gptq gptq4 --bits 4 --group-size 64)" ;;
    gptq4ao) row "GPTQ 4-bit g64 act-order" "4.3" "$(gptq gptq4ao --bits 4 --group-size 64 --act-order)" ;;
    rtn3) row "RTN 3-bit g64" "3.3" "$(gptq rtn3 --method rtn --bits 3 --group-size 64)" ;;
    gptq3) row "GPTQ 3-bit g64" "3.3" "$(gptq gptq3 --bits 3 --group-size 64)" ;;
    int8) row "bnb LLM.int8 (threshold 6.0)" "8 + 32/row" "$hf" --load-in-8bit ;;
    nf4) row "bnb NF4 b64" "4.5" "$hf" --load-in-4bit --bnb-4bit-quant-type nf4 ;;
    nf4dq) row "bnb NF4 b64 + DQ" "4.127" "$hf" --load-in-4bit --bnb-4bit-quant-type nf4 --double-quant ;;
    fp4) row "bnb FP4 b64" "4.5" "$hf" --load-in-4bit --bnb-4bit-quant-type fp4 ;;
    *) echo "unknown row $r" >&2; exit 1 ;;
  esac
done
