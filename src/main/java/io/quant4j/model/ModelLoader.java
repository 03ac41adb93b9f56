package io.quant4j.model;

import io.quant4j.format.ModelFormatException;
import io.quant4j.format.gguf.GgufFile;

import java.io.IOException;
import java.io.InputStream;
import java.nio.ByteBuffer;
import java.nio.ByteOrder;
import java.nio.file.Files;
import java.nio.file.Path;

/**
 * Opens a model whatever its format: a folder is a Hugging Face checkpoint, a file starting with the GGUF magic is
 * GGUF, anything else is tried as a llama2.c checkpoint (which has no magic; its header is validated instead).
 */
public final class ModelLoader {
    private ModelLoader() {
    }

    public static ModelWeights loadWeights(Path path) {
        if (!Files.exists(path)) {
            throw new ModelFormatException(path, "no such file or directory");
        }
        if (Files.isDirectory(path)) {
            return HuggingFaceModelSource.load(path);
        }
        if (startsWithGgufMagic(path)) {
            GgufFile gguf = GgufFile.open(path);
            try {
                return GgufModelSource.load(gguf);
            } catch (RuntimeException e) {
                gguf.close();
                throw e;
            }
        }
        return Llama2cModelSource.load(path);
    }

    private static boolean startsWithGgufMagic(Path path) {
        try (InputStream in = Files.newInputStream(path)) {
            byte[] b = in.readNBytes(4);
            return b.length == 4 && ByteBuffer.wrap(b).order(ByteOrder.LITTLE_ENDIAN).getInt() == GgufFile.MAGIC;
        } catch (IOException e) {
            throw new ModelFormatException(path, "cannot read: " + e.getMessage());
        }
    }
}
