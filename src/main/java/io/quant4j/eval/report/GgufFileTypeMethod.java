package io.quant4j.eval.report;

import io.quant4j.convert.GgufExporter;
import io.quant4j.format.gguf.GgufFile;
import io.quant4j.quantize.FileType;
import io.quant4j.quantize.GgufQuantizer;
import io.quant4j.quantize.QuantizeOptions;

import java.io.IOException;
import java.io.UncheckedIOException;
import java.nio.ByteBuffer;
import java.nio.ByteOrder;
import java.nio.channels.FileChannel;
import java.nio.file.Files;
import java.nio.file.Path;

/** A llama.cpp file type made by {@link GgufQuantizer} with llama-quantize's default mix rules. */
public final class GgufFileTypeMethod implements QuantizationMethod {
    private final FileType type;

    public GgufFileTypeMethod(FileType type) {
        this.type = type;
    }

    @Override
    public String name() {
        return type.name();
    }

    @Override
    public String description() {
        return "llama.cpp " + type.name() + " (GGUF, llama-quantize's tensor-type mix)";
    }

    @Override
    public Path produce(Path model, Path outDir) {
        Path source = ggufSource(model, outDir);
        Path out = outDir.resolve(stem(model) + "-" + type.name() + ".gguf");
        try {
            GgufQuantizer.quantize(source, out, QuantizeOptions.of(type), null, null);
        } catch (IllegalArgumentException e) {
            // the planner refuses types whose blocks do not fit the model's rows and that have no fallback
            throw new MethodNotApplicableException(e.getMessage());
        }
        return out;
    }

    /** The quantizer reads GGUF; other sources are exported once per report directory. */
    private static Path ggufSource(Path model, Path outDir) {
        if (isGguf(model)) {
            return model;
        }
        Path converted = outDir.resolve(stem(model) + "-source.gguf");
        if (!Files.isRegularFile(converted)) {
            GgufExporter.export(model, null, converted);
        }
        return converted;
    }

    static String stem(Path model) {
        String name = model.toAbsolutePath().normalize().getFileName().toString();
        int dot = name.lastIndexOf('.');
        return dot > 0 ? name.substring(0, dot) : name;
    }

    static boolean isGguf(Path p) {
        if (!Files.isRegularFile(p)) {
            return false;
        }
        try (FileChannel ch = FileChannel.open(p)) {
            ByteBuffer b = ByteBuffer.allocate(4).order(ByteOrder.LITTLE_ENDIAN);
            ch.read(b);
            return b.position() == 4 && b.getInt(0) == GgufFile.MAGIC;
        } catch (IOException e) {
            throw new UncheckedIOException(p + ": cannot read: " + e.getMessage(), e);
        }
    }
}
