package io.flexq.runtime.cli;

import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.ObjectMapper;
import io.flexq.runtime.serve.OpenAiServer;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.Timeout;
import picocli.CommandLine;

import java.io.ByteArrayOutputStream;
import java.io.InputStream;
import java.io.PrintStream;
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
import static org.junit.jupiter.api.Assertions.assertTrue;

/** {@code flexq serve} as a command: flags, the default model, and an answer equal to {@code flexq generate}'s. */
@Timeout(value = 120, unit = TimeUnit.SECONDS)
class ServeCommandTest {

    private static final PrintStream NOWHERE = new PrintStream(new ByteArrayOutputStream(), true, StandardCharsets.UTF_8);

    /** The serve command's flags as the one parser reads them. */
    static Flags flags(String... args) {
        Cli cli = new Cli(InputStream.nullInputStream(), NOWHERE, NOWHERE, false);
        return Flags.of(new CommandLine(ServeCommand.spec(cli)).parseArgs(args));
    }

    @Test
    void theDefaultModelAnswersAsGenerateDoesAndTheCommandEndsWhenTheServerCloses() throws Exception {
        MainTest.Outcome generated = MainTest.run("generate", "--prompt", "Once upon a time", "--temperature", "0", "--max-tokens", "24");
        assertEquals(0, generated.status(), generated.err());

        CompletableFuture<OpenAiServer> started = new CompletableFuture<>();
        ByteArrayOutputStream err = new ByteArrayOutputStream();
        PrintStream errStream = new PrintStream(err, true, StandardCharsets.UTF_8);
        CompletableFuture<Integer> status = CompletableFuture.supplyAsync(() -> ServeCommand.run(flags("--port", "0"),
                line -> { }, errStream::println, started::complete));
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
    void aPortOutOfRangeIsACommandLineErrorNamingTheFlag() {
        MainTest.Outcome o = MainTest.run("serve", "--port", "70000");
        assertEquals(2, o.status(), o.err());
        assertTrue(o.err().startsWith("flexq serve: error: --port must be at most 65535"), o.err());
    }

    @Test
    void aPortInUseIsReportedWithTheAddress() throws Exception {
        try (ServerSocket taken = new ServerSocket(0, 1, InetAddress.getLoopbackAddress())) {
            MainTest.Outcome o = MainTest.run("serve", "--host", "127.0.0.1", "--port", String.valueOf(taken.getLocalPort()));
            assertEquals(1, o.status(), o.err());
            assertTrue(o.err().contains("cannot listen on 127.0.0.1:" + taken.getLocalPort()), o.err());
            assertEquals(1, o.err().lines().filter(l -> l.contains("error")).count(), o.err());
        }
    }

    @Test
    void theModelIdIsTheFileNameWithoutItsExtension() {
        assertEquals("stories260K", ServeCommand.modelId(Path.of("models/stories260K.bin")));
        assertEquals("Llama-3.2-1B", ServeCommand.modelId(Path.of("/m/Llama-3.2-1B")));
        assertEquals("ref.q8", ServeCommand.modelId(Path.of("ref.q8.gguf")));
    }
}
