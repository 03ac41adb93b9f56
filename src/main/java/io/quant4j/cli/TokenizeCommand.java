package io.quant4j.cli;

import io.quant4j.runtime.LoadedModel;
import io.quant4j.tokenizer.Tokenizer;
import picocli.CommandLine.Command;
import picocli.CommandLine.Mixin;
import picocli.CommandLine.Option;
import picocli.CommandLine.Spec;
import picocli.CommandLine.Model.CommandSpec;

import java.util.StringJoiner;
import java.util.concurrent.Callable;

/** {@code quant4j tokenize -m MODEL -p TEXT [--no-bos]}: prints token ids separated by spaces. */
@Command(name = "tokenize", mixinStandardHelpOptions = true, description = "Print the token ids of a text.")
public final class TokenizeCommand implements Callable<Integer> {
    @Mixin
    ModelOptions modelOptions;

    @Option(names = {"-p", "--prompt"}, required = true, paramLabel = "TEXT", description = "text to tokenize")
    String prompt;

    @Option(names = "--no-bos", description = "do not add the BOS token")
    boolean noBos;

    @Option(names = "--parse-special", description = "map special-token texts such as <s> to their ids")
    boolean parseSpecial;

    @Option(names = "--show-pieces", description = "print one 'id piece' line per token instead")
    boolean showPieces;

    @Spec
    CommandSpec spec;

    @Override
    public Integer call() {
        try (LoadedModel model = modelOptions.load()) {
            Tokenizer tok = model.tokenizer();
            int[] ids = tok.encode(prompt, !noBos, parseSpecial);
            if (showPieces) {
                for (int id : ids) {
                    spec.commandLine().getOut().println(id + " " + tok.tokenText(id));
                }
            } else {
                StringJoiner j = new StringJoiner(" ");
                for (int id : ids) {
                    j.add(Integer.toString(id));
                }
                spec.commandLine().getOut().println(j);
            }
        }
        return 0;
    }
}
