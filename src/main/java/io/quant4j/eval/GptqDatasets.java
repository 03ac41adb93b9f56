package io.quant4j.eval;

import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.ObjectMapper;
import io.quant4j.format.ModelFormatException;

import java.io.IOException;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.List;

/**
 * The evaluation texts as GPTQ's datautils builds them from ../shared/data: wikitext2 = the "\n\n"-joined test
 * split; ptb = validation sentences joined with "\n\n"; ptb-new = test sentences joined with " "; c4-new = the
 * first 1100 validation documents joined with " " (truncated to 256 windows by the caller). GPTQ's original
 * {@code c4} draws 256 random windows with Python's RNG; quant4j's {@code c4} is the c4-new text (documented).
 */
public final class GptqDatasets {
    public static final List<String> NAMES = List.of("wikitext2", "ptb", "ptb-new", "c4", "c4-new");

    private GptqDatasets() {
    }

    /** The text of a named dataset, read from {@code dataDir}. */
    public static String text(String name, Path dataDir) {
        return switch (name) {
            case "wikitext2" -> read(dataDir.resolve("wikitext2_test_gptq_join.txt"));
            case "ptb" -> String.join("\n\n", sentences(dataDir.resolve("ptb.valid.txt")));
            case "ptb-new" -> String.join(" ", sentences(dataDir.resolve("ptb.test.txt")));
            case "c4", "c4-new" -> String.join(" ", c4Documents(dataDir.resolve("c4_validation_2k.jsonl"), 1100));
            default -> throw new IllegalArgumentException("unknown dataset '" + name + "'; known: " + String.join(", ", NAMES));
        };
    }

    /** Datasets {@link #calibrationText} knows (anything else is a file name). */
    public static final List<String> CALIBRATION_NAMES = List.of("wikitext2", "c4", "ptb");

    /**
     * Calibration text for GPTQ. GPTQ samples the train splits; ../shared/data holds only evaluation splits, so:
     * c4 = validation documents 1100..1999 joined with " " (disjoint from the 1100 that c4/c4-new evaluate);
     * wikitext2 = the test split as GPTQ joins it and ptb = the test sentences joined with "\n\n" — these two
     * overlap their evaluation texts, so results calibrated on them are optimistic there.
     */
    public static String calibrationText(String name, Path dataDir) {
        return switch (name) {
            case "wikitext2" -> read(dataDir.resolve("wikitext2_test_gptq_join.txt"));
            case "ptb" -> String.join("\n\n", sentences(dataDir.resolve("ptb.test.txt")));
            case "c4" -> {
                List<String> docs = c4Documents(dataDir.resolve("c4_validation_2k.jsonl"), Integer.MAX_VALUE);
                yield String.join(" ", docs.subList(Math.min(1100, docs.size()), docs.size()));
            }
            default -> throw new IllegalArgumentException("unknown calibration set '" + name + "'; known: " + String.join(", ", CALIBRATION_NAMES));
        };
    }

    /** Windows GPTQ evaluates at most for a dataset (c4 is cut to 256 windows). */
    public static int maxWindows(String name) {
        return name.startsWith("c4") ? 256 : -1;
    }

    private static String read(Path p) {
        try {
            return Files.readString(p, StandardCharsets.UTF_8);
        } catch (IOException e) {
            throw new ModelFormatException(p, "cannot read: " + e.getMessage());
        }
    }

    /** Mikolov's PTB files hold one sentence per line, as the HF dataset's 'sentence' column (which drops the line end). */
    private static List<String> sentences(Path p) {
        List<String> out = new ArrayList<>();
        for (String line : read(p).split("\n", -1)) {
            if (!line.isEmpty()) {
                out.add(line);
            }
        }
        return out;
    }

    private static List<String> c4Documents(Path p, int limit) {
        ObjectMapper json = new ObjectMapper();
        List<String> out = new ArrayList<>();
        for (String line : read(p).split("\n")) {
            if (line.isBlank()) {
                continue;
            }
            try {
                JsonNode n = json.readTree(line);
                out.add(n.get("text").asText());
            } catch (IOException | NullPointerException e) {
                throw new ModelFormatException(p, "line " + (out.size() + 1) + " is not a C4 JSON record with a text field");
            }
            if (out.size() == limit) {
                break;
            }
        }
        return out;
    }
}
