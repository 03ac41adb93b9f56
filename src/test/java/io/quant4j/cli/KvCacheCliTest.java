package io.quant4j.cli;

import io.quant4j.testing.Shared;
import org.junit.jupiter.api.Test;

import static org.assertj.core.api.Assertions.assertThat;

/** The F16 KV cache (llama.cpp's default) gives llama.cpp's greedy stories260K continuation too; bad types are refused. */
class KvCacheCliTest {
    @Test
    void f16CacheGivesTheGoldenContinuation() {
        CliRunner r = CliRunner.run("generate", "-m", Shared.file("models/stories260K/stories260K.gguf").toString(),
                "-p", "Once upon a time", "--temp", "0", "-n", "120", "--kv-type", "f16");
        assertThat(r.exitCode()).as(r.err()).isZero();
        assertThat(r.out()).isEqualTo(GenerateCliTest.GOLDEN + "\n");
    }

    @Test
    void benchPrintsTheTableForBothCacheTypes() {
        for (String kv : new String[] {"f32", "f16"}) {
            CliRunner r = CliRunner.run("bench", "-m", Shared.file("models/stories260K/stories260K.gguf").toString(),
                    "-p", "16,40", "-n", "8", "-r", "2", "--kv-type", kv);
            assertThat(r.exitCode()).as(r.err()).isZero();
            assertThat(r.out()).contains("| model | size | params | type | threads | test | t/s |").contains("| pp16 |")
                    .contains("| pp40 |").contains("| tg8 |").contains(" F32 ");
            assertThat(r.err()).contains("KV cache " + kv.toUpperCase()).contains("peak memory");
        }
    }

    @Test
    void unknownCacheTypeIsAUserError() {
        CliRunner r = CliRunner.run("generate", "-p", "Once", "--kv-type", "q8");
        assertThat(r.exitCode()).isEqualTo(1);
        assertThat(r.err()).contains("--kv-type must be f32 or f16");
    }
}
