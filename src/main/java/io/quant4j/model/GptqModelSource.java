package io.quant4j.model;

import com.fasterxml.jackson.databind.JsonNode;
import io.quant4j.format.Json;
import io.quant4j.format.ModelFormatException;
import io.quant4j.format.safetensors.SafetensorsCheckpoint;
import io.quant4j.format.safetensors.SafetensorsDtype;
import io.quant4j.format.safetensors.SafetensorsFile;
import io.quant4j.format.safetensors.SafetensorsTensorInfo;
import io.quant4j.tensor.WeightMatrix;
import io.quant4j.tensor.gptq.GptqLayer;
import io.quant4j.tensor.gptq.GptqPacking;

import java.lang.foreign.Arena;
import java.lang.foreign.MemorySegment;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.Arrays;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;

import static io.quant4j.format.ModelFormatException.quote;

/**
 * Loads an AutoGPTQ / transformers / GPTQModel GPTQ checkpoint folder for inference: quantized projections become
 * {@link io.quant4j.tensor.gptq.GptqMatrix} views of the mapped {@code qweight}/{@code qzeros}/{@code scales}
 * (v1 or v2 zeros, 2/3/4/8 bits, any g_idx order), the rest loads as in {@link HuggingFaceModelSource}. Every
 * quantized tensor's dtype and shape is checked against the bits and group size the config declares, and the
 * config's list of quantized modules against the tensors present, so a checkpoint whose config disagrees with its
 * tensors is refused by name. q/k output features are reordered into quant4j's interleaved RoPE order (copied).
 */
final class GptqModelSource {
    private static final String[] MODULES = {"self_attn.q_proj", "self_attn.k_proj", "self_attn.v_proj", "self_attn.o_proj",
            "mlp.gate_proj", "mlp.down_proj", "mlp.up_proj"};

    private GptqModelSource() {
    }

    static boolean isGptq(Path dir, HuggingFaceConfig hf) {
        if (hf.quantization() != null) {
            return "gptq".equals(hf.quantization().path("quant_method").asText());
        }
        return Files.isRegularFile(dir.resolve("quantize_config.json"));
    }

    static ModelWeights load(Path dir, HuggingFaceConfig hf) {
        Path configFile = dir.resolve(HuggingFaceConfig.FILE_NAME);
        Path extraFile = dir.resolve("quantize_config.json");
        JsonNode extra = Files.isRegularFile(extraFile) ? Json.readObjectFile(extraFile, 1 << 20) : null;
        GptqCheckpointConfig q = GptqCheckpointConfig.parse(configFile, hf.quantization(), extraFile, extra);
        SafetensorsCheckpoint ckpt = open(dir, q);
        Arena arena = Arena.ofShared();
        try {
            LlamaConfig c = hf.config();
            HuggingFaceModelSource.refuseBiases(ckpt);
            if (ckpt.hasTensor("lm_head.qweight")) {
                throw new ModelFormatException(ckpt.fileOf("lm_head.qweight").path(), "holds a quantized lm_head, which quant4j does not support");
            }
            List<LlamaWeights.Layer> layers = new ArrayList<>();
            int quantized = 0;
            for (int i = 0; i < c.nLayers(); i++) {
                String p = "model.layers." + i + ".";
                WeightMatrix[] m = new WeightMatrix[MODULES.length];
                for (int j = 0; j < MODULES.length; j++) {
                    m[j] = projection(ckpt, q, c, i, MODULES[j], arena);
                    if (m[j].type() == null) {
                        quantized++;
                    }
                }
                layers.add(new LlamaWeights.Layer(
                        HuggingFaceModelSource.vector(ckpt, p + "input_layernorm.weight", c.dim()),
                        m[0], m[1], m[2], m[3],
                        HuggingFaceModelSource.vector(ckpt, p + "post_attention_layernorm.weight", c.dim()),
                        m[4], m[5], m[6]));
            }
            WeightMatrix embedding = HuggingFaceModelSource.matrix(ckpt, "model.embed_tokens.weight", c.vocabSize(), c.dim());
            WeightMatrix output = hf.tieWordEmbeddings() ? embedding : HuggingFaceModelSource.matrix(ckpt, "lm_head.weight", c.vocabSize(), c.dim());
            LlamaWeights weights = new LlamaWeights(embedding, List.copyOf(layers),
                    HuggingFaceModelSource.vector(ckpt, "model.norm.weight", c.dim()), output);
            String format = "GPTQ " + q.bits() + "-bit " + (q.groupSize() == -1 ? "per-channel" : "g" + q.groupSize())
                    + " (" + q.format() + ", " + quantized + " of " + c.nLayers() * MODULES.length + " projections quantized)";
            Map<String, String> metadata = new LinkedHashMap<>(hf.display());
            metadata.putAll(HuggingFaceModelSource.metadataOf(ckpt));
            return new ModelWeights(format, c, weights, metadata, HuggingFaceModelSource.tensorTable(ckpt), List.of(ckpt, arena));
        } catch (RuntimeException e) {
            arena.close();
            ckpt.close();
            throw e;
        }
    }

    /** model.safetensors / the index, else AutoGPTQ's {@code <model_file_base_name>.safetensors}. */
    private static SafetensorsCheckpoint open(Path dir, GptqCheckpointConfig q) {
        if (q.fileBaseName() != null && !Files.exists(dir.resolve(SafetensorsCheckpoint.SINGLE_FILE_NAME))) {
            Path named = dir.resolve(q.fileBaseName() + ".safetensors");
            if (Files.isRegularFile(named) && named.getParent().equals(dir)) {
                return SafetensorsCheckpoint.openFile(named);
            }
        }
        return SafetensorsCheckpoint.openFolder(dir);
    }

    private static WeightMatrix projection(SafetensorsCheckpoint ckpt, GptqCheckpointConfig q, LlamaConfig c, int layer,
                                           String module, Arena arena) {
        String name = "model.layers." + layer + "." + module;
        HfProjection p = HfProjection.of(module, c);
        int out = p.out();
        int in = p.in();
        GptqCheckpointConfig.ModuleSettings s = q.module(layer, module);
        boolean hasQ = ckpt.hasTensor(name + ".qweight");
        if (!s.quantized()) {
            if (hasQ) {
                throw new ModelFormatException(ckpt.fileOf(name + ".qweight").path(), "holds " + quote(name + ".qweight")
                        + " but " + q.file().getFileName() + " leaves " + quote(name) + " unquantized (dynamic / modules_in_block_to_quantize)");
            }
            return p.floatMatrix(ckpt, name + ".weight", c, arena);
        }
        if (!hasQ) {
            if (ckpt.hasTensor(name + ".weight")) {
                throw new ModelFormatException(ckpt.fileOf(name + ".weight").path(), "holds a float " + quote(name + ".weight")
                        + " but " + q.file().getFileName() + " declares " + quote(name) + " quantized (no .qweight)");
            }
            throw new ModelFormatException(ckpt.source(), "missing tensor " + quote(name + ".qweight"));
        }
        int bits = s.bits();
        int groups = s.groupSize() == -1 ? 1 : Math.ceilDiv(in, s.groupSize());
        String hint = " (config: " + bits + " bits, group size " + s.groupSize() + ", " + in + " in x " + out + " out features)";
        MemorySegment qweight = tensor(ckpt, name + ".qweight", SafetensorsDtype.I32, hint, GptqPacking.words(in, bits), out);
        MemorySegment qzeros = tensor(ckpt, name + ".qzeros", SafetensorsDtype.I32, hint, groups, GptqPacking.words(out, bits));
        MemorySegment scales = tensor(ckpt, name + ".scales", SafetensorsDtype.F16, hint, groups, out);
        int[] gIdx = new int[in];
        if (ckpt.hasTensor(name + ".g_idx")) {
            MemorySegment g = tensor(ckpt, name + ".g_idx", SafetensorsDtype.I32, hint, in);
            for (int k = 0; k < in; k++) {
                gIdx[k] = g.get(GptqPacking.I32, 4L * k);
                if (gIdx[k] < 0 || gIdx[k] >= groups) {
                    throw new ModelFormatException(ckpt.fileOf(name + ".g_idx").path(), "tensor " + quote(name + ".g_idx") + " sends input " + k
                            + " to group " + gIdx[k] + ", outside 0.." + (groups - 1) + hint);
                }
            }
        } else {
            for (int k = 0; k < in; k++) {
                gIdx[k] = s.groupSize() == -1 ? 0 : k / s.groupSize();
            }
        }
        GptqLayer layerTensors = new GptqLayer(bits, out, in, groups, qweight, qzeros, scales, gIdx, q.zeroOffset());
        if (p.rope()) {
            layerTensors = layerTensors.permuteOutputs(p.rowOf(c), arena);
        }
        return layerTensors.matrix(arena);
    }

    private static MemorySegment tensor(SafetensorsCheckpoint ckpt, String name, SafetensorsDtype dtype, String hint, long... shape) {
        SafetensorsFile f = ckpt.fileOf(name);
        SafetensorsTensorInfo t = f.tensor(name);
        if (t.dtype() != dtype) {
            throw new ModelFormatException(f.path(), "tensor " + quote(name) + " has dtype " + t.dtype() + ", expected " + dtype);
        }
        if (!Arrays.equals(t.shape(), shape)) {
            throw new ModelFormatException(f.path(), "tensor " + quote(name) + " has shape " + t.shapeString() + ", expected "
                    + Arrays.toString(shape) + hint);
        }
        return f.data(t);
    }
}
