package io.flexq.runtime.fuzz;

import java.io.IOException;
import java.net.URISyntaxException;
import java.net.URL;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.List;

import static org.junit.jupiter.api.Assertions.assertTrue;
import static org.junit.jupiter.api.Assertions.fail;

/**
 * Replays the committed inputs of one reader (test resources under {@code jazzer-corpus/READER} beside the calling
 * class) through {@link JazzerContract}, in the normal build: the coverage-minimized corpus of a long Jazzer run and
 * every input that once broke the contract. Fails naming each input that breaks it now.
 */
public final class JazzerCorpus {

    private JazzerCorpus() {
    }

    public static void replay(Class<?> owner, String reader, FuzzTarget target) throws IOException {
        URL url = owner.getResource("jazzer-corpus/" + reader);
        assertTrue(url != null, "no committed inputs for " + reader + " beside " + owner.getName());
        Path dir;
        try {
            dir = Path.of(url.toURI());
        } catch (URISyntaxException e) {
            throw new IllegalStateException(e);
        }
        List<Path> inputs;
        try (var s = Files.list(dir)) {
            inputs = s.filter(Files::isRegularFile).sorted().toList();
        }
        assertTrue(!inputs.isEmpty(), "no committed inputs in " + dir);
        List<String> broken = new ArrayList<>();
        try (JazzerContract contract = new JazzerContract(target)) {
            for (Path p : inputs) {
                try {
                    contract.check(Files.readAllBytes(p));
                } catch (Throwable t) {
                    broken.add(p.getFileName() + ": " + FuzzTarget.judge(t, 0).detail());
                }
            }
        }
        if (!broken.isEmpty()) {
            fail(target.name() + ": " + broken.size() + " of " + inputs.size() + " committed inputs break the contract:\n"
                    + String.join("\n", broken));
        }
    }
}
