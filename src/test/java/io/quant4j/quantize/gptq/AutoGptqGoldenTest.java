package io.quant4j.quantize.gptq;

import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.ObjectMapper;
import io.quant4j.eval.GptqDatasets;
import io.quant4j.model.LlamaConfig;
import io.quant4j.model.ModelLoader;
import io.quant4j.model.ModelWeights;
import io.quant4j.runtime.LoadedModel;
import io.quant4j.testing.Shared;
import org.junit.jupiter.api.io.TempDir;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.CsvSource;

import java.io.IOException;
import java.lang.foreign.Arena;
import java.nio.ByteBuffer;
import java.nio.ByteOrder;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.HashMap;
import java.util.Map;

import static org.assertj.core.api.Assertions.assertThat;

/**
 * Golden check of the checkpoint layout: our qweight/qzeros/scales/g_idx are read back by a decoder written here from
 * the AutoGPTQ spec alone (its own safetensors parsing, AutoGPTQ's per-width unpacking rules including the 3-bit word
 * pattern, the +1 on v1 zeros, the rotate-half row order of q/k), and must give exactly the weights the quantizer
 * produced — and those must be close to the original weights.
 */
class AutoGptqGoldenTest {
    @TempDir
    Path tmp;

    /** A safetensors file parsed without quant4j's reader. */
    record RawTensors(JsonNode header, ByteBuffer data) {
        static RawTensors read(Path file) throws IOException {
            byte[] all = Files.readAllBytes(file);
            ByteBuffer b = ByteBuffer.wrap(all).order(ByteOrder.LITTLE_ENDIAN);
            int n = (int) b.getLong(0);
            JsonNode header = new ObjectMapper().readTree(new String(all, 8, n, java.nio.charset.StandardCharsets.UTF_8));
            return new RawTensors(header, b.slice(8 + n, all.length - 8 - n).order(ByteOrder.LITTLE_ENDIAN));
        }

        int[] shape(String name) {
            JsonNode s = header.get(name).get("shape");
            int[] out = new int[s.size()];
            for (int i = 0; i < out.length; i++) {
                out[i] = s.get(i).asInt();
            }
            return out;
        }

        String dtype(String name) {
            return header.get(name).get("dtype").asText();
        }

        int i32(String name, int index) {
            return data.getInt(header.get(name).get("data_offsets").get(0).asInt() + 4 * index);
        }

        float f16(String name, int index) {
            return Float.float16ToFloat(data.getShort(header.get(name).get("data_offsets").get(0).asInt() + 2 * index));
        }
    }

    /**
     * Value {@code i} of a packed run along one axis: AutoGPTQ's rules (qlinear pack loops), per width. {@code word}
     * gives the j-th int32 of the run's words.
     */
    static int unpack(java.util.function.IntUnaryOperator word, int i, int bits) {
        if (bits != 3) {
            int per = 32 / bits;
            return (word.applyAsInt(i / per) >>> (bits * (i % per))) & ((1 << bits) - 1);
        }
        int base = i / 32 * 3;
        int j = i % 32;
        int w0 = word.applyAsInt(base);
        int w1 = word.applyAsInt(base + 1);
        int w2 = word.applyAsInt(base + 2);
        if (j < 10) {
            return (w0 >>> (3 * j)) & 7;
        } else if (j == 10) {
            return ((w0 >>> 30) & 3) | ((w1 & 1) << 2);
        } else if (j < 21) {
            return (w1 >>> (3 * (j - 11) + 1)) & 7;
        } else if (j == 21) {
            return ((w1 >>> 31) & 1) | ((w2 & 3) << 1);
        } else {
            return (w2 >>> (3 * (j - 22) + 2)) & 7;
        }
    }

    /** W [out, in] of one module in Hugging Face row order, decoded as AutoGPTQ's dequantization does. */
    static float[][] decode(RawTensors t, String module, int bits, boolean v1) {
        String qw = module + ".qweight";
        String qz = module + ".qzeros";
        String sc = module + ".scales";
        String gi = module + ".g_idx";
        assertThat(t.dtype(qw)).isEqualTo("I32");
        assertThat(t.dtype(qz)).isEqualTo("I32");
        assertThat(t.dtype(sc)).isEqualTo("F16");
        assertThat(t.dtype(gi)).isEqualTo("I32");
        int out = t.shape(qw)[1];
        int in = t.shape(gi)[0];
        assertThat(t.shape(qw)[0]).isEqualTo(in / 32 * bits);
        int groups = t.shape(sc)[0];
        assertThat(t.shape(sc)).containsExactly(groups, out);
        assertThat(t.shape(qz)).containsExactly(groups, out / 32 * bits);
        float[][] w = new float[out][in];
        for (int n = 0; n < out; n++) {
            final int col = n;
            for (int k = 0; k < in; k++) {
                int q = unpack(j -> t.i32(qw, j * out + col), k, bits);
                int g = t.i32(gi, k);
                final int grow = g;
                int z = unpack(j -> t.i32(qz, grow * (out / 32 * bits) + j), n, bits) + (v1 ? 1 : 0);
                w[n][k] = t.f16(sc, g * out + n) * (q - z);
            }
        }
        return w;
    }

    @ParameterizedTest
    @CsvSource({
            "GPTQ, 4, 128, false, false, true",
            "GPTQ, 3, 32, true, false, true",
            "GPTQ, 2, 64, false, true, true",
            "GPTQ, 8, -1, true, true, false",
            "GPTQ, 4, 64, true, false, false",
            "RTN, 4, 32, false, false, true",
            "RTN, 8, -1, false, false, true",
            "RTN, 3, 128, false, false, false"})
    void independentDecoderGetsTheQuantizedWeightsBack(GptqOptions.Method method, int bits, int groupSize, boolean actOrder,
                                                       boolean staticGroups, boolean v1) throws IOException {
        Path src = Shared.file("golden/quant/synth-f32.gguf");
        Path out = tmp.resolve("ckpt");
        GptqOptions o = GptqOptions.gptq(bits, groupSize).withActOrder(actOrder).withStaticGroups(staticGroups).withSym(v1)
                .withMethod(method);
        Map<String, QuantizedLinear> produced = new HashMap<>();
        try (LoadedModel model = LoadedModel.load(src, null); Arena arena = Arena.ofConfined()) {
            String text = GptqDatasets.calibrationText("c4", Shared.root().resolve("data"));
            CalibrationSet calib = CalibrationSet.of("c4", text, model.tokenizer(), 4, 64, 0);
            GptqQuantizer.Result r = GptqQuantizer.quantize(model.weights(), calib, o, v1, (l, p) -> true, arena,
                    new GptqQuantizer.Listener() {
                        @Override
                        public void moduleDone(int layer, Projection p, QuantizedLinear q, double loss, long nanos) {
                            produced.put(p.moduleName(layer), q);
                        }
                    });
            GptqCheckpointWriter.write(out, model.weights(), null, model.tokenizer(), r, new GptqCheckpointWriter.Calibration("c4", 4, 64));
        }
        JsonNode qc = new ObjectMapper().readTree(out.resolve("quantize_config.json").toFile());
        assertThat(qc.get("bits").asInt()).isEqualTo(bits);
        assertThat(qc.get("group_size").asInt()).isEqualTo(groupSize);
        assertThat(qc.get("desc_act").asBoolean()).isEqualTo(actOrder);
        assertThat(qc.get("checkpoint_format").asText()).isEqualTo(v1 ? "gptq" : "gptq_v2");
        JsonNode config = new ObjectMapper().readTree(out.resolve("config.json").toFile());
        assertThat(config.get("quantization_config").get("quant_method").asText()).isEqualTo("gptq");
        assertThat(config.get("architectures").get(0).asText()).isEqualTo("LlamaForCausalLM");

        RawTensors t = RawTensors.read(out.resolve("model.safetensors"));
        assertThat(t.header().get("__metadata__").get("format").asText()).isEqualTo("pt");
        try (ModelWeights original = ModelLoader.loadWeights(src)) {
            LlamaConfig c = original.config();
            for (int l = 0; l < c.nLayers(); l++) {
                for (Projection p : Projection.values()) {
                    String name = p.moduleName(l);
                    float[][] w = decode(t, name, bits, v1);
                    QuantizedLinear q = produced.get(name);
                    float[] orig = FloatLayer.dequantize(p.of(original.weights().layers().get(l)));
                    double err = 0;
                    double norm = 0;
                    for (int n = 0; n < w.length; n++) {
                        int row = p.ropePermuted() ? interleavedRow(n, c.headDim()) : n;
                        for (int k = 0; k < w[n].length; k++) {
                            assertThat(w[n][k]).as("%s [%d, %d]", name, n, k).isEqualTo(q.value(row, k));
                            double d = w[n][k] - orig[row * w[n].length + k];
                            err += d * d;
                            norm += (double) orig[row * w[n].length + k] * orig[row * w[n].length + k];
                        }
                    }
                    // Rounding alone stays close to the weights; GPTQ moves weights where the Hessian is small (it
                    // minimizes the layer's output error, not the weight error), so only RTN is held to a bound.
                    double limit = method == GptqOptions.Method.GPTQ ? Double.MAX_VALUE : bits == 8 ? 0.03 : bits == 4 ? 0.3 : 0.6;
                    assertThat(Math.sqrt(err / norm)).as("%s relative error", name).isLessThan(limit);
                }
            }
        }
    }

    /** HF rotate-half row n of a head ↔ the interleaved row holding the same feature (written independently). */
    static int interleavedRow(int n, int headDim) {
        int half = headDim / 2;
        int head = n / headDim;
        int within = n % headDim;
        int j = within / half;
        int i = within % half;
        return head * headDim + 2 * i + j;
    }
}
