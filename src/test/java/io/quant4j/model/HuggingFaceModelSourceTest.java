package io.quant4j.model;

import com.fasterxml.jackson.databind.node.ObjectNode;
import io.quant4j.format.Json;
import io.quant4j.format.ModelFormatException;
import io.quant4j.format.safetensors.SafetensorsDtype;
import io.quant4j.format.safetensors.SafetensorsFile;
import io.quant4j.format.safetensors.SafetensorsTensorInfo;
import io.quant4j.format.safetensors.SafetensorsWriter;
import io.quant4j.tensor.GgmlType;
import io.quant4j.testing.Shared;
import org.junit.jupiter.api.AfterAll;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

import java.io.IOException;
import java.lang.foreign.Arena;
import java.lang.foreign.MemorySegment;
import java.lang.foreign.ValueLayout;
import java.nio.ByteOrder;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.List;
import java.util.function.Consumer;
import java.util.function.Predicate;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

/** Hugging Face folders derived from stories260K/hf: config handling, tensor problems, sharding, F16, untied heads. */
class HuggingFaceModelSourceTest {
    private static final int[] PROMPT = {1, 403, 407, 261, 378};
    private static final ValueLayout.OfFloat F32 = ValueLayout.JAVA_FLOAT_UNALIGNED.withOrder(ByteOrder.LITTLE_ENDIAN);
    private static final ValueLayout.OfShort I16 = ValueLayout.JAVA_SHORT_UNALIGNED.withOrder(ByteOrder.LITTLE_ENDIAN);

    static Path source;
    static SafetensorsFile original;
    static List<float[]> reference;

    @TempDir
    Path tmp;

    @BeforeAll
    static void reference() {
        source = Shared.file("models/stories260K/hf");
        original = SafetensorsFile.open(source.resolve("model.safetensors"));
        try (ModelWeights w = ModelLoader.loadWeights(Shared.file("models/stories260K/stories260K.gguf"))) {
            reference = logits(w);
        }
    }

    @AfterAll
    static void closeOriginal() {
        if (original != null) {
            original.close();
        }
    }

    static List<float[]> logits(ModelWeights w) {
        LlamaSession s = new Llama(w.config(), w.weights()).newSession(PROMPT.length);
        List<float[]> out = new ArrayList<>();
        for (int t : PROMPT) {
            out.add(s.forward(t).clone());
        }
        return out;
    }

    static double maxDifference(List<float[]> a, List<float[]> b) {
        double max = 0;
        for (int i = 0; i < a.size(); i++) {
            for (int j = 0; j < a.get(i).length; j++) {
                max = Math.max(max, Math.abs(a.get(i)[j] - b.get(i)[j]));
            }
        }
        return max;
    }

    /** A folder with config.json edited by {@code config} and the tensors {@code keep} selects, added to by {@code extra}. */
    Path folder(Consumer<ObjectNode> config, Predicate<String> keep, Consumer<SafetensorsWriter> extra) throws IOException {
        Path dir = Files.createDirectories(tmp.resolve("m" + System.nanoTime()));
        ObjectNode c = (ObjectNode) Json.readObjectFile(source.resolve("config.json"), 1 << 20);
        config.accept(c);
        Files.write(dir.resolve("config.json"), Json.mapper().writeValueAsBytes(c));
        SafetensorsWriter w = new SafetensorsWriter();
        for (SafetensorsTensorInfo t : original.tensors().values()) {
            if (keep.test(t.name())) {
                w.add(t.name(), t.dtype(), t.shape(), original.data(t));
            }
        }
        extra.accept(w);
        w.write(dir.resolve("model.safetensors"));
        return dir;
    }

    Path folderWithConfig(Consumer<ObjectNode> config) throws IOException {
        return folder(config, n -> true, w -> {
        });
    }

    private static void assertRejected(Path file, Path dir, String problem) {
        assertThatThrownBy(() -> ModelLoader.loadWeights(dir)).isInstanceOf(ModelFormatException.class).hasMessage(file + ": " + problem);
    }

    // --- config.json ---

    @Test
    void badJsonInConfig() throws IOException {
        Path dir = folderWithConfig(c -> {
        });
        Files.writeString(dir.resolve("config.json"), "{\"model_type\": \"llama\", ");
        assertThatThrownBy(() -> ModelLoader.loadWeights(dir)).isInstanceOf(ModelFormatException.class)
                .hasMessageStartingWith(dir.resolve("config.json") + ": not valid JSON: ");
    }

    @Test
    void missingConfig() throws IOException {
        Path dir = folderWithConfig(c -> {
        });
        Files.delete(dir.resolve("config.json"));
        assertRejected(dir.resolve("config.json"), dir, "no such file");
    }

    @Test
    void missingKey() throws IOException {
        Path dir = folderWithConfig(c -> c.remove("hidden_size"));
        assertRejected(dir.resolve("config.json"), dir, "missing key 'hidden_size'");
    }

    @Test
    void keyOfTheWrongType() throws IOException {
        Path dir = folderWithConfig(c -> c.put("num_hidden_layers", "5"));
        assertRejected(dir.resolve("config.json"), dir, "'num_hidden_layers' must be an integer in [1, 4096], got '\"5\"'");
    }

    @Test
    void unsupportedModelType() throws IOException {
        Path dir = folderWithConfig(c -> c.put("model_type", "gpt2"));
        assertThatThrownBy(() -> ModelLoader.loadWeights(dir)).isInstanceOf(ModelFormatException.class)
                .hasMessageStartingWith(dir.resolve("config.json") + ": 'model_type' is 'gpt2'; quant4j loads");
    }

    @Test
    void quantizedCheckpointIsRefusedByName() throws IOException {
        Path dir = folderWithConfig(c -> c.putObject("quantization_config").put("quant_method", "awq"));
        assertRejected(dir.resolve("config.json"), dir,
                "'quantization_config' declares a quantized checkpoint (quant_method 'awq'), which quant4j does not read (it reads gptq, bitsandbytes)");
    }

    @Test
    void biasesAreRefused() throws IOException {
        Path dir = folderWithConfig(c -> c.put("attention_bias", true));
        assertRejected(dir.resolve("config.json"), dir, "'attention_bias' is true; quant4j's Llama has no bias terms");
    }

    @Test
    void inconsistentHeadCounts() throws IOException {
        Path dir = folderWithConfig(c -> c.put("num_key_value_heads", 3));
        assertRejected(dir.resolve("config.json"), dir, "inconsistent hyper-parameters: head count 8 is not a multiple of the KV head count 3");
    }

    @Test
    void ropeScalingVariants() {
        Path f = Path.of("config.json");
        ObjectNode base = Json.mapper().createObjectNode().put("model_type", "llama").put("hidden_size", 64).put("intermediate_size", 172)
                .put("num_hidden_layers", 1).put("num_attention_heads", 8).put("vocab_size", 512);
        LlamaConfig plain = HuggingFaceConfig.parse(f, base).config();
        assertThat(plain.ropeScaling()).isEqualTo(RopeScaling.NONE);
        assertThat(plain.rmsNormEps()).isEqualTo(1e-6f); // transformers' defaults for absent keys
        assertThat(plain.ropeTheta()).isEqualTo(10000f);
        assertThat(plain.contextLength()).isEqualTo(2048);
        assertThat(plain.nKvHeads()).isEqualTo(8);

        ObjectNode llama3 = base.deepCopy();
        llama3.putObject("rope_scaling").put("rope_type", "llama3").put("factor", 8.0).put("low_freq_factor", 1.0)
                .put("high_freq_factor", 4.0).put("original_max_position_embeddings", 8192);
        assertThat(HuggingFaceConfig.parse(f, llama3).config().ropeScaling()).isEqualTo(RopeScaling.llama3(8f, 1f, 4f, 8192));

        ObjectNode linear = base.deepCopy();
        linear.putObject("rope_scaling").put("type", "linear").put("factor", 2.0);
        assertThat(HuggingFaceConfig.parse(f, linear).config().ropeScaling()).isEqualTo(RopeScaling.linear(2f));

        ObjectNode yarn = base.deepCopy();
        yarn.putObject("rope_scaling").put("rope_type", "yarn").put("factor", 2.0);
        assertThatThrownBy(() -> HuggingFaceConfig.parse(f, yarn)).isInstanceOf(ModelFormatException.class)
                .hasMessage("config.json: 'rope_scaling.rope_type' 'yarn' is not supported (quant4j supports default, linear and llama3)");

        ObjectNode incomplete = base.deepCopy();
        incomplete.putObject("rope_scaling").put("rope_type", "llama3").put("factor", 8.0);
        assertThatThrownBy(() -> HuggingFaceConfig.parse(f, incomplete)).isInstanceOf(ModelFormatException.class)
                .hasMessage("config.json: missing key 'rope_scaling.low_freq_factor'");

        ObjectNode mistral = base.deepCopy().put("model_type", "mistral").put("max_position_embeddings", 32768).put("sliding_window", 4096);
        assertThat(HuggingFaceConfig.parse(f, mistral).config().contextLength()).isEqualTo(4096);
    }

    // --- tensors ---

    @Test
    void shapeThatDoesNotMatchTheConfig() throws IOException {
        Path dir = folderWithConfig(c -> c.put("intermediate_size", 171));
        assertRejected(dir.resolve("model.safetensors"), dir, "tensor 'model.layers.0.mlp.gate_proj.weight' has shape [172, 64], expected [171, 64]");
    }

    @Test
    void missingTensor() throws IOException {
        Path dir = folder(c -> {
        }, n -> !n.equals("model.norm.weight"), w -> {
        });
        assertRejected(dir.resolve("model.safetensors"), dir, "missing tensor 'model.norm.weight'");
    }

    @Test
    void wrongDtype() throws IOException {
        Path dir = folder(c -> {
        }, n -> !n.equals("model.norm.weight"), w -> w.add("model.norm.weight", SafetensorsDtype.I32, new long[]{64}, Arena.ofAuto().allocate(256)));
        assertRejected(dir.resolve("model.safetensors"), dir, "tensor 'model.norm.weight' has dtype I32, expected F32, F16 or BF16");
    }

    @Test
    void biasTensorsAreRefused() throws IOException {
        Path dir = folder(c -> {
        }, n -> true, w -> w.add("model.layers.0.self_attn.q_proj.bias", SafetensorsDtype.F32, new long[]{64}, Arena.ofAuto().allocate(256)));
        assertRejected(dir.resolve("model.safetensors"), dir, "tensor 'model.layers.0.self_attn.q_proj.bias' is a bias; quant4j's Llama has no bias terms");
    }

    @Test
    void untiedHeadNeedsLmHead() throws IOException {
        Path dir = folderWithConfig(c -> c.put("tie_word_embeddings", false));
        assertRejected(dir.resolve("model.safetensors"), dir, "missing tensor 'lm_head.weight'");
    }

    @Test
    void untiedHeadIsReadFromLmHead() throws IOException {
        Path dir = folder(c -> c.put("tie_word_embeddings", false), n -> true,
                w -> w.add("lm_head.weight", SafetensorsDtype.F32, new long[]{512, 64}, original.data("model.embed_tokens.weight")));
        try (ModelWeights w = ModelLoader.loadWeights(dir)) {
            assertThat(w.weights().tiedEmbeddings()).isFalse();
            assertThat(maxDifference(logits(w), reference)).isLessThan(1e-4);
        }
    }

    @Test
    void halfPrecisionCheckpointLoadsAndStaysClose() throws IOException {
        for (SafetensorsDtype dtype : new SafetensorsDtype[]{SafetensorsDtype.F16, SafetensorsDtype.BF16}) {
            Path dir = folder(c -> {
            }, n -> false, w -> {
                for (SafetensorsTensorInfo t : original.tensors().values()) {
                    w.add(t.name(), dtype, t.shape(), toHalf(original.data(t), dtype));
                }
            });
            try (ModelWeights w = ModelLoader.loadWeights(dir)) {
                GgmlType expected = dtype.ggmlType().orElseThrow();
                assertThat(w.weights().layers().getFirst().attnQ().type()).isEqualTo(expected);
                assertThat(w.weights().layers().getFirst().attnK().type()).isEqualTo(expected);
                double diff = maxDifference(logits(w), reference);
                assertThat(diff).as(dtype + " vs F32").isLessThan(dtype == SafetensorsDtype.F16 ? 0.05 : 0.5).isGreaterThan(0);
            }
        }
    }

    private static MemorySegment toHalf(MemorySegment f32, SafetensorsDtype dtype) {
        long n = f32.byteSize() / 4;
        MemorySegment out = Arena.ofAuto().allocate(2 * n);
        for (long i = 0; i < n; i++) {
            float v = f32.getAtIndex(F32, i);
            out.setAtIndex(I16, i, dtype == SafetensorsDtype.F16 ? Float.floatToFloat16(v) : io.quant4j.tensor.Fp16.floatToBf16(v));
        }
        return out;
    }

    // --- sharded checkpoints ---

    /** Writes the tensors into two shards and an index; {@code edit} may damage the index JSON. */
    Path sharded(Consumer<ObjectNode> edit) throws IOException {
        Path dir = Files.createDirectories(tmp.resolve("sharded" + System.nanoTime()));
        Files.copy(source.resolve("config.json"), dir.resolve("config.json"));
        SafetensorsWriter a = new SafetensorsWriter().metadata("format", "pt");
        SafetensorsWriter b = new SafetensorsWriter().metadata("format", "pt");
        ObjectNode index = Json.mapper().createObjectNode();
        index.putObject("metadata").put("total_size", original.fileSize() - original.dataOffset());
        ObjectNode map = index.putObject("weight_map");
        int i = 0;
        for (SafetensorsTensorInfo t : original.tensors().values()) {
            boolean first = i++ % 2 == 0;
            (first ? a : b).add(t.name(), t.dtype(), t.shape(), original.data(t));
            map.put(t.name(), first ? "model-00001-of-00002.safetensors" : "model-00002-of-00002.safetensors");
        }
        a.write(dir.resolve("model-00001-of-00002.safetensors"));
        b.write(dir.resolve("model-00002-of-00002.safetensors"));
        edit.accept(index);
        Files.write(dir.resolve("model.safetensors.index.json"), Json.mapper().writeValueAsBytes(index));
        return dir;
    }

    @Test
    void shardedCheckpointGivesTheSameModel() throws IOException {
        Path dir = sharded(i -> {
        });
        try (ModelWeights w = ModelLoader.loadWeights(dir)) {
            assertThat(w.format()).isEqualTo("Hugging Face safetensors (2 shards)");
            assertThat(w.tensors()).hasSize(47);
            assertThat(maxDifference(logits(w), reference)).isLessThan(1e-4);
        }
    }

    @Test
    void indexNamingAMissingShard() throws IOException {
        Path dir = sharded(i -> ((ObjectNode) i.get("weight_map")).put("model.norm.weight", "model-00003-of-00002.safetensors"));
        assertRejected(dir.resolve("model-00003-of-00002.safetensors"), dir, "no such file");
    }

    @Test
    void indexMayNotLeaveTheFolder() throws IOException {
        Path dir = sharded(i -> ((ObjectNode) i.get("weight_map")).put("model.norm.weight", "../model-00001-of-00002.safetensors"));
        assertRejected(dir.resolve("model.safetensors.index.json"), dir,
                "weight_map sends tensor 'model.norm.weight' to '../model-00001-of-00002.safetensors', which is not a file name in the same folder");
    }

    @Test
    void indexPlacingATensorInTheWrongShard() throws IOException {
        // sharded() alternates tensors between the shards, so the second tensor lives in the second shard
        String second = new ArrayList<>(original.tensors().keySet()).get(1);
        Path dir = sharded(i -> ((ObjectNode) i.get("weight_map")).put(second, "model-00001-of-00002.safetensors"));
        assertRejected(dir.resolve("model-00001-of-00002.safetensors"), dir,
                "does not hold tensor '" + second + "' that model.safetensors.index.json places there");
    }

    @Test
    void folderWithoutWeights() throws IOException {
        Path dir = folderWithConfig(c -> {
        });
        Files.delete(dir.resolve("model.safetensors"));
        assertRejected(dir, dir, "holds neither model.safetensors nor model.safetensors.index.json");
    }
}
