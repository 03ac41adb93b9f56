package io.quant4j.chat;

import java.util.List;
import java.util.Optional;

/**
 * Guanaco / OpenAssistant: {@code ### Human: text} and {@code ### Assistant: reply}, one turn per line; an
 * optional system prompt goes on the first line. The model ends a reply with its own EOS.
 */
final class GuanacoTemplate implements ChatTemplate {

    @Override
    public String name() {
        return "guanaco";
    }

    @Override
    public String render(List<ChatMessage> messages, boolean addGenerationPrompt) {
        Conversation c = Conversation.of(messages, name());
        StringBuilder sb = new StringBuilder();
        c.system().ifPresent(s -> sb.append(s).append('\n'));
        for (ChatMessage m : c.turns()) {
            sb.append(m.isUser() ? "### Human: " : "### Assistant: ").append(m.content()).append('\n');
        }
        if (addGenerationPrompt) {
            sb.append("### Assistant:");
        }
        return sb.toString();
    }

    @Override
    public List<String> stopStrings() {
        return List.of("### Human:");
    }

    @Override
    public Optional<String> endOfTurnToken() {
        return Optional.empty();
    }
}
