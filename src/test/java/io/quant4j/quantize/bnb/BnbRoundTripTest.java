package io.quant4j.quantize.bnb;

import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.ObjectMapper;
import io.quant4j.model.LlamaSession;
import io.quant4j.model.ModelWeights;
import io.quant4j.quantize.HuggingFaceConfigWriter;
import io.quant4j.runtime.LoadedModel;
import io.quant4j.testing.Shared;
import org.junit.jupiter.api.io.TempDir;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.CsvSource;

import java.io.IOException;
import java.nio.ByteBuffer;
import java.nio.ByteOrder;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;

import static org.assertj.core.api.Assertions.assertThat;

/**
 * Save → load of bitsandbytes models gives the logits of the model quantized at load, and the saved tensors decode,
 * read with a parser written here from the bitsandbytes layout, to the weights the loaded model computes with.
 */
class BnbRoundTripTest {
    @TempDir
    Path tmp;

    @ParameterizedTest
    @CsvSource({"8, int8, false, 64", "4, nf4, false, 64", "4, nf4, true, 64", "4, fp4, true, 128"})
    void savedModelGivesTheSameLogits(int bits, String type, boolean dq, int blocksize) throws IOException {
        Path src = Shared.file("models/stories260K/hf");
        BnbOptions o = bits == 8 ? BnbOptions.int8(6f) : BnbOptions.fourBit(type, dq, blocksize);
        Path out = tmp.resolve("bnb");
        int[] prompt;
        float[][] expected;
        try (LoadedModel source = LoadedModel.load(src, null)) {
            ModelWeights q = BnbModel.quantize(source.weights(), o);
            LoadedModel quantized = source.withWeights(q);
            prompt = quantized.tokenizer().encode("Once upon a time, a little girl", true, false);
            expected = logits(quantized, prompt);
            BnbCheckpointWriter.write(out, q, o, "float32", src, HuggingFaceConfigWriter.llama(q.config(), q.weights(), src, source.tokenizer()));
        }
        JsonNode qc = new ObjectMapper().readTree(out.resolve("config.json").toFile()).get("quantization_config");
        assertThat(qc.get("quant_method").asText()).isEqualTo("bitsandbytes");
        assertThat(qc.get(bits == 8 ? "load_in_8bit" : "load_in_4bit").asBoolean()).isTrue();
        try (LoadedModel loaded = LoadedModel.load(out, null)) {
            float[][] actual = logits(loaded, prompt);
            // Same bytes, same kernels: equal up to the last-bit differences between JIT tiers of the Vector API.
            for (int t = 0; t < prompt.length; t++) {
                float max = 0;
                for (float v : expected[t]) {
                    max = Math.max(max, Math.abs(v));
                }
                for (int i = 0; i < expected[t].length; i++) {
                    assertThat(actual[t][i]).as("position %d logit %d", t, i).isCloseTo(expected[t][i],
                            org.assertj.core.api.Assertions.within(1e-5f * max));
                }
            }
            if (bits == 4) {
                checkRawDecoding(out.resolve("model.safetensors"), loaded, type, dq, blocksize);
            }
        }
    }

    private static float[][] logits(LoadedModel m, int[] prompt) {
        LlamaSession s = m.llama().newSession(prompt.length);
        float[][] out = new float[prompt.length][];
        for (int t = 0; t < prompt.length; t++) {
            out[t] = s.forward(prompt[t]).clone();
        }
        return out;
    }

    /** v_proj of layer 1 (no row reordering), decoded from the raw file: high nibble first, code·absmax per block. */
    private static void checkRawDecoding(Path file, LoadedModel loaded, String type, boolean dq, int blocksize) throws IOException {
        byte[] all = Files.readAllBytes(file);
        ByteBuffer b = ByteBuffer.wrap(all).order(ByteOrder.LITTLE_ENDIAN);
        int n = (int) b.getLong(0);
        JsonNode h = new ObjectMapper().readTree(new String(all, 8, n, StandardCharsets.UTF_8));
        int base = 8 + n;
        String w = "model.layers.1.self_attn.v_proj.weight";
        JsonNode state = new ObjectMapper().readTree(new String(bytes(all, h, base, w + ".quant_state.bitsandbytes__" + type), StandardCharsets.UTF_8));
        assertThat(state.get("blocksize").asInt()).isEqualTo(blocksize);
        int rows = state.get("shape").get(0).asInt();
        int cols = state.get("shape").get(1).asInt();
        byte[] packed = bytes(all, h, base, w);
        ByteBuffer map = ByteBuffer.wrap(bytes(all, h, base, w + ".quant_map")).order(ByteOrder.LITTLE_ENDIAN);
        ByteBuffer absmax = ByteBuffer.wrap(bytes(all, h, base, w + ".absmax")).order(ByteOrder.LITTLE_ENDIAN);
        float[] row = new float[cols];
        for (int r = 0; r < rows; r++) {
            loaded.weights().weights().layers().get(1).attnV().dequantizeRow(r, row, 0);
            for (int j = 0; j < cols; j++) {
                int flat = r * cols + j;
                int nibble = (packed[flat / 2] >> (flat % 2 == 0 ? 4 : 0)) & 15;
                float scale;
                if (dq) {
                    ByteBuffer nested = ByteBuffer.wrap(bytes(all, h, base, w + ".nested_absmax")).order(ByteOrder.LITTLE_ENDIAN);
                    ByteBuffer nmap = ByteBuffer.wrap(bytes(all, h, base, w + ".nested_quant_map")).order(ByteOrder.LITTLE_ENDIAN);
                    int block = flat / blocksize;
                    int code = absmax.get(block) & 0xFF;
                    scale = nmap.getFloat(4 * code) * nested.getFloat(4 * (block / state.get("nested_blocksize").asInt()))
                            + (float) state.get("nested_offset").asDouble();
                } else {
                    scale = absmax.getFloat(4 * (flat / blocksize));
                }
                assertThat(row[j]).isEqualTo(map.getFloat(4 * nibble) * scale);
            }
        }
    }

    private static byte[] bytes(byte[] all, JsonNode h, int base, String name) {
        JsonNode o = h.get(name).get("data_offsets");
        return java.util.Arrays.copyOfRange(all, base + o.get(0).asInt(), base + o.get(1).asInt());
    }
}
