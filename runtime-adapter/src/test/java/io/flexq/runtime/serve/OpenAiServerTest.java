package io.flexq.runtime.serve;

import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.ObjectMapper;
import com.openai.client.OpenAIClient;
import com.openai.client.okhttp.OpenAIOkHttpClient;
import com.openai.core.http.StreamResponse;
import com.openai.errors.BadRequestException;
import com.openai.models.chat.completions.ChatCompletion;
import com.openai.models.chat.completions.ChatCompletionChunk;
import com.openai.models.chat.completions.ChatCompletionCreateParams;
import com.openai.models.chat.completions.ChatCompletionStreamOptions;
import com.openai.models.completions.Completion;
import com.openai.models.completions.CompletionChoice;
import com.openai.models.completions.CompletionCreateParams;
import io.flexq.runtime.chat.Llama2Chat;
import io.flexq.runtime.chat.Message;
import io.flexq.runtime.chat.PlainCompletion;
import io.flexq.runtime.chat.PromptEncoder;
import io.flexq.runtime.llama.Generator;
import io.flexq.runtime.llama.Llama;
import io.flexq.runtime.llama.LlamaSession;
import io.flexq.runtime.model.ModelFile;
import io.flexq.runtime.model.ModelFiles;
import io.flexq.runtime.sample.GreedySampler;
import io.flexq.runtime.sample.Sampler;
import io.flexq.runtime.tensor.BuiltinTypes;
import io.flexq.runtime.tokenizer.TokenStreamDecoder;
import io.flexq.runtime.tokenizer.Tokenizer;
import io.flexq.runtime.tokenizer.Tokenizers;
import org.junit.jupiter.api.AfterAll;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.Timeout;

import java.net.URI;
import java.net.http.HttpClient;
import java.net.http.HttpRequest;
import java.net.http.HttpResponse;
import java.nio.file.Path;
import java.time.Duration;
import java.util.ArrayList;
import java.util.Iterator;
import java.util.List;
import java.util.Set;
import java.util.concurrent.CopyOnWriteArrayList;
import java.util.concurrent.CountDownLatch;
import java.util.concurrent.ExecutorService;
import java.util.concurrent.Executors;
import java.util.concurrent.Future;
import java.util.concurrent.TimeUnit;
import java.util.function.IntConsumer;
import java.util.regex.Matcher;
import java.util.regex.Pattern;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertNotEquals;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

/**
 * The server on loopback, called with the official OpenAI Java client (and plain java.net.http where a client would
 * never send such a request), serving the bundled stories260K model. Every expected text is computed here through
 * the runtime's own API (prompt encoder, {@link Generator}, greedy sampler, stream decoder), never through the server.
 */
@Timeout(value = 120, unit = TimeUnit.SECONDS)
class OpenAiServerTest {

    static final String MODEL_ID = "stories260K";
    static ModelFile file;
    static Llama llama;
    static Tokenizer tokenizer;
    static ServedModel served;
    static final List<String> log = new CopyOnWriteArrayList<>();
    static OpenAiServer server;
    static OpenAIClient client;

    @BeforeAll
    static void start() {
        Path root = Path.of(System.getProperty("flexq.root", "."));
        ClassLoader loader = OpenAiServerTest.class.getClassLoader();
        file = ModelFiles.open(root.resolve("models/stories260K.bin"), BuiltinTypes.registry(loader));
        llama = Llama.load(file, loader, line -> { });
        tokenizer = Tokenizers.fromLlama2c(root.resolve("models/tok512.bin"));
        served = new ServedModel(MODEL_ID, llama, tokenizer, new PlainCompletion(), llama.config().contextLength());
        server = OpenAiServer.start(served, ServerOptions.of("127.0.0.1", 0).withLog(log::add));
        client = client(server);
    }

    @AfterAll
    static void stop() {
        if (client != null) {
            client.close();
        }
        if (server != null) {
            server.close();
        }
        if (llama != null) {
            llama.close();
        }
        if (file != null) {
            file.close();
        }
    }

    static OpenAIClient client(OpenAiServer s) {
        return OpenAIOkHttpClient.builder()
                .baseUrl(s.baseUri().toString())
                .apiKey("unused")
                .maxRetries(0)
                .timeout(Duration.ofSeconds(60))
                .build();
    }

    /** The client has close() but is not AutoCloseable. */
    record ClientHandle(OpenAIClient client) implements AutoCloseable {
        @Override
        public void close() {
            client.close();
        }
    }

    /** What `flexq generate --prompt P --temperature 0 --max-tokens N` computes, through the runtime API. */
    record Reference(String text, int promptTokens, int[] tokens, String finishReason) {
    }

    static Reference reference(String prompt, int maxTokens) {
        return reference(prompt, maxTokens, new GreedySampler());
    }

    static Reference reference(String prompt, int maxTokens, Sampler sampler) {
        PlainCompletion plain = new PlainCompletion();
        int[] ids = PromptEncoder.encode(plain.render(List.of(Message.user(prompt))), tokenizer, plain.name());
        Generator.Result r;
        try (LlamaSession session = llama.newSession(llama.config().contextLength())) {
            r = Generator.generate(session, ids, maxTokens, sampler, Set.of(tokenizer.eos(), tokenizer.bos()), t -> { });
        }
        TokenStreamDecoder decoder = tokenizer.decoder();
        decoder.accept(ids[ids.length - 1]);
        StringBuilder text = new StringBuilder();
        for (int t : r.tokens()) {
            text.append(decoder.accept(t));
        }
        text.append(decoder.flush());
        return new Reference(text.toString(), ids.length, r.tokens(), r.stop() == Generator.Stop.MAX_TOKENS ? "length" : "stop");
    }

    static ChatCompletionCreateParams greedyChat(String prompt, int maxTokens) {
        return ChatCompletionCreateParams.builder()
                .model(MODEL_ID)
                .addUserMessage(prompt)
                .temperature(0.0)
                .maxCompletionTokens(maxTokens)
                .build();
    }

    @Test
    void aChatCompletionIsTheGreedyTextOfGenerateWithOpenAiFields() {
        Reference ref = reference("Once upon a time", 40);
        long before = System.currentTimeMillis() / 1000;
        ChatCompletion c = client.chat().completions().create(greedyChat("Once upon a time", 40));
        assertEquals(1, c.choices().size());
        ChatCompletion.Choice choice = c.choices().getFirst();
        assertEquals(ref.text(), choice.message().content().orElseThrow());
        assertFalse(ref.text().isBlank());
        assertEquals(ChatCompletion.Choice.FinishReason.LENGTH, choice.finishReason());
        assertEquals(ref.promptTokens(), c.usage().orElseThrow().promptTokens());
        assertEquals(40, c.usage().orElseThrow().completionTokens());
        assertEquals(ref.promptTokens() + 40, c.usage().orElseThrow().totalTokens());
        assertEquals(MODEL_ID, c.model());
        assertTrue(c.id().startsWith("chatcmpl-"), c.id());
        assertTrue(c.created() >= before && c.created() <= before + 60, "created " + c.created());
        c.validate(); // every field the client's model requires is there, with its type
    }

    @Test
    void aStreamedChatCompletionSendsTheSameTextInPiecesThenUsage() {
        Reference ref = reference("The little dog", 30);
        ChatCompletionCreateParams params = greedyChat("The little dog", 30).toBuilder()
                .streamOptions(ChatCompletionStreamOptions.builder().includeUsage(true).build())
                .build();
        StringBuilder text = new StringBuilder();
        List<String> finishReasons = new ArrayList<>();
        int contentChunks = 0;
        ChatCompletionChunk last = null;
        try (StreamResponse<ChatCompletionChunk> stream = client.chat().completions().createStreaming(params)) {
            for (Iterator<ChatCompletionChunk> it = stream.stream().iterator(); it.hasNext(); ) {
                ChatCompletionChunk chunk = it.next();
                chunk.validate();
                for (ChatCompletionChunk.Choice ch : chunk.choices()) {
                    String piece = ch.delta().content().orElse("");
                    if (!piece.isEmpty()) {
                        contentChunks++;
                    }
                    text.append(piece);
                    ch.finishReason().ifPresent(f -> finishReasons.add(f.asString()));
                }
                last = chunk;
            }
        }
        assertEquals(ref.text(), text.toString());
        assertTrue(contentChunks > 10, "text came in " + contentChunks + " pieces");
        assertEquals(List.of("length"), finishReasons);
        assertTrue(last != null && last.choices().isEmpty() && last.usage().isPresent(), "the last chunk carries the usage: " + last);
        assertEquals(30, last.usage().orElseThrow().completionTokens());
        assertEquals(ref.promptTokens(), last.usage().orElseThrow().promptTokens());
    }

    @Test
    void twoConcurrentClientsEachGetTheirOwnGreedyAnswer() throws Exception {
        String[] prompts = {"Once upon a time", "The cat sat"};
        Reference[] refs = {reference(prompts[0], 48), reference(prompts[1], 48)};
        assertNotEquals(refs[0].text(), refs[1].text());
        ExecutorService pool = Executors.newFixedThreadPool(2);
        try (ClientHandle second = new ClientHandle(client(server))) {
            OpenAIClient[] clients = {client, second.client()};
            for (int round = 0; round < 3; round++) {
                CountDownLatch go = new CountDownLatch(1);
                List<Future<String>> answers = new ArrayList<>();
                for (int i = 0; i < 2; i++) {
                    int k = i;
                    boolean streamed = (round + i) % 2 == 0; // each round, one streams and one does not
                    answers.add(pool.submit(() -> {
                        go.await();
                        if (!streamed) {
                            return clients[k].chat().completions().create(greedyChat(prompts[k], 48))
                                    .choices().getFirst().message().content().orElseThrow();
                        }
                        StringBuilder b = new StringBuilder();
                        try (StreamResponse<ChatCompletionChunk> s = clients[k].chat().completions().createStreaming(greedyChat(prompts[k], 48))) {
                            s.stream().forEach(ch -> ch.choices().forEach(c -> b.append(c.delta().content().orElse(""))));
                        }
                        return b.toString();
                    }));
                }
                go.countDown();
                for (int i = 0; i < 2; i++) {
                    assertEquals(refs[i].text(), answers.get(i).get(60, TimeUnit.SECONDS), "round " + round + ", client " + i);
                }
            }
        } finally {
            pool.shutdownNow();
        }
    }

    @Test
    void aStopStringSplitAcrossTokensEndsTheReplyBeforeIt() {
        Reference ref = reference("Once upon a time", 60);
        // a stop string made of the end of one generated piece and the start of the next: it never is one token
        TokenStreamDecoder d = tokenizer.decoder();
        d.accept(lastPromptToken("Once upon a time"));
        List<String> pieces = new ArrayList<>();
        for (int t : ref.tokens()) {
            pieces.add(d.accept(t));
        }
        int k = 10;
        while (pieces.get(k).length() < 2 || pieces.get(k + 1).length() < 2) {
            k++;
        }
        String stop = pieces.get(k).substring(pieces.get(k).length() - 2) + pieces.get(k + 1).substring(0, 2);
        String expected = ref.text().substring(0, ref.text().indexOf(stop));
        ChatCompletion c = client.chat().completions().create(greedyChat("Once upon a time", 60).toBuilder().stop(stop).build());
        assertEquals(expected, c.choices().getFirst().message().content().orElseThrow(), "stop " + stop);
        assertEquals(ChatCompletion.Choice.FinishReason.STOP, c.choices().getFirst().finishReason());
        // streamed, the held-back start of the stop string must not leak out either
        StringBuilder streamed = new StringBuilder();
        try (StreamResponse<ChatCompletionChunk> s = client.chat().completions()
                .createStreaming(greedyChat("Once upon a time", 60).toBuilder().stop(stop).build())) {
            s.stream().forEach(ch -> ch.choices().forEach(x -> streamed.append(x.delta().content().orElse(""))));
        }
        assertEquals(expected, streamed.toString());
    }

    @Test
    void theModelsChatTemplateRendersTheWholeConversation() throws Exception {
        // stories260K has no template of its own; serve it as a Llama 2 chat model to see the template at work
        Llama2Chat template = new Llama2Chat();
        List<Message> conversation = List.of(Message.system("Be brief."), Message.user("Hi"), Message.assistant("Hello."),
                Message.user("Tell a story"));
        int[] ids = PromptEncoder.encode(template.render(conversation), tokenizer, template.name());
        Generator.Result r;
        try (LlamaSession session = llama.newSession(llama.config().contextLength())) {
            r = Generator.generate(session, ids, 30, new GreedySampler(), PromptEncoder.endOfReply(template, tokenizer), t -> { });
        }
        TokenStreamDecoder d = tokenizer.decoder();
        d.accept(ids[ids.length - 1]);
        StringBuilder expected = new StringBuilder();
        for (int t : r.tokens()) {
            expected.append(d.accept(t));
        }
        expected.append(d.flush());
        assertFalse(expected.toString().isBlank(), "the reference reply is empty: nothing to compare");

        ServedModel chatModel = new ServedModel(MODEL_ID, llama, tokenizer, template, llama.config().contextLength());
        try (OpenAiServer s = OpenAiServer.start(chatModel, ServerOptions.of("127.0.0.1", 0));
             ClientHandle h = new ClientHandle(client(s))) {
            ChatCompletion c = h.client().chat().completions().create(ChatCompletionCreateParams.builder()
                    .model(MODEL_ID)
                    .addSystemMessage("Be brief.")
                    .addUserMessage("Hi")
                    .addAssistantMessage("Hello.")
                    .addUserMessage("Tell a story")
                    .temperature(0.0)
                    .maxCompletionTokens(30)
                    .build());
            assertEquals(expected.toString(), c.choices().getFirst().message().content().orElseThrow());
            assertEquals(ids.length, c.usage().orElseThrow().promptTokens());
            // the template's own rules come back as a 400 naming messages
            BadRequestException e = assertThrows(BadRequestException.class, () -> h.client().chat().completions().create(
                    ChatCompletionCreateParams.builder().model(MODEL_ID).addUserMessage("a").addUserMessage("b").build()));
            assertTrue(e.getMessage().contains("alternate"), e.getMessage());
        }
    }

    static int lastPromptToken(String prompt) {
        int[] ids = tokenizer.encodeWithBos(prompt, false);
        return ids[ids.length - 1];
    }

    @Test
    void theCompletionsEndpointContinuesARawPrompt() {
        Reference ref = reference("Lily", 25);
        Completion c = client.completions().create(CompletionCreateParams.builder()
                .model(MODEL_ID).prompt("Lily").maxTokens(25).temperature(0.0).build());
        CompletionChoice choice = c.choices().getFirst();
        assertEquals(ref.text(), choice.text());
        assertEquals(CompletionChoice.FinishReason.LENGTH, choice.finishReason());
        assertEquals(25, c.usage().orElseThrow().completionTokens());
        c.validate();
    }

    @Test
    void temperatureTopPAndSeedGiveTheRuntimesSampledText() {
        ChatCompletionCreateParams p = ChatCompletionCreateParams.builder().model(MODEL_ID).addUserMessage("Once")
                .temperature(1.0).topP(0.9).seed(1234L).maxCompletionTokens(30).build();
        String a = client.chat().completions().create(p).choices().getFirst().message().content().orElseThrow();
        String b = client.chat().completions().create(p).choices().getFirst().message().content().orElseThrow();
        String other = client.chat().completions().create(p.toBuilder().seed(99L).build()).choices().getFirst().message().content().orElseThrow();
        assertEquals(reference("Once", 30, Sampler.of(1.0, 0.9, 1234L)).text(), a);
        assertEquals(a, b);
        assertNotEquals(a, other);
    }

    @Test
    void theModelsEndpointListsTheServedModel() {
        var models = client.models().list();
        assertEquals(List.of(MODEL_ID), models.data().stream().map(m -> m.id()).toList());
    }

    @Test
    void badRequestsGet4xxJsonErrorsAndTheServerGoesOn() throws Exception {
        HttpClient http = HttpClient.newHttpClient();
        URI chat = URI.create(server.baseUri() + "/chat/completions");
        String[][] cases = {
                {"{\"messages\": [{\"role\": \"user\", \"content\": \"hi\"}", null},      // cut short
                {"not json at all", null},
                {"[1, 2]", null},
                {"", null},
                {"{\"messages\": []}", "messages"},
                {"{\"messages\": [{\"role\": \"robot\", \"content\": \"hi\"}]}", "messages[0].role"},
                {"{\"messages\": [{\"role\": \"user\", \"content\": \"hi\"}], \"temperature\": \"hot\"}", "temperature"},
                {"{\"messages\": [{\"role\": \"user\", \"content\": \"hi\"}], \"max_tokens\": 100000}", "messages"},
                {"{\"messages\": [{\"role\": \"user\", \"content\": \"hi\"}], \"stop\": [1]}", "stop"},
                {"{\"messages\": [{\"role\": \"user\", \"content\": \"hi\"}], \"n\": 3}", "n"},
                {"{\"messages\": [{\"role\": \"user\", \"content\": \"hi\"}], \"temperature\": 1, \"temperature\": 0}", null},
                {"{\"messages\": [{\"role\": \"user\", \"content\": \"hi\"}]} {}", null},              // two objects
        };
        ObjectMapper json = new ObjectMapper();
        for (String[] c : cases) {
            HttpResponse<String> r = http.send(HttpRequest.newBuilder(chat).header("Content-Type", "application/json")
                    .POST(HttpRequest.BodyPublishers.ofString(c[0])).build(), HttpResponse.BodyHandlers.ofString());
            assertEquals(400, r.statusCode(), c[0] + " -> " + r.body());
            assertEquals("application/json", r.headers().firstValue("Content-Type").orElse(""));
            JsonNode error = json.readTree(r.body()).get("error");
            assertEquals("invalid_request_error", error.get("type").asText(), r.body());
            assertFalse(error.get("message").asText().isBlank());
            assertEquals(c[1] == null ? "null" : c[1], error.get("param").isNull() ? "null" : error.get("param").asText(), r.body());
        }
        HttpResponse<String> get = http.send(HttpRequest.newBuilder(chat).GET().build(), HttpResponse.BodyHandlers.ofString());
        assertEquals(405, get.statusCode());
        HttpResponse<String> nowhere = http.send(HttpRequest.newBuilder(URI.create(server.baseUri() + "/embeddings"))
                .POST(HttpRequest.BodyPublishers.ofString("{}")).build(), HttpResponse.BodyHandlers.ofString());
        assertEquals(404, nowhere.statusCode());
        assertTrue(json.readTree(nowhere.body()).has("error"), nowhere.body());
        // the official client turns a 400 into its exception with our message
        BadRequestException e = assertThrows(BadRequestException.class, () -> client.chat().completions().create(
                greedyChat("hi", 10).toBuilder().temperature(7.0).build()));
        assertTrue(e.getMessage().contains("temperature"), e.getMessage());
        // and the server still answers properly
        assertEquals(reference("hi", 10).text(), client.chat().completions().create(greedyChat("hi", 10))
                .choices().getFirst().message().content().orElseThrow());
    }

    @Test
    void aClientThatDisconnectsMidStreamStopsItsGenerationAndTheNextRequestIsServed() throws Exception {
        List<String> slowLog = new CopyOnWriteArrayList<>();
        // The worker waits after its 4th token until the client has hung up, then goes on at 5 ms a token: without
        // cancellation it would run to all 400 tokens (2 s more); with it, it stops within a few tokens.
        CountDownLatch hungUp = new CountDownLatch(1);
        IntConsumer pace = n -> {
            if (n == 4) {
                await(hungUp);
            }
            sleep(5);
        };
        try (OpenAiServer slow = OpenAiServer.start(served, ServerOptions.of("127.0.0.1", 0).withLog(slowLog::add), pace);
             ClientHandle handle = new ClientHandle(client(slow))) {
            OpenAIClient c = handle.client();
            try (StreamResponse<ChatCompletionChunk> s = c.chat().completions().createStreaming(greedyChat("Once upon a time", 400))) {
                Iterator<ChatCompletionChunk> it = s.stream().iterator();
                for (int i = 0; i < 4; i++) {
                    it.next();
                }
            } // closing the response closes the connection: the client is gone
            hungUp.countDown();
            Pattern cancelled = Pattern.compile(": cancelled after (\\d+) tokens");
            long deadline = System.nanoTime() + TimeUnit.SECONDS.toNanos(20);
            Matcher m = null;
            while (m == null && System.nanoTime() < deadline) {
                for (String line : slowLog) {
                    Matcher x = cancelled.matcher(line);
                    if (x.find()) {
                        m = x;
                    }
                }
                Thread.sleep(20);
            }
            assertTrue(m != null, "no cancellation logged: " + slowLog);
            int generated = Integer.parseInt(m.group(1));
            assertTrue(generated < 400, "generated " + generated + " of 400 tokens");
            // the worker is free again: the next client gets its full greedy answer
            assertEquals(reference("The cat sat", 20).text(), c.chat().completions().create(greedyChat("The cat sat", 20))
                    .choices().getFirst().message().content().orElseThrow());
        }
    }

    @Test
    void pastTheQueueLimitARequestGets503AndTheQueuedOnesAreStillServed() throws Exception {
        CountDownLatch running = new CountDownLatch(1);
        CountDownLatch release = new CountDownLatch(1);
        IntConsumer holdFirstToken = n -> {
            if (n == 1) {
                running.countDown();
                await(release);
            }
        };
        HttpClient http = HttpClient.newHttpClient();
        try (OpenAiServer s = OpenAiServer.start(served, ServerOptions.of("127.0.0.1", 0).withMaxQueued(1), holdFirstToken)) {
            URI chat = URI.create(s.baseUri() + "/chat/completions");
            java.util.function.Function<String, HttpRequest> request = body -> HttpRequest.newBuilder(chat)
                    .header("Content-Type", "application/json").POST(HttpRequest.BodyPublishers.ofString(body)).build();
            String greedy = "{\"messages\": [{\"role\": \"user\", \"content\": \"Once\"}], \"temperature\": 0, \"max_tokens\": 10";
            var running1 = http.sendAsync(request.apply(greedy + "}"), HttpResponse.BodyHandlers.ofString());
            assertTrue(running.await(30, TimeUnit.SECONDS), "the first request never started");
            // a streamed request answers its headers once queued
            HttpResponse<java.util.stream.Stream<String>> queued = http.send(request.apply(greedy + ", \"stream\": true}"),
                    HttpResponse.BodyHandlers.ofLines());
            assertEquals(200, queued.statusCode());
            HttpResponse<String> refused = http.send(request.apply(greedy + "}"), HttpResponse.BodyHandlers.ofString());
            assertEquals(503, refused.statusCode(), refused.body());
            assertEquals("server_busy", new ObjectMapper().readTree(refused.body()).at("/error/code").asText(), refused.body());
            release.countDown();
            HttpResponse<String> first = running1.get(30, TimeUnit.SECONDS);
            assertEquals(200, first.statusCode(), first.body());
            assertEquals(reference("Once", 10).text(), new ObjectMapper().readTree(first.body()).at("/choices/0/message/content").asText());
            try (var lines = queued.body()) {
                assertEquals("data: [DONE]", lines.filter(l -> !l.isEmpty()).reduce((x, y) -> y).orElse(""));
            }
        }
    }

    private static void await(CountDownLatch latch) {
        try {
            latch.await(20, TimeUnit.SECONDS);
        } catch (InterruptedException e) {
            Thread.currentThread().interrupt();
        }
    }

    private static void sleep(long millis) {
        try {
            Thread.sleep(millis);
        } catch (InterruptedException e) {
            Thread.currentThread().interrupt();
        }
    }
}

