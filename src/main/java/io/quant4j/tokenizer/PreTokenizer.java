package io.quant4j.tokenizer;

import java.util.ArrayList;
import java.util.List;
import java.util.regex.Matcher;
import java.util.regex.Pattern;

/**
 * The regex that cuts text into words before byte-level BPE; merges never cross a word boundary. Text between
 * matches (if any) is kept as words too, as Hugging Face's "Isolated" split and llama.cpp do.
 * <p>
 * The patterns are the tokenizers' own, with two adjustments so Java matches llama.cpp: {@code \s} is the Unicode
 * White_Space property (Java's default {@code \s} is ASCII only), and the case-insensitive contractions are spelled
 * as ASCII classes ({@code '[sS]}) as llama.cpp does, so no Unicode case folding sneaks in.
 */
final class PreTokenizer {
    private static final String CONTRACTIONS_CI = "(?i:'s|'t|'re|'ve|'m|'ll|'d)";
    private static final String CONTRACTIONS_ASCII = "(?:'[sS]|'[tT]|'[rR][eE]|'[vV][eE]|'[mM]|'[lL][lL]|'[dD])";

    /** Llama-3 (tokenizer.json of Meta-Llama-3, llama.cpp pre-tokenizer "llama-bpe"). */
    static final String LLAMA3_REGEX = CONTRACTIONS_CI
            + "|[^\\r\\n\\p{L}\\p{N}]?\\p{L}+|\\p{N}{1,3}| ?[^\\s\\p{L}\\p{N}]+[\\r\\n]*|\\s*[\\r\\n]+|\\s+(?!\\S)|\\s+";
    /** Qwen2/Qwen3: as Llama-3 but digits one at a time. */
    static final String QWEN2_REGEX = CONTRACTIONS_CI
            + "|[^\\r\\n\\p{L}\\p{N}]?\\p{L}+|\\p{N}| ?[^\\s\\p{L}\\p{N}]+[\\r\\n]*|\\s*[\\r\\n]+|\\s+(?!\\S)|\\s+";
    /** GPT-2's original pattern. */
    static final String GPT2_REGEX = "'s|'t|'re|'ve|'m|'ll|'d| ?\\p{L}+| ?\\p{N}+| ?[^\\s\\p{L}\\p{N}]+|\\s+(?!\\S)|\\s+";

    static final PreTokenizer LLAMA3 = new PreTokenizer("llama-bpe", LLAMA3_REGEX);
    static final PreTokenizer QWEN2 = new PreTokenizer("qwen2", QWEN2_REGEX);
    static final PreTokenizer GPT2 = new PreTokenizer("gpt2", GPT2_REGEX);

    final String name;
    private final Pattern pattern;

    PreTokenizer(String name, String tokenizerRegex) {
        this.name = name;
        this.pattern = Pattern.compile(toJava(tokenizerRegex));
    }

    /** The known pre-tokenizer with this pattern, or a new one that uses it as given. */
    static PreTokenizer forRegex(String tokenizerRegex) {
        for (PreTokenizer known : new PreTokenizer[]{LLAMA3, QWEN2, GPT2}) {
            if (known.pattern.pattern().equals(toJava(tokenizerRegex))) {
                return known;
            }
        }
        return new PreTokenizer("custom regex", tokenizerRegex);
    }

    /** Rewrites a Hugging Face (Oniguruma) pattern into one java.util.regex reads the same way. */
    static String toJava(String regex) {
        String r = regex.replace(CONTRACTIONS_CI, CONTRACTIONS_ASCII);
        StringBuilder out = new StringBuilder(r.length() + 32);
        for (int i = 0; i < r.length(); i++) {
            char c = r.charAt(i);
            if (c == '\\' && i + 1 < r.length()) {
                char n = r.charAt(i + 1);
                if (n == 's') {
                    out.append("\\p{IsWhite_Space}");
                } else if (n == 'S') {
                    out.append("\\P{IsWhite_Space}");
                } else {
                    out.append(c).append(n);
                }
                i++;
            } else {
                out.append(c);
            }
        }
        return out.toString();
    }

    List<String> split(String text) {
        List<String> words = new ArrayList<>();
        Matcher m = pattern.matcher(text);
        int last = 0;
        while (m.find()) {
            if (m.start() > last) {
                words.add(text.substring(last, m.start()));
            }
            if (m.end() > m.start()) {
                words.add(text.substring(m.start(), m.end()));
            }
            last = m.end();
        }
        if (last < text.length()) {
            words.add(text.substring(last));
        }
        return words;
    }
}
