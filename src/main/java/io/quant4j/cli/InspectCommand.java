package io.quant4j.cli;

import io.quant4j.model.LlamaConfig;
import io.quant4j.model.ModelWeights;
import io.quant4j.model.TensorEntry;
import io.quant4j.runtime.LoadedModel;
import io.quant4j.runtime.MemoryUsage;
import picocli.CommandLine.Command;
import picocli.CommandLine.Option;
import picocli.CommandLine.Parameters;
import picocli.CommandLine.Spec;
import picocli.CommandLine.Model.CommandSpec;

import java.io.PrintWriter;
import java.nio.file.Path;
import java.util.Arrays;
import java.util.Map;
import java.util.TreeMap;
import java.util.concurrent.Callable;
import java.util.stream.Collectors;

/** {@code quant4j inspect MODEL}: architecture, hyper-parameters, tokenizer and tensor table, like llama.cpp's loader log. */
@Command(name = "inspect", mixinStandardHelpOptions = true, description = "Describe a model file: hyper-parameters, tokenizer, tensors.")
public final class InspectCommand implements Callable<Integer> {
    @Parameters(index = "0", paramLabel = "MODEL", description = "GGUF file, Hugging Face folder or llama2.c .bin")
    Path model;

    @Option(names = "--tokenizer", paramLabel = "FILE", description = "tokenizer for a llama2.c checkpoint")
    Path tokenizer;

    @Option(names = "--metadata", description = "also print every metadata key")
    boolean allMetadata;

    @Spec
    CommandSpec spec;

    @Override
    public Integer call() {
        PrintWriter out = spec.commandLine().getOut();
        try (LoadedModel m = LoadedModel.load(model, tokenizer)) {
            ModelWeights w = m.weights();
            LlamaConfig c = w.config();
            out.printf("model:            %s%n", model);
            out.printf("format:           %s%n", w.format());
            out.printf("architecture:     %s%n", c.architecture());
            out.printf("n_vocab:          %d%n", c.vocabSize());
            out.printf("n_ctx_train:      %d%n", c.contextLength());
            out.printf("n_embd:           %d%n", c.dim());
            out.printf("n_layer:          %d%n", c.nLayers());
            out.printf("n_head:           %d%n", c.nHeads());
            out.printf("n_head_kv:        %d%n", c.nKvHeads());
            out.printf("n_embd_head:      %d%n", c.headDim());
            out.printf("n_rot:            %d%n", c.ropeDim());
            out.printf("n_gqa:            %d%n", c.groupSize());
            out.printf("n_ff:             %d%n", c.hiddenDim());
            out.printf("f_norm_rms_eps:   %.1e%n", c.rmsNormEps());
            out.printf("rope_freq_base:   %.1f%n", c.ropeTheta());
            out.printf("rope_scaling:     %s%n", c.ropeScaling().kind().name().toLowerCase()
                    + (c.ropeScaling().factor() != 1f ? " x" + c.ropeScaling().factor() : ""));
            out.printf("tied_embeddings:  %s%n", w.weights().tiedEmbeddings());
            long params = w.tensors().stream().mapToLong(t -> Arrays.stream(t.shape()).reduce(1, (a, b) -> a * b)).sum();
            long bytes = w.tensors().stream().mapToLong(TensorEntry::bytes).sum();
            out.printf("params:           %s (%d)%n", human(params), params);
            out.printf("size:             %s (%.2f bits per weight)%n", MemoryUsage.format(bytes), params == 0 ? 0 : 8.0 * bytes / params);
            Map<String, Long> typeCounts = w.tensors().stream().collect(Collectors.groupingBy(TensorEntry::type, TreeMap::new, Collectors.counting()));
            out.printf("tensor types:     %s%n", typeCounts.entrySet().stream().map(e -> e.getKey() + ": " + e.getValue()).collect(Collectors.joining(", ")));
            out.printf("tokenizer:        %s%n", m.tokenizer().summary());
            if (allMetadata) {
                out.println();
                out.println("metadata:");
                w.metadata().forEach((k, v) -> out.printf("  %-45s = %s%n", k, v));
            }
            out.println();
            int nameWidth = Math.max(24, w.tensors().stream().mapToInt(t -> t.name().length()).max().orElse(0));
            out.printf("%-" + nameWidth + "s  %-22s  %-8s  %12s%n", "tensor", "shape", "type", "bytes");
            for (TensorEntry t : w.tensors()) {
                out.printf("%-" + nameWidth + "s  %-22s  %-8s  %12d%n", t.name(), Arrays.toString(t.shape()), t.type(), t.bytes());
            }
        }
        return 0;
    }

    private static String human(long n) {
        if (n >= 1_000_000_000L) {
            return String.format("%.2f B", n / 1e9);
        }
        if (n >= 1_000_000L) {
            return String.format("%.2f M", n / 1e6);
        }
        if (n >= 1_000L) {
            return String.format("%.2f K", n / 1e3);
        }
        return Long.toString(n);
    }
}
