package io.quant4j.cli;

import io.quant4j.model.LlamaSession;
import io.quant4j.model.LlamaWeights;
import io.quant4j.quantize.FileType;
import io.quant4j.runtime.LoadedModel;
import io.quant4j.runtime.MemoryUsage;
import io.quant4j.tensor.Parallel;
import io.quant4j.tensor.WeightMatrix;
import picocli.CommandLine.Command;
import picocli.CommandLine.Mixin;
import picocli.CommandLine.Model.CommandSpec;
import picocli.CommandLine.Option;
import picocli.CommandLine.Spec;

import java.io.PrintWriter;
import java.util.IdentityHashMap;
import java.util.LinkedHashMap;
import java.util.Map;
import java.util.Random;
import java.util.Set;
import java.util.concurrent.Callable;

/**
 * {@code quant4j bench}: llama-bench's two tests and table. {@code ppN} feeds N random tokens as one prompt into an
 * empty cache; {@code tgN} decodes N tokens one at a time from an empty cache (the first is BOS), as llama-bench
 * does. Each test runs once untimed (warm-up, which also lets the JIT compile the kernels), then {@code -r} timed
 * repetitions; t/s is their mean ± sample standard deviation. For tg the table adds the weight bytes a decoded
 * token reads (every layer matrix and the output matrix once) times t/s: the achieved weight bandwidth.
 */
@Command(name = "bench", mixinStandardHelpOptions = true, description = "Measure prompt processing and generation speed (llama-bench style).")
public final class BenchCommand implements Callable<Integer> {
    @Mixin
    ModelOptions modelOptions;

    @Option(names = {"-p", "--n-prompt"}, split = ",", paramLabel = "N", description = "prompt lengths to test (default 512; 0 skips)")
    int[] prompts = {512};

    @Option(names = {"-n", "--n-gen"}, split = ",", paramLabel = "N", description = "generation lengths to test (default 128; 0 skips)")
    int[] gens = {128};

    @Option(names = {"-r", "--repetitions"}, paramLabel = "R", description = "timed repetitions per test (default 5)")
    int reps = 5;

    @Option(names = "--kv-type", paramLabel = "T", description = "KV cache type: f32 (default) or f16")
    String kvType = "f32";

    @Option(names = "--seed", paramLabel = "S", description = "seed of the random tokens (default 42)")
    long seed = 42;

    @Spec
    CommandSpec spec;

    @Override
    public Integer call() {
        if (reps < 1) {
            throw new UserException("-r must be at least 1, got " + reps);
        }
        boolean f16Cache = switch (kvType.toLowerCase(java.util.Locale.ROOT)) {
            case "f32" -> false;
            case "f16" -> true;
            default -> throw new UserException("--kv-type must be f32 or f16, got " + kvType);
        };
        PrintWriter out = spec.commandLine().getOut();
        PrintWriter err = spec.commandLine().getErr();
        try (LoadedModel model = modelOptions.load()) {
            LlamaWeights w = model.weights().weights();
            int vocab = model.weights().config().vocabSize();
            int ctxNeeded = 1;
            for (int p : prompts) {
                ctxNeeded = Math.max(ctxNeeded, p);
            }
            for (int g : gens) {
                ctxNeeded = Math.max(ctxNeeded, g);
            }
            if (ctxNeeded > model.weights().config().contextLength()) {
                throw new UserException("a test needs " + ctxNeeded + " tokens of context; the model has " + model.weights().config().contextLength());
            }
            LlamaSession session = model.llama().newSession(ctxNeeded, f16Cache);
            Random random = new Random(seed);

            long weightBytes = decodeWeightBytes(w);
            String name = model.weights().config().architecture() + " " + paramsShort(parameterCount(w));
            String size = MemoryUsage.format(totalBytes(w));
            String params = String.format("%.2f B", parameterCount(w) / 1e9);
            String type = typeLabel(model, w);
            int threads = Parallel.threads();

            out.println("| model | size | params | type | threads | test | t/s | weights GB/s |");
            out.println("| --- | ---: | ---: | --- | ---: | ---: | ---: | ---: |");
            out.flush();
            for (int p : prompts) {
                if (p <= 0) {
                    continue;
                }
                double[] ts = run(session, reps, () -> {
                    int[] tokens = randomTokens(random, vocab, p);
                    session.rewind(0);
                    long t0 = System.nanoTime();
                    session.forward(tokens);
                    return System.nanoTime() - t0;
                }, p);
                out.printf("| %s | %s | %s | %s | %d | pp%d | %s | |%n", name, size, params, type, threads, p, meanSd(ts));
                out.flush();
                err.printf("pp%d: the process got %.0f%% of %d threads' time (load average %s)%n", p, 100 * lastCpuShare, threads, loadAverage());
            }
            for (int g : gens) {
                if (g <= 0) {
                    continue;
                }
                int bos = model.tokenizer().bos() >= 0 ? model.tokenizer().bos() : 0;
                double[] ts = run(session, reps, () -> {
                    int[] tokens = randomTokens(random, vocab, g);
                    tokens[0] = bos;
                    session.rewind(0);
                    long t0 = System.nanoTime();
                    for (int t : tokens) {
                        session.forward(t);
                    }
                    return System.nanoTime() - t0;
                }, g);
                double mean = mean(ts);
                out.printf("| %s | %s | %s | %s | %d | tg%d | %s | %.1f |%n", name, size, params, type, threads, g, meanSd(ts),
                        mean * weightBytes / 1e9);
                out.flush();
                err.printf("tg%d: the process got %.0f%% of %d threads' time (load average %s); heap allocated per token: %.0f bytes%n",
                        g, 100 * lastCpuShare, threads, loadAverage(), lastAllocPerToken);
            }
            err.printf("KV cache %s, peak memory %s%n", f16Cache ? "F16" : "F32", MemoryUsage.format(MemoryUsage.peakResidentBytes()));
        }
        return 0;
    }

    @FunctionalInterface
    private interface Timed {
        long nanos();
    }

    /**
     * One untimed warm-up run, then {@code reps} timed ones; returns tokens per second of each. Also notes the share
     * of the threads' time the process actually got (CPU time over wall time × threads): far below 100 % means other
     * processes competed for the cores and the figures understate the engine.
     */
    private double[] run(LlamaSession session, int reps, Timed test, int tokens) {
        test.nanos();
        double[] ts = new double[reps];
        long alloc0 = allocatedBytes();
        long cpu0 = processCpuNanos();
        long wall = 0;
        for (int i = 0; i < reps; i++) {
            long ns = test.nanos();
            wall += ns;
            ts[i] = tokens / (ns / 1e9);
        }
        long cpu = processCpuNanos() - cpu0;
        if (cpu0 >= 0 && wall > 0) {
            lastCpuShare = cpu / (double) (wall * Parallel.threads());
        }
        long alloc = allocatedBytes();
        lastAllocPerToken = alloc0 >= 0 && alloc >= 0 ? (alloc - alloc0) / (double) (reps * (long) tokens) : Double.NaN;
        return ts;
    }

    private double lastCpuShare = Double.NaN;
    private double lastAllocPerToken = Double.NaN;

    /** Heap bytes allocated so far by all live threads (-1 if the JVM cannot tell). */
    private static long allocatedBytes() {
        if (java.lang.management.ManagementFactory.getThreadMXBean() instanceof com.sun.management.ThreadMXBean t
                && t.isThreadAllocatedMemorySupported() && t.isThreadAllocatedMemoryEnabled()) {
            return t.getTotalThreadAllocatedBytes();
        }
        return -1;
    }

    private static long processCpuNanos() {
        if (java.lang.management.ManagementFactory.getOperatingSystemMXBean() instanceof com.sun.management.OperatingSystemMXBean os) {
            return os.getProcessCpuTime();
        }
        return -1;
    }

    private static String loadAverage() {
        return String.format("%.1f", java.lang.management.ManagementFactory.getOperatingSystemMXBean().getSystemLoadAverage());
    }

    private static int[] randomTokens(Random r, int vocab, int n) {
        int[] t = new int[n];
        for (int i = 0; i < n; i++) {
            t[i] = r.nextInt(vocab);
        }
        return t;
    }

    static double mean(double[] v) {
        double s = 0;
        for (double x : v) {
            s += x;
        }
        return s / v.length;
    }

    static String meanSd(double[] v) {
        double m = mean(v);
        double ss = 0;
        for (double x : v) {
            ss += (x - m) * (x - m);
        }
        double sd = v.length > 1 ? Math.sqrt(ss / (v.length - 1)) : 0;
        return String.format("%.2f ± %.2f", m, sd);
    }

    /** Bytes of weights one decoded token reads: each layer matrix and the output matrix once, one embedding row. */
    static long decodeWeightBytes(LlamaWeights w) {
        long bytes = 0;
        for (LlamaWeights.Layer l : w.layers()) {
            for (WeightMatrix m : l.matrices()) {
                bytes += m.storageBytes();
            }
        }
        bytes += w.output().storageBytes();
        return bytes + w.tokenEmbedding().storageBytes() / Math.max(1, w.tokenEmbedding().rows());
    }

    private static Set<WeightMatrix> distinctMatrices(LlamaWeights w) {
        Set<WeightMatrix> all = java.util.Collections.newSetFromMap(new IdentityHashMap<>());
        all.add(w.tokenEmbedding());
        all.add(w.output());
        for (LlamaWeights.Layer l : w.layers()) {
            all.addAll(l.matrices());
        }
        return all;
    }

    static long totalBytes(LlamaWeights w) {
        long bytes = 0;
        for (WeightMatrix m : distinctMatrices(w)) {
            bytes += m.storageBytes();
        }
        for (LlamaWeights.Layer l : w.layers()) {
            bytes += 4L * (l.attnNorm().length + l.ffnNorm().length);
        }
        return bytes + 4L * w.outputNorm().length;
    }

    static long parameterCount(LlamaWeights w) {
        long n = 0;
        for (WeightMatrix m : distinctMatrices(w)) {
            n += (long) m.rows() * m.cols();
        }
        for (LlamaWeights.Layer l : w.layers()) {
            n += l.attnNorm().length + l.ffnNorm().length;
        }
        return n + w.outputNorm().length;
    }

    private static String paramsShort(long n) {
        if (n >= 1e9) {
            return String.format("%.1fB", n / 1e9);
        }
        if (n >= 1e6) {
            return String.format("%.0fM", n / 1e6);
        }
        return String.format("%.0fK", n / 1e3);
    }

    /**
     * The GGUF file type (Q4_K_M, ...) when the file names one and its layers run as stored; else the layout holding
     * most of the layers' weight bytes — a ggml type, or one outside ggml: weights quantized at load by --load-in-*
     * ("NF4 b64", "LLM.int8 t6.0"; the file's own type would name the weights they were made from) or a GPTQ or
     * bitsandbytes checkpoint.
     */
    private static String typeLabel(LoadedModel model, LlamaWeights w) {
        boolean ggmlLayers = true;
        Map<String, Long> bytes = new LinkedHashMap<>();
        for (LlamaWeights.Layer l : w.layers()) {
            for (WeightMatrix m : l.matrices()) {
                ggmlLayers &= m.type() != null;
                bytes.merge(m.format(), m.storageBytes(), Long::sum);
            }
        }
        String ft = model.weights().metadata().get("general.file_type");
        if (ft != null && ggmlLayers) {
            try {
                int id = Integer.parseInt(ft.trim());
                for (FileType t : FileType.values()) {
                    if (t.id == id) {
                        return t.name();
                    }
                }
            } catch (NumberFormatException ignored) {
                // fall through to the dominant type
            }
        }
        return bytes.entrySet().stream().max(Map.Entry.comparingByValue()).map(Map.Entry::getKey).orElse("?");
    }
}
