package io.flexq.runtime.model;

/**
 * Makes strings that come from files (tensor names, metadata keys and values, token texts) safe to print: every
 * character a terminal would act on instead of showing (C0 and C1 controls such as ESC, BEL and CSI, DEL, line and
 * paragraph separators, bidi and other format characters, unpaired surrogates) becomes a visible {@code \}{@code uXXXX}
 * escape, and length is bounded, so a hostile file can neither drive the terminal nor flood it (issue 11: ESC/BEL
 * bytes and 49 KB of binary reached the terminal in one message).
 */
public final class Untrusted {

    /** The most characters of one file string shown in a message. */
    public static final int MAX_STRING = 200;
    /** The most characters of a whole message; longer ones keep their head and tail. */
    public static final int MAX_MESSAGE = 4096;

    private Untrusted() {
    }

    /** {@code s} escaped and cut to {@link #MAX_STRING} characters, in single quotes, for a message. */
    public static String quote(String s) {
        return "'" + escape(s, MAX_STRING) + "'";
    }

    /** {@code s} with terminal controls escaped, cut after about {@code max} characters with the count left. */
    public static String escape(String s, int max) {
        if (s == null) {
            return "null";
        }
        StringBuilder sb = new StringBuilder(Math.min(s.length(), max) + 16);
        int i = 0;
        for (int n = s.length(); i < n && sb.length() < max; ) {
            int cp = s.codePointAt(i);
            i += Character.charCount(cp);
            if (isUnsafe(cp)) {
                sb.append(String.format("\\u%04x", cp));
            } else {
                sb.appendCodePoint(cp);
            }
        }
        if (i < s.length()) {
            sb.append("...(").append(s.length() - i).append(" more chars)");
        }
        return sb.toString();
    }

    /** A whole message made safe: controls escaped, and at most {@link #MAX_MESSAGE} characters (head and tail kept). */
    public static String message(String m) {
        if (m == null) {
            return null;
        }
        boolean clean = m.length() <= MAX_MESSAGE && m.codePoints().noneMatch(Untrusted::isUnsafe);
        if (clean) {
            return m;
        }
        String e = escape(m, Integer.MAX_VALUE);
        if (e.length() <= MAX_MESSAGE) {
            return e;
        }
        int head = MAX_MESSAGE * 3 / 4, tail = MAX_MESSAGE / 5;
        return e.substring(0, head) + " ...[" + (e.length() - head - tail) + " chars omitted]... " + e.substring(e.length() - tail);
    }

    static boolean isUnsafe(int cp) {
        return cp < 0x20 || cp == 0x7F || (cp >= 0x80 && cp <= 0x9F)
                || Character.isSurrogate((char) cp) && cp <= 0xFFFF
                || switch (Character.getType(cp)) {
                    case Character.FORMAT, Character.LINE_SEPARATOR, Character.PARAGRAPH_SEPARATOR, Character.UNASSIGNED,
                         Character.PRIVATE_USE -> true;
                    default -> false;
                };
    }
}
