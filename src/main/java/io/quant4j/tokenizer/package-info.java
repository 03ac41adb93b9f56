/**
 * Tokenizers for Llama-family models, matching llama.cpp token for token.
 * <p>
 * {@link io.quant4j.tokenizer.Tokenizers} reads a vocabulary from a GGUF file, a llama2.c tokenizer file or a
 * Hugging Face folder and returns a {@link io.quant4j.tokenizer.Tokenizer}: either SentencePiece-style BPE
 * (Llama 1/2, Mistral, TinyLlama, llama2.c models: {@code ▁} for spaces, byte-fallback tokens) or byte-level BPE
 * (Llama 3, Qwen2/3: GPT-2's byte alphabet after a regex pre-tokenizer). Both share one merge loop
 * ({@code SymbolMerger}) and llama.cpp's handling of special tokens. {@link io.quant4j.tokenizer.StreamingDecoder}
 * turns generated ids into text as they come.
 */
package io.quant4j.tokenizer;
