package io.quant4j.cli;

import io.quant4j.eval.GptqDatasets;
import io.quant4j.model.LlamaConfig;
import io.quant4j.quantize.LayerSelection;
import io.quant4j.quantize.gptq.CalibrationSet;
import io.quant4j.quantize.gptq.GptqCheckpointWriter;
import io.quant4j.quantize.gptq.GptqOptions;
import io.quant4j.quantize.gptq.GptqQuantizer;
import io.quant4j.quantize.gptq.Projection;
import io.quant4j.quantize.gptq.QuantizedLinear;
import io.quant4j.runtime.LoadedModel;
import io.quant4j.runtime.MemoryUsage;
import picocli.CommandLine.Command;
import picocli.CommandLine.Mixin;
import picocli.CommandLine.Option;
import picocli.CommandLine.Spec;
import picocli.CommandLine.Model.CommandSpec;

import java.io.IOException;
import java.io.PrintWriter;
import java.lang.foreign.Arena;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.List;
import java.util.Locale;
import java.util.concurrent.Callable;

/** {@code quant4j gptq}: GPTQ or RTN quantization on the CPU, written as an AutoGPTQ / transformers checkpoint folder. */
@Command(name = "gptq", mixinStandardHelpOptions = true,
        description = "Quantize with GPTQ (or round-to-nearest) into an AutoGPTQ/transformers GPTQ checkpoint folder.")
public final class GptqCommand implements Callable<Integer> {
    @Mixin
    ModelOptions modelOptions;

    @Option(names = {"-o", "--output"}, required = true, paramLabel = "OUT_DIR", description = "checkpoint folder to write")
    Path outDir;

    @Option(names = "--bits", paramLabel = "B", description = "2, 3, 4 or 8 (default 4)")
    int bits = 4;

    @Option(names = "--group-size", paramLabel = "G", description = "input columns per scale/zero (default 128; -1 = one per row)")
    int groupSize = 128;

    @Option(names = {"--act-order", "--desc-act"}, description = "quantize columns by decreasing Hessian diagonal")
    boolean actOrder;

    @Option(names = "--static-groups", description = "fit group grids up front on the unquantized weights")
    boolean staticGroups;

    @Option(names = "--sym", description = "symmetric grid (default)")
    boolean sym;

    @Option(names = "--asym", description = "asymmetric grid (written as gptq_v2 unless --checkpoint-format says otherwise)")
    boolean asym;

    @Option(names = "--damp", paramLabel = "F", description = "dampening as a fraction of the mean Hessian diagonal (default 0.01)")
    double damp = 0.01;

    @Option(names = "--calib", paramLabel = "SET", description = "calibration text: c4 (default), wikitext2, ptb, or a text FILE")
    String calib = "c4";

    @Option(names = "--data-dir", paramLabel = "DIR", description = "where the calibration sets live (default ../shared/data)")
    Path dataDir = Path.of("../shared/data");

    @Option(names = "--nsamples", paramLabel = "N", description = "calibration windows (default 128)")
    int nsamples = 128;

    @Option(names = "--seqlen", paramLabel = "T", description = "tokens per calibration window (default 2048)")
    int seqlen = 2048;

    @Option(names = "--seed", paramLabel = "S", description = "seed for drawing the windows (default 0)")
    long seed = 0;

    @Option(names = "--layers", paramLabel = "LIST", description = "quantize only these decoder layers (e.g. 0-27); the rest stay fp16")
    String layers;

    @Option(names = "--method", paramLabel = "M", description = "gptq (default) or rtn (same grid, no error feedback, no calibration)")
    String method = "gptq";

    @Option(names = "--checkpoint-format", paramLabel = "F", description = "gptq (v1, zero - 1 stored; default for --sym) or gptq_v2")
    String checkpointFormat;

    @Option(names = "--no-true-sequential", description = "collect all sub-layer inputs from the unquantized block at once")
    boolean noTrueSequential;

    @Option(names = "--pad-unaligned", description = "also quantize projections whose in/out features are not multiples of 32, "
            + "packed with padding (quant4j reads these; AutoGPTQ/transformers cannot)")
    boolean padUnaligned;

    @Spec
    CommandSpec spec;

    @Override
    public Integer call() throws IOException {
        PrintWriter err = spec.commandLine().getErr();
        if (sym && asym) {
            throw new UserException("--sym and --asym exclude each other");
        }
        GptqOptions.Method m = switch (method.toLowerCase(Locale.ROOT)) {
            case "gptq" -> GptqOptions.Method.GPTQ;
            case "rtn" -> GptqOptions.Method.RTN;
            default -> throw new UserException("unknown --method '" + method + "' (gptq or rtn)");
        };
        GptqOptions options = new GptqOptions(m, bits, groupSize, actOrder, staticGroups, !asym, damp, 128, !noTrueSequential);
        String format = checkpointFormat != null ? checkpointFormat : asym ? "gptq_v2" : "gptq";
        if (!format.equals("gptq") && !format.equals("gptq_v2")) {
            throw new UserException("unknown --checkpoint-format '" + format + "' (gptq or gptq_v2)");
        }
        boolean v1 = format.equals("gptq");
        if (v1 && asym) {
            throw new UserException("--asym cannot be written as --checkpoint-format gptq: v1 stores zero - 1, so an asymmetric zero point of 0 "
                    + "has no encoding; use gptq_v2");
        }
        if (modelOptions.bnbOptions() != null) {
            throw new UserException("--load-in-8bit/--load-in-4bit do not combine with gptq: it quantizes the unquantized model");
        }
        LayerSelection selection = layers != null ? LayerSelection.parse(layers) : null;
        if (Files.exists(outDir) && !Files.isDirectory(outDir)) {
            throw new UserException(outDir + ": exists and is not a folder");
        }
        long start = System.nanoTime();
        try (LoadedModel model = modelOptions.load(); Arena arena = Arena.ofShared()) {
            LlamaConfig c = model.weights().config();
            if (selection != null) {
                selection.validate(c.nLayers());
            }
            boolean[][] chosen = new boolean[c.nLayers()][Projection.values().length];
            List<String> unaligned = new ArrayList<>();
            for (Projection p : Projection.values()) {
                String problem = options.groupProblem(p.inFeatures(c));
                if (problem != null) {
                    throw new UserException(problem + ": " + p.module + " has " + p.inFeatures(c) + " input features");
                }
                boolean aligned = p.inFeatures(c) % 32 == 0 && p.outFeatures(c) % 32 == 0;
                if (!aligned && !padUnaligned) {
                    unaligned.add(p.module + " [" + p.outFeatures(c) + " x " + p.inFeatures(c) + "]");
                }
                for (int l = 0; l < c.nLayers(); l++) {
                    chosen[l][p.ordinal()] = (selection == null || selection.contains(l)) && (aligned || padUnaligned);
                }
            }
            if (!unaligned.isEmpty()) {
                err.println("warning: kept in fp16 (in/out features not multiples of 32, which AutoGPTQ's packing needs): "
                        + String.join(", ", unaligned) + "; --pad-unaligned quantizes them in a layout only quant4j reads");
            }
            CalibrationSet calibration = null;
            if (m == GptqOptions.Method.GPTQ) {
                if (seqlen > c.contextLength()) {
                    throw new UserException("--seqlen " + seqlen + " is longer than the model's context (" + c.contextLength() + ")");
                }
                String text = calibrationText();
                calibration = CalibrationSet.of(calib, text, model.tokenizer(), nsamples, seqlen, seed);
                err.printf("gptq: calibration %s: %d windows x %d tokens (text has %d tokens)%n", calib, nsamples, seqlen,
                        calibration.textTokens());
            }
            err.printf("gptq: %s %d-bit, group size %d, %s%s%s, damp %.3g, %s%n", m.name(), bits, groupSize, asym ? "asym" : "sym",
                    actOrder ? ", act-order" : "", staticGroups ? ", static groups" : "", damp, format);
            int[] done = {0};
            GptqQuantizer.Result result = GptqQuantizer.quantize(model.weights(), calibration, options, v1,
                    (l, p) -> chosen[l][p.ordinal()], arena, new GptqQuantizer.Listener() {
                        @Override
                        public void moduleDone(int layer, Projection p, QuantizedLinear q, double loss, long nanos) {
                            done[0]++;
                            err.printf("layer %d %-16s %s %.1f ms%n", layer, p.module,
                                    m == GptqOptions.Method.GPTQ ? String.format("loss %.4g", loss) : "rtn", nanos / 1e6);
                            err.flush();
                        }

                        @Override
                        public void layerDone(int layer, long nanos) {
                            err.printf("layer %d done in %.2f s%n", layer, nanos / 1e9);
                            err.flush();
                        }
                    });
            Path source = Files.isDirectory(model.path()) ? model.path() : null;
            GptqCheckpointWriter.Calibration info = calibration == null ? null
                    : new GptqCheckpointWriter.Calibration(calib, nsamples, seqlen);
            List<Path> files = GptqCheckpointWriter.write(outDir, model.weights(), source, model.tokenizer(), result, info);
            if (source == null) {
                err.println("note: no tokenizer files written (the source is not a Hugging Face folder); run the checkpoint with --tokenizer "
                        + model.path());
            }
            err.printf("wrote %s (%d files), %d of %d projections quantized; %.2f s, peak memory %s (resident, mapped model pages included), "
                            + "peak Java heap %s (sum of pool peaks), packed output %s%n", outDir, files.size(), done[0],
                    c.nLayers() * Projection.values().length, (System.nanoTime() - start) / 1e9,
                    MemoryUsage.format(MemoryUsage.peakResidentBytes()), MemoryUsage.format(peakHeap()), MemoryUsage.format(packedBytes(result)));
        }
        return 0;
    }

    /** Peak use of the Java heap pools since start (the float layer, activations, Hessians). */
    private static long peakHeap() {
        long sum = 0;
        for (java.lang.management.MemoryPoolMXBean pool : java.lang.management.ManagementFactory.getMemoryPoolMXBeans()) {
            if (pool.getType() == java.lang.management.MemoryType.HEAP && pool.getPeakUsage() != null) {
                sum += pool.getPeakUsage().getUsed();
            }
        }
        return sum;
    }

    private static long packedBytes(GptqQuantizer.Result r) {
        long sum = 0;
        for (var layer : r.layers()) {
            for (var q : layer) {
                if (q != null) {
                    sum += q.qweight().byteSize() + q.qzeros().byteSize() + q.scales().byteSize() + 4L * q.gIdx().length;
                }
            }
        }
        return sum;
    }

    private String calibrationText() throws IOException {
        if (GptqDatasets.CALIBRATION_NAMES.contains(calib)) {
            return GptqDatasets.calibrationText(calib, dataDir);
        }
        Path f = Path.of(calib);
        if (!Files.isRegularFile(f)) {
            throw new UserException("--calib " + calib + ": not a calibration set (" + String.join(", ", GptqDatasets.CALIBRATION_NAMES)
                    + ") nor a file");
        }
        return Files.readString(f, StandardCharsets.UTF_8);
    }
}
