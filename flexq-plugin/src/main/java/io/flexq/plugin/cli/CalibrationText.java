package io.flexq.plugin.cli;

import java.io.IOException;
import java.io.InputStream;
import java.io.UncheckedIOException;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.Arrays;

/**
 * The text that calibration (the {@code auto} sensitivity analysis, GPTQ Hessians, the {@code --max-bytes} gains)
 * runs through the model: the {@code --calib FILE} a user gives, or the text built into this jar when none is given,
 * so a plain install can calibrate without any data folder beside it.
 *
 * <p>The built-in text is two texts of about equal size, one after the other: encyclopedic articles written for this
 * project ({@value #ARTICLES_RESOURCE}: 20 short articles on history, science, sport, music, places, technology;
 * the project's own text, under its licence), then the opening of Oscar Wilde's <i>The Picture of Dorian Gray</i>
 * ({@value #NOVEL_RESOURCE}, Lippincott's 1890 edition, public domain; see THIRD-PARTY-NOTICES), cut at the last
 * line end within as many bytes as the articles have. Why two genres: with the novel alone GPTQ and the promotion
 * gains fit literary prose and the 27M model's KLD on WikiText-2 stayed 10% above llama.cpp's Q6_K file; with the
 * articles added it is below on both test texts (bench/results/quality-ref27M.md). Neither text overlaps the scored
 * windows: the articles are new text; the novel is one of the 27M model's held-out books, but it starts 2.6 MB into
 * {@code refmodel-heldout.txt}, whose first 100 windows (about 180 KB, Balzac) are what the tables score.
 *
 * @param name    what the FQ6 metadata ({@code flexq.calibration.file}) and summaries call it: the file name
 * @param origin  where it came from, for messages: the path given, or the jar resources
 * @param content the text, decoded as UTF-8
 */
public record CalibrationText(String name, String origin, String content) {

    static final String ARTICLES_RESOURCE = "encyclopedic-articles.txt";
    static final String NOVEL_RESOURCE = "dorian-gray-1890.txt";
    static final String BUILT_IN_NAME = "flexq-plugin:" + ARTICLES_RESOURCE + "+" + NOVEL_RESOURCE;

    /** A user's --calib file (read exactly as before the text was built in: UTF-8, whole file). */
    public static CalibrationText of(Path file) throws IOException {
        if (!Files.isRegularFile(file)) {
            throw new CliException("--calib: no such file: " + file);
        }
        return new CalibrationText(file.getFileName().toString(), file.toString(), Files.readString(file, StandardCharsets.UTF_8));
    }

    /** The text inside the flexq-plugin jar: the articles, a line end, then the novel's opening of the same size. */
    public static CalibrationText builtIn() {
        byte[] articles = resource(ARTICLES_RESOURCE);
        byte[] novel = opening(resource(NOVEL_RESOURCE), articles.length);
        return new CalibrationText(BUILT_IN_NAME, "the built-in calibration text (" + BUILT_IN_NAME + ")",
                new String(articles, StandardCharsets.UTF_8) + "\n" + new String(novel, StandardCharsets.UTF_8));
    }

    /** The first bytes of {@code text} up to and including its last line end within {@code max} bytes (all if shorter). */
    static byte[] opening(byte[] text, int max) {
        if (text.length <= max) {
            return text;
        }
        int end = max;
        while (end > 0 && text[end - 1] != '\n') {
            end--;  // '\n' is never part of a multi-byte UTF-8 sequence, so the cut keeps whole characters
        }
        return Arrays.copyOf(text, end);
    }

    private static byte[] resource(String name) {
        try (InputStream in = CalibrationText.class.getResourceAsStream(name)) {
            if (in == null) {
                throw new CliException("the built-in calibration text " + name
                        + " is missing from the flexq-plugin jar (package io/flexq/plugin/cli): give --calib FILE");
            }
            return in.readAllBytes();
        } catch (IOException e) {
            throw new UncheckedIOException("cannot read the built-in calibration text " + name, e);
        }
    }
}
