package io.flexq.plugin.cli;

import java.io.IOException;
import java.io.InputStream;
import java.io.UncheckedIOException;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;

/**
 * The text that calibration (the {@code auto} sensitivity analysis, GPTQ Hessians) runs through the model: the
 * {@code --calib FILE} a user gives, or the text built into this jar when none is given, so a plain install can
 * calibrate without any data folder beside it.
 *
 * <p>The built-in text is Oscar Wilde, <i>The Picture of Dorian Gray</i> (Lippincott's 1890 edition, 13 chapters;
 * 294,573 bytes), public domain: published 1890, author died 1900. It is general English prose, out of domain for
 * every model the project tests (TinyStories, WikiText), which is what a default should be. See THIRD-PARTY-NOTICES.
 *
 * @param name    what the FQ6 metadata ({@code flexq.calibration.file}) and summaries call it: the file name
 * @param origin  where it came from, for messages: the path given, or the jar resource
 * @param content the text, decoded as UTF-8
 */
public record CalibrationText(String name, String origin, String content) {

    static final String BUILT_IN_RESOURCE = "dorian-gray-1890.txt";
    static final String BUILT_IN_NAME = "flexq-plugin:" + BUILT_IN_RESOURCE;

    /** A user's --calib file (read exactly as before the text was built in: UTF-8, whole file). */
    public static CalibrationText of(Path file) throws IOException {
        if (!Files.isRegularFile(file)) {
            throw new CliException("--calib: no such file: " + file);
        }
        return new CalibrationText(file.getFileName().toString(), file.toString(), Files.readString(file, StandardCharsets.UTF_8));
    }

    /** The text inside the flexq-plugin jar. */
    public static CalibrationText builtIn() {
        try (InputStream in = CalibrationText.class.getResourceAsStream(BUILT_IN_RESOURCE)) {
            if (in == null) {
                throw new CliException("the built-in calibration text " + BUILT_IN_RESOURCE
                        + " is missing from the flexq-plugin jar (package io/flexq/plugin/cli): give --calib FILE");
            }
            return new CalibrationText(BUILT_IN_NAME, "the built-in calibration text (" + BUILT_IN_NAME + ")",
                    new String(in.readAllBytes(), StandardCharsets.UTF_8));
        } catch (IOException e) {
            throw new UncheckedIOException("cannot read the built-in calibration text " + BUILT_IN_RESOURCE, e);
        }
    }
}
