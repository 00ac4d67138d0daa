package io.flexq.conformance;

/**
 * One cell of the conformance table: what one check found for one (backend, type, variant).
 *
 * @param text   what the table shows ("pass 0.31" with the worst |e|/bound, "FAIL 4.2", "n/i", "-")
 * @param detail why it failed, or why it is not implemented ("" otherwise)
 */
public record CheckCell(Status status, String text, String detail) {

    public enum Status { PASS, FAIL, NOT_IMPLEMENTED, NOT_APPLICABLE }

    public static final CheckCell NONE = new CheckCell(Status.NOT_APPLICABLE, "-", "");

    public static CheckCell pass(String text) {
        return new CheckCell(Status.PASS, text, "");
    }

    public static CheckCell fail(String text, String detail) {
        return new CheckCell(Status.FAIL, text, detail);
    }

    public static CheckCell notImplemented(String why) {
        return new CheckCell(Status.NOT_IMPLEMENTED, "n/i", why);
    }

    public boolean failed() {
        return status == Status.FAIL;
    }
}
