package io.quant4j.chat;

import java.util.List;
import java.util.Optional;

/**
 * Llama-3 instruct: {@code <|start_header_id|>role<|end_header_id|>\n\ncontent<|eot_id|>} per message, contents
 * trimmed, as the official Jinja template does; its leading {@code <|begin_of_text|>} is the BOS and is not
 * rendered.
 */
final class Llama3Template implements ChatTemplate {

    @Override
    public String name() {
        return "llama3";
    }

    @Override
    public String render(List<ChatMessage> messages, boolean addGenerationPrompt) {
        StringBuilder sb = new StringBuilder();
        for (ChatMessage m : messages) {
            header(sb, m.role()).append(m.content().strip()).append("<|eot_id|>");
        }
        if (addGenerationPrompt) {
            header(sb, ChatMessage.ASSISTANT);
        }
        return sb.toString();
    }

    private static StringBuilder header(StringBuilder sb, String role) {
        return sb.append("<|start_header_id|>").append(role).append("<|end_header_id|>\n\n");
    }

    @Override
    public List<String> stopStrings() {
        return List.of("<|eot_id|>", "<|start_header_id|>");
    }

    @Override
    public Optional<String> endOfTurnToken() {
        return Optional.of("<|eot_id|>");
    }
}
