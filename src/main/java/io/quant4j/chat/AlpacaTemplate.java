package io.quant4j.chat;

import java.util.List;
import java.util.Optional;

/**
 * Stanford Alpaca's no-input prompt: a preamble (the system message, or Alpaca's own), then
 * {@code ### Instruction:\n...\n\n### Response:\n}. Alpaca is single-turn; later turns repeat the same two
 * sections, each followed by a blank line.
 */
final class AlpacaTemplate implements ChatTemplate {
    static final String DEFAULT_PREAMBLE = "Below is an instruction that describes a task. "
            + "Write a response that appropriately completes the request.";

    @Override
    public String name() {
        return "alpaca";
    }

    @Override
    public String render(List<ChatMessage> messages, boolean addGenerationPrompt) {
        Conversation c = Conversation.of(messages, name());
        StringBuilder sb = new StringBuilder();
        String preamble = c.system().orElse(DEFAULT_PREAMBLE);
        if (!preamble.isEmpty()) {
            sb.append(preamble).append("\n\n");
        }
        for (ChatMessage m : c.turns()) {
            sb.append(m.isUser() ? "### Instruction:\n" : "### Response:\n").append(m.content()).append("\n\n");
        }
        if (addGenerationPrompt) {
            sb.append("### Response:\n");
        }
        return sb.toString();
    }

    @Override
    public List<String> stopStrings() {
        return List.of("### Instruction:");
    }

    @Override
    public Optional<String> endOfTurnToken() {
        return Optional.empty();
    }
}
