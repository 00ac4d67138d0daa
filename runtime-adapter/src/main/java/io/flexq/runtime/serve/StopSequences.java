package io.flexq.runtime.serve;

import java.util.List;

/**
 * The {@code stop} strings of a request, matched on the decoded text as it streams. A stop string may be split
 * across tokens ("The" + " end"), so text that could still turn into one is held back: after each piece, the longest
 * tail of the text that is a proper prefix of some stop string waits for the next piece. When a stop string
 * appears, the text before it is the last to be sent and the stop string itself never is (as OpenAI does).
 */
final class StopSequences {

    private final List<String> stops;
    private final StringBuilder held = new StringBuilder();
    private boolean stopped;

    StopSequences(List<String> stops) {
        for (String s : stops) {
            if (s.isEmpty()) {
                throw new IllegalArgumentException("a stop string is empty");
            }
        }
        this.stops = List.copyOf(stops);
    }

    /** The text that can be sent now that {@code piece} has been decoded; empty while it may still be a stop. */
    String accept(String piece) {
        if (stopped) {
            return "";
        }
        held.append(piece);
        int first = -1;
        for (String s : stops) {
            int at = held.indexOf(s);
            if (at >= 0 && (first < 0 || at < first)) {
                first = at;
            }
        }
        if (first >= 0) {
            stopped = true;
            String out = held.substring(0, first);
            held.setLength(0);
            return out;
        }
        String text = held.toString();
        int keep = 0;
        for (String s : stops) {
            keep = Math.max(keep, longestTailThatStarts(text, s));
        }
        String out = held.substring(0, held.length() - keep);
        held.delete(0, held.length() - keep);
        return out;
    }

    /** Whether a stop string has been seen: the reply is over. */
    boolean stopped() {
        return stopped;
    }

    /** At the end of generation: the held text, which no stop string completed. */
    String finish() {
        String out = held.toString();
        held.setLength(0);
        return out;
    }

    /** The largest k < s.length() such that text ends with the first k characters of s. */
    private static int longestTailThatStarts(String text, String s) {
        for (int k = Math.min(s.length() - 1, text.length()); k > 0; k--) {
            if (text.regionMatches(text.length() - k, s, 0, k)) {
                return k;
            }
        }
        return 0;
    }
}
