package io.quant4j.train;

import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.node.ObjectNode;
import io.quant4j.format.Json;
import io.quant4j.format.ModelFormatException;
import io.quant4j.format.safetensors.SafetensorsDtype;
import io.quant4j.format.safetensors.SafetensorsFile;
import io.quant4j.format.safetensors.SafetensorsTensorInfo;
import io.quant4j.format.safetensors.SafetensorsWriter;

import java.io.IOException;
import java.io.UncheckedIOException;
import java.lang.foreign.Arena;
import java.lang.foreign.MemorySegment;
import java.lang.foreign.ValueLayout;
import java.nio.ByteOrder;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.Arrays;
import java.util.Comparator;
import java.util.List;
import java.util.Optional;
import java.util.regex.Matcher;
import java.util.regex.Pattern;
import java.util.stream.Stream;

/**
 * Everything needed to continue training exactly where it stopped: the trained parameters and both Adam moments
 * in full double precision ({@code optimizer.safetensors}, F64), and the step count ({@code trainer_state.json}).
 * Checkpoints live in {@code OUTPUT_DIR/checkpoint-STEP/}, beside a PEFT adapter of the same step.
 */
public final class TrainingCheckpoint {
    static final String STATE_FILE = "trainer_state.json";
    static final String OPTIMIZER_FILE = "optimizer.safetensors";
    private static final Pattern NAME = Pattern.compile("checkpoint-(\\d+)");
    private static final ValueLayout.OfDouble F64 = ValueLayout.JAVA_DOUBLE_UNALIGNED.withOrder(ByteOrder.LITTLE_ENDIAN);

    private TrainingCheckpoint() {
    }

    public static Path directory(Path outputDir, long step) {
        return outputDir.resolve("checkpoint-" + step);
    }

    /** Writes the state of {@code optimizer} (which holds the parameters) after {@code step} steps into {@code dir}. */
    public static void save(Path dir, long step, AdamW optimizer) {
        try {
            Files.createDirectories(dir);
            SafetensorsWriter w = new SafetensorsWriter();
            List<Parameter> params = optimizer.parameters();
            for (int i = 0; i < params.size(); i++) {
                Parameter p = params.get(i);
                long[] shape = {p.rows(), p.cols()};
                w.add(p.name(), SafetensorsDtype.F64, shape, segment(p.value()));
                w.add(p.name() + ".exp_avg", SafetensorsDtype.F64, shape, segment(optimizer.firstMoments()[i]));
                w.add(p.name() + ".exp_avg_sq", SafetensorsDtype.F64, shape, segment(optimizer.secondMoments()[i]));
            }
            w.write(dir.resolve(OPTIMIZER_FILE));
            ObjectNode state = Json.mapper().createObjectNode();
            state.put("global_step", step);
            state.put("optimizer_steps", optimizer.steps());
            Files.writeString(dir.resolve(STATE_FILE), Json.mapper().writerWithDefaultPrettyPrinter().writeValueAsString(state));
        } catch (IOException e) {
            throw new UncheckedIOException(dir + ": cannot write checkpoint: " + e.getMessage(), e);
        }
    }

    private static MemorySegment segment(double[] v) {
        MemorySegment s = Arena.ofAuto().allocate(8L * v.length, 8);
        MemorySegment.copy(v, 0, s, F64, 0, v.length);
        return s;
    }

    /** Restores parameters and moments in place and returns the global step the checkpoint was taken at. */
    public static long load(Path dir, AdamW optimizer) {
        Path state = dir.resolve(STATE_FILE);
        long step;
        try {
            JsonNode node = Json.mapper().readTree(state.toFile());
            step = node.path("global_step").asLong(-1);
            if (step < 0) {
                throw new ModelFormatException(state, "no global_step");
            }
            optimizer.restoreSteps(node.path("optimizer_steps").asLong(step));
        } catch (IOException e) {
            throw new ModelFormatException(state, "cannot read: " + e.getMessage());
        }
        try (SafetensorsFile f = SafetensorsFile.open(dir.resolve(OPTIMIZER_FILE))) {
            List<Parameter> params = optimizer.parameters();
            for (int i = 0; i < params.size(); i++) {
                Parameter p = params.get(i);
                read(f, p.name(), p, p.value());
                read(f, p.name() + ".exp_avg", p, optimizer.firstMoments()[i]);
                read(f, p.name() + ".exp_avg_sq", p, optimizer.secondMoments()[i]);
            }
        }
        return step;
    }

    private static void read(SafetensorsFile f, String name, Parameter p, double[] into) {
        if (!f.hasTensor(name)) {
            throw new ModelFormatException(f.path(), "checkpoint has no tensor '" + name + "': it was written for another training setup");
        }
        SafetensorsTensorInfo t = f.tensor(name);
        if (t.dtype() != SafetensorsDtype.F64 || !Arrays.equals(t.shape(), new long[] {p.rows(), p.cols()})) {
            throw new ModelFormatException(f.path(), "tensor '" + name + "' is " + t.dtype() + " " + t.shapeString()
                    + ", expected F64 [" + p.rows() + ", " + p.cols() + "]");
        }
        MemorySegment.copy(f.data(t), F64, 0, into, 0, into.length);
    }

    /** The checkpoint with the highest step in {@code outputDir}, if any. */
    public static Optional<Path> latest(Path outputDir) {
        return all(outputDir).stream().max(Comparator.comparingLong(TrainingCheckpoint::stepOf));
    }

    static List<Path> all(Path outputDir) {
        if (!Files.isDirectory(outputDir)) {
            return List.of();
        }
        try (Stream<Path> s = Files.list(outputDir)) {
            return s.filter(p -> NAME.matcher(p.getFileName().toString()).matches())
                    .filter(p -> Files.isRegularFile(p.resolve(STATE_FILE)))
                    .sorted(Comparator.comparingLong(TrainingCheckpoint::stepOf))
                    .toList();
        } catch (IOException e) {
            throw new UncheckedIOException(e);
        }
    }

    static long stepOf(Path checkpoint) {
        Matcher m = NAME.matcher(checkpoint.getFileName().toString());
        return m.matches() ? Long.parseLong(m.group(1)) : -1;
    }

    /** Deletes all but the newest {@code keep} checkpoints. */
    static void prune(Path outputDir, int keep) {
        List<Path> all = all(outputDir);
        for (int i = 0; i < all.size() - keep; i++) {
            deleteTree(all.get(i));
        }
    }

    private static void deleteTree(Path dir) {
        try (Stream<Path> s = Files.walk(dir)) {
            for (Path p : s.sorted(Comparator.reverseOrder()).toList()) {
                Files.deleteIfExists(p);
            }
        } catch (IOException e) {
            throw new UncheckedIOException(dir + ": cannot delete old checkpoint", e);
        }
    }
}
