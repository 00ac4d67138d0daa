package io.flexq.runtime.tokenizer;

import java.io.ByteArrayOutputStream;
import java.nio.charset.StandardCharsets;
import java.util.HashMap;
import java.util.List;
import java.util.Map;
import java.util.OptionalInt;
import java.util.concurrent.ConcurrentHashMap;

/**
 * Byte-level BPE with ranked merges (GPT-2, Llama 3; GGUF {@code tokenizer.ggml.model = "gpt2"},
 * Hugging Face tokenizer.json {@code "type": "BPE"}).
 *
 * <p>Encoding one piece of plain text:
 * <ol>
 * <li>split it into words with the {@link PreTokenizer} regex;</li>
 * <li>per word: take its UTF-8 bytes, one symbol per byte (the token of that byte's {@link ByteLevel}
 *     character); if {@code ignoreMerges} and the whole word is a token, that token is the answer;</li>
 * <li>otherwise repeatedly merge the adjacent pair with the lowest merge rank (the merge's index in
 *     the merges list), leftmost first among equal ranks, until no adjacent pair has a rank.</li>
 * </ol>
 * Words repeat a lot in real text, so results are cached per word (bounded).
 */
public final class ByteLevelBpeTokenizer implements Tokenizer {

    private static final int DEAD = Integer.MIN_VALUE;
    private static final int CACHE_LIMIT = 100_000;
    private static final int CACHE_MAX_WORD = 64;

    private final Vocabulary vocab;
    private final PreTokenizer preTokenizer;
    private final Map<String, Integer> ids = new HashMap<>();
    private final PairTable ranks;        // (left id, right id) -> merge rank
    private final int[] mergedId;         // rank -> id of the merged token
    private final int[] byteIds = new int[256];
    private final byte[][] pieces;        // decoded bytes per id
    private final int bos;
    private final int eos;
    private final boolean addBos;
    private final boolean ignoreMerges;
    private final Map<String, int[]> cache = new ConcurrentHashMap<>();

    /**
     * @param texts  byte-level token texts ("Ġthe") per id; special tokens as their literal text
     * @param merges merge list in rank order, each a pair {left, right} of token texts
     */
    public ByteLevelBpeTokenizer(String source, String[] texts, TokenType[] types, List<String[]> merges,
                                 PreTokenizer preTokenizer, int bos, int eos, boolean addBos, boolean ignoreMerges) {
        this.vocab = new Vocabulary(source, texts, types);
        this.preTokenizer = preTokenizer;
        this.addBos = addBos;
        this.ignoreMerges = ignoreMerges;
        for (int id = 0; id < texts.length; id++) {
            if (types[id] != TokenType.UNUSED) {
                ids.putIfAbsent(texts[id], id);
            }
        }
        this.bos = checkOptionalId(source, "BOS", bos, texts.length);
        this.eos = checkOptionalId(source, "EOS", eos, texts.length);

        for (int b = 0; b < 256; b++) {
            Integer id = ids.get(String.valueOf(ByteLevel.charOf(b)));
            if (id == null) {
                throw new IllegalArgumentException(String.format("%s: byte-level vocabulary has no token for byte 0x%02X ('%c')",
                        source, b, ByteLevel.charOf(b)));
            }
            byteIds[b] = id;
        }

        ranks = new PairTable(merges.size());
        mergedId = new int[merges.size()];
        for (int rank = 0; rank < merges.size(); rank++) {
            String[] m = merges.get(rank);
            Integer left = ids.get(m[0]);
            Integer right = ids.get(m[1]);
            Integer merged = ids.get(m[0] + m[1]);
            if (left == null || right == null || merged == null) {
                String missing = left == null ? m[0] : right == null ? m[1] : m[0] + m[1];
                throw new IllegalArgumentException(source + ": merge " + rank + " '" + m[0] + " " + m[1]
                        + "' uses '" + missing + "', which is not in the vocabulary");
            }
            ranks.putIfAbsent(left, right, rank); // a repeated pair keeps its first (best) rank
            mergedId[rank] = merged;
        }

        pieces = new byte[texts.length][];
        for (int id = 0; id < texts.length; id++) {
            pieces[id] = switch (types[id]) {
                case CONTROL, UNUSED -> new byte[0];
                case NORMAL, BYTE, UNKNOWN -> unmap(texts[id]);
                case USER_DEFINED -> texts[id].getBytes(StandardCharsets.UTF_8);
            };
        }
    }

    /** Byte-level text back to bytes; characters outside the byte table stand for themselves (UTF-8). */
    private static byte[] unmap(String text) {
        ByteArrayOutputStream out = new ByteArrayOutputStream(text.length());
        text.codePoints().forEach(c -> {
            int b = ByteLevel.byteOf(c);
            if (b >= 0) {
                out.write(b);
            } else {
                out.writeBytes(Character.toString(c).getBytes(StandardCharsets.UTF_8));
            }
        });
        return out.toByteArray();
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
                for (String word : preTokenizer.split(t, start, end)) {
                    out.addAll(encodeWord(word));
                }
            }

            @Override
            public void special(int id) {
                out.add(id);
            }
        });
        return out.toArray();
    }

    private int[] encodeWord(String word) {
        if (word.length() > CACHE_MAX_WORD) {
            return mergeWord(word);
        }
        int[] cached = cache.get(word);
        if (cached == null) {
            cached = mergeWord(word);
            if (cache.size() >= CACHE_LIMIT) {
                cache.clear(); // crude bound; words recur locally, so a fresh cache refills fast
            }
            cache.put(word, cached);
        }
        return cached;
    }

    private int[] mergeWord(String word) {
        byte[] bytes = word.getBytes(StandardCharsets.UTF_8);
        int n = bytes.length;
        if (ignoreMerges && n > 1) {
            Integer whole = ids.get(ByteLevel.encode(bytes));
            if (whole != null && vocab.type(whole) == TokenType.NORMAL) {
                return new int[] {whole};
            }
        }
        int[] sym = new int[n];
        int[] next = new int[n];
        int[] prev = new int[n];
        for (int i = 0; i < n; i++) {
            sym[i] = byteIds[bytes[i] & 0xFF];
            prev[i] = i - 1;
            next[i] = i + 1 < n ? i + 1 : -1;
        }
        MergeQueue queue = new MergeQueue(n);
        for (int i = 0; i + 1 < n; i++) {
            offer(queue, sym, next, i);
        }
        int count = n;
        while (!queue.isEmpty()) {
            long key = queue.pop();
            int left = MergeQueue.left(key);
            int right = next[left];
            // Ranks are unique per pair, so "the pair there still has this rank" proves the entry is current.
            if (sym[left] == DEAD || right < 0 || ranks.get(sym[left], sym[right]) != MergeQueue.priority(key)) {
                continue;
            }
            sym[left] = mergedId[MergeQueue.priority(key)];
            sym[right] = DEAD;
            count--;
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
        int[] out = new int[count];
        int k = 0;
        for (int i = n > 0 ? 0 : -1; i >= 0; i = next[i]) {
            out[k++] = sym[i];
        }
        return out;
    }

    private void offer(MergeQueue queue, int[] sym, int[] next, int left) {
        int right = next[left];
        if (right >= 0) {
            int rank = ranks.get(sym[left], sym[right]);
            if (rank >= 0) {
                queue.push(MergeQueue.key(rank, left));
            }
        }
    }

    @Override
    public byte[] pieceBytes(int prevToken, int token) {
        return pieces[vocab.check(token)].clone();
    }

    public PreTokenizer preTokenizer() {
        return preTokenizer;
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
        return "ByteLevelBpeTokenizer[" + vocab.size() + " tokens, " + preTokenizer + " split, from " + vocab.source() + "]";
    }
}
