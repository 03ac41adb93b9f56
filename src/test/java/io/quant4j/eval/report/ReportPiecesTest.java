package io.quant4j.eval.report;

import io.quant4j.eval.Estimate;
import io.quant4j.eval.KldSummary;
import io.quant4j.eval.Quantiles;
import org.junit.jupiter.api.Test;
import org.w3c.dom.Document;

import javax.xml.parsers.DocumentBuilderFactory;
import java.io.ByteArrayInputStream;
import java.nio.charset.StandardCharsets;
import java.nio.file.Path;
import java.util.List;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;
import static org.assertj.core.api.Assertions.within;

/** The report's pieces on made-up figures: registry, Pareto front, ticks, and the four writers. */
class ReportPiecesTest {

    private static ModelMeasurement measurement(long bytes, double ppl, Double kld) {
        Estimate e = new Estimate(kld == null ? 0 : kld, 0.001);
        Quantiles q = new Quantiles(0, 0, 0, 0, 0, 0, 0.01, 0, 0, 0, 0.2, 0.5, 0.9);
        KldSummary k = kld == null ? null : new KldSummary(1000, new Estimate(ppl, 0.1), new Estimate(6, 0.1), 0.99, e, e, e, e, q,
                e, q, e, new Estimate(0.95, 0.01), 0, true);
        return new ModelMeasurement(new ModelFootprint(bytes, bytes - 1000, bytes / 2, "F32"), ppl, 0.1, 1000, 8, k,
                100L << 20, new DecodeSpeed(64, 3, 1234.5, 10), 3.0);
    }

    private static QuantizationReport report() {
        ReportSettings s = new ReportSettings(Path.of("models/m.gguf"), Path.of("data/t.txt"), 256, -1, 64, null, Path.of("out"), false);
        List<ReportRow> rows = List.of(
                ReportRow.measured("F32", true, Double.NaN, measurement(1_200_000, 6.0, null)),
                ReportRow.measured("Q6_K", false, 0.5, measurement(400_000, 6.01, 0.001)),
                ReportRow.measured("Q5_K_M", false, 0.5, measurement(420_000, 6.05, 0.004)), // larger and worse than Q6_K
                ReportRow.measured("Q2_K", false, 0.4, measurement(250_000, 6.5, 0.1)),
                ReportRow.notPossible("Q4_0", "rows of 172 values, not a multiple of 32"),
                ReportRow.failed("Q3_K_M", "evaluation: boom, \"quoted\"", 0.3));
        return new QuantizationReport(s, "quant4j report -m models/m.gguf", "2 cores", 60L << 20, rows);
    }

    @Test
    void registryKnowsTheFileTypesAndTakesNewMethods() {
        QuantizationMethods m = QuantizationMethods.defaults();
        assertThat(m.parseList("q8_0, Q2_K").stream().map(QuantizationMethod::name)).containsExactly("Q8_0", "Q2_K");
        assertThatThrownBy(() -> m.parseList("Q4_K_M,Q9_X")).hasMessageStartingWith("unknown type 'Q9_X' in --types; known: ");
        assertThatThrownBy(() -> m.parseList("Q2_K,,Q4_0")).hasMessageContaining("empty name");
        assertThatThrownBy(() -> m.parseList("Q2_K,q2_k")).hasMessageContaining("listed twice");
        QuantizationMethod gptq = new QuantizationMethod() {
            public String name() {
                return "gptq4";
            }

            public String description() {
                return "a future method";
            }

            public Path produce(Path model, Path outDir) {
                throw new MethodNotApplicableException("not yet");
            }
        };
        m.register(gptq);
        assertThat(m.get("GPTQ4")).isSameAs(gptq);
        assertThat(m.names()).contains("gptq4", "Q4_K_M");
        assertThatThrownBy(() -> m.register(gptq)).hasMessageContaining("already registered");
    }

    @Test
    void paretoFrontSkipsDominatedAndUnmeasuredRows() {
        assertThat(ParetoFront.of(report().rows()).stream().map(ReportRow::type)).containsExactly("Q2_K", "Q6_K", "F32");
    }

    @Test
    void ticksAreNiceAndCoverTheRange() {
        ReportSvg.Ticks t = ReportSvg.Ticks.of(0, 1.19, 8);
        assertThat(t.step()).isCloseTo(0.1, within(1e-12)); // 1.19 / 8 = 0.149: rounds to 1 × 10^-1
        assertThat(t.first()).isZero();
        assertThat(t.last()).isCloseTo(1.2, within(1e-12));
        assertThat(t.label(0.6000000001)).isEqualTo("0.6");
        ReportSvg.Ticks y = ReportSvg.Ticks.of(6.17, 6.58, 7);
        assertThat(y.step()).isCloseTo(0.05, within(1e-12));
        assertThat(y.first()).isLessThanOrEqualTo(6.17);
        assertThat(y.last()).isGreaterThanOrEqualTo(6.58);
        assertThat(y.label(6.25)).isEqualTo("6.25");
        assertThat(ReportSvg.Ticks.of(5, 5, 5).last()).isGreaterThan(5); // one point: still an axis
    }

    @Test
    void writersShowEveryRow() throws Exception {
        QuantizationReport r = report();
        String md = ReportMarkdown.render(r);
        assertThat(md).contains("| type | size | bpw | PPL | ΔPPL | KLD | peak RAM | quant time | decode t/s |")
                .contains("| F32 (base) | 1.144 MiB | ").contains("| Q6_K | 0.381 MiB | ").contains("+0.0100 ± 0.0010")
                .contains("| Q4_0 | not possible: rows of 172 values, not a multiple of 32 | — |")
                .contains("| Q3_K_M | failed: evaluation: boom")
                .contains("Pareto front (no other row is both smaller and lower in perplexity): Q2_K, Q6_K, F32.");

        String csv = ReportCsv.render(r);
        List<String> lines = csv.lines().toList();
        assertThat(lines).hasSize(7);
        assertThat(lines.get(0).split(",")).hasSize(ReportCsv.COLUMNS.size());
        assertThat(lines.get(2)).startsWith("Q6_K,false,ok,,400000,399000,200000,");
        assertThat(lines.get(5)).startsWith("Q4_0,false,not possible,\"rows of 172 values, not a multiple of 32\",,");
        assertThat(lines.get(6)).contains("\"evaluation: boom, \"\"quoted\"\"\"");

        var json = new com.fasterxml.jackson.databind.ObjectMapper().readTree(ReportJson.report(r));
        assertThat(json.get("rows")).hasSize(6);
        assertThat(json.get("rows").get(3).get("kld").asDouble()).isEqualTo(0.1);
        assertThat(json.get("rows").get(0).get("quant_seconds").isNull()).isTrue();
        assertThat(json.get("rows").get(4).get("status").asText()).isEqualTo("not possible");

        String svg = ReportSvg.render(r);
        Document d = DocumentBuilderFactory.newInstance().newDocumentBuilder()
                .parse(new ByteArrayInputStream(svg.getBytes(StandardCharsets.UTF_8)));
        assertThat(d.getDocumentElement().getTagName()).isEqualTo("svg");
        assertThat(d.getElementsByTagName("polyline").getLength()).isEqualTo(1);
        assertThat(d.getElementsByTagName("circle").getLength()).isGreaterThanOrEqualTo(3);
        assertThat(svg).contains(">Q2_K  6.500<").contains(">F32 (base)  6.000<").contains("file size (MiB)")
                .contains("Not plotted: Q4_0 (not possible), Q3_K_M (failed)");
    }
}
