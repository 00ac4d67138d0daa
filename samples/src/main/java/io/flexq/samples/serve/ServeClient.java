package io.flexq.samples.serve;

import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.ObjectMapper;
import com.fasterxml.jackson.databind.node.ObjectNode;

import java.io.IOException;
import java.net.URI;
import java.net.http.HttpClient;
import java.net.http.HttpRequest;
import java.net.http.HttpResponse;
import java.util.Iterator;
import java.util.function.Consumer;
import java.util.stream.Stream;

/**
 * A client of {@code flexq serve} with nothing but {@code java.net.http} (and Jackson for the JSON): list the
 * models, then stream a chat completion, printing each piece as its server-sent event arrives.
 *
 * <pre>
 *   ServeClient [BASE_URL [PROMPT]]     (default: http://127.0.0.1:8080/v1, "Once upon a time")
 * </pre>
 */
public final class ServeClient {

    private static final ObjectMapper JSON = new ObjectMapper();

    private ServeClient() {
    }

    public static void main(String[] args) throws IOException, InterruptedException {
        URI base = URI.create(args.length > 0 ? args[0] : "http://127.0.0.1:8080/v1");
        String prompt = args.length > 1 ? args[1] : "Once upon a time";
        HttpClient http = HttpClient.newHttpClient();

        HttpResponse<String> models = http.send(HttpRequest.newBuilder(URI.create(base + "/models")).build(),
                HttpResponse.BodyHandlers.ofString());
        String model = JSON.readTree(models.body()).at("/data/0/id").asText();
        System.err.println("model: " + model);

        String finish = streamChat(http, base, model, prompt, 100, 0.8, piece -> {
            System.out.print(piece);
            System.out.flush();
        });
        System.out.println();
        System.err.println("finish_reason: " + finish);
    }

    /**
     * Streams one chat completion: {@code onText} gets each piece of the reply; returns the finish_reason
     * ("stop" or "length"). A non-200 answer or an error event is an IOException with the server's message.
     */
    public static String streamChat(HttpClient http, URI base, String model, String prompt, int maxTokens,
                                    double temperature, Consumer<String> onText) throws IOException, InterruptedException {
        ObjectNode body = JSON.createObjectNode()
                .put("model", model)
                .put("stream", true)
                .put("max_tokens", maxTokens)
                .put("temperature", temperature);
        body.putArray("messages").addObject().put("role", "user").put("content", prompt);
        HttpRequest request = HttpRequest.newBuilder(URI.create(base + "/chat/completions"))
                .header("Content-Type", "application/json")
                .POST(HttpRequest.BodyPublishers.ofString(JSON.writeValueAsString(body)))
                .build();
        HttpResponse<Stream<String>> response = http.send(request, HttpResponse.BodyHandlers.ofLines());
        try (Stream<String> lines = response.body()) {
            if (response.statusCode() != 200) {
                throw new IOException("HTTP " + response.statusCode() + ": " + String.join("\n", lines.toList()));
            }
            String finish = null;
            // each event is a line "data: {json}" and a blank line; the last is "data: [DONE]"
            for (Iterator<String> it = lines.iterator(); it.hasNext(); ) {
                String line = it.next();
                if (!line.startsWith("data: ")) {
                    continue;
                }
                String data = line.substring("data: ".length());
                if (data.equals("[DONE]")) {
                    break;
                }
                JsonNode event = JSON.readTree(data);
                if (event.has("error")) {
                    throw new IOException("server error: " + event.at("/error/message").asText());
                }
                JsonNode choice = event.at("/choices/0");
                String piece = choice.at("/delta/content").asText("");
                if (!piece.isEmpty()) {
                    onText.accept(piece);
                }
                if (choice.hasNonNull("finish_reason")) {
                    finish = choice.get("finish_reason").asText();
                }
            }
            return finish;
        }
    }
}
