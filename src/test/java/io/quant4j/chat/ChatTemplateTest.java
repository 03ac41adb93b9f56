package io.quant4j.chat;

import com.fasterxml.jackson.databind.ObjectMapper;
import io.quant4j.testing.Shared;
import org.junit.jupiter.api.Test;

import java.io.IOException;
import java.util.List;
import java.util.Optional;

import static io.quant4j.chat.ChatMessage.assistant;
import static io.quant4j.chat.ChatMessage.system;
import static io.quant4j.chat.ChatMessage.user;
import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

/**
 * Expected strings are written from each format's published description (FastChat's vicuna_v1.1, the Guanaco
 * model card, Stanford Alpaca's PROMPT_DICT, Meta's Llama-2 chat_completion, the Llama-3 and Qwen3 Jinja
 * templates in ../shared) and exclude the leading BOS, which the tokenizer adds.
 */
class ChatTemplateTest {
    private static final List<ChatMessage> TWO_TURNS = List.of(
            system("You are terse."),
            user("Hi"),
            assistant("Hello!"),
            user("Name a color."));

    @Test
    void vicuna() {
        assertThat(ChatTemplate.VICUNA.render(TWO_TURNS, true))
                .isEqualTo("You are terse. USER: Hi ASSISTANT: Hello!</s>USER: Name a color. ASSISTANT:");
        assertThat(ChatTemplate.VICUNA.render(List.of(user("Hi")), true)).isEqualTo(
                "A chat between a curious user and an artificial intelligence assistant. The assistant gives helpful, "
                        + "detailed, and polite answers to the user's questions. USER: Hi ASSISTANT:");
    }

    @Test
    void guanaco() {
        assertThat(ChatTemplate.GUANACO.render(TWO_TURNS, true))
                .isEqualTo("You are terse.\n### Human: Hi\n### Assistant: Hello!\n### Human: Name a color.\n### Assistant:");
        assertThat(ChatTemplate.GUANACO.render(List.of(user("Hi")), true)).isEqualTo("### Human: Hi\n### Assistant:");
    }

    @Test
    void alpaca() {
        assertThat(ChatTemplate.ALPACA.render(TWO_TURNS, true)).isEqualTo("You are terse.\n\n"
                + "### Instruction:\nHi\n\n### Response:\nHello!\n\n"
                + "### Instruction:\nName a color.\n\n### Response:\n");
        assertThat(ChatTemplate.ALPACA.render(List.of(user("List three fruits.")), true)).isEqualTo(
                "Below is an instruction that describes a task. Write a response that appropriately completes the request.\n\n"
                        + "### Instruction:\nList three fruits.\n\n### Response:\n");
    }

    @Test
    void llama2() {
        String expected = "[INST] <<SYS>>\nYou are terse.\n<</SYS>>\n\nHi [/INST] Hello! </s><s>[INST] Name a color. [/INST]";
        assertThat(ChatTemplate.LLAMA2.render(TWO_TURNS, true)).isEqualTo(expected);
        assertThat(ChatTemplate.LLAMA2.render(TWO_TURNS, false)).as("[/INST] is the generation cue").isEqualTo(expected);
        assertThat(ChatTemplate.LLAMA2.render(List.of(user("  Hi \n"), assistant(" Yo ")), false))
                .isEqualTo("[INST] Hi [/INST] Yo </s>");
        assertThatThrownBy(() -> ChatTemplate.LLAMA2.render(List.of(user("a"), user("b")), true))
                .isInstanceOf(IllegalArgumentException.class).hasMessageContaining("alternate");
    }

    @Test
    void llama3() {
        assertThat(ChatTemplate.LLAMA3.render(TWO_TURNS, true)).isEqualTo(
                "<|start_header_id|>system<|end_header_id|>\n\nYou are terse.<|eot_id|>"
                        + "<|start_header_id|>user<|end_header_id|>\n\nHi<|eot_id|>"
                        + "<|start_header_id|>assistant<|end_header_id|>\n\nHello!<|eot_id|>"
                        + "<|start_header_id|>user<|end_header_id|>\n\nName a color.<|eot_id|>"
                        + "<|start_header_id|>assistant<|end_header_id|>\n\n");
        assertThat(ChatTemplate.LLAMA3.render(List.of(user(" Hi\n")), false))
                .isEqualTo("<|start_header_id|>user<|end_header_id|>\n\nHi<|eot_id|>");
    }

    @Test
    void chatml() {
        assertThat(ChatTemplate.CHATML.render(TWO_TURNS, true)).isEqualTo(
                "<|im_start|>system\nYou are terse.<|im_end|>\n"
                        + "<|im_start|>user\nHi<|im_end|>\n"
                        + "<|im_start|>assistant\nHello!<|im_end|>\n"
                        + "<|im_start|>user\nName a color.<|im_end|>\n"
                        + "<|im_start|>assistant\n");
        assertThat(ChatTemplate.CHATML.render(List.of(user("Hi")), false)).isEqualTo("<|im_start|>user\nHi<|im_end|>\n");
    }

    @Test
    void aSystemMessageOnlyAtTheTopWhereTheFormatHasNoOtherPlace() {
        List<ChatMessage> late = List.of(user("Hi"), system("Be brief."));
        for (ChatTemplate t : List.of(ChatTemplate.VICUNA, ChatTemplate.GUANACO, ChatTemplate.ALPACA, ChatTemplate.LLAMA2)) {
            assertThatThrownBy(() -> t.render(late, true)).isInstanceOf(IllegalArgumentException.class)
                    .hasMessageContaining("system message only as the first message");
        }
        assertThat(ChatTemplate.CHATML.render(late, false)).endsWith("<|im_start|>system\nBe brief.<|im_end|>\n");
    }

    @Test
    void stopStringsAndEndOfTurnTokens() {
        assertThat(ChatTemplate.VICUNA.stopStrings()).contains("USER:");
        assertThat(ChatTemplate.GUANACO.stopStrings()).contains("### Human:");
        assertThat(ChatTemplate.ALPACA.stopStrings()).contains("### Instruction:");
        assertThat(ChatTemplate.LLAMA2.stopStrings()).contains("[INST]");
        assertThat(ChatTemplate.LLAMA3.stopStrings()).contains("<|eot_id|>");
        assertThat(ChatTemplate.CHATML.stopStrings()).contains("<|im_end|>");
        assertThat(ChatTemplate.LLAMA3.endOfTurnToken()).contains("<|eot_id|>");
        assertThat(ChatTemplate.CHATML.endOfTurnToken()).contains("<|im_end|>");
        assertThat(ChatTemplate.LLAMA2.endOfTurnToken()).contains("</s>");
        assertThat(ChatTemplate.GUANACO.endOfTurnToken()).isEmpty();
    }

    @Test
    void byName() {
        assertThat(ChatTemplate.byName("vicuna")).isSameAs(ChatTemplate.VICUNA);
        assertThat(ChatTemplate.byName("oasst")).isSameAs(ChatTemplate.GUANACO);
        assertThat(ChatTemplate.byName(" ChatML ")).isSameAs(ChatTemplate.CHATML);
        for (ChatTemplate t : ChatTemplate.builtIns()) {
            assertThat(ChatTemplate.byName(t.name())).isSameAs(t);
        }
        assertThatThrownBy(() -> ChatTemplate.byName("zephyr")).isInstanceOf(IllegalArgumentException.class)
                .hasMessage("unknown chat template 'zephyr'; known: alpaca, chatml, guanaco, llama2, llama3, oasst, vicuna");
    }

    @Test
    void detectsTheRealLlama3AndQwen3Templates() throws IOException {
        assertThat(ChatTemplate.detect(jinja("tokenizers/llama3-hf/tokenizer_config.json"))).contains(ChatTemplate.LLAMA3);
        assertThat(ChatTemplate.detect(jinja("tokenizers/qwen3-hf/tokenizer_config.json"))).contains(ChatTemplate.CHATML);
    }

    private static String jinja(String sharedPath) throws IOException {
        String t = new ObjectMapper().readTree(Shared.file(sharedPath).toFile()).get("chat_template").asText();
        assertThat(t).isNotBlank();
        return t;
    }

    @Test
    void detectsByDistinctiveMarkers() {
        // abbreviated Jinja in each family's style
        assertThat(ChatTemplate.detect("{% for m in messages %}{% if m['role'] == 'user' %}{{ bos_token + '[INST] ' + "
                + "m['content'].strip() + ' [/INST]' }}{% endif %}{% endfor %}")).contains(ChatTemplate.LLAMA2);
        assertThat(ChatTemplate.detect("{% for m in messages %}{% if m['role'] == 'user' %}{{ 'USER: ' + m['content'] + ' ' }}"
                + "{% else %}{{ 'ASSISTANT: ' + m['content'] + eos_token }}{% endif %}{% endfor %}")).contains(ChatTemplate.VICUNA);
        assertThat(ChatTemplate.detect("{{ '### Instruction:\\n' + messages[0]['content'] + '\\n\\n### Response:\\n' }}"))
                .contains(ChatTemplate.ALPACA);
        assertThat(ChatTemplate.detect("{% for m in messages %}{{ '### Human: ' if m['role'] == 'user' else '### Assistant: ' }}"
                + "{{ m['content'] }}{% endfor %}")).contains(ChatTemplate.GUANACO);
        assertThat(ChatTemplate.detect("{{ '<start_of_turn>user\\n' + messages[0]['content'] + '<end_of_turn>\\n' }}")).isEmpty();
        assertThat(ChatTemplate.detect(null)).isEqualTo(Optional.empty());
    }

    @Test
    void messagesHaveKnownRoles() {
        assertThatThrownBy(() -> new ChatMessage("tool", "x")).isInstanceOf(IllegalArgumentException.class)
                .hasMessageContaining("system, user or assistant");
    }
}
