package io.flexq.runtime.cli;

import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.ObjectMapper;
import io.flexq.runtime.serve.OpenAiServer;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.Timeout;

import java.io.ByteArrayOutputStream;
import java.io.PrintStream;
import java.io.UncheckedIOException;
import java.net.InetAddress;
import java.net.ServerSocket;
import java.net.URI;
import java.net.http.HttpClient;
import java.net.http.HttpRequest;
import java.net.http.HttpResponse;
import java.nio.charset.StandardCharsets;
import java.nio.file.Path;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.TimeUnit;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

/** {@code flexq serve} as a command: flags, the default model, and an answer equal to {@code flexq generate}'s. */
@Timeout(value = 120, unit = TimeUnit.SECONDS)
class ServeCommandTest {

    private static final PrintStream NOWHERE = new PrintStream(new ByteArrayOutputStream(), true, StandardCharsets.UTF_8);

    static Flags flags(String... args) {
        return Flags.parse("serve", ServeCommand.FLAGS, args, 0);
    }

    @Test
    void theDefaultModelAnswersAsGenerateDoesAndTheCommandEndsWhenTheServerCloses() throws Exception {
        MainTest.Outcome generated = MainTest.run("generate", "--prompt", "Once upon a time", "--temperature", "0", "--max-tokens", "24");
        assertEquals(0, generated.status(), generated.err());

        CompletableFuture<OpenAiServer> started = new CompletableFuture<>();
        ByteArrayOutputStream err = new ByteArrayOutputStream();
        CompletableFuture<Integer> status = CompletableFuture.supplyAsync(() -> ServeCommand.run(flags("--port", "0"),
                NOWHERE, new PrintStream(err, true, StandardCharsets.UTF_8), line -> { }, started::complete));
        OpenAiServer server = started.get(60, TimeUnit.SECONDS);
        try {
            HttpClient http = HttpClient.newHttpClient();
            ObjectMapper json = new ObjectMapper();
            JsonNode models = json.readTree(http.send(HttpRequest.newBuilder(URI.create(server.baseUri() + "/models")).build(),
                    HttpResponse.BodyHandlers.ofString()).body());
            assertEquals("stories260K", models.at("/data/0/id").asText(), models.toString());

            String body = """
                    {"model": "stories260K", "messages": [{"role": "user", "content": "Once upon a time"}],
                     "temperature": 0, "max_tokens": 24}""";
            HttpResponse<String> r = http.send(HttpRequest.newBuilder(URI.create(server.baseUri() + "/chat/completions"))
                    .header("Content-Type", "application/json").POST(HttpRequest.BodyPublishers.ofString(body)).build(),
                    HttpResponse.BodyHandlers.ofString());
            assertEquals(200, r.statusCode(), r.body());
            assertEquals(generated.out(), json.readTree(r.body()).at("/choices/0/message/content").asText());
        } finally {
            server.close();
        }
        assertEquals(0, status.get(30, TimeUnit.SECONDS));
        assertTrue(err.toString(StandardCharsets.UTF_8).contains("serving stories260K"), err.toString(StandardCharsets.UTF_8));
    }

    @Test
    void aPortOutOfRangeIsAUsageErrorNamingTheFlag() {
        UsageException e = assertThrows(UsageException.class, () -> ServeCommand.run(flags("--port", "70000"), NOWHERE, NOWHERE, line -> { }));
        assertTrue(e.getMessage().contains("--port"), e.getMessage());
    }

    @Test
    void aPortInUseIsReportedWithTheAddress() throws Exception {
        try (ServerSocket taken = new ServerSocket(0, 1, InetAddress.getLoopbackAddress())) {
            UncheckedIOException e = assertThrows(UncheckedIOException.class, () -> ServeCommand.run(
                    flags("--host", "127.0.0.1", "--port", String.valueOf(taken.getLocalPort())), NOWHERE, NOWHERE, line -> { }));
            assertTrue(e.getMessage().contains("127.0.0.1:" + taken.getLocalPort()), e.getMessage());
        }
    }

    @Test
    void theModelIdIsTheFileNameWithoutItsExtension() {
        assertEquals("stories260K", ServeCommand.modelId(Path.of("models/stories260K.bin")));
        assertEquals("Llama-3.2-1B", ServeCommand.modelId(Path.of("/m/Llama-3.2-1B")));
        assertEquals("ref.q8", ServeCommand.modelId(Path.of("ref.q8.gguf")));
    }
}
