package io.quant4j.train.data;

import com.fasterxml.jackson.databind.JsonNode;
import io.quant4j.chat.ChatTemplate;
import io.quant4j.format.Json;
import io.quant4j.format.ModelFormatException;
import io.quant4j.train.TrainingExample;

import java.io.BufferedReader;
import java.io.IOException;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.List;

/**
 * Reads a JSONL dataset (one JSON object per line, blank lines skipped) into training sequences of at most
 * {@code sequenceLen} tokens: completion texts are cut into windows, other records longer than that are dropped
 * (Axolotl's default) and counted.
 */
public final class JsonlDataset {
    /** The sequences read and how many records were dropped for length. */
    public record Loaded(List<TrainingExample> examples, int records, int droppedTooLong, int droppedNoTargets) {
    }

    /** One {@code datasets} entry: path, type, the text field (completion/oasst) and the chat template (sharegpt). */
    public record Source(Path path, DatasetFormat format, String field, ChatTemplate template) {
    }

    private JsonlDataset() {
    }

    public static Loaded read(Source source, ExampleTokenizer tokenizer, int sequenceLen) {
        Path path = source.path();
        if (!Files.isRegularFile(path)) {
            throw new ModelFormatException(path, "no such dataset file");
        }
        List<TrainingExample> out = new ArrayList<>();
        int records = 0;
        int tooLong = 0;
        int noTargets = 0;
        try (BufferedReader in = Files.newBufferedReader(path, StandardCharsets.UTF_8)) {
            String line;
            int lineNo = 0;
            while ((line = in.readLine()) != null) {
                lineNo++;
                if (line.isBlank()) {
                    continue;
                }
                List<Segment> segments;
                try {
                    JsonNode record = Json.mapper().readTree(line);
                    if (record == null || !record.isObject()) {
                        throw new IllegalArgumentException("not a JSON object");
                    }
                    segments = source.format().segments(record, source.field(), source.template());
                } catch (IOException | IllegalArgumentException e) {
                    String msg = e.getMessage() == null ? e.toString() : e.getMessage().lines().findFirst().orElse("");
                    throw new ModelFormatException(path, "line " + lineNo + ": " + msg);
                }
                records++;
                TrainingExample e = tokenizer.tokenize(segments, source.format().appendsEos(), source.format().parsesSpecialTokens());
                List<TrainingExample> pieces;
                if (source.format() == DatasetFormat.COMPLETION) {
                    pieces = ExampleTokenizer.chunks(e, sequenceLen);
                } else if (e.tokens().length > sequenceLen) {
                    tooLong++;
                    continue;
                } else {
                    pieces = List.of(e);
                }
                for (TrainingExample p : pieces) {
                    if (p.targetCount() == 0) {
                        noTargets++;
                    } else {
                        out.add(p);
                    }
                }
            }
        } catch (IOException e) {
            throw new ModelFormatException(path, "cannot read: " + e.getMessage());
        }
        return new Loaded(out, records, tooLong, noTargets);
    }
}
