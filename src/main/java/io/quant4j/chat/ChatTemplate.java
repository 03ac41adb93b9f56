package io.quant4j.chat;

import java.util.List;
import java.util.Locale;
import java.util.Map;
import java.util.Optional;
import java.util.TreeMap;

/**
 * A built-in chat prompt format.
 *
 * <p><b>BOS convention.</b> {@link #render} never writes the leading BOS token (e.g. {@code <s>},
 * {@code <|begin_of_text|>}): the caller tokenizes the rendered text with the tokenizer's BOS added. Special
 * tokens that a format needs inside the conversation ({@code </s><s>} between Llama-2 turns, {@code <|eot_id|>},
 * {@code <|im_end|>}) are written as text and must be tokenized with special-token parsing on.
 *
 * <p>{@link #stopStrings()} are texts that mean the model has started the next turn by itself; a chat stops
 * generating when one appears (see {@link StopStrings}). {@link #endOfTurnToken()} names the special token that
 * closes an assistant turn in this format, to add to the end-of-generation predicate next to the model's EOS.
 */
public sealed interface ChatTemplate permits VicunaTemplate, GuanacoTemplate, AlpacaTemplate, Llama2Template,
        Llama3Template, ChatMlTemplate {

    ChatTemplate VICUNA = new VicunaTemplate();
    ChatTemplate GUANACO = new GuanacoTemplate();
    ChatTemplate ALPACA = new AlpacaTemplate();
    ChatTemplate LLAMA2 = new Llama2Template();
    ChatTemplate LLAMA3 = new Llama3Template();
    ChatTemplate CHATML = new ChatMlTemplate();

    /** The name {@link #byName} knows it by. */
    String name();

    /**
     * Renders the conversation (without the leading BOS). With {@code addGenerationPrompt} the text ends with the
     * opening of an assistant turn, ready for the model to continue.
     */
    String render(List<ChatMessage> messages, boolean addGenerationPrompt);

    List<String> stopStrings();

    Optional<String> endOfTurnToken();

    static List<ChatTemplate> builtIns() {
        return List.of(VICUNA, GUANACO, ALPACA, LLAMA2, LLAMA3, CHATML);
    }

    /** A built-in by name (case-insensitive); "oasst" is another name for guanaco. */
    static ChatTemplate byName(String name) {
        Map<String, ChatTemplate> names = new TreeMap<>();
        for (ChatTemplate t : builtIns()) {
            names.put(t.name(), t);
        }
        names.put("oasst", GUANACO);
        ChatTemplate t = name == null ? null : names.get(name.strip().toLowerCase(Locale.ROOT));
        if (t == null) {
            throw new IllegalArgumentException("unknown chat template '" + name + "'; known: " + String.join(", ", names.keySet()));
        }
        return t;
    }

    /**
     * The built-in a Jinja chat template (GGUF {@code tokenizer.chat_template}, {@code tokenizer_config.json}'s
     * {@code chat_template}) corresponds to, found by its distinctive markers in the order llama.cpp's
     * {@code llm_chat_detect_template} checks them. Mistral's {@code [INST]} templates come out as llama2.
     */
    static Optional<ChatTemplate> detect(String jinjaTemplate) {
        if (jinjaTemplate == null) {
            return Optional.empty();
        }
        String t = jinjaTemplate;
        if (t.contains("<|im_start|>")) {
            return Optional.of(CHATML);
        }
        if (t.contains("[INST]")) {
            return Optional.of(LLAMA2);
        }
        if (t.contains("<|start_header_id|>") && t.contains("<|end_header_id|>")) {
            return Optional.of(LLAMA3);
        }
        if (t.contains("### Instruction")) {
            return Optional.of(ALPACA);
        }
        if (t.contains("USER:") && t.contains("ASSISTANT:")) {
            return Optional.of(VICUNA);
        }
        if (t.contains("### Human")) {
            return Optional.of(GUANACO);
        }
        return Optional.empty();
    }
}
