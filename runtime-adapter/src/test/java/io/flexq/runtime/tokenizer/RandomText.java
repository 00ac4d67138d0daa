package io.flexq.runtime.tokenizer;

import java.util.Random;

/** Random valid Unicode text over an alphabet that stresses tokenizers. */
final class RandomText {

    private static final int[][] RANGES = {
            {'a', 'z'}, {'A', 'Z'}, {'0', '9'}, {' ', ' '}, {' ', ' '}, {'\n', '\n'}, {'\t', '\t'}, {'\r', '\r'},
            {'!', '/'}, {':', '@'}, {'\'', '\''}, {0xA0, 0xFF}, {0x0300, 0x036F}, {0x0400, 0x04FF},
            {0x0590, 0x05FF}, {0x0900, 0x097F}, {0x1780, 0x17FF}, {0x2000, 0x206F}, {0x3000, 0x3000},
            {0x3040, 0x30FF}, {0x4E00, 0x9FFF}, {0xAC00, 0xD7A3}, {0xFF00, 0xFFEF},
            {0x1F300, 0x1F64F}, {0x1F900, 0x1F9FF}, {0x10000, 0x1007F}, {0x20000, 0x2A6DF},
    };

    private RandomText() {
    }

    /**
     * {@code length} code points. U+2581 is left out: SentencePiece writes spaces as that character,
     * so a literal one cannot survive a round trip (true of SentencePiece itself).
     */
    static String unicode(Random r, int length) {
        StringBuilder b = new StringBuilder();
        for (int i = 0; i < length; i++) {
            int[] range = RANGES[r.nextInt(RANGES.length)];
            int c = range[0] + r.nextInt(range[1] - range[0] + 1);
            b.appendCodePoint(c == 0x2581 ? 'x' : c);
        }
        return b.toString();
    }
}
