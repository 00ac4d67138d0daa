package io.flexq.plugin.cli;

import java.io.ByteArrayOutputStream;
import java.io.PrintStream;
import java.nio.charset.StandardCharsets;
import java.nio.file.Path;

/** Runs {@code flexq} subcommands in-process and captures what they print. */
record CliRun(int status, String out, String err) {

    static CliRun of(String... argv) {
        ByteArrayOutputStream out = new ByteArrayOutputStream();
        ByteArrayOutputStream err = new ByteArrayOutputStream();
        int status = Main.standard().run(argv, new PrintStream(out, true, StandardCharsets.UTF_8),
                new PrintStream(err, true, StandardCharsets.UTF_8), false);
        return new CliRun(status, out.toString(StandardCharsets.UTF_8), err.toString(StandardCharsets.UTF_8));
    }

    /** The repository root (the build passes it as flexq.root). */
    static Path root() {
        return Path.of(System.getProperty("flexq.root", "..")).toAbsolutePath().normalize();
    }

    static String story() {
        return """
                Once upon a time, there was a little girl named Lily. She loved to play outside in the park with her \
                friends. One day, she saw a big red ball under a tree. She wanted to play with it, but it was too high. \
                Lily asked her mom for help. Her mom smiled and said, "Let's get it together." They found a long stick \
                and pushed the ball down. Lily was so happy! She played with the ball all day long and shared it with \
                her friend Tom. Tom was a kind boy who liked to run and jump. They ran around the park and laughed. \
                When the sun went down, Lily and Tom went home. Lily told her dad about the ball and the stick. Her dad \
                said she was very smart. Lily went to bed and dreamed about the park, the ball and her good friend Tom. \
                The next day, Lily and Tom met again at the park. They saw a little dog who was sad and alone. \
                """;
    }
}
