// Prints one line of logits per position for the given token ids, from a model with an optional PEFT adapter
// (for scripts/peft_crosscheck.py).
// usage: java --add-modules jdk.incubator.vector -cp target/quant4j.jar scripts/DumpLogits.java MODEL ADAPTER|- TOKENIZER|- IDS...
import io.quant4j.runtime.LoadedModel;

import java.nio.file.Path;

public class DumpLogits {
    public static void main(String[] args) {
        Path lora = args[1].equals("-") ? null : Path.of(args[1]);
        Path tokenizer = args[2].equals("-") ? null : Path.of(args[2]);
        try (LoadedModel m = LoadedModel.load(Path.of(args[0]), tokenizer, lora)) {
            var session = m.llama().newSession(args.length - 3);
            StringBuilder out = new StringBuilder();
            for (int i = 3; i < args.length; i++) {
                float[] logits = session.forward(Integer.parseInt(args[i]));
                for (int j = 0; j < logits.length; j++) {
                    out.append(j == 0 ? "" : " ").append(logits[j]);
                }
                out.append('\n');
            }
            System.out.print(out);
        }
    }
}
