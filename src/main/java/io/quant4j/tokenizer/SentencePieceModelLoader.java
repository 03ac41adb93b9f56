package io.quant4j.tokenizer;

import io.quant4j.format.ModelFormatException;

import java.nio.ByteBuffer;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.List;

/**
 * Reads a SentencePiece {@code tokenizer.model} (ModelProto): field 1 pieces {1 piece, 2 score, 3 type}, field 2
 * trainer_spec {3 model_type, 40 unk_id, 41 bos_id, 42 eos_id, 43 pad_id}, field 3 normalizer_spec
 * {3 add_dummy_prefix}. Only BPE models are supported (Llama's); unigram ones are refused.
 */
final class SentencePieceModelLoader {
    private static final int MODEL_TYPE_UNIGRAM = 1;
    private static final int MODEL_TYPE_BPE = 2;

    private SentencePieceModelLoader() {
    }

    static Tokenizer load(Path file, Boolean addBosOverride) {
        ProtobufReader model = new ProtobufReader(file, ByteBuffer.wrap(Llama2cTokenizerLoader.readAll(file)));
        List<String> texts = new ArrayList<>();
        List<Float> scores = new ArrayList<>();
        List<TokenType> types = new ArrayList<>();
        int modelType = MODEL_TYPE_UNIGRAM; // the protobuf default
        int unk = 0, bos = 1, eos = 2, pad = -1;
        boolean addDummyPrefix = true;
        boolean sawTrainerSpec = false;
        while (model.hasMore()) {
            switch (model.nextField()) {
                case 1 -> {
                    ProtobufReader piece = model.message();
                    String text = null;
                    float score = 0;
                    TokenType type = TokenType.NORMAL;
                    while (piece.hasMore()) {
                        switch (piece.nextField()) {
                            case 1 -> text = piece.string();
                            case 2 -> score = piece.fixed32Float();
                            case 3 -> type = sentencePieceType((int) piece.varintField());
                            default -> piece.skip();
                        }
                    }
                    if (text == null) {
                        throw new ModelFormatException(file, "piece #" + texts.size() + " has no text");
                    }
                    texts.add(text);
                    scores.add(score);
                    types.add(type);
                }
                case 2 -> {
                    sawTrainerSpec = true;
                    ProtobufReader spec = model.message();
                    while (spec.hasMore()) {
                        switch (spec.nextField()) {
                            case 3 -> modelType = (int) spec.varintField();
                            case 40 -> unk = (int) spec.varintField();
                            case 41 -> bos = (int) spec.varintField();
                            case 42 -> eos = (int) spec.varintField();
                            case 43 -> pad = (int) spec.varintField();
                            default -> spec.skip();
                        }
                    }
                }
                case 3 -> {
                    ProtobufReader normalizer = model.message();
                    while (normalizer.hasMore()) {
                        if (normalizer.nextField() == 3) {
                            addDummyPrefix = normalizer.varintField() != 0;
                        } else {
                            normalizer.skip();
                        }
                    }
                }
                default -> model.skip();
            }
        }
        if (texts.isEmpty()) {
            throw new ModelFormatException(file, "no pieces: not a SentencePiece model?");
        }
        if (sawTrainerSpec && modelType != MODEL_TYPE_BPE) {
            throw new ModelFormatException(file, "SentencePiece model type " + modelType
                    + " is not supported (quant4j reads BPE models, type " + MODEL_TYPE_BPE + ")");
        }
        int n = texts.size();
        float[] scoreArray = new float[n];
        for (int i = 0; i < n; i++) {
            scoreArray[i] = scores.get(i);
        }
        boolean addBos = addBosOverride != null ? addBosOverride : true;
        SpecialIds ids = new SpecialIds(bos, eos, -1, -1, unk, pad, addBos);
        Vocabulary vocab = new Vocabulary(file, texts.toArray(String[]::new), scoreArray, types.toArray(TokenType[]::new), ids);
        return SentencePieceTokenizer.scoreRanked(vocab, addDummyPrefix);
    }

    /** SentencePiece's piece types use the same numbers as GGUF's token types. */
    private static TokenType sentencePieceType(int type) {
        return TokenType.fromId(type);
    }
}
