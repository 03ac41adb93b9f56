#!/usr/bin/env bash
# Reproduces BENCHMARKS.md "finetune: stories260K": samples the training text from the F32 model, then runs the
# partial-quantization recipe (CE and distillation) and QLoRA, printing the TinyStories-sample perplexities.
set -euo pipefail
cd "$(dirname "${BASH_SOURCE[0]}")/.."
source scripts/java-env.sh
model=../shared/models/stories260K/stories260K.gguf
eval_text=../shared/data/TinyStories-sample-30KB.txt
mkdir -p target/finetune
./quant4j --version >/dev/null   # builds the jar if needed
if [[ ! -f target/finetune/stories-train.jsonl ]]; then
  # 600 plain-sampling runs (temperature 1, no top-k/top-p/min-p) of 255 tokens, seeds 1000..1599
  "$JAVA_HOME/bin/java" --add-modules jdk.incubator.vector -cp target/quant4j.jar scripts/SampleStories.java \
    "$model" 600 255 1000 > target/finetune/stories-train.jsonl 2>/dev/null
fi
ppl() { ./quant4j perplexity "$@" -f "$eval_text" -c 256 2>/dev/null | grep -o 'PPL = [0-9.]*'; }
echo "F32: $(ppl -m "$model")"
for cfg in stories260k-layers stories260k-layers-distill stories260k-qlora; do
  out=$(sed -n 's/^output_dir: *//p' examples/finetune/$cfg.yml)
  ./quant4j finetune examples/finetune/$cfg.yml -t 2 | tee target/finetune/$cfg.log | grep -E '^(eval step|step [0-9]+/[0-9]+ .*(/|ETA 0m00s))' | tail -2
  # the base as trained on: quantized-base.gguf, or for load_in_4bit the model plus its --load-in-4bit flags
  base=$(sed -n 's/^ *"trained_on" *: *"\(.*\)",*$/\1/p' "$out/quant4j_training.json")
  # shellcheck disable=SC2086 # $base is a path followed by flags
  echo "$cfg: base $(ppl -m $base), fine-tuned $(ppl -m $base --lora "$out")"
done
