// Writes JSONL training text sampled from a model: {"text": ...} per line, each line one sampling run of N tokens
// started from BOS with seed SEED+i, stories (the model separates them with BOS) joined by newlines as in
// TinyStories-sample-30KB.txt. This is `quant4j generate -p "" --temp 1 --top-k 0 --top-p 1 --min-p 0 --seed S`
// run COUNT times in one JVM: plain sampling at temperature 1, so the text follows the model's own distribution.
//
// usage: java --add-modules jdk.incubator.vector -cp target/quant4j.jar scripts/SampleStories.java MODEL COUNT TOKENS SEED > out.jsonl
import io.quant4j.runtime.LoadedModel;
import io.quant4j.sampling.Generator;
import io.quant4j.sampling.Sampler;
import io.quant4j.sampling.SamplerConfig;
import io.quant4j.tensor.Parallel;

import java.nio.file.Path;
import java.util.ArrayList;
import java.util.Arrays;
import java.util.List;

public class SampleStories {
    public static void main(String[] args) throws Exception {
        Path model = Path.of(args[0]);
        int count = Integer.parseInt(args[1]);
        int tokens = Integer.parseInt(args[2]);
        long seed = Long.parseLong(args[3]);
        Parallel.setThreads(1);
        var json = new com.fasterxml.jackson.databind.ObjectMapper();
        try (LoadedModel m = LoadedModel.load(model, null)) {
            var tok = m.tokenizer();
            for (int i = 0; i < count; i++) {
                SamplerConfig c = SamplerConfig.defaults(seed + i).withTemperature(1f).withTopK(0).withTopP(1f).withMinP(0f);
                List<Integer> out = new ArrayList<>();
                Generator.generate(m.llama().newSession(tokens + 1), new int[] {tok.bos()}, tokens, new Sampler(c), t -> false,
                        t -> { out.add(t); return true; });
                List<String> stories = new ArrayList<>();
                List<Integer> story = new ArrayList<>();
                for (int t : out) {
                    if (t == tok.bos() || t == tok.eos()) {
                        stories.add(tok.decode(story.stream().mapToInt(Integer::intValue).toArray()).strip());
                        story.clear();
                    } else {
                        story.add(t);
                    }
                }
                stories.add(tok.decode(story.stream().mapToInt(Integer::intValue).toArray()).strip());
                stories.removeIf(String::isEmpty);
                System.out.println(json.writeValueAsString(java.util.Map.of("text", String.join("\n", stories))));
            }
        }
    }
}
