"""Cross-checks quant4j's PEFT adapters against PEFT itself (development check, not part of the test suite).

Loads the Hugging Face stories260K folder with transformers, applies the adapter with peft.PeftModel, and compares
the logits with quant4j's (`--lora` on the same folder, dumped by scripts/DumpLogits.java).
usage: python peft_crosscheck.py HF_MODEL_DIR ADAPTER_DIR QUANT4J_LOGITS.txt TOKEN_IDS...
"""
import sys

import torch
from peft import PeftModel
from transformers import LlamaForCausalLM

model_dir, adapter_dir, quant4j_file = sys.argv[1:4]
ids = [int(t) for t in sys.argv[4:]]
base = LlamaForCausalLM.from_pretrained(model_dir, torch_dtype=torch.float32)
with torch.no_grad():
    plain = base(torch.tensor([ids])).logits[0]
model = PeftModel.from_pretrained(base, adapter_dir)
model.eval()
with torch.no_grad():
    adapted = model(torch.tensor([ids])).logits[0]
with open(quant4j_file) as f:
    quant4j = torch.tensor([[float(v) for v in line.split()] for line in f])
print(f"adapter changes the logits by up to {(adapted - plain).abs().max().item():.4f}")
print(f"max |PEFT - quant4j| = {(adapted - quant4j).abs().max().item():.2e} over {quant4j.numel()} logits")
