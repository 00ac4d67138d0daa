package io.flexq.runtime.tokenizer;

import io.flexq.runtime.model.ModelFormatException;

import java.nio.charset.StandardCharsets;
import java.util.Arrays;
import java.util.BitSet;
import java.util.HashMap;
import java.util.HexFormat;
import java.util.Map;
import java.util.OptionalInt;

/**
 * SentencePiece-style BPE (Llama 1/2, llama2.c, GGUF {@code tokenizer.ggml.model = "llama"}).
 *
 * <p>Encoding one piece of plain text:
 * <ol>
 * <li>prepend one space (the "dummy prefix", when {@code addSpacePrefix}) and write every U+0020 as
 *     U+2581 "▁"; nothing else is normalized;</li>
 * <li>start from one symbol per code point;</li>
 * <li>repeatedly merge the adjacent pair whose concatenation is the vocabulary piece with the
 *     highest score, leftmost first on equal scores, until no adjacent pair forms a piece;</li>
 * <li>a code point that never became part of a piece is written as its UTF-8 bytes, one
 *     {@code <0xNN>} token each (byte fallback), or as the unknown token if the vocabulary has no
 *     byte pieces.</li>
 * </ol>
 * This is the order SentencePiece's BPE model and llama.cpp's SPM tokenizer use. Merges are looked
 * up as pairs of symbol ids in a table precomputed from every way a piece splits into two
 * shorter pieces, so the hot loop builds no strings.
 */
public final class SentencePieceTokenizer implements Tokenizer {

    /** U+2581 LOWER ONE EIGHTH BLOCK: SentencePiece's visible space. */
    public static final int SPACE_SYMBOL = 0x2581;

    /** Symbol state of a code point merged into its left neighbour. */
    private static final int DEAD = Integer.MIN_VALUE;
    private static final int SINGLE = -1;

    private final Vocabulary vocab;
    private final float[] scores;
    private final int[] priority;     // per id: smaller = merged first (score descending)
    private final int bos;
    private final int eos;
    private final int unk;
    private final boolean addBos;
    private final boolean addSpacePrefix;
    private final PairTable charIds;  // (code point, SINGLE) -> id of the one-code-point piece
    private final PairTable merges;   // (left symbol, right symbol) -> merged piece id
    private final int[] byteIds;      // byte value -> id of <0xNN>, or null when there is no byte fallback
    private final BitSet inPieces;    // code points that occur in some encodable piece
    private final byte[][] pieces;    // decoded bytes per id

    /**
     * @param texts  pieces as SentencePiece stores them (spaces as U+2581, bytes as {@code <0xNN>})
     * @param scores merge priority per piece (higher merges first)
     * @param bos    BOS id or -1; likewise {@code eos}, {@code unk}
     */
    public SentencePieceTokenizer(String source, String[] texts, float[] scores, TokenType[] types,
                                  int bos, int eos, int unk, boolean addBos, boolean addSpacePrefix) {
        if (scores.length != texts.length) {
            throw new IllegalArgumentException(source + ": " + texts.length + " tokens but " + scores.length + " scores");
        }
        this.vocab = new Vocabulary(source, texts, types);
        this.scores = scores.clone();
        this.bos = checkOptionalId(source, "BOS", bos, texts.length);
        this.eos = checkOptionalId(source, "EOS", eos, texts.length);
        this.unk = checkOptionalId(source, "UNK", unk, texts.length);
        this.addBos = addBos;
        this.addSpacePrefix = addSpacePrefix;

        priority = new int[texts.length];
        for (int id = 0; id < texts.length; id++) {
            float s = scores[id];
            if (Float.isNaN(s)) {
                throw new IllegalArgumentException(source + ": score of token " + id + " is NaN");
            }
            priority[id] = descendingKey(s);
        }

        // Encodable pieces: what SentencePiece merges into. Control, unknown, byte and unused entries never are.
        // Building the merge table is linear in the vocabulary's code points: PieceIndex answers "is this part
        // of a piece a piece?" in O(1) per split, without building the part's text.
        Map<String, Integer> encodable = new HashMap<>();
        int[][] codePoints = new int[texts.length][];   // of the first id of each encodable text, else null
        long splitCount = 0;
        for (int id = 0; id < texts.length; id++) {
            if (isEncodable(types[id]) && encodable.putIfAbsent(texts[id], id) == null) {
                codePoints[id] = texts[id].codePoints().toArray();
                splitCount += Math.max(0, codePoints[id].length - 1);
            }
        }
        if (splitCount > Integer.MAX_VALUE / 4) {
            throw new IllegalArgumentException(source + ": the vocabulary's pieces hold " + splitCount + " code points, too many to index");
        }
        charIds = new PairTable(encodable.size());
        merges = new PairTable((int) splitCount);
        inPieces = new BitSet();
        PieceIndex index = new PieceIndex(codePoints);
        for (int id = 0; id < texts.length; id++) {
            int[] cps = codePoints[id];
            if (cps == null) {
                continue;
            }
            if (cps.length == 1) {
                charIds.putIfAbsent(cps[0], SINGLE, id);
            }
            for (int cp : cps) {
                inPieces.set(cp);
            }
        }
        for (int id = 0; id < texts.length; id++) {
            int[] cps = codePoints[id];
            if (cps == null || cps.length < 2) {
                continue;
            }
            int n = cps.length;
            long[] h = index.prefixHashes(cps);
            for (int k = 1; k < n; k++) {
                int left = symbol(index.find(h, 0, k), k, cps[0]);
                if (left == DEAD) {
                    continue;
                }
                int right = symbol(index.find(h, k, n), n - k, cps[n - 1]);
                if (right != DEAD) {
                    merges.putIfAbsent(left, right, id);
                }
            }
        }

        int[] bytes = new int[256];
        Arrays.fill(bytes, -1);
        pieces = new byte[texts.length][];
        for (int id = 0; id < texts.length; id++) {
            int b = byteValue(texts[id]);
            if (b >= 0 && (bytes[b] < 0 || types[id] == TokenType.BYTE)) {
                bytes[b] = id;
            }
            pieces[id] = switch (types[id]) {
                case CONTROL, UNUSED -> new byte[0];
                case UNKNOWN -> " \u2047 ".getBytes(StandardCharsets.UTF_8); // SentencePiece renders <unk> as " ⁇ "
                case BYTE -> b >= 0 ? new byte[] {(byte) b} : visible(texts[id]);
                case NORMAL, USER_DEFINED -> visible(texts[id]);
            };
        }
        byteIds = Arrays.stream(bytes).allMatch(id -> id >= 0) ? bytes : null;
    }

    private static boolean isEncodable(TokenType t) {
        return t == TokenType.NORMAL || t == TokenType.USER_DEFINED;
    }

    /**
     * Symbol id of a part of a piece during merging: the piece id if the part is a piece; a lone code point that
     * is no piece is -(cp + 2) (it may still merge with a neighbour into a piece); else DEAD.
     */
    private static int symbol(int pieceId, int length, int codePoint) {
        if (pieceId >= 0) {
            return pieceId;
        }
        return length == 1 ? -codePoint - 2 : DEAD;
    }

    private int symbolOf(int codePoint) {
        int id = charIds.get(codePoint, SINGLE);
        return id >= 0 ? id : -codePoint - 2;
    }

    /**
     * Maps a float score to an int whose signed order is the reverse of the score order, so the
     * min-heap pops the highest score first. Standard trick: for IEEE bits b, b ^ ((b >> 31) & 0x7FFFFFFF)
     * orders like the float; complementing reverses it. -0.0 is folded to 0.0 so they tie.
     */
    static int descendingKey(float score) {
        int b = Float.floatToIntBits(score == 0f ? 0f : score);
        return ~(b ^ ((b >> 31) & 0x7FFF_FFFF));
    }

    /** "<0x0A>" -> 10; anything else -> -1. */
    static int byteValue(String text) {
        if (text.length() == 6 && text.startsWith("<0x") && text.endsWith(">")
                && HexFormat.isHexDigit(text.charAt(3)) && HexFormat.isHexDigit(text.charAt(4))) {
            return HexFormat.fromHexDigits(text, 3, 5);
        }
        return -1;
    }

    private static byte[] visible(String text) {
        return text.replace((char) SPACE_SYMBOL, ' ').getBytes(StandardCharsets.UTF_8);
    }

    private static int checkOptionalId(String source, String what, int id, int size) {
        if (id < -1 || id >= size) {
            throw new IllegalArgumentException(source + ": " + what + " token id " + id + " is outside the vocabulary of " + size);
        }
        return id;
    }

    @Override
    public int[] encode(String text, boolean parseSpecial) {
        IntList out = new IntList(text.length() / 3 + 8);
        vocab.split(text, parseSpecial, new Vocabulary.FragmentSink() {
            @Override
            public void text(String t, int start, int end) {
                encodeFragment(t, start, end, out);
            }

            @Override
            public void special(int id) {
                out.add(id);
            }
        });
        return out.toArray();
    }

    private void encodeFragment(String text, int start, int end, IntList out) {
        int capacity = end - start + 1;
        int[] sym = new int[capacity];
        int[] cps = new int[capacity];
        int n = 0;
        if (addSpacePrefix) {
            cps[n] = SPACE_SYMBOL;
            sym[n++] = symbolOf(SPACE_SYMBOL);
        }
        for (int i = start; i < end; ) {
            int cp = text.codePointAt(i);
            i += Character.charCount(cp);
            if (cp == ' ') {
                cp = SPACE_SYMBOL;
            } else if (Character.isSurrogate((char) cp) && cp <= 0xFFFF) {
                cp = 0xFFFD; // an unpaired surrogate has no UTF-8 form
            }
            cps[n] = cp;
            sym[n++] = symbolOf(cp);
        }
        int[] next = new int[n];
        int[] prev = new int[n];
        MergeQueue queue = new MergeQueue(64);
        // A code point that occurs in no piece never merges, so it splits the text into runs that merge
        // independently (the global best-first order restricted to one run is that run's own order).
        // Running them one by one keeps the heap small and hot in cache.
        int runStart = 0;
        for (int i = 0; i <= n; i++) {
            if (i == n || (sym[i] < 0 && !inPieces.get(cps[i]))) {
                if (i > runStart) {
                    mergeRun(sym, prev, next, runStart, i, queue);
                    for (int k = runStart; k >= 0; k = next[k]) {
                        if (sym[k] >= 0) {
                            out.add(sym[k]);
                        } else {
                            fallback(cps[k], out);
                        }
                    }
                }
                if (i < n) {
                    fallback(cps[i], out);
                }
                runStart = i + 1;
            }
        }
    }

    /** Best-first merging of the symbols [from, to): highest piece score first, leftmost on ties. */
    private void mergeRun(int[] sym, int[] prev, int[] next, int from, int to, MergeQueue queue) {
        for (int i = from; i < to; i++) {
            prev[i] = i - 1;
            next[i] = i + 1 < to ? i + 1 : -1;
        }
        prev[from] = -1;
        queue.clear();
        for (int i = from; i + 1 < to; i++) {
            offer(queue, sym, next, i);
        }
        while (!queue.isEmpty()) {
            long key = queue.pop();
            int left = MergeQueue.left(key);
            int right = next[left];
            if (sym[left] == DEAD || right < 0) {
                continue;
            }
            int merged = merges.get(sym[left], sym[right]);
            // A stale entry: a neighbour merged since it was queued. If the pair now there scores the
            // same, its own entry has this very key, so merging now is what popping that entry would do.
            if (merged < 0 || priority[merged] != MergeQueue.priority(key)) {
                continue;
            }
            sym[left] = merged;
            sym[right] = DEAD;
            int after = next[right];
            next[left] = after;
            if (after >= 0) {
                prev[after] = left;
            }
            if (prev[left] >= 0) {
                offer(queue, sym, next, prev[left]);
            }
            offer(queue, sym, next, left);
        }
    }

    private void offer(MergeQueue queue, int[] sym, int[] next, int left) {
        int right = next[left];
        if (right >= 0) {
            int merged = merges.get(sym[left], sym[right]);
            if (merged >= 0) {
                queue.push(MergeQueue.key(priority[merged], left));
            }
        }
    }

    private void fallback(int codePoint, IntList out) {
        if (byteIds != null) {
            for (byte b : Character.toString(codePoint).getBytes(StandardCharsets.UTF_8)) {
                out.add(byteIds[b & 0xFF]);
            }
        } else if (unk >= 0) {
            out.add(unk);
        } else {
            // the vocabulary's fault (no byte pieces, no unknown token), not the text's: a bad file
            throw new ModelFormatException(String.format(
                    "character U+%04X cannot be encoded with the vocabulary from %s: no such piece, no <0xNN> byte pieces, no unknown token",
                    codePoint, vocab.source()));
        }
    }

    @Override
    public byte[] pieceBytes(int prevToken, int token) {
        byte[] p = pieces[vocab.check(token)];
        boolean startsText = prevToken < 0 || prevToken == bos;
        if (addSpacePrefix && startsText && p.length > 0 && p[0] == ' ' && vocab.type(token) == TokenType.NORMAL) {
            return Arrays.copyOfRange(p, 1, p.length);
        }
        return p.clone();
    }

    /** The merge score of a piece (higher merges first). */
    public float score(int id) {
        return scores[vocab.check(id)];
    }

    public boolean addSpacePrefix() {
        return addSpacePrefix;
    }

    /** The unknown token's id, or -1. */
    public int unk() {
        return unk;
    }

    @Override
    public String source() {
        return vocab.source();
    }

    @Override
    public int vocabularySize() {
        return vocab.size();
    }

    @Override
    public int bos() {
        return bos;
    }

    @Override
    public int eos() {
        return eos;
    }

    @Override
    public boolean addBos() {
        return addBos;
    }

    @Override
    public OptionalInt specialToken(String text) {
        return vocab.special(text);
    }

    @Override
    public String tokenText(int id) {
        return vocab.text(id);
    }

    @Override
    public TokenType tokenType(int id) {
        return vocab.type(id);
    }

    @Override
    public String toString() {
        return "SentencePieceTokenizer[" + vocab.size() + " tokens from " + vocab.source() + "]";
    }
}
