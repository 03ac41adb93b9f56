package io.quant4j.cli;

import io.quant4j.chat.ChatMessage;
import io.quant4j.chat.ChatTemplate;
import io.quant4j.chat.StopStrings;
import io.quant4j.model.LlamaSession;
import io.quant4j.runtime.LoadedModel;
import io.quant4j.sampling.GenerationResult;
import io.quant4j.sampling.Generator;
import io.quant4j.sampling.Sampler;
import io.quant4j.tokenizer.Tokenizer;
import picocli.CommandLine.Command;
import picocli.CommandLine.Mixin;
import picocli.CommandLine.Option;
import picocli.CommandLine.Spec;
import picocli.CommandLine.Model.CommandSpec;

import java.io.BufferedReader;
import java.io.IOException;
import java.io.InputStreamReader;
import java.io.PrintWriter;
import java.nio.charset.StandardCharsets;
import java.util.ArrayList;
import java.util.Arrays;
import java.util.List;
import java.util.concurrent.Callable;

/**
 * {@code quant4j chat}: an interactive conversation on stdin/stdout. Each turn renders the whole conversation
 * with the chat template and feeds only the tokens the KV cache does not hold yet.
 */
@Command(name = "chat", mixinStandardHelpOptions = true, description = "Chat with a model (one user turn per line; /exit or end of input ends).")
public final class ChatCommand implements Callable<Integer> {
    @Mixin
    ModelOptions modelOptions;

    @Mixin
    SamplingOptions sampling;

    @Option(names = "--template", paramLabel = "NAME", description = "vicuna, guanaco (oasst), alpaca, llama2, llama3, chatml (default: from the model)")
    String templateName;

    @Option(names = "--system", paramLabel = "TEXT", description = "system prompt")
    String system;

    @Option(names = {"-n", "--n-predict"}, paramLabel = "N", description = "most tokens per reply (default 512)")
    int nPredict = 512;

    @Option(names = {"-c", "--ctx-size"}, paramLabel = "N", description = "context size (default: the model's)")
    Integer ctxSize;

    @Spec
    CommandSpec spec;

    @Override
    public Integer call() throws IOException {
        PrintWriter out = spec.commandLine().getOut();
        PrintWriter err = spec.commandLine().getErr();
        ChatTemplate explicit = templateName != null ? ChatTemplate.byName(templateName) : null;
        Sampler sampler = new Sampler(sampling.config());
        try (LoadedModel model = modelOptions.load()) {
            ChatTemplate template = explicit != null ? explicit : model.chatTemplate().flatMap(ChatTemplate::detect).orElse(null);
            if (template == null) {
                template = ChatTemplate.byName("vicuna");
                err.println("note: the model names no known chat template; using vicuna (choose with --template)");
            }
            err.printf("chat template: %s. Type a message and press Enter; /exit or end of input quits.%n", template.name());
            Tokenizer tok = model.tokenizer();
            int ctx = ctxSize != null ? ctxSize : model.weights().config().contextLength();
            LlamaSession session = model.llama().newSession(ctx);
            List<ChatMessage> messages = new ArrayList<>();
            if (system != null && !system.isBlank()) {
                messages.add(ChatMessage.system(system));
            }
            StopStrings stops = new StopStrings(template.stopStrings());
            int[] fed = new int[0];
            BufferedReader in = new BufferedReader(new InputStreamReader(System.in, StandardCharsets.UTF_8));
            while (true) {
                err.print("> ");
                err.flush();
                String line = in.readLine();
                if (line == null || line.strip().equals("/exit")) {
                    break;
                }
                if (line.isBlank()) {
                    continue;
                }
                messages.add(ChatMessage.user(line));
                int[] all = tok.encode(template.render(messages, true), true, true);
                int common = commonPrefix(fed, all);
                if (common == all.length) {
                    common--; // the last token must be fed again to get its logits
                }
                if (all.length >= session.contextLength()) {
                    throw new UserException("the conversation no longer fits the context of " + session.contextLength() + " tokens");
                }
                session.rewind(Math.min(common, session.position()));
                int[] suffix = Arrays.copyOfRange(all, session.position(), all.length);
                StringBuilder reply = new StringBuilder();
                int[] printed = {0};
                var decoder = new io.quant4j.tokenizer.StreamingDecoder(tok);
                GenerationResult r = Generator.generate(session, suffix, nPredict, sampler, tok::isEndOfGeneration, t -> {
                    reply.append(decoder.accept(t));
                    int stop = stops.find(reply);
                    int safe = stop >= 0 ? stop : stops.safeLength(reply);
                    if (safe > printed[0]) {
                        out.print(reply.substring(printed[0], safe));
                        out.flush();
                        printed[0] = safe;
                    }
                    return stop < 0;
                });
                int stop = stops.find(reply);
                String text = stop >= 0 ? reply.substring(0, stop) : reply.toString();
                if (stop < 0 && printed[0] < text.length()) {
                    out.print(text.substring(printed[0]));
                }
                out.println();
                out.flush();
                messages.add(ChatMessage.assistant(text.strip()));
                int[] generated = r.tokens();
                fed = new int[all.length + generated.length];
                System.arraycopy(all, 0, fed, 0, all.length);
                System.arraycopy(generated, 0, fed, all.length, generated.length);
                fed = Arrays.copyOf(fed, Math.min(fed.length, session.position()));
            }
        }
        return 0;
    }

    private static int commonPrefix(int[] a, int[] b) {
        int n = Math.min(a.length, b.length);
        int i = 0;
        while (i < n && a[i] == b[i]) {
            i++;
        }
        return i;
    }
}
