package io.quant4j.cli;

import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.parallel.Isolated;

import java.io.ByteArrayInputStream;
import java.io.InputStream;
import java.nio.charset.StandardCharsets;

import static org.assertj.core.api.Assertions.assertThat;

/** The interactive chat driven through stdin: two turns, the second reusing the KV cache of the first. */
@Isolated
class ChatCliTest {
    private final InputStream stdin = System.in;

    @AfterEach
    void restoreStdin() {
        System.setIn(stdin);
    }

    @Test
    void twoTurnsWithAnExplicitTemplate() {
        System.setIn(new ByteArrayInputStream("Tell me a story.\nAnd then?\n/exit\n".getBytes(StandardCharsets.UTF_8)));
        CliRunner r = CliRunner.run("chat", "--template", "guanaco", "--system", "You tell stories.", "--temp", "0", "-n", "24");
        assertThat(r.exitCode()).as(r.err()).isZero();
        assertThat(r.err()).contains("chat template: guanaco");
        assertThat(r.err().split("> ", -1)).hasSize(4); // three prompts: two turns and the /exit
        assertThat(r.out().lines().filter(l -> !l.isBlank()).count()).isGreaterThanOrEqualTo(2);
        assertThat(r.out()).doesNotContain("### Human:");
    }

    @Test
    void modelWithoutTemplateFallsBackWithANote() {
        System.setIn(new ByteArrayInputStream("Hi\n".getBytes(StandardCharsets.UTF_8)));
        CliRunner r = CliRunner.run("chat", "--temp", "0", "-n", "8");
        assertThat(r.exitCode()).as(r.err()).isZero();
        assertThat(r.err()).contains("no known chat template").contains("vicuna");
    }
}
