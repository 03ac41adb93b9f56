package io.quant4j.format.safetensors;

import io.quant4j.format.ModelFormatException;

import java.lang.foreign.MemorySegment;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.Collections;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;

import static io.quant4j.format.ModelFormatException.quote;

/**
 * The tensors of a checkpoint, whether one {@code .safetensors} file or the shards an index names. Each shard is
 * opened (mapped) once; tensors are looked up by name across shards. Closing it unmaps every shard.
 */
public final class SafetensorsCheckpoint implements AutoCloseable {
    public static final String SINGLE_FILE_NAME = "model.safetensors";

    private final Path source;
    private final List<SafetensorsFile> files;
    private final Map<String, SafetensorsFile> byTensor;

    private SafetensorsCheckpoint(Path source, List<SafetensorsFile> files, Map<String, SafetensorsFile> byTensor) {
        this.source = source;
        this.files = files;
        this.byTensor = byTensor;
    }

    /**
     * A Hugging Face folder: {@code model.safetensors} if present, else the shards named by
     * {@code model.safetensors.index.json} (the order transformers looks for them in).
     */
    public static SafetensorsCheckpoint openFolder(Path dir) {
        Path single = dir.resolve(SINGLE_FILE_NAME);
        if (Files.exists(single)) {
            return openFile(single);
        }
        Path index = dir.resolve(SafetensorsIndex.FILE_NAME);
        if (Files.exists(index)) {
            return openIndex(index);
        }
        throw new ModelFormatException(dir, "holds neither " + SINGLE_FILE_NAME + " nor " + SafetensorsIndex.FILE_NAME);
    }

    public static SafetensorsCheckpoint openFile(Path file) {
        SafetensorsFile f = SafetensorsFile.open(file);
        Map<String, SafetensorsFile> byTensor = new LinkedHashMap<>();
        for (String name : f.tensors().keySet()) {
            byTensor.put(name, f);
        }
        return new SafetensorsCheckpoint(file, List.of(f), byTensor);
    }

    /** Opens every shard the index names (each once) and checks that each holds the tensors mapped to it. */
    public static SafetensorsCheckpoint openIndex(Path indexFile) {
        SafetensorsIndex index = SafetensorsIndex.read(indexFile);
        Map<String, SafetensorsFile> shards = new LinkedHashMap<>();
        try {
            Map<String, SafetensorsFile> byTensor = new LinkedHashMap<>();
            for (Map.Entry<String, String> e : index.weightMap().entrySet()) {
                SafetensorsFile shard = shards.get(e.getValue());
                if (shard == null) {
                    shard = SafetensorsFile.open(index.shardPath(e.getValue()));
                    shards.put(e.getValue(), shard);
                }
                if (!shard.hasTensor(e.getKey())) {
                    throw new ModelFormatException(shard.path(), "does not hold tensor " + quote(e.getKey()) + " that " + indexFile.getFileName() + " places there");
                }
                byTensor.put(e.getKey(), shard);
            }
            return new SafetensorsCheckpoint(indexFile, List.copyOf(shards.values()), byTensor);
        } catch (RuntimeException e) {
            shards.values().forEach(SafetensorsFile::close);
            throw e;
        }
    }

    /** The file that was opened: the single file or the index. */
    public Path source() {
        return source;
    }

    public List<SafetensorsFile> files() {
        return files;
    }

    /** Tensor names: file order for one file, weight_map order for an index. */
    public List<String> names() {
        return Collections.unmodifiableList(new ArrayList<>(byTensor.keySet()));
    }

    public boolean hasTensor(String name) {
        return byTensor.containsKey(name);
    }

    /** The file holding {@code name}; a missing tensor is a format error naming the checkpoint. */
    public SafetensorsFile fileOf(String name) {
        SafetensorsFile f = byTensor.get(name);
        if (f == null) {
            throw new ModelFormatException(source, "missing tensor " + quote(name));
        }
        return f;
    }

    public SafetensorsTensorInfo tensor(String name) {
        return fileOf(name).tensor(name);
    }

    public MemorySegment data(String name) {
        SafetensorsFile f = fileOf(name);
        return f.data(f.tensor(name));
    }

    @Override
    public void close() {
        for (SafetensorsFile f : files) {
            f.close();
        }
    }
}
