package io.quant4j.eval.report;

import com.fasterxml.jackson.core.JsonParser;
import com.fasterxml.jackson.databind.ObjectMapper;
import com.fasterxml.jackson.databind.SerializationFeature;
import com.fasterxml.jackson.databind.node.ArrayNode;
import com.fasterxml.jackson.databind.node.ObjectNode;
import io.quant4j.eval.KldSummary;
import io.quant4j.format.ModelFormatException;

import java.io.IOException;
import java.io.UncheckedIOException;
import java.nio.file.Path;

/**
 * JSON both ways: the measurement a child hands back to the report (the records as they are), and
 * {@code report.json}, a flat documented schema for readers (one object per row, null where nothing was measured).
 */
public final class ReportJson {
    private static final ObjectMapper MAPPER = new ObjectMapper()
            .enable(SerializationFeature.INDENT_OUTPUT)
            .enable(JsonParser.Feature.ALLOW_NON_NUMERIC_NUMBERS);

    private ReportJson() {
    }

    public static void writeMeasurement(Path file, ModelMeasurement m) {
        try {
            MAPPER.writeValue(file.toFile(), m);
        } catch (IOException e) {
            throw new UncheckedIOException(file + ": cannot write: " + e.getMessage(), e);
        }
    }

    public static ModelMeasurement readMeasurement(Path file) {
        try {
            return MAPPER.readValue(file.toFile(), ModelMeasurement.class);
        } catch (IOException e) {
            throw new ModelFormatException(file, "not a measurement written by eval-worker: " + e.getMessage().lines().findFirst().orElse(""));
        }
    }

    public static String report(QuantizationReport report) {
        ObjectNode root = MAPPER.createObjectNode();
        ReportSettings s = report.settings();
        root.put("model", s.model().toString());
        root.put("text", s.text().toString());
        root.put("protocol", "llamacpp");
        root.put("ctx", s.ctx());
        root.put("scored_tokens", report.base().measurement().scoredTokens());
        root.put("chunks", report.base().measurement().chunks());
        root.put("decode_tokens", s.decodeTokens());
        root.put("command", report.commandLine());
        root.put("machine", report.machine());
        root.put("idle_jvm_rss_bytes", report.idleJvmRssBytes());
        ArrayNode rows = root.putArray("rows");
        for (ReportRow r : report.rows()) {
            ObjectNode o = rows.addObject();
            o.put("type", r.type());
            o.put("base", r.base());
            o.put("status", r.status().label());
            o.put("note", r.note());
            ModelMeasurement m = r.measurement();
            if (m == null) {
                continue;
            }
            o.put("file_bytes", m.footprint().fileBytes());
            o.put("tensor_bytes", m.footprint().tensorBytes());
            o.put("parameters", m.footprint().parameters());
            o.put("bpw", m.footprint().bitsPerWeight());
            o.put("ppl", m.ppl());
            o.put("ppl_error", m.pplError());
            number(o, "quant_seconds", r.quantSeconds());
            o.put("peak_rss_bytes", m.peakRssBytes());
            number(o, "decode_tokens_per_second", m.decodeTokensPerSecond());
            number(o, "decode_tokens_per_second_stdev", m.decode() == null ? Double.NaN : m.decode().stdev());
            o.put("eval_seconds", m.evalSeconds());
            KldSummary k = m.kld();
            if (k == null) {
                continue;
            }
            o.put("delta_ppl", report.deltaPpl(r));
            o.put("delta_ppl_error", k.pplDifference().uncertainty());
            o.put("ppl_ratio", report.pplRatio(r));
            o.put("ppl_ratio_error", k.pplRatio().uncertainty());
            o.put("kld", k.kld().value());
            o.put("kld_error", k.kld().uncertainty());
            o.put("kld_median", k.kldQuantiles().median());
            o.put("kld_p99", k.kldQuantiles().p99());
            o.put("kld_p999", k.kldQuantiles().p999());
            o.put("kld_max", k.kldQuantiles().max());
            o.put("delta_p_mean", k.deltaP().value());
            o.put("delta_p_rms", k.rmsDeltaP().value());
            o.put("same_top", k.sameTop().value());
            o.put("base_floored_positions", k.baseFloored());
        }
        try {
            return MAPPER.writeValueAsString(root) + "\n";
        } catch (IOException e) {
            throw new UncheckedIOException(e);
        }
    }

    private static void number(ObjectNode o, String key, double v) {
        if (Double.isFinite(v)) {
            o.put(key, v);
        } else {
            o.putNull(key);
        }
    }
}
