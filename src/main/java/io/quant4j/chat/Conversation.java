package io.quant4j.chat;

import java.util.List;
import java.util.Optional;

/**
 * A message list split into its leading system prompt and the turns after it, for formats that can only put a
 * system prompt at the top.
 */
record Conversation(Optional<String> system, List<ChatMessage> turns) {

    static Conversation of(List<ChatMessage> messages, String templateName) {
        Optional<String> system = Optional.empty();
        List<ChatMessage> turns = messages;
        if (!messages.isEmpty() && messages.get(0).isSystem()) {
            system = Optional.of(messages.get(0).content());
            turns = messages.subList(1, messages.size());
        }
        for (ChatMessage m : turns) {
            if (m.isSystem()) {
                throw new IllegalArgumentException("the " + templateName + " template takes a system message only as the first message");
            }
        }
        return new Conversation(system, turns);
    }
}
