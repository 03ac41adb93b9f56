package io.quant4j.format.safetensors;

import com.fasterxml.jackson.databind.JsonNode;
import io.quant4j.format.Json;
import io.quant4j.format.ModelFormatException;

import java.nio.file.InvalidPathException;
import java.nio.file.Path;
import java.util.Collections;
import java.util.LinkedHashMap;
import java.util.Map;

import static io.quant4j.format.ModelFormatException.quote;

/**
 * A sharded checkpoint's {@code model.safetensors.index.json}: which shard file holds each tensor
 * ({@code weight_map}), plus its optional {@code metadata} (e.g. total_size). Shard names must be plain file
 * names beside the index: an index must not send the reader to other folders.
 */
public record SafetensorsIndex(Path file, Map<String, String> weightMap, Map<String, String> metadata) {
    public static final String FILE_NAME = "model.safetensors.index.json";
    private static final long MAX_INDEX_BYTES = 64L << 20;

    public static SafetensorsIndex read(Path file) {
        JsonNode root = Json.readObjectFile(file, MAX_INDEX_BYTES);
        JsonNode map = root.get("weight_map");
        if (map == null || !map.isObject()) {
            throw new ModelFormatException(file, "has no \"weight_map\" object");
        }
        Map<String, String> weightMap = new LinkedHashMap<>();
        for (Map.Entry<String, JsonNode> e : map.properties()) {
            if (!e.getValue().isTextual()) {
                throw new ModelFormatException(file, "weight_map entry " + quote(e.getKey()) + " is not a file name string");
            }
            String shard = e.getValue().textValue();
            checkShardName(file, e.getKey(), shard);
            weightMap.put(e.getKey(), shard);
        }
        Map<String, String> metadata = new LinkedHashMap<>();
        JsonNode md = root.get("metadata");
        if (md != null && md.isObject()) {
            for (Map.Entry<String, JsonNode> e : md.properties()) {
                metadata.put(e.getKey(), e.getValue().isTextual() ? e.getValue().textValue() : e.getValue().toString());
            }
        }
        return new SafetensorsIndex(file, Collections.unmodifiableMap(weightMap), Collections.unmodifiableMap(metadata));
    }

    private static void checkShardName(Path file, String tensor, String shard) {
        boolean plain;
        try {
            Path p = Path.of(shard);
            plain = !shard.isEmpty() && p.getNameCount() == 1 && !p.isAbsolute() && p.getFileName().toString().equals(shard)
                    && !shard.equals(".") && !shard.equals("..");
        } catch (InvalidPathException e) {
            plain = false;
        }
        if (!plain) {
            throw new ModelFormatException(file, "weight_map sends tensor " + quote(tensor) + " to " + quote(shard) + ", which is not a file name in the same folder");
        }
    }

    /** The shard file's path (beside the index). */
    public Path shardPath(String shardName) {
        return file.resolveSibling(shardName);
    }
}
