package io.quant4j.chat;

import java.util.List;
import java.util.Optional;

/**
 * Vicuna v1.1 as FastChat's {@code vicuna_v1.1} conversation renders it: the system prompt, then
 * {@code USER: text ASSISTANT: reply</s>} turns separated by single spaces, and {@code ASSISTANT:} to prompt.
 */
final class VicunaTemplate implements ChatTemplate {
    static final String DEFAULT_SYSTEM = "A chat between a curious user and an artificial intelligence assistant. "
            + "The assistant gives helpful, detailed, and polite answers to the user's questions.";

    @Override
    public String name() {
        return "vicuna";
    }

    @Override
    public String render(List<ChatMessage> messages, boolean addGenerationPrompt) {
        Conversation c = Conversation.of(messages, name());
        StringBuilder sb = new StringBuilder();
        String system = c.system().orElse(DEFAULT_SYSTEM);
        if (!system.isEmpty()) {
            sb.append(system).append(' ');
        }
        for (ChatMessage m : c.turns()) {
            if (m.isUser()) {
                sb.append("USER: ").append(m.content()).append(' ');
            } else {
                sb.append("ASSISTANT: ").append(m.content()).append("</s>");
            }
        }
        if (addGenerationPrompt) {
            sb.append("ASSISTANT:");
        }
        return sb.toString();
    }

    @Override
    public List<String> stopStrings() {
        return List.of("USER:");
    }

    @Override
    public Optional<String> endOfTurnToken() {
        return Optional.of("</s>");
    }
}
