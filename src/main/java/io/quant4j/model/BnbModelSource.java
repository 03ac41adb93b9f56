package io.quant4j.model;

import com.fasterxml.jackson.databind.JsonNode;
import io.quant4j.format.Json;
import io.quant4j.format.ModelFormatException;
import io.quant4j.format.safetensors.SafetensorsCheckpoint;
import io.quant4j.format.safetensors.SafetensorsDtype;
import io.quant4j.format.safetensors.SafetensorsFile;
import io.quant4j.format.safetensors.SafetensorsTensorInfo;
import io.quant4j.tensor.WeightMatrix;
import io.quant4j.tensor.bnb.Blockwise4bitMatrix;
import io.quant4j.tensor.bnb.Int8Matrix;

import java.lang.foreign.Arena;
import java.lang.foreign.MemorySegment;
import java.lang.foreign.ValueLayout;
import java.nio.ByteOrder;
import java.nio.charset.StandardCharsets;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.Arrays;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;

import static io.quant4j.format.ModelFormatException.quote;

/**
 * Loads a bitsandbytes checkpoint saved by transformers ({@code quantization_config.quant_method} "bitsandbytes"):
 * 4-bit projections from {@code weight} + {@code weight.absmax} / {@code quant_map} (+ {@code nested_*}) and the
 * JSON in {@code weight.quant_state.bitsandbytes__nf4|fp4}; 8-bit ones from {@code weight} (int8) + {@code SCB}.
 * Matrices read the mapped bytes in place; q/k rows are mapped to quant4j's order. Projections listed in
 * {@code llm_int8_skip_modules} load as float.
 */
final class BnbModelSource {
    private static final ValueLayout.OfFloat F32 = ValueLayout.JAVA_FLOAT_UNALIGNED.withOrder(ByteOrder.LITTLE_ENDIAN);
    private static final String[] MODULES = {"self_attn.q_proj", "self_attn.k_proj", "self_attn.v_proj", "self_attn.o_proj",
            "mlp.gate_proj", "mlp.down_proj", "mlp.up_proj"};

    private BnbModelSource() {
    }

    static boolean isBnb(HuggingFaceConfig hf) {
        return hf.quantization() != null && "bitsandbytes".equals(hf.quantization().path("quant_method").asText());
    }

    static ModelWeights load(Path dir, HuggingFaceConfig hf) {
        Path configFile = dir.resolve(HuggingFaceConfig.FILE_NAME);
        JsonNode q = hf.quantization();
        boolean eight = q.path("load_in_8bit").asBoolean(false);
        boolean four = q.path("load_in_4bit").asBoolean(false);
        if (eight == four) {
            throw new ModelFormatException(configFile, "'quantization_config' must set exactly one of load_in_8bit and load_in_4bit");
        }
        float threshold = (float) q.path("llm_int8_threshold").asDouble(6.0);
        List<String> skip = new ArrayList<>();
        q.path("llm_int8_skip_modules").forEach(n -> skip.add(n.asText()));
        SafetensorsCheckpoint ckpt = SafetensorsCheckpoint.openFolder(dir);
        Arena arena = Arena.ofShared();
        try {
            LlamaConfig c = hf.config();
            HuggingFaceModelSource.refuseBiases(ckpt);
            List<LlamaWeights.Layer> layers = new ArrayList<>();
            for (int i = 0; i < c.nLayers(); i++) {
                String p = "model.layers." + i + ".";
                WeightMatrix[] m = new WeightMatrix[MODULES.length];
                for (int j = 0; j < MODULES.length; j++) {
                    m[j] = projection(ckpt, c, p + MODULES[j], MODULES[j], eight, threshold, skip, arena);
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
            String format = "bitsandbytes " + layers.getFirst().attnV().format();
            Map<String, String> metadata = new LinkedHashMap<>(hf.display());
            metadata.putAll(HuggingFaceModelSource.metadataOf(ckpt));
            return new ModelWeights(format, c, weights, metadata, HuggingFaceModelSource.tensorTable(ckpt), List.of(ckpt, arena));
        } catch (RuntimeException e) {
            arena.close();
            ckpt.close();
            throw e;
        }
    }

    private static WeightMatrix projection(SafetensorsCheckpoint ckpt, LlamaConfig c, String name, String module, boolean eight,
                                           float threshold, List<String> skip, Arena arena) {
        HfProjection p = HfProjection.of(module, c);
        int out = p.out();
        int in = p.in();
        int[] rowOf = p.rowOf(c);
        String w = name + ".weight";
        if (skip.stream().anyMatch(name::contains)) {
            return p.floatMatrix(ckpt, w, c, arena);
        }
        if (eight) {
            MemorySegment cb = tensor(ckpt, w, SafetensorsDtype.I8, out, in);
            MemorySegment scb = tensor(ckpt, name + ".SCB", SafetensorsDtype.F32, out);
            if (ckpt.hasTensor(name + ".weight_format")) {
                MemorySegment f = ckpt.data(name + ".weight_format");
                int fmt = f.byteSize() > 0 ? f.get(ValueLayout.JAVA_BYTE, 0) : 0;
                if (fmt != 0) {
                    throw new ModelFormatException(ckpt.fileOf(name + ".weight_format").path(), "tensor " + quote(name + ".weight_format")
                            + " is " + fmt + ": only the row-major int8 layout (0) is supported");
                }
            }
            return new Int8Matrix(cb, scb, out, in, threshold, rowOf);
        }
        String stateName = null;
        for (String t : new String[] {"nf4", "fp4"}) {
            if (ckpt.hasTensor(w + ".quant_state.bitsandbytes__" + t)) {
                stateName = w + ".quant_state.bitsandbytes__" + t;
            }
        }
        if (stateName == null) {
            Path file = ckpt.hasTensor(w) ? ckpt.fileOf(w).path() : ckpt.source();
            throw new ModelFormatException(file, "the config declares 4-bit weights but " + quote(w) + " has no quant_state.bitsandbytes__nf4/fp4");
        }
        Path file = ckpt.fileOf(stateName).path();
        JsonNode state = Json.parseObject(file, bytes(ckpt.data(stateName)), "tensor " + quote(stateName));
        String type = state.path("quant_type").asText();
        int blocksize = state.path("blocksize").asInt(0);
        JsonNode shape = state.get("shape");
        if (shape == null || shape.size() != 2 || shape.get(0).asInt() != out || shape.get(1).asInt() != in) {
            throw new ModelFormatException(file, "tensor " + quote(stateName) + " gives shape " + shape + ", expected [" + out + ", " + in + "]");
        }
        if (blocksize <= 0 || (!type.equals("nf4") && !type.equals("fp4"))) {
            throw new ModelFormatException(file, "tensor " + quote(stateName) + " has quant_type " + quote(type) + " and blocksize " + blocksize);
        }
        long n = (long) out * in;
        long blocks = Math.ceilDiv(n, blocksize);
        MemorySegment packed = tensor(ckpt, w, SafetensorsDtype.U8, (n + 1) / 2, 1);
        float[] code = floats(tensor(ckpt, w + ".quant_map", SafetensorsDtype.F32, 16));
        Blockwise4bitMatrix.Absmax absmax;
        if (ckpt.hasTensor(w + ".nested_absmax")) {
            int nested = state.path("nested_blocksize").asInt(0);
            if (nested <= 0 || !state.has("nested_offset")) {
                throw new ModelFormatException(file, "tensor " + quote(stateName) + " lacks nested_blocksize / nested_offset for its nested_absmax");
            }
            MemorySegment codes = tensor(ckpt, w + ".absmax", SafetensorsDtype.U8, blocks);
            MemorySegment nestedAbsmax = tensor(ckpt, w + ".nested_absmax", SafetensorsDtype.F32, Math.ceilDiv(blocks, nested));
            float[] map = floats(tensor(ckpt, w + ".nested_quant_map", SafetensorsDtype.F32, 256));
            absmax = Blockwise4bitMatrix.Absmax.doubleQuantized(codes, map, nestedAbsmax, nested, (float) state.get("nested_offset").asDouble());
        } else {
            absmax = Blockwise4bitMatrix.Absmax.plain(tensor(ckpt, w + ".absmax", SafetensorsDtype.F32, blocks));
        }
        return new Blockwise4bitMatrix(type, code, blocksize, packed, absmax, out, in, rowOf);
    }

    private static byte[] bytes(MemorySegment s) {
        return s.toArray(ValueLayout.JAVA_BYTE);
    }

    private static float[] floats(MemorySegment s) {
        float[] out = new float[(int) (s.byteSize() / 4)];
        MemorySegment.copy(s, F32, 0, out, 0, out.length);
        return out;
    }

    private static MemorySegment tensor(SafetensorsCheckpoint ckpt, String name, SafetensorsDtype dtype, long... shape) {
        SafetensorsFile f = ckpt.fileOf(name);
        SafetensorsTensorInfo t = f.tensor(name);
        if (t.dtype() != dtype) {
            throw new ModelFormatException(f.path(), "tensor " + quote(name) + " has dtype " + t.dtype() + ", expected " + dtype);
        }
        if (!Arrays.equals(t.shape(), shape)) {
            throw new ModelFormatException(f.path(), "tensor " + quote(name) + " has shape " + t.shapeString() + ", expected " + Arrays.toString(shape));
        }
        return f.data(t);
    }

}
