package io.flexq.samples;

import io.flexq.runtime.chat.Message;
import io.flexq.runtime.chat.PlainCompletion;
import io.flexq.runtime.llama.Llama;
import io.flexq.runtime.model.ModelFile;
import io.flexq.runtime.model.ModelFiles;
import io.flexq.runtime.sample.Sampler;
import io.flexq.runtime.serve.OpenAiServer;
import io.flexq.runtime.serve.ServedModel;
import io.flexq.runtime.serve.ServerOptions;
import io.flexq.runtime.tensor.BuiltinTypes;
import io.flexq.runtime.tokenizer.Tokenizer;
import io.flexq.runtime.tokenizer.Tokenizers;
import io.flexq.samples.embed.EmbedChat;
import io.flexq.samples.serve.ServeClient;
import org.junit.jupiter.api.AfterAll;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.Timeout;

import java.net.http.HttpClient;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.List;
import java.util.concurrent.TimeUnit;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

/** The samples do what their READMEs say, on the bundled stories260K model. */
@Timeout(value = 60, unit = TimeUnit.SECONDS)
class SamplesTest {

    static ModelFile file;
    static Llama llama;
    static Tokenizer tokenizer;

    @BeforeAll
    static void load() {
        Path root = Path.of(System.getProperty("flexq.root", ".."));
        ClassLoader loader = SamplesTest.class.getClassLoader();
        file = ModelFiles.open(root.resolve("models/stories260K.bin"), BuiltinTypes.registry(loader));
        llama = Llama.load(file, loader, line -> { });
        tokenizer = Tokenizers.fromLlama2c(root.resolve("models/tok512.bin"));
    }

    @AfterAll
    static void close() {
        llama.close();
        file.close();
    }

    /**
     * The text of stories260K-greedy.txt in the shared folder (an independent NumPy forward), without the leading
     * space of "▁Once". The shared folder: -Dflexq.shared, FLEXQ_SHARED, or ../shared beside the checkout.
     */
    static String numpyGreedyText() throws Exception {
        String shared = System.getProperty("flexq.shared", System.getenv().getOrDefault("FLEXQ_SHARED",
                Path.of(System.getProperty("flexq.root", "..")).resolve("../shared").toString()));
        List<String> lines = Files.readAllLines(Path.of(shared, "models/stories260K-greedy.txt"), StandardCharsets.UTF_8);
        int ids = 0;
        while (lines.get(ids).startsWith("#")) {
            ids++;
        }
        return String.join("\n", lines.subList(ids + 1, lines.size())).substring(1);
    }

    @Test
    void theEmbeddedChatStreamsTheReferenceGreedyStoryFromBos() throws Exception {
        StringBuilder streamed = new StringBuilder();
        String reply = EmbedChat.reply(llama, tokenizer, new PlainCompletion(), List.of(Message.user("")), 160,
                Sampler.of(0, 1, 0), streamed::append);
        assertEquals(numpyGreedyText(), reply);
        assertEquals(reply, streamed.toString());
    }

    @Test
    void theServeClientStreamsWhatTheRuntimeAnswers() throws Exception {
        String expected = EmbedChat.reply(llama, tokenizer, new PlainCompletion(), List.of(Message.user("The dog")), 40,
                Sampler.of(0, 1, 0), piece -> { });
        ServedModel model = new ServedModel("stories260K", llama, tokenizer, new PlainCompletion(), llama.config().contextLength());
        try (OpenAiServer server = OpenAiServer.start(model, ServerOptions.of("127.0.0.1", 0))) {
            StringBuilder text = new StringBuilder();
            int[] pieces = {0};
            String finish = ServeClient.streamChat(HttpClient.newHttpClient(), server.baseUri(), "stories260K", "The dog", 40, 0.0,
                    piece -> {
                        text.append(piece);
                        pieces[0]++;
                    });
            assertEquals(expected, text.toString());
            assertEquals("length", finish);
            assertTrue(pieces[0] > 5, "streamed in " + pieces[0] + " pieces");
        }
    }
}
