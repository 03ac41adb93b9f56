package io.quant4j.cli;

import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.ObjectMapper;
import io.quant4j.testing.Shared;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

import javax.xml.parsers.DocumentBuilderFactory;
import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.List;
import java.util.stream.Stream;

import static org.assertj.core.api.Assertions.assertThat;

/** {@code quant4j report} on stories260K, small and fast: two measured types and one that cannot be made; bad input. */
class ReportCliTest {

    @Test
    void twoTypesEndToEnd(@TempDir Path dir) throws Exception {
        Path out = dir.resolve("rep");
        CliRunner r = CliRunner.run("report", "-m", Shared.file("models/stories260K/stories260K.gguf").toString(),
                "--types", "Q6_K,Q2_K,Q4_0", "-f", Shared.file("data/TinyStories-sample-30KB.txt").toString(),
                "-c", "128", "--chunks", "4", "--decode-tokens", "16", "-o", out.toString());
        assertThat(r.exitCode()).as(r.err()).isZero();
        assertThat(r.out()).contains("Q4_0       not possible: tensor 'blk.0.ffn_down.weight' has rows of 172 values");

        String md = Files.readString(out.resolve("report.md"));
        assertThat(md).contains("| F32 (base) | 1.130 MiB | 32.00 | ").contains("| Q6_K | ").contains("| Q2_K | ")
                .contains("| Q4_0 | not possible: ").contains("![perplexity vs size](report.svg)");

        List<String> csv = Files.readAllLines(out.resolve("report.csv"));
        assertThat(csv).hasSize(5);
        assertThat(csv.get(1)).startsWith("F32,true,ok,");
        assertThat(csv.get(2)).startsWith("Q6_K,false,ok,");
        assertThat(csv.get(3)).startsWith("Q2_K,false,ok,");
        assertThat(csv.get(4)).startsWith("Q4_0,false,not possible,");

        JsonNode json = new ObjectMapper().readTree(out.resolve("report.json").toFile());
        JsonNode rows = json.get("rows");
        assertThat(rows).hasSize(4);
        assertThat(json.get("scored_tokens").asInt()).isEqualTo(4 * (128 - 1 - 64));
        JsonNode base = rows.get(0);
        JsonNode q6 = rows.get(1);
        JsonNode q2 = rows.get(2);
        assertThat(base.get("bpw").asDouble()).isEqualTo(32.0);
        assertThat(base.get("peak_rss_bytes").asLong()).isGreaterThan(json.get("idle_jvm_rss_bytes").asLong());
        assertThat(q2.get("file_bytes").asLong()).isLessThan(q6.get("file_bytes").asLong());
        assertThat(q2.get("kld").asDouble()).isGreaterThan(q6.get("kld").asDouble()).isGreaterThan(0);
        assertThat(q2.get("ppl").asDouble()).isGreaterThan(base.get("ppl").asDouble());
        assertThat(q6.get("quant_seconds").asDouble()).isPositive();
        assertThat(q6.get("decode_tokens_per_second").asDouble()).isPositive();
        assertThat(rows.get(3).get("note").asText()).contains("172");

        Path svg = out.resolve("report.svg");
        DocumentBuilderFactory.newInstance().newDocumentBuilder().parse(svg.toFile()); // well-formed
        assertThat(Files.readString(svg)).contains(">Q2_K  ").contains(">Q6_K  ").contains(">F32 (base)  ").contains("<polyline");

        try (Stream<Path> files = Files.walk(dir)) {
            assertThat(files.filter(p -> p.toString().endsWith(".gguf") || p.toString().endsWith(".kld"))).isEmpty();
        }
    }

    private static void assertOneLineError(CliRunner r, String... fragments) {
        assertThat(r.exitCode()).as(r.err()).isEqualTo(1);
        String err = r.err().strip();
        assertThat(err.lines().count()).as(err).isEqualTo(1);
        assertThat(err).startsWith("error: ").doesNotContain("Exception");
        for (String f : fragments) {
            assertThat(err).contains(f);
        }
    }

    @Test
    void badInput(@TempDir Path dir) throws IOException {
        String model = Shared.file("models/stories260K/stories260K.gguf").toString();
        String text = Shared.file("data/TinyStories-sample-30KB.txt").toString();
        String out = dir.resolve("rep").toString();
        assertOneLineError(CliRunner.run("report", "-m", model, "--types", "Q4_K_M,Q7_K", "-f", text, "-o", out),
                "unknown type 'Q7_K' in --types; known: ");
        assertOneLineError(CliRunner.run("report", "-m", model, "--types", "Q2_K,Q2_K", "-f", text, "-o", out), "listed twice");
        Path empty = dir.resolve("empty.txt");
        Files.writeString(empty, "\n \n");
        assertOneLineError(CliRunner.run("report", "-m", model, "--types", "Q2_K", "-f", empty.toString(), "-o", out),
                "empty.txt: the text is empty");
        Path shortText = dir.resolve("short.txt");
        Files.writeString(shortText, "Once upon a time there was a little cat who liked milk.");
        assertOneLineError(CliRunner.run("report", "-m", model, "--types", "Q2_K", "-f", shortText.toString(), "-c", "64", "-o", out),
                "short.txt: the text has", "needs at least 128");
        assertOneLineError(CliRunner.run("report", "-m", model, "--types", "Q2_K", "-f", text, "-c", "1024", "-o", out),
                "-c 1024 must be between 4 and the model's context length 512");
        assertOneLineError(CliRunner.run("report", "-m", model, "--types", "Q2_K", "-f", dir.resolve("none.txt").toString(), "-o", out),
                "none.txt: no such file");
        assertOneLineError(CliRunner.run("report", "-m", dir.resolve("none.gguf").toString(), "--types", "Q2_K", "-f", text, "-o", out),
                "none.gguf");
        assertThat(Files.exists(dir.resolve("rep"))).isFalse(); // nothing is written when the input is bad
    }
}
