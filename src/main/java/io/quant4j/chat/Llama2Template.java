package io.quant4j.chat;

import java.util.List;
import java.util.Optional;

/**
 * Llama-2-chat as Meta's reference code builds it: each exchange is {@code <s>[INST] user [/INST] reply </s>},
 * contents stripped, the system prompt wrapped in {@code <<SYS>>} inside the first user message. The first
 * {@code <s>} is the tokenizer's BOS and is not rendered. The user turn already ends with {@code [/INST]}, the
 * cue to answer, so {@code addGenerationPrompt} adds nothing.
 */
final class Llama2Template implements ChatTemplate {

    @Override
    public String name() {
        return "llama2";
    }

    @Override
    public String render(List<ChatMessage> messages, boolean addGenerationPrompt) {
        Conversation c = Conversation.of(messages, name());
        List<ChatMessage> turns = c.turns();
        StringBuilder sb = new StringBuilder();
        for (int i = 0; i < turns.size(); i++) {
            ChatMessage m = turns.get(i);
            boolean userTurn = i % 2 == 0;
            if (m.isUser() != userTurn) {
                throw new IllegalArgumentException("the llama2 template needs user and assistant messages to alternate, "
                        + "starting with user (message " + (i + 1) + " after the system prompt is " + m.role() + ")");
            }
            if (userTurn) {
                String content = m.content();
                if (i == 0 && c.system().isPresent()) {
                    content = "<<SYS>>\n" + c.system().get() + "\n<</SYS>>\n\n" + content;
                }
                sb.append(i == 0 ? "" : "<s>").append("[INST] ").append(content.strip()).append(" [/INST]");
            } else {
                sb.append(' ').append(m.content().strip()).append(" </s>");
            }
        }
        return sb.toString();
    }

    @Override
    public List<String> stopStrings() {
        return List.of("[INST]");
    }

    @Override
    public Optional<String> endOfTurnToken() {
        return Optional.of("</s>");
    }
}
