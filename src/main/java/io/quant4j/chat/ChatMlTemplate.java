package io.quant4j.chat;

import java.util.List;
import java.util.Optional;

/** ChatML (Qwen and others): {@code <|im_start|>role\ncontent<|im_end|>\n} per message; there is no BOS text. */
final class ChatMlTemplate implements ChatTemplate {

    @Override
    public String name() {
        return "chatml";
    }

    @Override
    public String render(List<ChatMessage> messages, boolean addGenerationPrompt) {
        StringBuilder sb = new StringBuilder();
        for (ChatMessage m : messages) {
            sb.append("<|im_start|>").append(m.role()).append('\n').append(m.content()).append("<|im_end|>\n");
        }
        if (addGenerationPrompt) {
            sb.append("<|im_start|>assistant\n");
        }
        return sb.toString();
    }

    @Override
    public List<String> stopStrings() {
        return List.of("<|im_end|>", "<|im_start|>");
    }

    @Override
    public Optional<String> endOfTurnToken() {
        return Optional.of("<|im_end|>");
    }
}
