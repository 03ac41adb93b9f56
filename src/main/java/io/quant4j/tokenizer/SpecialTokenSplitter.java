package io.quant4j.tokenizer;

import java.util.ArrayList;
import java.util.List;

/**
 * Cuts special-token texts out of the input before the tokenizer proper sees it (llama.cpp's
 * tokenizer_st_partition): control and unknown tokens only when special parsing is on, user-defined tokens always.
 * Longer tokens are cut first; each raw piece left over is then tokenized on its own.
 */
final class SpecialTokenSplitter {
    /** A piece of the input: either raw text [start, end) or a special token. */
    record Fragment(int start, int end, int token) {
        boolean isToken() {
            return token >= 0;
        }
    }

    private final Vocabulary vocab;
    private final int[] alwaysSplit;
    private final int[] splitWhenParsingSpecial;

    SpecialTokenSplitter(Vocabulary vocab) {
        this.vocab = vocab;
        List<Integer> all = vocab.specialTokensLongestFirst();
        this.splitWhenParsingSpecial = all.stream().mapToInt(Integer::intValue).toArray();
        this.alwaysSplit = all.stream().filter(i -> vocab.types[i] == TokenType.USER_DEFINED).mapToInt(Integer::intValue).toArray();
    }

    List<Fragment> split(String text, boolean parseSpecial) {
        List<Fragment> fragments = new ArrayList<>();
        if (text.isEmpty()) {
            return fragments;
        }
        fragments.add(new Fragment(0, text.length(), -1));
        for (int token : parseSpecial ? splitWhenParsingSpecial : alwaysSplit) {
            String special = vocab.texts[token];
            List<Fragment> out = null; // allocated only once this token occurs
            for (int f = 0; f < fragments.size(); f++) {
                Fragment fragment = fragments.get(f);
                int at = fragment.isToken() ? -1 : indexIn(text, special, fragment);
                if (at < 0) {
                    if (out != null) {
                        out.add(fragment);
                    }
                    continue;
                }
                if (out == null) {
                    out = new ArrayList<>(fragments.subList(0, f));
                }
                int start = fragment.start();
                while (at >= 0) {
                    if (at > start) {
                        out.add(new Fragment(start, at, -1));
                    }
                    out.add(new Fragment(at, at + special.length(), token));
                    start = at + special.length();
                    at = indexIn(text, special, new Fragment(start, fragment.end(), -1));
                }
                if (start < fragment.end()) {
                    out.add(new Fragment(start, fragment.end(), -1));
                }
            }
            if (out != null) {
                fragments = out;
            }
        }
        return fragments;
    }

    private static int indexIn(String text, String special, Fragment fragment) {
        int at = text.indexOf(special, fragment.start(), fragment.end());
        return at >= 0 && at + special.length() <= fragment.end() ? at : -1;
    }
}
