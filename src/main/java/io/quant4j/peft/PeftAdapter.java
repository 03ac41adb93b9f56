package io.quant4j.peft;

import io.quant4j.format.ModelFormatException;
import io.quant4j.format.safetensors.SafetensorsDtype;
import io.quant4j.format.safetensors.SafetensorsFile;
import io.quant4j.format.safetensors.SafetensorsTensorInfo;
import io.quant4j.format.safetensors.SafetensorsWriter;
import io.quant4j.tensor.GgmlType;
import io.quant4j.tensor.WeightMatrix;

import java.io.IOException;
import java.io.UncheckedIOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.LinkedHashMap;
import java.util.Map;

/**
 * A PEFT adapter folder: {@code adapter_config.json} and {@code adapter_model.safetensors}. Tensors are kept
 * under their model names ({@code model.layers.0.self_attn.q_proj.lora_A.weight}, {@code lm_head.weight}), in
 * Hugging Face's layout (q/k output rows in rotate-half order); in the file they carry PEFT's
 * {@code base_model.model.} prefix.
 */
public record PeftAdapter(PeftConfig config, Map<String, AdapterTensor> tensors) {
    public static final String WEIGHTS_FILE = "adapter_model.safetensors";
    static final String PREFIX = "base_model.model.";

    public PeftAdapter {
        tensors = java.util.Collections.unmodifiableMap(new LinkedHashMap<>(tensors));
    }

    public void write(Path dir) {
        try {
            Files.createDirectories(dir);
            SafetensorsWriter w = new SafetensorsWriter();
            w.metadata("format", "pt");
            for (Map.Entry<String, AdapterTensor> e : tensors.entrySet()) {
                AdapterTensor t = e.getValue();
                long[] shape = t.rows() == 1 && isVector(e.getKey()) ? new long[] {t.cols()} : new long[] {t.rows(), t.cols()};
                w.addF32(PREFIX + e.getKey(), t.values(), shape);
            }
            w.write(dir.resolve(WEIGHTS_FILE));
            Files.writeString(dir.resolve(PeftConfig.FILE_NAME),
                    io.quant4j.format.Json.mapper().writerWithDefaultPrettyPrinter().writeValueAsString(config.toJson()) + "\n");
        } catch (IOException e) {
            throw new UncheckedIOException(dir + ": cannot write the adapter: " + e.getMessage(), e);
        }
    }

    /** Norm weights are 1-D in Hugging Face checkpoints. */
    private static boolean isVector(String name) {
        return name.endsWith("norm.weight");
    }

    public static PeftAdapter read(Path dir) {
        if (!Files.isDirectory(dir)) {
            throw new ModelFormatException(dir, Files.exists(dir) ? "is not an adapter folder" : "no such adapter folder");
        }
        Path configFile = dir.resolve(PeftConfig.FILE_NAME);
        if (!Files.isRegularFile(configFile)) {
            throw new ModelFormatException(dir, "no " + PeftConfig.FILE_NAME + " (not a PEFT adapter folder)");
        }
        PeftConfig config = PeftConfig.read(configFile);
        Path weights = dir.resolve(WEIGHTS_FILE);
        if (!Files.isRegularFile(weights)) {
            throw new ModelFormatException(dir, "no " + WEIGHTS_FILE + (Files.exists(dir.resolve("adapter_model.bin"))
                    ? " (adapter_model.bin pickles are not read; save with safe_serialization)" : ""));
        }
        Map<String, AdapterTensor> tensors = new LinkedHashMap<>();
        try (SafetensorsFile f = SafetensorsFile.open(weights)) {
            for (SafetensorsTensorInfo t : f.tensors().values()) {
                String name = modelName(t.name());
                GgmlType type = t.dtype().ggmlType().orElseThrow(() ->
                        new ModelFormatException(weights, "tensor '" + t.name() + "' has dtype " + t.dtype() + "; expected F32, F16 or BF16"));
                long[] s = t.shape();
                if (s.length < 1 || s.length > 2 || (s.length == 2 ? s[0] * s[1] : s[0]) > Integer.MAX_VALUE / 2) {
                    throw new ModelFormatException(weights, "tensor '" + t.name() + "' has shape " + t.shapeString());
                }
                int rows = s.length == 2 ? (int) s[0] : 1;
                int cols = (int) s[s.length - 1];
                float[] values = new float[rows * cols];
                WeightMatrix m = WeightMatrix.of(type, f.data(t), rows, cols);
                for (int r = 0; r < rows; r++) {
                    m.dequantizeRow(r, values, r * cols);
                }
                tensors.put(name, new AdapterTensor(rows, cols, values));
            }
        }
        return new PeftAdapter(config, tensors);
    }

    /** The model's tensor name for a name in the file (PEFT prefix, and older "modules_to_save"/"default" parts, dropped). */
    static String modelName(String fileName) {
        String n = fileName.startsWith(PREFIX) ? fileName.substring(PREFIX.length()) : fileName;
        return n.replace(".modules_to_save.default.", ".").replace(".modules_to_save.", ".")
                .replace(".lora_A.default.", ".lora_A.").replace(".lora_B.default.", ".lora_B.");
    }
}
