package io.flexq.conformance;

import java.util.ArrayList;
import java.util.List;
import java.util.Locale;

/**
 * The result of {@code flexq conformance}: one row per (backend, type, variant) with a cell per check, the
 * backends that were skipped with their reasons, and every failure's detail. Rendered as Markdown.
 */
public record ConformanceTable(List<Row> rows, List<String> skipped) {

    /** The checks, in table order. */
    public static final List<String> CHECKS = List.of("matmul", "golden", "end-to-end");

    public record Row(String backend, String type, String variant, List<CheckCell> cells) {
        public Row {
            cells = List.copyOf(cells);
            if (cells.size() != CHECKS.size()) {
                throw new IllegalArgumentException("a row has " + CHECKS.size() + " cells, got " + cells.size());
            }
        }
    }

    public ConformanceTable {
        rows = List.copyOf(rows);
        skipped = List.copyOf(skipped);
    }

    public boolean failed() {
        return rows.stream().anyMatch(r -> r.cells().stream().anyMatch(CheckCell::failed));
    }

    public long count(CheckCell.Status s) {
        return rows.stream().flatMap(r -> r.cells().stream()).filter(c -> c.status() == s).count();
    }

    /** The Markdown table, the skipped backends, and a section per failure. */
    public String markdown() {
        StringBuilder sb = new StringBuilder();
        sb.append("| backend | type | variant | ").append(String.join(" | ", CHECKS)).append(" |\n");
        sb.append("|---|---|---|").append("---|".repeat(CHECKS.size())).append('\n');
        for (Row r : rows) {
            sb.append("| ").append(r.backend()).append(" | ").append(r.type()).append(" | ").append(r.variant());
            for (CheckCell c : r.cells()) {
                sb.append(" | ").append(c.text());
            }
            sb.append(" |\n");
        }
        sb.append("\nCells: pass / FAIL with the worst |e|/bound (matmul: over the random shapes; golden: over the golden cases,"
                + " \"P exact\" = integer partials equal the golden ones); end-to-end: the largest |logit - llama.cpp| over the"
                + " published top-5; n/i = not implemented (type not supported, or run in another mode); - = not applicable.\n");
        sb.append('\n').append(String.format(Locale.ROOT, "%d passed, %d failed, %d not implemented (n/i), %d not applicable (-)%n",
                count(CheckCell.Status.PASS), count(CheckCell.Status.FAIL), count(CheckCell.Status.NOT_IMPLEMENTED),
                count(CheckCell.Status.NOT_APPLICABLE)));
        for (String s : skipped) {
            sb.append("skipped backend ").append(s).append('\n');
        }
        List<String> failures = new ArrayList<>();
        List<String> notImplemented = new ArrayList<>();
        for (Row r : rows) {
            for (int i = 0; i < CHECKS.size(); i++) {
                CheckCell c = r.cells().get(i);
                String where = r.backend() + " / " + r.type() + " / " + r.variant() + " / " + CHECKS.get(i) + ": ";
                if (c.failed()) {
                    failures.add(where + c.detail());
                } else if (c.status() == CheckCell.Status.NOT_IMPLEMENTED) {
                    notImplemented.add(where + c.detail());
                }
            }
        }
        if (!failures.isEmpty()) {
            sb.append("\nFAILURES\n");
            failures.forEach(f -> sb.append("- ").append(f).append('\n'));
        }
        if (!notImplemented.isEmpty()) {
            sb.append("\nnot implemented\n");
            notImplemented.forEach(f -> sb.append("- ").append(f).append('\n'));
        }
        return sb.toString();
    }
}
