package io.quant4j.train.data;

import com.fasterxml.jackson.databind.JsonNode;
import io.quant4j.chat.ChatMessage;
import io.quant4j.chat.ChatTemplate;

import java.util.ArrayList;
import java.util.List;
import java.util.Locale;
import java.util.regex.Matcher;
import java.util.regex.Pattern;

/**
 * The JSONL record formats Axolotl's {@code datasets[].type} names, each turned into prompt and response
 * {@link Segment}s:
 * <ul>
 *   <li>{@code alpaca}: {"instruction", "input", "output"} in Axolotl's Alpaca prompt (ending {@code ### Response:\n});</li>
 *   <li>{@code sharegpt}: {"conversations": [{"from", "value"}]} rendered with a chat template; the gpt turns are responses;</li>
 *   <li>{@code completion}: raw text in one field (default "text"), all of it trained;</li>
 *   <li>{@code oasst} (also {@code guanaco}): Guanaco/OpenAssistant text {@code ### Human: ... ### Assistant: ...};
 *       the assistant parts are responses.</li>
 * </ul>
 */
public enum DatasetFormat {
    ALPACA, SHAREGPT, COMPLETION, OASST;

    static final String ALPACA_SYSTEM = "Below is an instruction that describes a task, paired with an input that provides "
            + "further context. Write a response that appropriately completes the request.\n\n";
    static final String ALPACA_SYSTEM_NO_INPUT = "Below is an instruction that describes a task. Write a response that "
            + "appropriately completes the request.\n\n";
    private static final Pattern OASST_TURN = Pattern.compile("### (Human|Assistant):");

    public static DatasetFormat parse(String type) {
        String t = type == null ? "" : type.trim().toLowerCase(Locale.ROOT);
        return switch (t) {
            case "alpaca" -> ALPACA;
            case "sharegpt" -> SHAREGPT;
            case "completion" -> COMPLETION;
            case "oasst", "guanaco" -> OASST;
            default -> throw new IllegalArgumentException("unknown dataset type '" + type + "' (alpaca, sharegpt, completion, oasst)");
        };
    }

    /** Whether an EOS token is appended after the text, as Axolotl's tokenizing strategies do. */
    boolean appendsEos() {
        return this != SHAREGPT; // chat templates close assistant turns themselves
    }

    /** Whether special-token texts ({@code </s>}, {@code <|im_end|>}) written by a chat template are parsed. */
    boolean parsesSpecialTokens() {
        return this == SHAREGPT;
    }

    /**
     * The segments of one record.
     *
     * @param field    the text field of completion/oasst records
     * @param template the chat template of sharegpt records
     */
    List<Segment> segments(JsonNode record, String field, ChatTemplate template) {
        return switch (this) {
            case ALPACA -> alpaca(record);
            case SHAREGPT -> sharegpt(record, template);
            case COMPLETION -> List.of(Segment.response(text(record, field)));
            case OASST -> oasst(text(record, field));
        };
    }

    private static List<Segment> alpaca(JsonNode r) {
        String instruction = text(r, "instruction");
        String output = text(r, "output");
        String input = r.hasNonNull("input") ? text(r, "input") : "";
        String prompt = input.isEmpty()
                ? ALPACA_SYSTEM_NO_INPUT + "### Instruction:\n" + instruction + "\n\n### Response:\n"
                : ALPACA_SYSTEM + "### Instruction:\n" + instruction + "\n\n### Input:\n" + input + "\n\n### Response:\n";
        return List.of(Segment.prompt(prompt), Segment.response(output));
    }

    private static List<Segment> sharegpt(JsonNode r, ChatTemplate template) {
        JsonNode turns = r.get("conversations");
        if (turns == null || !turns.isArray() || turns.isEmpty()) {
            throw new IllegalArgumentException("no \"conversations\" list");
        }
        List<ChatMessage> messages = new ArrayList<>();
        for (JsonNode turn : turns) {
            String from = text(turn, "from").toLowerCase(Locale.ROOT);
            String value = text(turn, "value");
            messages.add(switch (from) {
                case "system" -> ChatMessage.system(value);
                case "human", "user" -> ChatMessage.user(value);
                case "gpt", "assistant" -> ChatMessage.assistant(value);
                default -> throw new IllegalArgumentException("conversation turn from '" + from + "' (system, human or gpt)");
            });
        }
        // each assistant turn is the difference between the rendering that ends with it and the one that prompts for it
        List<Segment> out = new ArrayList<>();
        String done = "";
        for (int i = 0; i < messages.size(); i++) {
            if (!messages.get(i).role().equals(ChatMessage.ASSISTANT)) {
                continue;
            }
            String prompt = template.render(messages.subList(0, i), true);
            String full = template.render(messages.subList(0, i + 1), false);
            if (!prompt.startsWith(done) || !full.startsWith(prompt)) {
                throw new IllegalArgumentException("chat template " + template.name() + " does not render this conversation incrementally");
            }
            out.add(Segment.prompt(prompt.substring(done.length())));
            out.add(Segment.response(full.substring(prompt.length())));
            done = full;
        }
        String all = template.render(messages, false);
        if (all.length() > done.length()) {
            out.add(Segment.prompt(all.substring(done.length())));
        }
        return out;
    }

    private static List<Segment> oasst(String text) {
        List<Segment> out = new ArrayList<>();
        Matcher m = OASST_TURN.matcher(text);
        int last = 0;
        boolean assistant = false;
        while (m.find()) {
            if (m.start() > last || out.isEmpty()) {
                out.add(new Segment(text.substring(last, m.start()), assistant));
            }
            // the marker belongs to the prompt; what follows an Assistant marker is the response
            out.add(Segment.prompt(m.group()));
            assistant = m.group(1).equals("Assistant");
            last = m.end();
        }
        out.add(new Segment(text.substring(last), assistant));
        out.removeIf(s -> s.text().isEmpty());
        return out;
    }

    private static String text(JsonNode r, String field) {
        JsonNode v = r.get(field);
        if (v == null || v.isNull()) {
            throw new IllegalArgumentException("no \"" + field + "\" field");
        }
        if (!v.isTextual()) {
            throw new IllegalArgumentException("field \"" + field + "\" is not a string");
        }
        return v.asText();
    }
}
