package io.quant4j.cli;

import io.quant4j.model.LlamaSession;
import io.quant4j.quantize.ImportanceMatrix;
import io.quant4j.runtime.LoadedModel;
import picocli.CommandLine.Command;
import picocli.CommandLine.Mixin;
import picocli.CommandLine.Option;
import picocli.CommandLine.Spec;
import picocli.CommandLine.Model.CommandSpec;

import java.io.IOException;
import java.io.PrintWriter;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.concurrent.Callable;

/**
 * {@code quant4j imatrix -m MODEL -f TEXT -o FILE}: llama-imatrix. Runs the text through the model in chunks of
 * {@code -c} tokens (BOS first) and records, for every weight except output.weight, the mean square of each input
 * column; writes llama.cpp's .dat format for {@code quantize --imatrix}.
 */
@Command(name = "imatrix", mixinStandardHelpOptions = true, description = "Collect an importance matrix (llama.cpp .dat format).")
public final class ImatrixCommand implements Callable<Integer> {
    @Mixin
    ModelOptions modelOptions;

    @Option(names = {"-f", "--file"}, required = true, paramLabel = "TEXT", description = "calibration text file")
    Path textFile;

    @Option(names = {"-o", "--output"}, paramLabel = "FILE", description = "output file (default: imatrix.dat)")
    Path output = Path.of("imatrix.dat");

    @Option(names = {"-c", "--ctx-size"}, paramLabel = "N", description = "tokens per chunk (default 512)")
    int ctx = 512;

    @Option(names = "--chunks", paramLabel = "N", description = "at most N chunks (default: all)")
    int maxChunks = -1;

    @Spec
    CommandSpec spec;

    @Override
    public Integer call() throws IOException {
        PrintWriter err = spec.commandLine().getErr();
        if (!Files.isRegularFile(textFile)) {
            throw new UserException(textFile + ": no such file");
        }
        String text = Files.readString(textFile, StandardCharsets.UTF_8);
        try (LoadedModel model = modelOptions.load()) {
            if (ctx < 2 || ctx > model.weights().config().contextLength()) {
                throw new UserException("-c " + ctx + " must be between 2 and the model's context length " + model.weights().config().contextLength());
            }
            int[] tokens = model.tokenizer().encode(text, true, false);
            int chunks = tokens.length / ctx;
            if (maxChunks > 0) {
                chunks = Math.min(chunks, maxChunks);
            }
            if (chunks < 1) {
                throw new UserException(textFile + ": " + tokens.length + " tokens is less than one chunk of " + ctx);
            }
            ImportanceMatrix imatrix = new ImportanceMatrix();
            imatrix.setDataset(textFile.toString());
            model.llama().setObserver(imatrix::observe);
            LlamaSession session = model.llama().newSession(ctx);
            long start = System.nanoTime();
            for (int c = 0; c < chunks; c++) {
                session.rewind(0);
                for (int i = 0; i < ctx; i++) {
                    session.forward(i == 0 ? model.tokenizer().bos() : tokens[c * ctx + i]);
                }
                double secs = (System.nanoTime() - start) / 1e9;
                err.printf("chunk %d/%d done, %.1f s elapsed, ETA %.1f s%n", c + 1, chunks, secs, secs / (c + 1) * (chunks - c - 1));
            }
            model.llama().setObserver(null);
            imatrix.setChunks(chunks);
            imatrix.save(output);
            err.printf("stored %d entries from %d chunks in %s%n", imatrix.entryCount(), chunks, output);
        }
        return 0;
    }
}
