package io.quant4j.cli;

import io.quant4j.testing.Shared;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.ValueSource;

import static org.assertj.core.api.Assertions.assertThat;

/** End to end: the CLI on stories260K from each source gives llama.cpp's greedy continuation. */
class GenerateCliTest {
    /** ../shared/golden/README.md: llama.cpp's greedy continuation of "Once upon a time", 120 tokens. */
    static final String GOLDEN = "Once upon a time, there was a little girl named Lily. She loved to play outside in the park. One day, "
            + "she saw a big, red ball. She wanted to play with it, but it was too high.\nLily's mom said, \"Lily, let's "
            + "go to the park.\" Lily was sad and didn't know what to do. She said, \"I want to play with your ball, but I can'";

    @ParameterizedTest
    @ValueSource(strings = {"gguf", "llama2c", "hf"})
    void greedyMatchesLlamaCpp(String source) {
        String dir = "models/stories260K/";
        String[] model = switch (source) {
            case "gguf" -> new String[] {"-m", Shared.file(dir + "stories260K.gguf").toString()};
            case "llama2c" -> new String[] {"-m", Shared.file(dir + "stories260K.bin").toString(), "--tokenizer", Shared.file(dir + "tok512.bin").toString()};
            default -> new String[] {"-m", Shared.file(dir + "hf").toString()};
        };
        String[] args = concat(new String[] {"generate", "-p", "Once upon a time", "--temp", "0", "-n", "120"}, model);
        CliRunner r = CliRunner.run(args);
        assertThat(r.exitCode()).as(r.err()).isZero();
        assertThat(r.out()).isEqualTo(GOLDEN + "\n");
        assertThat(r.err()).contains("prompt eval:").contains("tokens per second").contains("peak memory");
    }

    @Test
    void defaultModelIsTheShippedStories260k() {
        CliRunner r = CliRunner.run("generate", "-p", "Once upon a time", "--temp", "0", "-n", "20");
        assertThat(r.exitCode()).as(r.err()).isZero();
        assertThat(GOLDEN).startsWith(r.out().strip());
        assertThat(r.out().strip().length()).isGreaterThan("Once upon a time".length() + 40);
    }

    @Test
    void beamSearchAndSamplingRun() {
        CliRunner beams = CliRunner.run("generate", "-p", "Once upon a time", "--beams", "4", "-n", "30");
        assertThat(beams.exitCode()).as(beams.err()).isZero();
        assertThat(beams.out()).startsWith("Once upon a time");
        assertThat(beams.err()).contains("4 beams");
        CliRunner a = CliRunner.run("generate", "-p", "Once upon a time", "--temp", "1.0", "--seed", "7", "-n", "30");
        CliRunner b = CliRunner.run("generate", "-p", "Once upon a time", "--temp", "1.0", "--seed", "7", "-n", "30");
        assertThat(a.out()).isEqualTo(b.out());
    }

    @Test
    void tinyRandomLlama2VocabularyGenerates() {
        CliRunner r = CliRunner.run("generate", "-m", Shared.file("models/tiny-random/llama-2-tiny-random.gguf").toString(),
                "-p", "Hello world", "-n", "8", "--seed", "1");
        assertThat(r.exitCode()).as(r.err()).isZero();
        assertThat(r.out()).startsWith("Hello world");
        assertThat(r.err()).contains("generated 8 tokens");
    }

    @Test
    void tokenizePrintsIdsWithBos() {
        CliRunner r = CliRunner.run("tokenize", "-m", Shared.file("models/stories260K/stories260K.gguf").toString(), "-p", "Once upon a time");
        assertThat(r.out().strip()).isEqualTo("1 403 407 261 378");
        CliRunner noBos = CliRunner.run("tokenize", "-p", "Once upon a time", "--no-bos");
        assertThat(noBos.out().strip()).isEqualTo("403 407 261 378");
    }

    @Test
    void inspectPrintsHyperParametersTokenizerAndTensors() {
        CliRunner r = CliRunner.run("inspect", Shared.file("models/stories260K/hf").toString());
        assertThat(r.exitCode()).as(r.err()).isZero();
        assertThat(r.out()).contains("n_layer:          5").contains("n_head_kv:        4").contains("n_ff:             172")
                .contains("tokenizer:").contains("model.layers.0.self_attn.q_proj.weight");
    }

    private static String[] concat(String[] a, String[] b) {
        String[] out = java.util.Arrays.copyOf(a, a.length + b.length);
        System.arraycopy(b, 0, out, a.length, b.length);
        return out;
    }
}
