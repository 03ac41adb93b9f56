package io.quant4j.train.data;

import io.quant4j.chat.ChatTemplate;
import io.quant4j.format.ModelFormatException;
import io.quant4j.runtime.LoadedModel;
import io.quant4j.testing.Shared;
import io.quant4j.tokenizer.Tokenizer;
import io.quant4j.train.TrainingExample;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.Arrays;
import java.util.List;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

class JsonlDatasetTest {
    static Tokenizer tokenizer;

    @TempDir
    Path dir;

    @BeforeAll
    static void load() {
        tokenizer = LoadedModel.loadTokenizer(Shared.file("models/stories260K/stories260K.gguf"), 512);
    }

    private List<TrainingExample> read(DatasetFormat format, String jsonl, boolean trainOnInputs, int sequenceLen) throws IOException {
        Path p = dir.resolve("data.jsonl");
        Files.writeString(p, jsonl);
        return JsonlDataset.read(new JsonlDataset.Source(p, format, "text", ChatTemplate.VICUNA),
                new ExampleTokenizer(tokenizer, trainOnInputs), sequenceLen).examples();
    }

    /** The text of the target tokens (what the model learns to produce). */
    private static String trained(TrainingExample e) {
        int[] ids = new int[e.tokens().length];
        int n = 0;
        for (int t = 0; t < ids.length; t++) {
            if (e.targets()[t] && e.tokens()[t] != tokenizer.eos()) {
                ids[n++] = e.tokens()[t];
            }
        }
        return tokenizer.decode(Arrays.copyOf(ids, n));
    }

    @Test
    void alpacaMasksThePromptAndTrainsTheOutputAndEos() throws IOException {
        String line = "{\"instruction\":\"Tell a story.\",\"input\":\"\",\"output\":\"Once upon a time, a cat sat.\"}\n";
        TrainingExample e = read(DatasetFormat.ALPACA, line, false, 256).getFirst();
        assertThat(e.tokens()[0]).isEqualTo(tokenizer.bos());
        assertThat(e.tokens()[e.tokens().length - 1]).isEqualTo(tokenizer.eos());
        assertThat(e.targets()[e.tokens().length - 1]).isTrue();
        assertThat(trained(e).strip()).isEqualTo("Once upon a time, a cat sat.");
        String all = tokenizer.decode(e.tokens());
        assertThat(all).contains("### Instruction:\nTell a story.\n\n### Response:\n").doesNotContain("### Input:");

        TrainingExample withInputs = read(DatasetFormat.ALPACA, line, true, 256).getFirst();
        assertThat(withInputs.targetCount()).isEqualTo(withInputs.tokens().length - 1);
    }

    @Test
    void alpacaWithInputAndTooLongRecordsDropped() throws IOException {
        String line = "{\"instruction\":\"Add.\",\"input\":\"2 and 3\",\"output\":\"5\"}\n"
                + "{\"instruction\":\"" + "word ".repeat(300) + "\",\"output\":\"x\"}\n";
        Path p = dir.resolve("a.jsonl");
        Files.writeString(p, line);
        JsonlDataset.Loaded loaded = JsonlDataset.read(new JsonlDataset.Source(p, DatasetFormat.ALPACA, "text", null),
                new ExampleTokenizer(tokenizer, false), 256);
        assertThat(loaded.records()).isEqualTo(2);
        assertThat(loaded.droppedTooLong()).isEqualTo(1);
        assertThat(tokenizer.decode(loaded.examples().getFirst().tokens())).contains("### Input:\n2 and 3\n\n### Response:\n");
    }

    @Test
    void sharegptTrainsTheAssistantTurnsOnly() throws IOException {
        String line = "{\"conversations\":[{\"from\":\"human\",\"value\":\"Hi there\"},{\"from\":\"gpt\",\"value\":\"Hello friend\"},"
                + "{\"from\":\"human\",\"value\":\"A story?\"},{\"from\":\"gpt\",\"value\":\"Once upon a time.\"}]}";
        TrainingExample e = read(DatasetFormat.SHAREGPT, line, false, 512).getFirst();
        String trained = trained(e);
        assertThat(trained).contains("Hello friend").contains("Once upon a time.").doesNotContain("Hi there").doesNotContain("USER");
        // </s> closing each assistant turn is parsed as the EOS token and trained
        long eosTargets = 0;
        for (int t = 0; t < e.tokens().length; t++) {
            if (e.tokens()[t] == tokenizer.eos() && e.targets()[t]) {
                eosTargets++;
            }
        }
        assertThat(eosTargets).isEqualTo(2);
    }

    @Test
    void oasstTrainsWhatFollowsAssistantMarkers() throws IOException {
        String line = "{\"text\":\"### Human: Who is Tom?### Assistant: Tom is a dog.### Human: And Lily?### Assistant: Lily is a girl.\"}";
        TrainingExample e = read(DatasetFormat.OASST, line, false, 512).getFirst();
        String trained = trained(e);
        assertThat(trained).contains("Tom is a dog.").contains("Lily is a girl.").doesNotContain("Who").doesNotContain("###");
    }

    @Test
    void completionIsCutIntoWindowsAllTrained() throws IOException {
        String text = "Once upon a time there was a little dog. ".repeat(30);
        List<TrainingExample> es = read(DatasetFormat.COMPLETION, "{\"text\":\"" + text + "\"}", false, 64);
        assertThat(es.size()).isGreaterThan(3);
        assertThat(es).allSatisfy(e -> assertThat(e.tokens().length).isLessThanOrEqualTo(64));
        TrainingExample second = es.get(1);
        assertThat(second.targetCount()).isEqualTo(second.tokens().length - 1);
    }

    @Test
    void badRecordsNameTheLine() throws IOException {
        assertThatThrownBy(() -> read(DatasetFormat.ALPACA, "{\"instruction\":\"a\",\"output\":\"b\"}\n\n{\"instruction\":\"a\"}\n", false, 64))
                .isInstanceOf(ModelFormatException.class).hasMessageContaining("line 3").hasMessageContaining("\"output\"");
        assertThatThrownBy(() -> read(DatasetFormat.COMPLETION, "{not json\n", false, 64))
                .isInstanceOf(ModelFormatException.class).hasMessageContaining("line 1");
        assertThatThrownBy(() -> DatasetFormat.parse("csv")).hasMessageContaining("unknown dataset type 'csv'");
    }
}
